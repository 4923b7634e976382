"""Tree search runs of several widths form one curve in ``scaling fit`` and the explorer: k is the
width, each point costed from its run's measured search tokens, bootstrap replicates paired."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_explorer import embedded_data

from scaling.curves import design_ks
from scaling.explorer import explorer_frames, write_explorer
from scaling.report import fit_runs
from scaling.simulate import simulate
from scaling.store import Run, new_manifest

MODEL = {"name": "toy-1b", "params": 1e9, "n_layers": 4, "d_model": 64}
PRM = {"name": "toy-prm", "params": 1e8, "kind": "prm"}
N_PROBLEMS, WIDTHS, BOOTSTRAP = 16, (2, 4, 8), 30
REBASE = "toy-1b [rebase temperature=0.1]"  # beside a hotter REBASE: named by what differs
SEARCH = {"method": "rebase", "temperature": 0.1, "step_delimiter": "\n\n", "max_depth": 8}


def make_run(path, seed: int, n: int, skill: float, search: dict | None = None) -> Run:
    """``n`` graded leaves (or samples) per problem with PRM step scores and token counts; a
    search run records its measured policy tokens per problem, more than its leaves' own."""
    rng = np.random.default_rng(seed)
    ids = [f"p{i:02d}" for i in range(N_PROBLEMS)]
    problems = pd.DataFrame({"problem_id": ids, "question": ids, "answer": ["1"] * N_PROBLEMS})
    rows = []
    for i, pid in enumerate(ids):
        p = np.clip(skill - 0.04 * i, 0.05, 0.95)
        for j in range(n):
            ok = bool(rng.random() < p)
            answer = "1" if ok else str(rng.integers(2, 5))
            rows.append(
                dict(problem_id=pid, sample_idx=j, greedy=False, answer=answer, cluster=answer,
                     correct=ok, step_rewards=[0.5, float(np.clip(p + rng.normal(0, 0.2), 0, 1))],
                     prompt_tokens=50, completion_tokens=int(rng.integers(60, 120)))
            )  # fmt: skip
    samples = pd.DataFrame(rows)
    manifest = new_manifest(
        model=MODEL,
        problem_set="toy",
        sampling={"temperature": 0.8, "top_p": 1.0, "max_tokens": 128, "n": n},
        tokens={"source": "measured"},
        provenance={"source": "test"},
        reward_model=PRM,
        search=search,
    )
    run = Run.create(path, manifest, problems)
    run.append_samples(samples)
    if search:
        leaves = samples.groupby("problem_id")["completion_tokens"].sum().reindex(ids)
        spent = (leaves * rng.uniform(1.2, 1.6, N_PROBLEMS)).round().astype(int)
        run.update_problems(
            pd.DataFrame({"problem_id": ids, "search_tokens": spent, "search_rm_tokens": 2 * spent})
        )
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("search-curve")
    out = [make_run(root / "sampling", 0, 8, 0.45)]
    for width in WIDTHS:
        out.append(make_run(root / f"rebase-{width}", width, width, 0.8, SEARCH | {"width": width}))
    # other settings (a hotter REBASE): its own configuration, named by what differs
    hot = SEARCH | {"temperature": 0.5}
    for width in (2, 4):
        out.append(make_run(root / f"hot-{width}", 10 + width, width, 0.7, hot | {"width": width}))
    return out


@pytest.fixture(scope="module")
def report(runs):
    return fit_runs(runs, bootstrap=BOOTSTRAP, seed=3)


def test_widths_form_one_curve_per_strategy(runs, report):
    rebase = [(c, f) for c, f in zip(report.curves, report.fits, strict=True) if c.run == REBASE]
    assert {c.strategy for c, _ in rebase} == {
        "pass",
        "majority",
        "best_of_n",
        "weighted_majority",
        "early_majority:confidence=0.95",
    }
    for c, f in rebase:
        assert c.method == "rebase" and c.model == "toy-1b"
        assert c.label == f"{REBASE} / {c.strategy}"
        np.testing.assert_array_equal(c.k, WIDTHS)
        assert f.law is not None and f.chosen  # three widths: a fitted law
    hot = {c.run for c in report.curves if c.method and c.run != REBASE}
    assert hot == {"toy-1b [rebase temperature=0.5]"}
    alone = fit_runs(runs[1:4], bootstrap=BOOTSTRAP)
    assert {c.run for c in alone.curves} == {"toy-1b [rebase]"}
    sampling = [c for c in report.curves if not c.method]
    assert {c.run for c in sampling} == {"toy-1b"} and all(c.k.max() == 8 for c in sampling)
    assert not any("[rebase w=" in run for run in report.table["run"])


def test_points_and_replicates_are_each_widths_own(runs, report):
    """Each point is its run's simulation at k = width, FLOPs = 2 N x mean measured search
    tokens; the curve's replicate matrix stacks the runs' paired replicates."""
    sim = simulate(runs, ks=design_ks(runs), bootstrap=BOOTSTRAP, seed=3)
    for c in (c for c in report.curves if c.run == REBASE):
        for i, (width, run) in enumerate(zip(WIDTHS, runs[1:4], strict=True)):
            label = sim.table.loc[sim.table["run_id"] == run.run_id, "run"].iloc[0]
            row = sim.table[(sim.table["run"] == label) & (sim.table["strategy"] == c.strategy)]
            point = c.points.iloc[i]
            assert point["k"] == width and point["run_id"] == run.run_id
            assert point["accuracy"] == row["accuracy"].item()
            tokens = run.problems()["search_tokens"].mean()
            assert point["cost"] == pytest.approx(2 * MODEL["params"] * tokens, rel=1e-12)
            reps = sim.replicates
            own = reps[(reps["run"] == label) & (reps["strategy"] == c.strategy)]
            np.testing.assert_array_equal(c.draws[:, i], own.sort_values("replicate")["accuracy"])


def test_frontier_and_explorer_name_the_configuration(runs, report, tmp_path):
    front = report.frontier
    assert REBASE in set(front["run"])  # the better configuration wins somewhere
    assert set(front["run"]) <= {c.run for c in report.curves}
    assert not report.optimal  # N_opt is a sampling law (and one size here)
    frames = explorer_frames(runs, report=report, seed=3)
    data = embedded_data(write_explorer(tmp_path / "page.html", **frames).read_text())
    (ds,) = data["datasets"]
    configs = [c for c in ds["configs"] if c["run"] == REBASE]
    assert len(configs) == 5
    for c in configs:
        assert c["points"]["k"] == list(WIDTHS) and c["curve"] is not None
    chosen = {ds["configs"][i]["run"] for i in ds["frontier"]["config"]}
    assert REBASE in chosen


def test_a_repeated_width_is_not_a_curve(runs, tmp_path):
    again = make_run(tmp_path / "rebase-4-again", 99, 4, 0.8, SEARCH | {"width": 4})
    report = fit_runs([*runs[1:4], again], bootstrap=BOOTSTRAP)
    assert not any(c.method for c in report.curves)
    assert {c.run for c in report.curves} >= {"toy-1b [rebase w=2]", "toy-1b [rebase w=8]"}
    assert any("repeat a width" in note for note in report.notes)
