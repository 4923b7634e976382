"""``scaling law TABLE``: laws fitted to any table, as their sources fit them; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from in_process import cli

from fit import FAMILIES, fit_law, fit_rows
from scaling.errors import ArgumentError, ScalingError
from scaling.laws import fit_table

# Besiroglu et al. 2024's refit of Chinchilla (E, A, alpha, B, beta)
BESIROGLU = (1.8172, 482.01, 0.3478, 2085.43, 0.3658)
FIXTURE = Path(__file__).parent / "fixtures" / "training_runs.csv"  # 80 rows of that law


def chinchilla_table(m: int = 245, noise: float = 0.005, seed: int = 0) -> pd.DataFrame:
    """A table shaped like Chinchilla's 245 training runs (70M-16B parameters, 5B-500B tokens),
    with Besiroglu et al.'s parameters and multiplicative noise."""
    rng = np.random.default_rng(seed)
    n = np.exp(rng.uniform(np.log(7e7), np.log(1.6e10), m))
    d = np.exp(rng.uniform(np.log(5e9), np.log(5e11), m))
    loss = FAMILIES["chinchilla"].fn(n, d, *BESIROGLU) * np.exp(rng.normal(0.0, noise, m))
    return pd.DataFrame({"params": n, "tokens": d, "loss": loss})


def one_input_table(name: str, truth: tuple, seed: int = 0) -> pd.DataFrame:
    """Rows of one family's law with the noise its source's fit assumes: multiplicative for
    log-space fits, additive for linear-space ones."""
    rng = np.random.default_rng(seed)
    family = FAMILIES[name]
    x = np.exp(rng.uniform(0.0, np.log(1e4), 80))
    y = family.fn(x, *truth)
    if family.space == "log":
        y = y * np.exp(rng.normal(0.0, 0.02, x.size))
    else:
        y = y + rng.normal(0.0, 0.005, x.size)
    return pd.DataFrame({"C": x, "err": y, "acc": 1.0 - y})


TRUTH = {
    "power": (0.8, 0.3),
    "saturating": (0.1, 0.8, 0.4),
    "logistic": (0.8, 0.9, 3.0),
    "exp_power": (1.5, 0.3),
}


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_one_input_families_recover_known_parameters(name):
    truth = np.array(TRUTH[name])
    table = one_input_table(name, TRUTH[name])
    fitted = fit_table(table, law=name, x="C", y="err", bootstrap=200)
    assert fitted.follows_source and fitted.law.settings["space"] == FAMILIES[name].space
    np.testing.assert_allclose(fitted.params.to_numpy(), truth, rtol=0.1)
    assert np.all(fitted.ci["low"].to_numpy() <= truth), fitted.summary()
    assert np.all(truth <= fitted.ci["high"].to_numpy()), fitted.summary()


def test_accuracy_column_through_one_minus():
    table = one_input_table("logistic", TRUTH["logistic"])
    direct = fit_table(table, law="logistic", x="C", y="err", bootstrap=0)
    complement = fit_table(table, law="logistic", x="C", y="1-acc", bootstrap=0)
    np.testing.assert_allclose(complement.params, direct.params, rtol=1e-6)
    assert complement.y == "1-acc"


def test_joint_law_recovers_known_parameters():
    rng = np.random.default_rng(2)
    truth = np.array([0.1, 30.0, 0.3, 0.5, 0.4])
    n = np.repeat(np.geomspace(1e8, 1e11, 8), 10)
    k = np.tile(np.geomspace(1, 1000, 10), 8)
    err = FAMILIES["joint"].fn(n, k, *truth) * np.exp(rng.normal(0.0, 0.01, n.size))
    table = pd.DataFrame({"N": n, "k": k, "err": err})
    fitted = fit_table(table, law="joint", y="err", bootstrap=200)  # x: columns named N, k
    assert fitted.columns == {"N": "N", "k": "k"}
    np.testing.assert_allclose(fitted.params.to_numpy(), truth, rtol=0.25)
    assert np.all(fitted.ci["low"].to_numpy() <= truth) and np.all(truth <= fitted.ci["high"])


def test_chinchilla_recovers_besiroglu_parameters():
    fitted = fit_table(chinchilla_table(), law="chinchilla", x="params,tokens", y="loss")
    truth = np.array(BESIROGLU)
    assert fitted.law.settings["space"] == "log" and fitted.law.settings["delta"] == 1e-3
    assert fitted.law.n_boot >= 990
    assert np.all(fitted.ci["low"].to_numpy() <= truth), fitted.summary()
    assert np.all(truth <= fitted.ci["high"].to_numpy()), fitted.summary()
    est = fitted.params
    assert abs(est["E"] - truth[0]) < 0.05 and abs(est["alpha"] - truth[2]) < 0.02
    assert abs(est["beta"] - truth[4]) < 0.03
    # the exponent of the compute-optimal size, N_opt ~ C^(beta / (alpha + beta))
    share = est["beta"] / (est["alpha"] + est["beta"])
    assert abs(share - truth[4] / (truth[2] + truth[4])) < 0.02
    np.testing.assert_allclose(
        fitted.predict(pd.DataFrame({"params": [1e9], "tokens": [2e10]})),
        FAMILIES["chinchilla"].fn(1e9, 2e10, *est.to_numpy()),
    )
    assert fitted.backtest is not None and fitted.backtest.mae < 0.02


def test_huber_in_log_space_shrugs_off_outliers():
    """Five runs with a 30% worse loss (failed runs): the source's Huber fit still recovers the
    exponents; least squares on the same rows is pulled away."""
    table = chinchilla_table(noise=0.002)
    table.loc[:4, "loss"] *= 1.3
    robust = fit_table(table, law="chinchilla", x="params,tokens", y="loss", bootstrap=0)
    plain = fit_table(table, law="chinchilla", x="params,tokens", y="loss", loss="l2", bootstrap=0)
    assert abs(robust.params["alpha"] - BESIROGLU[2]) < 0.01
    assert abs(robust.params["E"] - BESIROGLU[0]) < 0.02
    assert abs(plain.params["E"] - BESIROGLU[0]) > abs(robust.params["E"] - BESIROGLU[0])
    assert not plain.follows_source and "least squares on ln L" in plain.summary()


def test_row_bootstrap_refits_match_fresh_global_fits():
    """Each warm-started refit of a row resample reaches what a global fit of it finds."""
    table = one_input_table("saturating", TRUTH["saturating"], seed=4)
    x, y = table["C"].to_numpy(), table["err"].to_numpy()
    fitted = fit_rows("saturating", x, y, bootstrap=5, seed=9)
    idx = np.random.default_rng(9).integers(0, x.size, (5, x.size))
    for b in range(5):
        fresh = fit_law("saturating", x[idx[b]], y[idx[b]], loss="huber", delta=1e-3, space="log")
        np.testing.assert_allclose(fitted.boot_params.iloc[b], fresh.params, rtol=1e-3)


def test_overrides_and_starting_values(tmp_path):
    table = one_input_table("exp_power", TRUTH["exp_power"])
    starts = tmp_path / "starts.toml"
    starts.write_text("# Brown et al.'s exponent is small\nb = [0.1, 0.2]\na = 1.0\n")
    fitted = fit_table(
        table, law="exp_power", x="C", y="err", space="log", huber_delta=0.01,
        grid_file=starts, bootstrap=0,
    )  # fmt: skip
    assert fitted.law.settings == {**fitted.law.settings, "space": "log", "loss": "huber"}
    assert fitted.law.settings["delta"] == 0.01 and not fitted.follows_source
    assert fitted.starts == {"a": (1.0,), "b": (0.1, 0.2)}
    np.testing.assert_allclose(fitted.params, TRUTH["exp_power"], rtol=0.1)


@pytest.fixture
def chin_csv(tmp_path):
    path = tmp_path / "chinchilla.csv"
    chinchilla_table(m=60).to_csv(path, index=False)
    return path


def test_cli_table_json_csv(capsys, chin_csv, tmp_path):
    base = [
        "law", chin_csv, "--law", "chinchilla", "--x", "params,tokens", "--y", "loss",
        "--bootstrap", "50",
    ]  # fmt: skip
    code, out, err = cli(capsys, *base)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "chinchilla: L = E + A / N^alpha + B / D^beta"
    assert max(map(len, lines)) <= 80
    assert any(ln.split()[:1] == ["alpha"] for ln in lines)
    assert "AIC" in out and "backtest: refit on the" in out and "Hoffmann" in out
    code, out, err = cli(capsys, *base, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["family"] == "chinchilla" and data["x"] == {"N": "params", "D": "tokens"}
    assert set(data["params"]) == {"E", "A", "alpha", "B", "beta"} and data["n_boot"] == 50
    assert data["bootstrap"]["unit"] == "row" and data["backtest"]["on"] == "tokens"
    assert data["space"] == "log" and data["loss"] == "huber" and data["follows_source"]
    code, out, err = cli(capsys, *base, "--format", "csv", "--output", tmp_path / "p.csv")
    assert code == 0 and out == "", err
    frame = pd.read_csv(tmp_path / "p.csv")
    assert list(frame["param"]) == ["E", "A", "alpha", "B", "beta"]
    assert {"estimate", "std_err", "low", "high", "aic"} <= set(frame.columns)
    np.testing.assert_allclose(frame["estimate"], list(data["params"].values()))
    code, out, err = cli(capsys, *base, "--backtest-on", "params", "--format", "json")
    assert json.loads(out)["backtest"]["on"] == "params"


def test_readme_command_on_the_fixture(capsys):
    code, out, err = cli(
        capsys, "law", FIXTURE, "--law", "chinchilla", "--x", "params,tokens", "--y", "loss"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80 and "1000 refits converged" in out
    names = ["E", "A", "alpha", "B", "beta"]
    rows = {ln.split()[0]: ln.split()[1:] for ln in lines if ln.split()[:1] in [[n] for n in names]}
    for name, truth in zip(names, BESIROGLU, strict=True):
        _, _, low, high = map(float, rows[name])
        assert low <= truth <= high, out


def bad_csv(tmp_path, text: str):
    path = tmp_path / "runs.csv"
    path.write_text(text)
    return path


ROWS = "".join(f"{n},{d},{2 + 400 / n**0.3 + 400 / d**0.3}\n" for n in (1e8, 1e9) for d in
               (1e9, 1e10, 1e11, 1e12))  # fmt: skip


@pytest.mark.parametrize(
    ("text", "args", "needles"),
    [
        ("N,D,loss\n" + ROWS, ["--x", "N,tokens"], ["--x N,tokens", "no column 'tokens'"]),
        ("N,D,loss\n" + ROWS, ["--y", "los"], ["--y los", "columns: N, D, loss"]),
        ("params,D,loss\n" + ROWS, [], ["runs.csv", "'N'", "--x"]),
        ("N,D,loss\n" + ROWS + "1e9,abc,3\n", [], ["runs.csv", "column 'D', line 10", "'abc'"]),
        ("N,D,loss\n" + ROWS + "1e9,,3\n", [], ["column 'D', line 10 is empty"]),
        ("N,D,loss\n" + ROWS + "-5,1e9,3\n", [], ["column 'N', line 10", "must be > 0"]),
        ("N,D,loss\n" + ROWS + "1e9,1e9,0\n", [], ["'loss', line 10", "--space linear"]),
        (
            "N,D,loss\n" + "".join(ROWS.splitlines(True)[:2]),
            [],
            ["runs.csv: 2 rows cannot fit the 5 parameters"],
        ),
        ("N,D,loss\n" + ROWS, ["--law", "kaplan"], ["--law kaplan", "chinchilla"]),
        ("N,D,loss\n" + ROWS, ["--space", "log2"], ["--space log2", "log, linear"]),
        ("N,D,loss\n" + ROWS, ["--x", "N"], ["--x N", "2 input column(s), for N, D"]),
        ("N,D,loss\n" + ROWS, ["--bootstrap", "-1"], ["--bootstrap -1", ">= 0"]),
        ("N,D,loss\n" + ROWS, ["--huber-delta", "0"], ["--huber-delta 0", "positive"]),
        ("N,D,loss\n" + ROWS, ["--backtest-on", "loss"], ["--backtest-on loss", "N, D"]),
        ("N,D,loss\n" + ROWS, ["--format", "xml"], ["--format xml", "table, json, csv"]),
    ],
    ids=[
        "x-missing",
        "y-missing",
        "default-x-missing",
        "non-numeric",
        "empty-cell",
        "x-negative",
        "y-zero-log",
        "too-few-rows",
        "unknown-law",
        "bad-space",
        "x-count",
        "bootstrap",
        "delta",
        "backtest-on",
        "format",
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, text, args, needles):
    path = bad_csv(tmp_path, text)
    law = [] if "--law" in args else ["--law", "chinchilla"]
    y = [] if "--y" in args else ["--y", "loss"]
    code, out, err = cli(capsys, "law", path, *law, *y, "--bootstrap", "0", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err


def test_rate_families_want_fractions(tmp_path):
    table = one_input_table("logistic", TRUTH["logistic"])
    table["pct"] = 100 * table["acc"]
    with pytest.raises(ScalingError, match=r"table: y '1-pct', row 1 .* outside \[0, 1\]"):
        fit_table(table, law="logistic", x="C", y="1-pct")


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("alpha = [0.1,", "not valid TOML"),
        ("gamma = 1", "'gamma' is not a parameter of chinchilla; use E, A, alpha, B, beta"),
        ('alpha = "fast"', "alpha = 'fast'; give a number or a non-empty list"),
        ("A = [0, 10]", "fitted as ln A, so its starting values must be > 0"),
        (f"A = {list(range(1, 21))}\nB = {list(range(1, 21))}", "at most 5000"),
    ],
)
def test_bad_grid_file(tmp_path, toml, needle):
    grid = tmp_path / "starts.toml"
    grid.write_text(toml)
    with pytest.raises(ScalingError, match="starts.toml") as e:
        fit_table(chinchilla_table(m=30), law="chinchilla", x="params,tokens", y="loss",
                  grid_file=grid, bootstrap=0)  # fmt: skip
    assert needle in str(e.value)


def test_argument_errors_name_the_argument():
    with pytest.raises(ArgumentError) as e:
        fit_table(chinchilla_table(m=30), law="chinchilla", x=["params"], y="loss")
    assert e.value.argument == "x"
    with pytest.raises(ScalingError, match="no such file"):
        fit_table("missing.csv", law="power", y="err")
