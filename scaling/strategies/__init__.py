"""Inference strategies: one module per strategy, a registry from name to module.

Each module defines one ``Strategy`` subclass (``scaling.strategies.base``) and exposes it as
``STRATEGY``; adding a strategy is one module, one line here, and its tests.

======================== ======================== ==========================================
name                     module                   what it does
======================== ======================== ==========================================
greedy                   greedy                   the temperature-0 sample (k = 1)
pass                     coverage                 pass@k, oracle coverage (a ceiling)
majority                 majority                 majority vote over k samples
best_of_n                best_of_n                the reward model's top sample of k
weighted_majority        weighted_majority        votes weighted by reward
early_majority           early_majority           majority, stopping once the leader is safe
early_weighted_majority  early_weighted_majority  the same on summed rewards
verifier_threshold       verifier_threshold       the first sample the reward model accepts
allocated                allocated                strategy and k chosen per difficulty bin
======================== ======================== ==========================================

On the command line a strategy is ``name`` (its default parameters) or
``name:param=value,param=value``; several are separated by commas
(``majority,early_majority:lead=2,k_max=64``: a ``param=value`` word belongs to the strategy
before it).
"""

from __future__ import annotations

import dataclasses
import importlib
import typing
from collections.abc import Iterable, Sequence

from scaling.errors import ArgumentError
from scaling.strategies.base import NEEDS, Cache, Replay, Strategy

STRATEGIES: dict[str, str] = {
    "greedy": "greedy",
    "pass": "coverage",
    "majority": "majority",
    "best_of_n": "best_of_n",
    "weighted_majority": "weighted_majority",
    "early_majority": "early_majority",
    "early_weighted_majority": "early_weighted_majority",
    "verifier_threshold": "verifier_threshold",
    "allocated": "allocated",
}

__all__ = [
    "NEEDS",
    "STRATEGIES",
    "Cache",
    "Replay",
    "Strategy",
    "default_strategies",
    "parse_strategies",
    "strategy_class",
]


def strategy_class(name: str, argument: str = "strategies") -> type[Strategy]:
    """The registered strategy called ``name``."""
    if name not in STRATEGIES:
        known = ", ".join(STRATEGIES)
        raise ArgumentError(argument, name, f"unknown strategy; choose from {known}")
    return importlib.import_module(f"scaling.strategies.{STRATEGIES[name]}").STRATEGY


def default_strategies() -> list[Strategy]:
    """The strategies replayed when none are named: every registered one with a default
    instance (``Strategy.defaults``; those whose parameters are in a reward model's units have
    none)."""
    out = []
    for name in STRATEGIES:
        cls = strategy_class(name)
        if cls.defaults is not None:
            out.append(cls(**cls.defaults))
    return out


def _convert(cls: type[Strategy], name: str, text: str, spec: str, argument: str) -> object:
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    if name not in fields:
        known = ", ".join(sorted(fields)) or "none"
        raise ArgumentError(argument, spec, f"{cls.name} has no parameter {name!r} (has: {known})")
    kinds = [t for t in typing.get_args(hints[name]) or (hints[name],) if t is not type(None)]
    for kind in kinds:
        try:
            value = kind(text)
        except ValueError:
            continue
        if kind is int and float(text) != value:
            continue
        return value
    want = " or ".join(k.__name__ for k in kinds)
    raise ArgumentError(argument, spec, f"parameter {name} must be {want}, got {text!r}")


def _one(spec: str, argument: str) -> Strategy:
    name, _, rest = spec.partition(":")
    cls = strategy_class(name.strip(), argument)
    values = {}
    for word in filter(None, (w.strip() for w in rest.split(","))):
        key, eq, text = word.partition("=")
        if not eq:
            raise ArgumentError(argument, spec, f"write parameters as name=value, not {word!r}")
        values[key.strip()] = _convert(cls, key.strip(), text.strip(), spec, argument)
    if not values and cls.defaults:  # a bare name is the default instance
        values = dict(cls.defaults)
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        example = ",".join(f"{m}=VALUE" for m in missing)
        raise ArgumentError(argument, spec, f"set {', '.join(missing)}: {cls.name}:{example}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as e:
        raise ArgumentError(argument, spec, str(e)) from None


def parse_strategies(
    spec: str | Iterable[str | Strategy] | None, argument: str = "strategies"
) -> list[Strategy] | None:
    """Strategies from ``"majority,early_majority:lead=2,k_max=64"``, from a list of such
    words or ``Strategy`` objects, or None (None: the caller's default)."""
    if spec is None:
        return None
    words: Sequence[str | Strategy] = spec.split(",") if isinstance(spec, str) else list(spec)
    specs: list[str | Strategy] = []
    for word in words:
        if isinstance(word, Strategy):
            specs.append(word)
        elif "=" in word and ":" not in word and specs and isinstance(specs[-1], str):
            specs[-1] += "," + word
        elif word.strip():
            specs.append(word.strip())
    out = [s if isinstance(s, Strategy) else _one(s, argument) for s in specs]
    if not out:
        raise ArgumentError(argument, spec, "name at least one strategy")
    return list(dict.fromkeys(out))
