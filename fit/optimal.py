"""Compute-optimal model size.

From the joint law err(N, k) = E + A N^-alpha + B k^-beta under the inference budget
C = 2 N T k (T tokens per sample), eliminating k = C / (2 N T) and setting d err / dN = 0:

    N_opt(C) = G (C / 2T)^(beta / (alpha + beta)),   G = (alpha A / (beta B))^(1 / (alpha + beta)).

Empirically, N_opt(C) = G C^a is fitted by weighted least squares on logs (statsmodels), with a
t interval on the exponent a (Wu et al. report log10 C = 1.19 log10 N + 2.03, a = 0.84, Pythia
on GSM8K).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from fit.results import FitResult


def optimal_size(
    budget: Any, tokens: float, E: Any, A: Any, alpha: Any, B: Any, beta: Any
) -> np.ndarray:
    """N_opt at each budget for joint-law parameters (scalars, or arrays broadcasting against the
    budgets for bootstrap draws). ``E`` does not move the optimum; it is accepted for symmetry."""
    del E
    c = np.asarray(budget, dtype=float) / (2.0 * tokens)
    g = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    return g * c ** (beta / (alpha + beta))


def size_exponent(alpha: Any, beta: Any) -> np.ndarray:
    """The exponent of N_opt in C: beta / (alpha + beta)."""
    return np.asarray(beta, dtype=float) / (np.asarray(alpha, dtype=float) + beta)


class SizeLaw(FitResult):
    """N_opt = G C^a by (weighted) least squares of log10 N on log10 C: ``params`` G and a."""

    name = "size_law"
    formula = "N_opt = G * C^a"

    def __init__(self, budget: Any, n_opt: Any, *, weights: Any = None, level: float = 0.95):
        c = np.asarray(budget, dtype=float)
        n = np.asarray(n_opt, dtype=float)
        if c.shape != n.shape or c.size < 3 or np.any(c <= 0) or np.any(n <= 0):
            raise ValueError("size law: need at least 3 positive (budget, N_opt) pairs")
        if np.unique(n).size < 2:
            raise ValueError("size law: N_opt is the same at every budget; no exponent to fit")
        w = np.ones_like(c) if weights is None else np.asarray(weights, dtype=float)
        x = sm.add_constant(np.log10(c))
        self.result = sm.WLS(np.log10(n), x, weights=w).fit()
        (lg, a), ci = self.result.params, self.result.conf_int(alpha=1.0 - level)
        self.level = level
        self.n_obs = int(c.size)
        self.n_boot = 0
        self.params = pd.Series({"G": 10.0**lg, "a": a}, name=self.name)
        self.ci = pd.DataFrame(
            {"low": [10.0 ** ci[0][0], ci[1][0]], "high": [10.0 ** ci[0][1], ci[1][1]]},
            index=["G", "a"],
        )
        self.se = pd.Series({"G": np.nan, "a": self.result.bse[1]})
        self.aic, self.bic = float(self.result.aic), float(self.result.bic)

    def predict(self, budget: Any) -> np.ndarray:
        return self.params["G"] * np.asarray(budget, dtype=float) ** self.params["a"]

    def predict_interval(
        self, budget: Any, level: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Confidence interval of the fitted mean log10 N_opt at ``budget``, back-transformed."""
        x = sm.add_constant(
            np.log10(np.atleast_1d(np.asarray(budget, dtype=float))), has_constant="add"
        )
        frame = self.result.get_prediction(x).summary_frame(alpha=1.0 - (level or self.level))
        return 10.0 ** frame["mean_ci_lower"].to_numpy(), 10.0 ** frame["mean_ci_upper"].to_numpy()

    def extra_stats(self) -> dict[str, Any]:
        """The inverse form Wu et al. print: log10 C = slope log10 N + intercept."""
        a, g = self.params["a"], self.params["G"]
        intercept = -np.log10(g) / a
        sign = "-" if intercept < 0 else "+"
        return {"inverse": f"log10 C = {1 / a:.3g} log10 N {sign} {abs(intercept):.3g}"}
