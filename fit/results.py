"""The shape every fitted law shares: ``params``, ``ci``, ``summary()``, ``to_dict()``."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd


def percentile_interval(draws: np.ndarray, level: float, axis: int = 0) -> np.ndarray:
    """Percentile bootstrap interval of ``draws`` along ``axis`` (NaN draws ignored)."""
    tail = 50.0 * (1.0 - level)
    if draws.size and not np.isnan(draws).any():  # as nanpercentile, without its slice loop
        return np.percentile(draws, [tail, 100.0 - tail], axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as meant
        return np.nanpercentile(draws, [tail, 100.0 - tail], axis=axis)


def information_criteria(rss: float, n_obs: int, n_params: int) -> tuple[float, float]:
    """Gaussian AIC and BIC from a residual sum of squares (as lmfit): n ln(RSS/n) + penalty."""
    neg2ll = n_obs * math.log(max(rss, 1e-300) / n_obs)
    return neg2ll + 2 * n_params, neg2ll + math.log(n_obs) * n_params


def _num(v: Any) -> Any:
    """A JSON-safe number (NaN and infinities become None)."""
    if isinstance(v, int | np.integer):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None


class FitResult:
    """Base of fitted laws: name, formula, parameter estimates and bootstrap intervals."""

    name: str
    formula: str
    params: pd.Series
    ci: pd.DataFrame  # index: parameter; columns: low, high
    se: pd.Series  # standard errors: bootstrap (fits), or the regression's (SizeLaw)
    level: float
    n_obs: int
    n_boot: int
    aic: float
    bic: float

    def _interval_frame(
        self, draws: np.ndarray, ends: tuple[np.ndarray, np.ndarray] | None = None
    ) -> None:
        """Set ``se`` and ``ci`` from bootstrap draws of shape (B, p). ``ends``: (low, high),
        (B, p) each, the ends of the range of values a replicate leaves open (equal to the draw
        where it determines the parameter): the interval's low end is the lower percentile of
        the lows, its high end the upper percentile of the highs, and the ``se`` of a parameter
        that some replicate leaves open is NaN (that replicate's estimate is not one number)."""
        names = self.params.index
        self.n_boot = int(np.isfinite(draws).all(axis=1).sum()) if draws.size else 0
        if self.n_boot:
            se = np.nanstd(draws, axis=0, ddof=1)
            if ends is None:
                lo, hi = percentile_interval(draws, self.level)
            else:
                low, high = ends
                lo = percentile_interval(low, self.level)[0]
                hi = percentile_interval(high, self.level)[1]
                opened = ((low != draws) | (high != draws))[np.isfinite(draws).all(axis=1)]
                se[opened.any(axis=0)] = np.nan
        else:
            lo = hi = se = np.full(len(names), np.nan)
        self.ci = pd.DataFrame({"low": lo, "high": hi}, index=names)
        self.se = pd.Series(se, index=names)

    def extra_stats(self) -> dict[str, Any]:
        """Further goodness-of-fit lines for ``summary`` and ``to_dict`` (subclasses add)."""
        return {}

    def summary(self) -> str:
        pct = f"{100 * self.level:g}%"
        head = [
            f"{self.name}: {self.formula}",
            f"  n_obs={self.n_obs}  AIC={self.aic:.4g}  BIC={self.bic:.4g}"
            f"  bootstrap={self.n_boot}",
        ]
        if extra := self.extra_stats():
            head.append(
                "  "
                + "  ".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in extra.items()
                )
            )
        rows = [
            f"  {'param':<10}{'estimate':>14}{'std err':>12}{pct + ' low':>14}{pct + ' high':>14}"
        ]
        for name, value in self.params.items():
            lo, hi = self.ci.loc[name]
            rows.append(f"  {name:<10}{value:>14.6g}{self.se[name]:>12.4g}{lo:>14.6g}{hi:>14.6g}")
        return "\n".join(head + rows)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"{type(self).__name__}({self.name}: {inner})"

    def to_dict(self) -> dict[str, Any]:
        extra = {
            k: _num(v) if isinstance(v, int | float) else v for k, v in self.extra_stats().items()
        }
        return {
            "family": self.name,
            "formula": self.formula,
            "params": {k: _num(v) for k, v in self.params.items()},
            "ci": {k: [_num(lo), _num(hi)] for k, (lo, hi) in self.ci.iterrows()},
            "se": {k: _num(v) for k, v in self.se.items()},
            "level": self.level,
            "n_obs": self.n_obs,
            "n_boot": self.n_boot,
            "aic": _num(self.aic),
            "bic": _num(self.bic),
            **extra,
        }
