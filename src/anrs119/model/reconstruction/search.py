"""Conditioned reconstruction: model-drawn patients chosen so that every published number is exact.

A large pool of patients per arm is simulated from one posterior draw. A trial of the published
arm sizes is then assembled from the pool and improved one swap at a time (a patient out, another
pool patient of the same arm in, as SPRITE does for samples) until every numeric claim prints as
published under the book's readings, the "similar" statements stay consistent, the week-96
counts equal the forensic table and the low-viral-load subgroup sizes lie in the forensic
feasible region. No value is edited: every row of the result is a simulated patient, whole.

The claims are evaluated in a numba kernel that mirrors the book's analyses of the ADaM tables
(crude week-96 proportions, medians and rank-sum tests of the off-ART changes, Kaplan-Meier and
log-rank in the subgroup, Kaplan-Meier quantiles of time to ART, Newcombe CIs of the safety
counts); the written tables are checked again by the book's own code (:mod:`anrs119.reproduce`).
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
    POOL_PER_ARM,
    RESTARTS,
    ROUNDS,
    SWEEPS,
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
    "Claims",
    "Pool",
    "Reconstruction",
    "claim_targets",
    "embedded_reconstruction",
    "make_pool",
    "reconstruct",
]


# ---------------------------------------------------------------- the targets


@dataclass(frozen=True)
class Claims:
    """The published numbers as the search needs them: half-open intervals of values that print
    as published (bounds as ``[-inf, bound)``) and the forensic counts and sizes."""

    cd4_il2: tuple[float, float]
    cd4_control: tuple[float, float]
    cd4_p: float
    vl_il2: tuple[float, float]
    vl_control: tuple[float, float]
    vl_p: tuple[float, float]
    low_il2: tuple[float, float]
    low_control: tuple[float, float]
    low_p: float
    deferral: tuple[float, float]
    n_il2: int
    n_control: int
    events_il2: int
    events_control: int
    vl_cutoff: float
    subgroup_week: float
    primary_week: float

    def as_array(self) -> np.ndarray:
        """The intervals and bounds in the order the kernel reads them."""
        return np.array(
            [
                *self.cd4_il2,
                *self.cd4_control,
                self.cd4_p,
                *self.vl_il2,
                *self.vl_control,
                *self.vl_p,
                *self.low_il2,
                *self.low_control,
                self.low_p,
                *self.deferral,
                self.subgroup_week,
                self.primary_week,
                DEFERRAL_QUANTILES[DEFERRAL_READING],
            ]
        )


def _interval(claim: pd.Series) -> tuple[float, float]:
    from anrs119.tolerance import rounding_interval

    if claim["bound"] == "<":
        return -math.inf, float(claim["value"])
    return rounding_interval(float(claim["value"]), int(claim["decimals"]))


@lru_cache(maxsize=1)
def claim_targets() -> Claims:
    """The registry's claims, the forensic allocation and the design, read once."""
    from anrs119.design import trial_design
    from anrs119.forensic import read_allocation
    from anrs119.published import load_claims

    c = load_claims()
    alloc = read_allocation()
    design = trial_design()
    n, ev = alloc["n_by_arm"], alloc["events_w96_by_arm"]
    return Claims(
        cd4_il2=_interval(c.loc["cd4_change_w96_il2"]),
        cd4_control=_interval(c.loc["cd4_change_w96_control"]),
        cd4_p=float(c.loc["cd4_change_w96_p", "value"]),
        vl_il2=_interval(c.loc["vl_change_w96_il2"]),
        vl_control=_interval(c.loc["vl_change_w96_control"]),
        vl_p=_interval(c.loc["vl_change_w96_p"]),
        low_il2=_interval(c.loc["lowvl_free_w150_il2"]),
        low_control=_interval(c.loc["lowvl_free_w150_control"]),
        low_p=float(c.loc["lowvl_free_w150_p", "value"]),
        deferral=_interval(c.loc["lowvl_art_deferral"]),
        n_il2=int(n[ARMS[0]]),
        n_control=int(n[ARMS[1]]),
        events_il2=int(ev[ARMS[0]]),
        events_control=int(ev[ARMS[1]]),
        vl_cutoff=float(design.subgroup_vl_cutoff),
        subgroup_week=float(design.subgroup_week),
        primary_week=float(design.primary_week),
    )


@lru_cache(maxsize=4)
def feasible_subgroup_sizes(n_il2: int, n_control: int) -> np.ndarray:
    """(n_il2 + 1, n_control + 1) booleans: subgroup sizes for which whole numbers of patients
    give both printed week-150 percentages (the forensic chapter's feasible region)."""
    from anrs119.forensic import lowvl_check

    grid = lowvl_check((n_il2, n_control)).by_split()
    out = np.zeros((n_il2 + 1, n_control + 1), dtype=np.bool_)
    ok = grid[grid["tables"] > 0]
    out[ok["n_il2"].to_numpy(), ok["n_control"].to_numpy()] = True
    return out


@lru_cache(maxsize=4)
def consistent_counts(n_il2: int, n_control: int, alpha: float) -> np.ndarray:
    """(n_il2 + 1, n_control + 1) booleans: patient counts for which the book's one rule for a
    "similar" statement detects no difference (:mod:`anrs119.analysis.similarity`)."""
    from anrs119.analysis.similarity import no_difference_detected

    k1, k2 = np.meshgrid(np.arange(n_il2 + 1), np.arange(n_control + 1), indexing="ij")
    return np.ascontiguousarray(no_difference_detected(k1, n_il2, k2, n_control, alpha))


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
    t = truncate(tr, float(p["subgroup_week"]))
    week = float(p["primary_week"])
    prim = composite(t)
    event96 = (prim.event & (prim.time <= week))[0]
    dc, dv, inc = change_readings(t)[CHANGE_READING]
    art = time_to_art(t)
    seen_until = np.minimum(t.t_last, week)[0]
    rng = np.random.default_rng([seed, replicate, 1])
    adae = pool_adverse_events(tr, p, rng)
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
def _evaluate(sel, n1, f, ff, t, sizes_ok, similar_ok, limit, out, wf, wb):
    """Cost of the trial made of pool patients ``sel`` (IL-2 first, n1 of them): 0 when every
    claim prints as published, and the claims themselves in ``out`` (VALUE_NAMES, then deaths
    and grade 3-4 counts per arm).

    ``f``: float features (cd4 change, vl change, primary time, ART time); ``ff``: boolean
    features (change included, low VL, primary event, ART event, AIDS, death, grade 3-4); ``t``:
    the targets (:meth:`Claims.as_array`). The cheap claims come first and the evaluation stops
    (returning a cost above ``limit``, ``out`` incomplete) as soon as the cost passes ``limit``:
    the search rejects most proposals after the counts and medians. ``wf`` (8, n) and ``wb``
    (4, n) are work space, so nothing is allocated per proposal.
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
    cost = 0.0 if sizes_ok[lo[0], lo[1]] else 2.0
    for j in range(3):
        if not similar_ok[int(counts[2 * j]), int(counts[2 * j + 1])]:
            cost += 2.0
    if cost > limit:
        return cost
    c1, v1 = wf[0, : m[0]], wf[1, : m[0]]
    c2, v2 = wf[2, : m[1]], wf[3, : m[1]]
    out[0] = _median(c1)
    out[1] = _median(c2)
    out[3] = _median(v1)
    out[4] = _median(v2)
    cost += _miss(out[0], t[0], t[1], 5.0) + _miss(out[1], t[2], t[3], 5.0)
    cost += _miss(out[3], t[5], t[6], 0.02) + _miss(out[4], t[7], t[8], 0.02)
    if cost > limit:
        return cost
    pt1, at1 = wf[4, : lo[0]], wf[5, : lo[0]]
    pt2, at2 = wf[6, : lo[1]], wf[7, : lo[1]]
    pe1, ae1 = wb[0, : lo[0]], wb[1, : lo[0]]
    pe2, ae2 = wb[2, : lo[1]], wb[3, : lo[1]]
    out[6] = 100.0 * _km_at(pt1, pe1, t[18]) if lo[0] else np.nan
    out[7] = 100.0 * _km_at(pt2, pe2, t[18]) if lo[1] else np.nan
    q1 = _km_quantile(at1, ae1, t[20]) if lo[0] else np.nan
    q2 = _km_quantile(at2, ae2, t[20]) if lo[1] else np.nan
    out[9] = q1 - q2 if np.isfinite(q1) and np.isfinite(q2) else np.nan
    cost += _miss(out[6], t[11], t[12], 3.0) + _miss(out[7], t[13], t[14], 3.0)
    cost += _miss(out[9], t[16], t[17], 10.0)
    if cost > limit:
        return cost
    out[5] = _rank_sum_p(v1, v2)
    cost += _miss(out[5], t[9], t[10], 0.05)
    if cost > limit:
        return cost
    out[2] = _rank_sum_p(c1, c2)
    out[8] = _logrank_p(pt1, pe1, pt2, pe2) if lo[0] and lo[1] else np.nan
    return cost + _miss_bound(out[2], t[4]) + _miss_bound(out[8], t[15])


EPS: float = 1e-9
"""Values within EPS of a rounding boundary do not count as inside: the search never relies on
how a floating-point tie would round."""


MISS: float = 1.0
"""Cost of any claim outside its interval, on top of the scaled distance: a small step, so that
the search can cross a claim's boundary when that frees another one."""


@njit(cache=True)
def _miss(x, lo, hi, scale):
    if np.isnan(x):
        return 10.0
    if x < lo + EPS:
        return MISS + (lo + EPS - x) / scale
    if x >= hi - EPS:
        return MISS + (x - hi + EPS) / scale
    return 0.0


@njit(cache=True)
def _miss_bound(p, bound):
    """A P value that must be below ``bound``, with a margin (the search's log-rank and the
    book's agree to rounding, not to every bit), on the log10 scale."""
    if np.isnan(p):
        return 10.0
    limit = math.log10(bound) - 0.05
    lp = math.log10(max(p, 1e-300))
    return 0.0 if lp < limit else MISS + (lp - limit) / 0.5


@njit(cache=True)
def _search(rng, strata, strata_start, slot_stratum, sel, n1, f, ff, t, sizes_ok,
            similar_ok, iterations, rounds):  # fmt: skip
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
    cur = _evaluate(sel, n1, f, ff, t, sizes_ok, similar_ok, np.inf, v, wf, wb)
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
        new = _evaluate(sel, n1, f, ff, t, sizes_ok, similar_ok, limit, v, wf, wb)
        if new <= limit:
            in_trial[old] = False
            in_trial[j] = True
            cur = new
        else:
            sel[k] = old
    return cur


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


def trial_values(pool: Pool, selection: np.ndarray, n_il2: int) -> dict[str, float]:
    """The claims (and counts) of the trial made of pool patients ``selection``."""
    f, ff = _features(pool)
    t = claim_targets()
    v = np.empty(N_VALUES + 5)
    sel = np.asarray(selection, np.int64)
    wf = np.empty((8, sel.size))
    wb = np.empty((4, sel.size), np.bool_)
    sizes_ok = feasible_subgroup_sizes(t.n_il2, t.n_control)
    similar_ok = consistent_counts(t.n_il2, t.n_control, similarity_level())
    _evaluate(sel, n_il2, f, ff, t.as_array(), sizes_ok, similar_ok, np.inf, v, wf, wb)
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


@dataclass(frozen=True)
class Reconstruction:
    """A trial assembled from a pool: ``selection`` holds pool indices, IL-2 patients first."""

    pool: Pool
    selection: np.ndarray
    n_il2: int
    exact: bool
    cost: float
    restarts: int
    values: dict[str, float]

    def trial(self) -> Trials:
        """The chosen patients as one replicate (shapes (1, n, ...))."""
        return take_patients(self.pool.trials, self.selection)

    def adverse_events(self) -> pd.DataFrame:
        """The chosen patients' adverse events, PATIENT renumbered to the trial's order."""
        where = {int(k): pos for pos, k in enumerate(self.selection)}
        ae = self.pool.adae[self.pool.adae["PATIENT"].isin(where)].copy()
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
    control event, control no event."""
    groups = [
        np.flatnonzero(pool.il2 & pool.event96),
        np.flatnonzero(pool.il2 & ~pool.event96),
        np.flatnonzero(~pool.il2 & pool.event96),
        np.flatnonzero(~pool.il2 & ~pool.event96),
    ]
    start = np.cumsum([0, *[g.size for g in groups]])
    return np.concatenate(groups).astype(np.int64), start.astype(np.int64), groups


def reconstruct(
    pool: Pool,
    seed: int | np.random.Generator,
    sweeps: int = SWEEPS,
    rounds: int = ROUNDS,
    restarts: int = RESTARTS,
) -> Reconstruction:
    """Search the pool for a trial on which every published number is exact.

    The trial always has the forensic arm sizes and week-96 event counts; the search moves the
    other claims into their rounding intervals. ``exact`` is False if no start reached them
    within ``sweeps`` x trial size proposals (then the best trial found is returned).
    """
    t = claim_targets()
    n1, n2 = t.n_il2, t.n_control
    need = (t.events_il2, n1 - t.events_il2, t.events_control, n2 - t.events_control)
    strata, start, groups = _strata(pool)
    for g, k in zip(groups, need, strict=True):
        if g.size < 2 * k:
            raise ValueError(
                f"pool too small: a stratum holds {g.size} patients, the trial needs {k}"
            )
    slot_stratum = np.repeat(np.arange(4), need).astype(np.int64)
    f, ff = _features(pool)
    targets = t.as_array()
    sizes_ok = feasible_subgroup_sizes(n1, n2)
    similar_ok = consistent_counts(n1, n2, similarity_level())
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    used = 0
    for _ in range(restarts):
        used += 1
        sel = np.concatenate(
            [rng.choice(g, k, replace=False) for g, k in zip(groups, need, strict=True)]
        )
        cost = _search(
            rng, strata, start, slot_stratum, sel, n1, f, ff, targets,
            sizes_ok, similar_ok, sweeps * (n1 + n2), rounds,
        )  # fmt: skip
        if best is None or cost < best[0]:
            best = (cost, sel.copy())
        if cost == 0.0:
            break
    assert best is not None
    cost, sel = best
    return Reconstruction(
        pool=pool,
        selection=sel,
        n_il2=n1,
        exact=cost == 0.0,
        cost=float(cost),
        restarts=used,
        values=trial_values(pool, sel, n1),
    )


def embedded_reconstruction(
    p: Mapping[str, float], seed: int, attempts: int = EMBEDDED_ATTEMPTS
) -> tuple[Reconstruction, int]:
    """The first exact reconstruction from pools ``0, 1, ...`` of ``seed``, and its attempt."""
    from anrs119.model.reconstruction.search import ReconstructionError

    for attempt in range(attempts):
        rec = reconstruct(make_pool(p, seed, attempt), np.random.default_rng([seed, attempt]))
        if rec.exact:
            return rec, attempt
    raise ReconstructionError(
        f"no exact reconstruction in {attempts} pools of seed {seed}: the parameter point cannot "
        "give every published number under the book's readings (or the search needs more effort)"
    )


class ReconstructionError(RuntimeError):
    """No reconstruction could be made, or the one made is not exact by the book's analyses."""
