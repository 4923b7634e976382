"""Claims of the papers' form, "A beats B at every budget in [C1, C2]", by paired bootstrap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Claim:
    """Whether option A is more accurate than option B at every budget considered.

    ``holds``: on the point estimates; ``support``: the share of bootstrap replicates in which it
    holds at every budget (replicate r of A and of B resample the same problems when they share
    a problem set, so the comparison is paired); ``per_budget``: that share budget by budget.
    """

    a: str
    b: str
    budgets: np.ndarray
    diff: np.ndarray
    holds: bool
    support: float
    per_budget: np.ndarray

    def sentence(self, unit: str = "") -> str:
        """The claim and its verdict in one sentence; ``unit`` names the budgets' unit."""
        span = f"[{self.budgets.min():.3g}, {self.budgets.max():.3g}]"
        span += f" {unit}" if unit else ""
        verdict = "holds" if self.holds else "does not hold"
        return (
            f"'{self.a} beats {self.b} at every budget in {span}' {verdict} on the estimates; "
            f"it holds in {100 * self.support:.1f}% of bootstrap replicates"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "budgets": self.budgets.tolist(),
            "diff": self.diff.tolist(),
            "holds": self.holds,
            "support": self.support,
            "per_budget": self.per_budget.tolist(),
        }


def beats_everywhere(
    a: str,
    b: str,
    budgets: Any,
    acc_a: Any,
    acc_b: Any,
    draws_a: Any,
    draws_b: Any,
) -> Claim:
    """Judge "a beats b at every budget": ``acc_*`` (budgets,), ``draws_*`` (replicates, budgets)
    aligned by replicate. A replicate with a missing value counts against the claim."""
    acc_a, acc_b = np.asarray(acc_a, dtype=float), np.asarray(acc_b, dtype=float)
    wins = np.asarray(draws_a, dtype=float) > np.asarray(draws_b, dtype=float)
    if wins.ndim != 2 or wins.shape[1] != acc_a.size or acc_a.size == 0:
        raise ValueError("claim: draws must be (replicates, budgets) matching the estimates")
    diff = acc_a - acc_b
    return Claim(
        a=a,
        b=b,
        budgets=np.asarray(budgets, dtype=float),
        diff=diff,
        holds=bool(np.all(diff > 0)),
        support=float(wins.all(axis=1).mean()) if len(wins) else float("nan"),
        per_budget=wins.mean(axis=0) if len(wins) else np.full(acc_a.size, np.nan),
    )
