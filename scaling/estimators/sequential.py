"""Sequential replay of adaptive voting strategies: exact where the urn is small, Monte Carlo
otherwise.

A problem's ``n`` cached samples are drawn one at a time in a uniformly random order without
replacement. Each drawn sample with a parsed answer adds its weight ``w`` (1 for majority, its
reward for weighted majority) to its answer cluster's score; samples without an answer abstain.
After each draw ``t`` a stopping rule looks at

    a = the highest score among the clusters drawn so far (the leader's),
    b = max(0, the highest score among the other drawn clusters)

(every answer not yet seen scores 0, so ``b`` is the runner-up's score among all answers) and
stops when at least one cluster has been drawn and

    lead rule:        a - b >= lead, or
    confidence rule:  P(p > 1/2 | a, b) >= confidence, p ~ Beta(a + 1, b + 1),

or at ``t = k_max`` at the latest. The confidence rule is adaptive consistency's Beta criterion
(Aggarwal et al. 2023): a uniform Beta(1, 1) prior on the leader's share p of the top two answers,
updated with ``a`` and ``b`` as pseudo-counts; for integer counts
P(p > 1/2) = P(Bin(a + b + 1, 1/2) <= a). Weighted scores enter as fractional pseudo-counts (a
sample with reward r is r observations of its answer), which needs nonnegative rewards. Scores
within ``tol = 1e-10 * (1 + sum |w|)`` of each other count as equal, in the rule (``a - b >=
lead - tol``) and in the vote. The answer, at a stop or at ``k_max``, is a uniform member of the
highest-scoring drawn cluster (ties uniform over the tied clusters); no drawn answer = incorrect.
The cost is the number of samples drawn, ``K = min(stop, k_max)``.

One walk serves every ``k_max``: the stopping time does not depend on ``k_max``, so the walk runs
to ``max(ks)`` (capped at ``n``) and, for each ``k_max`` it passes before stopping, records the
vote of the first ``k_max`` draws.

Exact: the drawn counts form a Markov chain (an urn). Samples of one cluster with one weight are
interchangeable, so the state is the count drawn of each (cluster, weight) type, plus the
abstentions. Clusters holding one weight and the same number of samples are interchangeable as
a whole (the rules and the vote are symmetric in the clusters), so such a class is one sorted
count vector (its members' identities do not matter) and scores its mean correctness: for
majority every cluster of a given size pools, e.g. all singletons into one count. A forward
program over the draws t = 1..max(ks) carries the probability of every reachable state; stopped
states are absorbed. States are indexed by a mixed-radix code over the classes, each class's
sorted vector ranked by the combinatorial number system, so the program needs
S = prod_classes C(m' + c, c) codes (c members of m samples each, m' = min(m, max k)) and holds
D counts per state (D = clusters + 1). It runs when S * D <= ``EXACT_CELLS`` (2^18): its memory
is S codes plus the states of one draw, its time about 0.3 microseconds per state it reaches
(stopped states end their branch), so a problem at the limit that never stops early costs tens of
milliseconds, a few times the default Monte Carlo's 256 walks, and an early-stopping one far less.

Monte Carlo otherwise: ``mc_samples`` seeded random orderings per problem, each drawn lazily (a
partial Fisher-Yates shuffle stops with the walk), with the Monte Carlo variance of the mean of
each result. Problem ``i`` draws from its own stream, the ``i``-th state of
``numpy.random.SeedSequence(seed)``, so results do not depend on threads or on the other problems.
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass

import llvmlite.binding as llvm
import numpy as np
import scipy.special.cython_special as cython_special
from numba import njit, types
from numba.extending import get_cython_function_address
from scipy.special import betainc, comb, gammaln

from scaling.errors import ArgumentError
from scaling.estimators.compiling import inner
from scaling.estimators.pool import Pool
from scaling.estimators.threads import over_rows

EXACT_CELLS = 1 << 18  # exact program when (count states) x (counts per state) is at most this
_TABLE = 1 << 12  # integer confidence thresholds tabulated for runner-up scores 0.._TABLE-1


@dataclass(frozen=True)
class Sequential:
    """Per (problem, budget ``k_max``): ``values`` the expected correctness (in [0, 1]),
    ``samples`` the expected number of samples drawn E[K] (the cost, in samples; multiply by the
    cost of one sample for FLOPs), ``mc_var`` and ``samples_mc_var`` the Monte Carlo variances of
    those two means (0 where exact), all (P, K); ``exact`` (P,) whether the problem's values
    are exact (for weighted majority without a stopping rule: its Monte Carlo variance is 0)."""

    values: np.ndarray
    samples: np.ndarray
    mc_var: np.ndarray
    samples_mc_var: np.ndarray
    exact: np.ndarray


def _betainc_double() -> types.ExternalFunction:
    """scipy's regularized incomplete beta I_x(a, b) on doubles, callable from compiled (and
    cached) code: the double specialisation of ``scipy.special.cython_special.betainc``, found by
    its C signature, registered as a linker symbol."""
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    for name, capsule in cython_special.__pyx_capi__.items():
        signature = get_name(capsule).decode()
        if name.endswith("betainc") and signature.startswith("double (double, double, double"):
            address = get_cython_function_address("scipy.special.cython_special", name)
            llvm.add_symbol("scaling_sequential_betainc", address)
            signature = types.float64(types.float64, types.float64, types.float64, types.intc)
            return types.ExternalFunction("scaling_sequential_betainc", signature)
    raise ImportError("scipy.special.cython_special has no betainc on doubles")


_incomplete_beta = _betainc_double()


def confidence_thresholds(confidence: float, size: int) -> np.ndarray:
    """thr[b] = the least integer a with P(Beta(a + 1, b + 1) > 1/2) >= confidence, for
    b = 0..size-1 (inf where none is below ``size``): the confidence rule on integer counts."""
    alpha = 1.0 - confidence
    b = np.arange(size, dtype=np.float64)
    lo, hi = b.copy(), np.full(size, size - 1.0)  # a <= b never passes (probability <= 1/2)
    ok = betainc(hi + 1.0, b + 1.0, 0.5) <= alpha
    while np.any(hi - lo > 1):  # invariant: fails at lo, passes at hi (where ok)
        mid = np.floor((lo + hi) / 2)
        passes = betainc(mid + 1.0, b + 1.0, 0.5) <= alpha
        hi, lo = np.where(passes, mid, hi), np.where(passes, lo, mid)
    return np.where(ok, hi, np.inf)


@inner
def _confident(a, b, alpha, thr) -> bool:
    """P(Beta(a + 1, b + 1) > 1/2) >= 1 - alpha, i.e. I_{1/2}(a + 1, b + 1) <= alpha (alpha < 1/2).

    The probability rises with ``a`` and falls with ``b``, so the integer table brackets real
    scores; scipy's incomplete beta settles the rest."""
    if alpha < 0.0 or a <= b:
        return False
    fb, cb = math.floor(b), math.ceil(b)
    if math.ceil(a) < len(thr):  # then b < a is inside the table too
        if math.ceil(a) < thr[fb]:
            return False
        if math.floor(a) >= thr[cb]:
            return True
    return _incomplete_beta(a + 1.0, b + 1.0, 0.5, 0) <= alpha


@inner
def _stops(a, b, lead, alpha, thr, tol) -> bool:
    return a - b >= lead - tol or _confident(a, b, alpha, thr)


@inner
def _vote(score, count, q, voters, tol) -> float:
    """Expected correctness of the uniform winner among ``voters`` with count > 0 (0 if none)."""
    best = -np.inf
    for v in voters:
        if count[v] > 0 and score[v] > best:
            best = score[v]
    hits, tied = 0.0, 0
    for v in voters:
        if count[v] > 0 and score[v] >= best - tol:
            hits += q[v]
            tied += 1
    return hits / tied if tied else 0.0


@inner
def _top_two(score, count, voters):
    """(leader, a, b): the highest-scoring voter with count > 0 (-1 if none), its score, and
    max(0, the best score of the others)."""
    leader, a = -1, -np.inf
    for v in voters:
        if count[v] > 0 and score[v] > a:
            leader, a = v, score[v]
    b = 0.0
    for v in voters:
        if count[v] > 0 and v != leader and score[v] > b:
            b = score[v]
    return leader, a, b


# -- exact: the forward program over pooled count states -------------------------------------------


@inner
def _chain(
    cls_lo, cls_mu, cls_radix, step_lo, step, slot_voter, slot_w, q, n, bound, keff, order, lead,
    alpha, thr, tol, values, samples,
):  # fmt: skip
    """The exact program for one problem; writes ``values`` and ``samples`` (K,).

    Slots ``cls_lo[c]:cls_lo[c+1]`` hold class c's counts, sorted descending (each at most
    ``cls_mu[c]``, the samples each member holds, and at most the last draw); incrementing the
    first slot of a run keeps them sorted. The class's rank moves
    by C(y + r - 1, r - 1) when the slot at position j of its c slots goes from y to y + 1
    (r = c - j), read from ``step[step_lo[c] + y * c + r - 1]``, times the class's radix."""
    n_slots, n_classes, n_voters = len(slot_voter), len(cls_mu), len(q)
    top = keff[order[-1]]
    index = np.full(bound, -1, dtype=np.int32)
    cap = 16
    cur_y = np.zeros((cap, n_slots), dtype=np.int32)
    cur_code = np.zeros(cap, dtype=np.int64)
    cur_p = np.zeros(cap)
    nxt_y, nxt_code, nxt_p = cur_y.copy(), cur_code.copy(), cur_p.copy()
    cur_p[0] = 1.0
    size = 1
    score = np.zeros(n_voters)
    count = np.zeros(n_voters, dtype=np.int64)
    voters = np.arange(n_voters)
    stop_value, stop_cost = 0.0, 0.0
    col = 0
    for t in range(top + 1):
        alive, vote_mass, fresh = 0.0, 0.0, 0
        for f in range(size):
            p, y = cur_p[f], cur_y[f]
            if t > 0:
                score[:] = 0.0
                count[:] = 0
                for s in range(n_slots):
                    v = slot_voter[s]
                    if v >= 0 and y[s] > 0:
                        score[v] += y[s] * slot_w[s]
                        count[v] += y[s]
                value = _vote(score, count, q, voters, tol)
                leader, a, b = _top_two(score, count, voters)
                if leader >= 0 and _stops(a, b, lead, alpha, thr, tol):
                    stop_value += p * value
                    stop_cost += p * t
                    continue
                vote_mass += p * value
            alive += p
            if t == top:
                continue
            for c in range(n_classes):
                lo, hi, mu = cls_lo[c], cls_lo[c + 1], cls_mu[c]
                j = lo
                while j < hi:
                    y_j, end = y[j], j + 1
                    while end < hi and y[end] == y_j:
                        end += 1
                    if y_j < mu:
                        at = step_lo[c] + y_j * (hi - lo) + hi - j - 1
                        code = cur_code[f] + step[at] * cls_radix[c]
                        g = index[code]
                        if g < 0:
                            if fresh == len(nxt_p):
                                nxt_y, nxt_code, nxt_p = _grow(nxt_y, nxt_code, nxt_p)
                            g = fresh
                            fresh += 1
                            index[code] = g
                            for s in range(n_slots):  # not a row assignment: compiles quicker
                                nxt_y[g, s] = y[s]
                            nxt_y[g, j] += 1
                            nxt_code[g] = code
                            nxt_p[g] = 0.0
                        nxt_p[g] += p * (end - j) * (mu - y_j) / (n - t)
                    j = end
        while col < len(order) and keff[order[col]] == t:
            values[order[col]] = stop_value + vote_mass
            samples[order[col]] = stop_cost + t * alive
            col += 1
        cur_y, nxt_y = nxt_y, cur_y
        cur_code, nxt_code = nxt_code, cur_code
        cur_p, nxt_p = nxt_p, cur_p
        size = fresh
        if len(nxt_p) < len(cur_p):
            nxt_y, nxt_code, nxt_p = cur_y.copy(), cur_code.copy(), cur_p.copy()


@inner
def _grow(y, code, p):
    m = 2 * len(p)
    y2 = np.zeros((m, y.shape[1]), dtype=np.int32)
    code2 = np.zeros(m, dtype=np.int64)
    p2 = np.zeros(m)
    for i in range(len(p)):  # element loops, not slice assignments: quicker to compile
        for s in range(y.shape[1]):
            y2[i, s] = y[i, s]
        code2[i] = code[i]
        p2[i] = p[i]
    return y2, code2, p2


@njit(cache=True, nogil=True)
def _exact_kernel(
    rows, problem, n, cls_off, slot_off, voter_off, cls_lo, cls_mu, cls_radix, step_lo, step,
    bound, slot_voter, slot_w, q, tol, ks, order, lead, alpha, thr, values, samples,
):  # fmt: skip
    for r in rows:
        i = problem[r]
        c0, c1 = cls_off[r], cls_off[r + 1]
        s0, v0 = slot_off[r], voter_off[r]
        keff = np.minimum(ks, n[i])
        _chain(
            cls_lo[c0 : c1 + 1] - s0,
            cls_mu[c0:c1],
            cls_radix[c0:c1],
            step_lo[c0:c1],
            step,
            slot_voter[s0 : slot_off[r + 1]],
            slot_w[s0 : slot_off[r + 1]],
            q[v0 : voter_off[r + 1]],
            n[i],
            bound[r],
            keff,
            order,
            lead,
            alpha,
            thr,
            tol[i],
            values[i],
            samples[i],
        )


# -- Monte Carlo: seeded random orderings ----------------------------------------------------------


@njit(cache=True, nogil=True)
def _walk_kernel(
    rows, offsets, voter, weight, q, q_off, tol, ks, order, walks, seeds, lead, alpha, thr,
    values, samples, values_var, samples_var,
):  # fmt: skip
    for i in rows:
        lo, hi = offsets[i], offsets[i + 1]
        n = hi - lo
        if n == 0:
            continue
        _walks(
            voter[lo:hi], weight[lo:hi], q[q_off[i] : q_off[i + 1]], tol[i], np.minimum(ks, n),
            order, walks, seeds[i], lead, alpha, thr, values[i], samples[i], values_var[i],
            samples_var[i],
        )  # fmt: skip


@inner
def _walks(
    voter, weight, q, tol, keff, order, walks, seed, lead, alpha, thr, values, samples,
    values_var, samples_var,
):  # fmt: skip
    n, n_voters, n_cols = len(voter), len(q), len(order)
    top = keff[order[-1]]
    np.random.seed(seed)
    perm = np.arange(n)
    score = np.zeros(n_voters)
    count = np.zeros(n_voters, dtype=np.int64)
    touched = np.empty(n_voters, dtype=np.int64)
    sum_v, sum_v2 = np.zeros(n_cols), np.zeros(n_cols)
    sum_k, sum_k2 = np.zeros(n_cols), np.zeros(n_cols)
    first = 0
    while first < n_cols and keff[order[first]] == 0:
        first += 1  # k_max = 0: nothing drawn, no answer
    for _ in range(walks):
        for u in range(n_voters):
            score[u] = 0.0
            count[u] = 0
        n_touched, leader, a, b, col = 0, -1, 0.0, 0.0, first
        for t in range(1, top + 1):
            j = t - 1 + np.random.randint(0, n - t + 1)  # a partial Fisher-Yates shuffle
            perm[t - 1], perm[j] = perm[j], perm[t - 1]
            g, w = voter[perm[t - 1]], weight[perm[t - 1]]
            if g >= 0:
                if count[g] == 0:
                    touched[n_touched] = g
                    n_touched += 1
                count[g] += 1
                score[g] += w
                if w < 0.0:  # a score fell: recount
                    leader, a, b = _top_two(score, count, touched[:n_touched])
                elif g == leader:
                    a = score[g]
                elif leader < 0:
                    leader, a = g, score[g]
                elif score[g] > a:
                    leader, a, b = g, score[g], max(b, a)
                else:
                    b = max(b, score[g])
            stop = leader >= 0 and _stops(a, b, lead, alpha, thr, tol)
            if stop or keff[order[col]] == t:
                value = _vote(score, count, q, touched[:n_touched], tol)
                while col < n_cols and (stop or keff[order[col]] == t):
                    sum_v[col] += value
                    sum_v2[col] += value * value
                    sum_k[col] += t
                    sum_k2[col] += t * t
                    col += 1
            if col == n_cols:
                break
    for col in range(first, n_cols):
        mv, mk = sum_v[col] / walks, sum_k[col] / walks
        values[order[col]] = mv
        samples[order[col]] = mk
        values_var[order[col]] = max(sum_v2[col] / walks - mv * mv, 0.0) / (walks - 1)
        samples_var[order[col]] = max(sum_k2[col] / walks - mk * mk, 0.0) / (walks - 1)


# -- the pooled description of each problem's urn --------------------------------------------------


def _classes(pool: Pool, weight: np.ndarray, top: np.ndarray) -> dict[str, np.ndarray]:
    """One entry per class of interchangeable voters, sorted by problem: ``cluster`` (-2 the
    abstentions, -1 a pooled class of clusters holding one weight and ``mu`` samples each, else
    one weight of a cluster holding several), ``c`` members of ``mu`` samples of weight ``w``,
    ``mu_eff = min(mu, top)``, and the members' mean correctness ``q``."""
    pid = pool.problem_index
    has = pool.cluster >= 0
    p, g, w, y = pid[has], pool.cluster[has], weight[has], pool.correct[has]
    order = np.lexsort((w, g, p))
    p, g, w, y = p[order], g[order], w[order], y[order]
    # types: runs of equal (problem, cluster, weight); clusters: runs of equal (problem, cluster)
    t_lo = np.flatnonzero(_starts(p, g, w))
    t_mu = np.diff(np.append(t_lo, len(p)))
    t_p, t_g, t_w = p[t_lo], g[t_lo], w[t_lo]
    t_hits = np.add.reduceat(y, t_lo) if len(t_lo) else np.zeros(0)
    c_lo = np.flatnonzero(_starts(t_p, t_g))
    kinds = np.diff(np.append(c_lo, len(t_lo)))
    cluster_of = np.repeat(np.arange(len(c_lo)), kinds)
    size = np.add.reduceat(t_mu, c_lo) if len(c_lo) else np.zeros(0)
    hits = np.add.reduceat(t_hits, c_lo) if len(c_lo) else np.zeros(0)
    t_q = (hits / np.maximum(size, 1))[cluster_of]
    single = kinds[cluster_of] == 1
    # pooled classes: runs of equal (problem, size, weight) among the single-weight clusters
    s_p, s_mu, s_w, s_q = t_p[single], t_mu[single], t_w[single], t_q[single]
    order = np.lexsort((s_w, s_mu, s_p))
    s_p, s_mu, s_w, s_q = s_p[order], s_mu[order], s_w[order], s_q[order]
    s_lo = np.flatnonzero(_starts(s_p, s_mu, s_w))
    s_c = np.diff(np.append(s_lo, len(s_p)))
    s_qbar = np.add.reduceat(s_q, s_lo) / s_c if len(s_lo) else np.zeros(0)
    z = np.bincount(pid[~has], minlength=pool.n_problems)
    ab = np.flatnonzero(z)
    mixed = ~single
    out = {
        "problem": np.concatenate([s_p[s_lo], t_p[mixed], ab]),
        "cluster": np.concatenate([np.full(len(s_lo), -1), t_g[mixed], np.full(len(ab), -2)]),
        "mu": np.concatenate([s_mu[s_lo], t_mu[mixed], z[ab]]).astype(np.int64),
        "w": np.concatenate([s_w[s_lo], t_w[mixed], np.zeros(len(ab))]),
        "c": np.concatenate([s_c, np.ones(mixed.sum() + len(ab), dtype=np.int64)]),
        "q": np.concatenate([s_qbar, t_q[mixed], np.zeros(len(ab))]),
    }
    order = np.lexsort((out["w"], out["mu"], out["cluster"], out["problem"]))
    out = {key: value[order] for key, value in out.items()}
    out["mu_eff"] = np.minimum(out["mu"], top[out["problem"]])
    return out


def _starts(*keys: np.ndarray) -> np.ndarray:
    """Where a run of equal key tuples begins, in arrays sorted by those keys."""
    first = np.zeros(len(keys[0]), dtype=bool)
    first[:1] = True
    for key in keys:
        first[1:] |= key[1:] != key[:-1]
    return first


def _exact_problems(classes: dict[str, np.ndarray], n_problems: int, cells: int) -> np.ndarray:
    """The problems whose program fits: (count states) x (counts per state) <= ``cells``, the
    states prod_classes C(mu_eff + c, c)."""
    if cells <= 0 or len(classes["c"]) == 0:
        return np.zeros(0, dtype=np.int64)
    c = classes["c"].astype(np.float64)
    mu = classes["mu_eff"].astype(np.float64)
    prob = classes["problem"]
    log_states = gammaln(mu + c + 1) - gammaln(mu + 1) - gammaln(c + 1)
    log_cells = np.bincount(prob, weights=log_states, minlength=n_problems)
    slots = np.bincount(prob, weights=c, minlength=n_problems)
    fits = (slots > 0) & (log_cells + np.log(np.maximum(slots, 1)) <= math.log(cells) + 1e-9)
    return np.flatnonzero(fits)


def _exact_arrays(classes: dict[str, np.ndarray], exact: np.ndarray) -> dict[str, np.ndarray]:
    """CSR arrays of the exact problems' classes (``cls_off`` per problem), slots (``slot_off``;
    ``cls_lo`` per class) and voters (``voter_off``) for ``_exact_kernel``."""
    keep = np.isin(classes["problem"], exact)
    classes = {key: value[keep] for key, value in classes.items()}
    prob, cluster = classes["problem"], classes["cluster"]
    c, mu = classes["c"], classes["mu_eff"]  # counts never pass mu_eff: ranks need no more
    row = np.searchsorted(exact, prob)
    cls_off = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(exact)))])
    cls_lo = np.concatenate([[0], np.cumsum(c)])
    # every member of a pooled class is a voter; a multi-weight cluster is one voter over its
    # classes (adjacent rows); the abstentions are none
    member = np.repeat(np.arange(len(c)), c)
    m_cluster, m_row = cluster[member], row[member]
    new = m_cluster >= -1
    same = (m_cluster[1:] >= 0) & (m_cluster[1:] == m_cluster[:-1]) & (m_row[1:] == m_row[:-1])
    new[1:] &= ~same
    voter_off = np.concatenate([[0], np.cumsum(np.bincount(m_row[new], minlength=len(exact)))])
    slot_voter = np.where(m_cluster == -2, -1, np.cumsum(new) - 1 - voter_off[m_row])
    # class k's rank steps C(y + s, s) for y < mu_eff, s < c (row-major), and its radix
    sizes = mu * c
    step_lo = np.concatenate([[0], np.cumsum(sizes)])
    class_of = np.repeat(np.arange(len(c)), sizes)
    within = np.arange(step_lo[-1]) - step_lo[class_of]
    y, s = np.divmod(within, np.maximum(c[class_of], 1))
    step = np.rint(comb(y + s, s)).astype(np.int64)
    states = np.rint(comb(mu + c, c)).astype(np.int64)
    radix = np.ones(len(c), dtype=np.int64)
    bound = np.ones(len(exact), dtype=np.int64)
    for r in range(len(exact)):
        lo, hi = cls_off[r], cls_off[r + 1]
        radix[lo:hi] = np.concatenate([[1], np.cumprod(states[lo : hi - 1])])
        bound[r] = int(np.prod(states[lo:hi]))
    return {
        "cls_off": cls_off,
        "slot_off": cls_lo[cls_off],
        "voter_off": voter_off,
        "cls_lo": cls_lo,
        "cls_mu": classes["mu"],  # the samples each member holds: the draw probabilities
        "cls_radix": radix,
        "step_lo": step_lo[:-1],
        "step": step,
        "bound": bound,
        "slot_voter": slot_voter.astype(np.int64),
        "slot_w": classes["w"][member],
        "q": classes["q"][member][new],
    }


# -- the entry point shared by the adaptive voting strategies --------------------------------------


def check_arguments(
    ks: np.ndarray,
    lead: float | None,
    confidence: float | None,
    mc_samples: int,
    seed: int,
    exact_cells: int,
) -> np.ndarray:
    """``ks`` as int64 budgets >= 0; ``lead`` > 0 (inf: never), ``confidence`` in (1/2, 1] (None
    switches a rule off); ``mc_samples`` >= 2, ``seed`` >= 0, ``exact_cells`` >= 0."""
    ks = np.asarray(ks, dtype=np.int64)
    if np.any(ks < 0):
        raise ArgumentError("ks", ks.tolist(), "budgets must be >= 0")
    if lead is not None and not (lead > 0):
        raise ArgumentError("lead", lead, "must be > 0 (inf or None: no early stop by lead)")
    if confidence is not None and not (0.5 < confidence <= 1.0):
        raise ArgumentError("confidence", confidence, "must be in (0.5, 1] (None: no rule)")
    if mc_samples < 2:
        raise ArgumentError("mc_samples", mc_samples, "must be at least 2")
    if seed < 0:
        raise ArgumentError("seed", seed, "must be >= 0")
    if exact_cells < 0:
        raise ArgumentError("exact_cells", exact_cells, "must be >= 0 (0: always Monte Carlo)")
    return ks


def never_stops(lead: float | None, confidence: float | None) -> bool:
    """Neither rule can fire (P(p > 1/2) < 1 for finite counts): the strategy is the plain vote
    of the first k_max draws."""
    return (lead is None or lead == math.inf) and (confidence is None or confidence == 1.0)


def replay_votes(
    pool: Pool,
    ks: np.ndarray,
    weight: np.ndarray,
    *,
    lead: float | None,
    confidence: float | None,
    mc_samples: int,
    seed: int,
    exact_cells: int,
) -> Sequential:
    """The adaptive vote with sample weights ``weight`` (flat, one per sample), by the rules of
    this module; exact where the program fits in ``exact_cells``, else ``mc_samples`` seeded
    orderings per problem. Arguments are checked by ``check_arguments``."""
    weight = np.asarray(weight, dtype=np.float64)
    shape = (pool.n_problems, len(ks))
    values, samples = np.zeros(shape), np.zeros(shape)
    values_var, samples_var = np.zeros(shape), np.zeros(shape)
    exact = np.zeros(pool.n_problems, dtype=bool)
    n = pool.sizes.astype(np.int64)
    if 0 in shape or n.max() == 0:
        return Sequential(values, samples, values_var, samples_var, exact | (n == 0))
    has = pool.cluster >= 0
    pid = pool.problem_index
    top = np.minimum(ks.max(), n)
    tol = 1e-10 * (1.0 + np.bincount(pid[has], np.abs(weight[has]), minlength=pool.n_problems))
    lead_value = math.inf if lead is None else float(lead)
    alpha = -1.0 if confidence is None or confidence == 1.0 else 1.0 - float(confidence)
    thr = np.full(1, np.inf)
    if alpha >= 0.0:
        reach = float(top.max()) * max(float(np.abs(weight[has]).max(initial=1.0)), 1.0)
        thr = confidence_thresholds(float(confidence), int(min(math.ceil(reach) + 2, _TABLE)))
    order = np.argsort(ks, kind="stable")
    classes = _classes(pool, weight, top)
    rows = _exact_problems(classes, pool.n_problems, exact_cells)
    if len(rows):
        a = _exact_arrays(classes, rows)
        over_rows(
            _exact_kernel, np.arange(len(rows)), rows, n, a["cls_off"], a["slot_off"],
            a["voter_off"], a["cls_lo"], a["cls_mu"], a["cls_radix"], a["step_lo"], a["step"],
            a["bound"], a["slot_voter"], a["slot_w"], a["q"], tol, ks, order, lead_value, alpha,
            thr, values, samples,
        )  # fmt: skip
        exact[rows] = True
    exact |= n == 0
    walked = np.flatnonzero(~exact)
    if len(walked):
        _, q, q_off, _ = pool.cluster_stats()
        seeds = np.random.SeedSequence(seed).generate_state(pool.n_problems).astype(np.int64)
        offsets, cluster = pool.offsets.astype(np.int64), pool.cluster.astype(np.int64)
        over_rows(
            _walk_kernel, walked, offsets, cluster, weight, q, q_off, tol, ks, order, mc_samples,
            seeds, lead_value, alpha, thr, values, samples, values_var, samples_var,
        )  # fmt: skip
    return Sequential(values, samples, values_var, samples_var, exact)


KERNELS = (_exact_kernel,)  # compiled on first use (see ``scaling.estimators.compiling``);
# the Monte Carlo walks (problems too large for the exact program) compile when first needed


def warm(pool: Pool, ks: np.ndarray) -> None:
    """Compile (and cache) ``KERNELS`` by replaying ``pool`` with the confidence rule."""
    weight = np.ones(len(pool.correct))
    replay_votes(
        pool, ks, weight, lead=None, confidence=0.95, mc_samples=2, seed=0, exact_cells=EXACT_CELLS
    )
