"""Runs one of CPython's test modules (python3 runtest.py test_fnmatch), the same way
under `rewind record` and `python3 -m cProfile` (tests/e2e/test_stats.py). Not the
module as a script: under python3 -m cProfile, unittest.main() looks for tests in
sys.modules['__main__'], which is cProfile itself, and runs none."""
import io
import random
import sys
import unittest

mod = __import__("test." + sys.argv[1], fromlist=["*"])
random.seed(12345)
suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)
print(result.testsRun, len(result.failures), len(result.errors))
