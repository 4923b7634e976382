"""The explorer page: payload, validation and writing (no browser; see test_explorer_browser)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling.curves import model_family
from scaling.errors import ScalingError
from scaling.explorer import (
    MAX_CURVE_POINTS,
    _downsample,
    explorer_html,
    model_colors,
    page_data,
    strategy_info,
    write_explorer,
)

MODELS = {
    "toy-math": {"m-100M": 1e8, "m-400M": 4e8, "m-1.6B": 1.6e9, "m-6.4B": 6.4e9},
    "toy-aime": {"a-8B": 8e9, "a-70B": 7e10, "b-unknown": np.nan},
    "toy-cover": {"c-1B": 1e9, "c-2B": 2e9, "c-4B": 4e9},
}
STRATEGIES = {
    "toy-math": ["pass", "majority", "early_majority:lead=2"],
    "toy-aime": ["pass", "majority", "best_of_n"],
    "toy-cover": ["pass"],
}
GAIN = {"pass": 0.6, "majority": 0.25, "best_of_n": 0.3, "early_majority:lead=2": 0.22}
TOKENS = 300.0  # completion tokens per sample
PROMPT = 150.0
KS = 2 ** np.arange(0, 7)  # replayed k; the laws are fitted to k <= 64
LAW = "m · majority vote"


def _samples(strategy: str, k: np.ndarray | float) -> np.ndarray | float:
    """Expected samples drawn: k, or fewer for the adaptive strategy."""
    return np.asarray(k, float) ** 0.8 if strategy.startswith("early") else np.asarray(k, float)


def _cost(n: float, samples: np.ndarray | float) -> np.ndarray | float:
    return 2 * n * TOKENS * samples + 2 * n * PROMPT


def _accuracy(n: float, strategy: str, k: np.ndarray | float) -> np.ndarray | float:
    base = 0.08 + 0.09 * np.log10(n / 1e8)
    cap = 0.5 + 0.12 * np.log10(n / 1e8)  # larger models saturate higher
    return cap - (cap - base) * (1 + np.log2(k) * GAIN[strategy]) ** -1.5


def _source(k: int) -> str:
    return "extrapolated" if k > 64 else "exact" if k in KS else "interpolated"


def synthetic_frames() -> dict:
    """Three data sets as the explorer's input frames: toy-math (one family of four sizes,
    an adaptive strategy, an N_opt law), toy-aime (two families, a model of unknown size) and
    toy-cover (pass@k only: nothing ranked, only the ceiling). The frontiers rank the
    deployable sampling configurations and change along budgets: the smallest model wins at
    small budgets, a larger one at large budgets; pass@k is the ceiling."""
    points, curves, frontier, levels, nopt = [], [], [], [], []
    for ds, models in MODELS.items():
        for model, n in models.items():
            size = 1e9 if np.isnan(n) else n
            for s in STRATEGIES[ds]:
                run = f"{ds}/{model}"
                for k in KS:
                    a, drawn = _accuracy(size, s, k), float(_samples(s, k))
                    half = 1.96 * np.sqrt(a * (1 - a) / 200)
                    points.append(
                        dict(dataset=ds, run=run, model=model, params=n, strategy=s, k=int(k),
                             samples=drawn, cost=_cost(size, drawn), tokens=TOKENS * drawn,
                             accuracy=a, ci_low=a - half,
                             ci_high=a + half)
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
                    pd.DataFrame(dict(dataset=ds, run=run, strategy=s, k=ks, pred=pred,
                                      lo=pred - width, hi=pred + width, extrapolated=ks > 64))
                )  # fmt: skip
        sizes = [1e9 if np.isnan(n) else n for n in models.values()]
        for budget in np.geomspace(_cost(min(sizes), 1), _cost(max(sizes), 512), 15):
            ranked, oracle = [], []
            for model, n in models.items():
                size = 1e9 if np.isnan(n) else n
                k = int(np.floor((budget - 2 * size * PROMPT) / (2 * size * TOKENS)))
                if k < 1:
                    continue
                for s in STRATEGIES[ds]:
                    if s.startswith("early"):
                        continue
                    option = (_accuracy(size, s, k), model, s, k, _cost(size, k))
                    (oracle if s == "pass" else ranked).append(option)
            row = dict(dataset=ds, budget=budget, budget_unit="FLOPs", model="", run="",
                       strategy="", k=0, cost=np.nan, accuracy=np.nan, ci_low=np.nan,
                       ci_high=np.nan, source="", runner_up="", runner_up_run="",
                       runner_up_strategy="", margin=np.nan, p_best=np.nan)  # fmt: skip
            if ranked:
                ranked.sort(reverse=True)
                a, model, s, k, cost = ranked[0]
                row |= dict(model=model, run=f"{ds}/{model}", strategy=s, k=k, cost=cost,
                            accuracy=a, ci_low=a - 0.03, ci_high=a + 0.03, source=_source(k),
                            p_best=0.875)  # fmt: skip
            if len(ranked) > 1:
                runner = ranked[1]
                row |= dict(runner_up=f"{runner[1]} / {runner[2]} @ k={runner[3]}",
                            runner_up_run=f"{ds}/{runner[1]}", runner_up_strategy=runner[2],
                            margin=ranked[0][0] - runner[0])  # fmt: skip
            if oracle:
                a, model, s, k, cost = max(oracle)
                row |= dict(ceiling=a, ceiling_low=a - 0.04, ceiling_high=a + 0.04,
                            ceiling_run=f"{ds}/{model}", ceiling_strategy=s, ceiling_k=k,
                            ceiling_cost=cost, ceiling_source=_source(k))  # fmt: skip
            if ranked or oracle:
                frontier.append(row)
            if ds == "toy-math":
                best = max((_accuracy(n, "majority", min(k, 64)), n, m) for m, n in models.items()
                           if (k := int((budget / (2 * n) - PROMPT) / TOKENS)) >= 1)  # fmt: skip
                nopt.append(
                    dict(dataset=ds, law=LAW, budget=budget, n_opt=1e-2 * budget**0.8,
                         lo=1e-2 * budget**0.75, hi=1e-2 * budget**0.85, best_model=best[2],
                         best_params=best[1])
                )  # fmt: skip
    meta = {
        "title": "Synthetic frontier",
        "cost": "paper",
        "unit": "FLOPs",
        "cost_title": "2·N·completion tokens",
        "datasets": {
            "toy-math": {"title": "Toy MATH", "provenance": "synthetic, seed 0", "n_problems": 200},
            "toy-aime": {"title": "Toy AIME", "provenance": "synthetic", "n_problems": 45},
            "toy-cover": {"title": "Toy coverage", "notes": ["coverage only: a ceiling"]},
        },
    }
    law = {"label": LAW, "family": "m", "strategy": "majority", "G": 1e-2, "a": 0.8,
           "a_low": 0.7, "a_high": 0.9, "reliable": False, "misfit": 4.2, "fit_error": 0.03,
           "slope": 0.5, "slope_low": 0.2, "slope_high": 0.9, "slope_from": 1e12,
           "slope_to": 1e14}  # fmt: skip
    return dict(
        points=pd.DataFrame(points),
        curves=pd.concat(curves, ignore_index=True),
        frontier=pd.DataFrame(frontier),
        nopt=pd.DataFrame(nopt),
        nopt_law={"toy-math": [law]},
        levels=pd.DataFrame(levels),
        meta=meta,
    )


def samples_only(frames: dict, dataset: str = "toy-aime") -> dict:
    """The frames with one data set's cost unknown, as ``scaling fit`` reports it: budgets and
    costs in samples per problem."""
    points = frames["points"].copy()
    mine = points["dataset"] == dataset
    points.loc[mine, "cost"] = points.loc[mine, "samples"]
    front = frames["frontier"].copy()
    theirs = front["dataset"] == dataset
    front.loc[theirs, "budget_unit"] = "samples"
    front.loc[theirs, "budget"] = 2.0 ** np.arange(int(theirs.sum()))
    front.loc[theirs, "cost"] = front.loc[theirs, "k"]
    front.loc[theirs, "ceiling_cost"] = front.loc[theirs, "ceiling_k"]
    meta = dict(frames["meta"])
    meta["datasets"] = dict(meta["datasets"])
    meta["datasets"][dataset] = dict(meta["datasets"][dataset], unit="samples")
    return dict(frames, points=points, frontier=front, meta=meta)


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


def test_the_script_names_no_unit_and_no_strategy():
    """Units and strategy names come from the data (cost model, registry), not the script."""
    from importlib import resources

    from scaling.strategies import STRATEGIES

    script = resources.files("scaling").joinpath("explorer.js").read_text()
    assert "FLOPs" not in script and "flops" not in script.lower()
    for name in STRATEGIES:
        assert f"'{name}'" not in script and f"{name}:" not in script


def test_payload_matches_the_frames(frames):
    data = page_data(**frames)
    assert data["cost"] == {"name": "paper", "unit": "FLOPs", "title": "2·N·completion tokens"}
    assert [d["name"] for d in data["datasets"]] == ["toy-math", "toy-aime", "toy-cover"]
    math_ds = data["datasets"][0]
    assert math_ds["unit"] == "FLOPs" and math_ds["ranked"]
    assert len(math_ds["configs"]) == 12
    assert [m["model"] for m in math_ds["models"]] == ["m-100M", "m-400M", "m-1.6B", "m-6.4B"]
    pts = frames["points"]
    for cfg in math_ds["configs"]:
        rows = pts[(pts.run == cfg["run"]) & (pts.strategy == cfg["strategy"])].sort_values("k")
        assert cfg["points"]["k"] == rows.k.tolist()
        np.testing.assert_allclose(cfg["points"]["acc"], rows.accuracy, atol=5e-6)
        np.testing.assert_allclose(cfg["points"]["cost"], rows.cost, rtol=5e-4)
        np.testing.assert_allclose(cfg["points"]["samples"], rows.samples, rtol=5e-4)
        assert len(cfg["curve"]["cost"]) <= MAX_CURVE_POINTS + 2
        assert cfg["levels"]["level"][:5] == ["1", "2", "3", "4", "5"]
        assert cfg["ranked"] == (cfg["strategy"] != "pass") == cfg["deployable"]
    front = frames["frontier"].query("dataset == 'toy-math'").sort_values("budget")
    f = math_ds["frontier"]
    chosen = [
        (math_ds["configs"][i]["model"], math_ds["configs"][i]["strategy"]) for i in f["config"]
    ]
    assert chosen == list(zip(front.model, front.strategy, strict=True))
    assert f["source"] == front.source.tolist()
    assert {"exact", "interpolated", "extrapolated"} <= set(f["source"])
    ceiling = [math_ds["configs"][i] for i in f["ceiling_config"]]
    assert {c["strategy"] for c in ceiling} == {"pass"} and not any(c["ranked"] for c in ceiling)
    assert [c["model"] for c in ceiling] == front.ceiling_run.str.split("/").str[1].tolist()
    runner = [None if i is None else math_ds["configs"][i]["run"] for i in f["runner_config"]]
    assert runner == [r or None for r in front.runner_up_run]
    (law,) = math_ds["laws"]
    assert law["label"] == LAW and law["reliable"] is False and law["misfit"] == 4.2
    assert (law["a"], law["a_low"], law["a_high"], law["slope"]) == (0.8, 0.7, 0.9, 0.5)
    assert law["band"]["budget"] == pytest.approx(front.budget.tolist(), rel=1e-3)
    assert set(law["diagnostic"]["model"]) <= set(MODELS["toy-math"])
    aime, cover = data["datasets"][1:]
    assert aime["laws"] is None
    assert all(c["levels"] is None for c in aime["configs"])
    assert aime["models"][-1]["model"] == "b-unknown"  # unknown sizes sort last
    assert not cover["ranked"] and cover["notes"] == ["coverage only: a ceiling"]
    assert all(i is None for i in cover["frontier"]["config"])
    assert all(i is not None for i in cover["frontier"]["ceiling_config"])


def test_strategies_are_named_by_the_registry(frames):
    data = page_data(**frames)
    names = {s["key"]: s for s in data["strategies"]}
    assert list(names) == ["pass", "majority", "best_of_n", "early_majority:lead=2"]
    assert names["pass"] | {"order": 0} == strategy_info("pass") | {"order": 0}
    assert names["pass"]["deployable"] is False and names["pass"]["text"] == "pass@k"
    assert names["majority"]["label"] == "maj" and names["majority"]["title"] == "majority vote"
    lead = names["early_majority:lead=2"]
    assert lead["adaptive"] and lead["label"] == "es-maj:lead=2"
    assert lead["text"] == "early-stopping majority (lead=2)"  # not the default instance
    assert strategy_info("early_majority:confidence=0.95")["text"] == "early-stopping majority"
    assert strategy_info("verifier_threshold:tau=0.5")["adaptive"]
    pts = frames["points"].copy()
    pts.loc[pts["strategy"] == "majority", "strategy"] = "plurality"
    with pytest.raises(ScalingError, match=r"explorer: strategy 'plurality': unknown strategy"):
        page_data(**dict(frames, points=pts))


def test_include_oracle_ranks_pass_at_k(frames):
    data = page_data(**dict(frames, meta=dict(frames["meta"], include_oracle=True)))
    assert data["include_oracle"] is True
    assert all(c["ranked"] for d in data["datasets"] for c in d["configs"])
    assert data["datasets"][2]["ranked"]


def test_adaptive_points_and_curves_sit_at_their_samples(frames):
    data = page_data(**frames)
    cfg = next(c for c in data["datasets"][0]["configs"] if c["strategy"].startswith("early"))
    assert cfg["adaptive"] and cfg["points"]["samples"][-1] == pytest.approx(64**0.8, rel=1e-3)
    curve = cfg["curve"]
    # kept within its replayed k (an adaptive cost is no line in k), samples interpolated
    assert min(curve["k"]) >= 1 and max(curve["k"]) <= 64 * (1 + 1e-3)
    k, pk = np.array(curve["k"]), np.array(cfg["points"]["k"], float)
    want = np.interp(k, pk, np.array(cfg["points"]["samples"]))
    np.testing.assert_allclose(curve["samples"], want, rtol=2e-3)
    fixed = next(c for c in data["datasets"][0]["configs"] if c["strategy"] == "majority")
    # a fixed-size strategy's curve goes past its samples along cost = a + b k
    n = MODELS["toy-math"][fixed["model"]]
    np.testing.assert_allclose(fixed["curve"]["cost"], _cost(n, np.array(fixed["curve"]["k"])),
                               rtol=2e-3)  # fmt: skip
    assert max(fixed["curve"]["k"]) == pytest.approx(512, rel=1e-3)


def test_curves_given_in_cost_get_k_and_samples(frames):
    curves = frames["curves"].copy()
    n = (
        curves["run"]
        .str.split("/")
        .str[1]
        .map({m: 1e9 if np.isnan(v) else v for d in MODELS.values() for m, v in d.items()})
    )
    curves["cost"] = _cost(n, curves["k"])
    data = page_data(**dict(frames, curves=curves.drop(columns="k")))
    cfg = next(c for c in data["datasets"][0]["configs"] if c["strategy"] == "majority")
    np.testing.assert_allclose(cfg["curve"]["k"], cfg["curve"]["samples"], rtol=2e-3)
    assert cfg["curve"]["k"][0] == pytest.approx(1, rel=1e-3)


def test_optional_frames_may_be_left_out(frames):
    data = page_data(
        points=frames["points"], curves=frames["curves"].iloc[:0], frontier=frames["frontier"],
        meta={"cost": "full", "unit": "FLOPs"},
    )  # fmt: skip
    assert all(
        c["curve"] is None and c["levels"] is None for d in data["datasets"] for c in d["configs"]
    )
    assert data["cost"]["name"] == "full" and data["datasets"][0]["title"] == "toy-aime"
    assert all(d["laws"] is None for d in data["datasets"])


def _lab(color: str) -> np.ndarray:
    """CIE L*a*b* (D65) of a hex colour."""
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    lin = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


MOCK_AIME = {  # the embedded Mock AIME models and their sizes
    "llama-3-8b-instruct": 8.03e9, "phi-4": 1.47e10, "qwen2.5-32b-instruct": 3.28e10,
    "llama-2-70b-chat": 6.9e10, "llama-3-70b-instruct": 7.06e10,
    "llama-3.3-70b-instruct": 7.06e10, "qwen2.5-72b-instruct": 7.27e10,
    "llama-3.2-90b-vision-instruct": 8.86e10, "mistral-large-2407": 1.23e11,
    "mistral-large-2411": 1.23e11, "mistral-large-2402": None,
}  # fmt: skip


@pytest.mark.parametrize(
    "models",
    [MOCK_AIME, {f"pythia-{s}": p for s, p in [("70m", 7e7), ("160m", 1.6e8), ("410m", 4.1e8),
     ("1b", 1e9), ("2.8b", 2.8e9), ("6.9b", 6.9e9), ("12b", 1.2e10)]}],
    ids=["mock-aime", "pythia"],
)  # fmt: skip
def test_model_colours_are_distinguishable(models):
    """Every pair of models differs by at least 10 (CIE76 Delta E; 2.3 is a just noticeable
    difference), none is too light to read on white, and a family gets darker with size."""
    colors = model_colors(models)
    labs = {m: _lab(c) for m, c in colors.items()}
    names = list(labs)
    gaps = [np.linalg.norm(labs[a] - labs[b]) for i, a in enumerate(names) for b in names[:i]]
    assert min(gaps) > 10
    assert max(lab[0] for lab in labs.values()) < 85
    families: dict[str, list[str]] = {}
    for m in sorted((m for m in models if models[m]), key=models.get):
        families.setdefault(model_family(m), []).append(m)
    assert max(map(len, families.values())) > 1
    for members in families.values():
        lightness = [labs[m][0] for m in members]
        assert lightness == sorted(lightness, reverse=True)


def test_one_family_takes_a_sequential_scale_and_families_take_hues():
    one = model_colors({"x-70b": 7e10, "x-1b": 1e9, "x-7b": 7e9})
    lightness = [_lab(one[m])[0] for m in ("x-1b", "x-7b", "x-70b")]
    assert lightness == sorted(lightness, reverse=True)
    two = model_colors({"x-1b": 1e9, "y-1b": 1e9})
    assert two["x-1b"] != two["y-1b"]
    assert set(model_colors({"only": 5e9}).values()) == {model_colors({"only": 5e9})["only"]}


def test_a_single_model_is_coloured_by_strategy(frames):
    pts = frames["points"].query("run == 'toy-aime/a-8B'")
    data = page_data(**dict(frames, points=pts, frontier=frames["frontier"].iloc[:0],
                            nopt=None, nopt_law=None))  # fmt: skip
    (ds,) = data["datasets"]
    assert ds["color_by"] == "strategy"
    assert len({c["color"] for c in ds["configs"]}) == 3
    assert [ds["strategy_colors"][c["strategy"]] for c in ds["configs"]] == [
        c["color"] for c in ds["configs"]
    ]


@settings(max_examples=200, deadline=None)
@given(
    flags=st.lists(st.booleans(), min_size=1, max_size=400),
    limit=st.integers(min_value=2, max_value=80),
)
def test_downsampling_keeps_ends_and_extrapolation_edges(flags, limit):
    curve = pd.DataFrame({"cost": np.arange(len(flags), dtype=float), "extrapolated": flags})
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
        ("points", "samples", "'points' frame lacks column(s) samples"),
        ("curves", "extrapolated", "'curves' frame lacks column(s) extrapolated"),
        ("frontier", "source", "'frontier' frame lacks column(s) source"),
        ("nopt", "law", "'nopt' frame lacks column(s) law"),
        ("levels", "level", "'levels' frame lacks column(s) level"),
    ],
)
def test_a_missing_column_is_named(frames, frame, drop, message):
    bad = dict(frames, **{frame: frames[frame].drop(columns=[drop])})
    with pytest.raises(ScalingError, match=re.escape(message)):
        page_data(**bad)


def test_bad_inputs_give_one_line_errors(frames):
    pts = frames["points"].copy()
    pts.loc[3, "cost"] = 0.0
    with pytest.raises(ScalingError, match=r"has cost 0.0; costs must be positive, or NaN where"):
        page_data(**dict(frames, points=pts))
    front = frames["frontier"].copy()
    front.loc[0, ["run", "strategy"]] = ["", "weighted_majority"]
    with pytest.raises(ScalingError, match="names m-100M / weighted_majority, which has no obs"):
        page_data(**dict(frames, frontier=front))
    front = frames["frontier"].copy()
    front.loc[0, "source"] = "fitted"
    with pytest.raises(ScalingError, match="has source 'fitted'; give one of exact, interp"):
        page_data(**dict(frames, frontier=front))
    front = frames["frontier"].query("dataset == 'toy-cover'").drop(columns="ceiling_run")
    with pytest.raises(ScalingError, match=r"names neither a configuration nor an oracle ceil"):
        page_data(**dict(frames, frontier=front))
    front = frames["frontier"].drop(columns="ceiling_k")
    with pytest.raises(ScalingError, match=r"names a ceiling but lacks ceiling_k; give ceiling,"):
        page_data(**dict(frames, frontier=front))
    for key in ("cost", "unit"):
        meta = {k: v for k, v in frames["meta"].items() if k != key}
        with pytest.raises(ScalingError, match=f"meta lacks '{key}'"):
            page_data(**dict(frames, meta=meta))
    with pytest.raises(ScalingError, match="nopt_law entry lacks a_low, a_high"):
        page_data(**dict(frames, nopt_law={"toy-math": {"G": 1.0, "a": 0.5}}))
    with pytest.raises(ScalingError, match="nopt rows of law 'm · majority vote' have no nopt_l"):
        page_data(**dict(frames, nopt_law=None))
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


def test_a_data_set_without_cost_keeps_samples_budgets(frames):
    data = page_data(**samples_only(frames))
    math_ds, aime, _ = data["datasets"]
    assert math_ds["unit"] == "FLOPs" and aime["unit"] == "samples"
    assert aime["frontier"]["unit"] == "samples"
    for c in aime["configs"]:
        assert c["points"]["cost"] == c["points"]["samples"]
        assert c["curve"]["cost"] == c["curve"]["samples"]
    front = frames["frontier"].copy()
    front["budget_unit"] = ["FLOPs", "samples"] * (len(front) // 2) + ["FLOPs"] * (len(front) % 2)
    with pytest.raises(ScalingError, match="mixes budget units"):
        page_data(**dict(frames, frontier=front))
    meta = dict(frames["meta"], datasets={"toy-math": {"unit": "samples"}})
    with pytest.raises(ScalingError, match="the frontier of data set toy-math is in FLOPs, its p"):
        page_data(**dict(frames, meta=meta))
