"""Run a compiled kernel (numba, ``nogil=True``) over chunks of problem rows on every core."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from scaling.estimators.compiling import wait


def cores() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def over_rows(kernel: Callable[..., None], rows: np.ndarray, *args) -> None:
    """Call ``kernel(chunk, *args)`` for chunks of ``rows``; the kernel writes its rows' results
    into arrays in ``args`` (disjoint per chunk). Small chunks keep the cores evenly busy. A
    kernel a helper process is compiling is waited for (``compiling.wait``)."""
    wait(kernel)
    workers = min(cores(), len(rows))
    if workers <= 1:
        kernel(rows, *args)
        return
    chunks = np.array_split(rows, min(len(rows), 8 * workers))
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(lambda chunk: kernel(chunk, *args), chunks):
            pass
