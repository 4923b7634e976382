"""``scaling collect`` against bare generation on the same prompts, seeds and sampling settings.

GPU (``--gpu --model ID_OR_PATH``): throughput of ``collect`` on the vllm backend (generation,
grading and Parquet writes, no reward model) against a bare ``LLM.generate`` of the same requests
(one ``SamplingParams`` per sample with that sample's seed) on the same engine. Target: the ratio
of generated tokens per second is at least 0.90.

CPU (default): the tiny test policy (built locally, ``tests/tiny_models.py``) on the hf backend.
Bare generation runs the same units as ``collect`` does (best of ``--repeat`` runs each); the
per-sample cost of grading (answer extraction + math-verify) and of storage (atomic Parquet shards)
is measured on the collected samples and reported relative to the per-sample generation time;
grading is also timed on 800 real MATH chain-of-thought responses (``--responses``, the shared
Qwen2.5-Math file) since the tiny policy's answers are short integers.

    python benchmarks/bench_collect.py [--problems 24] [--samples 16] [--max-tokens 48]
    python benchmarks/bench_collect.py --gpu --model Qwen/Qwen2.5-0.5B-Instruct --dataset math500 \
        --problems 200 --samples 16 --max-tokens 512
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from collect.backends.base import Sampling
from collect.datasets import load_problems
from collect.prompts import build_template
from collect.runner import CollectConfig, collect, plan_units
from scaling.grading import extract_answer, grade
from scaling.store import Run

ROOT = Path(__file__).resolve().parents[1]
GPU_TARGET = 0.90
REAL_RESPONSES = ROOT.parent / "shared" / "data" / "samples" / "qwen25_math_cot100.jsonl"


def grade_real_responses(path: Path) -> tuple[int, float]:
    """(responses, seconds) to extract and grade real MATH chain-of-thought responses."""
    import json

    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    texts = [t for r in rows for t in r["code"]]
    refs = [str(r["gt"]) for r in rows for _ in r["code"]]
    ids = [str(r["idx"]) for r in rows for _ in r["code"]]
    start = time.perf_counter()
    grade([extract_answer(t) for t in texts], refs, workers=0, problem_ids=ids)
    return len(texts), time.perf_counter() - start


def _units(config: CollectConfig, tokenizer):
    problems = load_problems(config.dataset, limit=config.limit)
    template = build_template(tokenizer)
    prompts = [template.render(q) for q in problems.frame["question"]]
    _, units = plan_units(
        problems.frame,
        prompts,
        config.samples,
        seed=config.seed,
        block=config.batch_size,
        greedy=False,
        existing=set(),
    )
    return units, template


def cpu(args, console: Console) -> None:
    import torch

    from collect.backends.hf import HFBackend

    sys.path.insert(0, str(ROOT / "tests"))
    from tiny_models import build_all, write_problems

    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    paths = build_all(work / "models")
    problems = write_problems(work / "problems.jsonl", args.problems, seed=11)
    config = CollectConfig(
        model=str(paths["policy"]),
        dataset=str(problems),
        samples=args.samples,
        out=work / "run",
        backend="hf",
        max_tokens=args.max_tokens,
        batch_size=args.batch_size,
        flush_samples=args.batch_size * 4,
        grade_workers=0,
    )
    backend = HFBackend(config.model, batch_size=args.batch_size)
    units, template = _units(config, backend.tokenizer)
    sampling = Sampling(config.temperature, config.top_p, config.max_tokens)
    backend.generate_units(units[:1], sampling, template.stop)  # warm-up
    bare, total = [], []
    for k in range(args.repeat):
        start = time.perf_counter()
        for unit in units:
            backend.generate_units([unit], sampling, template.stop)
        bare.append(time.perf_counter() - start)
        config.out = work / f"run-{k}"
        start = time.perf_counter()
        result = collect(config, backend=backend, progress=False)
        total.append(time.perf_counter() - start)
    bare, total, n = min(bare), min(total), result.generated

    frame = Run.open(config.out).samples(text=True)
    refs = Run.open(config.out).problems().set_index("problem_id")["answer"]
    pids = frame["problem_id"].astype(str).tolist()
    start = time.perf_counter()
    grade(
        [extract_answer(t) for t in frame["text"]],
        [refs[p] for p in pids],
        workers=0,
        problem_ids=pids,
    )
    grading = time.perf_counter() - start
    scratch = Run.create(
        work / "scratch", Run.open(config.out).manifest, Run.open(config.out).problems()
    )
    shards = [frame.iloc[i : i + config.flush_samples] for i in range(0, n, config.flush_samples)]
    start = time.perf_counter()
    for shard in shards:
        scratch.append_samples(shard)
    storage = time.perf_counter() - start

    table = Table(title=f"collect on CPU: tiny policy, {n} samples, hf backend")
    for column in ("stage", "total s", "ms / sample", "vs generation"):
        table.add_column(column, justify="right" if column != "stage" else "left")
    per = 1000 / n
    for stage, seconds in [
        ("bare generation", bare),
        ("grading", grading),
        ("storage", storage),
        ("grading + storage", grading + storage),
        ("scaling collect (all)", total),
    ]:
        table.add_row(stage, f"{seconds:.3f}", f"{seconds * per:.3f}", f"{seconds / bare:.3f}")
    console.print(table)
    if args.responses.is_file():
        count, seconds = grade_real_responses(args.responses)
        console.print(
            f"grading {count} real MATH responses ({args.responses.name}): "
            f"{seconds / count * 1000:.2f} ms / sample"
        )
    console.print(
        f"overhead of grading + storage per sample: {(grading + storage) * per:.3f} ms "
        f"= {(grading + storage) / bare:.1%} of generation; collect / bare throughput = "
        f"{bare / total:.3f}"
    )


def gpu(args, console: Console) -> None:
    from vllm import SamplingParams

    from collect.backends.vllm import VLLMBackend

    work = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    config = CollectConfig(
        model=args.model,
        dataset=args.dataset,
        samples=args.samples,
        out=work / "run",
        backend="vllm",
        max_tokens=args.max_tokens,
        limit=args.problems,
        batch_size=args.batch_size,
        flush_samples=512,
    )
    engine = VLLMBackend(args.model, tensor_parallel_size=args.tensor_parallel)
    units, template = _units(config, engine.tokenizer)
    cache: dict = {}
    inputs = [engine.prompt_input(u.prompt, cache) for u in units for _ in u.seeds]
    params = [
        SamplingParams(
            n=1,
            temperature=config.temperature,
            top_p=config.top_p,
            max_tokens=config.max_tokens,
            seed=s,
            stop=list(template.stop) or None,
        )
        for u in units
        for s in u.seeds
    ]
    engine.llm.generate(inputs[:64], params[:64], use_tqdm=False)  # warm-up
    start = time.perf_counter()
    outputs = engine.llm.generate(inputs, params, use_tqdm=False)
    bare = time.perf_counter() - start
    bare_tokens = sum(len(o.outputs[0].token_ids) for o in outputs)

    start = time.perf_counter()
    result = collect(config, backend=engine, progress=False)
    total = time.perf_counter() - start
    ratio = (result.completion_tokens / total) / (bare_tokens / bare)
    table = Table(title=f"collect vs bare LLM.generate: {args.model}, {len(inputs)} samples")
    for column in ("path", "seconds", "tokens", "tokens/s"):
        table.add_column(column, justify="right" if column != "path" else "left")
    table.add_row(
        "bare LLM.generate", f"{bare:.1f}", f"{bare_tokens:,}", f"{bare_tokens / bare:,.0f}"
    )
    table.add_row(
        "scaling collect",
        f"{total:.1f}",
        f"{result.completion_tokens:,}",
        f"{result.completion_tokens / total:,.0f}",
    )
    console.print(table)
    verdict = "meets" if ratio >= GPU_TARGET else "MISSES"
    console.print(
        f"throughput ratio collect / bare = {ratio:.3f} ({verdict} the {GPU_TARGET} target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="vLLM on a GPU (needs --model)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--dataset", default="math500")
    parser.add_argument("--problems", type=int, default=24)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--tensor-parallel", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="CPU: best of this many runs")
    parser.add_argument(
        "--responses",
        type=Path,
        default=REAL_RESPONSES,
        help="CPU: real responses to time grading on (Qwen2.5-Math MATH CoT samples)",
    )
    args = parser.parse_args()
    console = Console()
    if args.gpu:
        if not args.model:
            parser.error("--gpu needs --model")
        gpu(args, console)
    else:
        cpu(args, console)


if __name__ == "__main__":
    main()
