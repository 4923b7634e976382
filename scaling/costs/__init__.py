"""Cost models: one module per model, a registry from name to module.

Each module defines one ``CostModel`` subclass (``scaling.costs.base``) and exposes it as
``COST_MODEL``; adding a cost model is one module, one line here, and its tests. A cost model is
written ``name`` or ``name:param=value`` (``kinetics:intensity=300``, ``usd:prices=p.toml``),
several separated by commas, as strategies are (``scaling.specs``).

=========== =========== =====================================================================
name        unit        what it counts
=========== =========== =====================================================================
paper       FLOPs       2·N per generated policy token (Wu et al. 2024)
full        FLOPs       prefill, decode with attention, reward-model passes (Brown et al. 2024)
kinetics    eFLOPs      compute plus intensity x KV-cache bytes read (Sadhukhan et al. 2025)
gpu_seconds GPU-seconds measured GPU time of the collection, per generated token
usd         USD         a price table: per token (API models) or per GPU-hour
=========== =========== =====================================================================
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable

from scaling.costs.base import CostModel, Usage, Workload
from scaling.errors import ArgumentError
from scaling.specs import build, parse_specs

COST_MODELS: dict[str, str] = {
    "paper": "paper",
    "full": "full",
    "kinetics": "kinetics",
    "gpu_seconds": "gpu_seconds",
    "usd": "usd",
}

__all__ = [
    "COST_MODELS",
    "CostModel",
    "Usage",
    "Workload",
    "cost_model",
    "cost_model_class",
    "parse_costs",
]


def cost_model_class(name: str, argument: str = "cost") -> type[CostModel]:
    """The registered cost model called ``name``."""
    if name not in COST_MODELS:
        known = ", ".join(COST_MODELS)
        raise ArgumentError(argument, name, f"unknown cost model; choose from {known}")
    return importlib.import_module(f"scaling.costs.{COST_MODELS[name]}").COST_MODEL


def parse_costs(
    spec: str | CostModel | Iterable[str | CostModel],
    argument: str = "cost",
    **params: object,
) -> list[CostModel]:
    """Cost models from ``"paper,kinetics:intensity=300"``, a list of such words or
    ``CostModel`` objects; ``params`` (e.g. ``intensity=300``; None: not given) are set on
    every model that has such a parameter, and one that none of them has is an error named
    after it."""
    words = [spec] if isinstance(spec, CostModel) else spec
    models = parse_specs(words, cost_model_class, CostModel, argument, "cost model")
    for key, value in params.items():
        if value is None:
            continue
        takes = [m for m in models if key in {f.name for f in dataclasses.fields(m)}]
        if not takes:
            names = ", ".join(m.name for m in models)
            raise ArgumentError(key, value, f"cost model {names} has no parameter {key}")
        models = [
            build(type(m), {**m.params, key: value}, f"{m.name}:{key}={value}", key)
            if m in takes
            else m
            for m in models
        ]
    return models


def cost_model(spec: str | CostModel, argument: str = "cost") -> CostModel:
    """The one cost model ``spec`` names (``name`` or ``name:param=value``), or ``spec``
    itself when it is one."""
    models = parse_costs(spec, argument)
    if len(models) != 1:
        raise ArgumentError(argument, spec, "name one cost model here")
    return models[0]
