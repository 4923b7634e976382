"""The vLLM reward adapter (pooling runner) on vLLM's real engine gives the transformers adapter's
scores on the same weights: a token-classifier PRM with ``<extra_0>``, a Math-Shepherd-style causal
LM with ``ки`` and ``+``/``-``, an ORM sequence classifier, and Qwen2.5-Math-PRM's architecture
(``Qwen2ForProcessRewardModel``, checked against its head applied by hand to transformers'
Qwen2 model). Tolerance: 1e-4 on probabilities (both engines compute in float32; they differ in
the last bits of their kernels)."""

from __future__ import annotations

import os

import pytest
from tiny_models import qwen_prm_logits

from collect.rewards import TransformersRewardModel, split_steps, to_probability
from scaling.errors import ScalingError

pytest_plugins = ["collect_fixtures"]
pytestmark = pytest.mark.vllm
TOLERANCE = 1e-4

QUESTIONS = ["What is 2 + 3?", "What is 4 + 4?", "What is 1 + 9?"]
SOLUTIONS = [
    "We add 2 and 3.\n\n2 + 3 = 5.\n\nThe final answer is \\boxed{5}.",
    "4 + 4 = 8.\n\nThe final answer is \\boxed{8}.",
    "We add.\n\n1 + 9 = 11.\n\nSo 11.\n\nThe final answer is \\boxed{11}.",
]


def vllm_reward(path, **options):
    pytest.importorskip("vllm", reason="vLLM is not installed (see the README's test command)")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    from collect.rewards import VLLMRewardModel

    return VLLMRewardModel(str(path), dtype="float32", **options)


def assert_same_scores(got, want):
    for a, b in zip(got, want, strict=True):
        assert (a.reward is None) == (b.reward is None) and a.tokens == b.tokens
        if a.reward is not None:
            assert a.reward == pytest.approx(b.reward, abs=TOLERANCE)
        if a.step_rewards is not None:
            assert a.step_rewards == pytest.approx(b.step_rewards, abs=TOLERANCE)


def test_token_classifier_prm_with_extra_0(tiny):
    pooled = vllm_reward(tiny["extra-prm"])
    try:
        assert (pooled.kind, pooled.head, pooled.step_tag) == ("prm", "token", "<extra_0>")
        assert "<extra_0>" in pooled.render(QUESTIONS[0], SOLUTIONS[0])
        got = pooled.score(QUESTIONS, SOLUTIONS)
        assert [len(s.step_rewards) for s in got] == [len(split_steps(t)) for t in SOLUTIONS]
        local = TransformersRewardModel(str(tiny["extra-prm"]))
        assert_same_scores(got, local.score(QUESTIONS, SOLUTIONS))
        assert pooled.describe()["engine"] == "vllm"
    finally:
        pooled.close()


def test_math_shepherd_causal_lm_prm(tiny):
    pooled = vllm_reward(tiny["policy"], step_tag="ки")
    try:
        assert (pooled.head, pooled.kind) == ("lm", "prm")
        local = TransformersRewardModel(str(tiny["policy"]), step_tag="ки")
        assert pooled.good_bad == local.good_bad
        assert_same_scores(pooled.score(QUESTIONS, SOLUTIONS), local.score(QUESTIONS, SOLUTIONS))
    finally:
        pooled.close()


def test_sequence_classifier_orm(tiny):
    pooled = vllm_reward(tiny["orm"])
    try:
        assert (pooled.head, pooled.kind, pooled.task) == ("sequence", "orm", "classify")
        got = pooled.score(QUESTIONS, SOLUTIONS)
        assert all(s.step_rewards is None and 0 < s.reward < 1 for s in got)
        assert_same_scores(
            got, TransformersRewardModel(str(tiny["orm"])).score(QUESTIONS, SOLUTIONS)
        )
    finally:
        pooled.close()


def test_qwen2_process_reward_model(tiny):
    pooled = vllm_reward(tiny["qwen-prm"])
    try:
        assert (pooled.head, pooled.step_tag) == ("token", "<extra_0>")
        got = pooled.score(QUESTIONS, SOLUTIONS)
        for ids, score in zip(pooled.encode(QUESTIONS, SOLUTIONS), got, strict=True):
            logits = qwen_prm_logits(tiny["qwen-prm"], ids)
            tags = [i for i, t in enumerate(ids) if t == pooled.tag_id]
            want = to_probability(logits[tags])
            assert len(want) == len(score.step_rewards) > 0
            assert score.step_rewards == pytest.approx(want, abs=TOLERANCE)
    finally:
        pooled.close()


def test_transformers_refuses_a_head_it_cannot_load(tiny):
    """transformers has no Qwen2ForProcessRewardModel: loading it as a token classifier would
    leave a random head, so the hf adapter refuses and points to vLLM."""
    with pytest.raises(ScalingError, match="--reward-backend vllm"):
        TransformersRewardModel(str(tiny["qwen-prm"]))
