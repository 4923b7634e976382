"""The strategy registry: parsing, defaults, what each declares; the adaptive strategies and the
cross-fitted allocation replayed through the simulator."""

from __future__ import annotations

import numpy as np
import pytest
from test_simulate import make_run, toy_samples

from fit import crossfit_policy
from fit.allocation import _binner, _choose, _split, _sums
from scaling.errors import ArgumentError, ScalingError
from scaling.estimators import Pool, early_majority_at_k, majority_at_k
from scaling.report import fit_runs
from scaling.simulate import simulate
from scaling.strategies import STRATEGIES, default_strategies, parse_strategies, strategy_class
from scaling.strategies.base import Cache


def test_every_registered_strategy_declares_its_contract():
    for name in STRATEGIES:
        cls = strategy_class(name)
        assert cls.name == name and cls.label and cls.title
        assert set(cls.needs) <= {"clusters", "rewards", "greedy", "levels"}
    assert [s.key for s in default_strategies()] == [
        "greedy",
        "pass",
        "majority",
        "best_of_n",
        "weighted_majority",
        "early_majority:confidence=0.95",
    ]
    assert not parse_strategies("pass")[0].deployable
    assert parse_strategies("allocated:difficulty=level")[0].deployable
    assert not parse_strategies("allocated")[0].deployable  # oracle bins use the answers


def test_parsing_parameters():
    parsed = parse_strategies("majority,early_majority:lead=2,k_max=4,verifier_threshold:tau=0.5")
    assert [s.key for s in parsed] == [
        "majority",
        "early_majority:lead=2.0,k_max=4".replace("2.0", "2"),
        "verifier_threshold:tau=0.5",
    ]
    assert (
        parsed[1].lead == 2 and parsed[1].k_max == 4 and parsed[1].short == "es-maj:lead=2,k_max=4"
    )
    assert parse_strategies("early_majority")[0].short == "es-maj"  # its defaults
    for spec, needle in [
        ("vote", "unknown strategy"),
        ("verifier_threshold", "set tau"),
        ("early_majority:lead=x", "lead must be float"),
        ("early_majority:depth=2", "no parameter 'depth'"),
        ("majority:lead", "name=value"),
        ("allocated:difficulty=psychic", "difficulty is one of"),
    ]:
        with pytest.raises(ArgumentError, match=needle):
            parse_strategies(spec)


def test_adaptive_strategies_in_the_simulator(tmp_path):
    """The simulator's columns for an adaptive strategy: its value and E[K] (``samples``), from
    the estimator, and the cost of E[K] samples."""
    run = make_run(tmp_path / "toy", toy_samples())
    sim = simulate([run], "majority,early_majority:lead=1", ks=[2, 4], bootstrap=0)
    t = sim.table.set_index(["strategy", "k"])
    pooled = run.samples()
    pooled = pooled[~pooled["greedy"]]
    groups = [g for _, g in pooled.groupby("problem_id", observed=True)]
    pool = Pool.from_problems(
        [g["correct"].tolist() for g in groups], [g["cluster"].tolist() for g in groups]
    )
    seq = early_majority_at_k(pool, np.array([2, 4]), lead=1)
    es = t.loc["early_majority:lead=1"]
    np.testing.assert_allclose(es["accuracy"], seq.values.mean(0), atol=1e-12)
    np.testing.assert_allclose(es["samples"], seq.samples.mean(0), atol=1e-12)
    assert (es["samples"] < [2, 4]).all() and (t.loc["majority"]["samples"] <= [2, 4]).all()
    lengths = np.array([(10 + 5 * np.arange(len(g))).mean() for g in groups])
    np.testing.assert_allclose(es["cost"], (2e9 * seq.samples * lengths[:, None]).mean(0))
    np.testing.assert_allclose(t.loc["majority"]["accuracy"], majority_at_k(pool, [2, 4]).mean(0))


def crossfit_by_hand(values, costs, budget, labels, seed):
    """The allocation chosen on the other half, applied problem by problem (loops)."""
    binner = _binner(None, labels, 0)
    ones = np.ones(len(labels), dtype=np.int64)
    half = _split(binner(ones > 0, ones)[0], np.random.default_rng(seed))
    codes = binner(ones > 0, ones)[0]
    groups = codes.max() + 1
    out = np.full(len(labels), np.nan)
    for h in (0, 1):
        choose = (half == h).astype(float)
        v = _sums(values, codes, choose, groups) / choose.sum()
        k = _sums(costs, codes, choose, groups) / choose.sum()
        present = np.flatnonzero(np.bincount(codes, weights=choose, minlength=groups) > 0)
        policy = _choose(v[present], k[present], np.array([budget]))
        for i in np.flatnonzero(half != h):
            g = list(present).index(codes[i])
            lo, hi, th = policy.lo[0, g], policy.hi[0, g], policy.theta[0, g]
            out[i] = (1 - th) * values[i, lo] + th * values[i, hi]
    return out


def test_crossfit_policy_matches_a_problem_by_problem_computation():
    rng = np.random.default_rng(7)
    values = rng.uniform(size=(40, 6))
    costs = np.tile(np.arange(1.0, 7.0), (40, 1))
    labels = np.repeat([1, 2, 3, 4], 10)
    for budget in (1.0, 2.5, 4.0):
        value, cost = crossfit_policy(values, costs, [budget], labels=labels, seed=3)
        want = crossfit_by_hand(values, costs, budget, labels, 3)
        np.testing.assert_allclose(value[:, 0], want, atol=1e-12)
        assert np.all(cost[:, 0] <= 6)


def test_identical_bins_allocate_like_uniform():
    """When every bin is the same population, the allocation spends like the best uniform mix
    and is worth the same on average (per problem it may mix in another bin)."""
    rng = np.random.default_rng(1)
    base = rng.uniform(size=(1, 5)).cumsum(axis=1) / 5
    values = np.tile(base, (60, 1))
    costs = np.tile(np.arange(1.0, 6.0), (60, 1))
    value, cost = crossfit_policy(values, costs, [2.0, 3.5], labels=np.arange(60) % 3, seed=0)
    uniform, _ = crossfit_policy(values, costs, [2.0, 3.5], labels=np.zeros(60), seed=0)
    np.testing.assert_allclose(value.mean(0), uniform.mean(0), atol=1e-12)
    np.testing.assert_allclose(cost.mean(0), [2.0, 3.5])


def test_allocated_strategy_in_simulate_and_fit(tmp_path):
    run = make_run(tmp_path / "toy", toy_samples() + toy_samples_more())
    sim = simulate([run], "allocated:difficulty=level,bins=2,allocated", ks=[1, 2, 4], bootstrap=20)
    t = sim.table.set_index(["strategy", "k"])
    assert t.loc[("allocated", 1), "accuracy"] == pytest.approx(
        simulate([run], "majority", ks=[1], bootstrap=0).table["accuracy"].iloc[0]
    )  # one sample each: every configuration is the same draw
    assert (t["samples"] <= t.index.get_level_values("k") + 1e-9).all()
    assert (
        t.loc[("allocated", 4), "deployable"] is np.False_
        or not t.loc[("allocated", 4), "deployable"]
    )
    report = fit_runs([run], strategies="majority,allocated:difficulty=level", bootstrap=20)
    ((curve, allocation),) = report.allocations
    assert curve.strategy == "allocated:difficulty=level"
    assert allocation.n_boot == 20 and allocation.gain_ci.shape == (len(curve.k), 2)


def toy_samples_more():
    """A fourth problem (d, level 1 by the toy's level cycle) so both halves hold each level."""
    return [
        {"problem_id": "d", "sample_idx": i, "answer": a, "cluster": a, "correct": c,
         "reward": r, "completion_tokens": 10 + 5 * i, "prompt_tokens": 20}
        for i, (a, c, r) in enumerate([("4", True, 0.5), ("3", False, 0.6), ("4", True, 0.2),
                                       ("9", False, 0.1), ("4", True, 0.9), ("3", False, 0.3)])
    ]  # fmt: skip


def test_split_first_equals_pools_of_the_cut_lists():
    """Brute force: the probes and the rest are the pools of each problem's first m samples
    and of the others, clusters renumbered by first appearance."""
    rng = np.random.default_rng(4)
    for _ in range(100):
        m = int(rng.integers(1, 3))
        sizes = rng.integers(m + 1, 9, size=rng.integers(1, 5))
        correct = [rng.integers(0, 2, n).astype(bool).tolist() for n in sizes]
        clusters = [[None if rng.random() < 0.2 else int(rng.integers(4)) for _ in range(n)]
                    for n in sizes]  # fmt: skip
        rewards = [rng.random(n).tolist() for n in sizes]
        head, rest = Pool.from_problems(correct, clusters, rewards).split_first(m)
        for got, cut in ((head, slice(None, m)), (rest, slice(m, None))):
            want = Pool.from_problems(*[[x[cut] for x in lists]
                                        for lists in (correct, clusters, rewards)])  # fmt: skip
            for name in ("offsets", "correct", "cluster", "reward"):
                np.testing.assert_array_equal(getattr(got, name), getattr(want, name))


def test_reward_difficulty_bins_by_held_out_probes_and_charges_them(tmp_path):
    """difficulty=reward: bins are quantiles of the first sample's reward; the configurations
    are replayed on the other samples; every configuration draws and scores one more sample."""
    toy = {pid: [(s["cluster"], s["correct"], s["reward"]) for s in rows]
           for pid, rows in _by_problem(toy_samples() + toy_samples_more()).items()}  # fmt: skip
    lists = [[[x[j] for x in toy[pid]] for pid in sorted(toy)] for j in range(3)]
    pool = Pool.from_problems(lists[1], lists[0], lists[2])
    greedy = np.full(pool.n_problems, np.nan)
    (strategy,) = parse_strategies(["allocated:difficulty=reward,bins=2"])
    assert strategy.deployable and strategy.short == "alloc-rwd:bins=2"
    ks = np.array([2, 4])
    got = strategy.replay(Cache(pool, greedy, seed=5), ks)
    rest = Pool.from_problems(*[[x[1:] for x in lists[j]] for j in (1, 0, 2)])
    values, samples, scored, _ = strategy.configurations(Cache(rest, greedy, seed=5), ks)
    probe = np.array([x[0] for x in lists[2]])
    want = crossfit_policy(values, samples + 1, ks.astype(float), score=probe, n_bins=2, seed=5,
                           extra=[scored + 1])  # fmt: skip
    for g, w in zip((got.values, got.samples, got.scored), want, strict=True):
        np.testing.assert_allclose(g, w, atol=1e-12)

    run = make_run(tmp_path / "toy", toy_samples() + toy_samples_more())
    sim = simulate([run], "allocated:difficulty=reward,bins=2", ks=[1, 2, 4], bootstrap=20)
    t = sim.table.set_index("k")
    assert np.isnan(t.loc[1, "accuracy"])  # one sample cannot pay for the probe and an answer
    assert any("cannot spend k = 1 (" in n for n in sim.notices)
    assert (t.loc[[2, 4], "samples"] <= [2 + 1e-9, 4 + 1e-9]).all() and t["deployable"].all()
    with pytest.raises(ScalingError, match="probe=6"):
        strategy.__class__(difficulty="reward", probe=6).replay(Cache(pool, greedy), ks)


def _by_problem(rows):
    out: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda r: (r["problem_id"], r["sample_idx"])):
        if not row.get("greedy"):
            out.setdefault(row["problem_id"], []).append(row)
    return out
