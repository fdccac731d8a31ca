"""Runs one test module with unittest, then takes a tracemalloc snapshot
(tests/e2e/test_memory.py): python3 -X tracemalloc run_unittest.py MODULE OUT, or
rewind record run_unittest.py MODULE OUT and rewind memory --at the marked line.
"""
import importlib
import sys
import tracemalloc
import unittest

module = importlib.import_module(sys.argv[1])
unittest.main(module=module, argv=[sys.argv[1]], exit=False, verbosity=0)
if tracemalloc.is_tracing():  # SNAPSHOT
    tracemalloc.take_snapshot().dump(sys.argv[2])
