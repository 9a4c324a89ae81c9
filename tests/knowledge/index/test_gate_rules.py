"""The gate's regression rule on its own: a drop counts when it is larger than allowed and at least two
questions got worse (one question crossing a line is noise, whatever the knowledge base)."""

from __future__ import annotations

import pytest

from knowledge.index.gate import MIN_WORSE_QUESTIONS, is_regression

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("was", "now", "total", "expected"), [
    (1.0, 1.0, 64, False),
    (1.0, 63 / 64, 64, False),        # one question of 64: 0.0156 < 0.02 anyway
    (1.0, 62 / 64, 64, True),         # two questions: 0.031 > 0.02
    (0.9, 0.95, 64, False),           # better is never a regression
    (1.0, 4 / 5, 5, False),           # one question of five is a 0.2 drop, still one question
    (1.0, 3 / 5, 5, True),
    (1.0, 980 / 1000, 1000, False),   # 20 questions but exactly the allowed share
    (1.0, 979 / 1000, 1000, True),
])
def test_a_regression_is_larger_than_allowed_and_more_than_one_question(was: float, now: float, total: int,
                                                                          expected: bool) -> None:
    assert MIN_WORSE_QUESTIONS == 2
    assert is_regression(was, now, total, 0.02) is expected
