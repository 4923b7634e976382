"""The collect loop: generate, grade, score and store samples, resumably.

``collect(CollectConfig(...))`` does, for one model x problem set x sampling config:

1. loads the problems and renders one prompt per problem (``collect.prompts``);
2. opens the run at ``out`` or creates it. The run id hashes the model (name, parameter count,
   architecture), the problem set and its ids, the rendered prompts, the sampling settings
   (temperature, top_p, max_tokens, seed; not the number of samples) and the reward model, so
   rerunning the same command reopens the same run and any other config is refused;
3. under the run's lock, lists the (problem, sample index) pairs that are missing for
   ``samples`` samples per problem (plus one greedy sample with ``greedy``) and cuts them into
   units: aligned blocks of ``batch_size`` consecutive indices of one problem. A block's samples
   are generated together and written together, so a batch always holds the same requests and a
   shard never holds part of a block;
4. streams the units through the backend; every ``flush_samples`` finished samples it extracts
   and grades the answers (``scaling.grading``), scores them with the reward model, and appends
   one Parquet shard atomically (``Run.append_samples``);
5. records measured token means, reward-model tokens, wall time and GPU-seconds in the manifest.

Steps 4-5 run in a ``collect.session`` collection (shared with tree search): engines built from
the configuration, warm-up timed apart, progress, store rows and accounting.

A crash or SIGKILL loses at most the samples not yet written; the next run with the same command
generates exactly the missing ones with the same seeds, so the result equals an uninterrupted run.
Ctrl-C writes what is finished and stops (KeyboardInterrupt is re-raised after the flush).
Raising ``samples`` later generates only the new indices.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from collect.backends import (
    BACKENDS,
    Backend,
    Completion,
    Sampling,
    Unit,
    backend_class,
    default_backend,
    sample_seed,
)
from collect.datasets import ProblemSet, load_problems
from collect.models import describe_model, load_config, load_tokenizer
from collect.prompts import Prompt, PromptTemplate, build_template, encode_prompt, prompt_hash
from collect.rewards import RewardModel
from collect.session import Session, collection
from scaling.errors import ScalingError
from scaling.graders import get_grader
from scaling.store import Run, config_hash, new_manifest

SEED_SCHEME = "sha256('{seed}:{problem_id}') mod 2^31 + sample_idx"


@dataclass
class CollectConfig:
    """Everything ``scaling collect`` takes (see the CLI help for each field)."""

    model: str
    dataset: str
    samples: int
    out: str | Path
    backend: str | None = None  # None: vllm on a CUDA machine with vLLM installed, else hf
    reward_model: str | None = None
    reward_kind: str | None = None  # prm | orm (default from the reward architecture)
    reward_backend: str | None = None  # hf | vllm (default: vllm with the vllm backend)
    step_tag: str | None = None
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0
    limit: int | None = None
    problems: list[str] | None = None
    question_field: str | None = None
    answer_field: str | None = None
    prompt_file: str | None = None
    tokenizer: str | None = None  # tokenizer/config source if not --model; "none": server chat
    base_url: str | None = None
    concurrency: int = 32
    workers: int = 2
    ray_engine: str | None = None  # hf | vllm (default: vllm on a CUDA machine)
    greedy: bool = False
    tensor_parallel: int = 1
    dtype: str = "auto"
    batch_size: int = 16
    flush_samples: int = 256
    grade_timeout: float = 5.0
    grade_workers: int | None = None
    grader: str = "math"  # how answers are graded (``scaling.graders``)

    def check(self) -> None:
        """Raise ScalingError for a setting outside its range."""
        if self.samples < 0 or (self.samples == 0 and not self.greedy):
            raise ScalingError(f"--samples {self.samples}: ask for at least 1 (or use --greedy)")
        if self.temperature <= 0:
            raise ScalingError(
                f"--temperature {self.temperature}: must be positive; use --greedy for a "
                "temperature-0 sample"
            )
        if not 0 < self.top_p <= 1:
            raise ScalingError(f"--top-p {self.top_p}: must be in (0, 1]")
        flags = {
            "max_tokens": "--max-tokens",
            "batch_size": "--batch-size",
            "flush_samples": "--flush-every",
            "concurrency": "--concurrency",
            "workers": "--workers",
            "tensor_parallel": "--tensor-parallel",
        }
        for name, flag in flags.items():
            if getattr(self, name) < 1:
                raise ScalingError(f"{flag} {getattr(self, name)}: must be at least 1")
        if self.backend is not None and self.backend not in BACKENDS:
            raise ScalingError(f"--backend {self.backend}: choose one of {', '.join(BACKENDS)}")
        if self.tokenizer == "none" and self.backend != "openai":
            raise ScalingError("--tokenizer none: only the openai backend can do without one")
        get_grader(self.grader)


@dataclass
class CollectResult:
    """What one ``collect`` call did."""

    run: Run
    generated: int = 0  # samples written by this call
    missing_before: int = 0  # samples that were missing when it started
    completion_tokens: int = 0  # generated by this call
    wall_s: float = 0.0  # the timed work, warm-up excluded
    warmup_s: float = 0.0  # the engines' warm-up before it
    interrupted: bool = False
    lost: int = 0  # finished samples that could not be written after an interrupt
    summary: dict[str, Any] = field(default_factory=dict)


def load_model_facts(config: CollectConfig, backend_name: str) -> tuple[Any, dict[str, Any]]:
    """(tokenizer, manifest ``model`` fields) of the policy.

    Both come from ``config.tokenizer`` when given, else from ``config.model``. A served model
    (openai backend) may have neither: its prompts then go to the server as chat messages and its
    size is unknown (None); ``config.tokenizer == "none"`` says so without trying to load them.
    """
    served = not backend_class(backend_name).needs_tokenizer
    source = config.tokenizer or config.model
    if source == "none":
        return None, describe_model(config.model)
    tokenizer = load_tokenizer(source, required=not served)
    model_config = load_config(source, required=not served) if tokenizer is not None else None
    return tokenizer, describe_model(config.model, model_config)


def plan_units(
    problems: pd.DataFrame,
    prompts: Sequence[Prompt],
    samples: int,
    *,
    seed: int,
    block: int,
    greedy: bool,
    existing: set[tuple[str, bool, int]],
) -> tuple[list[Unit], list[Unit]]:
    """(greedy units, sampled units) for the missing samples, in problem order.

    Sampled indices are cut into aligned blocks [b*block, (b+1)*block) of one problem; a block
    holds only its missing indices.
    """
    greedy_units, sampled = [], []
    for pid, prompt in zip(problems["problem_id"], prompts, strict=True):
        if greedy and (pid, True, 0) not in existing:
            greedy_units.append(Unit(pid, prompt, (0,), (sample_seed(seed, pid, 0),), greedy=True))
        for start in range(0, samples, block):
            idx = [
                i
                for i in range(start, min(start + block, samples))
                if (pid, False, i) not in existing
            ]
            if idx:
                seeds = tuple(sample_seed(seed, pid, i) for i in idx)
                sampled.append(Unit(pid, prompt, tuple(idx), seeds))
    return greedy_units, sampled


def _ident(
    config: CollectConfig, model: dict, problems: ProblemSet, phash: str, search: dict | None = None
) -> dict:
    """What makes two collect runs the same run (the number of samples is not part of it)."""
    ids = "\n".join(problems.frame["problem_id"])
    reward = None
    if config.reward_model:
        reward = {
            "name": describe_model(config.reward_model)["name"],
            "kind": config.reward_kind,
            "step_tag": config.step_tag,
        }
    return {
        "model": {k: model[k] for k in ("name", "params", "architecture")},
        "problem_set": problems.name,
        "problems": hashlib.sha256(ids.encode()).hexdigest()[:16],
        "prompt": phash,
        "sampling": {
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_tokens": config.max_tokens,
            "seed": config.seed,
        },
        "reward_model": reward,
        "search": search,
        "grader": get_grader(config.grader).name,
    }


class Prepared(NamedTuple):
    """What a run is made of before it is opened: problems, prompts and the manifest."""

    problems: ProblemSet
    tokenizer: Any
    template: PromptTemplate
    prompts: list[Prompt]
    manifest: dict[str, Any]


def prepare(config: CollectConfig, backend_name: str, search: dict | None = None) -> Prepared:
    """Load the problems, render the prompts and build the manifest of the run ``config`` asks for.

    ``search``: a tree search's manifest fields (``collect.search``), part of the run id.
    """
    problems = load_problems(
        config.dataset,
        question_field=config.question_field,
        answer_field=config.answer_field,
        limit=config.limit,
        problems=config.problems,
    )
    tokenizer, model = load_model_facts(config, backend_name)
    template = build_template(tokenizer, prompt_file=config.prompt_file)
    prompts = [template.render(q) for q in problems.frame["question"]]
    phash = prompt_hash(prompts)
    sampling = {
        "temperature": config.temperature,
        "top_p": config.top_p,
        "max_tokens": config.max_tokens,
        "seed": config.seed,
        "seed_scheme": SEED_SCHEME,
        "n": config.samples,
        "greedy": config.greedy,
    }
    reward_stub = (
        {"name": describe_model(config.reward_model)["name"], "kind": config.reward_kind}
        if config.reward_model
        else None
    )
    manifest = new_manifest(
        model=model,
        problem_set=problems.name,
        sampling=sampling,
        tokens={"source": "none", "assumption": None},
        provenance={**problems.provenance, "collected_by": "scaling collect"},
        prompt={"hash": phash, **template.describe()},
        reward_model=reward_stub,
        search=search,
        grading=get_grader(config.grader).describe(),
        extra={"collect": {"sessions": [], "wall_s": 0.0, "gpu_s": 0.0}},
        run_id=config_hash(_ident(config, model, problems, phash, search)),
    )
    return Prepared(problems, tokenizer, template, prompts, manifest)


def check_room(prompts: Sequence[Prompt], tokenizer, backend: Backend) -> None:
    """Refuse prompts that leave no room to generate within the model's context."""
    if backend.max_context is None or tokenizer is None:
        return
    longest = max((len(encode_prompt(tokenizer, p)) for p in prompts), default=0)
    if longest >= backend.max_context:
        raise ScalingError(
            f"a prompt of {longest} tokens leaves no room to generate within the model's "
            f"{backend.max_context} positions; shorten the prompt template (--prompt-file)"
        )


def execute(
    session: Session,
    units: list[Unit],
    stop: Sequence[str],
    result: CollectResult,
) -> None:
    """Generate every unit, writing a shard per ``flush_samples`` finished samples.

    On Ctrl-C the finished samples not yet written are written, then KeyboardInterrupt is
    re-raised.
    """
    config = session.config
    sampling = Sampling(config.temperature, config.top_p, config.max_tokens)
    left: dict[str, int] = {}
    for unit in units:
        left[unit.problem_id] = left.get(unit.problem_id, 0) + len(unit)
    complete = len(session.problems) - len(left)
    session.show(problems=complete)
    pending: list[tuple[Unit, list[Completion]]] = []

    def flush() -> None:
        nonlocal complete
        if not pending:
            return
        chunk = list(pending)
        rows = [(u, i, c) for u, done in chunk for i, c in zip(u.sample_idx, done, strict=True)]
        pids = [u.problem_id for u, _, _ in rows]
        texts = [c.text for _, _, c in rows]
        rewards, steps = session.score(pids, texts)
        frame = session.rows(
            pids,
            texts,
            sample_idx=[i for _, i, _ in rows],
            greedy=[u.greedy for u, _, _ in rows],
            reward=rewards,
            step_rewards=steps,
            prompt_tokens=[c.prompt_tokens for _, _, c in rows],
            completion_tokens=[c.completion_tokens for _, _, c in rows],
            finish_reason=[c.finish_reason for _, _, c in rows],
        )
        session.write(frame, int(frame["completion_tokens"].sum()))
        pending.clear()
        for unit, _ in chunk:
            left[unit.problem_id] -= len(unit)
            complete += left[unit.problem_id] == 0
        session.show(len(frame), complete)

    try:
        for finished in session.backend.stream(units, sampling, stop or None):
            pending.extend(finished)
            if sum(len(u) for u, _ in pending) >= config.flush_samples:
                flush()
        flush()
    except KeyboardInterrupt:
        try:  # what an interrupted write already stored (its shard was renamed) is not pending
            stored = session.run.existing_keys()
            pending[:] = [
                (u, done)
                for u, done in pending
                if not all((u.problem_id, u.greedy, i) in stored for i in u.sample_idx)
            ]
            flush()
        except (KeyboardInterrupt, ScalingError, OSError):
            result.lost = sum(len(u) for u, _ in pending)
        raise


def collect(
    config: CollectConfig,
    *,
    backend: Backend | None = None,
    reward: RewardModel | None = None,
    progress: bool = True,
    console=None,
) -> CollectResult:
    """Fill the run at ``config.out`` with ``config.samples`` samples per problem (see module doc).

    ``backend`` and ``reward`` reuse engines already loaded (a notebook, a benchmark); they are
    left open. Otherwise they are built from ``config`` when there is work, and closed after.
    """
    config.check()
    if reward is not None and not config.reward_model:
        raise ScalingError("collect: a reward model was passed but config.reward_model is not set")
    backend_name = backend.name if backend is not None else config.backend or default_backend()
    problems, tokenizer, template, prompts, manifest = prepare(config, backend_name)
    run = Run.create(config.out, manifest, problems.frame, exist_ok=True)
    result = CollectResult(run=run)
    with run.lock():
        existing = run.existing_keys()
        greedy_units, sampled_units = plan_units(
            problems.frame,
            prompts,
            config.samples,
            seed=config.seed,
            block=config.batch_size,
            greedy=config.greedy,
            existing=existing,
        )
        old = run.manifest["sampling"]
        run.update_manifest(
            sampling={
                **old,
                "n": max(int(old.get("n") or 0), config.samples),
                "greedy": bool(old.get("greedy")) or config.greedy,
            }
        )
        units = [*greedy_units, *sampled_units]
        result.missing_before = sum(map(len, units))
        if units:
            with collection(
                config,
                run,
                problems,
                result,
                backend_name=backend_name,
                tokenizer=tokenizer,
                total=result.missing_before,
                warm_prompt=units[0].prompt,
                backend=backend,
                reward=reward,
                progress=progress,
                console=console,
            ) as session:
                check_room([u.prompt for u in units], tokenizer, session.backend)
                execute(session, units, template.stop, result)
    result.summary = summarize(run, result, backend_name)
    return result


def summarize(run: Run, result: CollectResult, backend: str) -> dict[str, Any]:
    """Numbers for the end-of-run summary."""
    frame = run.samples(["problem_id", "greedy", "correct", "completion_tokens"])
    pool = frame[~frame["greedy"]]
    greedy = frame[frame["greedy"]]
    ids = run.problems()["problem_id"]
    per_problem = pool.groupby("problem_id", observed=True).size().reindex(ids, fill_value=0)
    return {
        "run": str(run.path),
        "run_id": run.run_id,
        "model": run.name,
        "backend": backend,
        "problems": len(ids),
        "samples_per_problem": int(per_problem.min()) if len(per_problem) else 0,
        "stored": len(frame),
        "generated": result.generated,
        "accuracy": float(pool["correct"].mean()) if len(pool) else math.nan,
        "greedy_accuracy": float(greedy["correct"].mean()) if len(greedy) else math.nan,
        "mean_completion_tokens": float(pool["completion_tokens"].mean())
        if len(pool)
        else math.nan,
        "tokens_per_s": result.completion_tokens / result.wall_s if result.wall_s else math.nan,
        "wall_s": result.wall_s,
        "warmup_s": result.warmup_s,
        "status": "interrupted" if result.interrupted else "complete",
    }
