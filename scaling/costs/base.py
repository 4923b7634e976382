"""The cost-model contract: what a run's problems cost for the samples a strategy draws.

A cost model is a small frozen dataclass whose fields are its parameters (written
``kinetics:intensity=300`` on the command line, parsed by ``scaling.specs``): its name, the unit
of its costs, a title, the policy-model fields it ``needs`` from a run, and two functions:
``cost`` prices the expected samples a strategy draws on each problem (``Usage``) from the run's
per-problem token statistics (``Workload``), and ``search_cost`` prices a tree search from the
tokens its expansions generated. Costs are per problem, in ``unit``.

Both read the run's typed manifest (``scaling.manifest.Manifest``, validated when the run was
opened). The policy model's fields are read from its ``model``, else from the known-model table
(``scaling.models``) by model name; ``notes`` says which came from the table, and a field known
to neither is a one-line error naming it and how to add it.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from scaling.errors import ScalingError
from scaling.manifest import Manifest, Model
from scaling.models import lookup

# import flags that set each policy-model field of the manifest
FLAGS = {
    "params": "--params",
    "n_layers": "--n-layers",
    "d_model": "--d-model",
    "n_heads": "--n-heads",
    "n_kv_heads": "--n-kv-heads",
    "head_dim": "--head-dim",
    "dtype": "--dtype",
}


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
    """Base of every cost model; subclasses set the class attributes, their parameters as
    dataclass fields (each with a default), and the two prices."""

    name: ClassVar[str]
    unit: ClassVar[str]
    title: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()  # fields of the manifest's ``Model`` it reads

    @abstractmethod
    def cost(self, meta: Manifest, work: Workload, usage: Usage) -> np.ndarray:
        """Cost per (problem, budget) of drawing ``usage`` on the run described by ``meta``."""

    @abstractmethod
    def search_cost(self, meta: Manifest, work: Workload) -> np.ndarray:
        """Cost per problem of a tree search run's expansions."""

    @property
    def params(self) -> dict[str, object]:
        """The parameters that differ from their defaults."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != f.default
        }

    @property
    def key(self) -> str:
        """The cost model as written on the command line: ``name`` or ``name:p=v,q=w``."""
        params = self.params
        if not params:
            return self.name
        return f"{self.name}:" + ",".join(f"{k}={_show(v)}" for k, v in params.items())

    def notes(self, meta: Manifest) -> list[str]:
        """Which of the fields it needs come from the known-model table (one line, or none)."""
        known = lookup(meta.model.name)
        if known is None:
            return []
        taken = [
            n
            for n in self.needs
            if getattr(meta.model, n) is None and getattr(known, n) is not None
        ]
        if not taken:
            return []
        fields = ", ".join(f"model.{n}" for n in taken)
        return [f"{fields} from the known-model table ({known.name}) for cost {self.name}"]


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def architecture(meta: Manifest, names: tuple[str, ...], cost: str) -> Model:
    """The policy model with its fields ``names`` taken from the known-model table (by model
    name) where the manifest leaves them unknown; a one-line error names every field neither
    has and how to add it."""
    model, known = meta.model, lookup(meta.model.name)
    filled = {
        name: getattr(known, name)
        for name in names
        if getattr(model, name) is None and known is not None
    }
    model = dataclasses.replace(model, **filled)
    missing = [name for name in names if getattr(model, name) is None]
    if missing:
        fields = ", ".join(f"model.{n}" for n in missing)
        flags = ", ".join(FLAGS[n] for n in missing)
        them = "it" if len(missing) == 1 else "them"
        raise ScalingError(
            f"run.json: {fields} unknown (cost {cost} needs {them}); "
            f"import with {flags}, or set {them} later with scaling runs set"
        )
    return model


def reward_params(meta: Manifest, cost: str) -> float:
    """The reward model's parameter count, or a one-line error saying how to add it."""
    if meta.reward_model is None or meta.reward_model.params is None:
        raise ScalingError(
            f"run.json: reward_model.params unknown (cost {cost} needs it); "
            "import with --reward-params, or set it later with scaling runs set"
        )
    return meta.reward_model.params


def completion(work: Workload, usage: Usage) -> np.ndarray:
    """Mean completion tokens per drawn sample, a column (problems, 1)."""
    return (work.greedy_completion if usage.greedy else work.completion)[:, None]


def completion_sq(work: Workload, usage: Usage) -> np.ndarray:
    """Mean squared completion tokens per drawn sample, a column (problems, 1)."""
    if usage.greedy:
        return work.greedy_completion[:, None] ** 2
    return work.completion_sq[:, None]
