"""Where the embedded default data lives (``data/`` in a checkout, ``scaling/_data`` in a wheel)."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The embedded data folder; ``$SCALING_DATA`` overrides it."""
    if env := os.environ.get("SCALING_DATA"):
        return Path(env)
    packaged = Path(__file__).resolve().parent / "_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "data"


def default_runs() -> list[Path]:
    """Every run directory under ``data/runs`` (a run is a folder holding ``run.json``)."""
    return sorted(p.parent for p in (data_dir() / "runs").rglob("run.json"))
