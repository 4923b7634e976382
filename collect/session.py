"""One collection session on a run: its engines, progress display, store rows and accounting.

Sampling (``collect.runner.collect``) and tree search (``collect.search.runner.search``) both work
through ``collection(...)``, a context manager entered under the run's lock once the missing work
is known:

1. it builds the policy backend and the reward model from the configuration (each backend builds
   itself, ``collect.backends``; ``collect.rewards.build_reward``), except the engines the caller
   passes, which it leaves open;
2. it records the session in the manifest (``extra.collect.sessions``: start, engine, GPUs,
   library versions, status ``running``) before any shard is written;
3. it warms the engines up (one one-token request, one graded answer, one scored sample) and
   times that apart (``warmup_s``), so the session's wall time and tokens per second measure the
   collection itself;
4. it yields the ``Session``: ``rows`` grades answers into store rows, ``score`` runs the reward
   model, ``write`` appends one shard and updates the counters, ``show`` advances the progress bar;
5. at the end (also after Ctrl-C or an error) it records the status (``complete``,
   ``interrupted`` or ``failed``), the measured token means and the reward model's scored
   tokens, copies the counters into the caller's result and closes the engines it opened.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pandas as pd

from collect.backends import Backend, build_backend
from collect.datasets import ProblemSet
from collect.models import gpu_names, library_versions
from collect.prompts import Prompt
from collect.rewards import RewardModel, build_reward
from scaling.grading import extract_answer, grade
from scaling.progress import progress_bar
from scaling.store import Run

if TYPE_CHECKING:
    from collect.runner import CollectConfig, CollectResult


def token_stats(run: Run) -> dict[str, Any]:
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


def reward_tokens(run: Run, reward: RewardModel) -> dict[str, Any]:
    """Tokens the reward model read over every stored sample (for ``full`` FLOPs)."""
    frame = run.samples(["problem_id", "text"], text=True)
    questions = run.problems().set_index("problem_id")["question"]
    counts = reward.count_tokens(
        [questions[p] for p in frame["problem_id"].astype(str)], frame["text"].fillna("").tolist()
    )
    total = int(sum(counts))
    return {"scored_tokens": total, "mean_scored_tokens": total / len(counts) if counts else None}


class Session:
    """A collection session on an open, locked run (see the module docstring).

    Counters: ``generated`` samples written, ``tokens`` generated (for a search: every expansion's
    tokens), ``warmup_s``; ``started`` is when the timed work began (after the warm-up).
    """

    def __init__(
        self,
        config: CollectConfig,
        run: Run,
        problems: ProblemSet,
        backend: Backend,
        reward: RewardModel | None,
        *,
        total: int,
        progress: bool = True,
        console=None,
    ):
        self.config = config
        self.run = run
        self.problems = problems
        self.backend = backend
        self.reward = reward
        frame = problems.frame.set_index("problem_id")
        self.questions = frame["question"].to_dict()
        self.references = frame["answer"].to_dict()
        self.generated = 0
        self.tokens = 0
        self.warmup_s = 0.0
        self.started = time.monotonic()
        self.bar = progress_bar(
            "[bold]collect",
            "samples",
            "{task.fields[problems]}/{task.fields[n_problems]} problems",
            "{task.fields[rate]} tok/s",
            disable=not progress,
            console=console,
        )
        self.task = self.bar.add_task(
            "collect", total=total, problems=0, n_problems=len(problems), rate="-"
        )
        self.extra = dict(run.manifest.get("extra") or {})
        self.state = dict(
            self.extra.get("collect") or {"sessions": [], "wall_s": 0.0, "gpu_s": 0.0}
        )
        self.record: dict[str, Any] = {
            "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "engine": backend.info(),
            "gpu": gpu_names(),
            "versions": library_versions(),
            "warmup_s": 0.0,
            "wall_s": 0.0,
            "gpu_s": 0.0,
            "samples": 0,
            "completion_tokens": 0,
            "status": "running",
        }
        self.state["sessions"] = [*self.state.get("sessions", []), self.record]
        self.base = (float(self.state.get("wall_s", 0.0)), float(self.state.get("gpu_s", 0.0)))
        if reward is not None:
            info = {**(run.manifest.get("reward_model") or {}), **reward.describe()}
            run.update_manifest(reward_model=info)
        self.save("running")  # the session is on record before its first shard

    # -- timing ----------------------------------------------------------------------------------
    def warm_up(self, prompt: Prompt) -> None:
        """One request, one graded answer and one scored sample, timed apart as ``warmup_s``."""
        start = time.monotonic()
        self.backend.warm_up(prompt)
        grade(
            [extract_answer("\\boxed{1}")],
            ["1"],
            workers=self.config.grade_workers,
            grader=self.config.grader,
        )
        if self.reward is not None:
            self.reward.score(["1 + 0"], ["1"])
        self.warmup_s = time.monotonic() - start
        self.started = time.monotonic()
        self.record["warmup_s"] = round(self.warmup_s, 3)

    @property
    def wall_s(self) -> float:
        """Seconds of timed work so far (the warm-up excluded)."""
        return time.monotonic() - self.started

    # -- rows --------------------------------------------------------------------------------------
    def score(
        self, problem_ids: Sequence[str], texts: Sequence[str]
    ) -> tuple[list[float | None], list[list[float] | None]]:
        """(rewards, step rewards) of the texts; all None without a reward model."""
        if self.reward is None:
            return [None] * len(texts), [None] * len(texts)
        scores = self.reward.score([self.questions[p] for p in problem_ids], list(texts))
        return [s.reward for s in scores], [s.step_rewards for s in scores]

    def rows(
        self,
        problem_ids: Sequence[str],
        texts: Sequence[str],
        **columns: Sequence[Any],
    ) -> pd.DataFrame:
        """Store rows: answers extracted from ``texts`` and graded against the references, plus
        ``columns`` (sample_idx, greedy, reward, step_rewards, prompt_tokens, completion_tokens,
        finish_reason)."""
        grades = grade(
            [extract_answer(t) for t in texts],
            [self.references[p] for p in problem_ids],
            timeout=self.config.grade_timeout,
            grader=self.config.grader,
            workers=self.config.grade_workers,
            problem_ids=list(problem_ids),
        )
        return pd.DataFrame(
            {
                "problem_id": list(problem_ids),
                "answer": [g.answer for g in grades],
                "cluster": [g.cluster for g in grades],
                "correct": [g.correct for g in grades],
                **{name: list(values) for name, values in columns.items()},
                "text": list(texts),
            }
        )

    # -- writing ---------------------------------------------------------------------------------
    def write(self, frame: pd.DataFrame, tokens: int) -> None:
        """Append ``frame`` as one shard; ``tokens`` were generated to make it."""
        self.run.append_samples(frame)
        self.generated += len(frame)
        self.tokens += tokens
        self.save("running")

    def show(self, samples: int = 0, problems: int | None = None) -> None:
        """Advance the progress bar by ``samples`` and show ``problems`` done and the rate."""
        rate = self.tokens / max(self.wall_s, 1e-9)
        fields: dict[str, Any] = {"rate": f"{rate:,.0f}"}
        if problems is not None:
            fields["problems"] = problems
        self.bar.update(self.task, advance=samples, **fields)

    def save(self, status: str) -> None:
        """Record this session's counters (and the run's totals) in the manifest."""
        wall = self.wall_s
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

    def finish(self, status: str) -> None:
        """Final accounting: the session's status, then ``manifest_updates``."""
        self.save(status)
        self.run.update_manifest(**self.manifest_updates())

    def manifest_updates(self) -> dict[str, Any]:
        """What the end of a session records: measured token means and reward-model tokens."""
        updates: dict[str, Any] = {"tokens": token_stats(self.run)}
        if self.reward is not None and self.generated:
            info = self.run.manifest["reward_model"]
            updates["reward_model"] = {**info, **reward_tokens(self.run, self.reward)}
        return updates

    def conclude(self, result: CollectResult, *, failed: bool = False) -> None:
        """Copy the counters into ``result``, then do the final accounting."""
        result.generated = self.generated
        result.completion_tokens = self.tokens
        result.wall_s = self.wall_s
        result.warmup_s = self.warmup_s
        status = "failed" if failed else "interrupted" if result.interrupted else "complete"
        self.finish(status)


@contextmanager
def collection(
    config: CollectConfig,
    run: Run,
    problems: ProblemSet,
    result: CollectResult,
    *,
    backend_name: str,
    tokenizer,
    total: int,
    warm_prompt: Prompt,
    backend: Backend | None = None,
    reward: RewardModel | None = None,
    session: Callable[..., Session] = Session,
    progress: bool = True,
    console=None,
) -> Iterator[Session]:
    """A session of ``total`` samples on the locked ``run`` (see the module docstring).

    ``backend`` and ``reward`` reuse engines the caller owns (left open); the missing ones are
    built from ``config`` and closed at the end. ``session`` builds the Session (a subclass adds
    its own accounting). Ctrl-C marks ``result.interrupted`` and is re-raised.
    """
    own_backend = backend is None
    own_reward = reward is None and bool(config.reward_model)
    if own_backend:
        backend = build_backend(backend_name, config, tokenizer)
    try:
        if own_reward:
            reward = build_reward(config, backend_name)
        current = session(
            config, run, problems, backend, reward, total=total, progress=progress, console=console
        )
        failed = False
        try:
            with current.bar:
                current.warm_up(warm_prompt)
                yield current
        except KeyboardInterrupt:
            result.interrupted = True
            raise
        except Exception:
            failed = True
            raise
        finally:
            current.conclude(result, failed=failed)
    finally:
        if own_reward and reward is not None:
            reward.close()
        if own_backend:
            backend.close()
