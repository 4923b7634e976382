"""The vllm backend and the vLLM reward adapter, on a CUDA GPU with vLLM installed.

Skipped elsewhere (marked ``gpu``, the one kind of test CI allows to skip)."""

from __future__ import annotations

import importlib.util

import pytest
from tiny_models import (
    build_reward,
    build_tokenizer,
    collect_config,
    llama_config,
    questions,
    write_problems,
)

from collect.backends.base import Sampling
from collect.prompts import build_template
from collect.rewards import TransformersRewardModel
from collect.runner import collect
from scaling.store import Run

pytest_plugins = ["collect_fixtures"]


def _missing() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed (pip install 'scaling[gpu]' on a CUDA machine)"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU: the vllm backend runs on GPUs only"
    return None


MISSING = _missing()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]


@pytest.fixture(scope="module")
def gpu_models(tmp_path_factory):
    """A random policy and PRM with 64-dim attention heads (what vLLM's kernels support)."""
    import torch
    from transformers import LlamaForCausalLM

    root = tmp_path_factory.mktemp("gpu-models")
    tokenizer = build_tokenizer(root / "tokenizer")
    torch.manual_seed(0)
    config = llama_config(tokenizer, hidden_size=128, intermediate_size=256, num_attention_heads=2)
    LlamaForCausalLM(config).save_pretrained(root / "policy")
    tokenizer.save_pretrained(root / "policy")
    build_reward(root / "prm", tokenizer, "token")
    return {
        "policy": root / "policy",
        "prm": root / "prm",
        "problems": write_problems(root / "problems.jsonl", 4),
    }


@pytest.fixture(scope="module")
def engine(gpu_models):
    from collect.backends.vllm import VLLMBackend

    backend = VLLMBackend(str(gpu_models["policy"]), gpu_memory_utilization=0.5)
    yield backend
    backend.close()


def test_per_sample_seeds_are_independent_and_reproducible(engine):
    prompt = build_template(engine.tokenizer).render(questions(1)[0][0])
    sampling = Sampling(1.0, 1.0, 24)
    first = engine.generate([prompt] * 6, sampling, [1, 2, 3, 4, 5, 6])
    again = engine.generate([prompt] * 6, sampling, [1, 2, 3, 4, 5, 6])
    assert [c.text for c in first] == [c.text for c in again]
    assert len({c.text for c in first}) > 1  # one shared seed would repeat one stream
    stopped = engine.generate([prompt], Sampling(1.0, 1.0, 24), [1], stop=["\n"])[0]
    assert "\n" not in stopped.text


def test_vllm_collect_and_stream(gpu_models, engine, tmp_path):
    config = collect_config(gpu_models, tmp_path / "run", backend="vllm", reward_backend="hf")
    result = collect(config, backend=engine, progress=False)
    run = Run.open(tmp_path / "run")
    assert result.generated == run.verify()["samples"] == 4 * 9
    session = run.manifest["extra"]["collect"]["sessions"][-1]
    assert session["engine"]["backend"] == "vllm" and session["gpu"]
    assert run.manifest["extra"]["collect"]["gpu_s"] > 0


def test_vllm_reward_adapter_matches_transformers(gpu_models):
    from collect.rewards import VLLMRewardModel

    solution = "We add 2 and 3.\n\n2 + 3 = 5.\n\nThe final answer is \\boxed{5}."
    pooled = VLLMRewardModel(str(gpu_models["prm"]), gpu_memory_utilization=0.2)
    assert pooled.task in ("token_classify", "encode")
    local = TransformersRewardModel(str(gpu_models["prm"]), device="cpu")
    got = pooled.score(["What is 2 + 3?"], [solution])[0].step_rewards
    want = local.score(["What is 2 + 3?"], [solution])[0].step_rewards
    assert got == pytest.approx(want, abs=2e-2)
