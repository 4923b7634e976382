"""KIND ``qwen-eval``: Qwen2.5-Math evaluation output (JSONL, one problem per line).

Each line: ``idx`` (problem id), ``question``, ``gt`` (reference answer), ``level``
("Level 3" or 3), and per sample (lists of equal length n): ``pred`` (extracted answer),
``score`` (the evaluator's verdict), ``pred_score`` (outcome-reward-model scores, one list per
sample: the last value is the reward) and ``code`` (the responses). ``system`` is the prompt.

Answers are re-graded with math-verify (``correct`` = our verdict); the stored verdicts are kept
as counts and an agreement rate in ``extra.stored_grader``. Responses are stored only with
``--text``. The file names no model size: pass ``--model``/``--params`` when you know it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from scaling import models
from scaling.errors import ScalingError
from scaling.importers.base import (
    Imported,
    ImportOptions,
    agreement,
    build_manifest,
    grade_responses,
    need,
    provenance,
    read_jsonl,
    sampling,
    text_hash,
    tokens_block,
)

DEFAULT_MODEL = "qwen2.5-math-instruct"
DEFAULT_REWARD_MODEL = "qwen2.5-math-rm-72b"


def _level(value, where: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    m = re.fullmatch(r"\s*(?:level\s*)?(\d+)\s*", str(value), re.IGNORECASE)
    if m is None:
        if str(value).strip().lower() in ("", "level ?"):
            return None
        raise ScalingError(f"{where}: field 'level' must look like 'Level 3' or 3, got {value!r}")
    return int(m.group(1))


def _reward(value, where: str) -> float | None:
    """An ORM score: a number, or the last number of a list (Qwen writes ``[[3.5], ...]``)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    raise ScalingError(f"{where}: field 'pred_score' must hold numbers, got {value!r}")


def read(source: Path, options: ImportOptions) -> Imported:
    problems, rows = [], []
    systems: set[str] = set()
    for lineno, r in read_jsonl(source):
        at = f"{source}, line {lineno}"
        pid = str(need(r, "idx", at, (int, str)))
        preds = need(r, "pred", at, list)
        n = len(preds)
        scores = need(r, "score", at, list)
        rewards = r.get("pred_score")
        texts = r.get("code") or r.get("response")
        for name, values in (("score", scores), ("pred_score", rewards), ("code", texts)):
            if values is not None and (not isinstance(values, list) or len(values) != n):
                raise ScalingError(f"{at}: field '{name}' must be a list of {n} (one per 'pred')")
        if isinstance(r.get("system"), str):
            systems.add(r["system"])
        problems.append(
            {
                "problem_id": pid,
                "question": r.get("question"),
                "answer": str(need(r, "gt", at, (str, int, float))),
                "level": _level(r.get("level"), at),
            }
        )
        for i in range(n):
            rows.append(
                {
                    "problem_id": pid,
                    "sample_idx": i,
                    "pred": preds[i] if isinstance(preds[i], str) else None,
                    "reference": problems[-1]["answer"],
                    "stored": bool(scores[i]),
                    "reward": _reward(rewards[i], at) if rewards is not None else None,
                    "text": texts[i] if texts is not None else None,
                }
            )
    if not rows:
        raise ScalingError(f"{source}: no samples; pass a Qwen2.5-Math evaluation JSONL file")
    problems = pd.DataFrame(problems)
    if problems["problem_id"].duplicated().any():
        dup = problems["problem_id"][problems["problem_id"].duplicated()].iloc[0]
        raise ScalingError(f"{source}: problem idx {dup!r} appears twice; one line per problem")
    frame = pd.DataFrame(rows)
    graded = grade_responses(
        frame["text"].tolist(),
        frame["reference"].tolist(),
        frame["problem_id"].tolist(),
        options,
        answers=frame["pred"].tolist(),
    )
    samples = pd.concat([frame[["problem_id", "sample_idx", "reward"]], graded], axis=1)
    if options.text:
        samples["text"] = frame["text"]
    has_rewards = frame["reward"].notna().any()
    system = systems.pop() if len(systems) == 1 else None
    agree = agreement(samples["correct"], frame["stored"])
    lengths = frame["text"].dropna().str.len()
    rm = models.resolve(DEFAULT_REWARD_MODEL)
    manifest = build_manifest(
        options,
        model=DEFAULT_MODEL,
        problem_set=f"MATH ({len(problems)} test problems)",
        sampling=sampling(int(frame.groupby("problem_id").size().max())),
        tokens=tokens_block(options),
        provenance=provenance(f"Qwen2.5-Math evaluation output '{source.name}'", source),
        prompt={"template": system, "hash": text_hash(system)} if system else None,
        reward_model={"name": rm.name, "params": rm.params, "kind": "orm"} if has_rewards else None,
        extra={
            "stored_grader": {"scorer": "Qwen2.5-Math evaluator ('score')", **agree},
            "mean_response_chars": float(lengths.mean()) if len(lengths) else None,
        },
    )
    return Imported(manifest, problems, samples, {"agreement with stored verdicts": agree})
