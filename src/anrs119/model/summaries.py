"""The published claims computed from simulated trials, vectorised over replicate trials.

Every function takes (R, N) or (R, N, V) arrays and returns one value per replicate, so the
same code serves the calibration (one huge replicate), the predictive intervals (thousands of
trial-sized replicates) and the choice of the embedded trial.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from numba import njit, prange
from scipy import stats

from anrs119.model.simulate import Trials

PERCENT = 100.0


# ---------------------------------------------------------------- observed data from latent times


@dataclass(frozen=True)
class TimeToEvent:
    """Observed (possibly censored) times, (R, N): ``event`` is True when the event was seen."""

    time: np.ndarray
    event: np.ndarray


def last_visit(tr: Trials, censor: bool = True) -> np.ndarray:
    """Week where each patient is censored (R, N): the last visit attended before the data
    cut-off or loss to follow-up; ``censor=False``: the last week simulated (latent data)."""
    if not censor:
        return np.full(tr.shape, float(tr.visits[-1]))
    return tr.t_last


def truncate(tr: Trials, week: float) -> Trials:
    """The trials with everything after ``week`` removed: later visits dropped, later event
    times set to inf (not seen), censoring at the last visit attended by ``week``."""
    if tr.visits[-1] <= week:
        return tr
    keep = tr.visits <= week
    visits = tr.visits[keep]
    if tr.attended is None:
        raise ValueError("truncating needs the per-visit arrays: simulate with full=True")
    att = tr.attended[..., keep] & (visits <= tr.t_last[..., None])
    last = visits[visits.size - 1 - np.argmax(att[..., ::-1], axis=-1)]
    cut = {
        k: np.where(getattr(tr, k) <= week, getattr(tr, k), np.inf)
        for k in ("t_cd4_known", "t_art", "t_aids", "t_death", "t_drop")
    }
    # a low count confirmed only after ``week`` is not an end point by ``week``
    cut["t_cd4"] = np.where(np.isfinite(cut["t_cd4_known"]), tr.t_cd4, np.inf)
    cut["t_primary"] = np.minimum.reduce(
        [cut["t_cd4"], cut["t_art"], cut["t_aids"], cut["t_death"]]
    )
    return replace(
        tr,
        visits=visits,
        t_last=np.minimum(tr.t_last, last),
        fu_end=np.minimum(tr.fu_end, week),
        n_cycles=np.where(tr.il2, np.minimum(tr.n_cycles, (tr.cycles <= week).sum()), 0),
        cd4_obs=tr.cd4_obs[..., keep],
        vl_obs=None if tr.vl_obs is None else tr.vl_obs[..., keep],
        attended=tr.attended[..., keep],
        **cut,
    )


def composite(tr: Trials, censor: bool = True) -> TimeToEvent:
    """Primary composite end point: confirmed CD4 < 300, ART, AIDS-defining event or death."""
    cens = last_visit(tr, censor)
    event = tr.t_primary <= cens
    return TimeToEvent(np.where(event, tr.t_primary, cens), event)


def time_to_art(tr: Trials, censor: bool = True) -> TimeToEvent:
    """Time to ART initiation; censored at the last visit or at death."""
    cens = np.minimum(last_visit(tr, censor), tr.t_death)
    event = tr.t_art <= cens
    return TimeToEvent(np.where(event, tr.t_art, cens), event)


# ---------------------------------------------------------------- Kaplan-Meier on the visit grid


@dataclass(frozen=True)
class GridKM:
    """Kaplan-Meier survival at the visit weeks, per replicate: ``surv`` is (R, V)."""

    grid: np.ndarray
    surv: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray

    def at(self, week: float) -> np.ndarray:
        j = int(np.searchsorted(self.grid, week, side="right")) - 1
        return self.surv[:, j]

    def quantile(self, q: float, interpolate: bool = False) -> np.ndarray:
        """Week at which S first falls to 1 - q (inf if not reached).

        ``interpolate`` joins the grid values linearly (smooth in the parameters, for
        calibration); otherwise the usual step-function definition is used.
        """
        level = 1.0 - q
        hit = self.surv <= level + 1e-12
        idx = hit.argmax(axis=1)
        reached = hit.any(axis=1)
        if not interpolate:
            return np.where(reached, self.grid[idx], np.inf)
        j = np.maximum(idx, 1)
        rows = np.arange(self.surv.shape[0])
        s_hi, s_lo = self.surv[rows, j - 1], self.surv[rows, j]
        frac = np.where(s_hi > s_lo, (s_hi - level) / np.maximum(s_hi - s_lo, 1e-300), 1.0)
        t = self.grid[j - 1] + np.clip(frac, 0.0, 1.0) * (self.grid[j] - self.grid[j - 1])
        return np.where(reached, t, np.inf)

    def rmst(self, week: float) -> np.ndarray:
        """Restricted mean survival time up to ``week`` (step function on the grid)."""
        j = int(np.searchsorted(self.grid, week, side="right")) - 1
        widths = np.diff(self.grid[: j + 1])
        return (self.surv[:, :j] * widths).sum(axis=1)


def grid_km(tte: TimeToEvent, mask: np.ndarray, grid: np.ndarray) -> GridKM:
    """KM of the patients in ``mask`` with event times binned to (grid[j-1], grid[j]].

    Exact for the usual KM at grid weeks: censoring happens only at visit weeks, so within an
    interval the risk set only shrinks through events (product telescopes to (n - d) / n).
    """
    r, _ = tte.time.shape
    v = grid.size
    b = np.searchsorted(grid, tte.time, side="left")  # bin j holds (grid[j-1], grid[j]]
    b = np.where(mask, np.minimum(b, v - 1), v)  # excluded patients go to a dropped bin
    offs = (np.arange(r) * (v + 1))[:, None]
    total = np.bincount((b + offs).ravel(), minlength=r * (v + 1)).reshape(r, v + 1)[:, :v]
    ev = np.bincount(
        (b + offs).ravel(), weights=tte.event.ravel().astype(float), minlength=r * (v + 1)
    ).reshape(r, v + 1)[:, :v]
    at_risk = np.cumsum(total[:, ::-1], axis=1)[:, ::-1].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - ev / at_risk, 1.0)
    factor[:, 0] = 1.0  # no events at week 0
    return GridKM(grid=grid, surv=np.cumprod(factor, axis=1), at_risk=at_risk, events=ev)


# ---------------------------------------------------------------- vectorised tests


def chi2_2x2(e1: np.ndarray, n1: np.ndarray, e2: np.ndarray, n2: np.ndarray, yates: bool):
    """Pearson chi-square P value of a 2x2 table per replicate (as scipy chi2_contingency)."""
    obs = np.stack([e1, n1 - e1, e2, n2 - e2], axis=-1).astype(float)
    n = n1 + n2
    col = np.stack([e1 + e2, n - e1 - e2], axis=-1).astype(float)
    exp = np.concatenate([n1[..., None] * col, n2[..., None] * col], axis=-1) / n[..., None]
    dev = np.abs(obs - exp)
    if yates:
        dev = np.maximum(dev - 0.5, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(exp > 0, dev**2 / exp, 0.0).sum(axis=-1)
    degenerate = (col == 0).any(axis=-1)
    return np.where(degenerate, 1.0, stats.chi2.sf(stat, 1))


@lru_cache(maxsize=4096)
def _fisher_table(a: int, b: int) -> np.ndarray:
    """Two-sided Fisher P for every table with row sizes (a, b): indexed [e1, e1 + e2]."""
    x = np.arange(a + 1)
    k = np.arange(a + b + 1)
    pmf = stats.hypergeom.pmf(x[None, :], a + b, k[:, None], a)  # (k, x)
    out = np.empty((a + 1, a + b + 1))
    for e1 in range(a + 1):
        p_obs = pmf[:, e1]
        out[e1] = np.where(pmf <= p_obs[:, None] * (1 + 1e-7), pmf, 0.0).sum(axis=1)
    return np.minimum(out, 1.0)


def fisher_2x2(e1: np.ndarray, n1: np.ndarray, e2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided Fisher exact P value per replicate (same rule as scipy.stats.fisher_exact),
    looked up in a table per pair of group sizes."""
    shape = np.shape(e1)
    e1, n1, e2, n2 = (
        np.broadcast_to(np.asarray(v, dtype=np.int64), shape).ravel() for v in (e1, n1, e2, n2)
    )
    out = np.empty(e1.shape, dtype=float)
    for key in set(zip(n1.tolist(), n2.tolist(), strict=True)):
        sel = (n1 == key[0]) & (n2 == key[1])
        out[sel] = _fisher_table(*key)[e1[sel], e1[sel] + e2[sel]]
    return out.reshape(shape)


@njit(cache=True, parallel=True)
def _mann_whitney_rows(x, y):  # pragma: no cover - compiled
    r = x.shape[0]
    out = np.empty(r)
    for i in prange(r):
        vals = np.empty(x.shape[1] + y.shape[1])
        grp = np.empty(x.shape[1] + y.shape[1], dtype=np.bool_)
        n1 = 0
        n = 0
        for j in range(x.shape[1]):
            if not np.isnan(x[i, j]):
                vals[n] = x[i, j]
                grp[n] = True
                n += 1
                n1 += 1
        for j in range(y.shape[1]):
            if not np.isnan(y[i, j]):
                vals[n] = y[i, j]
                grp[n] = False
                n += 1
        n2 = n - n1
        if n1 == 0 or n2 == 0:
            out[i] = np.nan
            continue
        order = np.argsort(vals[:n])  # ties get one average rank: the sort need not be stable
        r1 = 0.0
        tie = 0.0
        k = 0
        while k < n:
            m = k
            while m + 1 < n and vals[order[m + 1]] == vals[order[k]]:
                m += 1
            t = m - k + 1
            rank = (k + m) / 2.0 + 1.0  # average rank of the tie group
            for q in range(k, m + 1):
                if grp[order[q]]:
                    r1 += rank
            tie += t * t * t - t
            k = m + 1
        u1 = r1 - n1 * (n1 + 1) / 2.0
        mu = n1 * n2 / 2.0
        var = n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1.0)))
        if var <= 0.0:
            out[i] = np.nan
            continue
        z = (abs(u1 - mu) - 0.5) / math.sqrt(var)
        p = math.erfc(max(z, 0.0) / math.sqrt(2.0))
        out[i] = min(p, 1.0)
    return out


def mann_whitney(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Two-sided Mann-Whitney P per row (NaN = missing), asymptotic with tie and continuity
    corrections, as ``scipy.stats.mannwhitneyu(method="asymptotic")``."""
    return _mann_whitney_rows(np.ascontiguousarray(x, float), np.ascontiguousarray(y, float))


@njit(cache=True, parallel=True)
def _median_rows(values, mask):  # pragma: no cover - compiled
    r, n = values.shape
    out = np.empty(r)
    for i in prange(r):
        buf = np.empty(n)
        m = 0
        for j in range(n):
            if mask[i, j] and not np.isnan(values[i, j]):
                buf[m] = values[i, j]
                m += 1
        if m == 0:
            out[i] = np.nan
            continue
        out[i] = np.median(buf[:m])
    return out


def logrank(
    tte: TimeToEvent,
    group1: np.ndarray,
    group2: np.ndarray,
    grid: np.ndarray,
    km: tuple[GridKM, GridKM] | None = None,
):
    """Two-sided log-rank P per replicate, event times binned to visit intervals (``km``: the
    two groups' grid Kaplan-Meier, if already computed)."""
    k1, k2 = km if km is not None else (grid_km(tte, group1, grid), grid_km(tte, group2, grid))
    n1, n2, d1, d2 = k1.at_risk, k2.at_risk, k1.events, k2.events
    n, d = n1 + n2, d1 + d2
    with np.errstate(divide="ignore", invalid="ignore"):
        e1 = np.where(n > 0, d * n1 / n, 0.0)
        var = np.where(n > 1, n1 * n2 * d * (n - d) / (n**2 * (n - 1)), 0.0)
    o_e = (d1 - e1).sum(axis=1)
    v = var.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(v > 0, o_e**2 / v, 0.0)
    return stats.chi2.sf(stat, 1)


# ---------------------------------------------------------------- the claim summaries


def _index(visits: np.ndarray, week: float) -> int:
    j = int(np.searchsorted(visits, week))
    if j >= visits.size or visits[j] != week:
        raise ValueError(f"week {week:g} is not a visit week")
    return j


def _masked(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, values, np.nan)


def _median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median of the values in ``mask`` per row (NaN if none), as numpy's nanmedian."""
    v = np.ascontiguousarray(np.broadcast_to(values, mask.shape), dtype=float)
    return _median_rows(v, np.ascontiguousarray(mask))


def change_readings(
    tr: Trials, censor: bool = True
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Change from baseline at the primary week per reading: (CD4, VL change, included mask).

    Values are rounded as the ADaM tables are (CD4 to whole cells, log10 VL to 2 decimals).
    ``off_art``: patients seen at the visit, alive and still off ART (the reading used).
    ``pre_art_locf``: last value measured before ART, carried forward (alive, in follow-up).
    ``policy``: value at the visit whatever the treatment (treatment policy).
    """
    w = tr.week
    bcd4, bvl = np.round(tr.bcd4), np.round(tr.bvl, 2)
    in_fu = tr.t_death > w
    if censor:
        in_fu &= (w <= tr.fu_end) & (w <= tr.t_drop)
    seen = in_fu & ~np.isnan(tr.cd4_w)
    off = seen & (tr.t_art >= w)
    cd4_w, vl_w = np.round(tr.cd4_w), np.round(tr.vl_w, 2)
    cd4_p, vl_p = np.round(tr.cd4_locf), np.round(tr.vl_locf, 2)
    # changes rounded as the ADaM CHG column is (2 decimals for log10 viral load)
    return {
        "off_art": (cd4_w - bcd4, np.round(vl_w - bvl, 2), off),
        "pre_art_locf": (cd4_p - bcd4, np.round(vl_p - bvl, 2), in_fu),
        "policy": (cd4_w - bcd4, np.round(vl_w - bvl, 2), seen),
    }


def ceil_tenth(t: np.ndarray) -> np.ndarray:
    """Weeks rounded up to 0.1, as the ADaM AVAL column is written."""
    return np.ceil(np.round(t * 10.0, 6)) / 10.0


def km_quantile(tte: TimeToEvent, mask: np.ndarray, q: float) -> np.ndarray:
    """Kaplan-Meier q-quantile per replicate on the exact (0.1-week) times: the first time at
    which S(t) <= 1 - q (inf if not reached), as lifelines and the ADaM analyses define it."""
    time = np.where(mask, ceil_tenth(tte.time), np.inf)
    event = tte.event & mask
    order = np.lexsort((~event, time), axis=-1)  # events before censorings at tied times
    t_sorted = np.take_along_axis(time, order, -1)
    e_sorted = np.take_along_axis(event, order, -1)
    m = mask.sum(axis=1, keepdims=True)
    at_risk = m - np.arange(time.shape[1])[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(e_sorted & (at_risk > 0), 1.0 - 1.0 / at_risk, 1.0)
    surv = np.cumprod(factor, axis=1)
    hit = (surv <= 1.0 - q + 1e-12) & e_sorted
    idx = hit.argmax(axis=1)
    rows = np.arange(time.shape[0])
    return np.where(hit.any(axis=1), t_sorted[rows, idx], np.inf)


def exponential_median(tte: TimeToEvent, mask: np.ndarray) -> np.ndarray:
    """Median of an exponential model fitted by maximum likelihood (events / time at risk) to
    the data of ``mask``: ln 2 x time at risk / events (inf without events). Uses only the
    follow-up simulated, so it extrapolates from data up to week 150, never reads later data."""
    d = (tte.event & mask).sum(axis=1)
    at_risk = np.where(mask, tte.time, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, math.log(2.0) * at_risk / d, np.inf)


CHANGE_READING: str = "off_art"
"""Reading of the week-96 median changes matched to the claims (MODEL-NOTES: best prototype fit)."""

PRIMARY_TESTS: tuple[str, ...] = ("chi2", "chi2_yates", "fisher")


def claim_summaries(
    tr: Trials,
    p: Mapping[str, float],
    *,
    censor: bool = True,
    interpolate: bool = False,
    tests: bool = True,
    primary_test: str = "chi2",
) -> dict[str, np.ndarray]:
    """Every result claim (printed units: %, cells/uL, log10, weeks) per replicate, plus the
    alternative readings (keys with a ``:reading`` suffix).

    ``censor=False`` uses the latent, complete follow-up (expected values in big cohorts);
    ``interpolate=True`` makes quantiles smooth in the parameters (calibration).
    """
    tr = truncate(tr, p["subgroup_week"])  # no claim reads follow-up after week 150
    il2 = tr.il2
    ctl = ~tr.il2
    grid = tr.visits
    out: dict[str, np.ndarray] = {}
    week = p["primary_week"]
    sub_week = p["subgroup_week"]

    prim = composite(tr, censor)
    ev96 = prim.event & (prim.time <= week)
    e1, e2 = (ev96 & il2).sum(axis=1), (ev96 & ctl).sum(axis=1)
    n1, n2 = il2.sum(axis=1), ctl.sum(axis=1)
    out["primary_w96_il2"] = PERCENT * e1 / n1
    out["primary_w96_control"] = PERCENT * e2 / n2
    out["events_w96_il2"] = e1.astype(float)
    out["events_w96_control"] = e2.astype(float)
    if tests:
        out["primary_w96_p:chi2"] = chi2_2x2(e1, n1, e2, n2, yates=False)
        out["primary_w96_p:chi2_yates"] = chi2_2x2(e1, n1, e2, n2, yates=True)
        out["primary_w96_p:fisher"] = fisher_2x2(e1, n1, e2, n2)
        out["primary_w96_p"] = out[f"primary_w96_p:{primary_test}"]

    for reading, (dc, dv, inc) in change_readings(tr, censor).items():
        sfx = "" if reading == CHANGE_READING else f":{reading}"
        out[f"cd4_change_w96_il2{sfx}"] = _median(dc, inc & il2)
        out[f"cd4_change_w96_control{sfx}"] = _median(dc, inc & ctl)
        out[f"vl_change_w96_il2{sfx}"] = _median(dv, inc & il2)
        out[f"vl_change_w96_control{sfx}"] = _median(dv, inc & ctl)
        if tests:
            out[f"cd4_change_w96_p{sfx}"] = mann_whitney(
                _masked(dc, inc & il2), _masked(dc, inc & ctl)
            )
            out[f"vl_change_w96_p{sfx}"] = mann_whitney(
                _masked(dv, inc & il2), _masked(dv, inc & ctl)
            )
        if reading == CHANGE_READING:
            out["n_change_w96_il2"] = (inc & il2).sum(axis=1).astype(float)
            out["n_change_w96_control"] = (inc & ctl).sum(axis=1).astype(float)

    low = np.round(tr.bvl, 2) < p["vl_cutoff"]  # measured baseline, as written to ADSL
    g1, g2 = low & il2, low & ctl
    km1, km2 = grid_km(prim, g1, grid), grid_km(prim, g2, grid)
    out["lowvl_free_w150_il2"] = PERCENT * km1.at(sub_week)
    out["lowvl_free_w150_control"] = PERCENT * km2.at(sub_week)
    free = ~(prim.event & (prim.time <= sub_week))
    m1, m2 = g1.sum(axis=1), g2.sum(axis=1)
    f1, f2 = (free & g1).sum(axis=1), (free & g2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["lowvl_free_w150_il2:crude"] = PERCENT * f1 / m1
        out["lowvl_free_w150_control:crude"] = PERCENT * f2 / m2
    out["n_lowvl_il2"] = m1.astype(float)
    out["n_lowvl_control"] = m2.astype(float)
    if tests:
        out["lowvl_free_w150_p"] = logrank(prim, g1, g2, grid, km=(km1, km2))
        out["lowvl_free_w150_p:fisher"] = fisher_2x2(m1 - f1, m1, m2 - f2, m2)

    art = time_to_art(tr, censor)
    a1, a2 = grid_km(art, g1, grid), grid_km(art, g2, grid)
    for q, name in ((0.25, "q25"), (0.5, "median")):
        # exact Kaplan-Meier quantiles as the book reads them from the ADaM tables; the
        # calibration interpolates on the visit grid instead (smooth in the parameters)
        if interpolate:
            q1, q2 = a1.quantile(q, True), a2.quantile(q, True)
        else:
            q1, q2 = km_quantile(art, g1, q), km_quantile(art, g2, q)
        with np.errstate(invalid="ignore"):  # inf - inf: neither quantile reached -> NaN
            out[f"lowvl_art_deferral:{name}"] = q1 - q2
    out["lowvl_art_deferral:rmst"] = a1.rmst(sub_week) - a2.rmst(sub_week)
    with np.errstate(invalid="ignore"):
        out["lowvl_art_deferral:exp_median"] = exponential_median(art, g1) - exponential_median(
            art, g2
        )
    out["lowvl_art_deferral"] = out[f"lowvl_art_deferral:{DEFERRAL_READING}"]
    out["lowvl_art_free_w150_il2"] = PERCENT * a1.at(sub_week)
    out["lowvl_art_free_w150_control"] = PERCENT * a2.at(sub_week)

    # safety: counts of patients with an AIDS-defining event / death seen by week 96
    seen_until = np.minimum(last_visit(tr, censor), week)
    for name, t in (("aids", tr.t_aids), ("death", tr.t_death)):
        hit = t <= seen_until
        out[f"{name}_w96_il2"] = (hit & il2).sum(axis=1).astype(float)
        out[f"{name}_w96_control"] = (hit & ctl).sum(axis=1).astype(float)
    return out


DEFERRAL_READING: str = "q25"
"""Reading of the 92-week deferral used for calibration (see the model chapter)."""


SAFETY_KEYS: dict[str, str] = {"safety_aids_similar": "aids", "safety_death_similar": "death"}


def grade34_counts(tr: Trials, p: Mapping[str, float], u: np.ndarray) -> np.ndarray:
    """Patients with >= 1 grade 3-4 event by the primary week, per replicate and arm: (R, 2).

    Same process as the embedded trial's ADAE (background rate x RR while IL-2 is given, plus
    grade-3 IL-2 reactions per cycle received); ``u`` holds one uniform per patient.
    """
    from anrs119.model.realize import IL2_REACTION_GRADES, IL2_REACTIONS

    week = p["primary_week"]
    end = np.minimum(np.minimum(tr.t_last, tr.t_death), week)
    years = end / (365.25 / 7)
    on_il2 = np.where(tr.il2, np.minimum(end, p["il2_last_week"]) / (365.25 / 7), 0.0)
    rate = np.asarray(p["grade34_rate"], dtype=float)
    rr = np.asarray(p["il2_grade34_rr"], dtype=float)
    if rate.ndim:
        rate, rr = rate[:, None], rr[:, None]
    mean = rate * ((rr - 1.0) * on_il2 + years)
    p_reaction3 = 1.0 - np.prod(
        [1.0 - prob * IL2_REACTION_GRADES[2] for _, _, prob in IL2_REACTIONS]
    )
    cycles = np.where(tr.il2, np.minimum(tr.n_cycles, (tr.cycles < week).sum()), 0)
    p_none = np.exp(-mean) * (1.0 - p_reaction3) ** cycles
    hit = u > p_none
    return np.stack([(hit & tr.il2).sum(axis=1), (hit & ~tr.il2).sum(axis=1)], axis=1)


def safety_summaries(tr: Trials, p: Mapping[str, float], u: np.ndarray) -> dict[str, np.ndarray]:
    """Fisher P values of the safety statements (AIDS, death, grade 3-4 events by week 96)."""
    n1, n2 = tr.il2.sum(axis=1), (~tr.il2).sum(axis=1)
    out = {}
    seen_until = np.minimum(tr.t_last, p["primary_week"])
    for claim, name in SAFETY_KEYS.items():
        t = tr.t_aids if name == "aids" else tr.t_death
        hit = t <= seen_until
        out[claim] = fisher_2x2((hit & tr.il2).sum(axis=1), n1, (hit & ~tr.il2).sum(axis=1), n2)
    g = grade34_counts(tr, p, u)
    out["safety_grade34_similar"] = fisher_2x2(g[:, 0], n1, g[:, 1], n2)
    return out
