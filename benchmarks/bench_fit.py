"""Fitting speed: every curve family for 7 models x 4 strategies, 1,000 bootstrap refits each.

Target (issue 4): under 10 s on a 2-core machine. The data are synthetic curves shaped like the
simulator's output (14 budgets k = 1..8192, 128 problems, 1,000 paired bootstrap replicates).
Ours: ``fit.fit_laws`` per family over all 28 curves at once (every replicate warm-started,
solved in one vectorized pass), the four families spread over ``--workers`` processes, plus
the Beta forecast (with its own 1,000 refits) for the 7 coverage curves. The baseline,
measured in the same run: a plain loop of ``scipy.optimize.curve_fit`` calls, one per
(curve, family, replicate), started from the point estimate; timed on ``--baseline-calls``
calls and scaled to the full count (it would take minutes in full).

    python benchmarks/bench_fit.py [--workers 2] [--boot 1000] [--baseline-calls 400]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.optimize import OptimizeWarning, curve_fit

from fit import CURVE_FAMILIES, BetaFit, Dataset, fit_laws

TARGET_S = 10.0
K = 2.0 ** np.arange(14)
# strategy -> (irreducible error, scale, exponent) of err = E + A k^-a; models shift A and a
STRATEGIES = {
    "pass": (0.0, 0.9, 0.35),
    "majority": (0.35, 0.5, 0.5),
    "best_of_n": (0.3, 0.55, 0.4),
    "weighted_majority": (0.28, 0.55, 0.45),
}


def synthetic(boot: int, seed: int = 0) -> tuple[list[Dataset], list[tuple[np.ndarray, ...]]]:
    """28 curves (7 models x 4 strategies) of mean error over 128 problems, with standard errors
    and paired bootstrap replicates; and per-problem (n, c) counts for the 7 coverage curves."""
    rng = np.random.default_rng(seed)
    curves, counts = [], []
    idx = rng.integers(0, 128, (boot, 128))
    for m in range(7):
        for floor, scale, expo in STRATEGIES.values():
            f = floor + scale * (1 + 0.3 * m) ** -0.5 * K ** -(expo + 0.02 * m)
            u = rng.uniform(-1, 1, (128, 2))
            v = f * (1 + 0.5 * u[:, :1] + 0.4 * u[:, 1:] * np.cos(np.log(K)))
            curves.append(Dataset(K, v.mean(0), v.std(0, ddof=1) / np.sqrt(128), v[idx].mean(1)))
        p = rng.beta(0.2 + 0.05 * m, 3.0, 128)
        counts.append((np.full(128, 10_000), rng.binomial(10_000, p), idx))
    return curves, counts


def fit_family(args: tuple[str, list[Dataset]]) -> tuple[int, float]:
    """Fit one family to curves with their bootstrap; (refits done, CPU seconds)."""
    name, curves = args
    cpu = time.process_time()
    return sum(f.n_boot for f in fit_laws(name, curves)), time.process_time() - cpu


def fit_beta(args: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[int, float]:
    """The Beta forecast of one coverage curve, paired with the curves' replicates."""
    n, c, idx = args
    cpu = time.process_time()
    weights = np.stack([np.bincount(row, minlength=n.size) for row in idx])
    return BetaFit(n, c, weights=weights).n_boot, time.process_time() - cpu


def ours(curves: list[Dataset], counts: list, workers: int) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds over all workers, refits done."""
    start = time.perf_counter()
    # one task per (family, half of the curves): even work for the workers
    jobs = [(name, curves[i::2]) for name in CURVE_FAMILIES for i in range(2)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            done = list(pool.map(fit_family, jobs)) + list(pool.map(fit_beta, counts))
    else:
        done = list(map(fit_family, jobs)) + list(map(fit_beta, counts))
    return time.perf_counter() - start, sum(c for _, c in done), sum(r for r, _ in done)


def baseline(curves: list[Dataset], calls: int) -> tuple[float, float]:
    """Wall and CPU seconds per curve_fit call, over ``calls`` calls cycling through the work."""
    starts = {name: fit_laws(name, curves[:1])[0].params.to_numpy() for name in CURVE_FAMILIES}
    work = [
        (fam, c.replicates[r])
        for r in range(len(curves[0].replicates))
        for c in curves
        for fam in CURVE_FAMILIES.values()
    ][:calls]
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        for fam, y in work:
            lo = [p.bounds[0] for p in fam.params]
            hi = [p.bounds[1] for p in fam.params]
            p0 = np.clip(starts[fam.name], lo, hi)
            with contextlib.suppress(RuntimeError):
                curve_fit(fam.fn, K, y, p0=p0, bounds=(lo, hi), maxfev=5000)
    return (time.perf_counter() - start) / len(work), (time.process_time() - cpu) / len(work)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--baseline-calls", type=int, default=400)
    args = ap.parse_args()
    curves, counts = synthetic(args.boot)
    total_fits = len(curves) * len(CURVE_FAMILIES) * (args.boot + 1) + len(counts) * (args.boot + 1)
    seconds, cpu, refits = ours(curves, counts, args.workers)
    per_call, cpu_per_call = baseline(curves, args.baseline_calls)
    base, base_cpu = per_call * total_fits, cpu_per_call * total_fits
    table = Table(title="bench_fit: all families, 7 models x 4 strategies")
    for col in ("what", "fits", "wall s", "CPU s", "fits/s"):
        table.add_column(col, justify="right" if col != "what" else "left")
    table.add_row(
        f"ours ({args.workers} workers)",
        f"{total_fits}",
        f"{seconds:.2f}",
        f"{cpu:.2f}",
        f"{total_fits / seconds:,.0f}",
    )
    table.add_row(
        f"curve_fit loop (timed {args.baseline_calls} calls, scaled)",
        f"{total_fits}",
        f"{base:.1f}",
        f"{base_cpu:.1f}",
        f"{1 / per_call:,.0f}",
    )
    console = Console()
    console.print(table)
    console.print(f"bootstrap refits done: {refits}")
    console.print(
        f"speed-up vs curve_fit loop: {base / seconds:.1f}x wall, {base_cpu / cpu:.1f}x CPU"
    )
    verdict = "PASS" if seconds < TARGET_S else "FAIL"
    console.print(f"target < {TARGET_S:.0f} s: {verdict} ({seconds:.2f} s wall)")
    if os.getloadavg()[0] > os.cpu_count():
        console.print(f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
