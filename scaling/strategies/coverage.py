"""pass@k: coverage, the chance that some sample of k is correct (needs an oracle verifier)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.estimators import pass_at_k
from scaling.strategies.base import Cache, Replay, Strategy


@dataclass(frozen=True)
class Coverage(Strategy):
    """pass@k = 1 - C(n - c, k) / C(n, k) for c correct of n samples, exact. It picks the
    correct sample with the reference answer, so it is an oracle: a ceiling for the deployable
    strategies, not one of them."""

    name = "pass"
    label = "pass"
    title = "pass@k (oracle coverage)"
    oracle = True

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        pool = cache.pool
        hits = np.bincount(pool.problem_index, weights=pool.correct, minlength=pool.n_problems)
        return self.fixed_size(cache, ks, pass_at_k(pool.sizes, hits, ks))


STRATEGY = Coverage
