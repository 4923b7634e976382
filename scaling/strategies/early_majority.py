"""early_majority: majority vote that stops drawing once the leader is safe (adaptive
consistency, Aggarwal et al. 2023)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.estimators import early_majority_at_k
from scaling.strategies.base import Cache, EarlyStopping, Replay


@dataclass(frozen=True)
class EarlyMajority(EarlyStopping):
    """Samples drawn one at a time in a uniformly random order without replacement; with a the
    leader's votes and b the runner-up's, stop when a - b >= ``lead``, or when
    P(p > 1/2) >= ``confidence`` for p ~ Beta(a + 1, b + 1) (a uniform prior on the leader's
    share of the top two: Aggarwal et al.'s Beta criterion), or at k (``k_max`` fixes k). The
    answer is the leader (ties uniform). The cost is E[K], the expected number drawn. Exact by a
    program over drawn-count states where they are few, else seeded Monte Carlo over orderings
    with its variance reported."""

    name = "early_majority"
    label = "es-maj"
    title = "early-stopping majority (adaptive consistency)"
    needs = frozenset({"clusters"})
    kernels = ("sequential",)
    estimator = "exact or Monte Carlo"
    defaults = {"confidence": 0.95}

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        seq = early_majority_at_k(
            cache.pool,
            ks,
            lead=self.lead,
            confidence=self.confidence,
            mc_samples=cache.mc_samples,
            seed=cache.seed,
        )
        return Replay(seq.values, seq.samples, np.zeros_like(seq.samples), seq.mc_var)


STRATEGY = EarlyMajority
