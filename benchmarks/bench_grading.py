"""Grading throughput on real answers, against math-verify applied sample by sample.

Answers: the final answers of the Epoch AI Mock AIME logs (11 models x 720 samples) and of the
Qwen2.5-Math example (800 samples), extracted once. Baseline, measured in the same run: for each
sample, ``math_verify.parse`` of the reference and of the answer, then ``verify`` (in-process,
no deduplication, no cache). Measured: ``scaling.grading.grade`` in-process (``workers=0``:
each problem's reference parsed once, each distinct answer parsed and compared once) and in a
warm process pool (all cores). Also prints the embedded data's size on disk.

    python benchmarks/bench_grading.py
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from scaling import grading
from scaling.graders import get_grader, symbolic
from scaling.grading import extract_answer, grade
from scaling.paths import data_dir

RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"


def answers() -> tuple[list, list, list]:
    preds, refs, ids = [], [], []
    for model in sorted((RAW / "otis_mock_aime").iterdir()):
        for r in json.loads((model / "summaries.json").read_text()):
            preds.append(extract_answer(r["scores"]["model_graded"]["answer"]))
            refs.append(r["target"])
            ids.append(f"{model.name}/{r['id']}")
    for line in (RAW / "qwen25_math_cot100.jsonl").read_text().splitlines():
        row = json.loads(line)
        preds += row["pred"]
        refs += [row["gt"]] * len(row["pred"])
        ids += [f"qwen/{row['idx']}"] * len(row["pred"])
    return preds, refs, ids


def naive(preds: list, refs: list) -> int:
    """Sample by sample: parse the reference and the answer, compare (the usual loop)."""
    from math_verify import parse, verify

    correct = 0
    for pred, ref in zip(preds, refs, strict=True):
        if pred is None:
            continue
        gold = parse(f"\\boxed{{{ref}}}")
        correct += verify(gold, parse(f"\\boxed{{{grading.normalize_answer(pred)}}}"))
    return correct


def timed(fn) -> tuple[float, object]:
    """Time ``fn`` from cold caches (ours and sympy's) in this process."""
    from sympy.core.cache import clear_cache

    symbolic._parse.cache_clear()
    clear_cache()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    preds, refs, ids = answers()
    n = len(preds)
    grade(preds[:50], refs[:50], problem_ids=ids[:50], workers=0)  # imports and parser warm-up
    base_s, base_correct = timed(lambda: naive(preds, refs))
    rows = [("math-verify per sample (baseline)", base_s, base_correct)]
    for label, workers in (("grade, in-process", 0), ("grade, process pool", None)):
        if workers is None:  # a fresh pool, started (and cold) before the clock runs
            warm = [("1", ("1",))] * 8
            grading._run_pool(warm, 5.0, os.cpu_count() or 1, lambda n: None, get_grader("math"))
        seconds, graded = timed(lambda w=workers: grade(preds, refs, problem_ids=ids, workers=w))
        rows.append((label, seconds, sum(g.correct for g in graded)))
    distinct = len(set(zip(ids, preds, strict=True)))
    table = Table(title=f"grading {n:,} answers ({distinct:,} distinct)")
    for col in ("method", "seconds", "answers/s", "speed-up", "correct"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for label, seconds, correct in rows:
        table.add_row(
            label, f"{seconds:.2f}", f"{n / seconds:,.0f}", f"{base_s / seconds:.2f}x", str(correct)
        )
    console = Console()
    console.print(table)
    runs = data_dir() / "runs"
    size = sum(p.stat().st_size for p in runs.rglob("*") if p.is_file())
    console.print(f"embedded runs: {size / 1e6:.2f} MB in {len(list(runs.rglob('run.json')))} runs")


if __name__ == "__main__":
    main()
