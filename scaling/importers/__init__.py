"""Importers: convert sampled-and-graded data others produced into runs of the sample store.

One module per KIND, each with ``read(source, options, out) -> (manifest, report)`` that hands
problems and chunks of samples to the sink ``out``, and ``OPTIONS``, the ``ImportOptions`` it
reads beyond the common ones (see ``scaling.importers.base``); its docstring is the format's
schema, shown by ``scaling import KIND --help``:

========== ========================================================================================
inspect    Inspect AI logs (Epoch AI Benchmarking Hub): answers re-graded, stored verdicts compared
qwen-eval  Qwen2.5-Math evaluation JSONL (``pred``, ``score``, ``pred_score`` ORM rewards, ``code``)
counts     per-problem (n samples, n correct) tables, e.g. Large Language Monkeys (coverage only)
wyz        thu-wyz/inference_scaling JSON (``model_answer: [{text, step_scores}]``)
sal        huggingface/search-and-learn completions JSONL (``completions``, ``scores``, ...)
jsonl      the generic format: one sample per line (see ``scaling.importers.jsonl``)
========== ========================================================================================

``import_run(kind, source, out, options)`` streams the source into a run draft and publishes it
atomically (``scaling.store.Run.build``); ``read_source`` reads into memory instead. Both report
``notices``: what the run lacks (a model size, token counts), the flag that supplies it and what
that unlocks, and how its problem set was named.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from scaling.errors import ArgumentError, ScalingError
from scaling.importers.base import COMMON, Imported, ImportOptions, Sink
from scaling.store import Run

KINDS: dict[str, str] = {
    "inspect": "inspect_log",
    "qwen-eval": "qwen_eval",
    "counts": "counts",
    "wyz": "wyz",
    "sal": "sal",
    "jsonl": "jsonl",
}

__all__ = ["KINDS", "Imported", "ImportOptions", "import_run", "importer", "read_source"]


def importer(kind: str) -> ModuleType:
    """The module that imports KIND."""
    if kind not in KINDS:
        raise ScalingError(f"unknown import KIND '{kind}'; choose one of: {', '.join(KINDS)}")
    return importlib.import_module(f"scaling.importers.{KINDS[kind]}")


def _prepare(
    kind: str, source: str | Path, options: ImportOptions | None
) -> tuple[ModuleType, Path, ImportOptions]:
    """The importer, the source and the options, all checked before anything is read: an
    option the importer does not read, set to other than its default, is an error."""
    module = importer(kind)
    options = options or ImportOptions()
    options.check()
    for f in dataclasses.fields(ImportOptions):
        value = getattr(options, f.name)
        if f.name not in COMMON + module.OPTIONS and value != f.default and value is not None:
            raise ArgumentError(f.name, value, f"import {kind} does not use it")
    options.field_map(getattr(module, "FIELDS", ()))
    source = Path(source)
    if not source.exists():
        raise ScalingError(f"{source}: no such file or folder; pass the data to import")
    return module, source, options


def read_source(kind: str, source: str | Path, options: ImportOptions | None = None) -> Imported:
    """Read SOURCE of KIND into memory (nothing is written)."""
    module, source, options = _prepare(kind, source, options)
    frames: list[pd.DataFrame] = []
    sink = Sink(options.chunk_rows, frames.append)
    manifest, report = module.read(source, options, sink)
    samples = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return Imported(manifest, sink.problems(), samples, {**report, "notices": sink.notices})


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
    ``scaling.summary.summarize`` computes them, from the stream instead of re-reading the run)
    and ``notices`` (what the run lacks and the flag that supplies it; the problem set's name).

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
    return run, {**report, "summary": sink.summary(), "notices": sink.notices}
