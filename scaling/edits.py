"""Editing a run's manifest after it was made (``scaling runs set``): a model size, token
counts, architecture, a reward model's size, the problem set's name, provenance.

``set_fields(run, params=7e9, ...)`` changes only ``run.json``, never the samples or problems:
under the run's lock (a writer busy with it refuses the edit at once), it reads the manifest
afresh, applies the values, validates the whole through the typed manifest
(``scaling.manifest.parse_manifest``) and replaces the file atomically. Values are checked as
``scaling import`` checks them. Each change is recorded in ``extra.edits`` as ``{field, old,
new}``.

The run id does not change. It names how the run was made (its source, model as imported,
sampling, grading; ``scaling.store.new_manifest``): an edit records what was learned since, so a
collect run can still be resumed and results keyed by the id stay comparable. Hence a run
imported with ``--params N`` and one given ``--params N`` afterwards carry different ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaling.errors import ArgumentError, ScalingError
from scaling.importers.base import ImportOptions, check_heads, tokens_block
from scaling.store import Run

MODEL_FIELDS = ("params", "n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "dtype")
TOKEN_FIELDS = ("tokens_per_sample", "prompt_tokens", "tokens_note")
EXAMPLE = "e.g. --params 7e9 or --tokens-per-sample 512"


@dataclass(frozen=True)
class Change:
    """One manifest field changed: its dotted name, the old and the new value."""

    field: str
    old: Any
    new: Any


def set_fields(
    run: Run | str | Path,
    *,
    params: float | None = None,
    n_layers: int | None = None,
    d_model: int | None = None,
    n_heads: int | None = None,
    n_kv_heads: int | None = None,
    head_dim: int | None = None,
    dtype: str | None = None,
    tokens_per_sample: float | None = None,
    prompt_tokens: float | None = None,
    tokens_note: str | None = None,
    reward_params: float | None = None,
    problem_set: str | None = None,
    citation: str | None = None,
    license: str | None = None,
) -> list[Change]:
    """Set the given fields of ``run``'s manifest (None: leave as is); returns the changes
    (empty: the manifest already held these values, and nothing was written).

    ``tokens_per_sample`` declares the mean completion tokens of a sample (``tokens.source``
    becomes "assumed"), ``prompt_tokens`` the prompt's; refused for a run whose token counts
    were measured. ``reward_params`` needs a run scored by a reward model."""
    values = {k: v for k, v in locals().items() if k != "run" and v is not None}
    run = run if isinstance(run, Run) else Run.open(run)
    if not values:
        raise ScalingError(f"{run.path}: name a field to set, {EXAMPLE}")
    if problem_set is not None and not problem_set.strip():
        raise ArgumentError("problem_set", problem_set, "give a name")
    ImportOptions(**values).check()
    with run.lock():
        manifest = run.manifest
        fields: dict[str, Any] = {}
        model = {**manifest["model"], **{k: values[k] for k in MODEL_FIELDS if k in values}}
        check_heads(model.get("n_heads"), model.get("n_kv_heads"))
        fields["model"] = model
        if any(k in values for k in TOKEN_FIELDS):
            fields["tokens"] = _tokens(run, values)
        if reward_params is not None:
            if manifest.get("reward_model") is None:
                raise ArgumentError("reward_params", reward_params, "the run has no reward model")
            fields["reward_model"] = {**manifest["reward_model"], "params": reward_params}
        if problem_set is not None:
            fields["problem_set"] = problem_set
        provenance = {k: values[k] for k in ("citation", "license") if k in values}
        if provenance:
            fields["provenance"] = {**manifest["provenance"], **provenance}
        changes = [c for name, new in fields.items() for c in _diff(name, manifest.get(name), new)]
        if changes:
            extra = dict(manifest.get("extra") or {})
            extra["edits"] = [*extra.get("edits", []), *(c.__dict__ for c in changes)]
            run.update_manifest(**fields, extra=extra)
    return changes


def _tokens(run: Run, values: dict[str, Any]) -> dict[str, Any]:
    """The new ``tokens`` block: the declared counts given, over those declared before."""
    tokens = run.manifest["tokens"]
    source = tokens.get("source")
    flag = next(k for k in TOKEN_FIELDS if k in values)
    if source in ("measured", "mean"):
        raise ArgumentError(
            flag, values[flag], f"the run's token counts are measured (tokens.source {source!r}); "
            "a declared count would replace a measurement: re-import with --tokens-per-sample "
            "if you mean it"
        )  # fmt: skip
    counts = run.sample_table(["completion_tokens"]).column("completion_tokens")
    if len(counts) and counts.null_count == 0:
        raise ArgumentError(
            flag, values[flag], "the run's samples carry measured token counts, which cost models "
            "use over a declared one"
        )  # fmt: skip
    declared = tokens if source == "assumed" else {}
    per_sample = values.get("tokens_per_sample", declared.get("mean_completion_tokens"))
    if per_sample is None:
        raise ArgumentError(flag, values[flag], "give --tokens-per-sample too (none is declared)")
    return tokens_block(
        ImportOptions(
            tokens_per_sample=per_sample,
            prompt_tokens=values.get("prompt_tokens", declared.get("mean_prompt_tokens")),
            tokens_note=values.get("tokens_note"),
        )
    )


def _diff(name: str, old: Any, new: Any) -> list[Change]:
    """The changes from ``old`` to ``new``, field by field inside a block."""
    if isinstance(new, dict):
        old = old if isinstance(old, dict) else {}
        return [Change(f"{name}.{k}", old.get(k), v) for k, v in new.items() if old.get(k) != v] + [
            Change(f"{name}.{k}", v, None) for k, v in old.items() if k not in new
        ]
    return [] if old == new else [Change(name, old, new)]
