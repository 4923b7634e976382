"""``scaling simulate``: every strategy at every budget, exact, with paired bootstrap intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from scaling.commands.info import cell, emit
from scaling.commands.options import (
    Bootstrap,
    Cost,
    Format,
    Intensity,
    Output,
    Runs,
    Seed,
    Strategies,
    chosen_costs,
)
from scaling.defaults import BOOTSTRAP
from scaling.paths import resolve_runs
from scaling.terminal import WIDTH, shorten

if TYPE_CHECKING:
    import pandas as pd


def _tables(frame: pd.DataFrame, by: str | None):
    """One rich table per run, at most ``WIDTH`` characters wide: two title lines (run, problem
    set and problems; cost and tokens), strategies by their short labels (a legend below), and
    numbers never cut."""
    from rich import box
    from rich.console import Group
    from rich.table import Table

    from scaling.strategies import parse_strategies

    labels = {key: parse_strategies([key])[0].short for key in frame["strategy"].unique()}
    tables = []
    for run, rows in frame.groupby("run", sort=False):
        first = rows.iloc[0]
        varies = rows["n_problems"].nunique() > 1 or by
        capped = rows["n_capped"].gt(0).any()
        point = rows[(rows["strategy"] == first["strategy"]) & (rows["k"] == first["k"])]
        names = ["k", "accuracy", "95% CI", first["cost_unit"], "tokens"]
        names = (["level"] if by else []) + names + (["P"] if varies else [])
        names += ["capped"] if capped else []
        body = []
        for r in rows.itertuples():
            acc = f"{r.accuracy:.4f}" + (f"±{r.mc_stderr:.4f}" if r.mc_stderr > 0 else "")
            cells = [cell(r.level, "{}")] if by else []
            cells += [
                str(r.k),
                acc,
                f"{cell(r.ci_low, '{:.3f}')}–{cell(r.ci_high, '{:.3f}')}",
                cell(r.cost, "{:.3g}"),
                cell(r.tokens, "{:,.0f}"),
            ]
            cells += [str(r.n_problems)] if varies else []
            cells += [str(r.n_capped)] if capped else []
            body.append((labels[r.strategy], cells))
        title = [
            f"{run} · {first['problem_set']} · {int(point['n_problems'].sum())} problems",
            f"cost {first['cost_model']} ({first['cost_unit']}) · tokens {first['tokens_source']}",
        ]
        table = Table(
            title="\n".join(shorten(line, WIDTH) for line in title),
            title_justify="left",
            box=box.SIMPLE_HEAD,
        )
        table.add_column("strategy", no_wrap=True, overflow="ellipsis")
        for i, name in enumerate(names):
            width = max(len(name), *(len(cells[i]) for _, cells in body))
            table.add_column(name, justify="right", no_wrap=True, min_width=width)
        for label, cells in body:
            table.add_row(label, *cells)
        tables.append(table)
    legend = ", ".join(f"{label} = {key}" for key, label in labels.items() if label != key)
    note = (
        (f"strategies: {legend}; " if legend else "")
        + "accuracy: mean over problems of the exact expectation over all k-subsets (± Monte "
        "Carlo error where not exact); 95% CI: paired bootstrap over problems; cost, tokens: "
        "per problem; capped: problems with fewer than k samples, replayed at their n"
    )
    return Group(*tables, note)


def simulate_command(
    runs: Runs = None,
    strategies: Strategies = None,
    ks: Annotated[
        str,
        typer.Option(
            "--ks",
            "--budgets",
            help="Samples per problem k: pow2 | all | comma-separated, e.g. 1,2,4,8 "
            "(--budgets is an older name)",
        ),
    ] = "pow2",
    agg: Annotated[
        str, typer.Option("--agg", help="PRM step scores -> reward: last | min | prod | mean")
    ] = "last",
    bootstrap: Bootstrap = BOOTSTRAP,
    seed: Seed = 0,
    cost: Cost = "paper",
    intensity: Intensity = None,
    by: Annotated[
        str | None, typer.Option("--by", help="level: accuracy per problem difficulty level")
    ] = None,
    mc_samples: Annotated[
        int,
        typer.Option("--mc-samples", help="Random subsets where weighted majority is not exact."),
    ] = 256,
    fmt: Format = "table",
    output: Output = None,
) -> None:
    """Replay strategies on cached samples: accuracy at every budget k, exact over all
    k-subsets, with paired bootstrap intervals, cost and tokens per problem."""
    from scaling.simulate import simulate

    sim = simulate(
        resolve_runs(runs),
        strategies,
        ks,
        agg=agg,
        bootstrap=bootstrap,
        seed=seed,
        cost=chosen_costs(cost, intensity)[0],
        by=by,
        mc_samples=mc_samples,
        progress=fmt == "table",
    )
    for line in sim.notices:
        typer.echo(f"notice: {line}", err=True)
    emit(sim.table, fmt, output, _tables(sim.table, by) if fmt == "table" else None)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)
