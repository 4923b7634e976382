"""Compute-optimal allocation across difficulty bins: the exact relaxed knapsack against brute
force, a population with a closed-form optimum, the cross-fitting and the bootstrap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fit import allocate
from fit.allocation import _choose, _score

TOL = 1e-12


def envelope(points: np.ndarray, budget: float) -> float:
    """The best value of a random mix of the (cost, value) points at mean cost <= budget: the
    upper concave envelope, attained by one point or by two straddling the budget."""
    cost, value = points[:, 0], points[:, 1]
    best = value[cost <= budget + TOL].max(initial=-np.inf)
    for i, j in itertools.product(range(len(points)), repeat=2):
        if cost[i] <= budget < cost[j]:
            share = (budget - cost[i]) / (cost[j] - cost[i])
            best = max(best, (1 - share) * value[i] + share * value[j])
    return best


@pytest.mark.parametrize("seed", range(20))
def test_relaxed_knapsack_equals_brute_force_over_every_choice(seed):
    rng = np.random.default_rng(seed)
    groups, configs = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    value = rng.random((groups, configs)).round(2)  # rounded: ties on purpose
    cost = rng.integers(1, 6, (groups, configs)) / 2
    # every deterministic per-bin choice, as one (cost, value) point
    points = np.array(
        [
            (cost[range(groups), pick].sum(), value[range(groups), pick].sum())
            for pick in itertools.product(range(configs), repeat=groups)
        ]
    )
    budgets = np.linspace(points[:, 0].min() - 0.5, points[:, 0].max() + 0.5, 23)
    policy = _choose(value, cost, budgets)
    got_value, got_cost = _score(policy, value, cost)
    for b, budget in enumerate(budgets):
        want = envelope(points, budget)
        if want == -np.inf:
            assert not policy.feasible[b] and np.isnan(got_value[b])
            continue
        assert got_value[b] == pytest.approx(want, abs=TOL)
        assert got_cost[b] <= budget + TOL
        assert np.count_nonzero(policy.theta[b] > 0) <= 1  # a mix in at most one bin


def test_closed_form_easy_medium_hard():
    """Easy problems are solved at k = 1 and hard ones never, so the optimum gives the medium
    bin all the compute: k_M = 3B - 2 (the three bins are equal), up to its largest k."""
    ks = np.arange(1, 9)
    medium = 1 - 0.5**ks  # concave in k: its own hull
    rows = [np.ones(8)] * 10 + [np.zeros(8)] * 10 + [medium] * 10
    values = np.array(rows)
    costs = np.tile(ks.astype(float), (30, 1))
    labels = np.repeat(["easy", "hard", "medium"], 10)
    budgets = np.array([1.0, 1.5, 2.0, 7 / 3, 3.0, 10 / 3, 5.0])
    got = allocate(values, costs, budgets, labels=labels, configs=[f"k={k}" for k in ks], n_boot=0)
    k_m = np.clip(3 * budgets - 2, 1, 8)
    want = (1 + np.interp(k_m, ks, medium)) / 3
    uniform = (1 + np.interp(budgets, ks, medium)) / 3
    # identical problems within a bin: held-out halves score as the choosing ones
    np.testing.assert_allclose(got.value, want, atol=TOL, rtol=0)
    np.testing.assert_allclose(got.cost, (2 + k_m) / 3, atol=TOL, rtol=0)
    np.testing.assert_allclose(got.uniform_value, uniform, atol=TOL, rtol=0)
    np.testing.assert_allclose(got.uniform_cost, budgets, atol=TOL, rtol=0)
    np.testing.assert_allclose(got.gain, want - uniform, atol=TOL, rtol=0)
    np.testing.assert_allclose(got.in_sample_value, want, atol=TOL, rtol=0)
    at_two = got.policy[got.policy["budget"] == 2.0].set_index("bin")
    assert at_two["config"].tolist() == ["k=1", "k=1", "k=4"]
    assert at_two["share"].tolist() == [1.0, 1.0, 1.0]
    mixed = got.policy[got.policy["budget"] == 1.5]
    assert mixed[mixed["bin"] == 2].set_index("config")["share"].to_dict() == pytest.approx(
        {"k=2": 0.5, "k=3": 0.5}
    )
    assert got.bins["label"].tolist() == ["easy", "hard", "medium"]


def test_identical_bins_gain_nothing():
    """Mixing interpolates between grid points for both policies, so bins that do not differ
    give no gain, even at budgets between the grid's costs."""
    values = np.tile([0.2, 0.5, 0.6, 0.9, 0.95], (24, 1))
    costs = np.tile([1.0, 2.0, 4.0, 8.0, 16.0], (24, 1))
    labels = np.repeat([0, 1, 2, 3], 6)
    got = allocate(values, costs, [1.5, 3.0, 5.0, 12.0], labels=labels, n_boot=20)
    np.testing.assert_allclose(got.in_sample_value, got.in_sample_uniform, atol=TOL, rtol=0)
    np.testing.assert_allclose(got.gain, 0.0, atol=TOL)
    np.testing.assert_allclose(got.gain_ci, 0.0, atol=TOL)
    # the hull of the curve skips cost 4 (below the chord from 2 to 8)
    np.testing.assert_allclose(got.value, [0.35, 0.5 + 0.4 / 6, 0.7, 0.925], atol=TOL)


@st.composite
def populations(draw):
    problems = draw(st.integers(4, 24))
    configs = draw(st.integers(1, 5))
    values = draw(
        st.lists(
            st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=configs,
                     max_size=configs),
            min_size=problems,
            max_size=problems,
        )
    )  # fmt: skip
    costs = draw(
        st.lists(
            st.lists(st.integers(1, 8), min_size=configs, max_size=configs),
            min_size=problems,
            max_size=problems,
        )
    )
    labels = draw(st.lists(st.integers(0, 3), min_size=problems, max_size=problems))
    return np.array(values), np.array(costs, dtype=float), np.array(labels)


@settings(max_examples=60, deadline=None)
@given(populations(), st.integers(0, 3))
def test_never_worse_than_uniform_on_the_choosing_half(population, seed):
    values, costs, labels = population
    budgets = np.linspace(0.5, 8.5, 17)
    got = allocate(values, costs, budgets, labels=labels, n_boot=0, seed=seed)
    both = np.isfinite(got.in_sample_uniform)
    assert np.all(np.isfinite(got.in_sample_value[both]))  # feasible whenever uniform is
    assert np.all(got.in_sample_value[both] >= got.in_sample_uniform[both] - TOL)
    score = values.mean(axis=1) + 0.01 * labels
    got = allocate(values, costs, budgets, score=score, n_bins=3, n_boot=0, seed=seed)
    both = np.isfinite(got.in_sample_uniform)
    assert np.all(got.in_sample_value[both] >= got.in_sample_uniform[both] - TOL)


def pass_population(problems=200, seed=0):
    """Problems of pass rate p: k samples solve one with probability 1 - (1 - p)^k."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.4, 0.6, problems)
    ks = np.array([1, 2, 4, 8, 16, 32])
    values = 1 - (1 - p[:, None]) ** ks[None, :]
    return p, values, np.tile(ks.astype(float), (problems, 1))


def test_cross_fitting_and_bootstrap_are_reproducible():
    p, values, costs = pass_population()
    budgets = [2.0, 6.0, 12.0]
    a = allocate(values, costs, budgets, score=p, n_boot=50, seed=3)
    b = allocate(values, costs, budgets, score=p, n_boot=50, seed=3)
    c = allocate(values, costs, budgets, score=p, n_boot=50, seed=4)
    for name in ("value", "uniform_value", "gain", "gain_ci", "value_ci", "in_sample_value"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.gain_ci, c.gain_ci)
    assert not np.array_equal(a.value, c.value)  # another split, another held-out score
    assert np.all(a.gain_ci[:, 0] <= a.gain_ci[:, 1])


def test_oracle_bins_gain_and_noise_bins_do_not():
    p, values, costs = pass_population(problems=300)
    budgets = [2.0, 4.0, 8.0]
    oracle = allocate(values, costs, budgets, score=p, difficulty="oracle", n_boot=200)
    assert np.all(oracle.gain > 0) and np.all(oracle.gain_ci[:, 0] > 0)
    # bins unrelated to difficulty: the choosing half sees a gain, held-out problems do not
    noise = np.random.default_rng(5).random(len(p))
    blind = allocate(values, costs, budgets, score=noise, n_boot=200)
    assert np.all(blind.in_sample_value >= blind.in_sample_uniform - TOL)
    assert np.all(blind.gain_ci[:, 0] < 0.01) and np.all(blind.gain < oracle.gain)
    text = oracle.summary()
    assert "cross-fitted" in text and "oracle difficulty" in text and "300 problems" in text
    frame = oracle.to_frame()
    assert list(frame["budget"]) == budgets and {"gain_low", "gain_high"} <= set(frame)


def test_bad_inputs_say_what_is_wrong():
    values, costs = np.ones((4, 2)), np.ones((4, 2))
    with pytest.raises(ValueError, match="exactly one of score"):
        allocate(values, costs, [1.0])
    with pytest.raises(ValueError, match="exactly one of score"):
        allocate(values, costs, [1.0], score=np.ones(4), labels=np.ones(4))
    with pytest.raises(ValueError, match=r"\(problems, configurations\)"):
        allocate(values, costs[:, :1], [1.0], labels=np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        allocate(np.full((4, 2), np.nan), costs, [1.0], labels=np.ones(4))
    with pytest.raises(ValueError, match="one finite number per problem"):
        allocate(values, costs, [1.0], score=np.ones(3))
    with pytest.raises(ValueError, match="config names"):
        allocate(values, costs, [1.0], labels=np.ones(4), configs=["a"])
