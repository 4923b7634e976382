"""Scaling laws fitted to any table: ``fit_table`` reads the rows, checks them, and fits a family.

A table is one measurement per row (loss against parameters N and tokens D, an error rate
against compute C, ...); the rows are the independent units, so intervals come from the pairs
bootstrap (``fit.fit_rows``: resample rows with replacement, refit). Each family is fitted as
its source fits it (``fit.FAMILIES[law].source``: e.g. Chinchilla's Huber loss, delta 1e-3, on
ln L; Brown et al.'s least squares on coverage) unless ``space``, ``loss`` or ``huber_delta``
say otherwise. The backtest refits on the rows with the smaller values of one input (by
default the law's last) and reports the error at the held-out rest.

Starting values (``grid_file``) are a TOML file with one key per parameter, a number or a list
of numbers, e.g. ``alpha = [0.1, 0.3, 0.6]``; parameters not named keep the family's grid,
values outside a parameter's bounds start on the bound.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fit import FAMILIES, Backtest, Family, LawFit, backtest, fit_rows
from scaling.errors import ArgumentError, ScalingError
from scaling.files import read_toml

WIDTH = 80  # the summary fits a terminal this wide
MAX_STARTS = 5000  # starting points (the product of the grid's lengths) one fit may take
SPACES = ("log", "linear")
LOSSES = ("huber", "l2")


@dataclass
class TableFit:
    """A law fitted to a table: ``law`` (``fit.LawFit``), ``backtest`` and where the data came
    from (``columns``: the law's input -> its table column; ``y``: the fitted column)."""

    law: LawFit
    backtest: Backtest | None
    table: str
    columns: dict[str, str]
    y: str
    bootstrap: int
    seed: int
    starts: dict[str, tuple[float, ...]]
    backtest_on: str

    @property
    def family(self) -> Family:
        return self.law.family

    @property
    def params(self) -> pd.Series:
        return self.law.params

    @property
    def ci(self) -> pd.DataFrame:
        return self.law.ci

    @property
    def se(self) -> pd.Series:
        return self.law.se

    @property
    def aic(self) -> float:
        return self.law.aic

    @property
    def bic(self) -> float:
        return self.law.bic

    @property
    def n_obs(self) -> int:
        return self.law.n_obs

    @property
    def objective(self) -> float:
        return float(self.law.settings["objective"])

    @property
    def follows_source(self) -> bool:
        """Whether the fit used the family's own space, loss and delta."""
        f, s = self.family, self.law.settings
        same = s["space"] == f.space and s["loss"] == f.loss
        return same and (s["loss"] != "huber" or s["delta"] == f.delta)

    def predict(self, data: Any) -> np.ndarray:
        """The law at new rows: a DataFrame or mapping keyed by the table's input columns."""
        missing = [c for c in self.columns.values() if c not in data]
        if missing:
            raise ArgumentError("data", sorted(data), f"needs the columns {missing}")
        return self.law.predict({k: np.asarray(data[c], float) for k, c in self.columns.items()})

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: estimate, standard error, interval and the fit's statistics."""
        frame = pd.DataFrame(
            {
                "law": self.family.name,
                "param": self.params.index,
                "estimate": self.params.to_numpy(),
                "std_err": self.se.to_numpy(),
                "low": self.ci["low"].to_numpy(),
                "high": self.ci["high"].to_numpy(),
            }
        )
        stats = {"level": self.law.level, "n_obs": self.n_obs, "n_boot": self.law.n_boot}
        stats |= {"objective": self.objective, "aic": self.aic, "bic": self.bic}
        return frame.assign(**stats)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "x": dict(self.columns),
            "y": self.y,
            **self.law.to_dict(),
            "weighted": bool(self.law.settings["weighted"]),
            "source": self.family.source,
            "follows_source": self.follows_source,
            "bootstrap": {"replicates": self.bootstrap, "seed": self.seed, "unit": "row"},
            "starts": {k: list(v) for k, v in self.starts.items()},
            "backtest": None
            if self.backtest is None
            else _finite({"on": self.columns[self.backtest_on], **self.backtest.to_dict()}),
        }

    def summary(self) -> str:
        """Parameters with intervals, the loss, AIC and the backtest, in lines of <= 80 chars."""
        f, s, law = self.family, self.law.settings, self.law
        quantity = f.quantity
        pct = f"{100 * law.level:g}%"
        mapping = ", ".join(f"{k} = {c}" for k, c in self.columns.items())
        fit = _method(s["loss"], s["delta"], s["space"], quantity)
        if self.follows_source:
            fit += f", as in {f.source}"
        else:
            fit += f" (as in {f.source}: {_method(f.loss, f.delta, f.space, quantity)})"
        paras = [
            f"{f.name}: {f.formula}",
            f"table: {self.table}, {self.n_obs} rows; {mapping}, {quantity} = {self.y}",
            f"fit: {fit}",
            f"intervals: {pct} percentile bootstrap over {self.bootstrap} row resamples (the "
            f"rows are the independent units), {law.n_boot} refits converged"
            if self.bootstrap
            else "intervals: none (bootstrap 0)",
        ]
        lines = [ln for p in paras for ln in textwrap.wrap(p, WIDTH, subsequent_indent="  ")]
        lines.append(
            f"  {'param':<10}{'estimate':>14}{'std err':>12}{pct + ' low':>14}{pct + ' high':>14}"
        )
        for name, value in self.params.items():
            lo, hi = self.ci.loc[name]
            lines.append(f"  {name:<10}{value:>14.6g}{self.se[name]:>12.4g}{lo:>14.6g}{hi:>14.6g}")
        lines.append(
            f"objective {self.objective:.4g}   RSS {law.rss:.4g}   AIC {law.aic:.2f}   "
            f"BIC {law.bic:.2f}"
        )
        lines += textwrap.wrap(self._backtest_line(quantity), WIDTH, subsequent_indent="  ")
        return "\n".join(lines)

    def _backtest_line(self, quantity: str) -> str:
        column = self.columns[self.backtest_on]
        bt = self.backtest
        if bt is None:
            return (
                f"backtest: none; too few rows to hold out the largest values of {column} "
                "and still fit"
            )
        kept = int(np.sum(self.law.inputs[self.family.inputs.index(self.backtest_on)] <= bt.cut))
        return (
            f"backtest: refit on the {kept} rows with {column} <= {bt.cut:.4g}; on the "
            f"{bt.x_test.size} held out, mean abs error {bt.mae:.4g}, max {bt.max_error:.4g} "
            f"(units of {quantity})"
        )


def _method(loss: str, delta: float, space: str, quantity: str) -> str:
    """A fit's method in words: "huber (delta 0.001) on ln L", "l2 on err"."""
    how = f"huber (delta {delta:g})" if loss == "huber" else "least squares"
    return f"{how} on {'ln ' if space == 'log' else ''}{quantity}"


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float (a forecast that overflowed) replaced by None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


# -- reading and checking -----------------------------------------------------------------------
def read_table(table: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The table and its label for messages: a DataFrame, or a CSV (TSV, Parquet) file."""
    if isinstance(table, pd.DataFrame):
        return table, "table"
    path = Path(table)
    if not path.is_file():
        raise ScalingError(f"{path}: no such file; pass a CSV table, one measurement per row")
    try:
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
        else:
            sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
            frame = pd.read_csv(path, sep=sep, skipinitialspace=True)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ScalingError(f"{path}: cannot read it as a table ({first}); fix the file") from None
    return frame, str(path)


def _where(label: str, row: int) -> str:
    """A row as the user finds it: its line in the file (the header is line 1), else its number."""
    return f"row {row + 1}" if label == "table" else f"line {row + 2}"


def _numbers(frame: pd.DataFrame, column: str, label: str) -> np.ndarray:
    """A column as floats; the first empty or non-numeric cell is an error naming its line."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        cell = raw.iloc[i]
        what = "is empty" if pd.isna(cell) else f"holds {cell!r}, not a finite number"
        raise ScalingError(
            f"{label}: column '{column}', {_where(label, i)} {what}; "
            "fix that cell or remove the row"
        )
    return values


def _columns(x: str | list[str] | tuple[str, ...] | None, family: Family) -> list[str] | None:
    if x is None:
        return None
    names = [c.strip() for c in x.split(",")] if isinstance(x, str) else [str(c) for c in x]
    if len(names) != len(family.inputs) or not all(names):
        raise ArgumentError(
            "x",
            x,
            f"{family.name} takes {len(family.inputs)} input column(s), for "
            f"{', '.join(family.inputs)} in that order",
        )
    return names


def _response(frame: pd.DataFrame, y: str, label: str) -> tuple[np.ndarray, str]:
    """The y column, or one minus a column for ``1-NAME`` (an error rate from an accuracy)."""
    if y in frame.columns:
        return _numbers(frame, y, label), y
    if y.startswith("1-") and y[2:].strip() in frame.columns:
        return 1.0 - _numbers(frame, y[2:].strip(), label), y
    raise ArgumentError(
        "y",
        y,
        f"{label} has no such column (columns: {', '.join(map(str, frame.columns))}); "
        "name one, or 1-NAME for one minus a column",
    )


def _check_values(
    family: Family,
    frame: pd.DataFrame,
    label: str,
    xs: dict[str, np.ndarray],
    y: np.ndarray,
    y_name: str,
    space: str,
) -> None:
    for column, values in xs.items():
        bad = np.flatnonzero(values <= 0)
        if bad.size:
            raise ScalingError(
                f"{label}: column '{column}', {_where(label, int(bad[0]))} is "
                f"{values[bad[0]]:g}; {family.name} raises it to a power, so it must be > 0: "
                "remove that row"
            )
    if family.rate:
        bad = np.flatnonzero((y < 0) | (y > 1))
        if bad.size:
            raise ScalingError(
                f"{label}: y '{y_name}', {_where(label, int(bad[0]))} is {y[bad[0]]:g}, "
                f"outside [0, 1]; {family.name} models an error rate: give fractions (and "
                "1-NAME for an accuracy column)"
            )
    if space == "log":
        bad = np.flatnonzero(y <= 0)
        if bad.size:
            raise ScalingError(
                f"{label}: y '{y_name}', {_where(label, int(bad[0]))} is {y[bad[0]]:g}; "
                "a log-space fit takes its logarithm, so it must be > 0: remove that row or "
                "fit in linear space (--space linear)"
            )
    n_params = len(family.params)
    if y.size <= n_params:
        raise ScalingError(
            f"{label}: {y.size} rows cannot fit the {n_params} parameters of {family.name} "
            f"({', '.join(family.param_names)}); give at least {n_params + 1} rows"
        )


def read_starts(grid_file: str | Path, family: Family) -> Family:
    """``family`` with the starting values of ``grid_file`` (TOML: parameter = number or list)."""
    path = Path(grid_file)
    spec = read_toml(path, "a TOML file of starting values")
    params = {p.name: p for p in family.params}
    grids: dict[str, tuple[float, ...]] = {}
    for key, value in spec.items():
        if key not in params:
            raise ScalingError(
                f"{path}: '{key}' is not a parameter of {family.name}; "
                f"use {', '.join(family.param_names)}"
            )
        values = value if isinstance(value, list) else [value]
        ok = values and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        )
        if not ok:
            raise ScalingError(
                f"{path}: {key} = {value!r}; give a number or a non-empty list of numbers"
            )
        if params[key].log and min(values) <= 0:
            raise ScalingError(
                f"{path}: {key} = {value!r}; {key} is fitted as ln {key}, so its starting "
                "values must be > 0"
            )
        grids[key] = tuple(float(v) for v in values)
    replaced = tuple(
        dataclasses.replace(p, grid=grids[p.name]) if p.name in grids else p for p in family.params
    )
    total = math.prod(len(p.grid) for p in replaced)
    if total > MAX_STARTS:
        raise ScalingError(
            f"{path}: {total} starting points (the product of the lists' lengths); "
            f"shorten the lists to at most {MAX_STARTS} in all"
        )
    return dataclasses.replace(family, params=replaced)


# -- the API --------------------------------------------------------------------------------------
def _check_arguments(
    law: str,
    space: str | None,
    loss: str | None,
    huber_delta: float | None,
    bootstrap: int,
    level: float,
) -> Family:
    if law not in FAMILIES:
        raise ArgumentError("law", law, f"choose one of {', '.join(FAMILIES)}")
    if space is not None and space not in SPACES:
        raise ArgumentError("space", space, f"choose one of {', '.join(SPACES)}")
    if loss is not None and loss not in LOSSES:
        raise ArgumentError("loss", loss, f"choose one of {', '.join(LOSSES)}")
    if huber_delta is not None and not (huber_delta > 0 and math.isfinite(huber_delta)):
        raise ArgumentError("huber_delta", huber_delta, "must be a positive number")
    if huber_delta is not None and loss == "l2":
        raise ArgumentError("huber_delta", huber_delta, "applies to the huber loss, not l2")
    if bootstrap < 0:
        raise ArgumentError("bootstrap", bootstrap, "must be >= 0 (0: no intervals)")
    if not 0 < level < 1:
        raise ArgumentError("level", level, "must lie strictly between 0 and 1")
    return FAMILIES[law]


def fit_table(
    table: str | Path | pd.DataFrame,
    *,
    law: str,
    y: str,
    x: str | list[str] | None = None,
    space: str | None = None,
    loss: str | None = None,
    huber_delta: float | None = None,
    grid_file: str | Path | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    backtest_on: str | None = None,
) -> TableFit:
    """Fit the family ``law`` to a table's rows; intervals by resampling rows.

    ``x``: the table columns of the law's inputs, in order ("params,tokens" for chinchilla's N,
    D; default: columns named as the inputs); ``y``: the fitted column, or ``1-NAME`` for one
    minus a column (an error rate from an accuracy). ``space`` ("log" | "linear"), ``loss``
    ("huber" | "l2") and ``huber_delta`` default to the family's source (``huber_delta`` alone
    selects the Huber loss). ``grid_file``: TOML starting values per parameter. ``bootstrap``
    row resamples (``seed``) give ``level`` percentile intervals. ``backtest_on``: the input
    column whose largest values the backtest holds out (default: the law's last input).
    """
    family = _check_arguments(law, space, loss, huber_delta, bootstrap, level)
    space = family.space if space is None else space
    loss = ("huber" if huber_delta is not None else family.loss) if loss is None else loss
    delta = family.delta if huber_delta is None else huber_delta
    frame, label = read_table(table)
    if frame.empty:
        raise ScalingError(f"{label}: no rows; give one measurement per row")
    names = _columns(x, family)
    if names is None:
        missing = [n for n in family.inputs if n not in frame.columns]
        if missing:
            raise ScalingError(
                f"{label}: no column {', '.join(map(repr, missing))} for {family.name}'s inputs "
                f"({', '.join(family.inputs)}); name the columns with --x "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
        names = list(family.inputs)
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise ArgumentError(
            "x",
            x,
            f"{label} has no column {', '.join(map(repr, absent))} "
            f"(columns: {', '.join(map(str, frame.columns))}); name existing columns",
        )
    columns = dict(zip(family.inputs, names, strict=True))
    on = family.inputs[-1] if backtest_on is None else backtest_on
    if backtest_on is not None:
        if backtest_on not in names:
            raise ArgumentError(
                "backtest_on", backtest_on, f"choose one of the input columns {', '.join(names)}"
            )
        on = family.inputs[names.index(backtest_on)]
    xs = {c: _numbers(frame, c, label) for c in names}
    values, y_name = _response(frame, y, label)
    _check_values(family, frame, label, xs, values, y_name, space)
    if grid_file is not None:
        family = read_starts(grid_file, family)
    inputs = {k: xs[c] for k, c in columns.items()}
    options = {"space": space, "loss": loss, "delta": delta}
    try:
        fitted = fit_rows(
            family, inputs, values, bootstrap=bootstrap, seed=seed, level=level, **options
        )
    except ValueError as e:
        raise ScalingError(
            f"{label}: {family.name} could not be fitted ({e}); check the columns, or give "
            "starting values (--grid-file)"
        ) from None
    try:
        bt = backtest(family, inputs, values, on=on, **options)
    except ValueError:  # the kept rows admit no finite fit: no forecast to report
        bt = None
    return TableFit(
        law=fitted,
        backtest=bt,
        table=label,
        columns=columns,
        y=y_name,
        bootstrap=bootstrap,
        seed=seed,
        starts={p.name: p.grid for p in family.params},
        backtest_on=on,
    )
