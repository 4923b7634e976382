"""An honest frontier: deployable strategies ranked, exact values where replayed, ties, intervals
that do not depend on the budget grid, one screen at 80 columns, a closed pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scaling.paths import data_dir, default_runs
from scaling.report import fit_runs
from scaling.simulate import simulate
from scaling.store import open_runs

PYTHIA = data_dir() / "runs" / "pythia"
QWEN = data_dir() / "runs" / "qwen25-math-cot100"
SNAPSHOT = Path(__file__).parent / "fixtures" / "fit_80_columns.txt"


@pytest.fixture(scope="module")
def report():
    return fit_runs(open_runs(default_runs()), bootstrap=50, seed=2)


def test_an_oracle_is_never_on_the_default_frontier(report):
    ranked = report.frontier[report.frontier["model"] != ""]
    assert len(ranked) and "pass" not in set(ranked["strategy"])
    pythia = report.frontier[report.frontier["dataset"].str.contains("Large Language Monkeys")]
    assert (pythia["model"] == "").all()  # coverage only: no deployable strategy to rank
    assert pythia["ceiling_config"].str.contains(" / pass @ k=").all()
    assert pythia["ceiling"].notna().all()
    mock = report.frontier[report.frontier["dataset"].str.contains("mock-aime")]
    assert (mock["ceiling"] >= mock["accuracy"] - 1e-12).all()  # coverage bounds every vote
    oracle = fit_runs(open_runs([PYTHIA / "1b", PYTHIA / "12b"]), bootstrap=20, include_oracle=True)
    assert set(oracle.frontier["strategy"]) == {"pass"}


def test_the_oracle_ceiling_carries_its_interval(report):
    """The ceiling is the best oracle option: its interval is the percentile interval of that
    option's paired bootstrap draws, as for the best deployable one."""
    rows = report.frontier[report.frontier["ceiling"].notna()]
    assert (
        rows["ceiling_source"].eq("extrapolated").any() and rows["ceiling_source"].eq("exact").any()
    )
    for r in rows.itertuples():
        opt = report.options[r.dataset]
        b = int(np.flatnonzero(opt.budgets == r.budget)[0])
        (j,) = [
            col
            for col, i in enumerate(opt.members)
            if not report.curves[i].deployable
            and np.isfinite(opt.k[b, col])
            and f"{report.curves[i].label} @ k={int(opt.k[b, col])}" == r.ceiling_config
        ]
        assert r.ceiling == opt.accuracy[b, j]
        lo, hi = np.nanpercentile(opt.draws[b, j], [2.5, 97.5])
        assert (r.ceiling_low, r.ceiling_high) == pytest.approx((lo, hi), rel=1e-14, abs=1e-15)


def test_strategies_select_what_is_ranked(report):
    only = fit_runs(open_runs([QWEN]), strategies="majority,pass", bootstrap=20)
    assert set(only.frontier["strategy"]) == {"majority"}
    assert only.frontier["ceiling_config"].str.contains("/ pass").all()


def test_replayed_budgets_report_the_exact_replay():
    """Every option the frontier calls exact equals the simulator's value at that k, to the
    last bit, with the same bootstrap interval; the k a budget affords is replayed, not fitted,
    also off the design k."""
    runs = open_runs([PYTHIA, data_dir() / "runs" / "mock-aime"])
    grid = np.geomspace(1e12, 1e16, 20)
    report = fit_runs(runs, budgets=grid, include_oracle=True, bootstrap=50, seed=2)
    rows = report.frontier[report.frontier["source"] == "exact"]
    assert len(rows) >= 25
    by_label = {}
    for dataset, group in _groups(runs).items():
        by_label |= {(dataset, label): r for r, label in zip(group, _labels(group), strict=True)}
    for r in rows.itertuples():
        exact = simulate(
            [by_label[r.dataset, r.run]], [r.strategy], [r.k], bootstrap=50, seed=2
        ).table.iloc[0]
        assert r.accuracy == exact.accuracy  # the replay itself, bit for bit
        assert (r.ci_low, r.ci_high) == pytest.approx((exact.ci_low, exact.ci_high), abs=1e-15)
        assert r.cost == pytest.approx(exact.cost, rel=1e-12) and r.cost <= r.budget
    design = set(range(1, 17)) | {2**i for i in range(15)} | {10_000}
    assert set(rows["k"]) - design  # k off the design points, replayed exactly


def _groups(runs):
    groups = {}
    for run in runs:
        groups.setdefault(run.manifest["problem_set"], []).append(run)
    return groups


def _labels(group):
    from scaling.simulate import run_labels

    return run_labels(group)


def test_identical_strategies_tie_at_one_sample(report):
    """At k = 1 every deployable strategy that draws from the pool (majority, best-of-n,
    weighted majority, early-stopping majority) is the same single draw: margin 0 and P(best)
    split four ways."""
    qwen = report.frontier[report.frontier["budget_unit"] == "samples"].iloc[0]
    assert qwen["budget"] == 1 and qwen["k"] == 1
    assert qwen["margin"] == 0.0 and (qwen["margin_low"], qwen["margin_high"]) == (0.0, 0.0)
    options = report.options[qwen["dataset"]]
    deployable = [report.curves[i].strategy for i in options.members if report.curves[i].deployable]
    assert sorted(deployable) == [
        "best_of_n",
        "early_majority:confidence=0.95",
        "majority",
        "weighted_majority",
    ]
    assert qwen["p_best"] == pytest.approx(1 / 4, abs=1e-12)


def test_intervals_do_not_depend_on_the_grid():
    runs = open_runs([PYTHIA])
    coarse = fit_runs(runs, budgets=np.geomspace(1e12, 1e17, 12), bootstrap=60)
    fine = fit_runs(runs, budgets=np.geomspace(1e12, 1e17, 48), bootstrap=60)
    (a,), (b,) = coarse.optimal, fine.optimal
    np.testing.assert_array_equal(a.law.ci.to_numpy(), b.law.ci.to_numpy())
    np.testing.assert_array_equal(a.law.params.to_numpy(), b.law.params.to_numpy())
    assert (a.slope, a.slope_ci) == (b.slope, b.slope_ci)
    both = set(coarse.frontier["budget"]) & set(fine.frontier["budget"])
    assert len(both) >= 2
    left = coarse.frontier.set_index("budget").loc[sorted(both)]
    right = fine.frontier.set_index("budget").loc[sorted(both)]
    for column in ("ceiling", "ceiling_config"):
        assert left[column].tolist() == right[column].tolist()


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scaling", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


SMALL = [str(PYTHIA / "70m"), str(PYTHIA / "1b"), str(PYTHIA / "12b"), str(QWEN)]


def test_the_terminal_answer_fits_80_columns():
    """The answer, piped, at 80 columns: no line longer, nothing wrapped; a snapshot."""
    out = cli("fit", *SMALL, "--bootstrap", "40", COLUMNS="80")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert out.stdout.replace(str(data_dir()), "DATA") == SNAPSHOT.read_text()


def test_details_give_each_law_unwrapped_lines(report):
    """--details: per curve a line naming model, strategy, law, AIC and backtest, then its
    parameters with their intervals on one line, at most 80 characters each."""
    from scaling.commands.fit import law_lines

    for dataset in report.units:
        lines = law_lines(report, dataset)
        assert max(map(len, lines)) <= 80 and lines[0].startswith("laws: err = 1 - accuracy")
        rest = iter(lines[1:])
        for c, f in zip(report.curves, report.fits, strict=True):
            if c.dataset != dataset:
                continue
            head = next(rest)
            assert head.startswith(c.run[:8])
            if f.law is None:
                assert head.endswith(f"no law ({f.reason})"[: 80 - len(head)])
                continue
            assert f" · {f.chosen} · AIC {f.law.aic:.1f}" in head
            cells = [
                f"{k}={v:.3g} [{lo:.3g},{hi:.3g}]"
                for (k, v), (lo, hi) in zip(f.law.params.items(), f.law.ci.to_numpy(), strict=True)
            ]
            assert next(rest) == "  " + "  ".join(cells)
        assert next(rest, None) is None
    out = cli("fit", str(QWEN), "--bootstrap", "20", "--details", COLUMNS="80")
    assert out.returncode == 0, out.stderr
    shown = out.stdout.splitlines()
    laws = shown.index("laws: err = 1 - accuracy vs samples k; parameters [95% CI]")
    assert max(map(len, shown)) <= 80
    assert shown[laws + 1].startswith("qwen2.5-math-instruct pass · ")
    assert shown[laws + 2].startswith("  ") and shown[laws + 2].count(" [") >= 2


def test_a_closed_pipe_ends_quietly_after_the_files(tmp_path):
    laws = tmp_path / "laws.json"
    shell = (
        f"{sys.executable} -m scaling fit {PYTHIA / '70m'} {PYTHIA / '1b'} {PYTHIA / '12b'} "
        f"--bootstrap 20 --laws-json {laws} | head -1; echo status ${{PIPESTATUS[0]}}"
    )
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == "status 0", done.stderr
    assert "Traceback" not in done.stderr and done.stderr == ""
    assert laws.stat().st_size > 0
