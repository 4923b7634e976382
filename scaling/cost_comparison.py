"""Where two cost models disagree about the best configuration (``scaling fit --cost a,b``).

Budgets in two cost models' units (FLOPs and eFLOPs, GPU-seconds and dollars) cannot be matched
to each other, so the comparison never pairs budgets. It uses what both share: the same exact
replayed design points (configuration = run and strategy, at k samples per problem; the same
accuracy, priced twice) and unit-free quantities:

- **Pareto sets.** A point is on cost model a's Pareto set when no point costing at most as much
  under a is at least as accurate (and one of the two strictly better). ``points`` marks each
  point's membership under a and under b.
- **Cheapest configuration per accuracy target.** For an accuracy target t the point each cost
  model would choose is the cheapest one (under that model) whose accuracy is at least t (ties
  in cost: the more accurate). This is the frontier read the other way round, and it needs no
  budget matching. The targets are the accuracies of the points on either Pareto set (between
  two such targets neither choice changes). The choices are the ``same`` when they are one
  point, or cost the same under both models (tied points). ``b_excess`` is the factor
  by which a's choice costs more than b's under b (>= 1: what choosing by a wastes when b is what
  one pays) and ``a_excess`` the converse.
- **Compute-optimal size exponent.** N_opt = G C^a with a = beta / (alpha + h beta) depends on
  the cost model only through h, the exponent of the cost of a sample c(N) = g N^h across the
  family's sizes (rescaling a unit changes G, never a). Both reports fit the same joint law to
  the same replayed points, so the paired difference a_b - a_a is computed in every bootstrap
  replicate of that law with each model's h, and its percentile interval is reported.

The choices are point estimates (the bootstrap intervals of the accuracies are in the reports).
Configurations of ranked strategies are compared (deployable ones, and pass@k too under
``include_oracle``); a data set with none compares its oracle configurations, as its frontier
shows the oracle ceiling. Data sets without a cost under both models are left out, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fit import pareto_front
from fit.optimal import size_exponent
from fit.results import percentile_interval

if TYPE_CHECKING:
    from scaling.report import FitReport

KEY = ["dataset", "run", "strategy", "k"]
TIE = 1e-9  # relative: choices that cost the same under both models are the same choice
POINT_COLUMNS = [*KEY, "model", "accuracy", "cost_a", "cost_b", "pareto_a", "pareto_b"]
TARGET_COLUMNS = [
    "dataset",
    "target",
    "a_run",
    "a_model",
    "a_strategy",
    "a_k",
    "a_accuracy",
    "b_run",
    "b_model",
    "b_strategy",
    "b_k",
    "b_accuracy",
    "same",
    "b_excess",
    "a_excess",
]
EXPONENT_COLUMNS = [
    "dataset",
    "family",
    "strategy",
    "a_a",
    "a_a_low",
    "a_a_high",
    "h_a",
    "a_b",
    "a_b_low",
    "a_b_high",
    "h_b",
    "difference",
    "difference_low",
    "difference_high",
]


@dataclass
class CostComparison:
    """Two cost models on the same replayed points: ``costs`` and ``units`` (a, b), the
    report under b (``other``: its frontier, in b's unit, for a side-by-side view), ``points``
    (POINT_COLUMNS), ``targets`` (TARGET_COLUMNS) and ``exponents`` (EXPONENT_COLUMNS); see the
    module docstring. ``notes``: what was left out."""

    costs: tuple[str, str]
    units: dict[str, tuple[str, str]]  # per data set compared
    other: FitReport
    points: pd.DataFrame
    targets: pd.DataFrame
    exponents: pd.DataFrame
    notes: list[str]

    def summary(self, dataset: str) -> dict[str, Any]:
        """Counts for one data set: Pareto points under a, under b and under both; targets,
        those where the choices differ, and the largest excess factor each way."""
        pts = self.points[self.points["dataset"] == dataset]
        tgt = self.targets[self.targets["dataset"] == dataset]
        differ = tgt[~tgt["same"]]
        return {
            "pareto_a": int(pts["pareto_a"].sum()),
            "pareto_b": int(pts["pareto_b"].sum()),
            "pareto_both": int((pts["pareto_a"] & pts["pareto_b"]).sum()),
            "targets": len(tgt),
            "differ": len(differ),
            "max_b_excess": float(differ["b_excess"].max()) if len(differ) else 1.0,
            "max_a_excess": float(differ["a_excess"].max()) if len(differ) else 1.0,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "costs": list(self.costs),
            "units": {ds: list(u) for ds, u in self.units.items()},
            "summary": {ds: self.summary(ds) for ds in self.units},
            "targets": self.targets.to_dict(orient="records"),
            "exponents": self.exponents.to_dict(orient="records"),
            "notes": self.notes,
        }


def compare_costs(a: FitReport, b: FitReport) -> CostComparison:
    """Compare reports ``a`` and ``b`` of the same runs and options under two cost models."""
    notes: list[str] = []
    units, points, targets = {}, [], []
    for ds in a.datasets:
        unit_a, unit_b = a.units.get(ds, "samples"), b.units.get(ds, "samples")
        if "samples" in (unit_a, unit_b):
            lacking = a.cost if unit_a == "samples" else b.cost
            notes.append(f"{ds}: not compared (no cost under {lacking})")
            continue
        frame = _points(a, b, ds)
        if frame.empty:
            notes.append(f"{ds}: not compared (no configuration has a cost under both)")
            continue
        units[ds] = (unit_a, unit_b)
        points.append(frame)
        targets.append(_targets(frame, ds))
    return CostComparison(
        costs=(a.cost, b.cost),
        units=units,
        other=b,
        points=pd.concat(points, ignore_index=True) if points else _empty(POINT_COLUMNS),
        targets=pd.concat(targets, ignore_index=True) if targets else _empty(TARGET_COLUMNS),
        exponents=_exponents(a, b, set(units)),
        notes=notes,
    )


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


def _design(report: FitReport, dataset: str) -> pd.DataFrame:
    """The data set's design points of its ranked configurations (all, if none is ranked)."""
    curves = [c for c in report.curves if c.dataset == dataset and not c.method]
    ranked = [c for c in curves if c.deployable or report.include_oracle]
    frames = [
        c.design[["k", "cost", "accuracy"]].assign(
            dataset=dataset, run=c.run, model=c.model, strategy=c.strategy
        )
        for c in ranked or curves
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _points(a: FitReport, b: FitReport, dataset: str) -> pd.DataFrame:
    pa, pb = _design(a, dataset), _design(b, dataset)
    if pa.empty or pb.empty:
        return _empty(POINT_COLUMNS)
    both = pa.merge(pb[[*KEY, "cost"]], on=KEY, suffixes=("_a", "_b"))
    both = both[np.isfinite(both["cost_a"]) & np.isfinite(both["cost_b"])]
    both = both.reset_index(drop=True)
    for side in ("a", "b"):
        front = pareto_front(both, cost=f"cost_{side}")
        both[f"pareto_{side}"] = both.index.isin(front.index)
    return both[POINT_COLUMNS]


def _cheapest(frame: pd.DataFrame, cost: str, targets: np.ndarray) -> np.ndarray:
    """Per target, the row of the cheapest point whose accuracy reaches it (cost ties: the
    more accurate)."""
    order = np.lexsort((-frame["accuracy"].to_numpy(float), frame[cost].to_numpy(float)))
    acc = frame["accuracy"].to_numpy(float)[order]
    # the first point in cost order whose accuracy reaches the target
    reach = acc[None, :] >= targets[:, None] - 1e-12
    return order[np.argmax(reach, axis=1)]


def _targets(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    on_either = frame["pareto_a"] | frame["pareto_b"]
    targets = np.unique(frame.loc[on_either, "accuracy"].to_numpy(float))
    ia, ib = _cheapest(frame, "cost_a", targets), _cheapest(frame, "cost_b", targets)
    ra, rb = frame.iloc[ia].reset_index(drop=True), frame.iloc[ib].reset_index(drop=True)
    same = (ra[KEY].to_numpy() == rb[KEY].to_numpy()).all(axis=1)
    out = pd.DataFrame({"dataset": dataset, "target": targets})
    for side, rows in (("a", ra), ("b", rb)):
        for col in ("run", "model", "strategy", "k", "accuracy"):
            out[f"{side}_{col}"] = rows[col].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["b_excess"] = ra["cost_b"].to_numpy(float) / rb["cost_b"].to_numpy(float)
        out["a_excess"] = rb["cost_a"].to_numpy(float) / ra["cost_a"].to_numpy(float)
    tied = (out["b_excess"] <= 1 + TIE) & (out["a_excess"] <= 1 + TIE)
    out["same"] = same | tied.to_numpy()
    return out[TARGET_COLUMNS]


def _exponents(a: FitReport, b: FitReport, datasets: set[str]) -> pd.DataFrame:
    """N_opt's exponent under each model, and their paired difference."""
    others = {(o.dataset, o.family, o.strategy): o for o in b.optimal}
    rows = []
    for oa in a.optimal:
        ob = others.get((oa.dataset, oa.family, oa.strategy))
        if ob is None or oa.dataset not in datasets:
            continue
        theta = oa.joint.boot_params.to_numpy(float)
        alpha, beta = theta[:, 2], theta[:, 4]
        with np.errstate(all="ignore"):
            diff = size_exponent(alpha, beta, ob.law.h) - size_exponent(alpha, beta, oa.law.h)
            point = float(ob.law.params["a"] - oa.law.params["a"])
        lo, hi = percentile_interval(diff[np.isfinite(diff)], a.level)
        rows.append(
            {
                "dataset": oa.dataset,
                "family": oa.family,
                "strategy": oa.strategy,
                "a_a": float(oa.law.params["a"]),
                "a_a_low": float(oa.law.ci.loc["a"].iloc[0]),
                "a_a_high": float(oa.law.ci.loc["a"].iloc[1]),
                "h_a": oa.law.h,
                "a_b": float(ob.law.params["a"]),
                "a_b_low": float(ob.law.ci.loc["a"].iloc[0]),
                "a_b_high": float(ob.law.ci.loc["a"].iloc[1]),
                "h_b": ob.law.h,
                "difference": point,
                "difference_low": float(lo),
                "difference_high": float(hi),
            }
        )
    return pd.DataFrame(rows, columns=EXPONENT_COLUMNS)
