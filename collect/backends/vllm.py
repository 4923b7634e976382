"""Generation with vLLM's offline engine (GPU): per-sample seeds, prefix caching, tensor parallel.

Written against vLLM's documented offline API (``vllm.LLM``, ``SamplingParams``, ``TokensPrompt``,
and the ``LLMEngine.add_request``/``step`` loop of vLLM's ``llm_engine_example``); the tested range
is pinned in the ``gpu`` extra. Every request carries its own ``SamplingParams(seed=...)``, so
samples are independent and reproducible (one shared seed would give every prompt the same random
stream). Prompts are tokenized here (no special tokens added, as in every backend) and passed as
token ids; identical prompts share their KV cache through prefix caching.

``stream`` keeps up to ``max_inflight`` requests queued in the engine and hands back each problem
block as soon as its samples finish: the engine core keeps generating while the caller grades and
writes, and there is no tail where the GPU idles between chunks.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from collect.backends.base import Backend, Completion, Sampling, Unit
from collect.prompts import Prompt, encode_prompt
from scaling.errors import ScalingError


def import_vllm():
    """The ``vllm`` module, or a ScalingError saying how to install it."""
    try:
        import vllm
    except ImportError:
        raise ScalingError(
            "the vllm backend needs vLLM on a CUDA machine: pip install 'scaling[gpu]'; "
            "or use --backend hf"
        ) from None
    return vllm


class VLLMBackend(Backend):
    """vLLM ``LLM`` with prefix caching; ``tensor_parallel_size`` GPUs per engine."""

    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        max_inflight: int = 4096,
        flush_samples: int = 512,
    ):
        vllm = import_vllm()
        self.tensor_parallel_size = tensor_parallel_size
        self.max_inflight = max_inflight
        self.flush_samples = flush_samples
        self.llm = vllm.LLM(
            model=model,
            tensor_parallel_size=tensor_parallel_size,
            dtype=dtype,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            enable_prefix_caching=True,
        )
        self.tokenizer = self.llm.get_tokenizer()
        self._ids = itertools.count()

    @property
    def gpus(self) -> int:
        return self.tensor_parallel_size

    def info(self) -> dict[str, Any]:
        config = self.llm.llm_engine.model_config
        return {
            **super().info(),
            "dtype": str(config.dtype).removeprefix("torch."),
            "tensor_parallel_size": self.tensor_parallel_size,
        }

    def _params(self, sampling: Sampling, seed: int, stop: Sequence[str] | None):
        from vllm import SamplingParams

        greedy = sampling.temperature <= 0
        return SamplingParams(
            n=1,
            temperature=0.0 if greedy else sampling.temperature,
            top_p=1.0 if greedy else sampling.top_p,
            max_tokens=sampling.max_tokens,
            seed=None if greedy else seed,
            stop=list(stop) if stop else None,
        )

    def prompt_input(self, prompt: Prompt, cache: dict) -> dict:
        """The engine input (token ids) of a prompt, encoded once per distinct prompt."""
        key = prompt if isinstance(prompt, str) else repr(prompt)
        if key not in cache:
            cache[key] = {"prompt_token_ids": encode_prompt(self.tokenizer, prompt)}
        return cache[key]

    @staticmethod
    def _completion(output) -> Completion:
        done = output.outputs[0]
        stop = done.stop_reason if isinstance(done.stop_reason, str) else None
        finish = "length" if done.finish_reason == "length" else "stop"
        return Completion(
            done.text, len(output.prompt_token_ids), len(done.token_ids), finish, stop
        )

    def _generate(
        self, prompts: list[Prompt], sampling: Sampling, seeds: list[int], stop: list[str]
    ) -> list[Completion]:
        cache: dict = {}
        inputs = [self.prompt_input(p, cache) for p in prompts]
        params = [self._params(sampling, s, stop) for s in seeds]
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        return [self._completion(o) for o in outputs]

    def stream(
        self, units: Iterable[Unit], sampling: Sampling, stop: Sequence[str] | None = None
    ) -> Iterator[list[tuple[Unit, list[Completion]]]]:
        engine = self.llm.llm_engine
        queue, cache = deque(units), {}
        owner: dict[str, tuple[int, int]] = {}  # request id -> (unit number, row)
        results: dict[int, list[Completion | None]] = {}
        waiting: dict[int, Unit] = {}
        ready: list[tuple[Unit, list[Completion]]] = []
        number = 0
        while queue or owner:
            while queue and len(owner) < self.max_inflight:
                unit = queue.popleft()
                waiting[number], results[number] = unit, [None] * len(unit)
                prompt = self.prompt_input(unit.prompt, cache)
                for row, seed in enumerate(unit.seeds):
                    rid = f"collect-{next(self._ids)}"
                    owner[rid] = (number, row)
                    params = sampling.greedy() if unit.greedy else sampling
                    engine.add_request(rid, prompt, self._params(params, seed, stop))
                number += 1
            for output in engine.step():
                if not output.finished:
                    continue
                k, row = owner.pop(output.request_id)
                results[k][row] = self._completion(output)
                if all(c is not None for c in results[k]):
                    ready.append((waiting.pop(k), results.pop(k)))  # type: ignore[arg-type]
            if ready and (sum(len(u) for u, _ in ready) >= self.flush_samples or not owner):
                yield ready
                ready = []
        if ready:
            yield ready
