"""Every importer on the real shared data (and on fixtures of the documented shapes)."""

import csv
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling.errors import ArgumentError, ScalingError
from scaling.importers import ImportOptions, import_run, read_source
from scaling.paths import data_dir
from scaling.store import Run

REPO = Path(__file__).resolve().parents[1]
RAW = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).parent / "fixtures"
AIME = RAW / "samples" / "otis_mock_aime"
LLMONK = RAW / "samples" / "llmonk_pythia_math_counts.csv"
QWEN = RAW / "samples" / "qwen25_math_cot100.jsonl"
if not RAW.is_dir():
    pytest.skip(
        "the shared raw data (../shared/data) is not beside this checkout", allow_module_level=True
    )


def files(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


# -- inspect ------------------------------------------------------------------------------------
def test_inspect_mock_aime(tmp_path):
    model = "llama-3-8b-instruct"
    run, report = import_run("inspect", AIME / model, tmp_path / "run", ImportOptions(model=model))
    records = json.loads((AIME / model / "summaries.json").read_text())
    header = json.loads((AIME / model / "header.json").read_text())
    s = run.samples()
    assert len(s) == 720 and s["problem_id"].nunique() == 45
    assert sorted(s["sample_idx"].unique()) == list(range(16))  # epochs 1..16 -> 0..15
    assert run.problems()["answer"].iloc[0] == records[0]["target"]
    m = run.manifest
    assert m["model"] == {"name": model, "params": 8.03e9, "n_layers": 32, "d_model": 4096}
    usage = header["stats"]["model_usage"]["sagemaker/meta-llama/Meta-Llama-3-8B-Instruct"]
    assert m["tokens"]["source"] == "mean"
    assert m["tokens"]["mean_completion_tokens"] == usage["output_tokens"] / 720
    assert m["tokens"]["mean_prompt_tokens"] == usage["input_tokens"] / 720
    stored = sum(r["scores"]["model_graded"]["value"] == "C" for r in records)
    grader = m["extra"]["stored_grader"]
    assert grader["stored_correct"] == stored == 6
    assert grader["regraded_correct"] == int(s["correct"].sum()) == 2
    assert grader["agreement"] == grader["agree"] / 720 and grader["agreement"] > 0.98
    assert report["agreement with stored verdicts"] == {
        k: grader[k] for k in report["agreement with stored verdicts"]
    }
    assert "text" not in s.columns or s["text"].isna().all()


def test_inspect_eval_zip_and_json_log_with_usage(tmp_path):
    model = AIME / "phi-4"
    header = json.loads((model / "header.json").read_text())
    records = json.loads((model / "summaries.json").read_text())
    with zipfile.ZipFile(tmp_path / "log.eval", "w") as z:
        z.write(model / "header.json", "header.json")
        z.write(model / "summaries.json", "summaries.json")
    from_zip = read_source("inspect", tmp_path / "log.eval", ImportOptions(workers=0))
    from_dir = read_source("inspect", model, ImportOptions(workers=0))
    assert from_zip.samples.equals(from_dir.samples)
    assert (
        from_zip.manifest["model"]["name"] == "phi-4"
    )  # looked up from 'sagemaker/microsoft/phi-4'
    for i, r in enumerate(records):
        r["output"] = {"completion": r["scores"]["model_graded"]["answer"]}
        r["output"]["usage"] = {"input_tokens": 100 + i, "output_tokens": 10 * i}
    (tmp_path / "log.json").write_text(json.dumps({**header, "samples": records}))
    log = read_source("inspect", tmp_path / "log.json", ImportOptions(workers=0, text=True))
    assert log.manifest["tokens"]["source"] == "measured"
    assert log.samples["completion_tokens"].sum() == sum(10 * i for i in range(720))
    assert log.samples["correct"].tolist() == from_dir.samples["correct"].tolist()
    assert log.samples["text"].notna().all()


def test_inspect_needs_a_scorer_choice_when_there_are_several(tmp_path):
    header = json.loads((AIME / "phi-4" / "header.json").read_text())
    records = json.loads((AIME / "phi-4" / "summaries.json").read_text())[:2]
    for r in records:
        r["scores"]["match"] = {"value": "I", "answer": "1"}
    (tmp_path / "log.json").write_text(json.dumps({**header, "samples": records}))
    with pytest.raises(ScalingError, match="--scorer .*match, model_graded"):
        read_source("inspect", tmp_path / "log.json")


# -- qwen-eval ----------------------------------------------------------------------------------
def test_qwen_eval():
    rows = [json.loads(line) for line in QWEN.read_text().splitlines()]
    imported = read_source("qwen-eval", QWEN, ImportOptions(text=True))
    s, p = imported.samples, imported.problems
    assert len(s) == 800 and len(p) == 100
    assert p["level"].tolist() == [int(r["level"].split()[1]) for r in rows]
    assert s["reward"].tolist() == [x[-1] for r in rows for x in r["pred_score"]]
    assert s["text"].tolist() == [t for r in rows for t in r["code"]]
    assert s["answer"].iloc[0] == rows[0]["pred"][0]
    stored = sum(sum(r["score"]) for r in rows)
    grader = imported.manifest["extra"]["stored_grader"]
    assert grader["stored_correct"] == stored == 728
    # one disagreement: "10000" against the reference "10{,}000", which math-verify accepts
    assert grader["we_accept_they_reject"] == 1 and grader["we_reject_they_accept"] == 0
    assert imported.manifest["reward_model"]["kind"] == "orm"
    assert imported.manifest["model"]["params"] is None  # the source does not say which size
    # clusters are consistent: a cluster is entirely correct or entirely wrong
    mixed = s.groupby(["problem_id", "cluster"], observed=True)["correct"].nunique()
    assert (mixed == 1).all()


# -- counts -------------------------------------------------------------------------------------
def test_counts_pythia(tmp_path):
    table = [r for r in csv.DictReader(LLMONK.open()) if r["model"] == "Pythia 12B"]
    options = ImportOptions(model="Pythia 12B", tokens_per_sample=512)
    run, _ = import_run("counts", LLMONK, tmp_path / "run", options)
    m = run.manifest
    assert m["model"] == {
        "name": "pythia-12b",
        "params": 11_846_072_320,
        "n_layers": 36,
        "d_model": 5120,
    }
    assert m["tokens"]["source"] == "assumed" and m["tokens"]["mean_completion_tokens"] == 512
    assert "512" in m["tokens"]["assumption"]
    s = run.samples(["problem_id", "sample_idx", "correct", "answer", "cluster"])
    assert len(s) == 128 * 10_000
    assert s["answer"].isna().all() and s["cluster"].isna().all()
    counts = s.groupby("problem_id", observed=True)["correct"].sum()
    assert {k: int(v) for k, v in counts.items()} == {
        r["problem_idx"]: int(r["n_correct"]) for r in table
    }
    coverage = sum(int(r["n_correct"]) > 0 for r in table) / len(table)
    assert coverage == 0.875 == float((counts > 0).mean())
    size = sum(len(b) for b in files(run.path).values())
    assert size < 200_000  # 1.28M samples, delta-encoded indices and zstd


def test_counts_without_tokens_budgets_in_samples_and_a_model_choice(tmp_path):
    imported = read_source("counts", LLMONK, ImportOptions(model="Pythia 12B"))
    assert imported.manifest["tokens"]["source"] == "none"
    assert len(imported.samples) == 128 * 10_000
    (notice,) = [n for n in imported.report["notices"] if "token" in n]
    assert "budgets will be in samples" in notice and "--tokens-per-sample T" in notice
    assert "FLOPs budgets" in notice and "compute-optimal size" in notice
    assert "scaling runs set RUN --tokens-per-sample T" in notice
    with pytest.raises(ScalingError, match="holds 7 models .*--model"):
        read_source("counts", LLMONK, ImportOptions(tokens_per_sample=512))
    bad = tmp_path / "bad.csv"
    bad.write_text("problem_idx,n_samples,n_correct\n1,10,11\n")
    with pytest.raises(ScalingError, match="n_correct > n_samples"):
        read_source("counts", bad, ImportOptions(model="m", tokens_per_sample=1))


# -- wyz and sal (fixtures written from the documented shapes) -----------------------------------
def test_wyz():
    source = FIXTURES / "wyz_answers.json"
    options = ImportOptions(model="llemma-7b", reward_model="llemma-prm", search="rebase")
    imported = read_source("wyz", source, options)
    s, p = imported.samples, imported.problems
    assert p["answer"].tolist() == ["18", "\\frac{3}{4}", "4"]  # GSM8K '#### 18' cut
    assert [None if pd.isna(a) else a for a in s["answer"]] == [
        "18", "26", "18.00", "18", "\\frac{3}{4}", "0.75", "\\frac{1}{3}", None,
        "4", "x = 7", "x=4", "4",
    ]  # fmt: skip
    assert s["correct"].tolist() == [True, False, True, True, True, True, False, False] + [
        True,
        False,
        True,
        True,
    ]
    assert s["cluster"].iloc[0] == s["cluster"].iloc[2] and s["cluster"].iloc[4] == "0.75"
    assert list(s["step_rewards"].iloc[0]) == [0.91, 0.88, 0.95]
    assert list(s["step_rewards"].iloc[7]) == []
    assert s["step_rewards"].iloc[11][1] is None
    m = imported.manifest
    assert m["reward_model"] == {"name": "llemma-prm", "params": None, "kind": "prm"}
    assert m["search"] == {"method": "rebase", "width": 4}
    assert m["model"]["params"] == 6.74e9


def test_sal():
    imported = read_source("sal", FIXTURES / "sal_completions.jsonl", ImportOptions(model="m"))
    s, p = imported.samples, imported.problems
    assert p["problem_id"].tolist() == ["test/precalculus/807.json", "test/algebra/2592.json"]
    assert p["level"].tolist() == [2, 1]
    assert s["correct"].tolist() == [True, False, True, True, True, False]
    assert s["cluster"].iloc[0] == s["cluster"].iloc[2]
    assert s["completion_tokens"].tolist() == [41, 38, 52, 30, 44, 21]
    assert imported.manifest["tokens"]["source"] == "measured"
    assert list(s["step_rewards"].iloc[1]) == [0.97, 0.2, 0.1]


# -- jsonl (the generic format) -----------------------------------------------------------------
def write_lines(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_jsonl(tmp_path):
    source = write_lines(
        tmp_path / "s.jsonl",
        [
            {"problem_id": 1, "text": "so \\boxed{1/2}", "reference": "0.5",
             "completion_tokens": 7},
            {"problem_id": 1, "answer": "0.5", "reference": "0.5", "completion_tokens": 9},
            {"problem_id": 1, "answer": "3", "reference": "0.5", "reward": 0.2, "greedy": True,
             "completion_tokens": 4},
            {"problem_id": "b", "answer": "yes", "correct": True, "completion_tokens": 5},
            {"problem_id": "b", "answer": "no", "correct": False, "completion_tokens": 5},
        ],
    )  # fmt: skip
    imported = read_source("jsonl", source, ImportOptions(model="llemma-34b", text=True))
    s = imported.samples
    assert s["problem_id"].tolist() == ["1", "1", "1", "b", "b"]
    assert s["sample_idx"].tolist() == [0, 1, 0, 0, 1] and s["greedy"].tolist()[2]
    assert s["correct"].tolist() == [True, True, False, True, False]
    assert s["cluster"].iloc[0] == s["cluster"].iloc[1] == "0.5"
    assert imported.manifest["tokens"]["mean_completion_tokens"] == 6
    assert imported.manifest["sampling"]["n"] == 2  # the greedy sample is not in the pool
    assert imported.manifest["reward_model"]["kind"] == "orm"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"problem_id": 1, "answer": "2"', "line 2: not valid JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        ('{"answer": "2", "reference": "2"}', "line 2: missing field 'problem_id'"),
        ('{"problem_id": 1, "reference": "2"}', "line 2: needs 'answer' or 'text'"),
        ('{"problem_id": 1, "answer": "2"}', "line 2: needs 'reference'"),
        ('{"problem_id": 1, "answer": 2, "reference": "2"}', "line 2: field 'answer' must be str"),
        (
            '{"problem_id": 1, "answer": "2", "correct": "yes"}',
            "line 2: field 'correct' must be bool",
        ),
    ],
)
def test_jsonl_errors_name_file_and_line(tmp_path, line, message):
    good = {"problem_id": 1, "answer": "1", "reference": "1"}
    source = write_lines(tmp_path / "s.jsonl", [good, line])
    with pytest.raises(ScalingError, match=re.escape(f"{source}, ") + re.escape(message)):
        read_source("jsonl", source, ImportOptions(model="m"))


# -- writing: deterministic and atomic ----------------------------------------------------------
def test_importing_twice_gives_identical_runs(tmp_path):
    options = ImportOptions(model="llama-3-8b-instruct")
    a, _ = import_run("inspect", AIME / "llama-3-8b-instruct", tmp_path / "a", options)
    b, _ = import_run("inspect", AIME / "llama-3-8b-instruct", tmp_path / "b", options)
    assert files(a.path) == files(b.path)
    q1, _ = import_run("qwen-eval", QWEN, tmp_path / "q1")
    q2, _ = import_run("qwen-eval", QWEN, tmp_path / "q2", ImportOptions(workers=0))
    assert files(q1.path) == files(q2.path)  # the grading pool and in-process grading agree


def test_chunk_size_does_not_change_the_run(tmp_path):
    """Streaming in chunks of 3 rows writes the same bytes as one chunk (counts, jsonl, sal)."""
    cases = [
        ("counts", LLMONK, ImportOptions(model="Pythia 70M", tokens_per_sample=512)),
        ("sal", FIXTURES / "sal_completions.jsonl", ImportOptions(model="m", workers=0)),
        ("qwen-eval", QWEN, ImportOptions(workers=0)),
    ]
    for kind, source, options in cases:
        whole, _ = import_run(kind, source, tmp_path / f"{kind}-whole", options)
        options.chunk_rows = 3 if kind != "counts" else 4099
        chunked, _ = import_run(kind, source, tmp_path / f"{kind}-chunked", options)
        assert files(whole.path) == files(chunked.path), kind


def test_embedded_runs_match_a_fresh_import(tmp_path):
    embedded = data_dir() / "runs" / "qwen25-math-cot100"
    options = ImportOptions(
        citation="QwenLM/Qwen2.5-Math, evaluation/data/eval_rm_maj_example/math_cot_100.jsonl",
        license="MIT, (c) 2024 Zhibin Gou",
    )
    fresh, _ = import_run("qwen-eval", QWEN, tmp_path / "q", options)
    assert files(fresh.path) == files(embedded)


def test_failed_import_leaves_nothing_and_keeps_existing_runs(tmp_path):
    run, _ = import_run("qwen-eval", QWEN, tmp_path / "run")
    before = files(run.path)
    bad = write_lines(tmp_path / "bad.jsonl", ["{not json"])
    with pytest.raises(ScalingError, match="already exists"):
        import_run("qwen-eval", QWEN, tmp_path / "run")
    with pytest.raises(ScalingError, match="line 1: not valid JSON"):
        import_run("jsonl", bad, tmp_path / "run", ImportOptions(model="m"), force=True)
    with pytest.raises(ScalingError, match="line 1: not valid JSON"):
        import_run("jsonl", bad, tmp_path / "new", ImportOptions(model="m"))
    assert files(run.path) == before and Run.open(run.path).verify()["samples"] == 800
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "run"]  # no temp dirs
    good = write_lines(tmp_path / "good.jsonl", [{"problem_id": 1, "answer": "1", "correct": True}])
    replaced, _ = import_run("jsonl", good, tmp_path / "run", ImportOptions(model="m"), force=True)
    assert replaced.name == "m" and replaced.verify()["samples"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "good.jsonl", "run"]


@pytest.mark.parametrize("kind", ["jsonl", "counts"])
def test_import_summary_from_the_stream_matches_the_run(tmp_path, kind):
    """The figures ``import_run`` reports while streaming equal ``summarize`` of the run."""
    from scaling.summary import summarize

    if kind == "jsonl":
        rows = [{"problem_id": i % 3, "answer": str(i % 4), "correct": i % 4 == 1,
                 "greedy": i == 5, "reward": i / 10} for i in range(40)]  # fmt: skip
        source = write_lines(tmp_path / "s.jsonl", rows)
        options = ImportOptions(model="m", workers=0, chunk_rows=7)
    else:
        source = tmp_path / "c.csv"
        source.write_text("problem_idx,n_samples,n_correct\n1,30,0\n2,25,3\n3,9,9\n")
        options = ImportOptions(model="m", tokens_per_sample=1, chunk_rows=7)
    run, report = import_run(kind, source, tmp_path / "r", options)
    row = summarize([run]).iloc[0]
    mine = report["summary"]
    assert (mine["samples"], mine["problems"]) == (row.samples, row.problems)
    assert mine["accuracy"] == pytest.approx(row.accuracy, abs=1e-12)
    assert mine["coverage"] == pytest.approx(row.coverage, abs=1e-12)
    assert ", ".join(mine["strategies"]) == row.strategies


def test_unknown_kind_and_missing_source(tmp_path):
    with pytest.raises(ScalingError, match="unknown import KIND 'csv'; choose one of: inspect"):
        import_run("csv", QWEN, tmp_path / "x")
    with pytest.raises(ScalingError, match="no such file or folder"):
        import_run("jsonl", tmp_path / "missing.jsonl", tmp_path / "x")
    assert not (tmp_path / "x").exists()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 30)), min_size=1, max_size=6))
def test_counts_expansion(tmp_path_factory, rows):
    rows = [(n, min(c, n)) for n, c in rows]
    source = tmp_path_factory.mktemp("counts") / "t.csv"
    source.write_text(
        "problem_idx,n_samples,n_correct\n"
        + "".join(f"{i},{n},{c}\n" for i, (n, c) in enumerate(rows))
    )
    s = read_source("counts", source, ImportOptions(model="m", tokens_per_sample=1)).samples
    assert len(s) == sum(n for n, _ in rows)
    for i, (n, c) in enumerate(rows):
        mine = s[s["problem_id"] == str(i)]
        assert mine["sample_idx"].tolist() == list(range(n)) and int(mine["correct"].sum()) == c


# -- field mapping, graders, problem sets, run ids (your own data) -------------------------------
def own_lines(models=("m",), problems=3, per=2, gold=lambda p: str(p + 1)):
    """Lines in someone else's field names: problem, response, gold, usage.out."""
    return [
        {"model": m, "problem": f"q{p}", "response": f"so \\boxed{{{p + 1 - (i % 2)}}}",
         "gold": gold(p), "usage": {"out": 10 + i}}
        for m in models for p in range(problems) for i in range(per)
    ]  # fmt: skip


MAPPING = "problem_id=problem,text=response,reference=gold,completion_tokens=usage.out"


def test_jsonl_field_mapping(tmp_path):
    source = write_lines(tmp_path / "own.jsonl", own_lines())
    imported = read_source("jsonl", source, ImportOptions(fields=MAPPING, text=True))
    s = imported.samples
    assert s["problem_id"].tolist() == ["q0", "q0", "q1", "q1", "q2", "q2"]
    assert s["correct"].tolist() == [True, False] * 3
    assert s["completion_tokens"].tolist() == [10, 11] * 3 and s["text"].iloc[0] == "so \\boxed{1}"
    assert imported.problems["answer"].tolist() == ["1", "2", "3"]
    m = imported.manifest
    assert m["model"]["name"] == "m" and m["tokens"]["source"] == "measured"
    assert m["provenance"]["fields"] == dict(pair.split("=") for pair in MAPPING.split(","))
    # as a mapping or repeated, the same; a mapped field is read only under its new name
    again = read_source("jsonl", source, ImportOptions(fields=MAPPING.split(",")))
    assert again.samples.equals(s.drop(columns="text"))
    lines = [{"problem_id": 1, "answer": "7", "text": "the answer is 7"}]
    source = write_lines(tmp_path / "swap.jsonl", lines)
    swapped = read_source("jsonl", source, ImportOptions(model="m", fields={"reference": "answer"}))
    assert swapped.problems["answer"].tolist() == ["7"] and swapped.samples["correct"].all()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("problem_id", "'problem_id' is not OURS=THEIRS"),
        ("pid=problem", "unknown field 'pid'; the fields are problem_id, answer, text"),
        ("text=a,text=b", "field 'text' is mapped twice"),
        ("problem_id=", "'problem_id=' is not OURS=THEIRS"),
    ],
)
def test_field_mapping_errors_are_one_line(tmp_path, fields, message):
    source = write_lines(tmp_path / "own.jsonl", own_lines())
    with pytest.raises(ArgumentError, match=re.escape(message)) as error:
        read_source("jsonl", source, ImportOptions(fields=fields))
    assert error.value.argument == "fields"


def test_a_missing_mapped_field_names_the_source_field(tmp_path):
    lines = own_lines()
    del lines[1]["problem"]
    source = write_lines(tmp_path / "own.jsonl", lines)
    with pytest.raises(ScalingError, match=r"line 2: missing field 'problem'; every line"):
        read_source("jsonl", source, ImportOptions(fields=MAPPING))
    with pytest.raises(ScalingError, match=r"line 1: missing field 'problem_id'.*--field"):
        read_source("jsonl", source, ImportOptions())


def test_options_an_importer_does_not_read_are_refused(tmp_path):
    with pytest.raises(ArgumentError, match="import qwen-eval does not use it"):
        read_source("qwen-eval", QWEN, ImportOptions(fields="problem_id=idx"))
    with pytest.raises(ArgumentError, match="grader='exact': import counts does not use it"):
        read_source("counts", LLMONK, ImportOptions(model="Pythia 12B", grader="exact"))
    with pytest.raises(ArgumentError, match="grader='fuzzy'"):
        read_source("jsonl", QWEN, ImportOptions(grader="fuzzy"))


def test_counts_field_mapping(tmp_path):
    source = tmp_path / "t.csv"
    source.write_text("task,attempts,solved,who\na,4,1,x\nb,2,2,x\n")
    fields = "problem_id=task,n_samples=attempts,n_correct=solved,model=who"
    imported = read_source("counts", source, ImportOptions(fields=fields))
    assert imported.manifest["model"]["name"] == "x"
    assert imported.samples.groupby("problem_id")["correct"].sum().to_dict() == {"a": 1, "b": 2}
    assert imported.manifest["provenance"]["fields"]["n_samples"] == "attempts"
    with pytest.raises(ScalingError, match=r"missing column\(s\) \['problem_idx', 'n_samples'"):
        read_source("counts", source, ImportOptions(model="x"))
    bad = tmp_path / "bad.csv"
    bad.write_text("task,attempts,solved\na,4,5\n")
    with pytest.raises(ScalingError, match="line 2: problem 'a' has solved > attempts"):
        read_source("counts", bad, ImportOptions(model="x", fields=fields.rsplit(",", 1)[0]))


def test_graders_on_import_are_recorded_and_enter_the_run_id(tmp_path, monkeypatch):
    lines = [
        {"problem_id": 1, "answer": "Yes", "reference": "yes"},
        {"problem_id": 1, "answer": "no", "reference": "yes"},
        {"problem_id": 2, "answer": "0.3333", "reference": "1/3"},
        {"problem_id": 2, "answer": "0.5", "correct": True},
    ]
    source = write_lines(tmp_path / "s.jsonl", lines)
    runs = {}
    for grader in ("math", "exact", "numeric:0.001"):
        options = ImportOptions(model="m", grader=grader, workers=0)
        runs[grader], _ = import_run("jsonl", source, tmp_path / grader.replace(":", "-"), options)
    exact = runs["exact"].samples()
    assert exact["correct"].tolist() == [True, False, False, True]  # "0.5" keeps its verdict
    numeric = runs["numeric:0.001"].samples()
    assert numeric["correct"].tolist() == [False, False, True, True]
    assert runs["numeric:0.001"].manifest["grading"] == {
        "name": "numeric:0.001", "rel_tol": 0.001, "source_verdicts": 1,
    }  # fmt: skip
    assert (
        runs["math"].meta.grading.name == "math" and runs["math"].meta.grading.source_verdicts == 1
    )
    assert runs["math"].manifest["grading"]["library"].startswith("math-verify ")
    assert len({run.run_id for run in runs.values()}) == 3  # graded differently: other runs
    (tmp_path / "my_grader.py").write_text(
        "def check(answer, reference):\n    return answer.lower() == 'yes', answer[:1].lower()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    mine = read_source("jsonl", source, ImportOptions(model="m", grader="python:my_grader:check"))
    assert mine.samples["correct"].tolist() == [True, False, False, True]
    assert mine.samples["cluster"].tolist()[:2] == ["y", "n"]
    assert mine.manifest["grading"]["name"] == "python:my_grader:check"


def test_problem_set_fingerprint_and_source_in_the_run_id(tmp_path):
    """Runs answering the same problems share the fingerprinted problem set; runs from
    different files get different ids; the same file imported twice gives the same bytes."""
    a = write_lines(tmp_path / "a.jsonl", own_lines())
    b = write_lines(tmp_path / "b.jsonl", own_lines(per=3))
    c = write_lines(tmp_path / "c.jsonl", own_lines(gold=lambda p: str(p + 2)))
    options = ImportOptions(fields=MAPPING, workers=0)
    ra, report = import_run("jsonl", a, tmp_path / "runs/a", options)
    rb, _ = import_run("jsonl", b, tmp_path / "runs/b", options)
    rc, _ = import_run("jsonl", c, tmp_path / "runs/c", options)
    again, _ = import_run("jsonl", a, tmp_path / "runs/again", options)
    assert ra.meta.problem_set == rb.meta.problem_set and re.fullmatch(
        r"3 problems [0-9a-f]{8}", ra.meta.problem_set
    )
    assert rc.meta.problem_set != ra.meta.problem_set  # same ids, other references
    (notice,) = [n for n in report["notices"] if "problem set" in n]
    assert ra.meta.problem_set in notice and "--problem-set NAME" in notice
    assert len({ra.run_id, rb.run_id, rc.run_id}) == 3
    assert files(ra.path) == files(again.path)
    named = read_source("jsonl", a, ImportOptions(fields=MAPPING, problem_set="toy"))
    assert named.manifest["problem_set"] == "toy"
    assert not [n for n in named.report["notices"] if "problem set" in n]
    other = read_source("jsonl", a, ImportOptions(fields=MAPPING.rsplit(",", 1)[0]))
    assert other.manifest["run_id"] != ra.run_id  # read differently: another run


def test_jsonl_model_picks_lines_of_one_model(tmp_path):
    source = write_lines(tmp_path / "two.jsonl", own_lines(models=("Pythia 1B", "other")))
    with pytest.raises(ScalingError, match=r"line 7: the lines name several models .*--model"):
        read_source("jsonl", source, ImportOptions(fields=MAPPING))
    picked = read_source("jsonl", source, ImportOptions(model="pythia-1b", fields=MAPPING))
    assert len(picked.samples) == 6 and picked.report["lines of other models"] == 6
    assert picked.manifest["model"]["params"] == 1_011_781_632  # looked up
    with pytest.raises(ScalingError, match="no lines of model 'nope'; the lines name: Pythia 1B"):
        read_source("jsonl", source, ImportOptions(model="nope", fields=MAPPING))
    one = write_lines(tmp_path / "one.jsonl", own_lines(models=("m-2024-06",)))
    renamed = read_source("jsonl", one, ImportOptions(model="m", fields=MAPPING))  # one model
    assert renamed.manifest["model"]["name"] == "m" and len(renamed.samples) == 6


def test_architecture_flags_and_notices(tmp_path):
    source = write_lines(tmp_path / "own.jsonl", own_lines())
    options = ImportOptions(
        fields=MAPPING, n_heads=32, n_kv_heads=8, head_dim=128, dtype="bfloat16"
    )
    model = read_source("jsonl", source, options).manifest["model"]
    assert model == {"name": "m", "params": None, "n_heads": 32, "n_kv_heads": 8,
                     "head_dim": 128, "dtype": "bfloat16"}  # fmt: skip
    only = read_source("jsonl", source, ImportOptions(fields=MAPPING, n_heads=4)).manifest
    assert only["model"] == {"name": "m", "params": None, "n_heads": 4}
    with pytest.raises(ArgumentError, match="must divide the 32 attention heads"):
        read_source("jsonl", source, ImportOptions(n_heads=32, n_kv_heads=5))
    with pytest.raises(ArgumentError, match="dtype='fp4': choose one of float64"):
        read_source("jsonl", source, ImportOptions(dtype="fp4"))
    fields = {"problem_id": "problem", "text": "response", "reference": "gold"}
    bare = read_source("jsonl", source, ImportOptions(fields=fields))
    notices = bare.report["notices"]
    assert any("model size unknown ('m')" in n and "--params N" in n for n in notices)
    assert any("no token counts" in n and "--tokens-per-sample T" in n for n in notices)
    known = write_lines(tmp_path / "known.jsonl", own_lines(models=("pythia-1b",)))
    sized = read_source("jsonl", known, ImportOptions(fields=MAPPING))
    assert [n for n in sized.report["notices"] if "problem set" not in n] == []


def test_runs_of_one_model_from_two_files_are_labelled_apart(tmp_path):
    from scaling.report import fit_runs
    from scaling.simulate import run_labels

    options = ImportOptions(fields=MAPPING, params=1e9, workers=0)
    paths = []
    for name, per in (("a", 2), ("b", 3)):
        source = write_lines(tmp_path / f"{name}.jsonl", own_lines(per=per))
        run, _ = import_run("jsonl", source, tmp_path / name / "run", options)
        paths.append(run.path)
    runs = [Run.open(p) for p in paths]
    assert run_labels(runs) == ["m (a/run)", "m (b/run)"]
    assert run_labels([runs[0], Run.open(paths[0])]) == [f"m [{runs[0].run_id}]"] * 2
    report = fit_runs(runs, bootstrap=20, seed=0)
    labels = [c.label for c in report.curves]
    assert len(labels) == len(set(labels)) and "m (a/run) / majority" in labels


def test_the_run_id_hashes_source_and_grader_name_not_citation_or_library():
    from scaling.manifest import parse_manifest
    from scaling.store import new_manifest

    def run_id(provenance=None, grading=None):
        return new_manifest(
            model={"name": "m"}, problem_set="p", sampling={"n": 1}, tokens={"source": "none"},
            provenance={"source": "x", "sha256": "aa", **(provenance or {})},
            grading=grading or {"name": "math", "library": "math-verify 1"},
        )["run_id"]  # fmt: skip

    base = run_id()
    assert run_id({"citation": "c", "license": "MIT", "source": "y"}) == base
    assert run_id({"sha256": "bb"}) != base and run_id({"fields": {"text": "t"}}) != base
    assert run_id(grading={"name": "math", "library": "math-verify 2"}) == base
    assert run_id(grading={"name": "exact"}) != base
    manifest = new_manifest(
        model={"name": "m"}, problem_set="p", sampling={"n": 1}, tokens={"source": "none"},
        provenance={"source": "x"}, grading={"name": "numeric:0.01", "source_verdicts": 3},
    )  # fmt: skip
    grading = parse_manifest(manifest, "run.json").grading
    assert (grading.name, grading.source_verdicts) == ("numeric:0.01", 3)
    bad_blocks = [
        ({"name": ""}, "grading.name"),
        ({"source_verdicts": 1}, "grading.name"),
        ({"name": "x", "source_verdicts": -1}, "grading.source_verdicts"),
    ]
    for bad, message in bad_blocks:
        with pytest.raises(ScalingError, match=re.escape(message)):
            parse_manifest({**manifest, "grading": bad}, "run.json")
