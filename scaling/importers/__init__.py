"""Importers: convert sampled-and-graded data others produced into runs of the sample store.

One module per KIND, each with ``read(source, options, out) -> (manifest, report)`` that hands
problems and chunks of samples to the sink ``out`` (see ``scaling.importers.base``):

========== ========================================================================================
inspect    Inspect AI logs (Epoch AI Benchmarking Hub): answers re-graded, stored verdicts compared
qwen-eval  Qwen2.5-Math evaluation JSONL (``pred``, ``score``, ``pred_score`` ORM rewards, ``code``)
counts     per-problem (n samples, n correct) tables, e.g. Large Language Monkeys (coverage only)
wyz        thu-wyz/inference_scaling JSON (``model_answer: [{text, step_scores}]``)
sal        huggingface/search-and-learn completions JSONL (``completions``, ``scores``, ...)
jsonl      the generic format: one sample per line (see ``scaling.importers.jsonl``)
========== ========================================================================================

``import_run(kind, source, out, options)`` streams the source into a run draft and publishes it
atomically (``scaling.store.Run.build``); ``read_source`` reads into memory instead.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from scaling.errors import ScalingError
from scaling.importers.base import Imported, ImportOptions, Sink
from scaling.store import Run

KINDS: dict[str, str] = {
    "inspect": "inspect_log",
    "qwen-eval": "qwen_eval",
    "counts": "counts",
    "wyz": "wyz",
    "sal": "sal",
    "jsonl": "jsonl",
}

__all__ = ["KINDS", "Imported", "ImportOptions", "import_run", "read_source"]


def _prepare(
    kind: str, source: str | Path, options: ImportOptions | None
) -> tuple[ModuleType, Path, ImportOptions]:
    """The importer, the source and the options, all checked before anything is read."""
    if kind not in KINDS:
        raise ScalingError(f"unknown import KIND '{kind}'; choose one of: {', '.join(KINDS)}")
    options = options or ImportOptions()
    options.check()
    source = Path(source)
    if not source.exists():
        raise ScalingError(f"{source}: no such file or folder; pass the data to import")
    return importlib.import_module(f"scaling.importers.{KINDS[kind]}"), source, options


def read_source(kind: str, source: str | Path, options: ImportOptions | None = None) -> Imported:
    """Read SOURCE of KIND into memory (nothing is written)."""
    module, source, options = _prepare(kind, source, options)
    frames: list[pd.DataFrame] = []
    sink = Sink(options.chunk_rows, frames.append)
    manifest, report = module.read(source, options, sink)
    samples = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return Imported(manifest, sink.problems(), samples, report)


def import_run(
    kind: str,
    source: str | Path,
    out: str | Path,
    options: ImportOptions | None = None,
    *,
    force: bool = False,
) -> tuple[Run, dict[str, Any]]:
    """Import SOURCE of KIND into a new run at OUT; returns the run and a report: the
    importer's figures plus ``summary`` (samples, problems, accuracy, coverage, strategies, as
    ``scaling.summary.summarize`` computes them, from the stream instead of re-reading the run).

    The run is built beside OUT and appears there complete or not at all. An existing OUT is an
    error unless ``force``: then it must be a run, its lock is taken before reading (a writer
    busy with it stops the import at once) and it is replaced in one step at the end."""
    module, source, options = _prepare(kind, source, options)
    out = Path(out)
    if not force and os.path.lexists(out):
        raise ScalingError(
            f"{out}: already exists; choose another --out or pass --force to replace it"
        )
    with Run.build(out, replace=force) as draft:
        sink = Sink(options.chunk_rows, lambda frame: draft.append(frame, where=str(source)))
        manifest, report = module.read(source, options, sink)
        if not sink.samples:
            raise ScalingError(f"{source}: no samples to import")
        run = draft.publish(manifest, sink.problems())
    return run, {**report, "summary": sink.summary()}
