"""``scaling collect``: generate, grade, score and cache samples (over ``collect.runner``)."""

from __future__ import annotations

import functools
import importlib.util
import json
import math
from pathlib import Path
from typing import Annotated

import typer

from scaling.errors import ScalingError

FORMATS = ("table", "json")


def _summary_table(summary: dict):
    from rich.table import Table

    table = Table(title=f"scaling collect: {summary['status']}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    rows = [
        ("run", summary["run"]),
        ("run id", summary["run_id"]),
        ("model", summary["model"]),
        ("backend", summary["backend"]),
        ("problems", f"{summary['problems']:,}"),
        ("samples per problem", f"{summary['samples_per_problem']:,}"),
        ("samples stored", f"{summary['stored']:,}"),
        ("generated now", f"{summary['generated']:,}"),
        ("accuracy (mean of samples)", _fmt(summary["accuracy"], "{:.2%}")),
        ("greedy accuracy", _fmt(summary["greedy_accuracy"], "{:.2%}")),
        ("mean completion tokens", _fmt(summary["mean_completion_tokens"], "{:,.1f}")),
        ("tokens/s (after warm-up)", _fmt(summary["tokens_per_s"], "{:,.0f}")),
        ("wall time", f"{summary['wall_s']:,.1f} s + {summary['warmup_s']:,.1f} s warm-up"),
    ]
    search = summary.get("search")
    if search:
        rows.insert(4, ("search", f"{search['method']}, width {search['width']}"))
        at = 5
        if search.get("leaves_short"):
            rows.insert(
                at,
                (
                    "problems short of leaves",
                    f"{search['leaves_short']:,} of {summary['problems']:,} problems have fewer "
                    f"than {search['width']} finished leaves (branches cut at --max-depth "
                    f"{search['max_depth']})",
                ),
            )
            at += 1
        if search.get("capped"):
            rows.insert(
                at,
                (
                    "branches capped",
                    f"{search['capped']:,} branches filled the model's context and were closed "
                    "as leaves there",
                ),
            )
        rows.append(("search tokens per problem", _fmt(summary["mean_search_tokens"], "{:,.1f}")))
    for name, value in rows:
        table.add_row(name, value)
    return table


def _fmt(value: float, spec: str) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else spec.format(value)
    )


def collect_command(
    model: Annotated[str, typer.Option("--model", help="Model id or local folder (the policy).")],
    dataset: Annotated[
        str,
        typer.Option("--dataset", help="gsm8k, math500, or a JSONL/JSON/Parquet/CSV problem file."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Run directory (created or resumed).")],
    samples: Annotated[
        int | None, typer.Option("--samples", help="Samples per problem (existing kept).")
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend", help="vllm | hf | openai | ray (default: vllm on a GPU, else hf)."
        ),
    ] = None,
    reward_model: Annotated[
        str | None, typer.Option("--reward-model", help="PRM/ORM id or folder.")
    ] = None,
    reward_kind: Annotated[
        str | None,
        typer.Option("--reward-kind", help="prm | orm (default from the reward model's head)."),
    ] = None,
    reward_backend: Annotated[
        str | None,
        typer.Option("--reward-backend", help="hf | vllm (default: vllm with --backend vllm)."),
    ] = None,
    step_tag: Annotated[
        str | None,
        typer.Option(
            "--step-tag", help="PRM step tag (default <extra_0> if in vocabulary, else ки)."
        ),
    ] = None,
    temperature: Annotated[
        float, typer.Option("--temperature", help="Sampling temperature (> 0).")
    ] = 0.7,
    top_p: Annotated[float, typer.Option("--top-p", help="Nucleus sampling mass.")] = 1.0,
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", help="Most tokens per completion.")
    ] = 1024,
    seed: Annotated[
        int, typer.Option("--seed", help="Base seed; sample i of problem p has its own.")
    ] = 0,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first L problems.")] = None,
    problems: Annotated[
        str | None, typer.Option("--problems", help="Comma-separated problem ids.")
    ] = None,
    question_field: Annotated[
        str | None, typer.Option("--question-field", help="Question field (file).")
    ] = None,
    answer_field: Annotated[
        str | None, typer.Option("--answer-field", help="Reference field (file).")
    ] = None,
    prompt_file: Annotated[
        Path | None, typer.Option("--prompt-file", help="Prompt template override.")
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            "--tokenizer",
            help="Tokenizer/config if --model is a served name; 'none': server's chat template.",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="OpenAI-compatible server (default http://127.0.0.1:8000/v1)."
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Requests in flight (openai).")
    ] = 32,
    workers: Annotated[int, typer.Option("--workers", help="Data-parallel engines (ray).")] = 2,
    ray_engine: Annotated[
        str | None,
        typer.Option(
            "--ray-engine", help="Engine in each Ray worker: vllm | hf (default: vllm on GPU)."
        ),
    ] = None,
    greedy: Annotated[
        bool, typer.Option("--greedy", help="Also one temperature-0 sample.")
    ] = False,
    tensor_parallel: Annotated[
        int, typer.Option("--tensor-parallel", help="GPUs per vLLM engine.")
    ] = 1,
    dtype: Annotated[
        str, typer.Option("--dtype", help="auto | float32 | float16 | bfloat16.")
    ] = "auto",
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", help="Samples per block (the unit of batching and writing)."),
    ] = 16,
    flush_every: Annotated[
        int, typer.Option("--flush-every", help="Samples per Parquet shard.")
    ] = 256,
    grade_timeout: Annotated[
        float, typer.Option("--grade-timeout", help="Seconds per answer.")
    ] = 5.0,
    grade_workers: Annotated[
        int | None, typer.Option("--grade-workers", help="Grading processes.")
    ] = None,
    grader: Annotated[
        str,
        typer.Option(
            "--grader",
            help="How answers are graded: math | exact | numeric[:TOL] | "
            "python:MODULE:FUNCTION (recorded in the run).",
        ),
    ] = "math",
    output_format: Annotated[
        str, typer.Option("--format", help="Summary as table | json.")
    ] = "table",
    search_method: Annotated[
        str | None,
        typer.Option(
            "--search", help="Tree search with the PRM instead of sampling: rebase | beam | mcts."
        ),
    ] = None,
    width: Annotated[
        int | None, typer.Option("--width", help="Search width N: finished leaves per problem.")
    ] = None,
    beam_width: Annotated[
        int | None,
        typer.Option("--beam-width", help="Beam: keep N/M, expand each M times; MCTS: branching."),
    ] = None,
    rebase_temperature: Annotated[
        float, typer.Option("--rebase-temperature", help="REBASE softmax temperature T_b.")
    ] = 0.1,
    step_delimiter: Annotated[
        str,
        typer.Option(
            "--step-delimiter", help="Stop string ending a step (escapes; {k}: next step's number)."
        ),
    ] = "\\n\\n",
    max_depth: Annotated[int, typer.Option("--max-depth", help="Most steps per solution.")] = 25,
    max_step_tokens: Annotated[
        int, typer.Option("--max-step-tokens", help="Most tokens per step.")
    ] = 256,
) -> None:
    """Generate, grade, score and cache samples; rerun to resume or to add samples."""
    from rich.console import Console

    from collect.runner import CollectConfig, collect

    if output_format not in FORMATS:
        raise ScalingError(f"--format {output_format}: choose one of {', '.join(FORMATS)}")
    run = collect
    if search_method is not None or width is not None or beam_width is not None:
        from collect.search.runner import search, spec_from_options

        spec = spec_from_options(
            search_method,
            width=width,
            samples=samples,
            beam_width=beam_width,
            temperature=rebase_temperature,
            step_delimiter=step_delimiter,
            max_depth=max_depth,
            max_step_tokens=max_step_tokens,
        )
        run, samples = functools.partial(search, spec=spec), spec.width
    elif samples is None:
        raise ScalingError("--samples: how many samples per problem? (or --search with --width)")
    config = CollectConfig(
        model=model,
        dataset=dataset,
        samples=samples,
        out=out,
        backend=backend,
        reward_model=reward_model,
        reward_kind=reward_kind,
        reward_backend=reward_backend,
        step_tag=step_tag,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        seed=seed,
        limit=limit,
        problems=[p.strip() for p in problems.split(",") if p.strip()] if problems else None,
        question_field=question_field,
        answer_field=answer_field,
        prompt_file=str(prompt_file) if prompt_file else None,
        tokenizer=tokenizer,
        base_url=base_url,
        concurrency=concurrency,
        workers=workers,
        ray_engine=ray_engine,
        greedy=greedy,
        tensor_parallel=tensor_parallel,
        dtype=dtype,
        batch_size=batch_size,
        flush_samples=flush_every,
        grade_timeout=grade_timeout,
        grader=grader,
        grade_workers=grade_workers,
    )
    if importlib.util.find_spec("transformers") is not None:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # the collect bar is the one to watch
    try:
        result = run(config, console=Console(stderr=True))
    except KeyboardInterrupt:
        typer.echo(
            f"interrupted: every finished sample is stored in {out}; "
            "rerun the same command to resume",
            err=True,
        )
        raise typer.Exit(130) from None
    if output_format == "json":
        typer.echo(json.dumps(result.summary, indent=2, default=str))
    else:
        Console().print(_summary_table(result.summary))


def register(app: typer.Typer) -> None:
    app.command("collect")(collect_command)
