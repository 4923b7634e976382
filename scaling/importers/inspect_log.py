"""Inspect AI evaluation logs (e.g. Epoch AI's Benchmarking Hub logs), answers re-graded.

SOURCE is one of
- a folder holding header.json and summaries.json (the two parts of a log, as Epoch AI
  publishes them),
- an Inspect .eval file (a zip holding those same two files),
- a .json log (the header's fields plus samples).

Each sample record gives id, epoch, target and scores.SCORER with value (C/I or 1/0) and
answer; the response text is output.completion when present, else the scorer's answer. The
final answer is extracted from the response and re-graded against the target by --grader
(math, the default: math-verify) and correct is our verdict; the stored verdicts of the scorer
(--scorer, when the log has several) are kept as counts and an agreement rate in
extra.stored_grader. Epochs become sample indices (epoch - 1). The problem set is the log's
data set name.

Tokens: per-sample output.usage when the log has it (measured); otherwise the evaluated model's
totals in stats.model_usage divided by the number of samples (mean).

A log is one JSON document, parsed whole; its samples are graded and written in chunks. Epochs
are integers >= 1 and token counts integers >= 0 (at most 2,147,483,647).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from scaling.errors import ScalingError
from scaling.grading import extract_answer
from scaling.importers.base import (
    GRADING,
    INT32_MAX,
    Agreement,
    ChunkGrader,
    ImportOptions,
    Sink,
    build_manifest,
    count,
    grading,
    need,
    provenance,
    read_json,
    reference,
    sampling,
    text_hash,
    tokens_block,
)

OPTIONS = GRADING + ("scorer",)
CORRECT_VALUES = {"C", 1}


def _load(source: Path) -> tuple[dict, list[dict], list[Path]]:
    """(header, sample records, files read) from a folder, an ``.eval`` zip or a ``.json`` log."""
    if source.is_dir():
        header_path, summaries_path = source / "header.json", source / "summaries.json"
        for p in (header_path, summaries_path):
            if not p.is_file():
                raise ScalingError(
                    f"{source}: no {p.name}; an Inspect log folder holds header.json and "
                    "summaries.json"
                )
        records = read_json(summaries_path)
        return read_json(header_path), records, [header_path, summaries_path]
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as z:
            names = set(z.namelist())
            if not {"header.json", "summaries.json"} <= names:
                raise ScalingError(
                    f"{source}: an .eval file must hold header.json and summaries.json"
                )
            try:
                header = json.loads(z.read("header.json"))
                records = json.loads(z.read("summaries.json"))
            except json.JSONDecodeError as e:
                raise ScalingError(f"{source}: a JSON part is not valid JSON ({e.msg})") from None
        return header, records, [source]
    log = read_json(source)
    if not isinstance(log, dict) or "samples" not in log:
        raise ScalingError(
            f"{source}: not an Inspect log (no 'samples'); pass a .json log, an .eval file or a "
            "folder with header.json and summaries.json"
        )
    return log, log["samples"], [source]


def _prompt_text(value: Any) -> str | None:
    """The user's prompt: a string, or the last message's text of a chat input."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[-1], dict):
        content = value[-1].get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return content if isinstance(content, str) else None
    return None


def _template(header: dict) -> str | None:
    for step in (header.get("plan") or {}).get("steps") or []:
        if step.get("solver") == "prompt_template":
            return (step.get("params") or {}).get("template")
    return None


def in_problem_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by problem (in order of first appearance), then sample index."""
    first = {pid: i for i, pid in enumerate(dict.fromkeys(frame["problem_id"]))}
    frame = frame.assign(_order=frame["problem_id"].map(first))
    frame = frame.sort_values(["_order", "sample_idx"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def read(source: Path, options: ImportOptions, out: Sink):
    header, records, files = _load(source)
    where = str(source)
    if not isinstance(header, dict):
        raise ScalingError(f"{where}: the log header must be a JSON object")
    if not isinstance(records, list) or not records:
        raise ScalingError(f"{where}: the log has no samples; pass a log with samples")
    ev = need(header, "eval", where, dict)
    eval_model = need(ev, "model", f"{where}: eval", str)

    scorers = sorted(
        {name for r in records if isinstance(r, dict) for name in (r.get("scores") or {})}
    )
    scorer = options.scorer or (scorers[0] if len(scorers) == 1 else None)
    if scorer is None or scorer not in scorers:
        raise ScalingError(
            f"{where}: choose a scorer with --scorer (the log has: {', '.join(scorers) or 'none'})"
        )

    rows = []
    for i, r in enumerate(records):
        at = f"{where}: sample {i}"
        if not isinstance(r, dict):
            raise ScalingError(f"{at}: expected an object, got {type(r).__name__}")
        score = need(need(r, "scores", at, dict), scorer, at, dict)
        output = r.get("output") if isinstance(r.get("output"), dict) else {}
        usage = output.get("usage") if isinstance(output.get("usage"), dict) else {}
        text = output.get("completion") or score.get("answer")
        epoch = count(need(r, "epoch", at, int), at, "epoch", maximum=INT32_MAX)
        if epoch < 1:
            raise ScalingError(f"{at}: field 'epoch' must be at least 1, got {epoch}")
        rows.append(
            {
                "problem_id": str(need(r, "id", at, (str, int))),
                "sample_idx": epoch - 1,
                "question": _prompt_text(r.get("input")),
                "reference": reference(need(r, "target", at, (str, int, float)), at, "target"),
                "stored": score.get("value") in CORRECT_VALUES,
                "text": text if isinstance(text, str) else None,
                "prompt_tokens": count(usage.get("input_tokens"), at, "usage.input_tokens"),
                "completion_tokens": count(usage.get("output_tokens"), at, "usage.output_tokens"),
            }
        )
    frame = in_problem_order(pd.DataFrame(rows))
    if frame.duplicated(["problem_id", "sample_idx"]).any():
        raise ScalingError(f"{where}: a (sample id, epoch) pair repeats; the log is inconsistent")
    n = len(frame)
    measured = bool(frame["completion_tokens"].notna().all())
    columns = ["problem_id", "sample_idx"] + (["prompt_tokens", "completion_tokens"] * measured)
    grader, agree = ChunkGrader(options), Agreement()
    for at in range(0, n, out.chunk_rows):
        part = frame.iloc[at : at + out.chunk_rows].reset_index(drop=True)
        for row in part.itertuples():
            out.problem(row.problem_id, question=row.question, answer=row.reference)
        graded = grader(
            [extract_answer(t) for t in part["text"]],
            part["reference"].tolist(),
            part["problem_id"].tolist(),
        )
        samples = pd.concat([part[columns], graded], axis=1)
        if options.text:
            samples["text"] = part["text"]
        agree.add(graded["correct"], part["stored"])
        out.add(samples)
    tokens = out.measured_tokens() if measured else None
    if tokens is None:
        usage = ((header.get("stats") or {}).get("model_usage") or {}).get(eval_model)
        if isinstance(usage, dict) and "output_tokens" in usage:
            tokens = {
                "source": "mean",
                "mean_prompt_tokens": usage.get("input_tokens", 0) / n,
                "mean_completion_tokens": usage["output_tokens"] / n,
                "assumption": "per-sample counts not logged: the run's totals in "
                f"stats.model_usage['{eval_model}'] divided by its {n} samples",
            }

    template = _template(header)
    epochs = (ev.get("config") or {}).get("epochs")
    max_tokens = ((header.get("plan") or {}).get("config") or {}).get("max_tokens")
    others = sorted(set((header.get("stats") or {}).get("model_usage") or {}) - {eval_model})
    dataset = ev.get("dataset") or {}
    agreement = agree.result()
    manifest = build_manifest(
        options,
        out,
        model=eval_model,
        problem_set=dataset.get("name") or ev.get("task") or source.name,
        sampling={
            **sampling(epochs or out.n_max),
            "max_tokens": max_tokens or (ev.get("config") or {}).get("token_limit"),
        },
        tokens=tokens_block(options, tokens),
        provenance=provenance(
            f"Inspect AI log '{source.name}' (task {ev.get('task')!r}, model {eval_model!r})",
            *files,
        ),
        prompt={"template": template, "hash": text_hash(template)} if template else None,
        grading=grading(options),
        extra={
            "inspect": {
                "task": ev.get("task"),
                "eval_run_id": ev.get("run_id"),
                "model": eval_model,
            },
            "stored_grader": {"scorer": scorer, "grader_models": others, **agreement},
        },
    )
    return manifest, {"agreement with stored verdicts": agreement}
