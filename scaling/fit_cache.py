"""Fitted laws kept on disk under what determines them, so that a repeated fit is not solved again.

A fit by ``fit.fit_laws`` (point estimate, bootstrap refits and the ends of what each refit
leaves open) is a deterministic function of the family, the data set (inputs, values, standard
errors, replicates), the settings (loss, Huber delta, space), the refits' starting point, the
code of the ``fit`` package and the numerical libraries. The key of a fit is the SHA-256 of all
of these (``law_key``); rows of a batched fit are solved independently, so a fit read back is
the one a fresh solve gives, to the bit, whichever data sets it was batched with.

One file per fit, ``FOLDER/<2 hex>/<key>.f8``: the arrays of ``LawFit.arrays()`` raveled, in the
order of ``fit.law_shapes``, as little-endian float64, then the SHA-256 of those bytes. No
pickles and no header: the data set gives the shapes, and a file of another length, or whose
bytes do not match their digest, is not the fit. Written atomically (a temporary file renamed
into place, mode 0o666 less the umask): a concurrent writer of the same key writes the same
bytes, so no lock is needed. A file that cannot be read or is not the fit is solved again and
replaced. Nothing is ever evicted: delete the folder to reclaim the space (about 75 kB per
curve with 1,000 replicates).

The folder: ``$SCALING_CACHE_DIR``, else ``$XDG_CACHE_HOME/scaling/fits``, else
``~/.cache/scaling/fits``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

import fit
from fit import Dataset, LawFit, law_shapes, restore_law
from fit.law import get_family
from fit.robust import as_inputs
from scaling.files import write_bytes

FORMAT = b"scaling-fit-cache 2"
DTYPE = np.dtype("<f8")
DIGEST = hashlib.sha256().digest_size  # the trailing checksum's bytes


def default_folder() -> Path | None:
    """``$SCALING_CACHE_DIR``, else ``$XDG_CACHE_HOME/scaling/fits``, else
    ``~/.cache/scaling/fits``; None (nothing kept) where the user has no home folder."""
    if folder := os.environ.get("SCALING_CACHE_DIR"):
        return Path(folder)
    if base := os.environ.get("XDG_CACHE_HOME"):
        return Path(base) / "scaling" / "fits"
    try:
        return Path.home() / ".cache" / "scaling" / "fits"
    except RuntimeError:  # no $HOME and no password entry
        return None


@functools.cache
def code_fingerprint() -> bytes:
    """The digest of what, besides its arguments, a fit depends on: the source of the ``fit``
    package, numpy's and scipy's versions, the machine's architecture."""
    import scipy

    h = hashlib.sha256(FORMAT)
    for path in sorted(Path(fit.__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    h.update(f"{np.__version__} {scipy.__version__} {platform.machine()}".encode())
    return h.digest()


def law_key(
    family: str, data: Dataset, settings: Mapping[str, Any], point: np.ndarray | None = None
) -> str:
    """The hex SHA-256 of everything a fit of ``family`` to ``data`` by ``fit_laws`` with
    ``settings`` depends on; ``point``: the estimate the refits start from (``LawFit.z`` of the
    fit passed as ``fit_laws``'s ``point``), None for a fit from the family's grid. Each array
    goes in after its name and shape, so the byte stream decodes one way only."""
    h = hashlib.sha256(code_fingerprint())
    h.update(json.dumps({"family": family, **settings}, sort_keys=True).encode())
    arrays = {
        **{f"x{i}": x for i, x in enumerate(as_inputs(get_family(family), data.x))},
        "y": data.y,
        "sigma": data.sigma,
        "replicates": data.replicates,
        "point": point,
    }
    for name, value in arrays.items():
        h.update(name.encode())
        if value is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(value, dtype=float)
        h.update(repr(a.shape).encode() + a.tobytes())
    return h.hexdigest()


class FitCache:
    """Fits in ``folder``, by ``law_key``. ``load`` gives None for a fit not kept (or whose file
    is unreadable); ``save`` raises the one-line ``scaling.errors.ScalingError`` when it cannot
    write."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.f8"

    def load(
        self, key: str, family: str, data: Dataset, settings: Mapping[str, Any], level: float
    ) -> LawFit | None:
        """The fit kept under ``key``, made again for ``data`` at interval ``level``."""
        shapes = law_shapes(family, data)
        sizes = [math.prod(shape) for shape in shapes.values()]
        try:
            kept = self.path(key).read_bytes()
        except OSError:
            return None  # absent or unreadable
        payload, digest = kept[:-DIGEST], kept[-DIGEST:]
        whole = len(payload) == DTYPE.itemsize * sum(sizes)
        if not whole or hashlib.sha256(payload).digest() != digest:
            return None  # not of this data's shape, or damaged
        parts = np.split(np.frombuffer(payload, dtype=DTYPE).copy(), np.cumsum(sizes)[:-1])
        arrays = {
            name: part.reshape(shape)
            for (name, shape), part in zip(shapes.items(), parts, strict=True)
        }
        return restore_law(family, data, arrays, **settings, level=level)

    def save(self, key: str, law: LawFit) -> None:
        flat = np.concatenate([np.ravel(a) for a in law.arrays().values()])
        payload = flat.astype(DTYPE).tobytes()
        write_bytes(self.path(key), payload + hashlib.sha256(payload).digest())

    def __repr__(self) -> str:
        return f"FitCache({str(self.folder)!r})"


def as_cache(cache: FitCache | str | Path | None) -> FitCache | None:
    """A ``FitCache`` from a folder (None: no cache)."""
    return cache if cache is None or isinstance(cache, FitCache) else FitCache(cache)
