"""Comparing cost models: the frontier is invariant under a monotone transform of the cost, the
cheapest choice per accuracy is brute force, and ``fit --cost a,b`` end to end."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_simulate import make_run

from fit import pareto_front, select_best
from scaling.cost_comparison import _cheapest, _targets
from scaling.costs import CostModel
from scaling.costs.paper import Paper
from scaling.report import fit_runs

points = st.lists(
    st.tuples(st.integers(1, 10_000), st.integers(0, 100)), min_size=1, max_size=40
).map(lambda rows: pd.DataFrame(rows, columns=["cost_a", "accuracy"]).astype(float))
transforms = st.tuples(
    st.floats(0.01, 100.0), st.floats(0.3, 3.0), st.floats(0.0, 1e3)
)  # f(c) = s c^p + t: strictly increasing on c > 0


def transformed(frame: pd.DataFrame, f) -> pd.DataFrame:
    s, p, t = f
    out = frame.assign(accuracy=frame["accuracy"] / 100)
    return out.assign(cost_b=s * out["cost_a"] ** p + t)


@settings(max_examples=200, deadline=None)
@given(points, transforms)
def test_the_frontier_is_invariant_under_a_monotone_transform(frame, f):
    frame = transformed(frame, f)
    s, p, t = f
    # the Pareto set
    front_a = pareto_front(frame, cost="cost_a").index
    front_b = pareto_front(frame, cost="cost_b").index
    assert list(front_a) == list(front_b)
    # the best option per budget: budget C under a is budget f(C) under b
    budgets = np.unique(frame["cost_a"].to_numpy())
    for cost, limits in (("cost_a", budgets), ("cost_b", s * budgets**p + t)):
        affordable = frame[cost].to_numpy()[None, :] <= limits[:, None] * (1 + 1e-12)
        acc = np.where(affordable, frame["accuracy"].to_numpy()[None, :], np.nan)
        cost_matrix = np.broadcast_to(frame[cost].to_numpy(), acc.shape)
        best = select_best(acc, cost=cost_matrix).best
        if cost == "cost_a":
            best_a = best
    assert list(best_a) == list(best)
    # the comparison: the same choice at every accuracy target, no excess cost
    frame = frame.assign(
        dataset="d", run=[f"r{i}" for i in range(len(frame))], strategy="s", k=1, model="m"
    )
    frame["pareto_a"] = frame.index.isin(front_a)
    frame["pareto_b"] = frame.index.isin(front_b)
    targets = _targets(frame, "d")
    assert targets["same"].all()
    assert np.allclose(targets["b_excess"], 1.0) and np.allclose(targets["a_excess"], 1.0)


@settings(max_examples=200, deadline=None)
@given(points, st.lists(st.integers(0, 100), min_size=1, max_size=10))
def test_the_cheapest_point_reaching_a_target_is_brute_force(frame, wanted):
    frame = frame.assign(accuracy=frame["accuracy"] / 100)
    targets = np.array(wanted, dtype=float) / 100
    picked = _cheapest(frame, "cost_a", targets)
    for target, row in zip(targets, picked, strict=True):
        reach = frame[frame["accuracy"] >= target - 1e-12]
        if reach.empty:
            continue  # targets are always reachable in use (the accuracies of points)
        cheapest = reach["cost_a"].min()
        assert frame["cost_a"].iloc[row] == cheapest
        assert (
            frame["accuracy"].iloc[row] == reach.loc[reach["cost_a"] == cheapest, "accuracy"].max()
        )


# -- end to end ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Squared(CostModel):
    """The square of ``paper``: a monotone transform that is not a change of unit."""

    name = "squared"
    unit = "FLOPs^2"
    title = "paper squared"
    needs = ("params",)

    def cost(self, manifest, work, usage):
        return Paper().cost(manifest, work, usage) ** 2

    def search_cost(self, manifest, work):
        return Paper().search_cost(manifest, work) ** 2


@dataclass(frozen=True)
class Tripled(Squared):
    """Three times ``paper``: a change of unit."""

    name = "tripled"
    unit = "3 FLOPs"

    def cost(self, manifest, work, usage):
        return 3 * Paper().cost(manifest, work, usage)


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    """Three sizes of one family on 40 problems, 8 samples each; bigger is more accurate, and
    a size's samples are longer on harder problems."""
    root = tmp_path_factory.mktemp("family")
    rng = np.random.default_rng(0)
    difficulty = rng.uniform(0, 1, 40)
    runs = []
    for size, params, skill in (("1b", 1e9, 0.2), ("3b", 3e9, 0.45), ("9b", 9e9, 0.7)):
        rows = []
        for i, d in enumerate(difficulty):
            p = np.clip(skill - d + 0.3, 0.02, 0.98)
            for j in range(8):
                correct = bool(rng.uniform() < p)
                answer = "right" if correct else f"wrong{rng.integers(3)}"
                rows.append(
                    {"problem_id": f"p{i:02d}", "sample_idx": j, "answer": answer}
                    | {"cluster": answer, "correct": correct, "prompt_tokens": 50}
                    | {"completion_tokens": int(100 + 400 * d + rng.integers(50))}
                )
        model = {"name": f"toy-{size}", "params": params, "n_layers": 8, "d_model": 512}
        model |= {"n_heads": 8, "n_kv_heads": 2, "head_dim": 64, "dtype": "bfloat16"}
        runs.append(make_run(root / size, rows, model=model))
    return runs


def test_fit_compares_cost_models_on_the_same_points(family):
    report = fit_runs(family, strategies="pass", cost=["paper", "kinetics"], bootstrap=20)
    (comparison,) = report.comparisons
    assert comparison.costs == ("paper", "kinetics")
    assert comparison.units == {"toy": ("FLOPs", "eFLOPs")}
    other = comparison.other
    assert other.cost == "kinetics" and other.units == {"toy": "eFLOPs"}
    # the points are the design points, priced as each report prices them
    pts = comparison.points.set_index(["run", "k"])
    for report_, column in ((report, "cost_a"), (other, "cost_b")):
        design = report_.table[report_.table["design"]].set_index(["run", "k"])
        np.testing.assert_allclose(pts[column], design.loc[pts.index, "cost"], rtol=1e-12)
    assert (comparison.targets["b_excess"] >= 1 - 1e-12).all()
    assert (comparison.targets["a_excess"] >= 1 - 1e-12).all()
    (exp,) = comparison.exponents.itertuples()
    assert exp.h_a == pytest.approx(1.0, abs=1e-2)  # paper: 2 N T, about the same T per size
    assert exp.a_a == pytest.approx(report.optimal[0].law.params["a"])
    assert exp.a_b == pytest.approx(other.optimal[0].law.params["a"])
    assert exp.difference == pytest.approx(exp.a_b - exp.a_a)
    assert exp.difference_low <= exp.difference <= exp.difference_high
    # a sample's KV traffic grows more slowly than 2 N T: larger models get relatively cheaper
    assert exp.h_b < exp.h_a and exp.difference_low > 0
    laws = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert laws["cost_comparisons"][0]["costs"] == ["paper", "kinetics"]


def test_a_monotone_transform_changes_no_choice(family):
    report = fit_runs(family, strategies="pass", cost=[Paper(), Squared(), Tripled()], bootstrap=20)
    squared, tripled = report.comparisons
    for comparison in (squared, tripled):
        assert comparison.targets["same"].all()
        assert (comparison.points["pareto_a"] == comparison.points["pareto_b"]).all()
    # a change of unit leaves N_opt's exponent as it is; squaring doubles h and so changes it
    (unit,) = tripled.exponents.itertuples()
    assert unit.difference == pytest.approx(0.0, abs=1e-9) and unit.h_b == pytest.approx(unit.h_a)
    (square,) = squared.exponents.itertuples()
    assert square.h_b == pytest.approx(2 * square.h_a, rel=1e-2) and abs(square.difference) > 1e-3


def test_cli_prints_the_comparison_at_80_columns(family, capsys):
    from scaling.cli import main

    paths = [str(r.path) for r in family]
    with pytest.raises(SystemExit) as e:
        main(
            [
                "fit",
                *paths,
                "--strategy",
                "pass",
                "--cost",
                "paper,kinetics",
                "--bootstrap",
                "20",
            ]
        )
    assert e.value.code in (0, None)
    out = capsys.readouterr().out
    assert "cost paper (FLOPs) vs kinetics (eFLOPs)" in out
    assert "Pareto sets:" in out and "N_opt toy (pass) ~ C^a" in out
    assert max(len(line) for line in out.splitlines()) <= 80
