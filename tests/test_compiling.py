"""Kernels compiled ahead in a helper process: the command's own calls then load them from the
cache, a child that fails costs nothing, and no child starts when there is nothing to gain."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scaling.estimators import compiling, majority, sequential, weighted
from scaling.estimators.threads import cores
from scaling.strategies import parse_strategies

ROOT = Path(__file__).resolve().parents[1]

REPLAY = """
import json, sys
from scaling.estimators import compiling, majority, sequential, weighted
from scaling.simulate import simulate
simulate(sys.argv[1], "majority,weighted_majority,early_majority", ks=[1, 2, 4], bootstrap=0)
stats = {m.__name__.rpartition(".")[2]: [sum(k.stats.cache_hits.values()),
         sum(k.stats.cache_misses.values())] for m in (majority, sequential, weighted)
         for k in m.KERNELS}
print(json.dumps({"stats": stats, "ready": [compiling.is_ready(n) for n in stats]}))
"""


@pytest.mark.skipif(cores() < 2, reason="a helper process needs a second core")
def test_a_fresh_cache_compiles_the_later_kernels_in_a_child(tmp_path):
    """On an empty cache the first module compiles here, the others in the child: this process
    finds them in the cache (a hit, no compile) on real data."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "PYTHONPATH": str(ROOT)}
    run = str(ROOT / "data" / "runs" / "qwen25-math-cot100")
    out = subprocess.run(
        [sys.executable, "-c", REPLAY, run], env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["stats"]["majority"] == [0, 1]  # compiled here: first reached
    assert result["stats"]["sequential"][1] == 0 and result["stats"]["sequential"][0] >= 1
    assert result["stats"]["weighted"][1] == 0 and result["stats"]["weighted"][0] >= 1
    assert result["ready"] == [True, True, True]


class FakeChild:
    """A child process that announces ``done`` and then ends."""

    def __init__(self, done: list[str]):
        self.stdout = io.StringIO("".join(f"{n}\n" for n in done))
        self.killed = False

    def kill(self) -> None:
        self.killed = True

    def wait(self) -> int:
        return 0


@pytest.fixture
def spawned(monkeypatch):
    """Children started by ``compiling.start`` (not run): their argument lists."""
    calls: list[list[str]] = []

    def popen(args, **_):
        calls.append(args)
        return FakeChild([])

    monkeypatch.setattr(compiling.subprocess, "Popen", popen)
    monkeypatch.setattr(compiling, "is_ready", lambda name: False)
    yield calls
    compiling._stop()


def test_the_child_takes_every_cold_module_but_the_first(spawned):
    compiling.start(["majority", "sequential", "majority", "weighted"], cores=2)
    assert len(spawned) == 1
    assert spawned[0][-2:] == ["sequential", "weighted"]
    compiling.start(["weighted", "majority"], cores=2)  # one child at a time
    assert len(spawned) == 1


@pytest.mark.parametrize(
    "names, n_cores", [(["majority", "weighted"], 1), (["majority"], 2), ([], 2)]
)
def test_no_child_on_one_core_or_for_one_module(spawned, names, n_cores):
    compiling.start(names, cores=n_cores)
    assert spawned == []


def test_ready_modules_start_no_child(monkeypatch):
    monkeypatch.setattr(compiling.subprocess, "Popen", pytest.fail)
    for m in (majority, sequential, weighted):
        m.warm(compiling.tiny_pool(), compiling.WARM_KS)  # compiled in this process
        assert all(k.overloads for k in m.KERNELS)
        assert compiling.is_ready(m.__name__.rpartition(".")[2])
    compiling.start(["majority", "sequential", "weighted"], cores=2)


def test_wait_reads_until_the_module_is_done_and_survives_a_failed_child(monkeypatch):
    child = FakeChild(["sequential"])  # ends before announcing weighted
    monkeypatch.setattr(compiling, "_child", child)
    monkeypatch.setattr(compiling, "_pending", {"sequential", "weighted"})
    compiling.wait(sequential._exact_kernel)
    assert compiling._pending == {"weighted"} and not child.killed
    compiling.wait(weighted._weighted_kernel)  # EOF: stop waiting, compile here
    assert compiling._pending == set() and compiling._child is None and child.killed
    compiling.wait(majority._majority_kernel)  # nothing pending: returns at once


def test_the_strategies_declare_the_kernels_they_run():
    kernels = {s.key: s.kernels for s in parse_strategies("majority,best_of_n,pass")}
    assert kernels == {"majority": ("majority",), "best_of_n": (), "pass": ()}
    (alloc,) = parse_strategies("allocated:among=majority+weighted_majority+early_majority")
    assert alloc.kernels == ("majority", "weighted", "sequential")
