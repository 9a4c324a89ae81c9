"""The numpy logistic fit that replaced scikit-learn's LogisticRegression in calibration: the same
model (balanced class weights, L2 penalty C=1, unpenalised intercept), fitted to its optimum."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from knowledge.index.logistic import LogisticFitError, balanced_weights, fit_logistic


def _data(seed: int, n: int = 3000, share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Three standardised features, overlapping classes, like calibration's (top, gap, anchor)."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < share
    x = rng.normal(size=(n, 3)) + y[:, None] * np.array([1.2, 0.4, -0.9])
    return (x - x.mean(axis=0)) / x.std(axis=0), y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_optimum_as_scikit_learn(seed: int) -> None:
    x, y = _data(seed)
    coef, intercept = fit_logistic(x, y, c=1.0)
    exact = LogisticRegression(C=1.0, class_weight="balanced", max_iter=10000, tol=1e-12).fit(x, y)
    assert np.abs(coef - exact.coef_[0]).max() < 1e-7
    assert abs(intercept - exact.intercept_[0]) < 1e-7
    # scikit-learn's default tolerance stops earlier: close, not equal (why calibration.json's low digits moved)
    default = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(x, y)
    assert np.abs(coef - default.coef_[0]).max() < 5e-3
    probabilities = 1 / (1 + np.exp(-(x @ coef + intercept)))
    assert np.abs(probabilities - default.predict_proba(x)[:, 1]).max() < 1e-3


def test_separable_data_and_rare_positives_converge() -> None:
    x, y = _data(3, n=400, share=0.02)
    coef, intercept = fit_logistic(x, y)
    exact = LogisticRegression(C=1.0, class_weight="balanced", max_iter=10000, tol=1e-12).fit(x, y)
    assert np.allclose(coef, exact.coef_[0], atol=1e-6) and abs(intercept - exact.intercept_[0]) < 1e-6
    separable = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    coef, _ = fit_logistic(separable, np.array([False, False, True, True]))
    assert np.isfinite(coef).all() and coef[0] > 0  # the penalty keeps it finite


def test_balanced_weights_and_one_class() -> None:
    assert balanced_weights(np.array([True, False, False, False])).tolist() == [2.0, 2 / 3, 2 / 3, 2 / 3]
    with pytest.raises(LogisticFitError):
        fit_logistic(np.zeros((3, 2)), np.array([True, True, True]))
