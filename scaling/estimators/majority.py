"""majority@k: the most frequent answer cluster among k samples wins (ties uniform), exact.

One problem: clusters g with m_g samples and correct fraction q_g (1 or 0 when the grader is
consistent), z samples without a parsed answer, n = sum_g m_g + z. A uniform k-subset draws
X_g samples of cluster g (multivariate hypergeometric). Unparsed answers abstain; the most-voted
cluster wins, ties broken uniformly; if every drawn sample abstains there is no answer
(incorrect). The answer returned is a uniform member of the winning cluster, so
majority@k = sum_g q_g pi_g(k), pi_g being the probability that g wins (its tie share counted).

pi_t, conditioning on the target's count j:

    pi_t = sum_j P(X_t = j) W(j),  W(j) = E[ 1{all rivals <= j} / (1 + #rivals at j) | X_t = j ].

Binomial embedding: with independent Y_g ~ Bin(m_g, p), p = k/n, the law of (Y | sum Y = k) is
the law of X, so P(X_t = j) W(j) = Z^-1 b_t(j) sum_{s, T} C_j(s, T) / (1 + T) B(k - j - s) with
Z = P(Bin(n, p) = k), b_g the Bin(m_g, p) pmf, C_j(s, T) the weight of the rivals summing to s
with T of them at j and none above (a dynamic program over rivals, exact), and B the pmf of the
pooled rest, Bin(M_free, p) (Vandermonde: every cluster that cannot reach j, and the abstentions,
collapse into this one binomial term). All factors are probabilities: no overflow.

Work only where the mass is (every dropped term is charged to an error budget, and the
cheapest terms are dropped first):

- j runs over the target's hypergeometric bulk; j values of negligible mass are dropped.
- For every kept j and rival h, bounds on P(X_h >= j | X_t = j) and P(X_h <= j | X_t = j) (the
  pmf times a geometric tail factor, exact to a small factor) decide which rivals can reach j.
  Those that cannot join the pooled binomial; W(j) = 0 where the product of the rivals' lower
  tails (negative association of hypergeometric counts) is negligible; W(j) = 1 where no rival
  can reach j. Only the remaining j are computed by the program, over their own rivals,
  largest j first: W(j') <= P(all rivals < j | X_t = j) for every j' < j (fewer votes for the
  target, more draws for the rivals), so once that bound times P(X_t < j) is negligible the
  lower j are skipped. Program entries below a floor sized from the budget are dropped.
- Every pmf is evaluated on its bulk (relative mass below 1e-22 dropped) by the ratio recurrence
  from the mode and normalised by its sum, so values are accurate to about 1e-14 relative.

Error bound: all dropped terms sum to at most ``BUDGET`` = 1e-13 per target cluster and budget
(split: target tails 1/4, rivals pooled everywhere 1/8, W(j) = 0 1/8, rivals pooled at one j
1/4, program floor 1/8, skipped low j 1/8), plus the bulk cut-offs, about 1e-20 per cluster;
otherwise exact up to rounding. Tests check it against enumeration of every k-subset and
against exact rational arithmetic to 1e-12.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scaling.estimators.compiling import inner
from scaling.estimators.pool import Pool
from scaling.estimators.threads import over_rows

BUDGET = 1e-13  # total error allowed per target cluster and budget for dropped terms
_CUT = 1e-22  # a pmf's bulk ends where the value falls below this fraction of the mode's


@inner
def _joined(left: np.ndarray, nl: int, right: np.ndarray, nr: int, mode: int):
    """(lo, pmf): ``left`` (mode downwards, ``nl`` kept) reversed, then ``right`` (mode + 1
    upwards, ``nr`` kept), normalised to sum to 1."""
    out = np.empty(nl + nr)
    for i in range(nl):  # element loops, not slice assignments: quicker to compile
        out[i] = left[nl - 1 - i]
    for i in range(nr):
        out[nl + i] = right[i]
    return mode - nl + 1, out / out.sum()


@inner
def _binom_bulk(size: int, p: float) -> tuple[int, np.ndarray]:
    """(lo, pmf) of Bin(size, p) on its bulk lo..lo+len-1, normalised by the bulk's sum."""
    if size == 0 or p <= 0.0:
        return 0, np.ones(1)
    if p >= 1.0:
        return size, np.ones(1)
    mode = min(int((size + 1) * p), size)
    odds = p / (1.0 - p)
    left = np.empty(mode + 1)
    left[0] = 1.0
    x, u, nl = mode, 1.0, 1
    while x > 0:
        u *= x / ((size - x + 1) * odds)
        if u < _CUT:
            break
        left[nl] = u
        nl += 1
        x -= 1
    right = np.empty(size - mode + 1)
    x, u, nr = mode, 1.0, 0
    while x < size:
        u *= (size - x) * odds / (x + 1)
        if u < _CUT:
            break
        right[nr] = u
        nr += 1
        x += 1
    return _joined(left, nl, right, nr, mode)


@inner
def _hypergeom_bulk(pop: int, m: int, d: int) -> tuple[int, np.ndarray]:
    """(lo, pmf) of Hypergeom(pop, m, d) (successes among d draws) on its bulk, normalised."""
    low, high = max(0, d - (pop - m)), min(m, d)
    mode = min(max((d + 1) * (m + 1) // (pop + 2), low), high)
    left = np.empty(mode - low + 1)
    left[0] = 1.0
    x, u, nl = mode, 1.0, 1
    while x > low:
        u *= x * (pop - m - d + x) / ((m - x + 1.0) * (d - x + 1.0))
        if u < _CUT:
            break
        left[nl] = u
        nl += 1
        x -= 1
    right = np.empty(high - mode + 1)
    x, u, nr = mode, 1.0, 0
    while x < high:
        u *= (m - x) * (d - x) / ((x + 1.0) * (pop - m - d + x + 1.0))
        if u < _CUT:
            break
        right[nr] = u
        nr += 1
        x += 1
    return _joined(left, nl, right, nr, mode)


@njit(cache=True)
def _log_factorials(n: int) -> np.ndarray:
    out = np.empty(n + 1)
    for i in range(n + 1):
        out[i] = math.lgamma(i + 1.0)
    return out


@inner
def _tails(x: int, pop: int, m: int, d: int, lf: np.ndarray) -> tuple[float, float]:
    """Upper bounds on P(X >= x) and P(X <= x) for X ~ Hypergeom(pop, m, d).

    Beyond the mode the pmf ratio towards the tail only falls, so a tail is below
    pmf(x) / (1 - ratio(x)); the pmf from log-factorials carries a 1e-9 safety factor.
    """
    low, high = max(0, d - (pop - m)), min(m, d)
    if x > high:
        return 0.0, 1.0
    if x < low:
        return 1.0, 0.0
    log_pmf = (
        lf[m]
        - lf[x]
        - lf[m - x]
        + lf[pop - m]
        - lf[d - x]
        - lf[pop - m - d + x]
        - lf[pop]
        + lf[d]
        + lf[pop - d]
    )
    pmf = math.exp(log_pmf) * (1.0 + 1e-9)
    up = (m - x) * (d - x) / ((x + 1.0) * (pop - m - d + x + 1.0))
    down = x * (pop - m - d + x) / ((m - x + 1.0) * (d - x + 1.0))
    upper = 1.0 if x <= low else (min(1.0, pmf / (1.0 - up)) if up < 1.0 else 1.0)
    lower = 1.0 if x >= high else (min(1.0, pmf / (1.0 - down)) if down < 1.0 else 1.0)
    return upper, lower


@inner
def _negligible(errors: np.ndarray, budget: float) -> np.ndarray:
    """Entries whose errors sum to at most ``budget``, the smallest taken first: the entries
    below the largest power-of-two threshold for which the sum stays within budget."""
    sums = np.zeros(1100)
    for e in errors:
        sums[_bucket(e)] += e
    total, top = 0.0, -1
    for b in range(1100):
        if total + sums[b] > budget:
            break
        total += sums[b]
        top = b
    out = np.empty(len(errors), dtype=np.bool_)
    for i, e in enumerate(errors):
        out[i] = _bucket(e) <= top
    return out


@inner
def _bucket(e: float) -> int:
    """0 for zero, 1099 above 1 (and inf), else 1075 + floor(log2 e): [2^(b-1075), 2^(b-1074))."""
    if e <= 0.0:
        return 0
    if e >= 1.0:
        return 1099
    return math.floor(math.log2(e)) + 1075


@njit(cache=True)
def _win_probability(m: np.ndarray, t: int, n: int, k: int, lf: np.ndarray) -> float:
    """pi_t for cluster sizes ``m`` (ascending) among ``n`` samples, 1 <= k < n; ``lf``
    log-factorials."""
    mt = m[t]
    rest = n - mt
    p = k / n
    j0, h = _hypergeom_bulk(n, mt, k)
    if j0 == 0:  # X_t = 0: t is not drawn
        j0, h = 1, h[1:]
    if len(h) == 0:
        return 0.0
    dropped = _negligible(h, BUDGET / 4)
    nj = len(h) - dropped.sum()
    js, hs = np.empty(nj, dtype=np.int64), np.empty(nj)  # the kept j (ascending), their mass
    a = 0
    for i in range(len(h)):  # element loops rather than masks: quicker to compile
        if not dropped[i]:
            js[a], hs[a] = i + j0, h[i]
            a += 1
    rivals = np.empty(len(m) - 1, dtype=np.int64)
    r = 0
    for g in range(len(m)):
        if g != t:
            rivals[r] = m[g]
            r += 1
    if nj == 0 or len(rivals) == 0:
        return hs.sum()
    # rivals that cannot reach even the smallest j at its most draws are pooled everywhere
    reach = np.empty(len(rivals))
    for r in range(len(rivals)):
        reach[r] = hs.sum() * _tails(js[0], rest, rivals[r], k - js[0], lf)[0]
    pooled = _negligible(reach, BUDGET / 8)
    nl = len(rivals) - pooled.sum()
    live = np.empty(nl, dtype=np.int64)  # ascending: the tables grow late
    a = 0
    for r in range(len(rivals)):
        if not pooled[r]:
            live[a] = rivals[r]
            a += 1
    upper = np.empty((nj, nl))
    log_lose = np.log(hs)
    for a in range(nj):
        for r in range(nl):
            up, lo = _tails(js[a], rest, live[r], k - js[a], lf)
            upper[a, r] = up
            log_lose[a] += math.log(lo) if lo > 0.0 else -np.inf
    zero = _negligible(np.exp(log_lose), BUDGET / 8)
    errors = (hs[:, None] * upper).ravel()
    for a in range(nj):
        if zero[a]:
            errors[a * nl : (a + 1) * nl] = np.inf
    relevant = (~_negligible(errors, BUDGET / 4)).reshape(nj, nl)
    total = 0.0
    z_lo, z_pmf = _binom_bulk(n, p)
    t_lo, t_pmf = _binom_bulk(mt, p)
    norm = z_pmf[k - z_lo]
    contested = 0
    below = np.empty(nj)  # P(1 <= X_t < j) up to the dropped tails
    mass = 0.0
    for a in range(nj):
        contested += (not zero[a]) and relevant[a].sum() > 0
        mass += hs[a]
        below[a] = mass - hs[a]
    for a in range(nj - 1, -1, -1):  # high j first: lower j may then be bounded and skipped
        if zero[a]:
            continue
        chosen = np.empty(relevant[a].sum(), dtype=np.int64)  # the sizes of the rivals at j
        b = 0
        for r in range(nl):
            if relevant[a, r]:
                chosen[b] = live[r]
                b += 1
        if len(chosen) == 0:
            total += hs[a]
            continue
        j = js[a]
        if not t_lo <= j < t_lo + len(t_pmf):
            continue
        scale = t_pmf[j - t_lo] / norm  # the program's weights, times this, are probabilities
        entries = (len(chosen) + 1.0) * (min(len(chosen), (k - j) // j) + 1.0) * (k - j + 1.0)
        floor = BUDGET / 8 / contested / scale / entries
        full, strict = _rivals_below(j, k, rest, p, chosen, floor)
        total += scale * full
        # W(j') <= P(all rivals < j | X_t = j) for every j' < j (fewer votes, more rival draws)
        if scale * strict / hs[a] * below[a] <= BUDGET / 8:
            break
    return min(max(total, 0.0), 1.0)


@inner
def _rivals_below(j, k, rest, p, rivals, floor) -> tuple[float, float]:
    """sum_{s,T} C_j(s, T) / (1 + T) B(k - j - s), the program over the given rivals (sizes),
    and the same sum over T = 0 only (no rival at j).

    Entries below ``floor`` are dropped as the program runs: each would add at most its own
    weight to the result, so the caller sizes ``floor`` from its error budget."""
    top = k - j
    ties_max = min(len(rivals), top // j)
    table = np.zeros((ties_max + 1, top + 1))
    table[0, 0] = 1.0
    spare = np.zeros_like(table)
    s_lo, s_hi, t_hi = 0, 0, 0
    pooled = rest
    for size in rivals:
        pooled -= size
        lo, pmf = _binom_bulk(size, p)
        hi = min(lo + len(pmf) - 1, j)
        if lo > j or s_lo + lo > top:
            return 0.0, 0.0
        for ties in range(t_hi + 1):
            spare[ties, s_lo + lo : min(top, s_hi + hi) + 1] = 0.0
        if t_hi < ties_max:
            spare[t_hi + 1, s_lo + lo : min(top, s_hi + hi) + 1] = 0.0
        for ties in range(t_hi + 1):
            for s in range(s_lo, s_hi + 1):
                c = table[ties, s]
                if c < floor:
                    continue
                reach = min(hi, top - s)
                for x in range(lo, min(reach, j - 1) + 1):  # below j
                    spare[ties, s + x] += c * pmf[x - lo]
                if reach == j and ties < ties_max:  # at j: one more tie
                    spare[ties + 1, s + j] += c * pmf[j - lo]
        # trim the support to the entries at or above the floor: scan in from both ends
        new_t = min(t_hi + 1, ties_max) if hi == j else t_hi
        while new_t > 0 and not _row_above(spare[new_t], s_lo + lo, s_hi + hi, top, floor):
            new_t -= 1
        new_lo, new_hi = s_lo + lo, min(top, s_hi + hi)
        while new_lo <= new_hi and not _column_above(spare, new_lo, new_t, floor):
            new_lo += 1
        while new_hi >= new_lo and not _column_above(spare, new_hi, new_t, floor):
            new_hi -= 1
        if new_hi < new_lo:
            return 0.0, 0.0
        table, spare = spare, table
        s_lo, s_hi, t_hi = new_lo, new_hi, new_t
    b_lo, b_pmf = _binom_bulk(pooled, p)
    out, strict = 0.0, 0.0
    for ties in range(t_hi + 1):
        for s in range(s_lo, s_hi + 1):
            c = table[ties, s]
            x = top - s - b_lo
            if c >= floor and 0 <= x < len(b_pmf):
                out += c * b_pmf[x] / (1.0 + ties)
                if ties == 0:
                    strict += c * b_pmf[x]
    return out, strict


@inner
def _row_above(row, lo, hi, top, floor) -> bool:
    return (row[lo : min(hi, top) + 1] >= floor).any()


@inner
def _column_above(table, s, t_hi, floor) -> bool:
    return (table[: t_hi + 1, s] >= floor).any()


@inner
def _no_answer(z: int, n: int, k: int) -> float:
    """P(every one of k draws abstains) = C(z, k)/C(n, k) = prod_{i<k} (z - i)/(n - i)."""
    out = 1.0
    for i in range(k):
        out *= (z - i) / (n - i)
        if out == 0.0:
            break
    return out


@njit(cache=True, nogil=True)
def _majority_kernel(rows, m, q, offsets, n, z, ks, lf, out):
    for i in rows:  # element loops rather than array expressions: quicker to compile
        mi, qi = m[offsets[i] : offsets[i + 1]], q[offsets[i] : offsets[i + 1]]
        hit = False  # some cluster is (partly) correct
        for t in range(len(qi)):
            hit = hit or qi[t] > 0.0
        if n[i] == 0 or not hit:
            continue
        for col in range(len(ks)):
            k = min(ks[col], n[i])
            if k == n[i]:  # the largest clusters tie: the mean of their correctness
                best = mi[0]
                for t in range(len(mi)):
                    best = max(best, mi[t])
                total, tied = 0.0, 0
                for t in range(len(mi)):
                    if mi[t] == best:
                        total += qi[t]
                        tied += 1
                out[i, col] = total / tied
            elif k == 1:
                total = 0.0
                for t in range(len(mi)):
                    total += qi[t] * mi[t]
                out[i, col] = total / n[i]
            elif len(mi) == 1:
                out[i, col] = qi[0] * (1.0 - _no_answer(z[i], n[i], k))
            else:
                value = 0.0
                for t in range(len(mi)):
                    if qi[t] > 0.0:
                        value += qi[t] * _win_probability(mi, t, n[i], k, lf)
                out[i, col] = min(value, 1.0)


def win_probability(m: np.ndarray, t: int, n: int, k: int) -> float:
    """The probability that cluster ``t`` wins a majority vote of a uniform k-subset (its share
    of a tie counted), for cluster sizes ``m`` among ``n`` samples, 1 <= k < n."""
    m = np.asarray(m, dtype=np.int64)
    order = np.argsort(m, kind="stable")
    t = int(np.flatnonzero(order == t)[0])
    return float(_win_probability(m[order], t, int(n), int(k), _log_factorials(int(n))))


def majority_at_k(pool: Pool, ks: np.ndarray) -> np.ndarray:
    """Exact majority@k per problem, an array (P, K); ``k`` is capped at ``n`` per problem."""
    ks = np.asarray(ks, dtype=np.int64)
    m, q, offsets, z = pool.cluster_stats()
    order = np.lexsort((m, np.repeat(np.arange(pool.n_problems), np.diff(offsets))))
    out = np.zeros((pool.n_problems, len(ks)))
    if pool.n_problems and len(ks):  # clusters by ascending size within each problem
        n = pool.sizes.astype(np.int64)
        lf = _log_factorials(max(int(n.max()), 1))
        rows = np.arange(pool.n_problems)
        over_rows(_majority_kernel, rows, m[order], q[order], offsets, n, z, ks, lf, out)
    return out


KERNELS = (_majority_kernel,)  # compiled on first use (see ``scaling.estimators.compiling``)


def warm(pool: Pool, ks: np.ndarray) -> None:
    """Compile (and cache) ``KERNELS`` by replaying ``pool``."""
    majority_at_k(pool, ks)
