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

if TYPE_CHECKING:
    import pandas as pd


def _tables(frame: pd.DataFrame, by: str | None):
    """One rich table per run (title: run, problem set, problems, accounting), grouped."""
    from rich import box
    from rich.console import Group
    from rich.table import Table

    tables = []
    for run, rows in frame.groupby("run", sort=False):
        first = rows.iloc[0]
        varies = rows["n_problems"].nunique() > 1 or by
        capped = rows["n_capped"].gt(0).any()
        point = rows[(rows["strategy"] == first["strategy"]) & (rows["k"] == first["k"])]
        table = Table(
            title=f"{run} · {first['problem_set']} · {int(point['n_problems'].sum())} problems · "
            f"cost {first['cost_model']} ({first['cost_unit']}) · tokens {first['tokens_source']}",
            title_justify="left",
            box=box.SIMPLE_HEAD,
        )
        table.add_column("strategy", no_wrap=True)
        if by:
            table.add_column("level", justify="right")
        for name in ("k", "accuracy", "95% CI", first["cost_unit"], "tokens"):
            table.add_column(name, justify="right", no_wrap=True)
        if varies:
            table.add_column("P", justify="right")
        if capped:
            table.add_column("capped", justify="right")
        for r in rows.itertuples():
            acc = f"{r.accuracy:.4f}" + (f"±{r.mc_stderr:.4f}" if r.mc_stderr > 0 else "")
            cells = [r.strategy] + ([cell(r.level, "{}")] if by else [])
            cells += [
                str(r.k),
                acc,
                f"{cell(r.ci_low, '{:.3f}')}–{cell(r.ci_high, '{:.3f}')}",
                cell(r.cost, "{:.3g}"),
                cell(r.tokens, "{:,.0f}"),
            ]
            cells += [str(r.n_problems)] if varies else []
            cells += [str(r.n_capped)] if capped else []
            table.add_row(*cells)
        tables.append(table)
    note = (
        "accuracy: mean over problems of the exact expectation over all k-subsets (± Monte Carlo "
        "error where not exact); 95% CI: paired bootstrap over problems; cost, tokens: per "
        "problem; capped: problems with fewer than k samples, replayed at their n"
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
