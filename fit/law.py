"""Fit a family to data, with bootstrap intervals: ``fit_law`` returns a ``LawFit``.

AIC and BIC use the Gaussian likelihood of the standardized residuals with the scale profiled
out: AIC = m ln(RSS/m) + 2p, BIC = m ln(RSS/m) + p ln m (m points, p parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fit.families import FAMILIES, Family
from fit.results import FitResult, information_criteria, percentile_interval
from fit.robust import Objective, as_inputs, standardization


def get_family(family: Family | str) -> Family:
    if isinstance(family, Family):
        return family
    try:
        return FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown family {family!r}; known: {sorted(FAMILIES)}") from None


@dataclass
class Dataset:
    """One curve to fit: inputs, observations, their standard errors, bootstrap replicates."""

    x: Any
    y: Any
    sigma: Any = None
    replicates: Any = None


class LawFit(FitResult):
    """A fitted family: ``params``, ``ci`` (bootstrap percentile), ``predict``, ``summary``.

    ``ends``: per replicate and parameter, the (low, high) ends of the values it leaves open:
    the parameter's bound where the replicate's loss stays flat with that parameter alone moved
    there (``Objective.open_ends``), else the refit's value; ``ci`` is taken from them.
    ``arrays()`` and ``restore_law`` keep a fit as plain arrays and make it again."""

    def __init__(
        self,
        family: Family,
        inputs: tuple[np.ndarray, ...],
        y: np.ndarray,
        params: np.ndarray,
        boot_params: np.ndarray,
        residuals: np.ndarray,
        settings: dict[str, Any],
        level: float,
        z: np.ndarray | None = None,
        ends: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        self.family = family
        self.z = z  # the estimate in the solver's coordinates (ln of log-scaled parameters)
        self.name = family.name
        self.formula = family.formula
        self.inputs = inputs
        self.y = y
        self.level = level
        self.settings = settings
        names = list(family.param_names)
        self.params = pd.Series(params, index=names, name=self.name)
        self.boot_params = pd.DataFrame(boot_params, columns=names)
        self.ends = ends
        self._interval_frame(boot_params, ends)
        self.residuals = residuals
        self.n_obs = int(y.size)
        self.dof = self.n_obs - len(names)
        self.rss = float(np.sum(residuals**2))
        self.aic, self.bic = information_criteria(self.rss, self.n_obs, len(names))

    def _eval(self, x: Any, theta: np.ndarray) -> np.ndarray:
        inputs = as_inputs(self.family, x)
        with np.errstate(all="ignore"):
            return self.family.fn(*inputs, *theta.T[:, :, None])

    def predict(self, x: Any) -> np.ndarray:
        """The fitted law at ``x`` (same input conventions as the fit)."""
        return self._eval(x, self.params.to_numpy()[None])[0]

    def predict_draws(self, x: Any) -> np.ndarray:
        """The law at ``x`` under each bootstrap refit: shape (replicates, m), rows aligned with
        the replicates given (NaN where a refit failed)."""
        return self._eval(x, self.boot_params.to_numpy())

    def predict_interval(self, x: Any, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Percentile bootstrap interval (low, high) of the prediction at ``x``."""
        if not self.n_boot:
            nan = np.full(as_inputs(self.family, x)[0].shape, np.nan)
            return nan, nan.copy()
        lo, hi = percentile_interval(self.predict_draws(x), level or self.level)
        return lo, hi

    def extra_stats(self) -> dict[str, Any]:
        return {**self.settings, "rss": self.rss}

    def arrays(self) -> dict[str, np.ndarray]:
        """The fit's own numbers (its data and settings aside): estimate (``params``, and ``z``
        in the solver's coordinates), residuals, refits (``boot``) and their ends (``low``,
        ``high``, when there are refits), in the order of ``law_shapes``. ``restore_law`` makes
        the fit from them again."""
        out = {
            "params": self.params.to_numpy(),
            "z": np.asarray(self.z, dtype=float),
            "residuals": self.residuals,
            "boot": self.boot_params.to_numpy(),
        }
        if self.ends is not None:
            out["low"], out["high"] = self.ends
        return out


def _check(family: Family, data: Dataset, space: str) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    inputs = as_inputs(family, data.x)
    y = np.asarray(data.y, dtype=float)
    if y.shape != inputs[0].shape:
        raise ValueError(f"{family.name}: y has shape {y.shape}, inputs {inputs[0].shape}")
    if y.size <= len(family.params):
        raise ValueError(
            f"{family.name}: {y.size} points cannot fit {len(family.params)} parameters"
        )
    if space == "log" and not np.all(y > 0):
        raise ValueError(f"{family.name}: log-space fit needs y > 0 (clip zero errors first)")
    if data.replicates is not None and np.shape(data.replicates)[-1] != y.size:
        raise ValueError(f"{family.name}: replicates must have {y.size} columns")
    return inputs, y


def fit_laws(
    family: Family | str,
    datasets: list[Dataset],
    *,
    loss: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    level: float = 0.95,
    start: Any = None,
    point: list[LawFit] | None = None,
) -> list[LawFit]:
    """Fit ``family`` to each data set, all at once; refit each bootstrap replicate.

    Point fits start from every value of the family's grid (and ``start``, natural units);
    replicate fits are warm-started from their data set's point fit. ``point``: fits of the
    same data sets by this function with the same settings (one per data set); their estimates
    are kept and only the replicates are fitted.
    """
    family = get_family(family)
    checked = [_check(family, d, space) for d in datasets]
    if point is not None and (len(point) != len(datasets) or any(f.z is None for f in point)):
        raise ValueError(f"{family.name}: point needs one fit by fit_laws per data set")
    by_length: dict[int, list[int]] = {}
    for i, (_, y) in enumerate(checked):
        by_length.setdefault(y.size, []).append(i)
    fits: list[LawFit | None] = [None] * len(datasets)
    for members in by_length.values():  # one vectorized problem per curve length: no padding
        group = _fit_group(
            family,
            [checked[i] for i in members],
            [datasets[i] for i in members],
            loss=loss,
            delta=delta,
            space=space,
            level=level,
            start=start,
            point=None if point is None else [point[i].z for i in members],
        )
        for i, f in zip(members, group, strict=True):
            fits[i] = f
    return [f for f in fits if f is not None]


def _settings(loss: str, delta: float, space: str, data: Dataset) -> dict[str, Any]:
    return {"loss": loss, "delta": delta, "space": space, "weighted": data.sigma is not None}


def law_shapes(family: Family | str, data: Dataset) -> dict[str, tuple[int, ...]]:
    """The shape of each of ``LawFit.arrays()`` for a fit of ``family`` to ``data``."""
    p = len(get_family(family).params)
    n_boot = 0 if data.replicates is None else len(np.atleast_2d(data.replicates))
    shapes = {"params": (p,), "z": (p,), "residuals": (np.size(data.y),), "boot": (n_boot, p)}
    return shapes | ({"low": (n_boot, p), "high": (n_boot, p)} if n_boot else {})


def restore_law(
    family: Family | str,
    data: Dataset,
    arrays: dict[str, np.ndarray],
    *,
    loss: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    level: float = 0.95,
) -> LawFit:
    """The fit whose ``LawFit.arrays()`` these are, of ``family`` to ``data`` by ``fit_laws``
    with these settings (``level`` may differ: the intervals are taken anew). Raises
    ``ValueError`` when an array is missing or not of its shape (``law_shapes``)."""
    family = get_family(family)
    inputs, y = _check(family, data, space)
    shapes = law_shapes(family, data)
    for name, shape in shapes.items():
        if name not in arrays or np.shape(arrays[name]) != shape:
            raise ValueError(f"{family.name}: array {name!r} missing or not of shape {shape}")
    ends = (arrays["low"], arrays["high"]) if "low" in shapes else None
    return LawFit(
        family,
        inputs,
        y,
        arrays["params"],
        arrays["boot"],
        arrays["residuals"],
        _settings(loss, delta, space, data),
        level,
        arrays["z"],
        ends,
    )


def _fit_group(
    family: Family,
    checked: list[tuple[tuple[np.ndarray, ...], np.ndarray]],
    datasets: list[Dataset],
    **options: Any,
) -> list[LawFit]:
    """Point fits and bootstrap refits of data sets of equal length, all at once."""
    loss, delta, space, level = (options[k] for k in ("loss", "delta", "space", "level"))
    inputs = [c[0] for c in checked]
    ys = [c[1] for c in checked]
    scales = [standardization(y, d.sigma, space) for y, d in zip(ys, datasets, strict=True)]
    obj = Objective.stack(family, inputs, scales, loss=loss, delta=delta, space=space)
    gy = obj.transform(np.stack(ys))
    if options["point"] is None:
        z, _ = obj.point_fit(gy, options["start"])
    else:
        z = np.stack(options["point"])
    reps = [
        np.atleast_2d(np.asarray(d.replicates, dtype=float))
        for d in datasets
        if d.replicates is not None
    ]
    boot = [np.empty((0, obj.n_params)) for _ in datasets]
    ends: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(datasets)
    if reps:
        which = [i for i, d in enumerate(datasets) if d.replicates is not None]
        rows = np.concatenate([np.full(len(r), i) for i, r in zip(which, reps, strict=True)])
        gr = obj.transform(np.concatenate(reps))
        good = np.isfinite(gr).all(axis=1)
        zb = np.full((len(rows), obj.n_params), np.nan)
        zb[good], fb = obj.solve(z[rows[good]], gr[good], rows[good])
        zb[np.flatnonzero(good)[~np.isfinite(fb)]] = np.nan
        z_low, z_high = zb.copy(), zb.copy()
        z_low[good], z_high[good] = obj.open_ends(zb[good], gr[good], rows[good], fb)
        for i in which:
            boot[i] = obj.to_theta(zb[rows == i])
            ends[i] = obj.to_theta(z_low[rows == i]), obj.to_theta(z_high[rows == i])
    fits = []
    for i, d in enumerate(datasets):
        r = obj.residuals(z[i : i + 1], gy[i : i + 1], np.array([i]))[0]
        st = _settings(loss, delta, space, d)
        theta = obj.to_theta(z[i])
        fits.append(LawFit(family, inputs[i], ys[i], theta, boot[i], r, st, level, z[i], ends[i]))
    return fits


def fit_law(
    family: Family | str,
    x: Any,
    y: Any,
    *,
    sigma: Any = None,
    replicates: Any = None,
    loss: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    level: float = 0.95,
    start: Any = None,
) -> LawFit:
    """Fit ``family`` to (x, y); refit each row of ``replicates`` (B, m) for intervals.

    ``sigma``: standard errors of ``y`` (weights); ``loss``: "huber" (delta on standardized
    residuals) or "l2"; ``space``: "log" or "linear" residuals; ``start``: an extra start (natural
    units) besides the family's grid.
    """
    data = Dataset(x, y, sigma, replicates)
    return fit_laws(family, [data], loss=loss, delta=delta, space=space, level=level, start=start)[
        0
    ]


def select_by_aic(fits: dict[str, LawFit], min_dof: int = 2) -> tuple[str, str]:
    """The family with the lowest AIC among fits with at least ``min_dof`` residual dof.

    Returns (name, reason): the reason states the AIC of each candidate and what was excluded.
    """
    eligible = {k: f for k, f in fits.items() if f.dof >= min_dof and np.isfinite(f.aic)}
    pool = eligible or fits
    best = min(pool, key=lambda k: pool[k].aic)
    scores = ", ".join(f"{k} {f.aic:.1f}" for k, f in sorted(pool.items(), key=lambda t: t[1].aic))
    reason = f"lowest AIC ({scores})"
    skipped = sorted(set(fits) - set(eligible))
    if eligible and skipped:
        reason += f"; too few points for {', '.join(skipped)}"
    return best, reason
