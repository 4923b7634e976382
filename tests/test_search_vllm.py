"""REBASE, beam search and MCTS on the vllm backend (vLLM's real engine; the CPU build in CI):
the invariants of the hf runs, reproducibility however the problems are batched, and the hf
backend's leaves where both engines are deterministic.

Why the leaves of a sampled search differ between the engines: both reproduce a step from its
(prompt, seed), but each maps a seed to a draw its own way (transformers: ``torch.multinomial``
with a per-request generator; vLLM: an exponential race with its own per-request generator), so
the same seed draws different tokens. At temperature 0.01 (the lowest vLLM samples at) both
engines pick the most likely token at every step, and the searches must then agree exactly."""

from __future__ import annotations

import pandas as pd
import pytest
from tiny_models import collect_config

from collect.backends.hf import HFBackend
from collect.rewards import TransformersRewardModel, split_steps
from collect.search import SearchSpec, search
from scaling.grading import extract_answer
from scaling.store import Run

pytest_plugins = ["collect_fixtures"]
pytestmark = pytest.mark.vllm

WIDTH = 4
OPTIONS = {"max_tokens": 40, "flush_samples": 8, "greedy": False, "dtype": "float32"}
SPECS = [
    SearchSpec("rebase", WIDTH, max_depth=8),
    SearchSpec("beam", WIDTH, beam_width=2, max_depth=8),
    SearchSpec("mcts", WIDTH, beam_width=2, max_depth=8),
]


@pytest.fixture(scope="module")
def prm(tiny):
    return TransformersRewardModel(str(tiny["prm"]))


def frame_of(path) -> pd.DataFrame:
    frame = Run.open(path).samples(text=True)
    frame["problem_id"] = frame["problem_id"].astype(str)
    frame["cluster"] = frame["cluster"].astype(str)
    return frame.sort_values(["problem_id", "sample_idx"]).reset_index(drop=True)


def run_on(backend, prm, tiny, out, spec, **overrides):
    config = collect_config(tiny, out, **{**OPTIONS, "backend": backend.name, **overrides})
    return search(config, spec, backend=backend, reward=prm, progress=False)


@pytest.mark.parametrize("spec", SPECS, ids=[s.method for s in SPECS])
def test_search_on_vllm_keeps_the_invariants_and_ignores_batching(
    tiny, vllm_policy, prm, tmp_path, spec
):
    out = tmp_path / "run"
    run_on(vllm_policy, prm, tiny, out, spec, limit=4)
    run = Run.open(out)
    samples = frame_of(out)
    counts = (
        samples.groupby("problem_id").size().reindex(run.problems()["problem_id"], fill_value=0)
    )
    assert (counts <= WIDTH).all() and (counts > 0).all()
    assert run.manifest["search"]["leaves_short"] == int((counts < WIDTH).sum())
    assert run.manifest["search"]["capped"] == 0
    for _, row in samples.iterrows():
        assert row["answer"] == extract_answer(row["text"])
        assert len(row["step_rewards"]) == len(split_steps(row["text"])) > 0
        assert row["finish_reason"] in ("stop", "length")
    problems = run.problems().set_index("problem_id")
    assert (
        problems["search_tokens"] >= samples.groupby("problem_id")["completion_tokens"].max()
    ).all()
    session = run.manifest["extra"]["collect"]["sessions"][-1]
    assert session["engine"]["backend"] == "vllm" and session["status"] == "complete"
    # one problem per batch instead of two: the same trees (seeds follow node paths)
    alone = tmp_path / "alone"
    run_on(vllm_policy, prm, tiny, alone, spec, limit=4, flush_samples=WIDTH)
    pd.testing.assert_frame_equal(frame_of(alone), samples)


def test_rebase_equals_the_hf_backend_where_both_are_deterministic(
    tiny, vllm_policy, prm, tmp_path
):
    spec = SearchSpec("rebase", WIDTH, max_depth=8)
    on_vllm, on_hf = tmp_path / "vllm", tmp_path / "hf"
    run_on(vllm_policy, prm, tiny, on_vllm, spec, limit=3, temperature=0.01)
    run_on(HFBackend(str(tiny["policy"])), prm, tiny, on_hf, spec, limit=3, temperature=0.01)
    columns = ["problem_id", "sample_idx", "text", "answer", "completion_tokens", "finish_reason"]
    pd.testing.assert_frame_equal(frame_of(on_vllm)[columns], frame_of(on_hf)[columns])
    costs = ["problem_id", "search_tokens", "search_rm_tokens"]
    pd.testing.assert_frame_equal(
        Run.open(on_vllm).problems()[costs], Run.open(on_hf).problems()[costs]
    )
