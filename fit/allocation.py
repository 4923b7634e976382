"""Compute-optimal allocation across problems (Snell et al. 2024): per difficulty bin, the
configuration (a strategy at a budget) that maximises mean accuracy at a mean cost budget, with
its cross-fitted gain over the best uniform configuration.

Problems i = 1..P, configurations c = 1..C with values V[i, c] (expected correctness) and costs
K[i, c] (expected cost, e.g. samples or FLOPs), bins b(i). A policy gives each bin a distribution
x_b over configurations; its mean accuracy is (1/P) sum_i sum_c x_b(i),c V[i, c] and its mean cost
the same with K. For a mean budget B it solves

    max  sum_b sum_c x_bc v_bc   s.t.  sum_b sum_c x_bc k_bc <= B,  x_b in the simplex,

with v_bc = (1/P) sum_{i in b} V[i, c] and k_bc likewise: the linear relaxation of the
multiple-choice knapsack, solved exactly by its convex hull (Sinha and Zoltners 1979). Per bin,
keep the configurations on the upper concave hull of (k_bc, v_bc) from the cheapest (best of the
cheapest) to the most accurate; start every bin at its cheapest; take the hull's segments in
order of decreasing slope dv/dk while the budget lasts; the segment the budget ends in is taken
in part. So the optimum mixes two adjacent hull configurations in at most one bin (a fraction
theta of that bin's problems, drawn at random, gets the dearer one), and its value is the upper
concave envelope, at B, of every deterministic per-bin choice.

Why the relaxation, not the integer knapsack on the grid: a deterministic policy can only spend
what the grid's sums allow, and mixing configurations across bins already interpolates between
grid points; against a uniform policy held to the grid that interpolation alone shows as a gain,
even when every bin is the same. Here both policies are the relaxation (the uniform one is the
same program with one bin: the concave hull of the mean curve), which a deployment realises by
randomising per problem; the gain is then the value of knowing the bins, and it is 0 when the
bins do not differ. On the problems it is chosen on, the allocation is never below the uniform
policy (the uniform mixture is feasible for it).

Cross-fitting: the problems are split in two halves (seeded, stratified by bin), the policies are
chosen on one half and evaluated on the other, and the halves swap; each problem is scored once,
by policies chosen without it. Score bins are quantiles of the score on the choosing half. On the
held-out half each bin's problems are averaged and weighted by the bin's share of the choosing
half (post-stratification), so that both policies spend exactly their budget there too when a
configuration costs the same on every problem: the gain is at equal cost. The gain's interval is
a paired percentile bootstrap over problems through the whole computation: resample problems,
split (copies of a problem stay in one half), bin, choose, evaluate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fit.results import percentile_interval


@dataclass(frozen=True)
class _Policy:
    """Per budget (rows) and bin (columns): configurations ``lo`` and ``hi`` and the share
    ``theta`` of the bin's problems given ``hi``; ``feasible`` per budget."""

    lo: np.ndarray
    hi: np.ndarray
    theta: np.ndarray
    feasible: np.ndarray


def _hull(cost: np.ndarray, value: np.ndarray) -> list[int]:
    """Configurations on the upper concave hull of (cost, value), from the cheapest (the most
    accurate of the cheapest; the first of exact ties) up to the most accurate, costs and values
    strictly increasing, slopes strictly decreasing."""
    order = np.lexsort((np.arange(len(cost)), -value, cost))
    chain: list[int] = []
    for c in order:
        if chain and value[c] <= value[chain[-1]]:
            continue  # no more accurate than a cheaper one
        while len(chain) >= 2:
            o, a = chain[-2], chain[-1]
            cross = (cost[a] - cost[o]) * (value[c] - value[o]) - (value[a] - value[o]) * (
                cost[c] - cost[o]
            )
            if cross < 0:
                break
            chain.pop()  # a lies on or below the segment o-c
        chain.append(int(c))
    return chain


def _choose(value: np.ndarray, cost: np.ndarray, budgets: np.ndarray) -> _Policy:
    """The relaxed knapsack's optimum for bins' mean values and costs (G, C) at each budget."""
    groups = value.shape[0]
    hulls = [_hull(cost[g], value[g]) for g in range(groups)]
    base = sum(cost[g, h[0]] for g, h in enumerate(hulls))
    seg_g = np.concatenate([np.full(len(h) - 1, g, dtype=np.int64) for g, h in enumerate(hulls)])
    start = np.concatenate([np.array(h[:-1], dtype=np.int64) for h in hulls])
    end = np.concatenate([np.array(h[1:], dtype=np.int64) for h in hulls])
    dk = cost[seg_g, end] - cost[seg_g, start]
    dv = value[seg_g, end] - value[seg_g, start]
    order = np.argsort(-dv / dk, kind="stable")
    seg_g, dk = seg_g[order], dk[order]
    spent = base + np.concatenate([[0.0], np.cumsum(dk)])  # after 0, 1, ... segments
    slack = 1e-12 * np.maximum(1.0, np.abs(budgets))
    feasible = budgets + slack >= base
    full = np.clip(np.searchsorted(spent, budgets + slack, side="right") - 1, 0, len(dk))
    steps = np.zeros((len(dk) + 1, groups), dtype=np.int64)  # segments of each bin among the first
    if len(dk):
        steps[1:] = np.cumsum(np.eye(groups, dtype=np.int64)[seg_g], axis=0)
    taken = steps[full]  # (budgets, groups)
    width = max(len(h) for h in hulls) + 1  # each hull repeats its last vertex to this width
    padded = np.array([h + [h[-1]] * (width - len(h)) for h in hulls], dtype=np.int64)
    cols = np.arange(groups)[None, :]
    lo = padded[cols, taken]
    hi = lo.copy()
    theta = np.zeros(lo.shape)
    part = (full < len(dk)) & feasible
    rows = np.flatnonzero(part)
    if len(rows):
        g = seg_g[full[rows]]
        share = (budgets[rows] - spent[full[rows]]) / dk[full[rows]]
        theta[rows, g] = np.clip(share, 0.0, 1.0)
        hi[rows, g] = padded[g, taken[rows, g] + 1]
    return _Policy(lo, hi, theta, feasible)


def _score(policy: _Policy, value: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums of value and cost of ``policy`` over bins' summed (G, C) tables, per budget; NaN where
    infeasible."""
    cols = np.arange(value.shape[0])[None, :]
    out = []
    for table in (value, cost):
        both = (1.0 - policy.theta) * table[cols, policy.lo] + policy.theta * table[cols, policy.hi]
        out.append(np.where(policy.feasible, both.sum(axis=1), np.nan))
    return out[0], out[1]


def _sums(table: np.ndarray, labels: np.ndarray, weight: np.ndarray, groups: int) -> np.ndarray:
    """(groups, C): sum over problems of weight * table, per bin label."""
    member = np.zeros((groups, len(labels)))
    member[labels, np.arange(len(labels))] = weight
    return member @ table


def _binner(score: np.ndarray | None, labels: np.ndarray | None, n_bins: int):
    """A function (mask, weight) -> (bin per problem, number of bins): fixed labels, or
    quantile bins of ``score`` with edges from the weighted problems under ``mask``."""
    if labels is not None:
        codes, uniques = pd.factorize(pd.Series(labels), sort=True)
        return lambda mask, weight: (codes, len(uniques))
    levels = np.arange(1, n_bins) / n_bins

    def bins(mask: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, int]:
        edges = np.quantile(np.repeat(score[mask], weight[mask].astype(np.int64)), levels)
        return np.searchsorted(edges, score, side="right"), n_bins

    return bins


def _split(strata: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Halves 0/1, balanced within each stratum: alternate along a random order per stratum."""
    order = np.lexsort((rng.random(len(strata)), strata))
    half = np.empty(len(strata), dtype=np.int64)
    half[order] = np.arange(len(strata)) % 2
    return half


def _crossfit(values, costs, budgets, weight, half, binner) -> dict[str, np.ndarray]:
    """Mean held-out value and cost of the allocated and the uniform policy, each chosen on the
    other half, and their in-sample values, per budget.

    A policy chosen on one half is scored on the other with each bin's held-out problems
    averaged and weighted by the bin's share of the choosing half (post-stratification): where a
    configuration costs the same on every problem, both policies then spend exactly their budget
    on the held-out half too, and the comparison is at equal cost. A bin with problems in only
    one half is left out of that fold (for both policies)."""
    keys = ("value", "cost", "uniform_value", "uniform_cost", "in_value", "in_uniform")
    totals = {key: np.zeros(len(budgets)) for key in keys}
    counted = {"out": 0.0, "in": 0.0}  # problems scored held out, and in sample
    for h in (0, 1):
        choose, held = (half == h) & (weight > 0), (half != h) & (weight > 0)
        if not (choose.any() and held.any()):
            return {key: np.full(len(budgets), np.nan) for key in keys}
        labels, groups = binner(choose, weight)
        chosen_in = np.bincount(labels, weights=weight * choose, minlength=groups)
        held_in = np.bincount(labels, weights=weight * held, minlength=groups)
        both = (chosen_in > 0) & (held_in > 0)
        if not both.any():
            return {key: np.full(len(budgets), np.nan) for key in keys}
        share = np.where(both, chosen_in, 0.0) / chosen_in[both].sum()
        tables = []
        for table in (values, costs):
            per_bin = _sums(table, labels, weight * choose, groups)
            mean_in = per_bin / np.maximum(chosen_in, 1)[:, None] * share[:, None]
            per_bin = _sums(table, labels, weight * held, groups)
            mean_out = per_bin / np.maximum(held_in, 1)[:, None] * share[:, None]
            tables.append((mean_in, mean_out, mean_in.sum(0, keepdims=True),
                           mean_out.sum(0, keepdims=True)))  # fmt: skip
        (v_in, v_out, v_in_all, v_out_all), (k_in, k_out, k_in_all, k_out_all) = tables
        alloc = _choose(v_in, k_in, budgets)
        uniform = _choose(v_in_all, k_in_all, budgets)
        n_held, n_choose = weight[held & both[labels]].sum(), weight[choose & both[labels]].sum()
        value, cost = _score(alloc, v_out, k_out)
        u_value, u_cost = _score(uniform, v_out_all, k_out_all)
        totals["value"] += value * n_held
        totals["cost"] += cost * n_held
        totals["uniform_value"] += u_value * n_held
        totals["uniform_cost"] += u_cost * n_held
        totals["in_value"] += _score(alloc, v_in, k_in)[0] * n_choose
        totals["in_uniform"] += _score(uniform, v_in_all, k_in_all)[0] * n_choose
        counted["out"] += n_held
        counted["in"] += n_choose
    return {
        key: value / counted["in" if key.startswith("in_") else "out"]
        for key, value in totals.items()
    }


@dataclass(frozen=True)
class Allocation:
    """Cross-fitted compute-optimal allocation across difficulty bins, built by ``allocate``.

    Per budget (mean cost per problem, the units of the costs): ``value`` and ``cost``, the mean
    accuracy and cost on held-out problems of the allocation chosen on the other half;
    ``uniform_value`` and ``uniform_cost``, the same for the best uniform configuration (or mix
    of two); ``gain = value - uniform_value`` with ``gain_ci`` (B, 2), and ``value_ci``,
    ``uniform_ci``, paired bootstrap percentile intervals; ``in_sample_value`` and
    ``in_sample_uniform`` score each policy on the half it was chosen on (optimistic, shown for
    contrast). ``policy`` is the allocation chosen on all problems (one row per budget, bin and
    configuration it uses, with its share of the bin), ``bins`` describes the bins.
    """

    budgets: np.ndarray
    value: np.ndarray
    cost: np.ndarray
    uniform_value: np.ndarray
    uniform_cost: np.ndarray
    gain: np.ndarray
    gain_ci: np.ndarray
    value_ci: np.ndarray
    uniform_ci: np.ndarray
    in_sample_value: np.ndarray
    in_sample_uniform: np.ndarray
    policy: pd.DataFrame
    bins: pd.DataFrame
    configs: list[str]
    difficulty: str
    n_problems: int
    n_boot: int
    level: float
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """One row per budget: the cross-fitted values, costs, gain and intervals."""
        return pd.DataFrame(
            {
                "budget": self.budgets,
                "value": self.value,
                "cost": self.cost,
                "uniform_value": self.uniform_value,
                "uniform_cost": self.uniform_cost,
                "gain": self.gain,
                "gain_low": self.gain_ci[:, 0],
                "gain_high": self.gain_ci[:, 1],
                "in_sample_value": self.in_sample_value,
                "in_sample_uniform": self.in_sample_uniform,
            }
        )

    def summary(self) -> str:
        pct = f"{100 * self.level:g}%"
        head = [
            f"compute-optimal allocation over {len(self.bins)} bins ({self.difficulty} difficulty),"
            f" {self.n_problems} problems, {len(self.configs)} configurations",
            "  cross-fitted: chosen on one half of the problems, evaluated on the other, swapped",
            f"  {pct} paired bootstrap over problems ({self.n_boot} replicates, seed {self.seed})",
            f"  {'budget':>10}{'allocated':>11}{'cost':>10}{'uniform':>10}{'cost':>10}"
            f"{'gain':>9}{pct + ' interval':>22}",
        ]
        rows = [
            f"  {b:>10.4g}{v:>11.4f}{k:>10.4g}{u:>10.4f}{uk:>10.4g}{g:>+9.4f}"
            f"{f'[{lo:+.4f}, {hi:+.4f}]':>22}"
            for b, v, k, u, uk, g, (lo, hi) in zip(
                self.budgets,
                self.value,
                self.cost,
                self.uniform_value,
                self.uniform_cost,
                self.gain,
                self.gain_ci,
                strict=True,
            )
        ]
        return "\n".join(head + rows)

    def __repr__(self) -> str:
        return (
            f"Allocation({len(self.budgets)} budgets, {len(self.bins)} bins, "
            f"{self.difficulty} difficulty, cross-fitted)"
        )


def allocate(
    values: Any,
    costs: Any,
    budgets: Any,
    *,
    score: Any = None,
    labels: Any = None,
    n_bins: int = 5,
    configs: Sequence[str] | None = None,
    difficulty: str = "given",
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Allocation:
    """Choose per difficulty bin the configuration (or a mix of two, in at most one bin) that
    maximises mean accuracy at each mean cost in ``budgets``; report its cross-fitted gain over
    the best uniform configuration, with a paired bootstrap interval.

    ``values`` and ``costs`` are (P, C): each problem's expected correctness and expected cost
    under each configuration (a strategy at a budget k). Bins are either ``labels`` (P,), any
    values, used as given (e.g. the problem's ``level`` column: predicted difficulty), or
    ``n_bins`` quantile bins of ``score`` (P,), edges from the choosing half: pass the run's own
    pass@1 over the whole cache for *oracle* difficulty (optimistic: it uses the answers), or a
    quantity known at test time, e.g. the mean reward of the first m samples, for *predicted*
    difficulty (then charge those m samples in ``costs``). ``difficulty`` names the bins' source
    in the summary. ``seed`` seeds the split and the bootstrap."""
    values = np.asarray(values, dtype=np.float64)
    costs = np.asarray(costs, dtype=np.float64)
    budgets = np.atleast_1d(np.asarray(budgets, dtype=np.float64))
    if values.ndim != 2 or values.shape != costs.shape or values.shape[0] < 2:
        raise ValueError("allocation: values and costs must be (problems, configurations), P >= 2")
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(costs))):
        raise ValueError("allocation: values and costs must be finite")
    if not np.all(np.isfinite(budgets)):
        raise ValueError("allocation: budgets must be finite")
    if (score is None) == (labels is None):
        raise ValueError("allocation: give exactly one of score (quantile bins) or labels")
    if n_bins < 1 or n_boot < 0 or not 0 < level < 1:
        raise ValueError("allocation: need n_bins >= 1, n_boot >= 0 and 0 < level < 1")
    n_problems, n_configs = values.shape
    configs = [str(c) for c in (configs if configs is not None else range(n_configs))]
    if len(configs) != n_configs:
        raise ValueError(f"allocation: {len(configs)} config names for {n_configs} configurations")
    if score is not None:
        score = np.asarray(score, dtype=np.float64)
        if score.shape != (n_problems,) or not np.all(np.isfinite(score)):
            raise ValueError("allocation: score must be one finite number per problem")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n_problems,) or pd.isna(labels).any():
            raise ValueError("allocation: labels must be one non-missing label per problem")
    binner = _binner(score, labels, n_bins)
    ones = np.ones(n_problems, dtype=np.int64)
    strata = binner(ones > 0, ones)[0]
    rng = np.random.default_rng(seed)
    point = _crossfit(values, costs, budgets, ones, _split(strata, rng), binner)
    draws = np.full((n_boot, 3, len(budgets)), np.nan)
    for r in range(n_boot):
        weight = rng.multinomial(n_problems, np.full(n_problems, 1.0 / n_problems))
        fold = _crossfit(values, costs, budgets, weight, _split(strata, rng), binner)
        draws[r] = fold["value"] - fold["uniform_value"], fold["value"], fold["uniform_value"]
    ci = percentile_interval(draws, level, axis=0)  # (2, 3, budgets)
    return Allocation(
        budgets=budgets,
        value=point["value"],
        cost=point["cost"],
        uniform_value=point["uniform_value"],
        uniform_cost=point["uniform_cost"],
        gain=point["value"] - point["uniform_value"],
        gain_ci=ci[:, 0].T,
        value_ci=ci[:, 1].T,
        uniform_ci=ci[:, 2].T,
        in_sample_value=point["in_value"],
        in_sample_uniform=point["in_uniform"],
        policy=_policy_frame(values, costs, budgets, strata, configs),
        bins=_bins_frame(strata, score, labels),
        configs=configs,
        difficulty=difficulty,
        n_problems=n_problems,
        n_boot=n_boot,
        level=level,
        seed=seed,
    )


def crossfit_policy(
    values: Any,
    costs: Any,
    budgets: Any,
    *,
    score: Any = None,
    labels: Any = None,
    n_bins: int = 5,
    seed: int = 0,
    extra: Sequence[Any] = (),
) -> list[np.ndarray]:
    """Each problem's expected value and cost (and each ``extra`` (P, C) table) under the
    allocation chosen on the other half of the problems, at every budget: arrays (P, B).

    The split and the bins are those of ``allocate`` (seeded, stratified; score bins are
    quantiles of the choosing half); the allocation is chosen on the choosing half's bin means
    (each bin weighted by its share of that half) and applied to each held-out problem by its
    bin, a mixed bin as the expectation over its two configurations. A held-out problem whose
    bin has no problem in the choosing half gets the uniform policy. NaN where a budget is below
    the cheapest policy. Plain means of these per-problem values estimate the allocation's
    accuracy and cost out of sample, and can be bootstrapped over problems with everything else
    (conditionally on the split)."""
    values = np.asarray(values, dtype=np.float64)
    tables = [values, np.asarray(costs, dtype=np.float64)] + [np.asarray(t, float) for t in extra]
    budgets = np.atleast_1d(np.asarray(budgets, dtype=np.float64))
    n_problems = values.shape[0]
    score = None if score is None else np.asarray(score, dtype=np.float64)
    binner = _binner(score, None if labels is None else np.asarray(labels), n_bins)
    ones = np.ones(n_problems, dtype=np.int64)
    half = _split(binner(ones > 0, ones)[0], np.random.default_rng(seed))
    out = [np.full((n_problems, len(budgets)), np.nan) for _ in tables]
    for h in (0, 1):
        choose, held = half == h, half != h
        if not (choose.any() and held.any()):
            continue
        labels_h, groups = binner(choose, ones)
        count = np.bincount(labels_h, weights=choose.astype(float), minlength=groups)
        present = np.flatnonzero(count > 0)
        means = [_sums(t, labels_h, choose.astype(float), groups)[present] / choose.sum()
                 for t in tables[:2]]  # fmt: skip
        policy = _choose(means[0], means[1], budgets)
        uniform = _choose(means[0].sum(0, keepdims=True), means[1].sum(0, keepdims=True), budgets)
        where = np.full(groups, -1)
        where[present] = np.arange(len(present))
        for i in np.flatnonzero(held):
            g = where[labels_h[i]]
            chosen, col = (policy, g) if g >= 0 else (uniform, 0)
            lo, hi, theta = chosen.lo[:, col], chosen.hi[:, col], chosen.theta[:, col]
            for table, result in zip(tables, out, strict=True):
                mixed = (1.0 - theta) * table[i, lo] + theta * table[i, hi]
                result[i] = np.where(chosen.feasible, mixed, np.nan)
    return out


def _policy_frame(values, costs, budgets, bins, configs) -> pd.DataFrame:
    """The allocation chosen on all problems: per budget, bin and configuration used, its share
    of the bin's problems."""
    groups = int(bins.max()) + 1
    present = np.flatnonzero(np.bincount(bins, minlength=groups) > 0)
    ones = np.ones(len(bins))
    n = len(bins)
    policy = _choose(
        _sums(values, bins, ones, groups)[present] / n,
        _sums(costs, bins, ones, groups)[present] / n,
        budgets,
    )
    rows = []
    for b, budget in enumerate(budgets):
        if not policy.feasible[b]:
            continue
        for g, label in enumerate(present):
            parts = [(policy.lo[b, g], 1.0 - policy.theta[b, g])]
            if policy.theta[b, g] > 0:
                parts.append((policy.hi[b, g], policy.theta[b, g]))
            for config, share in parts:
                rows.append((budget, int(label), configs[config], share))
    return pd.DataFrame(rows, columns=["budget", "bin", "config", "share"])


def _bins_frame(bins, score, labels) -> pd.DataFrame:
    """Per bin (on all problems): its label or score range, and its number of problems."""
    frame = pd.DataFrame({"bin": bins})
    if labels is not None:
        frame["label"] = labels
        out = frame.groupby("bin").agg(label=("label", "first"), problems=("bin", "size"))
    else:
        frame["score"] = score
        out = frame.groupby("bin").agg(
            score_low=("score", "min"), score_high=("score", "max"), problems=("bin", "size")
        )
    return out.reset_index()
