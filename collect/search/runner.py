"""``scaling collect --search``: tree search over a problem set, written as a run, resumably.

``search(config, spec)`` takes the same ``CollectConfig`` as ``collect`` (model, problem set,
backend, reward model, sampling, seed, ``out``) and a ``SearchSpec`` (method, width, ...):

1. loads the problems and renders the prompts as ``collect`` does (a search needs text prompts:
   a model with a local tokenizer);
2. opens or creates the run; its id hashes what ``collect``'s does plus the search settings, and
   the manifest's ``search`` holds them ({method, width, beam_width | branching, temperature,
   step_delimiter, max_depth, max_step_tokens, ...});
3. under the run's lock, searches the problems that have no stored leaf yet, ``flush_samples //
   width`` problems at a time (they advance together, sharing the engine's batches). After each
   batch it records each problem's measured cost in ``problems.parquet`` (``search_tokens``:
   completion tokens of every expansion; ``search_rm_tokens``: tokens the PRM read) and then
   appends the finished leaves as one shard (graded; ``step_rewards`` = the PRM's step scores;
   ``completion_tokens`` = the leaf's own solution). A crash loses at most the batch in flight; the
   rerun searches exactly the missing problems with the same seeds;
4. at the end records ``search.leaves_short`` (problems with fewer than ``width`` leaves: the
   depth cap cut some of their branches), ``search.capped`` (branches closed as leaves because
   they filled the model's context), the token means and the PRM's total scored tokens.

Engines, warm-up, progress, store rows and accounting are the ``collect.session`` collection that
sampling uses too.

The simulator treats a search run as ``width`` samples per problem (no subsampling) whose compute
is ``search_tokens`` (plus ``search_rm_tokens`` under ``full`` accounting).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import pandas as pd

from collect.backends import BACKENDS, Backend, Sampling, backend_class, default_backend
from collect.rewards import RewardModel
from collect.runner import CollectConfig, CollectResult, prepare, summarize
from collect.search.beam import beam_search
from collect.search.mcts import mcts
from collect.search.rebase import rebase
from collect.search.tree import SEED_SCHEME, Expander, Tree
from collect.session import Session, collection, token_stats
from scaling.errors import ScalingError
from scaling.store import Run

METHODS = ("rebase", "beam", "mcts")
DEFAULT_BRANCHING = 4


@dataclass(frozen=True)
class SearchSpec:
    """A tree search's settings.

    ``width`` N: leaves per problem (REBASE's budget, beam search's beams, MCTS's rollouts).
    ``beam_width`` M: beam search keeps N/M beams and expands each M times; MCTS expands a node
    until it has M children (default 4 for both; REBASE takes none). ``temperature``: REBASE's
    softmax temperature T_b. ``step_delimiter``: the stop string ending a step (``{k}`` = the
    next step's number). ``max_depth``: most steps per solution. ``max_step_tokens``: token cap
    per step. ``exploration``: MCTS's UCT constant c.
    """

    method: str
    width: int
    beam_width: int | None = None
    temperature: float = 0.1
    step_delimiter: str = "\n\n"
    max_depth: int = 25
    max_step_tokens: int = 256
    exploration: float = 1.0

    @property
    def branching(self) -> int:
        return self.beam_width if self.beam_width is not None else DEFAULT_BRANCHING

    def check(self) -> None:
        """Raise ScalingError for a setting outside its range."""
        if self.method not in METHODS:
            raise ScalingError(f"--search {self.method}: choose one of {', '.join(METHODS)}")
        if self.width < 1:
            raise ScalingError(f"--width {self.width}: must be at least 1")
        if self.max_depth < 1:
            raise ScalingError(f"--max-depth {self.max_depth}: must be at least 1")
        if self.max_step_tokens < 1:
            raise ScalingError(f"--max-step-tokens {self.max_step_tokens}: must be at least 1")
        if not self.step_delimiter:
            raise ScalingError("--step-delimiter: must not be empty")
        if not self.temperature >= 0:
            raise ScalingError(f"--rebase-temperature {self.temperature}: must be >= 0")
        if self.method == "rebase" and self.beam_width is not None:
            raise ScalingError("--beam-width applies to --search beam or mcts, not rebase")
        if self.branching < 1:
            raise ScalingError(f"--beam-width {self.branching}: must be at least 1")
        if self.method == "beam" and self.width % self.branching:
            raise ScalingError(
                f"--beam-width {self.branching}: must divide --width {self.width} "
                "(beam search keeps N/M beams)"
            )

    def describe(self) -> dict[str, Any]:
        """The manifest's ``search`` fields."""
        out: dict[str, Any] = {
            "method": self.method,
            "width": self.width,
            "temperature": self.temperature if self.method == "rebase" else None,
            "step_delimiter": self.step_delimiter,
            "max_depth": self.max_depth,
            "max_step_tokens": self.max_step_tokens,
        }
        if self.method == "beam":
            out["beam_width"] = self.branching
        if self.method == "mcts":
            out.update(branching=self.branching, exploration=self.exploration)
        return out

    def run(self, trees: Sequence[Tree], expander: Expander) -> None:
        """Search every tree (they advance together)."""
        if self.method == "rebase":
            rebase(trees, expander, self.width, self.temperature)
        elif self.method == "beam":
            beam_search(trees, expander, self.width, self.branching)
        else:
            mcts(trees, expander, self.width, self.branching, self.exploration)


def spec_from_options(
    method: str | None,
    *,
    width: int | None,
    samples: int | None,
    beam_width: int | None,
    temperature: float,
    step_delimiter: str,
    max_depth: int,
    max_step_tokens: int,
) -> SearchSpec:
    """The ``SearchSpec`` of ``scaling collect --search ...`` (the delimiter's escapes resolved)."""
    if method is None:
        raise ScalingError(
            "--width and --beam-width apply to --search; add --search rebase|beam|mcts"
        )
    if samples is not None:
        raise ScalingError(
            "--samples does not apply to --search; --width gives the leaves per problem"
        )
    if width is None:
        raise ScalingError(f"--search {method}: give --width N (the finished leaves per problem)")
    spec = SearchSpec(
        method,
        width,
        beam_width=beam_width,
        temperature=temperature,
        step_delimiter=unescape(step_delimiter),
        max_depth=max_depth,
        max_step_tokens=max_step_tokens,
    )
    spec.check()
    return spec


def unescape(text: str) -> str:
    r"""Backslash escapes of a command-line string resolved (``"\n\n"`` -> a blank line)."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


class SearchSession(Session):
    """A collection session whose unit of work is a batch of searched problems."""

    def __init__(
        self,
        config,
        run,
        problems,
        backend,
        reward,
        *,
        spec: SearchSpec,
        stop: Sequence[str],
        **options,
    ):
        super().__init__(config, run, problems, backend, reward, **options)
        self.spec = spec
        self.capped = 0  # branches closed at the context, in the batches written
        self.expander = Expander(
            backend,
            reward,
            Sampling(config.temperature, config.top_p, config.max_tokens),
            max_step_tokens=spec.max_step_tokens,
            max_depth=spec.max_depth,
            delimiter=spec.step_delimiter,
            stop=stop,
            seed=config.seed,
            on_expand=self.show_rate,
        )

    def show_rate(self) -> None:
        """Show the generation rate of every expansion so far (called after each round)."""
        rate = self.expander.generated_tokens / max(self.wall_s, 1e-9)
        self.bar.update(self.task, rate=f"{rate:,.0f}")

    def write_trees(self, trees: Sequence[Tree]) -> None:
        """Record the trees' costs, then append their leaves as one shard."""
        self.run.update_problems(
            pd.DataFrame(
                {
                    "problem_id": [t.problem_id for t in trees],
                    "search_tokens": [t.policy_tokens for t in trees],
                    "search_rm_tokens": [t.rm_tokens for t in trees],
                }
            )
        )
        leaves = [(tree, i, leaf) for tree in trees for i, leaf in enumerate(tree.leaves)]
        frame = self.rows(
            [tree.problem_id for tree, _, _ in leaves],
            [leaf.solution for _, _, leaf in leaves],
            sample_idx=[i for _, i, _ in leaves],
            greedy=[False] * len(leaves),
            reward=[None] * len(leaves),
            step_rewards=[list(leaf.step_rewards) for _, _, leaf in leaves],
            prompt_tokens=[tree.prompt_tokens for tree, _, _ in leaves],
            completion_tokens=[leaf.path_tokens for _, _, leaf in leaves],
            finish_reason=[leaf.finish_reason for _, _, leaf in leaves],
        )
        self.capped += sum(t.capped for t in trees)
        self.write(frame, sum(t.policy_tokens for t in trees))

    def execute(self, todo: pd.DataFrame, prompts: dict[str, str]) -> None:
        """Search the ``todo`` problems batch by batch, writing each batch when it is done."""
        per_batch = max(1, self.config.flush_samples // self.spec.width)
        complete = len(self.problems) - len(todo)
        self.show(problems=complete)
        for at in range(0, len(todo), per_batch):
            rows = todo.iloc[at : at + per_batch]
            trees = [
                Tree(pid, question, prompts[pid])
                for pid, question in zip(rows["problem_id"], rows["question"], strict=True)
            ]
            self.spec.run(trees, self.expander)
            self.write_trees(trees)
            complete += len(trees)
            self.show(len(trees) * self.spec.width, complete)

    def manifest_updates(self) -> dict[str, Any]:
        """Token means, search cost totals, short problems, capped branches, PRM tokens."""
        problems = self.run.problems()
        stats = token_stats(self.run)
        searched = problems["search_tokens"].notna()
        stats["total_search_tokens"] = int(problems.loc[searched, "search_tokens"].sum())
        counts = self.run.samples(["problem_id"])["problem_id"].value_counts()
        counts = counts.reindex(problems["problem_id"], fill_value=0)
        short = int((counts < self.spec.width).sum())
        capped = int((self.run.manifest.get("search") or {}).get("capped", 0)) + self.capped
        self.capped = 0  # counted once, should the session be finished twice
        rm_total = int(problems.loc[searched, "search_rm_tokens"].sum())
        info = self.run.manifest["reward_model"]
        return {
            "tokens": stats,
            "search": {**self.spec.describe(), "leaves_short": short, "capped": capped},
            "reward_model": {**info, "scored_tokens": rm_total},
        }


def search(
    config: CollectConfig,
    spec: SearchSpec,
    *,
    backend: Backend | None = None,
    reward: RewardModel | None = None,
    progress: bool = True,
    console=None,
) -> CollectResult:
    """Tree-search every problem of ``config``'s problem set into the run at ``config.out``.

    ``backend`` and ``reward`` reuse engines already loaded and are left open; the missing ones
    are built from ``config`` when there is work, and closed after.
    """
    config = replace(config, samples=spec.width)
    config.check()
    spec.check()
    if config.greedy:
        raise ScalingError(
            "--greedy does not apply to --search (a search run has no greedy sample)"
        )
    if not config.reward_model:
        raise ScalingError("--search needs a process reward model: pass --reward-model")
    backend_name = backend.name if backend is not None else config.backend or default_backend()
    if not backend_class(backend_name).searches:
        searching = ", ".join(n for n in BACKENDS if backend_class(n).searches)
        raise ScalingError(
            f"--backend {backend_name}: --search runs on {searching} (a search makes one "
            "generate call per depth, which this backend cannot serve)"
        )
    problems, tokenizer, template, prompts, manifest = prepare(
        config, backend_name, spec.describe()
    )
    if not all(isinstance(p, str) for p in prompts):
        raise ScalingError(
            f"--model {config.model}: a search continues partial solutions, which needs a text "
            "prompt; pass a model with a local tokenizer (--tokenizer) or a text --prompt-file"
        )
    manifest["sampling"]["seed_scheme"] = SEED_SCHEME
    run = Run.create(config.out, manifest, problems.frame, exist_ok=True)
    result = CollectResult(run=run)
    with run.lock():
        stored = {pid for pid, _, _ in run.existing_keys()}
        todo = problems.frame[~problems.frame["problem_id"].isin(stored)]
        result.missing_before = len(todo) * spec.width
        if len(todo):
            by_id = dict(zip(problems.frame["problem_id"], prompts, strict=True))
            with collection(
                config,
                run,
                problems,
                result,
                backend_name=backend_name,
                tokenizer=tokenizer,
                total=result.missing_before,
                warm_prompt=by_id[todo["problem_id"].iloc[0]],
                backend=backend,
                reward=reward,
                session=partial(SearchSession, spec=spec, stop=template.stop),
                progress=progress,
                console=console,
            ) as session:
                session.execute(todo, by_id)
    problems_frame = run.problems()
    result.summary = {
        **summarize(run, result, backend_name),
        "search": run.manifest["search"],
        "mean_search_tokens": float(problems_frame["search_tokens"].mean()),
    }
    return result
