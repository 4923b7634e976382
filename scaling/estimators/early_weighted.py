"""Early-stopping weighted majority: the early-stopping rules on summed rewards, replayed exactly
or by seeded Monte Carlo.

Samples are drawn one at a time in a uniformly random order without replacement; each parsed
answer adds its reward r to its cluster's score (unparsed answers abstain). With ``a`` the
leader's score and ``b = max(0, the best other drawn cluster's score)`` (an answer not yet seen
scores 0), stop when ``a - b >= lead`` (``lead`` in reward units) or when
P(p > 1/2) >= ``confidence`` for p ~ Beta(a + 1, b + 1), the reward sums acting as fractional
pseudo-counts (a sample of reward r is r observations of its answer; needs rewards >= 0, e.g.
verifier probabilities), or at ``k_max``. With every reward 1 both rules are early-stopping
majority's. The answer is the highest-scoring drawn cluster (ties within 1e-10 (1 + sum |r|)
uniform; a cluster counts as its fraction of correct samples); no drawn answer is incorrect.
See ``scaling.estimators.sequential`` for the exact program and the Monte Carlo.
"""

from __future__ import annotations

import numpy as np

from scaling.estimators.pool import Pool
from scaling.estimators.sequential import (
    EXACT_CELLS,
    Sequential,
    check_arguments,
    never_stops,
    replay_votes,
)
from scaling.estimators.weighted import weighted_majority_at_k


def early_weighted_majority_at_k(
    pool: Pool,
    ks: np.ndarray,
    *,
    lead: float | None = None,
    confidence: float | None = None,
    mc_samples: int = 256,
    seed: int = 0,
    exact_cells: int = EXACT_CELLS,
) -> Sequential:
    """Early-stopping weighted majority at every ``k_max`` in ``ks`` (capped at each problem's
    n): the expected correctness, the expected samples drawn and their Monte Carlo variances,
    (P, K).

    ``lead`` (reward units, > 0) and ``confidence`` (in (1/2, 1]) switch their rules on (None:
    off; both off = weighted-majority@k_max); exact where the program fits in ``exact_cells``
    (samples of one cluster with equal rewards are interchangeable), otherwise ``mc_samples``
    orderings per problem seeded by ``seed``."""
    if pool.reward is None or pool.cluster is None:
        raise ValueError("early-stopping weighted majority needs answer clusters and rewards")
    voting = pool.reward[pool.cluster >= 0]
    if not np.all(np.isfinite(voting)):
        raise ValueError("early-stopping weighted majority needs a finite reward per answer")
    if confidence is not None and np.any(voting < 0):
        raise ValueError(
            "the confidence rule reads rewards as pseudo-counts and needs rewards >= 0; "
            "use lead, or rewards on [0, 1]"
        )
    ks = check_arguments(ks, lead, confidence, mc_samples, seed, exact_cells)
    if never_stops(lead, confidence):  # weighted-majority@k_max at cost k_max
        keff = np.minimum(ks[None, :], pool.sizes[:, None]).astype(np.float64)
        values, mc_var = weighted_majority_at_k(pool, ks, samples=mc_samples, seed=seed)
        exact = ~np.any(mc_var > 0, axis=1)
        return Sequential(values, keff, mc_var, np.zeros_like(keff), exact)
    return replay_votes(
        pool,
        ks,
        pool.reward,
        lead=lead,
        confidence=confidence,
        mc_samples=mc_samples,
        seed=seed,
        exact_cells=exact_cells,
    )
