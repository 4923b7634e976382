"""The cost-model contract: what a run's problems cost for the samples a strategy draws.

A cost model is a small frozen object: its name, the unit of its costs, a title, the manifest
fields it needs, and two functions: ``cost`` prices the expected samples a strategy draws on
each problem (``Usage``) from the run's per-problem token statistics (``Workload``), and
``search_cost`` prices a tree search from the tokens its expansions generated. Costs are per
problem, in ``unit``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from scaling.errors import ScalingError


@dataclass(frozen=True)
class Workload:
    """Per-problem token statistics of one run (arrays over its problems, NaN = unknown):
    mean prompt tokens, mean and mean squared completion tokens of the pooled samples, mean
    completion tokens of the greedy samples, and for a tree search run the policy tokens of
    all its expansions and the tokens its reward model scored."""

    prompt: np.ndarray
    completion: np.ndarray
    completion_sq: np.ndarray
    greedy_completion: np.ndarray
    search_tokens: np.ndarray | None = None
    search_rm_tokens: np.ndarray | None = None


@dataclass(frozen=True)
class Usage:
    """What a strategy draws per (problem, budget): ``samples`` policy samples, ``scored`` of
    them scored by the reward model; ``greedy``: they are temperature-0 samples."""

    samples: np.ndarray
    scored: np.ndarray
    greedy: bool = False


@dataclass(frozen=True)
class CostModel(ABC):
    """Base of every cost model; subclasses set the class attributes and the two prices."""

    name: ClassVar[str]
    unit: ClassVar[str]
    title: ClassVar[str]

    @abstractmethod
    def cost(self, manifest: Mapping[str, Any], work: Workload, usage: Usage) -> np.ndarray:
        """Cost per (problem, budget) of drawing ``usage`` on a run described by ``manifest``."""

    @abstractmethod
    def search_cost(self, manifest: Mapping[str, Any], work: Workload) -> np.ndarray:
        """Cost per problem of a tree search run's expansions."""

    @property
    def key(self) -> str:
        return self.name


def field(manifest: Mapping[str, Any], section: str, name: str, cost: str) -> float:
    """A number from the manifest, or a one-line error naming the field and how to add it."""
    value = (manifest.get(section) or {}).get(name)
    if value is None or not np.isfinite(float(value)):
        flags = {"params": "--params", "n_layers": "--n-layers", "d_model": "--d-model"}
        flag = "--reward-params" if section == "reward_model" else flags.get(name)
        how = f"import with {flag} or set it in run.json" if flag else "set it in run.json"
        raise ScalingError(f"run.json: {section}.{name} unknown (cost {cost} needs it); {how}")
    return float(value)


def completion(work: Workload, usage: Usage) -> np.ndarray:
    """Mean completion tokens per drawn sample, a column (problems, 1)."""
    return (work.greedy_completion if usage.greedy else work.completion)[:, None]
