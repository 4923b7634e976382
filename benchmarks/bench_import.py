"""Import throughput and peak memory on synthetic samples, against bare pyarrow reading.

Writes a generic JSONL file of N samples (default 10,000,000; ``--quick``: 1,000,000) over 1,000
problems, five distinct answers each, with a verdict, a reward and token counts per line, and a
counts table asking for the same N samples (1,000 problems). Each measurement runs in its own
process; peak memory is that process's maximum resident set and CPU time its user + system time
(``wait4``); wall time includes the interpreter's start. On a shared machine compare CPU time.

- baseline: ``pyarrow.json.read_json`` of the JSONL file (multithreaded C++, whole file in
  memory, no checks) in the same run;
- ``scaling import jsonl``: streamed in chunks, every line checked, answers clustered (in-process
  grading, ``--workers 0``, so all memory is in one process), written as a run;
- ``scaling import counts``: the N samples expanded and written in chunks.

The ratios printed are wall time, CPU time and peak memory relative to the baseline. The target is a
10-million-line JSONL imported in under 2 GB.

    python benchmarks/bench_import.py [--quick] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
PROBLEMS = 1000
LIMIT_BYTES = 2 << 30


def write_jsonl(path: Path, n: int, seed: int = 0) -> None:
    """``n`` lines, problem by problem (as evaluation logs are written), in blocks."""
    rng = np.random.default_rng(seed)
    per = n // PROBLEMS
    with open(path, "w") as fh:
        for p in range(PROBLEMS):
            answers = rng.integers(0, 5, per)
            tokens = rng.integers(50, 900, per)
            rewards = np.round(rng.random(per), 4)
            fh.write(
                "".join(
                    f'{{"problem_id": "p{p}", "answer": "{a}", "reference": "0", '
                    f'"correct": {"true" if a == 0 else "false"}, "reward": {r}, '
                    f'"completion_tokens": {t}, "prompt_tokens": 120, "model": "synthetic"}}\n'
                    for a, t, r in zip(
                        answers.tolist(), tokens.tolist(), rewards.tolist(), strict=True
                    )
                )
            )


def measure(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak resident bytes) of ``command`` in a new process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{proc.stderr.read().decode()}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000 samples")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    n = 1_000_000 if args.quick else 10_000_000
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / "samples.jsonl"
    counts = work / "counts.csv"
    started = time.perf_counter()
    write_jsonl(source, n)
    counts.write_text(
        "problem_idx,n_samples,n_correct\n"
        + "".join(f"{p},{n // PROBLEMS},{p % 37}\n" for p in range(PROBLEMS))
    )
    print(f"wrote {n:,} samples ({source.stat().st_size / 1e9:.2f} GB) in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    py = sys.executable
    rows = [
        (
            "pyarrow.json.read_json (baseline)",
            measure([py, "-c", f"import pyarrow.json as j; j.read_json({str(source)!r})"]),
        ),
        (
            "scaling import jsonl",
            measure(
                [
                    py,
                    "-m",
                    "scaling",
                    "import",
                    "jsonl",
                    str(source),
                    "--out",
                    str(work / "jsonl-run"),
                    "--workers",
                    "0",
                    "--force",
                ]
            ),
        ),  # fmt: skip
        (
            "scaling import counts",
            measure(
                [
                    py,
                    "-m",
                    "scaling",
                    "import",
                    "counts",
                    str(counts),
                    "--out",
                    str(work / "counts-run"),
                    "--model",
                    "m",
                    "--tokens-per-sample",
                    "100",
                    "--force",
                ]
            ),
        ),  # fmt: skip
    ]
    base_s, base_cpu, base_mem = rows[0][1]
    table = Table(title=f"import of {n:,} samples ({PROBLEMS:,} problems)")
    for name in ("what", "wall s", "CPU s", "samples/s", "peak memory", "wall / base",
                 "CPU / base", "memory / base"):  # fmt: skip
        table.add_column(name, justify="left" if name == "what" else "right")
    for label, (seconds, cpu, peak) in rows:
        table.add_row(
            label,
            f"{seconds:.1f}",
            f"{cpu:.1f}",
            f"{n / seconds:,.0f}",
            f"{peak / 2**20:,.0f} MiB",
            f"{seconds / base_s:.2f}",
            f"{cpu / base_cpu:.2f}",
            f"{peak / base_mem:.2f}",
        )
    Console(width=120).print(table)
    peak = rows[1][1][2]
    verdict = "within" if peak < LIMIT_BYTES else "OVER"
    print(f"jsonl import peak {peak / 2**30:.2f} GiB: {verdict} the 2 GiB target")
    if args.keep is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
