"""A law fitted to a table of independent rows, with a pairs bootstrap for its intervals.

When each row of a table is its own measurement (a trained model's loss at (N, D), a benchmark
score at a budget), the rows are the independent units: a bootstrap replicate draws m rows with
replacement, inputs and observation together, and refits (the pairs bootstrap, as Besiroglu et
al. 2024 resample Chinchilla's points). Each refit starts from the point fit. Unless told
otherwise the fit follows the family's source (``Family.space``, ``loss``, ``delta``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fit.families import Family
from fit.law import LawFit, fit_law, get_family
from fit.robust import Objective, huber, standardization


def fit_rows(
    family: Family | str,
    x: Any,
    y: Any,
    *,
    sigma: Any = None,
    bootstrap: int = 0,
    seed: int = 0,
    space: str | None = None,
    loss: str | None = None,
    delta: float | None = None,
    level: float = 0.95,
) -> LawFit:
    """Fit ``family`` to the rows (x, y); refit ``bootstrap`` resamples of the rows.

    ``space``, ``loss`` and ``delta`` default to the family's own (its source's fit). The
    result's settings add ``objective`` (the minimized loss: sum of Huber's rho, or half the sum
    of squares, of the standardized residuals) and ``resampled`` ("rows").
    """
    family = get_family(family)
    space = family.space if space is None else space
    loss = family.loss if loss is None else loss
    delta = family.delta if delta is None else delta
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be >= 0, got {bootstrap}")
    point = fit_law(family, x, y, sigma=sigma, loss=loss, delta=delta, space=space, level=level)
    theta = point.params.to_numpy()
    r = point.residuals
    objective = float(np.sum(huber(r, delta)) if loss == "huber" else 0.5 * np.sum(r * r))
    boot, ends = np.empty((0, theta.size)), None
    if bootstrap:
        boot, ends = _refit_resamples(family, point, sigma, bootstrap, seed, loss, delta, space)
    settings = {**point.settings, "objective": objective, "resampled": "rows"}
    return LawFit(family, point.inputs, point.y, theta, boot, r, settings, level, ends=ends)


def _refit_resamples(
    family: Family,
    point: LawFit,
    sigma: Any,
    n_boot: int,
    seed: int,
    loss: str,
    delta: float,
    space: str,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Parameters refitted to ``n_boot`` row resamples, all solved at once (NaN rows failed),
    and the lowest and highest value of each that its resample leaves open (``LawFit``)."""
    m = point.n_obs
    idx = np.random.default_rng(seed).integers(0, m, (n_boot, m))
    sig = None if sigma is None else np.broadcast_to(np.asarray(sigma, dtype=float), (m,))
    inputs = [tuple(a[i] for a in point.inputs) for i in idx]
    scales = [standardization(point.y[i], None if sig is None else sig[i], space) for i in idx]
    obj = Objective.stack(family, inputs, scales, loss=loss, delta=delta, space=space)
    gy = obj.transform(point.y[idx])
    z0 = np.tile(obj.to_z(point.params.to_numpy()), (n_boot, 1))
    rows = np.arange(n_boot)
    z, f = obj.solve(z0, gy, rows)
    z[~np.isfinite(f)] = np.nan
    z_low, z_high = obj.open_ends(z, gy, rows, f)
    return obj.to_theta(z), (obj.to_theta(z_low), obj.to_theta(z_high))
