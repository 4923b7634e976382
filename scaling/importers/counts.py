"""KIND ``counts``: per-problem tables of (n samples, n correct), e.g. Large Language Monkeys.

SOURCE is a CSV (or Parquet) with columns ``problem_idx`` (or ``problem_id``), ``n_samples``,
``n_correct`` and optionally ``model``. A table holding several models needs ``--model NAME``:
one run per model. Each problem expands to ``n_samples`` samples of which the first
``n_correct`` are correct; answers and clusters are unknown (null), so such a run supports
coverage (pass@k) only. Every exact estimator depends on the counts alone, so the order of the
expanded samples does not matter.

No token counts are published for such tables: ``--tokens-per-sample T`` is required and is
recorded in the manifest as a declared assumption (``tokens.source = "assumed"``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from scaling import models
from scaling.errors import ScalingError
from scaling.importers.base import (
    Imported,
    ImportOptions,
    build_manifest,
    provenance,
    sampling,
    tokens_block,
)

ID_COLUMNS = ("problem_id", "problem_idx")


def _table(source: Path) -> pd.DataFrame:
    try:
        if source.suffix == ".parquet":
            return pd.read_parquet(source)
        return pd.read_csv(source)
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError) as e:
        raise ScalingError(
            f"{source}: cannot read it as a table ({str(e).splitlines()[0]}); pass a CSV or "
            "Parquet file"
        ) from None


def read(source: Path, options: ImportOptions) -> Imported:
    table = _table(source)
    id_col = next((c for c in ID_COLUMNS if c in table.columns), None)
    missing = [c for c in ("n_samples", "n_correct") if c not in table.columns]
    if id_col is None or missing:
        need = missing + ([] if id_col else ["problem_idx"])
        raise ScalingError(
            f"{source}: missing column(s) {need}; a counts table has problem_idx, n_samples, "
            "n_correct (and optionally model)"
        )
    if options.tokens_per_sample is None:
        raise ScalingError(
            f"{source}: pass --tokens-per-sample T (counts tables have no token counts; the "
            "value is recorded in the run as a declared assumption)"
        )
    model = options.model
    if "model" in table.columns:
        names = list(dict.fromkeys(table["model"].astype(str)))
        if model is None:
            if len(names) > 1:
                raise ScalingError(
                    f"{source}: holds {len(names)} models ({', '.join(names)}); pass --model NAME "
                    "(one run per model)"
                )
            model = names[0]
        wanted = models.resolve(model).name
        table = table[[models.resolve(n).name == wanted for n in table["model"].astype(str)]]
        if table.empty:
            raise ScalingError(
                f"{source}: no rows for model '{model}'; the table has: {', '.join(names)}"
            )
    elif model is None:
        raise ScalingError(f"{source}: the table has no 'model' column; pass --model NAME")

    ids = table[id_col].astype(str)
    if ids.duplicated().any():
        raise ScalingError(f"{source}: problem {ids[ids.duplicated()].iloc[0]!r} appears twice")
    n = table["n_samples"].to_numpy()
    c = table["n_correct"].to_numpy()
    if table[["n_samples", "n_correct"]].isna().any().any() or (n < 1).any() or (c < 0).any():
        raise ScalingError(f"{source}: n_samples must be >= 1 and n_correct >= 0 in every row")
    if (c > n).any():
        bad = ids[c > n].iloc[0]
        raise ScalingError(f"{source}: problem {bad!r} has n_correct > n_samples")
    n, c = n.astype(np.int64), c.astype(np.int64)
    starts = np.repeat(np.cumsum(n) - n, n)
    sample_idx = np.arange(int(n.sum())) - starts
    samples = pd.DataFrame(
        {
            "problem_id": np.repeat(ids.to_numpy(dtype=object), n),
            "sample_idx": sample_idx.astype(np.int32),
            "correct": sample_idx < np.repeat(c, n),
        }
    )
    problems = pd.DataFrame({"problem_id": ids.to_numpy(dtype=object)})
    manifest = build_manifest(
        options,
        model=model,
        problem_set=f"{source.stem} ({len(problems)} problems)",
        sampling=sampling(int(n.max())),
        tokens=tokens_block(options),
        provenance=provenance(f"per-problem counts table '{source.name}'", source),
        extra={"counts_only": True},
    )
    report = {"problems": len(problems), "samples": int(n.sum()), "correct": int(c.sum())}
    return Imported(manifest, problems, samples, report)
