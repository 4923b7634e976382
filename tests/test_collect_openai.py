"""The openai backend against a real OpenAI-compatible HTTP server on 127.0.0.1 (``collect.serve``
serving the tiny policy in a subprocess), plus retries and errors against a scripted server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tiny_models import assert_same_samples, collect_config, questions, samples_of

from collect.backends.base import Sampling
from collect.backends.hf import HFBackend
from collect.backends.openai import OpenAIBackend
from collect.prompts import build_template
from collect.runner import collect
from scaling.errors import ScalingError
from scaling.store import Run

pytest_plugins = ["collect_fixtures"]
ALIAS = "tiny-served"  # a second served name of the policy


@pytest.fixture(scope="module")
def server(tiny):
    """``python -m collect.serve`` on a free port; yields its base URL; stopped afterwards."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "collect.serve", "--model", str(tiny["policy"]), "--port", "0"]
    cmd += ["--served-model-name", str(tiny["policy"]), ALIAS]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving "), f"server did not start: {line!r}"
        yield line.split(" on ")[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_openai_backend_run_equals_the_hf_run(tiny, reference_run, server, tmp_path):
    out = tmp_path / "run"
    config = collect_config(tiny, out, backend="openai", base_url=server, concurrency=4)
    result = collect(config, progress=False)
    assert result.generated == result.missing_before
    assert_same_samples(samples_of(out), samples_of(reference_run))
    run = Run.open(out)
    assert run.run_id == Run.open(reference_run).run_id
    assert run.manifest["extra"]["collect"]["sessions"][-1]["engine"]["base_url"] == server


def test_chat_endpoint_without_a_local_tokenizer(tiny, reference_run, server, tmp_path):
    out = tmp_path / "run"
    config = collect_config(
        tiny, out, model=ALIAS, tokenizer="none", backend="openai", base_url=server, limit=2
    )
    collect(config, progress=False)
    run = Run.open(out)
    assert run.manifest["prompt"]["source"] == "server chat template"
    assert run.manifest["model"]["name"] == ALIAS and run.manifest["model"]["params"] is None
    reference = samples_of(reference_run)
    expected = reference[reference["problem_id"].isin(run.problems()["problem_id"])]
    assert_same_samples(samples_of(out), expected.reset_index(drop=True))


def test_stop_strings_and_seeds_over_http(tiny, server):
    local = HFBackend(str(tiny["policy"]))
    remote = OpenAIBackend(str(tiny["policy"]), base_url=server, tokenizer=local.tokenizer)
    prompt = build_template(local.tokenizer).render(questions(1, seed=3)[0][0])
    sampling = Sampling(1.0, 0.9, 24)
    got = remote.generate([prompt] * 3, sampling, [5, 6, 5], stop=["\n\n"])
    assert got == local.generate([prompt] * 3, sampling, [5, 6, 5], stop=["\n\n"])
    assert got[0] == got[2] and all(c.stop == "\n\n" for c in got)

    async def inside_a_running_loop():  # a notebook calls generate from a running event loop
        return remote.generate([prompt], sampling, [5], stop=["\n\n"])

    assert asyncio.run(inside_a_running_loop()) == [got[0]]
    with pytest.raises(ScalingError, match="refused the request"):
        OpenAIBackend("no-such-model", base_url=server).generate([prompt], sampling, [1])


class _Scripted(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests, then one canned completion."""

    failures = 2
    seen: list[dict] = []

    def log_message(self, *args):
        return

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        if len(type(self).seen) <= type(self).failures:
            status, payload = 503, {"error": {"message": "busy"}}
        else:
            choice = {"text": "42", "finish_reason": "length", "stop_reason": None}
            payload = {"choices": [choice], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
            status = 200
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_retries_with_backoff_then_succeeds_or_gives_up():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        _Scripted.seen = []
        backend = OpenAIBackend("m", base_url=url, retries=3)
        start = time.monotonic()
        (done,) = backend.generate(["Q"], Sampling(0.5, 1.0, 1), [77])
        assert time.monotonic() - start >= 1.5  # backoff 0.5 s + 1 s
        assert (done.text, done.prompt_tokens, done.completion_tokens) == ("42", 3, 1)
        assert done.finish_reason == "length" and len(_Scripted.seen) == 3
        assert _Scripted.seen[0] | {"seed": 77, "prompt": "Q", "max_tokens": 1} == _Scripted.seen[0]
        _Scripted.seen = []
        with pytest.raises(ScalingError, match="no answer after 2 tries"):
            OpenAIBackend("m", base_url=url, retries=1).generate(["Q"], Sampling(), [1])
    finally:
        httpd.shutdown()
        httpd.server_close()
    with pytest.raises(ScalingError, match="check --base-url"):
        OpenAIBackend("m", base_url=url, retries=0, timeout=2).generate(["Q"], Sampling(), [1])
