"""The FLOPs cost models: Wu et al.'s published figures (paper) and Brown et al.'s definition
(full)."""

from __future__ import annotations

import numpy as np
import pytest

from scaling.costs import Usage, Workload, cost_model
from scaling.errors import ScalingError


def flops_per_problem(
    manifest, prompt, completion, k, accounting="paper", scored=None, completion_sq=None
):
    """The cost of k samples per problem (arrays over problems) under ``accounting``; ``scored``
    samples are read by the reward model."""
    completion = np.atleast_1d(np.asarray(completion, dtype=float))
    shape = np.broadcast_shapes(np.shape(prompt), completion.shape, np.shape(k))
    completion = np.broadcast_to(completion, shape or (1,))
    square = completion**2 if completion_sq is None else completion_sq
    work = Workload(
        prompt=np.broadcast_to(np.asarray(prompt, dtype=float), completion.shape),
        completion=completion,
        completion_sq=np.broadcast_to(np.asarray(square, dtype=float), completion.shape),
        greedy_completion=completion,
    )
    samples = np.broadcast_to(np.asarray(k, dtype=float), completion.shape)[:, None]
    scored = np.zeros_like(samples) if scored is None else np.full_like(samples, scored)
    got = cost_model(accounting).cost(manifest, work, Usage(samples, scored))[:, 0]
    return got if shape else got[0]


def search_flops_per_problem(manifest, search_tokens, search_rm_tokens=None, accounting="paper"):
    work = Workload(
        *(np.zeros(1),) * 4,
        search_tokens=np.atleast_1d(float(search_tokens)),
        search_rm_tokens=None if search_rm_tokens is None else np.atleast_1d(search_rm_tokens),
    )
    return cost_model(accounting).search_cost(manifest, work)[0]


LLEMMA_7B = {"model": {"name": "llemma-7b", "params": 6.74e9, "n_layers": 32, "d_model": 4096}}
LLEMMA_34B = {"model": {"name": "llemma-34b", "params": 33.7e9}}


def test_paper_reproduces_wu_et_al_table_4():
    # greedy: 3.92e12 FLOPs per problem = 2 N tokens, so the greedy solutions averaged
    tokens = 3.92e12 / (2 * 6.74e9)
    assert tokens == pytest.approx(290.8, abs=0.05)
    assert flops_per_problem(LLEMMA_7B, 0, 290.8, 1) == pytest.approx(3.92e12, rel=1e-3)
    # sampling costs k times the greedy cost: k = 32 -> 125.4e12 (Table 4)
    assert flops_per_problem(LLEMMA_7B, 0, tokens, 32) == pytest.approx(125.4e12, rel=1e-3)
    # Llemma-34B: greedy 19.0e12 and k = 8 sampling 152.3e12 from one token count
    tokens_34b = 19.0e12 / (2 * 33.7e9)
    assert flops_per_problem(LLEMMA_34B, 0, tokens_34b, 8) == pytest.approx(152.3e12, rel=2e-3)


def test_paper_counts_neither_prompt_nor_reward_model():
    with_rm = dict(LLEMMA_7B, reward_model={"params": 7e9})
    a = flops_per_problem(LLEMMA_7B, 500, 300, 4)
    b = flops_per_problem(with_rm, 10, 300, 4, scored=4)
    assert a == b == 2 * 6.74e9 * 300 * 4


def per_token(n, layers, width, context):
    """Brown et al. (Large Language Monkeys): FLOPs per token at context length L."""
    return 2 * (n + 2 * layers * width * context)


def test_full_is_brown_et_al_summed_token_by_token():
    n, layers, width = 6.74e9, 32, 4096
    prompt, completion, k = 200, 300, 8
    prefill = sum(per_token(n, layers, width, i) for i in range(1, prompt + 1))
    decode = sum(per_token(n, layers, width, prompt + i) for i in range(1, completion + 1))
    rm_params, scored = 7e9, k * (prompt + completion)
    manifest = dict(LLEMMA_7B, reward_model={"params": rm_params})
    want = prefill + k * decode + 2 * rm_params * scored
    got = flops_per_problem(manifest, prompt, completion, k, accounting="full", scored=k)
    assert got == pytest.approx(want, rel=1e-12)
    # by hand for a toy model: N = 10, 1 layer, d = 2, P = 2, C = 1, k = 1:
    # prefill 2(10 + 4*1) + 2(10 + 4*2) = 28 + 36; decode 2(10 + 4*3) = 44
    toy = {"model": {"params": 10, "n_layers": 1, "d_model": 2}}
    assert flops_per_problem(toy, 2, 1, 1, accounting="full") == 28 + 36 + 44


def test_full_uses_the_mean_square_length_for_unequal_samples():
    n, layers, width = 1e9, 4, 256
    manifest = {"model": {"params": n, "n_layers": layers, "d_model": width}}
    lengths = np.array([10, 50, 90])
    prompt = 30
    each = [sum(per_token(n, layers, width, prompt + i) for i in range(1, c + 1)) for c in lengths]
    prefill = sum(per_token(n, layers, width, i) for i in range(1, prompt + 1))
    got = flops_per_problem(
        manifest, prompt, lengths.mean(), 3, accounting="full", completion_sq=(lengths**2).mean()
    )
    assert got == pytest.approx(prefill + sum(each), rel=1e-12)


def test_vectorized_over_problems():
    got = flops_per_problem(LLEMMA_7B, np.array([1, 2]), np.array([100.0, 200.0]), np.array([1, 4]))
    np.testing.assert_allclose(got, [2 * 6.74e9 * 100, 2 * 6.74e9 * 800])


def test_search_runs_are_priced_by_their_expansions():
    # Llemma-7B REBASE at width 32: 148.0e12 FLOPs per problem (Wu et al. Table 4)
    tokens = 148.0e12 / (2 * 6.74e9)
    assert search_flops_per_problem(LLEMMA_7B, tokens) == pytest.approx(148.0e12, rel=1e-12)
    manifest = dict(LLEMMA_7B, reward_model={"params": 7e9})
    full = search_flops_per_problem(manifest, 1000, 4000, accounting="full")
    assert full == 2 * 6.74e9 * 1000 + 2 * 7e9 * 4000
    assert search_flops_per_problem(manifest, 1000, 4000) == 2 * 6.74e9 * 1000


def test_missing_fields_are_named():
    with pytest.raises(ScalingError, match="model.n_layers"):
        flops_per_problem(LLEMMA_34B, 10, 10, 1, accounting="full")
    with pytest.raises(ScalingError, match="model.params"):
        flops_per_problem({"model": {"params": None}}, 10, 10, 1)
    with pytest.raises(ScalingError, match="reward_model.params"):
        flops_per_problem(LLEMMA_7B, 10, 10, 1, accounting="full", scored=5)
    with pytest.raises(ScalingError, match="cost='exact'"):
        flops_per_problem(LLEMMA_7B, 10, 10, 1, accounting="exact")
