"""``scaling fit``: the compute-optimal frontier, N_opt(C) and claims, on one screen.

Files (``--output``, ``--laws-json``, ``--html``) are written before anything is printed; the
terminal answer is one compact table per data set at 80 columns (budgets by decade), the N_opt
law in a line, the claims and notes; ``--details`` adds the fitted laws and the Pareto set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from scaling.commands.info import emit
from scaling.commands.options import (
    Bootstrap,
    BudgetGrid,
    Costs,
    FitCacheOption,
    IncludeOracle,
    Intensity,
    Runs,
    Seed,
    Strategies,
    Workers,
    chosen_cache,
    chosen_costs,
    chosen_workers,
)
from scaling.defaults import BOOTSTRAP
from scaling.errors import ArgumentError
from scaling.paths import resolve_runs
from scaling.progress import progress_bar
from scaling.terminal import WIDTH, shorten

LAW_HELP = "auto (lowest AIC per curve) | power | saturating | logistic | exp_power | beta"
ROWS = 12  # budget rows printed per data set (all of them go to --format files)


def _budget(value: float, unit: str) -> str:
    return f"{int(value)}" if unit == "samples" else f"{value:.0e}".replace("e+", "e")


def _interval(value: float, lo: float, hi: float, signed: bool = False) -> str:
    """Percentage points: ``41.2 [38.0,44.5]``."""
    if not np.isfinite(value):
        return "-"

    def pct(x: float, sign: str = "") -> str:
        return f"{100 * x + 0.0:{sign}.1f}".replace("-0.0", "0.0")

    head = pct(value, "+" if signed else "")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return head
    return f"{head} [{pct(lo)},{pct(hi)}]"


def _size(n: float) -> str:
    if not np.isfinite(n):
        return "-"
    return f"{n / 1e9:.3g}B" if n >= 1e9 else f"{n / 1e6:.3g}M"


def _rows(front: Any) -> Any:
    """At most ``ROWS`` budgets, evenly spread over the grid (first and last kept)."""
    if len(front) <= ROWS:
        return front
    keep = np.unique(np.round(np.linspace(0, len(front) - 1, ROWS)).astype(int))
    return front.iloc[keep]


def _label(strategy: str) -> str:
    """A strategy's short label (``maj``, ``es-maj:lead=2``)."""
    from scaling.strategies import parse_strategies

    return parse_strategies([strategy])[0].short


def frontier_lines(report: Any, dataset: str) -> list[str]:
    """The data set's frontier as fixed-width lines of at most ``WIDTH`` characters."""
    front = report.frontier[report.frontier["dataset"] == dataset]
    unit = report.units[dataset]
    ranked = front["model"].ne("").any()
    shown = _rows(front)
    title = "best deployable" if ranked else "oracle ceiling (pass@k)"
    lines = [f"{'budget':<6} {title:<22} {'k':>5} {'accuracy % [CI]':<16} {'runner-up':<10} margin"]
    for r in shown.itertuples(index=False):
        k, acc, runner, margin = "", "", "", ""
        if ranked and r.model:
            best = f"{shorten(r.run, 22 - len(_label(r.strategy)) - 1)} {_label(r.strategy)}"
            mark = {"extrapolated": "*", "interpolated": "~"}.get(r.source, "")
            k, acc = f"{r.k}{mark}", _interval(r.accuracy, r.ci_low, r.ci_high)
            runner = _runner(r.runner_up, r.run)
            margin = _interval(r.margin, r.margin_low, r.margin_high, signed=True)
        elif not ranked and r.ceiling_config:
            config, _, k = r.ceiling_config.partition(" @ k=")
            model, _, strategy = config.partition(" / ")
            best = f"{shorten(model, 22 - len(_label(strategy)) - 1)} {_label(strategy)}"
            k += {"extrapolated": "*", "interpolated": "~"}.get(r.ceiling_source, "")
            acc = _interval(r.ceiling, r.ceiling_low, r.ceiling_high)
        else:
            best = "-"
        line = f"{_budget(r.budget, unit):<6} {best:<22} {k:>5} {acc:<16} {runner:<10} {margin}"
        lines.append(line.rstrip()[:WIDTH])
    notes = []
    if len(shown) < len(front):
        notes.append(f"{len(shown)} of {len(front)} budgets shown; all in --format csv")
    marked = front["source"].isin(["extrapolated", "interpolated"])
    if marked.any() or (not ranked and front["ceiling_source"].ne("exact").any()):
        notes.append("k* extrapolated, k~ interpolated by the curve's law; others exact replays")
    if ranked and front["ceiling"].notna().any():
        top = front.loc[front["ceiling"].idxmax()]
        label = _label(top["ceiling_config"].split(" @ k=")[0].split(" / ")[-1])
        interval = _interval(top["ceiling"], top["ceiling_low"], top["ceiling_high"])
        value, _, ci = interval.partition(" ")
        notes.append(f"oracle ceiling ({label}) up to {value}% {ci}".rstrip())
    return lines + ["  " + n for n in notes]


def _runner(runner_up: str, model: str) -> str:
    """The runner-up in 10 characters: its strategy when it is the same model, else its model."""
    if not runner_up:
        return "-"
    config = runner_up.split(" @ k=")[0]
    other, _, strategy = config.partition(" / ")
    return shorten(_label(strategy), 10) if other == model else shorten(other, 10)


def optimal_lines(o: Any) -> list[str]:
    """The N_opt headline, its fit and the diagnostic, in three lines."""
    a, (a_lo, a_hi) = o.law.params["a"], o.law.ci.loc["a"]
    kind = "" if o.deployable else ", oracle"
    middle = o.table.iloc[len(o.table) // 2]
    fit = f"RMS error {100 * o.fit_error:.1f} pts, {o.misfit:.1f} SE"
    lines = [
        f"N_opt {o.family} ({_label(o.strategy)}{kind}) ~ C^{a:.3f} [{a_lo:.3f},{a_hi:.3f}]; "
        f"at {middle['budget']:.0e}: {_size(middle['n_opt'])} "
        f"[{_size(middle['lo'])},{_size(middle['hi'])}]",
        "  joint law E+A/N^alpha+B/k^beta: " + fit + ("" if o.reliable else ": misfit, unreliable"),
        f"  diagnostic, best replayed size: slope {o.slope:.2f} "
        f"[{o.slope_ci[0]:.2f},{o.slope_ci[1]:.2f}] in "
        f"{o.slope_range[0]:.1e}-{o.slope_range[1]:.1e} {o.cost_unit}",
    ]
    return [line.replace("e+", "e") for line in lines]


def allocation_lines(curve: Any, a: Any) -> list[str]:
    """The allocation's cross-fitted gain over the best uniform configuration at equal mean
    samples, at up to four budgets (powers of two)."""
    head = f"{_label(curve.strategy)} {shorten(curve.run, 24)}: cross-fitted gain over uniform"
    shown = [i for i, b in enumerate(a.budgets) if int(b) & (int(b) - 1) == 0 and b > 1][:4]
    gains = [_interval(a.gain[i], *a.gain_ci[i], signed=True) for i in shown]
    cells = [f"k={a.budgets[i]:g} {g}" for i, g in zip(shown, gains, strict=True)]
    return [head, "  " + "  ".join(cells) + " pts"]


def comparison_lines(comparison: Any, dataset: str) -> list[str]:
    """Where two cost models choose differently (``scaling.cost_comparison``), at most ``WIDTH``
    characters a line: the cheapest exact configuration per accuracy target where the choices
    differ, the excess factors, the Pareto sets and the N_opt exponents."""
    if dataset not in comparison.units:
        return []
    (a, b), (unit_a, unit_b) = comparison.costs, comparison.units[dataset]
    name_a, name_b = a.split(":")[0], b.split(":")[0]
    s = comparison.summary(dataset)
    lines = [f"cost {a} ({unit_a}) vs {b} ({unit_b}): cheapest exact configuration"]
    targets = comparison.targets[comparison.targets["dataset"] == dataset]
    differ = targets[~targets["same"]]
    if differ.empty:
        lines.append(f"  the same at every accuracy target ({s['targets']})")
    else:
        head = f"{'accuracy':>8} {'under ' + name_a:<24} {'under ' + name_b:<24}"
        lines.append(f"{head} {'x ' + name_b[:8]:>10} {'x ' + name_a[:8]:>10}")
        for r in _rows(differ).itertuples(index=False):
            cell_a = _config(r.a_model, r.a_strategy, r.a_k)
            cell_b = _config(r.b_model, r.b_strategy, r.b_k)
            line = (
                f"{100 * r.target:>7.2f}% {cell_a:<24} {cell_b:<24} "
                f"{r.b_excess:>10.2f} {r.a_excess:>10.2f}"
            )
            lines.append(line[:WIDTH])
        shown = min(len(differ), ROWS)
        lines += [
            f"  choices differ at {len(differ)} of {s['targets']} accuracy targets"
            + (f" ({shown} shown)" if shown < len(differ) else ""),
            f"  x: the other's choice over its own, up to {s['max_b_excess']:.3g} "
            f"({name_b[:12]}), {s['max_a_excess']:.3g} ({name_a[:12]})",
        ]
    lines.append(
        f"  Pareto sets: {s['pareto_a']} points under {name_a}, {s['pareto_b']} under "
        f"{name_b}, {s['pareto_both']} in both"
    )
    exps = comparison.exponents[comparison.exponents["dataset"] == dataset]
    for e in exps.itertuples(index=False):
        lines += [
            f"  N_opt {e.family} ({_label(e.strategy)}) ~ C^a: a = {e.a_a:.3f} under {name_a}, "
            f"{e.a_b:.3f} under {name_b}",
            f"    difference {e.difference:+.3f} [{e.difference_low:+.3f},"
            f"{e.difference_high:+.3f}]; cost per sample ~ N^{e.h_a:.2f} vs N^{e.h_b:.2f}",
        ]
    return lines


def _config(model: str, strategy: str, k: int) -> str:
    """``model label k=K`` in at most 24 characters."""
    tail = f" {_label(strategy)} k={int(k)}"
    return shorten(model, 24 - len(tail)) + tail


def law_lines(report: Any, dataset: str) -> list[str]:
    """Each curve's chosen law in lines of at most ``WIDTH`` characters: model, strategy, law,
    AIC and backtest, then its parameters with their intervals (on one line, or one a line
    where they do not fit on one)."""
    lines = [f"laws: err = 1 - accuracy vs samples k; parameters [{100 * report.level:g}% CI]"]
    for c, f in zip(report.curves, report.fits, strict=True):
        if c.dataset != dataset:
            continue
        law = f.law
        if law is None:
            tail = f" {_label(c.strategy)}: no law ({f.reason})"
            lines.append((shorten(c.run, 24) + tail)[:WIDTH])
            continue
        bt = f.beta_backtest if f.chosen == "beta" else f.backtest
        tail = f" {_label(c.strategy)} · {f.chosen} · AIC {law.aic:.1f}"
        tail += "" if bt is None else f" · backtest MAE {100 * bt.mae:.2f} pts"
        lines.append(shorten(c.run, WIDTH - len(tail)) + tail)
        cells = [
            f"{k}={v:.3g} [{lo:.3g},{hi:.3g}]"
            for (k, v), (lo, hi) in zip(law.params.items(), law.ci.to_numpy(), strict=True)
        ]
        one = "  " + "  ".join(cells)
        lines += [one] if len(one) <= WIDTH else ["  " + cell for cell in cells]
    return lines


def _print(report: Any, details: bool) -> None:
    from scaling.terminal import stdout_console

    console = stdout_console()
    for dataset, info in report.datasets.items():
        if dataset not in report.units:
            continue
        unit = report.units[dataset]
        console.rule(shorten(dataset, WIDTH - 8), align="left")
        console.print(
            f"{info['n_problems']} problems · cost {report.cost} ({unit} per problem) · "
            f"bootstrap {report.bootstrap} · {100 * report.level:g}% intervals",
            overflow="fold",
        )
        if dataset in set(report.frontier["dataset"]):
            for line in frontier_lines(report, dataset):
                console.print(line, overflow="ellipsis", no_wrap=True, markup=False)
        for o in (o for o in report.optimal if o.dataset == dataset):
            for line in optimal_lines(o):
                console.print(line, markup=False, overflow="fold")
        for c, a in (x for x in report.allocations if x[0].dataset == dataset):
            for line in allocation_lines(c, a):
                console.print(line, markup=False, overflow="fold")
        for comparison in report.comparisons:
            for line in comparison_lines(comparison, dataset):
                console.print(line, markup=False, overflow="fold")
        if details:
            for line in law_lines(report, dataset):
                console.print(line, overflow="ellipsis", no_wrap=True, markup=False)
    for claim in report.claims:
        unit = report.units.get(claim_dataset(report, claim), "")
        console.print(claim.sentence(unit), markup=False)
    notes = report.notes + [n for c in report.comparisons for n in c.notes]
    for note in notes:
        console.print(f"note: {note}", markup=False, overflow="fold")
    notices = report.notices + [
        f"(cost {c.costs[1]}) {line}" for c in report.comparisons for line in c.other.notices
    ]
    if notices and details:
        for line in notices:
            console.print(f"simulator: {line}", markup=False, overflow="fold")
    elif notices:
        console.print(f"simulator: {len(notices)} notices (--details lists them)")


def claim_dataset(report: Any, claim: Any) -> str:
    """The data set of a claim's first configuration."""
    model, _, strategy = claim.a.partition(":")
    return next(
        (c.dataset for c in report.curves if model in (c.model, c.run) and c.strategy == strategy),
        "",
    )


def fit(
    runs: Runs = None,
    strategies: Strategies = None,
    include_oracle: IncludeOracle = False,
    budgets: BudgetGrid = None,
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
    cost: Costs = "paper",
    intensity: Intensity = None,
    bootstrap: Bootstrap = BOOTSTRAP,
    seed: Seed = 0,
    workers: Workers = None,
    cache: FitCacheOption = True,
    delta: Annotated[float, typer.Option("--huber-delta", help="Huber loss delta.")] = 1e-3,
    details: Annotated[
        bool, typer.Option("--details", help="Also print the fitted laws and every notice.")
    ] = False,
) -> None:
    """The compute-optimal frontier of deployable strategies, N_opt(C) and claims."""
    from rich.console import Console

    from scaling.frontier import parse_budget_grid, parse_compare
    from scaling.report import fit_runs

    if fmt not in ("table", "csv", "json", "parquet"):
        raise ArgumentError("fmt", fmt, "choose one of table, csv, json, parquet")
    grid = None if budgets is None else parse_budget_grid(budgets)
    claims = [c for spec in compare or [] for c in parse_compare(spec)]
    models = chosen_costs(cost, intensity, several=True)
    opened = resolve_runs(runs)
    console = Console(stderr=True)
    with progress_bar(
        "{task.description}", console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("fitting", total=7 * len(models))
        report = fit_runs(
            opened,
            strategies=strategies,
            include_oracle=include_oracle,
            budgets=grid,
            law=law,
            compare=claims,
            cost=models,
            bootstrap=bootstrap,
            seed=seed,
            workers=chosen_workers(workers),
            cache=chosen_cache(cache),
            delta=delta,
            progress=lambda msg: bar.update(task, advance=1, description=msg),
        )
    if laws_json is not None:
        from scaling.store import atomic_write_text

        atomic_write_text(laws_json, json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
    if html is not None:
        from scaling.explorer import explorer_frames, write_explorer

        write_explorer(html, **explorer_frames(opened, report=report, seed=seed))
    if fmt == "table" and output is None:
        _print(report, details)
    else:
        emit(report.frontier, fmt, output, None)


def register(app: typer.Typer) -> None:
    app.command("fit")(fit)
