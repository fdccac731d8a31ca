"""A unittest suite with every outcome rewind tests must tell apart (test_tests.py)."""
import unittest


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Basic(unittest.TestCase):
    def test_ok(self):
        self.assertEqual(fib(5), 5)

    def test_fail(self):
        x = fib(4)
        self.assertEqual(x, 4)

    def test_error(self):
        raise KeyError("k")

    @unittest.skip("why")
    def test_skip(self):
        pass

    def test_skip_inside(self):
        self.skipTest("at run time")

    @unittest.expectedFailure
    def test_xf(self):
        self.assertEqual(1, 2)

    @unittest.expectedFailure
    def test_xp(self):
        pass

    def test_sub(self):
        for i in range(4):
            with self.subTest(i=i):
                self.assertLess(i, 2)

    def test_fib(self):
        total = fib(12)
        self.assertEqual(total, 144)


class BrokenClass(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise ValueError("no class")

    def test_unreached(self):
        pass


class BrokenSetUp(unittest.TestCase):
    def setUp(self):
        raise OSError("no setup")

    def test_never(self):
        pass


class Derived(Basic):
    """Inherits every test: each runs again as Derived's."""


if __name__ == "__main__":
    unittest.main()
