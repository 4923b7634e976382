"""A run's manifest (``run.json``) as one typed object, validated once when it is read.

``parse_manifest(data, where)`` checks every field the toolkit reads (type and range) and
returns a frozen ``Manifest``; the first bad field raises ``ScalingError`` naming the file and
the field. ``Run.meta`` holds it; ``Run.manifest`` stays the raw dict (what is written back,
unknown fields included).

Fields (``None`` = unknown; a number written as NaN also reads as unknown):

========================== =======================================================================
model.name                 str, not empty
model.params               total parameters N: number > 0
model.n_layers, d_model    int >= 1 (the ``full`` FLOPs need them)
model.n_heads, n_kv_heads  int >= 1: attention and key-value heads (memory-aware costs)
model.head_dim             int >= 1
model.dtype                str: the weights' dtype (bytes per element of the KV cache)
problem_set                str
sampling.n                 int >= 0: samples per problem in the pool (0: greedy only)
sampling.temperature       number >= 0
sampling.top_p             number in (0, 1]
sampling.max_tokens        int >= 1
sampling.seed              int
sampling.greedy            bool: a temperature-0 sample per problem besides the pool
sampling.settings          every sampling field as written (read-only mapping)
reward_model               None, or: name (str), params (> 0), kind ("orm" | "prm" | None),
                           scored_tokens (int >= 0), mean_scored_tokens (>= 0)
tokens.source              "measured" | "assumed" | "mean" | "none"
tokens.mean_completion_tokens, mean_prompt_tokens   number >= 0
tokens.total_completion_tokens                      int >= 0: every token generated
tokens.assumption          str: how declared counts were chosen
provenance                 source, citation, license, sha256: str (an import's ``fields``, the
                           ``--field`` mapping it read the source with, is kept as written)
search                     None, or: method (str), width (int >= 1), leaves_short (int >= 0),
                           settings (every search field, read-only)
prompt.hash                str: hash of the rendered prompts
prompt.settings            every prompt field as written (template, ...; read-only)
grading                    None (not graded here: verdicts from the source), or: name (str, not
                           empty: "math", "numeric:0.001", "python:MODULE:FUNCTION"),
                           source_verdicts (int >= 0: samples whose verdict the source gave; the
                           grader only clustered them), settings (every grading field, read-only)
extra                      free-form mapping (read-only)
========================== =======================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from scaling.errors import ScalingError

SCHEMA_VERSION = 1
TOKEN_SOURCES = ("measured", "assumed", "mean", "none")
REWARD_KINDS = ("orm", "prm")
REQUIRED = ("schema_version", "run_id", "model", "problem_set", "sampling", "tokens")
REQUIRED += ("provenance", "tool_version")


@dataclass(frozen=True)
class Model:
    name: str
    params: float | None
    n_layers: int | None
    d_model: int | None
    n_heads: int | None = None
    n_kv_heads: int | None = None
    head_dim: int | None = None
    dtype: str | None = None


@dataclass(frozen=True)
class Sampling:
    n: int | None
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    seed: int | None
    greedy: bool
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class RewardModel:
    name: str | None
    params: float | None
    kind: str | None
    scored_tokens: int | None
    mean_scored_tokens: float | None


@dataclass(frozen=True)
class Tokens:
    source: str
    mean_completion_tokens: float | None
    mean_prompt_tokens: float | None
    assumption: str | None
    total_completion_tokens: int | None = None


@dataclass(frozen=True)
class Provenance:
    source: str | None
    citation: str | None
    license: str | None
    sha256: str | None


@dataclass(frozen=True)
class Search:
    method: str
    width: int | None
    leaves_short: int | None
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class Prompt:
    hash: str | None
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class Grading:
    name: str
    source_verdicts: int | None
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    run_id: str
    model: Model
    problem_set: str
    sampling: Sampling
    tokens: Tokens
    provenance: Provenance
    reward_model: RewardModel | None
    search: Search | None
    prompt: Prompt
    tool_version: str
    extra: Mapping[str, Any]
    grading: Grading | None = None

    @property
    def label(self) -> str:
        """A display name: the model name (plus search method and width for search runs)."""
        if self.search is None:
            return self.model.name
        return f"{self.model.name} [{self.search.method} w={self.search.width}]"


class _Fields:
    """Typed reads of one JSON object (``section`` names it in errors)."""

    def __init__(self, data: Any, where: str, section: str):
        self.where, self.section = where, section
        if not isinstance(data, dict):
            self.fail(section, "must be a JSON object", data)
        self.data = data

    def fail(self, name: str, rule: str, value: Any) -> None:
        raise ScalingError(
            f"{self.where}: field '{name}' {rule}, got {value!r:.60}; fix the manifest or "
            "re-create the run"
        )

    def name(self, key: str) -> str:
        return f"{self.section}.{key}" if self.section else key

    def get(self, key: str, required: bool) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise ScalingError(
                    f"{self.where}: missing field '{self.name(key)}'; add it or re-import the run"
                )
            return None
        return self.data[key]

    def text(self, key: str, *, required: bool = False, empty: bool = True) -> str | None:
        value = self.get(key, required)
        if value is not None and (not isinstance(value, str) or (not empty and not value)):
            self.fail(self.name(key), "must be a string" + ("" if empty else ", not empty"), value)
        return value

    def integer(self, key: str, *, minimum: int | None = None, required: bool = False):
        value = self.get(key, required)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (minimum is not None and value < minimum)
        ):
            rule = "must be an integer" + (f" >= {minimum}" if minimum is not None else "")
            self.fail(self.name(key), rule, value)
        return value

    def number(self, key: str, *, minimum: float = 0.0, above: bool = False, maximum=None):
        value = self.get(key, False)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None  # NaN (what a mean of no values writes) reads as unknown, like null
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and math.isfinite(value) and (value > minimum if above else value >= minimum)
        ok = ok and (maximum is None or value <= maximum)
        if not ok:
            rule = f"must be a finite number {'>' if above else '>='} {minimum:g}"
            rule += f" and <= {maximum:g}" if maximum is not None else ""
            self.fail(self.name(key), rule, value)
        return float(value)

    def flag(self, key: str) -> bool:
        value = self.get(key, False)
        if value is not None and not isinstance(value, bool):
            self.fail(self.name(key), "must be true or false", value)
        return bool(value)

    def section_of(self, key: str, *, required: bool = False) -> _Fields | None:
        value = self.get(key, required)
        return None if value is None else _Fields(value, self.where, self.name(key))


def parse_manifest(data: Any, where: str) -> Manifest:
    """Validate a manifest dict and return its typed view; ``ScalingError`` names a bad field."""
    if not isinstance(data, dict):
        raise ScalingError(f"{where}: the manifest must be a JSON object; re-create the run")
    top = _Fields(data, where, "")
    for key in REQUIRED:
        top.get(key, True)
    version = top.integer("schema_version", minimum=1, required=True)
    if version > SCHEMA_VERSION:
        raise ScalingError(
            f"{where}: schema_version {version} is newer than this tool understands "
            f"({SCHEMA_VERSION}); upgrade scaling"
        )
    model = top.section_of("model", required=True)
    sampling = top.section_of("sampling", required=True)
    tokens = top.section_of("tokens", required=True)
    provenance = top.section_of("provenance", required=True)
    reward = top.section_of("reward_model")
    search = top.section_of("search")
    grading = top.section_of("grading")
    prompt = top.section_of("prompt") or _Fields({}, where, "prompt")
    extra = top.get("extra", False)
    if extra is not None and not isinstance(extra, dict):
        top.fail("extra", "must be a JSON object", extra)
    source = tokens.text("source", required=True)
    if source not in TOKEN_SOURCES:
        tokens.fail("tokens.source", f"must be one of {', '.join(TOKEN_SOURCES)}", source)
    kind = reward.text("kind") if reward else None
    if kind is not None and kind not in REWARD_KINDS:
        reward.fail("reward_model.kind", "must be orm, prm or null", kind)
    return Manifest(
        schema_version=version,
        run_id=top.text("run_id", required=True, empty=False),
        model=Model(
            name=model.text("name", required=True, empty=False),
            params=model.number("params", above=True),
            n_layers=model.integer("n_layers", minimum=1),
            d_model=model.integer("d_model", minimum=1),
            n_heads=model.integer("n_heads", minimum=1),
            n_kv_heads=model.integer("n_kv_heads", minimum=1),
            head_dim=model.integer("head_dim", minimum=1),
            dtype=model.text("dtype"),
        ),
        problem_set=top.text("problem_set", required=True),
        sampling=Sampling(
            n=sampling.integer("n", minimum=0),
            temperature=sampling.number("temperature"),
            top_p=sampling.number("top_p", above=True, maximum=1.0),
            max_tokens=sampling.integer("max_tokens", minimum=1),
            seed=sampling.integer("seed"),
            greedy=sampling.flag("greedy"),
            settings=MappingProxyType(dict(sampling.data)),
        ),
        tokens=Tokens(
            source=source,
            mean_completion_tokens=tokens.number("mean_completion_tokens"),
            mean_prompt_tokens=tokens.number("mean_prompt_tokens"),
            assumption=tokens.text("assumption"),
            total_completion_tokens=tokens.integer("total_completion_tokens", minimum=0),
        ),
        provenance=Provenance(
            source=provenance.text("source"),
            citation=provenance.text("citation"),
            license=provenance.text("license"),
            sha256=provenance.text("sha256"),
        ),
        reward_model=None
        if reward is None
        else RewardModel(
            name=reward.text("name"),
            params=reward.number("params", above=True),
            kind=kind,
            scored_tokens=reward.integer("scored_tokens", minimum=0),
            mean_scored_tokens=reward.number("mean_scored_tokens"),
        ),
        search=None
        if search is None
        else Search(
            method=search.text("method", required=True, empty=False),
            width=search.integer("width", minimum=1),
            leaves_short=search.integer("leaves_short", minimum=0),
            settings=MappingProxyType(dict(search.data)),
        ),
        prompt=Prompt(hash=prompt.text("hash"), settings=MappingProxyType(dict(prompt.data))),
        tool_version=top.text("tool_version", required=True),
        extra=MappingProxyType(dict(extra or {})),
        grading=None
        if grading is None
        else Grading(
            name=grading.text("name", required=True, empty=False),
            source_verdicts=grading.integer("source_verdicts", minimum=0),
            settings=MappingProxyType(dict(grading.data)),
        ),
    )
