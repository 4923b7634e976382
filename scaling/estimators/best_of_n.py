"""best-of-n@k: the sample with the largest reward among k wins (ties broken uniformly), exact."""

from __future__ import annotations

import numpy as np

from scaling.estimators.pool import Pool

_CHUNK = 1 << 22  # elements of the (budgets x n) weight matrix held at once


def max_rank_weights(n: int, ks: np.ndarray) -> np.ndarray:
    """w[k, r-1] = C(r-1, k-1)/C(n, k): the probability that the sample of rank r (from the
    bottom) is the largest of a uniform k-subset. Computed from the top, w_n = k/n and
    w_{r-1} = w_r (r-k)/(r-1), so no binomial coefficient is ever formed. Returns (K, n)."""
    ks = np.asarray(ks, dtype=np.float64)[:, None]
    r = np.arange(n, 1, -1, dtype=np.float64)[None, :]  # n, n-1, ..., 2
    factors = np.clip((r - ks) / (r - 1), 0.0, None)
    down = np.cumprod(np.concatenate([ks / n, np.broadcast_to(factors, (len(ks), n - 1))], 1), 1)
    return down[:, ::-1]


def best_of_n_at_k(pool: Pool, ks: np.ndarray) -> np.ndarray:
    """Exact best-of-n@k per problem, an array (P, K); ``k`` is capped at ``n`` per problem.

    Sort a problem's samples by reward; a tie group holding ranks a..b is the maximum of a
    k-subset with probability [C(b, k) - C(a-1, k)]/C(n, k) = sum_{r=a..b} w_r, and the uniform
    tie-break then returns each member of the group equally often, so every sample's correctness
    is replaced by its tie group's mean before weighting: value = sum_r w_r * mean_group(r).
    """
    if pool.reward is None:
        raise ValueError("best-of-n needs a reward per sample")
    ks = np.asarray(ks, dtype=np.int64)
    sizes = pool.sizes
    out = np.zeros((pool.n_problems, len(ks)))
    for n in np.unique(sizes[sizes > 0]):
        rows = np.flatnonzero(sizes == n)
        cols = pool.offsets[rows][:, None] + np.arange(n)[None, :]
        order = np.argsort(pool.reward[cols], axis=1, kind="stable")
        reward = np.take_along_axis(pool.reward[cols], order, axis=1)
        correct = np.take_along_axis(pool.correct[cols], order, axis=1)
        # tie groups: runs of equal rewards in each sorted row, numbered across the rows
        starts = np.ones(reward.shape, dtype=bool)
        starts[:, 1:] = reward[:, 1:] != reward[:, :-1]
        group = np.cumsum(starts.ravel()) - 1
        means = np.bincount(group, weights=correct.ravel()) / np.bincount(group)
        values = means[group].reshape(reward.shape)
        keff = np.minimum(ks, n)
        step = max(1, _CHUNK // int(n))
        for lo in range(0, len(ks), step):
            out[rows, lo : lo + step] = values @ max_rank_weights(int(n), keff[lo : lo + step]).T
    return out
