"""Qwen2.5-Math evaluation output (JSONL, one problem per line), with ORM scores.

Each line: idx (problem id), question, gt (reference answer), level ("Level 3" or 3), and per
sample (lists of equal length n): pred (extracted answer), score (the evaluator's verdict),
pred_score (outcome-reward-model scores, one list per sample: the last value is the reward) and
code (the responses). system is the prompt.

Answers are re-graded by --grader (math, the default: math-verify; see scaling import jsonl
--help) and correct is our verdict; the stored verdicts are kept as counts and an agreement rate
in extra.stored_grader. Responses are stored only with --text. The file names no model size:
pass --model/--params when you know it (or later: scaling runs set RUN --params N). Lines are
read, graded and written in chunks; ORM scores must be finite numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from scaling import models
from scaling.errors import ScalingError
from scaling.importers.base import (
    GRADING,
    INT16_MAX,
    Agreement,
    ChunkGrader,
    ImportOptions,
    Sink,
    build_manifest,
    count,
    finite,
    grading,
    need,
    provenance,
    read_jsonl,
    reference,
    sampling,
    text_hash,
    tokens_block,
)

OPTIONS = GRADING + ("reward_model", "reward_params")
DEFAULT_MODEL = "qwen2.5-math-instruct"
DEFAULT_REWARD_MODEL = "qwen2.5-math-rm-72b"


def _level(value, where: str) -> int | None:
    if value is None or isinstance(value, int):
        return count(value, where, "level", maximum=INT16_MAX)
    m = re.fullmatch(r"\s*(?:level\s*)?(\d+)\s*", str(value), re.IGNORECASE)
    if m is None:
        if str(value).strip().lower() in ("", "level ?"):
            return None
        raise ScalingError(f"{where}: field 'level' must look like 'Level 3' or 3, got {value!r}")
    return count(int(m.group(1)), where, "level", maximum=INT16_MAX)


def _reward(value, where: str) -> float | None:
    """An ORM score: a number, or the last number of a list (Qwen writes ``[[3.5], ...]``)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return finite(value, where, "pred_score")
    raise ScalingError(f"{where}: field 'pred_score' must hold numbers, got {value!r}")


class _Chunk:
    """Samples of a chunk of lines, graded and handed on together."""

    def __init__(self, options: ImportOptions, out: Sink):
        self.options, self.out = options, out
        self.grader = ChunkGrader(options)
        self.agreement = Agreement()
        self.chars = [0, 0]  # responses and their total length (characters)
        self.rows: list[tuple] = []

    def add(self, pid, idx, pred, ref, stored, reward, text) -> None:
        self.rows.append((pid, idx, pred, ref, stored, reward, text))
        if text is not None:
            self.chars[0] += 1
            self.chars[1] += len(text)

    def flush(self) -> None:
        if not self.rows:
            return
        pids, idx, preds, refs, stored, rewards, texts = (
            list(c) for c in zip(*self.rows, strict=True)
        )
        self.rows = []
        graded = self.grader(preds, refs, pids)
        frame = pd.DataFrame(
            {"problem_id": pids, "sample_idx": idx, "reward": pd.Series(rewards, dtype=object)}
        )
        frame = pd.concat([frame, graded], axis=1)
        if self.options.text:
            frame["text"] = pd.Series(texts, dtype=object)
        self.agreement.add(graded["correct"], stored)
        self.out.add(frame)


def read(source: Path, options: ImportOptions, out: Sink):
    chunk = _Chunk(options, out)
    systems: set[str] = set()
    for lineno, r in read_jsonl(source):
        at = f"{source}, line {lineno}"
        pid = str(need(r, "idx", at, (int, str)))
        if out.has_problem(pid):
            raise ScalingError(f"{at}: problem idx {pid!r} appears twice; one line per problem")
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
        ref = reference(need(r, "gt", at, (str, int, float)), at, "gt")
        out.problem(pid, question=r.get("question"), answer=ref, level=_level(r.get("level"), at))
        for i in range(n):
            chunk.add(
                pid,
                i,
                preds[i] if isinstance(preds[i], str) else None,
                ref,
                bool(scores[i]),
                _reward(rewards[i], at) if rewards is not None else None,
                texts[i] if texts is not None and isinstance(texts[i], str) else None,
            )
        if len(chunk.rows) >= out.chunk_rows:
            chunk.flush()
    chunk.flush()
    if not out.samples:
        raise ScalingError(f"{source}: no samples; pass a Qwen2.5-Math evaluation JSONL file")
    system = systems.pop() if len(systems) == 1 else None
    agree = chunk.agreement.result()
    rm = models.resolve(DEFAULT_REWARD_MODEL)
    responses, chars = chunk.chars
    manifest = build_manifest(
        options,
        out,
        model=DEFAULT_MODEL,
        problem_set=f"MATH ({out.n_problems} test problems)",
        sampling=sampling(out.n_max),
        tokens=tokens_block(options),
        provenance=provenance(f"Qwen2.5-Math evaluation output '{source.name}'", source),
        prompt={"template": system, "hash": text_hash(system)} if system else None,
        reward_model={"name": rm.name, "params": rm.params, "kind": "orm"}
        if out.has_reward
        else None,
        grading=grading(options),
        extra={
            "stored_grader": {"scorer": "Qwen2.5-Math evaluator ('score')", **agree},
            "mean_response_chars": chars / responses if responses else None,
        },
    )
    return manifest, {"agreement with stored verdicts": agree}
