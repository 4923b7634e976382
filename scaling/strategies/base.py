"""The strategy contract: what a strategy declares, what it sees of a run, what it returns.

A strategy is a small frozen dataclass: class attributes declare its name, short label, what it
needs from a run (answer clusters, rewards, a temperature-0 sample), whether it needs an oracle
verifier (the reference answer: then it is not deployable), how it is estimated and which
estimator modules' compiled kernels its replay runs (compiled ahead on a fresh cache); instance
fields are its parameters (``early_majority(lead=2)`` is written ``early_majority:lead=2`` on the
command line). ``replay`` maps a run's cached samples and budgets k to, per (problem, budget),
the expected correctness, the expected number of policy samples drawn (the cost driver: k capped
at the problem's n for a fixed-size strategy, E[K] <= k for an adaptive one), how many of them
a reward model scores, and the Monte Carlo variance of the value (0 where exact).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from scaling.errors import ArgumentError
from scaling.specs import changed_params, write_spec

if TYPE_CHECKING:
    from scaling.estimators import Pool

NEEDS = ("clusters", "rewards", "greedy", "levels")


@dataclass(frozen=True)
class Cache:
    """What a strategy sees of one run: the pooled samples, the greedy samples' mean
    correctness per problem (NaN where a problem has none), the run's own Monte Carlo stream
    (``seed``, ``mc_samples`` random subsets per problem and budget where not exact), and the
    problems' difficulty levels (NaN where unknown)."""

    pool: Pool
    greedy: np.ndarray
    seed: int = 0
    mc_samples: int = 256
    levels: np.ndarray | None = None

    def lacking(self) -> dict[str, str | None]:
        """Per need of ``NEEDS``, what this run lacks for it (a phrase), None if nothing."""
        pool, reward = self.pool, self.pool.reward
        missing_rewards = None
        if reward is None:
            missing_rewards = "rewards"
        elif np.isnan(reward).any():
            missing_rewards = f"a reward for {int(np.isnan(reward).sum())} samples"
        return {
            "clusters": "answer clusters" if pool.cluster is None else None,
            "rewards": missing_rewards,
            "greedy": None if np.isfinite(self.greedy).any() else "temperature-0 samples",
            "levels": None
            if self.levels is not None and np.isfinite(self.levels).all()
            else "a difficulty level for every problem",
        }


@dataclass(frozen=True)
class Replay:
    """A strategy replayed at budgets ks, arrays (problems, budgets): ``values`` expected
    correctness; ``samples`` expected policy samples drawn; ``scored`` expected samples the
    reward model scores; ``mc_var`` Monte Carlo variance of ``values`` (0 where exact)."""

    values: np.ndarray
    samples: np.ndarray
    scored: np.ndarray
    mc_var: np.ndarray


@dataclass(frozen=True)
class Strategy(ABC):
    """Base of every strategy; subclasses set the class attributes and ``replay``."""

    name: ClassVar[str]
    label: ClassVar[str]  # a short label for narrow tables
    title: ClassVar[str]  # a phrase for help texts and the explorer
    needs: ClassVar[frozenset[str]] = frozenset()  # a subset of NEEDS
    oracle: ClassVar[bool] = False  # chooses with the reference answer (not deployable)
    estimator: ClassVar[str] = "exact"  # "exact", or "exact or Monte Carlo (with its error)"
    greedy: ClassVar[bool] = False  # uses the temperature-0 sample (k = 1) instead of the pool
    adaptive: ClassVar[bool] = False  # stops early: draws E[K] <= k samples, k is its cap
    defaults: ClassVar[dict[str, object] | None] = {}  # its default instance (None: none)
    kernels: ClassVar[tuple[str, ...]] = ()  # estimator modules with compiled kernels it runs

    @property
    def deployable(self) -> bool:
        """Whether it can choose an answer without the reference (an oracle cannot)."""
        return not self.oracle

    @property
    def params(self) -> dict[str, object]:
        """The parameters that differ from their defaults."""
        return changed_params(self)

    @property
    def key(self) -> str:
        """The strategy as written on the command line: ``name`` or ``name:p=v,q=w``."""
        return write_spec(self.name, self.params)

    @property
    def short(self) -> str:
        """The short label, with the parameters unless they are the defaults: ``maj``,
        ``es-maj``, ``es-maj:lead=2``."""
        if self.params == (self.defaults or {}):
            return self.label
        return self.key.replace(self.name, self.label, 1)

    def own_ks(self, ks: np.ndarray) -> np.ndarray:
        """The k this strategy is replayed at, given the run's ``ks`` (a greedy strategy has
        only k = 1)."""
        return np.array([1]) if self.greedy else ks

    def lacks(self, lacking: dict[str, str | None]) -> str | None:
        """What a run lacks for this strategy (a phrase), or None when it can be replayed;
        ``lacking`` maps each of ``NEEDS`` to what the run lacks for it (None: nothing)."""
        return next((lacking[n] for n in NEEDS if n in self.needs and lacking[n]), None)

    @abstractmethod
    def replay(self, cache: Cache, ks: np.ndarray) -> Replay:
        """Per (problem, budget k) values, samples drawn, samples scored, Monte Carlo
        variance; k is capped at each problem's n."""

    def fixed_size(self, cache: Cache, ks: np.ndarray, values: np.ndarray, mc_var=None) -> Replay:
        """The Replay of a strategy that always draws min(k, n_i) samples."""
        drawn = np.minimum(ks[None, :], cache.pool.sizes[:, None]).astype(np.float64)
        scored = drawn if "rewards" in self.needs else np.zeros_like(drawn)
        variance = np.zeros_like(drawn) if mc_var is None else mc_var
        return Replay(values, drawn, scored, variance)


@dataclass(frozen=True)
class EarlyStopping(Strategy):
    """Base of the strategies that stop drawing once the leader is safe: ``lead`` (the leader's
    margin over the runner-up) and ``confidence`` (the posterior probability that the leader
    is the modal answer) switch the two rules on; ``k_max`` fixes the cap k (else the budgets
    are the caps)."""

    adaptive = True

    lead: float | None = None
    confidence: float | None = None
    k_max: int | None = None

    def __post_init__(self) -> None:
        if self.lead is None and self.confidence is None:
            raise ArgumentError("strategies", self.key, "set lead=MARGIN or confidence=P (or both)")

    def own_ks(self, ks: np.ndarray) -> np.ndarray:
        return ks if self.k_max is None else np.array([self.k_max])
