"""The sample store: one run = one model x one problem set x one sampling config (x a reward model).

A run is a directory::

    RUN/
      run.json                 manifest (``scaling.manifest``; ``Run.meta`` is its typed view)
      problems.parquet         one row per problem (``PROBLEM_SCHEMA``)
      samples/part-NNNNN.parquet  append-only shards, one row per sample (``SAMPLE_SCHEMA``)

Samples are keyed by ``(problem_id, greedy, sample_idx)``. What the store guarantees:

- **A run is born whole.** ``Run.build`` (importers) and ``Run.create`` (collect) write a new run
  into a hidden folder ``.NAME.<hex>.tmp`` beside its destination, under that folder's lock, and
  publish it with one create-or-fail rename (``scaling.files.rename_noreplace``): of two writers
  racing for one destination exactly one wins and the other gets an error; nothing is replaced
  by accident. Replacing (``import --force``) takes the old run's lock first (so a collect
  writing it is never cut off) and swaps the two folders atomically.
- **One writer at a time.** Every write to an existing run (``append_samples``,
  ``update_problems``, ``update_manifest``) holds the run's lock (``Run.lock``: ``RUN/.lock``,
  never followed through a symbolic link, never truncated, removed on release) and writes a
  temporary file renamed into place, so a crash loses at most the write in progress. Taking the
  lock re-reads ``run.json``: a run replaced since it was opened is refused.
- **Validation before writing.** Manifest, problems and samples are checked in full before a
  byte is written: required values present, ``sample_idx`` and token counts >= 0 (int32),
  rewards and step rewards finite, unique keys, known problems. In a DataFrame, NaN is pandas'
  missing value and is stored as null.
- **Readers verify what they read.** ``open_runs`` (behind every command that reads runs:
  info, simulate, fit, explore) runs ``Run.check``: problem ids unique, sample keys unique and
  naming known problems, at least one problem and one sample, from the ids and key columns
  alone. ``sample_table`` checks the keys once per opened run and every column it reads
  (non-negative counts, finite rewards, no missing keys); ``problems`` checks ids. The first
  violation is a one-line ``ScalingError``. ``verify`` checks every column of every file.
- Hidden temporaries are never runs (``find_runs`` skips them); those whose writer died are
  removed by the next write beside them (``scaling.files.clean_stale``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scaling import __version__, files
from scaling.errors import ScalingError
from scaling.manifest import SCHEMA_VERSION, Manifest, parse_manifest

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
COUNT_COLUMNS = ("sample_idx", "prompt_tokens", "completion_tokens", "search_tokens")
COUNT_COLUMNS += ("search_rm_tokens",)
ROW_GROUP_ROWS = 1 << 20  # rows per Parquet row group (pyarrow's default)
ROW_GROUP_BYTES = 64 << 20  # ... or fewer, to hold at most this much in memory while writing

__all__ = ["PROBLEM_SCHEMA", "SAMPLE_SCHEMA", "SCHEMA_VERSION", "Run", "RunDraft"]


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (``scaling.files``)."""
    files.write_text(path, text)


def config_hash(config: Mapping[str, Any], length: int = 12) -> str:
    """A stable short hash of a JSON-able config (keys sorted): the run id of a collect run."""
    blob = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


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
    grading: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> dict:
    """Build a manifest. ``grading``: how answers were graded (``Grader.describe()``: its
    ``name`` and settings), None when the samples were not graded here.

    ``run_id`` defaults to a hash of what makes the run: the model block, problem set, prompt,
    sampling, reward model, search, the grader's name (kind and option: the same samples graded
    differently are another run; not the library version that ran it) and the source
    (``provenance.sha256``, the hash of the imported bytes, and ``provenance.fields``, how they
    were read): runs imported from different files differ, the same file imported twice with the
    same options gives the same id. Tokens, provenance's citation and license, and ``extra`` do
    not enter it."""
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
    if grading is not None:
        body["grading"] = dict(grading)
    ident = {k: body[k] for k in ("model", "problem_set", "prompt", "sampling", "reward_model")}
    ident["search"] = body["search"]
    if grading is not None:
        ident["grader"] = grading.get("name")
    source = {k: provenance[k] for k in ("sha256", "fields") if provenance.get(k) is not None}
    if source:
        ident["source"] = source
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id or config_hash(ident),
        **body,
        "tool_version": __version__,
    }


# -- validation -----------------------------------------------------------------------------------
def _table_from_frame(frame: pd.DataFrame, schema: pa.Schema, where: str) -> pa.Table:
    """Conform a DataFrame to ``schema``: missing nullable columns become nulls; types are cast
    (safely: a fraction or a value out of range is an error, NaN is null)."""
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
            numeric = isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf"
            values = col.to_numpy() if numeric else col.tolist()
            try:
                arrays.append(pa.array(values, type=field.type, from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
                raise ScalingError(
                    f"{where}: column '{field.name}' cannot be stored as {field.type}: "
                    f"{str(e).splitlines()[0]}"
                ) from None
        elif field.nullable:
            arrays.append(pa.nulls(len(frame), type=field.type))
        elif field.name == "greedy":
            arrays.append(pa.array(np.zeros(len(frame), dtype=bool)))
        else:
            raise ScalingError(f"{where}: required column '{field.name}' is missing")
    return pa.Table.from_arrays(arrays, schema=schema)


def _check_values(table: pa.Table, where: str) -> None:
    """The value rules of every column ``table`` holds: keys present, counts >= 0, rewards
    finite. Raises ``ScalingError`` naming ``where`` and the column."""
    for name in table.column_names:
        col = table.column(name)
        if name in SAMPLE_KEY + ["correct"] and col.null_count:
            raise ScalingError(f"{where}: column '{name}' has missing values; re-create the run")
        if name in COUNT_COLUMNS and len(col) > col.null_count:
            low = pc.min(col).as_py()
            if low < 0:
                raise ScalingError(
                    f"{where}: column '{name}' holds a negative count ({low}); counts are >= 0"
                )
        if name in ("reward", "step_rewards") and len(col) > col.null_count:
            values = pc.list_flatten(col) if name == "step_rewards" else col
            if len(values) and not pc.all(pc.is_finite(values)).as_py():
                raise ScalingError(
                    f"{where}: column '{name}' holds NaN or an infinity; rewards are finite "
                    "numbers (null = no reward)"
                )


def _check_statistics(path: Path) -> None:
    """Counts >= 0 and rewards free of infinities, from a Parquet file's column statistics
    (its footer alone; NaN never enters the statistics)."""
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as e:
        raise ScalingError(f"{path}: not a readable Parquet file ({e}); restore it") from None
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            name = column.path_in_schema.split(".")[0]
            stats = column.statistics
            if stats is None or not stats.has_min_max:
                continue
            if name in COUNT_COLUMNS and stats.min < 0:
                raise ScalingError(
                    f"{path}: column '{name}' holds a negative count ({stats.min}); counts are >= 0"
                )
            if name in ("reward", "step_rewards") and not (
                math.isfinite(stats.min) and math.isfinite(stats.max)
            ):
                raise ScalingError(
                    f"{path}: column '{name}' holds NaN or an infinity; rewards are finite "
                    "numbers (null = no reward)"
                )


def _problems_table(problems: pd.DataFrame | pa.Table, where: str) -> pa.Table:
    """Problems conformed to ``PROBLEM_SCHEMA`` and checked: ids present and unique, >= 1."""
    if isinstance(problems, pd.DataFrame):
        problems = _table_from_frame(problems, PROBLEM_SCHEMA, where)
    _check_problems(problems, where)
    return problems


def _check_problems(table: pa.Table, where: str) -> None:
    if table.num_rows == 0:
        raise ScalingError(f"{where}: no problems; a run holds at least one")
    _check_values(table, where)
    ids = table.column("problem_id")
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(pa.string())
    if ids.null_count:
        raise ScalingError(f"{where}: column 'problem_id' has missing values")
    if pc.count_distinct(ids).as_py() != table.num_rows:
        raise ScalingError(f"{where}: duplicate problem_id values")


APPEND_CLASH = "is already stored; append only new samples"
STORED_TWICE = "is stored twice (a copied shard?); remove the copy or re-create the run"


class _Keys:
    """The ``(problem_id, greedy, sample_idx)`` keys of a run, as sorted int64 arrays.

    A key packs the problem's number, the greedy flag and the index into one int64 (problem
    << 33 | greedy << 32 | sample_idx); arrays are kept in levels of growing size (merged like
    a binary counter), so checking and adding n keys costs O(n log n) in all and 8 bytes per key.
    ``ids``: the run's problems in order; None numbers problems as they come (a draft).
    """

    def __init__(self, ids: list[str] | None):
        self.ids = list(ids or [])
        self.number = {pid: i for i, pid in enumerate(self.ids)}
        self.grow = ids is None
        self._known: pa.Array | None = None  # the ids as Arrow strings, when not growing
        self.levels: list[np.ndarray] = []

    def encode(self, table: pa.Table, where: str) -> np.ndarray:
        column = table.column("problem_id")
        codes = []
        for chunk in column.chunks:
            if not pa.types.is_dictionary(chunk.type):
                chunk = pc.dictionary_encode(chunk)
            mapping = self._numbers(chunk.dictionary, where)
            codes.append(mapping[chunk.indices.to_numpy(zero_copy_only=False)])
        key = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)  # a new array
        key <<= 33
        key |= table.column("greedy").to_numpy().astype(np.int64) << 32
        key |= table.column("sample_idx").to_numpy().astype(np.int64)
        return key

    def _numbers(self, dictionary: pa.Array, where: str) -> np.ndarray:
        """The number of each problem id in ``dictionary`` (new ids numbered next when
        growing)."""
        if not self.grow:
            if self._known is None:
                self._known = pa.array(self.ids, type=pa.string())
            found = pc.index_in(dictionary.cast(pa.string()), value_set=self._known)
            if found.null_count:
                pid = dictionary[pc.index(pc.is_null(found), True).as_py()].as_py()
                raise ScalingError(
                    f"{where}: problem_id {pid!r} is not in problems.parquet; add the "
                    "problems first (or run verify)"
                )
            return found.to_numpy(zero_copy_only=False).astype(np.int64)
        mapping = np.empty(len(dictionary), dtype=np.int64)
        for i, pid in enumerate(dictionary.to_pylist()):
            if pid not in self.number:
                self.number[pid] = len(self.ids)
                self.ids.append(pid)
            mapping[i] = self.number[pid]
        return mapping

    def describe(self, key: int) -> str:
        pid = self.ids[key >> 33]
        return f"(problem_id {pid!r}, greedy {bool(key >> 32 & 1)}, sample_idx {key & 0xFFFFFFFF})"

    def check(self, keys: np.ndarray, where: str, *, clash: str = APPEND_CLASH) -> None:
        """Raise unless ``keys`` are distinct and new; then hold them as a pending level."""
        keys = keys if len(keys) < 2 or (np.diff(keys) > 0).all() else np.sort(keys)
        repeat = np.flatnonzero(keys[1:] == keys[:-1])
        if len(repeat):
            raise ScalingError(f"{where}: sample {self.describe(int(keys[repeat[0]]))} repeats")
        for level in self.levels:
            at = np.minimum(np.searchsorted(level, keys), len(level) - 1)
            hit = np.flatnonzero(level[at] == keys)
            if len(hit):
                raise ScalingError(f"{where}: sample {self.describe(int(keys[hit[0]]))} {clash}")
        self.pending = keys

    def add(self) -> None:
        """Hold the keys last checked (after they were written)."""
        if len(self.pending):
            self.levels.append(self.pending)
        while len(self.levels) > 1 and len(self.levels[-2]) <= 2 * len(self.levels[-1]):
            self.levels[-2:] = [np.sort(np.concatenate(self.levels[-2:]))]

    def __len__(self) -> int:
        return sum(map(len, self.levels))


def _parquet_options(names: list[str]) -> dict[str, Any]:
    return {
        "compression": "zstd",
        "use_dictionary": ["problem_id", "answer", "cluster", "finish_reason"],
        "column_encoding": {"sample_idx": "DELTA_BINARY_PACKED"} if "sample_idx" in names else None,
    }


def _write_table(fh, table: pa.Table) -> None:
    pq.write_table(table, fh, **_parquet_options(table.column_names))


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


def _read_manifest(path: Path) -> tuple[dict, Manifest]:
    mpath = path / Run.MANIFEST
    if not mpath.is_file():
        raise ScalingError(f"{path}: not a run (no {Run.MANIFEST}); pass a run directory")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ScalingError(f"{mpath}: not valid JSON ({e}); restore or re-create it") from None
    except OSError as e:
        raise files.os_error(e, mpath) from None
    return manifest, parse_manifest(manifest, str(mpath))


def _manifest_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True).encode()


class Run:
    """An open run directory. Create with ``Run.create`` or ``Run.build``, open with ``Run.open``.

    ``manifest`` is the raw ``run.json`` dict; ``meta`` its validated, typed view."""

    MANIFEST = "run.json"
    PROBLEMS = "problems.parquet"
    SAMPLES = "samples"
    LOCK = files.LOCK_NAME

    def __init__(self, path: Path, manifest: dict):
        self.path = Path(path)
        self.manifest = manifest
        self.meta = parse_manifest(manifest, str(self.path / self.MANIFEST))
        self._keys: _Keys | None = None  # filled on first append, under the lock
        self._lock: files.Lock | None = None
        self._depth = 0
        self._checked = False  # the key check ran (``_check_keys``)
        self._samples = 0  # samples it counted
        self._sound = False  # ``check`` passed since the run was opened or written

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
        """Write a new run (manifest + problems), atomically (see the module doc).

        With ``exist_ok`` a run of the same ``run_id`` is reopened; a run of another config that
        holds no samples (a collect that failed before writing any) is replaced; any other run
        there is an error."""
        path = Path(path)
        parse_manifest(manifest, str(path / cls.MANIFEST))
        table = _problems_table(problems, str(path / cls.PROBLEMS))
        if exist_ok and (path / cls.MANIFEST).is_file():
            existing = cls.open(path)
            if existing.run_id == manifest["run_id"]:
                return existing  # nothing to write
        with cls.build(path) as draft:
            return draft.publish(manifest, table, exist_ok=exist_ok)

    @classmethod
    @contextlib.contextmanager
    def build(cls, path: str | Path, *, replace: bool = False) -> Iterator[RunDraft]:
        """A new run under construction for ``path``: append samples in chunks, then
        ``publish``. Leaving the block without publishing removes everything it wrote.

        ``replace``: an existing run at ``path`` is replaced on publishing; its lock is taken
        now, so a writer busy with it stops this at once (and ``path`` must be a run folder,
        not a link or another folder)."""
        draft = RunDraft(Path(path), replace=replace)
        try:
            yield draft
        finally:
            draft.discard()

    @classmethod
    def open(cls, path: str | Path) -> Run:
        """Open a run directory and validate its manifest."""
        path = Path(path)
        manifest, _ = _read_manifest(path)
        return cls(path, manifest)

    # -- properties -------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.meta.run_id

    @property
    def name(self) -> str:
        """A display name: the model name (plus search method/width for search runs)."""
        return self.meta.label

    @property
    def params(self) -> float | None:
        return self.meta.model.params

    def shards(self) -> list[Path]:
        return sorted((self.path / self.SAMPLES).glob("part-*.parquet"))

    # -- reading ----------------------------------------------------------------------------
    def problems(self) -> pd.DataFrame:
        return self._problem_table().to_pandas()

    def _problem_table(self) -> pa.Table:
        path = self.path / self.PROBLEMS
        table = _read_parquet(path, PROBLEM_SCHEMA, None)
        _check_problems(table, str(path))
        return table

    def sample_table(self, columns: list[str] | None = None) -> pa.Table:
        """All samples as one Arrow table (string keys dictionary-encoded), in shard order.

        Checks every column it reads (see the module doc); the first call also checks the keys.
        """
        names = list(columns or SAMPLE_SCHEMA.names)
        read = names if self._checked else list(dict.fromkeys(names + SAMPLE_KEY))
        tables = {shard: _read_parquet(shard, SAMPLE_SCHEMA, read) for shard in self.shards()}
        for shard, table in tables.items():
            _check_values(table, str(shard))
        if not self._checked:
            self._check_keys(tables)
        if not tables:
            return pa.schema([SAMPLE_SCHEMA.field(n) for n in names]).empty_table()
        return pa.concat_tables(tables.values(), promote_options="permissive").select(names)

    def _check_keys(self, tables: dict[Path, pa.Table]) -> _Keys:
        """Keys unique and naming known problems (``tables``: each shard's key columns)."""
        ids = self._problem_table().column("problem_id").to_pylist()
        keys = _Keys(ids)
        for shard, table in tables.items():
            keys.check(keys.encode(table, str(shard)), str(shard), clash=STORED_TWICE)
            keys.add()
        self._checked, self._samples = True, len(keys)
        return keys

    def check(self) -> Run:
        """The readers' check of what ``verify`` checks, cheaply (the manifest was checked when
        opened; this reads problem ids, the key and reward columns and the Parquet statistics,
        not answers, step scores or texts): problem ids unique, sample keys unique and naming
        known problems, at least one problem and one sample, counts >= 0, rewards finite (NaN
        step scores are caught where that column is read). Every command that reads runs calls
        it (``open_runs``); returns the run. A run that passed is not checked again until it is
        written through this object."""
        if self._sound:
            return self
        columns = [*SAMPLE_KEY, "reward"]
        tables = {p: _read_parquet(p, SAMPLE_SCHEMA, columns) for p in self.shards()}
        for shard, table in tables.items():
            _check_values(table, str(shard))
            _check_statistics(shard)
        self._check_keys(tables)
        if not self._samples:
            raise ScalingError(
                f"{self.path}: holds no samples (a collect or search that stored none?); rerun "
                "the command that makes it, or remove the run"
            )
        self._sound = True
        return self

    def samples(self, columns: list[str] | None = None, *, text: bool = False) -> pd.DataFrame:
        """Samples as a DataFrame; the ``text`` column is left out unless asked for."""
        if columns is None:
            columns = [n for n in SAMPLE_SCHEMA.names if text or n != "text"]
        return self.sample_table(columns).to_pandas()

    def existing_keys(self) -> set[tuple[str, bool, int]]:
        """The stored (problem_id, greedy, sample_idx) keys."""
        t = self.sample_table(SAMPLE_KEY)
        return set(zip(*(t.column(name).to_pylist() for name in SAMPLE_KEY), strict=True))

    # -- writing ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock against a second writer on this run (non-blocking: errors at once).

        Re-entrant within this object. Taking it re-reads ``run.json``: a run replaced by
        another config since it was opened is refused; the manifest is refreshed."""
        if self._lock is not None:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        lock = files.Lock(
            self.path / self.LOCK,
            f"{self.path}: another process is writing this run; wait for it to finish",
        )
        try:
            lock.acquire()
        except FileNotFoundError:
            raise ScalingError(f"{self.path}: the run is gone; rerun the command") from None
        try:
            manifest, meta = _read_manifest(self.path)
            if meta.run_id != self.run_id:
                raise ScalingError(
                    f"{self.path}: now holds run {meta.run_id}, not {self.run_id} (replaced "
                    "since it was opened); rerun the command"
                )
            self.manifest, self.meta = manifest, meta
            self._lock, self._keys, self._checked, self._sound = lock, None, False, False
            files.clean_stale(self.path)
            files.clean_stale(self.path / self.SAMPLES)
            yield
        finally:
            self._lock, self._keys, self._checked, self._sound = None, None, False, False
            lock.release()

    def append_samples(self, samples: pd.DataFrame) -> Path | None:
        """Validate and write ``samples`` as a new shard, atomically. Returns the shard's path."""
        if samples.empty:
            return None
        where = str(self.path / self.SAMPLES)
        table = _table_from_frame(samples, SAMPLE_SCHEMA, where)
        _check_values(table, where)
        with self.lock():
            if self._keys is None:
                self._keys = self._check_keys(
                    {p: _read_parquet(p, SAMPLE_SCHEMA, SAMPLE_KEY) for p in self.shards()}
                )
            self._keys.check(self._keys.encode(table, where), where)
            shards = self.shards()
            nxt = int(shards[-1].stem.split("-")[1]) + 1 if shards else 0
            out = self.path / self.SAMPLES / f"part-{nxt:05d}.parquet"
            try:
                with files.replacing(out) as fh:
                    _write_table(fh, table)
            finally:
                if out.exists():  # written, even if interrupted (Ctrl-C) after the rename
                    self._keys.add()
        return out

    def update_problems(self, updates: pd.DataFrame) -> None:
        """Set columns of some problems (rows keyed by ``problem_id``), atomically.

        Used by tree search to record each problem's measured search cost as it finishes.
        """
        where = str(self.path / self.PROBLEMS)
        if "problem_id" not in updates.columns:
            raise ScalingError(f"{where}: problem updates need a 'problem_id' column")
        with self.lock():
            table = _read_parquet(self.path / self.PROBLEMS, PROBLEM_SCHEMA, None)
            columns = {name: table.column(name).to_pylist() for name in PROBLEM_SCHEMA.names}
            at = {pid: i for i, pid in enumerate(columns["problem_id"])}
            unknown = [p for p in updates["problem_id"] if p not in at]
            if unknown:
                raise ScalingError(
                    f"{where}: problem_id {unknown[0]!r} is not in this run's problems"
                )
            for name in updates.columns.drop("problem_id"):
                if name not in PROBLEM_SCHEMA.names:
                    raise ScalingError(f"{where}: unknown column '{name}'")
                for pid, value in zip(updates["problem_id"], updates[name].tolist(), strict=True):
                    columns[name][at[pid]] = None if pd.isna(value) else value
            frame = pd.DataFrame({name: pd.Series(v, dtype=object) for name, v in columns.items()})
            new = _problems_table(frame, where)
            with files.replacing(self.path / self.PROBLEMS) as fh:
                _write_table(fh, new)

    def update_manifest(self, **fields: Any) -> None:
        """Replace top-level manifest fields, atomically."""
        with self.lock():
            manifest = {**self.manifest, **fields}
            meta = parse_manifest(manifest, str(self.path / self.MANIFEST))
            files.write_bytes(self.path / self.MANIFEST, _manifest_bytes(manifest))
            self.manifest, self.meta = manifest, meta

    # -- checking ---------------------------------------------------------------------------
    def verify(self) -> dict[str, int]:
        """Full integrity check: manifest, every Parquet file and column, keys, problem
        references, at least one problem and one sample.

        Returns counts (problems, samples, shards); raises ``ScalingError`` on the first problem.
        """
        _read_manifest(self.path)
        ids = self._problem_table().column("problem_id").to_pylist()
        keys = _Keys(ids)
        shards = self.shards()
        for shard in shards:
            table = _read_parquet(shard, SAMPLE_SCHEMA, None)
            _check_values(table, str(shard))
            keys.check(keys.encode(table, str(shard)), str(shard), clash=STORED_TWICE)
            keys.add()
        if not len(keys):
            raise ScalingError(f"{self.path}: holds no samples; re-create the run")
        self._checked, self._samples = True, len(keys)  # what the readers' key check checks
        return {"problems": len(ids), "samples": len(keys), "shards": len(shards)}


def _create_new(path: Path, write) -> None:
    """Write a new file (mode 0o666 less the umask) in a draft folder, then sync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    with os.fdopen(fd, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


class RunDraft:
    """A run under construction (see ``Run.build``): a locked hidden folder beside ``dest``."""

    def __init__(self, dest: Path, *, replace: bool):
        self.dest = dest
        self.where = str(dest / Run.SAMPLES)
        self.replace = replace
        self.keys = _Keys(None)
        self.samples = 0
        self._old: files.Lock | None = None  # the lock of the run this one replaces
        self._pending: list[pa.Table] = []
        self._writer: pq.ParquetWriter | None = None
        self._shard = None
        self._published = False
        try:
            files.make_folder(dest.parent)
            if replace and os.path.lexists(dest):
                self._old = self._lock_old()
            files.clean_stale(dest.parent)
            self.path, self._lock = self._make_folder()
        except OSError as e:
            self.discard()
            raise files.os_error(e, dest) from None
        except BaseException:
            self.discard()
            raise

    def _make_folder(self) -> tuple[Path, files.Lock]:
        for _ in range(100):
            tmp = files.new_temp_folder(self.dest)
            lock = files.Lock(tmp / Run.LOCK, f"{tmp}: in use by another process")
            try:
                lock.acquire()
            except FileNotFoundError:
                continue  # removed as stale in the instant before we locked it: another name
            os.mkdir(tmp / Run.SAMPLES, 0o777)
            return tmp, lock
        raise ScalingError(f"{self.dest.parent}: cannot keep a temporary folder there; rerun")

    def _lock_old(self) -> files.Lock:
        """Lock the run at ``dest`` for replacing it; it must be a run folder."""
        if self.dest.is_symlink():
            raise ScalingError(
                f"{self.dest}: is a symbolic link; pass the run directory itself (a link is "
                "never replaced)"
            )
        if not (self.dest / Run.MANIFEST).is_file():
            raise ScalingError(f"{self.dest}: exists and is not a run; refusing to replace it")
        lock = files.Lock(
            self.dest / Run.LOCK,
            f"{self.dest}: another process is writing this run; wait for it to finish",
        )
        try:
            return lock.acquire()
        except FileNotFoundError:
            raise ScalingError(f"{self.dest}: vanished while being locked; rerun") from None

    # -- samples --------------------------------------------------------------------------------
    def append(self, samples: pd.DataFrame, where: str | None = None) -> None:
        """Validate and buffer a chunk of samples (written in row groups of at most
        ``ROW_GROUP_ROWS`` rows or ``ROW_GROUP_BYTES`` bytes); ``where`` names the source in
        errors (default: the run's samples folder)."""
        where = where or self.where
        table = _table_from_frame(samples, SAMPLE_SCHEMA, where)
        _check_values(table, where)
        self.keys.check(self.keys.encode(table, where), where, clash="repeats")
        self.keys.add()
        self.samples += table.num_rows
        self._pending.append(table)
        rows = sum(t.num_rows for t in self._pending)
        while rows >= ROW_GROUP_ROWS:
            merged = pa.concat_tables(self._pending)
            self._write_group(merged.slice(0, ROW_GROUP_ROWS))
            self._pending = [merged.slice(ROW_GROUP_ROWS)]
            rows -= ROW_GROUP_ROWS
        if sum(t.nbytes for t in self._pending) >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._pending and sum(t.num_rows for t in self._pending):
            self._write_group(pa.concat_tables(self._pending))
        self._pending = []

    def _write_group(self, table: pa.Table) -> None:
        try:
            if self._writer is None:
                path = self.path / Run.SAMPLES / "part-00000.parquet"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
                self._shard = os.fdopen(fd, "wb")
                options = _parquet_options(SAMPLE_SCHEMA.names)
                self._writer = pq.ParquetWriter(self._shard, SAMPLE_SCHEMA, **options)
            self._writer.write_table(table.combine_chunks())
        except OSError as e:
            raise files.os_error(e, self.dest) from None

    # -- publishing -----------------------------------------------------------------------------
    def publish(
        self,
        manifest: dict,
        problems: pd.DataFrame | pa.Table,
        *,
        exist_ok: bool = False,
    ) -> Run:
        """Check and write the manifest and problems, then put the run at its destination in
        one rename. An existing run there is an error, unless the draft replaces it (see
        ``Run.build``) or ``exist_ok`` finds the same run (reopened) or a run with no samples
        (replaced)."""
        parse_manifest(manifest, str(self.dest / Run.MANIFEST))
        table = _problems_table(problems, str(self.dest / Run.PROBLEMS))
        known = set(table.column("problem_id").to_pylist())
        stray = [pid for pid in self.keys.ids if pid not in known]
        if stray:
            raise ScalingError(
                f"{self.where}: samples of problem {stray[0]!r}, which is not among the problems"
            )
        try:
            self._flush()
            if self._writer is not None:
                self._writer.close()
                self._shard.flush()
                os.fsync(self._shard.fileno())
                self._shard.close()
            _create_new(self.path / Run.PROBLEMS, lambda fh: _write_table(fh, table))
            _create_new(self.path / Run.MANIFEST, lambda fh: fh.write(_manifest_bytes(manifest)))
            files.fsync_dir(self.path / Run.SAMPLES)
            files.fsync_dir(self.path)
            return self._put(manifest, exist_ok)
        except OSError as e:
            raise files.os_error(e, self.dest) from None

    def _put(self, manifest: dict, exist_ok: bool) -> Run:
        for _ in range(10):
            if self._old is None:
                try:
                    files.rename_noreplace(self.path, self.dest)
                except FileExistsError:
                    existing = self._existing(manifest, exist_ok)
                    if existing is not None:
                        return existing
                    continue
            else:
                old = files.exchange(self.path, self.dest)
                shutil.rmtree(old, ignore_errors=True)
            self._published = True
            self._lock.moved(self.dest / Run.LOCK)
            files.fsync_dir(self.dest.parent)
            self.discard()
            return Run.open(self.dest)
        raise ScalingError(f"{self.dest}: keeps changing while being written; rerun")

    def _existing(self, manifest: dict, exist_ok: bool) -> Run | None:
        """``dest`` exists at publishing: the run to return, or None after taking its lock
        for replacing it (raises when it may not be replaced)."""
        if self.replace:
            self._old = self._lock_old()
            return None
        if not exist_ok:
            raise ScalingError(
                f"{self.dest}: already exists; choose another --out or pass --force to replace it"
            )
        existing = Run.open(self.dest)
        if existing.run_id == manifest["run_id"]:
            return existing
        self._old = self._lock_old()
        if Run.open(self.dest).shards():
            raise ScalingError(
                f"{self.dest}: holds run {existing.run_id}, not {manifest['run_id']} (a "
                "different config); choose another --out"
            )
        return None  # a run with no samples holds nothing: replace it

    def discard(self) -> None:
        """Remove what was not published and release the locks (idempotent)."""
        if self._writer is not None and not self._published:
            with contextlib.suppress(Exception):
                self._writer.close()
            with contextlib.suppress(Exception):
                self._shard.close()
        self._writer = None
        path = getattr(self, "path", None)
        if path is not None and not self._published:
            shutil.rmtree(path, ignore_errors=True)
        for lock in (getattr(self, "_lock", None), self._old):
            if lock is not None:
                lock.release()
        self._old = None


def find_runs(folder: str | Path) -> list[Path]:
    """Every run directory at or below ``folder`` (a folder holding ``run.json``), skipping
    hidden folders (temporaries of writers, alive or crashed)."""
    folder = Path(folder)
    found = []
    for manifest in folder.rglob(Run.MANIFEST):
        parts = manifest.parent.relative_to(folder).parts
        if not any(part.startswith(".") for part in parts):
            found.append(manifest.parent)
    return sorted(found)


def open_runs(paths: list[str | Path], *, check: bool = True) -> list[Run]:
    """Open several runs for reading; a folder that holds runs below it expands to all of them.

    ``check``: run each run's ``check`` (refusing a run ``verify`` would reject); ``verify``
    itself opens without it, to report every run."""
    runs: list[Run] = []
    for p in map(Path, paths):
        if (p / Run.MANIFEST).is_file() or not p.is_dir():
            runs.append(Run.open(p))
            continue
        found = find_runs(p)
        if not found:
            raise ScalingError(f"{p}: no run (run.json) in this folder; pass a run directory")
        runs.extend(Run.open(f) for f in found)
    return [run.check() for run in runs] if check else runs
