"""Benchmark of the offline simulator against the hand-written Monte Carlo replay.

Measured in one run, on synthetic data shaped like real sampling runs (written to a temporary
run directory, so loading from the store is timed too):

- target: all five strategies (greedy, pass, majority, best-of-n, weighted majority) at every
  power-of-two budget with 1,000 paired bootstrap replicates, on 500 problems x 1,024 samples;
- baseline: the straightforward reference people write by hand, 1,000 random k-subsets per
  problem and budget in plain Python, timed on a few problems and scaled per problem;
- exactness: majority voting is exact (the win probabilities of all clusters and the chance of
  no answer sum to 1 within 1e-12); weighted majority is Monte Carlo beyond C(n, k) > 20,000
  and reports its own error;
- peak memory, and how time grows with samples per problem and with the number of problems;
- the embedded Pythia runs (10,000 samples per problem): coverage at every budget;
- adaptive strategies (a separate section): early-stopping majority (lead and confidence rules),
  early-stopping weighted majority and the verifier threshold, every power-of-two k_max on the
  same 500 x 1,024 pool, each timed against plain majority@k on that pool in the same run
  (target: within 5x).

Run: ``python benchmarks/bench_simulator.py`` (``--quick`` skips the growth study,
``--adaptive`` runs only the adaptive section).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd

from scaling.estimators import (
    Pool,
    early_majority_at_k,
    early_weighted_majority_at_k,
    majority_at_k,
    verifier_threshold_at_k,
    win_probability,
)
from scaling.estimators.majority import BUDGET
from scaling.estimators.threads import cores
from scaling.paths import data_dir
from scaling.simulate import simulate
from scaling.store import Run, new_manifest

MANIFEST = dict(
    model={"name": "synthetic-7b", "params": 6.74e9, "n_layers": 32, "d_model": 4096},
    sampling={"temperature": 0.8, "n": 1024},
    tokens={"source": "measured"},
    provenance={"source": "synthetic (benchmarks/bench_simulator.py)"},
)


def synthetic_problems(n_problems: int, n: int, seed: int = 0) -> pd.DataFrame:
    """Samples shaped like a real run: per-problem difficulty from a mixture (easy, medium,
    hard), wrong answers spread over a long tail of clusters (stick-breaking weights with a
    per-problem concentration between 1 and 30), a few unparsed answers, ORM-like rewards on a
    1/64 grid (ties, as bf16 reward heads give), token counts, and one greedy sample."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_problems):
        kind = rng.choice(3, p=[0.3, 0.4, 0.3])
        p_right = rng.beta(*[(8, 1), (2, 2), (1, 8)][kind])
        p_none = rng.beta(1, 30)
        alpha = np.exp(rng.uniform(0, np.log(30)))
        sticks = rng.beta(1, alpha, 300)
        weights = sticks * np.concatenate([[1], np.cumprod(1 - sticks)[:-1]])
        weights[-1] = max(0.0, 1 - weights[:-1].sum())
        weights /= weights.sum()
        probs = np.concatenate([[p_right], (1 - p_right) * weights]) * (1 - p_none)
        counts = rng.multinomial(n, np.append(probs, p_none))
        label = np.repeat(np.arange(len(counts)) - 1, counts)  # -1 correct, len-2 unparsed
        rng.shuffle(label)
        unparsed = label == len(counts) - 2
        right = label == -1
        reward = rng.normal(right.astype(float), 1.0) + rng.normal(0, 0.5)
        cluster = np.where(unparsed, None, label.astype(str)).astype(object)
        frames.append(
            pd.DataFrame(
                {
                    "problem_id": f"p{i:05d}",
                    "sample_idx": np.arange(n + 1),
                    "greedy": np.r_[np.zeros(n, bool), True],
                    "answer": np.append(cluster, "g"),
                    "cluster": np.append(cluster, "g"),
                    "correct": np.r_[right, rng.random() < p_right],
                    "reward": np.r_[np.round(reward * 64) / 64, np.nan],
                    "prompt_tokens": 150,
                    "completion_tokens": rng.lognormal(np.log(280), 0.4, n + 1).astype(int) + 1,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def write_run(path: Path, samples: pd.DataFrame) -> Run:
    ids = samples["problem_id"].unique()
    problems = pd.DataFrame(
        {"problem_id": ids, "question": ids, "level": (np.arange(len(ids)) % 5) + 1}
    )
    manifest = new_manifest(problem_set=f"synthetic-{len(ids)}", **MANIFEST)
    run = Run.create(path, manifest, problems)
    run.append_samples(samples)
    return run


# -- the baseline: what people write by hand -------------------------------------------------------


def baseline_problem(correct, cluster, reward, greedy, ks, draws, rng) -> dict:
    """Estimate each strategy by drawing ``draws`` random k-subsets, in plain Python."""
    n = len(correct)
    q = defaultdict(list)
    for c, y in zip(cluster, correct, strict=True):
        if c is not None:
            q[c].append(y)
    out = {("greedy", 1): greedy}
    for k in ks:
        sums = defaultdict(float)
        for _ in range(draws):
            idx = rng.choice(n, k, replace=False).tolist()
            sums["pass"] += any(correct[i] for i in idx)
            votes = Counter(cluster[i] for i in idx if cluster[i] is not None)
            if votes:
                top = max(votes.values())
                winner = rng.choice([c for c, v in votes.items() if v == top])
                sums["majority"] += np.mean(q[winner])
            best = max(reward[i] for i in idx)
            sums["best_of_n"] += correct[rng.choice([i for i in idx if reward[i] == best])]
            score = defaultdict(float)
            for i in idx:
                if cluster[i] is not None:
                    score[cluster[i]] += reward[i]
            if score:
                top = max(score.values())
                winner = rng.choice([c for c, v in score.items() if v == top])
                sums["weighted_majority"] += np.mean(q[winner])
        for name, total in sums.items():
            out[name, k] = total / draws
    return out


def run_baseline(samples: pd.DataFrame, problems: list[str], ks, draws=1000) -> tuple[float, dict]:
    rng = np.random.default_rng(0)
    results = {}
    start = time.perf_counter()
    for pid in problems:
        s = samples[samples["problem_id"] == pid]
        pool, g = s[~s["greedy"]], s[s["greedy"]]
        results[pid] = baseline_problem(
            pool["correct"].tolist(),
            [c if isinstance(c, str) else None for c in pool["cluster"]],
            pool["reward"].tolist(),
            float(g["correct"].mean()),
            ks,
            draws,
            rng,
        )
    return time.perf_counter() - start, results


# -- measurements ----------------------------------------------------------------------------------


def timed(run: Run, **kw) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds (all threads) of one simulate call, and its result."""
    start, cpu = time.perf_counter(), time.process_time()
    sim = simulate([run], budgets="pow2", bootstrap=1000, **kw)
    return time.perf_counter() - start, time.process_time() - cpu, sim


def say(line: str) -> None:
    print(line, flush=True)


def exactness(samples: pd.DataFrame, problems: list[str], ks) -> tuple[float, int]:
    """max |sum_g pi_g + P(no answer) - 1| over the given problems and budgets, and the most
    clusters any of them has."""
    worst, most = 0.0, 0
    for pid in problems:
        s = samples[(samples["problem_id"] == pid) & ~samples["greedy"]]
        m = s["cluster"].value_counts().to_numpy()
        most = max(most, len(m))
        n = len(s)
        z = n - int(m.sum())
        for k in ks:
            if 1 < k < n:
                total = sum(win_probability(m, t, n, int(k)) for t in range(len(m)))
                worst = max(worst, abs(total + comb(z, int(k)) / comb(n, int(k)) - 1))
    return worst, most


def growth(tmp: Path) -> None:
    say("\ntime growth (all five strategies, pow2 budgets, 1,000 replicates):")
    shapes = [(100, 256), (100, 1024), (100, 4096), (100, 10_000), (250, 1024), (1000, 1024)]
    for n_problems, n in shapes:
        run = write_run(tmp / f"grow-{n_problems}-{n}", synthetic_problems(n_problems, n, seed=1))
        seconds, cpu, _ = timed(run)
        say(f"  {n_problems:5d} problems x {n:6,d} samples: {seconds:6.2f} s ({cpu:.2f} s CPU)")


def pythia() -> None:
    runs = [Run.open(p) for p in sorted((data_dir() / "runs" / "pythia").glob("*"))]
    if not runs:
        return
    say("\nembedded Pythia runs (128 problems x 10,000 samples each), coverage:")
    for budgets, replicates in (("pow2", 1000), ("all", 100)):
        start = time.perf_counter()
        simulate(runs, ["pass"], budgets, bootstrap=replicates)
        seconds = time.perf_counter() - start
        say(f"  {len(runs)} runs, budgets {budgets}, {replicates} replicates: {seconds:.2f} s")


def pool_of(samples: pd.DataFrame) -> Pool:
    """The pooled (non-greedy) samples as the estimators' flat layout, problems in order."""
    s = samples[~samples["greedy"]]
    sizes = s.groupby("problem_id", sort=False).size().to_numpy()
    codes = s.groupby("problem_id", sort=False)["cluster"].transform(lambda c: pd.factorize(c)[0])
    return Pool(
        offsets=np.concatenate([[0], np.cumsum(sizes)]),
        correct=s["correct"].to_numpy(np.float64),
        cluster=codes.to_numpy(np.int64),
        reward=s["reward"].to_numpy(np.float64),
    )


def best_of_three(call) -> tuple[float, object]:
    """The fastest of three calls (the machine may be shared), and the last result."""
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - start)
    return best, out


def adaptive(samples: pd.DataFrame) -> None:
    """Adaptive strategies against plain majority@k on the same pool, in this run."""
    pool = pool_of(samples)
    ks = 2 ** np.arange(11)
    say("\nadaptive strategies: 500 problems x 1,024 samples, k_max = 1, 2, 4, ..., 1024")
    majority_at_k(pool, ks[:2])  # load the compiled kernels before timing
    early_majority_at_k(pool, ks[:2], lead=2)
    base, _ = best_of_three(lambda: majority_at_k(pool, ks))
    say(f"  plain majority@k (exact), best of 3: {base:.2f} s")
    cases = [
        ("early majority, lead=2", lambda: early_majority_at_k(pool, ks, lead=2)),
        ("early majority, lead=4", lambda: early_majority_at_k(pool, ks, lead=4)),
        ("early majority, confidence=0.95", lambda: early_majority_at_k(pool, ks, confidence=0.95)),
        ("early weighted majority, lead=2", lambda: early_weighted_majority_at_k(pool, ks, lead=2)),
        ("verifier threshold, tau=1.5", lambda: verifier_threshold_at_k(pool, ks, tau=1.5)),
    ]
    worst = 0.0
    for name, call in cases:
        seconds, got = best_of_three(call)
        worst = max(worst, seconds / base)
        se = np.sqrt(got.mc_var[:, -1].sum()) / pool.n_problems
        say(
            f"  {name:<33} {seconds:5.2f} s = {seconds / base:4.2f}x majority@k;"
            f" at k_max = 1024: accuracy {got.values[:, -1].mean():.4f} (MC s.e. {se:.4f}),"
            f" E[K] {got.samples[:, -1].mean():.1f}; exact on {got.exact.sum()} problems"
        )
    verdict = "met" if worst <= 5 else "NOT met"
    say(f"  slowest adaptive strategy: {worst:.2f}x plain majority@k; target <= 5x: {verdict}")
    say(f"  (load average while measuring: {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the growth study")
    parser.add_argument("--adaptive", action="store_true", help="only the adaptive section")
    parser.add_argument("--baseline-problems", type=int, default=3)
    args = parser.parse_args()
    say(f"cores: {cores()}")
    if args.adaptive:
        adaptive(synthetic_problems(500, 1024))
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        samples = synthetic_problems(500, 1024)
        run = write_run(tmp / "target", samples)
        cold, _, _ = timed(run)
        tracemalloc.start()
        warm, cpu, sim = timed(run)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        for _ in range(2):  # best of three: the machine may be shared
            again, again_cpu, _ = timed(run)
            if again < warm:
                warm, cpu = again, again_cpu
        table = sim.table
        ks = sorted(table.loc[table["strategy"] == "pass", "k"])
        strategies = ", ".join(table["strategy"].unique())
        say(f"\ntarget: 500 problems x 1,024 samples, strategies {strategies},")
        say(f"  budgets {ks}, 1,000 paired bootstrap replicates")
        verdict = "met" if warm < 2 else "NOT met"
        say(f"  simulator, best of 3: {warm:.2f} s wall ({cpu:.2f} s CPU on {cores()} cores);")
        say(f"  target < 2 s: {verdict}")
        say(f"  (load average while measuring: {os.getloadavg()[0]:.1f})")
        say(f"  (first call in this process, loading the compiled kernels: {cold:.2f} s)")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        say(f"  memory: peak traced during the call {traced / 2**20:.0f} MiB; process peak RSS")
        say(f"  {rss:.0f} MiB (interpreter, numba, data and baseline included); target < 1 GiB")
        chosen = list(samples["problem_id"].unique()[: args.baseline_problems])
        base_s, base = run_baseline(samples, chosen, ks)
        per_problem = base_s / len(chosen)
        scaled = per_problem * 500
        say("  baseline: 1,000 random subsets per problem and budget in plain Python, measured")
        say(f"  on {len(chosen)} of the 500 problems: {per_problem:.2f} s per problem,")
        say(f"  {scaled:.0f} s scaled to 500 problems")
        say(f"  speed-up: {scaled / warm:.0f}x (target >= 100x)")
        per = sim.per_problem.set_index(["problem_id", "strategy", "k"])["value"]
        gaps = []
        for pid in chosen:
            for (s, k), v in base[pid].items():
                spread = max(v * (1 - v), 1e-3)  # per-subset variance of a value in [0, 1]
                draws = 1 / 1000 + (1 / 256 if s == "weighted_majority" else 0)  # both sides MC
                gaps.append(abs(per[pid, s, k] - v) / np.sqrt(spread * draws))
        say(f"  the baseline's estimates lie within {max(gaps):.1f} Monte Carlo standard errors")
        say(f"  of the simulator's values ({len(gaps)} comparisons on those problems)")
        worst, clusters = exactness(samples, chosen, ks)
        say("  majority exactness: |sum of every cluster's win probability + P(no answer) - 1|")
        say(f"  <= {worst:.1e} (documented truncation bound: {BUDGET:.0e} per cluster, here")
        say(f"  {clusters} clusters -> {BUDGET * clusters:.0e})")
        wm = table.loc[table["strategy"] == "weighted_majority", "mc_stderr"]
        say(f"  weighted majority: Monte Carlo error of the mean at most {wm.max():.5f}")
        say("  (256 subsets per problem and budget; exact at k = 1 and k = n)")
        pythia()
        adaptive(samples)
        if not args.quick:
            growth(tmp)


if __name__ == "__main__":
    main()
