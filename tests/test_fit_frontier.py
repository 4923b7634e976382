"""Pareto front, best option per budget, claims and the extrapolation backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fit import (
    CURVE_FAMILIES,
    backtest,
    beats_everywhere,
    budget_grid,
    pareto_front,
    select_best,
)
from fit.backtest import default_cut

points = st.lists(st.tuples(st.integers(1, 8), st.integers(0, 8)), min_size=1, max_size=25).map(
    lambda rows: pd.DataFrame(rows, columns=["flops", "accuracy"]).astype(float)
)


@settings(max_examples=200, deadline=None)
@given(points)
def test_pareto_front_is_exactly_the_undominated_points(df):
    front = pareto_front(df)
    f, a = df["flops"].to_numpy(), df["accuracy"].to_numpy()
    for i in range(len(df)):
        dominated = np.any((f <= f[i]) & (a >= a[i]) & ((f < f[i]) | (a > a[i])))
        duplicate_first = not np.any((f[:i] == f[i]) & (a[:i] == a[i]))
        assert (i in front.index) == (not dominated and duplicate_first)
    assert front["flops"].is_monotonic_increasing
    assert front["accuracy"].is_monotonic_increasing


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_select_best_matches_brute_force(n_budgets, n_options, seed):
    rng = np.random.default_rng(seed)
    acc = rng.uniform(size=(n_budgets, n_options))
    acc[rng.uniform(size=acc.shape) < 0.3] = np.nan
    draws = acc[:, :, None] + rng.normal(0, 0.05, (n_budgets, n_options, 40))
    sel = select_best(acc, draws)
    for b in range(n_budgets):
        feasible = [o for o in range(n_options) if np.isfinite(acc[b, o])]
        ranked = sorted(feasible, key=lambda o: -acc[b, o])
        assert sel.best[b] == (ranked[0] if ranked else -1)
        assert sel.runner_up[b] == (ranked[1] if len(ranked) > 1 else -1)
        if len(ranked) > 1:
            assert sel.margin[b] == pytest.approx(acc[b, ranked[0]] - acc[b, ranked[1]])
            wins = np.mean(
                [draws[b, ranked[0], r] >= np.nanmax(draws[b, feasible, r]) for r in range(40)]
            )
            assert sel.p_best[b] == pytest.approx(wins)
        if ranked:
            lo, hi = np.percentile(draws[b, ranked[0]], [2.5, 97.5])
            assert (sel.ci_low[b], sel.ci_high[b]) == pytest.approx((lo, hi))
        else:
            assert np.isnan(sel.accuracy[b])


def test_budget_grid():
    np.testing.assert_allclose(budget_grid(1e10, 1e14, 5), [1e10, 1e11, 1e12, 1e13, 1e14])
    assert budget_grid(3.0, 3.0, 1).tolist() == [3.0]
    with pytest.raises(ValueError, match="budget grid"):
        budget_grid(10, 1, 3)


def test_claim_support_counts_replicates_where_it_holds_everywhere():
    budgets = np.array([1.0, 2.0, 3.0])
    a = np.array([[0.5, 0.6, 0.7], [0.5, 0.4, 0.7], [0.6, 0.6, 0.8], [0.3, 0.6, 0.7]])
    b = np.full((4, 3), 0.45)
    claim = beats_everywhere("A:S", "B:T", budgets, a.mean(0), b.mean(0), a, b)
    assert claim.support == pytest.approx(0.5)  # rows 0 and 2 beat B at all three budgets
    np.testing.assert_allclose(claim.per_budget, [0.75, 0.75, 1.0])
    assert claim.holds is True
    assert "holds in 50.0% of bootstrap replicates" in claim.sentence()
    assert claim.to_dict()["support"] == 0.5


def test_backtest_is_exact_on_noise_free_data_and_honest_otherwise():
    x = 2.0 ** np.arange(12)
    y = CURVE_FAMILIES["saturating"].fn(x, 0.1, 0.8, 0.4)
    bt = backtest("saturating", x, y)
    assert bt.cut == 256.0 and bt.x_test.tolist() == [512.0, 1024.0, 2048.0]
    assert bt.max_error < 1e-6
    # a power law cannot know about the floor: its forecast errs
    assert backtest("power", x, y).mae > 1e-3
    assert default_cut(np.arange(3.0), 3) is None
    assert backtest("saturating", x[:4], y[:4]) is None
    assert set(bt.to_dict()) >= {"cut", "mae", "max_error", "predicted", "observed"}
