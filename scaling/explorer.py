"""The interactive frontier explorer: one self-contained HTML page (plotly.js inlined, no server).

The page is built from plain tidy DataFrames, so a notebook can feed it anything:

- ``points``: one row per observed (dataset, run, model, params, strategy, k) with ``flops`` and
  ``tokens`` per problem (NaN where unknown: such points show on the samples axis only),
  ``accuracy`` and its 95% interval ``ci_low``, ``ci_high``.
- ``curves``: fitted curves, rows (dataset, run, strategy, pred, lo, hi, extrapolated) with
  ``flops`` or ``k`` or both (the missing one is derived from the configuration's
  FLOPs = a + b k, exact for both accountings); downsampled to ``MAX_CURVE_POINTS`` per curve,
  keeping where extrapolation starts and ends.
- ``frontier``: per (dataset, budget) the best configuration (model, strategy, k) with its
  predicted ``accuracy``, ``ci_low``, ``ci_high``, ``extrapolated``, ``runner_up`` and ``margin``
  (optionally ``run``, the margin's interval ``margin_low``, ``margin_high``, ``p_best``, the
  share of bootstrap replicates in which the best stays best, and ``budget_unit``: "FLOPs", or
  "samples" for a data set whose compute is unknown).
- ``nopt`` (optional): the compute-optimal model size per (dataset, budget): ``n_opt``, ``lo``,
  ``hi``, optionally ``law`` naming the law when a data set has several; ``nopt_law``
  (optional): per dataset the law N_opt = G C^a as a dict with ``G``, ``a``, ``a_low``,
  ``a_high`` (optionally ``label``), or a list of such dicts.
- ``levels`` (optional): accuracy by difficulty level (dataset, run, strategy, k, level,
  accuracy [, ci_low, ci_high]).
- ``meta``: ``flops`` (accounting name), optional ``title``, ``flops_note`` and ``datasets``
  (per dataset: ``title``, ``provenance``, ``n_problems``).

Floats are rounded for the page (accuracies to 5 decimals, FLOPs/tokens/params to 4 significant
digits): it is a view, the exact numbers live in the tables ``scaling simulate``/``fit`` write.
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
from scaling.errors import ScalingError
from scaling.store import atomic_write_text

MAX_CURVE_POINTS = 60
ACC_DECIMALS = 5
SIG_DIGITS = 4
SIZE_SCALE = "Plasma"  # sequential; the top (pale yellow) is cut off so every colour reads on white
SIZE_SCALE_SPAN = (0.0, 0.8)  # largest model -> dark end, smallest -> light end
UNKNOWN_SIZE_COLOR = "#8c8c8c"

COLUMNS = {
    "points": (
        "dataset",
        "run",
        "model",
        "params",
        "strategy",
        "k",
        "flops",
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
        "extrapolated",
        "runner_up",
        "margin",
    ),
    "nopt": ("dataset", "budget", "n_opt", "lo", "hi"),
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


def size_colors(params: Mapping[str, float | None]) -> dict[str, str]:
    """Model -> colour on a sequential scale of log10(params); unknown sizes are grey."""
    known = {m: float(p) for m, p in params.items() if p is not None and p > 0 and p == p}
    colors = dict.fromkeys(params, UNKNOWN_SIZE_COLOR)
    if not known:
        return colors
    logs = {m: math.log10(p) for m, p in known.items()}
    lo, hi = min(logs.values()), max(logs.values())
    start, stop = SIZE_SCALE_SPAN
    for m, v in logs.items():
        frac = 0.5 if hi == lo else (hi - v) / (hi - lo)
        colors[m] = plotly.colors.sample_colorscale(SIZE_SCALE, [start + frac * (stop - start)])[0]
    return colors


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


def _affine_in_k(pts: pd.DataFrame) -> tuple[float, float] | None:
    """(a, b) of FLOPs = a + b k over a configuration's observed points: exact for both
    accountings (prefill once per problem, decode per sample); None if it cannot be fitted."""
    ok = pts[np.isfinite(pts["flops"].astype(float))]
    if ok["k"].nunique() < 2:
        return None
    b, a = np.polyfit(ok["k"].to_numpy(float), ok["flops"].to_numpy(float), 1)
    return (a, b) if b > 0 else None


def _curve_axes(curve: pd.DataFrame, pts: pd.DataFrame) -> tuple[list | None, list | None]:
    """FLOPs and samples k along a fitted curve: its own columns, what is missing (absent or
    NaN) derived from the configuration's FLOPs = a + b k."""
    nan = np.full(len(curve), np.nan)
    flops = curve["flops"].to_numpy(float) if "flops" in curve.columns else nan
    ks = curve["k"].to_numpy(float) if "k" in curve.columns else nan
    if (line := _affine_in_k(pts)) is not None:
        a, b = line
        flops = np.where(np.isnan(flops), a + b * ks, flops)
        ks = np.where(np.isnan(ks), (flops - a) / b, ks)
    return (
        _sig(flops) if np.isfinite(flops).any() else None,
        _sig(ks) if np.isfinite(ks).any() else None,
    )


def _config_payload(
    cid: int,
    key: tuple,
    pts: pd.DataFrame,
    curve: pd.DataFrame | None,
    levels: pd.DataFrame | None,
    color: str,
) -> dict:
    dataset, run, strategy = key
    pts = pts.sort_values(["k", "flops"])
    first = pts.iloc[0]
    params = first["params"]
    payload: dict[str, Any] = {
        "id": cid,
        "run": str(run),
        "model": str(first["model"]),
        "params": None if pd.isna(params) else float(params),
        "strategy": str(strategy),
        "color": color,
        "points": {
            "k": _ints(pts["k"]),
            "flops": _sig(pts["flops"]),
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
        curve = _downsample(curve.sort_values("k" if by_k else "flops", kind="stable"))
        flops, ks = _curve_axes(curve, pts)
        payload["curve"] = {
            "flops": flops,
            "k": ks,
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


def _frontier_payload(front: pd.DataFrame, run_of: dict, ids: dict, dataset: str) -> dict:
    front = front.sort_values("budget")
    config = []
    for row in front.itertuples(index=False):
        run = getattr(row, "run", None) or run_of.get(row.model)
        cid = ids.get((dataset, run, row.strategy))
        if cid is None:
            raise ScalingError(
                f"explorer: frontier row (budget {row.budget:.3g}) names {row.model} / "
                f"{row.strategy}, which has no observed points in data set {dataset}; "
                "build the frontier from the same simulation as the points"
            )
        config.append(cid)
    units = set(front["budget_unit"]) if "budget_unit" in front.columns else {"FLOPs"}
    if len(units) > 1:
        raise ScalingError(
            f"explorer: the frontier of data set {dataset} mixes budget units {sorted(units)}; "
            "give one unit (FLOPs or samples) per data set"
        )
    optional = {
        "margin_low": _acc(front["margin_low"]) if "margin_low" in front.columns else None,
        "margin_high": _acc(front["margin_high"]) if "margin_high" in front.columns else None,
        "p_best": _acc(front["p_best"]) if "p_best" in front.columns else None,
    }
    return optional | {
        "unit": units.pop(),
        "budget": _sig(front["budget"]),
        "config": config,
        "model": [str(v) for v in front["model"]],
        "strategy": [str(v) for v in front["strategy"]],
        "k": _ints(front["k"]),
        "acc": _acc(front["accuracy"]),
        "lo": _acc(front["ci_low"]),
        "hi": _acc(front["ci_high"]),
        "extrap": _ints(front["extrapolated"].astype(bool)),
        "runner_up": ["" if pd.isna(v) else str(v) for v in front["runner_up"]],
        "margin": _acc(front["margin"]),
    }


def _law_payload(laws: Mapping[str, Any] | list | None) -> list[dict] | None:
    """One law dict (``G``, ``a``, ``a_low``, ``a_high``, optional ``label``) or a list of them."""
    if not laws:
        return None
    out = []
    for law in [laws] if isinstance(laws, Mapping) else laws:
        if missing := [key for key in ("G", "a", "a_low", "a_high") if key not in law]:
            raise ScalingError(
                f"explorer: nopt_law entry lacks {', '.join(missing)}; give G, a, a_low, a_high"
            )
        entry = {key: float(f"{float(law[key]):.6g}") for key in ("G", "a", "a_low", "a_high")}
        out.append(entry | {"label": str(law.get("label", "N_opt"))})
    return out


def _nopt_payload(nopt: pd.DataFrame | None) -> list[dict] | None:
    if nopt is None or nopt.empty:
        return None
    labels = nopt["law"] if "law" in nopt.columns else pd.Series("N_opt", index=nopt.index)
    out = []
    for label, rows in nopt.groupby(labels, sort=False):
        rows = rows.sort_values("budget")
        out.append(
            {
                "law": str(label),
                "budget": _sig(rows["budget"]),
                "n": _sig(rows["n_opt"]),
                "lo": _sig(rows["lo"]),
                "hi": _sig(rows["hi"]),
            }
        )
    return out


def _dataset_payload(
    dataset: str,
    points: pd.DataFrame,
    curve_groups: dict,
    level_groups: dict,
    frontier: pd.DataFrame,
) -> dict:
    """Models (by size, with their colours), configurations and frontier of one data set."""
    sizes = points.groupby("model", sort=False)["params"].first().astype(float).to_dict()
    colors = size_colors(sizes)
    by_size = sorted(sizes, key=lambda m: (np.nan_to_num(sizes[m], nan=np.inf), m))
    groups = points.groupby(["run", "strategy"], sort=False)
    keys = sorted(
        groups.groups,
        key=lambda rs: (by_size.index(groups.get_group(rs)["model"].iloc[0]), str(rs[1])),
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
                colors[pts["model"].iloc[0]],
            )
        )
    run_of = points.groupby("model")["run"].first().to_dict()
    return {
        "name": dataset,
        "models": [
            {
                "model": m,
                "params": None if math.isnan(sizes[m]) else sizes[m],
                "color": colors[m],
            }
            for m in by_size
        ],
        "strategies": sorted({c["strategy"] for c in configs}),
        "configs": configs,
        "frontier": _frontier_payload(frontier, run_of, ids, dataset) if len(frontier) else None,
    }


def page_data(
    *,
    points: pd.DataFrame,
    curves: pd.DataFrame,
    frontier: pd.DataFrame,
    nopt: pd.DataFrame | None = None,
    nopt_law: Mapping[str, Mapping[str, Any]] | None = None,
    levels: pd.DataFrame | None = None,
    meta: Mapping[str, Any],
) -> dict:
    """The JSON-able payload the page's script renders (one entry per data set)."""
    _check(points, "points")
    _check(curves, "curves")
    if not {"flops", "k"} & set(curves.columns):
        raise ScalingError("explorer: the 'curves' frame needs a 'flops' or a 'k' column (or both)")
    _check(frontier, "frontier")
    _check(nopt, "nopt", optional=True)
    _check(levels, "levels", optional=True)
    if "flops" not in meta:
        raise ScalingError("explorer: meta lacks 'flops' (the FLOPs accounting name, e.g. paper)")
    if points.empty:
        raise ScalingError("explorer: the 'points' frame is empty; simulate at least one run")
    flops = points["flops"].astype(float)
    bad = points[flops.le(0) | np.isinf(flops)]
    if len(bad):
        row = bad.iloc[0]
        raise ScalingError(
            f"explorer: run {row['run']} strategy {row['strategy']} k={row['k']} has FLOPs "
            f"{row['flops']}; FLOPs must be positive, or NaN where they are unknown"
        )
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
        )
        info = ds_meta.get(dataset, {})
        entry |= {
            "title": str(info.get("title", dataset)),
            "provenance": str(info.get("provenance", "")),
            "n_problems": info.get("n_problems"),
            "nopt": None if nopt is None else _nopt_payload(nopt[nopt["dataset"] == dataset]),
            "law": _law_payload((nopt_law or {}).get(dataset)),
        }
        datasets.append(entry)
    return {
        "title": str(meta.get("title", "Inference scaling: the compute frontier")),
        "flops": str(meta["flops"]),
        "flops_note": str(meta.get("flops_note", "")),
        "version": __version__,
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


def _size_laws(report: Any) -> tuple[pd.DataFrame | None, dict[str, list[dict]]]:
    """The compute-optimal size law N_opt(C) = G C^a of every (data set, model family,
    strategy) with one fitted (the joint law's closed form), with its 95% band."""
    frames, laws = [], {}
    for o in report.optimal:
        label = f"{o.family} · {o.strategy}" + ("" if o.reliable else " (joint law misfits)")
        frames.append(o.table[["budget", "n_opt", "lo", "hi"]].assign(dataset=o.dataset, law=label))
        a_low, a_high = o.law.ci.loc["a"]
        laws.setdefault(o.dataset, []).append(
            {"label": label, "G": o.law.params["G"], "a": o.law.params["a"]}
            | {"a_low": a_low, "a_high": a_high}
        )
    return (pd.concat(frames, ignore_index=True) if frames else None), laws


def _with_ceiling(report: Any) -> pd.DataFrame:
    """The frontier rows for the page: the best ranked configuration per budget; where a data
    set ranks none (coverage only), its oracle ceiling, marked ``oracle``."""
    front = report.frontier.copy()
    front["oracle"] = front["model"] == ""
    ceiling = front[front["oracle"] & (front["ceiling_config"] != "")]
    config = ceiling["ceiling_config"].str.split(" @ k=", expand=True)
    if len(ceiling):
        run, strategy = config[0].str.rsplit(" / ", n=1, expand=True).T.to_numpy()
        curves = {(c.dataset, c.run, c.strategy): c for c in report.curves}
        front.loc[ceiling.index, "run"] = run
        front.loc[ceiling.index, "strategy"] = strategy
        front.loc[ceiling.index, "model"] = [
            curves[d, r, s].model for d, r, s in zip(ceiling["dataset"], run, strategy, strict=True)
        ]
        front.loc[ceiling.index, "k"] = config[1].astype(int).to_numpy()
        front.loc[ceiling.index, "accuracy"] = ceiling["ceiling"]
        front.loc[ceiling.index, "source"] = ceiling["ceiling_source"]
        ci = [
            _ceiling_ci(report, d, b, r, s)
            for d, b, r, s in zip(ceiling["dataset"], ceiling["budget"], run, strategy, strict=True)
        ]
        front.loc[ceiling.index, ["ci_low", "ci_high"]] = np.array(ci)
    front = front[front["model"] != ""]
    return front.assign(extrapolated=front["source"] == "extrapolated")


def _ceiling_ci(report: Any, dataset: str, budget: float, run: str, strategy: str) -> tuple:
    """The percentile interval of a configuration's option at a budget."""
    from fit.results import percentile_interval

    options = report.options[dataset]
    b = int(np.flatnonzero(options.budgets == budget)[0])
    j = next(
        options.column(i)
        for i in options.members
        if (report.curves[i].run, report.curves[i].strategy) == (run, strategy)
    )
    lo, hi = percentile_interval(options.draws[b, j], report.level)
    return float(lo), float(hi)


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
    ``scaling fit --html`` does; then adds the N_opt laws, accuracy by level where problems
    carry levels, and per data set a provenance footnote from the run manifests.
    """
    from scaling.paths import resolve_runs
    from scaling.report import fit_runs

    opened = resolve_runs(runs)
    if report is None:
        report = fit_runs(opened, seed=seed, progress=progress, **options)
    groups: dict[str, list] = {}
    for r in opened:
        groups.setdefault(r.meta.problem_set, []).append(r)
    # every data set, also those whose cost is unknown: the page shows them against samples k
    in_samples = [ds for ds, unit in report.units.items() if unit == "samples"]
    design = report.table[report.table["design"]].rename(columns={"cost": "flops"})
    design.loc[design["dataset"].isin(in_samples), "flops"] = np.nan
    curves = report.curve_frame().rename(columns={"cost": "flops"})
    if len(curves):
        curves.loc[curves["dataset"].isin(in_samples), "flops"] = np.nan
    frontier = _with_ceiling(report)
    frames = {
        "points": design[list(COLUMNS["points"])],
        "curves": curves,
        "frontier": frontier,
    }
    frames["nopt"], frames["nopt_law"] = _size_laws(report)
    frames["levels"] = _levels(groups, report, seed)
    # open on the richest view: data sets with an N_opt law, then those with a frontier
    fronted = set(frontier["dataset"])
    order = sorted(report.datasets, key=lambda d: (d not in frames["nopt_law"], d not in fronted))
    datasets = {
        name: dict(report.datasets[name]) | {"provenance": _provenance(groups.get(name, []))}
        for name in order
    }
    from scaling.costs import cost_model

    frames["meta"] = {
        "title": "Inference scaling: the compute-optimal frontier",
        "flops": report.cost,
        "flops_note": cost_model(report.cost).title,
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
