"""The adaptive strategies (sequential replay) against enumeration of every ordering of small
pools, the Monte Carlo path against the same within its standard errors, and invariants
(hypothesis)."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.special import betainc

from scaling.errors import ArgumentError
from scaling.estimators import (
    Pool,
    best_of_n_at_k,
    early_majority_at_k,
    early_weighted_majority_at_k,
    majority_at_k,
    verifier_threshold_at_k,
    weighted_majority_at_k,
)
from scaling.estimators.sequential import confidence_thresholds

TOL = 1e-12

# -- references: plain Python over every ordering -------------------------------------------------


def _q(clusters, correct) -> dict:
    members = defaultdict(list)
    for c, y in zip(clusters, correct, strict=True):
        if c is not None:
            members[c].append(y)
    return {c: float(np.mean(ys)) for c, ys in members.items()}


def every_ordering_vote(clusters, correct, weights, lead, confidence):
    """Early-stopping (weighted) vote over every ordering of the samples: (values, samples) at
    k_max = 1..n. The orderings are walked as a tree of prefixes; a prefix of length t stands for
    its (n - t)! completions, all of which stop where it stops."""
    n = len(correct)
    q = _q(clusters, correct)
    tol = 1e-10 * (1 + sum(abs(w) for c, w in zip(clusters, weights, strict=True) if c is not None))
    values, samples = np.zeros(n), np.zeros(n)

    def visit(rest: list, scores: dict) -> None:
        t = n - len(rest)
        ranked = sorted(scores.values(), reverse=True)
        vote, stop = 0.0, False
        if ranked:
            vote = np.mean([q[c] for c, s in scores.items() if s >= ranked[0] - tol])
            a, b = ranked[0], max(0.0, ranked[1]) if len(ranked) > 1 else 0.0
            stop = (lead is not None and a - b >= lead - tol) or (
                confidence is not None and a > b and 1 - betainc(a + 1, b + 1, 0.5) >= confidence
            )
        if t:
            orderings = math.factorial(len(rest))
            upto = n if stop else t  # a stop at t answers for every k_max >= t
            values[t - 1 : upto] += orderings * vote
            samples[t - 1 : upto] += orderings * t
        if stop:
            return
        for j, i in enumerate(rest):
            after = dict(scores)
            if clusters[i] is not None:
                after[clusters[i]] = after.get(clusters[i], 0.0) + weights[i]
            visit(rest[:j] + rest[j + 1 :], after)

    visit(list(range(n)), {})
    return values / math.factorial(n), samples / math.factorial(n)


def every_ordering_threshold(correct, rewards, tau):
    """Verifier threshold over every ordering (a tree of prefixes, as above): (values, samples)
    at k_max = 1..n; until the first acceptance, best-of-k of the prefix (ties uniform)."""
    n = len(correct)
    values, samples = np.zeros(n), np.zeros(n)

    def visit(prefix: list, rest: list) -> None:
        t, orderings = len(prefix), math.factorial(len(rest))
        stop = rewards[prefix[-1]] >= tau
        if stop:  # the first acceptance answers for every k_max >= t
            values[t - 1 :] += orderings * correct[prefix[-1]]
            samples[t - 1 :] += orderings * t
            return
        top = max(rewards[i] for i in prefix)
        values[t - 1] += orderings * np.mean([correct[i] for i in prefix if rewards[i] == top])
        samples[t - 1] += orderings * t
        for j, i in enumerate(rest):
            visit([*prefix, i], rest[:j] + rest[j + 1 :])

    everything = list(range(n))
    for j, i in enumerate(everything):
        visit([i], everything[:j] + everything[j + 1 :])
    return values / math.factorial(n), samples / math.factorial(n)


def random_problem(rng, n_max=7, negative=False):
    """Few clusters, some unparsed answers, correctness by cluster, rewards on a 1/4 grid (exact
    in binary, with ties on purpose)."""
    n = int(rng.integers(1, n_max + 1))
    n_clusters = int(rng.integers(1, 4))
    clusters = [None if rng.random() < 0.15 else int(rng.integers(n_clusters)) for _ in range(n)]
    right = {c for c in range(n_clusters) if rng.random() < 0.4}
    correct = [c is not None and c in right for c in clusters]
    rewards = (rng.integers(-2 if negative else 0, 5, n) / 4).tolist()
    return clusters, correct, rewards


MAJORITY_RULES = [(1, None), (2, None), (3, None), (None, 0.8), (None, 0.95), (2, 0.9)]
WEIGHTED_RULES = [(0.25, None), (0.5, None), (1.25, None), (None, 0.7), (None, 0.9), (0.75, 0.8)]


# -- exact paths: every ordering, to 1e-12 ---------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_early_majority_equals_every_ordering(seed):
    rng = np.random.default_rng(seed)
    for _ in range(3):
        clusters, correct, _ = random_problem(rng, n_max=6)
        pool = Pool.from_problems([correct], [clusters])
        ks = np.arange(1, len(correct) + 1)
        for lead, confidence in MAJORITY_RULES:
            got = early_majority_at_k(pool, ks, lead=lead, confidence=confidence)
            want_v, want_k = every_ordering_vote(
                clusters, correct, [1.0] * len(ks), lead, confidence
            )
            assert got.exact.all() and np.all(got.mc_var == 0)
            np.testing.assert_allclose(got.values[0], want_v, atol=TOL, rtol=0)
            np.testing.assert_allclose(got.samples[0], want_k, atol=TOL, rtol=0)
            short = early_majority_at_k(pool, ks[:2], lead=lead, confidence=confidence)
            np.testing.assert_allclose(short.values[0], want_v[:2], atol=TOL, rtol=0)
            np.testing.assert_allclose(short.samples[0], want_k[:2], atol=TOL, rtol=0)


@pytest.mark.parametrize("seed", range(8))
def test_early_weighted_majority_equals_every_ordering(seed):
    rng = np.random.default_rng(100 + seed)
    for trial in range(3):
        negative = trial == 0  # the lead rule takes negative rewards; the confidence rule does not
        clusters, correct, rewards = random_problem(rng, n_max=6, negative=negative)
        pool = Pool.from_problems([correct], [clusters], [rewards])
        ks = np.arange(1, len(correct) + 1)
        for lead, confidence in WEIGHTED_RULES:
            if negative and confidence is not None:
                continue
            got = early_weighted_majority_at_k(pool, ks, lead=lead, confidence=confidence)
            want_v, want_k = every_ordering_vote(clusters, correct, rewards, lead, confidence)
            assert got.exact.all()
            np.testing.assert_allclose(got.values[0], want_v, atol=TOL, rtol=0)
            np.testing.assert_allclose(got.samples[0], want_k, atol=TOL, rtol=0)
            short = early_weighted_majority_at_k(pool, ks[:2], lead=lead, confidence=confidence)
            np.testing.assert_allclose(short.values[0], want_v[:2], atol=TOL, rtol=0)
            np.testing.assert_allclose(short.samples[0], want_k[:2], atol=TOL, rtol=0)


@pytest.mark.parametrize("seed", range(8))
def test_verifier_threshold_equals_every_ordering(seed):
    rng = np.random.default_rng(200 + seed)
    for _ in range(4):
        _, correct, rewards = random_problem(rng, n_max=6, negative=True)
        n = len(correct)
        pool = Pool.from_problems([correct], rewards=[rewards])
        for tau in (-1.0, 0.0, 0.25, 0.5, 1.0, 2.0):
            got = verifier_threshold_at_k(pool, np.arange(1, n + 3), tau=tau)  # beyond n: capped
            want_v, want_k = every_ordering_threshold(correct, rewards, tau)
            want_v, want_k = (
                np.r_[want_v, want_v[-1:], want_v[-1:]],
                np.r_[want_k, want_k[-1:], want_k[-1:]],
            )
            np.testing.assert_allclose(got.values[0], want_v, atol=TOL, rtol=0)
            np.testing.assert_allclose(got.samples[0], want_k, atol=TOL, rtol=0)


def test_eight_samples_every_rule():
    """n = 8 (40,320 orderings), four clusters (two of equal size: pooled) and an abstention."""
    clusters = ["a", "b", "a", "c", None, "a", "b", "d"]
    correct = [c == "b" for c in clusters]
    rewards = [0.25, 1.0, 0.5, 0.75, 0.0, 0.25, 0.5, 1.0]
    pool = Pool.from_problems([correct], [clusters], [rewards])
    ks = np.arange(1, 9)
    got = early_majority_at_k(pool, ks, lead=2)
    want = every_ordering_vote(clusters, correct, [1.0] * 8, 2, None)
    np.testing.assert_allclose([got.values[0], got.samples[0]], want, atol=TOL, rtol=0)
    got = early_weighted_majority_at_k(pool, ks, confidence=0.8)
    want = every_ordering_vote(clusters, correct, rewards, None, 0.8)
    np.testing.assert_allclose([got.values[0], got.samples[0]], want, atol=TOL, rtol=0)
    got = verifier_threshold_at_k(pool, ks, tau=0.75)
    want = every_ordering_threshold(correct, rewards, 0.75)
    np.testing.assert_allclose([got.values[0], got.samples[0]], want, atol=TOL, rtol=0)


def test_budgets_below_the_cluster_sizes():
    """k_max below a cluster's size: the program counts only to k_max but draws by the sizes."""
    clusters = ["a"] * 5 + ["b", None]
    correct = [True] * 5 + [False, False]
    pool = Pool.from_problems([correct], [clusters], [[1.0, 0.5, 0.5, 0.25, 0.25, 1.0, 0.0]])
    ks = np.array([3, 1, 2])
    for lead, confidence in [(3, None), (None, 0.8), (2, 0.9)]:
        got = early_majority_at_k(pool, ks, lead=lead, confidence=confidence)
        want_v, want_k = every_ordering_vote(clusters, correct, [1.0] * 7, lead, confidence)
        np.testing.assert_allclose(got.values[0], want_v[ks - 1], atol=TOL, rtol=0)
        np.testing.assert_allclose(got.samples[0], want_k[ks - 1], atol=TOL, rtol=0)
    rewards = pool.reward.tolist()
    got = early_weighted_majority_at_k(pool, ks, lead=1.0)
    want_v, want_k = every_ordering_vote(clusters, correct, rewards, 1.0, None)
    np.testing.assert_allclose(got.values[0], want_v[ks - 1], atol=TOL, rtol=0)
    np.testing.assert_allclose(got.samples[0], want_k[ks - 1], atol=TOL, rtol=0)


def test_many_problems_at_once_match_one_at_a_time():
    rng = np.random.default_rng(5)
    problems = [random_problem(rng, n_max=9) for _ in range(12)]
    pool = Pool.from_problems(*map(list, zip(*[(y, c, r) for c, y, r in problems], strict=True)))
    ks = np.array([1, 3, 5, 20])
    for f, rule in [
        (early_majority_at_k, dict(lead=2)),
        (early_weighted_majority_at_k, dict(confidence=0.8)),
        (verifier_threshold_at_k, dict(tau=0.5)),
    ]:
        together = f(pool, ks, **rule)
        for i, (c, y, r) in enumerate(problems):
            alone = f(Pool.from_problems([y], [c], [r]), ks, **rule)
            np.testing.assert_allclose(together.values[i], alone.values[0], atol=TOL, rtol=0)
            np.testing.assert_allclose(together.samples[i], alone.samples[0], atol=TOL, rtol=0)


# -- pooled clusters, larger n: the exact program against Monte Carlo ------------------------------


def test_pooled_singletons_are_exact_and_agree_with_monte_carlo():
    # 30 singletons pool into one count: 21 x 31 x 3 states instead of 21 x 2^30 x 3
    clusters = ["x"] * 20 + [f"s{i}" for i in range(30)] + [None, None]
    correct = [c == "x" for c in clusters]
    pool = Pool.from_problems([correct], [clusters])
    ks = np.array([1, 2, 4, 8, 16, 52])
    for rule in (dict(lead=2), dict(confidence=0.9)):
        exact = early_majority_at_k(pool, ks, **rule)
        assert exact.exact.all()
        mc = early_majority_at_k(pool, ks, exact_cells=0, mc_samples=20_000, seed=3, **rule)
        assert not mc.exact.any()
        assert np.all(np.abs(mc.values - exact.values) <= 5 * np.sqrt(mc.mc_var) + 1e-12)
        assert np.all(np.abs(mc.samples - exact.samples) <= 5 * np.sqrt(mc.samples_mc_var) + 1e-12)


def test_pooled_rewarded_clusters_agree_with_monte_carlo():
    # clusters of one reward pool by (size, reward); a cluster of mixed rewards keeps its types
    clusters = ["x"] * 6 + ["y"] * 4 + [f"s{i}" for i in range(12)] + [None]
    correct = [c == "y" for c in clusters]
    rewards = [0.5] * 3 + [1.0] * 3 + [0.75] * 4 + [0.25] * 6 + [0.5] * 6 + [0.0]
    pool = Pool.from_problems([correct], [clusters], [rewards])
    ks = np.array([1, 3, 6, 12, 23])
    for rule in (dict(lead=0.75), dict(confidence=0.8)):
        exact = early_weighted_majority_at_k(pool, ks, **rule)
        assert exact.exact.all()
        mc = early_weighted_majority_at_k(pool, ks, exact_cells=0, mc_samples=20_000, **rule)
        assert np.all(np.abs(mc.values - exact.values) <= 5 * np.sqrt(mc.mc_var) + 1e-12)
        assert np.all(np.abs(mc.samples - exact.samples) <= 5 * np.sqrt(mc.samples_mc_var) + 1e-12)


def test_too_many_states_switch_to_monte_carlo():
    rng = np.random.default_rng(0)
    clusters = rng.integers(0, 12, 200).tolist()  # twelve clusters of different sizes
    correct = [c == 0 for c in clusters]
    pool = Pool.from_problems([correct], [clusters])
    got = early_majority_at_k(pool, np.array([4, 64]), lead=3)
    assert not got.exact.any() and np.all(got.mc_var > 0)


# -- Monte Carlo: seeded, within its standard errors of every ordering -----------------------------


@pytest.mark.parametrize("seed", range(4))
def test_monte_carlo_is_within_its_standard_errors(seed):
    rng = np.random.default_rng(300 + seed)
    for _ in range(3):
        clusters, correct, rewards = random_problem(rng)
        n = len(correct)
        pool = Pool.from_problems([correct], [clusters], [rewards])
        ks = np.arange(1, n + 1)
        for f, weights, (lead, confidence) in [
            (early_majority_at_k, [1.0] * n, (2, None)),
            (early_majority_at_k, [1.0] * n, (None, 0.9)),
            (early_weighted_majority_at_k, rewards, (0.5, None)),
            (early_weighted_majority_at_k, rewards, (None, 0.8)),
        ]:
            got = f(pool, ks, lead=lead, confidence=confidence, exact_cells=0, mc_samples=3000)
            want_v, want_k = every_ordering_vote(clusters, correct, weights, lead, confidence)
            assert np.all(np.abs(got.values[0] - want_v) <= 5 * np.sqrt(got.mc_var[0]) + 1e-12)
            se_k = np.sqrt(got.samples_mc_var[0])
            assert np.all(np.abs(got.samples[0] - want_k) <= 5 * se_k + 1e-12)


def test_monte_carlo_is_reproducible_and_seeded():
    rng = np.random.default_rng(9)
    problems = [random_problem(rng, n_max=30) for _ in range(20)]
    pool = Pool.from_problems(*map(list, zip(*[(y, c, r) for c, y, r in problems], strict=True)))
    ks = np.array([2, 8, 30])
    run = dict(lead=1.0, exact_cells=0, mc_samples=64)
    a = early_weighted_majority_at_k(pool, ks, seed=7, **run)
    b = early_weighted_majority_at_k(pool, ks, seed=7, **run)
    c = early_weighted_majority_at_k(pool, ks, seed=8, **run)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.values, c.values)
    # a problem's draws do not depend on the others in the pool
    alone = early_weighted_majority_at_k(
        Pool.from_problems([problems[0][1]], [problems[0][0]], [problems[0][2]]), ks, seed=7, **run
    )
    sub = early_weighted_majority_at_k(
        Pool.from_problems([problems[0][1]] * 2, [problems[0][0]] * 2, [problems[0][2]] * 2),
        ks,
        seed=7,
        **run,
    )
    np.testing.assert_array_equal(a.values[0], alone.values[0])
    np.testing.assert_array_equal(sub.values[0], alone.values[0])


# -- the Beta criterion ----------------------------------------------------------------------------


def test_confidence_rule_is_aggarwal_beta_criterion():
    """P(p > 1/2), p ~ Beta(a + 1, b + 1): their quadrature, the binomial identity, our table."""
    for a, b in [(1, 0), (3, 0), (4, 0), (5, 2), (9, 4), (20, 13)]:
        density = lambda x, a=a, b=b: x**a * (1 - x) ** b  # noqa: E731
        num, den = integrate.quad(density, 0.5, 1)[0], integrate.quad(density, 0, 1)[0]
        assert 1 - betainc(a + 1, b + 1, 0.5) == pytest.approx(num / den, abs=1e-8)
        assert stats.binom.cdf(a, a + b + 1, 0.5) == pytest.approx(1 - betainc(a + 1, b + 1, 0.5))
    for confidence in (0.8, 0.95, 0.99):
        thr = confidence_thresholds(confidence, 200)
        for b in range(40):
            a = int(thr[b])
            assert stats.binom.cdf(a, a + b + 1, 0.5) >= confidence
            assert stats.binom.cdf(a - 1, a + b, 0.5) < confidence
    # Aggarwal et al.'s default 0.95: 4 votes to none (P = 31/32), or 6 to 1 (P = 0.965)
    assert confidence_thresholds(0.95, 10)[:2].tolist() == [4.0, 6.0]


# -- invariants ------------------------------------------------------------------------------------


@st.composite
def problems(draw, n_max=14):
    n = draw(st.integers(1, n_max))
    n_clusters = draw(st.integers(1, 5))
    clusters = draw(
        st.lists(st.one_of(st.none(), st.integers(0, n_clusters - 1)), min_size=n, max_size=n)
    )
    right = draw(st.sets(st.integers(0, n_clusters - 1)))
    correct = [c is not None and c in right for c in clusters]
    rewards = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n, max_size=n))
    return clusters, correct, rewards


@settings(max_examples=40, deadline=None)
@given(problems(), st.sampled_from([1, 2, 3]), st.sampled_from([0.7, 0.9, 0.99]))
def test_cost_is_between_one_and_k_max(problem, lead, confidence):
    clusters, correct, rewards = problem
    n = len(correct)
    pool = Pool.from_problems([correct], [clusters], [rewards])
    ks = np.arange(1, n + 3)
    keff = np.minimum(ks, n)
    for got in (
        early_majority_at_k(pool, ks, lead=lead),
        early_majority_at_k(pool, ks, confidence=confidence),
        early_majority_at_k(pool, ks, lead=lead, exact_cells=0, mc_samples=16),
        early_weighted_majority_at_k(pool, ks, lead=lead / 2, confidence=confidence),
        early_weighted_majority_at_k(pool, ks, confidence=confidence, exact_cells=0, mc_samples=16),
        verifier_threshold_at_k(pool, ks, tau=0.5),
    ):
        assert np.all(got.samples[0] <= keff + TOL) and np.all(got.samples[0] >= 1 - TOL)
        assert np.all(np.diff(got.samples[0]) >= -TOL)  # a later cap never stops sooner
        assert np.all(got.values >= -TOL) and np.all(got.values <= 1 + TOL)


@settings(max_examples=40, deadline=None)
@given(problems(n_max=20))
def test_never_stopping_is_the_plain_vote(problem):
    clusters, correct, rewards = problem
    n = len(correct)
    pool = Pool.from_problems([correct], [clusters], [rewards])
    ks = np.arange(1, n + 2)
    keff = np.minimum(ks, n)
    majority = majority_at_k(pool, ks)[0]
    # lead = inf short-cuts to majority@k_max; a lead above n, or a confidence no count can
    # reach, runs the program and must agree
    for got in (
        early_majority_at_k(pool, ks, lead=math.inf),
        early_majority_at_k(pool, ks, lead=n + 1),
        early_majority_at_k(pool, ks, confidence=1 - 2.0 ** -(n + 2)),
        early_majority_at_k(pool, ks, confidence=1.0),
    ):
        np.testing.assert_allclose(got.values[0], majority, atol=TOL, rtol=0)
        np.testing.assert_allclose(got.samples[0], keff, atol=TOL, rtol=0)
    if n <= 12:  # weighted majority enumerates every subset here: exact
        weighted = weighted_majority_at_k(pool, ks)[0][0]
        got = early_weighted_majority_at_k(pool, ks, lead=2.0 * n)
        np.testing.assert_allclose(got.values[0], weighted, atol=TOL, rtol=0)
        np.testing.assert_allclose(got.samples[0], keff, atol=TOL, rtol=0)


@settings(max_examples=40, deadline=None)
@given(problems(n_max=12))
def test_stopping_later_never_costs_less(problem):
    """The stopping set shrinks as lead or confidence grows, so each walk stops later."""
    clusters, correct, _ = problem
    pool = Pool.from_problems([correct], [clusters])
    ks = np.array([len(correct)])
    by_lead = [early_majority_at_k(pool, ks, lead=lead).samples[0, 0] for lead in (1, 2, 3, 5)]
    assert np.all(np.diff(by_lead) >= -TOL)
    levels = (0.6, 0.8, 0.9, 0.99, 0.999)
    by_conf = [early_majority_at_k(pool, ks, confidence=c).samples[0, 0] for c in levels]
    assert np.all(np.diff(by_conf) >= -TOL)


def test_confidence_towards_one_approaches_majority():
    rng = np.random.default_rng(4)
    clusters = rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=40).tolist()
    correct = [c == "a" for c in clusters]
    pool = Pool.from_problems([correct], [clusters])
    ks = np.array([40])
    majority = majority_at_k(pool, ks)[0, 0]
    gaps = [
        abs(early_majority_at_k(pool, ks, confidence=c).values[0, 0] - majority)
        for c in (0.8, 0.95, 0.999, 1 - 1e-6, 1 - 1e-9, 1 - 2.0**-42)
    ]
    assert gaps[0] > 0.01 and gaps[-1] < TOL
    assert all(later <= earlier + 1e-3 for earlier, later in itertools.pairwise(gaps))


@settings(max_examples=40, deadline=None)
@given(problems(n_max=20))
def test_threshold_extremes(problem):
    clusters, correct, rewards = problem
    n = len(correct)
    pool = Pool.from_problems([correct], [clusters], [rewards])
    ks = np.arange(1, n + 2)
    keff = np.minimum(ks, n)
    never = verifier_threshold_at_k(pool, ks, tau=max(rewards) + 1)  # best-of-k_max
    np.testing.assert_allclose(never.values[0], best_of_n_at_k(pool, ks)[0], atol=TOL, rtol=0)
    np.testing.assert_allclose(never.samples[0], keff, atol=TOL, rtol=0)
    first = verifier_threshold_at_k(pool, ks, tau=min(rewards))  # the first sample: pass@1
    np.testing.assert_allclose(first.values[0], np.mean(correct), atol=TOL, rtol=0)
    np.testing.assert_allclose(first.samples[0], 1.0, atol=TOL, rtol=0)
    accepted = int(np.sum(np.array(rewards) >= 0.5))  # uncapped: the negative hypergeometric mean
    full = verifier_threshold_at_k(pool, np.array([n]), tau=0.5).samples[0, 0]
    assert full == pytest.approx(n if accepted == 0 else (n + 1) / (accepted + 1), abs=TOL)


def test_zero_budget_and_empty_problems():
    pool = Pool.from_problems([[True, False], []], [["a", "b"], []], [[1.0, 0.0], []])
    ks = np.array([0, 1, 5])
    for got in (
        early_majority_at_k(pool, ks, lead=1),
        early_weighted_majority_at_k(pool, ks, lead=1.0, exact_cells=0),
        verifier_threshold_at_k(pool, ks, tau=0.5),
    ):
        assert got.values.shape == (2, 3)
        assert got.values[0, 0] == 0 and got.samples[0, 0] == 0
        np.testing.assert_array_equal(got.values[1], 0.0)
        np.testing.assert_array_equal(got.samples[1], 0.0)
        assert got.samples[0, 1] == 1


def test_bad_arguments_say_what_to_do():
    pool = Pool.from_problems([[True, False]], [["a", "b"]], [[1.0, -0.5]])
    ks = np.array([2])
    with pytest.raises(ArgumentError, match="lead=0"):
        early_majority_at_k(pool, ks, lead=0)
    with pytest.raises(ArgumentError, match="confidence=0.5"):
        early_majority_at_k(pool, ks, confidence=0.5)
    with pytest.raises(ArgumentError, match="mc_samples=1"):
        early_majority_at_k(pool, ks, lead=1, mc_samples=1)
    with pytest.raises(ArgumentError, match="seed=-1"):
        early_majority_at_k(pool, ks, lead=1, seed=-1)
    with pytest.raises(ArgumentError, match="ks="):
        early_majority_at_k(pool, np.array([-1]), lead=1)
    with pytest.raises(ArgumentError, match="tau=nan"):
        verifier_threshold_at_k(pool, ks, tau=float("nan"))
    with pytest.raises(ValueError, match="rewards >= 0"):
        early_weighted_majority_at_k(pool, ks, confidence=0.9)
    with pytest.raises(ValueError, match="needs answer clusters"):
        early_majority_at_k(Pool.from_problems([[True]]), ks, lead=1)
    with pytest.raises(ValueError, match="needs a reward"):
        verifier_threshold_at_k(Pool.from_problems([[True]]), ks, tau=0.5)
