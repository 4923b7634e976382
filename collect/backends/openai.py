"""Generation through any OpenAI-compatible server (``vllm serve``, SGLang, TGI, ...), with httpx.

Text prompts go to ``POST {base_url}/completions``, chat messages to ``/chat/completions``; every
request asks for one completion with its own ``seed`` (servers that honour seeds, such as vLLM,
then reproduce it), the stop strings, temperature, top_p and max_tokens. Requests run
concurrently (at most ``concurrency`` in flight); a timeout, a connection error, HTTP 408/409/429
or a 5xx answer is retried with exponential backoff (0.5 s, 1 s, 2 s, ... capped at 30 s, plus
jitter) up to ``retries`` times; any other error stops with a ScalingError naming the server's
message. Token counts are the server's ``usage``.

A text prompt whose tokenizer adds a BOS token by default is sent without the leading BOS text,
since servers tokenize completions prompts with special tokens (which adds it back once). With a
local tokenizer and a known context (``max_context``, from the model's config), a request asks
for at most the positions its prompt leaves, as the other backends generate.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
from typing import TYPE_CHECKING, Any

from collect.backends.base import Backend, Completion, Sampling, room
from collect.prompts import Prompt, bos_prefix, encode_prompt
from scaling.errors import ScalingError

if TYPE_CHECKING:
    from collect.runner import CollectConfig

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def run_sync(coro):
    """Run a coroutine to completion, also from inside a running event loop (a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class OpenAIBackend(Backend):
    """A client of an OpenAI-compatible HTTP server serving ``model``."""

    name = "openai"
    needs_tokenizer = False

    def __init__(
        self,
        model: str,
        *,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key: str | None = None,
        concurrency: int = 32,
        timeout: float = 600.0,
        retries: int = 6,
        tokenizer=None,
        max_context: int | None = None,
    ):
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.retries = retries
        self.tokenizer = tokenizer
        self._bos = bos_prefix(tokenizer)
        self.max_context = max_context if tokenizer is not None else None
        self.chunk_samples = 4 * self.concurrency

    @classmethod
    def from_config(cls, config: CollectConfig, tokenizer) -> OpenAIBackend:
        from collect.models import load_config

        options: dict[str, Any] = {"concurrency": config.concurrency, "tokenizer": tokenizer}
        if config.base_url:
            options["base_url"] = config.base_url
        if tokenizer is not None:
            model_config = load_config(config.tokenizer or config.model, required=False)
            options["max_context"] = getattr(model_config, "max_position_embeddings", None)
        return cls(config.model, **options)

    def info(self) -> dict[str, Any]:
        return {**super().info(), "base_url": self.base_url, "concurrency": self.concurrency}

    def _strip_bos(self, text: str) -> str:
        return text[len(self._bos) :] if self._bos and text.startswith(self._bos) else text

    def _body(self, prompt: Prompt, sampling: Sampling, seed: int, stop) -> tuple[str, dict]:
        greedy = sampling.temperature <= 0
        max_tokens = sampling.max_tokens
        if self.max_context is not None:
            prompt_tokens = len(encode_prompt(self.tokenizer, prompt))
            max_tokens = room(max_tokens, prompt_tokens, self.max_context)
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "temperature": 0.0 if greedy else sampling.temperature,
            "top_p": 1.0 if greedy else sampling.top_p,
            "seed": seed,
            "n": 1,
        }
        if stop:
            body["stop"] = list(stop)
        if isinstance(prompt, str):
            return "/completions", {**body, "prompt": self._strip_bos(prompt)}
        return "/chat/completions", {**body, "messages": list(prompt)}

    async def _one(self, client, limit, path: str, body: dict) -> Completion:
        import httpx

        url = self.base_url + path
        for attempt in range(self.retries + 1):
            async with limit:
                try:
                    response = await client.post(url, json=body)
                except (httpx.TimeoutException, httpx.TransportError) as e:
                    problem = f"{type(e).__name__}: {e}"
                else:
                    if response.status_code == 200:
                        try:
                            return self._parse(response.json(), url)
                        except ValueError:
                            raise ScalingError(
                                f"{url}: the answer is not JSON ({response.text[:120]!r}); "
                                "is this an OpenAI-compatible server?"
                            ) from None
                    problem = f"HTTP {response.status_code}: {response.text[:200]}"
                    if response.status_code not in RETRY_STATUS:
                        raise ScalingError(f"{url}: the server refused the request ({problem})")
            if attempt < self.retries:
                await asyncio.sleep(min(30.0, 0.5 * 2**attempt) * (1 + 0.25 * random.random()))
        raise ScalingError(
            f"{url}: no answer after {self.retries + 1} tries ({problem}); check --base-url "
            "and that the server is up"
        )

    @staticmethod
    def _parse(data: dict, url: str) -> Completion:
        try:
            choice = data["choices"][0]
            usage = data["usage"]
            text = choice["text"] if "text" in choice else choice["message"]["content"]
            stop = choice.get("stop_reason")
            finish = "length" if choice.get("finish_reason") == "length" else "stop"
            return Completion(
                text or "",
                int(usage["prompt_tokens"]),
                int(usage["completion_tokens"]),
                finish,
                stop if isinstance(stop, str) else None,
            )
        except (KeyError, IndexError, TypeError, ValueError):
            raise ScalingError(
                f"{url}: unexpected answer {str(data)[:200]}; is this an OpenAI-compatible server?"
            ) from None

    async def _all(self, requests: list[tuple[str, dict]]) -> list[Completion]:
        import httpx

        limit = asyncio.Semaphore(self.concurrency)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        pool = httpx.Limits(max_connections=self.concurrency)
        async with httpx.AsyncClient(timeout=self.timeout, headers=headers, limits=pool) as client:
            tasks = [
                asyncio.ensure_future(self._one(client, limit, path, body))
                for path, body in requests
            ]
            try:
                return list(await asyncio.gather(*tasks))
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise

    def _generate(
        self, prompts: list[Prompt], sampling: Sampling, seeds: list[int], stop: list[str]
    ) -> list[Completion]:
        try:
            import httpx  # noqa: F401
        except ImportError:
            raise ScalingError(
                "the openai backend needs httpx: pip install 'scaling[openai]'"
            ) from None
        requests = [self._body(p, sampling, s, stop) for p, s in zip(prompts, seeds, strict=True)]
        sent = [(path, body) for path, body in requests if body["max_tokens"] > 0]
        answers = iter(run_sync(self._all(sent)) if sent else [])
        return [  # a prompt that fills the context is not sent
            next(answers)
            if body["max_tokens"] > 0
            else Completion("", len(encode_prompt(self.tokenizer, prompt)), 0, "length")
            for prompt, (_, body) in zip(prompts, requests, strict=True)
        ]


BACKEND = OpenAIBackend
