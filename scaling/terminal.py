"""The standard-output console: rich, at most 80 columns wide, quiet when the reader leaves; names
shortened to a width.

A closed pipe (``scaling fit | head``) ends the command with status 0 and no message: what was
asked for has been written (files are written before anything is printed).
"""

from __future__ import annotations

import os
import sys
from typing import Any

WIDTH = 80


def stdout_console(**options: Any):
    """A ``rich.console.Console`` on standard output, ``WIDTH`` columns at most."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(0)

    width = min(WIDTH, Console().width)
    return _Console(width=width, highlight=False, **options)


def shorten(name: str, width: int) -> str:
    """``name`` in at most ``width`` characters: common suffixes dropped first, then the middle
    elided, so the size and the end stay readable."""
    for suffix in ("-instruct", "-chat", "-hf", "-it"):
        if len(name) > width and name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    if len(name) <= width:
        return name
    head = (width - 1) // 2
    return name[:head] + "…" + name[len(name) - (width - 1 - head) :]
