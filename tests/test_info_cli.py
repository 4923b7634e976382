"""``scaling info``, ``verify`` and ``import``: hand-checkable figures and one-line errors."""

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from in_process import cli

from scaling.paths import data_dir, default_runs
from scaling.store import Run

RAW = Path(__file__).resolve().parents[2] / "shared" / "data"
RUNS = data_dir() / "runs"


def info_json(capsys, *runs):
    code, out, err = cli(capsys, "info", *runs, "--format", "json")
    assert code == 0, err
    return {r["model"]: r for r in json.loads(out)}


def test_embedded_runs_and_their_size():
    runs = [p.relative_to(RUNS).as_posix() for p in default_runs()]
    assert len([r for r in runs if r.startswith("pythia/")]) == 7
    assert len([r for r in runs if r.startswith("mock-aime/")]) == 11
    assert "qwen25-math-cot100" in runs and len(runs) == 19
    size = sum(p.stat().st_size for p in RUNS.rglob("*") if p.is_file())
    assert size < 15e6
    for path in default_runs():
        manifest = Run.open(path).manifest
        assert manifest["provenance"]["license"] and manifest["provenance"]["citation"]
        assert manifest["provenance"]["sha256"]
    epoch = Run.open(RUNS / "mock-aime" / "phi-4").manifest["provenance"]
    assert epoch["license"] == "CC BY 4.0" and "Epoch AI" in epoch["citation"]


@pytest.mark.skipif(not RAW.is_dir(), reason="the shared raw data is not beside this checkout")
def test_info_figures_checkable_by_hand(capsys):
    rows = info_json(capsys, RUNS / "mock-aime" / "llama-3-8b-instruct", RUNS / "pythia" / "12b")
    # Mock AIME, llama-3-8b-instruct: an integer answer is right when the last "ANSWER: n" /
    # "answer is n" / "\boxed{n}" of the response equals the target (checked here without
    # math-verify).
    records = json.loads(
        (RAW / "samples/otis_mock_aime/llama-3-8b-instruct/summaries.json").read_text()
    )
    pattern = re.compile(r"(?i)(?:answer\W*(?:is\W*)?:?|\\boxed\{)\W*(-?\d+)")
    right: dict[str, list[bool]] = {}
    for r in records:
        found = pattern.findall(r["scores"]["model_graded"]["answer"])
        right.setdefault(r["id"], []).append(bool(found) and int(found[-1]) == int(r["target"]))
    aime = rows["llama-3-8b-instruct"]
    assert aime["samples_per_problem"] == "16" and aime["problems"] == 45
    assert aime["accuracy"] == pytest.approx(sum(map(sum, right.values())) / 720, abs=1e-12)
    assert aime["accuracy"] == pytest.approx(2 / 720, abs=1e-12)
    assert aime["coverage"] == pytest.approx(sum(map(any, right.values())) / 45, abs=1e-12)
    assert aime["coverage"] == pytest.approx(1 / 45, abs=1e-12)
    assert aime["tokens_source"] == "mean" and aime["mean_completion_tokens"] == 476149 / 720
    assert aime["strategies"] == "pass, majority, early_majority:confidence=0.95"
    # Pythia-12B: coverage at 10,000 samples is the share of problems with a correct sample.
    table = [r for r in csv.DictReader((RAW / "samples/llmonk_pythia_math_counts.csv").open())]
    table = [r for r in table if r["model"] == "Pythia 12B"]
    pythia = rows["pythia-12b"]
    assert pythia["coverage"] == 0.875 == sum(int(r["n_correct"]) > 0 for r in table) / 128
    expected = sum(int(r["n_correct"]) / int(r["n_samples"]) for r in table) / 128
    assert pythia["accuracy"] == pytest.approx(expected, abs=1e-12)
    assert pythia["samples_per_problem"] == "10000" and pythia["strategies"] == "pass"
    assert pythia["tokens_source"] == "assumed" and pythia["params"] == 11_846_072_320


def test_info_default_runs_table(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = cli(capsys, "info")
    assert code == 0
    assert re.search(r"pythia-12b +11\.8B +128 +10000 +0\.0232 +0\.8750 +512 assumed +pass", out)
    assert re.search(r"mistral-large-2402 +\? +45 +16", out)
    assert re.search(r"qwen2\.5-math-instruct .* pass maj bon wmaj", out)
    rows = info_json(capsys)
    assert rows["mistral-large-2402"]["params"] is None  # unknown size: shown, no crash
    assert rows["qwen2.5-math-instruct"]["strategies"] == (
        "pass, majority, best_of_n, weighted_majority, early_majority:confidence=0.95"
    )


def test_verify_and_csv_output(capsys, tmp_path):
    code, out, _ = cli(capsys, "verify", RUNS / "mock-aime", "--format", "csv")
    assert code == 0 and out.count(",") > 11 and "mixed_clusters" in out
    code, _, _ = cli(capsys, "info", RUNS / "qwen25-math-cot100", "--format", "parquet",
                     "--output", tmp_path / "i.parquet")  # fmt: skip
    assert code == 0 and (tmp_path / "i.parquet").stat().st_size > 0


def copy_run(tmp_path, name="qwen25-math-cot100"):
    return Path(shutil.copytree(RUNS / name, tmp_path / "run"))


def assert_one_line_error(code, err, *parts):
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    for part in parts:
        assert part in err


def test_truncated_parquet(capsys, tmp_path):
    run = copy_run(tmp_path)
    shard = run / "samples" / "part-00000.parquet"
    shard.write_bytes(shard.read_bytes()[:1000])
    for command in ("verify", "info"):
        code, _, err = cli(capsys, command, run)
        assert_one_line_error(code, err, str(shard), "not a readable Parquet file")


def test_corrupt_parquet(capsys, tmp_path):
    run = copy_run(tmp_path)
    problems = run / "problems.parquet"
    data = bytearray(problems.read_bytes())
    data[10:40] = b"\xff" * 30
    problems.write_bytes(bytes(data))
    code, _, err = cli(capsys, "verify", run)
    assert_one_line_error(code, err, str(problems))


def test_manifest_missing_a_field(capsys, tmp_path):
    run = copy_run(tmp_path)
    manifest = json.loads((run / "run.json").read_text())
    del manifest["tokens"]
    (run / "run.json").write_text(json.dumps(manifest))
    code, _, err = cli(capsys, "info", run)
    assert_one_line_error(code, err, str(run / "run.json"), "missing field 'tokens'")


def test_import_errors_leave_existing_runs_untouched(capsys, tmp_path):
    run = copy_run(tmp_path)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"problem_id": 1, "answer": "1", "correct": true}\n{"problem_id": 2,\n')
    code, _, err = cli(capsys, "import", "jsonl", bad, "--out", run, "--model", "m", "--force")
    assert_one_line_error(code, err, f"{bad}, line 2: not valid JSON")
    code, _, err = cli(capsys, "import", "jsonl", bad, "--out", tmp_path / "new", "--model", "m")
    assert_one_line_error(code, err, "line 2")
    assert not (tmp_path / "new").exists()
    code, _, err = cli(capsys, "import", "qwen-eval", bad, "--out", run)
    assert_one_line_error(code, err, "already exists", "--force")
    code, _, err = cli(capsys, "import", "parquet", bad, "--out", tmp_path / "x")
    assert_one_line_error(code, err, "unknown import KIND 'parquet'", "inspect, qwen-eval")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "run"]


def test_import_cli_end_to_end(capsys, tmp_path):
    source = tmp_path / "s.jsonl"
    lines = [{"problem_id": i % 2, "answer": str(i % 3), "reference": "1"} for i in range(6)]
    source.write_text("".join(json.dumps(r) + "\n" for r in lines))
    code, out, err = cli(capsys, "import", "jsonl", source, "--out", tmp_path / "r",
                         "--model", "pythia-1b", "--tokens-per-sample", "100")  # fmt: skip
    assert code == 0, err
    assert "imported 6 samples of 2 problems" in " ".join(out.split())
    manifest = Run.open(tmp_path / "r").manifest
    assert manifest["model"]["params"] == 1_011_781_632
    assert manifest["tokens"]["source"] == "assumed"


def test_real_entry_point_exits_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "scaling", "import", "nope", str(tmp_path), "--out", "x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "error: unknown import KIND 'nope'; choose one of: inspect, qwen-eval, counts, wyz, sal, "
        "jsonl"
    )


# -- import help, one-line errors, duplicate run ids ---------------------------------------------
def test_import_help_is_the_format_schema(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = cli(capsys, "import", "jsonl", "--help")
    text = " ".join(out.split())
    assert code == 0
    for field in ("problem_id str or int", "completion_tokens int >= 0", "step_rewards list"):
        assert field in text
    assert "--field OURS=THEIRS reads our field OURS from your field THEIRS" in text
    assert "--grader" in text and "numeric[:TOL]" in text and "--n-kv-heads" in text
    assert "scaling runs set RUN --params N" in text
    code, out, _ = cli(capsys, "import", "counts", "--help")
    text = " ".join(out.split())
    assert code == 0 and "n_correct how many were correct" in text and "--field" in text
    options = out.split("Options")[1]
    assert "--grader" not in options and "--scorer" not in options and "--field" in options
    assert "compute-optimal size" in text
    code, out, _ = cli(capsys, "import", "--help")
    assert code == 0 and all(kind in out for kind in ("inspect", "qwen-eval", "counts", "jsonl"))


def test_import_bad_mapping_and_values_are_one_line_errors(capsys, tmp_path):
    source = tmp_path / "s.jsonl"
    source.write_text(json.dumps({"problem": 1, "response": "\\boxed{1}", "gold": "1"}) + "\n")
    args = ("import", "jsonl", source, "--out", tmp_path / "r", "--model", "m")
    for extra, message in (
        (("--field", "pid=problem"), "--field pid=problem: unknown field 'pid'; the fields are"),
        (("--field", "problem_id"), "--field problem_id: 'problem_id' is not OURS=THEIRS"),
        (("--grader", "fuzzy"), "--grader fuzzy: choose math, exact"),
        (("--dtype", "fp4"), "--dtype fp4: choose one of float64"),
        (("--n-heads", "8", "--n-kv-heads", "3"), "--n-kv-heads 3: must divide the 8"),
    ):
        code, _, err = cli(capsys, *args, *extra)
        assert_one_line_error(code, err, message)
    code, out, err = cli(capsys, *args, "--field", "problem_id=problem,text=response",
                         "--field", "reference=gold")  # fmt: skip
    assert code == 0, err
    assert "note: problem set named '1 problems" in " ".join(out.split())


def test_counts_import_without_tokens_says_what_they_unlock(capsys, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("problem_idx,n_samples,n_correct\n1,8,2\n2,8,0\n")
    code, out, err = cli(capsys, "import", "counts", source, "--out", tmp_path / "r",
                         "--model", "pythia-1b")  # fmt: skip
    assert code == 0, err
    text = " ".join(out.split())
    assert "note: no token counts: budgets will be in samples; --tokens-per-sample T gives FLOPs" \
        " budgets and, across model sizes, the compute-optimal size" in text  # fmt: skip
    assert Run.open(tmp_path / "r").meta.tokens.source == "none"
    code, out, err = cli(capsys, "simulate", tmp_path / "r", "--ks", "1,2", "--format", "csv")
    assert code == 0, err and "samples" in out


def test_verify_flags_duplicate_run_ids(capsys, tmp_path):
    source = tmp_path / "s.jsonl"
    source.write_text("".join(json.dumps({"problem_id": i, "answer": "1", "correct": i % 2 == 0})
                              + "\n" for i in range(4)))  # fmt: skip
    for name in ("a", "b"):
        code, _, err = cli(capsys, "import", "jsonl", source, "--out", tmp_path / name / "run",
                           "--model", "m", "--workers", "0")  # fmt: skip
        assert code == 0, err
    a, b = tmp_path / "a" / "run", tmp_path / "b" / "run"
    assert (a / "run.json").read_bytes() == (b / "run.json").read_bytes()
    code, out, err = cli(capsys, "verify", a, b, "--format", "json")
    assert_one_line_error(code, err, "1 of 2 run(s) failed", f"{b}: run id", f"also {a}'s",
                          "duplicate")  # fmt: skip
    assert [r["error"] is None for r in json.loads(out)] == [True, False]
    code, _, err = cli(capsys, "verify", a, a)  # one run named twice is not a duplicate
    assert code == 0, err
    code, _, err = cli(capsys, "import", "jsonl", source, "--out", tmp_path / "c", "--model",
                       "m", "--workers", "0", "--grader", "exact")  # fmt: skip
    assert code == 0, err
    code, _, err = cli(capsys, "verify", a, tmp_path / "c")  # graded differently: another id
    assert code == 0, err
