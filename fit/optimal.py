"""Compute-optimal model size N_opt(C), with intervals from the problem bootstrap.

The headline estimator is the joint law err(N, k) = E + A N^-alpha + B k^-beta, fitted to every
observed (size, samples) point of one model family and strategy, combined with what a sample
costs at each size, c(N) = g N^h (fitted across the family's sizes; under C = 2 N T k with a
common T, g = 2 T and h = 1). At budget C a model of size N affords k = C / c(N) samples, so

    err(N; C) = E + A N^-alpha + B g^beta N^(h beta) C^-beta,

and setting d err / dN = 0:

    N_opt(C) = G C^a,   a = beta / (alpha + h beta),
    G = (alpha A / (h beta B g^beta))^(1 / (alpha + h beta)).

Why this one: it is a property of a fitted surface, not of the budgets someone asks about, so
neither its estimate nor its interval depends on the budget grid; it is continuous in N (the
question is which size to train or deploy, not only which of the sizes at hand); and each
bootstrap replicate refits the law to the replayed accuracies of the same resampled problems, so
its interval carries the sampling error of the problems through replay, fit and optimum. The per
problem cost is treated as known (its bootstrap variation is not propagated), and a fixed cost
per problem (prompt prefill under a full accounting) is left out of the allocation.

Diagnostic only: the best observed size at each budget (a step function of C over the sizes at
hand), summarised by the least-squares slope of log10 N on log10 C over the budgets asked for.
That slope depends on where the budgets fall between the crossover points, so it is reported as
a check on the headline, never as the answer; its interval is the percentile interval of the
same slope over the bootstrap replicates (not a regression interval, which would shrink with
every budget added).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fit.results import FitResult, percentile_interval


def optimal_size(
    budget: Any, E: Any, A: Any, alpha: Any, B: Any, beta: Any, *, g: float, h: float = 1.0
) -> np.ndarray:
    """N_opt at each budget for joint-law parameters (scalars, or arrays broadcasting against the
    budgets for bootstrap draws) and the per-sample cost c(N) = g N^h. ``E`` does not move the
    optimum; it is accepted so that a parameter row can be splatted."""
    del E
    a = size_exponent(alpha, beta, h)
    G = (alpha * A / (h * beta * B * g**beta)) ** (1.0 / (alpha + h * beta))
    return G * np.asarray(budget, dtype=float) ** a


def size_exponent(alpha: Any, beta: Any, h: float = 1.0) -> np.ndarray:
    """The exponent a of N_opt = G C^a: beta / (alpha + h beta)."""
    alpha, beta = np.asarray(alpha, dtype=float), np.asarray(beta, dtype=float)
    return beta / (alpha + h * beta)


def cost_law(params: Any, cost_per_sample: Any) -> tuple[float, float]:
    """(g, h) of c(N) = g N^h by least squares of log c on log N over the family's sizes (one
    size: h = 1, g = c / N)."""
    n = np.asarray(params, dtype=float)
    c = np.asarray(cost_per_sample, dtype=float)
    if np.unique(n).size < 2:
        return float(np.mean(c / n)), 1.0
    h, log_g = np.polyfit(np.log(n), np.log(c), 1)
    return float(np.exp(log_g)), float(h)


class OptimalSize(FitResult):
    """N_opt(C) = G C^a from a joint law and a per-sample cost law: ``params`` G and a with
    percentile bootstrap intervals (``ci``, ``se``; ``n_boot`` replicates that refitted),
    ``predict(C)``, ``predict_interval(C)``, ``predict_draws(C)``. Built by
    ``fit_optimal_size``."""

    name = "optimal_size"
    formula = "N_opt = G * C^a"

    def __init__(
        self,
        point: np.ndarray,
        draws: np.ndarray,
        *,
        g: float,
        h: float,
        n_obs: int,
        level: float,
    ):
        self.g, self.h, self.level, self.n_obs = g, h, level, n_obs
        self.params = pd.Series({"G": point[0], "a": point[1]}, name=self.name)
        self.draws = pd.DataFrame(draws, columns=["G", "a"])
        self._interval_frame(draws)
        self.aic = self.bic = float("nan")

    def predict(self, budget: Any) -> np.ndarray:
        return self.params["G"] * np.asarray(budget, dtype=float) ** self.params["a"]

    def predict_draws(self, budget: Any) -> np.ndarray:
        """N_opt at ``budget`` under each bootstrap replicate: (replicates, budgets)."""
        c = np.atleast_1d(np.asarray(budget, dtype=float))
        g, a = self.draws["G"].to_numpy()[:, None], self.draws["a"].to_numpy()[:, None]
        return g * c[None, :] ** a

    def predict_interval(self, budget: Any, level: float | None = None) -> np.ndarray:
        """Percentile interval (low, high) of N_opt at each budget."""
        return percentile_interval(self.predict_draws(budget), level or self.level)

    def extra_stats(self) -> dict[str, Any]:
        """The per-sample cost and the inverse form Wu et al. print: log10 C = s log10 N + t."""
        a, g = self.params["a"], self.params["G"]
        intercept = -np.log10(g) / a
        sign = "-" if intercept < 0 else "+"
        return {
            "cost_per_sample": f"{self.g:.4g} N^{self.h:.4g}",
            "inverse": f"log10 C = {1 / a:.3g} log10 N {sign} {abs(intercept):.3g}",
        }


def fit_optimal_size(
    params: Any, boot_params: Any, *, g: float, h: float = 1.0, n_obs: int, level: float = 0.95
) -> OptimalSize:
    """N_opt(C) = G C^a from joint-law parameters (E, A, alpha, B, beta) and their bootstrap
    refits (replicates, 5), under the per-sample cost c(N) = g N^h."""

    def g_and_a(theta: np.ndarray) -> np.ndarray:
        E, A, alpha, B, beta = (theta[..., i] for i in range(5))
        return np.stack(
            [optimal_size(1.0, E, A, alpha, B, beta, g=g, h=h), size_exponent(alpha, beta, h)],
            axis=-1,
        )

    with np.errstate(all="ignore"):
        point = g_and_a(np.asarray(params, dtype=float))
        draws = g_and_a(np.atleast_2d(np.asarray(boot_params, dtype=float)))
    return OptimalSize(point, draws, g=g, h=h, n_obs=n_obs, level=level)


def best_size_slope(budget: Any, best_params: Any) -> np.ndarray:
    """The least-squares slope of log10 N on log10 C of the best observed size per budget, for
    one row of sizes or many (replicates, budgets); NaN where fewer than two budgets have a
    best size."""
    x = np.log10(np.asarray(budget, dtype=float))
    y = np.log10(np.atleast_2d(np.asarray(best_params, dtype=float)))
    ok = np.isfinite(y)
    count = ok.sum(axis=1)
    xm = np.where(ok, x, 0.0).sum(axis=1) / np.maximum(count, 1)
    ym = np.where(ok, y, 0.0).sum(axis=1) / np.maximum(count, 1)
    dx = np.where(ok, x - xm[:, None], 0.0)
    dy = np.where(ok, y - ym[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    return np.where(count >= 2, slope, np.nan)
