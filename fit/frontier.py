"""The compute frontier: Pareto set of (cost, accuracy) points and the best option per budget."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fit.results import percentile_interval


def pareto_front(
    points: pd.DataFrame, cost: str = "flops", value: str = "accuracy"
) -> pd.DataFrame:
    """Rows not dominated by another (no cheaper-or-equal row is at least as accurate and one
    strictly better), sorted by cost; of exact ties the first row is kept."""
    order = points.sort_values([cost, value], ascending=[True, False], kind="stable")
    best = np.maximum.accumulate(order[value].to_numpy(dtype=float))
    previous = np.concatenate([[-np.inf], best[:-1]])
    return order[order[value].to_numpy(dtype=float) > previous]


def budget_grid(start: float, stop: float, count: int) -> np.ndarray:
    """``count`` log-spaced budgets from ``start`` to ``stop`` inclusive."""
    if not (start > 0 and stop >= start and count >= 1):
        raise ValueError(
            f"budget grid needs 0 < start <= stop and count >= 1, got {start}, {stop}, {count}"
        )
    return np.geomspace(start, stop, count) if count > 1 else np.array([float(start)])


TIE = 1e-9  # accuracies closer than this are equal (identical strategies, rounding apart)


@dataclass
class Selection:
    """Per budget: the best option, its interval, the runner-up and the margin between them.

    Options within ``TIE`` of each other are tied: the cheaper one is named best (then the
    first), the margin is 0, and ``p_best``, the share of bootstrap replicates in which the best
    option is the most accurate (replicates are paired across options that share problems),
    credits a replicate's tied winners 1/m each.
    """

    best: np.ndarray  # option index, -1 where no option is feasible
    runner_up: np.ndarray  # -1 where fewer than two options are feasible
    accuracy: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    margin: np.ndarray
    margin_low: np.ndarray
    margin_high: np.ndarray
    p_best: np.ndarray


def select_best(
    accuracy: np.ndarray,
    draws: np.ndarray | None = None,
    level: float = 0.95,
    cost: np.ndarray | None = None,
) -> Selection:
    """Choose per budget (row of ``accuracy``, shape (budgets, options), NaN = infeasible) the
    most accurate option; ``draws`` (budgets, options, replicates) give the intervals; ``cost``
    (budgets, options) breaks ties (the cheaper option first)."""
    acc = np.where(np.isfinite(accuracy), accuracy, -np.inf)
    nb, no = acc.shape
    if no == 0:
        none, nan = np.full(nb, -1), np.full(nb, np.nan)
        return Selection(none, none.copy(), *(nan.copy() for _ in range(7)))
    rounded = np.where(np.isfinite(acc), np.round(acc / TIE) * TIE, -np.inf)
    tiebreak = np.zeros_like(acc) if cost is None else np.nan_to_num(cost, nan=np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(no), acc.shape), tiebreak, -rounded), axis=1)
    rows = np.arange(nb)
    feasible = np.isfinite(accuracy).sum(axis=1)
    best = np.where(feasible >= 1, order[:, 0], -1)
    runner = np.where(feasible >= 2, order[:, 1] if no > 1 else -1, -1)
    top = np.where(best >= 0, acc[rows, np.maximum(best, 0)], np.nan)
    second = np.where(runner >= 0, acc[rows, np.maximum(runner, 0)], np.nan)
    margin = top - second
    margin = np.where(np.abs(margin) < TIE, 0.0, margin)
    nan = np.full(nb, np.nan)
    lo, hi, m_lo, m_hi, p_best = nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy()
    if draws is not None and draws.shape[-1]:
        d_best = draws[rows, np.maximum(best, 0)]  # (budgets, replicates)
        d_run = draws[rows, np.maximum(runner, 0)]
        lo, hi = percentile_interval(d_best, level, axis=1)
        m_lo, m_hi = percentile_interval(d_best - d_run, level, axis=1)
        others = np.where(np.isfinite(draws), draws, -np.inf)
        winner = others.max(axis=1)  # (budgets, replicates)
        won = others >= winner[:, None, :] - TIE  # tied winners of each replicate
        share = won / np.maximum(won.sum(axis=1, keepdims=True), 1)
        mine = share[rows, np.maximum(best, 0)]
        p_best = np.where(best >= 0, np.where(np.isfinite(d_best), mine, 0.0).mean(axis=1), np.nan)
        m_lo, m_hi = np.where(runner >= 0, m_lo, np.nan), np.where(runner >= 0, m_hi, np.nan)
        lo, hi = np.where(best >= 0, lo, np.nan), np.where(best >= 0, hi, np.nan)
    return Selection(best, runner, top, lo, hi, margin, m_lo, m_hi, p_best)
