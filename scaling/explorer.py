"""The interactive frontier explorer: one self-contained HTML page (plotly.js inlined, no server).

The page is built from plain tidy DataFrames, so a notebook can feed it anything. Costs are per
problem, in the data set's unit: the cost model's (``FLOPs`` for ``paper``), or ``samples``
where the cost is unknown (then cost = expected samples drawn).

- ``points``: one row per exact replayed (dataset, run, model, params, strategy, k) with
  ``samples`` (expected samples drawn: k for a fixed-size strategy, E[K] <= k for an adaptive
  one), ``cost`` and ``tokens`` per problem (NaN where unknown: such points show on the samples
  axis only), ``accuracy`` and its interval ``ci_low``, ``ci_high``.
- ``curves``: fitted curves, rows (dataset, run, strategy, pred, lo, hi, extrapolated) with ``k``
  or ``cost`` or both. What is missing, and ``samples``, follow from the configuration's points:
  interpolated between them and, beyond them, along the line v = a + b k through them (exact
  for sampling strategies: the prompt once, then a fixed price per sample). An adaptive
  strategy's cost is no line in k, so its curve is kept within its points. Downsampled to
  ``MAX_CURVE_POINTS`` per curve, keeping where extrapolation starts and ends.
- ``frontier``: per (dataset, budget) the best ranked configuration (model, strategy, k) with
  its ``accuracy``, ``ci_low``, ``ci_high``, ``source`` (``exact`` replay, or the fitted law
  ``interpolated`` between replayed k or ``extrapolated`` beyond them), ``runner_up``,
  ``margin``; a row whose model is "" ranks nothing (only the ceiling). Optional: ``run``,
  ``cost``, ``margin_low``, ``margin_high``, ``p_best``, ``budget_unit``, the runner-up's
  ``runner_up_run``, ``runner_up_strategy``, and the oracle ceiling ``ceiling`` (accuracy),
  ``ceiling_low``, ``ceiling_high``, ``ceiling_run``, ``ceiling_strategy``, ``ceiling_k``,
  ``ceiling_cost``, ``ceiling_source``.
- ``nopt`` (optional): the headline compute-optimal size law per (dataset, law, budget):
  ``n_opt``, ``lo``, ``hi``, and optionally the diagnostic ``best_model``, ``best_params``
  (the best replayed size at that budget). ``nopt_law`` (optional): per dataset a law dict or
  a list of them: ``label`` (matching ``nopt['law']``), ``G``, ``a``, ``a_low``, ``a_high``
  of N_opt = G C^a, optionally ``reliable``, ``misfit`` (RMS of the joint law's residuals in
  standard errors), ``fit_error``, and the diagnostic slope of log N_best on log C:
  ``slope``, ``slope_low``, ``slope_high`` over budgets ``slope_from`` to ``slope_to``.
- ``levels`` (optional): accuracy by difficulty level (dataset, run, strategy, k, level,
  accuracy [, ci_low, ci_high]).
- ``meta``: ``cost`` (the cost model's name) and ``unit`` (its unit); optional ``cost_title``,
  ``include_oracle`` (pass@k ranked with the deployable strategies), ``level`` of the
  intervals (0.95), ``title`` and
  ``datasets`` (per dataset: ``title``, ``provenance``, ``n_problems``, ``unit``, ``notes``).

Strategies are named on the page by the registry (``scaling.strategies``: label, title,
deployable, adaptive). Configurations of oracle strategies are the ceiling, not ranked, unless
``include_oracle``. Colours: one hue per model family, lighter to darker with size; a data set
of one family uses a sequential scale over its sizes.

Floats are rounded for the page (accuracies to 5 decimals, costs/tokens/params to 4
significant digits): it is a view, the exact numbers live in the tables ``scaling simulate``
and ``scaling fit`` write.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors
import plotly.offline

from scaling import __version__
from scaling.curves import model_family
from scaling.errors import ArgumentError, ScalingError
from scaling.store import atomic_write_text
from scaling.strategies import STRATEGIES, parse_strategies

MAX_CURVE_POINTS = 60
ACC_DECIMALS = 5
SIG_DIGITS = 4
SIZE_SCALE = "Plasma"  # one family: sequential; the pale top is cut off so it reads on white
SIZE_SCALE_SPAN = (0.0, 0.8)  # largest model -> dark end, smallest -> light end
FAMILY_COLORS = [c for c in plotly.colors.qualitative.D3 if c != "#7F7F7F"] + [
    "#222A2A",
    "#B68100",
    "#00A08B",
    "#750D86",
    "#FB0D0D",
]  # grey is the oracle ceiling's
SHADE_SPAN = (0.42, -0.32)  # within a family: smallest mixed 42% with white, largest 32% black
SOURCES = ("exact", "interpolated", "extrapolated")
CEILING = (
    "ceiling",
    "ceiling_run",
    "ceiling_strategy",
    "ceiling_k",
    "ceiling_cost",
    "ceiling_source",
)

COLUMNS = {
    "points": (
        "dataset",
        "run",
        "model",
        "params",
        "strategy",
        "k",
        "samples",
        "cost",
        "tokens",
        "accuracy",
        "ci_low",
        "ci_high",
    ),
    "curves": ("dataset", "run", "strategy", "pred", "lo", "hi", "extrapolated"),
    "frontier": (
        "dataset",
        "budget",
        "model",
        "strategy",
        "k",
        "accuracy",
        "ci_low",
        "ci_high",
        "source",
        "runner_up",
        "margin",
    ),
    "nopt": ("dataset", "law", "budget", "n_opt", "lo", "hi"),
    "levels": ("dataset", "run", "strategy", "k", "level", "accuracy"),
}


def _check(frame: pd.DataFrame | None, name: str, *, optional: bool = False) -> None:
    if frame is None:
        if optional:
            return
        raise ScalingError(f"explorer: the '{name}' frame is required; pass a DataFrame")
    if not isinstance(frame, pd.DataFrame):
        raise ScalingError(f"explorer: '{name}' must be a pandas DataFrame, not {type(frame)}")
    if missing := [c for c in COLUMNS[name] if c not in frame.columns]:
        raise ScalingError(
            f"explorer: the '{name}' frame lacks column(s) {', '.join(missing)}; "
            f"it needs {', '.join(COLUMNS[name])}"
        )


def _sig(values: Any, digits: int = SIG_DIGITS) -> list:
    """Round to ``digits`` significant digits; NaN becomes ``None`` (JSON null)."""
    arr = np.asarray(values, dtype=float)
    return [float(f"{v:.{digits}g}") if math.isfinite(v) else None for v in arr]


def _acc(values: Any) -> list:
    """Round accuracies to ``ACC_DECIMALS`` decimals; NaN becomes ``None``."""
    arr = np.round(np.asarray(values, dtype=float), ACC_DECIMALS)
    return [float(v) if math.isfinite(v) else None for v in arr]


def _ints(values: Any) -> list:
    return [int(v) for v in np.asarray(values)]


def _number(value: Any) -> float | None:
    """A finite float rounded to 6 significant digits, else None."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return float(f"{v:.6g}") if math.isfinite(v) else None


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(min(max(v, 0.0), 255.0)):02x}" for v in rgb)


def _shade(color: str, t: float) -> str:
    """``color`` mixed with white (t > 0) or black (t < 0) in proportion |t|."""
    rgb = np.array(plotly.colors.hex_to_rgb(color), dtype=float)
    target = 255.0 if t > 0 else 0.0
    return _hex(tuple(rgb + abs(t) * (target - rgb)))


def model_colors(params: Mapping[str, float | None]) -> dict[str, str]:
    """Model -> colour: one hue per model family (``scaling.curves.model_family``), from light
    (smallest) to dark (largest; unknown sizes last); a single family takes evenly spaced
    colours of a sequential scale by size, so every model stays distinguishable."""
    size = {
        m: float(p) if p is not None and np.isfinite(float(p)) and float(p) > 0 else math.inf
        for m, p in params.items()
    }
    families: dict[str, list[str]] = {}
    for m in sorted(params, key=lambda m: (size[m], m)):
        families.setdefault(model_family(m), []).append(m)
    colors = {}
    if len(families) == 1:
        (members,) = families.values()
        start, stop = SIZE_SCALE_SPAN
        spots = np.linspace(stop, start, len(members)) if len(members) > 1 else [stop / 2]
        for m, spot in zip(members, spots, strict=True):
            colors[m] = _hex(
                plotly.colors.unlabel_rgb(
                    plotly.colors.sample_colorscale(SIZE_SCALE, [float(spot)])[0]
                )
            )
        return colors
    for i, members in enumerate(families.values()):
        base = FAMILY_COLORS[i % len(FAMILY_COLORS)]
        shades = np.linspace(*SHADE_SPAN, len(members)) if len(members) > 1 else [0.0]
        for m, t in zip(members, shades, strict=True):
            colors[m] = _shade(base, float(t)) if t else base.lower()
    return colors


def strategy_info(key: str) -> dict[str, Any]:
    """How the page names a strategy (``name`` or ``name:param=value``), from the registry:
    ``label`` (short), ``title``, ``text`` (the title's head, with the parameters when they
    are not the defaults), ``deployable``, ``adaptive``."""
    try:
        (s,) = parse_strategies([key])
    except ArgumentError as e:
        raise ScalingError(
            f"explorer: strategy {key!r}: {e.problem}; name strategies as scaling.strategies "
            "does (e.g. majority or early_majority:lead=2)"
        ) from None
    text = s.title.split(" (")[0]
    if s.params != (s.defaults or {}):
        text += " (" + s.key.partition(":")[2] + ")"
    return {
        "key": key,
        "name": s.name,
        "label": s.short,
        "title": s.title,
        "text": text,
        "deployable": s.deployable,
        "adaptive": s.adaptive,
        "order": list(STRATEGIES).index(s.name),
    }


def _downsample(curve: pd.DataFrame, limit: int = MAX_CURVE_POINTS) -> pd.DataFrame:
    """At most ``limit`` rows, evenly spaced in row order (log-spaced grids stay log-spaced),
    always keeping both ends and the rows where ``extrapolated`` switches."""
    n = len(curve)
    if n <= limit:
        return curve
    keep = set(np.round(np.linspace(0, n - 1, limit)).astype(int))
    flag = curve["extrapolated"].to_numpy(bool)
    switches = np.flatnonzero(flag[1:] != flag[:-1])
    keep |= set(switches) | set(switches + 1)
    return curve.iloc[sorted(keep)]


def _along(x: np.ndarray, px: np.ndarray, pv: np.ndarray, extend: bool) -> np.ndarray:
    """The value v at ``x`` of a configuration whose points are (px, pv), px increasing:
    interpolated between its points; beyond them (``extend``) on the least-squares line
    v = a + b x through them (NaN where it cannot be fitted or does not increase)."""
    ok = np.isfinite(px) & np.isfinite(pv)
    px, pv = px[ok], pv[ok]
    out = np.full(x.shape, np.nan)
    if px.size == 0:
        return out
    inside = (x >= px.min() * (1 - 1e-9)) & (x <= px.max() * (1 + 1e-9))
    out[inside] = np.interp(x[inside], px, pv)
    if extend and np.unique(px).size >= 2:
        b, a = np.polyfit(px, pv, 1)
        if b > 0:
            out[~inside] = a + b * x[~inside]
    return out


def _curve_axes(curve: pd.DataFrame, pts: pd.DataFrame, adaptive: bool) -> pd.DataFrame:
    """The curve's rows with ``k``, ``cost`` and ``samples`` filled in from the configuration's
    points (``pts``, sorted by k); an adaptive strategy's rows outside its points dropped."""
    nan = np.full(len(curve), np.nan)
    k = curve["k"].to_numpy(float) if "k" in curve.columns else nan
    cost = curve["cost"].to_numpy(float) if "cost" in curve.columns else nan
    pk, pcost = pts["k"].to_numpy(float), pts["cost"].to_numpy(float)
    if np.isnan(k).any():  # k from cost, along the points' increasing cost
        order = np.argsort(pcost, kind="stable")
        k = np.where(np.isnan(k), _along(cost, pcost[order], pk[order], not adaptive), k)
    cost = np.where(np.isnan(cost), _along(k, pk, pcost, not adaptive), cost)
    samples = _along(k, pk, pts["samples"].to_numpy(float), not adaptive)
    out = curve.assign(k=k, cost=cost, samples=samples)
    if adaptive:
        out = out[(k >= pk.min() * (1 - 1e-9)) & (k <= pk.max() * (1 + 1e-9))]
    return out


def _config_payload(
    cid: int,
    key: tuple,
    pts: pd.DataFrame,
    curve: pd.DataFrame | None,
    levels: pd.DataFrame | None,
    color: str,
    ranked: bool,
) -> dict:
    dataset, run, strategy = key
    pts = pts.sort_values(["k", "cost"])
    first = pts.iloc[0]
    params = first["params"]
    info = strategy_info(str(strategy))
    payload: dict[str, Any] = {
        "id": cid,
        "run": str(run),
        "model": str(first["model"]),
        "family": model_family(str(first["model"])),
        "params": None if pd.isna(params) else float(params),
        "strategy": str(strategy),
        "deployable": info["deployable"],
        "adaptive": info["adaptive"],
        "ranked": ranked,
        "color": color,
        "points": {
            "k": _ints(pts["k"]),
            "samples": _sig(pts["samples"]),
            "cost": _sig(pts["cost"]),
            "tokens": _sig(pts["tokens"]),
            "acc": _acc(pts["accuracy"]),
            "lo": _acc(pts["ci_low"]),
            "hi": _acc(pts["ci_high"]),
        },
        "curve": None,
        "levels": None,
    }
    if curve is not None and len(curve):
        by_k = "k" in curve.columns and curve["k"].notna().all()
        curve = curve.sort_values("k" if by_k else "cost", kind="stable")
        curve = _downsample(_curve_axes(curve, pts, info["adaptive"]))
        if len(curve):
            payload["curve"] = {
                "k": _sig(curve["k"]),
                "cost": _sig(curve["cost"]),
                "samples": _sig(curve["samples"]),
                "pred": _acc(curve["pred"]),
                "lo": _acc(curve["lo"]),
                "hi": _acc(curve["hi"]),
                "extrap": _ints(curve["extrapolated"].astype(bool)),
            }
    if levels is not None and len(levels):
        levels = levels.sort_values(["k", "level"])
        has_ci = {"ci_low", "ci_high"} <= set(levels.columns)
        payload["levels"] = {
            "k": _ints(levels["k"]),
            "level": [str(v) for v in levels["level"]],
            "acc": _acc(levels["accuracy"]),
            "lo": _acc(levels["ci_low"]) if has_ci else None,
            "hi": _acc(levels["ci_high"]) if has_ci else None,
        }
    return payload


def _column(front: pd.DataFrame, name: str, convert: Any) -> list | None:
    return convert(front[name]) if name in front.columns else None


def _frontier_payload(front: pd.DataFrame, run_of: dict, ids: dict, dataset: str) -> dict:
    """Per budget the chosen configuration (an id, None where nothing is ranked), its option,
    the runner-up and the oracle ceiling."""
    front = front.sort_values("budget")
    if "ceiling_run" in front.columns and (missing := [c for c in CEILING if c not in front]):
        raise ScalingError(
            f"explorer: the frontier of data set {dataset} names a ceiling but lacks "
            f"{', '.join(missing)}; give {', '.join(CEILING)}"
        )

    def config(run: Any, model: str, strategy: str, what: str, budget: float) -> int | None:
        run = run if isinstance(run, str) else ""
        if not run and not model:
            return None
        cid = ids.get((dataset, run or run_of.get(model), strategy))
        if cid is None:
            raise ScalingError(
                f"explorer: frontier row (budget {budget:.3g}) names {what}"
                f"{run or model} / {strategy}, which has no observed points in data set "
                f"{dataset}; build the frontier from the same simulation as the points"
            )
        return cid

    chosen, runner, ceiling = [], [], []
    for row in front.to_dict("records"):
        model = "" if pd.isna(row["model"]) else str(row["model"])
        chosen.append(config(row.get("run"), model, row["strategy"], "", row["budget"]))
        if model and row["source"] not in SOURCES:
            raise ScalingError(
                f"explorer: frontier row (budget {row['budget']:.3g}) has source "
                f"{row['source']!r}; give one of {', '.join(SOURCES)}"
            )
        b = row["budget"]
        if not model and not (isinstance(row.get("ceiling_run"), str) and row["ceiling_run"]):
            raise ScalingError(
                f"explorer: frontier row (budget {b:.3g}) names neither a configuration nor "
                "an oracle ceiling; drop it, or give model or ceiling_run"
            )
        runner.append(
            config(row.get("runner_up_run"), "", row.get("runner_up_strategy"), "the runner-up ", b)
        )
        ceiling.append(
            config(row.get("ceiling_run"), "", row.get("ceiling_strategy"), "the ceiling ", b)
        )
    units = set(front["budget_unit"]) if "budget_unit" in front.columns else set()
    if len(units) > 1:
        raise ScalingError(
            f"explorer: the frontier of data set {dataset} mixes budget units {sorted(units)}; "
            "give one unit (the cost model's, or samples) per data set"
        )

    def strings(values: pd.Series) -> list[str]:
        return ["" if pd.isna(v) else str(v) for v in values]

    return {
        "unit": units.pop() if units else None,
        "budget": _sig(front["budget"]),
        "config": chosen,
        "k": _ints(front["k"].fillna(0)),
        "cost": _column(front, "cost", _sig),
        "acc": _acc(front["accuracy"]),
        "lo": _acc(front["ci_low"]),
        "hi": _acc(front["ci_high"]),
        "source": strings(front["source"]),
        "runner_up": strings(front["runner_up"]),
        "runner_config": runner,
        "margin": _acc(front["margin"]),
        "margin_low": _column(front, "margin_low", _acc),
        "margin_high": _column(front, "margin_high", _acc),
        "p_best": _column(front, "p_best", _acc),
        "ceiling": _column(front, "ceiling", _acc),
        "ceiling_lo": _column(front, "ceiling_low", _acc),
        "ceiling_hi": _column(front, "ceiling_high", _acc),
        "ceiling_config": ceiling,
        "ceiling_k": _column(front, "ceiling_k", lambda v: _ints(v.fillna(0))),
        "ceiling_cost": _column(front, "ceiling_cost", _sig),
        "ceiling_source": _column(front, "ceiling_source", strings),
    }


LAW_KEYS = ("G", "a", "a_low", "a_high")
LAW_EXTRAS = ("misfit", "fit_error", "slope", "slope_low", "slope_high", "slope_from", "slope_to")


def _laws_payload(laws: Mapping[str, Any] | list | None, nopt: pd.DataFrame | None) -> list | None:
    """Per law: N_opt = G C^a with a's interval, its reliability, its band over the budgets
    (``nopt`` rows of its label) and the diagnostic (best replayed size per budget, slope)."""
    entries = [laws] if isinstance(laws, Mapping) else list(laws or [])
    rows = {} if nopt is None or nopt.empty else dict(tuple(nopt.groupby("law", sort=False)))
    out = []
    for law in entries:
        if missing := [key for key in LAW_KEYS if key not in law]:
            raise ScalingError(
                f"explorer: nopt_law entry lacks {', '.join(missing)}; give G, a, a_low, a_high"
            )
        label = str(law.get("label", "N_opt"))
        entry = {key: _number(law[key]) for key in LAW_KEYS} | {
            key: _number(law.get(key)) for key in LAW_EXTRAS
        }
        entry |= {
            "label": label,
            "family": str(law.get("family", "")),
            "strategy": str(law.get("strategy", "")),
            "reliable": bool(law.get("reliable", True)),
            "band": None,
            "diagnostic": None,
        }
        band = rows.pop(label, None)
        if band is not None:
            band = band.sort_values("budget")
            entry["band"] = {
                "budget": _sig(band["budget"]),
                "n": _sig(band["n_opt"]),
                "lo": _sig(band["lo"]),
                "hi": _sig(band["hi"]),
            }
            if {"best_model", "best_params"} <= set(band.columns):
                seen = band[band["best_params"].notna() & (band["best_model"] != "")]
                entry["diagnostic"] = {
                    "budget": _sig(seen["budget"]),
                    "params": _sig(seen["best_params"]),
                    "model": [str(m) for m in seen["best_model"]],
                }
        out.append(entry)
    if rows:
        raise ScalingError(
            f"explorer: nopt rows of law {', '.join(map(repr, rows))} have no nopt_law entry; "
            "give each law's G, a, a_low, a_high under the same label"
        )
    return out or None


def _dataset_payload(
    dataset: str,
    points: pd.DataFrame,
    curve_groups: dict,
    level_groups: dict,
    frontier: pd.DataFrame,
    include_oracle: bool,
) -> dict:
    """Models (by size, with their colours), configurations and frontier of one data set.
    Configurations take their model's colour, or with a single model their strategy's."""
    sizes = points.groupby("model", sort=False)["params"].first().astype(float).to_dict()
    colors = model_colors(sizes)
    by_size = sorted(sizes, key=lambda m: (np.nan_to_num(sizes[m], nan=np.inf), m))
    groups = points.groupby(["run", "strategy"], sort=False)
    order = {key: strategy_info(key)["order"] for key in points["strategy"].unique()}
    strategies = sorted(order, key=lambda s: (order[s], s))
    by_strategy = len(sizes) == 1 and len(strategies) > 1
    strategy_colors = {
        s: FAMILY_COLORS[i % len(FAMILY_COLORS)].lower() for i, s in enumerate(strategies)
    }
    keys = sorted(
        groups.groups,
        key=lambda rs: (
            by_size.index(groups.get_group(rs)["model"].iloc[0]),
            order[rs[1]],
            str(rs[1]),
        ),
    )
    configs, ids = [], {}
    for run, strategy in keys:
        key = (dataset, run, strategy)
        pts = groups.get_group((run, strategy))
        ids[key] = len(configs)
        configs.append(
            _config_payload(
                len(configs),
                key,
                pts,
                curve_groups.get(key),
                level_groups.get(key),
                strategy_colors[strategy] if by_strategy else colors[pts["model"].iloc[0]],
                strategy_info(str(strategy))["deployable"] or include_oracle,
            )
        )
    run_of = points.groupby("model")["run"].first().to_dict()
    return {
        "name": dataset,
        "models": [
            {
                "model": m,
                "family": model_family(m),
                "params": None if math.isnan(sizes[m]) else sizes[m],
                "color": colors[m],
            }
            for m in by_size
        ],
        "strategies": strategies,
        "color_by": "strategy" if by_strategy else "model",
        "strategy_colors": strategy_colors if by_strategy else None,
        "configs": configs,
        "ranked": any(c["ranked"] for c in configs),
        "frontier": _frontier_payload(frontier, run_of, ids, dataset) if len(frontier) else None,
    }


def page_data(
    *,
    points: pd.DataFrame,
    curves: pd.DataFrame,
    frontier: pd.DataFrame,
    nopt: pd.DataFrame | None = None,
    nopt_law: Mapping[str, Any] | None = None,
    levels: pd.DataFrame | None = None,
    meta: Mapping[str, Any],
) -> dict:
    """The JSON-able payload the page's script renders (one entry per data set)."""
    _check(points, "points")
    _check(curves, "curves")
    if not {"cost", "k"} & set(curves.columns):
        raise ScalingError("explorer: the 'curves' frame needs a 'cost' or a 'k' column (or both)")
    _check(frontier, "frontier")
    _check(nopt, "nopt", optional=True)
    _check(levels, "levels", optional=True)
    for key, what in (("cost", "the cost model's name, e.g. paper"), ("unit", "e.g. FLOPs")):
        if key not in meta:
            raise ScalingError(f"explorer: meta lacks '{key}' ({what})")
    if points.empty:
        raise ScalingError("explorer: the 'points' frame is empty; simulate at least one run")
    cost = points["cost"].astype(float)
    bad = points[cost.le(0) | np.isinf(cost)]
    if len(bad):
        row = bad.iloc[0]
        raise ScalingError(
            f"explorer: run {row['run']} strategy {row['strategy']} k={row['k']} has cost "
            f"{row['cost']}; costs must be positive, or NaN where they are unknown"
        )
    include_oracle = bool(meta.get("include_oracle", False))
    ds_meta = meta.get("datasets", {})
    curve_groups = dict(tuple(curves.groupby(["dataset", "run", "strategy"], sort=False)))
    level_groups = (
        {} if levels is None else dict(tuple(levels.groupby(["dataset", "run", "strategy"])))
    )
    present = sorted(points["dataset"].unique())
    order = [d for d in ds_meta if d in present] + [d for d in present if d not in ds_meta]
    datasets = []
    for dataset in order:
        entry = _dataset_payload(
            str(dataset),
            points[points["dataset"] == dataset],
            curve_groups,
            level_groups,
            frontier[frontier["dataset"] == dataset],
            include_oracle,
        )
        info = ds_meta.get(dataset, {})
        unit = str(info.get("unit") or (entry["frontier"] or {}).get("unit") or meta["unit"])
        if entry["frontier"] is not None and entry["frontier"]["unit"] not in (None, unit):
            raise ScalingError(
                f"explorer: the frontier of data set {dataset} is in "
                f"{entry['frontier']['unit']}, its points in {unit}; give one unit per data set"
            )
        laws = (nopt_law or {}).get(dataset)
        entry |= {
            "title": str(info.get("title", dataset)),
            "provenance": str(info.get("provenance", "")),
            "n_problems": info.get("n_problems"),
            "unit": unit,
            "notes": [str(n) for n in info.get("notes", [])],
            "laws": _laws_payload(laws, None if nopt is None else nopt[nopt["dataset"] == dataset]),
        }
        datasets.append(entry)
    keys = sorted(
        {k for d in datasets for k in d["strategies"]}, key=lambda s: (strategy_info(s)["order"], s)
    )
    return {
        "title": str(meta.get("title", "Inference scaling: the compute frontier")),
        "cost": {
            "name": str(meta["cost"]),
            "unit": str(meta["unit"]),
            "title": str(meta.get("cost_title", "")),
        },
        "include_oracle": include_oracle,
        "level": float(meta.get("level", 0.95)),
        "version": __version__,
        "strategies": [strategy_info(k) for k in keys],
        "datasets": datasets,
    }


def _asset(name: str) -> str:
    return resources.files("scaling").joinpath(name).read_text(encoding="utf-8")


def _inline_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: every ``<``, ``>`` and ``&`` is written as a
    ``\\u`` escape (so no ``</script``, ``<!--`` or ``<script`` can end or nest the element;
    ``JSON.parse`` gives the same strings back), and no NaN."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)


def explorer_html(**frames: Any) -> str:
    """The page as one HTML string; takes the keyword arguments of ``write_explorer``."""
    data = page_data(**frames)
    title = data["title"].replace("&", "&amp;").replace("<", "&lt;")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><style>{_asset('explorer.css')}</style>"
        f"<script>{plotly.offline.get_plotlyjs()}</script></head>"
        "<body><div id='app'></div>"
        f"<script id='explorer-data' type='application/json'>{_inline_json(data)}</script>"
        f"<script>{_asset('explorer.js')}</script></body></html>\n"
    )


def write_explorer(
    path: str | Path,
    *,
    points: pd.DataFrame,
    curves: pd.DataFrame,
    frontier: pd.DataFrame,
    nopt: pd.DataFrame | None = None,
    nopt_law: Mapping[str, Mapping[str, Any]] | None = None,
    levels: pd.DataFrame | None = None,
    meta: Mapping[str, Any],
) -> Path:
    """Write the self-contained explorer page to ``path`` (atomically) and return the path."""
    html = explorer_html(
        points=points,
        curves=curves,
        frontier=frontier,
        nopt=nopt,
        nopt_law=nopt_law,
        levels=levels,
        meta=meta,
    )
    path = Path(path)
    atomic_write_text(path, html)
    return path


def _provenance(runs: list) -> str:
    """One footnote for the runs of a data set: sources, licenses and the token assumption."""

    def unique(values) -> list[str]:
        return list(dict.fromkeys(v for v in values if v))

    prov = [r.meta.provenance for r in runs]
    tokens = [r.meta.tokens for r in runs]
    parts = unique(p.citation or p.source for p in prov)
    if licenses := unique(p.license for p in prov):
        parts.append("license: " + "; ".join(licenses))
    sources = unique(t.source for t in tokens)
    assumptions = unique(t.assumption for t in tokens)
    if assumptions:
        more = f" (and {len(assumptions) - 1} similar, one per run)" if len(assumptions) > 1 else ""
        parts.append(f"token counts: {'/'.join(sources)}: {assumptions[0]}{more}")
    return " · ".join(parts)


def _named_option(report: Any, dataset: str, b: int, text: str, oracle: bool) -> int | None:
    """The report's curve whose option at budget ``b`` of ``dataset`` the frontier names
    ``text`` ("label @ k=K"), among the oracle curves or all of them."""
    opt = report.options[dataset]
    for i in opt.members:
        c, k = report.curves[i], opt.k[b, opt.column(i)]
        named = np.isfinite(k) and f"{c.label} @ k={int(k)}" == text
        if named and (not oracle or not c.deployable):
            return i
    return None


def _frontier_frame(report: Any) -> pd.DataFrame:
    """The report's frontier with the runner-up's and the oracle ceiling's configuration, and
    the ceiling's k and cost, read from the report's options."""
    front = report.frontier.copy()
    extra: dict[str, list] = {
        name: []
        for name in ("runner_up_run", "runner_up_strategy", "ceiling_run", "ceiling_strategy")
        + ("ceiling_k", "ceiling_cost")
    }
    for row in front.itertuples(index=False):
        opt = report.options[row.dataset]
        b = int(np.flatnonzero(opt.budgets == row.budget)[0])
        r = _named_option(report, row.dataset, b, row.runner_up, oracle=False)
        extra["runner_up_run"].append("" if r is None else report.curves[r].run)
        extra["runner_up_strategy"].append("" if r is None else report.curves[r].strategy)
        top = _named_option(report, row.dataset, b, row.ceiling_config, oracle=True)
        if top is None:
            for name in ("ceiling_run", "ceiling_strategy"):
                extra[name].append("")
            for name in ("ceiling_k", "ceiling_cost"):
                extra[name].append(np.nan)
            continue
        j = opt.column(top)
        extra["ceiling_run"].append(report.curves[top].run)
        extra["ceiling_strategy"].append(report.curves[top].strategy)
        extra["ceiling_k"].append(opt.k[b, j])
        extra["ceiling_cost"].append(opt.cost[b, j])
    return front.assign(**extra)


def _best_replayed(report: Any, optimal: Any) -> tuple[np.ndarray, np.ndarray]:
    """The diagnostic of a compute-optimal law per budget of its table: the model and size
    whose most accurate exact replayed point costing at most the budget is the most accurate
    of the law's sizes ("" and NaN where no size affords one)."""
    members = [
        c
        for c in report.curves
        if c.dataset == optimal.dataset
        and c.strategy == optimal.strategy
        and model_family(c.model) == optimal.family
        and not c.method
        and not c.adaptive
        and c.params in optimal.sizes
    ]
    budgets = optimal.table["budget"].to_numpy(float)
    best = np.full((len(members), budgets.size), -np.inf)
    for i, c in enumerate(members):
        cost, acc = c.points["cost"].to_numpy(float), c.points["accuracy"].to_numpy(float)
        affordable = cost[:, None] <= budgets[None, :] * (1 + 1e-12)
        best[i] = np.where(affordable, acc[:, None], -np.inf).max(axis=0, initial=-np.inf)
    pick, found = best.argmax(axis=0), np.isfinite(best).any(axis=0)
    models = np.array([members[p].model for p in pick], dtype=object)
    params = np.array([members[p].params for p in pick], dtype=float)
    return np.where(found, models, ""), np.where(found, params, np.nan)


def _size_laws(report: Any) -> tuple[pd.DataFrame | None, dict[str, list[dict]]]:
    """The headline compute-optimal size law N_opt(C) = G C^a of every (data set, model family,
    strategy) with one fitted, with its band, its reliability and the diagnostic."""
    frames, laws = [], {}
    for o in report.optimal:
        label = f"{o.family} · {strategy_info(o.strategy)['text']}"
        models, params = _best_replayed(report, o)
        frames.append(
            o.table[["budget", "n_opt", "lo", "hi"]].assign(
                dataset=o.dataset, law=label, best_model=models, best_params=params
            )
        )
        a_low, a_high = o.law.ci.loc["a"]
        laws.setdefault(o.dataset, []).append(
            {
                "label": label,
                "family": o.family,
                "strategy": o.strategy,
                "G": o.law.params["G"],
                "a": o.law.params["a"],
                "a_low": a_low,
                "a_high": a_high,
                "reliable": o.reliable,
                "misfit": o.misfit,
                "fit_error": o.fit_error,
                "slope": o.slope,
                "slope_low": o.slope_ci[0],
                "slope_high": o.slope_ci[1],
                "slope_from": o.slope_range[0],
                "slope_to": o.slope_range[1],
            }
        )
    return (pd.concat(frames, ignore_index=True) if frames else None), laws


def _levels(groups: dict[str, list], report: Any, seed: int) -> pd.DataFrame:
    """Accuracy by difficulty level for the runs whose problems carry levels, at the design k
    of the fit, labelled like the report's runs (matched by run id)."""
    from scaling.curves import design_ks
    from scaling.simulate import simulate

    label = report.table.drop_duplicates("run_id").set_index("run_id")["run"]
    frames = []
    for dataset, runs in groups.items():
        leveled = [r for r in runs if r.problems()["level"].notna().any()]
        if not leveled:
            continue
        table = simulate(
            leveled, ks=design_ks(leveled), bootstrap=report.bootstrap, seed=seed, by="level"
        ).table
        table = table[table["level"].notna() & table["run_id"].isin(label.index)]
        frames.append(table.assign(dataset=dataset, run=table["run_id"].map(label)))
    columns = ["dataset", "run", "strategy", "k", "level", "accuracy", "ci_low", "ci_high"]
    return (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )


def _notes(report: Any, dataset: str) -> list[str]:
    """The report's notes about one data set or its configurations."""
    labels = tuple(f"{c.label}: " for c in report.curves if c.dataset == dataset)
    prefix = f"{dataset}: "
    return [
        n.removeprefix(prefix) for n in report.notes if n.startswith(prefix) or n.startswith(labels)
    ]


def explorer_frames(
    runs: list | None = None,
    report: Any = None,
    *,
    seed: int = 0,
    progress: Any = None,
    **options: Any,
) -> dict[str, Any]:
    """The keyword arguments of ``write_explorer`` for ``runs`` (paths or opened ``Run``s;
    default: the embedded runs).

    Fits them with ``scaling.report.fit_runs`` (``options`` go to it: strategies,
    include_oracle, budgets, law, cost, bootstrap), or takes its ``report`` of the same runs, as
    ``scaling fit --html`` does; then adds the N_opt laws with their diagnostic, accuracy by
    level where problems carry levels, and per data set a provenance footnote from the run
    manifests and the report's notes.
    """
    from scaling.costs import cost_model
    from scaling.paths import resolve_runs
    from scaling.report import fit_runs

    opened = resolve_runs(runs)
    if report is None:
        report = fit_runs(opened, seed=seed, progress=progress, **options)
    groups: dict[str, list] = {}
    for r in opened:
        groups.setdefault(r.meta.problem_set, []).append(r)
    # every exact replay (design k and those the budgets afford), once per (config, k)
    table = report.table.sort_values(["k", "design"], ascending=[True, False], kind="stable")
    points = table.drop_duplicates(["dataset", "run", "strategy", "k"])
    curves = report.curve_frame()
    curves = curves.drop(columns="cost") if len(curves) else curves  # cost follows from the points
    frontier = _frontier_frame(report)
    frames = {
        "points": points[list(COLUMNS["points"])],
        "curves": curves if len(curves) else pd.DataFrame(columns=[*COLUMNS["curves"], "k"]),
        "frontier": frontier,
    }
    frames["nopt"], frames["nopt_law"] = _size_laws(report)
    frames["levels"] = _levels(groups, report, seed)
    # open on the richest view: a ranked frontier, an N_opt law, the most configurations
    ranked = set(frontier.loc[frontier["model"] != "", "dataset"])
    size = points.groupby("dataset")[["run", "strategy"]].value_counts().groupby("dataset").size()
    order = sorted(
        report.datasets,
        key=lambda d: (d not in ranked, d not in frames["nopt_law"], -size.get(d, 0)),
    )
    datasets = {
        name: dict(report.datasets[name])
        | {"provenance": _provenance(groups.get(name, [])), "notes": _notes(report, name)}
        for name in order
    }
    model = cost_model(report.cost)
    frames["meta"] = {
        "title": "Inference scaling: the compute-optimal frontier",
        "cost": model.name,
        "unit": model.unit,
        "cost_title": model.title,
        "include_oracle": report.include_oracle,
        "level": report.level,
        "datasets": datasets,
    }
    return frames


def explore(
    runs: list[str | Path] | None = None,
    output: str | Path = "explorer.html",
    **options: Any,
) -> Path:
    """Fit ``runs`` (default: the embedded runs) and write the explorer page to ``output``;
    ``options`` go to ``explorer_frames``."""
    return write_explorer(output, **explorer_frames(runs, **options))
