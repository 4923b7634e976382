"""REBASE, beam search and MCTS on the vllm backend (vLLM's real engine; the CPU build in CI):
the invariants of the hf runs, reproducibility however the problems are batched, and the hf
backend's leaves where both engines are deterministic.

Why the leaves of a sampled search differ between the engines: both reproduce a step from its
(prompt, seed), but each maps a seed to a draw its own way (transformers: ``torch.multinomial``
with a per-request generator; vLLM: an exponential race with its own per-request generator), so
the same seed draws different tokens (and the tiny policy's near-ties make even temperature 0.01,
the lowest vLLM samples at, draw differently). With greedy steps both engines generate the same
text, and the searches, deterministic given the steps, must then agree exactly."""

from __future__ import annotations

import pandas as pd
import pytest
from tiny_models import collect_config, questions

from collect.backends.hf import HFBackend
from collect.prompts import build_template
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


@pytest.mark.parametrize("method", ["rebase", "beam", "mcts"])
def test_greedy_trees_equal_the_hf_backend(tiny, vllm_policy, prm, method):
    """With greedy steps both engines generate the same text, so the searches agree exactly."""
    from collect.backends.base import Sampling
    from collect.search.beam import beam_search
    from collect.search.mcts import mcts
    from collect.search.rebase import rebase
    from collect.search.tree import Expander, Tree

    run = {
        "rebase": lambda trees, expander: rebase(trees, expander, WIDTH),
        "beam": lambda trees, expander: beam_search(trees, expander, WIDTH, 2),
        "mcts": lambda trees, expander: mcts(trees, expander, WIDTH, 2),
    }[method]
    template = build_template(vllm_policy.tokenizer)
    grown = []
    for backend in (vllm_policy, HFBackend(str(tiny["policy"]))):
        expander = Expander(backend, prm, Sampling(0.0, 1.0, 40), max_step_tokens=16, max_depth=8)
        trees = [Tree(f"p{i}", q, template.render(q)) for i, (q, _) in enumerate(questions(3))]
        run(trees, expander)
        grown.append(
            [
                (t.policy_tokens, t.rm_tokens, [(x.solution, x.path_tokens) for x in t.leaves])
                for t in trees
            ]
        )
    assert grown[0] == grown[1]
