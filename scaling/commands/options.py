"""Options several commands share, declared once: one flag, one help, one default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RUNS_HELP = "Run directories, or folders holding runs (default: the embedded runs)."
FORMATS = ("table", "csv", "json", "parquet")
GRID_HELP = "Budgets (cost per problem): START:STOP:COUNT log-spaced, or a comma list"
INTENSITY_HELP = (
    "Arithmetic intensity of the kinetics cost model, FLOPs per byte (default 562.5, "
    "Kinetics' NVIDIA B200)"
)


def strategy_help() -> str:
    """The --strategy help, from the strategy registry."""
    from scaling.strategies import STRATEGIES

    return (
        f"Comma-separated: {', '.join(STRATEGIES)}; parameters as name:p=v,q=w "
        "(default: every parameter-free strategy a run supports)"
    )


def cost_help(several: bool = False) -> str:
    """The --cost help, from the cost-model registry (--flops is its older name)."""
    from scaling.costs import COST_MODELS

    more = "; several, comma-separated, are compared" if several else ""
    return (
        f"Cost model: {' | '.join(COST_MODELS)}; parameters as name:p=v, e.g. "
        f"kinetics:intensity=300, usd:prices=FILE{more} (--flops is an alias)"
    )


def chosen_costs(cost: str, intensity: float | None, several: bool = False) -> list:
    """The cost models of ``--cost`` with ``--intensity`` set on those that take it; one
    unless ``several``."""
    from scaling.costs import parse_costs
    from scaling.errors import ArgumentError

    models = parse_costs(cost, intensity=intensity)
    if len(models) > 1 and not several:
        raise ArgumentError("cost", cost, "name one cost model (scaling fit compares several)")
    return models


def chosen_cache(cache: bool) -> Path | None:
    """The folder of fitted laws of ``--cache`` (None with ``--no-cache``, or without a home
    folder)."""
    from scaling.fit_cache import default_folder

    return default_folder() if cache else None


def chosen_workers(workers: int | None) -> int:
    """The processes of ``--workers``: one per core unless given."""
    from scaling.estimators.threads import cores

    return cores() if workers is None else workers


Runs = Annotated[list[Path] | None, typer.Argument(help=RUNS_HELP)]
Format = Annotated[str, typer.Option("--format", help=" | ".join(FORMATS))]
Output = Annotated[Path | None, typer.Option("--output", help="Write here.")]
Strategies = Annotated[str | None, typer.Option("--strategy", help=strategy_help())]
IncludeOracle = Annotated[
    bool,
    typer.Option(
        "--include-oracle", help="Rank pass@k (an oracle) with the deployable strategies."
    ),
]
BudgetGrid = Annotated[str | None, typer.Option("--budget-grid", help=GRID_HELP)]
Cost = Annotated[str, typer.Option("--cost", "--flops", help=cost_help())]
Costs = Annotated[str, typer.Option("--cost", "--flops", help=cost_help(several=True))]
Intensity = Annotated[float | None, typer.Option("--intensity", help=INTENSITY_HELP)]
Bootstrap = Annotated[
    int,
    typer.Option(
        "--bootstrap", help="Paired bootstrap replicates over problems, behind every interval."
    ),
]
Seed = Annotated[int, typer.Option("--seed", help="Seed of bootstrap and Monte Carlo.")]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers", help="Processes fitting the laws side by side (default: one per core)."
    ),
]
FitCacheOption = Annotated[
    bool,
    typer.Option(
        "--cache/--no-cache",
        help="Read back laws fitted before to the same data and keep new ones, in "
        "$SCALING_CACHE_DIR (default ~/.cache/scaling/fits); --no-cache solves every law.",
    ),
]
