"""Laws over several inputs: Chinchilla's L(N, D), the inference joint law, optimal model size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from fit import FAMILIES, SizeLaw, fit_law, optimal_size, size_exponent

CHINCHILLA = {"E": 1.69, "A": 406.4, "alpha": 0.34, "B": 410.7, "beta": 0.28}
JOINT = {"E": 0.05, "A": 60.0, "alpha": 0.3, "B": 0.8, "beta": 0.35}


def chinchilla_grid():
    n, d = np.meshgrid(np.geomspace(7e7, 1.6e10, 8), np.geomspace(5e9, 5e11, 8))
    return {"N": n.ravel(), "D": d.ravel()}


def test_chinchilla_law_recovered_exactly_without_noise():
    x = chinchilla_grid()
    y = FAMILIES["chinchilla"].fn(x["N"], x["D"], *CHINCHILLA.values())
    fit = fit_law("chinchilla", x, y)
    np.testing.assert_allclose(fit.params.to_numpy(), list(CHINCHILLA.values()), rtol=1e-4)


def test_chinchilla_law_within_interval_under_noise():
    """1% log-normal noise; replicates are fresh noise around the observations (a parametric
    bootstrap), so the intervals measure the estimator's spread; the truth lies inside."""
    rng = np.random.default_rng(4)
    x = chinchilla_grid()
    truth = FAMILIES["chinchilla"].fn(x["N"], x["D"], *CHINCHILLA.values())
    y = truth * np.exp(rng.normal(0, 0.01, truth.size))
    reps = truth * np.exp(rng.normal(0, 0.01, (300, truth.size)))
    fit = fit_law("chinchilla", x, y, sigma=0.01 * y, replicates=reps)
    # the interval is the spread of estimates; centre it on the point estimate of this draw
    width = fit.ci["high"] - fit.ci["low"]
    for name, value in CHINCHILLA.items():
        assert abs(fit.params[name] - value) <= width[name], fit.summary()


def test_input_conventions_for_several_variables():
    x = chinchilla_grid()
    y = FAMILIES["chinchilla"].fn(x["N"], x["D"], *CHINCHILLA.values())
    by_tuple = fit_law("chinchilla", (x["N"], x["D"]), y)
    by_dict = fit_law("chinchilla", x, y)
    np.testing.assert_allclose(by_tuple.params, by_dict.params)
    np.testing.assert_allclose(
        by_dict.predict({"N": [1e9], "D": [2e10]}), by_dict.predict(([1e9], [2e10]))
    )
    with pytest.raises(ValueError, match="missing"):
        fit_law("chinchilla", {"N": x["N"]}, y)
    with pytest.raises(ValueError, match="expected 2"):
        fit_law("chinchilla", [x["N"]], y)


def test_optimal_size_closed_form_matches_numerical_minimum():
    tokens = 300.0
    law = FAMILIES["joint"]
    for budget in (1e12, 3e14, 1e17):

        def err(log_n: float, budget: float = budget) -> float:
            n = np.exp(log_n)
            return float(law.fn(n, budget / (2 * n * tokens), *JOINT.values()))

        best = minimize_scalar(
            err, bounds=(np.log(1e3), np.log(1e15)), method="bounded", options={"xatol": 1e-10}
        )
        np.testing.assert_allclose(optimal_size(budget, tokens, **JOINT), np.exp(best.x), rtol=1e-6)
    assert size_exponent(0.3, 0.35) == pytest.approx(0.35 / 0.65)


def test_joint_law_fit_and_optimal_size_interval():
    rng = np.random.default_rng(8)
    n, k = np.meshgrid(np.geomspace(7e7, 1.2e10, 7), 2.0 ** np.arange(12))
    n, k = n.ravel(), k.ravel()
    truth = FAMILIES["joint"].fn(n, k, *JOINT.values())
    y = truth * np.exp(rng.normal(0, 0.01, truth.size))
    reps = truth * np.exp(rng.normal(0, 0.01, (200, truth.size)))
    fit = fit_law("joint", {"N": n, "k": k}, y, sigma=0.01 * y, replicates=reps)
    budgets = np.array([1e13, 1e15])
    draws = optimal_size(
        budgets[None], 200.0, *(fit.boot_params[c].to_numpy()[:, None] for c in fit.params.index)
    )
    lo, hi = np.percentile(draws, [2.5, 97.5], axis=0)
    point = optimal_size(budgets, 200.0, **fit.params)
    assert np.all(lo <= point) and np.all(point <= hi)
    true_opt = optimal_size(budgets, 200.0, **JOINT)
    assert np.all(np.abs(np.log(point / true_opt)) <= 3 * np.log(hi / lo))


def test_size_law_recovers_exponent_with_statsmodels_interval():
    rng = np.random.default_rng(0)
    c = np.geomspace(1e12, 1e18, 25)
    n = 10 ** (-1.7) * c**0.84 * np.exp(rng.normal(0, 0.05, c.size))
    law = SizeLaw(c, n)
    assert law.ci.loc["a", "low"] <= 0.84 <= law.ci.loc["a", "high"]
    assert law.params["a"] == pytest.approx(0.84, abs=0.01)
    assert "log10 C = 1.19 log10 N" in law.summary()
    lo, hi = law.predict_interval(c[:3])
    assert np.all(lo < law.predict(c[:3])) and np.all(law.predict(c[:3]) < hi)
    with pytest.raises(ValueError, match="same at every budget"):
        SizeLaw(c, np.full(c.size, 1e9))
