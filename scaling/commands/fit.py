"""``scaling fit``: fitted laws, the compute-optimal frontier and N_opt(C), with intervals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from scaling.commands.info import RUNS_HELP, emit
from scaling.errors import ScalingError
from scaling.paths import resolve_runs
from scaling.progress import progress_bar

LAW_HELP = "auto (lowest AIC per curve) | power | saturating | logistic | exp_power | beta"
GRID_HELP = "Budgets (FLOPs per problem): START:STOP:COUNT log-spaced, or a comma list"


def _pm(value: float, lo: float, hi: float, spec: str = "{:.4g}") -> str:
    if not np.isfinite(value):
        return "-"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return spec.format(value)
    return f"{spec.format(value)} [{spec.format(lo)}, {spec.format(hi)}]"


def _pct(value: float, lo: float = np.nan, hi: float = np.nan) -> str:
    return _pm(100 * value, 100 * lo, 100 * hi, "{:.1f}")


def _size(n: float) -> str:
    return "-" if not np.isfinite(n) else f"{n / 1e9:.3g}B" if n >= 1e9 else f"{n / 1e6:.3g}M"


def _runner_up(c: Any) -> str:
    """The family of next-lowest AIC and its AIC difference (auto choice), else the reason."""
    if not c.reason.startswith("auto") or len(c.fits) < 2:
        return c.reason
    ranked = sorted(c.fits, key=lambda k: c.fits[k].aic)
    nxt = ranked[1] if ranked[0] == c.chosen else ranked[0]
    return f"next: {nxt} (dAIC {c.fits[nxt].aic - c.fits[c.chosen].aic:.1f})"


def _law_table(report: Any, dataset: str) -> Any:
    from rich.table import Table

    t = Table(title=f"Laws: error = 1 - accuracy vs samples k ({dataset})", title_justify="left")
    for col in ("model", "strategy", "law", "parameters [95% CI]", "AIC", "choice", "backtest"):
        t.add_column(col)
    for c in (c for c in report.curves if c.dataset == dataset):
        law = c.law
        if law is None:
            t.add_row(c.model, c.strategy, "-", "one budget: no curve", "", "", "")
            continue
        params = ", ".join(f"{k}={_pm(v, *law.ci.loc[k], '{:.3g}')}" for k, v in law.params.items())
        bt = c.beta_backtest if c.chosen == "beta" else c.backtest
        t.add_row(c.model, c.strategy, c.chosen, params, f"{law.aic:.1f}", _runner_up(c), _bt(bt))
        if c.beta is not None and c.chosen != "beta":
            b, k_far = c.beta, 10 * c.k.max()
            lo, hi = b.predict_interval(k_far)
            t.add_row(
                "",
                "",
                "beta",
                ", ".join(f"{k}={_pm(v, *b.ci.loc[k], '{:.3g}')}" for k, v in b.params.items())
                + f"; pass@{k_far:g} {_pct(1 - b.predict(k_far)[0], 1 - hi[0], 1 - lo[0])}%",
                f"{b.aic:.1f}",
                "forecast",
                _bt(c.beta_backtest),
            )
    return t


def _bt(bt: Any) -> str:
    """A backtest in one cell: the fit cut, mean and max absolute error in accuracy points."""
    if bt is None:
        return "-"
    where = f"n={bt.cut:g}" if bt.family == "beta" else f"k<={bt.cut:g}"
    return f"{where}: MAE {100 * bt.mae:.2f}, max {100 * bt.max_error:.2f} pts"


def _frontier_table(report: Any, dataset: str) -> Any:
    from rich.table import Table

    front = report.frontier[report.frontier["dataset"] == dataset]
    unit = front["budget_unit"].iloc[0] if len(front) else "FLOPs"
    t = Table(title=f"Compute-optimal frontier ({dataset})", title_justify="left")
    for col in (
        f"budget ({unit})",
        "best model / strategy",
        "k",
        "accuracy % [95% CI]",
        "extrap.",
        "runner-up",
        "margin (pts) [95% CI]",
        "P(best)",
    ):
        t.add_column(col)
    for r in front.itertuples(index=False):
        t.add_row(
            f"{r.budget:.3g}",
            f"{r.model} / {r.strategy}",
            str(r.k),
            _pct(r.accuracy, r.ci_low, r.ci_high),
            "yes" if r.extrapolated else "",
            r.runner_up or "-",
            _pct(r.margin, r.margin_low, r.margin_high),
            "-" if not np.isfinite(r.p_best) else f"{r.p_best:.2f}",
        )
    return t


def _optimal_table(o: Any) -> Any:
    from rich.table import Table

    t = Table(
        title=f"Compute-optimal {o.family} size, {o.strategy} ({o.dataset}); "
        f"C = 2 N T k with T = {o.tokens:.4g} tokens per sample",
        title_justify="left",
    )
    for col in ("budget (FLOPs)", "N_opt joint law [95% CI]", "best size on the frontier"):
        t.add_column(col)
    for r in o.table.itertuples(index=False):
        t.add_row(
            f"{r.budget:.3g}",
            f"{_size(r.n_opt)} [{_size(r.lo)}, {_size(r.hi)}]",
            f"{r.best_model} ({_size(r.best_params)})" if r.best_model else "-",
        )
    return t


def _optimal_lines(o: Any) -> list[str]:
    lo, hi = o.exponent_ci
    lines = [
        f"joint law {o.joint.formula}: N_opt ~ C^{o.exponent:.3f} [{lo:.3f}, {hi:.3f}] "
        f"(beta/(alpha+beta), bootstrap {100 * o.joint.level:g}% interval)"
    ]
    if o.size_law is not None:
        s = o.size_law
        lines.append(
            f"frontier sizes, WLS on logs (weights 1/bootstrap variance): "
            f"N_opt = {s.params['G']:.3g} C^a, "
            f"a = {s.params['a']:.3f} [{s.ci.loc['a', 'low']:.3f}, {s.ci.loc['a', 'high']:.3f}]"
            f"; i.e. {s.extra_stats()['inverse']}"
        )
    if o.note:
        lines.append(o.note)
    lines.append("Wu et al. (Pythia on GSM8K): log10 C = 1.19 log10 N + 2.03, a = 0.84")
    return lines


def _pareto_line(report: Any, dataset: str) -> str:
    """The observed Pareto set in one line: per configuration, its k on the set."""
    front = report.pareto[report.pareto["dataset"] == dataset]
    n_all = int((report.table["dataset"] == dataset).sum())
    parts = [
        f"{model} / {strategy} k={','.join(str(int(k)) for k in g['k'])}"
        for (model, strategy), g in front.groupby(["model", "strategy"], sort=False)
    ]
    return f"Pareto set of observed points ({len(front)} of {n_all}): " + "; ".join(parts)


def _print(report: Any) -> None:
    from rich.console import Console

    console = Console()
    for dataset, info in report.datasets.items():
        console.rule(f"{dataset}  ({info['n_problems']} problems, FLOPs: {report.flops})")
        console.print(_law_table(report, dataset))
        console.print(
            "law: "
            + (
                "auto: each curve takes the family of lowest AIC"
                if report.law == "auto"
                else report.law
            )
            + "; backtest: refit on the smaller budgets (Beta: on n samples per problem), "
            "error of the forecast at the held-out larger ones"
        )
        console.print(_pareto_line(report, dataset))
        console.print(_frontier_table(report, dataset))
        for o in (o for o in report.optimal if o.dataset == dataset):
            console.print(_optimal_table(o))
            for line in _optimal_lines(o):
                console.print(line)
    for claim in report.claims:
        console.print(claim.sentence())
    for note in report.notes:
        console.print(f"note: {note}")
    if report.notices:
        console.print(
            f"simulator: {len(report.notices)} notices (skipped strategies, unknown FLOPs); "
            "'scaling simulate' lists them, --laws-json keeps them"
        )


def fit(
    runs: Annotated[list[Path] | None, typer.Argument(help=RUNS_HELP)] = None,
    budget_grid: Annotated[str | None, typer.Option("--budget-grid", help=GRID_HELP)] = None,
    law: Annotated[str, typer.Option("--law", help=LAW_HELP)] = "auto",
    compare: Annotated[
        list[str] | None,
        typer.Option("--compare", help="Claim 'A with S beats B with T at every budget': A:S,B:T"),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="table | csv | json | parquet (the frontier)")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the frontier here.")
    ] = None,
    laws_json: Annotated[
        Path | None, typer.Option("--laws-json", help="Write the fitted laws as JSON here.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the explorer page here.")
    ] = None,
    flops: Annotated[
        str, typer.Option("--flops", help="paper | full (FLOPs accounting)")
    ] = "paper",
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap replicates.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    delta: Annotated[float, typer.Option("--huber-delta", help="Huber loss delta.")] = 1e-3,
) -> None:
    """Fit scaling laws to simulated curves; print the frontier and compute-optimal model size."""
    from rich.console import Console

    from scaling.frontier import fit_runs, parse_budgets, parse_compare

    if fmt not in ("table", "csv", "json", "parquet"):
        raise ScalingError(f"--format {fmt!r}: choose one of table, csv, json, parquet")
    budgets = None if budget_grid is None else parse_budgets(budget_grid)
    claims = [c for spec in compare or [] for c in parse_compare(spec)]
    opened = resolve_runs(runs)
    steps = ["simulate", "fit", "power", "saturating", "logistic", "exp_power", "frontier"]
    console = Console(stderr=True)
    with progress_bar(
        "{task.description}", console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("fitting", total=len(steps))
        report = fit_runs(
            opened,
            budgets=budgets,
            law=law,
            compare=claims,
            flops=flops,
            bootstrap=bootstrap,
            seed=seed,
            delta=delta,
            progress=lambda msg: bar.update(task, advance=1, description=msg),
        )
    if fmt == "table" and output is None:
        _print(report)
    else:
        emit(report.frontier, fmt, output, None)
    if laws_json is not None:
        from scaling.store import atomic_write_text

        atomic_write_text(laws_json, json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
    if html is not None:
        from scaling.explorer import explorer_frames, write_explorer

        frames = explorer_frames(opened, report=report, flops=flops, bootstrap=bootstrap, seed=seed)
        write_explorer(html, **frames)


def register(app: typer.Typer) -> None:
    app.command("fit")(fit)
