"""KIND ``wyz``: the JSON that thu-wyz/inference_scaling (Wu et al.'s code) writes.

SOURCE is a JSON list, one object per problem::

    [{"question": "...", "ground_truth_answer": "...",
      "model_answer": [{"text": "...", "step_scores": [0.9, 0.7, ...]}, ...]}, ...]

Optional per problem: ``id``/``unique_id``/``idx`` (else the position), ``level``; per answer:
``completion_tokens``. A GSM8K reference written as a worked solution ("... #### 18") is cut to
the number after ``####``. Answers are extracted from ``text`` (the MetaMath "The answer is: X"
form, with Math-Shepherd's step tag "ки" removed, or ``\\boxed{}``) and graded with math-verify.
``step_scores`` become the PRM ``step_rewards``; name the PRM with ``--reward-model``. Pass
``--search rebase`` for files written by REBASE (the answers are then a search's leaves).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling.errors import ScalingError
from scaling.importers.base import Imported, ImportOptions, need, prm_scored, read_json

STEP_TAG = "ки"  # Math-Shepherd's step delimiter in MetaMath-style solutions
ID_KEYS = ("id", "unique_id", "idx", "problem_id")


def reference(value: str) -> str:
    """A reference answer; a GSM8K worked solution keeps only what follows ``####``."""
    return value.split("####")[-1].strip() if "####" in value else value.strip()


def _steps(value, where: str) -> list[float | None] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        v is None or isinstance(v, (int, float)) for v in value
    ):
        raise ScalingError(f"{where}: field 'step_scores' must be a list of numbers")
    return [None if v is None else float(v) for v in value]


def read(source: Path, options: ImportOptions) -> Imported:
    data = read_json(source)
    if not isinstance(data, list) or not data:
        raise ScalingError(f"{source}: expected a JSON list of problems with 'model_answer'")
    problems, rows = [], []
    for i, q in enumerate(data):
        at = f"{source}: problem {i}"
        if not isinstance(q, dict):
            raise ScalingError(f"{at}: expected an object, got {type(q).__name__}")
        pid = next((str(q[k]) for k in ID_KEYS if q.get(k) is not None), str(i))
        ref = reference(str(need(q, "ground_truth_answer", at, (str, int, float))))
        problems.append(
            {
                "problem_id": pid,
                "question": q.get("question") or q.get("problem"),
                "answer": ref,
                "level": q.get("level") if isinstance(q.get("level"), int) else None,
            }
        )
        for j, a in enumerate(need(q, "model_answer", at, list)):
            where = f"{at}, answer {j}"
            if not isinstance(a, dict):
                raise ScalingError(f"{where}: expected an object with 'text' and 'step_scores'")
            text = a.get("text")
            rows.append(
                {
                    "problem_id": pid,
                    "sample_idx": j,
                    "text": text.replace(STEP_TAG, "") if isinstance(text, str) else None,
                    "reference": ref,
                    "step_rewards": _steps(a.get("step_scores"), where),
                    "completion_tokens": a.get("completion_tokens"),
                }
            )
    problems = pd.DataFrame(problems)
    if problems["problem_id"].duplicated().any():
        raise ScalingError(f"{source}: a problem id repeats; give each problem a unique 'id'")
    if not rows:
        raise ScalingError(f"{source}: no answers in 'model_answer'")
    return prm_scored(source, options, problems, rows, "thu-wyz/inference_scaling output")
