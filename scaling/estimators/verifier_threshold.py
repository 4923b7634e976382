"""Verifier threshold: draw samples one at a time (uniformly random order, without replacement)
and stop at the first whose reward is at least ``tau``, answering with it; if none of the first
``k_max`` is accepted, answer best-of-k_max among them (the largest reward, ties uniform). Exact,
in closed form.

With A accepted samples (reward >= tau, c_A of them correct) and R = n - A rejected, the first
acceptance F is negative hypergeometric: P(F > t) = C(R, t)/C(n, t), the chance that the first t
draws are all rejected, and the accepted sample is a uniform one of the A, whatever F is. Given
F > k, the first k draws are a uniform k-subset of the rejected samples. Hence

    value(k) = (1 - C(R, k)/C(n, k)) c_A/A + C(R, k)/C(n, k) best-of-n@k(rejected),
    E[K](k)  = E[min(F, k)] = sum_{t<k} C(R, t)/C(n, t) = (n + 1)/(A + 1) (1 - C(R, k)/C(n + 1, k)),

the last by telescoping (C(R, t)/C(n, t) = (n+1)/(A+1) [g(t) - g(t+1)], g(t) = C(R, t)/C(n+1, t)).
At k = n it is the negative hypergeometric mean (n + 1)/(A + 1); with A = 0 it is k.
"""

from __future__ import annotations

import numpy as np

from scaling.errors import ArgumentError
from scaling.estimators.best_of_n import best_of_n_at_k
from scaling.estimators.coverage import pass_at_k
from scaling.estimators.pool import Pool
from scaling.estimators.sequential import Sequential


def verifier_threshold_at_k(pool: Pool, ks: np.ndarray, *, tau: float) -> Sequential:
    """The verifier-threshold strategy at every ``k_max`` in ``ks`` (capped at each problem's
    n), exact: expected correctness and expected samples drawn, (P, K); Monte Carlo variances 0.
    A sample is accepted when its reward is >= ``tau`` (a NaN reward never is)."""
    if pool.reward is None:
        raise ValueError("the verifier threshold needs a reward per sample")
    if np.isnan(tau):
        raise ArgumentError("tau", tau, "must be a number (inf: never accept)")
    ks = np.asarray(ks, dtype=np.int64)
    if np.any(ks < 0):
        raise ArgumentError("ks", ks.tolist(), "budgets must be >= 0")
    n = pool.sizes.astype(np.int64)
    pid = pool.problem_index
    accept = pool.reward >= tau
    a = np.bincount(pid[accept], minlength=pool.n_problems)
    hits = np.bincount(pid[accept], weights=pool.correct[accept], minlength=pool.n_problems)
    keff = np.minimum(ks[None, :], n[:, None])
    none_yet = 1.0 - pass_at_k(n, a, ks)  # C(R, k)/C(n, k), k capped at n
    rejected = Pool(
        np.concatenate([[0], np.cumsum(n - a)]), pool.correct[~accept], reward=pool.reward[~accept]
    )
    fallback = best_of_n_at_k(rejected, ks) if len(ks) else np.zeros((pool.n_problems, 0))
    first = np.divide(hits, a, out=np.zeros(pool.n_problems), where=a > 0)
    values = (1.0 - none_yet) * first[:, None] + none_yet * fallback
    # E[min(F, k)] = (n + 1)/(A + 1) (1 - C(R, k)/C(n + 1, k)); pass_at_k caps k at n + 1, so the
    # budgets beyond n take the k = n value, where C(R, n)/C(n + 1, n) = [A = 0]/(n + 1)
    tail = 1.0 - pass_at_k(n + 1, a + 1, ks)
    tail = np.where(ks[None, :] >= n[:, None], (a == 0)[:, None] / (n + 1.0)[:, None], tail)
    samples = (n + 1.0)[:, None] / (a + 1.0)[:, None] * (1.0 - tail)
    values, samples = np.where(keff > 0, values, 0.0), np.where(keff > 0, samples, 0.0)
    zeros = np.zeros_like(values)
    return Sequential(values, samples, zeros, zeros.copy(), np.ones(pool.n_problems, dtype=bool))
