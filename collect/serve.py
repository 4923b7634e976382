"""A small OpenAI-compatible HTTP server for a transformers model (tests and small local runs).

``python -m collect.serve --model PATH [--host H] [--port 0] [--served-model-name NAME ...]``
prints ``serving NAME on http://HOST:PORT/v1`` once it listens (NAME is the first served name;
requests may use any of them, as with vLLM's ``--served-model-name``), then answers

- ``GET /v1/models``;
- ``POST /v1/completions``: ``prompt`` (a string or a list of strings), ``n``, ``seed``,
  ``temperature``, ``top_p``, ``max_tokens``, ``stop``;
- ``POST /v1/chat/completions``: ``messages`` (rendered with the model's chat template) and the
  same sampling fields.

Generation runs through ``collect.backends.hf.HFBackend``, one request at a time. As in vLLM, a
completions prompt is tokenized with the tokenizer's special tokens (its BOS), and with ``n`` > 1
and a ``seed`` the j-th choice uses ``seed + j``; so a client that sends each sample's seed gets
exactly what the hf backend generates for that seed. Not a production server: no batching across
requests, no streaming, no authentication.
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from collect.backends.base import Sampling
from collect.backends.hf import HFBackend
from collect.prompts import bos_prefix


class _BadRequest(Exception):
    pass


class ModelServer(ThreadingHTTPServer):
    """The HTTP server: holds the backend and serializes generation."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], backend: HFBackend, names: list[str]):
        super().__init__(address, _Handler)
        self.backend = backend
        self.names = names
        self.name = names[0]
        self.lock = threading.Lock()
        self.bos = bos_prefix(backend.tokenizer)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def complete(self, body: dict[str, Any], chat: bool) -> dict[str, Any]:
        """Answer one completions or chat-completions request body."""
        if body.get("model") is not None and body["model"] not in self.names:
            raise _BadRequest(f"model {body.get('model')!r} is not served here ({self.names})")
        if chat:
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages:
                raise _BadRequest("'messages' must be a non-empty list")
            prompts: list = [messages]
        else:
            prompt = body.get("prompt")
            prompts = [prompt] if isinstance(prompt, str) else prompt
            if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
                raise _BadRequest("'prompt' must be a string or a list of strings")
            prompts = [self.bos + p for p in prompts]
        try:
            n = int(body.get("n") or 1)
            seed = body.get("seed")
            seed = int(seed) if seed is not None else secrets.randbelow(1 << 31)
            sampling = Sampling(
                temperature=float(body.get("temperature", 1.0)),
                top_p=float(body.get("top_p", 1.0)),
                max_tokens=int(body.get("max_tokens") or (256 if chat else 16)),
            )
        except (TypeError, ValueError) as e:
            raise _BadRequest(f"bad sampling field: {e}") from None
        stop = body.get("stop")
        stop = [stop] if isinstance(stop, str) else list(stop or [])
        requests = [p for p in prompts for _ in range(n)]
        seeds = [seed + j for _ in prompts for j in range(n)]
        with self.lock:
            done = self.backend.generate(requests, sampling, seeds, stop or None)
        choices = []
        for index, c in enumerate(done):
            choice: dict[str, Any] = {
                "index": index,
                "finish_reason": c.finish_reason,
                "stop_reason": c.stop,
            }
            if chat:
                choice["message"] = {"role": "assistant", "content": c.text}
            else:
                choice.update(text=c.text, logprobs=None)
            choices.append(choice)
        prompt_tokens = sum(c.prompt_tokens for c in done[::n])
        completion_tokens = sum(c.completion_tokens for c in done)
        return {
            "id": f"cmpl-{secrets.token_hex(8)}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": self.name,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


class _Handler(BaseHTTPRequestHandler):
    server: ModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # quiet
        return

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            models = [{"id": name, "object": "model"} for name in self.server.names]
            self._send(200, {"object": "list", "data": models})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        routes = {"/v1/completions": False, "/v1/chat/completions": True}
        path = self.path.rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if path not in routes:
            self._error(404, f"no route {self.path}")
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise _BadRequest("the body must be a JSON object")
            self._send(200, self.server.complete(body, routes[path]))
        except json.JSONDecodeError as e:
            self._error(400, f"invalid JSON: {e.msg}")
        except _BadRequest as e:
            self._error(400, str(e))


def make_server(
    model: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    served_model_names: list[str] | None = None,
    device: str | None = None,
    dtype: str = "auto",
) -> ModelServer:
    """A server bound to (host, port) (port 0 picks a free one); call ``serve_forever()``."""
    backend = HFBackend(model, device=device, dtype=dtype)
    return ModelServer((host, port), backend, list(served_model_names or [model]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--served-model-name", nargs="+", default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--dtype", default="auto")
    args = parser.parse_args(argv)
    server = make_server(
        args.model,
        host=args.host,
        port=args.port,
        served_model_names=args.served_model_name,
        device=args.device,
        dtype=args.dtype,
    )
    print(f"serving {server.name} on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
