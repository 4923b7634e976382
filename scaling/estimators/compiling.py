"""Compile the estimators' numba kernels in a helper process while this one works.

numba compiles a kernel on its first call (seconds for each voting kernel) and caches the
machine code on disk, so a fresh install pays every kernel a command needs, one after the other.
``start(names)`` takes the estimator modules a command will use (``majority``, ``weighted``,
``sequential``: the modules of ``scaling.estimators`` that define ``KERNELS`` and ``warm``), in
the order it reaches them; when two or more are neither compiled in this process nor cached on
disk and another core is free, a child process compiles all but the first (each module's
``warm`` runs its estimator on a tiny pool: the same code path and argument types as real data)
while this process compiles the first itself. ``wait(kernel)`` (``over_rows`` calls it) blocks
until the child has finished that kernel's module; the kernel then loads from the cache. A child
that fails costs nothing but its time: the kernel compiles here as it would have.
"""

from __future__ import annotations

import atexit
import importlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType

import numpy as np
from numba import njit

from scaling.estimators.pool import Pool

inner = njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
"""The decorator of compiled functions that only compiled code calls: numba builds them no entry
point from Python (less to compile on a fresh install)."""

_child: subprocess.Popen | None = None
_pending: set[str] = set()  # modules the child has yet to finish


def module(name: str) -> ModuleType:
    """The estimator module ``scaling.estimators.<name>``."""
    return importlib.import_module(f"scaling.estimators.{name}")


def is_ready(name: str) -> bool:
    """Whether every kernel of module ``name`` is compiled in this process or cached on disk
    (also when that cannot be told, or numba runs uncompiled)."""
    for kernel in module(name).KERNELS:
        if getattr(kernel, "overloads", True):
            continue
        try:  # numba's on-disk index of the kernel's compiled signatures
            if kernel._cache._cache_file._load_index():
                continue
        except AttributeError:  # caching off, or another numba: nothing to gain
            continue
        return False
    return True


def start(names: Iterable[str], cores: int) -> None:
    """Compile the modules ``names`` (in order of first use) that are not ready: the first here
    when reached, the others in a child process, when ``cores`` > 1 and none is running."""
    global _child
    cold = [n for n in dict.fromkeys(names) if n not in _pending and not is_ready(n)]
    if cores < 2 or len(cold) < 2 or _child is not None:
        return
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": root if not path else os.pathsep.join([root, path])}
    try:
        _child = subprocess.Popen(
            [sys.executable, "-m", "scaling.estimators.compiling", *cold[1:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
    except OSError:  # no process to spare: compile here
        return
    _pending.update(cold[1:])
    atexit.register(_stop)


def wait(kernel: Callable) -> None:
    """Block until the child has compiled ``kernel``'s module, if it is compiling it."""
    name = kernel.__module__.rpartition(".")[2]
    while name in _pending and _child is not None:
        line = _child.stdout.readline().strip()
        if not line:  # the child ended (or failed): compile the rest here
            _stop()
            return
        _pending.discard(line)


def _stop() -> None:
    """End the child (at exit, or once it has nothing left that we wait for)."""
    global _child
    if _child is not None:
        _child.kill()
        _child.wait()
        _child.stdout.close()
    _child = None
    _pending.clear()


def tiny_pool() -> Pool:
    """Three problems of six samples, with answer clusters (one unparsed) and rewards."""
    return Pool.from_problems(
        correct=[[1, 0, 1, 0, 1, 1], [0, 0, 1, 0, 0, 0], [1, 1, 0, 1, 0, 1]],
        clusters=[list("abacaa"), ["x", "y", "z", "y", None, "y"], list("ppqprp")],
        rewards=[[0.9, 0.2, 0.8, 0.1, 0.7, 0.6], [0.3, 0.4, 0.9, 0.5, 0.2, 0.1], [0.5] * 6],
    )


WARM_KS = np.array([1, 2, 4], dtype=np.int64)  # budgets of the tiny replays


def main(names: list[str]) -> None:
    """The child: compile (and cache) each module's kernels, announcing each when done."""
    for name in names:
        module(name).warm(tiny_pool(), WARM_KS)
        print(name, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
