"""``scaling collect`` end to end on the transformers backend with tiny local models: generation
determinism, reward models, the store, resuming after SIGKILL or Ctrl-C, extension, and the
simulator on the result."""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

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

from collect.backends.base import Sampling
from collect.backends.hf import HFBackend
from collect.prompts import build_template
from collect.rewards import TransformersRewardModel, split_steps
from collect.runner import collect
from scaling.errors import ScalingError
from scaling.grading import extract_answer
from scaling.store import Run

pytest_plugins = ["collect_fixtures"]

N_PROBLEMS = 6
TOTAL = N_PROBLEMS * (SAMPLES + 1)  # + one greedy sample per problem


@pytest.fixture(scope="module")
def backend(tiny):
    return HFBackend(str(tiny["policy"]))


@pytest.fixture(scope="module")
def prompts(backend):
    template = build_template(backend.tokenizer)
    return [template.render(q) for q, _ in questions(3, seed=3)]


# -- the hf backend -------------------------------------------------------------------------------


def test_a_sample_depends_on_its_prompt_and_seed_only(backend, prompts):
    sampling = Sampling(1.0, 0.95, 24)
    batched = backend.generate([prompts[0]] * 4 + [prompts[1]] * 2, sampling, [1, 2, 3, 4, 5, 6])
    alone = [backend.generate([p], sampling, [s])[0] for p, s in [(prompts[0], 3), (prompts[1], 6)]]
    assert alone == [batched[2], batched[5]]
    reordered = backend.generate([prompts[1], prompts[0]], sampling, [6, 3])
    assert reordered == [batched[5], batched[2]]
    assert len({c.text for c in batched[:4]}) > 1  # distinct seeds, distinct samples
    again = backend.generate([prompts[0]] * 4, sampling, [1, 2, 3, 4])
    assert again == batched[:4]


def test_greedy_stop_strings_and_length_cap(backend, prompts):
    greedy = backend.generate([prompts[0]] * 2, Sampling(0.0, 1.0, 30), [1, 2])
    assert greedy[0] == greedy[1]
    stopped = backend.generate([prompts[0]], Sampling(0.0, 1.0, 30), [0], stop=["\n\n"])[0]
    assert stopped.stop == "\n\n" and stopped.finish_reason == "stop"
    assert greedy[0].text.startswith(stopped.text) and "\n\n" not in stopped.text
    assert stopped.completion_tokens < greedy[0].completion_tokens
    capped = backend.generate([prompts[0]], Sampling(1.0, 1.0, 3), [0])[0]
    assert capped.finish_reason == "length" and capped.completion_tokens == 3
    assert capped.prompt_tokens == len(
        backend.tokenizer(prompts[0], add_special_tokens=False)["input_ids"]
    )


def test_generation_uses_the_current_cache_api(backend, prompts):
    """No deprecation warning from transformers about how the key/value cache is passed."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backend.generate([prompts[0]] * 2, Sampling(1.0, 1.0, 8), [1, 2])
    assert not [w for w in caught if issubclass(w.category, (FutureWarning, DeprecationWarning))]


def test_a_prompt_that_fills_the_context_gets_an_empty_completion(backend, prompts):
    (done,) = backend.generate([prompts[0] + " 1" * 600], Sampling(1.0, 1.0, 8), [0])
    assert (done.text, done.completion_tokens, done.finish_reason) == ("", 0, "length")
    assert done.fills(backend.max_context)


def test_chat_messages_render_like_text(backend, prompts):
    messages = build_template(None).render(questions(1, seed=3)[0][0])
    sampling = Sampling(1.0, 1.0, 16)
    assert backend.generate([messages], sampling, [9]) == backend.generate(
        [prompts[0]], sampling, [9]
    )


# -- reward models ---------------------------------------------------------------------------------

SOLUTION = "We add 2 and 3.\n\n2 + 3 = 5.\n\nThe final answer is \\boxed{5}."


def test_token_classifier_prm_scores_every_step(tiny):
    prm = TransformersRewardModel(str(tiny["prm"]))
    assert (prm.kind, prm.head, prm.step_tag) == ("prm", "token", "ки")
    scores = prm.score(["What is 2 + 3?", "What is 1 + 1?"], [SOLUTION, ""])
    assert len(scores[0].step_rewards) == 3 and scores[0].reward is None
    assert all(0 < s < 1 for s in scores[0].step_rewards)
    assert scores[1].step_rewards == []
    assert "2 + 3 = 5. ки\n" in prm.render("What is 2 + 3?", SOLUTION)
    assert scores[0].tokens == prm.count_tokens(["What is 2 + 3?"], [SOLUTION])[0]
    alone = prm.score(["What is 2 + 3?"], [SOLUTION])[0]
    assert alone.step_rewards == pytest.approx(scores[0].step_rewards, abs=1e-6)
    orm = TransformersRewardModel(str(tiny["prm"]), kind="orm")
    whole = orm.score(["What is 2 + 3?"], [SOLUTION])[0]
    assert whole.step_rewards is None and 0 < whole.reward < 1


def test_causal_lm_prm_and_sequence_orm(tiny):
    lm = TransformersRewardModel(str(tiny["policy"]), step_tag="ки")
    assert lm.head == "lm" and lm.kind == "prm"
    steps = lm.score(["What is 2 + 3?"], [SOLUTION])[0].step_rewards
    assert len(steps) == len(split_steps(SOLUTION)) and all(0 < s < 1 for s in steps)
    orm = TransformersRewardModel(str(tiny["orm"]))
    assert (orm.kind, orm.head, orm.step_tag) == ("orm", "sequence", None)
    scores = orm.score(["What is 2 + 3?"] * 2, [SOLUTION, "The final answer is \\boxed{6}."])
    assert all(s.step_rewards is None and 0 < s.reward < 1 for s in scores)
    assert scores[0].reward != scores[1].reward
    with pytest.raises(ScalingError, match="--reward-kind orm"):
        TransformersRewardModel(str(tiny["orm"]), kind="prm")


def test_a_prompt_without_room_is_refused_before_generating(tiny, tmp_path):
    prompt = tmp_path / "long.txt"
    prompt.write_text("{question}" + " 1" * 600)
    config = collect_config(tiny, tmp_path / "run", prompt_file=str(prompt), limit=1)
    with pytest.raises(ScalingError, match="leaves no room to generate"):
        collect(config, progress=False)
    run = Run.open(tmp_path / "run")
    assert run.shards() == []
    with pytest.raises(ScalingError, match="holds no samples"):
        run.verify()
    assert run.manifest["extra"]["collect"]["sessions"][-1]["status"] == "failed"


def test_the_grader_is_recorded_and_used(tiny, tmp_path):
    """--grader exact: answers compared as normalised strings, the run says how it was graded,
    and the grader is part of the run id (the same samples graded otherwise are another run)."""
    from scaling.grading import grade

    options = {"limit": 2, "reward_model": None}
    run = collect(
        collect_config(tiny, tmp_path / "exact", grader="exact", **options), progress=False
    ).run
    assert run.meta.grading.name == "exact"
    samples = run.samples(["problem_id", "answer", "correct"])
    refs = run.problems().set_index("problem_id")["answer"]
    verdicts = grade(
        samples["answer"].tolist(), refs[samples["problem_id"]].tolist(), grader="exact"
    )
    assert samples["correct"].tolist() == [g.correct for g in verdicts]
    other = collect(collect_config(tiny, tmp_path / "math", **options), progress=False).run
    assert other.meta.grading.name == "math" and other.run_id != run.run_id


# -- collect end to end ----------------------------------------------------------------------------


def test_cli_collect_grades_scores_stores_and_simulates(tiny, reference_run, tmp_path):
    out = tmp_path / "run"
    proc = scaling_process(*cli_args(tiny, out), "--format", "json")
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["stored"] == summary["generated"] == TOTAL
    assert summary["samples_per_problem"] == SAMPLES and summary["status"] == "complete"
    # the warm-up is timed apart: tokens per second measure the collection itself
    assert summary["warmup_s"] > 0
    assert summary["tokens_per_s"] == pytest.approx(
        sum(samples_of(out)["completion_tokens"]) / summary["wall_s"]
    )
    assert_same_samples(samples_of(out), samples_of(reference_run))

    run = Run.open(out)
    assert run.verify() == {"problems": N_PROBLEMS, "samples": TOTAL, "shards": 7}
    m = run.manifest
    policy = HFBackend(str(tiny["policy"])).model
    assert m["model"]["params"] == sum(p.numel() for p in policy.parameters())
    assert (m["model"]["n_layers"], m["model"]["d_model"]) == (2, 64)
    assert m["sampling"] | {"n": SAMPLES, "greedy": True, "seed": 0} == m["sampling"]
    assert m["prompt"]["kind"] == "chat" and len(m["prompt"]["hash"]) == 16
    assert m["reward_model"]["kind"] == "prm" and m["reward_model"]["step_tag"] == "ки"
    assert m["reward_model"]["params"] > 0
    samples = run.samples(text=True)
    assert m["tokens"]["source"] == "measured"
    pool = samples[~samples["greedy"]]
    assert m["tokens"]["mean_completion_tokens"] == pytest.approx(pool["completion_tokens"].mean())
    prm = TransformersRewardModel(str(tiny["prm"]))
    questions_by_id = run.problems().set_index("problem_id")["question"]
    counted = prm.count_tokens(
        [questions_by_id[p] for p in samples["problem_id"].astype(str)], samples["text"].tolist()
    )
    assert m["reward_model"]["scored_tokens"] == sum(counted)
    session = m["extra"]["collect"]["sessions"][-1]
    assert session["status"] == "complete" and session["samples"] == TOTAL
    assert session["warmup_s"] == pytest.approx(summary["warmup_s"], abs=1e-3)
    assert session["engine"]["backend"] == "hf" and "torch" in session["versions"]

    assert samples["greedy"].sum() == N_PROBLEMS
    for _, row in samples.iterrows():
        assert row["answer"] == extract_answer(row["text"])
        assert len(row["step_rewards"]) == len(split_steps(row["text"]))
        assert pd.isna(row["reward"])
    assert 0 < pool["correct"].mean() < 1  # the tiny policy is right sometimes

    from scaling.simulate import simulate

    table = simulate([run], bootstrap=0).table
    strategies = set(table["strategy"])
    assert {"pass", "majority", "best_of_n", "weighted_majority", "greedy"} <= strategies
    assert table["k"].max() == SAMPLES
    sim = scaling_process("simulate", str(out), "--bootstrap", "100", "--format", "csv")
    sim_out, sim_err = sim.communicate(timeout=600)
    assert sim.returncode == 0, sim_err
    assert {"majority", "weighted_majority"} <= set(pd.read_csv(io.StringIO(sim_out))["strategy"])


def test_orm_run_fills_the_reward_column(tiny, tmp_path):
    out = tmp_path / "orm"
    config = collect_config(tiny, out, reward_model=str(tiny["orm"]), samples=2, limit=2)
    result = collect(config, progress=False)
    frame = Run.open(out).samples()
    assert result.generated == len(frame) == 2 * 3
    assert frame["reward"].between(0, 1).all() and frame["step_rewards"].isna().all()
    assert Run.open(out).manifest["reward_model"]["kind"] == "orm"


def _wait_for_shard(proc: subprocess.Popen, out: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not list((out / "samples").glob("part-*.parquet")):
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "no shard was written in time"
        time.sleep(0.005)


def test_sigkill_then_resume_equals_an_uninterrupted_run(tiny, reference_run, tmp_path):
    out = tmp_path / "run"
    proc = scaling_process(*cli_args(tiny, out))
    _wait_for_shard(proc, out)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    partial = Run.open(out)
    stored = partial.verify()["samples"]
    assert 0 < stored < TOTAL
    result = collect(collect_config(tiny, out), progress=False)
    assert result.missing_before == result.generated == TOTAL - stored
    final = samples_of(out)
    assert not final.duplicated(["problem_id", "greedy", "sample_idx"]).any()
    assert_same_samples(final, samples_of(reference_run))
    sessions = Run.open(out).manifest["extra"]["collect"]["sessions"]
    assert [s["status"] for s in sessions] == ["running", "complete"]


def test_ctrl_c_writes_finished_samples_and_exits_cleanly(tiny, reference_run, tmp_path):
    out = tmp_path / "run"
    proc = scaling_process(*cli_args(tiny, out))
    _wait_for_shard(proc, out)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=600)
    run = Run.open(out)
    stored = run.verify()["samples"]
    if stored < TOTAL:  # the interrupt arrived before the run finished
        assert proc.returncode == 130, stderr
        assert "rerun the same command to resume" in stderr and "Traceback" not in stderr
        assert run.manifest["extra"]["collect"]["sessions"][-1]["status"] == "interrupted"
    collect(collect_config(tiny, out), progress=False)
    assert_same_samples(samples_of(out), samples_of(reference_run))


def test_more_samples_later_generates_only_the_new_ones(tiny, reference_run, tmp_path):
    out = tmp_path / "run"
    first = collect(collect_config(tiny, out, samples=4), progress=False)
    assert first.generated == N_PROBLEMS * 5
    shards = {p.name: p.read_bytes() for p in Run.open(out).shards()}
    second = collect(collect_config(tiny, out), progress=False)
    assert second.generated == N_PROBLEMS * 4
    assert {p.name: p.read_bytes() for p in Run.open(out).shards() if p.name in shards} == shards
    assert_same_samples(samples_of(out), samples_of(reference_run))
    assert Run.open(out).manifest["sampling"]["n"] == SAMPLES
    again = collect(collect_config(tiny, out), progress=False)
    assert again.generated == again.missing_before == 0
    fewer = collect(collect_config(tiny, out, samples=2), progress=False)
    assert fewer.generated == 0 and Run.open(out).manifest["sampling"]["n"] == SAMPLES


def test_a_different_config_or_a_second_writer_is_refused(tiny, reference_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(reference_run, out)
    with pytest.raises(ScalingError, match="a different config"):
        collect(collect_config(tiny, out, temperature=0.9), progress=False)
    with Run.open(out).lock(), pytest.raises(ScalingError, match="another process"):
        collect(collect_config(tiny, out, samples=9), progress=False)
    assert_same_samples(samples_of(out), samples_of(reference_run))


def test_cli_errors_are_one_line(tiny, tmp_path, capsys):
    from scaling.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(
            cli_args(tiny, tmp_path / "run")[:4]
            + ["missing.jsonl", "--samples", "2", "--out", str(tmp_path / "o")]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("error: missing.jsonl: not a bundled problem set") and err.count("\n") == 1
    )
    assert not (tmp_path / "o").exists()
