"""``full``: prefill once, decode with the attention term, and the reward model's passes.

After Brown et al. 2024 ("Large Language Monkeys"): a token at context length L costs
2 (N + 2 n_layer d_model L) FLOPs (Kaplan's attention term). The prompt (P tokens) is processed
once per problem, its prefix shared by the k samples; each completion token attends to the
prompt and the tokens before it; a reward model of N_rm parameters reads every token it scores:

    prefill(P)   = sum_{i=1..P} 2 (N + 2 n_l d i)        = 2 N P + 2 n_l d P (P + 1)
    decode(P, C) = sum_{i=1..C} 2 (N + 2 n_l d (P + i))   = 2 N C + 4 n_l d (C P + C (C + 1)/2)
    C_full = prefill(P) + k E[decode(P, C)] + 2 N_rm (scored samples) (P + C)

decode is quadratic in C, so its mean over samples of unequal length uses E[C^2]. A tree
search costs 2 N per token of its expansions plus 2 N_rm per token its reward model scored.
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
    reward_params,
)


@dataclass(frozen=True)
class Full(CostModel):
    """Prefill, decode with attention, reward-model passes."""

    name = "full"
    unit = "FLOPs"
    title = (
        "prompt prefilled once per problem, decoding with the attention term, plus "
        "reward-model passes (Brown et al. 2024)"
    )

    needs = ("params", "n_layers", "d_model")

    def cost(self, manifest: Mapping[str, Any], work: Workload, usage: Usage) -> np.ndarray:
        arch = architecture(manifest, self.needs, self.name)
        n, layers, width = (float(arch[name]) for name in self.needs)
        p = work.prompt[:, None]
        c = completion(work, usage)
        c2 = completion_sq(work, usage)
        prefill = 2.0 * n * p + 2.0 * layers * width * p * (p + 1.0)
        decode = 2.0 * n * c + 4.0 * layers * width * (c * p + (c2 + c) / 2.0)
        total = prefill + usage.samples * decode
        if np.any(usage.scored > 0):
            rm = reward_params(manifest, self.name)
            total = total + 2.0 * rm * usage.scored * (p + c)
        return total

    def search_cost(self, manifest: Mapping[str, Any], work: Workload) -> np.ndarray:
        n = architecture(manifest, ("params",), self.name)["params"]
        rm = reward_params(manifest, self.name)
        return 2.0 * n * work.search_tokens + 2.0 * rm * work.search_rm_tokens


COST_MODEL = Full
