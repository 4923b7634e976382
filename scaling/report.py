"""From runs to laws, frontier and compute-optimal size: ``fit_runs`` and its ``FitReport``.

``fit_runs(runs)`` groups the runs by problem set (a data set) and replays them with the
simulator at the design budgets k (``scaling.curves``), one curve per configuration; fits,
chooses and backtests a law per curve (``scaling.fitting``); picks a grid of budgets per data
set (in its cost unit; in samples per problem where the cost is unknown) and replays every
sampling configuration at the k each budget affords, so the frontier is exact wherever the
samples reach (``scaling.frontier``); ranks the deployable configurations at each budget with
the oracle coverage as a ceiling; and fits the compute-optimal size of each model family
(``scaling.compute_optimal``). Every interval comes from one paired bootstrap over problems
carried through replay, fit, frontier and optimum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fit import Allocation, Claim, allocate
from fit.results import percentile_interval
from scaling.compute_optimal import ComputeOptimal, compute_optimal, joint_data, joint_groups
from scaling.cost_comparison import CostComparison, compare_costs
from scaling.costs import CostModel, parse_costs
from scaling.curves import Curve, build_curves, design_ks, search_configurations
from scaling.defaults import BOOTSTRAP
from scaling.errors import ArgumentError
from scaling.fit_cache import FitCache, as_cache
from scaling.fitting import PRELOAD, CurveFit, check_law, fit_curves
from scaling.frontier import (
    FRONTIER_COLUMNS,
    Options,
    check_budgets,
    claims_at,
    default_grid,
    frontier_table,
    options_at,
    pareto_points,
    replay_ks,
)
from scaling.simulate import RunData, load_runs, run_labels, simulate
from scaling.store import Run
from scaling.strategies import Strategy, default_strategies, parse_strategies
from scaling.workers import warm


@dataclass
class FitReport:
    """What ``scaling fit`` computes; ``scaling.explorer.explorer_frames(runs, report=...)``
    renders it. ``bootstrap`` is the number of paired replicates every interval rests on."""

    table: pd.DataFrame  # the simulator's rows, with ``dataset`` and ``design`` columns
    curves: list[Curve]
    fits: list[CurveFit]
    options: dict[str, Options]
    frontier: pd.DataFrame  # FRONTIER_COLUMNS
    pareto: pd.DataFrame
    optimal: list[ComputeOptimal]
    claims: list[Claim]
    allocations: list[tuple[Curve, Allocation]]  # each allocated curve's gain over uniform
    law: str
    cost: str
    units: dict[str, str]  # per data set: the budget unit
    include_oracle: bool
    bootstrap: int
    level: float
    notes: list[str]  # what the fit assumed or skipped
    notices: list[str]  # the simulator's notices
    datasets: dict[str, dict[str, Any]]  # per data set: title, provenance, n_problems
    # the same fit under each further cost model of ``fit_runs(cost="a,b")``, compared
    comparisons: list[CostComparison] = field(default_factory=list)

    def laws_table(self) -> pd.DataFrame:
        """One row per (curve, family) fitted: parameters, intervals, AIC, chosen, backtest."""
        rows = []
        for c, f in zip(self.curves, self.fits, strict=True):
            laws: dict[str, Any] = dict(f.fits)
            if f.beta is not None:
                laws["beta"] = f.beta
            for name, law in laws.items():
                bt = (
                    f.beta_backtest
                    if name == "beta"
                    else (f.backtest if name == f.chosen else None)
                )
                rows.append(
                    {
                        "dataset": c.dataset,
                        "run": c.run,
                        "model": c.model,
                        "strategy": c.strategy,
                        "family": name,
                        "chosen": name == f.chosen,
                        "params": {k: float(v) for k, v in law.params.items()},
                        "ci": {k: (float(lo), float(hi)) for k, (lo, hi) in law.ci.iterrows()},
                        "aic": float(law.aic),
                        "n_obs": law.n_obs,
                        "n_boot": law.n_boot,
                        "backtest_cut": np.nan if bt is None else bt.cut,
                        "backtest_mae": np.nan if bt is None else bt.mae,
                        "backtest_max": np.nan if bt is None else bt.max_error,
                    }
                )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The fitted laws as JSON: per curve every family (params, intervals, AIC), which one
        was chosen and why, the backtest; the compute-optimal sizes; the claims."""
        curves = []
        for c, f in zip(self.curves, self.fits, strict=True):
            laws = {name: law.to_dict() for name, law in f.fits.items()}
            if f.beta is not None:
                laws["beta"] = f.beta.to_dict()
            curves.append(
                {
                    "dataset": c.dataset,
                    "run": c.run,
                    "model": c.model,
                    "params": c.params,
                    "strategy": c.strategy,
                    "deployable": c.deployable,
                    "x": "k (samples per problem)",
                    "y": "error = 1 - accuracy",
                    "cost": {"c0": c.cost0, "c1": c.cost1, "unit": self.units[c.dataset]},
                    "chosen": f.chosen or None,
                    "reason": f.reason,
                    "laws": laws,
                    "backtest": None if f.backtest is None else f.backtest.to_dict(),
                    "beta_backtest": None if f.beta_backtest is None else f.beta_backtest.to_dict(),
                }
            )
        return jsonable(
            {
                "law": self.law,
                "cost": self.cost,
                "units": self.units,
                "bootstrap": self.bootstrap,
                "level": self.level,
                "include_oracle": self.include_oracle,
                "curves": curves,
                "optimal_size": [o.to_dict() for o in self.optimal],
                "claims": [c.to_dict() for c in self.claims],
                "allocations": [
                    {"dataset": c.dataset, "run": c.run, "strategy": c.strategy}
                    | {"gain": a.to_frame().to_dict(orient="records")}
                    for c, a in self.allocations
                ],
                "pareto": self.pareto.to_dict(orient="records"),
                "notes": self.notes,
                "simulator_notices": self.notices,
                "cost_comparisons": [c.to_dict() for c in self.comparisons],
            }
        )

    def curve_frame(self, points: int = 60) -> pd.DataFrame:
        """Fitted curves sampled on a log grid of k: dataset, run, strategy, k, samples, cost,
        pred, lo, hi, extrapolated. A sampling curve runs to 4x its design k (samples = k, cost
        on its cost line); an adaptive one stops at its largest replayed k (it draws E[K] <= k,
        so samples and cost are interpolated between its replayed points)."""
        frames = []
        for c, f in zip(self.curves, self.fits, strict=True):
            if f.law is None:
                continue
            top = c.k.max() if c.adaptive else 4 * c.k.max()
            k = np.unique(np.round(np.geomspace(1, top, points)))
            acc, draws = f.accuracy(k)
            lo, hi = percentile_interval(draws, self.level)
            design = c.design
            if c.adaptive:
                samples = np.interp(k, c.k, design["samples"].to_numpy(float))
                cost = np.interp(k, c.k, design["cost"].to_numpy(float))
            else:
                samples, cost = k, c.cost_at(k)
            frames.append(
                pd.DataFrame(
                    {
                        "dataset": c.dataset,
                        "run": c.run,
                        "strategy": c.strategy,
                        "k": k,
                        "samples": samples,
                        "cost": cost,
                        "pred": acc,
                        "lo": lo,
                        "hi": hi,
                        "extrapolated": (k < c.k.min()) | (k > c.k.max()),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars become Python numbers, NaN and infinities None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def fit_runs(
    runs: list[Run],
    *,
    strategies: str | Sequence[str | Strategy] | None = None,
    include_oracle: bool = False,
    budgets: Sequence[float] | np.ndarray | None = None,
    law: str = "auto",
    compare: list[tuple[tuple[str, str], tuple[str, str]]] | None = None,
    cost: str | CostModel | Sequence[str | CostModel] = "paper",
    bootstrap: int = BOOTSTRAP,
    seed: int = 0,
    level: float = 0.95,
    delta: float = 1e-3,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    cache: FitCache | str | Path | None = None,
) -> FitReport:
    """Replay ``runs``, fit laws, find the frontier and the compute-optimal size.

    ``strategies``: as ``simulate`` (default: every parameter-free one); ``include_oracle``:
    rank pass@k with the deployable strategies (else it is the ceiling); ``budgets``: costs per
    problem in the (first) cost model's unit (default per data set: ``frontier.default_grid``);
    ``law``: a family name, "beta" or "auto"; ``compare``: claims ((model, strategy), (model,
    strategy)); ``cost``: a cost model of ``scaling.costs``, or several (``"paper,kinetics"``):
    the report is under the first, and ``comparisons`` compares it with the same fit under each
    other one, on its own default budget grid (``scaling.cost_comparison``); ``progress``: a
    callable taking a status line; ``workers``: processes that fit the curve families side by
    side, started in the background when the fit begins (above 1, a script calling this needs
    the ``if __name__ == "__main__":`` guard that Python's process pools ask of their main
    module); ``cache``: a folder of fitted laws (``scaling.fit_cache``): a law fitted before to
    the same data with the same settings is read back instead of solved again (the same
    numbers, to the bit), new ones are kept there; None: every law is solved, nothing kept.
    """
    check_law(law)
    model, *others = parse_costs(cost)
    wanted = parse_strategies(strategies) or default_strategies()
    if bootstrap < 2:
        raise ArgumentError("bootstrap", bootstrap, "need at least 2 replicates for intervals")
    if seed < 0:
        raise ArgumentError("seed", seed, "must be a non-negative integer")
    if not (np.isfinite(delta) and delta > 0):
        raise ArgumentError("delta", delta, "the Huber delta must be a positive number")
    if not 0 < level < 1:
        raise ArgumentError("level", level, "the interval level must be between 0 and 1")
    if workers < 1:
        raise ArgumentError("workers", workers, "must be 1 (this process) or more")
    grid = None if budgets is None else check_budgets(np.asarray(budgets, dtype=float))
    cache = as_cache(cache)
    warm(workers, PRELOAD)
    groups: dict[str, list[Run]] = {}
    for r in runs:
        groups.setdefault(r.meta.problem_set, []).append(r)
    notes: list[str] = []
    notices: dict[str, list[str]] = {ds: [] for ds in groups}
    searched = {ds: search_configurations(group, notes) for ds, group in groups.items()}
    options = dict(strategies=wanted, bootstrap=bootstrap, seed=seed, cost=model)
    loaded = {ds: load_runs(group, seed=seed) for ds, group in groups.items()}

    def replay(ds: str, ks: Any, design: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
        sim = simulate(loaded[ds], ks=ks, **options)
        if design:
            notices[ds].extend(sim.notices)
        names = {str(v): searched[ds].get(str(v), (str(v),))[0] for v in sim.table["run"].unique()}
        table = sim.table.assign(
            dataset=ds, design=design, run=sim.table["run"].astype(str).map(names)
        )
        reps = sim.replicates.assign(dataset=ds, run=sim.replicates["run"].astype(str).map(names))
        return table, reps

    replayed = {ds: replay(ds, design_ks(group), True) for ds, group in groups.items()}
    units = {}
    for ds, (table, _) in replayed.items():
        units[ds] = model.unit
        if not np.isfinite(table["cost"]).any():  # no model size or tokens: budgets are samples
            units[ds] = "samples"
            table["cost"], table["cost_unit"] = table["samples"], "samples"
            why = next(
                (n.split("cost unknown: ")[1] for n in notices[ds] if "cost unknown: " in n),
                "no configuration has a cost",
            )
            notes.append(f"{ds}: budgets in samples per problem; {why.removeprefix('run.json: ')}")
    if progress is not None:
        progress("simulated")
    by_name = {
        (ds, label): r
        for ds, group in groups.items()
        for r, label in zip(group, run_labels(group), strict=True)
    }
    methods = {label: m for found in searched.values() for label, m in found.values()}
    table = pd.concat([t for t, _ in replayed.values()], ignore_index=True)
    reps = pd.concat([r for _, r in replayed.values()], ignore_index=True)
    curves = build_curves(table, reps, methods)
    joint = {  # compute_optimal's groups, whose joint laws are fitted beside the curves' refits
        (ds, key): group
        for ds in groups
        if units[ds] != "samples"
        for key, group in joint_groups(
            curves, [i for i, c in enumerate(curves) if c.dataset == ds]
        ).items()
    }
    fits, more = fit_curves(
        curves, by_name, law=law, delta=delta, bootstrap=bootstrap, seed=seed, notes=notes,
        level=level, progress=progress, workers=workers, cache=cache,
        alongside={"joint": [joint_data([curves[j] for j in g]) for g in joint.values()]}
        if joint
        else None,
    )  # fmt: skip
    joints = {
        (ds, key): (group, law)
        for ((ds, key), group), law in zip(joint.items(), more.get("joint", []), strict=True)
    }
    grids = {}
    for ds in groups:
        local = [c for c in curves if c.dataset == ds]
        costs = np.concatenate([c.points["cost"].to_numpy(float) for c in local] or [[]])
        if not np.isfinite(costs).any():
            continue
        grids[ds] = default_grid(costs, units[ds]) if grid is None else grid
        if grid is not None and units[ds] == "samples":
            grids[ds] = default_grid(costs, "samples")
            notes.append(
                f"{ds}: budgets in samples per problem; the budgets given are in {model.unit}"
            )
        more = replay_ks(local, grids[ds])
        if more:
            ks = sorted(set().union(*more.values()))
            extra, extra_reps = replay(ds, ks, False)
            if units[ds] == "samples":
                extra["cost"], extra["cost_unit"] = extra["samples"], "samples"
            table = pd.concat([table, extra], ignore_index=True)
            reps = pd.concat([reps, extra_reps], ignore_index=True)
    curves = build_curves(table, reps, methods)
    for c in curves:
        if not np.isfinite(c.cost1) and c.dataset in grids:
            notes.append(f"{c.label}: cost unknown; left out of the frontier")
    frontiers, paretos, optimal, per_dataset = [], [], [], {}
    for ds, budgets_ in grids.items():
        members = tuple(i for i, c in enumerate(curves) if c.dataset == ds)
        local = [curves[i] for i in members]
        opt = options_at(local, [fits[i] for i in members], budgets_, members)
        per_dataset[ds] = opt
        ranked = np.array([c.deployable or include_oracle for c in local], dtype=bool)
        if not ranked.any():
            notes.append(
                f"{ds}: no deployable strategy (coverage only): the oracle ceiling is shown; "
                "include_oracle ranks it"
            )
        frontiers.append(frontier_table(local, opt, ranked, ds, units[ds], level=level))
        paretos.append(pareto_points(local, ranked))
        optimal += compute_optimal(
            curves, opt, {key: j for (d, key), j in joints.items() if d == ds}, unit=units[ds],
            level=level,
        )  # fmt: skip
    claims = claims_at(curves, per_dataset, compare or [])
    allocations = [
        (c, allocation_gain(c, loaded[c.dataset], bootstrap=bootstrap, level=level))
        for c in curves
        if c.strategy.split(":")[0] == "allocated"
    ]
    if progress is not None:
        progress("frontier, optimal size and claims")
    info = {}
    for ds, group in groups.items():
        prov = group[0].meta.provenance
        info[ds] = {
            "title": ds,
            "provenance": prov.citation or prov.source or "",
            "n_problems": int(table.loc[table["dataset"] == ds, "n_problems"].max()),
            "unit": units[ds],
        }
    report = FitReport(
        table=table,
        curves=curves,
        fits=fits,
        options=per_dataset,
        frontier=pd.concat(frontiers, ignore_index=True)
        if frontiers
        else pd.DataFrame(columns=FRONTIER_COLUMNS),
        pareto=pd.concat(paretos, ignore_index=True) if paretos else pd.DataFrame(),
        optimal=optimal,
        claims=claims,
        allocations=allocations,
        law=law,
        cost=model.key,
        units=units,
        include_oracle=include_oracle,
        bootstrap=bootstrap,
        level=level,
        notes=notes,
        notices=[n for ds in groups for n in notices[ds]],
        datasets=info,
    )
    for other in others:
        alternative = fit_runs(
            runs, strategies=wanted, include_oracle=include_oracle, budgets=None, law=law,
            compare=compare, cost=other, bootstrap=bootstrap, seed=seed, level=level,
            delta=delta, progress=progress, workers=workers, cache=cache,
        )  # fmt: skip
        report.comparisons.append(compare_costs(report, alternative))
    return report


def allocation_gain(curve: Curve, runs: list[RunData], *, bootstrap: int, level: float):
    """The allocation of an ``allocated`` curve, with its cross-fitted gain over the best uniform
    configuration at the curve's design budgets (mean samples per problem) and its paired
    bootstrap interval through split, binning, choice and evaluation (``fit.allocate``)."""
    data = next(d for d in runs if d.run.run_id == curve.points["run_id"].iloc[0])
    (strategy,) = parse_strategies([curve.strategy])
    ks = curve.k.astype(np.int64)
    values, samples, _, names, bins = strategy.binned(data.cache, ks)
    return allocate(
        values,
        samples,
        ks.astype(float),
        n_bins=strategy.bins,
        configs=names,
        difficulty=f"{strategy.difficulty} (cross-fitted)",
        n_boot=bootstrap,
        level=level,
        seed=data.cache.seed,
        **bins,
    )
