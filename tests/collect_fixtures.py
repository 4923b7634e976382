"""Session fixtures of the collect tests (test modules load them with
``pytest_plugins = ["collect_fixtures"]``): the tiny models, a reference run, and one vLLM engine
on the tiny policy shared by every vLLM test of the session (loading one takes about half a
minute on 2 cores)."""

from __future__ import annotations

import os

import pytest
from tiny_models import build_all, collect_config

VLLM_OPTIONS = {"backend": "vllm", "dtype": "float32", "reward_backend": "hf"}


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """Paths of the tiny policy, PRMs, ORM and problem file (built once per session)."""
    import torch

    torch.set_num_threads(1)
    return build_all(tmp_path_factory.getbasetemp() / "tiny-models")


@pytest.fixture(scope="session")
def reference_run(tiny, tmp_path_factory):
    """An uninterrupted hf run with the shared settings: what every other hf path must equal."""
    from collect.runner import collect

    out = tmp_path_factory.getbasetemp() / "reference-run"
    if not (out / "run.json").exists():
        collect(collect_config(tiny, out), progress=False)
    return out


@pytest.fixture(scope="session")
def vllm_policy(tiny):
    """The tiny policy on vLLM's engine (the CPU build without a GPU), float32, shared."""
    pytest.importorskip("vllm", reason="vLLM is not installed (see the README's test command)")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    from collect.backends.vllm import VLLMBackend

    backend = VLLMBackend(str(tiny["policy"]), dtype="float32", gpu_memory_utilization=0.3)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def vllm_reference(tiny, vllm_policy, tmp_path_factory):
    """An uninterrupted vllm run with the shared settings (hf PRM): what the other vllm paths
    must equal."""
    from collect.runner import collect

    out = tmp_path_factory.getbasetemp() / "vllm-reference-run"
    if not (out / "run.json").exists():
        collect(collect_config(tiny, out, **VLLM_OPTIONS), backend=vllm_policy, progress=False)
    return out
