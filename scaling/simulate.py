"""The offline simulator: every strategy at any budget from a run's cached samples, exactly.

For each run, strategy (``scaling.strategies``) and budget k the value of a problem is the
expectation over all k-subsets (or, for an adaptive strategy, over all orderings) of its n_i
pooled samples; a run's accuracy is the mean over its problems. Rules:

- Samples per problem k: ``pow2`` = 1, 2, 4, ... up to the largest n_i, plus that n_i itself;
  ``all`` = 1..n; or a list. A problem with n_i < k is replayed at k = n_i (its k is capped;
  ``n_capped`` counts such problems). Problems without pooled samples are left out, with a notice.
- greedy is the temperature-0 sample (k = 1), only where the run has one; never faked.
- Votes: samples without a parsed answer (null cluster) abstain, and a draw of only those has
  no answer (incorrect); the answer a vote returns is a uniform member of the winning cluster,
  so a cluster counts as its fraction of correct samples. best-of-n picks samples, parsed or not.
- Rewards: PRM step scores aggregated by ``agg`` where a sample has them, else the ORM reward.
- Tree-search runs are not subsampled: their finished leaves are aggregated whole, k = width.
- Uncertainty: a bootstrap over problems, paired: replicate r draws the same multinomial counts
  over the problem ids for every run of one problem set (the union of their ids; a run missing
  some ids averages over the ones it has), so differences between configurations have intervals
  too. The interval is the replicates' 2.5/97.5 percentiles; stderr is the standard error of
  the mean over problems, sqrt(sum_i (v_i - mean)^2 / (P (P - 1))), which the replicates'
  spread estimates too, but without their noise: what laws are weighted by does not depend on
  how many replicates were drawn.
- Cost: a cost model (``scaling.costs``) prices the samples each problem draws (k capped at
  n_i, or the expected number an adaptive strategy draws: column ``samples``), averaged like the
  accuracy, in ``cost_unit``. Tokens per sample come from the samples' token columns
  (``measured``), else the manifest's declared means (``mean``/``assumed``); with neither, the
  cost is unknown (NaN), with a notice.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fit.results import percentile_interval
from scaling.costs import CostModel, Usage, Workload, cost_model
from scaling.defaults import BOOTSTRAP
from scaling.errors import ArgumentError, ScalingError
from scaling.estimators import AGGREGATIONS, Pool, aggregate_step_rewards, compiling
from scaling.estimators.threads import cores
from scaling.paths import resolve_runs
from scaling.progress import progress_bar
from scaling.store import Run
from scaling.strategies import Cache, Strategy, default_strategies, parse_strategies

COLUMNS = [
    "problem_id",
    "greedy",
    "correct",
    "cluster",
    "reward",
    "step_rewards",
    "prompt_tokens",
    "completion_tokens",
]


@dataclass
class Simulation:
    """Tidy results: ``table`` one row per (run, strategy, k[, level]); ``replicates`` the paired
    bootstrap draws (run, strategy, k[, level], replicate, accuracy); ``per_problem`` the exact
    value of every problem (run, strategy, k, problem_id, value[, level]); ``notices`` what was
    skipped or assumed, one line each."""

    table: pd.DataFrame
    replicates: pd.DataFrame
    per_problem: pd.DataFrame
    notices: list[str] = field(default_factory=list)


@dataclass
class _Values:
    """One strategy on one run: per-problem values (P, K), Monte Carlo variances, expected
    samples drawn, tokens and cost."""

    strategy: Strategy
    ks: np.ndarray
    values: np.ndarray
    mc_var: np.ndarray
    samples: np.ndarray
    cost: np.ndarray
    tokens: np.ndarray
    capped: np.ndarray  # (P, K): the problem has fewer than k samples
    cost_error: str | None


@dataclass(frozen=True)
class RunData:
    """A run read once for replay (``load_runs``): its pooled samples as a strategy sees them,
    per-problem token statistics, levels, and the notices loading gave; ``simulate`` takes it
    in place of the run to replay again without reading the files again."""

    run: Run
    label: str
    problem_ids: np.ndarray  # problems with pooled samples, pool order
    levels: np.ndarray  # float (NaN = unknown)
    cache: Cache
    work: Workload
    tokens_source: str
    search: bool
    agg: str
    seed: int
    notices: tuple[str, ...]


def simulate(
    runs: RunData | Run | str | Path | Iterable[RunData | Run | str | Path] | None = None,
    strategies: str | Sequence[str | Strategy] | None = None,
    ks: str | Sequence[int] = "pow2",
    *,
    agg: str = "last",
    bootstrap: int = BOOTSTRAP,
    seed: int = 0,
    cost: str | CostModel = "paper",
    by: str | None = None,
    mc_samples: int = 256,
    progress: bool = False,
) -> Simulation:
    """Replay ``strategies`` (names or ``Strategy`` objects, see ``scaling.strategies``;
    default: every parameter-free one each run supports) on ``runs`` (default: the embedded
    runs, or ``RunData`` from ``load_runs``) at ``ks`` samples per problem ("pow2", "all", or a
    list); ``agg`` aggregates PRM step scores; ``bootstrap`` paired replicates over problems
    (0: none); ``cost`` a cost model of ``scaling.costs``; ``by="level"`` breaks accuracy down
    by problem level; ``mc_samples`` random subsets per problem and budget where an estimator
    is not exact."""
    wanted = parse_strategies(strategies)
    model = cost_model(cost)
    _check_options(agg, bootstrap, seed, by, mc_samples)
    if isinstance(runs, RunData):
        runs = [runs]
    items = list(runs) if runs is not None and not isinstance(runs, Run | str | Path) else None
    if items and all(isinstance(r, RunData) for r in items):
        loaded = items
        for data in loaded:
            if (data.agg, data.seed, data.cache.mc_samples) != (agg, seed, mc_samples):
                raise ArgumentError(
                    "runs", data.label, "loaded with other agg, seed or mc_samples; load again"
                )
    else:
        loaded = load_runs(runs, agg=agg, seed=seed, mc_samples=mc_samples)
    notices: list[str] = []
    results: list[tuple[RunData, _Values]] = []
    said: list[list[str]] = [[] for _ in loaded]  # what planning says of each run
    plans = [_plan(data, wanted, words) for data, words in zip(loaded, said, strict=True)]
    compiling.start((k for plan in plans for s in plan for k in s.kernels), cores())
    with _progress(progress, len(loaded)) as advance:
        for data, plan, words in zip(loaded, plans, said, strict=True):
            label = data.label
            notices.extend(data.notices)
            run_ks = _ks(ks, data, notices)
            notices.extend(words)
            done = []
            for strategy in plan:
                advance(f"{label}: {strategy.key}", 0)
                done.append(_evaluate(data, strategy, run_ks, model))
            for v in done:  # a budget below every configuration of an allocation
                short = v.ks[np.isnan(v.values).all(axis=0)]
                if short.size:
                    notices.append(
                        f"{label}: {v.strategy.key} cannot spend k = "
                        f"{', '.join(map(str, short))} (less than its cheapest configuration)"
                    )
            errors = dict.fromkeys(v.cost_error for v in done if v.cost_error)
            notices.extend(f"{label}: cost unknown: {e}" for e in errors)
            if done and not errors:  # which architecture fields came from the known-model table
                notices.extend(f"{label}: {n}" for n in model.notes(data.run.meta))
            results.extend((data, v) for v in done)
            advance(label, 1)
    return _tabulate(results, bootstrap, seed, by, model, notices)


def load_runs(
    runs: Run | str | Path | Iterable[Run | str | Path] | None = None,
    *,
    agg: str = "last",
    seed: int = 0,
    mc_samples: int = 256,
) -> list[RunData]:
    """Read ``runs`` (default: the embedded runs) once for replay; ``agg``, ``seed`` and
    ``mc_samples`` as ``simulate`` takes them (they are fixed at loading)."""
    opened = resolve_runs(runs)
    return [
        _load(run, label, agg, seed, mc_samples)
        for run, label in zip(opened, run_labels(opened), strict=True)
    ]


# -- options and runs ------------------------------------------------------------------------------


def _check_options(agg, bootstrap, seed, by, mc_samples) -> None:
    if agg not in AGGREGATIONS:
        raise ArgumentError("agg", agg, f"choose one of {', '.join(AGGREGATIONS)}")
    if bootstrap < 0:
        raise ArgumentError("bootstrap", bootstrap, "must be 0 (none) or a positive count")
    if seed < 0:
        raise ArgumentError("seed", seed, "must be a non-negative integer")
    if by not in (None, "level"):
        raise ArgumentError("by", by, "the only breakdown is 'level'")
    if mc_samples < 2:
        raise ArgumentError("mc_samples", mc_samples, "need at least 2 Monte Carlo subsets")


def run_labels(runs: list[Run]) -> list[str]:
    """Run names, told apart: a name shared by several runs gets the shortest tail of each
    run's folder path that distinguishes them ("m (a/run)", "m (b/run)"); runs the path cannot
    tell apart get their run id instead ("m [1a2b3c4d5e6f]")."""
    labels = [r.name for r in runs]
    for depth in range(1, 1 + max((len(r.path.parts) for r in runs), default=0)):
        shared = [i for i, label in enumerate(labels) if labels.count(label) > 1]
        if not shared:
            return labels
        for i in shared:
            tail = Path(*runs[i].path.parts[-depth:]).as_posix()
            labels[i] = f"{runs[i].name} ({tail})"
    return [
        f"{r.name} [{r.run_id}]" if labels.count(label) > 1 else label
        for r, label in zip(runs, labels, strict=True)
    ]


def _ks(spec: str | Sequence[int], data: RunData, notices: list[str]) -> np.ndarray:
    n_max = int(data.cache.pool.sizes.max(initial=0))
    if data.search:
        width = data.run.meta.search.width
        return np.array([width or n_max])
    if n_max == 0:
        return np.zeros(0, dtype=np.int64)
    if isinstance(spec, str) and spec == "pow2":
        ks = [1 << i for i in range(n_max.bit_length()) if 1 << i <= n_max]
        return np.array(sorted(set(ks + [n_max])))
    if isinstance(spec, str) and spec == "all":
        return np.arange(1, n_max + 1)
    ks = parse_ks(spec)
    over = ks[ks > n_max]
    if len(over):
        notices.append(
            f"{data.label}: k = {', '.join(map(str, over))} exceed its {n_max} samples "
            "per problem; skipped"
        )
    return ks[ks <= n_max]


def parse_ks(spec: str | Sequence[int], argument: str = "ks") -> np.ndarray:
    """``"1,2,4"`` or a sequence of integers -> sorted unique positive sample counts k."""
    try:
        words = spec.split(",") if isinstance(spec, str) else list(spec)
        values = [_integer(v) for v in words]
    except (TypeError, ValueError):
        raise ArgumentError(
            argument, spec, "give pow2, all, or comma-separated integers like 1,2,4"
        ) from None
    if not values or min(values) < 1:
        raise ArgumentError(argument, spec, "samples per problem must be positive integers")
    return np.array(sorted(set(values)), dtype=np.int64)


def _integer(value: object) -> int:
    number = float(value) if isinstance(value, str) else value
    if isinstance(number, bool) or int(number) != number:
        raise ValueError(value)
    return int(number)


# -- loading ---------------------------------------------------------------------------------------


def _load(run: Run, label: str, agg: str, seed: int, mc_samples: int) -> RunData:
    table = run.sample_table(COLUMNS).unify_dictionaries()
    problems = run.problems()
    ids = problems["problem_id"].astype(str).to_numpy()
    index = _problem_index(table.column("problem_id"), ids, run)
    greedy = table.column("greedy").to_numpy(zero_copy_only=False).astype(bool)
    correct = table.column("correct").to_numpy(zero_copy_only=False).astype(np.float64)
    pooled = np.flatnonzero(~greedy)
    order = pooled[np.argsort(index[pooled], kind="stable")]
    sizes = np.bincount(index[order], minlength=len(ids))
    has = sizes > 0
    notices = []
    if (~has).any():
        notices.append(
            f"{label}: {int((~has).sum())} of {len(ids)} problems have no pooled samples; left out"
        )
    per_problem = index[order]
    pool = Pool(
        offsets=np.concatenate([[0], np.cumsum(sizes[has])]),
        correct=correct[order],
        cluster=_cluster_codes(table.column("cluster"), order, per_problem),
        reward=_rewards(run, table, order, agg),
    )
    prompt, completion, completion_sq, source = _tokens(run, table, order, per_problem, has)
    rows = np.flatnonzero(greedy)
    count = np.bincount(index[rows], minlength=len(ids))[has]
    hits = np.bincount(index[rows], weights=correct[rows], minlength=len(ids))[has]
    lengths = table.column("completion_tokens").to_numpy(zero_copy_only=False)[rows]
    lengths = np.bincount(index[rows], weights=lengths.astype(float), minlength=len(ids))[has]
    with np.errstate(invalid="ignore", divide="ignore"):
        greedy_value = np.where(count > 0, hits / count, np.nan)
        greedy_completion = np.where(count > 0, lengths / count, np.nan)
    if source != "measured":
        greedy_completion = np.where(count > 0, completion, np.nan)
    search = run.meta.search is not None
    search_tokens = search_rm_tokens = None
    if search:
        search_tokens = problems["search_tokens"].to_numpy(dtype=float, na_value=np.nan)[has]
        search_rm_tokens = problems["search_rm_tokens"].to_numpy(dtype=float, na_value=np.nan)
        search_rm_tokens = search_rm_tokens[has]
    stream = np.random.SeedSequence([seed, zlib.crc32(run.run_id.encode())])
    levels = problems["level"].to_numpy(dtype=float, na_value=np.nan)[has]
    return RunData(
        run=run,
        label=label,
        problem_ids=ids[has],
        levels=levels,
        cache=Cache(pool, greedy_value, int(stream.generate_state(1)[0]), mc_samples, levels),
        work=Workload(
            prompt, completion, completion_sq, greedy_completion, search_tokens, search_rm_tokens
        ),
        tokens_source=source,
        search=search,
        agg=agg,
        seed=seed,
        notices=tuple(notices),
    )


def _problem_index(column: pa.ChunkedArray, ids: np.ndarray, run: Run) -> np.ndarray:
    """Each sample's problem as an index into ``ids`` (through the column's dictionary)."""
    lookup = {pid: i for i, pid in enumerate(ids)}
    parts = []
    for chunk in column.chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = pc.dictionary_encode(chunk)
        mapping = np.array([lookup.get(v, -1) for v in chunk.dictionary.to_pylist()], np.int64)
        parts.append(mapping[chunk.indices.to_numpy(zero_copy_only=False)])
    index = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    if (index < 0).any():
        raise ScalingError(f"{run.path}: samples name problems not in problems.parquet; run verify")
    return index


def _cluster_codes(column: pa.ChunkedArray, order: np.ndarray, problem: np.ndarray):
    """Problem-local cluster codes 0..G_i-1 in the pool's order (no answer: -1); None when the
    run has no answer clusters at all. ``problem``: each pooled sample's problem index."""
    if column.null_count == len(column):
        return None
    if not pa.types.is_dictionary(column.type):
        column = pa.chunked_array([pc.dictionary_encode(column.combine_chunks())])
    codes = np.concatenate(
        [c.indices.fill_null(-1).to_numpy(zero_copy_only=False) for c in column.chunks]
    ).astype(np.int64)[order]
    width = len(column.chunks[0].dictionary) + 1
    answered = codes >= 0
    keys, inverse = np.unique(problem[answered] * width + codes[answered], return_inverse=True)
    local = np.full(len(codes), -1, dtype=np.int64)
    local[answered] = inverse.ravel() - np.searchsorted(keys // width, problem[answered])
    return local


def _rewards(run: Run, table: pa.Table, order: np.ndarray, agg: str) -> np.ndarray | None:
    """Each pooled sample's score: its PRM step scores aggregated by ``agg`` where it has them
    (the reward model is a PRM, or there is no ORM score), else its ORM reward; NaN if neither;
    None when the run has no rewards at all."""
    rewards, steps = table.column("reward"), table.column("step_rewards")
    if rewards.null_count == steps.null_count == len(rewards):
        return None
    reward = rewards.to_numpy(zero_copy_only=False).astype(np.float64)[order]
    if steps.null_count == len(steps):
        return reward
    stepped = aggregate_step_rewards(steps.combine_chunks().take(pa.array(order)), agg)
    kind = run.meta.reward_model.kind if run.meta.reward_model else None
    use_steps = ~np.isnan(stepped) & ((kind == "prm") | np.isnan(reward))
    return np.where(use_steps, stepped, reward)


def _tokens(run, table, order, per_problem, has):
    """Per-problem mean prompt tokens, mean completion tokens and mean squared completion
    tokens of the pool, and where they come from."""
    n_problems = len(has)
    counts = np.bincount(per_problem, minlength=n_problems)[has]
    declared = run.meta.tokens
    column = table.column("completion_tokens")
    lengths = np.full(len(order), np.nan)  # an all-null column (counts only) is not read
    if column.null_count < len(column):
        lengths = column.to_numpy(zero_copy_only=False)[order].astype(float)
    if len(order) and not np.isnan(lengths).any():
        prompt = table.column("prompt_tokens").to_numpy(zero_copy_only=False)[order]
        mean = np.bincount(per_problem, weights=lengths, minlength=n_problems)[has] / counts
        sq = np.bincount(per_problem, weights=lengths * lengths, minlength=n_problems)[has] / counts
        p = prompt.astype(float)
        if np.isnan(p).any():
            p_mean = np.full(len(counts), _known(declared.mean_prompt_tokens))
        else:
            p_mean = np.bincount(per_problem, weights=p, minlength=n_problems)[has] / counts
        return p_mean, mean, sq, "measured"
    c = _known(declared.mean_completion_tokens)
    p = _known(declared.mean_prompt_tokens)
    return (
        np.full(len(counts), p),
        np.full(len(counts), c),
        np.full(len(counts), c * c),
        (declared.source),
    )


def _known(value: float | None) -> float:
    """A declared number, NaN where unknown."""
    return np.nan if value is None else float(value)


# -- evaluation ------------------------------------------------------------------------------------


def _plan(data: RunData, wanted: list[Strategy] | None, notices: list[str]) -> list[Strategy]:
    """The strategies to replay on a run; what it cannot support is named in one notice."""
    lacking = data.cache.lacking()
    if data.search:
        lacking["greedy"] = "greedy (a search run)"
    plan, skipped = [], {}
    for strategy in wanted or default_strategies():
        why = strategy.lacks(lacking)
        if why is None:
            plan.append(strategy)
        else:
            skipped[strategy.key] = why
    if skipped:
        missing = ", ".join(dict.fromkeys(skipped.values()))
        notices.append(f"{data.label}: skipped {', '.join(skipped)} (no {missing})")
    return plan


def _evaluate(data: RunData, strategy: Strategy, ks: np.ndarray, model: CostModel) -> _Values:
    """Replay ``strategy`` at ``ks`` and price what it draws with ``model``. A tree search
    run's finished leaves are aggregated whole (k = width), priced by its expansions."""
    n = data.cache.pool.sizes
    shown = strategy.own_ks(ks)
    replayed = np.array([int(n.max(initial=1))]) if data.search else shown
    replay = strategy.replay(data.cache, replayed)
    capped = np.zeros(replay.values.shape, dtype=bool)
    if not data.search and not strategy.greedy:
        capped = n[:, None] < shown[None, :]
    work = data.work
    error = None
    try:
        if data.search:
            tokens = work.search_tokens[:, None] * np.ones((1, len(shown)))
            cost = model.search_cost(data.run.meta, work)[:, None] * np.ones((1, len(shown)))
        else:
            usage = Usage(replay.samples, replay.scored, greedy=strategy.greedy)
            length = work.greedy_completion if strategy.greedy else work.completion
            tokens = replay.samples * length[:, None]
            cost = np.broadcast_to(model.cost(data.run.meta, work, usage), replay.values.shape)
    except ScalingError as e:
        cost, error = np.full(replay.values.shape, np.nan), str(e)
    if error is None and np.isnan(cost).any():
        error = (
            f"no token counts (tokens.source {data.tokens_source!r}): import with "
            "--tokens-per-sample T or set it with scaling runs set RUN --tokens-per-sample T"
        )
    return _Values(
        strategy, shown, replay.values, replay.mc_var, replay.samples, cost, tokens, capped, error
    )


# -- tables ----------------------------------------------------------------------------------------


def _tabulate(results, bootstrap: int, seed: int, by: str | None, model: CostModel, notices):
    groups: dict[str, list[str]] = {}
    for data, _ in results:
        groups.setdefault(_problem_set(data), []).extend(data.problem_ids.tolist())
    draws = {}
    for name, ids in groups.items():
        union = np.array(sorted(set(ids)))
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        counts = rng.multinomial(len(union), np.full(len(union), 1 / len(union)), size=bootstrap)
        draws[name] = (union, counts.astype(np.float64))
    labels = list(dict.fromkeys(d.label for d, _ in results))
    keys = list(dict.fromkeys(v.strategy.key for _, v in results))
    problem_ids = sorted({p for ids in groups.values() for p in ids})
    rows, reps, per = [], _Columns(), _Columns()
    weights, last = None, None
    for data, v in results:
        if data is not last:  # one weight matrix per run: the replicates' counts of its problems
            union, counts = draws[_problem_set(data)]
            weights, last = counts[:, np.searchsorted(union, data.problem_ids)], data
        run = labels.index(data.label)
        for level, mask in _breakdown(data, by):
            summary, replicated = _summarize(data, v, weights, mask, model)
            if by:
                summary["level"] = level
            rows.append(summary)
            b = len(replicated)
            reps.add(
                run=run,
                strategy=keys.index(v.strategy.key),
                k=np.tile(v.ks, b),
                replicate=np.repeat(np.arange(b), len(v.ks)),
                accuracy=replicated.ravel(),
                level=level,
            )
        valid = ~np.isnan(v.values)
        p_idx, k_idx = np.nonzero(valid)
        per.add(
            run=run,
            strategy=keys.index(v.strategy.key),
            k=v.ks[k_idx],
            problem_id=np.searchsorted(problem_ids, data.problem_ids[p_idx]),
            value=v.values[valid],
            level=data.levels[p_idx],
        )
    if by and any(np.isnan(d.levels).all() for d, _ in results):
        names = sorted({d.label for d, _ in results if np.isnan(d.levels).all()})
        notices.append(f"no problem levels in {', '.join(names)}: shown as level <NA>")
    level = ["level"] if by else []
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=TABLE_COLUMNS)
    table = table[TABLE_COLUMNS + level]
    categories = {"run": labels, "strategy": keys, "problem_id": problem_ids}
    replicates = reps.frame(["run", "strategy", "k", "replicate", "accuracy"] + level, categories)
    per_problem = per.frame(["run", "strategy", "k", "problem_id", "value"] + level, categories)
    if by:
        table["level"] = table["level"].astype("Int64")
    return Simulation(table, replicates, per_problem, notices)


class _Columns:
    """Columns gathered piece by piece; codes become categoricals at the end."""

    def __init__(self):
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **columns):
        size = max(np.size(v) for v in columns.values() if np.ndim(v) > 0)
        for name, value in columns.items():
            if np.ndim(value) == 0:
                value = np.full(size, np.nan if value is pd.NA else value)
            self.parts.setdefault(name, []).append(np.asarray(value))

    def frame(self, names: list[str], categories: dict[str, list]) -> pd.DataFrame:
        out = {}
        for name in names:
            values = np.concatenate(self.parts[name]) if name in self.parts else np.zeros(0)
            if name in categories:
                values = pd.Categorical.from_codes(values.astype(np.int64), categories[name])
            elif name == "level":
                values = pd.array(values, dtype="Float64").astype("Int64")
            out[name] = values
        return pd.DataFrame(out)


TABLE_COLUMNS = [
    "run",
    "run_id",
    "model",
    "params",
    "problem_set",
    "strategy",
    "deployable",
    "k",
    "samples",
    "accuracy",
    "stderr",
    "ci_low",
    "ci_high",
    "mc_stderr",
    "cost",
    "cost_unit",
    "tokens",
    "n_problems",
    "n_capped",
    "tokens_source",
    "cost_model",
]


def _problem_set(data: RunData) -> str:
    return data.run.meta.problem_set


def _breakdown(data: RunData, by: str | None):
    if by is None:
        yield None, np.ones(len(data.problem_ids), dtype=bool)
        return
    levels = data.levels
    for level in np.unique(levels[~np.isnan(levels)]):
        yield int(level), levels == level
    if np.isnan(levels).any():
        yield pd.NA, np.isnan(levels)


def _summarize(data: RunData, v: _Values, weights: np.ndarray, mask: np.ndarray, model: CostModel):
    """Table rows of one strategy on one run (for the problems in ``mask``) and its bootstrap
    replicates (B, K): replicate b weights problem i by its draw count (ratio estimator)."""
    valid = ~np.isnan(v.values) & mask[:, None]
    values = np.where(valid, v.values, 0.0)
    count = valid.sum(0)

    def mean(x: np.ndarray) -> np.ndarray:  # per budget, the same sum whatever else is replayed
        return np.ascontiguousarray(np.where(valid, x, 0.0).T).sum(axis=1) / count

    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = mean(v.values)
        mc = np.sqrt(mean(v.mc_var) * count) / count
        cost = mean(v.cost)
        samples = mean(v.samples)
        tokens = mean(v.tokens)
        replicated = (weights @ values) / (weights @ valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = mean((v.values - accuracy[None, :]) ** 2) * count / (count - 1)
        stderr = np.sqrt(spread / count)
    if len(weights) > 1:  # NaN: a replicate that drew none of these problems (left out)
        low, high = percentile_interval(replicated, 0.95, axis=0)
    else:
        low = high = np.full(len(v.ks), np.nan)
    rows = pd.DataFrame(
        {
            "run": data.label,
            "run_id": data.run.run_id,
            "model": data.run.meta.model.name,
            "params": data.run.params,
            "problem_set": _problem_set(data),
            "strategy": v.strategy.key,
            "deployable": v.strategy.deployable,
            "k": v.ks,
            "samples": samples,
            "accuracy": accuracy,
            "stderr": stderr,
            "ci_low": low,
            "ci_high": high,
            "mc_stderr": mc,
            "cost": cost,
            "cost_unit": model.unit,
            "tokens": tokens,
            "n_problems": count,
            "n_capped": (v.capped & valid).sum(0),
            "tokens_source": data.tokens_source,
            "cost_model": model.key,
        }
    )
    return rows, replicated


@contextmanager
def _progress(show: bool, total: int):
    """Yield ``advance(description, steps)``: a rich progress bar with rate and ETA on stderr,
    or a no-op."""
    if not show:
        yield lambda description, steps: None
        return
    from rich.console import Console

    with progress_bar(
        "{task.description}", "{task.fields[rate]}", console=Console(stderr=True), transient=True
    ) as bar:
        task = bar.add_task("simulating", total=total, rate="")

        def advance(description: str, steps: int) -> None:
            bar.update(task, advance=steps, description=description)
            speed = bar.tasks[0].speed
            bar.update(task, rate=f"{speed:.2f} runs/s" if speed else "")

        yield advance
