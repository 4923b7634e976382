"""The openai backend against a real vLLM OpenAI-compatible server on 127.0.0.1 (vLLM's CPU build
in CI) serving the tiny policy: the run equals the in-process vllm run with the same seeds, since
the server samples each request from its own seed with the same engine.

The server is started as ``python -m vllm.entrypoints.openai.api_server`` (the app ``vllm serve``
runs): the ``vllm`` command of vllm-cpu 0.32.0 stops at start with
``importlib.metadata.PackageNotFoundError: No package metadata was found for vllm``, as it asks
for the version of a distribution named ``vllm`` and the CPU build's is named ``vllm-cpu``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from tiny_models import assert_same_samples, collect_config, questions, samples_of

from collect.backends.base import Sampling
from collect.backends.openai import OpenAIBackend
from collect.prompts import build_template
from collect.runner import collect
from scaling.store import Run

pytest_plugins = ["collect_fixtures"]
pytestmark = pytest.mark.vllm


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vllm_server(tiny, tmp_path_factory):
    """vLLM's server on a free port of 127.0.0.1; yields its base URL; stopped afterwards."""
    pytest.importorskip("vllm", reason="vLLM is not installed (see the README's test command)")
    port = _free_port()
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
    log = tmp_path_factory.mktemp("vllm-serve") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(tiny["policy"]),
    ]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--dtype", "float32"]
    cmd += ["--enforce-eager", "--enable-prefix-caching"]
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            assert proc.poll() is None, f"the server exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the server did not come up in 600 s"
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(1)
        yield f"{url}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_openai_backend_on_vllm_serve_equals_the_in_process_run(
    tiny, vllm_reference, vllm_server, tmp_path
):
    out = tmp_path / "run"
    config = collect_config(
        tiny, out, backend="openai", base_url=vllm_server, concurrency=8, reward_backend="hf"
    )
    result = collect(config, progress=False)
    assert result.generated == result.missing_before
    assert Run.open(out).run_id == Run.open(vllm_reference).run_id
    assert_same_samples(samples_of(out), samples_of(vllm_reference))


def test_stop_strings_and_seeds_over_http(tiny, vllm_policy, vllm_server):
    remote = OpenAIBackend(
        str(tiny["policy"]), base_url=vllm_server, tokenizer=vllm_policy.tokenizer
    )
    prompt = build_template(vllm_policy.tokenizer).render(questions(1, seed=3)[0][0])
    sampling = Sampling(1.0, 0.9, 24)
    got = remote.generate([prompt] * 3, sampling, [5, 6, 5], stop=["\n\n"])
    assert got == vllm_policy.generate([prompt] * 3, sampling, [5, 6, 5], stop=["\n\n"])
    assert got[0] == got[2] and all(c.stop == "\n\n" for c in got if c.finish_reason == "stop")
