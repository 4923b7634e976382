"""Data-parallel generation over many GPUs or nodes with Ray Data.

The work units become a Ray dataset (``ray.data.from_items``, one block per unit) mapped by
``map_batches`` over a pool of ``workers`` actors (``concurrency=workers``); each actor builds
one engine, vLLM on ``gpus_per_worker`` GPUs (or vLLM's CPU build on a CPU-only cluster) or
transformers on one CPU, and generates whole units.
Results stream back to the driver (``iter_batches``), which grades, scores and writes them into
the one run, so a worker never touches the store. Seeds travel with the units and each engine
reproduces a (prompt, seed) pair exactly, so the run equals a single-process run with the same
seeds. ``ray.init`` joins the cluster named by ``address`` (or ``RAY_ADDRESS``), or starts a local
one; the model path must be readable from every node.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from collect.backends.base import Backend, Completion, Sampling, Unit
from collect.prompts import Prompt
from scaling.errors import ScalingError

if TYPE_CHECKING:
    from collect.runner import CollectConfig

ENGINES = ("hf", "vllm")


class GenerationWorker:
    """A Ray Data actor: one engine; ``__call__`` generates a batch of units."""

    def __init__(self, engine: str, model: str, options: dict, sampling: dict, stop: list[str]):
        from collect.backends import make_backend

        self.backend = make_backend(engine, model, **options)
        self.sampling = Sampling(**sampling)
        self.stop = stop or None

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        units = [
            Unit("", json.loads(p), tuple(range(len(s))), tuple(int(x) for x in s), bool(g))
            for p, s, g in zip(batch["prompt"], batch["seeds"], batch["greedy"], strict=True)
        ]
        done = self.backend.generate_units(units, self.sampling, self.stop)
        rows = [json.dumps([asdict(c) for c in completions]) for _, completions in done]
        return {"unit": np.asarray(batch["unit"]), "result": np.asarray(rows, dtype=object)}


def cuda_here() -> bool:
    """Whether this machine has a CUDA device (torch, when installed, says)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


class RayBackend(Backend):
    """``workers`` engines (``engine`` = hf or vllm) fed by Ray Data.

    ``gpus_per_worker`` defaults to the vLLM engine's tensor-parallel size on a CUDA machine, else
    0 (hf workers, and vLLM's CPU build, take one CPU each).
    """

    name = "ray"
    searches = False  # a search's generate call per depth would start a fresh worker pool

    def __init__(
        self,
        model: str,
        *,
        engine: str = "hf",
        workers: int = 2,
        gpus_per_worker: int | None = None,
        engine_options: dict[str, Any] | None = None,
        units_per_batch: int | None = None,
        address: str | None = None,
    ):
        try:
            import ray  # noqa: F401
            import ray.data  # noqa: F401
        except ImportError:
            raise ScalingError(
                "the ray backend needs Ray Data: pip install 'scaling[ray]'"
            ) from None
        if engine not in ENGINES:
            raise ScalingError(f"ray engine '{engine}': choose one of {', '.join(ENGINES)}")
        self.model = model
        self.engine = engine
        self.workers = max(1, workers)
        options = dict(engine_options or {})
        if gpus_per_worker is None:
            gpu = engine == "vllm" and cuda_here()
            gpus_per_worker = options.get("tensor_parallel_size", 1) if gpu else 0
        self.gpus_per_worker = gpus_per_worker
        if engine == "hf" and gpus_per_worker == 0:
            options.setdefault("device", "cpu")
        self.options = options
        self.units_per_batch = units_per_batch or (1 if engine == "hf" else 64)
        self.address = address
        self.chunk_samples = 1 << 62  # the whole job goes to Ray Data at once
        self._started = False

    @classmethod
    def from_config(cls, config: CollectConfig, tokenizer) -> RayBackend:
        from collect.backends import default_backend

        engine = config.ray_engine or default_backend()
        options: dict[str, Any] = {"dtype": config.dtype}
        if engine == "vllm":
            options["tensor_parallel_size"] = config.tensor_parallel
        else:
            options["batch_size"] = config.batch_size
        return cls(config.model, engine=engine, workers=config.workers, engine_options=options)

    @property
    def gpus(self) -> int:
        return self.workers * self.gpus_per_worker

    def warm_up(self, prompt: Prompt) -> None:
        """Nothing: the workers load and warm their engines inside the job itself (a request here
        would start a second worker pool)."""

    def info(self) -> dict[str, Any]:
        return {
            **super().info(),
            "engine": self.engine,
            "workers": self.workers,
            "gpus_per_worker": self.gpus_per_worker,
        }

    def _init(self):
        import logging

        import ray

        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            self._started = True
        ray.data.DataContext.get_current().enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        return ray

    def _run(
        self, units: list[Unit], sampling: Sampling, stop: Sequence[str] | None
    ) -> Iterator[list[tuple[int, list[Completion]]]]:
        if not units:
            return
        ray = self._init()
        items = [
            {"unit": k, "prompt": json.dumps(u.prompt), "seeds": list(u.seeds), "greedy": u.greedy}
            for k, u in enumerate(units)
        ]
        resources = {"num_gpus": self.gpus_per_worker} if self.gpus_per_worker else {"num_cpus": 1}
        dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            GenerationWorker,
            fn_constructor_kwargs={
                "engine": self.engine,
                "model": self.model,
                "options": self.options,
                "sampling": asdict(sampling),
                "stop": list(stop or ()),
            },
            batch_size=self.units_per_batch,
            compute=ray.data.ActorPoolStrategy(size=self.workers),
            **resources,
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            yield [
                (int(k), [Completion(**c) for c in json.loads(r)])
                for k, r in zip(batch["unit"], batch["result"], strict=True)
            ]

    def stream(
        self, units: Iterable[Unit], sampling: Sampling, stop: Sequence[str] | None = None
    ) -> Iterator[list[tuple[Unit, list[Completion]]]]:
        units = list(units)
        for batch in self._run(units, sampling, stop):
            yield [(units[k], completions) for k, completions in batch]

    def _generate(
        self, prompts: list[Prompt], sampling: Sampling, seeds: list[int], stop: list[str]
    ) -> list[Completion]:
        units = [Unit("", p, (0,), (s,)) for p, s in zip(prompts, seeds, strict=True)]
        out: dict[int, Completion] = {}
        for batch in self._run(units, sampling, stop):
            out.update((k, completions[0]) for k, completions in batch)
        return [out[k] for k in range(len(units))]

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


BACKEND = RayBackend
