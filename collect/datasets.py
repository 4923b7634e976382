"""Problem sets to collect on: the bundled GSM8K and MATH500 test splits, or a JSONL/Parquet file.

A problem set is a DataFrame with the store's problem columns (``problem_id``, ``question``,
``answer`` = the reference answer, ``level``) plus a name and its provenance.

- ``gsm8k``: ``data/problems/gsm8k_test.jsonl`` (``question``, ``answer`` = worked solution ending
  in ``#### N``; the reference is N with thousands separators removed), ids ``gsm8k/test/<line>``.
- ``math500``: ``data/problems/math500_test.jsonl`` (``problem``, ``answer``, ``level``,
  ``unique_id``), ids are the ``unique_id`` (``test/precalculus/807.json``).
- a file (``.jsonl``, ``.json`` holding a list, ``.parquet``, ``.csv``): the question and answer
  come from ``question_field``/``answer_field`` (default: ``question`` or ``problem``, and
  ``answer``); ids from ``problem_id``, ``unique_id`` or ``id`` when present, else the row number;
  ``level`` when present (an integer or "Level N").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scaling.errors import ScalingError
from scaling.paths import data_dir

BUNDLED = {
    "gsm8k": {
        "file": "gsm8k_test.jsonl",
        "question": "question",
        "answer": "answer",
        "citation": "Cobbe et al. 2021, Training Verifiers to Solve Math Word Problems "
        "(arXiv 2110.14168); openai/grade-school-math test split",
        "license": "MIT (c) 2021 OpenAI",
    },
    "math500": {
        "file": "math500_test.jsonl",
        "question": "problem",
        "answer": "answer",
        "citation": "Lightman et al. 2023, Let's Verify Step by Step (arXiv 2305.20050), "
        "PRM800K MATH500 test split of Hendrycks et al. 2021 MATH",
        "license": "MIT (OpenAI)",
    },
}
ID_FIELDS = ("problem_id", "unique_id", "id")
_LEVEL = re.compile(r"-?\d+")


@dataclass
class ProblemSet:
    """Problems to collect on: ``frame`` has problem_id, question, answer, level."""

    name: str
    frame: pd.DataFrame
    provenance: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)


def _read_rows(path: Path) -> list[dict]:
    """Rows of a JSONL, JSON (list), Parquet or CSV file."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            rows = []
            with path.open(encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            rows.append(json.loads(line))
                        except json.JSONDecodeError as e:
                            raise ScalingError(
                                f"{path}: line {n} is not valid JSON ({e.msg}); fix the file"
                            ) from None
            return rows
        if suffix == ".json":
            rows = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise ScalingError(f"{path}: expected a JSON list of problems; use JSONL instead")
            return rows
        if suffix == ".parquet":
            return pd.read_parquet(path).to_dict("records")
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
    except (OSError, ValueError) as e:
        raise ScalingError(f"{path}: cannot read problems ({str(e).splitlines()[0]})") from None
    raise ScalingError(
        f"{path}: unknown problem file type '{suffix}'; use .jsonl, .json, .parquet or .csv"
    )


def _level(value) -> int | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    m = _LEVEL.search(str(value))
    return int(m.group()) if m else None


def _field(rows: list[dict], wanted: str | None, candidates: tuple[str, ...], path, what) -> str:
    keys = set(rows[0]) if rows else set()
    if wanted is not None:
        if wanted not in keys:
            raise ScalingError(
                f"{path}: no field '{wanted}' for the {what}; fields are {sorted(keys)}"
            )
        return wanted
    for name in candidates:
        if name in keys:
            return name
    raise ScalingError(
        f"{path}: no {what} field (tried {', '.join(candidates)}); "
        f"pass --{what}-field (fields are {sorted(keys)})"
    )


def gsm8k_reference(solution: str) -> str:
    """GSM8K's reference: the text after ``####``, without thousands separators."""
    if "####" not in solution:
        raise ScalingError(f"gsm8k: answer {solution[:40]!r}... has no '#### N' final line")
    return solution.rsplit("####", 1)[1].strip().replace(",", "")


def load_problems(
    dataset: str,
    *,
    question_field: str | None = None,
    answer_field: str | None = None,
    limit: int | None = None,
    problems: list[str] | None = None,
) -> ProblemSet:
    """Load a bundled problem set (``gsm8k``, ``math500``) or a file, optionally subset.

    ``problems`` keeps only the listed ids (in the file's order); ``limit`` then keeps the first
    ``limit`` problems.
    """
    spec = BUNDLED.get(dataset.lower())
    if spec is not None:
        path = data_dir() / "problems" / spec["file"]
        if not path.is_file():
            raise ScalingError(
                f"{path}: the bundled {dataset} problems are missing; reinstall scaling "
                "or pass a problem file"
            )
        name = dataset.lower()
        qf, af = question_field or spec["question"], answer_field or spec["answer"]
        provenance = {"source": str(path.name), "citation": spec["citation"]}
        provenance["license"] = spec["license"]
    else:
        path = Path(dataset)
        if not path.is_file():
            raise ScalingError(
                f"{dataset}: not a bundled problem set ({', '.join(BUNDLED)}) nor a file"
            )
        name, qf, af = path.stem, question_field, answer_field
        provenance = {"source": str(path), "citation": None, "license": None}
    rows = _read_rows(path)
    if not rows:
        raise ScalingError(f"{path}: no problems in the file")
    qf = _field(rows, qf, ("question", "problem"), path, "question")
    af = _field(rows, af, ("answer",), path, "answer")
    id_field = next((f for f in ID_FIELDS if f in rows[0]), None)
    records = []
    for i, row in enumerate(rows):
        if row.get(qf) in (None, "") or row.get(af) in (None, ""):
            raise ScalingError(f"{path}: row {i + 1} has an empty '{qf}' or '{af}'; fill it in")
        if name == "gsm8k":
            pid, ref = f"gsm8k/test/{i}", gsm8k_reference(str(row[af]))
        else:
            pid = str(row[id_field]) if id_field else str(i)
            ref = str(row[af])
        records.append(
            {
                "problem_id": pid,
                "question": str(row[qf]),
                "answer": ref,
                "level": _level(row.get("level")),
            }
        )
    frame = pd.DataFrame.from_records(records)
    dup = frame["problem_id"][frame["problem_id"].duplicated()]
    if len(dup):
        raise ScalingError(f"{path}: problem id {dup.iloc[0]!r} occurs twice; ids must be unique")
    if problems:
        unknown = sorted(set(problems) - set(frame["problem_id"]))
        if unknown:
            raise ScalingError(
                f"--problems: {unknown[:3]} not in {path.name}; ids look like "
                f"{frame['problem_id'].iloc[0]!r}"
            )
        frame = frame[frame["problem_id"].isin(set(problems))]
    if limit is not None:
        if limit < 1:
            raise ScalingError(f"--limit must be at least 1, got {limit}")
        frame = frame.head(limit)
    frame = frame.reset_index(drop=True)
    frame["level"] = frame["level"].astype("Int16")
    return ProblemSet(name=name, frame=frame, provenance=provenance)
