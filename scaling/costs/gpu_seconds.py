"""``gpu_seconds``: measured GPU time, attributed to samples per generated token.

``scaling collect`` records, over every session of a run, the GPU-seconds it held
(``extra.collect.gpu_s``: each session's wall time x the GPUs its engine used) and, when it
finishes, the completion tokens of every stored sample (``tokens.total_completion_tokens``). A
session's wall time covers everything it did: prefill and decoding, grading, the reward model's
scoring and writing shards. The measured time is attributed to samples in proportion to the
tokens they generated, so with s = gpu_s / total_completion_tokens seconds per generated token,
k samples of mean length C cost

    C_gpu = s C k

(the shape of ``paper`` with s in place of 2 N). Reward-model time is included in s and so is
spread over the generated tokens, not charged to the samples a strategy scores; a search run's
expansions cost s per token they generated. Time spent on samples that were never stored (an
interrupted session's unwritten work) raises s a little. Runs without measured times (imported
runs, or runs collected without a GPU) cannot be priced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling.costs.base import CostModel, Usage, Workload, completion
from scaling.errors import ScalingError


def seconds_per_token(manifest: Mapping[str, Any], cost: str) -> float:
    """Measured GPU-seconds per generated token of a collected run, or a one-line error naming
    the field it lacks."""
    gpu_s = ((manifest.get("extra") or {}).get("collect") or {}).get("gpu_s")
    tokens = (manifest.get("tokens") or {}).get("total_completion_tokens")
    if not gpu_s or not np.isfinite(float(gpu_s)):
        raise ScalingError(
            f"run.json: extra.collect.gpu_s unknown or 0 (cost {cost} needs measured GPU "
            "time); collect the run on a GPU with scaling collect"
        )
    if not tokens:
        raise ScalingError(
            f"run.json: tokens.total_completion_tokens unknown (cost {cost} needs it); "
            "finish the collection with scaling collect (it records the token totals)"
        )
    return float(gpu_s) / float(tokens)


@dataclass(frozen=True)
class GpuSeconds(CostModel):
    """Measured GPU-seconds per generated token."""

    name = "gpu_seconds"
    unit = "GPU-seconds"
    title = (
        "measured GPU-seconds of the collection, attributed to samples per generated token "
        "(reward-model time included)"
    )

    def cost(self, manifest: Mapping[str, Any], work: Workload, usage: Usage) -> np.ndarray:
        return seconds_per_token(manifest, self.name) * completion(work, usage) * usage.samples

    def search_cost(self, manifest: Mapping[str, Any], work: Workload) -> np.ndarray:
        return seconds_per_token(manifest, self.name) * work.search_tokens


COST_MODEL = GpuSeconds
