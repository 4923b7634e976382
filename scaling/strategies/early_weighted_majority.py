"""early_weighted_majority: weighted majority that stops drawing once the leader is safe."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.errors import ArgumentError
from scaling.estimators import early_weighted_majority_at_k
from scaling.strategies.base import Cache, EarlyStopping, Replay


@dataclass(frozen=True)
class EarlyWeightedMajority(EarlyStopping):
    """The rules of ``early_majority`` on summed rewards: each drawn answer adds its reward to
    its cluster; with a the leader's sum and b the runner-up's, stop when a - b >= ``lead``
    (reward units), or when P(p > 1/2) >= ``confidence`` for p ~ Beta(a + 1, b + 1) (the sums
    as pseudo-counts: rewards must be >= 0), or at k (``k_max`` fixes k). The answer is the
    leader (ties uniform); every drawn sample is scored by the reward model. Exact where the
    drawn-count states are few, else seeded Monte Carlo with its variance reported."""

    name = "early_weighted_majority"
    label = "es-wmaj"
    title = "early-stopping weighted majority"
    needs = frozenset({"clusters", "rewards"})
    kernels = ("sequential",)
    estimator = "exact or Monte Carlo"
    defaults = None  # its lead is in the reward model's units: no default fits every one

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        try:
            seq = early_weighted_majority_at_k(
                cache.pool,
                ks,
                lead=self.lead,
                confidence=self.confidence,
                mc_samples=cache.mc_samples,
                seed=cache.seed,
            )
        except ValueError as e:
            raise ArgumentError("strategies", self.key, str(e)) from None
        return Replay(seq.values, seq.samples, seq.samples, seq.mc_var)


STRATEGY = EarlyWeightedMajority
