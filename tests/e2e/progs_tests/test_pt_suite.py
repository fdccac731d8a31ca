"""A pytest suite with every outcome rewind tests must tell apart (test_tests.py)."""
import pytest


def helper(x):
    if x > 2:
        raise ValueError("too big: %d" % x)
    return x


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def test_pass():
    assert helper(1) == 1


def test_fail():
    a = helper(2)
    assert a == 3


@pytest.mark.parametrize("n, m", [(1, 1), (2, 3), (5, 5)], ids=["one", "two", "five"])
def test_param(n, m):
    assert helper(n) == m


@pytest.mark.parametrize("word", ["a", "b"])
def test_word(word):
    assert word in "ab"


def test_fib():
    total = fib(12)
    assert total == 144


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_fixture_error(broken):
    pass


@pytest.fixture
def bad_teardown():
    yield 1
    raise RuntimeError("teardown broke")


def test_teardown_error(bad_teardown):
    assert bad_teardown == 1


@pytest.mark.skip(reason="not now")
def test_skipped():
    pass


def test_skip_inside():
    pytest.skip("decided at run time")


@pytest.mark.xfail(reason="known")
def test_xfail():
    assert helper(1) == 0


@pytest.mark.xfail(reason="fixed?")
def test_xpass():
    pass


class TestClass:
    def test_method(self):
        assert True

    def test_error(self):
        helper(10)

    class TestInner:
        @pytest.mark.parametrize("k", [1, 2])
        def test_nested(self, k):
            assert k
