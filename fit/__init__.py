"""Pure numerics: curve families, robust fitting, bootstrap, Pareto frontier, optimal size.

Arrays and DataFrames in, results out; nothing here knows about files, runs or models.
"""

from fit.allocation import Allocation, allocate, crossfit_policy
from fit.backtest import Backtest, backtest, backtest_beta
from fit.beta import BetaFit, pass_at_k
from fit.claims import Claim, beats_everywhere
from fit.families import CURVE_FAMILIES, FAMILIES, Family, Param
from fit.frontier import Selection, budget_grid, pareto_front, select_best
from fit.law import (
    Dataset,
    LawFit,
    fit_law,
    fit_laws,
    law_shapes,
    restore_law,
    select_by_aic,
)
from fit.optimal import (
    OptimalSize,
    best_size_slope,
    cost_law,
    fit_optimal_size,
    optimal_size,
    size_exponent,
)
from fit.rows import fit_rows

__all__ = [
    "CURVE_FAMILIES",
    "FAMILIES",
    "Allocation",
    "Backtest",
    "BetaFit",
    "Claim",
    "Dataset",
    "Family",
    "LawFit",
    "Param",
    "Selection",
    "OptimalSize",
    "allocate",
    "backtest",
    "backtest_beta",
    "beats_everywhere",
    "best_size_slope",
    "budget_grid",
    "cost_law",
    "crossfit_policy",
    "fit_law",
    "fit_laws",
    "fit_optimal_size",
    "fit_rows",
    "law_shapes",
    "optimal_size",
    "pareto_front",
    "restore_law",
    "select_best",
    "select_by_aic",
    "size_exponent",
    "pass_at_k",
]
