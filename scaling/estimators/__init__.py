"""Exact estimators of inference strategies over all k-subsets of a problem's cached samples.

Each takes a ``Pool`` (many problems' samples in one flat layout) and budgets ``ks`` and returns
one value per (problem, budget); ``k`` is capped at each problem's ``n``.
"""

from scaling.estimators.best_of_n import best_of_n_at_k, max_rank_weights
from scaling.estimators.coverage import pass_at_k
from scaling.estimators.majority import majority_at_k, win_probability
from scaling.estimators.pool import Pool
from scaling.estimators.rewards import AGGREGATIONS, aggregate_step_rewards
from scaling.estimators.weighted import weighted_majority_at_k

__all__ = [
    "AGGREGATIONS",
    "Pool",
    "aggregate_step_rewards",
    "best_of_n_at_k",
    "majority_at_k",
    "max_rank_weights",
    "pass_at_k",
    "weighted_majority_at_k",
    "win_probability",
]
