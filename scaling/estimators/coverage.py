"""pass@k (coverage with an oracle verifier), exact over all k-subsets."""

from __future__ import annotations

import numpy as np

_CHUNK = 1 << 22  # elements of the (problems x k) work array held at once


def pass_at_k(n: np.ndarray, c: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Unbiased pass@k for problems with ``n`` samples of which ``c`` are correct.

    pass@k = 1 - C(n-c, k)/C(n, k) = 1 - prod_{j=n-c+1..n} (1 - k/j); the same ratio equals
    prod_{i=0..k-1} (1 - c/(n-i)), so one cumulative product gives every k at once (relative
    rounding error below k * 2^-53). ``k`` is capped at ``n`` per problem (pass@n = 1 when any
    sample is correct; a problem without samples scores 0). Returns an array (P, K).
    """
    n = np.asarray(n, dtype=np.int64)
    c = np.asarray(c, dtype=np.float64)
    ks = np.asarray(ks, dtype=np.int64)
    out = np.zeros((len(n), len(ks)))
    kmax = int(min(ks.max(initial=0), n.max(initial=0)))
    if kmax == 0:
        return out
    i = np.arange(kmax)
    step = max(1, _CHUNK // kmax)
    for lo in range(0, len(n), step):
        nn, cc = n[lo : lo + step, None], c[lo : lo + step, None]
        left = nn - i[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(left > cc, 1.0 - cc / left, 0.0)
        ratio = np.cumprod(factor, axis=1)  # ratio[:, k-1] = C(n-c, k)/C(n, k)
        keff = np.minimum(ks[None, :], nn)
        rows = np.arange(len(nn))[:, None]
        out[lo : lo + step] = np.where(keff > 0, 1.0 - ratio[rows, np.maximum(keff, 1) - 1], 0.0)
    return out
