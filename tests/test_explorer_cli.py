"""``scaling explore`` end to end on small runs written with the store: fit, frames, page."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from test_explorer import embedded_data
from typer.testing import CliRunner

from scaling.browser import Browser
from scaling.cli import app, main
from scaling.commands.explore import summary_lines
from scaling.explorer import explorer_frames, strategy_info, write_explorer
from scaling.report import fit_runs
from scaling.store import Run, new_manifest, open_runs

MODELS = [("toy-100m", 1e8, 0.15), ("toy-400m", 4e8, 0.3), ("toy-1.6b", 1.6e9, 0.5)]
N_PROBLEMS, N_SAMPLES = 24, 16


def make_runs(root, seed: int = 0) -> list:
    """Three sizes of one model family on 24 problems of 4 levels, 16 graded samples each."""
    rng = np.random.default_rng(seed)
    levels = np.arange(N_PROBLEMS) % 4 + 1
    problems = pd.DataFrame(
        {
            "problem_id": [f"p{i}" for i in range(N_PROBLEMS)],
            "question": [f"question {i}" for i in range(N_PROBLEMS)],
            "answer": ["1"] * N_PROBLEMS,
            "level": levels,
        }
    )
    paths = []
    for name, params, skill in MODELS:
        manifest = new_manifest(
            model={"name": name, "params": params, "n_layers": 8, "d_model": 512},
            problem_set="toy problems",
            sampling={"temperature": 0.7, "top_p": 1.0, "max_tokens": 256, "n": N_SAMPLES},
            tokens={"source": "measured"},
            provenance={"source": "test runs", "citation": "made up for tests", "license": "CC0"},
        )
        run = Run.create(root / name, manifest, problems)
        rows = []
        for i, level in enumerate(levels):
            p = np.clip(skill * (1.4 - 0.2 * level) + rng.uniform(-0.1, 0.1), 0.02, 0.95)
            for j in range(N_SAMPLES):
                ok = bool(rng.random() < p)
                answer = "1" if ok else str(rng.integers(2, 5))
                rows.append(
                    dict(problem_id=f"p{i}", sample_idx=j, greedy=False, answer=answer,
                         cluster=answer, correct=ok, prompt_tokens=100,
                         completion_tokens=int(rng.integers(80, 160)))
                )  # fmt: skip
        run.append_samples(pd.DataFrame(rows))
        paths.append(root / name)
    return paths


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real fit of the runs; the CLI then runs on that report (fit_runs is the fit's own
    tested API), and the arguments it passed are recorded."""
    root = tmp_path_factory.mktemp("runs")
    paths = make_runs(root)
    report = fit_runs(open_runs(paths), bootstrap=20)
    calls = []

    def fake_fit_runs(runs, **kwargs):
        calls.append(([r.name for r in runs], kwargs))
        return report

    out = root / "page.html"
    args = ["explore", *map(str, paths), "-o", str(out), "--bootstrap", "20", "--seed", "3"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("scaling.report.fit_runs", fake_fit_runs)
        result = CliRunner().invoke(app, args)
    return out, result, calls, report


def test_fit_report_frames_render_as_they_are(built, tmp_path):
    """``scaling fit --html`` hands its report to ``explorer_frames``: rendered without a refit."""
    out, _, _, report = built
    runs = open_runs([out.parent / name for name, _, _ in MODELS])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("scaling.report.fit_runs", lambda *a, **k: pytest.fail("refitted"))
        frames = explorer_frames(runs, report=report)
    data = embedded_data(write_explorer(tmp_path / "p.html", **frames).read_text())
    (ds,) = data["datasets"]
    assert len(ds["configs"]) == 9 and ds["frontier"] and ds["laws"]  # 3 sizes x 3 strategies
    assert all(c["levels"] for c in ds["configs"])  # the problems carry levels


def test_cli_writes_the_page_from_runs(built):
    out, result, calls, _ = built
    assert result.exit_code == 0, result.output
    ((names, kwargs),) = calls
    assert names == [m for m, _, _ in MODELS]
    assert kwargs["bootstrap"] == 20 and kwargs["seed"] == 3 and kwargs["cost"] == "paper"
    assert "toy problems" in result.output and "MB" in result.output
    data = embedded_data(out.read_text())
    (ds,) = data["datasets"]
    assert ds["title"] == "toy problems" and ds["n_problems"] == N_PROBLEMS
    assert [m["model"] for m in ds["models"]] == [m for m, _, _ in MODELS]
    assert {(c["model"], c["strategy"]) for c in ds["configs"]} == {
        (m, s) for m, _, _ in MODELS for s in ("pass", "majority", "early_majority:confidence=0.95")
    }
    for c in ds["configs"]:
        assert c["points"]["k"] == list(range(1, N_SAMPLES + 1))
        assert c["curve"] is not None and c["curve"]["k"] and c["curve"]["cost"]
        assert sorted(set(c["levels"]["level"])) == ["1", "2", "3", "4"]
    report = built[3]
    assert ds["frontier"]["budget"] == pytest.approx(report.frontier["budget"].tolist())
    laws = {law["label"]: law for law in ds["laws"]}
    for o in report.optimal:
        law = laws[f"{o.family} · {strategy_info(o.strategy)['text']}"]
        assert law["a"] == pytest.approx(o.law.params["a"], rel=1e-5)
        assert law["reliable"] == o.reliable and law["misfit"] == pytest.approx(o.misfit, rel=1e-5)
        assert law["slope"] == pytest.approx(o.slope, rel=1e-5, abs=1e-9)
        assert law["band"]["budget"] == pytest.approx(o.table["budget"].tolist(), rel=1e-3)
        assert law["diagnostic"]["budget"]
    assert "made up for tests" in ds["provenance"] and "license: CC0" in ds["provenance"]
    assert data["cost"]["name"] == "paper" and "Wu et al." in data["cost"]["title"]
    assert ds["unit"] == data["cost"]["unit"] == "FLOPs"


def test_the_summary_is_a_line_per_data_set_and_law_within_80_columns(built):
    out, result, _, report = built
    lines = [line for line in result.output.splitlines() if line]  # (the progress bar's blank)
    assert lines[0].startswith(f"explorer page: {out} (") and lines[0].endswith(" MB)")
    assert lines[1] == "toy problems: 9 configurations, " + f"{len(report.frontier)} budgets"
    laws = [line for line in lines if line.startswith("  N_opt ")]
    assert len(laws) == len(report.optimal) > 0
    for law, o in zip(laws, report.optimal, strict=True):
        assert f"~ C^{o.law.params['a']:.3f} [" in law
        assert ("unreliable" in law) == (not o.reliable)
    assert max(map(len, lines)) <= 80
    frames = explorer_frames(open_runs([out.parent / m for m, _, _ in MODELS]), report=report)
    frames["meta"]["datasets"] = {"a problem set with a name far too long " * 3: {}}
    narrow = summary_lines(out, frames, 60)
    assert len(narrow) == 2 and "…" in narrow[1] and len(narrow[1]) == 60
    assert narrow[1].endswith(": 0 configurations, no budgets (cost unknown)")


def test_frames_carry_the_ceiling_and_the_diagnostic(built):
    """The page's ceiling is the report's best oracle option at each budget; the diagnostic is
    the size of the most accurate exact replayed point affordable at each budget (brute force
    over the replayed table)."""
    out, _, _, report = built
    frames = explorer_frames(open_runs([out.parent / m for m, _, _ in MODELS]), report=report)
    front = frames["frontier"]
    assert len(front) == len(report.frontier)
    opt = report.options["toy problems"]
    for b, row in enumerate(front.itertuples()):
        (i,) = [i for i in opt.members if (report.curves[i].run, report.curves[i].strategy)
                == (row.ceiling_run, row.ceiling_strategy)]  # fmt: skip
        assert not report.curves[i].deployable
        assert opt.accuracy[b, opt.column(i)] == row.ceiling
        assert f"{report.curves[i].label} @ k={int(row.ceiling_k)}" == row.ceiling_config
        assert row.ceiling_low <= row.ceiling <= row.ceiling_high
        if row.runner_up:
            assert f"{row.runner_up_run} / {row.runner_up_strategy}" in row.runner_up
    table = report.table
    for (law, strategy), rows in frames["nopt"].groupby(["law", frames["nopt"]["law"].map(
        {f"{o.family} · {strategy_info(o.strategy)['text']}": o.strategy for o in report.optimal}
    )]):  # fmt: skip
        mine = table[table["strategy"] == strategy]
        for budget, model in zip(rows["budget"], rows["best_model"], strict=True):
            affordable = mine[mine["cost"] <= budget * (1 + 1e-12)]
            want = (
                affordable.loc[affordable["accuracy"].idxmax(), "model"] if len(affordable) else ""
            )
            assert model == want, (law, budget)
    points = frames["points"]
    assert not points.duplicated(["dataset", "run", "strategy", "k"]).any()


def test_page_from_runs_renders_with_the_level_drill_down(built):
    out = built[0]
    with Browser() as browser:
        page = browser.open(
            out.resolve().as_uri(), ready="window.explorer && window.explorer.ready"
        )
        assert page.errors == [] and page.requests == [out.resolve().as_uri()]
        bars = page.evaluate(
            "document.getElementById('levels-plot').data.filter(t => t.meta.role === 'levels')"
        )
        assert bars and bars[-1]["x"] == ["L1", "L2", "L3", "L4"]
        roles = page.evaluate("document.getElementById('nopt-plot').data.map(t => t.meta.role)")
        # one N_opt law per family and strategy, each with its diagnostic
        assert roles.count("law") == roles.count("diagnostic") == len(built[3].optimal) == 2
        ceiling = page.evaluate(
            "document.getElementById('frontier-plot').data.find(t => t.meta.role === 'ceiling')"
        )
        configs = page.evaluate("window.explorer.data.datasets[0].configs")
        assert {configs[i]["strategy"] for i in ceiling["meta"]["configs"]} == {"pass"}
        assert "FLOPs per problem" in page.evaluate(
            "document.getElementById('frontier-plot').layout.xaxis.title.text"
        )


def test_cli_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "page.html"
    with pytest.raises(SystemExit) as exit_:
        main(["explore", str(tmp_path / "missing-run"), "-o", str(out)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"error: .*missing-run.*\n", err)
    assert not out.exists()
