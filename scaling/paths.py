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
    """Every run directory under ``data/runs`` (a run is a folder holding ``run.json``; hidden
    folders are skipped)."""
    from scaling.store import find_runs

    return find_runs(data_dir() / "runs")


def resolve_runs(runs=None, *, check: bool = True) -> list:
    """Open ``runs``: run objects, run directories or folders holding runs (in any mix); with
    none given, every embedded default run, ordered by data set, then model size, then name.

    ``check``: each run passes ``Run.check`` (what ``verify`` checks, cheaply) or the first
    that does not raises ``ScalingError``."""
    from scaling.errors import ScalingError
    from scaling.store import Run, open_runs

    if runs is None or (not isinstance(runs, (Run, str, Path)) and len(runs) == 0):
        found = default_runs()
        if not found:
            raise ScalingError("no embedded runs found under data/runs; pass a run directory")
        opened = open_runs(found, check=check)
        return sorted(opened, key=lambda r: (str(r.path.parent), r.params or float("inf"), r.name))
    if isinstance(runs, (Run, str, Path)):
        runs = [runs]
    out: list[Run] = []
    for item in runs:
        if isinstance(item, Run):
            out.append(item.check() if check else item)
        else:
            out.extend(open_runs([item], check=check))
    return out
