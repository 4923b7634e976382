"""What every importer shares: options, the imported result, reading files, atomic writing.

An importer is a module with ``read(source: Path, options: ImportOptions) -> Imported``; it never
writes. ``write_run`` builds the run in a hidden folder beside ``--out`` and renames it into place
only when complete, so a failed import leaves nothing behind and never touches an existing run.
Runs carry no timestamps or absolute paths, so importing the same source twice gives identical
bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scaling import models
from scaling.errors import ScalingError
from scaling.grading import extract_answer, grade
from scaling.store import Run, new_manifest


@dataclass
class ImportOptions:
    """Settings of an import. ``None`` means: what the source says (or unknown)."""

    model: str | None = None  # model name (looked up in scaling.models for its size)
    params: float | None = None  # total parameters, overrides the table
    n_layers: int | None = None
    d_model: int | None = None
    problem_set: str | None = None
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
    text: bool = False  # keep the full responses in the run
    citation: str | None = None
    license: str | None = None
    timeout: float = 5.0  # grading: seconds per parse/comparison
    workers: int | None = None  # grading: pool size (None = all cores)
    progress: bool = False


@dataclass
class Imported:
    """An importer's result, ready for ``write_run``; ``report`` holds figures worth printing."""

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
                if not isinstance(obj, dict):
                    raise ScalingError(
                        f"{path}, line {lineno}: expected a JSON object, got "
                        f"{type(obj).__name__}; one object per line"
                    )
                yield lineno, obj
        except UnicodeDecodeError as e:
            raise ScalingError(f"{path}: not UTF-8 text ({e.reason}); re-encode it") from None


def need(record: Mapping, key: str, where: str, kinds: type | tuple[type, ...] = object) -> Any:
    """``record[key]``, checked for presence and type; the error names where and what."""
    if key not in record or record[key] is None:
        raise ScalingError(f"{where}: missing field '{key}'; every record needs it")
    value = record[key]
    if not isinstance(value, kinds):
        names = kinds.__name__ if isinstance(kinds, type) else "/".join(k.__name__ for k in kinds)
        raise ScalingError(f"{where}: field '{key}' must be {names}, got {type(value).__name__}")
    return value


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


# -- building -----------------------------------------------------------------------------------
def sampling(n: int) -> dict[str, Any]:
    """A ``sampling`` block with ``n`` samples per problem; the rest unknown unless flagged."""
    return {"n": n, "temperature": None, "top_p": None, "max_tokens": None, "seed": None}


def provenance(description: str, *files: Path) -> dict[str, Any]:
    """A ``provenance`` block: what the source is and the hash of its bytes."""
    return {"source": description, "citation": None, "license": None, "sha256": sha256(*files)}


def measured_tokens(frame: pd.DataFrame) -> dict[str, Any] | None:
    """A ``measured`` tokens block when every sample has a completion token count, else None."""
    if "completion_tokens" not in frame or not frame["completion_tokens"].notna().all():
        return None
    block = {
        "source": "measured",
        "mean_completion_tokens": float(frame["completion_tokens"].mean()),
    }
    if "prompt_tokens" in frame and frame["prompt_tokens"].notna().all():
        block["mean_prompt_tokens"] = float(frame["prompt_tokens"].mean())
    return block


def prm_block(frame: pd.DataFrame) -> dict[str, Any] | None:
    """The reward model of samples carrying step scores (named with --reward-model), else None."""
    if frame["step_rewards"].notna().any():
        return {"name": "unspecified PRM", "params": None, "kind": "prm"}
    return None


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


def build_manifest(
    options: ImportOptions,
    *,
    model: str,
    problem_set: str,
    sampling: Mapping[str, Any],
    tokens: Mapping[str, Any],
    provenance: Mapping[str, Any],
    prompt: Mapping[str, Any] | None = None,
    reward_model: Mapping[str, Any] | None = None,
    search: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict:
    """A manifest from what the source says, with the options' explicit values overriding."""
    info = models.resolve(
        options.model or model,
        params=options.params,
        n_layers=options.n_layers,
        d_model=options.d_model,
    )
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
    return new_manifest(
        model=info.manifest(),
        problem_set=options.problem_set or problem_set,
        sampling=sampling,
        tokens=tokens,
        provenance=provenance,
        prompt=prompt,
        reward_model=reward_model,
        search=search,
        extra=extra,
    )


def grade_responses(
    texts: list[str | None],
    references: list[str],
    problem_ids: list[str],
    options: ImportOptions,
    answers: list[str | None] | None = None,
) -> pd.DataFrame:
    """Columns answer, cluster, correct: extract answers from ``texts`` (unless given) and grade."""
    if answers is None:
        answers = [extract_answer(t) for t in texts]
    graded = grade(
        answers,
        references,
        problem_ids=problem_ids,
        timeout=options.timeout,
        workers=options.workers,
        progress=options.progress,
    )
    return pd.DataFrame(
        {
            "answer": [g.answer for g in graded],
            "cluster": [g.cluster for g in graded],
            "correct": [g.correct for g in graded],
        }
    )


def prm_scored(
    source: Path,
    options: ImportOptions,
    problems: pd.DataFrame,
    rows: list[dict],
    origin: str,
    fallback_tokens: Mapping[str, Any] | None = None,
) -> Imported:
    """Grade PRM-scored responses and describe them: ``rows`` hold problem_id, sample_idx, text,
    reference, step_rewards, completion_tokens; ``origin`` names the writer in the provenance;
    ``fallback_tokens`` is the tokens block used when the samples carry no counts."""
    frame = pd.DataFrame(rows)
    graded = grade_responses(
        frame["text"].tolist(), frame["reference"].tolist(), frame["problem_id"].tolist(), options
    )
    columns = ["problem_id", "sample_idx", "step_rewards", "completion_tokens"]
    samples = pd.concat([frame[columns], graded], axis=1)
    measured = measured_tokens(frame)
    if options.text:
        samples["text"] = frame["text"]
    width = int(frame.groupby("problem_id").size().max())
    manifest = build_manifest(
        options,
        model=source.stem,
        problem_set=f"{source.stem} ({len(problems)} problems)",
        sampling=sampling(width),
        tokens=tokens_block(options, fallback_tokens if measured is None else measured),
        provenance=provenance(f"{origin} '{source.name}'", source),
        reward_model=prm_block(frame),
        search={"width": width} if options.search else None,
    )
    return Imported(manifest, problems, samples, {"mean accuracy": float(samples.correct.mean())})


def in_problem_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by problem (in order of first appearance), pooled samples before greedy
    ones, then sample index."""
    first = {pid: i for i, pid in enumerate(dict.fromkeys(frame["problem_id"]))}
    keys = ["_order", "greedy", "sample_idx"] if "greedy" in frame else ["_order", "sample_idx"]
    frame = frame.assign(_order=frame["problem_id"].map(first)).sort_values(keys, kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def agreement(ours: pd.Series, theirs: pd.Series) -> dict[str, Any]:
    """How often our verdicts match the source's: counts and rate."""
    ours, theirs = ours.astype(bool), theirs.astype(bool)
    same = int((ours == theirs).sum())
    return {
        "stored_correct": int(theirs.sum()),
        "regraded_correct": int(ours.sum()),
        "agree": same,
        "n": len(ours),
        "agreement": same / len(ours) if len(ours) else None,
        "we_accept_they_reject": int((ours & ~theirs).sum()),
        "we_reject_they_accept": int((~ours & theirs).sum()),
    }


# -- writing ------------------------------------------------------------------------------------
def check_out(out: Path, *, force: bool) -> None:
    """Refuse an ``--out`` that exists (unless ``force``) or that is a folder but not a run."""
    if out.exists():
        if not force:
            raise ScalingError(
                f"{out}: already exists; choose another --out or pass --force to replace it"
            )
        if not (out / Run.MANIFEST).is_file():
            raise ScalingError(f"{out}: exists and is not a run; refusing to replace it")


def write_run(out: str | Path, imported: Imported, *, force: bool = False) -> Run:
    """Write the run to ``out`` atomically: build beside it, verify, rename into place.

    An existing run at ``out`` is an error unless ``force``; then it is replaced only after the
    new run is complete. A folder that is not a run is never replaced.
    """
    out = Path(out)
    check_out(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{secrets.token_hex(4)}.tmp"
    tmp.mkdir()
    try:
        run = Run.create(tmp, imported.manifest, imported.problems)
        run.append_samples(imported.samples)
        run.verify()
        if out.exists():
            old = out.parent / f".{out.name}.{secrets.token_hex(4)}.old"
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Run.open(out)
