"""The JSON that thu-wyz/inference_scaling (Wu et al.'s code) writes, PRM-scored.

SOURCE is a JSON list, one object per problem:

    [{"question": "...", "ground_truth_answer": "...",
      "model_answer": [{"text": "...", "step_scores": [0.9, ...]}, ...]}, ...]

Optional per problem: id/unique_id/idx (else the position), level; per answer:
completion_tokens. A GSM8K reference written as a worked solution ("... #### 18") is cut to the
number after ####. Answers are extracted from text (the MetaMath "The answer is: X" form, with
Math-Shepherd's step tag "ки" removed, or \\boxed{}) and graded by --grader (math, the
default: math-verify). step_scores become the PRM step rewards; name the PRM with
--reward-model. Pass --search rebase for files written by REBASE (the answers are then a
search's leaves). The problem set is named by --problem-set, else by the fingerprint of its
problem ids and references.
"""

from __future__ import annotations

from pathlib import Path

from scaling.errors import ScalingError
from scaling.importers.base import (
    GRADING,
    INT16_MAX,
    ImportOptions,
    PrmSamples,
    Sink,
    count,
    finite_list,
    need,
    read_json,
)
from scaling.importers.base import reference as answer_text

OPTIONS = GRADING + ("reward_model", "reward_params", "search")
STEP_TAG = "ки"  # Math-Shepherd's step delimiter in MetaMath-style solutions
ID_KEYS = ("id", "unique_id", "idx", "problem_id")


def reference(value: str) -> str:
    """A reference answer; a GSM8K worked solution keeps only what follows ``####``."""
    return value.split("####")[-1].strip() if "####" in value else value.strip()


def read(source: Path, options: ImportOptions, out: Sink):
    data = read_json(source)
    if not isinstance(data, list) or not data:
        raise ScalingError(f"{source}: expected a JSON list of problems with 'model_answer'")
    samples = PrmSamples(source, options, out)
    for i, q in enumerate(data):
        at = f"{source}: problem {i}"
        if not isinstance(q, dict):
            raise ScalingError(f"{at}: expected an object, got {type(q).__name__}")
        pid = next((str(q[k]) for k in ID_KEYS if q.get(k) is not None), str(i))
        if out.has_problem(pid):
            raise ScalingError(f"{at}: problem id {pid!r} repeats; give each problem a unique 'id'")
        ref = reference(answer_text(need(q, "ground_truth_answer", at, (str, int, float)), at,
                                    "ground_truth_answer"))  # fmt: skip
        level = q.get("level")
        out.problem(
            pid,
            question=q.get("question") or q.get("problem"),
            answer=ref,
            level=count(level, at, "level", maximum=INT16_MAX)
            if isinstance(level, int) and not isinstance(level, bool)
            else None,
        )
        for j, a in enumerate(need(q, "model_answer", at, list)):
            where = f"{at}, answer {j}"
            if not isinstance(a, dict):
                raise ScalingError(f"{where}: expected an object with 'text' and 'step_scores'")
            text = a.get("text")
            samples.add(
                pid,
                j,
                text.replace(STEP_TAG, "") if isinstance(text, str) else None,
                ref,
                finite_list(a.get("step_scores"), where, "step_scores"),
                count(a.get("completion_tokens"), where, "completion_tokens"),
            )
    return samples.describe("thu-wyz/inference_scaling output")
