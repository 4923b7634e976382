"""Extrapolation backtest: fit on the smaller budgets only, predict the held-out larger ones.

The honest test of a scaling law is whether it forecasts what it has not seen. ``backtest``
refits a family on the points with input ``on`` <= ``cut`` (default: hold out the largest quarter
of the distinct values, at least one) and reports the absolute prediction error at the rest.
``backtest_beta`` does the same for the Beta forecast: it refits on a hypergeometric subsample of
``cut`` samples per problem and compares with the exact unbiased pass@k of all samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fit.beta import BetaFit, pass_at_k
from fit.families import Family
from fit.law import fit_law, get_family
from fit.robust import as_inputs


@dataclass
class Backtest:
    """Prediction error at held-out inputs of a law fitted up to ``cut``."""

    family: str
    cut: float
    x_test: np.ndarray
    observed: np.ndarray
    predicted: np.ndarray

    @property
    def abs_error(self) -> np.ndarray:
        return np.abs(self.predicted - self.observed)

    @property
    def mae(self) -> float:
        return float(self.abs_error.mean())

    @property
    def max_error(self) -> float:
        return float(self.abs_error.max())

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "cut": float(self.cut),
            "x_test": self.x_test.tolist(),
            "observed": self.observed.tolist(),
            "predicted": self.predicted.tolist(),
            "mae": self.mae,
            "max_error": self.max_error,
        }


def default_cut(values: np.ndarray, n_params: int, holdout: float = 0.25) -> float | None:
    """The largest value kept for fitting: hold out the top ``holdout`` share of distinct values
    (at least one), keeping at least ``n_params + 1`` points; None when that is impossible."""
    distinct = np.unique(values)
    n_out = max(1, int(round(holdout * distinct.size)))
    for keep in range(distinct.size - n_out, 0, -1):
        if np.sum(values <= distinct[keep - 1]) > n_params:
            return float(distinct[keep - 1])
    return None


def backtest(
    family: Family | str,
    x: Any,
    y: Any,
    *,
    sigma: Any = None,
    cut: float | None = None,
    on: str | None = None,
    **options: Any,
) -> Backtest | None:
    """Fit ``family`` on points with input ``on`` (default: the last input) <= ``cut``; predict
    the others. ``options`` go to ``fit_law``. None when too few points remain to fit."""
    family = get_family(family)
    inputs = as_inputs(family, x)
    y = np.asarray(y, dtype=float)
    key = inputs[family.inputs.index(on) if on else -1]
    cut = default_cut(key, len(family.params)) if cut is None else cut
    if cut is None:
        return None
    train, test = key <= cut, key > cut
    if train.sum() <= len(family.params) or not test.any():
        return None
    sig = None if sigma is None else np.broadcast_to(np.asarray(sigma, dtype=float), y.shape)
    fitted = fit_law(
        family,
        {name: a[train] for name, a in zip(family.inputs, inputs, strict=True)},
        y[train],
        sigma=None if sig is None else sig[train],
        **options,
    )
    held = {name: a[test] for name, a in zip(family.inputs, inputs, strict=True)}
    return Backtest(family.name, cut, key[test], y[test], fitted.predict(held))


def backtest_beta(n: Any, c: Any, ks: Any, *, cut: int, seed: int = 0) -> Backtest:
    """Refit the Beta law on ``cut`` of the n_i samples of each problem (hypergeometric draw of
    the successes); predict the coverage error at ``ks`` (> cut, <= n) against all samples."""
    n, c = np.asarray(n, dtype=int), np.asarray(c, dtype=int)
    ks = np.asarray(ks, dtype=float)
    if cut < 1 or np.any(cut > n) or np.any(ks > n.min()):
        raise ValueError("beta backtest: need 1 <= cut <= n and ks <= n")
    sub = np.random.default_rng(seed).hypergeometric(c, n - c, cut)
    fitted = BetaFit(np.full(n.shape, cut), sub)
    observed = 1.0 - pass_at_k(n[:, None], c[:, None], ks[None]).mean(axis=0)
    return Backtest("beta", float(cut), ks, observed, fitted.predict(ks))
