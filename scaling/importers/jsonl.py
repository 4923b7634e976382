"""KIND ``jsonl``: the generic format, one sample per line.

Fields of a line (only ``problem_id`` is always required)::

    problem_id      str or int      the problem the sample answers
    answer          str             its final answer (else extracted from ``text``)
    text            str             the full response (stored only with --text)
    reference       str             the problem's reference answer (graded with math-verify)
    correct         bool            the verdict, when you have one (wins over grading)
    sample_idx      int             default: the sample's position among its problem's lines
    greedy          bool            a temperature-0 sample, kept out of the k-subset pool
    reward          number          outcome reward (ORM)
    step_rewards    [number]        process reward per step (PRM)
    prompt_tokens, completion_tokens  int   measured token counts
    finish_reason   str             e.g. "stop" or "length"
    question        str             the problem's text
    level           int             its difficulty level
    model           str             the model (else pass --model)

Each line needs ``answer`` or ``text``, and ``reference`` or ``correct``. Answers of a problem
are clustered with math-verify whichever way correctness is given.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling.errors import ScalingError
from scaling.grading import extract_answer, grade
from scaling.importers.base import (
    Imported,
    ImportOptions,
    build_manifest,
    in_problem_order,
    measured_tokens,
    provenance,
    read_jsonl,
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
SAMPLE_COLUMNS = [
    "problem_id",
    "sample_idx",
    "greedy",
    "reward",
    "step_rewards",
    "prompt_tokens",
    "completion_tokens",
    "finish_reason",
]


def _check(r: dict, where: str) -> dict:
    for key, value in r.items():
        kinds = FIELDS.get(key)
        if kinds is None or value is None:
            continue
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = "/".join(k.__name__ for k in kinds)
            raise ScalingError(f"{where}: field '{key}' must be {names}, got {value!r:.40}")
    if r.get("problem_id") is None:
        raise ScalingError(f"{where}: missing field 'problem_id'; every line needs it")
    if r.get("answer") is None and r.get("text") is None:
        raise ScalingError(f"{where}: needs 'answer' or 'text' (the response)")
    if r.get("reference") is None and r.get("correct") is None:
        raise ScalingError(f"{where}: needs 'reference' (to grade) or 'correct' (the verdict)")
    return r


def read(source: Path, options: ImportOptions) -> Imported:
    rows = [_check(r, f"{source}, line {n}") for n, r in read_jsonl(source)]
    if not rows:
        raise ScalingError(f"{source}: no samples; one JSON object per line")
    frame = pd.DataFrame(rows)
    for column in FIELDS:
        if column not in frame.columns:
            frame[column] = None
    frame["problem_id"] = frame["problem_id"].astype(str)
    frame["greedy"] = frame["greedy"].fillna(False).astype(bool)
    position = frame.groupby(["problem_id", "greedy"]).cumcount()
    frame["sample_idx"] = frame["sample_idx"].fillna(position).astype("int64")
    frame = in_problem_order(frame)
    if frame.duplicated(["problem_id", "greedy", "sample_idx"]).any():
        raise ScalingError(f"{source}: a (problem_id, sample_idx) pair repeats")
    names = frame["model"].dropna().unique()
    if options.model is None and len(names) != 1:
        raise ScalingError(
            f"{source}: pass --model NAME (the lines name {len(names)} models; one run per model)"
        )

    answers = [
        a if isinstance(a, str) else extract_answer(t)
        for a, t in zip(frame["answer"], frame["text"], strict=True)
    ]
    references = [None if pd.isna(r) else str(r) for r in frame["reference"]]
    graded = grade(
        answers,
        references,
        problem_ids=frame["problem_id"].tolist(),
        timeout=options.timeout,
        workers=options.workers,
        progress=options.progress,
    )
    given = frame["correct"]
    samples = frame[SAMPLE_COLUMNS].copy()
    samples["answer"] = [g.answer for g in graded]
    samples["cluster"] = [g.cluster for g in graded]
    samples["correct"] = [
        bool(c) if c is not None and not pd.isna(c) else g.correct
        for c, g in zip(given, graded, strict=True)
    ]
    if options.text:
        samples["text"] = frame["text"]
    problems = (
        frame.groupby("problem_id", sort=False)
        .agg(
            question=("question", "first"),
            answer=("reference", "first"),
            level=("level", "first"),
        )
        .reset_index()
    )
    problems["answer"] = [None if pd.isna(a) else str(a) for a in problems["answer"]]
    has_reward = frame["reward"].notna().any()
    has_steps = frame["step_rewards"].notna().any()
    pool = frame[~frame["greedy"]]
    manifest = build_manifest(
        options,
        model=str(names[0]) if len(names) else "",
        problem_set=f"{source.stem} ({len(problems)} problems)",
        sampling=sampling(int(pool.groupby("problem_id").size().max()) if len(pool) else 0),
        tokens=tokens_block(options, measured_tokens(frame)),
        provenance=provenance(f"samples JSONL '{source.name}'", source),
        reward_model={
            "name": "unspecified reward model",
            "params": None,
            "kind": "prm" if has_steps and not has_reward else "orm",
        }
        if has_reward or has_steps
        else None,
    )
    return Imported(manifest, problems, samples, {"mean accuracy": float(samples.correct.mean())})
