"""Distributional forecast of coverage (Schaeffer et al. 2025): a Beta law of pass rates.

Problem i has an unknown single-sample success rate p_i ~ Beta(alpha, beta); with c_i correct of
n_i samples the likelihood is beta-binomial,

    log L = sum_i [ ln C(n_i, c_i) + ln B(c_i + alpha, n_i - c_i + beta) - ln B(alpha, beta) ],

which handles zero-success problems exactly (their p_i is only bounded, not zero). Integrated to
any k, the expected failure rate is

    err(k) = E[(1 - p)^k] = B(alpha, beta + k) / B(alpha, beta)
           ~ Gamma(alpha + beta) / Gamma(beta) * k^-alpha   (k large),

so coverage error is a power law in k with exponent alpha for large k. Intervals: bootstrap over
problems (each replicate a multinomial reweighting of the problems), refitted by batched Newton.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln, polygamma

from fit.results import FitResult, percentile_interval

GRID = [(a, b) for a in (0.05, 0.2, 0.5, 1.0, 3.0) for b in (0.3, 1.0, 3.0, 10.0, 30.0)]
BOUNDS = (np.log(1e-4), np.log(1e5))


def pass_at_k(n: Any, c: Any, k: Any) -> np.ndarray:
    """Unbiased pass@k per problem, 1 - C(n-c, k)/C(n, k) (k <= n), shape broadcast of inputs."""
    n, c, k = (np.asarray(v, dtype=float) for v in (n, c, k))
    if np.any(k > n):
        raise ValueError("pass@k needs k <= n samples")
    with np.errstate(invalid="ignore"):
        log_ratio = (
            gammaln(n - c + 1) - gammaln(n - c - k + 1) - gammaln(n + 1) + gammaln(n - k + 1)
        )
    return np.where(n - c < k, 1.0, -np.expm1(np.where(n - c < k, 0.0, log_ratio)))


def _loglik_terms(a: np.ndarray, b: np.ndarray, n: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Beta-binomial log-likelihood of each (n, c) pair for each (a, b): shape (B, U)."""
    lc = gammaln(n + 1) - gammaln(c + 1) - gammaln(n - c + 1)
    return lc + betaln(c + a, n - c + b) - betaln(a, b)


def _gradient(u: np.ndarray, n: np.ndarray, c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Gradient of the weighted log-likelihood in u = (ln alpha, ln beta).

    ``u``: (B, 2); ``n``, ``c``: (U,) distinct pairs; ``w``: (B, U) weights (problem counts).
    """
    a, b = np.exp(u[:, :1]), np.exp(u[:, 1:])
    total = w.sum(axis=1)
    common = digamma(n + a + b)
    ga = (w * (digamma(c + a) - common)).sum(1) + total * (digamma(a + b) - digamma(a))[:, 0]
    gb = (w * (digamma(n - c + b) - common)).sum(1) + total * (digamma(a + b) - digamma(b))[:, 0]
    return np.stack([ga * a[:, 0], gb * b[:, 0]], axis=1)


def _hessian(u: np.ndarray, n: np.ndarray, c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Hessian of the weighted log-likelihood in u = (ln alpha, ln beta): shape (B, 2, 2)."""
    a, b = np.exp(u[:, :1]), np.exp(u[:, 1:])
    t_ab = -polygamma(1, n + a + b) + polygamma(1, a + b)
    t_aa = polygamma(1, c + a) - polygamma(1, a) + t_ab
    t_bb = polygamma(1, n - c + b) - polygamma(1, b) + t_ab
    g = _gradient(u, n, c, w)
    a, b = a[:, 0], b[:, 0]
    haa = (w * t_aa).sum(1) * a**2 + g[:, 0]
    hbb = (w * t_bb).sum(1) * b**2 + g[:, 1]
    hab = (w * t_ab).sum(1) * a * b
    return np.stack([np.stack([haa, hab], 1), np.stack([hab, hbb], 1)], axis=1)


def _loglik(u: np.ndarray, n: np.ndarray, c: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (w * _loglik_terms(np.exp(u[:, :1]), np.exp(u[:, 1:]), n, c)).sum(axis=1)


def _newton(
    u0: np.ndarray, n: np.ndarray, c: np.ndarray, w: np.ndarray, max_iter: int = 100
) -> np.ndarray:
    """Maximize the weighted log-likelihood for every row of ``w`` from ``u0`` at once.

    Chord Newton: each row's Hessian is evaluated once at its start (exact there: warm starts
    sit next to the optimum) and reused, so an iteration costs one gradient; a step that does
    not raise the likelihood is halved (and the Hessian re-evaluated) before it is taken.
    """
    u = np.array(np.broadcast_to(u0, (len(w), 2)), dtype=float)
    hess = _hessian(u, n, c, w)
    ll = _loglik(u, n, c, w)
    active = np.ones(len(w), dtype=bool)
    for _ in range(max_iter):
        i = np.flatnonzero(active)
        if i.size == 0:
            break
        g = _gradient(u[i], n, c, w[i])
        h = hess[i]
        concave = (h[:, 0, 0] < 0) & (np.linalg.det(h) > 0)
        h = np.where(
            concave[:, None, None], h, -np.eye(2) * np.abs(h).max(axis=(1, 2))[:, None, None]
        )
        step = -np.linalg.solve(h, g[:, :, None])[..., 0]
        trial = np.clip(u[i] + step, *BOUNDS)
        ll_t = _loglik(trial, n, c, w[i])
        up = ll_t >= ll[i] - 1e-12 * np.abs(ll[i])
        moved = np.abs(trial - u[i]).max(axis=1)
        ok = i[up]
        u[ok], ll[ok] = trial[up], ll_t[up]
        active[ok[moved[up] < 1e-10]] = False
        bad = i[~up]
        if bad.size:  # a failed step: fresh Hessian, and half the step next time through
            u_half = np.clip(u[bad] + 0.5 * step[~up], *BOUNDS)
            ll_h = _loglik(u_half, n, c, w[bad])
            better = ll_h > ll[bad]
            u[bad[better]], ll[bad[better]] = u_half[better], ll_h[better]
            active[bad[~better]] = False
            hess[bad] = _hessian(u[bad], n, c, w[bad])
    return u


class BetaFit(FitResult):
    """Beta law of per-problem pass rates; ``predict(k)`` is the expected coverage error at k."""

    formula = "err(k) = B(alpha, beta + k) / B(alpha, beta),  p_i ~ Beta(alpha, beta)"

    def __init__(
        self,
        n: Any,
        c: Any,
        *,
        bootstrap: int = 0,
        weights: Any = None,
        seed: int = 0,
        level: float = 0.95,
    ):
        """Fit to ``c`` successes of ``n`` samples per problem.

        Bootstrap: ``weights`` (B, problems) of problem counts per replicate (for pairing with other
        estimates), or ``bootstrap`` multinomial resamples drawn with ``seed``.
        """
        n, c = np.asarray(n, dtype=float), np.asarray(c, dtype=float)
        if n.shape != c.shape or n.ndim != 1 or n.size < 3:
            raise ValueError("beta: need 1-D counts n, c of equal length, at least 3 problems")
        if np.any((c < 0) | (c > n) | (n < 1)):
            raise ValueError("beta: need 0 <= c <= n and n >= 1 for every problem")
        self.name = "beta"
        self.level = level
        self.n_obs = int(n.size)
        self.n_samples = n
        self.n_correct = c
        pairs, inverse = np.unique(np.stack([n, c], 1), axis=0, return_inverse=True)
        self._un, self._uc = pairs[:, 0], pairs[:, 1]
        counts = np.bincount(inverse.ravel(), minlength=len(pairs)).astype(float)
        u = self._point_fit(counts)
        self.loglik = float(_loglik(u[None], self._un, self._uc, counts[None])[0])
        self.params = pd.Series(np.exp(u), index=["alpha", "beta"], name="beta")
        if weights is None and bootstrap:
            rng = np.random.default_rng(seed)
            weights = rng.multinomial(self.n_obs, np.full(self.n_obs, 1.0 / self.n_obs), bootstrap)
        draws = np.empty((0, 2))
        if weights is not None:
            weights = np.asarray(weights, dtype=float)
            if weights.ndim != 2 or weights.shape[1] != self.n_obs:
                raise ValueError(f"beta: weights must have shape (B, {self.n_obs})")
            pair_w = np.zeros((len(weights), len(pairs)))
            np.add.at(pair_w.T, inverse.ravel(), weights.T)
            draws = np.exp(_newton(u, self._un, self._uc, pair_w))
        self.boot_params = pd.DataFrame(draws, columns=["alpha", "beta"])
        self._interval_frame(draws)
        self.aic = 2 * 2 - 2 * self.loglik
        self.bic = np.log(self.n_obs) * 2 - 2 * self.loglik

    def _point_fit(self, counts: np.ndarray) -> np.ndarray:
        """Maximum likelihood from the best start of ``GRID``, polished by L-BFGS-B."""
        starts = np.log(np.array(GRID))
        ll = (
            counts * _loglik_terms(np.exp(starts[:, :1]), np.exp(starts[:, 1:]), self._un, self._uc)
        ).sum(1)
        u0 = starts[int(np.argmax(ll))]

        def fun(u: np.ndarray) -> tuple[float, np.ndarray]:
            val = _loglik(u[None], self._un, self._uc, counts[None])[0]
            grad = _gradient(u[None], self._un, self._uc, counts[None])[0]
            return -float(val) / self.n_obs, -grad / self.n_obs

        from scipy.optimize import minimize  # here, not at the top: it slows every start-up

        res = minimize(
            fun,
            u0,
            jac=True,
            method="L-BFGS-B",
            bounds=[BOUNDS, BOUNDS],
            options={"ftol": 1e-15, "gtol": 1e-10},
        )
        return _newton(res.x, self._un, self._uc, counts[None])[0]

    @staticmethod
    def _err(alpha: np.ndarray, beta: np.ndarray, k: np.ndarray) -> np.ndarray:
        return np.exp(betaln(alpha, beta + k) - betaln(alpha, beta))

    def predict(self, k: Any) -> np.ndarray:
        """Expected coverage error 1 - pass@k at ``k`` samples (any k > 0, also beyond n)."""
        k = np.atleast_1d(np.asarray(k, dtype=float))
        return self._err(self.params["alpha"], self.params["beta"], k)

    def predict_draws(self, k: Any) -> np.ndarray:
        """The error at ``k`` under each bootstrap refit: shape (n_boot, len(k))."""
        k = np.atleast_1d(np.asarray(k, dtype=float))
        p = self.boot_params.to_numpy()
        return self._err(p[:, :1], p[:, 1:], k[None])

    def predict_interval(self, k: Any, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        if not self.n_boot:
            nan = np.full(np.atleast_1d(k).shape, np.nan)
            return nan, nan.copy()
        lo, hi = percentile_interval(self.predict_draws(k), level or self.level)
        return lo, hi

    def extra_stats(self) -> dict[str, Any]:
        return {"loglik": self.loglik, "tail_exponent": float(self.params["alpha"])}
