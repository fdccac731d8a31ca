"""unittest TestCases and a parametrised fixture collected by pytest, from a subfolder."""
import unittest

import pytest


class U(unittest.TestCase):
    def test_a(self):
        self.assertEqual(1, 2)

    def test_b(self):
        pass

    @unittest.skip("x")
    def test_c(self):
        pass


@pytest.fixture(params=[1, 2])
def num(request):
    return request.param


def test_num(num):
    assert num == 1
