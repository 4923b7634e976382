"""Round trip and failure modes of the sample store."""

import json

import pandas as pd
import pytest

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
