"""allocated: a strategy and a sample count chosen per difficulty bin (Snell et al. 2024).

For a mean budget of k samples per problem, the configurations (each strategy of ``among`` at
every sample count up to the run's largest budget, at most 64, then powers of two) are
allocated across difficulty bins to maximise mean accuracy at a mean of k samples drawn: per
bin, the configuration (or a mix of two adjacent ones, in at most one bin) on the upper concave
hull of the bin's (samples, accuracy), taken by decreasing marginal accuracy per sample
(``fit.allocation``: the exact relaxed multiple-choice knapsack). Bins come from ``difficulty``:

- ``oracle``: quantiles of the problem's own pass@1 over the whole cache. It uses the answers,
  so the strategy is an oracle (optimistic, a ceiling), not deployable.
- ``level``: the problem's difficulty level (as MATH annotates; known before sampling), which is
  deployable.

Choosing and scoring on the same problems overstates the allocation, so it is cross-fitted:
the problems are split in two halves (seeded, stratified by bin), the allocation is chosen on
one and applied to the other, and the halves swap; each problem's value and samples are those
of the allocation chosen without it. The bootstrap over problems then holds the split fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fit import crossfit_policy
from scaling.errors import ArgumentError
from scaling.estimators import pass_at_k
from scaling.strategies.base import Cache, Replay, Strategy

DIFFICULTIES = ("oracle", "level")
DENSE = 64  # every sample count up to this many is a configuration


@dataclass(frozen=True)
class Allocated(Strategy):
    """Per-difficulty allocation of strategies and samples, cross-fitted (see the module)."""

    name = "allocated"
    label = "alloc"
    title = "compute-optimal allocation across difficulty bins (cross-fitted)"
    estimator = "exact values under a cross-fitted allocation"
    adaptive = True
    defaults = None  # its configurations multiply the replay time: asked for, not default

    difficulty: str = "oracle"
    bins: int = 4
    among: str = "majority+best_of_n+weighted_majority"

    def __post_init__(self) -> None:
        if self.difficulty not in DIFFICULTIES:
            raise ArgumentError(
                "strategies", self.key, f"difficulty is one of {', '.join(DIFFICULTIES)}"
            )
        if self.bins < 1:
            raise ArgumentError("strategies", self.key, "bins must be a positive integer")
        for name in self.members_names():
            if name == self.name:
                raise ArgumentError("strategies", self.key, "allocated cannot allocate itself")

    @property
    def deployable(self) -> bool:
        """Oracle bins use the answers; level bins do not."""
        return self.difficulty != "oracle"

    def members_names(self) -> list[str]:
        return [n.strip() for n in self.among.split("+") if n.strip()]

    def members(self) -> list[Strategy]:
        """The strategies it allocates among, with their default parameters."""
        from scaling.strategies import parse_strategies

        return parse_strategies(self.members_names()) or []

    def lacks(self, lacking: dict[str, str | None]) -> str | None:
        if self.difficulty == "level" and lacking.get("levels"):
            return lacking["levels"]
        reasons = [s.lacks(lacking) for s in self.members()]
        return reasons[0] if all(reasons) else None

    def configurations(self, cache: Cache, ks: np.ndarray):
        """Values, samples drawn and samples scored per (problem, configuration), and the
        configurations' names (``strategy@k``), for the members the run supports."""
        top = int(ks.max(initial=1))
        grid = np.arange(1, top + 1)
        if top > DENSE:
            powers = 2 ** np.arange(top.bit_length())
            grid = np.unique(np.concatenate([np.arange(1, DENSE + 1), powers, [top]]))
            grid = grid[grid <= top]
        lacking = cache.lacking()
        values, samples, scored, names = [], [], [], []
        for s in self.members():
            if s.lacks(lacking) is not None or s.greedy:
                continue
            r = s.replay(cache, grid)
            values.append(r.values)
            samples.append(r.samples)
            scored.append(r.scored)
            names += [f"{s.key}@{k}" for k in grid]
        return np.hstack(values), np.hstack(samples), np.hstack(scored), names

    def bins_of(self, cache: Cache) -> dict[str, np.ndarray]:
        """The keyword that bins the problems: ``score`` (oracle pass@1) or ``labels``."""
        pool = cache.pool
        if self.difficulty == "level":
            return {"labels": cache.levels}
        hits = np.bincount(pool.problem_index, weights=pool.correct, minlength=pool.n_problems)
        return {"score": pass_at_k(pool.sizes, hits, np.array([1]))[:, 0]}

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        values, samples, scored, _ = self.configurations(cache, ks)
        value, drawn, read = crossfit_policy(
            values,
            samples,
            ks.astype(float),
            n_bins=self.bins,
            seed=cache.seed,
            extra=[scored],
            **self.bins_of(cache),
        )
        return Replay(value, drawn, read, np.zeros_like(value))


STRATEGY = Allocated
