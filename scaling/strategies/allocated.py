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
- ``reward``: quantiles of the mean reward of ``probe`` samples drawn first (predicted at test
  time, deployable). The probes are each problem's first ``probe`` samples of the cache (samples
  are i.i.d., so a fixed choice is a random draw); the configurations are replayed on the other
  samples, independent of the probes, and every configuration is charged the probes as samples
  drawn and scored. Needs rewards and more than ``probe`` samples per problem.

Choosing and scoring on the same problems overstates the allocation, so it is cross-fitted:
the problems are split in two halves (seeded, stratified by bin), the allocation is chosen on
one and applied to the other, and the halves swap; each problem's value and samples are those
of the allocation chosen without it. The bootstrap over problems then holds the split fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fit import crossfit_policy
from scaling.errors import ArgumentError, ScalingError
from scaling.estimators import pass_at_k
from scaling.specs import write_spec
from scaling.strategies.base import Cache, Replay, Strategy

DIFFICULTIES = ("oracle", "level", "reward")
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
    probe: int = 1

    def __post_init__(self) -> None:
        if self.difficulty not in DIFFICULTIES:
            raise ArgumentError(
                "strategies", self.key, f"difficulty is one of {', '.join(DIFFICULTIES)}"
            )
        if self.bins < 1:
            raise ArgumentError("strategies", self.key, "bins must be a positive integer")
        if self.probe < 1:
            raise ArgumentError("strategies", self.key, "probe must be a positive integer")
        for name in self.members_names():
            if name == self.name:
                raise ArgumentError("strategies", self.key, "allocated cannot allocate itself")

    @property
    def short(self) -> str:
        """``alloc`` (oracle bins), ``alloc-lvl`` or ``alloc-rwd``, then any other parameter
        that is not its default: ``alloc-rwd:probe=2``."""
        label = self.label + {"oracle": "", "level": "-lvl", "reward": "-rwd"}[self.difficulty]
        rest = {k: v for k, v in self.params.items() if k != "difficulty"}
        return write_spec(label, rest)

    @property
    def deployable(self) -> bool:
        """Oracle bins use the answers; level and reward bins do not."""
        return self.difficulty != "oracle"

    @property
    def kernels(self) -> tuple[str, ...]:  # type: ignore[override]
        """The compiled kernels of the strategies it allocates among."""
        return tuple(dict.fromkeys(k for s in self.members() for k in s.kernels))

    def members_names(self) -> list[str]:
        return [n.strip() for n in self.among.split("+") if n.strip()]

    def members(self) -> list[Strategy]:
        """The strategies it allocates among, with their default parameters."""
        from scaling.strategies import parse_strategies

        return parse_strategies(self.members_names()) or []

    def lacks(self, lacking: dict[str, str | None]) -> str | None:
        need = {"level": "levels", "reward": "rewards"}.get(self.difficulty)
        if need and lacking.get(need):
            return lacking[need]
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

    def binned(self, cache: Cache, ks: np.ndarray):
        """The configurations' values, samples drawn, samples scored and names
        (``configurations``), with the reward probes held out and charged, and the keyword that
        bins the problems: ``score`` (oracle pass@1, or the probes' mean reward) or ``labels``."""
        pool = cache.pool
        if self.difficulty == "level":
            return *self.configurations(cache, ks), {"labels": cache.levels}
        if self.difficulty == "oracle":
            hits = np.bincount(pool.problem_index, weights=pool.correct, minlength=pool.n_problems)
            score = pass_at_k(pool.sizes, hits, np.array([1]))[:, 0]
            return *self.configurations(cache, ks), {"score": score}
        if pool.sizes.min() <= self.probe:
            raise ScalingError(
                f"{self.key}: a problem has {pool.sizes.min()} samples; reward difficulty needs "
                f"more than probe={self.probe} (lower probe, or use difficulty=level)"
            )
        probes, rest = pool.split_first(self.probe)
        values, samples, scored, names = self.configurations(replace(cache, pool=rest), ks)
        score = np.bincount(probes.problem_index, weights=probes.reward) / self.probe
        return values, samples + self.probe, scored + self.probe, names, {"score": score}

    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        values, samples, scored, _, bins = self.binned(cache, ks)
        value, drawn, read = crossfit_policy(
            values,
            samples,
            ks.astype(float),
            n_bins=self.bins,
            seed=cache.seed,
            extra=[scored],
            **bins,
        )
        return Replay(value, drawn, read, np.zeros_like(value))


STRATEGY = Allocated
