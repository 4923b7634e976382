"""Round trip and failure modes of the sample store."""

import json

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling.errors import ScalingError
from scaling.store import Run, new_manifest


def _manifest(**kw):
    return new_manifest(
        model={"name": "m", "params": 1e9},
        problem_set="toy",
        sampling={"n": 2, "temperature": 0.7},
        tokens={"source": "measured"},
        provenance={"source": "test"},
        **kw,
    )


def _run(tmp_path):
    problems = pd.DataFrame({"problem_id": ["a", "b"], "question": ["1+1", "2+2"], "level": [1, 2]})
    return Run.create(tmp_path / "run", _manifest(), problems)


def test_round_trip(tmp_path):
    run = _run(tmp_path)
    run.append_samples(
        pd.DataFrame(
            {
                "problem_id": ["a", "a", "b"],
                "sample_idx": [0, 1, 0],
                "answer": ["2", "3", "4"],
                "cluster": ["2", "3", "4"],
                "correct": [True, False, True],
                "step_rewards": [[0.1, 0.9], [], None],
                "completion_tokens": [5, 6, 7],
            }
        )
    )
    again = Run.open(tmp_path / "run")
    s = again.samples()
    assert len(s) == 3 and s["correct"].tolist() == [True, False, True]
    assert list(s["step_rewards"][0]) == [0.1, 0.9]
    assert again.verify() == {"problems": 2, "samples": 3, "shards": 1}
    assert again.problems()["level"].tolist() == [1, 2]


def test_duplicate_key_rejected_and_nothing_written(tmp_path):
    run = _run(tmp_path)
    run.append_samples(pd.DataFrame({"problem_id": ["a"], "sample_idx": [0], "correct": [True]}))
    with pytest.raises(ScalingError, match="already stored"):
        run.append_samples(
            pd.DataFrame({"problem_id": ["a", "b"], "sample_idx": [0, 0], "correct": [True, True]})
        )
    assert len(run.shards()) == 1 and run.verify()["samples"] == 1


def test_missing_manifest_field(tmp_path):
    run = _run(tmp_path)
    manifest = json.loads((run.path / "run.json").read_text())
    del manifest["provenance"]
    (run.path / "run.json").write_text(json.dumps(manifest))
    with pytest.raises(ScalingError, match="missing field 'provenance'"):
        Run.open(run.path)


def test_truncated_parquet(tmp_path):
    run = _run(tmp_path)
    shard = run.append_samples(
        pd.DataFrame({"problem_id": ["a"], "sample_idx": [0], "correct": [True]})
    )
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
    with pytest.raises(ScalingError, match="not a readable Parquet file"):
        Run.open(run.path).verify()


def test_unknown_problem_rejected(tmp_path):
    run = _run(tmp_path)
    with pytest.raises(ScalingError, match="not in problems.parquet"):
        run.append_samples(
            pd.DataFrame({"problem_id": ["zz"], "sample_idx": [0], "correct": [True]})
        )
    assert run.shards() == []


# -- one write path: drafts, create-or-fail publishing, locks -----------------------------------
def _problems():
    return pd.DataFrame({"problem_id": ["a", "b"]})


def _rows(idx, pid="a"):
    return pd.DataFrame({"problem_id": [pid] * len(idx), "sample_idx": idx, "correct": True})


def _tree(path):
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_two_drafts_for_one_destination_the_second_publish_fails(tmp_path):
    dest = tmp_path / "r"
    with Run.build(dest) as first, Run.build(dest) as second:
        first.append(_rows([0, 1]))
        second.append(_rows([0, 1, 2]))
        first.publish(_manifest(), _problems())
        before = _tree(dest)
        with pytest.raises(ScalingError, match="already exists"):
            second.publish(_manifest(run_id="other"), _problems())
    assert _tree(dest) == before and Run.open(dest).verify()["samples"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # both drafts gone, no lock left


def test_renames_without_renameat2_still_never_overwrite(tmp_path, monkeypatch):
    from scaling import files

    monkeypatch.setattr(files, "_renameat2", None)
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, name in ((a, "x"), (b, "y")):
        folder.mkdir()
        (folder / name).write_text(name)
    with pytest.raises(FileExistsError):
        files.rename_noreplace(a, b)
    old = files.exchange(a, b)  # two renames here, one system call with renameat2
    assert (b / "x").read_text() == "x" and (old / "y").read_text() == "y" and not a.exists()
    link = tmp_path / "link"
    link.symlink_to(old)
    with pytest.raises(FileExistsError):
        files.rename_noreplace(b, link)


def test_lock_is_reentrant_exclusive_and_removed(tmp_path):
    run = _run(tmp_path)
    with run.lock():
        assert (run.path / ".lock").exists()
        run.append_samples(_rows([0]))  # takes the lock it already holds
        with pytest.raises(ScalingError, match="another process is writing this run"):
            Run.open(run.path).append_samples(_rows([1]))
    assert not (run.path / ".lock").exists()
    assert Run.open(run.path).verify()["samples"] == 1


def test_a_run_replaced_since_it_was_opened_is_not_written(tmp_path):
    run = _run(tmp_path)
    run.append_samples(_rows([0]))
    with Run.build(run.path, replace=True) as draft:
        draft.append(_rows([0, 1, 2], "b"))
        draft.publish(_manifest(run_id="replacement"), _problems())
    before = _tree(run.path)
    with pytest.raises(ScalingError, match="now holds run replacement, not"):
        run.append_samples(_rows([5]))
    assert _tree(run.path) == before


def test_a_failed_collect_leaves_a_run_the_corrected_command_replaces(tmp_path):
    path = tmp_path / "run"
    failed = Run.create(path, _manifest(run_id="first-try"), _problems(), exist_ok=True)
    failed.update_manifest(extra={"collect": {"sessions": [{"status": "running"}]}})
    fixed = Run.create(path, _manifest(run_id="corrected"), _problems(), exist_ok=True)
    assert fixed.run_id == "corrected" and Run.open(path).run_id == "corrected"
    assert (
        Run.create(path, _manifest(run_id="corrected"), _problems(), exist_ok=True).shards() == []
    )
    fixed.append_samples(_rows([0]))
    before = _tree(path)
    with pytest.raises(ScalingError, match="holds run corrected, not other"):
        Run.create(path, _manifest(run_id="other"), _problems(), exist_ok=True)
    assert _tree(path) == before and [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("completion_tokens", [-1], "negative count"),
        ("prompt_tokens", [2**31], "cannot be stored as int32"),
        ("sample_idx", [-3], "negative count"),
        ("reward", [float("inf")], "NaN or an infinity"),
        ("step_rewards", [[0.5, float("-inf")]], "NaN or an infinity"),
        ("sample_idx", [1.5], "cannot be stored as int32"),
    ],
)
def test_appended_values_are_checked_before_writing(tmp_path, column, values, message):
    run = _run(tmp_path)
    rows = _rows([0])
    rows[column] = values
    with pytest.raises(ScalingError, match=message):
        run.append_samples(rows)
    assert run.shards() == [] and not (run.path / ".lock").exists()


def test_readers_check_keys_and_counts_once_opened(tmp_path):
    run = _run(tmp_path)
    with pytest.raises(ScalingError, match="holds no samples"):
        Run.open(run.path).check()
    with pytest.raises(ScalingError, match="holds no samples"):
        Run.open(run.path).verify()
    shard = run.append_samples(_rows([0, 1]))
    copy = shard.with_name("part-00007.parquet")
    copy.write_bytes(shard.read_bytes())
    for read in (lambda r: r.check(), lambda r: r.sample_table(), lambda r: r.verify()):
        with pytest.raises(ScalingError, match="part-00007.parquet: sample .* is stored twice"):
            read(Run.open(run.path))


def test_typed_manifest(tmp_path):
    from dataclasses import FrozenInstanceError

    from scaling.paths import data_dir

    meta = Run.open(data_dir() / "runs" / "pythia" / "12b").meta
    assert (meta.model.name, meta.model.params, meta.model.n_layers) == (
        "pythia-12b",
        11846072320,
        36,
    )
    assert meta.sampling.n == 10000 and meta.sampling.temperature == 0.6
    assert meta.tokens.source == "assumed" and meta.tokens.mean_completion_tokens == 512
    assert meta.reward_model is None and meta.search is None and meta.label == "pythia-12b"
    with pytest.raises(FrozenInstanceError):
        meta.run_id = "x"
    with pytest.raises(TypeError):
        meta.sampling.settings["n"] = 1
    nan = _manifest(reward_model={"name": "rm", "params": float("nan"), "kind": "prm"})
    run = Run.create(tmp_path / "r", nan, _problems())
    assert run.meta.reward_model.params is None  # NaN (a mean of nothing) reads as unknown


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from("abc"), st.booleans(), st.integers(0, 6)),
                         max_size=8), max_size=6))  # fmt: skip
def test_key_index_agrees_with_a_set(chunks):
    """``_Keys`` accepts a chunk exactly when a Python set of the keys would."""
    from scaling.store import _Keys

    keys, seen = _Keys(None), set()
    for chunk in chunks:
        table = pa.table(
            {
                "problem_id": pa.array([k[0] for k in chunk], pa.string()),
                "greedy": pa.array([k[1] for k in chunk], pa.bool_()),
                "sample_idx": pa.array([k[2] for k in chunk], pa.int32()),
            }
        )
        fresh = len(set(chunk)) == len(chunk) and not seen.intersection(chunk)
        try:
            keys.check(keys.encode(table, "x"), "x")
            keys.add()
            assert fresh
            seen.update(chunk)
        except ScalingError:
            assert not fresh
    assert len(keys) == len(seen)


def test_verify_counts_mixed_clusters_by_hand(tmp_path):
    """A cluster is mixed when it holds correct and incorrect samples of one problem; samples
    without a cluster are left out; two shards count together."""
    from scaling.summary import verify_runs

    run = _run(tmp_path)
    run.append_samples(
        pd.DataFrame(
            {
                "problem_id": ["a", "a", "a", "b", "b"],
                "sample_idx": [0, 1, 2, 0, 1],
                "cluster": ["x", "x", "y", "x", None],
                "correct": [True, False, True, False, True],
            }
        )
    )
    run.append_samples(
        pd.DataFrame(
            {
                "problem_id": ["b", "b"],
                "sample_idx": [2, 3],
                "cluster": ["x", "z"],
                "correct": [True, True],
            }
        )
    )
    row = verify_runs([Run.open(run.path)]).iloc[0]
    # mixed: (a, x) and (b, x) across shards; (a, y), (b, z) and the unclustered one are not
    assert row["error"] is None and row["mixed_clusters"] == 2 and row["samples"] == 7
