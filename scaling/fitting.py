"""The fitting pipeline: every curve family fitted to every curve, one chosen, backtested.

Each curve's error err = 1 - accuracy against k (its design points) is fitted by every family
of ``fit.CURVE_FAMILIES`` (robust Huber fit in log space, weighted by the points' standard
errors); ``law="auto"`` picks the family of lowest AIC, a family name forces it. The chosen law
is refitted on each paired bootstrap replicate of the curve (the same resampled problems for
every curve of a data set), so predictions carry intervals and stay paired, and backtested: fit
on the smaller budgets, forecast the larger. Coverage (pass@k) curves also get the Beta
forecast of the per-problem pass rates. Laws serve only between the replayed budgets of a curve
that cannot be replayed at every k (interpolated) and beyond the largest (extrapolated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np
import pyarrow.compute as pc

from fit import (
    CURVE_FAMILIES,
    Backtest,
    BetaFit,
    Dataset,
    LawFit,
    backtest,
    backtest_beta,
    fit_laws,
    select_by_aic,
)
from scaling.curves import Curve
from scaling.errors import ArgumentError, ScalingError
from scaling.fit_cache import FitCache, law_key
from scaling.store import Run
from scaling.workers import run_all

LAWS = ("auto", *CURVE_FAMILIES, "beta")
PRELOAD = ("fit.law", "scipy.optimize")  # what the worker processes import ahead


@dataclass(frozen=True)
class CurveFit:
    """The laws fitted to one curve: every family (``fits``), the ``chosen`` one ("" when the
    curve has too few budgets) and why. The backtest of the chosen law and, for coverage, the
    Beta forecast and its backtest are computed when first asked for."""

    fits: dict[str, LawFit]
    chosen: str
    reason: str
    data: Dataset | None = None  # the design points the laws were fitted to
    delta: float = 1e-3
    run: Run | None = None  # a coverage curve's run (the Beta forecast reads its counts)
    bootstrap: int = 0
    seed: int = 0

    @property
    def law(self) -> LawFit | BetaFit | None:
        return self.beta if self.chosen == "beta" else self.fits.get(self.chosen)

    @cached_property
    def backtest(self) -> Backtest | None:
        """The chosen family refitted on the smaller budgets, scored on the larger."""
        if self.chosen not in CURVE_FAMILIES or self.data is None:
            return None
        d = self.data
        return backtest(self.chosen, d.x, d.y, sigma=d.sigma, delta=self.delta)

    @cached_property
    def _counts(self) -> tuple[np.ndarray, np.ndarray] | None:
        return None if self.run is None else counts(self.run)

    @cached_property
    def beta(self) -> BetaFit | None:
        """The Beta forecast of coverage from the per-problem (n_i, c_i)."""
        if self._counts is None:
            return None
        n, c = self._counts
        return BetaFit(n, c, bootstrap=self.bootstrap, seed=self.seed)

    @cached_property
    def beta_backtest(self) -> Backtest | None:
        """The Beta law refitted on a quarter of the samples, scored on all of them."""
        if self._counts is None:
            return None
        n, c = self._counts
        cut = max(2, int(n.min()) // 4)
        if n.min() < 2 * cut:
            return None
        ks = np.unique(np.geomspace(2 * cut, n.min(), 4).astype(int))
        return backtest_beta(n, c, ks, cut=cut, seed=self.seed)

    def accuracy(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted accuracy at ``k`` (> 0), clipped to [0, 1], and its bootstrap draws
        (replicates, len(k)) aligned with the simulator's replicates."""
        law = self.law
        return np.clip(1.0 - law.predict(k), 0, 1), np.clip(1.0 - law.predict_draws(k), 0, 1)


def check_law(law: str) -> None:
    if law not in LAWS:
        raise ArgumentError("law", law, f"choose one of {', '.join(LAWS)}")


def curve_data(c: Curve) -> Dataset:
    """A curve's design points as a data set of errors, floored at half a problem (log-space
    fits need err > 0)."""
    design = c.design
    floor = 0.5 / float(design["n_problems"].iloc[0])
    sigma = np.hypot(design["stderr"].to_numpy(float), design["mc_stderr"].to_numpy(float))
    return Dataset(
        x=c.k,
        y=np.maximum(1.0 - design["accuracy"].to_numpy(float), floor),
        sigma=np.maximum(sigma, floor),
        replicates=np.maximum(1.0 - c.design_draws, floor),
    )


def counts(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Samples n_i and correct c_i per problem (pooled, non-greedy samples), in problem-id
    order."""
    t = run.sample_table(["problem_id", "greedy", "correct"]).unify_dictionaries()
    t = t.filter(pc.invert(t["greedy"]))
    t = t.set_column(0, "problem_id", pc.cast(t["problem_id"], "string"))
    g = t.group_by("problem_id").aggregate([("correct", "count"), ("correct", "sum")])
    g = g.sort_by("problem_id")
    return g["correct_count"].to_numpy().astype(float), g["correct_sum"].to_numpy().astype(float)


def fit_families(
    datasets: dict[str, list[Dataset]],
    delta: float,
    point: dict[str, list[LawFit]] | None = None,
    workers: int = 1,
    level: float = 0.95,
    cache: FitCache | None = None,
    notes: list[str] | None = None,
) -> dict[str, list[LawFit]]:
    """``fit_laws`` of each family on its data sets (of a family in ``point``: only the
    replicates, from those fits), a family per job on ``workers`` processes, the largest
    first. With ``cache``, the fits kept there are read back, only the others are solved, and
    those are kept (a cache that cannot be written gets a line in ``notes``)."""
    point = point or {}
    settings = {"loss": "huber", "delta": delta, "space": "log"}
    found: dict[str, list[LawFit | None]] = {n: [None] * len(sets) for n, sets in datasets.items()}
    keys: dict[str, list[str]] = {}
    if cache is not None:
        for n, sets in datasets.items():
            starts = [f.z for f in point[n]] if n in point else [None] * len(sets)
            keys[n] = [law_key(n, d, settings, z) for d, z in zip(sets, starts, strict=True)]
            found[n] = [
                cache.load(k, n, d, settings, level) for k, d in zip(keys[n], sets, strict=True)
            ]
    todo = {n: [i for i, f in enumerate(fits) if f is None] for n, fits in found.items()}
    names = sorted(
        (n for n in todo if todo[n]), key=lambda n: -sum(_size(datasets[n][i]) for i in todo[n])
    )
    jobs = [
        partial(
            fit_laws,
            n,
            [datasets[n][i] for i in todo[n]],
            **settings,
            level=level,
            point=[point[n][i] for i in todo[n]] if n in point else None,
        )
        for n in names
    ]
    for n, fits in zip(names, run_all(jobs, workers, preload=PRELOAD), strict=True):
        for i, f in zip(todo[n], fits, strict=True):
            found[n][i] = f
            if cache is not None:
                try:
                    cache.save(keys[n][i], f)
                except ScalingError as e:  # the fit stands; it is only not kept
                    if notes is not None:
                        notes.append(f"fit cache: {e}; fits not kept")
                    cache = None
    return {n: [f for f in fits if f is not None] for n, fits in found.items()}


def _size(d: Dataset) -> int:
    """The points a fit of ``d`` solves, its replicates included."""
    return np.size(d.y) * (1 + (0 if d.replicates is None else len(np.atleast_2d(d.replicates))))


def fittable(c: Curve) -> bool:
    """Whether a curve gets a law: three or more design budgets."""
    return np.unique(c.k).size >= 3


def fit_curves(
    curves: list[Curve],
    runs: dict[tuple[str, str], Run],
    *,
    law: str,
    delta: float,
    bootstrap: int,
    seed: int,
    notes: list[str],
    level: float = 0.95,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    alongside: dict[str, list[Dataset]] | None = None,
    cache: FitCache | None = None,
) -> tuple[list[CurveFit], dict[str, list[LawFit]]]:
    """Fit, choose and backtest a law per curve (curves without three design budgets get
    none); ``runs`` maps (data set, run label) to the run, for the Beta forecast of coverage;
    ``level``: the laws' interval level; ``workers`` processes fit the families side by side.
    ``alongside``: data sets of other families (by name, e.g. the joint laws), fitted with
    their replicates on the same workers as the chosen laws' refits. ``cache``: fits kept from
    earlier runs are read from it, new ones kept in it (``scaling.fit_cache``). Returns the
    curves' fits and those of ``alongside``."""
    check_law(law)
    alongside = alongside or {}
    if set(alongside) & set(CURVE_FAMILIES):
        raise ValueError(f"alongside: the curve families are fitted here ({sorted(alongside)})")
    eligible = [i for i, c in enumerate(curves) if fittable(c)]
    data = {i: curve_data(curves[i]) for i in eligible}
    fits: dict[int, dict[str, LawFit]] = {i: {} for i in range(len(curves))}
    groups = {  # point fits of every family: AIC, fallback
        name: [i for i in eligible if len(curves[i].k) > len(family.params)]
        for name, family in CURVE_FAMILIES.items()
    }
    groups = {name: group for name, group in groups.items() if group}
    points = {
        n: [Dataset(data[i].x, data[i].y, data[i].sigma) for i in g] for n, g in groups.items()
    }
    first = fit_families(points, delta, workers=workers, level=level, cache=cache, notes=notes)
    for name, found in first.items():
        for i, f in zip(groups[name], found, strict=True):
            fits[i][name] = f
    chosen = {i: ("", "fewer than 3 budgets: no curve") for i in range(len(curves))}
    coverage = {
        i: runs[curves[i].dataset, curves[i].run]
        for i in eligible
        if curves[i].strategy == "pass" and (curves[i].dataset, curves[i].run) in runs
    }
    for i in eligible:
        c = curves[i]
        if law == "beta" and i in coverage:
            chosen[i] = ("beta", "--law beta")
        elif law in ("auto", "beta") or law not in fits[i]:
            name, why = select_by_aic(fits[i])
            chosen[i] = (name, f"auto: {why}")
            if law not in ("auto", "beta"):
                notes.append(f"{c.label}: too few budgets for {law}; chose {name} by AIC")
            elif law == "beta":
                notes.append(f"{c.label}: the Beta forecast is for coverage; chose {name}")
        else:
            chosen[i] = (law, f"--law {law}")
    if progress is not None:
        progress("fitted every family; chose one per curve")
    groups = {name: [i for i in eligible if chosen[i][0] == name] for name in CURVE_FAMILIES}
    groups = {name: group for name, group in groups.items() if group}
    refits = fit_families(  # bootstrap the chosen laws, all curves of a family at once
        {**{n: [data[i] for i in g] for n, g in groups.items()}, **alongside},
        delta,
        point={n: [fits[i][n] for i in g] for n, g in groups.items()},
        workers=workers,
        level=level,
        cache=cache,
        notes=notes,
    )
    for name, found in refits.items():
        if name in alongside:
            continue
        for i, f in zip(groups[name], found, strict=True):
            fits[i][name] = f
    if progress is not None:
        extra = "".join(f", {len(sets)} {name}" for name, sets in alongside.items())
        progress(f"bootstrapped the chosen laws ({sum(map(len, groups.values()))} curves{extra})")
    curve_fits = [
        CurveFit(
            fits=fits[i],
            chosen=chosen[i][0],
            reason=chosen[i][1],
            data=data.get(i),
            delta=delta,
            run=coverage.get(i),
            bootstrap=bootstrap,
            seed=seed,
        )
        for i in range(len(curves))
    ]
    return curve_fits, {name: refits[name] for name in alongside}
