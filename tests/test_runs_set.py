"""``scaling runs set``: a run's manifest edited safely (locked, atomic, validated), samples
untouched, the run id kept."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from in_process import cli

from scaling.edits import set_fields
from scaling.errors import ArgumentError, ScalingError
from scaling.importers import ImportOptions, import_run
from scaling.simulate import simulate
from scaling.store import Run


def files(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def make_run(tmp_path: Path, *, tokens: bool = False, reward: bool = False, name="run") -> Path:
    rows = []
    for i in range(12):
        row = {"problem_id": i % 4, "answer": str(i % 3), "reference": "1"}
        if tokens:
            row["completion_tokens"] = 10 + i
        if reward:
            row["reward"] = i / 12
        rows.append(row)
    source = tmp_path / f"{name}.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run, _ = import_run("jsonl", source, tmp_path / name, ImportOptions(model="acme", workers=0))
    return run.path


def test_set_a_size_and_tokens_changes_only_the_manifest(tmp_path):
    path = make_run(tmp_path)
    before = files(path)
    run_id = Run.open(path).run_id
    changes = set_fields(path, params=7e9, tokens_per_sample=512, tokens_note="the cap")
    assert {c.field for c in changes} == {
        "model.params", "tokens.source", "tokens.mean_completion_tokens", "tokens.assumption",
    }  # fmt: skip
    after = files(path)
    assert {k for k in after if after[k] != before[k]} == {"run.json"}  # samples untouched
    run = Run.open(path)
    assert run.run_id == run_id  # the id names how the run was made
    assert run.meta.model.params == 7e9 and run.meta.tokens.source == "assumed"
    assert run.meta.tokens.mean_completion_tokens == 512
    assert run.meta.tokens.assumption.endswith("; the cap")
    edits = run.manifest["extra"]["edits"]
    assert {"field": "model.params", "old": None, "new": 7e9} in edits
    assert run.verify()["samples"] == 12
    assert set_fields(path, params=7e9) == []  # nothing to change: nothing written
    assert files(path) == after
    # a size and tokens turn budgets in samples into FLOPs: 2 N T k per problem
    table = simulate([run], strategies=["pass"], ks=[1, 2], bootstrap=0).table
    assert table["cost_unit"].eq("FLOPs").all()
    assert table["cost"].tolist() == pytest.approx([2 * 7e9 * 512, 2 * 7e9 * 512 * 2])


def test_architecture_reward_model_problem_set_and_provenance(tmp_path):
    path = make_run(tmp_path, reward=True)
    set_fields(path, n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, head_dim=128,
               dtype="bfloat16", reward_params=1.5e9, problem_set="toy", citation="me",
               license="MIT")  # fmt: skip
    meta = Run.open(path).meta
    assert (meta.model.n_layers, meta.model.d_model, meta.model.n_kv_heads) == (32, 4096, 8)
    assert meta.model.dtype == "bfloat16" and meta.reward_model.params == 1.5e9
    assert meta.problem_set == "toy" and meta.provenance.license == "MIT"
    with pytest.raises(ArgumentError, match="must divide the 32 attention heads"):
        set_fields(path, n_kv_heads=5)  # checked against the heads already recorded
    set_fields(path, prompt_tokens=50, tokens_per_sample=100)
    set_fields(path, prompt_tokens=60)  # keeps the declared completion tokens
    tokens = Run.open(path).meta.tokens
    assert (tokens.mean_completion_tokens, tokens.mean_prompt_tokens) == (100, 60)


def test_refusals_leave_the_run_untouched(tmp_path):
    measured = make_run(tmp_path, tokens=True, name="measured")
    bare = make_run(tmp_path, name="bare")
    before = {p: files(p) for p in (measured, bare)}
    with pytest.raises(ArgumentError, match="tokens_per_sample=5: the run's token counts are"):
        set_fields(measured, tokens_per_sample=5)
    with pytest.raises(ArgumentError, match="reward_params=.*the run has no reward model"):
        set_fields(bare, reward_params=1e9)
    with pytest.raises(ArgumentError, match="give --tokens-per-sample too"):
        set_fields(bare, prompt_tokens=10)
    with pytest.raises(ArgumentError, match="params=-1: must be a positive finite number"):
        set_fields(bare, params=-1)
    with pytest.raises(ArgumentError, match="dtype='fp4'"):
        set_fields(bare, dtype="fp4")
    with pytest.raises(ScalingError, match="name a field to set"):
        set_fields(bare)
    with pytest.raises(ScalingError, match="not a run"):
        set_fields(tmp_path / "nowhere", params=1e9)
    assert {p: files(p) for p in (measured, bare)} == before


def test_a_failed_write_keeps_the_old_manifest(tmp_path, monkeypatch):
    from scaling import files as scaling_files

    path = make_run(tmp_path)
    before = files(path)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(scaling_files, "write_bytes", full_disk)
    with pytest.raises(OSError):
        set_fields(path, params=1e9)
    assert files(path) == before


def test_a_writer_holding_the_run_refuses_the_edit(tmp_path):
    path = make_run(tmp_path)
    before = files(path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from scaling.store import Run\n"
         "with Run.open(sys.argv[1]).lock():\n    print('locked', flush=True); sys.stdin.read()",
         str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ScalingError, match="another process is writing this run"):
            set_fields(path, params=1e9)
    finally:
        holder.communicate("", timeout=60)
    assert files(path) == before
    assert set_fields(path, params=1e9)  # free again


def test_cli_prints_the_changes_and_one_line_errors(capsys, tmp_path):
    path = make_run(tmp_path)
    code, out, err = cli(capsys, "runs", "set", path, "--params", "7e9", "--tokens-per-sample",
                         "512")  # fmt: skip
    assert code == 0, err
    out = " ".join(out.split())
    assert "set 4 field(s) of run.json" in out and "model.params: unknown -> 7e+09" in out
    code, out, _ = cli(capsys, "runs", "set", path, "--params", "7e9")
    assert code == 0 and "nothing written" in out
    for args, message in (
        (("--params", "0"), "error: --params 0.0: must be a positive finite number"),
        (("--n-heads", "6", "--n-kv-heads", "4"), "error: --n-kv-heads 4: must divide the 6"),
        (("--reward-params", "1e9"), "error: --reward-params 1000000000.0: the run has no reward"),
        ((), "name a field to set, e.g. --params 7e9"),
    ):
        code, _, err = cli(capsys, "runs", "set", path, *args)
        assert code == 2 and err.count("\n") == 1 and message in err, err
    code, out, _ = cli(capsys, "runs", "set", "--help")
    text = " ".join(out.replace("│", " ").split())
    assert "Unlocks FLOPs budgets (cost paper) and, across model sizes, the compute-optimal" in text
    assert "The run id does not change" in text
