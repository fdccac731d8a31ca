import unittest


class Small(unittest.TestCase):
    def test_add(self):
        self.assertEqual(1 + 1, 2)

    def test_upper(self):
        self.assertEqual("abc".upper(), "ABC")

    @unittest.expectedFailure
    def test_known_bug(self):
        self.assertEqual(len([1, 2]), 3)


if __name__ == "__main__":
    unittest.main()
