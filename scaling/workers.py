"""Worker processes for independent jobs, kept warm across calls: one pool per size.

On POSIX the workers fork from a server process (``forkserver``) that imports the main module
and the modules named by the first pool's ``preload`` once, so a pool starts cheaply and safely
in a threaded parent; elsewhere they are spawned. ``run_all`` runs jobs (picklable callables
without arguments) on a pool and returns their results in order; ``warm`` starts a pool's
first process ahead, from a thread, so that the server's imports overlap this process's work.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")

_POOLS: dict[int, ProcessPoolExecutor] = {}
_STARTING: dict[int, threading.Thread] = {}  # pool size -> the thread starting its first process


def pool(workers: int, preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, kept warm for later calls."""
    if workers not in _POOLS:
        if os.name == "posix":
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["__main__", *preload])
        else:
            ctx = multiprocessing.get_context("spawn")
        _POOLS[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    return _POOLS[workers]


def warm(workers: int, preload: Sequence[str] = ()) -> None:
    """Start the pool's first process now, from a thread: the server imports ``preload``
    while this process goes on (a submit waits for it)."""
    if workers < 2:
        return
    try:
        executor = pool(workers, preload)
    except OSError:
        return
    _STARTING[workers] = threading.Thread(target=_start, args=(executor,), daemon=True)
    _STARTING[workers].start()


def _start(executor: ProcessPoolExecutor) -> None:
    with contextlib.suppress(OSError, RuntimeError, BrokenProcessPool):  # run_all falls back
        executor.submit(int)


def kill(executor: ProcessPoolExecutor) -> None:
    """Stop a pool (one whose worker hangs or died, or at the end of a command): kill its
    processes, then shut it down. A process it is starting is waited for first: one that loses
    its parent halfway through starting prints a traceback."""
    for size, known in list(_POOLS.items()):
        if known is executor:
            del _POOLS[size]
            starting = _STARTING.pop(size, None)
            if starting is not None:
                starting.join()
    for proc in list((getattr(executor, "_processes", None) or {}).values()):
        proc.kill()
    executor.shutdown(wait=True, cancel_futures=True)


def stop_all() -> None:
    """Kill every pool (the command is ending)."""
    for executor in list(_POOLS.values()):
        kill(executor)


def run_all(jobs: Sequence[Callable[[], T]], workers: int, preload: Sequence[str] = ()) -> list[T]:
    """Each job's result, in order: on ``workers`` processes (largest jobs first is the
    caller's order), or here one after the other when ``workers`` < 2, for a single job, or when
    the pool cannot start or breaks. An exception raised by a job is raised here; an interrupt
    kills the pool's processes."""
    if workers < 2 or len(jobs) < 2:
        return [job() for job in jobs]
    try:
        executor = pool(workers, preload)
    except OSError:
        return [job() for job in jobs]
    try:
        futures = [executor.submit(job) for job in jobs]
        return [f.result() for f in futures]
    except (OSError, BrokenProcessPool):
        kill(executor)
        return [job() for job in jobs]
    except KeyboardInterrupt:  # stop the jobs now, not when they finish
        kill(executor)
        raise
