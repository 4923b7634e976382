"""Early-stopping majority (adaptive consistency, Aggarwal et al. 2023; early-stopping
self-consistency, Li et al. 2024), replayed exactly or by seeded Monte Carlo.

Samples are drawn one at a time in a uniformly random order without replacement; each parsed
answer is one vote for its cluster (unparsed answers abstain). With ``a`` the leader's votes and
``b`` the runner-up's (0 if no other answer has been drawn), stop when ``a - b >= lead`` or when
P(p > 1/2) >= ``confidence`` for p ~ Beta(a + 1, b + 1) (a uniform prior on the leader's share of
the top two; for counts P = P(Bin(a + b + 1, 1/2) <= a), Aggarwal et al.'s Beta criterion), or at
``k_max``. The answer is the leader (ties uniform over the tied clusters; a cluster counts as its
fraction of correct samples); no drawn answer is incorrect. The cost is the number drawn.
See ``scaling.estimators.sequential`` for the exact program and the Monte Carlo.
"""

from __future__ import annotations

import numpy as np

from scaling.estimators.majority import majority_at_k
from scaling.estimators.pool import Pool
from scaling.estimators.sequential import (
    EXACT_CELLS,
    Sequential,
    check_arguments,
    never_stops,
    replay_votes,
)


def early_majority_at_k(
    pool: Pool,
    ks: np.ndarray,
    *,
    lead: float | None = None,
    confidence: float | None = None,
    mc_samples: int = 256,
    seed: int = 0,
    exact_cells: int = EXACT_CELLS,
) -> Sequential:
    """Early-stopping majority at every ``k_max`` in ``ks`` (capped at each problem's n): the
    expected correctness, the expected samples drawn and their Monte Carlo variances, (P, K).

    ``lead`` (votes, > 0) and ``confidence`` (in (1/2, 1]) switch their rules on (None: off;
    both off = majority@k_max); exact where the program fits in ``exact_cells``, otherwise
    ``mc_samples`` orderings per problem seeded by ``seed``."""
    if pool.cluster is None:
        raise ValueError("early-stopping majority needs answer clusters")
    ks = check_arguments(ks, lead, confidence, mc_samples, seed, exact_cells)
    if never_stops(lead, confidence):  # majority@k_max at cost k_max, exact
        keff = np.minimum(ks[None, :], pool.sizes[:, None]).astype(np.float64)
        zeros = np.zeros_like(keff)
        exact = np.ones(pool.n_problems, dtype=bool)
        return Sequential(majority_at_k(pool, ks), keff, zeros, zeros.copy(), exact)
    return replay_votes(
        pool,
        ks,
        np.ones(len(pool.correct)),
        lead=lead,
        confidence=confidence,
        mc_samples=mc_samples,
        seed=seed,
        exact_cells=exact_cells,
    )
