"""Per-problem tables of (samples, correct), e.g. Large Language Monkeys: pass@k only.

SOURCE is a CSV (or Parquet) table, one row per problem, with the columns (our names; --field
OURS=THEIRS reads yours, e.g. --field problem_id=task,n_samples=attempts,n_correct=solved):

    problem_id   the problem (a column problem_idx also serves)
    n_samples    samples drawn: an integer from 1 to 1,000,000
    n_correct    how many were correct: an integer from 0 to n_samples
    model        optional: the model (a table of several needs --model NAME)

Integers may be written 10 or 10.0, not 2.7. Each problem expands to n_samples samples of which
the first n_correct are correct; answers and clusters are unknown, so such a run supports
coverage (pass@k) only. Every exact estimator depends on the counts alone, so the order of the
expanded samples does not matter. The table is read and the samples are written in chunks, so
memory does not grow with n; a bad value names its line. Nothing is graded (--grader does not
apply).

Problem set: --problem-set NAME, else "N problems HASH", a fingerprint of the problem ids, so
imports of the same problems share it, and one frontier.

Tokens: such tables carry no token counts, so budgets are in samples per problem. Declaring
--tokens-per-sample T (recorded as an assumption, tokens.source "assumed"), with a model size
(known models are looked up by name, else --params N), gives FLOPs budgets and, across model
sizes, the compute-optimal size; scaling runs set RUN --tokens-per-sample T adds it later.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scaling import models
from scaling.errors import ScalingError
from scaling.importers.base import (
    ImportOptions,
    Sink,
    build_manifest,
    provenance,
    sampling,
    tokens_block,
)

OPTIONS = ("fields",)
FIELDS = ("problem_id", "n_samples", "n_correct", "model")
ID_COLUMNS = ("problem_id", "problem_idx")
MAX_SAMPLES_PER_PROBLEM = 1_000_000


def _chunks(source: Path, rows: int, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The table in chunks of ``rows`` rows, as text (CSV) or typed (Parquet) columns; each
    chunk's index is the row's line number (CSV: header = line 1) or row number (Parquet)."""
    at = 0
    try:
        if source.suffix == ".parquet":
            parts = (
                b.to_pandas() for b in pq.ParquetFile(source).iter_batches(rows, columns=columns)
            )
            first = 1
        else:
            parts = pd.read_csv(
                source, dtype=str, keep_default_na=False, chunksize=rows, usecols=columns
            )
            first = 2
        for part in parts:
            part.index = pd.RangeIndex(first + at, first + at + len(part))
            at += len(part)
            yield part
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError) as e:
        raise ScalingError(
            f"{source}: cannot read it as a table ({str(e).splitlines()[0]}); pass a CSV or "
            "Parquet file"
        ) from None


def _header(source: Path) -> list[str]:
    try:
        if source.suffix == ".parquet":
            return pq.ParquetFile(source).schema_arrow.names
        return list(pd.read_csv(source, dtype=str, nrows=0).columns)
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError) as e:
        raise ScalingError(
            f"{source}: cannot read it as a table ({str(e).splitlines()[0]}); pass a CSV or "
            "Parquet file"
        ) from None


def _integers(values: pd.Series, source: Path, name: str, low: int, high: int) -> np.ndarray:
    """``values`` as int64, each an integer in [low, high]; else an error naming the line."""
    numbers = pd.to_numeric(
        values.str.strip() if values.dtype == object else values, errors="coerce"
    ).astype(float)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(numbers) & (numbers == np.floor(numbers)))
        bad |= (numbers < low) | (numbers > high)
    if bad.any():
        line = bad[bad].index[0]
        raise ScalingError(
            f"{source}, line {line}: {name} {values[line]!r} must be an integer from {low:,} to "
            f"{high:,}; fix the table"
        )
    return numbers.to_numpy().astype(np.int64)


def _model_rows(
    source: Path, options: ImportOptions, rows: int, column: str | None
) -> tuple[str, set[str] | None]:
    """The model to import and the table's names that mean it (None: no model column)."""
    if column is None:
        if options.model is None:
            raise ScalingError(f"{source}: the table has no 'model' column; pass --model NAME")
        return options.model, None
    names = list(dict.fromkeys(n for part in _chunks(source, rows, [column]) for n in part[column]))
    model = options.model
    if model is None:
        if len(names) > 1:
            raise ScalingError(
                f"{source}: holds {len(names)} models ({', '.join(names)}); pass --model NAME "
                "(one run per model)"
            )
        if not names:
            raise ScalingError(f"{source}: no rows; a counts table has one row per problem")
        model = names[0]
    wanted = models.resolve(model).name
    chosen = {n for n in names if models.resolve(n).name == wanted}
    if not chosen:
        raise ScalingError(
            f"{source}: no rows for model '{model}'; the table has: {', '.join(names)}"
        )
    return model, chosen


def _columns(source: Path, header: list[str], mapping: dict[str, str]) -> dict[str, str | None]:
    """The table's column for each of our fields (``--field`` first); model may be None."""
    columns: dict[str, str | None] = {
        "problem_id": next((c for c in ID_COLUMNS if c in header), None),
        "n_samples": "n_samples",
        "n_correct": "n_correct",
        "model": "model" if "model" in header else None,
    }
    columns.update(mapping)
    missing = [c for ours, c in columns.items() if ours != "model" and c not in header]
    if missing:
        need = [c or "problem_idx" for c in missing]
        raise ScalingError(
            f"{source}: missing column(s) {need}; a counts table has problem_idx, n_samples, "
            "n_correct (and optionally model); map yours with --field, e.g. "
            "--field problem_id=task,n_samples=attempts,n_correct=solved"
        )
    if columns["model"] is not None and columns["model"] not in header:
        raise ScalingError(f"{source}: no column '{columns['model']}' (--field model=...)")
    return columns


def _expand(segments: list[tuple[str, int, int, int]]) -> pd.DataFrame:
    """Samples lo..hi-1 of each (problem, lo, hi, correct count) segment."""
    pids = np.array([s[0] for s in segments], dtype=object)
    lo, hi, c = (np.array([s[i] for s in segments], dtype=np.int64) for i in (1, 2, 3))
    sizes = hi - lo
    idx = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    idx += np.repeat(lo, sizes)
    return pd.DataFrame(
        {
            "problem_id": np.repeat(pids, sizes),
            "sample_idx": idx.astype(np.int32),
            "correct": idx < np.repeat(c, sizes),
        }
    )


def read(source: Path, options: ImportOptions, out: Sink):
    mapping = options.field_map(FIELDS)
    columns = _columns(source, _header(source), mapping)
    id_col, n_col, c_col = columns["problem_id"], columns["n_samples"], columns["n_correct"]
    model, names = _model_rows(source, options, out.chunk_rows, columns["model"])
    correct = 0
    segments: list[tuple[str, int, int, int]] = []
    pending = 0
    for part in _chunks(source, out.chunk_rows):
        if names is not None:
            part = part[part[columns["model"]].isin(names)]
        if part.empty:
            continue
        n = _integers(part[n_col], source, n_col, 1, MAX_SAMPLES_PER_PROBLEM)
        c = _integers(part[c_col], source, c_col, 0, MAX_SAMPLES_PER_PROBLEM)
        ids = part[id_col].astype(str)
        for line, pid, n_i, c_i in zip(part.index, ids, n, c, strict=True):
            if c_i > n_i:
                raise ScalingError(f"{source}, line {line}: problem {pid!r} has {c_col} > {n_col}")
            if out.has_problem(pid):
                raise ScalingError(f"{source}, line {line}: problem {pid!r} appears twice")
            out.problem(pid)
            correct += int(c_i)
            for lo in range(0, int(n_i), out.chunk_rows):
                hi = min(int(n_i), lo + out.chunk_rows)
                segments.append((pid, lo, hi, int(c_i)))
                pending += hi - lo
                if pending >= out.chunk_rows:
                    out.add(_expand(segments))
                    segments, pending = [], 0
    if segments:
        out.add(_expand(segments))
    if not out.samples:
        raise ScalingError(f"{source}: no rows; a counts table has one row per problem")
    manifest = build_manifest(
        options,
        out,
        model=model,
        problem_set=None,
        sampling=sampling(out.n_max),
        tokens=tokens_block(options),
        provenance=provenance(f"per-problem counts table '{source.name}'", source, fields=mapping),
        extra={"counts_only": True},
    )
    report = {"problems": out.n_problems, "samples": out.samples, "correct": correct}
    return manifest, report
