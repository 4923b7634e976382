"""KIND ``inspect``: Inspect AI evaluation logs (e.g. Epoch AI's Benchmarking Hub logs).

SOURCE is one of
- a folder holding ``header.json`` and ``summaries.json`` (the two parts of a log, as Epoch AI
  publishes them),
- an Inspect ``.eval`` file (a zip holding those same two files),
- a ``.json`` log (the header's fields plus ``samples``).

Each sample record gives ``id``, ``epoch``, ``target`` and ``scores.<scorer>`` with ``value``
(C/I or 1/0) and ``answer``; the response text is ``output.completion`` when present, else the
scorer's ``answer``. The final answer is extracted from the response and re-graded against the
target with math-verify (``correct`` = our verdict); the stored verdicts are kept as counts and
an agreement rate in ``extra.stored_grader``. Epochs become sample indices (epoch - 1).

Tokens: per-sample ``output.usage`` when the log has it (``measured``); otherwise the evaluated
model's totals in ``stats.model_usage`` divided by the number of samples (``mean``).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from scaling.errors import ScalingError
from scaling.importers.base import (
    Imported,
    ImportOptions,
    agreement,
    build_manifest,
    grade_responses,
    in_problem_order,
    measured_tokens,
    need,
    provenance,
    read_json,
    sampling,
    text_hash,
    tokens_block,
)

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


def read(source: Path, options: ImportOptions) -> Imported:
    header, records, files = _load(source)
    where = str(source)
    if not isinstance(header, dict):
        raise ScalingError(f"{where}: the log header must be a JSON object")
    if not isinstance(records, list) or not records:
        raise ScalingError(f"{where}: the log has no samples; pass a log with samples")
    ev = need(header, "eval", where, dict)
    eval_model = need(ev, "model", f"{where}: eval", str)

    scorers = sorted({name for r in records for name in (r.get("scores") or {})})
    scorer = options.scorer or (scorers[0] if len(scorers) == 1 else None)
    if scorer is None or scorer not in scorers:
        raise ScalingError(
            f"{where}: choose a scorer with --scorer (the log has: {', '.join(scorers) or 'none'})"
        )

    rows = []
    for i, r in enumerate(records):
        at = f"{where}: sample {i}"
        score = need(need(r, "scores", at, dict), scorer, at, dict)
        output = r.get("output") if isinstance(r.get("output"), dict) else {}
        usage = output.get("usage") if isinstance(output.get("usage"), dict) else {}
        text = output.get("completion") or score.get("answer")
        rows.append(
            {
                "problem_id": str(need(r, "id", at, (str, int))),
                "sample_idx": int(need(r, "epoch", at, int)) - 1,
                "question": _prompt_text(r.get("input")),
                "reference": str(need(r, "target", at, (str, int, float))),
                "stored": score.get("value") in CORRECT_VALUES,
                "text": text if isinstance(text, str) else None,
                "prompt_tokens": usage.get("input_tokens"),
                "completion_tokens": usage.get("output_tokens"),
            }
        )
    frame = in_problem_order(pd.DataFrame(rows))
    if frame.duplicated(["problem_id", "sample_idx"]).any():
        raise ScalingError(f"{where}: a (sample id, epoch) pair repeats; the log is inconsistent")

    graded = grade_responses(
        frame["text"].tolist(), frame["reference"].tolist(), frame["problem_id"].tolist(), options
    )
    samples = pd.concat([frame[["problem_id", "sample_idx"]], graded], axis=1)
    n = len(frame)
    tokens = measured_tokens(frame)
    if tokens is not None:
        samples["prompt_tokens"] = frame["prompt_tokens"]
        samples["completion_tokens"] = frame["completion_tokens"]
    else:
        usage = ((header.get("stats") or {}).get("model_usage") or {}).get(eval_model)
        if isinstance(usage, dict) and "output_tokens" in usage:
            tokens = {
                "source": "mean",
                "mean_prompt_tokens": usage.get("input_tokens", 0) / n,
                "mean_completion_tokens": usage["output_tokens"] / n,
                "assumption": "per-sample counts not logged: the run's totals in "
                f"stats.model_usage['{eval_model}'] divided by its {n} samples",
            }
    if options.text:
        samples["text"] = frame["text"]

    problems = (
        frame.groupby("problem_id", sort=False)
        .agg(question=("question", "first"), answer=("reference", "first"))
        .reset_index()
    )
    agree = agreement(samples["correct"], frame["stored"])
    template = _template(header)
    epochs = (ev.get("config") or {}).get("epochs")
    max_tokens = ((header.get("plan") or {}).get("config") or {}).get("max_tokens")
    others = sorted(set((header.get("stats") or {}).get("model_usage") or {}) - {eval_model})
    dataset = ev.get("dataset") or {}
    manifest = build_manifest(
        options,
        model=eval_model,
        problem_set=dataset.get("name") or ev.get("task") or source.name,
        sampling={
            **sampling(epochs or int(frame.groupby("problem_id").size().max())),
            "max_tokens": max_tokens or (ev.get("config") or {}).get("token_limit"),
        },
        tokens=tokens_block(options, tokens),
        provenance=provenance(
            f"Inspect AI log '{source.name}' (task {ev.get('task')!r}, model {eval_model!r})",
            *files,
        ),
        prompt={"template": template, "hash": text_hash(template)} if template else None,
        extra={
            "inspect": {
                "task": ev.get("task"),
                "eval_run_id": ev.get("run_id"),
                "model": eval_model,
            },
            "stored_grader": {"scorer": scorer, "grader_models": others, **agree},
        },
    )
    return Imported(manifest, problems, samples, {"agreement with stored verdicts": agree})
