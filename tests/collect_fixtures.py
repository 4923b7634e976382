"""Session fixtures of the collect tests (test modules load them with
``pytest_plugins = ["collect_fixtures"]``): the tiny models and a reference run."""

from __future__ import annotations

import pytest
from tiny_models import build_all, collect_config


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """Paths of the tiny policy, PRM, ORM and problem file (built once per session)."""
    import torch

    torch.set_num_threads(1)
    return build_all(tmp_path_factory.getbasetemp() / "tiny-models")


@pytest.fixture(scope="session")
def reference_run(tiny, tmp_path_factory):
    """An uninterrupted hf run with the shared settings: what every other path must equal."""
    from collect.runner import collect

    out = tmp_path_factory.getbasetemp() / "reference-run"
    if not (out / "run.json").exists():
        collect(collect_config(tiny, out), progress=False)
    return out
