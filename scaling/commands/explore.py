"""``scaling explore``: the interactive frontier explorer, one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scaling.commands.fit import LAW_HELP
from scaling.commands.options import (
    Bootstrap,
    BudgetGrid,
    Cost,
    FitCacheOption,
    IncludeOracle,
    Intensity,
    Runs,
    Seed,
    Strategies,
    Workers,
    chosen_cache,
    chosen_costs,
    chosen_workers,
)
from scaling.defaults import BOOTSTRAP
from scaling.paths import resolve_runs
from scaling.progress import progress_bar
from scaling.terminal import shorten, stdout_console

NAME_MIN = 12  # the fewest characters a shortened name keeps


def explore(
    runs: Runs = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Write the page here.")] = Path(
        "explorer.html"
    ),
    strategies: Strategies = None,
    include_oracle: IncludeOracle = False,
    budgets: BudgetGrid = None,
    law: Annotated[str, typer.Option("--law", help=LAW_HELP)] = "auto",
    cost: Cost = "paper",
    intensity: Intensity = None,
    bootstrap: Bootstrap = BOOTSTRAP,
    seed: Seed = 0,
    workers: Workers = None,
    cache: FitCacheOption = True,
    screenshot: Annotated[
        Path | None,
        typer.Option(
            "--screenshot",
            help="Also render the page (its first data set) in headless Chromium to this PNG, "
            "1400 pixels wide.",
        ),
    ] = None,
) -> None:
    """Write the explorer: frontier, compute-optimal size, budget slider, drill-down by level."""
    from rich.console import Console

    from scaling.explorer import explorer_frames, write_explorer
    from scaling.frontier import parse_budget_grid

    grid = None if budgets is None else parse_budget_grid(budgets)
    cost = chosen_costs(cost, intensity)[0].key
    opened = resolve_runs(runs)
    console = Console(stderr=True)
    with progress_bar("{task.description}", console=console, transient=True) as bar:
        task = bar.add_task("simulating", total=7)
        frames = explorer_frames(
            opened,
            strategies=strategies,
            include_oracle=include_oracle,
            cost=cost,
            bootstrap=bootstrap,
            seed=seed,
            workers=chosen_workers(workers),
            cache=chosen_cache(cache),
            budgets=grid,
            law=law,
            progress=lambda msg: bar.update(task, advance=1, description=msg),
        )
    path = write_explorer(output, **frames)
    console = stdout_console()
    for line in summary_lines(path, frames, console.width):
        console.print(line, markup=False, overflow="ignore", crop=False)
    if screenshot is not None:
        from scaling.browser import Browser

        with Browser(width=1400, height=1000) as browser:
            page = browser.open(path.resolve().as_uri(), ready="window.explorer?.ready")
            if page.errors:
                typer.echo(f"warning: the page logged errors: {'; '.join(page.errors)}", err=True)
            page.screenshot(screenshot)
        typer.echo(f"screenshot: {screenshot}")


def summary_lines(path: Path, frames: dict, width: int) -> list[str]:
    """What the page holds, a line per data set and one per N_opt law (its exponent a of
    N_opt = G C^a with the interval, and whether it misfits), names shortened so that each
    line fits ``width`` (never below ``NAME_MIN`` characters; numbers are never cut)."""
    lines = [f"explorer page: {path} ({path.stat().st_size / 1e6:.2f} MB)"]
    points, frontier = frames["points"], frames["frontier"]
    for name in frames["meta"]["datasets"]:
        n_budgets = int((frontier["dataset"] == name).sum())
        configs = points.loc[points["dataset"] == name, ["run", "strategy"]].drop_duplicates()
        budgets = f"{n_budgets} budgets" if n_budgets else "no budgets (cost unknown)"
        rest = f": {len(configs)} configurations, {budgets}"
        lines.append(shorten(name, max(width - len(rest), NAME_MIN)) + rest)
        for law in (frames["nopt_law"] or {}).get(name, []):
            flag = "" if law["reliable"] else f"; unreliable, misfit {law['misfit']:.1f} SE"
            tail = f" ~ C^{law['a']:.3f} [{law['a_low']:.3f}, {law['a_high']:.3f}]{flag}"
            label = shorten(law["label"], max(width - 8 - len(tail), NAME_MIN))
            lines.append("  N_opt " + label + tail)
    return lines


def register(app: typer.Typer) -> None:
    app.command("explore")(explore)
