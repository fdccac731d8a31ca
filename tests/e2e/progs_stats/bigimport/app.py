"""Imported by main.py: a module that does its work at import, more events than
rewind stats holds while it decides whether cProfile's run would make an import
(profile.c, IB_MAX), then imports a module cProfile has already."""
import json


def work(n):
    return sum(i * i for i in range(n))


TOTAL = 0
for k in range(400):
    TOTAL += work(1000)
from importlib import util  # noqa: E402
print(json.dumps(TOTAL), util.MAGIC_NUMBER is not None)
