"""``scaling runs set RUN --params 7e9 ...``: edit a run's manifest (``scaling.edits``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

UNLOCKS = "FLOPs budgets (cost paper) and, across model sizes, the compute-optimal size"


def set_command(
    run: Annotated[Path, typer.Argument(help="The run directory.", show_default=False)],
    params: Annotated[
        float | None, typer.Option(help=f"Total parameters N. Unlocks {UNLOCKS}.")
    ] = None,
    tokens_per_sample: Annotated[
        float | None,
        typer.Option(
            help="Declared completion tokens per sample (recorded as an assumption), for runs "
            f"whose samples carry no token counts. Unlocks {UNLOCKS}."
        ),
    ] = None,
    prompt_tokens: Annotated[
        float | None,
        typer.Option(help="Declared prompt tokens per problem: the prompt's cost (cost full)."),
    ] = None,
    tokens_note: Annotated[
        str | None, typer.Option(help="Why those token counts (kept with the assumption).")
    ] = None,
    n_layers: Annotated[
        int | None, typer.Option(help="Layers. With --d-model unlocks cost full.")
    ] = None,
    d_model: Annotated[int | None, typer.Option(help="Model width (cost full).")] = None,
    n_heads: Annotated[
        int | None,
        typer.Option(help="Attention heads. With the next three unlocks cost kinetics."),
    ] = None,
    n_kv_heads: Annotated[
        int | None, typer.Option(help="Key-value heads (grouped-query attention).")
    ] = None,
    head_dim: Annotated[int | None, typer.Option(help="Head dimension.")] = None,
    dtype: Annotated[
        str | None, typer.Option(help="Weights' dtype (bfloat16, float16, ...): KV-cache bytes.")
    ] = None,
    reward_params: Annotated[
        float | None,
        typer.Option(help="The reward model's parameters: its forward passes in cost full."),
    ] = None,
    problem_set: Annotated[
        str | None,
        typer.Option(help="Problem set name: runs that share it share one frontier in fit."),
    ] = None,
    citation: Annotated[str | None, typer.Option(help="Provenance: how to cite the data.")] = None,
    license_: Annotated[str | None, typer.Option("--license", help="The data's license.")] = None,
) -> None:
    """Set fields of RUN's manifest (run.json): a model size, token counts, architecture.

    Only run.json changes, never the samples: under the run's lock (a writer busy with it
    refuses the edit), atomically, validated as a whole; values are checked as scaling import
    checks them. Each change is recorded in the manifest (extra.edits). The run id does not
    change: it names how the run was made (its source, model as imported, sampling, grading),
    so a collect run can still be resumed; a run imported with --params N and one given --params
    N later carry different ids."""
    from rich.console import Console

    from scaling.edits import set_fields

    changes = set_fields(
        run,
        params=params,
        n_layers=n_layers,
        d_model=d_model,
        n_heads=n_heads,
        n_kv_heads=n_kv_heads,
        head_dim=head_dim,
        dtype=dtype,
        tokens_per_sample=tokens_per_sample,
        prompt_tokens=prompt_tokens,
        tokens_note=tokens_note,
        reward_params=reward_params,
        problem_set=problem_set,
        citation=citation,
        license=license_,
    )
    console = Console(highlight=False)
    if not changes:
        console.print(f"{run}: already holds these values; nothing written", markup=False)
        return
    console.print(f"{run}: set {len(changes)} field(s) of run.json", markup=False)
    for change in changes:
        console.print(f"  {change.field}: {_show(change.old)} -> {_show(change.new)}", markup=False)


def _show(value) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def register(app: typer.Typer) -> None:
    runs = typer.Typer(no_args_is_help=True, help="Edit runs: set fields of a run's manifest.")
    runs.command("set")(set_command)
    app.add_typer(runs, name="runs")
