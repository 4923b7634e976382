"""What a run holds, in figures one can check by hand (the API behind ``scaling info``/``verify``).

For a run with n_i pooled (non-greedy) samples and c_i correct ones on problem i = 1..P:

- accuracy  = (1/P) sum_i c_i / n_i      mean per-sample accuracy (pass@1, unbiased)
- coverage  = (1/P) sum_i [c_i > 0]      pass@n_i: some sample of the problem is correct
- greedy    = mean correctness of the temperature-0 samples (where the run has them)
- tokens    = mean completion tokens per sample: measured from the samples where they carry
  counts, else the manifest's declared mean (source ``mean`` or ``assumed``)

Problems without pooled samples are left out of accuracy and coverage.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.compute as pc

from scaling.store import Run

COLUMNS = ["problem_id", "greedy", "correct", "cluster", "reward", "step_rewards"]


def strategies(run: Run, table=None) -> list[str]:
    """The registered parameter-free strategies the simulator can replay on this run's samples:
    each needs some of answer clusters, rewards (an ORM score, or PRM step scores) and a
    temperature-0 sample (``scaling.strategies``)."""
    t = table if table is not None else run.sample_table(COLUMNS)
    rewarded = t.num_rows > min(t.column("reward").null_count, t.column("step_rewards").null_count)
    return supported(
        clusters=t.num_rows > t.column("cluster").null_count,
        rewards=bool(rewarded),
        greedy=bool(t.num_rows and pc.any(t.column("greedy")).as_py()),
    )


def supported(*, clusters: bool, rewards: bool, greedy: bool) -> list[str]:
    """The registered parameter-free strategies that samples with (some) answer clusters,
    rewards and temperature-0 samples support."""
    from scaling.strategies import default_strategies

    lacking = {
        "clusters": None if clusters else "clusters",
        "rewards": None if rewards else "rewards",
        "greedy": None if greedy else "greedy",
        "levels": None,
    }
    return [s.key for s in default_strategies() if s.lacks(lacking) is None]


def _tokens(run: Run) -> tuple[float | None, str]:
    t = run.sample_table(["greedy", "completion_tokens"])
    counts = t.column("completion_tokens")
    if t.num_rows and counts.null_count == 0:
        return pc.mean(counts).as_py(), "measured"
    tokens = run.meta.tokens
    return tokens.mean_completion_tokens, tokens.source


def summarize(runs: list[Run]) -> pd.DataFrame:
    """One row per run: size, accuracy, coverage, tokens and supported strategies."""
    rows = []
    for run in runs:
        table = run.sample_table(COLUMNS)
        frame = table.select(["problem_id", "greedy", "correct"]).to_pandas()
        pooled = frame[~frame["greedy"]]
        per = pooled.groupby("problem_id", observed=True)["correct"].agg(["size", "sum", "mean"])
        greedy = frame.loc[frame["greedy"], "correct"]
        tokens, source = _tokens(run)
        n_min, n_max = (int(per["size"].min()), int(per["size"].max())) if len(per) else (0, 0)
        rows.append(
            {
                "run": str(run.path),
                "model": run.name,
                "params": run.params,
                "problem_set": run.meta.problem_set,
                "problems": len(run.problems()),
                "samples": len(pooled),
                "samples_per_problem": str(n_min) if n_min == n_max else f"{n_min}-{n_max}",
                "accuracy": float(per["mean"].mean()) if len(per) else None,
                "coverage": float((per["sum"] > 0).mean()) if len(per) else None,
                "greedy_accuracy": float(greedy.mean()) if len(greedy) else None,
                "mean_completion_tokens": tokens,
                "tokens_source": source,
                "strategies": ", ".join(strategies(run, table)),
            }
        )
    return pd.DataFrame(rows)


def verify_runs(runs: list[Run]) -> pd.DataFrame:
    """Check each run fully (``Run.verify``) and whether any answer cluster mixes correct and
    incorrect samples (voting would then be ill-defined). One row per run; ``error`` holds the
    first problem found, None when the run is sound. A run whose run id another run given
    before it holds (the same source imported twice, or a copy) is flagged as a duplicate: read
    together, its samples would count twice."""
    from scaling.errors import ScalingError

    rows = []
    first: dict[str, Run] = {}
    for run in runs:
        row = {"run": str(run.path), "problems": None, "samples": None, "shards": None}
        try:
            row.update(run.verify())
            t = run.sample_table(["problem_id", "cluster", "correct"]).unify_dictionaries()
            t = t.filter(pc.is_valid(t["cluster"]))
            g = t.group_by(["problem_id", "cluster"]).aggregate([("correct", "count_distinct")])
            row["mixed_clusters"] = int(
                pc.sum(pc.greater(g["correct_count_distinct"], 1)).as_py() or 0
            )
            row["error"] = None
        except ScalingError as e:
            row["mixed_clusters"] = None
            row["error"] = str(e)
        twin = first.setdefault(run.run_id, run)
        if twin is not run and row["error"] is None and twin.path.resolve() != run.path.resolve():
            row["error"] = (
                f"{run.path}: run id {run.run_id} is also {twin.path}'s (a duplicate: the same "
                "source imported twice with the same options, or a copy); remove one"
            )
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["error"] = pd.Series([row["error"] for row in rows], dtype=object)  # None stays None
    return frame
