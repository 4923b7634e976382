"""Worker processes: results in order, the same as in-process, errors raised here; the curve
families fitted on workers give the report fitted here, to the bit."""

from __future__ import annotations

import pickle
import signal
import time
from functools import partial

import numpy as np
import pytest

from fit import FAMILIES, Family, Param
from scaling import workers
from scaling.estimators.threads import cores
from scaling.paths import default_runs
from scaling.report import fit_runs
from scaling.store import open_runs


def _square(x: int) -> int:
    return x * x


def _fail(x: int) -> int:
    raise ValueError(f"job {x} failed")


def test_run_all_keeps_the_order_and_the_results():
    jobs = [partial(_square, x) for x in range(7)]
    assert workers.run_all(jobs, 2) == [x * x for x in range(7)]
    assert workers.run_all(jobs, 1) == [x * x for x in range(7)]
    assert workers.run_all(jobs[:1], 4) == [0]
    assert workers.run_all([], 4) == []


@pytest.mark.parametrize("n", [1, 2])
def test_a_failing_job_raises_its_error_here(n):
    with pytest.raises(ValueError, match="job 3 failed"):
        workers.run_all([partial(_square, 2), partial(_fail, 3)], n)


def test_a_pool_that_cannot_start_runs_the_jobs_here(monkeypatch):
    def no_pool(*_, **__):
        raise OSError("no processes")

    monkeypatch.setattr(workers, "pool", no_pool)
    assert workers.run_all([partial(_square, 3), partial(_square, 4)], 2) == [9, 16]


def test_warm_starts_a_process_from_a_thread_and_the_jobs_run_on_it(monkeypatch):
    monkeypatch.setattr(workers, "_POOLS", {})
    monkeypatch.setattr(workers, "_STARTING", {})
    workers.warm(1)
    assert workers._POOLS == {}  # one worker: the jobs run here, no pool
    workers.warm(3)
    executor = workers._POOLS[3]
    deadline = time.monotonic() + 60
    while not executor._processes and time.monotonic() < deadline:
        time.sleep(0.05)
    assert executor._processes  # started by the thread, with no job of ours
    assert workers.run_all([partial(_square, x) for x in range(5)], 3) == [0, 1, 4, 9, 16]
    workers.kill(executor)


def test_a_pool_killed_while_it_starts_waits_for_its_process_first(monkeypatch):
    """Killed at once after ``warm`` (a command interrupted while it loads): the process being
    started is waited for, then killed, so it never starts without its parent (which prints a
    traceback)."""
    monkeypatch.setattr(workers, "_POOLS", {})
    monkeypatch.setattr(workers, "_STARTING", {})
    workers.warm(3)
    executor, starting = workers._POOLS[3], workers._STARTING[3]
    workers.kill(executor)
    assert not starting.is_alive() and workers._POOLS == {} and workers._STARTING == {}


def test_the_command_line_stops_the_pools_it_made(monkeypatch):
    from scaling.cli import main

    monkeypatch.setattr(workers, "_POOLS", {})
    monkeypatch.setattr(workers, "_STARTING", {})
    workers.warm(3)
    with pytest.raises(SystemExit):
        main(["--help"])
    assert workers._POOLS == {} and workers._STARTING == {}


def test_warm_without_processes_leaves_the_jobs_to_this_process(monkeypatch):
    def no_pool(*_, **__):
        raise OSError("no processes")

    monkeypatch.setattr(workers, "pool", no_pool)
    workers.warm(2)
    assert workers.run_all([partial(_square, 3), partial(_square, 4)], 2) == [9, 16]


def test_an_interrupt_stops_the_jobs_at_once():
    def interrupt(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            workers.run_all([partial(time.sleep, 30), partial(time.sleep, 30)], 2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < 10
    assert 2 not in workers._POOLS


def test_registered_families_pickle_by_name_and_others_refuse():
    for family in FAMILIES.values():
        assert pickle.loads(pickle.dumps(family)) is family
    own = Family(
        "own", "err = a", ("x",), (Param("a", (0.0, 1.0), (0.5,)),), lambda x, a: a + 0 * x
    )
    with pytest.raises(pickle.PicklingError, match="not in FAMILIES"):
        pickle.dumps(own)


@pytest.mark.skipif(cores() < 2, reason="worker processes need a second core")
def test_the_report_is_the_same_on_worker_processes():
    runs = open_runs(default_runs())
    here = fit_runs(runs, bootstrap=30, seed=4, workers=1)
    there = fit_runs(runs, bootstrap=30, seed=4, workers=2)
    assert here.frontier.equals(there.frontier)
    assert len(here.fits) == len(there.fits)
    for a, b in zip(here.fits, there.fits, strict=True):
        assert a.chosen == b.chosen and sorted(a.fits) == sorted(b.fits)
        for name in a.fits:
            assert np.array_equal(a.fits[name].params, b.fits[name].params)
            assert np.array_equal(
                a.fits[name].boot_params, b.fits[name].boot_params, equal_nan=True
            )
    assert [o.label for o in here.optimal] == [o.label for o in there.optimal]
    for a, b in zip(here.optimal, there.optimal, strict=True):  # the joint laws, on workers
        assert np.array_equal(a.joint.params, b.joint.params)
        assert np.array_equal(a.joint.boot_params, b.joint.boot_params, equal_nan=True)
