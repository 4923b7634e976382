"""Pure numerics: curve families, robust fitting, bootstrap, Pareto frontier, optimal size.

Arrays and DataFrames in, results out; nothing here knows about files, runs or models.
"""

from fit.backtest import Backtest, backtest, backtest_beta
from fit.beta import BetaFit, pass_at_k
from fit.claims import Claim, beats_everywhere
from fit.families import CURVE_FAMILIES, FAMILIES, Family, Param
from fit.frontier import Selection, budget_grid, pareto_front, select_best
from fit.law import Dataset, LawFit, fit_law, fit_laws, select_by_aic
from fit.optimal import SizeLaw, optimal_size, size_exponent
from fit.rows import fit_rows

__all__ = [
    "CURVE_FAMILIES",
    "FAMILIES",
    "Backtest",
    "BetaFit",
    "Claim",
    "Dataset",
    "Family",
    "LawFit",
    "Param",
    "Selection",
    "SizeLaw",
    "backtest",
    "backtest_beta",
    "beats_everywhere",
    "budget_grid",
    "fit_law",
    "fit_laws",
    "fit_rows",
    "optimal_size",
    "pareto_front",
    "select_best",
    "select_by_aic",
    "size_exponent",
    "pass_at_k",
]
