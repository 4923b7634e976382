"""verifier_threshold: draw until the reward model accepts a sample (reward >= tau)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.estimators import verifier_threshold_at_k
from scaling.strategies.base import Cache, Replay, Strategy


@dataclass(frozen=True)
class VerifierThreshold(Strategy):
    """Samples drawn one at a time in a uniformly random order without replacement: stop at the
    first whose reward is >= ``tau`` and answer with it; if none of the first k is accepted,
    answer best-of-k among them (the largest reward, ties uniform). Exact in closed form: the
    first acceptance is negative hypergeometric. Every drawn sample is scored; the cost is
    E[K]."""

    name = "verifier_threshold"
    label = "vt"
    title = "verifier threshold (stop at the first accepted sample)"
    needs = frozenset({"rewards"})
    adaptive = True
    defaults = None  # tau is in the reward model's units: no default fits every one

    tau: float
    k_max: int | None = None

    def own_ks(self, ks: np.ndarray) -> np.ndarray:
        return ks if self.k_max is None else np.array([self.k_max])

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        seq = verifier_threshold_at_k(cache.pool, ks, tau=self.tau)
        return Replay(seq.values, seq.samples, seq.samples, seq.mc_var)


STRATEGY = VerifierThreshold
