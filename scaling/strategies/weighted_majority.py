"""weighted-majority@k: each answer cluster scores the sum of its drawn samples' rewards."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.estimators import weighted_majority_at_k
from scaling.strategies.base import Cache, Replay, Strategy


@dataclass(frozen=True)
class WeightedMajority(Strategy):
    """The highest-scoring cluster among the k drawn wins (ties uniform; unparsed answers
    abstain). Exact where the subsets can be listed or a closed form settles it, otherwise
    seeded Monte Carlo over ``mc_samples`` uniform subsets with its variance reported."""

    name = "weighted_majority"
    label = "wmaj"
    title = "weighted majority (votes weighted by reward)"
    needs = frozenset({"clusters", "rewards"})
    kernels = ("weighted",)
    estimator = "exact or Monte Carlo"

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        values, mc_var = weighted_majority_at_k(
            cache.pool, ks, samples=cache.mc_samples, seed=cache.seed
        )
        return self.fixed_size(cache, ks, values, mc_var)


STRATEGY = WeightedMajority
