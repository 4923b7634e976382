"""Inference compute per problem (DESIGN.md §3), in two named accountings.

``paper`` (Wu et al. 2024, after Kaplan et al.): a forward pass costs 2 N FLOPs per token and
only the policy's generated tokens count, so k samples cost

    C_paper = 2 N * C * k                      (C: completion tokens per sample)

which reproduces their Table 4 (Llemma-7B greedy: 2 * 6.74e9 * 290.8 = 3.92e12 FLOPs).

``full`` (Brown et al. 2024, "Large Language Monkeys"): a token at context length L costs
2 (N + 2 n_layer d_model L) FLOPs (Kaplan's attention term). The prompt is processed once per
problem (its prefix is shared by the k samples), each completion token attends to the prompt and
the tokens before it, and a reward model of N_rm parameters reads every token it scores:

    prefill(P)   = sum_{i=1..P} 2 (N + 2 n_l d i)        = 2 N P + 2 n_l d P (P + 1)
    decode(P, C) = sum_{i=1..C} 2 (N + 2 n_l d (P + i))   = 2 N C + 4 n_l d (C P + C (C + 1)/2)
    C_full = prefill(P) + k * E[decode(P, C)] + 2 N_rm * (tokens scored)

decode is quadratic in C, so its mean over samples of unequal length needs E[C^2]
(``completion_sq``); by default C^2, exact when all samples have the same length.

Tree-search runs are priced by the tokens their expansions generated: 2 N * search_tokens
(+ 2 N_rm * search_rm_tokens under ``full``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scaling.errors import ScalingError

ACCOUNTINGS = ("paper", "full")

ArrayLike = float | np.ndarray


def _field(manifest: Mapping[str, Any], section: str, name: str, accounting: str) -> float:
    value = (manifest.get(section) or {}).get(name)
    if value is None or not np.isfinite(float(value)):
        raise ScalingError(
            f"run.json: '{section}.{name}' is unknown, needed for --flops {accounting}; "
            "add it to the manifest"
        )
    return float(value)


def _check(accounting: str) -> None:
    if accounting not in ACCOUNTINGS:
        raise ScalingError(f"--flops {accounting!r}: choose one of {', '.join(ACCOUNTINGS)}")


def flops_per_problem(
    manifest: Mapping[str, Any],
    prompt_tokens: ArrayLike,
    completion_tokens: ArrayLike,
    k: ArrayLike,
    *,
    accounting: str = "paper",
    rm_tokens: ArrayLike | None = None,
    completion_sq: ArrayLike | None = None,
) -> ArrayLike:
    """FLOPs to draw ``k`` samples for a problem (arrays broadcast, one entry per problem).

    ``prompt_tokens``: prompt length P; ``completion_tokens``: mean completion length C per
    sample; ``completion_sq``: mean of C^2 (``full`` only; default C^2); ``rm_tokens``: tokens
    the reward model scores for the problem in all (``full`` only; None = no reward model).
    """
    _check(accounting)
    n = _field(manifest, "model", "params", accounting)
    c = np.asarray(completion_tokens, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    if accounting == "paper":
        return 2.0 * n * c * k
    layers = _field(manifest, "model", "n_layers", accounting)
    width = _field(manifest, "model", "d_model", accounting)
    p = np.asarray(prompt_tokens, dtype=np.float64)
    c2 = c * c if completion_sq is None else np.asarray(completion_sq, dtype=np.float64)
    prefill = 2.0 * n * p + 2.0 * layers * width * p * (p + 1.0)
    decode = 2.0 * n * c + 4.0 * layers * width * (c * p + (c2 + c) / 2.0)
    total = prefill + k * decode
    if rm_tokens is not None:
        total = total + 2.0 * _field(manifest, "reward_model", "params", accounting) * np.asarray(
            rm_tokens, dtype=np.float64
        )
    return total


def search_flops_per_problem(
    manifest: Mapping[str, Any],
    search_tokens: ArrayLike,
    search_rm_tokens: ArrayLike | None = None,
    *,
    accounting: str = "paper",
) -> ArrayLike:
    """FLOPs of a tree search: 2 N per generated token of every expansion, plus under ``full``
    2 N_rm per token the process reward model scored."""
    _check(accounting)
    total = (
        2.0
        * _field(manifest, "model", "params", accounting)
        * np.asarray(search_tokens, dtype=np.float64)
    )
    if accounting == "full" and search_rm_tokens is not None:
        rm = _field(manifest, "reward_model", "params", accounting)
        total = total + 2.0 * rm * np.asarray(search_rm_tokens, dtype=np.float64)
    return total
