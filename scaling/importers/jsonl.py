"""The generic format: one JSON object per line, one sample each (your field names: --field).

Fields of a line, by our names (only problem_id is always required):

    problem_id         str or int     the problem the sample answers
    answer             str            its final answer (else from text)
    text               str            the response (kept with --text)
    reference          str or number  the problem's reference answer
    correct            bool           the verdict (wins over grading)
    sample_idx         int >= 0       default: its order in its problem
    greedy             bool           temperature 0, kept out of the pool
    reward             number         outcome reward (ORM score)
    step_rewards       list           PRM score per step (null: unscored)
    prompt_tokens      int >= 0       measured prompt tokens
    completion_tokens  int >= 0       measured completion tokens
    finish_reason      str            e.g. "stop" or "length"
    question           str            the problem's text
    level              int >= 0       its difficulty (at most 32,767)
    model              str            the model that wrote the sample

Each line needs answer or text, and reference or correct. Numbers are finite (NaN and
infinities are refused) and integers at most 2,147,483,647.

--field OURS=THEIRS reads our field OURS from your field THEIRS (a.b reads a nested field); give
several pairs separated by commas or as several --field, e.g. --field
problem_id=problem,text=response,reference=gold. A field you map is read only under its new
name. The mapping is recorded in the run (provenance.fields).

Grading: the answer (or the one extracted from text: the last \\boxed{} or "answer is ...") is
graded against the reference by --grader (math, the default: math-verify; exact;
numeric[:TOL]; python:MODULE:FUNCTION) and clustered by it, whichever way correctness is given.
The run records the grader (grading).

Models: a run holds one model. --model NAME names it (known models' sizes are looked up); from
a file whose lines name several models (model) it picks the lines of model NAME. Lines that
name none need --model.

Problem set: --problem-set NAME, else "N problems HASH", a fingerprint of the problem ids and
references, so imports of the same problems share it, and one frontier.

Cost: budgets are FLOPs when the run has a model size (known models are looked up by name,
else --params N) and token counts (completion_tokens on every line, else --tokens-per-sample
T, a declared assumption); then fit also finds the compute-optimal size across sizes. Without
them budgets are in samples per problem. scaling runs set RUN --params N adds them later.

The file is read, graded and written in chunks, in the order of its lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from scaling import models
from scaling.errors import ScalingError
from scaling.grading import extract_answer
from scaling.importers.base import (
    GRADING,
    INT16_MAX,
    INT32_MAX,
    ChunkGrader,
    ImportOptions,
    Sink,
    build_manifest,
    count,
    finite,
    finite_list,
    grading,
    provenance,
    read_jsonl,
    reference,
    sampling,
    tokens_block,
)

OPTIONS = GRADING + ("reward_model", "reward_params", "search", "fields")
TYPES = {
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
FIELDS = tuple(TYPES)
RANGES = {"sample_idx": INT32_MAX, "prompt_tokens": INT32_MAX, "completion_tokens": INT32_MAX}
RANGES["level"] = INT16_MAX


class _Fields:
    """A line's fields under our names, read through the ``--field`` mapping (ours -> theirs)."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping
        self.hidden = set(mapping) | set(mapping.values())  # read only under the mapped name

    def name(self, ours: str) -> str:
        """How errors name a field: the source's name."""
        return self.mapping.get(ours, ours)

    def read(self, line: dict) -> dict[str, Any]:
        if not self.mapping:
            return line
        out = {k: v for k, v in line.items() if k not in self.hidden}
        for ours, theirs in self.mapping.items():
            out[ours] = _lookup(line, theirs)
        return out


def _lookup(line: dict, path: str) -> Any:
    """``line[path]``, or the nested field ``a.b`` names (None when absent)."""
    if path in line:
        return line[path]
    value: Any = line
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _check(r: dict, where: str, fields: _Fields) -> dict:
    """Types and ranges of one line's fields (exact JSON types: a bool is not an int)."""
    for key, value in r.items():
        kinds = TYPES.get(key)
        if kinds is None or value is None:
            continue
        name = fields.name(key)
        if type(value) not in kinds:
            names = "/".join(k.__name__ for k in kinds)
            raise ScalingError(f"{where}: field '{name}' must be {names}, got {value!r:.40}")
        if key in RANGES:
            count(value, where, name, maximum=RANGES[key])
        elif key == "reward":
            finite(value, where, name)
        elif key == "step_rewards":
            finite_list(value, where, name)
        elif key == "reference" and type(value) is not str:
            r[key] = reference(value, where, name)
    if r.get("problem_id") is None:
        raise ScalingError(
            f"{where}: missing field '{fields.name('problem_id')}'; every line needs it"
            + ("" if "problem_id" in fields.mapping else " (map yours with --field problem_id=F)")
        )
    if r.get("answer") is None and r.get("text") is None:
        raise ScalingError(
            f"{where}: needs '{fields.name('answer')}' or '{fields.name('text')}' (the response)"
        )
    if r.get("reference") is None and r.get("correct") is None:
        raise ScalingError(
            f"{where}: needs '{fields.name('reference')}' (to grade) or "
            f"'{fields.name('correct')}' (the verdict)"
        )
    return r


def _flush(rows: list[dict], grader: ChunkGrader, options: ImportOptions, out: Sink) -> int:
    """Grade a chunk of checked lines and hand them to the sink; returns how many kept the
    source's verdict."""
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
    return sum(r.get("correct") is not None for r in rows)


class _Models:
    """The models the lines name, and which lines to keep: with ``--model`` those of that model
    (names compared as ``scaling.models.canonical`` does) and those naming none; else all,
    which must name one model at most. (When the lines name one model only, none of them
    ``--model``'s, ``read`` reads them again as that model's under the name ``--model``.)"""

    def __init__(self, wanted: str | None):
        self.wanted = None if wanted is None else models.canonical(wanted)
        self.names: list[str] = []
        self.skipped = 0
        self._canonical: dict[str, str] = {}

    def keep(self, name: str | None, where: str) -> bool:
        if name is None:
            return True
        if name not in self._canonical:
            self._canonical[name] = models.canonical(name)
            self.names.append(name)
            if self.wanted is None and len(self.names) > 1:
                raise ScalingError(
                    f"{where}: the lines name several models ({', '.join(self.names)}); pass "
                    "--model NAME to import that model's lines (one run per model)"
                )
        if self.wanted is None or self._canonical[name] == self.wanted:
            return True
        self.skipped += 1
        return False


def _read(source: Path, options: ImportOptions, out: Sink, chosen: _Models) -> int:
    """Check, grade and hand on the lines ``chosen`` keeps; returns how many samples kept the
    source's verdict."""
    fields = _Fields(options.field_map(FIELDS))
    grader = ChunkGrader(options)
    position: dict[tuple[str, bool], int] = {}  # lines so far per (problem, greedy)
    rows: list[dict] = []
    from_source = 0
    for lineno, line in read_jsonl(source):
        where = f"{source}, line {lineno}"
        r = _check(fields.read(line), where, fields)
        if not chosen.keep(r.get("model"), where):
            continue
        pid, greedy = str(r["problem_id"]), bool(r.get("greedy"))
        at = position.get((pid, greedy), 0)
        position[(pid, greedy)] = at + 1
        r["problem_id"], r["greedy"] = pid, greedy
        if r.get("sample_idx") is None:
            r["sample_idx"] = count(at, where, "sample_idx (its position)")
        out.problem(
            pid, question=r.get("question"), answer=r.get("reference"), level=r.get("level")
        )
        rows.append(r)
        if len(rows) >= out.chunk_rows:
            from_source += _flush(rows, grader, options, out)
            rows = []
    if rows:
        from_source += _flush(rows, grader, options, out)
    return from_source


def read(source: Path, options: ImportOptions, out: Sink):
    chosen = _Models(options.model)
    from_source = _read(source, options, out, chosen)
    if not out.samples and options.model is not None and len(chosen.names) == 1:
        chosen = _Models(None)  # the lines name one model, another name: --model renames it
        from_source = _read(source, options, out, chosen)
    if options.model is not None and chosen.names and not out.samples:
        raise ScalingError(
            f"{source}: no lines of model '{options.model}'; the lines name: "
            f"{', '.join(chosen.names)}"
        )
    if not out.samples:
        raise ScalingError(f"{source}: no samples; one JSON object per line")
    if options.model is None and not chosen.names:
        raise ScalingError(f"{source}: pass --model NAME (the lines name no model)")
    manifest = build_manifest(
        options,
        out,
        model=chosen.names[0] if chosen.names else "",
        problem_set=None,
        sampling=sampling(out.n_max),
        tokens=tokens_block(options, out.measured_tokens()),
        provenance=provenance(
            f"samples JSONL '{source.name}'", source, fields=options.field_map(FIELDS)
        ),
        reward_model={
            "name": "unspecified reward model",
            "params": None,
            "kind": "prm" if out.has_steps and not out.has_reward else "orm",
        }
        if out.has_reward or out.has_steps
        else None,
        grading=grading(options, from_source),
    )
    report: dict[str, Any] = {"mean accuracy": out.accuracy}
    if chosen.skipped:
        report["lines of other models"] = chosen.skipped
    return manifest, report
