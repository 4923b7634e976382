"""Exact estimators of inference strategies over all k-subsets of a problem's cached samples.

Each takes a ``Pool`` (many problems' samples in one flat layout) and budgets ``ks`` and returns
one value per (problem, budget); ``k`` is capped at each problem's ``n``. The adaptive strategies
(samples drawn one at a time in a random order until a rule stops, at most ``k_max``) return a
``Sequential``: the value and the expected number of samples drawn per (problem, ``k_max``).
"""

from scaling.estimators.best_of_n import best_of_n_at_k, max_rank_weights
from scaling.estimators.coverage import pass_at_k
from scaling.estimators.early_majority import early_majority_at_k
from scaling.estimators.early_weighted import early_weighted_majority_at_k
from scaling.estimators.majority import majority_at_k, win_probability
from scaling.estimators.pool import Pool
from scaling.estimators.rewards import AGGREGATIONS, aggregate_step_rewards
from scaling.estimators.sequential import EXACT_CELLS, Sequential
from scaling.estimators.verifier_threshold import verifier_threshold_at_k
from scaling.estimators.weighted import weighted_majority_at_k

__all__ = [
    "AGGREGATIONS",
    "EXACT_CELLS",
    "Pool",
    "Sequential",
    "aggregate_step_rewards",
    "best_of_n_at_k",
    "early_majority_at_k",
    "early_weighted_majority_at_k",
    "majority_at_k",
    "max_rank_weights",
    "pass_at_k",
    "verifier_threshold_at_k",
    "weighted_majority_at_k",
    "win_probability",
]
