"""The sample store: one run = one model x one problem set x one sampling config (x a reward model).

A run is a directory::

    RUN/
      run.json                 manifest (see ``MANIFEST_FIELDS``)
      problems.parquet         one row per problem (``PROBLEM_SCHEMA``)
      samples/part-NNNNN.parquet  append-only shards, one row per sample (``SAMPLE_SCHEMA``)

Every write goes to a temporary file in the same folder and is renamed into place, so a reader
never sees half a file and a crash never corrupts what was already written. Samples are keyed by
``(problem_id, greedy, sample_idx)``; appending a key that exists is an error.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scaling import __version__
from scaling.errors import ScalingError

SCHEMA_VERSION = 1

PROBLEM_SCHEMA = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("question", pa.string()),
        pa.field("answer", pa.string()),  # reference answer
        pa.field("level", pa.int16()),  # difficulty level (MATH 1..5) where known
        pa.field("search_tokens", pa.int64()),  # search runs: policy tokens of all expansions
        pa.field("search_rm_tokens", pa.int64()),  # search runs: tokens the PRM scored
    ]
)

SAMPLE_SCHEMA = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("sample_idx", pa.int32(), nullable=False),
        pa.field("greedy", pa.bool_(), nullable=False),  # a temperature-0 sample, outside the pool
        pa.field("answer", pa.string()),  # normalized final answer
        pa.field("cluster", pa.string()),  # equivalent answers share one key
        pa.field("correct", pa.bool_(), nullable=False),
        pa.field("reward", pa.float64()),  # outcome reward (ORM score)
        pa.field("step_rewards", pa.list_(pa.float64())),  # PRM step scores
        pa.field("prompt_tokens", pa.int32()),
        pa.field("completion_tokens", pa.int32()),
        pa.field("finish_reason", pa.string()),
        pa.field("text", pa.string()),
    ]
)

SAMPLE_KEY = ["problem_id", "greedy", "sample_idx"]

# Manifest: field -> (type or types, required). Nested dicts are checked by ``validate_manifest``.
MANIFEST_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "schema_version": ((int,), True),
    "run_id": ((str,), True),
    "model": ((dict,), True),  # name, params, n_layers, d_model
    "problem_set": ((str,), True),
    "prompt": ((dict,), False),  # template, hash
    "sampling": ((dict,), True),  # temperature, top_p, max_tokens, n, seed
    "reward_model": ((dict, type(None)), False),  # name, params, kind (orm|prm)
    "tokens": ((dict,), True),  # source (measured|assumed|mean), assumption
    "provenance": ((dict,), True),  # source, citation, license
    "search": ((dict, type(None)), False),  # method, width, ... for tree-search runs
    "tool_version": ((str,), True),
    "extra": ((dict,), False),
}
MODEL_FIELDS = {"name": (str,), "params": (int, float, type(None))}
TOKEN_SOURCES = {"measured", "assumed", "mean", "none"}


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[str]:
    """Yield a temporary file beside ``path``: renamed onto ``path`` when the block succeeds,
    removed when it fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    with _replacing(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    _atomic_write_bytes(Path(path), text.encode())


def _atomic_write_table(path: Path, table: pa.Table) -> None:
    with _replacing(path) as tmp:
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            use_dictionary=["problem_id", "answer", "cluster", "finish_reason"],
            column_encoding={"sample_idx": "DELTA_BINARY_PACKED"}
            if "sample_idx" in table.column_names
            else None,
        )
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())


def config_hash(config: Mapping[str, Any], length: int = 12) -> str:
    """A stable short hash of a JSON-able config (keys sorted): the run id of a collect run."""
    blob = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def validate_manifest(manifest: Any, where: str) -> dict:
    """Check the manifest's fields and types; raise ``ScalingError`` naming the first bad one."""
    if not isinstance(manifest, dict):
        raise ScalingError(f"{where}: the manifest must be a JSON object; re-create the run")
    for name, (types, required) in MANIFEST_FIELDS.items():
        if name not in manifest:
            if required:
                raise ScalingError(f"{where}: missing field '{name}'; add it or re-import the run")
            continue
        if not isinstance(manifest[name], types):
            kinds = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ScalingError(f"{where}: field '{name}' must be {kinds}; fix it in the manifest")
    for name, types in MODEL_FIELDS.items():
        if not isinstance(manifest["model"].get(name), types):
            raise ScalingError(
                f"{where}: field 'model.{name}' is missing or of the wrong type; fix the manifest"
            )
    source = manifest["tokens"].get("source")
    if source not in TOKEN_SOURCES:
        raise ScalingError(
            f"{where}: field 'tokens.source' must be one of {sorted(TOKEN_SOURCES)}, "
            f"got {source!r}; fix the manifest"
        )
    if manifest["schema_version"] > SCHEMA_VERSION:
        raise ScalingError(
            f"{where}: schema_version {manifest['schema_version']} is newer than this tool "
            f"understands ({SCHEMA_VERSION}); upgrade scaling"
        )
    return manifest


def new_manifest(
    *,
    model: Mapping[str, Any],
    problem_set: str,
    sampling: Mapping[str, Any],
    tokens: Mapping[str, Any],
    provenance: Mapping[str, Any],
    prompt: Mapping[str, Any] | None = None,
    reward_model: Mapping[str, Any] | None = None,
    search: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> dict:
    """Build a manifest; ``run_id`` defaults to a hash of the model, data, sampling and rewards."""
    body = {
        "model": dict(model),
        "problem_set": problem_set,
        "prompt": dict(prompt or {}),
        "sampling": dict(sampling),
        "reward_model": dict(reward_model) if reward_model else None,
        "tokens": dict(tokens),
        "provenance": dict(provenance),
        "search": dict(search) if search else None,
        "extra": dict(extra or {}),
    }
    ident = {k: body[k] for k in ("model", "problem_set", "prompt", "sampling", "reward_model")}
    ident["search"] = body["search"]
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id or config_hash(ident),
        **body,
        "tool_version": __version__,
    }


def _table_from_frame(frame: pd.DataFrame, schema: pa.Schema, where: str) -> pa.Table:
    """Conform a DataFrame to ``schema``: missing nullable columns become nulls; types are cast."""
    unknown = set(frame.columns) - set(schema.names)
    if unknown:
        raise ScalingError(
            f"{where}: unknown column(s) {sorted(unknown)}; allowed: {', '.join(schema.names)}"
        )
    arrays = []
    for field in schema:
        if field.name in frame.columns:
            col = frame[field.name]
            if not field.nullable and col.isna().any():
                raise ScalingError(f"{where}: column '{field.name}' has missing values")
            try:
                arrays.append(pa.array(col.tolist(), type=field.type, from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
                raise ScalingError(
                    f"{where}: column '{field.name}' cannot be stored as {field.type}: "
                    f"{str(e).splitlines()[0]}"
                ) from None
        elif field.nullable:
            arrays.append(pa.nulls(len(frame), type=field.type))
        elif field.name == "greedy":
            arrays.append(pa.array([False] * len(frame), type=pa.bool_()))
        else:
            raise ScalingError(f"{where}: required column '{field.name}' is missing")
    return pa.Table.from_arrays(arrays, schema=schema)


def _sample_keys(table: pa.Table) -> list[tuple[str, bool, int]]:
    """The (problem_id, greedy, sample_idx) key of every row of ``table``, in row order."""
    return list(zip(*(table.column(name).to_pylist() for name in SAMPLE_KEY), strict=True))


def _read_parquet(path: Path, schema: pa.Schema, columns: list[str] | None) -> pa.Table:
    try:
        table = pq.read_table(
            path,
            columns=columns,
            read_dictionary=[c for c in ("problem_id", "cluster") if not columns or c in columns],
        )
    except (pa.ArrowException, OSError) as e:
        raise ScalingError(
            f"{path}: not a readable Parquet file ({str(e).splitlines()[0]}); "
            "restore it or re-create the run"
        ) from None
    for name in table.column_names:
        want = schema.field(name).type if name in schema.names else None
        got = table.schema.field(name).type
        if want is None:
            raise ScalingError(f"{path}: unexpected column '{name}'; re-create the run")
        if pa.types.is_dictionary(got):
            got = got.value_type
        if got != want:
            raise ScalingError(
                f"{path}: column '{name}' has type {got}, expected {want}; re-create the run"
            )
    missing = [n for n in (columns or schema.names) if n not in table.column_names]
    if missing:
        raise ScalingError(f"{path}: missing column(s) {missing}; re-create the run")
    return table


class Run:
    """An open run directory. Create with ``Run.create``, open with ``Run.open``."""

    MANIFEST = "run.json"
    PROBLEMS = "problems.parquet"
    SAMPLES = "samples"

    def __init__(self, path: Path, manifest: dict):
        self.path = path
        self.manifest = manifest
        self._keys: set[tuple[str, bool, int]] | None = None  # filled on first append

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        manifest: dict,
        problems: pd.DataFrame,
        *,
        exist_ok: bool = False,
    ) -> Run:
        """Write a new run (manifest + problems). With ``exist_ok`` an identical run is reopened."""
        path = Path(path)
        validate_manifest(manifest, str(path / cls.MANIFEST))
        table = _table_from_frame(problems, PROBLEM_SCHEMA, str(path / cls.PROBLEMS))
        ids = table.column("problem_id").to_pylist()
        if len(set(ids)) != len(ids):
            raise ScalingError(f"{path / cls.PROBLEMS}: duplicate problem_id values")
        if (path / cls.MANIFEST).exists():
            existing = cls.open(path)
            if not exist_ok:
                raise ScalingError(
                    f"{path}: a run already exists here; choose another --out or delete it"
                )
            if existing.manifest["run_id"] != manifest["run_id"]:
                raise ScalingError(
                    f"{path}: holds run {existing.manifest['run_id']}, not {manifest['run_id']} "
                    "(a different config); choose another --out"
                )
            return existing
        path.mkdir(parents=True, exist_ok=True)
        _atomic_write_table(path / cls.PROBLEMS, table)
        atomic_write_text(path / cls.MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        return cls(path, manifest)

    @classmethod
    def open(cls, path: str | Path) -> Run:
        """Open a run directory and validate its manifest."""
        path = Path(path)
        mpath = path / cls.MANIFEST
        if not mpath.is_file():
            raise ScalingError(f"{path}: not a run (no {cls.MANIFEST}); pass a run directory")
        try:
            manifest = json.loads(mpath.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ScalingError(f"{mpath}: not valid JSON ({e}); restore or re-create it") from None
        return cls(path, validate_manifest(manifest, str(mpath)))

    # -- properties -------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.manifest["run_id"]

    @property
    def name(self) -> str:
        """A display name: the model name (plus search method/width for search runs)."""
        name = self.manifest["model"]["name"]
        search = self.manifest.get("search")
        if search:
            name = f"{name} [{search.get('method')} w={search.get('width')}]"
        return name

    @property
    def params(self) -> float | None:
        return self.manifest["model"].get("params")

    def shards(self) -> list[Path]:
        return sorted((self.path / self.SAMPLES).glob("part-*.parquet"))

    # -- reading ----------------------------------------------------------------------------
    def problems(self) -> pd.DataFrame:
        return _read_parquet(self.path / self.PROBLEMS, PROBLEM_SCHEMA, None).to_pandas()

    def sample_table(self, columns: list[str] | None = None) -> pa.Table:
        """All samples as one Arrow table (string keys dictionary-encoded), in shard order."""
        tables = [_read_parquet(p, SAMPLE_SCHEMA, columns) for p in self.shards()]
        if not tables:
            names = columns or SAMPLE_SCHEMA.names
            return pa.schema([SAMPLE_SCHEMA.field(n) for n in names]).empty_table()
        return pa.concat_tables(tables, promote_options="permissive")

    def samples(self, columns: list[str] | None = None, *, text: bool = False) -> pd.DataFrame:
        """Samples as a DataFrame; the ``text`` column is left out unless asked for."""
        if columns is None:
            columns = [n for n in SAMPLE_SCHEMA.names if text or n != "text"]
        return self.sample_table(columns).to_pandas()

    def existing_keys(self) -> set[tuple[str, bool, int]]:
        """The stored (problem_id, greedy, sample_idx) keys, read once and kept up to date."""
        if self._keys is None:
            self._keys = self._read_keys()
        return set(self._keys)

    def _read_keys(self) -> set[tuple[str, bool, int]]:
        return set(_sample_keys(self.sample_table(SAMPLE_KEY)))

    # -- writing ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock against a second writer on this run (non-blocking: errors at once)."""
        fh = open(self.path / ".lock", "w")  # noqa: SIM115 - held for the context's lifetime
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ScalingError(
                    f"{self.path}: another process is writing this run; wait for it to finish"
                ) from None
            yield
        finally:
            fh.close()

    def append_samples(self, samples: pd.DataFrame) -> Path | None:
        """Validate and write ``samples`` as a new shard, atomically. Returns the shard's path."""
        if samples.empty:
            return None
        where = f"{self.path / self.SAMPLES}"
        table = _table_from_frame(samples, SAMPLE_SCHEMA, where)
        problems = set(self.problems()["problem_id"])
        unknown = set(table.column("problem_id").to_pylist()) - problems
        if unknown:
            raise ScalingError(
                f"{where}: problem_id {sorted(unknown)[:3]} not in {self.PROBLEMS}; "
                "add the problems first"
            )
        keys = _sample_keys(table)
        if len(set(keys)) != len(keys):
            raise ScalingError(f"{where}: the new samples repeat a (problem_id, sample_idx) key")
        if self._keys is None:
            self._keys = self._read_keys()
        clash = self._keys.intersection(keys)
        if clash:
            raise ScalingError(
                f"{where}: sample {sorted(clash)[0]} is already stored; append only new samples"
            )
        shards = self.shards()
        nxt = int(shards[-1].stem.split("-")[1]) + 1 if shards else 0
        out = self.path / self.SAMPLES / f"part-{nxt:05d}.parquet"
        _atomic_write_table(out, table)
        self._keys.update(keys)
        return out

    def update_problems(self, updates: pd.DataFrame) -> None:
        """Set columns of some problems (rows keyed by ``problem_id``), atomically.

        Used by tree search to record each problem's measured search cost as it finishes.
        """
        where = str(self.path / self.PROBLEMS)
        if "problem_id" not in updates.columns:
            raise ScalingError(f"{where}: problem updates need a 'problem_id' column")
        table = _read_parquet(self.path / self.PROBLEMS, PROBLEM_SCHEMA, None)
        columns = {name: table.column(name).to_pylist() for name in PROBLEM_SCHEMA.names}
        at = {pid: i for i, pid in enumerate(columns["problem_id"])}
        unknown = [p for p in updates["problem_id"] if p not in at]
        if unknown:
            raise ScalingError(f"{where}: problem_id {unknown[0]!r} is not in this run's problems")
        for name in updates.columns.drop("problem_id"):
            if name not in PROBLEM_SCHEMA.names:
                raise ScalingError(f"{where}: unknown column '{name}'")
            for pid, value in zip(updates["problem_id"], updates[name].tolist(), strict=True):
                columns[name][at[pid]] = None if pd.isna(value) else value
        frame = pd.DataFrame({name: pd.Series(v, dtype=object) for name, v in columns.items()})
        _atomic_write_table(
            self.path / self.PROBLEMS, _table_from_frame(frame, PROBLEM_SCHEMA, where)
        )

    def update_manifest(self, **fields: Any) -> None:
        """Replace top-level manifest fields, atomically."""
        manifest = {**self.manifest, **fields}
        validate_manifest(manifest, str(self.path / self.MANIFEST))
        atomic_write_text(self.path / self.MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        self.manifest = manifest

    # -- checking ---------------------------------------------------------------------------
    def verify(self) -> dict[str, int]:
        """Full integrity check: manifest, every Parquet file, keys, problem references.

        Returns counts (problems, samples, shards); raises ``ScalingError`` on the first problem.
        """
        problems = self.problems()
        ids = set(problems["problem_id"])
        if len(ids) != len(problems):
            raise ScalingError(f"{self.path / self.PROBLEMS}: duplicate problem_id values")
        seen: set[tuple] = set()
        n = 0
        for shard in self.shards():
            t = _read_parquet(shard, SAMPLE_SCHEMA, None)
            for name in ("problem_id", "sample_idx", "greedy", "correct"):
                if t.column(name).null_count:
                    raise ScalingError(f"{shard}: column '{name}' has missing values")
            keys = _sample_keys(t)
            bad = {k[0] for k in keys} - ids
            if bad:
                raise ScalingError(f"{shard}: problem_id {sorted(bad)[0]!r} is not in problems")
            dup = seen.intersection(keys) or (len(set(keys)) != len(keys))
            if dup:
                raise ScalingError(f"{shard}: duplicate (problem_id, greedy, sample_idx) keys")
            seen.update(keys)
            n += len(keys)
        return {"problems": len(problems), "samples": n, "shards": len(self.shards())}


def open_runs(paths: list[str | Path]) -> list[Run]:
    """Open several runs; a folder that holds runs below it expands to all of them."""
    runs: list[Run] = []
    for p in map(Path, paths):
        if (p / Run.MANIFEST).is_file() or not p.is_dir():
            runs.append(Run.open(p))
            continue
        found = sorted(m.parent for m in p.rglob(Run.MANIFEST))
        if not found:
            raise ScalingError(f"{p}: no run (run.json) in this folder; pass a run directory")
        runs.extend(Run.open(f) for f in found)
    return runs
