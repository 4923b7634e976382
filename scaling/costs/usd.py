"""``usd``: US dollars from a price table (``usd:prices=prices.toml``).

The table is a TOML file (an example with every field: ``docs/prices.toml``)::

    [models."llama-3-8b-instruct"]   # a model name as in run.json (case and org prefix ignored)
    input_per_mtok = 0.20            # dollars per million prompt tokens
    output_per_mtok = 0.20           # dollars per million generated tokens

    [gpu]
    per_hour = 2.50                  # dollars per GPU-hour, for models without token prices

A model with token prices (an API model) pays for every sample's prompt (each sample is a
separate request) and completion, and a reward model with a price reads every scored sample's
prompt and completion at its input price; k samples with prompt P and mean length C, s of them
scored, cost

    C_usd = (k (P p_in + C p_out) + s (P + C) r_in) / 1e6.

A model without token prices is priced by the hour: its measured GPU-seconds
(``gpu_seconds``) times ``gpu.per_hour`` / 3600. A tree search pays its expansions' generated
tokens at p_out and the tokens its reward model scored at r_in (or the hourly price).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scaling.costs.base import CostModel, Usage, Workload, completion
from scaling.costs.gpu_seconds import seconds_per_token
from scaling.errors import ScalingError
from scaling.files import read_toml
from scaling.manifest import Manifest
from scaling.models import canonical

TOKEN_PRICES = ("input_per_mtok", "output_per_mtok")


@dataclass(frozen=True)
class Prices:
    """A price table: per model (canonical name) dollars per million input and output tokens,
    and dollars per GPU-hour (None: not given)."""

    path: str
    tokens: dict[str, tuple[float, float]]
    per_hour: float | None


def _price(path: Path, where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ScalingError(f"{path}: {where} = {value!r}: give a non-negative number of dollars")
    return float(value)


@functools.lru_cache(maxsize=16)
def _load(path: Path, stamp: int) -> Prices:
    del stamp  # the file's modification time: a changed file is read again
    spec = read_toml(path, "a TOML price table (docs/prices.toml)")
    unknown = sorted(set(spec) - {"models", "gpu"})
    if unknown:
        raise ScalingError(f"{path}: unknown table {unknown[0]!r}; use [models.NAME] and [gpu]")
    tokens = {}
    for name, entry in (spec.get("models") or {}).items():
        keys = set(entry) if isinstance(entry, dict) else set()
        if keys != set(TOKEN_PRICES):
            raise ScalingError(
                f"{path}: [models.{name!r}] must set exactly input_per_mtok and output_per_mtok"
            )
        where = f"models.{name!r}"
        tokens[canonical(name)] = (
            _price(path, f"{where}.input_per_mtok", entry["input_per_mtok"]),
            _price(path, f"{where}.output_per_mtok", entry["output_per_mtok"]),
        )
    gpu = spec.get("gpu") or {}
    if set(gpu) - {"per_hour"}:
        raise ScalingError(f"{path}: [gpu] takes only per_hour (dollars per GPU-hour)")
    per_hour = _price(path, "gpu.per_hour", gpu["per_hour"]) if "per_hour" in gpu else None
    if not tokens and per_hour is None:
        raise ScalingError(f"{path}: no prices; add [models.NAME] token prices or [gpu] per_hour")
    return Prices(str(path), tokens, per_hour)


def load_prices(path: str | Path) -> Prices:
    """The price table at ``path`` (read once per version of the file)."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as e:
        raise ScalingError(
            f"{path}: cannot read it ({e.strerror}); pass a TOML price table (docs/prices.toml)"
        ) from None
    return _load(path, stamp)


@dataclass(frozen=True)
class Usd(CostModel):
    """Dollars from a price table."""

    prices: str

    name = "usd"
    unit = "USD"
    title = (
        "US dollars from a price table: per input and output token (API models) or per "
        "GPU-hour of measured GPU time"
    )

    def __post_init__(self):
        load_prices(self.prices)  # a bad table is an error at once, not a NaN per run

    def cost(self, meta: Manifest, work: Workload, usage: Usage) -> np.ndarray:
        table = load_prices(self.prices)
        p, c = work.prompt[:, None], completion(work, usage)
        model = _token_prices(table, meta.model.name)
        if model is None:
            return self._hourly(table, meta) * c * usage.samples
        total = usage.samples * (p * model[0] + c * model[1]) / 1e6
        if np.any(usage.scored > 0):
            rm = _reward_price(table, meta)
            total = total + usage.scored * (p + c) * rm / 1e6
        return total

    def search_cost(self, meta: Manifest, work: Workload) -> np.ndarray:
        table = load_prices(self.prices)
        model = _token_prices(table, meta.model.name)
        if model is None:
            return self._hourly(table, meta) * work.search_tokens
        rm = _reward_price(table, meta)
        return (work.search_tokens * model[1] + work.search_rm_tokens * rm) / 1e6

    def _hourly(self, table: Prices, meta: Manifest) -> float:
        """Dollars per generated token from the hourly GPU price and the measured time."""
        name = meta.model.name
        add = f"add [models.{name!r}] input_per_mtok and output_per_mtok"
        if table.per_hour is None:
            raise ScalingError(
                f"{table.path}: no price for model {name!r}; {add}, or [gpu] per_hour for "
                "runs collected on a GPU"
            )
        try:
            return table.per_hour / 3600.0 * seconds_per_token(meta, self.name)
        except ScalingError as e:
            raise ScalingError(
                f"{table.path}: no token price for model {name!r} and no measured GPU time for "
                f"[gpu] per_hour ({str(e).split(' (')[0]}); {add}"
            ) from None


def _token_prices(table: Prices, name: str | None) -> tuple[float, float] | None:
    """Dollars per million input and output tokens of the model called ``name``, else None."""
    return table.tokens.get(canonical(name)) if name else None


def _reward_price(table: Prices, meta: Manifest) -> float:
    """Dollars per million tokens the reward model reads, or a one-line error naming it."""
    name = meta.reward_model.name if meta.reward_model is not None else None
    price = _token_prices(table, name)
    if price is None:
        raise ScalingError(
            f"{table.path}: no price for reward model {name!r} (its scored samples cost "
            f"tokens); add [models.{name!r}] input_per_mtok and output_per_mtok"
        )
    return price[0]


COST_MODEL = Usd
