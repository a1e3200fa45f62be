"""Conditioned reconstruction: model-drawn patients chosen so that every published number is exact.

A large pool of patients per arm is simulated from one posterior draw. A trial of the published
arm sizes is then assembled from the pool and improved one swap at a time (a patient out, another
pool patient of the same arm in, as SPRITE does for samples) until every numeric claim prints as
published under the book's readings, the "similar" statements stay consistent and the week-96
counts equal the forensic table. No value is edited: every row of the result is a simulated
patient, whole.

That first exact trial is where a search happened to stop, not a draw. From it a Markov chain
walks within the exact set (:func:`_walk`): one or two patients swapped for pool patients of the
same arm and week-96 status, every proposal that keeps every claim exact accepted, every other
one refused. The proposals are symmetric, so the chain's stationary distribution is uniform over
the exact trials of the pool; a uniformly chosen trial of a large pool of model-drawn patients
is a draw from the model's trials, so the walk targets the model's distribution of trials given
the abstract (the reconstruction chapter states the argument and checks it). The state after
:data:`~anrs119.model.reconstruction.settings.WALK` proposals is the reconstruction.

The claims are evaluated in a numba kernel that mirrors the book's analyses of the ADaM tables
(crude week-96 proportions, medians and rank-sum tests of the off-ART changes, Kaplan-Meier and
log-rank in the subgroup, Kaplan-Meier quantiles of time to ART, Newcombe CIs of the safety
counts by the book's one "similar" rule); the written tables are checked again by the book's own
code (:mod:`anrs119.reproduce`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from anrs119 import ARMS
from anrs119.extras import MissingExtraError
from anrs119.model.reconstruction.settings import (
    EMBEDDED_ATTEMPTS,
    LOCAL_SHARE,
    LOCAL_WIDTH,
    PAIR_SHARE,
    POOL_PER_ARM,
    RELAX,
    RESTARTS,
    ROUNDS,
    SWEEPS,
    WALK_SWEEPS,
)
from anrs119.model.simulator.schedule import follow_up_horizon, visit_weeks
from anrs119.model.simulator.simulate import simulate
from anrs119.model.simulator.summaries import (
    CHANGE_READING,
    DEFERRAL_READING,
    _mw_p,
    ceil_tenth,
    change_readings,
    composite,
    time_to_art,
    truncate,
)
from anrs119.model.simulator.trials import Trials

try:
    from numba import njit
except ModuleNotFoundError as missing:  # numba comes with the optional extra anrs119[model]
    raise MissingExtraError.of(missing, __name__) from missing

DEFERRAL_QUANTILES: dict[str, float] = {"q25": 0.25, "median": 0.5}
"""The quantile readings of the deferral the kernel can search for (the book's is DEFERRAL_READING;
a restricted-mean or parametric reading would need its own kernel code)."""

__all__ = [
    "POOL_PER_ARM",
    "ROUNDS",
    "SWEEPS",
    "WALK_SWEEPS",
    "Claims",
    "Pool",
    "Reconstruction",
    "claim_targets",
    "claims_from_table",
    "embedded_reconstruction",
    "make_pool",
    "pool_of",
    "reconstruct",
    "walk_chain",
]


# ---------------------------------------------------------------- the targets


KERNEL_CLAIMS: tuple[str, ...] = (
    "cd4_change_w96_il2",
    "cd4_change_w96_control",
    "cd4_change_w96_p",
    "vl_change_w96_il2",
    "vl_change_w96_control",
    "vl_change_w96_p",
    "lowvl_free_w150_il2",
    "lowvl_free_w150_control",
    "lowvl_free_w150_p",
    "lowvl_art_deferral",
)
"""The numeric claims the kernel evaluates, in its order (the week-96 proportions and their P
value are fixed by the strata: every trial has the forensic arm sizes and event counts)."""


SAFETY_CLAIMS: tuple[str, ...] = (
    "safety_aids_similar",
    "safety_death_similar",
    "safety_grade34_similar",
)
"""The "similar" statements, in the kernel's order of counts (AIDS, death, grade 3-4)."""


MISS_SCALE: dict[str, float] = {
    "cd4_change_w96": 5.0,
    "vl_change_w96": 0.02,
    "lowvl_free_w150": 3.0,
    "lowvl_art_deferral": 10.0,
    "p_value": 0.05,
    "log_p": 0.5,
}
"""How far outside its interval a claim is, in units of these (cells/uL, log10 copies, percentage
points, weeks, P, log10 P): the search's sense of direction, not part of the target."""


LOG_MARGIN: float = 0.05
"""A P value bound ("P < .001") must hold with this margin on the log10 scale (the search's
log-rank and the book's agree to rounding, not to every bit)."""


RAW, LOG = 0.0, 1.0
"""Kinds of claim interval: on the printed scale, or a P value bound on the log10 scale."""


@dataclass(frozen=True)
class Claims:
    """The published numbers as the search needs them.

    ``intervals`` holds one row per :data:`KERNEL_CLAIMS`: the half-open interval of values that
    print as published (``lo``, ``hi``; a bound is open on one side), the scale of a miss and the
    kind of interval (:data:`RAW` or :data:`LOG`). ``similar`` holds, per :data:`SAFETY_CLAIMS`,
    the (n_il2 + 1, n_control + 1) booleans of the counts the statement allows (all True when the
    abstract makes no statement). Arm sizes and week-96 counts come from the forensic allocation.
    """

    intervals: np.ndarray
    similar: np.ndarray
    n_il2: int
    n_control: int
    events_il2: int
    events_control: int
    vl_cutoff: float
    subgroup_week: float
    primary_week: float

    def as_array(self) -> np.ndarray:
        """The kernel's targets: the intervals, then the subgroup week, the primary week and the
        deferral's quantile."""
        return np.concatenate(
            [
                self.intervals.ravel(),
                [self.subgroup_week, self.primary_week, DEFERRAL_QUANTILES[DEFERRAL_READING]],
            ]
        )


N_TARGET_COLUMNS: int = 4
N_KERNEL_CLAIMS: int = len(KERNEL_CLAIMS)


def walk_targets(claims: Claims, relax: Mapping[str, float]) -> np.ndarray:
    """The targets of the walk's set: ``claims`` with the intervals of the claims in ``relax``
    widened by that much on each side (printed units); the exact targets when ``relax`` is
    empty."""
    intervals = claims.intervals.copy()
    for cid, by in relax.items():
        j = KERNEL_CLAIMS.index(cid)
        if intervals[j, 3] != RAW:
            raise ValueError(f"{cid}: only claims on the printed scale can be relaxed")
        intervals[j, 0] -= by
        intervals[j, 1] += by
    t = claims.as_array()
    t[: intervals.size] = intervals.ravel()
    return t


T_WEEK_SUB: int = len(KERNEL_CLAIMS) * N_TARGET_COLUMNS
T_WEEK_PRIMARY: int = T_WEEK_SUB + 1
T_QUANTILE: int = T_WEEK_SUB + 2


def claim_interval(claim: Mapping[str, object]) -> tuple[float, float, float, float]:
    """(lo, hi, scale, kind) of one registry row: the half-open [lo, hi) of values the book
    prints as ``reported_as`` (rounding half away from zero; strict bounds), each edge moved by
    :data:`EPS` to the side the book's rounding puts an exact half, so that a floating-point
    sum one bit off a half still falls on the book's side."""
    from anrs119.tolerance import rounding_interval

    value, bound = float(claim["value"]), str(claim["bound"])
    cid = str(claim["claim"])
    if claim["statistic"] == "p_value" and bound != "=":
        if bound == "<":
            return -math.inf, value, MISS_SCALE["log_p"], LOG
        return value, math.inf, MISS_SCALE["log_p"], LOG
    scale = MISS_SCALE["p_value"] if claim["statistic"] == "p_value" else MISS_SCALE[cid]
    if bound == "<":
        return -math.inf, value - EPS, scale, RAW
    if bound == ">":
        return value + EPS, math.inf, scale, RAW
    lo, hi = rounding_interval(value, int(claim["decimals"]))
    # the book rounds half away from zero (tolerance.round_half_up): a value exactly half-way
    # belongs to the printed value farther from zero
    if value > 0:
        return lo - EPS, hi - EPS, scale, RAW
    if value < 0:
        return lo + EPS, hi + EPS, scale, RAW
    return lo + EPS, hi - EPS, scale, RAW


def claims_from_table(claims: pd.DataFrame, allocation: Mapping) -> Claims:
    """The search's targets for any abstract in the registry's format (indexed by ``id``, as
    :func:`anrs119.published.read_claims` returns it) and its forensic ``allocation`` (as
    :func:`anrs119.forensic.read_allocation` returns it)."""
    n, ev = allocation["n_by_arm"], allocation["events_w96_by_arm"]
    n1, n2 = int(n[ARMS[0]]), int(n[ARMS[1]])
    intervals = np.array([claim_interval(claims.loc[c]) for c in KERNEL_CLAIMS], dtype=float)
    ok = consistent_counts(n1, n2, similarity_level())
    similar = np.stack([ok if c in claims.index else np.ones_like(ok) for c in SAFETY_CLAIMS])
    value = claims["value"]
    return Claims(
        intervals=intervals,
        similar=similar,
        n_il2=n1,
        n_control=n2,
        events_il2=int(ev[ARMS[0]]),
        events_control=int(ev[ARMS[1]]),
        vl_cutoff=float(value["subgroup_vl_cutoff"]),
        subgroup_week=float(value["subgroup_timepoint_weeks"]),
        primary_week=float(value["primary_timepoint_weeks"]),
    )


@lru_cache(maxsize=1)
def claim_targets() -> Claims:
    """The registry's claims and the forensic allocation, read once."""
    from anrs119.forensic import read_allocation
    from anrs119.published import load_claims

    return claims_from_table(load_claims(), read_allocation())


@lru_cache(maxsize=8)
def consistent_counts(n_il2: int, n_control: int, alpha: float) -> np.ndarray:
    """(n_il2 + 1, n_control + 1) booleans: patient counts for which the book's one rule for a
    "similar" statement detects no difference (:mod:`anrs119.analysis.similarity`)."""
    from anrs119.analysis.similarity import no_difference_detected

    k1, k2 = np.meshgrid(np.arange(n_il2 + 1), np.arange(n_control + 1), indexing="ij")
    out = np.ascontiguousarray(no_difference_detected(k1, n_il2, k2, n_control, alpha))
    out.setflags(write=False)
    return out


def similarity_level() -> float:
    from anrs119.analysis.similarity import SIMILARITY_ALPHA

    return float(SIMILARITY_ALPHA)


# ---------------------------------------------------------------- the pool


@dataclass(frozen=True)
class Pool:
    """Simulated patients of both arms and what each contributes to the claims.

    ``trials`` holds every patient (one replicate, N = 2 x pool size); the feature arrays are
    (N,) and read the patient's data as the book's analyses read the ADaM tables.
    """

    trials: Trials
    adae: pd.DataFrame
    il2: np.ndarray
    event96: np.ndarray
    change_included: np.ndarray
    cd4_change: np.ndarray
    vl_change: np.ndarray
    low: np.ndarray
    primary_time: np.ndarray
    primary_event: np.ndarray
    art_time: np.ndarray
    art_event: np.ndarray
    aids: np.ndarray
    death: np.ndarray
    grade34: np.ndarray


def make_pool(
    p: Mapping[str, float], seed: int, replicate: int, per_arm: int = POOL_PER_ARM
) -> Pool:
    """Simulate ``per_arm`` patients per arm (replicate ``replicate`` of ``seed``)."""
    from anrs119.model.simulator.adverse_events import pool_adverse_events

    il2 = np.arange(2 * per_arm) < per_arm
    visits = visit_weeks(follow_up_horizon(p))
    tr = simulate(p, il2, visits, seed, 1, replicate, full=True)
    rng = np.random.default_rng([seed, replicate, 1])
    return pool_of(tr, p, pool_adverse_events(tr, p, rng))


def pool_of(tr: Trials, p: Mapping[str, float], adae: pd.DataFrame) -> Pool:
    """The patients of a one-replicate trial (simulated with ``full=True``) and their adverse
    events (``PATIENT`` = index in ``tr``), read as the book's analyses read them."""
    il2 = np.asarray(tr.il2[0], dtype=bool)
    t = truncate(tr, float(p["subgroup_week"]))
    week = float(p["primary_week"])
    prim = composite(t)
    event96 = (prim.event & (prim.time <= week))[0]
    dc, dv, inc = change_readings(t)[CHANGE_READING]
    art = time_to_art(t)
    seen_until = np.minimum(t.t_last, week)[0]
    g34 = np.zeros(il2.size, dtype=bool)
    # safety events are counted through the primary analysis period, as the book counts them
    hit = adae[adae["AETOXGR"].isin([3, 4]) & (adae["ASTWK"] <= week)]["PATIENT"]
    g34[hit.to_numpy()] = True
    return Pool(
        trials=tr,
        adae=adae,
        il2=il2,
        event96=event96,
        change_included=inc[0],
        cd4_change=np.where(inc[0], dc[0], 0.0),
        vl_change=np.where(inc[0], dv[0], 0.0),
        low=(np.round(t.bvl, 2) < p["vl_cutoff"])[0],
        primary_time=ceil_tenth(prim.time)[0],
        primary_event=prim.event[0],
        art_time=ceil_tenth(art.time)[0],
        art_event=art.event[0],
        aids=(t.t_aids <= seen_until)[0],
        death=(t.t_death <= seen_until)[0],
        grade34=g34,
    )


# ---------------------------------------------------------------- the claims in numba


@njit(cache=True)
def _median(x):
    return np.median(x) if x.size else np.nan


@njit(cache=True)
def _rank_sum_p(x, y):
    """Two-sided Mann-Whitney P, asymptotic with tie and continuity corrections (scipy's
    ``mannwhitneyu(method="asymptotic")``), by the simulator's own rank-sum code."""
    vals = np.concatenate((x, y))
    first = np.arange(vals.size) < x.size
    return _mw_p(vals, first, np.argsort(vals), vals.size, x.size)


@njit(cache=True)
def _event_first_order(time, event):
    """Order by time, events before censorings at a tied time (times are whole tenths of a
    week, so a hundredth breaks the tie without reordering distinct times)."""
    key = time + np.where(event, 0.0, 0.01)
    return np.argsort(key, kind="mergesort")


@njit(cache=True)
def _km_at(time, event, week):
    """Kaplan-Meier survival at ``week`` (events at a tied time before censorings)."""
    order = _event_first_order(time, event)
    n = time.size
    s = 1.0
    for k in range(n):
        i = order[k]
        if time[i] > week:
            break
        if event[i]:
            s *= 1.0 - 1.0 / (n - k)
    return s


@njit(cache=True)
def _km_quantile(time, event, q):
    """First time at which the Kaplan-Meier estimate falls to 1 - q or below (inf if never)."""
    order = _event_first_order(time, event)
    n = time.size
    s = 1.0
    for k in range(n):
        i = order[k]
        if event[i]:
            s *= 1.0 - 1.0 / (n - k)
            if s <= 1.0 - q + 1e-12:
                return time[i]
    return np.inf


@njit(cache=True)
def _logrank_p(t1, e1, t2, e2):
    """Two-sided log-rank P (chi-square, 1 df) on exact times."""
    t = np.concatenate((t1, t2))
    e = np.concatenate((e1, e2))
    g = np.concatenate((np.ones(t1.size, np.bool_), np.zeros(t2.size, np.bool_)))
    order = np.argsort(t, kind="mergesort")
    n1 = float(t1.size)
    n = float(t.size)
    o_e = 0.0
    var = 0.0
    k = 0
    total = t.size
    while k < total:
        m = k
        while m + 1 < total and t[order[m + 1]] == t[order[k]]:
            m += 1
        d = 0.0
        d1 = 0.0
        c1 = 0.0
        for q in range(k, m + 1):
            i = order[q]
            if e[i]:
                d += 1.0
                if g[i]:
                    d1 += 1.0
            if g[i]:
                c1 += 1.0
        if d > 0.0 and n > 0.0:
            o_e += d1 - d * n1 / n
            if n > 1.0:
                var += n1 * (n - n1) * d * (n - d) / (n * n * (n - 1.0))
        n1 -= c1
        n -= m - k + 1
        k = m + 1
    if var <= 0.0:
        return 1.0
    stat = o_e * o_e / var
    return math.erfc(math.sqrt(stat / 2.0))


N_VALUES: int = 14
"""Values the kernel computes per trial (see :data:`VALUE_NAMES`)."""
VALUE_NAMES: tuple[str, ...] = (
    "cd4_change_w96_il2",
    "cd4_change_w96_control",
    "cd4_change_w96_p",
    "vl_change_w96_il2",
    "vl_change_w96_control",
    "vl_change_w96_p",
    "lowvl_free_w150_il2",
    "lowvl_free_w150_control",
    "lowvl_free_w150_p",
    "lowvl_art_deferral",
    "n_lowvl_il2",
    "n_lowvl_control",
    "aids_w96_il2",
    "aids_w96_control",
)


@njit(cache=True)
def _evaluate(sel, n1, f, ff, t, similar_ok, limit, out, wf, wb):
    """Cost of the trial made of pool patients ``sel`` (IL-2 first, n1 of them): 0 when every
    claim prints as published, and the claims themselves in ``out`` (VALUE_NAMES, then deaths
    and grade 3-4 counts per arm).

    ``f``: float features (cd4 change, vl change, primary time, ART time); ``ff``: boolean
    features (change included, low VL, primary event, ART event, AIDS, death, grade 3-4); ``t``:
    the targets (:meth:`Claims.as_array`); ``similar_ok``: (3, n1 + 1, n2 + 1) counts allowed by
    the "similar" statements. The cheap claims come first and the evaluation stops (returning a
    cost above ``limit``, ``out`` incomplete) as soon as the cost passes ``limit``: the search
    rejects most proposals after the counts and medians. ``wf`` (8, n) and ``wb`` (4, n) are
    work space, so nothing is allocated per proposal.
    """
    n = sel.size
    m = np.zeros(2, np.int64)  # patients with a change value, per arm
    lo = np.zeros(2, np.int64)  # patients in the low-VL subgroup, per arm
    counts = np.zeros(6)  # AIDS, death, grade 3-4, per arm
    for k in range(n):
        i = sel[k]
        a = 0 if k < n1 else 1
        counts[a] += ff[4, i]
        counts[2 + a] += ff[5, i]
        counts[4 + a] += ff[6, i]
        if ff[0, i]:
            wf[2 * a, m[a]] = f[0, i]
            wf[2 * a + 1, m[a]] = f[1, i]
            m[a] += 1
        if ff[1, i]:
            wf[4 + 2 * a, lo[a]] = f[2, i]
            wf[5 + 2 * a, lo[a]] = f[3, i]
            wb[2 * a, lo[a]] = ff[2, i]
            wb[2 * a + 1, lo[a]] = ff[3, i]
            lo[a] += 1
    out[10] = lo[0]
    out[11] = lo[1]
    out[12] = counts[0]
    out[13] = counts[1]
    out[N_VALUES + 1] = counts[2]
    out[N_VALUES + 2] = counts[3]
    out[N_VALUES + 3] = counts[4]
    out[N_VALUES + 4] = counts[5]
    cost = 0.0
    for j in range(3):
        if not similar_ok[j, int(counts[2 * j]), int(counts[2 * j + 1])]:
            cost += 2.0
    if cost > limit:
        return cost
    c1, v1 = wf[0, : m[0]], wf[1, : m[0]]
    c2, v2 = wf[2, : m[1]], wf[3, : m[1]]
    out[0] = _median(c1)
    out[1] = _median(c2)
    out[3] = _median(v1)
    out[4] = _median(v2)
    cost += _miss_claim(out[0], t, 0) + _miss_claim(out[1], t, 1)
    cost += _miss_claim(out[3], t, 3) + _miss_claim(out[4], t, 4)
    if cost > limit:
        return cost
    pt1, at1 = wf[4, : lo[0]], wf[5, : lo[0]]
    pt2, at2 = wf[6, : lo[1]], wf[7, : lo[1]]
    pe1, ae1 = wb[0, : lo[0]], wb[1, : lo[0]]
    pe2, ae2 = wb[2, : lo[1]], wb[3, : lo[1]]
    out[6] = 100.0 * _km_at(pt1, pe1, t[T_WEEK_SUB]) if lo[0] else np.nan
    out[7] = 100.0 * _km_at(pt2, pe2, t[T_WEEK_SUB]) if lo[1] else np.nan
    q1 = _km_quantile(at1, ae1, t[T_QUANTILE]) if lo[0] else np.nan
    q2 = _km_quantile(at2, ae2, t[T_QUANTILE]) if lo[1] else np.nan
    out[9] = q1 - q2 if np.isfinite(q1) and np.isfinite(q2) else np.nan
    cost += _miss_claim(out[6], t, 6) + _miss_claim(out[7], t, 7)
    cost += _miss_claim(out[9], t, 9)
    if cost > limit:
        return cost
    out[5] = _rank_sum_p(v1, v2)
    cost += _miss_claim(out[5], t, 5)
    if cost > limit:
        return cost
    out[2] = _rank_sum_p(c1, c2)
    out[8] = _logrank_p(pt1, pe1, pt2, pe2) if lo[0] and lo[1] else np.nan
    return cost + _miss_claim(out[2], t, 2) + _miss_claim(out[8], t, 8)


EPS: float = 1e-9
"""Half a printed unit's boundary is moved by EPS toward the side the book's rounding puts it
(:func:`claim_interval`), far beyond floating-point error and far below any printed digit."""


MISS: float = 1.0
"""Cost of any claim outside its interval, on top of the scaled distance: a small step, so that
the search can cross a claim's boundary when that frees another one."""


@njit(cache=True)
def _miss(x, lo, hi, scale):
    """Inside the half-open [lo, hi): 0; else how far, plus :data:`MISS`."""
    if np.isnan(x):
        return 10.0
    if x < lo:
        return MISS + (lo - x) / scale
    if x >= hi:
        return MISS + (x - hi) / scale
    return 0.0


@njit(cache=True)
def _miss_log(p, lo, hi, scale):
    """A P value bound on the log10 scale, with :data:`LOG_MARGIN` (``lo`` or ``hi`` infinite)."""
    if np.isnan(p):
        return 10.0
    lp = math.log10(max(p, 1e-300))
    if np.isfinite(hi):
        limit = math.log10(hi) - LOG_MARGIN
        if lp >= limit:
            return MISS + (lp - limit) / scale
    if np.isfinite(lo):
        limit = math.log10(max(lo, 1e-300)) + LOG_MARGIN
        if lp <= limit:
            return MISS + (limit - lp) / scale
    return 0.0


@njit(cache=True)
def _miss_claim(x, t, j):
    """How far claim ``j`` of :data:`KERNEL_CLAIMS` (value ``x``) is from its interval in ``t``."""
    r = j * N_TARGET_COLUMNS
    if t[r + 3] == LOG:
        return _miss_log(x, t[r], t[r + 1], t[r + 2])
    return _miss(x, t[r], t[r + 1], t[r + 2])


@njit(cache=True)
def _search(rng, strata, strata_start, slot_stratum, sel, n1, f, ff, t, similar_ok,
            iterations, rounds):  # fmt: skip
    """Swap search from the trial ``sel`` (modified in place); returns the final cost.

    Each proposal takes a random slot of the trial and a random pool patient of the slot's
    stratum (same arm, same week-96 event status: the forensic counts never move) who is not in
    the trial, and swaps them. Proposals that do not raise the cost are kept, worse ones with a
    probability that falls as the search goes on (simulated annealing), so plateaus of equal
    cost are crossed and local minima left.
    """
    n_pool = ff.shape[1]
    in_trial = np.zeros(n_pool, np.bool_)
    for k in range(sel.size):
        in_trial[sel[k]] = True
    v = np.empty(N_VALUES + 5)
    wf = np.empty((8, sel.size))
    wb = np.empty((4, sel.size), np.bool_)
    cur = _evaluate(sel, n1, f, ff, t, similar_ok, np.inf, v, wf, wb)
    temp0 = 0.5
    for it in range(iterations * rounds):
        if cur == 0.0:
            break
        temp = temp0 * (1.0 - (it % iterations) / iterations) + 1e-3
        k = rng.integers(0, sel.size)
        s = slot_stratum[k]
        lo = strata_start[s]
        hi = strata_start[s + 1]
        j = strata[lo + rng.integers(0, hi - lo)]
        if in_trial[j]:
            continue
        old = sel[k]
        sel[k] = j
        # accept when new <= cur, or with probability exp(-(new - cur) / temp): the same as
        # new <= cur - temp * log(u), a limit known before the evaluation stops early
        limit = cur - temp * math.log(1.0 - rng.random())
        new = _evaluate(sel, n1, f, ff, t, similar_ok, limit, v, wf, wb)
        if new <= limit:
            in_trial[old] = False
            in_trial[j] = True
            cur = new
        else:
            sel[k] = old
    return cur


@njit(cache=True)
def _is_exact(out, t):
    """Whether the claim values ``out`` of a fully evaluated trial lie in ``t``'s intervals."""
    for j in range(N_KERNEL_CLAIMS):  # noqa: SIM110 (numba compiles no generator in all())
        if _miss_claim(out[j], t, j) != 0.0:
            return False
    return True


@njit(cache=True)
def _walk(rng, strata, strata_start, position, slot_stratum, sel, n1, f, ff, t, t_walk,
          similar_ok, proposals, pair, local, width, thin, trace, sample_from, sample,
          stats):  # fmt: skip
    """Markov chain from the exact trial ``sel`` (modified in place) whose exact states are a
    sample of the exact set.

    The chain moves within the set ``t_walk`` allows: the exact set itself, or a relaxed one in
    which a few claims may miss by a little (:data:`RELAX`); either way its target is uniform on
    that set, so its visits to exact trials are uniform on the exact trials. Three kinds of
    proposal, each replacing patients by pool patients of the same stratum (arm and week-96
    status) who are not in the trial:

    - with probability ``pair``, two slots of the same arm at once, each with a random patient
      of its stratum (two swaps together can change the low-viral-load subgroup's size);
    - with probability ``local``, one slot with a *neighbour* of its patient: the strata are
      sorted by the viral-load change (:func:`_strata`; ``position`` gives each patient's place),
      and the new patient sits a uniformly drawn 1 to ``width`` places above or below (the
      rank-sum P of the viral-load changes, printed to two decimals, then barely moves);
    - otherwise, one slot with a random patient of its stratum.

    A proposal is accepted when the new trial is in the walk's set, refused otherwise. Every kind
    is symmetric (the reverse move has the same probability: a neighbour's neighbour relation is
    symmetric, and an offset that leaves the stratum is refused in both directions), so the
    uniform distribution on the set is stationary (Metropolis with a flat target on its support),
    and so it is for their mixture.

    Samples are uniform draws among the exact visits (each proposal is one visit of the state it
    leaves the chain in; reservoir sampling): one per block of ``thin`` proposals into the rows
    of ``trace`` (when ``thin`` > 0; -1 where a block saw no exact trial), and one among the
    visits from proposal ``sample_from`` on into ``sample``. ``stats``: per kind (single, local,
    pair) moves proposed and accepted, then the exact visits from ``sample_from`` on, and in all.
    """
    n_pool = ff.shape[1]
    n = sel.size
    in_trial = np.zeros(n_pool, np.bool_)
    for k in range(n):
        in_trial[sel[k]] = True
    v = np.empty(N_VALUES + 5)
    wf = np.empty((8, n))
    wb = np.empty((4, n), np.bool_)
    for q in range(stats.size):
        stats[q] = 0
    exact = True
    row = 0
    seen = 0
    for it in range(proposals):
        k1 = rng.integers(0, n)
        s1 = slot_stratum[k1]
        lo1 = strata_start[s1]
        size1 = strata_start[s1 + 1] - lo1
        j1 = strata[lo1 + rng.integers(0, size1)]
        u = rng.random()
        kind = 1
        if u < pair:
            stats[4] += 1
            # a second slot of the same arm, uniformly among the others
            a_lo, a_hi = (0, n1) if k1 < n1 else (n1, n)
            k2 = a_lo + rng.integers(0, a_hi - a_lo - 1)
            if k2 >= k1:
                k2 += 1
            s2 = slot_stratum[k2]
            lo2 = strata_start[s2]
            j2 = strata[lo2 + rng.integers(0, strata_start[s2 + 1] - lo2)]
            if not in_trial[j1] and not in_trial[j2] and j1 != j2:
                o1, o2 = sel[k1], sel[k2]
                sel[k1], sel[k2] = j1, j2
                if _evaluate(sel, n1, f, ff, t_walk, similar_ok, 0.0, v, wf, wb) == 0.0:
                    in_trial[o1] = False
                    in_trial[o2] = False
                    in_trial[j1] = True
                    in_trial[j2] = True
                    stats[5] += 1
                    exact = _is_exact(v, t)
                else:
                    sel[k1], sel[k2] = o1, o2
            j1 = -1
        elif u < pair + local:
            stats[2] += 1
            step = 1 + rng.integers(0, width)
            q = position[sel[k1]] + (step if rng.random() < 0.5 else -step)
            j1 = strata[lo1 + q] if 0 <= q < size1 else -1
            kind = 3
        else:
            stats[0] += 1
        if j1 >= 0 and not in_trial[j1]:
            o1 = sel[k1]
            sel[k1] = j1
            if _evaluate(sel, n1, f, ff, t_walk, similar_ok, 0.0, v, wf, wb) == 0.0:
                in_trial[o1] = False
                in_trial[j1] = True
                stats[kind] += 1
                exact = _is_exact(v, t)
            else:
                sel[k1] = o1
        if exact:
            stats[7] += 1
            if thin > 0 and row < trace.shape[0]:
                seen += 1
                if rng.random() * seen < 1.0:
                    trace[row, :] = sel
            if it >= sample_from:
                stats[6] += 1
                if rng.random() * stats[6] < 1.0:
                    sample[:] = sel
        if thin > 0 and (it + 1) % thin == 0 and row < trace.shape[0]:
            if seen == 0:
                trace[row, :] = -1
            row += 1
            seen = 0
    return row


def _features(pool: Pool) -> tuple[np.ndarray, np.ndarray]:
    f = np.ascontiguousarray(
        np.stack([pool.cd4_change, pool.vl_change, pool.primary_time, pool.art_time]), float
    )
    ff = np.ascontiguousarray(
        np.stack(
            [
                pool.change_included,
                pool.low,
                pool.primary_event,
                pool.art_event,
                pool.aids,
                pool.death,
                pool.grade34,
            ]
        ),
        np.bool_,
    )
    return f, ff


def trial_values(
    pool: Pool, selection: np.ndarray, n_il2: int, claims: Claims | None = None
) -> dict[str, float]:
    """The claims (and counts) of the trial made of pool patients ``selection`` (IL-2 first,
    ``n_il2`` of them), read as the kernel reads them (``claims`` supplies the subgroup week and
    the deferral's quantile; the registry's by default)."""
    f, ff = _features(pool)
    t = claim_targets() if claims is None else claims
    v = np.empty(N_VALUES + 5)
    sel = np.asarray(selection, np.int64)
    wf = np.empty((8, sel.size))
    wb = np.empty((4, sel.size), np.bool_)
    _evaluate(sel, n_il2, f, ff, t.as_array(), _any_counts(sel.size), np.inf, v, wf, wb)
    out = dict(zip(VALUE_NAMES, v[:N_VALUES].tolist(), strict=True))
    out.update(
        {
            "death_w96_il2": float(v[N_VALUES + 1]),
            "death_w96_control": float(v[N_VALUES + 2]),
            "grade34_w96_il2": float(v[N_VALUES + 3]),
            "grade34_w96_control": float(v[N_VALUES + 4]),
        }
    )
    return out


def _any_counts(n: int) -> np.ndarray:
    """A "similar" table that allows every count (values only, no verdict)."""
    return np.ones((3, n + 1, n + 1), dtype=np.bool_)


@dataclass(frozen=True)
class Reconstruction:
    """A trial assembled from a pool: ``selection`` holds pool indices, IL-2 patients first.

    ``first_hit`` is the search's first exact trial, where the walk started; ``walk`` counts the
    walk's proposals and ``accepted`` its accepted moves (single and pair)."""

    pool: Pool
    selection: np.ndarray
    n_il2: int
    exact: bool
    cost: float
    restarts: int
    values: dict[str, float]
    first_hit: np.ndarray | None = None
    walk: int = 0
    accepted: int = 0

    def trial(self) -> Trials:
        """The chosen patients as one replicate (shapes (1, n, ...))."""
        return take_patients(self.pool.trials, self.selection)

    def adverse_events(self) -> pd.DataFrame:
        """The chosen patients' adverse events, PATIENT renumbered to the trial's order."""
        return adverse_events_of(self.pool, self.selection)


def adverse_events_of(pool: Pool, selection: np.ndarray) -> pd.DataFrame:
    """The adverse events of pool patients ``selection``, PATIENT renumbered to their order."""
    where = {int(k): pos for pos, k in enumerate(selection)}
    ae = pool.adae[pool.adae["PATIENT"].isin(where)].copy()
    ae["PATIENT"] = ae["PATIENT"].map(where)
    return ae.sort_values(["PATIENT", "ASTWK"], kind="stable").reset_index(drop=True)


def take_patients(tr: Trials, index: np.ndarray) -> Trials:
    """Patients ``index`` of a one-replicate trial, in that order."""
    from dataclasses import fields

    out = {}
    for fld in fields(tr):
        v = getattr(tr, fld.name)
        if fld.name in ("visits", "cycles", "week") or v is None:
            out[fld.name] = v
        else:
            out[fld.name] = np.ascontiguousarray(v[:, index])
    return Trials(**out)


def _strata(pool: Pool) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Pool indices grouped by (arm, week-96 event), in the order IL-2 event, IL-2 no event,
    control event, control no event; within a group, patients without a week-96 change first
    (in pool order), then by viral-load change (ties by pool order): the walk's neighbours."""
    groups = []
    for arm, event in ((True, True), (True, False), (False, True), (False, False)):
        g = np.flatnonzero((pool.il2 == arm) & (pool.event96 == event))
        key = np.where(pool.change_included[g], pool.vl_change[g], -np.inf)
        groups.append(g[np.lexsort((g, key))])
    start = np.cumsum([0, *[g.size for g in groups]])
    return np.concatenate(groups).astype(np.int64), start.astype(np.int64), groups


def _positions(strata: np.ndarray, start: np.ndarray, n_pool: int) -> np.ndarray:
    """Each pool patient's place within its stratum's sorted list."""
    pos = np.empty(n_pool, dtype=np.int64)
    for s in range(start.size - 1):
        pos[strata[start[s] : start[s + 1]]] = np.arange(start[s + 1] - start[s])
    return pos


@dataclass(frozen=True)
class _Setup:
    """What the kernels read for one pool and one abstract."""

    strata: np.ndarray
    start: np.ndarray
    position: np.ndarray
    groups: list[np.ndarray]
    need: tuple[int, int, int, int]
    slot_stratum: np.ndarray
    f: np.ndarray
    ff: np.ndarray
    targets: np.ndarray
    similar: np.ndarray
    n1: int
    n2: int


def _setup(pool: Pool, claims: Claims, search: bool = True) -> _Setup:
    n1, n2 = claims.n_il2, claims.n_control
    need = (claims.events_il2, n1 - claims.events_il2, claims.events_control,
            n2 - claims.events_control)  # fmt: skip
    strata, start, groups = _strata(pool)
    for g, k in zip(groups, need, strict=True):
        if search and g.size < 2 * k:
            raise ValueError(
                f"pool too small: a stratum holds {g.size} patients, the trial needs {k}"
            )
    f, ff = _features(pool)
    return _Setup(
        strata=strata,
        start=start,
        position=_positions(strata, start, pool.il2.size),
        groups=groups,
        need=need,
        slot_stratum=np.repeat(np.arange(4), need).astype(np.int64),
        f=f,
        ff=ff,
        targets=claims.as_array(),
        similar=np.ascontiguousarray(claims.similar, dtype=np.bool_),
        n1=n1,
        n2=n2,
    )


def walk_chain(
    pool: Pool,
    start: np.ndarray,
    rng: np.random.Generator,
    proposals: int,
    *,
    thin: int = 0,
    claims: Claims | None = None,
    pair: float = PAIR_SHARE,
    local: float = LOCAL_SHARE,
    width: int = LOCAL_WIDTH,
    relax: Mapping[str, float] = RELAX,
) -> Walk:
    """Walk ``proposals`` steps from the exact trial ``start`` (:func:`_walk`), with one exact
    trial drawn per block of ``thin`` proposals (none when ``thin`` is 0) and one from the
    second half of the walk."""
    claims = claim_targets() if claims is None else claims
    s = _setup(pool, claims, search=False)
    sel = np.array(start, dtype=np.int64)
    rows = proposals // thin if thin > 0 else 0
    trace = np.empty((rows, sel.size), dtype=np.int64)
    sample = np.full(sel.size, -1, dtype=np.int64)
    stats = np.zeros(8, dtype=np.int64)
    _walk(rng, s.strata, s.start, s.position, s.slot_stratum, sel, s.n1, s.f, s.ff, s.targets,
          walk_targets(claims, relax), s.similar, int(proposals), float(pair), float(local),
          int(width), int(thin), trace, int(proposals) // 2, sample, stats)  # fmt: skip
    return Walk(sample if stats[6] > 0 else None, trace[trace[:, 0] >= 0], stats, sel)


@dataclass(frozen=True)
class Walk:
    """A walk's draws: ``draw`` (uniform among the exact visits of its second half; None when
    it had none), ``trace`` (one exact trial per block, blocks without one left out), ``stats``
    (see :func:`_walk`) and the state it ended in."""

    draw: np.ndarray | None
    trace: np.ndarray
    stats: np.ndarray
    last: np.ndarray

    @property
    def exact_share(self) -> float:
        """Share of the visits that were exact trials."""
        total = int(self.stats[0] + self.stats[2] + self.stats[4])
        return float(self.stats[7] / total) if total else float("nan")


def is_exact_selection(pool: Pool, selection: np.ndarray, claims: Claims | None = None) -> bool:
    """Whether the kernel finds every claim of ``claims`` exact on pool patients ``selection``
    (the arm sizes and week-96 counts are checked too)."""
    claims = claim_targets() if claims is None else claims
    s = _setup(pool, claims, search=False)
    sel = np.asarray(selection, dtype=np.int64)
    if sel.size != s.n1 + s.n2 or np.unique(sel).size != sel.size:
        return False
    arm_ok = pool.il2[sel[: s.n1]].all() and not pool.il2[sel[s.n1 :]].any()
    events_ok = (
        int(pool.event96[sel[: s.n1]].sum()) == claims.events_il2
        and int(pool.event96[sel[s.n1 :]].sum()) == claims.events_control
    )
    if not (arm_ok and events_ok):
        return False
    v = np.empty(N_VALUES + 5)
    wf = np.empty((8, sel.size))
    wb = np.empty((4, sel.size), np.bool_)
    return _evaluate(sel, s.n1, s.f, s.ff, s.targets, s.similar, 0.0, v, wf, wb) == 0.0


def reconstruct(
    pool: Pool,
    seed: int | np.random.Generator,
    sweeps: int = SWEEPS,
    rounds: int = ROUNDS,
    restarts: int = RESTARTS,
    *,
    walk: int | None = None,
    claims: Claims | None = None,
) -> Reconstruction:
    """A reconstruction drawn from the pool: the search's first exact trial, then ``walk``
    proposals of the chain within the exact set (:data:`WALK_SWEEPS` x trial size by default;
    0 returns the first hit itself).

    The trial always has the forensic arm sizes and week-96 event counts; the search moves the
    other claims into their rounding intervals. ``exact`` is False if no start reached them
    within ``sweeps`` x trial size proposals (then the best trial found is returned, and no walk
    is made). ``claims``: the abstract's targets (:func:`claims_from_table`; the registry's by
    default).
    """
    claims = claim_targets() if claims is None else claims
    s = _setup(pool, claims)
    n1, n2 = s.n1, s.n2
    walk = WALK_SWEEPS * (n1 + n2) if walk is None else int(walk)
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    used = 0
    for _ in range(restarts):
        used += 1
        sel = np.concatenate(
            [rng.choice(g, k, replace=False) for g, k in zip(s.groups, s.need, strict=True)]
        )
        cost = _search(
            rng, s.strata, s.start, s.slot_stratum, sel, n1, s.f, s.ff, s.targets,
            s.similar, sweeps * (n1 + n2), rounds,
        )  # fmt: skip
        if best is None or cost < best[0]:
            best = (cost, sel.copy())
        if cost == 0.0:
            break
    assert best is not None
    cost, sel = best
    first = sel.copy()
    accepted = 0
    walked = 0
    exact = cost == 0.0
    if exact and walk > 0:
        # a walk whose second half saw no exact trial walks on, up to three times
        for _ in range(3):
            w = walk_chain(pool, sel, rng, walk, claims=claims)
            accepted += int(w.stats[1] + w.stats[3] + w.stats[5])
            walked += walk
            sel = w.last
            if w.draw is not None:
                sel = w.draw
                break
        else:
            exact = False
    return Reconstruction(
        pool=pool,
        selection=sel,
        n_il2=n1,
        exact=exact,
        cost=float(cost),
        restarts=used,
        values=trial_values(pool, sel, n1, claims),
        first_hit=first,
        walk=walked,
        accepted=accepted,
    )


def embedded_reconstruction(
    p: Mapping[str, float], seed: int, attempts: int = EMBEDDED_ATTEMPTS
) -> tuple[Reconstruction, int]:
    """The first exact reconstruction from pools ``0, 1, ...`` of ``seed``, and its attempt: a
    draw of the walk within the exact set, as every reconstruction of the ensemble."""
    for attempt in range(attempts):
        rec = reconstruct(make_pool(p, seed, attempt), np.random.default_rng([seed, attempt]))
        if rec.exact:
            return rec, attempt
    raise ReconstructionError(
        f"no exact reconstruction in {attempts} pools of seed {seed}: the parameter point cannot "
        "give every published number under the book's readings (or the search needs more effort)"
    )


def warm_up(p: Mapping[str, float], seed: int) -> None:
    """Run the search and the walk once on a small pool, so that numba compiles (or loads) them."""
    pool = make_pool(p, seed, 0, per_arm=400)
    rec = reconstruct(pool, seed, sweeps=1, rounds=1, restarts=1, walk=0)
    walk_chain(pool, rec.selection, np.random.default_rng(seed), 10, thin=5, claims=None)


class ReconstructionError(RuntimeError):
    """No reconstruction could be made, or the one made is not exact by the book's analyses."""


def take_many(tr: Trials, selections: np.ndarray) -> Trials:
    """Patients ``selections[r]`` of a one-replicate trial as replicate r: (R, n, ...) arrays,
    so that many reconstructions of one pool are summarised in one vectorised pass."""
    from dataclasses import fields

    sels = np.asarray(selections, dtype=np.int64)
    out = {}
    for fld in fields(tr):
        v = getattr(tr, fld.name)
        if fld.name in ("visits", "cycles", "week") or v is None:
            out[fld.name] = v
        else:
            out[fld.name] = np.ascontiguousarray(v[0][sels])
    return Trials(**out)
