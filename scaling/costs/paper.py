"""``paper``: 2 N FLOPs per generated token of the policy (Wu et al. 2024, after Kaplan et al.).

Only the policy's generated tokens count, so k samples of mean length C cost

    C_paper = 2 N C k

which reproduces Wu et al.'s Table 4 (Llemma-7B greedy: 2 x 6.74e9 x 290.8 = 3.92e12 FLOPs per
problem); a tree search costs 2 N per token of all its expansions. Prompt and reward model are
not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling.costs.base import CostModel, Usage, Workload, architecture, completion


@dataclass(frozen=True)
class Paper(CostModel):
    """2 N per generated policy token."""

    name = "paper"
    unit = "FLOPs"
    title = (
        "2·N FLOPs per generated token of the policy; prompt and reward model not counted "
        "(Wu et al. 2024)"
    )

    needs = ("params",)

    def cost(self, manifest: Mapping[str, Any], work: Workload, usage: Usage) -> np.ndarray:
        n = architecture(manifest, self.needs, self.name)["params"]
        return 2.0 * n * completion(work, usage) * usage.samples

    def search_cost(self, manifest: Mapping[str, Any], work: Workload) -> np.ndarray:
        return 2.0 * architecture(manifest, self.needs, self.name)["params"] * work.search_tokens


COST_MODEL = Paper
