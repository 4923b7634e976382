"""Cost models: one module per model, a registry from name to module.

Each module defines one ``CostModel`` subclass (``scaling.costs.base``) and exposes it as
``COST_MODEL``; adding a cost model is one module, one line here, and its tests.

======== ======= ========================================================================
name     unit    what it counts
======== ======= ========================================================================
paper    FLOPs   2·N per generated policy token (Wu et al. 2024)
full     FLOPs   prefill, decode with attention, reward-model passes (Brown et al. 2024)
======== ======= ========================================================================
"""

from __future__ import annotations

import importlib

from scaling.costs.base import CostModel, Usage, Workload
from scaling.errors import ArgumentError

COST_MODELS: dict[str, str] = {"paper": "paper", "full": "full"}

__all__ = ["COST_MODELS", "CostModel", "Usage", "Workload", "cost_model"]


def cost_model(spec: str | CostModel, argument: str = "cost") -> CostModel:
    """The registered cost model called ``spec`` (or ``spec`` itself when it is one)."""
    if isinstance(spec, CostModel):
        return spec
    if spec not in COST_MODELS:
        known = ", ".join(COST_MODELS)
        raise ArgumentError(argument, spec, f"unknown cost model; choose from {known}")
    return importlib.import_module(f"scaling.costs.{COST_MODELS[spec]}").COST_MODEL()
