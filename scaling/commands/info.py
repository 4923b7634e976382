"""``scaling info`` (what runs hold) and ``scaling verify`` (schema and integrity check)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from scaling.commands.options import FORMATS, Format, Output, Runs
from scaling.errors import ScalingError
from scaling.paths import resolve_runs

if TYPE_CHECKING:
    import pandas as pd


def cell(value: object, spec: str) -> str:
    """``value`` formatted by ``spec``, ``-`` where missing."""
    import pandas as pd

    return "-" if value is None or pd.isna(value) else spec.format(value)


def emit(frame: pd.DataFrame, fmt: str, output: Path | None, table) -> None:
    """Print ``table`` (a rich Table) or write ``frame`` as CSV/JSON/Parquet (to ``output``).

    A file is written atomically (``scaling.files.replacing``: a failure leaves what was there;
    missing folders are created; an ``OSError`` is the one-line error naming ``output``)."""
    from rich.console import Console

    from scaling import files

    if fmt not in FORMATS:
        raise ScalingError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "table":
        if output is not None:
            raise ScalingError("--output needs --format csv, json or parquet")
        Console().print(table)
        return
    if fmt == "parquet" and output is None:
        raise ScalingError("--format parquet needs --output FILE")
    if fmt == "parquet":
        with files.replacing(output) as fh:
            frame.to_parquet(fh, index=False)
        return
    if fmt == "csv":
        text = frame.to_csv(index=False)
    else:
        text = frame.to_json(orient="records", indent=2, double_precision=15)
    if output is None:
        typer.echo(text)
    else:
        files.write_text(output, text)


def _params(value) -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return "?"
    return f"{value / 1e9:.3g}B" if value >= 1e9 else f"{value / 1e6:.3g}M"


def info(
    runs: Runs = None,
    fmt: Format = "table",
    output: Output = None,
) -> None:
    """Summarize runs: problems, samples per problem, accuracy, coverage, tokens, strategies."""
    from rich import box
    from rich.table import Table

    from scaling.strategies import default_strategies
    from scaling.summary import summarize

    frame = summarize(resolve_runs(runs))
    short = {s.key: s.short for s in default_strategies()}
    greedy = frame["greedy_accuracy"].notna().any()
    table = Table(
        box=box.SIMPLE_HEAD,
        caption="P = problems; n = samples per problem; acc = mean per-sample accuracy; "
        "cov = pass@n; tokens = completion tokens per sample (and their source); "
        + "; ".join(f"{s.short} = {s.title}" for s in default_strategies() if s.short != s.key),
        caption_justify="left",
    )
    table.add_column("model", overflow="fold", min_width=12)
    for name in ("params", "P", "n", "acc", "cov") + (("greedy",) if greedy else ()):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("tokens", justify="right", no_wrap=True)
    table.add_column("supports", min_width=4)
    for r in frame.itertuples():
        cells = [
            r.model,
            _params(r.params),
            str(r.problems),
            r.samples_per_problem,
            cell(r.accuracy, "{:.4f}"),
            cell(r.coverage, "{:.4f}"),
        ]
        if greedy:
            cells.append(cell(r.greedy_accuracy, "{:.4f}"))
        cells.append(f"{cell(r.mean_completion_tokens, '{:,.0f}')} {r.tokens_source}")
        cells.append(" ".join(short.get(x, x) for x in r.strategies.split(", ")))
        table.add_row(*cells)
    emit(frame, fmt, output, table)


def verify(
    runs: Runs = None,
    fmt: Format = "table",
    output: Output = None,
) -> None:
    """Check runs fully: manifest, every Parquet file, keys, references, answer clusters."""
    from rich.table import Table

    from scaling.summary import verify_runs

    frame = verify_runs(resolve_runs(runs, check=False))
    table = Table(title="verify")
    for name in ("run", "problems", "samples", "shards", "mixed clusters", "status"):
        table.add_column(name, justify="left" if name in ("run", "status") else "right")
    for r in frame.itertuples():
        table.add_row(
            r.run,
            cell(r.problems, "{:,}"),
            cell(r.samples, "{:,}"),
            cell(r.shards, "{}"),
            cell(r.mixed_clusters, "{}"),
            "ok" if r.error is None else "[red]failed[/red]",
        )
    emit(frame, fmt, output, table)
    bad = frame[frame["error"].notna()]
    if len(bad):
        raise ScalingError(f"{len(bad)} of {len(frame)} run(s) failed: {bad['error'].iloc[0]}")


def register(app: typer.Typer) -> None:
    app.command("info")(info)
    app.command("verify")(verify)
