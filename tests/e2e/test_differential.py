"""A few programs of the differential corpus (tests/differential), each compared with the
standard tools (cProfile, trace, tracemalloc, pdb and the plain run), against
tests/differential/expected.json: a comparison expected "equal" must be equal, one
expected "differs: <cause>" must still differ. A difference that appears, or one that is
fixed, fails here until expected.json (and docs/fidelity.md) say so.

The whole corpus: tests/differential/run.py (docs/fidelity.md).
"""

import json
import os
import sys
import tempfile
import unittest

import rwtest

sys.path.insert(0, os.path.join(rwtest.TOP, "tests", "differential"))
import driver  # noqa: E402

# fast programs (about a second each for all the comparisons); at_exit: the recorder's
# own `import atexit` is not seen by the program (its output says whether atexit is in
# sys.modules, and cProfile counts the load its import makes)
CI_PROGRAMS = ("calls", "raises", "caller", "replay_funcs", "e2e_classes", "at_exit")


class Differential(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(driver.HERE, "expected.json")) as fp:
            cls.expected = json.load(fp)
        cls.corpus = {e["name"]: e for e in driver.load_corpus()}

    def test_programs_as_expected(self):
        with tempfile.TemporaryDirectory(prefix="rewind-diff-") as tmp:
            for name in CI_PROGRAMS:
                with self.subTest(program=name):
                    results = {name: driver.run_entry(self.corpus[name], tmp)}
                    bad = driver.check_expectations(results, self.expected)
                    self.assertEqual(bad, [], json.dumps(results, indent=1))
                    # every tool ran: no comparison silently missing
                    self.assertEqual(set(results[name]) & set(driver.TOOLS),
                                     set(driver.TOOLS))

    def test_comparison_reports_differences(self):
        """The comparison itself: a changed value, a key on one side only."""
        same = driver.compare_maps({("a", 1): 2}, {("a", 1): 2})
        self.assertEqual((same["status"], same["compared"]), ("equal", 1))
        diff = driver.compare_maps({("a", 1): 2, ("b", 2): 1}, {("a", 1): 3, ("c", 3): 1},
                                   own=lambda k: k[0] == "a")
        self.assertEqual((diff["status"], diff["differing"], diff["own_differing"]),
                         ("differs", 3, 1))
        self.assertEqual(diff["first"][0], "('a', 1): reference 2, rewind 3")
        self.assertEqual((diff["only_reference"], diff["only_rewind"]), (1, 1))
        bad = driver.check_expectations(
            {"p": {"stats": diff, "coverage": same}},
            {"p": {"stats": "equal", "coverage": "differs: a cause"}})
        self.assertEqual(len(bad), 2, bad)
        varies = {"p": {"stats": "varies: thread timing"}}
        self.assertEqual(driver.check_expectations({"p": {"stats": diff}}, varies), [])
        self.assertEqual(driver.check_expectations({"p": {"stats": same}}, varies), [])
        self.assertEqual(len(driver.check_expectations(
            {"p": {"stats": dict(status="error", message="x")}}, varies)), 1)

    def test_output_normalisation(self):
        """Only rewind's own lines and unittest's run time are taken out."""
        ours = "rewind: recorded 5 events\nRan 3 tests in 0.012s\nrewind is here\n"
        self.assertEqual(driver.normalise_output(ours, True), "Ran 3 tests\nrewind is here\n")
        self.assertEqual(driver.normalise_output("rewind: x\n", False), "rewind: x\n")

    def test_expectations_cover_the_corpus(self):
        """Every program and tool of the corpus has an expectation, with a cause for each
        difference."""
        for name in self.corpus:
            for tool in driver.TOOLS:
                want = self.expected.get(name, {}).get(tool)
                self.assertIsNotNone(want, f"{name} {tool}")
                status, _, cause = want.partition(":")
                self.assertIn(status, ("equal", "differs", "error", "skip", "varies"), want)
                if status != "equal":
                    self.assertTrue(cause.strip(), f"{name} {tool}: no cause given")


if __name__ == "__main__":
    unittest.main()
