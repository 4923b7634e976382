"""The Beta (beta-binomial) forecast of coverage and the unbiased pass@k it is checked against."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.optimize import minimize

from fit import BetaFit, backtest_beta, pass_at_k


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 8).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n)))
)
def test_pass_at_k_equals_enumeration_of_all_subsets(nck):
    n, c, k = nck
    subsets = list(itertools.combinations(range(n), k))
    brute = np.mean([any(i < c for i in s) for s in subsets])
    assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12)


def test_pass_at_k_rejects_k_above_n():
    with pytest.raises(ValueError, match="k <= n"):
        pass_at_k(4, 1, 5)


def draw_counts(rng, alpha=0.3, beta=2.0, problems=300, samples=1000):
    p = rng.beta(alpha, beta, problems)
    n = np.full(problems, samples)
    return n, rng.binomial(n, p)


def test_maximum_likelihood_matches_scipy_betabinom():
    n, c = draw_counts(np.random.default_rng(0))
    fit = BetaFit(n, c)

    def nll(u):
        return -stats.betabinom.logpmf(c, n, np.exp(u[0]), np.exp(u[1])).sum()

    ref = minimize(nll, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
    np.testing.assert_allclose(fit.params.to_numpy(), np.exp(ref.x), rtol=1e-6)
    assert fit.loglik == pytest.approx(-ref.fun, rel=1e-10)
    assert fit.aic == pytest.approx(4 + 2 * ref.fun)


def test_forecast_is_the_integral_of_the_beta_law():
    fit = BetaFit(*draw_counts(np.random.default_rng(1)))
    a, b = fit.params
    for k in (1, 7, 100, 1e5):
        num, _ = integrate.quad(
            lambda p, k=k: (1 - p) ** k * stats.beta.pdf(p, a, b),
            0,
            1,
            limit=500,
            points=[1e-6, 1e-4, 1e-2],
        )
        assert fit.predict(k)[0] == pytest.approx(num, rel=1e-6)


def test_recovers_parameters_within_interval_with_zero_success_problems():
    rng = np.random.default_rng(2)
    n, c = draw_counts(rng, alpha=0.2, beta=3.0, problems=400, samples=200)
    assert (c == 0).mean() > 0.2  # many problems never solved: their rate is only bounded
    fit = BetaFit(n, c, bootstrap=400, seed=1)
    assert fit.ci.loc["alpha", "low"] <= 0.2 <= fit.ci.loc["alpha", "high"]
    assert fit.ci.loc["beta", "low"] <= 3.0 <= fit.ci.loc["beta", "high"]
    lo, hi = fit.predict_interval([10, 1000])
    assert np.all(lo <= fit.predict([10, 1000])) and np.all(fit.predict([10, 1000]) <= hi)
    assert "tail_exponent" in fit.summary()


def test_intervals_cover_the_truth_about_95_percent():
    """50 synthetic studies: coverage at least 95% - 3 binomial sd (0.857) per parameter."""
    rng = np.random.default_rng(3)
    hits = []
    for _ in range(50):
        fit = BetaFit(
            *draw_counts(rng, problems=150, samples=100),
            bootstrap=200,
            seed=int(rng.integers(1 << 30)),
        )
        hits.append(
            [
                fit.ci.loc[p, "low"] <= t <= fit.ci.loc[p, "high"]
                for p, t in (("alpha", 0.3), ("beta", 2.0))
            ]
        )
    assert np.all(np.mean(hits, axis=0) >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / 50))


def test_paired_weights_and_bad_input():
    n, c = draw_counts(np.random.default_rng(4), problems=50, samples=20)
    ones = np.ones((3, 50))
    fit = BetaFit(n, c, weights=ones)  # every replicate is the original sample
    np.testing.assert_allclose(
        fit.boot_params.to_numpy(), np.tile(fit.params.to_numpy(), (3, 1)), rtol=1e-6
    )
    with pytest.raises(ValueError, match="weights"):
        BetaFit(n, c, weights=np.ones((3, 7)))
    with pytest.raises(ValueError, match="0 <= c <= n"):
        BetaFit(n, n + 1)


def test_backtest_forecasts_beyond_the_subsample():
    n, c = draw_counts(np.random.default_rng(5), problems=300, samples=1000)
    bt = backtest_beta(n, c, [100, 300, 1000], cut=50)
    assert bt.family == "beta" and bt.cut == 50
    assert bt.max_error < 0.05
