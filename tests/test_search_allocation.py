"""Width allocation of REBASE and beam search: exact sums, limits, and properties (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collect.search.allocation import (
    beam_widths,
    largest_remainder,
    rebase_widths,
    softmax_shares,
)
from scaling.errors import ScalingError

rewards_lists = st.lists(
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1, max_size=12
)
budgets = st.integers(min_value=0, max_value=200)
temperatures = st.one_of(
    st.just(0.0), st.floats(min_value=1e-3, max_value=100.0), st.just(math.inf)
)


@given(rewards_lists, budgets, temperatures)
def test_rebase_widths_sum_exactly_and_round_the_softmax(rewards, budget, temperature):
    widths = rebase_widths(rewards, budget, temperature)
    assert sum(widths) == budget
    assert all(w >= 0 for w in widths)
    shares = softmax_shares(rewards, temperature)
    assert math.isclose(math.fsum(shares), 1.0)
    for w, p in zip(widths, shares, strict=True):
        assert abs(w - budget * p) < 1 + 1e-9


@given(rewards_lists, budgets, temperatures)
def test_a_larger_reward_never_gets_fewer_children(rewards, budget, temperature):
    widths = rebase_widths(rewards, budget, temperature)
    for i, ri in enumerate(rewards):
        for j, rj in enumerate(rewards):
            if ri > rj:
                assert widths[i] >= widths[j]


@given(
    st.floats(min_value=-5, max_value=5, allow_nan=False),
    st.integers(min_value=1, max_value=10),
    budgets,
    temperatures,
)
def test_equal_rewards_split_evenly(reward, nodes, budget, temperature):
    widths = rebase_widths([reward] * nodes, budget, temperature)
    assert sum(widths) == budget
    assert max(widths) - min(widths) <= 1
    assert widths == sorted(widths, reverse=True)  # the remainder goes to the earlier nodes


def test_even_split_when_divisible():
    assert rebase_widths([0.3] * 4, 16) == [4, 4, 4, 4]


def test_temperature_to_zero_gives_all_width_to_the_best_node():
    rewards = [0.2, 0.9, 0.5, 0.85]
    assert rebase_widths(rewards, 16, 0.0) == [0, 16, 0, 0]
    assert rebase_widths(rewards, 16, 1e-4) == [0, 16, 0, 0]
    # the limit T -> 0+ splits evenly among tied best nodes
    assert rebase_widths([0.9, 0.1, 0.9], 5, 0.0) == [3, 0, 2]


def test_temperature_to_infinity_gives_a_uniform_split():
    rewards = [0.0, 1.0, 0.4, 0.7]
    assert rebase_widths(rewards, 12, math.inf) == [3, 3, 3, 3]
    assert rebase_widths(rewards, 12, 1e6) == [3, 3, 3, 3]
    spread = [max(rebase_widths(rewards, 400, t)) for t in (0.05, 0.1, 0.5, 5.0)]
    assert spread == sorted(spread, reverse=True)  # hotter, flatter


def test_paper_temperature_example():
    # B = 10, rewards 0.8 / 0.7 / 0.5 at T = 0.1: shares e^8, e^7, e^5 normalised
    e = [math.exp(8), math.exp(7), math.exp(5)]
    exact = [10 * x / sum(e) for x in e]
    widths = rebase_widths([0.8, 0.7, 0.5], 10, 0.1)
    assert widths == [7, 3, 0]
    assert [math.floor(x) for x in exact] == [7, 2, 0]  # 2.58 rounds up: the largest remainder


def test_largest_remainder_breaks_ties_by_priority_then_position():
    assert largest_remainder([0.5, 0.5], 1) == [1, 0]
    assert largest_remainder([0.5, 0.5], 1, priority=[0.1, 0.2]) == [0, 1]
    assert largest_remainder([0.25] * 4, 6) == [2, 2, 1, 1]


def test_budget_zero_and_errors():
    assert rebase_widths([0.1, 0.2], 0) == [0, 0]
    assert rebase_widths([], 0) == []
    with pytest.raises(ScalingError, match="at least one open node"):
        rebase_widths([], 3)
    with pytest.raises(ScalingError, match="finite"):
        rebase_widths([0.1, math.nan], 3)
    with pytest.raises(ScalingError, match="non-negative integer"):
        rebase_widths([0.1], -1)
    with pytest.raises(ScalingError, match="rebase-temperature"):
        rebase_widths([0.1], 2, -0.5)
    with pytest.raises(ScalingError, match="beam-width"):
        beam_widths([0.1], 2, 0)


@given(rewards_lists, st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=8))
def test_beam_widths_keep_the_top_ceil_b_over_m(rewards, beam_width, beams):
    budget = min(len(rewards), beam_width * beams)  # the level loop has as many open nodes as B
    widths = beam_widths(rewards, budget, beam_width)
    assert sum(widths) == budget
    kept = [j for j, w in enumerate(widths) if w]
    assert len(kept) == math.ceil(budget / beam_width)
    assert all(widths[j] <= beam_width for j in kept)
    assert sum(w == beam_width for w in widths) >= len(kept) - 1
    worst_kept = min(rewards[j] for j in kept) if kept else math.inf
    assert all(rewards[j] <= worst_kept for j in range(len(rewards)) if j not in kept)


def test_beam_widths_full_budget_keeps_n_over_m():
    rewards = [0.1, 0.9, 0.3, 0.8, 0.5, 0.2, 0.7, 0.4]
    assert beam_widths(rewards, 8, 4) == [0, 4, 0, 4, 0, 0, 0, 0]
    assert beam_widths(rewards, 8, 2) == [0, 2, 0, 2, 2, 0, 2, 0]
    # after three solutions finished: B = 5 keeps ceil(5/2) = 3 beams, the third gets the rest
    assert beam_widths(rewards[:5], 5, 2) == [0, 2, 0, 2, 1]
