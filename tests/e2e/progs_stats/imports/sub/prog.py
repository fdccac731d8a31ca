"""Code that runs at import time, for tests/e2e/test_stats.py: run from the directory
above as `sub/prog.py` (a relative path, which cProfile keeps as given). It imports a
local module whose import runs recursion, a generator, C methods and exceptions;
json (new to both runs, but the re it imports is one of the modules python3 -m
cProfile has imported already); a fromlist import of a submodule cProfile has too;
a package and its submodule that neither run has."""
import json
import helper
from importlib import machinery
import xml.dom
from collections import OrderedDict


def walk(node, depth=0):
    if isinstance(node, dict):
        return max((walk(v, depth + 1) for v in node.values()), default=depth)
    return depth


def main():
    data = json.loads(json.dumps({"a": {"b": {"c": helper.TABLE}}}))
    od = OrderedDict(sorted(helper.SQUARES.items()))
    print(walk(data), helper.fact(6), len(od), machinery.SOURCE_SUFFIXES,
          xml.dom.Node.ELEMENT_NODE, helper.errors)


main()
