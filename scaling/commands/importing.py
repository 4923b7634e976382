"""``scaling import KIND SOURCE --out RUN_DIR``: convert others' sampled data into a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

KIND_HELP = "inspect | qwen-eval | counts | wyz | sal | jsonl (see scaling.importers)."


def import_command(
    kind: Annotated[str, typer.Argument(help=KIND_HELP, show_default=False)],
    source: Annotated[Path, typer.Argument(help="File or folder to import.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="New run directory.", show_default=False)],
    model: Annotated[
        str | None, typer.Option(help="Model name (sizes of known models are looked up).")
    ] = None,
    params: Annotated[
        float | None, typer.Option(help="Total parameters (overrides the table).")
    ] = None,
    n_layers: Annotated[int | None, typer.Option(help="Layers (for the 'full' FLOPs).")] = None,
    d_model: Annotated[int | None, typer.Option(help="Model width (for the 'full' FLOPs).")] = None,
    problem_set: Annotated[str | None, typer.Option(help="Problem set name.")] = None,
    tokens_per_sample: Annotated[
        float | None,
        typer.Option(
            help="Declared completion tokens per sample (an assumption; counts needs it)."
        ),
    ] = None,
    tokens_note: Annotated[
        str | None, typer.Option(help="Why that token count (kept with the assumption).")
    ] = None,
    prompt_tokens: Annotated[float | None, typer.Option(help="Declared prompt tokens.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature used.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling top-p used.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Completion token cap used.")] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed used.")] = None,
    reward_model: Annotated[str | None, typer.Option(help="Reward model that scored.")] = None,
    reward_params: Annotated[float | None, typer.Option(help="Its parameter count.")] = None,
    search: Annotated[str | None, typer.Option(help="Tree search that made the samples.")] = None,
    scorer: Annotated[str | None, typer.Option(help="inspect: scorer to compare with.")] = None,
    text: Annotated[bool, typer.Option("--text", help="Keep the full responses.")] = False,
    citation: Annotated[str | None, typer.Option(help="Provenance: how to cite the data.")] = None,
    license_: Annotated[str | None, typer.Option("--license", help="The data's license.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing run (atomically, under its lock).")
    ] = False,
    workers: Annotated[int | None, typer.Option(help="Grading processes (0: in-process).")] = None,
    timeout: Annotated[float, typer.Option(help="Grading seconds per answer.")] = 5.0,
) -> None:
    """Import SOURCE of KIND into a new run at --out (atomic; answers re-graded).

    The source is read and written in chunks; the run appears at --out complete or not at all."""
    from rich.console import Console

    from scaling.importers import ImportOptions, import_run

    options = ImportOptions(
        model=model,
        params=params,
        n_layers=n_layers,
        d_model=d_model,
        problem_set=problem_set,
        tokens_per_sample=tokens_per_sample,
        tokens_note=tokens_note,
        prompt_tokens=prompt_tokens,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        seed=seed,
        reward_model=reward_model,
        reward_params=reward_params,
        search=search,
        scorer=scorer,
        text=text,
        citation=citation,
        license=license_,
        timeout=timeout,
        workers=workers,
        progress=True,
    )
    run, report = import_run(kind, source, out, options, force=force)
    row = report["summary"]
    console = Console()
    console.print(
        f"imported {row['samples']:,} samples of {row['problems']:,} problems into {run.path} "
        f"(run {run.run_id}, model {run.name}); accuracy {row['accuracy']:.4f}, "
        f"coverage {row['coverage']:.4f}; strategies: {', '.join(row['strategies'])}"
    )
    agree = report.get("agreement with stored verdicts")
    if agree:
        console.print(
            f"agreement with the stored verdicts: {agree['agreement']:.4f} "
            f"({agree['agree']:,} of {agree['n']:,}; stored correct {agree['stored_correct']:,}, "
            f"re-graded correct {agree['regraded_correct']:,})"
        )


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
