"""weighted-majority@k: each answer cluster scores the sum of its drawn samples' rewards; the
highest-scoring cluster among those drawn wins (ties uniform; unparsed answers abstain).

Exact where the subsets can be listed: k = 1 (the drawn sample's cluster wins, whatever its
reward), k = n (one vote), problems whose clusters all have the same correctness (the answer's
correctness then only needs a non-abstaining draw), and any budget with C(n, k) <= ``ENUMERATE``
(every subset is visited; for k > n/2 through the complements, whose scores are the totals
minus the complement's). Otherwise Monte Carlo over ``samples`` uniform k-subsets per problem
and budget, reported with its Monte Carlo variance: the prefixes of ``samples`` random
permutations give uniform subsets of every size at once; the problems of one pool size share
them, each problem's samples relabelled by its own seeded random permutation, which keeps the
subsets uniform and the problems' estimates independent. A tie is uniform among the clusters
whose scores are within ``1e-10 * (1 + sum |r|)`` of the best; its expected correctness is
taken exactly (the mean over the tied clusters).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scaling.estimators.compiling import inner
from scaling.estimators.coverage import pass_at_k
from scaling.estimators.pool import Pool
from scaling.estimators.threads import over_rows

ENUMERATE = 20_000  # list every subset when there are at most this many


@inner
def _vote(score, count, q, clusters, tol) -> float:
    """Expected correctness of the winner among ``clusters`` with count > 0 (0 if none)."""
    best = -np.inf
    for g in clusters:
        if count[g] > 0 and score[g] > best:
            best = score[g]
    if best == -np.inf:
        return 0.0
    hits, tied = 0.0, 0
    for g in clusters:
        if count[g] > 0 and score[g] >= best - tol:
            hits += q[g]
            tied += 1
    return hits / tied


@inner
def _draw_value(complement, tot_s, tot_c, score, count, q, touched, n_touched, tol):
    """Weighted vote of the drawn subset (``score``/``count`` accumulated over ``n_touched``
    clusters) or, for ``complement``, of the samples not drawn."""
    if not complement:
        return _vote(score, count, q, touched[:n_touched], tol)
    rest_s, rest_c = tot_s - score, tot_c - count
    return _vote(rest_s, rest_c, q, np.arange(len(q)), tol)


@inner
def _problem(cluster, reward, q, ks, prefixes, seed, values, variances):
    n = len(cluster)
    groups = len(q)
    tot_s = np.zeros(groups)
    tot_c = np.zeros(groups, dtype=np.int64)
    scale = 1.0
    for i in range(n):
        if cluster[i] >= 0:
            tot_s[cluster[i]] += reward[i]
            tot_c[cluster[i]] += 1
        scale += abs(reward[i])
    tol = 1e-10 * scale
    score = np.zeros(groups)
    count = np.zeros(groups, dtype=np.int64)
    touched = np.empty(groups, dtype=np.int64)
    same = np.all(q == q[0])
    sampled = np.zeros(len(ks), dtype=np.bool_)
    for col in range(len(ks)):
        k = min(ks[col], n)
        size = min(k, n - k)
        if k == n:
            values[col] = _vote(tot_s, tot_c, q, np.arange(groups), tol)
        elif k == 1 or same:  # closed forms, filled in by the caller
            continue
        elif _n_subsets(n, size) <= ENUMERATE:
            values[col] = _enumerate(n, size, k > n - k, cluster, reward, q, tot_s, tot_c, tol)
        else:
            sampled[col] = True
    cols = np.flatnonzero(sampled)
    if len(cols) == 0:
        return
    for a in range(1, len(cols)):  # by subset size (insertion sort: quicker to compile)
        c, b = cols[a], a
        while b > 0 and min(ks[cols[b - 1]], n - ks[cols[b - 1]]) > min(ks[c], n - ks[c]):
            cols[b] = cols[b - 1]
            b -= 1
        cols[b] = c
    # a uniform relabelling of this problem's samples makes the shared prefixes independent
    # uniform subsets for every problem (and across problems)
    np.random.seed(seed)
    relabel = np.random.permutation(n)
    cl, rw = cluster[relabel], reward[relabel]
    total = np.zeros(len(ks))
    total_sq = np.zeros(len(ks))
    for r in range(len(prefixes)):
        for i in range(groups):
            score[i] = 0.0
            count[i] = 0
        n_touched, pos = 0, 0
        for c in cols:  # prefixes of one random permutation: uniform subsets of every size
            k = ks[c]
            size = min(k, n - k)
            while pos < size:
                g = cl[prefixes[r, pos]]
                if g >= 0:
                    if count[g] == 0:
                        touched[n_touched] = g
                        n_touched += 1
                    score[g] += rw[prefixes[r, pos]]
                    count[g] += 1
                pos += 1
            v = _draw_value(k > n - k, tot_s, tot_c, score, count, q, touched, n_touched, tol)
            total[c] += v
            total_sq[c] += v * v
    samples = len(prefixes)
    for c in cols:
        mean = total[c] / samples
        values[c] = mean
        variances[c] = max(total_sq[c] / samples - mean * mean, 0.0) / (samples - 1)


@inner
def _enumerate(n, size, complement, cluster, reward, q, tot_s, tot_c, tol) -> float:
    """Mean weighted vote over every size-subset (or its complement), in lexicographic order."""
    groups = len(q)
    score = np.zeros(groups)
    count = np.zeros(groups, dtype=np.int64)
    members = np.arange(size)
    total, subsets = 0.0, 0
    while True:
        score[:] = 0.0
        count[:] = 0
        for i in range(size):
            g = cluster[members[i]]
            if g >= 0:
                score[g] += reward[members[i]]
                count[g] += 1
        if complement:
            total += _vote(tot_s - score, tot_c - count, q, np.arange(groups), tol)
        else:
            total += _vote(score, count, q, np.arange(groups), tol)
        subsets += 1
        if not _next_combination(members, size, n):
            break
    return total / subsets


@inner
def _n_subsets(n: int, size: int) -> float:
    out = 1.0
    for i in range(size):
        out = out * (n - i) / (i + 1)
    return np.round(out)


@inner
def _next_combination(members, size, n) -> bool:
    """Advance ``members[:size]`` to the next size-subset of range(n) in lexicographic order."""
    i = size - 1
    while i >= 0 and members[i] == n - size + i:
        i -= 1
    if i < 0:
        return False
    members[i] += 1
    for r in range(i + 1, size):
        members[r] = members[r - 1] + 1
    return True


@njit(cache=True, nogil=True)
def _weighted_kernel(
    rows, offsets, cluster, reward, q, q_offsets, ks, prefixes, seed, values, variances
):
    for i in rows:
        lo, hi = offsets[i], offsets[i + 1]
        qi = q[q_offsets[i] : q_offsets[i + 1]]
        if hi == lo or len(qi) == 0:
            continue
        _problem(cluster[lo:hi], reward[lo:hi], qi, ks, prefixes, seed + i, values[i], variances[i])


def weighted_majority_at_k(
    pool: Pool, ks: np.ndarray, *, samples: int = 256, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """weighted-majority@k per problem and its Monte Carlo variance (0 where exact), each (P, K).

    ``k`` is capped at ``n`` per problem; ``samples`` random subsets per (problem, budget) where
    the budget is neither listed exhaustively nor settled in closed form; ``seed`` seeds the
    shared permutations and, as ``seed + i``, problem i's relabelling.
    """
    if pool.reward is None or pool.cluster is None:
        raise ValueError("weighted majority needs answer clusters and rewards")
    if samples < 2:
        raise ValueError("weighted majority needs at least 2 Monte Carlo samples")
    ks = np.asarray(ks, dtype=np.int64)
    m, q, q_offsets, z = pool.cluster_stats()
    n = pool.sizes
    values = np.zeros((pool.n_problems, len(ks)))
    variances = np.zeros((pool.n_problems, len(ks)))
    if pool.n_problems == 0 or len(ks) == 0:
        return values, variances
    rng = np.random.default_rng(seed)
    for size in np.unique(n[n > 0]):  # problems of one pool size share the random prefixes
        rows = np.flatnonzero(n == size)
        depth = int(max(min(k, size - k) for k in np.minimum(ks, size)))
        prefixes = rng.permuted(np.tile(np.arange(size), (samples, 1)), axis=1)[:, : max(depth, 1)]
        over_rows(
            _weighted_kernel,
            rows,
            pool.offsets,
            pool.cluster,
            pool.reward,
            q,
            q_offsets,
            ks,
            prefixes,
            seed,
            values,
            variances,
        )
    # closed forms, exact: one drawn sample wins whatever its reward; equal correctness in all
    # clusters means the answer is right whenever a non-abstaining sample is drawn
    keff = np.minimum(ks[None, :], n[:, None])
    answered = pass_at_k(n, n - z, ks)  # P(some drawn sample has an answer)
    owner = np.repeat(np.arange(pool.n_problems), np.diff(q_offsets))
    hits = np.bincount(owner, weights=q * m, minlength=pool.n_problems)
    low = np.full(pool.n_problems, np.inf)
    high = np.full(pool.n_problems, -np.inf)
    np.minimum.at(low, owner, q)
    np.maximum.at(high, owner, q)
    same = low == high
    first = np.where(same, high, 0.0)
    one = keff == 1
    closed = (one | (same[:, None] & (keff < n[:, None]))) & (n[:, None] > 0)
    closed_values = np.where(
        one, hits[:, None] / np.maximum(n, 1)[:, None], first[:, None] * answered
    )
    values[closed] = closed_values[closed]
    variances[closed] = 0.0
    return values, variances


KERNELS = (_weighted_kernel,)  # compiled on first use (see ``scaling.estimators.compiling``)


def warm(pool: Pool, ks: np.ndarray) -> None:
    """Compile (and cache) ``KERNELS`` by replaying ``pool``."""
    weighted_majority_at_k(pool, ks)
