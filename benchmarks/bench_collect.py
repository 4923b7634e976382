"""``scaling collect --backend vllm`` against a bare ``LLM.generate`` of the same requests.

One engine, one run: the bare baseline is ``LLM.generate`` of every sample's request (the same
token ids, one ``SamplingParams`` per sample with that sample's seed, temperature, top_p and
token cap) in one call; then ``collect`` generates the same samples on the same engine and also
extracts, grades and stores them (no reward model). Both produce the same tokens, so the ratio of
generated tokens per second is the share of bare vLLM throughput that collection keeps (collect's
own warm-up, reported apart, left out; the ratio with it is printed too); target >= 0.90. Each of
``--repeat`` passes times both (a shared machine's load moves single timings a lot); the median
ratio is the verdict. The
engine's idle time between steps is measured from vLLM's per-request timestamps (engine-core
clock): the span from the first request's scheduling to the last token, less the time during
which at least one request was being processed. Grading and storage run in the caller's process
while the engine core keeps stepping, so collect's idle time should stay near the bare run's.

CPU (default): vLLM's CPU build on the tiny test policy (built locally, ``tests/tiny_models.py``)
and its problem file of sums. GPU (``--gpu --model ID_OR_PATH``): any model on a problem set.

    VLLM_CPU_KVCACHE_SPACE=1 python benchmarks/bench_collect.py [--problems 32] [--repeat 3]
    python benchmarks/bench_collect.py --gpu --model Qwen/Qwen2.5-0.5B-Instruct --dataset math500 \
        --problems 200 --samples 16 --max-tokens 512
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from collect.datasets import load_problems
from collect.prompts import build_template
from collect.runner import CollectConfig, collect, plan_units

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.90


def engine_idle(metrics: list) -> tuple[float, float]:
    """(span, idle) seconds from per-request (scheduled, last token) engine-core timestamps."""
    spans = sorted((m.scheduled_ts, m.last_token_ts) for m in metrics if m.last_token_ts)
    if not spans:
        return 0.0, 0.0
    busy, (start, end) = 0.0, spans[0]
    first, last = spans[0][0], max(e for _, e in spans)
    for s, e in spans[1:]:
        if s > end:
            busy += end - start
            start, end = s, e
        else:
            end = max(end, e)
    busy += end - start
    return last - first, (last - first) - busy


def requests(engine, config: CollectConfig):
    """The (TokensPrompt, SamplingParams) of every sample ``collect`` will generate."""
    from collect.backends.base import Sampling

    problems = load_problems(config.dataset, limit=config.limit)
    template = build_template(engine.tokenizer)
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
    sampling = Sampling(config.temperature, config.top_p, config.max_tokens)
    return [
        engine.request(engine.token_ids(u.prompt), sampling, seed, template.stop)
        for u in units
        for seed in u.seeds
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="vLLM on a GPU (needs --model)")
    parser.add_argument("--model", default=None, help="GPU: the policy (CPU: the tiny one)")
    parser.add_argument("--dataset", default="math500", help="GPU: the problem set")
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--tensor-parallel", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="passes (the median ratio)")
    args = parser.parse_args()
    if args.gpu and not args.model:
        parser.error("--gpu needs --model")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    console = Console()
    from collect.backends.vllm import VLLMBackend

    work = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    model, dataset, dtype = args.model, args.dataset, "auto"
    if not args.gpu:
        sys.path.insert(0, str(ROOT / "tests"))
        from tiny_models import build_all, write_problems

        model = str(build_all(work / "models")["policy"])
        dataset = str(write_problems(work / "problems.jsonl", args.problems, seed=11))
        dtype = "float32"
    config = CollectConfig(
        model=model,
        dataset=dataset,
        samples=args.samples,
        out=work / "run",
        backend="vllm",
        max_tokens=args.max_tokens,
        limit=args.problems,
        batch_size=args.batch_size,
        flush_samples=256,
        dtype=dtype,
        tensor_parallel=args.tensor_parallel,
    )
    start = time.perf_counter()
    engine = VLLMBackend(
        model, tensor_parallel_size=args.tensor_parallel, dtype=dtype, disable_log_stats=False
    )
    load = time.perf_counter() - start
    llm = engine.llm
    batch = requests(engine, config)
    llm.generate([p for p, _ in batch[:8]], [q for _, q in batch[:8]], use_tqdm=False)  # warm-up
    passes = [
        timed_pair(engine, batch, replace(config, out=work / f"run-{i}"))
        for i in range(args.repeat)
    ]
    engine.close()

    ratios = sorted(p.ratio for p in passes)
    median = ratios[len(ratios) // 2]
    where = "GPU" if args.gpu else "CPU (vLLM's CPU build, tiny policy)"
    table = Table(title=f"collect vs bare LLM.generate on {where}: {len(batch)} samples")
    for column in ("pass", "path", "seconds", "tokens", "tokens/s", "engine idle s (of span)"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for i, p in enumerate(passes, 1):
        table.add_row(
            str(i),
            "bare LLM.generate",
            f"{p.bare:.2f}",
            f"{p.bare_tokens:,}",
            f"{p.bare_tokens / p.bare:,.0f}",
            f"{p.bare_idle:.3f} ({p.bare_span:.2f})",
        )
        table.add_row(
            "",
            "scaling collect",
            f"{p.work:.2f}",
            f"{p.tokens:,}",
            f"{p.tokens / p.work:,.0f}",
            f"{p.idle:.3f} ({p.span:.2f})",
        )
    console.print(table)
    console.print(
        f"engine load {load:.1f} s; collect's warm-up, apart from its time: "
        + ", ".join(f"{p.warmup:.2f}" for p in passes)
        + " s; with it, the ratios are "
        + ", ".join(f"{p.ratio_all:.3f}" for p in passes)
    )
    verdict = "meets" if median >= TARGET else "MISSES"
    console.print(
        f"throughput ratio collect / bare: median {median:.3f} of {len(passes)} passes "
        f"(range {ratios[0]:.3f}-{ratios[-1]:.3f}; {verdict} the {TARGET} target)"
    )


@dataclass
class Pair:
    """One pass: bare ``LLM.generate`` then ``collect`` of the same requests."""

    bare: float
    bare_tokens: int
    bare_span: float
    bare_idle: float
    work: float  # collect's seconds, its warm-up apart
    warmup: float
    tokens: int
    span: float
    idle: float

    @property
    def ratio(self) -> float:
        return (self.tokens / self.work) / (self.bare_tokens / self.bare)

    @property
    def ratio_all(self) -> float:
        return (self.tokens / (self.work + self.warmup)) / (self.bare_tokens / self.bare)


def timed_pair(engine, batch: list, config: CollectConfig) -> Pair:
    """Time bare ``LLM.generate`` of ``batch``, then ``collect`` of the same samples into
    ``config.out``, recording the engine's per-request timestamps of each."""
    llm = engine.llm
    start = time.perf_counter()
    outputs = llm.generate([p for p, _ in batch], [q for _, q in batch], use_tqdm=False)
    bare = time.perf_counter() - start
    bare_tokens = sum(len(o.outputs[0].token_ids) for o in outputs)
    bare_span, bare_idle = engine_idle([o.metrics for o in outputs])

    finished: list = []
    step, warm_up = llm.llm_engine.step, engine.warm_up
    warming = [False]

    def recording_step():
        done = step()
        if not warming[0]:
            finished.extend(o.metrics for o in done if o.finished)
        return done

    def timed_warm_up(prompt):
        warming[0] = True
        warm_up(prompt)
        warming[0] = False

    llm.llm_engine.step, engine.warm_up = recording_step, timed_warm_up
    start = time.perf_counter()
    result = collect(config, backend=engine, progress=False)
    total = time.perf_counter() - start
    llm.llm_engine.step, engine.warm_up = step, warm_up
    span, idle = engine_idle(finished)
    return Pair(
        bare,
        bare_tokens,
        bare_span,
        bare_idle,
        total - result.warmup_s,
        result.warmup_s,
        result.completion_tokens,
        span,
        idle,
    )


if __name__ == "__main__":
    main()
