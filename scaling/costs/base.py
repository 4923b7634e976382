"""The cost-model contract: what a run's problems cost for the samples a strategy draws.

A cost model is a small frozen dataclass whose fields are its parameters (written
``kinetics:intensity=300`` on the command line, parsed by ``scaling.specs``): its name, the unit
of its costs, a title, the policy-model fields it ``needs`` from a run, and two functions:
``cost`` prices the expected samples a strategy draws on each problem (``Usage``) from the run's
per-problem token statistics (``Workload``), and ``search_cost`` prices a tree search from the
tokens its expansions generated. Costs are per problem, in ``unit``.

The policy model's fields are read from the manifest's ``model`` block, else from the
known-model table (``scaling.models``) by model name; ``notes`` says which came from the table,
and a field known to neither is a one-line error naming it and how to add it.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from scaling.errors import ScalingError
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
    needs: ClassVar[tuple[str, ...]] = ()  # fields of the manifest's model block it reads

    @abstractmethod
    def cost(self, manifest: Mapping[str, Any], work: Workload, usage: Usage) -> np.ndarray:
        """Cost per (problem, budget) of drawing ``usage`` on a run described by ``manifest``."""

    @abstractmethod
    def search_cost(self, manifest: Mapping[str, Any], work: Workload) -> np.ndarray:
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

    def notes(self, manifest: Mapping[str, Any]) -> list[str]:
        """Which of the fields it needs come from the known-model table (one line, or none)."""
        block = manifest.get("model") or {}
        known = lookup(str(block.get("name") or ""))
        if known is None:
            return []
        taken = [
            n for n in self.needs if _given(block.get(n)) is None and _given(getattr(known, n))
        ]
        if not taken:
            return []
        fields = ", ".join(f"model.{n}" for n in taken)
        return [f"{fields} from the known-model table ({known.name}) for cost {self.name}"]


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def _given(value: Any) -> Any:
    """``value`` when it is known: not None, and a finite number unless it is a string."""
    if value is None or isinstance(value, str):
        return value or None
    return value if np.isfinite(float(value)) else None


def architecture(manifest: Mapping[str, Any], names: tuple[str, ...], cost: str) -> dict:
    """The policy model's ``names`` from the manifest's model block, else from the known-model
    table by model name; a one-line error names every field neither has and how to add it."""
    block = manifest.get("model") or {}
    known = lookup(str(block.get("name") or ""))
    out, missing = {}, []
    for name in names:
        value = _given(block.get(name))
        if value is None and known is not None:
            value = _given(getattr(known, name))
        if value is None:
            missing.append(name)
        else:
            out[name] = value
    if missing:
        fields = ", ".join(f"model.{n}" for n in missing)
        flags = ", ".join(FLAGS[n] for n in missing)
        them = "it" if len(missing) == 1 else "them"
        raise ScalingError(
            f"run.json: {fields} unknown (cost {cost} needs {them}); "
            f"import with {flags} or set {them} in run.json"
        )
    return out


def reward_params(manifest: Mapping[str, Any], cost: str) -> float:
    """The reward model's parameter count, or a one-line error saying how to add it."""
    value = _given((manifest.get("reward_model") or {}).get("params"))
    if value is None:
        raise ScalingError(
            f"run.json: reward_model.params unknown (cost {cost} needs it); "
            "import with --reward-params or set it in run.json"
        )
    return float(value)


def completion(work: Workload, usage: Usage) -> np.ndarray:
    """Mean completion tokens per drawn sample, a column (problems, 1)."""
    return (work.greedy_completion if usage.greedy else work.completion)[:, None]


def completion_sq(work: Workload, usage: Usage) -> np.ndarray:
    """Mean squared completion tokens per drawn sample, a column (problems, 1)."""
    if usage.greedy:
        return work.greedy_completion[:, None] ** 2
    return work.completion_sq[:, None]
