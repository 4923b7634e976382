"""Generation with transformers on CPU or GPU, reproducible per sample.

Requests that share a prompt run as one batch (in chunks of ``batch_size``) with no padding: the
prompt is prefilled for every row and decoding proceeds with the key/value cache. Each row samples
from its own ``torch.Generator`` seeded with the request's seed (temperature scaling, then nucleus
filtering with a stable sort, then ``torch.multinomial``), so a completion depends on its prompt
and seed only, not on the other rows. Rows that finish keep their slot until the batch ends, so a
batch's shape is fixed by its requests. (Floating-point results of a matrix product can differ in
the last bit between batch shapes; batches of the same requests give bitwise-equal results, which
is why ``scaling collect`` batches aligned blocks of sample indices.)

The key/value cache is a ``transformers.DynamicCache`` made for each batch and handed to every
forward call (the argument is ``cache`` from transformers 5.20 on, ``past_key_values`` before;
the model's ``forward`` signature says which). A request generates at most the positions its
prompt leaves in the model's context (``max_position_embeddings``).
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any

from collect.backends.base import Backend, Completion, Sampling, room
from collect.models import load_tokenizer
from collect.prompts import Prompt, encode_prompt
from scaling.errors import ScalingError

if TYPE_CHECKING:
    from collect.runner import CollectConfig

DTYPES = ("auto", "float32", "float16", "bfloat16")


def resolve_dtype(dtype: str, device) -> Any:
    """The torch dtype for ``dtype``: ``auto`` is float32 on CPU and the config's dtype on GPU."""
    import torch

    if dtype not in DTYPES:
        raise ScalingError(f"--dtype {dtype}: choose one of {', '.join(DTYPES)}")
    if dtype == "auto":
        return torch.float32 if device.type == "cpu" else "auto"
    return getattr(torch, dtype)


def top_p_filter(probs, top_p: float):
    """Zero the tokens outside the nucleus: the smallest top set whose mass reaches ``top_p``."""
    import torch

    if top_p >= 1.0:
        return probs
    sorted_p, order = probs.sort(dim=-1, descending=True, stable=True)
    outside = sorted_p.cumsum(dim=-1) - sorted_p >= top_p
    sorted_p = sorted_p.masked_fill(outside, 0.0)
    return torch.zeros_like(probs).scatter(-1, order, sorted_p)


class HFBackend(Backend):
    """transformers causal LM; ``batch_size`` rows of one prompt decode together."""

    name = "hf"

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        dtype: str = "auto",
        batch_size: int = 64,
        tokenizer=None,
    ):
        import torch
        from transformers import AutoModelForCausalLM

        self.model_id = model
        self.tokenizer = tokenizer if tokenizer is not None else load_tokenizer(model)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.batch_size = max(1, batch_size)
        try:
            self.model = AutoModelForCausalLM.from_pretrained(
                model, dtype=resolve_dtype(dtype, self.device)
            )
        except (OSError, ValueError) as e:
            raise ScalingError(
                f"--model {model}: cannot load it ({str(e).splitlines()[0]})"
            ) from None
        self.model.to(self.device).eval()
        eos = self.model.generation_config.eos_token_id
        eos = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            eos.add(self.tokenizer.eos_token_id)
        self.eos = eos
        self.max_context = getattr(self.model.config, "max_position_embeddings", None)
        params = inspect.signature(self.model.forward).parameters
        self.cache_argument = "cache" if "cache" in params else "past_key_values"

    @classmethod
    def from_config(cls, config: CollectConfig, tokenizer) -> HFBackend:
        return cls(
            config.model, dtype=config.dtype, batch_size=config.batch_size, tokenizer=tokenizer
        )

    @property
    def gpus(self) -> int:
        return 1 if self.device.type == "cuda" else 0

    def info(self) -> dict[str, Any]:
        return {
            **super().info(),
            "device": str(self.device),
            "dtype": str(self.model.dtype).removeprefix("torch."),
            "batch_size": self.batch_size,
        }

    def _generate(
        self, prompts: list[Prompt], sampling: Sampling, seeds: list[int], stop: list[str]
    ) -> list[Completion]:
        groups: dict[str, list[int]] = {}
        for i, prompt in enumerate(prompts):
            key = prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True)
            groups.setdefault(key, []).append(i)
        out: list[Completion | None] = [None] * len(prompts)
        for members in groups.values():
            ids = encode_prompt(self.tokenizer, prompts[members[0]])
            for at in range(0, len(members), self.batch_size):
                rows = members[at : at + self.batch_size]
                done = self._decode(ids, [seeds[i] for i in rows], sampling, tuple(stop))
                for i, completion in zip(rows, done, strict=True):
                    out[i] = completion
        return out  # type: ignore[return-value]

    def _decode(
        self, ids: list[int], seeds: list[int], sampling: Sampling, stop: tuple[str, ...]
    ) -> list[Completion]:
        """Sample one completion per seed from one prompt, rows batched without padding."""
        import torch
        from transformers import DynamicCache

        budget = room(sampling.max_tokens, len(ids), self.max_context)
        rows = len(seeds)
        if budget == 0:
            return [Completion("", len(ids), 0, "length") for _ in range(rows)]
        generators = [torch.Generator(device=self.device).manual_seed(s) for s in seeds]
        tokens: list[list[int]] = [[] for _ in range(rows)]
        finish = ["length"] * rows
        matched: list[str | None] = [None] * rows
        open_rows = set(range(rows))
        tail = max(map(len, stop), default=0) + 2
        with torch.inference_mode():
            cache = {self.cache_argument: DynamicCache(config=self.model.config)}
            inputs = torch.tensor([ids] * rows, device=self.device)
            out = self.model(input_ids=inputs, use_cache=True, **cache)
            for _ in range(budget):
                picked = self._pick(out.logits[:, -1, :], sampling, generators)
                for r in list(open_rows):
                    token = picked[r]
                    tokens[r].append(token)
                    if token in self.eos:
                        finish[r] = "stop"
                        open_rows.discard(r)
                    elif stop:
                        text = self.tokenizer.decode(tokens[r][-tail:], skip_special_tokens=True)
                        if any(s in text for s in stop):
                            finish[r] = "stop"
                            open_rows.discard(r)
                if not open_rows:
                    break
                step = torch.tensor(picked, device=self.device).unsqueeze(1)
                out = self.model(input_ids=step, use_cache=True, **cache)
        completions = []
        for r in range(rows):
            text = self.tokenizer.decode(tokens[r], skip_special_tokens=True)
            hits = [(text.find(s), s) for s in stop if s in text]
            if hits:
                at, matched[r] = min(hits)
                text, finish[r] = text[:at], "stop"
            completions.append(Completion(text, len(ids), len(tokens[r]), finish[r], matched[r]))
        return completions

    @staticmethod
    def _pick(logits, sampling: Sampling, generators) -> list[int]:
        """Next token per row: argmax at temperature 0, else a draw from the row's generator."""
        import torch

        logits = logits.float()
        if sampling.temperature <= 0:
            return logits.argmax(dim=-1).tolist()
        probs = torch.softmax(logits / sampling.temperature, dim=-1)
        probs = top_p_filter(probs, sampling.top_p)
        return [int(torch.multinomial(probs[r], 1, generator=g)) for r, g in enumerate(generators)]


BACKEND = HFBackend
