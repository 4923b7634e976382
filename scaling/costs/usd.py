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
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scaling.costs.base import CostModel, Usage, Workload, completion
from scaling.costs.gpu_seconds import seconds_per_token
from scaling.errors import ScalingError
from scaling.models import canonical

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, published separately before Python 3.11
    import tomli as tomllib

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
    try:
        with open(path, "rb") as fh:
            spec = tomllib.load(fh)
    except OSError as e:
        raise ScalingError(
            f"{path}: cannot read it ({e.strerror}); pass a TOML price table (docs/prices.toml)"
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise ScalingError(f"{path}: not valid TOML ({e}); fix the file") from None
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

    def cost(self, manifest: Mapping[str, Any], work: Workload, usage: Usage) -> np.ndarray:
        table = load_prices(self.prices)
        p, c = work.prompt[:, None], completion(work, usage)
        model = self._tokens(table, manifest, "model")
        if model is None:
            return self._hourly(table, manifest) * c * usage.samples
        total = usage.samples * (p * model[0] + c * model[1]) / 1e6
        if np.any(usage.scored > 0):
            rm = self._reward_price(table, manifest)
            total = total + usage.scored * (p + c) * rm / 1e6
        return total

    def search_cost(self, manifest: Mapping[str, Any], work: Workload) -> np.ndarray:
        table = load_prices(self.prices)
        model = self._tokens(table, manifest, "model")
        if model is None:
            return self._hourly(table, manifest) * work.search_tokens
        rm = self._reward_price(table, manifest)
        return (work.search_tokens * model[1] + work.search_rm_tokens * rm) / 1e6

    def _tokens(self, table: Prices, manifest, section: str) -> tuple[float, float] | None:
        name = (manifest.get(section) or {}).get("name")
        return table.tokens.get(canonical(str(name))) if name else None

    def _hourly(self, table: Prices, manifest) -> float:
        """Dollars per generated token from the hourly GPU price and the measured time."""
        name = (manifest.get("model") or {}).get("name")
        add = f"add [models.{name!r}] input_per_mtok and output_per_mtok"
        if table.per_hour is None:
            raise ScalingError(
                f"{table.path}: no price for model {name!r}; {add}, or [gpu] per_hour for "
                "runs collected on a GPU"
            )
        try:
            return table.per_hour / 3600.0 * seconds_per_token(manifest, self.name)
        except ScalingError as e:
            raise ScalingError(
                f"{table.path}: no token price for model {name!r} and no measured GPU time for "
                f"[gpu] per_hour ({str(e).split(' (')[0]}); {add}"
            ) from None

    def _reward_price(self, table: Prices, manifest) -> float:
        price = self._tokens(table, manifest, "reward_model")
        if price is None:
            name = (manifest.get("reward_model") or {}).get("name")
            raise ScalingError(
                f"{table.path}: no price for reward model {name!r} (its scored samples cost "
                f"tokens); add [models.{name!r}] input_per_mtok and output_per_mtok"
            )
        return price[0]


COST_MODEL = Usd
