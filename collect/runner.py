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

A crash or SIGKILL loses at most the samples not yet written; the next run with the same command
generates exactly the missing ones with the same seeds, so the result equals an uninterrupted run.
Ctrl-C writes what is finished and stops (KeyboardInterrupt is re-raised after the flush).
Raising ``samples`` later generates only the new indices.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.util
import math
import time
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
    make_backend,
    sample_seed,
)
from collect.datasets import ProblemSet, load_problems
from collect.models import describe_model, gpu_names, library_versions, load_config, load_tokenizer
from collect.prompts import Prompt, PromptTemplate, build_template, prompt_hash
from collect.rewards import RewardModel, make_reward_model
from scaling.errors import ScalingError
from scaling.grading import extract_answer, grade
from scaling.progress import progress_bar
from scaling.store import Run, config_hash, new_manifest

SEED_SCHEME = "sha256('{seed}:{problem_id}') mod 2^31 + sample_idx"
# The vLLM policy's share of GPU memory when a vLLM reward model (0.3) shares the GPU.
POLICY_GPU_SHARE = 0.55


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


@dataclass
class CollectResult:
    """What one ``collect`` call did."""

    run: Run
    generated: int = 0  # samples written by this call
    missing_before: int = 0  # samples that were missing when it started
    completion_tokens: int = 0  # generated by this call
    wall_s: float = 0.0
    interrupted: bool = False
    lost: int = 0  # finished samples that could not be written after an interrupt
    summary: dict[str, Any] = field(default_factory=dict)


def default_backend() -> str:
    """vllm when a CUDA GPU and vLLM are present, else hf."""
    if importlib.util.find_spec("vllm") is None or importlib.util.find_spec("torch") is None:
        return "hf"
    import torch

    return "vllm" if torch.cuda.is_available() else "hf"


def load_model_facts(config: CollectConfig, backend_name: str) -> tuple[Any, dict[str, Any]]:
    """(tokenizer, manifest ``model`` fields) of the policy.

    Both come from ``config.tokenizer`` when given, else from ``config.model``. A served model
    (openai backend) may have neither: its prompts then go to the server as chat messages and its
    size is unknown (None); ``config.tokenizer == "none"`` says so without trying to load them.
    """
    served = backend_name == "openai"
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
        extra={"collect": {"sessions": [], "wall_s": 0.0, "gpu_s": 0.0}},
        run_id=config_hash(_ident(config, model, problems, phash, search)),
    )
    return Prepared(problems, tokenizer, template, prompts, manifest)


class _Session:
    """One collect session on an open, locked run: generate, grade, score, write, account."""

    def __init__(
        self,
        config: CollectConfig,
        run: Run,
        problems: ProblemSet,
        template: PromptTemplate,
        backend: Backend,
        reward: RewardModel | None,
    ):
        self.config = config
        self.run = run
        self.problems = problems
        self.template = template
        self.backend = backend
        self.reward = reward
        frame = problems.frame.set_index("problem_id")
        self.questions = frame["question"].to_dict()
        self.references = frame["answer"].to_dict()
        self.sampling = Sampling(config.temperature, config.top_p, config.max_tokens)
        self.generated = 0
        self.tokens = 0
        self.started = time.monotonic()
        extra = dict(run.manifest.get("extra") or {})
        self.extra = extra
        self.state = dict(extra.get("collect") or {"sessions": [], "wall_s": 0.0, "gpu_s": 0.0})
        self.record = _session_record(backend)
        self.state["sessions"] = [*self.state.get("sessions", []), self.record]
        self.base = (float(self.state.get("wall_s", 0.0)), float(self.state.get("gpu_s", 0.0)))
        if reward is not None:
            info = {**(run.manifest.get("reward_model") or {}), **reward.describe()}
            run.update_manifest(reward_model=info)
        self.save("running")  # the session is on record before its first shard

    # -- one chunk -----------------------------------------------------------------------------
    def frame(self, chunk: list[tuple[Unit, list[Completion]]]) -> pd.DataFrame:
        """Grade and score a chunk of finished units into store rows."""
        rows = [
            (unit, idx, done)
            for unit, completions in chunk
            for idx, done in zip(unit.sample_idx, completions, strict=True)
        ]
        pids = [unit.problem_id for unit, _, _ in rows]
        texts = [done.text for _, _, done in rows]
        grades = grade(
            [extract_answer(t) for t in texts],
            [self.references[p] for p in pids],
            timeout=self.config.grade_timeout,
            workers=self.config.grade_workers,
            problem_ids=pids,
        )
        rewards: list[float | None] = [None] * len(rows)
        steps: list[list[float] | None] = [None] * len(rows)
        if self.reward is not None:
            scores = self.reward.score([self.questions[p] for p in pids], texts)
            rewards = [s.reward for s in scores]
            steps = [s.step_rewards for s in scores]
        return pd.DataFrame(
            {
                "problem_id": pids,
                "sample_idx": [idx for _, idx, _ in rows],
                "greedy": [unit.greedy for unit, _, _ in rows],
                "answer": [g.answer for g in grades],
                "cluster": [g.cluster for g in grades],
                "correct": [g.correct for g in grades],
                "reward": rewards,
                "step_rewards": steps,
                "prompt_tokens": [done.prompt_tokens for _, _, done in rows],
                "completion_tokens": [done.completion_tokens for _, _, done in rows],
                "finish_reason": [done.finish_reason for _, _, done in rows],
                "text": texts,
            }
        )

    def write(self, chunk: list[tuple[Unit, list[Completion]]]) -> int:
        """Grade, score and append one chunk as a shard; returns its completion tokens."""
        frame = self.frame(chunk)
        self.run.append_samples(frame)
        tokens = int(frame["completion_tokens"].sum())
        self.generated += len(frame)
        self.tokens += tokens
        self.save("running")
        return tokens

    def save(self, status: str) -> None:
        """Record this session's counters (and the run's totals) in the manifest."""
        wall = time.monotonic() - self.started
        gpus = self.backend.gpus
        self.record.update(
            wall_s=round(wall, 3),
            gpu_s=round(wall * gpus, 3),
            samples=self.generated,
            completion_tokens=self.tokens,
            status=status,
        )
        self.state.update(
            wall_s=round(self.base[0] + wall, 3), gpu_s=round(self.base[1] + wall * gpus, 3)
        )
        self.run.update_manifest(extra={**self.extra, "collect": self.state})

    # -- the loop ------------------------------------------------------------------------------
    def execute(self, greedy: list[Unit], sampled: list[Unit], result: CollectResult, bar) -> None:
        """Generate every unit, writing a shard per ``flush_samples`` finished samples.

        On Ctrl-C the finished samples not yet written are written, then KeyboardInterrupt is
        re-raised.
        """
        progress, task = bar
        left: dict[str, int] = {}
        for unit in [*greedy, *sampled]:
            left[unit.problem_id] = left.get(unit.problem_id, 0) + len(unit)
        complete = len(self.problems) - len(left)
        progress.update(task, problems=complete)
        pending: list[tuple[Unit, list[Completion]]] = []

        def flush() -> None:
            nonlocal complete
            if not pending:
                return
            chunk = list(pending)
            self.write(chunk)
            pending.clear()
            for unit, _ in chunk:
                left[unit.problem_id] -= len(unit)
                complete += left[unit.problem_id] == 0
            rate = self.tokens / max(time.monotonic() - self.started, 1e-9)
            samples = sum(len(u) for u, _ in chunk)
            progress.update(task, advance=samples, problems=complete, rate=f"{rate:,.0f}")

        stop = self.template.stop or None
        try:
            with progress:
                for finished in self.backend.stream([*greedy, *sampled], self.sampling, stop):
                    pending.extend(finished)
                    if sum(len(u) for u, _ in pending) >= self.config.flush_samples:
                        flush()
                flush()
        except KeyboardInterrupt:
            result.interrupted = True
            try:
                flush()
            except (KeyboardInterrupt, ScalingError, OSError):
                result.lost = sum(len(u) for u, _ in pending)
            raise
        finally:
            self.conclude(result)

    def conclude(self, result: CollectResult) -> None:
        """Copy this session's counters into ``result``, then do the final accounting."""
        result.generated = self.generated
        result.completion_tokens = self.tokens
        result.wall_s = time.monotonic() - self.started
        self.finish("interrupted" if result.interrupted else "complete")

    def finish(self, status: str) -> None:
        """Final accounting: session status, measured token means, reward-model tokens."""
        self.save(status)
        self.run.update_manifest(tokens=_token_stats(self.run))
        if self.reward is not None and self.generated:
            info = self.run.manifest["reward_model"]
            self.run.update_manifest(reward_model={**info, **_reward_tokens(self.run, self.reward)})


def _session_record(backend: Backend) -> dict[str, Any]:
    return {
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "engine": backend.info(),
        "gpu": gpu_names(),
        "versions": library_versions(),
        "wall_s": 0.0,
        "gpu_s": 0.0,
        "samples": 0,
        "completion_tokens": 0,
        "status": "running",
    }


def _token_stats(run: Run) -> dict[str, Any]:
    """Measured token means over the sampled pool (greedy samples when there is no pool)."""
    frame = run.samples(["greedy", "prompt_tokens", "completion_tokens"])
    if frame.empty:
        return {"source": "none", "assumption": None}
    pool = frame[~frame["greedy"]] if (~frame["greedy"]).any() else frame
    return {
        "source": "measured",
        "assumption": None,
        "mean_prompt_tokens": float(pool["prompt_tokens"].mean()),
        "mean_completion_tokens": float(pool["completion_tokens"].mean()),
        "total_completion_tokens": int(frame["completion_tokens"].sum()),
    }


def _reward_tokens(run: Run, reward: RewardModel) -> dict[str, Any]:
    """Tokens the reward model read over every stored sample (for ``full`` FLOPs)."""
    frame = run.samples(["problem_id", "text"], text=True)
    questions = run.problems().set_index("problem_id")["question"]
    counts = reward.count_tokens(
        [questions[p] for p in frame["problem_id"].astype(str)], frame["text"].fillna("").tolist()
    )
    total = int(sum(counts))
    return {"scored_tokens": total, "mean_scored_tokens": total / len(counts) if counts else None}


def _progress(enabled: bool, total: int, problems: int, console=None):
    bar = progress_bar(
        "[bold]collect",
        "samples",
        "{task.fields[problems]}/{task.fields[n_problems]} problems",
        "{task.fields[rate]} tok/s",
        disable=not enabled,
        console=console,
    )
    task = bar.add_task("collect", total=total, problems=0, n_problems=problems, rate="-")
    return bar, task


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
        total = sum(map(len, greedy_units)) + sum(map(len, sampled_units))
        result.missing_before = total
        if total:
            owned = backend is None
            if owned:
                backend, reward = _open_engines(config, backend_name, tokenizer)
            try:
                session = _Session(config, run, problems, template, backend, reward)
                bar = _progress(progress, total, len(problems), console)
                session.execute(greedy_units, sampled_units, result, bar)
            finally:
                if owned:
                    if reward is not None:
                        reward.close()
                    backend.close()
    result.summary = summarize(run, result, backend_name)
    return result


def _open_engines(
    config: CollectConfig, backend_name: str, tokenizer
) -> tuple[Backend, RewardModel | None]:
    gpu_default = default_backend() == "vllm"
    reward_engine = config.reward_backend or ("vllm" if backend_name == "vllm" else "hf")
    if backend_name == "hf":
        options: dict[str, Any] = {
            "dtype": config.dtype,
            "batch_size": config.batch_size,
            "tokenizer": tokenizer,
        }
    elif backend_name == "vllm":
        options = {
            "tensor_parallel_size": config.tensor_parallel,
            "dtype": config.dtype,
            "flush_samples": config.flush_samples,
        }
        if config.reward_model and reward_engine == "vllm":
            options["gpu_memory_utilization"] = POLICY_GPU_SHARE
    elif backend_name == "openai":
        options = {"concurrency": config.concurrency, "tokenizer": tokenizer}
        if config.base_url:
            options["base_url"] = config.base_url
    else:
        engine = config.ray_engine or ("vllm" if gpu_default else "hf")
        engine_options: dict[str, Any] = {"dtype": config.dtype}
        if engine == "vllm":
            engine_options["tensor_parallel_size"] = config.tensor_parallel
        else:
            engine_options["batch_size"] = config.batch_size
        options = {"engine": engine, "workers": config.workers, "engine_options": engine_options}
    backend = make_backend(backend_name, config.model, **options)
    reward = None
    if config.reward_model:
        reward_options: dict[str, Any] = {"kind": config.reward_kind, "step_tag": config.step_tag}
        if reward_engine == "hf":
            reward_options["dtype"] = config.dtype
        else:
            reward_options["tensor_parallel_size"] = config.tensor_parallel
        try:
            reward = make_reward_model(reward_engine, config.reward_model, **reward_options)
        except BaseException:
            backend.close()
            raise
    return backend, reward


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
        "status": "interrupted" if result.interrupted else "complete",
    }
