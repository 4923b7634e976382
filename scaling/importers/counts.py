"""KIND ``counts``: per-problem tables of (n samples, n correct), e.g. Large Language Monkeys.

SOURCE is a CSV (or Parquet) with columns ``problem_idx`` (or ``problem_id``), ``n_samples``,
``n_correct`` and optionally ``model``. A table holding several models needs ``--model NAME``:
one run per model. Each problem expands to ``n_samples`` samples of which the first
``n_correct`` are correct; answers and clusters are unknown (null), so such a run supports
coverage (pass@k) only. Every exact estimator depends on the counts alone, so the order of the
expanded samples does not matter. The table is read in chunks and the samples are written in
chunks, so memory does not grow with n; ``n_samples`` is at most ``MAX_SAMPLES_PER_PROBLEM``
(the store keeps one row per sample, which the simulator replays).

``n_samples`` and ``n_correct`` must be integers (``10`` or ``10.0``, not ``2.7``) with
1 <= n_samples and 0 <= n_correct <= n_samples; a bad value names its line.

No token counts are published for such tables: ``--tokens-per-sample T`` is required and is
recorded in the manifest as a declared assumption (``tokens.source = "assumed"``).
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


def _model_rows(source: Path, options: ImportOptions, rows: int) -> tuple[str, set[str] | None]:
    """The model to import and the table's names that mean it (None: no 'model' column)."""
    if "model" not in _header(source):
        if options.model is None:
            raise ScalingError(f"{source}: the table has no 'model' column; pass --model NAME")
        return options.model, None
    names = list(
        dict.fromkeys(n for part in _chunks(source, rows, ["model"]) for n in part["model"])
    )
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
    if options.tokens_per_sample is None:
        raise ScalingError(
            f"{source}: pass --tokens-per-sample T (counts tables have no token counts; the "
            "value is recorded in the run as a declared assumption)"
        )
    header = _header(source)
    id_col = next((c for c in ID_COLUMNS if c in header), None)
    missing = [c for c in ("n_samples", "n_correct") if c not in header]
    if id_col is None or missing:
        need = missing + ([] if id_col else ["problem_idx"])
        raise ScalingError(
            f"{source}: missing column(s) {need}; a counts table has problem_idx, n_samples, "
            "n_correct (and optionally model)"
        )
    model, names = _model_rows(source, options, out.chunk_rows)
    correct = 0
    segments: list[tuple[str, int, int, int]] = []
    pending = 0
    for part in _chunks(source, out.chunk_rows):
        if names is not None:
            part = part[part["model"].isin(names)]
        if part.empty:
            continue
        n = _integers(part["n_samples"], source, "n_samples", 1, MAX_SAMPLES_PER_PROBLEM)
        c = _integers(part["n_correct"], source, "n_correct", 0, MAX_SAMPLES_PER_PROBLEM)
        ids = part[id_col].astype(str)
        for line, pid, n_i, c_i in zip(part.index, ids, n, c, strict=True):
            if c_i > n_i:
                raise ScalingError(
                    f"{source}, line {line}: problem {pid!r} has n_correct > n_samples"
                )
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
        model=model,
        problem_set=f"{source.stem} ({out.n_problems} problems)",
        sampling=sampling(out.n_max),
        tokens=tokens_block(options),
        provenance=provenance(f"per-problem counts table '{source.name}'", source),
        extra={"counts_only": True},
    )
    report = {"problems": out.n_problems, "samples": out.samples, "correct": correct}
    return manifest, report
