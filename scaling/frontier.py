"""The compute-optimal frontier: what each configuration offers at a budget, and the best.

At a budget C (cost per problem, in the data set's cost unit) a configuration offers its most
accurate option that costs at most C:

- exact: a replayed point (the simulator's expectation over all k-subsets, with its paired
  bootstrap interval); sampling configurations are replayed at the largest k each budget
  affords, so within their samples every option is exact;
- interpolated: for a configuration that cannot be replayed at every k (tree search widths,
  adaptive strategies), its fitted law at the affordable k between replayed ones;
- extrapolated: its law at an affordable k beyond the samples it has.

A law's value is offered only where it beats the configuration's best affordable exact point.
Deployable strategies are ranked (``include_oracle`` adds pass@k, which picks the correct
sample with the reference answer); the best oracle option is reported beside them as a ceiling.
Ties (options within 1e-9, e.g. every strategy at k = 1) have margin 0 and share P(best).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fit import Claim, beats_everywhere, budget_grid, pareto_front, select_best
from scaling.curves import Curve
from scaling.errors import ArgumentError, ScalingError
from scaling.fitting import CurveFit

MAX_BUDGETS = 10_000  # budgets on one grid
FRONTIER_COLUMNS = [
    "dataset",
    "budget",
    "budget_unit",
    "model",
    "run",
    "strategy",
    "k",
    "cost",
    "accuracy",
    "ci_low",
    "ci_high",
    "source",
    "runner_up",
    "margin",
    "margin_low",
    "margin_high",
    "p_best",
    "ceiling",
    "ceiling_low",
    "ceiling_high",
    "ceiling_config",
    "ceiling_source",
]


@dataclass(frozen=True)
class Options:
    """What each curve offers at each budget, arrays (budgets, curves): the k it runs at, its
    cost, accuracy and where the value comes from ("exact", "interpolated", "extrapolated";
    "" where nothing is affordable), and its bootstrap ``draws`` (budgets, curves, replicates),
    paired across the curves of a data set."""

    budgets: np.ndarray
    members: tuple[int, ...]  # the index of each column's curve in the report's curves
    k: np.ndarray
    cost: np.ndarray
    accuracy: np.ndarray
    source: np.ndarray
    draws: np.ndarray

    def column(self, curve: int) -> int:
        """The column of the report's curve ``curve``."""
        return self.members.index(curve)


def options_at(
    curves: list[Curve], fits: list[CurveFit], budgets: np.ndarray, members: tuple[int, ...]
) -> Options:
    """Each curve's best affordable option at each budget (see the module docstring);
    ``members`` are the curves' indices in the report."""
    nb, nc = len(budgets), len(curves)
    reps = max((c.draws.shape[0] for c in curves), default=0)
    k = np.full((nb, nc), np.nan)
    cost = np.full((nb, nc), np.nan)
    acc = np.full((nb, nc), np.nan)
    source = np.full((nb, nc), "", dtype=object)
    draws = np.full((nb, nc, reps), np.nan)
    for j, (c, f) in enumerate(zip(curves, fits, strict=True)):
        pts = c.points
        pk, pc_, pa = (pts[name].to_numpy(float) for name in ("k", "cost", "accuracy"))
        order = np.lexsort((pc_, -pa))  # most accurate first, then cheapest
        k_aff = c.k_at(budgets) if np.isfinite(c.cost1) or c.adaptive else np.zeros(nb)
        for b, budget in enumerate(budgets):
            affordable = order[pc_[order] <= budget * (1 + 1e-12)]
            if affordable.size:
                i = affordable[0]
                k[b, j], cost[b, j], acc[b, j], source[b, j] = pk[i], pc_[i], pa[i], "exact"
                draws[b, j, : c.draws.shape[0]] = c.draws[:, i]
            ka = k_aff[b]
            if f.law is None or ka < 1 or ka in pk or (c.adaptive and ka > pk.max()):
                continue
            value, spread = f.accuracy(np.array([ka]))
            if affordable.size and value[0] <= acc[b, j]:
                continue
            k[b, j], cost[b, j], acc[b, j] = ka, c.cost_at(ka), value[0]
            source[b, j] = "extrapolated" if ka > pk.max() else "interpolated"
            draws[b, j] = np.nan
            draws[b, j, : spread.shape[0]] = spread[:, 0]
    return Options(np.asarray(budgets, dtype=float), members, k, cost, acc, source, draws)


def replay_ks(curves: list[Curve], budgets: np.ndarray) -> dict[tuple[str, str], set[int]]:
    """The k each replayable curve should be replayed at so that its options at ``budgets``
    are exact: the affordable k up to its largest design k, where not replayed yet; keyed by
    (data set, run)."""
    out: dict[tuple[str, str], set[int]] = {}
    for c in curves:
        if not c.replayable:
            continue
        have = set(c.points["k"].astype(int))
        ks = c.k_at(budgets)
        want = {int(v) for v in ks if 1 <= v <= c.k.max() and int(v) not in have}
        if want:
            out.setdefault((c.dataset, c.run), set()).update(want)
    return out


def frontier_table(
    curves: list[Curve],
    options: Options,
    ranked: np.ndarray,
    dataset: str,
    unit: str,
    *,
    level: float,
) -> pd.DataFrame:
    """Per budget: the best of the ``ranked`` curves (a mask over the data set's ``curves``),
    its runner-up and margin, P(best), and the best oracle option as the ceiling (with its
    interval)."""
    oracle = np.array([not c.deployable for c in curves], dtype=bool)
    sel = _select(options, ranked, level)
    top = _select(options, oracle, level)
    rows = []
    for b, budget in enumerate(options.budgets):
        j, r, ceiling = sel.best[b], sel.runner_up[b], top.best[b]
        if j < 0 and ceiling < 0:
            continue
        row = dict.fromkeys(FRONTIER_COLUMNS, np.nan) | {
            "dataset": dataset,
            "budget": float(budget),
            "budget_unit": unit,
            "model": "",
            "run": "",
            "strategy": "",
            "k": 0,
            "source": "",
            "runner_up": "",
            "ceiling_config": "",
            "ceiling_source": "",
        }
        if j >= 0:
            c = curves[j]
            row |= {
                "model": c.model,
                "run": c.run,
                "strategy": c.strategy,
                "k": _k(options.k[b, j]),
                "cost": options.cost[b, j],
                "accuracy": sel.accuracy[b],
                "ci_low": sel.ci_low[b],
                "ci_high": sel.ci_high[b],
                "source": options.source[b, j],
                "runner_up": "" if r < 0 else f"{curves[r].label} @ k={_k(options.k[b, r])}",
                "margin": sel.margin[b],
                "margin_low": sel.margin_low[b],
                "margin_high": sel.margin_high[b],
                "p_best": sel.p_best[b],
            }
        if ceiling >= 0:
            row["ceiling"] = top.accuracy[b]
            row["ceiling_low"], row["ceiling_high"] = top.ci_low[b], top.ci_high[b]
            row["ceiling_config"] = f"{curves[ceiling].label} @ k={_k(options.k[b, ceiling])}"
            row["ceiling_source"] = options.source[b, ceiling]
        rows.append(row)
    return pd.DataFrame(rows, columns=FRONTIER_COLUMNS)


def _select(options: Options, among: np.ndarray, level: float):
    """``select_best`` over the curves in ``among`` (mapped back to curve indices)."""
    idx = np.flatnonzero(among)
    sel = select_best(
        options.accuracy[:, idx], options.draws[:, idx], level, cost=options.cost[:, idx]
    )
    for name in ("best", "runner_up"):
        v = getattr(sel, name)
        setattr(sel, name, np.where(v >= 0, idx[np.maximum(v, 0)] if idx.size else -1, -1))
    return sel


def _k(value: float) -> int:
    return int(value) if np.isfinite(value) else 0


def pareto_points(curves: list[Curve], ranked: np.ndarray) -> pd.DataFrame:
    """The Pareto set of the ``ranked`` curves' design points (exact replays): no
    cheaper-or-equal point is at least as accurate."""
    frames = [
        c.design.assign(dataset=c.dataset, run=c.run, model=c.model, strategy=c.strategy)
        for c, keep in zip(curves, ranked, strict=True)
        if keep and np.isfinite(c.cost1)
    ]
    columns = ["dataset", "run", "model", "strategy", "k", "cost", "accuracy"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pareto_front(pd.concat(frames, ignore_index=True)[columns], cost="cost")


def default_grid(costs: np.ndarray, unit: str) -> np.ndarray:
    """Budgets when none are given: the decades (in samples: powers of two) from the cheapest
    observed option to one step past the dearest, so one row extrapolates; with fewer than
    three such decades, 1-3 steps (1, 3, 10, 30, ...)."""
    costs = costs[np.isfinite(costs) & (costs > 0)]
    if unit == "samples":
        top = int(costs.max())
        return np.array([1 << i for i in range(top.bit_length() + 1)], dtype=float)
    lo, hi = np.log10(costs.min()), np.log10(costs.max())
    grid = 10.0 ** np.arange(np.ceil(lo - 1e-9), np.floor(hi + 1e-9) + 2)
    if grid.size < 4:
        decades = 10.0 ** np.arange(np.floor(lo), np.ceil(hi) + 1)
        steps = np.concatenate([[d, 3 * d] for d in decades])
        grid = steps[steps >= costs.min() * (1 - 1e-9)]
        grid = grid[: np.searchsorted(grid, costs.max() * (1 + 1e-9)) + 1]
    return grid


def parse_budget_grid(spec: str, argument: str = "budgets") -> np.ndarray:
    """``START:STOP:COUNT`` (log-spaced, inclusive) or a comma list of budgets."""
    try:
        if ":" in spec:
            start, stop, count = spec.split(":")
            if int(count) > MAX_BUDGETS:
                raise ArgumentError(argument, spec, f"at most {MAX_BUDGETS:,} budgets per grid")
            values = budget_grid(float(start), float(stop), int(count))
        else:
            values = np.array([float(v) for v in spec.split(",") if v.strip()])
    except ValueError as e:
        raise ArgumentError(
            argument,
            spec,
            f"{e}; give START:STOP:COUNT (e.g. 1e12:1e16:9) or a comma list of positive budgets",
        ) from None
    return check_budgets(values, argument)


def check_budgets(values: np.ndarray, argument: str = "budgets") -> np.ndarray:
    """Sorted positive finite budgets, at most ``MAX_BUDGETS`` of them."""
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0 or np.any(~np.isfinite(values)) or np.any(values <= 0):
        raise ArgumentError(argument, values.tolist(), "budgets must be positive numbers")
    if values.size > MAX_BUDGETS:
        raise ArgumentError(argument, values.size, f"at most {MAX_BUDGETS:,} budgets per grid")
    return np.unique(values)


def parse_compare(spec: str) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """``A:S,B:T`` (several claims separated by ``;``): model A with strategy S vs B with T."""
    claims = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        sides = [s.strip() for s in part.split(",")]
        if len(sides) != 2 or any(":" not in s for s in sides):
            raise ArgumentError(
                "compare",
                part,
                "give MODEL_A:STRATEGY_A,MODEL_B:STRATEGY_B, e.g. pythia-1b:pass,pythia-12b:pass",
            )
        (a, s), (b, t) = (tuple(x.strip() for x in side.split(":", 1)) for side in sides)
        claims.append(((a, s), (b, t)))
    return claims


def claims_at(
    curves: list[Curve],
    options: dict[str, Options],
    compare: list[tuple[tuple[str, str], tuple[str, str]]],
) -> list[Claim]:
    """Judge each claim "A beats B at every budget of the grid that affords both"."""

    def find(model: str, strategy: str) -> int:
        hits = [i for i, c in enumerate(curves) if model in (c.model, c.run)]
        hits = [i for i in hits if curves[i].strategy == strategy]
        if not hits:
            known = sorted({f"{c.model}:{c.strategy}" for c in curves})
            raise ArgumentError(
                "compare",
                f"{model}:{strategy}",
                f"no run of that model with that strategy; choose from {', '.join(known)}",
            )
        return hits[0]

    out = []
    for (a, s), (b, t) in compare:
        ia, ib = find(a, s), find(b, t)
        ca, cb = curves[ia], curves[ib]
        if ca.dataset != cb.dataset:
            raise ScalingError(
                f"--compare {a}:{s},{b}:{t}: the runs answer different problem sets "
                f"({ca.dataset}, {cb.dataset}); compare runs of one data set"
            )
        opt = options[ca.dataset]
        ja, jb = opt.column(ia), opt.column(ib)
        acc_a, acc_b = opt.accuracy[:, ja], opt.accuracy[:, jb]
        both = np.isfinite(acc_a) & np.isfinite(acc_b)
        if not both.any():
            raise ScalingError(
                f"--compare {a}:{s},{b}:{t}: no budget of the grid affords both; widen "
                "--budget-grid"
            )
        out.append(
            beats_everywhere(
                f"{a}:{s}",
                f"{b}:{t}",
                opt.budgets[both],
                acc_a[both],
                acc_b[both],
                opt.draws[both, ja].T,
                opt.draws[both, jb].T,
            )
        )
    return out
