"""A pytest module: fixtures, parametrised tests, a class, a thread and one failure.

Run as `python3 -m pytest -q -p no:cacheprovider pt_checks.py` (the corpus's entry)."""
import json
import threading

import pytest


@pytest.fixture
def record():
    return {"name": "widget", "sizes": [3, 5, 8], "tags": {"a": 1, "b": 2}}


@pytest.mark.parametrize("rounds", [1, 2, 5])
def test_roundtrip(record, rounds):
    text = json.dumps(record)
    for _ in range(rounds):
        text = json.dumps(json.loads(text), sort_keys=True)
    assert json.loads(text) == record


class TestTotals:
    def total(self, values):
        return sum(v * v for v in values)

    def test_squares(self):
        assert self.total(range(10)) == 285

    def test_empty(self):
        assert self.total([]) == 0


def test_thread():
    results = []
    worker = threading.Thread(target=lambda: results.append(sorted(range(50), key=str)))
    worker.start()
    worker.join()
    assert results[0][:3] == [0, 1, 10]


def test_failure():
    expected = {"count": 41}
    assert expected["count"] + 1 == 43
