"""The explorer page: payload, validation and writing (no browser; see test_explorer_browser)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling.errors import ScalingError
from scaling.explorer import (
    MAX_CURVE_POINTS,
    UNKNOWN_SIZE_COLOR,
    _downsample,
    explorer_html,
    page_data,
    size_colors,
    write_explorer,
)

MODELS = {
    "toy-math": {"m-100M": 1e8, "m-400M": 4e8, "m-1.6B": 1.6e9, "m-6.4B": 6.4e9},
    "toy-aime": {"a-8B": 8e9, "a-70B": 7e10, "a-unknown": np.nan},
}
STRATEGIES = {"toy-math": ["pass", "majority"], "toy-aime": ["pass", "majority", "best_of_n"]}
GAIN = {"pass": 0.6, "majority": 0.25, "best_of_n": 0.3}
TOKENS = 300.0  # completion tokens per sample
PROMPT = 150.0


def _flops(n: float, k: np.ndarray | float) -> np.ndarray | float:
    return 2 * n * TOKENS * k + 2 * n * PROMPT


def _accuracy(n: float, strategy: str, k: np.ndarray | float) -> np.ndarray | float:
    base = 0.08 + 0.09 * np.log10(n / 1e8)
    cap = 0.5 + 0.12 * np.log10(n / 1e8)  # larger models saturate higher
    return cap - (cap - base) * (1 + np.log2(k) * GAIN[strategy]) ** -1.5


def synthetic_frames() -> dict:
    """Two data sets, the explorer's input frames, with a frontier that changes along budgets:
    the smallest model wins at small budgets, a larger one at large budgets."""
    points, curves, frontier, levels, nopt = [], [], [], [], []
    for ds, models in MODELS.items():
        for model, n in models.items():
            size = 1e9 if np.isnan(n) else n
            for s in STRATEGIES[ds]:
                run = f"{ds}/{model}"
                for k in 2 ** np.arange(0, 7):
                    a = _accuracy(size, s, k)
                    half = 1.96 * np.sqrt(a * (1 - a) / 200)
                    points.append(
                        dict(dataset=ds, run=run, model=model, params=n, strategy=s, k=int(k),
                             flops=_flops(size, k), tokens=TOKENS * k, accuracy=a,
                             ci_low=a - half, ci_high=a + half)
                    )  # fmt: skip
                    if ds == "toy-math":
                        for level in range(1, 6):
                            la = min(1.0, a * (1.6 - 0.2 * level))
                            levels.append(
                                dict(dataset=ds, run=run, strategy=s, k=int(k), level=level,
                                     accuracy=la, ci_low=max(0, la - 0.08),
                                     ci_high=min(1, la + 0.08))
                            )  # fmt: skip
                ks = np.geomspace(1, 512, 120)
                pred = _accuracy(size, s, ks)
                width = 0.02 * (1 + np.maximum(0, np.log2(ks / 64)))
                curves.append(
                    pd.DataFrame(dict(dataset=ds, run=run, strategy=s, flops=_flops(size, ks),
                                      pred=pred, lo=pred - width, hi=pred + width,
                                      extrapolated=ks > 64))
                )  # fmt: skip
        sizes = [1e9 if np.isnan(n) else n for n in models.values()]
        for budget in np.geomspace(_flops(min(sizes), 1), _flops(max(sizes), 512), 15):
            cands = []
            for model, n in models.items():
                size = 1e9 if np.isnan(n) else n
                k = np.floor((budget - 2 * size * PROMPT) / (2 * size * TOKENS))
                if k < 1:
                    continue
                cands += [(_accuracy(size, s, k), model, s, int(k)) for s in STRATEGIES[ds]]
            cands.sort(reverse=True)
            (a, model, s, k), runner = cands[0], cands[1]
            frontier.append(
                dict(dataset=ds, budget=budget, model=model, strategy=s, k=k, accuracy=a,
                     ci_low=a - 0.03, ci_high=a + 0.03, extrapolated=k > 64,
                     runner_up=f"{runner[1]} / {runner[2]} / k={runner[3]}",
                     margin=a - runner[0], p_best=0.875)
            )  # fmt: skip
            if ds == "toy-math":
                nopt.append(
                    dict(dataset=ds, budget=budget, n_opt=1e-2 * budget**0.8,
                         lo=1e-2 * budget**0.75, hi=1e-2 * budget**0.85)
                )  # fmt: skip
    meta = {
        "title": "Synthetic frontier",
        "flops": "paper",
        "flops_note": "2·N·completion tokens",
        "datasets": {
            "toy-math": {"title": "Toy MATH", "provenance": "synthetic, seed 0", "n_problems": 200},
            "toy-aime": {"title": "Toy AIME", "provenance": "synthetic", "n_problems": 45},
        },
    }
    return dict(
        points=pd.DataFrame(points),
        curves=pd.concat(curves, ignore_index=True),
        frontier=pd.DataFrame(frontier),
        nopt=pd.DataFrame(nopt),
        nopt_law={"toy-math": {"G": 1e-2, "a": 0.8, "a_low": 0.7, "a_high": 0.9}},
        levels=pd.DataFrame(levels),
        meta=meta,
    )


def samples_only(frames: dict, dataset: str = "toy-aime") -> dict:
    """The frames with one data set's FLOPs unknown: points NaN, curves in k only, and its
    frontier over samples per problem (as ``scaling fit`` reports it)."""
    points = frames["points"].copy()
    points.loc[points["dataset"] == dataset, "flops"] = np.nan
    curves = frames["curves"].copy()
    mine = curves["dataset"] == dataset
    curves["k"] = np.nan
    for _, rows in curves[mine].groupby(["run", "strategy"]):
        curves.loc[rows.index, "k"] = np.geomspace(1, 512, len(rows))
    curves.loc[mine, "flops"] = np.nan
    front = frames["frontier"].copy()
    front["budget_unit"] = np.where(front["dataset"] == dataset, "samples", "FLOPs")
    theirs = front["dataset"] == dataset
    front.loc[theirs, "budget"] = np.geomspace(1, 64, int(theirs.sum()))
    return dict(frames, points=points, curves=curves, frontier=front)


def embedded_data(html: str) -> dict:
    match = re.search(r"<script id='explorer-data' type='application/json'>(.*?)</script>", html)
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def frames() -> dict:
    return synthetic_frames()


def test_page_is_one_self_contained_file(frames):
    html = explorer_html(**frames)
    assert "plotly.js v" in html[:100_000]  # the library itself is inlined
    assert not re.search(r"<script[^>]+src=", html)
    assert "<link" not in html and "@import" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert len(html.encode()) < 10_000_000


def test_payload_matches_the_frames(frames):
    data = page_data(**frames)
    assert [d["name"] for d in data["datasets"]] == ["toy-math", "toy-aime"]
    math_ds = data["datasets"][0]
    assert len(math_ds["configs"]) == 8
    assert [m["model"] for m in math_ds["models"]] == ["m-100M", "m-400M", "m-1.6B", "m-6.4B"]
    assert math_ds["law"] == [{"G": 0.01, "a": 0.8, "a_low": 0.7, "a_high": 0.9, "label": "N_opt"}]
    assert [n["law"] for n in math_ds["nopt"]] == ["N_opt"]
    pts = frames["points"]
    for cfg in math_ds["configs"]:
        rows = pts[(pts.run == cfg["run"]) & (pts.strategy == cfg["strategy"])].sort_values("k")
        assert cfg["points"]["k"] == rows.k.tolist()
        np.testing.assert_allclose(cfg["points"]["acc"], rows.accuracy, atol=5e-6)
        np.testing.assert_allclose(cfg["points"]["flops"], rows.flops, rtol=5e-4)
        assert len(cfg["curve"]["flops"]) <= MAX_CURVE_POINTS + 2
        assert cfg["levels"]["level"][:5] == ["1", "2", "3", "4", "5"]
        # samples along the curve invert FLOPs = a + b k exactly
        np.testing.assert_allclose(cfg["curve"]["k"][0], 1.0, rtol=1e-3)
    front = frames["frontier"].query("dataset == 'toy-math'").sort_values("budget")
    f = math_ds["frontier"]
    chosen = [
        (math_ds["configs"][i]["model"], math_ds["configs"][i]["strategy"]) for i in f["config"]
    ]
    assert chosen == list(zip(front.model, front.strategy, strict=True))
    assert f["extrap"] == front.extrapolated.astype(int).tolist()
    aime = data["datasets"][1]
    assert aime["law"] is None and aime["nopt"] is None
    assert all(c["levels"] is None for c in aime["configs"])
    unknown = next(m for m in aime["models"] if m["model"] == "a-unknown")
    assert unknown["params"] is None and unknown["color"] == UNKNOWN_SIZE_COLOR
    assert aime["models"][-1]["model"] == "a-unknown"  # unknown sizes sort last


def test_optional_frames_may_be_left_out(frames):
    data = page_data(
        points=frames["points"], curves=frames["curves"].iloc[:0], frontier=frames["frontier"],
        meta={"flops": "full"},
    )  # fmt: skip
    assert all(
        c["curve"] is None and c["levels"] is None for d in data["datasets"] for c in d["configs"]
    )
    assert data["flops"] == "full" and data["datasets"][0]["title"] == "toy-aime"


def test_sizes_map_to_a_sequential_scale():
    colors = size_colors({"small": 1e8, "mid": 1e9, "large": 1e10, "unknown": None})
    assert colors["unknown"] == UNKNOWN_SIZE_COLOR

    def luminance(rgb: str) -> float:
        r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert luminance(colors["small"]) > luminance(colors["mid"]) > luminance(colors["large"])
    assert len(set(size_colors({"only": 5e9}).values())) == 1


@settings(max_examples=200, deadline=None)
@given(
    flags=st.lists(st.booleans(), min_size=1, max_size=400),
    limit=st.integers(min_value=2, max_value=80),
)
def test_downsampling_keeps_ends_and_extrapolation_edges(flags, limit):
    curve = pd.DataFrame({"flops": np.arange(len(flags), dtype=float), "extrapolated": flags})
    out = _downsample(curve, limit)
    idx = out.index.to_numpy()
    assert idx[0] == 0 and idx[-1] == len(flags) - 1
    assert np.all(np.diff(idx) > 0)
    switches = int(np.sum(np.diff(np.asarray(flags, int)) != 0))
    assert len(out) <= max(len(flags) if len(flags) <= limit else limit + 2 * switches, 1)
    for i in np.flatnonzero(np.diff(np.asarray(flags, int)) != 0):
        assert i in idx and i + 1 in idx


@pytest.mark.parametrize(
    ("frame", "drop", "message"),
    [
        ("points", "tokens", "'points' frame lacks column(s) tokens"),
        ("curves", "extrapolated", "'curves' frame lacks column(s) extrapolated"),
        ("frontier", "runner_up", "'frontier' frame lacks column(s) runner_up"),
        ("levels", "level", "'levels' frame lacks column(s) level"),
    ],
)
def test_a_missing_column_is_named(frames, frame, drop, message):
    bad = dict(frames, **{frame: frames[frame].drop(columns=[drop])})
    with pytest.raises(ScalingError, match=re.escape(message)):
        page_data(**bad)


def test_bad_inputs_give_one_line_errors(frames):
    pts = frames["points"].copy()
    pts.loc[3, "flops"] = 0.0
    with pytest.raises(ScalingError, match=r"has FLOPs 0.0; FLOPs must be positive, or NaN where"):
        page_data(**dict(frames, points=pts))
    front = frames["frontier"].copy()
    front.loc[0, "strategy"] = "weighted_majority"
    with pytest.raises(ScalingError, match="names m-100M / weighted_majority, which has no obs"):
        page_data(**dict(frames, frontier=front))
    with pytest.raises(ScalingError, match="meta lacks 'flops'"):
        page_data(**dict(frames, meta={"title": "x"}))
    with pytest.raises(ScalingError, match="nopt_law entry lacks a_low, a_high"):
        page_data(**dict(frames, nopt_law={"toy-math": {"G": 1.0, "a": 0.5}}))
    with pytest.raises(ScalingError, match="'points' frame is empty"):
        page_data(**dict(frames, points=frames["points"].iloc[:0]))


def test_text_cannot_break_out_of_the_data_script(frames):
    pts = frames["points"].copy()
    pts["model"] = pts["model"].replace("m-100M", "</script><script>alert(1)</script>")
    front = frames["frontier"].replace("m-100M", "</script><script>alert(1)</script>")
    html = explorer_html(**dict(frames, points=pts, frontier=front))
    assert html.count("</script>") == 3  # plotly, data, app
    names = [m["model"] for m in embedded_data(html)["datasets"][0]["models"]]
    assert "</script><script>alert(1)</script>" in names


def test_writing_is_atomic_and_keeps_the_old_page_on_error(frames, tmp_path):
    path = write_explorer(tmp_path / "page.html", **frames)
    before = path.read_bytes()
    assert embedded_data(before.decode())["title"] == "Synthetic frontier"
    with pytest.raises(ScalingError):
        write_explorer(path, **dict(frames, meta={}))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_a_data_set_without_flops_keeps_samples_budgets(frames):
    data = page_data(**samples_only(frames))
    math_ds, aime = data["datasets"]
    assert math_ds["frontier"]["unit"] == "FLOPs" and aime["frontier"]["unit"] == "samples"
    assert all(p is None for c in aime["configs"] for p in c["points"]["flops"])
    for c in aime["configs"]:
        assert c["curve"]["flops"] is None and c["curve"]["k"][0] == 1.0
    front = frames["frontier"].copy()
    front["budget_unit"] = ["FLOPs", "samples"] * (len(front) // 2) + ["FLOPs"] * (len(front) % 2)
    with pytest.raises(ScalingError, match="mixes budget units"):
        page_data(**dict(frames, frontier=front))
