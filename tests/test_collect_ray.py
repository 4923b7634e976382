"""The ray backend on a local Ray cluster started by the test (2 CPUs, 2 workers): with hf workers
the run and the ordered ``generate`` equal the single-process hf results; with vLLM workers (the
CPU build in CI) the run equals the single-process vllm run."""

from __future__ import annotations

import os

import pytest
import ray
from collect_fixtures import VLLM_OPTIONS
from tiny_models import assert_same_samples, collect_config, questions, samples_of

from collect.backends.base import Sampling
from collect.backends.hf import HFBackend
from collect.backends.ray import RayBackend
from collect.prompts import build_template
from collect.runner import collect
from scaling.store import Run

pytest_plugins = ["collect_fixtures"]


@pytest.fixture(scope="module")
def cluster(tiny):
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # the workers inherit it
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_run_equals_the_single_process_run(tiny, reference_run, cluster, tmp_path):
    out = tmp_path / "run"
    config = collect_config(tiny, out, backend="ray", ray_engine="hf", workers=2)
    result = collect(config, progress=False)
    assert result.generated == result.missing_before
    assert_same_samples(samples_of(out), samples_of(reference_run))
    engine = Run.open(out).manifest["extra"]["collect"]["sessions"][-1]["engine"]
    assert engine == {
        "backend": "ray",
        "gpus": 0,
        "engine": "hf",
        "workers": 2,
        "gpus_per_worker": 0,
    }
    assert ray.is_initialized()  # a cluster the caller started is left running


def test_ray_generate_keeps_request_order(tiny, cluster):
    local = HFBackend(str(tiny["policy"]))
    template = build_template(local.tokenizer)
    prompts = [template.render(q) for q, _ in questions(3, seed=3)]
    requests = [prompts[2], prompts[0], prompts[2], prompts[1]]
    sampling = Sampling(1.0, 1.0, 20)
    remote = RayBackend(str(tiny["policy"]), engine="hf", workers=2)
    got = remote.generate(requests, sampling, [4, 3, 2, 1], stop=["\n\n"])
    assert got == [
        local.generate([p], sampling, [s], stop=["\n\n"])[0]
        for p, s in zip(requests, [4, 3, 2, 1], strict=True)
    ]


@pytest.mark.vllm
def test_ray_with_vllm_workers_equals_the_single_process_vllm_run(
    tiny, vllm_reference, cluster, tmp_path
):
    pytest.importorskip("vllm", reason="vLLM is not installed (see the README's test command)")
    out = tmp_path / "run"
    options = {**VLLM_OPTIONS, "backend": "ray", "ray_engine": "vllm", "workers": 2}
    config = collect_config(tiny, out, **options)
    result = collect(config, progress=False)
    assert result.generated == result.missing_before
    assert_same_samples(samples_of(out), samples_of(vllm_reference))
    engine = Run.open(out).manifest["extra"]["collect"]["sessions"][-1]["engine"]
    assert (engine["engine"], engine["workers"], engine["gpus_per_worker"]) == ("vllm", 2, 0)
