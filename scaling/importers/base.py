"""What every importer shares: options, reading and checking fields, the sink, grading.

An importer is a module with ``read(source: Path, options: ImportOptions, out: Sink) ->
(manifest, report)`` and ``OPTIONS``, the names of the ``ImportOptions`` it reads beyond the
common ones (``COMMON``); one that reads ``fields`` also has ``FIELDS``, the field names
``--field OURS=THEIRS`` may map. It never writes: it hands problems (``out.problem``) and
samples, in chunks of at most ``out.chunk_rows`` rows (``out.add``), to the sink, then builds
the manifest from the sink's figures (``build_manifest``, which also leaves notices, on what the
run lacks and how to supply it, in ``out.notices``). ``import_run`` points the sink at a run
draft (``Run.build``), which streams the chunks to disk, so memory is bounded by the chunk size
plus one small record per problem (formats that are one JSON document, Inspect logs and thu-wyz
files, are parsed whole). Runs carry no timestamps or absolute paths, so importing the same
source twice gives identical bytes.

Every numeric field is checked (an integer where a count is meant, within the store's int32
range, finite, non-negative where it counts) and a bad one is reported with its file and line.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scaling import models
from scaling.errors import ArgumentError, ScalingError
from scaling.graders import DEFAULT, get_grader
from scaling.grading import extract_answer, grade
from scaling.store import config_hash, new_manifest

# ImportOptions every importer reads; the others are named by each importer's OPTIONS
COMMON = ("model", "params", "n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim",
          "dtype", "problem_set", "tokens_per_sample", "tokens_note", "prompt_tokens",
          "temperature", "top_p", "max_tokens", "seed", "citation", "license", "progress",
          "chunk_rows")  # fmt: skip
GRADING = ("grader", "text", "timeout", "workers")  # the options of importers that grade
INT32_MAX = 2**31 - 1
INT16_MAX = 2**15 - 1
CHUNK_ROWS = 1 << 16  # samples per chunk handed to the sink (and graded together)
GRADE_MEMORY = 1 << 18  # (problem, reference, answer) verdicts remembered across chunks


@dataclass
class ImportOptions:
    """Settings of an import. ``None`` means: what the source says (or unknown)."""

    model: str | None = None  # model name (looked up in scaling.models for its size)
    params: float | None = None  # total parameters, overrides the table
    n_layers: int | None = None
    d_model: int | None = None
    n_heads: int | None = None  # attention heads
    n_kv_heads: int | None = None  # key-value heads (grouped-query attention)
    head_dim: int | None = None
    dtype: str | None = None  # the weights' dtype, as torch names it (bfloat16, float16, ...)
    problem_set: str | None = None  # default: the source's name, else the ids' fingerprint
    tokens_per_sample: float | None = None  # declared completion tokens per sample (assumed)
    tokens_note: str | None = None  # why that value (appended to the recorded assumption)
    prompt_tokens: float | None = None  # declared prompt tokens per problem (assumed)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    reward_model: str | None = None  # name of the reward model that scored the samples
    reward_params: float | None = None
    search: str | None = None  # tree-search method that produced the samples (e.g. rebase)
    scorer: str | None = None  # Inspect logs: which scorer's verdicts to compare with
    grader: str = DEFAULT  # how answers are graded and clustered (scaling.graders)
    fields: str | Sequence[str] | Mapping[str, str] | None = None  # OURS=THEIRS field mapping
    text: bool = False  # keep the full responses in the run
    citation: str | None = None
    license: str | None = None
    timeout: float = 5.0  # grading: seconds per parse/comparison
    workers: int | None = None  # grading: pool size (None = all cores)
    progress: bool = False
    chunk_rows: int = CHUNK_ROWS  # samples held in memory at once

    def check(self) -> None:
        """Raise ``ArgumentError`` for a value outside its range (before anything is read)."""
        positive = ("params", "reward_params", "tokens_per_sample", "timeout")
        for name in positive:
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ArgumentError(name, value, "must be a positive finite number")
        for name in ("prompt_tokens", "temperature"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ArgumentError(name, value, "must be a finite number >= 0")
        if self.top_p is not None and not (math.isfinite(self.top_p) and 0 < self.top_p <= 1):
            raise ArgumentError("top_p", self.top_p, "must be in (0, 1]")
        for name in ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "max_tokens"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ArgumentError(name, value, "must be at least 1")
        if self.chunk_rows < 1:
            raise ArgumentError("chunk_rows", self.chunk_rows, "must be at least 1")
        check_heads(self.n_heads, self.n_kv_heads)
        check_dtype(self.dtype)
        if self.workers is not None and self.workers < 0:
            raise ArgumentError("workers", self.workers, "must be 0 (in-process) or more")
        get_grader(self.grader)

    def field_map(self, allowed: Sequence[str]) -> dict[str, str]:
        """``fields`` as {our field: the source's field}, checked against ``allowed``.

        Given as "OURS=THEIRS,..." (a string, or several), or as a mapping."""
        if not self.fields:
            return {}
        if isinstance(self.fields, Mapping):
            pairs = [(str(k), str(v)) for k, v in self.fields.items()]
        else:
            specs = [self.fields] if isinstance(self.fields, str) else list(self.fields)
            pairs = []
            for item in (part for spec in specs for part in str(spec).split(",")):
                ours, sep, theirs = item.partition("=")
                if not sep or not ours.strip() or not theirs.strip():
                    raise ArgumentError(
                        "fields", self.fields, f"{item.strip()!r} is not OURS=THEIRS (e.g. "
                        "problem_id=problem,text=response)"
                    )  # fmt: skip
                pairs.append((ours.strip(), theirs.strip()))
        mapping: dict[str, str] = {}
        for ours, theirs in pairs:
            if ours not in allowed:
                raise ArgumentError(
                    "fields", self.fields, f"unknown field {ours!r}; the fields are "
                    f"{', '.join(allowed)}"
                )  # fmt: skip
            if ours in mapping:
                raise ArgumentError("fields", self.fields, f"field {ours!r} is mapped twice")
            mapping[ours] = theirs
        return mapping


def check_heads(n_heads: int | None, n_kv_heads: int | None) -> None:
    """Grouped-query attention: each key-value head serves n_heads / n_kv_heads query heads."""
    if n_heads is not None and n_kv_heads is not None and n_heads % n_kv_heads:
        raise ArgumentError(
            "n_kv_heads", n_kv_heads, f"must divide the {n_heads} attention heads (--n-heads)"
        )


def check_dtype(dtype: str | None) -> None:
    """A dtype the memory-aware cost models price (bytes per element)."""
    from scaling.costs.kinetics import BYTES

    if dtype is not None and dtype.removeprefix("torch.") not in BYTES:
        raise ArgumentError("dtype", dtype, f"choose one of {', '.join(BYTES)}")


@dataclass
class Imported:
    """What ``read_source`` read, in memory: the manifest, problems, samples and a report."""

    manifest: dict
    problems: pd.DataFrame
    samples: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


# -- reading ------------------------------------------------------------------------------------
def read_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error names the file, line and column."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as e:
        raise ScalingError(
            f"{path}, line {e.lineno}, column {e.colno}: not valid JSON ({e.msg}); fix the file"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ScalingError(f"{path}: cannot read it ({e}); pass a readable JSON file") from None


def read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-blank line; a bad line names file and line."""
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 - closed below, a generator
    except OSError as e:
        raise ScalingError(f"{path}: cannot read it ({e}); pass a readable JSONL file") from None
    with fh:
        try:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ScalingError(
                        f"{path}, line {lineno}: not valid JSON ({e.msg}); fix or remove the line"
                    ) from None
                except RecursionError:
                    raise ScalingError(
                        f"{path}, line {lineno}: nested too deeply; fix or remove the line"
                    ) from None
                if not isinstance(obj, dict):
                    raise ScalingError(
                        f"{path}, line {lineno}: expected a JSON object, got "
                        f"{type(obj).__name__}; one object per line"
                    )
                yield lineno, obj
        except UnicodeDecodeError as e:
            raise ScalingError(f"{path}: not UTF-8 text ({e.reason}); re-encode it") from None
        except OSError as e:
            raise ScalingError(f"{path}: cannot read it ({e.strerror})") from None


def need(record: Mapping, key: str, where: str, kinds: type | tuple[type, ...] = object) -> Any:
    """``record[key]``, checked for presence and type; the error names where and what."""
    if key not in record or record[key] is None:
        raise ScalingError(f"{where}: missing field '{key}'; every record needs it")
    value = record[key]
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _tuple(kinds)):
        names = "/".join(k.__name__ for k in _tuple(kinds))
        raise ScalingError(f"{where}: field '{key}' must be {names}, got {type(value).__name__}")
    return value


def _tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def count(value: Any, where: str, name: str, *, maximum: int = INT32_MAX) -> int | None:
    """A count (None allowed): an integer in [0, ``maximum``]."""
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= maximum:
        raise ScalingError(
            f"{where}: field '{name}' must be an integer from 0 to {maximum:,}, got {value!r:.40}"
        )
    return value


def finite(value: Any, where: str, name: str) -> float | None:
    """A finite number (None allowed): NaN and infinities are refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScalingError(f"{where}: field '{name}' must be a finite number, got {value!r:.40}")
    return float(value)


def finite_list(value: Any, where: str, name: str) -> list[float | None] | None:
    """A list of finite numbers (None entries allowed: an unscored step)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ScalingError(f"{where}: field '{name}' must be a list of numbers")
    return [None if v is None else finite(v, where, name) for v in value]


def reference(value: Any, where: str, name: str) -> str:
    """A reference answer given as a string or a finite number, as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        finite(value, where, name)
    return str(value)


def sha256(*paths: Path) -> str:
    """One hash of the files' bytes, in the order given (provenance of the import)."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- the sink -----------------------------------------------------------------------------------
class Sink:
    """Where an importer puts what it reads, and the figures its manifest needs.

    Problems are kept (one small record each; for a field given several times the first
    non-null value wins); samples are handed to ``write`` chunk by chunk."""

    def __init__(self, chunk_rows: int, write: Callable[[pd.DataFrame], None]):
        self.chunk_rows = chunk_rows
        self._write = write
        self._problems: dict[str, dict[str, Any]] = {}
        self._incomplete: set[str] = set()  # problems with a field still None
        self.pool: dict[str, int] = {}  # pooled (non-greedy) samples per problem
        self.pool_correct: dict[str, int] = {}  # ... and the correct ones among them
        self.samples = 0
        self.correct = 0
        self.completion = [0, 0]  # samples with a completion token count, their sum
        self.prompt = [0, 0]  # likewise for prompt tokens
        self.has_reward = False
        self.has_steps = False
        self.has_clusters = False
        self.has_greedy = False
        self.notices: list[str] = []  # what the run lacks and how to supply it (build_manifest)

    def has_problem(self, pid: str) -> bool:
        return pid in self._problems

    def problem(self, pid: str, **fields: Any) -> None:
        row = self._problems.get(pid)
        if row is None:
            self._problems[pid] = {"problem_id": pid, **fields}
            if None in fields.values():
                self._incomplete.add(pid)
        elif pid in self._incomplete:
            for key, value in fields.items():
                if row.get(key) is None:
                    row[key] = value
            if None not in row.values():
                self._incomplete.discard(pid)

    def add(self, frame: pd.DataFrame) -> None:
        """Hand on a chunk of samples (columns of ``scaling.store.SAMPLE_SCHEMA``)."""
        if frame.empty:
            return
        greedy = frame["greedy"].to_numpy(bool) if "greedy" in frame else np.zeros(len(frame), bool)
        pooled = frame.loc[~greedy, ["problem_id", "correct"]].astype({"correct": int})
        for pid, (n, c) in (
            pooled.groupby("problem_id", sort=False)["correct"].agg(["size", "sum"]).iterrows()
        ):
            self.pool[pid] = self.pool.get(pid, 0) + int(n)
            self.pool_correct[pid] = self.pool_correct.get(pid, 0) + int(c)
        self.samples += len(frame)
        self.correct += int(frame["correct"].sum())
        for name, acc in (("completion_tokens", self.completion), ("prompt_tokens", self.prompt)):
            if name in frame:
                values = pd.to_numeric(frame[name], errors="coerce").dropna()
                acc[0] += len(values)
                acc[1] += int(values.sum())
        self.has_reward |= "reward" in frame and bool(frame["reward"].notna().any())
        self.has_steps |= "step_rewards" in frame and bool(frame["step_rewards"].notna().any())
        self.has_clusters |= "cluster" in frame and bool(frame["cluster"].notna().any())
        self.has_greedy |= bool(greedy.any())
        self._write(frame)

    def problems(self) -> pd.DataFrame:
        return pd.DataFrame(list(self._problems.values()))

    def summary(self) -> dict[str, Any]:
        """What ``scaling.summary.summarize`` would report of the imported run, from the figures
        kept while streaming: pooled samples, problems, accuracy (1/P) sum_i c_i / n_i and
        coverage (1/P) sum_i [c_i > 0] over problems with pooled samples, strategies."""
        from scaling.summary import supported

        n = np.array(list(self.pool.values()), dtype=float)
        c = np.array([self.pool_correct[p] for p in self.pool], dtype=float)
        return {
            "samples": int(n.sum()),
            "problems": self.n_problems,
            "accuracy": float((c / n).mean()) if len(n) else None,
            "coverage": float((c > 0).mean()) if len(n) else None,
            "strategies": supported(
                clusters=self.has_clusters,
                rewards=self.has_reward or self.has_steps,
                greedy=self.has_greedy,
            ),
        }

    @property
    def n_problems(self) -> int:
        return len(self._problems)

    def fingerprint(self) -> str:
        """A name for the problem set from its problems alone: "20 problems 3f9a2c1b", the first
        8 hex digits of the SHA-256 of the sorted (problem id, reference answer) pairs (None
        where a problem has no reference). Runs that answer the same problems share it; data
        sets that merely number their problems alike (0, 1, 2, ...) do not, unless their
        references agree too."""
        pairs = sorted((pid, row.get("answer")) for pid, row in self._problems.items())
        return f"{self.n_problems} problems {config_hash(pairs, length=8)}"

    @property
    def n_max(self) -> int:
        """The most pooled samples of one problem (the manifest's ``sampling.n``)."""
        return max(self.pool.values(), default=0)

    @property
    def accuracy(self) -> float:
        return self.correct / self.samples if self.samples else float("nan")

    def measured_tokens(self) -> dict[str, Any] | None:
        """A ``measured`` tokens block when every sample has a completion token count."""
        if not self.samples or self.completion[0] != self.samples:
            return None
        block = {"source": "measured", "mean_completion_tokens": self.completion[1] / self.samples}
        if self.prompt[0] == self.samples:
            block["mean_prompt_tokens"] = self.prompt[1] / self.samples
        return block

    def prm_block(self) -> dict[str, Any] | None:
        """The reward model of samples carrying step scores (named with --reward-model)."""
        if not self.has_steps:
            return None
        return {"name": "unspecified PRM", "params": None, "kind": "prm"}


# -- grading ------------------------------------------------------------------------------------
class ChunkGrader:
    """``scaling.grading.grade`` over chunks, remembering verdicts of recent (problem,
    reference, answer) triples so an answer repeated across chunks is graded once."""

    def __init__(self, options: ImportOptions):
        self.options = options
        self.memory: OrderedDict[tuple, tuple[str | None, str | None, bool]] = OrderedDict()

    def __call__(
        self,
        answers: list[str | None],
        references: list[str | None],
        problem_ids: list[str],
    ) -> pd.DataFrame:
        """Columns answer, cluster, correct."""
        keys = list(zip(problem_ids, references, answers, strict=True))
        todo = list(dict.fromkeys(k for k in keys if k[2] is not None and k not in self.memory))
        if todo:
            graded = grade(
                [k[2] for k in todo],
                [k[1] for k in todo],
                problem_ids=[k[0] for k in todo],
                timeout=self.options.timeout,
                workers=self.options.workers,
                progress=self.options.progress,
                grader=self.options.grader,
            )
            for k, g in zip(todo, graded, strict=True):
                self.memory[k] = (g.answer, g.cluster, g.correct)
        rows = []
        for k in keys:
            if k[2] is None:
                rows.append((None, None, False))
            else:
                rows.append(self.memory[k])
                self.memory.move_to_end(k)
        while len(self.memory) > GRADE_MEMORY:
            self.memory.popitem(last=False)
        return pd.DataFrame(rows, columns=["answer", "cluster", "correct"]).astype(
            {"correct": bool}
        )


class Agreement:
    """How often our verdicts match the source's, summed over chunks."""

    def __init__(self):
        self.n = self.agree = self.stored = self.regraded = self.accept = self.reject = 0

    def add(self, ours: Any, theirs: Any) -> None:
        ours, theirs = np.asarray(ours, bool), np.asarray(theirs, bool)
        self.n += len(ours)
        self.agree += int((ours == theirs).sum())
        self.stored += int(theirs.sum())
        self.regraded += int(ours.sum())
        self.accept += int((ours & ~theirs).sum())
        self.reject += int((~ours & theirs).sum())

    def result(self) -> dict[str, Any]:
        return {
            "stored_correct": self.stored,
            "regraded_correct": self.regraded,
            "agree": self.agree,
            "n": self.n,
            "agreement": self.agree / self.n if self.n else None,
            "we_accept_they_reject": self.accept,
            "we_reject_they_accept": self.reject,
        }


# -- building -----------------------------------------------------------------------------------
def sampling(n: int) -> dict[str, Any]:
    """A ``sampling`` block with ``n`` samples per problem; the rest unknown unless flagged."""
    return {"n": n, "temperature": None, "top_p": None, "max_tokens": None, "seed": None}


def provenance(
    description: str, *files: Path, fields: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A ``provenance`` block: what the source is, the hash of its bytes and, when given, the
    ``--field`` mapping it was read with (both enter the run id)."""
    block = {"source": description, "citation": None, "license": None, "sha256": sha256(*files)}
    if fields:
        block["fields"] = dict(fields)
    return block


def grading(options: ImportOptions, source_verdicts: int = 0) -> dict[str, Any]:
    """The manifest's ``grading``: the grader's name and settings; ``source_verdicts``: how
    many samples kept the verdict the source gave (the grader only clustered those)."""
    block = get_grader(options.grader).describe()
    if source_verdicts:
        block["source_verdicts"] = source_verdicts
    return block


def tokens_block(options: ImportOptions, measured: Mapping[str, Any] | None = None) -> dict:
    """The manifest's ``tokens``: a declared assumption wins over what the source gave."""
    if options.tokens_per_sample is not None:
        block: dict[str, Any] = {
            "source": "assumed",
            "mean_completion_tokens": float(options.tokens_per_sample),
            "assumption": f"every sample has {options.tokens_per_sample:g} completion tokens "
            "(declared with --tokens-per-sample; the source has no per-sample counts)",
        }
        if options.prompt_tokens is not None:
            block["mean_prompt_tokens"] = float(options.prompt_tokens)
            block["assumption"] += f"; every prompt has {options.prompt_tokens:g} tokens"
        if options.tokens_note:
            block["assumption"] += f"; {options.tokens_note}"
        return block
    if measured:
        return dict(measured)
    return {"source": "none", "assumption": "no token counts in the source"}


ARCHITECTURE = ("n_heads", "n_kv_heads", "head_dim", "dtype")  # model fields set only by flags
UNLOCKS = "FLOPs budgets and, across model sizes, the compute-optimal size"


def build_manifest(
    options: ImportOptions,
    out: Sink,
    *,
    model: str,
    problem_set: str | None,
    sampling: Mapping[str, Any],
    tokens: Mapping[str, Any],
    provenance: Mapping[str, Any],
    prompt: Mapping[str, Any] | None = None,
    reward_model: Mapping[str, Any] | None = None,
    search: Mapping[str, Any] | None = None,
    grading: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict:
    """A manifest from what the source says, with the options' explicit values overriding.

    ``problem_set``: the source's name for its problems; None names them by their ids'
    fingerprint (``Sink.fingerprint``). What the run lacks for costs (a model size, token
    counts) and a fingerprinted problem set are left as notices in ``out.notices``, each naming
    the flag that supplies it."""
    info = models.resolve(
        options.model or model,
        params=options.params,
        n_layers=options.n_layers,
        d_model=options.d_model,
    )
    block = info.manifest()
    block.update({k: getattr(options, k) for k in ARCHITECTURE if getattr(options, k) is not None})
    sampling = dict(sampling)
    for key in ("temperature", "top_p", "max_tokens", "seed"):
        if getattr(options, key) is not None:
            sampling[key] = getattr(options, key)
    if options.reward_model is not None:
        reward_model = {**(reward_model or {}), "name": options.reward_model}
        known = models.lookup(options.reward_model)
        reward_model["params"] = known.params if known else None
    if reward_model is not None and options.reward_params is not None:
        reward_model = {**reward_model, "params": options.reward_params}
    provenance = dict(provenance)
    if options.citation is not None:
        provenance["citation"] = options.citation
    if options.license is not None:
        provenance["license"] = options.license
    if options.search is not None:
        search = {"method": options.search, **(search or {})}
    name = options.problem_set or problem_set
    if name is None:
        name = out.fingerprint()
        out.notices.append(
            f"problem set named {name!r}, the fingerprint of its problems (ids and references): "
            "runs that answer the same problems share it, and one frontier; name it with "
            "--problem-set NAME"
        )
    if block["params"] is None:
        out.notices.append(
            f"model size unknown ({block['name']!r}): budgets will be in samples; --params N "
            f"gives {UNLOCKS} (on import, or later with scaling runs set RUN --params N)"
        )
    if tokens.get("source") == "none":
        out.notices.append(
            "no token counts: budgets will be in samples; --tokens-per-sample T gives "
            f"{UNLOCKS} (on import, or later with scaling runs set RUN --tokens-per-sample T)"
        )
    return new_manifest(
        model=block,
        problem_set=name,
        sampling=sampling,
        tokens=tokens,
        provenance=provenance,
        prompt=prompt,
        reward_model=reward_model,
        search=search,
        grading=grading,
        extra=extra,
    )


class PrmSamples:
    """PRM-scored responses (thu-wyz, search-and-learn), graded and handed to the sink in
    chunks: ``add`` one response at a time, then ``describe`` builds the manifest."""

    def __init__(self, source: Path, options: ImportOptions, out: Sink):
        self.source, self.options, self.out = source, options, out
        self.grader = ChunkGrader(options)
        self.rows: list[tuple] = []

    def add(
        self,
        problem_id: str,
        sample_idx: int,
        text: str | None,
        ref: str,
        step_rewards: list[float | None] | None,
        completion_tokens: int | None,
    ) -> None:
        self.rows.append((problem_id, sample_idx, text, ref, step_rewards, completion_tokens))
        if len(self.rows) >= self.out.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        pids, idx, texts, refs, steps, tokens = (list(c) for c in zip(*self.rows, strict=True))
        self.rows = []
        frame = pd.DataFrame(
            {
                "problem_id": pids,
                "sample_idx": idx,
                "step_rewards": pd.Series(steps, dtype=object),
                "completion_tokens": pd.Series(tokens, dtype=object),
            }
        )
        graded = self.grader([extract_answer(t) for t in texts], refs, pids)
        frame = pd.concat([frame, graded], axis=1)
        if self.options.text:
            frame["text"] = texts
        self.out.add(frame)

    def describe(self, origin: str, fallback_tokens: Mapping[str, Any] | None = None):
        """(manifest, report); ``origin`` names the writer in the provenance;
        ``fallback_tokens`` is the tokens block used when the samples carry no counts."""
        self.flush()
        out, source = self.out, self.source
        if not out.samples:
            raise ScalingError(f"{source}: no responses to import")
        measured = out.measured_tokens()
        manifest = build_manifest(
            self.options,
            out,
            model=source.stem,
            problem_set=None,
            sampling=sampling(out.n_max),
            tokens=tokens_block(self.options, fallback_tokens if measured is None else measured),
            provenance=provenance(f"{origin} '{source.name}'", source),
            reward_model=out.prm_block(),
            search={"width": out.n_max} if self.options.search else None,
            grading=grading(self.options),
        )
        return manifest, {"mean accuracy": out.accuracy}
