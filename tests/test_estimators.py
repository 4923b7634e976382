"""The exact estimators against brute-force enumeration of every k-subset, exact integer
arithmetic, and invariants (hypothesis)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling.estimators import (
    Pool,
    aggregate_step_rewards,
    best_of_n_at_k,
    majority_at_k,
    pass_at_k,
    weighted_majority_at_k,
    win_probability,
)
from scaling.estimators.weighted import ENUMERATE

TOL = 1e-12


# -- references: plain Python over every subset ---------------------------------------------------


def _cluster_correctness(clusters, correct):
    members = defaultdict(list)
    for c, y in zip(clusters, correct, strict=True):
        if c is not None:
            members[c].append(y)
    return {c: np.mean(ys) for c, ys in members.items()}


def _vote(scores: dict, q: dict) -> float:
    """Uniform tie-break among the top scores; no votes -> 0."""
    if not scores:
        return 0.0
    best = max(scores.values())
    return float(np.mean([q[c] for c, s in scores.items() if s >= best - 1e-9]))


def brute_force(clusters, correct, rewards, k):
    """pass, majority, best-of-n and weighted majority at k, averaged over every k-subset."""
    n = len(correct)
    q = _cluster_correctness(clusters, correct)
    totals = np.zeros(4)
    subsets = list(itertools.combinations(range(n), k))
    for sub in subsets:
        totals[0] += any(correct[i] for i in sub)
        votes, weights = defaultdict(int), defaultdict(float)
        for i in sub:
            if clusters[i] is not None:
                votes[clusters[i]] += 1
                weights[clusters[i]] += rewards[i]
        totals[1] += _vote(votes, q)
        top = max(rewards[i] for i in sub)
        totals[2] += np.mean([correct[i] for i in sub if rewards[i] == top])
        totals[3] += _vote(weights, q)
    return totals / len(subsets)


def random_problem(rng, n_max=12):
    """Random answers (several clusters, some unparsed), correctness by cluster, tied rewards."""
    n = int(rng.integers(1, n_max + 1))
    n_clusters = int(rng.integers(1, 5))
    clusters = [None if rng.random() < 0.15 else int(rng.integers(n_clusters)) for _ in range(n)]
    right = {c for c in range(n_clusters) if rng.random() < 0.4}
    correct = [c is not None and c in right for c in clusters]
    rewards = (rng.integers(0, 4, n) / 2 - 0.5).tolist()  # few values: ties on purpose
    return clusters, correct, rewards


def estimate(clusters, correct, rewards, ks):
    pool = Pool.from_problems([correct], [clusters], [rewards])
    c = np.array([sum(correct)])
    return np.stack(
        [
            pass_at_k(pool.sizes, c, ks)[0],
            majority_at_k(pool, ks)[0],
            best_of_n_at_k(pool, ks)[0],
            weighted_majority_at_k(pool, ks)[0][0],
        ],
        axis=1,
    )


@pytest.mark.parametrize("seed", range(12))
def test_every_strategy_equals_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    for _ in range(6):
        clusters, correct, rewards = random_problem(rng)
        ks = np.arange(1, len(correct) + 1)
        got = estimate(clusters, correct, rewards, ks)
        for k in ks:
            want = brute_force(clusters, correct, rewards, int(k))
            np.testing.assert_allclose(got[k - 1], want, atol=TOL, rtol=0)


def test_ties_everywhere_are_shared_uniformly():
    # two clusters of equal size: a full-set vote is a coin flip between them
    clusters, correct = ["a", "a", "b", "b", None], [True, True, False, False, False]
    rewards = [1.0, 0.0, 1.0, 0.0, 1.0]  # three samples tie for the top reward
    got = estimate(clusters, correct, rewards, np.array([5]))[0]
    assert got[1] == pytest.approx(0.5, abs=TOL)  # majority
    assert got[2] == pytest.approx(1 / 3, abs=TOL)  # best-of-n: 1 of the 3 tied is correct
    assert got[3] == pytest.approx(0.5, abs=TOL)  # weighted: 1.0 vs 1.0 (unparsed abstains)


def test_unparsed_answers_abstain():
    # k = 2 from [x, None, None]: x wins whenever drawn, else there is no answer
    pool = Pool.from_problems([[True, False, False]], [["x", None, None]], [[0.0, 5.0, 5.0]])
    assert majority_at_k(pool, np.array([2]))[0, 0] == pytest.approx(2 / 3, abs=TOL)
    assert weighted_majority_at_k(pool, np.array([2]))[0][0, 0] == pytest.approx(2 / 3, abs=TOL)


# -- pass@k ----------------------------------------------------------------------------------------


def test_pass_at_k_is_the_unbiased_product_formula():
    n, c = np.array([10, 100, 1000, 37]), np.array([3, 1, 17, 0])
    ks = np.array([1, 2, 5, 10, 64])
    got = pass_at_k(n, c, ks)
    for i in range(len(n)):
        for j, k in enumerate(ks):
            k = min(k, n[i])
            product = np.prod([1 - k / m for m in range(n[i] - c[i] + 1, n[i] + 1)])
            assert got[i, j] == pytest.approx(1 - product, abs=TOL)
            exact = 1 - Fraction(comb(n[i] - c[i], k), comb(n[i], k))
            assert got[i, j] == pytest.approx(float(exact), abs=TOL)


def test_pythia_scale_pass_is_exact():
    # 10,000 samples, every budget at once: compare with exact rationals at a few k
    n, c = np.array([10_000]), np.array([122])
    ks = np.arange(1, 10_001)
    got = pass_at_k(n, c, ks)[0]
    for k in (1, 10, 100, 1000, 5000, 9878, 9879, 10_000):
        want = 1 - Fraction(comb(10_000 - 122, k), comb(10_000, k))
        assert got[k - 1] == pytest.approx(float(want), abs=TOL)


# -- majority at larger n: exact integer arithmetic ------------------------------------------------


def exact_win_probability(m, t, n, k) -> Fraction:
    """P(cluster t wins), by a dynamic program over (rivals' total, ties) in integers."""
    rivals = [int(x) for i, x in enumerate(m) if i != t]
    free = n - sum(m)
    total = Fraction(0)
    for j in range(1, min(k, m[t]) + 1):
        table = {(0, 0): 1}
        for size in rivals:
            nxt = defaultdict(int)
            for (s, ties), w in table.items():
                for x in range(min(j, size) + 1):
                    if s + x > k - j:
                        break
                    nxt[s + x, ties + (x == j)] += w * comb(size, x)
            table = nxt
        inner = sum(
            Fraction(w * comb(free, k - j - s), 1 + ties)
            for (s, ties), w in table.items()
            if k - j - s <= free
        )
        total += comb(m[t], j) * inner
    return total / comb(n, k)


@pytest.mark.parametrize(
    ("m", "n", "ks"),
    [
        ([30, 28, 5, 5, 3, 1, 1, 1], 80, [2, 5, 10, 20, 40, 60, 79]),
        ([12, 12, 12, 3, 3, 2, 2, 1, 1, 1, 1], 60, [2, 3, 8, 20, 30, 50]),
        ([100, 90, 20], 220, [4, 50, 110, 200]),
    ],
)
def test_majority_win_probability_matches_exact_integers(m, n, ks):
    for k in ks:
        for t in range(len(m)):
            want = float(exact_win_probability(m, t, n, k))
            assert win_probability(np.array(m), t, n, k) == pytest.approx(want, abs=TOL)


def test_win_probabilities_and_no_answer_sum_to_one_at_scale():
    rng = np.random.default_rng(7)
    sizes = rng.multinomial(1000, rng.dirichlet(np.full(40, 0.3)))
    m = sizes[sizes > 0]
    n = 1024  # 1024 - 1000 samples abstain
    for k in (3, 17, 64, 256, 700):
        total = sum(win_probability(m, t, n, k) for t in range(len(m)))
        nobody = comb(n - 1000, k) / comb(n, k)
        assert total + nobody == pytest.approx(1.0, abs=1e-11)


# -- weighted majority: Monte Carlo where the subsets are too many to list -------------------------


def test_weighted_majority_monte_carlo_is_unbiased_and_seeded():
    rng = np.random.default_rng(3)
    n = 40
    clusters = rng.integers(0, 4, n).tolist()
    correct = [c == 0 for c in clusters]
    rewards = rng.normal(size=n).round(2).tolist()
    pool = Pool.from_problems([correct], [clusters], [rewards])
    k = np.array([12])
    assert comb(n, 12) > ENUMERATE
    value, var = weighted_majority_at_k(pool, k, samples=4000, seed=1)
    again, _ = weighted_majority_at_k(pool, k, samples=4000, seed=1)
    assert value[0, 0] == again[0, 0] and var[0, 0] > 0
    q = _cluster_correctness(clusters, correct)
    hits = []
    draw = np.random.default_rng(99)
    for _ in range(40_000):
        sub = draw.choice(n, 12, replace=False)
        scores = defaultdict(float)
        for i in sub:
            scores[clusters[i]] += rewards[i]
        hits.append(_vote(scores, q))
    reference, ref_se = np.mean(hits), np.std(hits) / np.sqrt(len(hits))
    assert abs(value[0, 0] - reference) < 5 * np.hypot(np.sqrt(var[0, 0]), ref_se)


# -- invariants ------------------------------------------------------------------------------------


@st.composite
def problems(draw):
    n = draw(st.integers(1, 30))
    n_clusters = draw(st.integers(1, 6))
    clusters = draw(
        st.lists(st.one_of(st.none(), st.integers(0, n_clusters - 1)), min_size=n, max_size=n)
    )
    right = draw(st.sets(st.integers(0, n_clusters - 1)))
    correct = [c is not None and c in right for c in clusters]
    rewards = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n, max_size=n))
    return clusters, correct, rewards


@settings(max_examples=60, deadline=None)
@given(problems())
def test_invariants(problem):
    clusters, correct, rewards = problem
    n = len(correct)
    ks = np.arange(1, n + 1)
    got = estimate(clusters, correct, rewards, ks)
    assert np.all(got >= -TOL) and np.all(got <= 1 + TOL)
    assert np.all(np.diff(got[:, 0]) >= -TOL)  # pass@k never falls with k
    mean = np.mean(correct)
    np.testing.assert_allclose(got[0], mean, atol=TOL)  # k = 1: every strategy = accuracy
    full = brute_force(clusters, correct, rewards, n)  # k = n: the plain computation
    np.testing.assert_allclose(got[-1], full, atol=TOL)


# -- step rewards ----------------------------------------------------------------------------------


def test_step_reward_aggregations():
    steps = [[0.9, 0.5, 0.7], [], None, [0.25]]
    out = {agg: aggregate_step_rewards(steps, agg) for agg in ("last", "min", "prod", "mean")}
    np.testing.assert_allclose(out["last"][[0, 1, 3]], [0.7, 0.0, 0.25])
    np.testing.assert_allclose(out["min"][[0, 1, 3]], [0.5, 0.0, 0.25])
    np.testing.assert_allclose(out["prod"][[0, 1, 3]], [0.9 * 0.5 * 0.7, 0.0, 0.25])
    np.testing.assert_allclose(out["mean"][[0, 1, 3]], [0.7, 0.0, 0.25])
    assert all(np.isnan(v[2]) for v in out.values())
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate_step_rewards(steps, "max")
