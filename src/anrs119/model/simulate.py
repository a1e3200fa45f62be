"""Vectorised simulation of the trial: arrays shaped (replicates, patients, visits).

All randomness is drawn up front into a :class:`Noise` bundle of standard variates, and the
model maps (parameters, noise) to trajectories deterministically. Re-using one bundle across
parameter values gives common random numbers for calibration.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtr, ndtri

WEEKS_PER_YEAR: float = 365.25 / 7
ART_CD4_REFERENCE: float = 350.0  # cells/uL at which the ART and clinical logits are centred
VL_REFERENCE: float = 4.0  # log10 copies/mL at which CD4 slope and clinical rates are centred
ART_VL_REFERENCE: float = 5.0  # log10 copies/mL: 100,000 copies argued for starting ART


def follow_up_horizon(p: Mapping[str, float]) -> float:
    """Longest possible follow-up (first patient enrolled to the data cut-off), in weeks."""
    return p["calendar_span"] + p["followup_extension"]


# Visit schedule (assumed; not published): frequent visits through the primary analysis period,
# then sparser ones, landing on the subgroup analysis week (96 + 9 x 6 = 150).
VISIT_INTERVAL_EARLY: float = 4.0
VISIT_EARLY_UNTIL: float = 96.0
VISIT_INTERVAL_LATE: float = 6.0


def visit_weeks(horizon: float = 150.0) -> np.ndarray:
    """Visit weeks: every VISIT_INTERVAL_EARLY weeks to VISIT_EARLY_UNTIL, then every
    VISIT_INTERVAL_LATE weeks up to ``horizon``."""
    early = np.arange(0.0, VISIT_EARLY_UNTIL + 1e-9, VISIT_INTERVAL_EARLY)
    late = np.arange(VISIT_EARLY_UNTIL + VISIT_INTERVAL_LATE, horizon + 1e-9, VISIT_INTERVAL_LATE)
    return np.concatenate([early, late])


def cycle_weeks(p: Mapping[str, float]) -> np.ndarray:
    """IL-2 cycle weeks: the fixed 8-week cycles (registry) then the assumed extra cycles."""
    fixed = p["il2_first_week"] + p["il2_interval"] * np.arange(int(p["il2_fixed_cycles"]))
    extra = [p["il2_extra_cycle_1"], p["il2_extra_cycle_2"]]
    extra = extra[: int(p["il2_max_cycles"]) - int(p["il2_fixed_cycles"])]
    weeks = np.concatenate([fixed, np.asarray(extra, dtype=float)])
    if np.any(weeks > p["il2_last_week"]):
        raise ValueError(f"IL-2 cycle weeks {weeks} go beyond week {p['il2_last_week']:g}")
    return weeks


@dataclass(frozen=True)
class Noise:
    """Standard random variates for `shape = (replicates, patients)` and `visits` visits."""

    u_bcd4: np.ndarray
    z_cd4true: np.ndarray
    z_vl0: np.ndarray
    z_bvl: np.ndarray
    z_slope: np.ndarray
    z_gain: np.ndarray
    z_drift: np.ndarray
    z_artgain: np.ndarray
    e_aids: np.ndarray
    e_death: np.ndarray
    u_entry: np.ndarray
    z_age: np.ndarray
    u_sex: np.ndarray
    z_cd4: np.ndarray
    z_vl: np.ndarray
    u_art: np.ndarray


def draw_noise(rng: np.random.Generator, replicates: int, patients: int, visits: int) -> Noise:
    """Draw one bundle; the draw order is fixed, so a seed fixes every trajectory."""
    s = (replicates, patients)
    sv = (replicates, patients, visits)
    return Noise(
        u_bcd4=rng.random(s),
        z_cd4true=rng.standard_normal(s),
        z_vl0=rng.standard_normal(s),
        z_bvl=rng.standard_normal(s),
        z_slope=rng.standard_normal(s),
        z_gain=rng.standard_normal(s),
        z_drift=rng.standard_normal(s),
        z_artgain=rng.standard_normal(s),
        e_aids=rng.standard_exponential(s),
        e_death=rng.standard_exponential(s),
        u_entry=rng.random(s),
        z_age=rng.standard_normal(s),
        u_sex=rng.random(s),
        z_cd4=rng.standard_normal(sv, dtype=np.float32),
        z_vl=rng.standard_normal(sv, dtype=np.float32),
        u_art=rng.random(sv, dtype=np.float32),
    )


@dataclass(frozen=True)
class Trials:
    """Simulated trials. (R, N) per patient, (R, N, V) per visit; times in weeks, inf = none.

    Event times are latent (no administrative censoring); ``fu_end`` is the week at which the
    patient's follow-up is cut by the data cut-off (staggered entry), applied by the summaries.
    """

    visits: np.ndarray
    cycles: np.ndarray
    il2: np.ndarray
    age: np.ndarray
    male: np.ndarray
    entry: np.ndarray
    fu_end: np.ndarray
    bcd4: np.ndarray
    bvl: np.ndarray
    cd4_obs: np.ndarray
    vl_obs: np.ndarray
    cd4_true_noil2: np.ndarray
    onart: np.ndarray
    alive: np.ndarray
    t_cd4: np.ndarray
    t_art: np.ndarray
    t_aids: np.ndarray
    t_death: np.ndarray
    t_primary: np.ndarray
    n_cycles: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.il2.shape  # type: ignore[return-value]

    def observed(self) -> np.ndarray:
        """(R, N, V) mask of visits that happen: alive and before the data cut-off."""
        return self.alive & (self.visits <= self.fu_end[..., None])


F32 = np.float32


def _f(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=F32)


def _first_true(mask: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Time of the first True along the last axis, inf if none."""
    idx = mask.argmax(axis=-1)
    return np.where(mask.any(axis=-1), times[idx], np.inf)


def _il2_kernel(lag: np.ndarray, rampup: float, halflife: float) -> np.ndarray:
    """Share of a cycle's peak gain present `lag` weeks after the cycle starts."""
    rise = np.clip(lag / rampup, 0.0, 1.0)
    decay = np.exp(-math.log(2.0) * np.maximum(lag - rampup, 0.0) / halflife)
    return np.where(lag > 0, rise * decay, 0.0)


def _event_time(
    rate: np.ndarray, visits: np.ndarray, budget: np.ndarray, horizon: float
) -> np.ndarray:
    """Invert a piecewise-constant cumulative hazard: first time it reaches `budget` (Exp(1))."""
    dt = np.diff(visits)
    cum = np.cumsum(rate * dt, axis=-1)
    k = (cum < budget[..., None]).sum(axis=-1)  # intervals fully survived
    inside = k < dt.size
    kk = np.minimum(k, dt.size - 1)[..., None]
    before = np.where(kk > 0, np.take_along_axis(cum, np.maximum(kk - 1, 0), -1), 0.0)[..., 0]
    r = np.take_along_axis(rate, kk, -1)[..., 0]
    t = visits[kk[..., 0]] + (budget - before) / np.maximum(r, 1e-300)
    return np.where(inside, np.minimum(t, horizon), np.inf)


def simulate(
    p: Mapping[str, float],
    noise: Noise,
    il2: np.ndarray,
    visits: np.ndarray,
    post_art: bool = True,
) -> Trials:
    """Map parameters and noise to trials; `il2` is a boolean (N,) or (R, N) arm indicator.

    ``post_art=False`` skips the on-ART trajectories (values after ART keep the off-ART path);
    the claim summaries under the off-ART reading do not use them, so calibration saves time.
    """
    t = visits
    t32 = visits.astype(F32)  # per-visit arrays are float32: half the memory traffic
    horizon = float(t[-1])
    shape = noise.u_bcd4.shape
    il2 = np.broadcast_to(np.asarray(il2, dtype=bool), shape)
    cycles = cycle_weeks(p)

    # Baseline CD4: the screening count (true x noise) must fall in the window; sample the
    # measured log count from its truncated marginal, then the true count given the measured one
    # (bivariate normal), so regression to the mean is exact and draws stay common.
    m, s, sig = math.log(p["cd4_pop_median"]), p["cd4_pop_sdlog"], p["cd4_noise_sdlog"]
    s_m = math.hypot(s, sig)
    a = ndtr((math.log(p["cd4_lower"]) - m) / s_m)
    b = ndtr((math.log(p["cd4_upper"]) - m) / s_m)
    log_meas = m + s_m * ndtri(a + noise.u_bcd4 * (b - a))
    shrink = s * s / (s_m * s_m)
    log_true = m + shrink * (log_meas - m) + (s * sig / s_m) * noise.z_cd4true
    bcd4 = np.exp(log_meas)
    c0 = np.exp(log_true)

    v0 = p["vl_mean"] + p["vl_sd"] * noise.z_vl0
    bvl = v0 + p["vl_noise_sd"] * noise.z_bvl

    # CD4 without IL-2: linear decline, steeper with higher viral load, random slope.
    slope = (
        -(p["cd4_slope_mean"] + p["cd4_slope_vl"] * (v0 - VL_REFERENCE))
        + p["cd4_slope_sd"] * noise.z_slope
    ) / WEEKS_PER_YEAR
    base = np.maximum(_f(c0)[..., None] + _f(slope)[..., None] * t32, F32(p["cd4_floor"]))

    # IL-2: every cycle adds the patient's gain, which builds up and then wanes.
    gain = np.where(il2, p["il2_gain_median"] * np.exp(p["il2_gain_sdlog"] * noise.z_gain), 0.0)
    kern = _il2_kernel(t[:, None] - cycles[None, :], p["il2_rampup"], p["il2_halflife"])
    boost = _f(gain)[..., None] * _f(kern.sum(axis=1))
    cd4_pre = base + boost

    drift = p["vl_drift_mean"] + p["vl_drift_sd"] * noise.z_drift
    v_true = _f(v0)[..., None] + _f(drift / WEEKS_PER_YEAR)[..., None] * t32
    if p["il2_vl_effect"] != 0.0:
        v_true = v_true + _f(np.where(il2, p["il2_vl_effect"], 0.0))[..., None] * (t32 > 0)

    noise_cd4 = np.exp(F32(sig) * noise.z_cd4)
    cd4_obs_pre = cd4_pre * noise_cd4
    cd4_obs_pre[..., 0] = bcd4
    vl_obs_pre = v_true + F32(p["vl_noise_sd"]) * noise.z_vl
    vl_obs_pre[..., 0] = bvl
    np.maximum(vl_obs_pre, F32(p["vl_lod"]), out=vl_obs_pre)

    # ART start at a visit: logistic in the CD4 and viral load measured at that visit.
    logit = (
        F32(
            p["art_intercept"]
            + p["art_cd4_slope"] * ART_CD4_REFERENCE / 100.0
            - p["art_vl_slope"] * ART_VL_REFERENCE
        )
        - F32(p["art_cd4_slope"] / 100.0) * cd4_obs_pre
        + F32(p["art_vl_slope"]) * vl_obs_pre
    )
    start = noise.u_art < expit(logit)
    start[..., 0] = False
    t_artv = _first_true(start, t)

    # AIDS and death: hazards follow the CD4 count without IL-2 (arm-independent given the
    # patient), so IL-2 gains confer no clinical protection (ESPRIT/SILCAAT).
    cd4_cf = base[..., :-1]
    on_art_int = t[:-1] >= t_artv[..., None]
    log_rate = (
        F32(p["aids_cd4_loghr"] * ART_CD4_REFERENCE / 100.0 - p["aids_vl_loghr"] * VL_REFERENCE)
        - F32(p["aids_cd4_loghr"] / 100.0) * cd4_cf
        + F32(p["aids_vl_loghr"]) * v_true[..., :-1]
    )
    mult = (
        np.where(on_art_int, p["art_clinical_hr"], 1.0)
        * np.where(il2, p["il2_clinical_hr"], 1.0)[..., None]
    )
    rel = np.exp(log_rate).astype(float) * mult / WEEKS_PER_YEAR
    t_aids = _event_time(p["aids_rate"] * rel, t, noise.e_aids, horizon)
    t_death = _event_time(p["death_rate"] * rel, t, noise.e_death, horizon)

    t_art = np.minimum(t_artv, t_aids)  # an AIDS-defining event starts ART at once (assumed)
    t_art = np.where(t_art < t_death, t_art, np.inf)

    # CD4 end point: first visit below the threshold (confirmed at the next visit if required),
    # counting only measurements taken off ART and while alive.
    valid = (t > 0) & (t <= t_art[..., None]) & (t < t_death[..., None])
    below = (cd4_obs_pre < p["cd4_threshold"]) & valid
    if p["confirm_cd4"] >= 0.5:
        hit = np.zeros_like(below)
        hit[..., :-1] = below[..., :-1] & below[..., 1:]
    else:
        hit = below
    t_cd4 = _first_true(hit, t)
    t_primary = np.minimum.reduce([t_cd4, t_art, t_aids, t_death])

    # After ART: CD4 rises from its level at the start, viral load falls below detection.
    given = (cycles[None, None, :] < t_art[..., None]) & (
        cycles[None, None, :] < t_death[..., None]
    )
    n_cycles = np.where(il2, given.sum(axis=-1), 0)
    onart = t > t_art[..., None]
    if post_art and onart.any():
        ta = np.where(np.isfinite(t_art), t_art, 0.0)
        base_a = np.maximum(c0 + slope * ta, p["cd4_floor"])
        # explicit sum over the few cycles (no BLAS call: same bits on every machine)
        kern32 = _f(kern)
        boost_after = np.zeros(onart.shape, dtype=F32)
        for k in range(cycles.size):
            boost_after += given[..., k : k + 1] * kern32[:, k]
        boost_after *= _f(gain)[..., None]
        since = np.maximum(t32 - _f(ta)[..., None], F32(0.0))
        art_gain = p["art_cd4_gain"] * np.exp(p["art_gain_sdlog"] * noise.z_artgain)
        cd4_on = (_f(base_a)[..., None] + boost_after) + _f(art_gain)[..., None] * (
            F32(1.0) - np.exp(since * F32(-1.0 / p["art_tau"]))
        )
        cd4_obs = np.where(onart, cd4_on * noise_cd4, cd4_obs_pre)
        v_a = v0 + drift * ta / WEEKS_PER_YEAR
        floor = p["vl_lod"] - 0.5  # suppressed below the assay limit
        v_on = F32(floor) + _f(v_a - floor)[..., None] * np.exp(since * F32(-1.0 / p["art_vl_tau"]))
        vl_on = np.maximum(v_on + F32(p["vl_noise_sd"]) * noise.z_vl, F32(p["vl_lod"]))
        vl_obs = np.where(onart, vl_on, vl_obs_pre)
    else:
        cd4_obs, vl_obs = cd4_obs_pre, vl_obs_pre

    entry = p["entry_window"] * noise.u_entry
    fu_end = np.minimum(horizon, follow_up_horizon(p) - entry)
    age = np.clip(p["age_mean"] + p["age_sd"] * noise.z_age, 18.0, 70.0)
    return Trials(
        visits=t,
        cycles=cycles,
        il2=il2,
        age=age,
        male=noise.u_sex < p["male_fraction"],
        entry=entry,
        fu_end=fu_end,
        bcd4=bcd4,
        bvl=bvl,
        cd4_obs=cd4_obs,
        vl_obs=vl_obs,
        cd4_true_noil2=base,
        onart=onart,
        alive=t < t_death[..., None],
        t_cd4=t_cd4,
        t_art=t_art,
        t_aids=t_aids,
        t_death=t_death,
        t_primary=t_primary,
        n_cycles=n_cycles,
    )


def arm_indicator(n_il2: int, n_control: int) -> np.ndarray:
    """Patients 0..n_il2-1 get IL-2, the rest are controls (order shuffled only when written)."""
    return np.arange(n_il2 + n_control) < n_il2


def simulate_trials(
    p: Mapping[str, float],
    replicates: int,
    seed: int,
    chunk: int = 250,
    visits: np.ndarray | None = None,
) -> Iterator[Trials]:
    """Yield chunks of replicate trials of the design's size, reproducible from `seed`."""
    v = visit_weeks(follow_up_horizon(p)) if visits is None else visits
    il2 = arm_indicator(int(p["n_il2"]), int(p["n_control"]))
    rng = np.random.default_rng(seed)
    done = 0
    while done < replicates:
        r = min(chunk, replicates - done)
        yield simulate(p, draw_noise(rng, r, il2.size, v.size), il2, v)
        done += r
