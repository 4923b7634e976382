"""greedy: the temperature-0 sample's correctness (k = 1 only; never faked from the pool)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.strategies.base import Cache, Replay, Strategy


@dataclass(frozen=True)
class Greedy(Strategy):
    """The mean correctness of the problem's temperature-0 samples; only where the run has them."""

    name = "greedy"
    label = "greedy"
    title = "greedy decoding (temperature 0)"
    needs = frozenset({"greedy"})
    greedy = True

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        values = cache.greedy[:, None] * np.ones((1, len(ks)))
        ones = np.ones_like(values)
        return Replay(values, ones, np.zeros_like(values), np.zeros_like(values))


STRATEGY = Greedy
