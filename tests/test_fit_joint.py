"""Laws over several inputs: Chinchilla's L(N, D), the inference joint law, optimal model size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from fit import (
    FAMILIES,
    best_size_slope,
    cost_law,
    fit_law,
    fit_laws,
    fit_optimal_size,
    optimal_size,
    size_exponent,
)
from fit.law import Dataset

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


@pytest.mark.parametrize("h", [1.0, 0.8, 1.3])
def test_optimal_size_closed_form_matches_numerical_minimum(h):
    """err(N, k) at k = C / (g N^h): the closed form is the minimum over N."""
    g = 2 * 300.0
    law = FAMILIES["joint"]
    for budget in (1e12, 3e14, 1e17):

        def err(log_n: float, budget: float = budget) -> float:
            n = np.exp(log_n)
            return float(law.fn(n, budget / (g * n**h), *JOINT.values()))

        best = minimize_scalar(
            err, bounds=(np.log(1e3), np.log(1e15)), method="bounded", options={"xatol": 1e-10}
        )
        np.testing.assert_allclose(
            optimal_size(budget, **JOINT, g=g, h=h), np.exp(best.x), rtol=1e-6
        )
    assert size_exponent(0.3, 0.35) == pytest.approx(0.35 / 0.65)
    assert size_exponent(0.3, 0.35, 2.0) == pytest.approx(0.35 / 1.0)


def test_cost_law_is_a_power_law_in_size():
    n = np.array([1e8, 1e9, 1e10])
    g, h = cost_law(n, 600.0 * n**0.9)
    assert g == pytest.approx(600.0) and h == pytest.approx(0.9)
    assert cost_law([1e9], [2e12]) == (pytest.approx(2e3), 1.0)


def test_joint_law_fit_and_optimal_size_interval():
    rng = np.random.default_rng(8)
    n, k = np.meshgrid(np.geomspace(7e7, 1.2e10, 7), 2.0 ** np.arange(12))
    n, k = n.ravel(), k.ravel()
    truth = FAMILIES["joint"].fn(n, k, *JOINT.values())
    y = truth * np.exp(rng.normal(0, 0.01, truth.size))
    reps = truth * np.exp(rng.normal(0, 0.01, (200, truth.size)))
    fit = fit_law("joint", {"N": n, "k": k}, y, sigma=0.01 * y, replicates=reps)
    opt = fit_optimal_size(fit.params, fit.boot_params, g=400.0, n_obs=fit.n_obs)
    budgets = np.array([1e13, 1e15])
    lo, hi = opt.predict_interval(budgets)
    point = opt.predict(budgets)
    np.testing.assert_allclose(point, optimal_size(budgets, **fit.params, g=400.0), rtol=1e-12)
    assert np.all(lo <= point) and np.all(point <= hi)
    true_opt = optimal_size(budgets, **JOINT, g=400.0)
    assert np.all(np.abs(np.log(point / true_opt)) <= 3 * np.log(hi / lo))
    assert opt.n_boot == 200 and "bootstrap=200" in opt.summary()
    assert np.isfinite(opt.se["a"]) and opt.ci.loc["a", "low"] < opt.params["a"]
    assert "log10 C = " in opt.summary()


def test_best_size_slope_is_the_least_squares_slope():
    c = np.geomspace(1e12, 1e16, 9)
    sizes = 1e6 * c**0.5
    assert best_size_slope(c, sizes)[0] == pytest.approx(0.5)
    rows = np.stack([sizes, np.where(c < 1e14, 1e9, 1e10), np.full(c.size, np.nan)])
    slopes = best_size_slope(c, rows)
    assert slopes[0] == pytest.approx(0.5) and slopes[1] > 0 and np.isnan(slopes[2])


def joint_study(rng, n_problems: int, boot: int) -> Dataset:
    """One synthetic study: each problem's error at (N, k) is the joint law times
    1 + 0.5 u1 + 0.4 u2 cos(ln k) + 0.4 u3 cos(ln N), u ~ U(-1, 1) per problem, so the
    population curve is the law exactly while each problem's curve has its own shape; the
    points are the mean over problems, replicates a bootstrap over problems."""
    n, k = np.meshgrid(np.geomspace(1e8, 1e10, 5), 2.0 ** np.arange(9))
    n, k = n.ravel(), k.ravel()
    u = rng.uniform(-1.0, 1.0, (n_problems, 3))
    shape = (
        1.0
        + 0.5 * u[:, :1]
        + 0.4 * u[:, 1:2] * np.cos(np.log(k))
        + 0.4 * u[:, 2:] * np.cos(np.log(n))
    )
    per = FAMILIES["joint"].fn(n, k, *JOINT.values()) * shape
    reps = per[rng.integers(0, n_problems, (boot, n_problems))].mean(axis=1)
    sigma = per.std(axis=0, ddof=1) / np.sqrt(n_problems)
    return Dataset({"N": n, "k": k}, per.mean(axis=0), sigma, reps)


def test_optimal_size_interval_covers_the_true_exponent():
    """200 synthetic studies with a known N_opt exponent a = beta / (alpha + beta): the 95%
    percentile interval from the problem bootstrap covers it in 93-97% of them."""
    rng = np.random.default_rng(2026)
    studies = [joint_study(rng, 300, 200) for _ in range(200)]
    fits = fit_laws("joint", studies)
    truth = size_exponent(JOINT["alpha"], JOINT["beta"])
    covered = []
    for f in fits:
        opt = fit_optimal_size(f.params, f.boot_params, g=2.0, n_obs=f.n_obs)
        low, high = opt.ci.loc["a"]
        covered.append(low <= truth <= high)
    assert 0.93 <= np.mean(covered) <= 0.97, np.mean(covered)
