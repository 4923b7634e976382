"""``scaling import KIND SOURCE --out RUN_DIR``: convert others' sampled data into a run.

One subcommand per importer (``scaling.importers.KINDS``); its help is the importer's docstring
(the format's schema) and its options are the common ones plus those the importer reads
(``OPTIONS``).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from scaling.graders import CHOICES

UNLOCKS = "gives FLOPs budgets and, across model sizes, the compute-optimal size"


def _template(
    source: Annotated[Path, typer.Argument(help="File or folder to import.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="New run directory.", show_default=False)],
    model: Annotated[
        str | None,
        typer.Option(help="Model name (known models' sizes are looked up); picks its lines."),
    ] = None,
    params: Annotated[float | None, typer.Option(help=f"Total parameters: {UNLOCKS}.")] = None,
    n_layers: Annotated[int | None, typer.Option(help="Layers (cost full, kinetics).")] = None,
    d_model: Annotated[int | None, typer.Option(help="Model width (cost full).")] = None,
    n_heads: Annotated[int | None, typer.Option(help="Attention heads (cost kinetics).")] = None,
    n_kv_heads: Annotated[int | None, typer.Option(help="Key-value heads (cost kinetics).")] = None,
    head_dim: Annotated[int | None, typer.Option(help="Head dimension (cost kinetics).")] = None,
    dtype: Annotated[
        str | None, typer.Option(help="Weights' dtype, e.g. bfloat16 (cost kinetics).")
    ] = None,
    problem_set: Annotated[
        str | None,
        typer.Option(help="Problem set name (runs of one set share a frontier; default below)."),
    ] = None,
    tokens_per_sample: Annotated[
        float | None,
        typer.Option(help=f"Declared completion tokens per sample (an assumption): {UNLOCKS}."),
    ] = None,
    tokens_note: Annotated[
        str | None, typer.Option(help="Why that token count (kept with the assumption).")
    ] = None,
    prompt_tokens: Annotated[
        float | None, typer.Option(help="Declared prompt tokens (cost full, kinetics).")
    ] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature used.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling top-p used.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Completion token cap used.")] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed used.")] = None,
    fields: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="OURS=THEIRS: read our field OURS from your field THEIRS (comma-separated or "
            "repeated).",
            show_default=False,
        ),
    ] = None,
    grader: Annotated[str, typer.Option(help=f"How answers are graded: {CHOICES}.")] = "math",
    reward_model: Annotated[str | None, typer.Option(help="Reward model that scored.")] = None,
    reward_params: Annotated[
        float | None, typer.Option(help="Its parameter count (cost full).")
    ] = None,
    search: Annotated[str | None, typer.Option(help="Tree search that made the samples.")] = None,
    scorer: Annotated[str | None, typer.Option(help="The scorer to compare with.")] = None,
    text: Annotated[bool, typer.Option("--text", help="Keep the full responses.")] = False,
    citation: Annotated[str | None, typer.Option(help="Provenance: how to cite the data.")] = None,
    license_: Annotated[str | None, typer.Option("--license", help="The data's license.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing run (atomically, under its lock).")
    ] = False,
    workers: Annotated[int | None, typer.Option(help="Grading processes (0: in-process).")] = None,
    timeout: Annotated[float, typer.Option(help="Grading seconds per answer.")] = 5.0,
) -> None:
    """Every option of ``scaling import``; each kind's command takes those its importer reads."""


def _option(parameter: str) -> str:
    """The ``ImportOptions`` name of a command parameter."""
    return {"license_": "license"}.get(parameter, parameter)


def _import(kind: str, source: Path, out: Path, force: bool = False, **values) -> None:
    from rich.console import Console

    from scaling.importers import ImportOptions, import_run

    settings = {_option(k): v for k, v in values.items()}
    options = ImportOptions(progress=True, **settings)
    run, report = import_run(kind, source, out, options, force=force)
    row = report["summary"]
    console = Console()
    console.print(
        f"imported {row['samples']:,} samples of {row['problems']:,} problems into {run.path} "
        f"(run {run.run_id}, model {run.name}); accuracy {row['accuracy']:.4f}, "
        f"coverage {row['coverage']:.4f}; strategies: {', '.join(row['strategies'])}",
        markup=False,
    )
    agree = report.get("agreement with stored verdicts")
    if agree:
        console.print(
            f"agreement with the stored verdicts: {agree['agreement']:.4f} "
            f"({agree['agree']:,} of {agree['n']:,}; stored correct {agree['stored_correct']:,}, "
            f"re-graded correct {agree['regraded_correct']:,})"
        )
    if report.get("lines of other models"):
        console.print(f"skipped {report['lines of other models']:,} lines of other models")
    for notice in report["notices"]:
        console.print(f"note: {notice}", markup=False, highlight=False)


def _help(module) -> str:
    """A kind's help: its importer's docstring as plain text (rich markup escaped), each
    paragraph and list item on one line for the terminal to wrap; indented blocks as written."""
    from rich.markup import escape

    blocks = []
    for block in inspect.cleandoc(module.__doc__).replace("``", "").split("\n\n"):
        lines = block.split("\n")
        if all(line.startswith("    ") for line in lines):
            blocks.append(block)
            continue
        items: list[str] = []
        for line in lines:
            if line.startswith("- ") or not items:
                items.append(line)
            else:
                items[-1] += " " + line.strip()
        blocks.append("\n".join(items))
    return escape("\n\n".join(blocks))


def _command(kind: str):
    """The command of KIND: ``_import`` with the parameters its importer reads."""
    from scaling.importers import importer
    from scaling.importers.base import COMMON

    module = importer(kind)
    wanted = {"source", "out", "force", *COMMON, *module.OPTIONS}
    signature = inspect.signature(_template, eval_str=True)
    parameters = [p for name, p in signature.parameters.items() if _option(name) in wanted]

    def command(**values) -> None:
        _import(kind, **values)

    command.__signature__ = signature.replace(parameters=parameters)
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = _help(module)
    return command


class _Kinds(TyperGroup):
    """The import kinds; an unknown kind is the importers' one-line error."""

    def resolve_command(self, ctx: typer.Context, args: list[str]):
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            from scaling.importers import importer

            importer(args[0])
        return super().resolve_command(ctx, args)


def register(app: typer.Typer) -> None:
    from scaling.importers import KINDS

    kinds = typer.Typer(
        cls=_Kinds,
        no_args_is_help=True,
        help="Import SOURCE of KIND into a new run at --out (atomic; answers re-graded). "
        "The source is read and written in chunks; the run appears at --out complete or not at "
        "all. scaling import KIND --help gives the format's fields and the options it takes.",
    )
    for kind in KINDS:
        kinds.command(kind)(_command(kind))
    app.add_typer(kinds, name="import")
