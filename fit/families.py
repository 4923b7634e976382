"""Curve families: small declarative objects (formula, parameters with bounds and starting grid).

A family maps its input variables (``inputs``) and parameters to the modelled quantity, the
error rate ``err = 1 - accuracy`` for inference curves or the loss for Chinchilla's training law.
``fn`` must broadcast: the engine passes inputs of shape ``(m,)`` and each parameter with shape
``(B, 1)`` and expects ``(B, m)`` back. Adding a family is one ``Family(...)`` declaration.

Each family also records how its source fits it (``space``, ``loss``, ``delta``, ``source``):
``fit_rows`` uses these unless told otherwise. Residuals are taken in ``space`` ("log": of ln y,
"linear": of y) with ``loss`` "huber" (threshold ``delta`` in units of that space) or "l2"
(least squares, as scipy's ``curve_fit``).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Param:
    """One parameter: hard bounds, starting values, and whether it is optimized as ``log``."""

    name: str
    bounds: tuple[float, float]
    grid: tuple[float, ...]
    log: bool = False

    def __post_init__(self) -> None:
        lo, hi = self.bounds
        if not lo < hi or (self.log and lo <= 0):
            raise ValueError(f"parameter {self.name}: bad bounds {self.bounds}")


@dataclass(frozen=True)
class Family:
    """A law ``y = fn(*inputs, *params)``; ``formula`` is its human-readable form."""

    name: str
    formula: str
    inputs: tuple[str, ...]
    params: tuple[Param, ...]
    fn: Callable[..., np.ndarray]
    description: str = ""
    space: str = "log"  # the fit of its source: residual space,
    loss: str = "huber"  # loss,
    delta: float = 1e-3  # and Huber threshold
    source: str = ""  # whose fit that is (a citation)
    quantity: str = "err"  # the modelled quantity's name in ``formula``
    rate: bool = False  # the modelled quantity is a rate in [0, 1] (err, not a loss)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def __call__(self, *args: np.ndarray) -> np.ndarray:
        return self.fn(*args)

    def __reduce__(self) -> tuple[Callable[[str], Family], tuple[str]]:
        """Pickled by name (its formula is code), so only a family of ``FAMILIES`` pickles."""
        if FAMILIES.get(self.name) is not self:
            raise pickle.PicklingError(f"family {self.name!r} is not in FAMILIES")
        return registered, (self.name,)


def registered(name: str) -> Family:
    """The family of ``FAMILIES`` called ``name``."""
    return FAMILIES[name]


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * t))


POWER = Family(
    name="power",
    formula="err = A * x^-a",
    inputs=("x",),
    params=(
        Param("A", (1e-8, 1e3), (0.1, 0.5, 1.0), log=True),
        Param("a", (1e-6, 5.0), (0.05, 0.2, 0.5, 1.0)),
    ),
    fn=lambda x, A, a: A * x**-a,
    description="pure power law: error falls without floor",
    space="log",
    loss="l2",
    source="the straight line in log-log axes (Hestness et al. 2017)",
)
"""A pure power law is a straight line in log-log axes, the form in which Hestness et al. (2017,
"Deep Learning Scaling is Predictable, Empirically") present the power-law region of learning
curves; its fit here is least squares on ln err (the linear regression of ln err on ln x)."""

SATURATING = Family(
    name="saturating",
    formula="err = E + A * x^-a",
    inputs=("x",),
    params=(
        Param("E", (0.0, 1.0), (0.0, 0.05, 0.2, 0.5)),
        Param("A", (1e-8, 1e3), (0.1, 0.5, 1.0), log=True),
        Param("a", (1e-6, 5.0), (0.1, 0.5, 1.5)),
    ),
    fn=lambda x, E, A, a: E + A * x**-a,
    description="power law with an irreducible error E (voting saturates)",
    space="log",
    loss="huber",
    delta=1e-3,
    source="Hoffmann et al. 2022, Approach 3, in one variable",
)
"""Hestness et al. (2017) write learning curves as a power law plus an irreducible error; the
form is Chinchilla's law in one variable, so it is fitted as Hoffmann et al. (2022, Approach 3)
fit that law: Huber loss, delta 1e-3, on ln err."""

LOGISTIC = Family(
    name="logistic",
    formula="err = 1 - U / (1 + exp(-s * (ln x - m)))",
    inputs=("x",),
    params=(
        Param("U", (1e-6, 1.0 - 1e-9), (0.3, 0.7, 0.95)),
        Param("s", (1e-4, 20.0), (0.3, 1.0, 3.0), log=True),
        Param("m", (-30.0, 40.0), (-2.0, 0.0, 2.0, 5.0)),
    ),
    fn=lambda x, U, s, m: 1.0 - U * _sigmoid(s * (np.log(x) - m)),
    description="accuracy logistic in log x, ceiling U",
    space="linear",
    loss="l2",
    source="the usual least-squares sigmoid (Owen 2024; Ruan et al. 2024)",
    rate=True,
)
"""A sigmoid of accuracy in log compute, as Owen (2024, "How predictable is language model
benchmark performance?") and Ruan et al. (2024, "Observational Scaling Laws") model benchmark
scores; fitted by least squares on the accuracy values (linear space: residuals in err and in
accuracy differ only in sign), the usual ``curve_fit`` of a sigmoid."""

EXP_POWER = Family(
    name="exp_power",
    formula="-ln(1 - err) = a * x^-b",
    inputs=("x",),
    params=(
        Param("a", (1e-8, 1e3), (0.1, 1.0, 3.0), log=True),
        Param("b", (1e-6, 5.0), (0.05, 0.2, 0.5, 1.0)),
    ),
    fn=lambda x, a, b: -np.expm1(-a * x**-b),
    description="Brown et al.'s exponentiated power law of coverage: pass@k = exp(-a k^-b)",
    space="linear",
    loss="l2",
    source="Brown et al. 2024 (scipy curve_fit on coverage)",
    rate=True,
)
"""Brown et al. (2024, "Large Language Monkeys", Sec. 3.1 and App. C.1) model log coverage as a
power law in the number of samples and fit the exponentiated form coverage = exp(-a k^-b) with
scipy's ``curve_fit`` at 40 log-spaced k: least squares on the coverage values, linear space."""

JOINT = Family(
    name="joint",
    formula="err = E + A / N^alpha + B / k^beta",
    inputs=("N", "k"),
    params=(
        Param("E", (0.0, 1.0), (0.0, 0.1, 0.3)),
        Param("A", (1e-8, 1e12), (1.0, 1e2, 1e4), log=True),
        Param("alpha", (1e-6, 3.0), (0.1, 0.3, 0.6)),
        Param("B", (1e-8, 1e3), (0.1, 0.5, 1.0), log=True),
        Param("beta", (1e-6, 3.0), (0.1, 0.3, 0.6)),
    ),
    fn=lambda N, k, E, A, alpha, B, beta: E + A * N**-alpha + B * k**-beta,
    description="inference joint law over model size N and samples k (Chinchilla Approach 3)",
    space="log",
    loss="huber",
    delta=1e-3,
    source="Hoffmann et al. 2022, Approach 3",
)
"""Chinchilla's form with samples k in place of tokens; fitted as Hoffmann et al. (2022,
Approach 3) fit theirs: Huber loss, delta 1e-3, on ln err, from a grid of starts."""

CHINCHILLA = Family(
    name="chinchilla",
    formula="L = E + A / N^alpha + B / D^beta",
    inputs=("N", "D"),
    params=(
        Param("E", (1e-3, 10.0), (0.5, 1.0, 2.0), log=True),
        Param("A", (1e-3, 1e12), (1e1, 1e3, 1e5), log=True),
        Param("alpha", (1e-3, 2.0), (0.1, 0.3, 0.6)),
        Param("B", (1e-3, 1e12), (1e1, 1e3, 1e5), log=True),
        Param("beta", (1e-3, 2.0), (0.1, 0.3, 0.6)),
    ),
    fn=lambda N, D, E, A, alpha, B, beta: E + A * N**-alpha + B * D**-beta,
    description="Hoffmann et al.'s training loss law over parameters N and tokens D",
    space="log",
    loss="huber",
    delta=1e-3,
    source="Hoffmann et al. 2022, Approach 3",
    quantity="L",
)
"""Hoffmann et al. (2022, "Training Compute-Optimal Large Language Models", Approach 3) minimize
the Huber loss (delta 1e-3) of ln L_observed - ln L_predicted with L-BFGS from a grid of
starting values and keep the best; Besiroglu et al. (2024, "Chinchilla Scaling: A replication
attempt") refit the same objective to the 245 points of the paper's figure and bootstrap the
points for intervals."""

CURVE_FAMILIES: dict[str, Family] = {f.name: f for f in (POWER, SATURATING, LOGISTIC, EXP_POWER)}
FAMILIES: dict[str, Family] = {**CURVE_FAMILIES, JOINT.name: JOINT, CHINCHILLA.name: CHINCHILLA}
