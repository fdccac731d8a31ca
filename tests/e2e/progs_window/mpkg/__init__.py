# A package run with -m: its import (json, the helper) happens in runpy's module
# lookup, inside python3 -m cProfile -m's window.
import json

from . import helper

CONFIG = json.loads('{"n": 10}')
