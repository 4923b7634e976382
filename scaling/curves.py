"""Curves: one configuration's exact replayed points, the unit that laws are fitted to.

A configuration is (data set, run, strategy); tree search runs of one data set that differ only
in width form one configuration whose k is the width, named ``model [method ...]``. A curve
holds the simulator's exact points (k, expected samples drawn, cost per problem, accuracy with
its interval) and their paired bootstrap replicates. ``design`` points are replayed at the same
k whatever budgets are asked for (every k up to 64, then powers of two and n): laws are fitted
to those only, so no law depends on the budget grid; further exact points may be replayed at
the k a budget affords.

Budgets map to k through the cost line cost = c0 + c1 k, fitted through the design points:
exact for sampling strategies (the prompt once per problem, then a fixed price per sample) while
every problem has at least k samples, and the rule used to price k beyond the replayed ones. An
adaptive strategy draws E[K] <= k samples, so its cost is not a line in k: its budgets map to
k by interpolating its own replayed costs, and never beyond them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scaling.manifest import Manifest
from scaling.simulate import run_labels
from scaling.store import Run, config_hash
from scaling.strategies import parse_strategies

DESIGN_DENSE = 64  # every k up to this many samples per problem is a design point
POINT_COLUMNS = [
    "run_id",
    "k",
    "samples",
    "cost",
    "accuracy",
    "stderr",
    "mc_stderr",
    "ci_low",
    "ci_high",
    "n_problems",
    "design",
]


@dataclass(frozen=True)
class Curve:
    """One configuration: exact points (``POINT_COLUMNS``, sorted by k) and their bootstrap
    replicates ``draws`` (replicates, points), paired across configurations of a data set."""

    dataset: str
    run: str
    model: str
    params: float
    strategy: str
    deployable: bool
    method: str  # the tree search method ("" for sampling)
    adaptive: bool  # draws fewer samples than k on average (cost not a line in k)
    points: pd.DataFrame
    draws: np.ndarray
    cost0: float  # cost = cost0 + cost1 * k
    cost1: float

    @property
    def label(self) -> str:
        """``run / strategy``: the run's label tells apart runs of one model (``run_labels``)."""
        return f"{self.run} / {self.strategy}"

    @property
    def design(self) -> pd.DataFrame:
        """The design points (what laws are fitted to)."""
        return self.points[self.points["design"]]

    @property
    def design_draws(self) -> np.ndarray:
        return self.draws[:, self.points["design"].to_numpy()]

    @property
    def k(self) -> np.ndarray:
        """The design k."""
        return self.design["k"].to_numpy(dtype=float)

    @property
    def replayable(self) -> bool:
        """Whether any k up to the largest replayed one can be replayed exactly at a cost known
        beforehand (sampling strategies; not tree search widths nor adaptive strategies)."""
        return not self.method and not self.adaptive and np.isfinite(self.cost1)

    def k_at(self, budget: np.ndarray) -> np.ndarray:
        """The largest k each budget affords (0 where not even k = 1 is affordable)."""
        budget = np.asarray(budget, dtype=float)
        if self.adaptive:
            k, cost = self.k, np.maximum.accumulate(self.design["cost"].to_numpy(dtype=float))
            inside = budget >= cost[0] * (1 - 1e-12)
            at = np.floor(np.interp(budget, cost, k, right=k[-1]) * (1 + 1e-12))
            return np.where(inside, at, 0.0)
        k = np.floor((budget - self.cost0) / self.cost1 * (1 + 1e-12))
        return np.where(np.isfinite(k), np.maximum(k, 0.0), 0.0)

    def cost_at(self, k: np.ndarray) -> np.ndarray:
        """The cost line at ``k``."""
        return self.cost0 + self.cost1 * np.asarray(k, dtype=float)


def model_family(name: str) -> str:
    """A model's family: its name without the size token (``pythia-1.4b`` -> ``pythia``)."""
    return re.sub(r"[-_]?\d+(\.\d+)?[mbk](?=$|[-_])", "", name.lower()) or name


def design_ks(runs: list[Run]) -> str | list[int]:
    """The design budgets k: every k up to ``DESIGN_DENSE`` samples per problem, beyond that
    the powers of two and n itself (the simulator's ``pow2``)."""
    n_max = max(r.meta.sampling.n or 1 for r in runs)
    return list(range(1, n_max + 1)) if n_max <= DESIGN_DENSE else "pow2"


def _search_settings(meta: Manifest) -> dict[str, Any]:
    """What makes a tree search configuration: model, reward model, prompt, sampling settings
    but n and search settings but the width (and the ``leaves_short`` count, a result)."""
    sampling = {f"sampling.{k}": v for k, v in meta.sampling.settings.items() if k != "n"}
    return {
        "model": meta.model.name,
        "params": meta.model.params,
        "reward_model": meta.reward_model.name if meta.reward_model else None,
        "prompt": meta.prompt.hash,
        **sampling,
        **{k: v for k, v in meta.search.settings.items() if k not in ("width", "leaves_short")},
    }


def search_configurations(runs: list[Run], notes: list[str]) -> dict[str, tuple[str, str]]:
    """Tree search runs of one data set that differ only in width, as one curve: the run's
    label -> (configuration label, method). A configuration needs two or more runs of distinct
    widths; a single run keeps its own label. Labels are ``model [method]``, plus the settings
    that tell apart configurations of one model and method."""
    configs: dict[str, list[tuple[Run, str]]] = {}
    for run, label in zip(runs, run_labels(runs), strict=True):
        if run.meta.search is not None:
            configs.setdefault(config_hash(_search_settings(run.meta)), []).append((run, label))
    merged = []
    for members in configs.values():
        widths = [r.meta.search.width for r, _ in members]
        if len(members) > 1 and len(set(widths)) < len(widths):
            notes.append(
                f"search runs {', '.join(label for _, label in members)} repeat a width; "
                "each is fitted as its own curve"
            )
        elif len(members) > 1:
            merged.append(members)
    out = {}
    for members in merged:
        meta = members[0][0].meta
        method = meta.search.method
        settings = _search_settings(meta)
        rivals = [
            _search_settings(m[0][0].meta)
            for m in merged
            if m[0][0].meta.model.name == meta.model.name and m[0][0].meta.search.method == method
        ]
        differ = [k for k in settings if any(r.get(k) != settings[k] for r in rivals)]
        label = f"{meta.model.name} [{method}" + "".join(f" {k}={settings[k]}" for k in differ)
        out.update({name: (label + "]", method) for _, name in members})
    return out


def build_curves(table: pd.DataFrame, replicates: pd.DataFrame, methods: dict[str, str]):
    """One curve per (data set, run, strategy) of the simulator's ``table`` (with ``dataset``
    and ``design`` columns) and ``replicates``; ``methods``: the tree search method of each
    configuration label that spans several runs."""
    curves = []
    keys = ["dataset", "run", "strategy"]
    rows_of = replicates.groupby(keys, sort=False, observed=True).indices
    columns = [replicates[c].to_numpy() for c in ("replicate", "k", "accuracy")]
    for (dataset, run, strategy), pts in table.groupby(keys, sort=False, observed=True):
        pts = pts.sort_values(["k", "design"], ascending=[True, False])
        pts = pts.drop_duplicates("k")
        pts = pts[pts["accuracy"].notna()].reset_index(drop=True)  # NaN: below its cheapest
        if pts.empty:
            continue
        rows = rows_of[(dataset, run, strategy)]
        draws = _draws(*(c[rows] for c in columns), pts["k"].to_numpy())
        design = pts[pts["design"]]
        k, cost = design["k"].to_numpy(dtype=float), design["cost"].to_numpy(dtype=float)
        if not np.all(np.isfinite(cost)):
            c1, c0 = np.nan, 0.0
        elif np.unique(k).size >= 2:
            c1, c0 = np.polyfit(k, cost, 1)
        else:
            c1, c0 = cost[0] / k[0], 0.0
        first = pts.iloc[0]
        adaptive = parse_strategies([str(strategy)])[0].adaptive
        curves.append(
            Curve(
                dataset=str(dataset),
                run=str(run),
                model=str(first["model"]),
                params=float(first["params"]) if pd.notna(first["params"]) else float("nan"),
                strategy=str(strategy),
                deployable=bool(first["deployable"]),
                method=methods.get(str(run), ""),
                adaptive=adaptive,
                points=pts[POINT_COLUMNS],
                draws=draws,
                cost0=float(max(c0, 0.0)),
                cost1=float(c1),
            )
        )
    return curves


def _draws(rep: np.ndarray, k: np.ndarray, accuracy: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Replicate accuracies (replicate index, k, accuracy per row) as an array (replicate, k)
    over ``ks`` (ascending, unique), NaN where a k was not replayed."""
    rep, k = rep.astype(np.int64), k.astype(np.int64)
    col = np.minimum(np.searchsorted(ks, k), len(ks) - 1)
    found = ks[col] == k
    draws = np.full((int(rep.max(initial=-1)) + 1, len(ks)), np.nan)
    draws[rep[found], col[found]] = accuracy.astype(float)[found]
    return draws
