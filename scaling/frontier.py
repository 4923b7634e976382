"""From runs to fitted laws and the compute-optimal frontier: the API behind ``scaling fit``.

``fit_runs(runs)`` replays the runs with the simulator, then, per (run, strategy) curve of error
``err = 1 - accuracy`` against samples ``k`` (tree search runs that differ only in width form one
curve, k = width, each point costed from its run's measured search tokens): fits every curve
family (robust Huber fit in log space, weighted by the simulator's standard errors, refitted on
each paired bootstrap replicate), picks one (``law="auto"``: lowest AIC), backtests it (fit on
the smaller budgets, forecast the larger), and for coverage adds the Beta forecast. Per data set
(runs sharing a problem set) it draws the Pareto set of observed points and, on a grid of
budgets, the best configuration with its interval; per model family of three or more sizes it
fits the joint law err(N, k) and the compute-optimal size N_opt(C). Everything lands in a
``FitReport``.

Budgets map to samples through each configuration's FLOPs, exactly affine in k for sampling
(FLOPs = c0 + c1 k: prefill once per problem, decode per sample), a least-squares line through
the measured points for a tree search curve: k(C) = floor((C - c0) / c1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from fit import (
    CURVE_FAMILIES,
    Backtest,
    BetaFit,
    Claim,
    Dataset,
    LawFit,
    SizeLaw,
    backtest,
    backtest_beta,
    beats_everywhere,
    budget_grid,
    fit_law,
    fit_laws,
    optimal_size,
    pareto_front,
    select_best,
    select_by_aic,
    size_exponent,
)
from fit.results import percentile_interval
from scaling.errors import ScalingError
from scaling.simulate import run_labels, simulate
from scaling.store import Run, config_hash

LAWS = ("auto", *CURVE_FAMILIES, "beta")
WU_EXPONENT = 1 / 1.19  # Wu et al.: log10 C = 1.19 log10 N + 2.03 (Pythia, GSM8K)
FRONTIER_COLUMNS = [
    "dataset",
    "budget",
    "model",
    "run",
    "strategy",
    "k",
    "accuracy",
    "ci_low",
    "ci_high",
    "extrapolated",
    "runner_up",
    "margin",
    "margin_low",
    "margin_high",
    "p_best",
    "budget_unit",
]


@dataclass
class Curve:
    """One configuration (run, strategy): observed points, fitted laws, the chosen one. A tree
    search configuration (``method`` set) may span several runs, one per width: ``run`` then
    names the configuration and k is the width."""

    dataset: str
    run: str
    model: str
    params: float
    strategy: str
    points: pd.DataFrame  # the simulator's rows, sorted by k
    draws: np.ndarray  # (replicates, points) bootstrap accuracies, paired across runs
    flops0: float = 0.0  # FLOPs = flops0 + flops1 * k
    flops1: float = 0.0
    fits: dict[str, LawFit] = field(default_factory=dict)
    beta: BetaFit | None = None
    beta_backtest: Backtest | None = None
    chosen: str = ""
    reason: str = ""
    backtest: Backtest | None = None
    at_budgets: tuple[np.ndarray, np.ndarray] | None = None  # accuracy, draws on the grid
    method: str = ""  # the tree search method ("" for sampling)

    @property
    def label(self) -> str:
        return f"{self.run if self.method else self.model} / {self.strategy}"

    @property
    def k(self) -> np.ndarray:
        return self.points["k"].to_numpy(dtype=float)

    @property
    def law(self) -> LawFit | BetaFit | None:
        if self.chosen == "beta":
            return self.beta
        return self.fits.get(self.chosen)

    def k_at(self, budget: np.ndarray) -> np.ndarray:
        """Samples affordable at each budget (0 where not even one sample is)."""
        k = np.floor((np.asarray(budget, dtype=float) - self.flops0) / self.flops1 * (1 + 1e-12))
        return np.where(np.isfinite(k), np.maximum(k, 0.0), 0.0)

    def accuracy(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted accuracy at ``k`` (> 0), clipped to [0, 1], and its bootstrap draws
        (replicates, len(k)) aligned with the simulator's replicates."""
        law = self.law
        return np.clip(1.0 - law.predict(k), 0, 1), np.clip(1.0 - law.predict_draws(k), 0, 1)

    def at(self, budget: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(k, accuracy, draws (replicates, budgets)) at each budget; NaN where unaffordable.

        With a law: the affordable k, predicted. Without (fewer than 3 budgets observed): the
        largest observed k that is affordable, as observed."""
        k = self.k_at(budget)
        acc = np.full(k.shape, np.nan)
        draws = np.full((self.draws.shape[0], k.size), np.nan)
        if self.law is None:
            i = np.searchsorted(self.k, k, side="right") - 1
            ok = i >= 0
            k = np.where(ok, self.k[np.maximum(i, 0)], 0.0)
            acc[ok] = self.points["accuracy"].to_numpy(float)[i[ok]]
            draws[:, ok] = self.draws[:, i[ok]]
        else:
            ok = k >= 1
            if ok.any():
                acc[ok], d = self.accuracy(k[ok])
                draws[: d.shape[0], ok] = d
        return k, acc, draws

    def extrapolated(self, k: np.ndarray) -> np.ndarray:
        return (k < self.k.min()) | (k > self.k.max())


@dataclass
class OptimalSize:
    """Compute-optimal model size in one data set, for one model family and strategy."""

    dataset: str
    family: str
    strategy: str
    tokens: float  # T, tokens per sample in C = 2 N T k
    joint: LawFit
    exponent: float  # beta / (alpha + beta) of the joint law
    exponent_ci: tuple[float, float]
    table: pd.DataFrame  # budget, n_opt, lo, hi, best_model, best_params
    size_law: SizeLaw | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "family": self.family,
            "strategy": self.strategy,
            "tokens_per_sample": self.tokens,
            "joint_law": self.joint.to_dict(),
            "exponent": self.exponent,
            "exponent_ci": list(self.exponent_ci),
            "size_law": None if self.size_law is None else self.size_law.to_dict(),
            "wu_et_al_exponent": WU_EXPONENT,
            "table": self.table.to_dict(orient="records"),
            "note": self.note,
        }


@dataclass
class FitReport:
    """What ``scaling fit`` computes; ``scaling.explorer.explorer_frames(runs, report=...)``
    renders it."""

    table: pd.DataFrame  # the simulator's table, with a ``dataset`` column
    curves: list[Curve]
    frontier: pd.DataFrame  # FRONTIER_COLUMNS
    pareto: pd.DataFrame
    optimal: list[OptimalSize]
    claims: list[Claim]
    law: str
    flops: str
    level: float
    notes: list[str]  # what the fit assumed or skipped
    notices: list[str]  # the simulator's notices
    datasets: dict[str, dict[str, Any]]  # per data set: title, provenance, n_problems

    def laws_table(self) -> pd.DataFrame:
        """One row per (curve, family) fitted: parameters, intervals, AIC, chosen, backtest."""
        rows = []
        for c in self.curves:
            laws: dict[str, Any] = dict(c.fits)
            if c.beta is not None:
                laws["beta"] = c.beta
            for name, law in laws.items():
                bt = c.backtest if name == c.chosen else None
                if name == "beta":
                    bt = c.beta_backtest
                rows.append(
                    {
                        "dataset": c.dataset,
                        "run": c.run,
                        "model": c.model,
                        "strategy": c.strategy,
                        "family": name,
                        "chosen": name == c.chosen,
                        "params": {k: float(v) for k, v in law.params.items()},
                        "ci": {k: (float(lo), float(hi)) for k, (lo, hi) in law.ci.iterrows()},
                        "aic": float(law.aic),
                        "n_obs": law.n_obs,
                        "backtest_cut": np.nan if bt is None else bt.cut,
                        "backtest_mae": np.nan if bt is None else bt.mae,
                        "backtest_max": np.nan if bt is None else bt.max_error,
                    }
                )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The fitted laws as JSON: per curve every family (params, intervals, AIC), which one
        was chosen and why, the backtest; the N_opt laws; the claims."""
        curves = []
        for c in self.curves:
            laws = {name: f.to_dict() for name, f in c.fits.items()}
            if c.beta is not None:
                laws["beta"] = c.beta.to_dict()
            curves.append(
                {
                    "dataset": c.dataset,
                    "run": c.run,
                    "model": c.model,
                    "params": c.params,
                    "strategy": c.strategy,
                    "x": "k (samples per problem)",
                    "y": "error = 1 - accuracy",
                    "flops": {"c0": c.flops0, "c1": c.flops1, "accounting": self.flops},
                    "chosen": c.chosen or None,
                    "reason": c.reason,
                    "laws": laws,
                    "backtest": None if c.backtest is None else c.backtest.to_dict(),
                    "beta_backtest": None if c.beta_backtest is None else c.beta_backtest.to_dict(),
                }
            )
        return _jsonable(
            {
                "law": self.law,
                "flops": self.flops,
                "level": self.level,
                "curves": curves,
                "optimal_size": [o.to_dict() for o in self.optimal],
                "claims": [c.to_dict() for c in self.claims],
                "pareto": self.pareto[
                    ["dataset", "run", "model", "strategy", "k", "flops", "accuracy"]
                ].to_dict(orient="records"),
                "notes": self.notes,
                "simulator_notices": self.notices,
            }
        )

    def curve_frame(self, points: int = 60) -> pd.DataFrame:
        """Fitted curves sampled on a log grid of k (past the observed range by 4x):
        dataset, run, strategy, k, flops, pred, lo, hi, extrapolated."""
        frames = []
        for c in self.curves:
            if c.law is None:
                continue
            k = np.unique(np.round(np.geomspace(1, 4 * c.k.max(), points)))
            acc, draws = c.accuracy(k)
            lo, hi = percentile_interval(draws, self.level)
            frames.append(
                pd.DataFrame(
                    {
                        "dataset": c.dataset,
                        "run": c.run,
                        "strategy": c.strategy,
                        "k": k,
                        "flops": c.flops0 + c.flops1 * k,
                        "pred": acc,
                        "lo": lo,
                        "hi": hi,
                        "extrapolated": c.extrapolated(k),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars become Python numbers, NaN and infinities None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def model_family(name: str) -> str:
    """A model's family: its name without the size token (``pythia-1.4b`` -> ``pythia``)."""
    return re.sub(r"[-_]?\d+(\.\d+)?[mbk](?=$|[-_])", "", name.lower()) or name


def parse_budgets(spec: str) -> np.ndarray:
    """``START:STOP:COUNT`` (log-spaced, inclusive) or a comma list of budgets in FLOPs."""
    try:
        if ":" in spec:
            start, stop, count = spec.split(":")
            return budget_grid(float(start), float(stop), int(count))
        values = np.array([float(v) for v in spec.split(",") if v.strip()])
    except ValueError as e:
        raise ScalingError(
            f"--budget-grid {spec!r}: {e}; give START:STOP:COUNT (e.g. 1e12:1e16:9) or a comma "
            "list of positive FLOPs"
        ) from None
    if values.size == 0 or np.any(~np.isfinite(values)) or np.any(values <= 0):
        raise ScalingError(
            f"--budget-grid {spec!r}: budgets must be positive numbers, e.g. 1e12,1e13,1e14"
        )
    return np.sort(values)


def parse_compare(spec: str) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """``A:S,B:T`` (several claims separated by ``;``): model A with strategy S vs B with T."""
    claims = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        sides = [s.strip() for s in part.split(",")]
        if len(sides) != 2 or any(s.count(":") != 1 for s in sides):
            raise ScalingError(
                f"--compare {part!r}: give MODEL_A:STRATEGY_A,MODEL_B:STRATEGY_B, "
                "e.g. pythia-1b:pass,pythia-12b:pass"
            )
        (a, s), (b, t) = (tuple(x.strip() for x in side.split(":")) for side in sides)
        claims.append(((a, s), (b, t)))
    return claims


def sample_budgets(runs: list[Run]) -> str | list[int]:
    """Budgets k to replay for fitting: every k up to 64 samples per problem, beyond that the
    powers of two and n itself (the simulator's ``pow2``)."""
    n_max = max(int((r.manifest.get("sampling") or {}).get("n") or 1) for r in runs)
    return list(range(1, n_max + 1)) if n_max <= 64 else "pow2"


def _counts(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Samples n_i and correct c_i per problem (pooled, non-greedy samples), in problem-id
    order: runs of one problem set line up, so one seed resamples the same problems in each."""
    t = run.sample_table(["problem_id", "greedy", "correct"]).unify_dictionaries()
    t = t.filter(pc.invert(t["greedy"]))
    t = t.set_column(0, "problem_id", pc.cast(t["problem_id"], "string"))
    g = t.group_by("problem_id").aggregate([("correct", "count"), ("correct", "sum")])
    g = g.sort_by("problem_id")
    return (
        g["correct_count"].to_numpy().astype(float),
        g["correct_sum"].to_numpy().astype(float),
    )


def _err(acc: np.ndarray, floor: float) -> np.ndarray:
    """Error rate, floored at half a problem (log-space fits need err > 0)."""
    return np.maximum(1.0 - np.asarray(acc, dtype=float), floor)


def _search_settings(manifest: dict[str, Any]) -> dict[str, Any]:
    """What makes a tree search configuration: model, reward model, prompt, sampling settings
    but n and search settings but the width (and the ``leaves_short`` count, a result)."""
    sampling = {f"sampling.{k}": v for k, v in (manifest.get("sampling") or {}).items() if k != "n"}
    search = manifest["search"]
    return {
        "model": manifest["model"].get("name"),
        "params": manifest["model"].get("params"),
        "reward_model": (manifest.get("reward_model") or {}).get("name"),
        "prompt": (manifest.get("prompt") or {}).get("hash"),
        **sampling,
        **{k: v for k, v in search.items() if k not in ("width", "leaves_short")},
    }


def _search_curves(runs: list[Run], notes: list[str]) -> dict[str, tuple[str, str]]:
    """Tree search runs of one data set that differ only in width, as one curve: the run's
    label -> (configuration label, method). A configuration needs two or more runs of distinct
    widths; a single run keeps its own label. Labels are ``model [method]``, plus the settings
    that tell apart configurations of one model and method."""
    configs: dict[str, list[tuple[Run, str]]] = {}
    for run, label in zip(runs, run_labels(runs), strict=True):
        if run.manifest.get("search"):
            key = config_hash(_search_settings(run.manifest))
            configs.setdefault(key, []).append((run, label))
    merged = []
    for members in configs.values():
        widths = [r.manifest["search"].get("width") for r, _ in members]
        if len(members) > 1 and len(set(widths)) < len(widths):
            notes.append(
                f"search runs {', '.join(label for _, label in members)} repeat a width; "
                "each is fitted as its own curve"
            )
        elif len(members) > 1:
            merged.append(members)
    out = {}
    for members in merged:
        manifest = members[0][0].manifest
        method = str(manifest["search"]["method"])
        base = f"{manifest['model']['name']} [{method}"
        settings = _search_settings(manifest)
        rivals = [
            _search_settings(m[0][0].manifest)
            for m in merged
            if m[0][0].manifest["model"]["name"] == manifest["model"]["name"]
            and m[0][0].manifest["search"]["method"] == method
        ]
        differ = [k for k in settings if any(r.get(k) != settings[k] for r in rivals)]
        label = base + "".join(f" {k}={settings[k]}" for k in differ) + "]"
        out.update({name: (label, method) for _, name in members})
    return out


def _curves(table: pd.DataFrame, reps: pd.DataFrame, methods: dict[str, str]) -> list[Curve]:
    """One curve per (data set, run, strategy); ``methods``: the tree search method of each
    configuration label that spans several runs."""
    curves = []
    keys = ["dataset", "run", "strategy"]
    rep_groups = dict(tuple(reps.groupby(keys, sort=False)))
    for (dataset, run, strategy), pts in table.groupby(keys, sort=False):
        pts = pts.sort_values("k").reset_index(drop=True)
        wide = rep_groups[(dataset, run, strategy)].pivot(
            index="replicate", columns="k", values="accuracy"
        )
        draws = wide.reindex(columns=pts["k"].to_numpy()).to_numpy(dtype=float)
        k, fl = pts["k"].to_numpy(dtype=float), pts["flops"].to_numpy(dtype=float)
        if not np.all(np.isfinite(fl)):
            c1, c0 = np.nan, 0.0
        elif np.unique(k).size >= 2:
            c1, c0 = np.polyfit(k, fl, 1)
        else:
            c1, c0 = fl[0] / k[0], 0.0
        first = pts.iloc[0]
        curves.append(
            Curve(
                dataset=str(dataset),
                run=str(run),
                model=str(first["model"]),
                params=float(first["params"]) if pd.notna(first["params"]) else float("nan"),
                strategy=str(strategy),
                points=pts,
                draws=draws,
                flops0=float(max(c0, 0.0)),
                flops1=float(c1),
                method=methods.get(str(run), ""),
            )
        )
    return curves


def _curve_data(c: Curve) -> Dataset:
    n = float(c.points["n_problems"].iloc[0])
    floor = 0.5 / n
    sigma = np.hypot(c.points["stderr"].to_numpy(float), c.points["mc_stderr"].to_numpy(float))
    return Dataset(
        x=c.k,
        y=_err(c.points["accuracy"].to_numpy(float), floor),
        sigma=np.maximum(sigma, floor),
        replicates=_err(c.draws, floor),
    )


def _fit_curves(
    curves: list[Curve],
    runs: dict[tuple[str, str], Run],
    law: str,
    delta: float,
    bootstrap: int,
    seed: int,
    notes: list[str],
    progress: Any,
) -> None:
    """Fit the families (all curves of a family at once), choose, backtest; Beta for pass."""
    fittable = [c for c in curves if np.unique(c.k).size >= 3]
    data = {id(c): _curve_data(c) for c in fittable}
    for name, family in CURVE_FAMILIES.items():  # point fits of every family: AIC, fallback
        group = [c for c in fittable if len(c.k) > len(family.params)]
        if group:
            points = [Dataset(d.x, d.y, d.sigma) for d in (data[id(c)] for c in group)]
            for c, f in zip(group, fit_laws(family, points, delta=delta), strict=True):
                c.fits[name] = f
    for c in fittable:
        if c.strategy == "pass" and (c.dataset, c.run) in runs:
            n, k_correct = _counts(runs[c.dataset, c.run])
            c.beta = BetaFit(n, k_correct, bootstrap=bootstrap, seed=seed)
            cut = max(2, int(n.min()) // 4)  # refit on a quarter of the samples
            if n.min() >= 2 * cut:
                ks = np.unique(np.geomspace(2 * cut, n.min(), 4).astype(int))
                c.beta_backtest = backtest_beta(n, k_correct, ks, cut=cut, seed=seed)
        if law == "beta" and c.beta is not None:
            c.chosen, c.reason = "beta", "--law beta"
        elif law in ("auto", "beta") or law not in c.fits:
            c.chosen, why = select_by_aic(c.fits)
            c.reason = f"auto: {why}"
            if law not in ("auto", "beta"):
                notes.append(f"{c.label}: too few budgets for {law}; chose {c.chosen} by AIC")
        else:
            c.chosen, c.reason = law, f"--law {law}"
    if law == "beta":
        for c in fittable:
            if c.chosen != "beta":
                notes.append(f"{c.label}: the Beta forecast is for coverage; chose {c.chosen}")
    if progress is not None:
        progress("fitted every family; chose one per curve")
    for name in CURVE_FAMILIES:  # bootstrap the chosen laws, all curves of a family at once
        group = [c for c in fittable if c.chosen == name]
        if group:
            fits = fit_laws(name, [data[id(c)] for c in group], delta=delta)
            for c, f in zip(group, fits, strict=True):
                c.fits[name] = f
                d = data[id(c)]
                c.backtest = backtest(name, d.x, d.y, sigma=d.sigma, delta=delta)
        if progress is not None:
            progress(f"bootstrapped {name} ({len(group)} curves)")


def _frontier(curves: list[Curve], budgets: np.ndarray, dataset: str, level: float) -> pd.DataFrame:
    """Best configuration per budget; sets each curve's ``at_budgets`` (accuracy, draws)."""
    acc = np.full((budgets.size, len(curves)), np.nan)
    n_rep = max(c.draws.shape[0] for c in curves)
    draws = np.full((budgets.size, len(curves), n_rep), np.nan)
    ks = np.zeros((budgets.size, len(curves)))
    for j, c in enumerate(curves):
        ks[:, j], a, d = c.at(budgets)
        acc[:, j], draws[:, j, : d.shape[0]] = a, d.T
        c.at_budgets = (a, d)
    sel = select_best(acc, draws, level)
    rows = []
    for b, budget in enumerate(budgets):
        j = sel.best[b]
        if j < 0:
            continue
        c, r = curves[j], sel.runner_up[b]
        runner = "" if r < 0 else f"{curves[r].label} @ k={int(ks[b, r])}"
        rows.append(
            {
                "dataset": dataset,
                "budget": float(budget),
                "model": c.model,
                "run": c.run,
                "strategy": c.strategy,
                "k": int(ks[b, j]),
                "accuracy": sel.accuracy[b],
                "ci_low": sel.ci_low[b],
                "ci_high": sel.ci_high[b],
                "extrapolated": bool(c.extrapolated(ks[b, j : j + 1])[0]),
                "runner_up": runner,
                "margin": sel.margin[b],
                "margin_low": sel.margin_low[b],
                "margin_high": sel.margin_high[b],
                "p_best": sel.p_best[b],
            }
        )
    return pd.DataFrame(rows, columns=FRONTIER_COLUMNS[:-1])


def _optimal_sizes(
    curves: list[Curve],
    budgets: np.ndarray,
    dataset: str,
    delta: float,
    level: float,
) -> list[OptimalSize]:
    """Joint law and N_opt(C) for every (model family, strategy) with >= 3 known sizes, from
    sampling curves (C = 2 N T k does not hold for tree search)."""
    out = []
    groups: dict[tuple[str, str], list[int]] = {}
    for j, c in enumerate(curves):
        if np.isfinite(c.params) and c.params > 0 and c.law is not None and not c.method:
            groups.setdefault((model_family(c.model), c.strategy), []).append(j)
    for (family, strategy), members in sorted(groups.items()):
        if len({curves[j].params for j in members}) < 3:
            continue
        cs = [curves[j] for j in members]
        data = [_curve_data(c) for c in cs]
        n = np.concatenate([np.full(c.k.size, c.params) for c in cs])
        k = np.concatenate([c.k for c in cs])
        n_rep = min(d.replicates.shape[0] for d in data)
        joint = fit_law(
            "joint",
            {"N": n, "k": k},
            np.concatenate([d.y for d in data]),
            sigma=np.concatenate([d.sigma for d in data]),
            replicates=np.concatenate([d.replicates[:n_rep] for d in data], axis=1),
            delta=delta,
            level=level,
        )
        tokens = float(
            np.mean([np.mean(c.points["flops"] / (2 * c.params * c.points["k"])) for c in cs])
        )
        p = joint.params
        n_opt = optimal_size(budgets, tokens, **p)
        refits = joint.boot_params.to_numpy()  # E, A, alpha, B, beta of each replicate
        draws = optimal_size(budgets[None], tokens, *(refits[:, i : i + 1] for i in range(5)))
        lo, hi = percentile_interval(draws, level)
        exps = size_exponent(refits[:, 2], refits[:, 4])
        e_lo, e_hi = percentile_interval(exps, level)
        # empirical: the most accurate size of this family at each budget (fitted curves)
        acc = np.stack([c.at_budgets[0] for c in cs], axis=1)
        feasible = np.isfinite(acc).any(axis=1)
        pick = np.argmax(np.where(np.isfinite(acc), acc, -np.inf), axis=1)
        best_params = np.array([cs[i].params for i in pick])
        # WLS weights: 1 / bootstrap variance of log10 of the best size (0.1 dex floor)
        sizes = np.log10([c.params for c in cs])
        boot = np.stack([c.at_budgets[1] for c in cs])  # (members, replicates, budgets)
        boot_pick = np.argmax(np.where(np.isfinite(boot), boot, -np.inf), axis=0)
        weights = 1.0 / (np.var(sizes[boot_pick], axis=0) + 0.01)
        table = pd.DataFrame(
            {
                "budget": budgets,
                "n_opt": n_opt,
                "lo": lo,
                "hi": hi,
                "best_model": [
                    cs[i].model if f else "" for i, f in zip(pick, feasible, strict=True)
                ],
                "best_params": np.where(feasible, best_params, np.nan),
            }
        )
        size_law, note = None, ""
        ok = feasible & np.isfinite(best_params)
        try:
            size_law = SizeLaw(budgets[ok], best_params[ok], weights=weights[ok], level=level)
        except ValueError as e:
            note = f"empirical N_opt law not fitted: {e}"
        out.append(
            OptimalSize(
                dataset=dataset,
                family=family,
                strategy=strategy,
                tokens=tokens,
                joint=joint,
                exponent=float(size_exponent(p["alpha"], p["beta"])),
                exponent_ci=(float(e_lo), float(e_hi)),
                table=table,
                size_law=size_law,
                note=note,
            )
        )
    return out


def _claims(
    curves: list[Curve],
    budgets: dict[str, np.ndarray],
    compare: list[tuple[tuple[str, str], tuple[str, str]]],
) -> list[Claim]:
    def find(model: str, strategy: str) -> Curve:
        hits = [c for c in curves if model in (c.model, c.run) and c.strategy == strategy]
        if not hits:
            known = sorted({f"{c.model}:{c.strategy}" for c in curves})
            raise ScalingError(
                f"--compare: no run of model {model!r} with strategy {strategy!r}; "
                f"choose from {', '.join(known)}"
            )
        return hits[0]

    out = []
    for (a, s), (b, t) in compare:
        ca, cb = find(a, s), find(b, t)
        if ca.dataset != cb.dataset:
            raise ScalingError(
                f"--compare {a}:{s},{b}:{t}: the runs answer different problem sets "
                f"({ca.dataset}, {cb.dataset}); compare runs of one data set"
            )
        (acc_a, d_a), (acc_b, d_b) = ca.at_budgets, cb.at_budgets
        both = np.isfinite(acc_a) & np.isfinite(acc_b)
        if not both.any():
            raise ScalingError(
                f"--compare {a}:{s},{b}:{t}: no budget of the grid affords both; widen "
                "--budget-grid"
            )
        n = min(d_a.shape[0], d_b.shape[0])
        out.append(
            beats_everywhere(
                f"{a}:{s}",
                f"{b}:{t}",
                budgets[ca.dataset][both],
                acc_a[both],
                acc_b[both],
                d_a[:n, both],
                d_b[:n, both],
            )
        )
    return out


def fit_runs(
    runs: list[Run],
    *,
    budgets: np.ndarray | None = None,
    law: str = "auto",
    compare: list[tuple[tuple[str, str], tuple[str, str]]] | None = None,
    flops: str = "paper",
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    delta: float = 1e-3,
    n_budgets: int = 12,
    progress: Any = None,
) -> FitReport:
    """Simulate ``runs``, fit laws, find the frontier and the compute-optimal size.

    ``budgets``: FLOPs per problem (default per data set: ``n_budgets`` log-spaced over the
    observed compute); ``law``: a family name, "beta" or "auto"; ``compare``: claims
    ((model, strategy), (model, strategy)); ``progress``: a callable taking a status line.
    """
    if law not in LAWS:
        raise ScalingError(f"--law {law!r}: choose one of {', '.join(LAWS)}")
    if bootstrap < 2:
        raise ScalingError(f"--bootstrap {bootstrap}: need at least 2 replicates for intervals")
    groups: dict[str, list[Run]] = {}
    for r in runs:
        groups.setdefault(str(r.manifest.get("problem_set", "default")), []).append(r)
    sims = {
        ds: simulate(
            group, budgets=sample_budgets(group), bootstrap=bootstrap, seed=seed, cost=flops
        )
        for ds, group in groups.items()
    }
    for sim in sims.values():
        sim.table = sim.table.rename(columns={"cost": "flops"})
    if progress is not None:
        progress("simulated")
    by_name = {
        (ds, label): r
        for ds, group in groups.items()
        for r, label in zip(group, run_labels(group), strict=True)
    }
    notes: list[str] = []
    searched = {ds: _search_curves(group, notes) for ds, group in groups.items()}

    def relabel(frame: pd.DataFrame, ds: str) -> pd.DataFrame:
        """The run column names each curve: a search configuration's runs share its label."""
        names = {str(v): searched[ds].get(str(v), (str(v),))[0] for v in frame["run"].unique()}
        return frame.assign(dataset=ds, run=frame["run"].astype(str).map(names))

    table = pd.concat([relabel(s.table, ds) for ds, s in sims.items()], ignore_index=True)
    replicates = pd.concat([relabel(s.replicates, ds) for ds, s in sims.items()], ignore_index=True)
    methods = {label: m for found in searched.values() for label, m in found.values()}
    curves = _curves(table, replicates, methods)
    _fit_curves(curves, by_name, law, delta, bootstrap, seed, notes, progress)
    frontiers, paretos, optimal = [], [], []
    grids: dict[str, np.ndarray] = {}
    for dataset in dict.fromkeys(c.dataset for c in curves):
        local = [c for c in curves if c.dataset == dataset]
        pts = table[(table["dataset"] == dataset) & np.isfinite(table["flops"])]
        unit = "FLOPs"
        if pts.empty:  # no model size or tokens: the budget is samples per problem
            unit, pts = "samples", table[table["dataset"] == dataset].assign(flops=lambda t: t["k"])
            for c in local:
                c.flops0, c.flops1 = 0.0, 1.0
            notes.append(
                f"{dataset}: FLOPs unknown (model size or tokens missing); its frontier is over "
                "samples per problem k"
            )
        for c in local:
            if unit == "FLOPs" and not np.isfinite(c.flops1):
                notes.append(f"{c.label}: FLOPs unknown; left out of the frontier")
        grid = budgets if budgets is not None and unit == "FLOPs" else None
        if grid is None:
            grid = budget_grid(float(pts["flops"].min()), float(pts["flops"].max()), n_budgets)
        grids[dataset] = grid
        frontiers.append(_frontier(local, grid, dataset, level).assign(budget_unit=unit))
        paretos.append(pareto_front(pts))
        optimal += _optimal_sizes(local, grid, dataset, delta, level)
    claims = _claims(curves, grids, compare or [])
    if progress is not None:
        progress("frontier, optimal size and claims")
    info = {}
    for ds, group in groups.items():
        prov = group[0].manifest.get("provenance", {})
        info[ds] = {
            "title": ds,
            "provenance": str(prov.get("citation") or prov.get("source") or ""),
            "n_problems": int(table.loc[table["dataset"] == ds, "n_problems"].max()),
        }
    return FitReport(
        table=table,
        curves=curves,
        frontier=pd.concat(frontiers, ignore_index=True),
        pareto=pd.concat(paretos, ignore_index=True),
        optimal=optimal,
        claims=claims,
        law=law,
        flops=flops,
        level=level,
        notes=notes,
        notices=[n for sim in sims.values() for n in sim.notices],
        datasets=info,
    )
