"""best-of-n@k: the sample with the largest reward among k wins (ties uniform), exact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.estimators import best_of_n_at_k
from scaling.strategies.base import Cache, Replay, Strategy


@dataclass(frozen=True)
class BestOfN(Strategy):
    """Exact by order statistics: the sample of reward rank r (from the bottom) is the maximum
    of a uniform k-subset with probability C(r - 1, k - 1) / C(n, k); tied rewards share."""

    name = "best_of_n"
    label = "bon"
    title = "best-of-n (reward model picks)"
    needs = frozenset({"rewards"})

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        return self.fixed_size(cache, ks, best_of_n_at_k(cache.pool, ks))


STRATEGY = BestOfN
