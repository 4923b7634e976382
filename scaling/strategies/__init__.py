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
before it; parsed by ``scaling.specs``, as cost models are).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from scaling.errors import ArgumentError
from scaling.specs import parse_specs
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


def parse_strategies(
    spec: str | Iterable[str | Strategy] | None, argument: str = "strategies"
) -> list[Strategy] | None:
    """Strategies from ``"majority,early_majority:lead=2,k_max=64"``, from a list of such
    words or ``Strategy`` objects, or None (None: the caller's default)."""
    if spec is None:
        return None
    return parse_specs(spec, strategy_class, Strategy, argument, "strategy")
