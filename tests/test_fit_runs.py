"""``scaling fit`` on the embedded data: Brown et al.'s procedure, frontier, N_opt, CLI."""

from __future__ import annotations

import io
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeWarning, curve_fit

from fit import fit_law, pass_at_k
from scaling.cli import main
from scaling.compute_optimal import joint_data, joint_groups
from scaling.curves import model_family
from scaling.fitting import fit_curves
from scaling.frontier import FRONTIER_COLUMNS, parse_budget_grid, parse_compare
from scaling.paths import data_dir, default_runs
from scaling.report import fit_runs
from scaling.store import Run, open_runs

PYTHIA = data_dir() / "runs" / "pythia"
CLAIM = (("pythia-1b", "pass"), ("pythia-12b", "pass"))


@pytest.fixture(scope="module")
def report():
    return fit_runs(open_runs(default_runs()), bootstrap=40, seed=1, compare=[CLAIM])


def pythia_counts() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for path in sorted(PYTHIA.iterdir()):
        run = Run.open(path)
        s = run.samples(columns=["problem_id", "greedy", "correct"])
        g = s[~s["greedy"]].groupby("problem_id", observed=True)["correct"].agg(["size", "sum"])
        out[run.name] = (g["size"].to_numpy(float), g["sum"].to_numpy(float))
    return out


def test_brown_et_al_exp_power_fit_is_reproduced():
    """curve_fit of pass@k = exp(-a k^-b) on 40 log-spaced k from 1 to 10,000 (duplicates
    removed) equals the engine's unweighted least-squares fit: same objective, same answer."""
    ks = np.unique(np.logspace(0, 4, 40).astype(int))
    counts = pythia_counts()
    assert len(counts) == 7 and ks.size == 37
    for name, (n, c) in counts.items():
        coverage = pass_at_k(n[:, None], c[:, None], ks[None]).mean(axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            (a, b), _ = curve_fit(lambda k, a, b: np.exp(-a * k**-b), ks, coverage)
        ours = fit_law("exp_power", ks, 1 - coverage, loss="l2", space="linear")
        np.testing.assert_allclose(ours.params.to_numpy(), [a, b], rtol=1e-5, err_msg=name)


def test_frontier_for_every_data_set(report):
    assert set(report.frontier["dataset"]) == set(report.datasets) and len(report.datasets) == 3
    assert list(report.frontier.columns) == FRONTIER_COLUMNS
    f = report.frontier[report.frontier["model"] != ""]
    assert np.all((f["ci_low"] <= f["accuracy"] + 1e-12) & (f["accuracy"] <= f["ci_high"] + 1e-12))
    assert np.all((f["p_best"] >= 0) & (f["p_best"] <= 1))
    assert set(f["budget_unit"]) == {"FLOPs", "samples"}  # Qwen's model size is unknown
    for row in f.itertuples():
        curve = next(
            c
            for c in report.curves
            if (c.dataset, c.run, c.strategy) == (row.dataset, row.run, row.strategy)
        )
        assert (row.source == "extrapolated") == bool(row.k > curve.points["k"].max())
        assert row.cost <= row.budget * (1 + 1e-9)


def test_best_configuration_is_the_most_accurate_affordable_one(report):
    for dataset, front in report.frontier.groupby("dataset"):
        options = report.options[dataset]
        ranked = [report.curves[i].deployable for i in options.members]
        for row in front[front["model"] != ""].itertuples():
            b = int(np.flatnonzero(options.budgets == row.budget)[0])
            best = np.nanmax(np.where(ranked, options.accuracy[b], np.nan))
            assert row.accuracy == pytest.approx(best, abs=1e-12)


def test_compute_optimal_pythia_size(report):
    (opt,) = report.optimal
    assert opt.family == "pythia" and opt.strategy == "pass" and not opt.deployable
    law = opt.law
    assert law.ci.loc["a", "low"] <= law.params["a"] <= law.ci.loc["a", "high"]
    assert law.n_boot == 40  # every replicate refitted
    assert len(opt.table) == len(report.frontier[report.frontier["dataset"] == opt.dataset])
    assert np.all((opt.table["lo"] <= opt.table["n_opt"]) & (opt.table["n_opt"] <= opt.table["hi"]))
    assert not opt.reliable  # the additive joint law cannot follow Pythia's coverage curves
    assert opt.slope_ci[0] <= opt.slope <= opt.slope_ci[1]


def test_joint_law_is_the_fit_of_its_group(report):
    """The joint law, fitted beside the curves' refits, is fit_law's on its group's points."""
    (opt,) = report.optimal
    members = report.options[opt.dataset].members
    group = joint_groups(report.curves, members)[opt.family, opt.strategy]
    data = joint_data([report.curves[j] for j in group])
    direct = fit_law("joint", data.x, data.y, sigma=data.sigma, replicates=data.replicates)
    np.testing.assert_array_equal(opt.joint.params, direct.params)
    np.testing.assert_array_equal(opt.joint.boot_params, direct.boot_params)
    assert opt.sizes == tuple(sorted({report.curves[j].params for j in group}))


def test_every_law_has_its_intervals_at_the_report_level():
    report = fit_runs(open_runs([PYTHIA]), bootstrap=20, seed=1, level=0.8)
    laws = [f.law for f in report.fits if f.chosen in f.fits]
    assert laws and all(law.level == 0.8 for law in laws)
    assert report.optimal and all(o.joint.level == 0.8 for o in report.optimal)


def test_alongside_is_for_other_families(report):
    with pytest.raises(ValueError, match="curve families are fitted here"):
        fit_curves(
            report.curves, {}, law="auto", delta=1e-3, bootstrap=2, seed=0, notes=[],
            alongside={"power": []},
        )  # fmt: skip


def test_claim_and_laws_json(report):
    (claim,) = report.claims
    assert claim.a == "pythia-1b:pass" and 0.0 <= claim.support <= 1.0
    assert claim.per_budget.shape == claim.budgets.shape
    laws = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert laws["law"] == "auto" and laws["optimal_size"][0]["family"] == "pythia"
    assert laws["bootstrap"] == 40
    for curve in laws["curves"]:
        if curve["chosen"]:
            chosen = curve["laws"][curve["chosen"]]
            assert chosen["n_boot"] > 0 and set(chosen["ci"]) == set(chosen["params"])
            assert {"aic", "family", "params"} <= set(chosen)


def test_explorer_hook(report, tmp_path):
    from scaling.explorer import explorer_frames, write_explorer

    frames = explorer_frames(open_runs(default_runs()), report=report, seed=1)
    assert set(frames["frontier"]["dataset"]) == set(frames["points"]["dataset"])
    path = write_explorer(tmp_path / "page.html", **frames)
    assert path.stat().st_size > 0


def test_parsers():
    np.testing.assert_allclose(parse_budget_grid("1e12:1e14:3"), [1e12, 1e13, 1e14])
    np.testing.assert_allclose(parse_budget_grid("3e13, 1e12"), [1e12, 3e13])
    assert parse_compare("a:pass,b:majority") == [(("a", "pass"), ("b", "majority"))]
    assert model_family("pythia-2.8b") == "pythia" == model_family("pythia-70m")
    assert model_family("llama-3-70b-instruct") == model_family("llama-3-8b-instruct")
    assert model_family("phi-4") == "phi-4"


def run_cli(*args: str) -> tuple[int, str, str]:
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as e:
            code = e.code or 0
    return code, out.getvalue(), err.getvalue()


SMALL = [str(PYTHIA / s) for s in ("70m", "1b", "12b")]


def test_cli_csv_json_and_laws(tmp_path):
    code, out, _ = run_cli("fit", *SMALL, "--bootstrap", "20", "--format", "csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    required = {"budget", "model", "strategy", "k", "accuracy", "ci_low", "ci_high", "source"}
    assert required <= set(frame.columns) and len(frame) == 8  # decades 1e11 .. 1e18
    target, laws = tmp_path / "front.json", tmp_path / "laws.json"
    grid = "1e12:1e15:4"
    code, _, _ = run_cli(
        "fit", *SMALL, "--bootstrap", "20", "--format", "json", "--output", str(target),
        "--laws-json", str(laws), "--budget-grid", grid, "--law", "power", "--include-oracle",
    )  # fmt: skip
    assert code == 0
    rows = json.loads(target.read_text())
    assert [r["budget"] for r in rows] == pytest.approx([1e12, 1e13, 1e14, 1e15])
    assert {c["chosen"] for c in json.loads(laws.read_text())["curves"]} == {"power"}


def test_cli_bad_input_is_one_line_exit_2():
    for args, needle in [
        (("--budget-grid", "1e12:oops"), "--budget-grid"),
        (("--law", "cubic"), "--law"),
        (("--compare", "nobody:pass,pythia-1b:pass"), "--compare"),
        (("--format", "xml"), "--format"),
        (("--seed", "-1"), "--seed -1: must be a non-negative integer"),
        (("--huber-delta", "-1"), "--huber-delta -1.0: the Huber delta must be a positive"),
        (("--budget-grid", "1e12:1e15:100000000"), "at most 10,000 budgets"),
        (("--bootstrap", "1"), "--bootstrap 1: need at least 2"),
        (("--strategy", "vote"), "--strategy vote: unknown strategy"),
    ]:
        code, _, err = run_cli("fit", *SMALL, "--bootstrap", "5", *args)
        assert code == 2, args
        assert err.startswith("error: ") and needle in err and err.count("\n") == 1


def test_cli_no_arguments_prints_frontiers_and_pythia_optimum():
    code, out, _ = run_cli("fit", "--bootstrap", "30")
    assert code == 0
    flat = " ".join(out.split())
    for dataset in ("MATH (128 test problems", "otis-mock-aime", "MATH (100 test problems)"):
        assert dataset in flat
    assert flat.count("best deployable") == 2 and "oracle ceiling (pass@k)" in flat
    assert "N_opt pythia (pass, oracle) ~ C^" in flat and "diagnostic" in flat
    assert not math.isnan(float(flat.split("~ C^")[1].split()[0]))
    assert "bootstrap 30" in flat


def test_unknown_model_size_falls_back_to_samples(report):
    qwen = report.frontier[report.frontier["budget_unit"] == "samples"]
    assert len(qwen) and set(qwen["model"]) == {"qwen2.5-math-instruct"}
    assert np.all(qwen["budget"] == np.round(qwen["budget"]))  # integer sample counts
    assert qwen["budget"].tolist() == [1, 2, 4, 8, 16]
    assert Path(default_runs()[0]).exists()
