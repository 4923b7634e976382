"""Importers: convert sampled-and-graded data others produced into runs of the sample store.

One module per KIND, each with ``read(source, options) -> Imported``:

========== ========================================================================================
inspect    Inspect AI logs (Epoch AI Benchmarking Hub): answers re-graded, stored verdicts compared
qwen-eval  Qwen2.5-Math evaluation JSONL (``pred``, ``score``, ``pred_score`` ORM rewards, ``code``)
counts     per-problem (n samples, n correct) tables, e.g. Large Language Monkeys (coverage only)
wyz        thu-wyz/inference_scaling JSON (``model_answer: [{text, step_scores}]``)
sal        huggingface/search-and-learn completions JSONL (``completions``, ``scores``, ...)
jsonl      the generic format: one sample per line (see ``scaling.importers.jsonl``)
========== ========================================================================================

``import_run(kind, source, out, options)`` reads and writes atomically (see ``base.write_run``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from scaling.errors import ScalingError
from scaling.importers.base import Imported, ImportOptions, check_out, write_run
from scaling.store import Run

KINDS: dict[str, str] = {
    "inspect": "inspect_log",
    "qwen-eval": "qwen_eval",
    "counts": "counts",
    "wyz": "wyz",
    "sal": "sal",
    "jsonl": "jsonl",
}

__all__ = ["KINDS", "Imported", "ImportOptions", "import_run", "read_source", "write_run"]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ScalingError(f"unknown import KIND '{kind}'; choose one of: {', '.join(KINDS)}")


def read_source(kind: str, source: str | Path, options: ImportOptions | None = None) -> Imported:
    """Read SOURCE of KIND into memory (nothing is written)."""
    _check_kind(kind)
    source = Path(source)
    if not source.exists():
        raise ScalingError(f"{source}: no such file or folder; pass the data to import")
    module = importlib.import_module(f"scaling.importers.{KINDS[kind]}")
    return module.read(source, options or ImportOptions())


def import_run(
    kind: str,
    source: str | Path,
    out: str | Path,
    options: ImportOptions | None = None,
    *,
    force: bool = False,
) -> tuple[Run, Imported]:
    """Import SOURCE of KIND into a new run at OUT; returns the run and what was read."""
    _check_kind(kind)
    check_out(Path(out), force=force)
    imported = read_source(kind, source, options)
    return write_run(out, imported, force=force), imported
