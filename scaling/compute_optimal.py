"""The compute-optimal model size of each model family, strategy and data set.

For a family of three or more sizes replayed with one sampling strategy, the joint law
err(N, k) = E + A N^-alpha + B k^-beta is fitted to every design point of every size (the same
replayed k whatever budgets are asked for), the cost of a sample c(N) = g N^h to the sizes'
measured costs, and the headline N_opt(C) = G C^a follows in closed form (``fit.optimal``),
with percentile intervals over the paired problem bootstrap: each replicate refits the joint
law to the replayed accuracies of the same resampled problems. How well the law describes the
points is stated beside it (``misfit``: the root-mean-square of the residuals in units of the
points' standard errors; above ``MISFIT`` the law, and so its N_opt, is flagged unreliable).

The diagnostic needs no law: at a budget C each size offers its most accurate exact design
point costing at most C, and the best size wins; over the budgets every size can afford without
going beyond its samples, the least-squares slope of log10 N_best on log10 C (on ``SLOPE_GRID``
log-spaced budgets, a stand-in for the continuum, so it does not depend on any grid asked for),
with its percentile interval over the same bootstrap replicates. Per budget of the report's
grid, ``table`` lists the best size among the options there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fit import Dataset, LawFit, OptimalSize, best_size_slope, cost_law, fit_optimal_size
from fit.results import percentile_interval
from scaling.curves import Curve, model_family
from scaling.fitting import curve_data, fittable
from scaling.frontier import Options

MISFIT = 3.0  # a law whose residuals exceed this many standard errors (RMS) is flagged
SLOPE_GRID = 256  # budgets the diagnostic slope is computed on


@dataclass(frozen=True)
class ComputeOptimal:
    """N_opt(C) of one model family with one strategy in one data set: the ``joint`` law, the
    headline ``law`` N_opt = G C^a, the joint law's root-mean-square error in accuracy over its
    points (``fit_error``) and in standard errors (``misfit``), and the diagnostic: the slope
    of log N_best on log C over ``slope_range`` with its bootstrap interval, and per budget of
    the grid the law's N_opt with its interval and the best size among the options there
    (``table``: budget, n_opt, lo, hi, and best_model, best_params: the size with the most
    accurate exact replay costing at most the budget)."""

    dataset: str
    family: str
    strategy: str
    deployable: bool
    cost_unit: str
    joint: LawFit
    law: OptimalSize
    fit_error: float
    misfit: float
    table: pd.DataFrame
    slope: float
    slope_ci: tuple[float, float]
    slope_range: tuple[float, float]
    sizes: tuple[float, ...]

    @property
    def reliable(self) -> bool:
        """Whether the joint law describes its points (``misfit`` at most ``MISFIT``)."""
        return bool(self.misfit <= MISFIT)

    @property
    def label(self) -> str:
        return f"{self.family} / {self.strategy}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "family": self.family,
            "strategy": self.strategy,
            "deployable": self.deployable,
            "cost_unit": self.cost_unit,
            "sizes": list(self.sizes),
            "joint_law": self.joint.to_dict(),
            "joint_law_rms_error": self.fit_error,
            "joint_law_misfit": self.misfit,
            "reliable": self.reliable,
            "n_opt_law": self.law.to_dict(),
            "cost_per_sample": {"g": self.law.g, "h": self.law.h},
            "diagnostic": {
                "what": "best size per budget among exact replayed points; least-squares slope "
                "of log10 N on log10 C over the budgets every size affords",
                "slope": self.slope,
                "slope_ci": list(self.slope_ci),
                "budget_range": list(self.slope_range),
            },
            "table": self.table.to_dict(orient="records"),
        }


def joint_groups(curves: list[Curve], members: Sequence[int]) -> dict[tuple[str, str], list[int]]:
    """The curves (indices among ``members``, one data set's) of each (model family, strategy)
    that get a joint law: sampling curves with a known size and cost per sample and at least
    three budgets, in families of three or more sizes."""
    groups: dict[tuple[str, str], list[int]] = {}
    for j in members:
        c = curves[j]
        ok = np.isfinite(c.params) and c.params > 0 and np.isfinite(c.cost1) and c.cost1 > 0
        if ok and not c.method and not c.adaptive and fittable(c):
            groups.setdefault((model_family(c.model), c.strategy), []).append(j)
    return {
        key: group
        for key, group in sorted(groups.items())
        if len({curves[j].params for j in group}) >= 3
    }


def joint_data(curves: list[Curve]) -> Dataset:
    """The design points of every size of a group as one data set of errors with inputs N
    (parameters) and k, and the bootstrap replicates they share."""
    data = [curve_data(c) for c in curves]
    n_rep = min(d.replicates.shape[0] for d in data)
    return Dataset(
        x={
            "N": np.concatenate([np.full(c.k.size, c.params) for c in curves]),
            "k": np.concatenate([c.k for c in curves]),
        },
        y=np.concatenate([d.y for d in data]),
        sigma=np.concatenate([d.sigma for d in data]),
        replicates=np.concatenate([d.replicates[:n_rep] for d in data], axis=1),
    )


def compute_optimal(
    curves: list[Curve],
    options: Options,
    joints: dict[tuple[str, str], tuple[list[int], LawFit]],
    *,
    unit: str,
    level: float,
) -> list[ComputeOptimal]:
    """One ``ComputeOptimal`` per group of a data set's curves (``joints``: a group of
    ``joint_groups``, indices into the report's ``curves``, and its joint law, fitted to
    ``joint_data`` of the group with its replicates); ``options``: the data set's."""
    out = []
    for (family, strategy), (members, joint) in joints.items():
        cs = [curves[j] for j in members]
        data = joint_data(cs)
        n, k, y, sigma = data.x["N"], data.x["k"], data.y, data.sigma
        g, h = cost_law([c.params for c in cs], [c.cost1 for c in cs])
        law = fit_optimal_size(
            joint.params.to_numpy(), joint.boot_params.to_numpy(), g=g, h=h, n_obs=joint.n_obs,
            level=level,
        )  # fmt: skip
        residual = joint.predict({"N": n, "k": k}) - y
        lo, hi = law.predict_interval(options.budgets)
        params = np.array([c.params for c in cs])
        acc = np.stack([_best_exact(c.points, c.draws, options.budgets)[0] for c in cs])
        feasible = np.isfinite(acc).any(axis=0)
        pick = np.argmax(np.where(np.isfinite(acc), acc, -np.inf), axis=0)
        span, slope, slopes = _slope(cs, params)
        s_lo, s_hi = percentile_interval(slopes, level)
        out.append(
            ComputeOptimal(
                dataset=cs[0].dataset,
                family=family,
                strategy=strategy,
                deployable=cs[0].deployable,
                cost_unit=unit,
                joint=joint,
                law=law,
                fit_error=float(np.sqrt(np.mean(residual**2))),
                misfit=float(np.sqrt(np.mean((residual / sigma) ** 2))),
                table=pd.DataFrame(
                    {
                        "budget": options.budgets,
                        "n_opt": law.predict(options.budgets),
                        "lo": lo,
                        "hi": hi,
                        "best_model": np.where(feasible, [cs[i].model for i in pick], ""),
                        "best_params": np.where(feasible, params[pick], np.nan),
                    }
                ),
                slope=slope,
                slope_ci=(float(s_lo), float(s_hi)),
                slope_range=span,
                sizes=tuple(sorted(float(p) for p in params)),
            )
        )
    return out


def _slope(
    curves: list[Curve], params: np.ndarray
) -> tuple[tuple[float, float], float, np.ndarray]:
    """The diagnostic: the budget range every size affords within its samples, the slope of
    log10 N_best on log10 C over it, and that slope in each bootstrap replicate."""
    lo = max(float(c.design["cost"].min()) for c in curves)
    hi = min(float(c.design["cost"].max()) for c in curves)
    if not hi > lo:
        return (lo, hi), float("nan"), np.full(1, np.nan)
    budgets = np.geomspace(lo, hi, SLOPE_GRID)
    best = [_best_exact(c.design, c.design_draws, budgets) for c in curves]
    values = np.stack([v for v, _ in best])  # (sizes, budgets)
    n_rep = min(d.shape[0] for _, d in best)
    draws = np.stack([d[:n_rep] for _, d in best])  # (sizes, replicates, budgets)
    point = best_size_slope(budgets, params[np.argmax(values, axis=0)])[0]
    boot = params[np.argmax(np.where(np.isfinite(draws), draws, -np.inf), axis=0)]
    return (lo, hi), float(point), best_size_slope(budgets, boot)


def _best_exact(points: pd.DataFrame, draws: np.ndarray, budgets: np.ndarray):
    """A size's most accurate exact point costing at most each budget (a step function of the
    budget; NaN below its cheapest point), and the same in each bootstrap replicate."""
    cost = points["cost"].to_numpy(float)
    order = np.argsort(cost, kind="stable")
    at = np.searchsorted(cost[order], budgets * (1 + 1e-12), side="right") - 1
    value = np.maximum.accumulate(points["accuracy"].to_numpy(float)[order])
    boot = np.fmax.accumulate(draws[:, order], axis=1)
    below = at < 0
    value = np.where(below, np.nan, value[np.maximum(at, 0)])
    boot = np.where(below[None, :], np.nan, boot[:, np.maximum(at, 0)])
    return value, boot
