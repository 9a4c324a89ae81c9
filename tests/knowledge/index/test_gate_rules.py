"""The gate's regression rule on its own: a drop counts when it is larger than allowed and at least two
questions got worse (one question crossing a line is noise, whatever the knowledge base)."""

from __future__ import annotations

import pytest

from knowledge.index.gate import MIN_WORSE_QUESTIONS, is_regression, offtopic_regression

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


@pytest.mark.parametrize(("was", "now", "expected"), [
    (0.0, 3 / 64, False),   # three more answered, but still under the first build's cap (0.05)
    (0.0, 4 / 64, True),    # past the cap, four more
    (0.06, 0.08, False),    # already past the cap: one more question (1/64) is not a regression
    (0.06, 0.1, True),
    (0.1, 0.0, False),
])
def test_off_topic_answers_regress_only_past_the_first_builds_cap(was: float, now: float, expected: bool) -> None:
    assert offtopic_regression(was, now, 64, 0.02, 0.05) is expected
