"""Where "not found" ends (calibration._confirm_line): a quantile of the left-out off-topic anchors,
never refusing more than a set share of the knowledge base's own left-out questions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from knowledge.index.calibration import _confirm_line


def _settings(offtopic: float, inscope: float) -> SimpleNamespace:
    return SimpleNamespace(calibration_confirm_offtopic=offtopic, calibration_inscope_not_found=inscope)


def test_the_line_keeps_at_most_the_set_share_of_anchors_above_it() -> None:
    anchors = np.linspace(0.0, 0.5, 101)  # 0.000, 0.005, ... 0.500
    positives = np.full(50, 0.95)  # the knowledge base's own questions are far above
    line = _confirm_line(anchors, positives, _settings(0.03, 0.02))
    assert np.mean(anchors >= line) <= 0.03
    assert np.mean(positives < line) == 0.0


def test_the_line_never_refuses_more_than_the_set_share_of_the_knowledge_bases_own_questions() -> None:
    anchors = np.linspace(0.0, 0.9, 101)  # near misses that look like this knowledge base's questions
    positives = np.linspace(0.3, 1.0, 100)
    line = _confirm_line(anchors, positives, _settings(0.03, 0.02))
    assert np.mean(positives < line) <= 0.02
    assert line < _confirm_line(anchors, np.full(100, 0.99), _settings(0.03, 0.02))


def test_the_line_stays_a_probability() -> None:
    assert 0.0 < _confirm_line(np.zeros(10), np.ones(10), _settings(0.1, 0.02)) < 1.0
    assert 0.0 < _confirm_line(np.ones(10), np.ones(10), _settings(0.0, 0.0)) < 1.0
