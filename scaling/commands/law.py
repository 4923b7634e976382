"""``scaling law TABLE``: fit a scaling law to any table (a thin layer over ``scaling.laws``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scaling.errors import ArgumentError

FORMATS = ("table", "json", "csv")
LAW_HELP = (
    "chinchilla (L over N, D) | joint (err over N, k) | power | saturating | logistic | "
    "exp_power (err over one input)"
)
X_HELP = (
    "Table columns of the law's inputs, in order, e.g. params,tokens for chinchilla's N,D "
    "(default: columns named as the inputs)."
)
Y_HELP = "Column fitted; 1-NAME fits one minus a column (an error rate from an accuracy)."
SPACE_HELP = "log | linear residuals (default: as the law's source fits it)."


def law_command(
    table: Annotated[
        Path, typer.Argument(help="CSV table (TSV, Parquet too), one measurement per row.")
    ],
    law: Annotated[str, typer.Option("--law", help=LAW_HELP)],
    y: Annotated[str, typer.Option("--y", help=Y_HELP)],
    x: Annotated[str | None, typer.Option("--x", help=X_HELP)] = None,
    space: Annotated[str | None, typer.Option("--space", help=SPACE_HELP)] = None,
    loss: Annotated[
        str | None, typer.Option("--loss", help="huber | l2 (default: the law's source's).")
    ] = None,
    huber_delta: Annotated[
        float | None,
        typer.Option("--huber-delta", help="Huber threshold in units of the fitted space."),
    ] = None,
    grid_file: Annotated[
        Path | None,
        typer.Option("--grid-file", help="TOML starting values: one key per parameter."),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Row resamples for the intervals (0: none).")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    level: Annotated[float, typer.Option("--level", help="Interval level.")] = 0.95,
    backtest_on: Annotated[
        str | None,
        typer.Option("--backtest-on", help="Input column whose largest values are held out."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help=" | ".join(FORMATS))] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write here.")] = None,
) -> None:
    """Fit a scaling law to a table: parameters with intervals, loss, AIC and a backtest."""
    from scaling.laws import fit_table
    from scaling.store import atomic_write_text

    if fmt not in FORMATS:
        raise ArgumentError("fmt", fmt, f"choose one of {', '.join(FORMATS)}")
    fitted = fit_table(
        table,
        law=law,
        y=y,
        x=x,
        space=space,
        loss=loss,
        huber_delta=huber_delta,
        grid_file=grid_file,
        bootstrap=bootstrap,
        seed=seed,
        level=level,
        backtest_on=backtest_on,
    )
    if fmt == "json":
        text = json.dumps(fitted.to_dict(), indent=2, allow_nan=False) + "\n"
    elif fmt == "csv":
        text = fitted.to_frame().to_csv(index=False)
    else:
        text = fitted.summary() + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(output, text)


def register(app: typer.Typer) -> None:
    app.command("law")(law_command)
