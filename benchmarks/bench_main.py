"""The README's main command, timed: ``scaling fit --html explorer.html`` on the embedded runs.

Targets (issue 11), on an idle 2-core machine: under 5 s warm (numba's on-disk kernels and the
fitted laws, ``scaling.fit_cache``, kept by an earlier run), under 20 s on a fresh install (both
caches empty: the exact voting kernels compile on first use and every law is solved), and
``scaling verify`` under 2 s. A third row times the warm command with ``--no-cache``: every law
solved again, the cost of a first fit of new data. The baseline, measured in the same run: the
simulator alone on the same data (``scaling simulate``, every embedded run and strategy, 1,000
bootstrap replicates), so the ratios compare across machines and loads. Every command runs as a
fresh process of this checkout, with both caches (``NUMBA_CACHE_DIR``, ``SCALING_CACHE_DIR``)
in a temporary folder: each cold run of the fit starts from empty ones, the warm runs reuse the
last; nobody's cache is touched. Python writes and reuses bytecode, as on any install, even
where the environment says not to (``PYTHONDONTWRITEBYTECODE``); each cold run starts without
the checkout's (pip compiles installed packages, not an editable checkout, so a fresh install
has those of the dependencies only). Each figure is the least of ``--repeat`` runs. The targets
are wall clock; CPU (user + sys of the process and the children it waited for: the
kernel-compiling helper, not the fit's worker processes, which the pool's server reaps) is
printed beside it, with the machine's load average, since a shared machine stretches wall time.

    python benchmarks/bench_main.py [--repeat 3] [--no-cold]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
WARM_TARGET_S = 5.0
COLD_TARGET_S = 20.0
VERIFY_TARGET_S = 2.0
COLD = "BENCH_MAIN_COLD"  # marks the environment of a cold run
PACKAGES = ("scaling", "fit", "collect")  # the checkout's: a cold run starts without their bytecode


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys, children included) of ``python -m scaling *args``;
    a cold run (``env`` marked ``COLD``) without the checkout's bytecode."""
    if env.get(COLD):
        for package in PACKAGES:  # numba's own cache may live beside: only the bytecode goes
            for compiled in (ROOT / package).glob("**/__pycache__/*.pyc"):
                compiled.unlink()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "scaling", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def best(args: list[str], envs: list[dict[str, str]]) -> tuple[float, float]:
    """The least wall and the least CPU time of ``python -m scaling *args`` in each of ``envs``."""
    runs = [timed(args, env) for env in envs]
    return min(w for w, _ in runs), min(c for _, c in runs)


def cache(folder: Path) -> dict[str, str]:
    """The environment of a command of this checkout whose numba cache and fitted laws are in
    ``folder``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {
        "PYTHONPATH": str(ROOT),
        "NUMBA_CACHE_DIR": str(folder / "numba"),
        "SCALING_CACHE_DIR": str(folder / "fits"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command (least)")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-cache runs")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be 1 or more")
    console = Console(width=110)  # the table on one line per command, also in a log file
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        page = str(Path(tmp) / "explorer.html")
        fit = ["fit", "--html", page]
        colds = [cache(Path(tmp) / f"cold-{i}") | {COLD: "1"} for i in range(args.repeat)]
        cold = None if args.no_cold else best(fit, colds)
        env = {k: v for k, v in colds[-1].items() if k != COLD}  # the caches it filled
        if cold is None:
            timed(fit, env)  # fill the cache
        sim = best(["simulate", "--format", "csv", "--output", str(Path(tmp) / "sim.csv")],
                   [env] * args.repeat)  # fmt: skip
        warm = best(fit, [env] * args.repeat)
        solved = best([*fit, "--no-cache"], [env] * args.repeat)
        verify = best(["verify"], [env] * args.repeat)
    load_after = os.getloadavg()
    table = Table(title="bench_main: the README's main command on the embedded runs")
    for col in ("command", "wall s", "CPU s", "wall / sim", "CPU / sim", "target", "verdict"):
        table.add_column(col, justify="left" if col == "command" else "right")

    def row(name: str, result: tuple[float, float] | None, target: float | None) -> None:
        if result is None:
            return
        wall, cpu = result
        verdict = "-" if target is None else ("PASS" if wall < target else "FAIL")
        table.add_row(
            name,
            f"{wall:.2f}",
            f"{cpu:.2f}",
            f"{wall / sim[0]:.2f}",
            f"{cpu / sim[1]:.2f}",
            "-" if target is None else f"< {target:g} s",
            verdict,
        )

    row("scaling simulate (baseline)", sim, None)
    row("scaling fit --html (warm caches)", warm, WARM_TARGET_S)
    row("scaling fit --html --no-cache (laws solved)", solved, None)
    row("scaling fit --html (cold caches)", cold, COLD_TARGET_S)
    row("scaling verify", verify, VERIFY_TARGET_S)
    console.print(table)
    console.print(
        f"{os.cpu_count()} cores; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after; least of {args.repeat} runs"
        + ("" if args.no_cold else ", each cold one with empty caches")
        + "; CPU leaves out the fit's worker processes"
    )
    if cold is not None:
        console.print(f"numba compilation (cold - laws solved): {cold[0] - solved[0]:.1f} s wall")


if __name__ == "__main__":
    main()
