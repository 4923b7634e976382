"""The rich progress bar used by long work: a label, the bar, done/total, rate text and ETA."""

from __future__ import annotations

from typing import Any


def progress_bar(label: str, *fields: str, **options: Any):
    """A ``rich.progress.Progress`` with columns: ``label``, bar, M/N, each of ``fields``
    (text templates such as ``"{task.fields[rate]}"``), time elapsed and time remaining.

    ``options`` go to ``Progress`` unchanged (``disable``, ``transient``, ``console``).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        *(TextColumn(field) for field in fields),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        **options,
    )
