"""``kinetics``: compute plus memory traffic in equivalent FLOPs (Sadhukhan et al. 2025).

After Kinetics ("Kinetics: Rethinking Test-Time Scaling Laws", arXiv 2506.05333), whose dense
cost model is ``dense_cost`` in Infini-AI-Lab/Kinetics ``cost_model/utils.py``: a byte of memory
traffic costs I FLOPs, I the accelerator's arithmetic intensity (peak FLOPs per byte of memory
bandwidth), so eFLOPs = compute + I x bytes moved. With N parameters, n_l layers, H attention
heads and H_kv key-value heads of dimension d_h (D = d_h n_l), b bytes per element of the KV
cache, a prompt of P tokens and k samples of C tokens each:

    compute = k (2 N C + 2 H D (2 P C + C^2))
    bytes   = 2 b H_kv D (P C + k C^2 / 2)
    C_kinetics = compute + I x bytes

Decoding a token at context length L multiplies its query with L keys and L values in every
layer (2 H D L multiply-adds, 4 H D L FLOPs) and reads those keys and values (2 b H_kv D L
bytes); summed over the C steps of one sample the context contributes P C + C^2 / 2. The
prompt's KV cache is read once per step for all k samples of a problem (shared prefix), so its
term is not multiplied by k; each sample reads its own generated tokens' KV. Like Kinetics, the
expectation over samples of unequal length uses E[C] and E[C^2] (the prompt term over the mean
sample length), prefill, the weights' memory traffic (amortised over a batch) and reward-model
passes are not counted. With b = 2 (bfloat16) this is Kinetics' ``dense_cost`` exactly
(``tests/test_kinetics.py`` reproduces its published numbers).

``intensity`` defaults to 562.5 FLOPs per byte, the value Kinetics uses for an NVIDIA B200
(``E_flops = 562.5`` in ``cost_model/best_of_N/cost_model_ntrial.py``); b comes from the
model's dtype. A tree search run cannot be priced: its expansions' context lengths are not
recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling.costs.base import (
    CostModel,
    Usage,
    Workload,
    architecture,
    completion,
    completion_sq,
)
from scaling.errors import ScalingError

INTENSITY = 562.5  # FLOPs per byte, Kinetics' value for an NVIDIA B200
BYTES = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "int8": 1,
}


def element_bytes(dtype: str) -> int:
    """Bytes per element of a dtype named as torch names it (``bfloat16``, ``torch.float16``)."""
    name = str(dtype).removeprefix("torch.")
    if name not in BYTES:
        raise ScalingError(
            f"run.json: model.dtype {dtype!r} unknown to cost kinetics; set one of "
            f"{', '.join(BYTES)} in run.json"
        )
    return BYTES[name]


@dataclass(frozen=True)
class Kinetics(CostModel):
    """Compute plus I x memory traffic (Kinetics' dense model)."""

    intensity: float = INTENSITY

    name = "kinetics"
    unit = "eFLOPs"
    title = (
        "compute plus memory traffic (KV cache reads) times the accelerator's arithmetic "
        "intensity, in equivalent FLOPs (Kinetics, Sadhukhan et al. 2025)"
    )
    needs = ("params", "n_layers", "n_heads", "n_kv_heads", "head_dim", "dtype")

    def __post_init__(self):
        if not (np.isfinite(self.intensity) and self.intensity > 0):
            raise ValueError(
                f"intensity must be a positive number of FLOPs per byte, got {self.intensity}"
            )

    def cost(self, manifest: Mapping[str, Any], work: Workload, usage: Usage) -> np.ndarray:
        arch = architecture(manifest, self.needs, self.name)
        n = float(arch["params"])
        depth = float(arch["head_dim"]) * float(arch["n_layers"])
        heads, kv_heads = float(arch["n_heads"]), float(arch["n_kv_heads"])
        b = element_bytes(arch["dtype"])
        p = work.prompt[:, None]
        c, c2 = completion(work, usage), completion_sq(work, usage)
        k = usage.samples
        compute = k * (2.0 * n * c + 2.0 * heads * depth * (2.0 * p * c + c2))
        traffic = 2.0 * b * kv_heads * depth * (p * c + k * c2 / 2.0)
        return compute + self.intensity * traffic

    def search_cost(self, manifest: Mapping[str, Any], work: Workload) -> np.ndarray:
        raise ScalingError(
            "cost kinetics cannot price a tree search run: the context length of each "
            "expansion is not recorded; use --cost paper or full"
        )


COST_MODEL = Kinetics
