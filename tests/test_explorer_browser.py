"""The explorer page in a real headless Chromium (system browser, driven over CDP).

No skip: without a Chromium on PATH the fixture raises and every test here fails.
"""

from __future__ import annotations

import struct

import pytest
from test_explorer import samples_only, synthetic_frames

from scaling.browser import Browser, find_chromium
from scaling.errors import ScalingError
from scaling.explorer import write_explorer

READY = "window.explorer && window.explorer.ready"

ROLES = """(id => document.getElementById(id).data.map(t => t.meta ? t.meta.role : null))"""
BEST = """(() => document.getElementById('frontier-plot').data
            .find(t => t.meta && t.meta.role === 'best').meta)()"""


@pytest.fixture(scope="module")
def browser():
    with Browser(width=1600, height=1000) as b:
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
    assert width == 1600 and height > 1000


def test_expected_traces_exist(page):
    frames = synthetic_frames()
    n_configs = frames["points"].query("dataset == 'toy-math'").groupby(["run", "strategy"]).ngroups
    roles = page.evaluate(f"{ROLES}('frontier-plot')")
    assert roles.count("points") == n_configs
    assert roles.count("curve") == roles.count("curve-extrapolated") == roles.count("band") == 8
    assert roles.count("pareto") == 1 and roles.count("best") == 1
    nopt = page.evaluate(f"{ROLES}('nopt-plot')")
    assert {"law", "law-band", "chosen", "best"} <= set(nopt)
    assert page.evaluate(f"{ROLES}('levels-plot')").count("levels") >= 1
    layout = page.evaluate(
        "(() => { const l = document.getElementById('frontier-plot').layout;"
        " return [l.xaxis.type, l.xaxis.title.text, l.yaxis.title.text]; })()"
    )
    assert layout[0] == "log" and "FLOPs per problem" in layout[1] and "Accuracy" in layout[2]
    texts = page.evaluate("[document.title, document.getElementById('provenance').textContent]")
    assert "Toy MATH" in texts[0] and "synthetic, seed 0" in texts[1]
    assert "paper" in page.evaluate("document.getElementById('subtitle').textContent")
    # the Pareto staircase: accuracy never falls as compute grows
    pareto = page.evaluate(
        "document.getElementById('frontier-plot').data.find(t => t.meta.role === 'pareto')"
    )
    assert pareto["x"] == sorted(pareto["x"]) and pareto["y"] == sorted(pareto["y"])


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
        assert want.model in page.evaluate("document.getElementById('best-config').textContent")
        panel = page.evaluate("document.getElementById('best').textContent")
        assert want.runner_up in panel and "best in 88% of bootstrap replicates" in panel
        ring = page.evaluate(
            "document.getElementById('nopt-plot').data.find(t => t.meta.role === 'best')"
        )
        assert ring["y"] == [cfg["params"]]
        seen.append(cfg["model"])
    assert seen == ["m-100M", "m-6.4B"]
    assert page.errors == []


def test_controls_filter_and_switch_axes(page):
    def points_traces():
        return page.evaluate(
            "document.getElementById('frontier-plot').data.filter(t => t.meta.role === 'points')"
        )

    acc = points_traces()[0]["y"]
    page.evaluate("document.querySelector('#ymode button[data-value=err]').click()")
    assert page.evaluate("document.getElementById('frontier-plot').layout.yaxis.type") == "log"
    assert points_traces()[0]["y"] == pytest.approx([1 - a for a in acc])
    page.evaluate("document.querySelector('#xmode button[data-value=k]').click()")
    assert points_traces()[0]["x"] == [1, 2, 4, 8, 16, 32, 64]
    bands = "document.getElementById('frontier-plot').data.filter(t => t.meta.role === 'band')"
    assert len(page.evaluate(bands)) == 8
    page.evaluate("document.querySelector('#bands button[data-value=best]').click()")
    assert [b["meta"]["config"] for b in page.evaluate(bands)] == [page.evaluate(BEST)["config"]]
    page.evaluate("document.querySelector('#bands button[data-value=none]').click()")
    assert page.evaluate(bands) == []
    page.evaluate("document.querySelector('#strategies [data-strategy=majority]').click()")
    assert len(points_traces()) == 4
    assert {t["name"].split(" · ")[1] for t in points_traces()} == {"pass@k (oracle)"}
    page.evaluate("document.querySelector('#models [data-model=m-100M]').click()")
    assert len(points_traces()) == 3
    page.evaluate(
        "(() => { const s = document.getElementById('dataset'); s.value = '1';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    page.wait_for("document.title.includes('Toy AIME')")
    assert len(points_traces()) == 9  # a fresh data set shows everything
    assert "no difficulty levels" in page.evaluate(
        "document.getElementById('levels-note').textContent"
    )
    assert page.evaluate("document.getElementById('levels-plot').style.display") == "none"
    assert page.errors == []


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
    assert "FLOPs / problem" in hover and "95% CI" in hover
    page.mouse(x, y, click=True)
    page.wait_for("window.explorer.state.selected !== null", timeout=10)
    bars = page.evaluate(
        "document.getElementById('levels-plot').data.filter(t => t.meta.role === 'levels')"
    )
    assert {b["meta"]["config"] for b in bars} == {cfg["id"]}
    assert [b["meta"]["k"] for b in bars] == [1, 8]
    assert bars[1]["x"] == ["L1", "L2", "L3", "L4", "L5"]
    assert bars[1]["y"] == cfg["levels"]["acc"][15:20]  # k = 8 rows, levels 1..5
    assert "clicked" in page.evaluate("document.getElementById('levels-note').textContent")


def test_a_data_set_without_flops_is_explored_in_samples(browser, tmp_path):
    path = write_explorer(tmp_path / "samples.html", **samples_only(synthetic_frames()))
    page = browser.open(path.resolve().as_uri(), ready=READY)
    page.evaluate("window.explorer.selectDataset(1).then(() => true)")
    assert page.evaluate("document.querySelector('#xmode button[data-value=flops]').disabled")
    assert page.evaluate("window.explorer.state.x") == "k"
    assert "samples / problem" in page.evaluate(
        "document.getElementById('budget-value').textContent"
    )
    best = page.evaluate(BEST)
    star = page.evaluate(
        "document.getElementById('frontier-plot').data.find(t => t.meta.role === 'best').x[0]"
    )
    assert star == best["k"]
    assert "pareto" in page.evaluate(f"{ROLES}('frontier-plot')")
    page.evaluate("window.explorer.selectDataset(0).then(() => true)")
    assert page.evaluate("window.explorer.state.x") == "flops"  # back to the user's choice
    assert page.errors == []


def test_a_missing_browser_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SCALING_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(ScalingError, match=r"SCALING_CHROMIUM=/nonexistent/chromium"):
        find_chromium()
    monkeypatch.delenv("SCALING_CHROMIUM")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ScalingError, match="no Chromium browser found on PATH"):
        find_chromium()
