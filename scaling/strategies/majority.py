"""majority@k: the most frequent answer cluster among k samples wins (ties uniform), exact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.estimators import majority_at_k
from scaling.strategies.base import Cache, Replay, Strategy


@dataclass(frozen=True)
class Majority(Strategy):
    """Expectation over all k-subsets by a generating-function dynamic program over the answer
    clusters; samples without a parsed answer abstain, and the answer returned is a uniform
    member of the winning cluster, so a cluster counts as its fraction of correct samples."""

    name = "majority"
    label = "maj"
    title = "majority vote"
    needs = frozenset({"clusters"})
    kernels = ("majority",)

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        return self.fixed_size(cache, ks, majority_at_k(cache.pool, ks))


STRATEGY = Majority
