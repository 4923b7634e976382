"""The explorer page in a real headless Chromium (system browser, driven over CDP), at the
1400x1000 viewport the README screenshot is taken at.

No skip: without a Chromium on PATH the fixture raises and every test here fails.
"""

from __future__ import annotations

import struct

import pandas as pd
import pytest
from test_explorer import LAW, samples_only, synthetic_frames

from scaling.browser import Browser, find_chromium
from scaling.errors import ScalingError
from scaling.explorer import write_explorer

READY = "window.explorer && window.explorer.ready"

ROLES = """(id => document.getElementById(id).data.map(t => t.meta ? t.meta.role : null))"""
BEST = """(() => document.getElementById('frontier-plot').data
            .find(t => t.meta && t.meta.role === 'best').meta)()"""


def traces(page, role: str, plot: str = "frontier-plot") -> list[dict]:
    return page.evaluate(
        f"document.getElementById('{plot}').data.filter(t => t.meta && t.meta.role === '{role}')"
    )


def text_of(page, element: str) -> str:
    return page.evaluate(f"document.getElementById('{element}').textContent")


def select(page, i: int) -> None:
    page.evaluate(f"window.explorer.selectDataset({i}).then(() => true)")


@pytest.fixture(scope="module")
def browser():
    with Browser(width=1400, height=1000) as b:
        yield b


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    path = write_explorer(tmp_path_factory.mktemp("explorer") / "page.html", **synthetic_frames())
    return path.resolve().as_uri()


@pytest.fixture
def page(browser, page_url):
    return browser.open(page_url, ready=READY)


def point_xy(page, config: int, j: int) -> list[float]:
    """Viewport pixel of observed point j of a configuration in the frontier plot."""
    return page.evaluate(
        f"""(() => {{
        const gd = document.getElementById('frontier-plot');
        const t = gd.data.find(t => t.meta.role === 'points' && t.meta.config === {config});
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const r = gd.getBoundingClientRect();
        return [r.left + xa._offset + xa.l2p(Math.log10(t.x[{j}])),
                r.top + ya._offset + ya.l2p(t.y[{j}])];
        }})()"""
    )


def test_page_loads_offline_without_errors_and_screenshots(page, page_url, tmp_path):
    assert page.requests == [page_url]
    assert page.errors == []
    assert page.evaluate("typeof Plotly") == "object"
    shot = page.screenshot(tmp_path / "explorer.png")
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert width == 1400 and height > 1000
    for i in range(3):  # every data set renders
        select(page, i)
    assert page.errors == [] and page.requests == [page_url]


def test_expected_traces_exist(page):
    configs = page.evaluate("window.explorer.data.datasets[0].configs")
    deployable = [c for c in configs if c["deployable"]]
    roles = page.evaluate(f"{ROLES}('frontier-plot')")
    # pass@k is summarised by its ceiling: its configurations are off until asked for
    assert roles.count("points") == roles.count("curve") == len(deployable) == 8
    assert roles.count("band") == 1  # intervals only for the selected configuration
    assert roles.count("pareto") == roles.count("ceiling") == roles.count("best") == 1
    assert {t["meta"]["source"] for t in traces(page, "frontier")} == {
        "exact",
        "interpolated",
        "extrapolated",
    }
    nopt = page.evaluate(f"{ROLES}('nopt-plot')")
    assert {"law", "law-band", "diagnostic", "at-budget"} <= set(nopt)
    assert page.evaluate(f"{ROLES}('levels-plot')").count("levels") >= 1
    layout = page.evaluate(
        "(() => { const l = document.getElementById('frontier-plot').layout;"
        " return [l.xaxis.type, l.xaxis.title.text, l.yaxis.title.text, l.yaxis.tickformat]; })()"
    )
    assert layout[0] == "log" and "FLOPs per problem" in layout[1]
    assert layout[2] == "Accuracy (% of problems solved)" and layout[3] == ".0%"
    assert text_of(page, "title").endswith("Toy MATH")
    assert "synthetic, seed 0" in text_of(page, "provenance")
    assert "paper" in text_of(page, "subtitle") and "FLOPs per problem" in text_of(page, "subtitle")
    # the staircases: accuracy never falls as cost grows; only ranked configurations in the
    # frontier, only oracle ones in the ceiling
    by_id = {c["id"]: c for c in configs}
    (pareto,) = traces(page, "pareto")
    assert pareto["x"] == sorted(pareto["x"]) and pareto["y"] == sorted(pareto["y"])
    assert all(by_id[i]["ranked"] for i in pareto["meta"]["configs"])
    (ceiling,) = traces(page, "ceiling")
    assert ceiling["name"] == "oracle ceiling (pass@k)"
    assert ceiling["line"]["dash"] == "dash" and ceiling["y"] == sorted(ceiling["y"])
    assert {by_id[i]["strategy"] for i in ceiling["meta"]["configs"]} == {"pass"}
    # drawn on top: the staircases come after every configuration's traces
    last_config = max(i for i, r in enumerate(roles) if r in ("points", "curve", "band"))
    assert roles.index("pareto") > last_config and roles.index("ceiling") > last_config


def test_frontier_markers_say_where_their_value_comes_from(page):
    data = page.evaluate("window.explorer.data.datasets[0].frontier")
    shapes = {"exact": "", "interpolated": "-open-dot", "extrapolated": "-open"}
    for t in traces(page, "frontier"):
        source = t["meta"]["source"]
        assert t["name"].startswith("chosen at a budget: ")
        assert all(s.endswith(shapes[source]) for s in t["marker"]["symbol"])
        want = [b for b, s in zip(data["budget"], data["source"], strict=True) if s == source]
        assert t["meta"]["budgets"] == want
        assert all(row[6].startswith(source) for row in t["customdata"])
    keys = traces(page, "frontier-key")
    assert [k["name"] for k in keys] == [
        "chosen at a budget: exact replay",
        "chosen at a budget: interpolated (fitted law)",
        "chosen at a budget: extrapolated (fitted law)",
    ]
    last = len(data["budget"]) - 1
    page.evaluate(f"window.explorer.setBudget({last}).then(() => true)")
    assert data["source"][last] == "extrapolated"
    assert "extrapolated (fitted law)" in text_of(page, "best")
    row = page.evaluate(f"document.querySelector('table.chosen tr[data-i=\"{last}\"]').textContent")
    assert row.endswith("extrap.")


def test_moving_the_slider_changes_the_highlighted_configuration(page):
    front = synthetic_frames()["frontier"].query("dataset == 'toy-math'").sort_values("budget")
    rect = page.evaluate(
        "(() => { const r = document.getElementById('budget').getBoundingClientRect();"
        " return [r.left, r.right, r.top + r.height / 2]; })()"
    )
    seen = []
    for x in (rect[0] + 3, rect[1] - 3):
        page.mouse(x, rect[2], click=True)
        want = front.iloc[0] if x < rect[1] / 2 else front.iloc[-1]
        page.wait_for(f"{BEST}.budget === {float(f'{want.budget:.4g}')}", timeout=10)
        best = page.evaluate(BEST)
        cfg = page.evaluate(f"window.explorer.data.datasets[0].configs[{best['config']}]")
        assert (cfg["model"], cfg["strategy"], best["k"]) == (want.model, want.strategy, want.k)
        assert want.model in text_of(page, "best-config")
        panel = text_of(page, "best")
        assert "best in 88% of bootstrap replicates" in panel
        assert "Oracle ceiling (pass@k)" in panel
        (ring,) = traces(page, "at-budget", "nopt-plot")
        law = page.evaluate("window.explorer.data.datasets[0].laws[0].band")
        assert ring["y"] == [law["n"][law["budget"].index(ring["x"][0])]]
        # intervals: bars and band for the best configuration only
        bars = [t["meta"]["config"] for t in traces(page, "points") if t.get("error_y")]
        assert bars == [best["config"]]
        seen.append(cfg["model"])
    assert seen == ["m-100M", "m-6.4B"]
    assert page.errors == []


def test_the_n_opt_law_its_reliability_and_the_diagnostic(page):
    (law,) = traces(page, "law", "nopt-plot")
    assert law["name"].startswith(f"{LAW}: N_opt = ") and law["name"].endswith("unreliable")
    assert "[a: 0.700, 0.900]" in law["name"] and law["line"]["dash"] == "dash"
    (diag,) = traces(page, "diagnostic", "nopt-plot")
    assert diag["name"].startswith("diagnostic: best replayed size per budget (slope 0.500")
    panel = text_of(page, "law")
    assert "joint law misfits (RMS 4.2 SE), unreliable" in panel
    assert "a = 0.800 (95% CI 0.700 – 0.900)" in panel and "diagnostic" in panel
    # the axis covers everything drawn, and is labelled inside its range
    yaxis = page.evaluate("document.getElementById('nopt-plot').layout.yaxis")
    lo, hi = (10**v for v in yaxis["range"])
    ys = [v for role in ("law", "law-band", "diagnostic") for t in traces(page, role, "nopt-plot")
          for v in t["y"] if v]  # fmt: skip
    assert lo < min(ys) and max(ys) < hi
    assert all(lo <= v <= hi for v in yaxis["tickvals"]) and len(yaxis["tickvals"]) >= 3


def test_controls_filter_and_switch_axes(page):
    acc = traces(page, "points")[0]["y"]
    page.evaluate("document.querySelector('#ymode button[data-value=err]').click()")
    layout = page.evaluate("document.getElementById('frontier-plot').layout.yaxis")
    assert layout["type"] == "log" and layout["range"][1] <= 0.01  # error rates up to 100%
    assert traces(page, "points")[0]["y"] == pytest.approx([1 - a for a in acc])
    page.evaluate("document.querySelector('#xmode button[data-value=samples]').click()")
    assert "Samples drawn per problem" in page.evaluate(
        "document.getElementById('frontier-plot').layout.xaxis.title.text"
    )
    configs = {c["id"]: c for c in page.evaluate("window.explorer.data.datasets[0].configs")}
    for t in traces(page, "points"):  # adaptive strategies at their expected samples drawn
        assert t["x"] == configs[t["meta"]["config"]]["points"]["samples"]
    adaptive = [t for t in traces(page, "points") if configs[t["meta"]["config"]]["adaptive"]]
    assert adaptive and adaptive[0]["x"][-1] < 64
    page.evaluate("document.querySelector('#intervals button[data-value=all]').click()")
    assert len(traces(page, "band")) == 8
    assert all(t.get("error_y") for t in traces(page, "points"))
    page.evaluate("document.querySelector('#intervals button[data-value=none]').click()")
    assert traces(page, "band") == [] and not any(t.get("error_y") for t in traces(page, "points"))
    page.evaluate("document.querySelector('#strategies [data-strategy=pass]').click()")
    oracle = [t for t in traces(page, "points") if t["meta"]["oracle"]]
    assert len(oracle) == 4 and all(t["marker"]["symbol"].endswith("-open") for t in oracle)
    page.evaluate("document.querySelector('#strategies [data-strategy=majority]').click()")
    assert len(traces(page, "points")) == 8
    assert {t["name"].split(" · ")[1] for t in traces(page, "points")} == {
        "pass@k",
        "early-stopping majority (lead=2)",
    }
    page.evaluate("document.querySelector('#models [data-model=m-100M]').click()")
    assert len(traces(page, "points")) == 6
    page.evaluate(
        "(() => { const s = document.getElementById('dataset'); s.value = '1';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    page.wait_for("document.title.includes('Toy AIME')")
    assert len(traces(page, "points")) == 6  # a fresh data set: every deployable configuration
    assert "no difficulty levels" in text_of(page, "levels-note")
    assert page.evaluate("document.getElementById('levels-plot').style.display") == "none"
    assert "No N_opt law" in text_of(page, "law")
    assert page.errors == []


def test_colours_are_per_family_and_size(page):
    select(page, 1)
    models = page.evaluate("window.explorer.data.datasets[1].models")
    colors = {m["model"]: m["color"] for m in models}
    assert len(set(colors.values())) == 3
    chips = page.evaluate(
        "[...document.querySelectorAll('#models .chip .sw')].map(s => s.style.background)"
    )
    assert len(chips) == 3
    assert "colour: family" in text_of(page, "models-name")


def test_hover_and_click_drill_down(page):
    cfg = page.evaluate(
        "window.explorer.data.datasets[0].configs.find(c => c.model === 'm-1.6B'"
        " && c.strategy === 'majority')"
    )
    x, y = point_xy(page, cfg["id"], 3)
    page.mouse(x, y)
    hover = page.wait_for("document.querySelector('.hoverlayer').textContent", timeout=10)
    for text in ("m-1.6B", "1.6B params", "majority vote", "k = 8", "tokens / problem: 2,400"):
        assert text in hover
    assert "FLOPs" in hover and "95% CI" in hover and "exact replay" in hover
    page.mouse(x, y, click=True)
    page.wait_for("window.explorer.state.selected !== null", timeout=10)
    bars = traces(page, "levels", "levels-plot")
    assert {b["meta"]["config"] for b in bars} == {cfg["id"]}
    assert [b["meta"]["k"] for b in bars] == [1, 8]
    assert bars[1]["x"] == ["L1", "L2", "L3", "L4", "L5"]
    assert bars[1]["y"] == cfg["levels"]["acc"][15:20]  # k = 8 rows, levels 1..5
    assert "clicked" in text_of(page, "levels-note")
    # a clicked configuration shows its intervals too
    assert cfg["id"] in [t["meta"]["config"] for t in traces(page, "points") if t.get("error_y")]


def test_runs_without_a_deployable_strategy_show_the_ceiling_and_say_why(page):
    select(page, 2)
    roles = page.evaluate(f"{ROLES}('frontier-plot')")
    assert "pareto" not in roles and "best" not in roles and "frontier" not in roles
    assert {"ceiling", "ceiling-point", "ceiling-at-budget"} <= set(roles)
    assert roles.count("points") == 3  # the oracle configurations are all there is to see
    assert text_of(page, "banner").startswith("No deployable strategy in these runs.")
    assert "coverage only: a ceiling" in text_of(page, "banner")  # the fit's notes
    assert "Nothing is ranked" in text_of(page, "best")
    assert "Oracle ceiling (pass@k)" in text_of(page, "best")
    assert text_of(page, "chosen").startswith("Oracle ceiling (not ranked) per budget")
    assert page.errors == []


def test_include_oracle_ranks_pass_at_k_and_says_so(browser, tmp_path):
    frames = synthetic_frames()
    frames["meta"] = dict(frames["meta"], include_oracle=True)
    path = write_explorer(tmp_path / "oracle.html", **frames)
    page = browser.open(path.resolve().as_uri(), ready=READY)
    assert "is ranked with the deployable strategies" in text_of(page, "banner")
    roles = page.evaluate(f"{ROLES}('frontier-plot')")
    assert "ceiling" not in roles and roles.count("points") == 12
    (pareto,) = traces(page, "pareto")
    strategies = page.evaluate(
        f"{pareto['meta']['configs']}.map(i => window.explorer.data.datasets[0].configs[i]"
        ".strategy)"
    )
    assert "pass" in strategies
    assert page.errors == []


def test_units_and_strategy_names_come_from_the_data(browser, tmp_path):
    """Another cost model's unit and a strategy the script has never heard of render as the
    data names them."""
    frames = synthetic_frames()
    new = "verifier_threshold:tau=0.5"
    for name in ("points", "curves", "frontier"):
        frames[name] = frames[name].replace({"best_of_n": new})
    frames["frontier"]["budget_unit"] = "eFLOPs"
    frames["meta"] = dict(frames["meta"], cost="kinetics", unit="eFLOPs", cost_title="memory")
    path = write_explorer(tmp_path / "units.html", **frames)
    page = browser.open(path.resolve().as_uri(), ready=READY)
    xaxis = page.evaluate("document.getElementById('frontier-plot').layout.xaxis.title.text")
    assert "eFLOPs per problem" in xaxis
    assert page.evaluate("document.querySelector('#xmode button[data-value=cost]').textContent")
    assert "eFLOPs" in text_of(page, "budget-value") and "kinetics" in text_of(page, "subtitle")
    assert "eFLOPs per problem" in page.evaluate(
        "document.getElementById('nopt-plot').layout.xaxis.title.text"
    )
    select(page, 1)
    chip = page.evaluate(f"document.querySelector('#strategies [data-strategy=\"{new}\"]')"
                         ".textContent")  # fmt: skip
    assert chip.endswith("verifier threshold (tau=0.5)")
    names = {t["name"] for t in traces(page, "points")}
    assert "a-8B · verifier threshold (tau=0.5)" in names
    assert page.errors == []


def test_a_data_set_without_cost_is_explored_in_samples(browser, tmp_path):
    path = write_explorer(tmp_path / "samples.html", **samples_only(synthetic_frames()))
    page = browser.open(path.resolve().as_uri(), ready=READY)
    select(page, 1)
    assert page.evaluate("document.querySelector('#xmode button[data-value=cost]').disabled")
    assert page.evaluate("window.explorer.state.x") == "samples"
    assert text_of(page, "budget-value").endswith("samples / problem")
    best = page.evaluate(BEST)
    star = page.evaluate(
        "document.getElementById('frontier-plot').data.find(t => t.meta.role === 'best').x[0]"
    )
    assert star == pytest.approx(best["k"])
    assert "pareto" in page.evaluate(f"{ROLES}('frontier-plot')")
    select(page, 0)
    assert page.evaluate("window.explorer.state.x") == "cost"  # back to the user's choice
    assert page.errors == []


def test_thirty_configurations_stay_legible(browser, tmp_path):
    """Eleven models of five families x three strategies, as the embedded Mock AIME: distinct
    colours, intervals only for the selected configuration, the staircase on top."""
    frames = synthetic_frames()
    pts = frames["points"].query("dataset == 'toy-aime' and model == 'a-8B'")
    families = {"p": [7, 13, 34], "q": [8, 70], "r": [32, 72], "s": [90, 405], "t": [123, 14]}
    sizes = {f"{fam}-{s}b": s * 1e9 for fam, ss in families.items() for s in ss}
    many = [
        pts.assign(model=m, run=f"toy-aime/{m}", params=p, accuracy=pts.accuracy * (0.5 + i / 20))
        for i, (m, p) in enumerate(sizes.items())
    ]
    points = pd.concat(many, ignore_index=True)
    points["ci_low"], points["ci_high"] = points.accuracy - 0.02, points.accuracy + 0.02
    page_path = write_explorer(
        tmp_path / "many.html", points=points, curves=frames["curves"].iloc[:0],
        frontier=frames["frontier"].iloc[:0], meta=frames["meta"],
    )  # fmt: skip
    page = browser.open(page_path.resolve().as_uri(), ready=READY)
    configs = page.evaluate("window.explorer.data.datasets[0].configs")
    assert len(configs) == 33
    assert len({c["color"] for c in configs}) == 11
    assert not any(t.get("error_y") for t in traces(page, "points"))  # nothing selected yet
    roles = page.evaluate(f"{ROLES}('frontier-plot')")
    assert roles.index("pareto") > max(i for i, r in enumerate(roles) if r == "points")
    assert page.errors == []


def test_a_missing_browser_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SCALING_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(ScalingError, match=r"SCALING_CHROMIUM=/nonexistent/chromium"):
        find_chromium()
    monkeypatch.delenv("SCALING_CHROMIUM")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ScalingError, match="no Chromium browser found on PATH"):
        find_chromium()
