"""KIND ``jsonl``: the generic format, one sample per line.

Fields of a line (only ``problem_id`` is always required)::

    problem_id      str or int      the problem the sample answers
    answer          str             its final answer (else extracted from ``text``)
    text            str             the full response (stored only with --text)
    reference       str or number   the problem's reference answer (graded with math-verify)
    correct         bool            the verdict, when you have one (wins over grading)
    sample_idx      int >= 0        default: the sample's position among its problem's lines
    greedy          bool            a temperature-0 sample, kept out of the k-subset pool
    reward          finite number   outcome reward (ORM)
    step_rewards    [number]        process reward per step (PRM; finite, or null = unscored)
    prompt_tokens, completion_tokens  int >= 0   measured token counts
    finish_reason   str             e.g. "stop" or "length"
    question        str             the problem's text
    level           int >= 0        its difficulty level
    model           str             the model (else pass --model)

Each line needs ``answer`` or ``text``, and ``reference`` or ``correct``. Answers of a problem
are clustered with math-verify whichever way correctness is given. Integers are at most
2,147,483,647 (levels 32,767); NaN and infinities are refused. The file is read, graded and
written in chunks (``ImportOptions.chunk_rows`` lines), in the order of its lines.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling.errors import ScalingError
from scaling.grading import extract_answer
from scaling.importers.base import (
    INT16_MAX,
    INT32_MAX,
    ChunkGrader,
    ImportOptions,
    Sink,
    build_manifest,
    count,
    finite,
    finite_list,
    provenance,
    read_jsonl,
    reference,
    sampling,
    tokens_block,
)

FIELDS = {
    "problem_id": (str, int),
    "answer": (str,),
    "text": (str,),
    "reference": (str, int, float),
    "correct": (bool,),
    "sample_idx": (int,),
    "greedy": (bool,),
    "reward": (int, float),
    "step_rewards": (list,),
    "prompt_tokens": (int,),
    "completion_tokens": (int,),
    "finish_reason": (str,),
    "question": (str,),
    "level": (int,),
    "model": (str,),
}
COUNTS = ("sample_idx", "prompt_tokens", "completion_tokens")


RANGES = {"sample_idx": INT32_MAX, "prompt_tokens": INT32_MAX, "completion_tokens": INT32_MAX}
RANGES["level"] = INT16_MAX


def _check(r: dict, where: str) -> dict:
    """Types and ranges of one line's fields (exact JSON types: a bool is not an int)."""
    for key, value in r.items():
        kinds = FIELDS.get(key)
        if kinds is None or value is None:
            continue
        if type(value) not in kinds:
            names = "/".join(k.__name__ for k in kinds)
            raise ScalingError(f"{where}: field '{key}' must be {names}, got {value!r:.40}")
        if key in RANGES:
            count(value, where, key, maximum=RANGES[key])
        elif key == "reward":
            finite(value, where, key)
        elif key == "step_rewards":
            finite_list(value, where, key)
        elif key == "reference" and type(value) is not str:
            r[key] = reference(value, where, key)
    if r.get("problem_id") is None:
        raise ScalingError(f"{where}: missing field 'problem_id'; every line needs it")
    if r.get("answer") is None and r.get("text") is None:
        raise ScalingError(f"{where}: needs 'answer' or 'text' (the response)")
    if r.get("reference") is None and r.get("correct") is None:
        raise ScalingError(f"{where}: needs 'reference' (to grade) or 'correct' (the verdict)")
    return r


def _flush(rows: list[dict], grader: ChunkGrader, options: ImportOptions, out: Sink) -> None:
    """Grade a chunk of checked lines and hand them to the sink."""
    pids = [r["problem_id"] for r in rows]
    answers = [
        r["answer"] if r.get("answer") is not None else extract_answer(r.get("text")) for r in rows
    ]
    graded = grader(answers, [r.get("reference") for r in rows], pids)
    frame = pd.DataFrame(
        {
            "problem_id": pids,
            "sample_idx": [r["sample_idx"] for r in rows],
            "greedy": [r["greedy"] for r in rows],
            **{
                name: pd.Series([r.get(name) for r in rows], dtype=object)
                for name in ("reward", "step_rewards", "prompt_tokens", "completion_tokens")
            },
            "finish_reason": pd.Series([r.get("finish_reason") for r in rows], dtype=object),
        }
    )
    frame["answer"], frame["cluster"] = graded["answer"], graded["cluster"]
    frame["correct"] = [
        r["correct"] if r.get("correct") is not None else g
        for r, g in zip(rows, graded["correct"], strict=True)
    ]
    if options.text:
        frame["text"] = pd.Series([r.get("text") for r in rows], dtype=object)
    out.add(frame)


def read(source: Path, options: ImportOptions, out: Sink):
    grader = ChunkGrader(options)
    position: dict[tuple[str, bool], int] = {}  # lines so far per (problem, greedy)
    names: list[str] = []
    rows: list[dict] = []
    for lineno, r in read_jsonl(source):
        where = f"{source}, line {lineno}"
        r = _check(r, where)
        pid, greedy = str(r["problem_id"]), bool(r.get("greedy"))
        at = position.get((pid, greedy), 0)
        position[(pid, greedy)] = at + 1
        r["problem_id"], r["greedy"] = pid, greedy
        if r.get("sample_idx") is None:
            r["sample_idx"] = count(at, where, "sample_idx (its position)")
        name = r.get("model")
        if name is not None and options.model is None and name not in names:
            names.append(name)
            if len(names) > 1:
                raise ScalingError(
                    f"{where}: the lines name several models ({', '.join(names)}); pass --model "
                    "NAME (one run per model)"
                )
        out.problem(
            pid, question=r.get("question"), answer=r.get("reference"), level=r.get("level")
        )
        rows.append(r)
        if len(rows) >= out.chunk_rows:
            _flush(rows, grader, options, out)
            rows = []
    if rows:
        _flush(rows, grader, options, out)
    if not out.samples:
        raise ScalingError(f"{source}: no samples; one JSON object per line")
    if options.model is None and not names:
        raise ScalingError(f"{source}: pass --model NAME (the lines name no model)")
    manifest = build_manifest(
        options,
        model=names[0] if names else "",
        problem_set=f"{source.stem} ({out.n_problems} problems)",
        sampling=sampling(out.n_max),
        tokens=tokens_block(options, out.measured_tokens()),
        provenance=provenance(f"samples JSONL '{source.name}'", source),
        reward_model={
            "name": "unspecified reward model",
            "params": None,
            "kind": "prm" if out.has_steps and not out.has_reward else "orm",
        }
        if out.has_reward or out.has_steps
        else None,
    )
    return manifest, {"mean accuracy": out.accuracy}
