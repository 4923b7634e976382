r"""How a level-synchronous tree search splits its remaining budget over the open nodes.

Pure functions of the open nodes' rewards and the remaining budget B (the number of solutions
still to finish); each returns the number of children W_j of every open node, with
:math:`\sum_j W_j = B` exactly.

REBASE (Wu et al. 2024, §3.1.2): node j with PRM reward R_j gets a share
:math:`p_j = \exp(R_j/T) / \sum_i \exp(R_i/T)` (T = ``temperature``; the paper uses 0.1, the
authors' released config 0.2). The widths are the largest-remainder rounding of
:math:`B p_j`: :math:`W_j = \lfloor B p_j \rfloor`, plus one for the
:math:`B - \sum_i \lfloor B p_i \rfloor` nodes with the largest fractional parts (ties: the larger
reward, then the earlier node). So :math:`|W_j - B p_j| < 1`, a larger reward never gets fewer
children, equal rewards split B evenly (widths differ by at most one), T = 0 is the limit
T -> 0+ (B split evenly over the best nodes) and T = inf is the uniform split.

Beam search (Snell et al. 2024): the top :math:`\lceil B/M \rceil` nodes by reward (ties: the
earlier node) are kept; each gets M children (M = ``beam_width``) but the lowest-ranked kept one,
which gets the rest, :math:`B - (\lceil B/M \rceil - 1) M`. With the full budget B = N this is
Snell et al.'s "keep N/M, expand each M times"; once finished solutions have left, the kept
beams shrink with the budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scaling.errors import ScalingError


def _check(rewards: Sequence[float], budget: int) -> list[float]:
    if budget < 0 or int(budget) != budget:
        raise ScalingError(f"search budget must be a non-negative integer, got {budget}")
    values = [float(r) for r in rewards]
    if any(not math.isfinite(r) for r in values):
        raise ScalingError(f"node rewards must be finite numbers, got {values}")
    if budget and not values:
        raise ScalingError(f"a budget of {budget} needs at least one open node to expand")
    return values


def softmax_shares(rewards: Sequence[float], temperature: float) -> list[float]:
    """:math:`p_j \\propto \\exp(R_j/T)`; T = 0: even over the maxima; T = inf: uniform."""
    values = [float(r) for r in rewards]
    if not temperature >= 0:
        raise ScalingError(f"--rebase-temperature {temperature}: must be >= 0")
    if not values:
        return []
    top = max(values)
    if temperature == 0:
        weights = [1.0 if r == top else 0.0 for r in values]
    elif math.isinf(temperature):
        weights = [1.0] * len(values)
    else:
        weights = [math.exp((r - top) / temperature) for r in values]
    total = math.fsum(weights)
    return [w / total for w in weights]


def largest_remainder(
    shares: Sequence[float], total: int, priority: Sequence[float] | None = None
) -> list[int]:
    """Integers :math:`W_j` summing to ``total`` with :math:`|W_j - total \\cdot p_j| < 1`.

    Floors of ``total * shares``, plus one for the largest fractional parts; ties go to the
    larger ``priority`` (default: none), then to the earlier position.
    """
    exact = [total * p for p in shares]
    widths = [math.floor(x) for x in exact]
    left = total - sum(widths)
    prio = priority if priority is not None else [0.0] * len(shares)
    order = sorted(range(len(exact)), key=lambda j: (-(exact[j] - widths[j]), -prio[j], j))
    for j in order[:left]:
        widths[j] += 1
    return widths


def rebase_widths(rewards: Sequence[float], budget: int, temperature: float = 0.1) -> list[int]:
    """REBASE children per open node: largest-remainder rounding of ``budget * softmax(R/T)``."""
    values = _check(rewards, budget)
    return largest_remainder(softmax_shares(values, temperature), int(budget), values)


def beam_widths(rewards: Sequence[float], budget: int, beam_width: int) -> list[int]:
    """Beam-search children per open node: M for each of the top ceil(B/M), the rest to the last."""
    values = _check(rewards, budget)
    if beam_width < 1:
        raise ScalingError(f"--beam-width {beam_width}: must be at least 1")
    keep = min(len(values), math.ceil(budget / beam_width))
    ranked = sorted(range(len(values)), key=lambda j: (-values[j], j))
    widths = [0] * len(values)
    for rank, j in enumerate(ranked[:keep]):
        widths[j] = beam_width if rank < keep - 1 else budget - beam_width * (keep - 1)
    return widths
