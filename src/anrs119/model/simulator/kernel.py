"""Numba kernel of the simulator: one patient at a time, with counter-based random numbers.

Every random variate is a hash of (seed, replicate, patient, stream, index), so a variate can be
computed lazily (only where the simulation needs it, e.g. CD4 noise at the visits before the end
point) and still be the same number whichever quantities are asked for: the claim-only run and
the full run that writes every visit give identical results.
"""

from __future__ import annotations

import math

import numpy as np

from anrs119.extras import MissingExtraError
from anrs119.model.simulator.schedule import (
    ART_CD4_REFERENCE,
    ART_VL_REFERENCE,
    VL_REFERENCE,
    WEEKS_PER_YEAR,
)

try:
    from numba import njit, prange
except ModuleNotFoundError as missing:  # numba comes with the optional extra anrs119[model]
    raise MissingExtraError.of(missing, __name__) from missing

KERNEL_PARAMETERS: tuple[str, ...] = (
    "cd4_pop_median",
    "cd4_pop_sdlog",
    "cd4_noise_sdlog",
    "vl_mean",
    "vl_sd",
    "vl_noise_sd",
    "cd4_slope_mean",
    "cd4_slope_sd",
    "cd4_slope_vl",
    "cd4_floor",
    "vl_drift_mean",
    "vl_drift_sd",
    "vl_lod",
    "il2_gain_median",
    "il2_gain_sdlog",
    "il2_vl_effect",
    "art_rate_ref",
    "art_cd4_loghr",
    "art_vl_loghr",
    "art_endpoint_hr",
    "art_cd4_gain",
    "art_gain_sdlog",
    "art_tau",
    "art_vl_tau",
    "aids_rate",
    "aids_cd4_loghr",
    "aids_vl_loghr",
    "death_rate",
    "art_clinical_hr",
    "il2_clinical_hr",
    "dropout_rate",
    "visit_miss_prob",
    "il2_stop_prob",
    "confirm_cd4",
    "age_mean",
    "age_sd",
    "male_fraction",
    "cd4_threshold",
    "entry_window",
    "art_on_measured",
    "il2_gain_vl",
)
"""Columns of the per-replicate parameter matrix (then ``cutoff`` = calendar span + extension).
The last ones are :data:`MODEL_OPTIONS`, which a parameter set may leave out."""

MODEL_OPTIONS: dict[str, float] = {"art_on_measured": 0.0, "il2_gain_vl": 0.0}
"""Model extensions, each off (its default) unless a parameter set gives it a value.

``art_on_measured`` (0 or 1; per replicate if wanted): with 1, the ART-start hazard follows the
CD4 count and viral load *measured* at the latest attended visit (the screening values before
the first), held until the next visit, instead of the true, unobserved values at every step.
Physicians decide on measured counts, read at visits: the guidelines of 2003-06 set their
thresholds on the measured CD4 count and viral load (PRIORS.md section 7: US DHHS, PMC3922739
Table 1; French recommendations), SMART's deferral arm started ART when a measured count fell
below 250 cells/uL (El-Sadr et al., NEJM 2006;355:2283; Emery et al., JID 2008;197:1133), and
cohort analyses of when to start classify patients by their latest measured count (Kitahata et
al., NEJM 2009;360:1815). The measured count differs from the true one by a within-person CV of
about 25% (Hughes et al., JID 1994;169:28), so the two rules select different patients. With
the default (0), nothing the analyses see determines ART start, and no analysis of the observed
data can remove the confounding; with 1 the start depends on observed values only (AIDS-defining
events, which start ART at once, still follow the true count). With 1 the visit schedule becomes
part of the ART process (decisions are taken at visits), an exception to the rule that visits
change only what is observed.

``il2_gain_vl`` (a log-scale slope, 0 = off; per replicate if wanted): an IL-2 patient's gain per
cycle is multiplied by ``exp(il2_gain_vl x (true baseline log10 VL - vl_mean))``, so the IL-2
effect varies with viral load while its median at the population's mean viral load stays
``il2_gain_median``. Its prior (data/model/extension_priors.csv) and the reasons for it are in
:mod:`anrs119.model.checks.extensions`; the book's model leaves it at 0."""

(
    P_POP_MEDIAN,
    P_POP_SDLOG,
    P_NOISE,
    P_VL_MEAN,
    P_VL_SD,
    P_VL_NOISE,
    P_SLOPE_MEAN,
    P_SLOPE_SD,
    P_SLOPE_VL,
    P_FLOOR,
    P_DRIFT_MEAN,
    P_DRIFT_SD,
    P_LOD,
    P_GAIN_MEDIAN,
    P_GAIN_SDLOG,
    P_IL2_VL,
    P_ART_REF,
    P_ART_CD4,
    P_ART_VL,
    P_ART_EP,
    P_ART_GAIN,
    P_ART_GAIN_SD,
    P_ART_TAU,
    P_ART_VL_TAU,
    P_AIDS_RATE,
    P_AIDS_CD4,
    P_AIDS_VL,
    P_DEATH_RATE,
    P_ART_CLIN,
    P_IL2_CLIN,
    P_DROPOUT,
    P_MISS,
    P_STOP,
    P_CONFIRM,
    P_AGE_MEAN,
    P_AGE_SD,
    P_MALE,
    P_THRESHOLD,
    P_ENTRY,
    P_ART_MEASURED,
    P_IL2_GAIN_VL,
    P_CUTOFF,
) = range(len(KERNEL_PARAMETERS) + 1)
N_PARAMS: int = len(KERNEL_PARAMETERS) + 1

OUTPUTS: tuple[str, ...] = (
    "bcd4",
    "bvl",
    "age",
    "male",
    "entry",
    "fu_end",
    "t_drop",
    "t_cd4",
    "t_art",
    "t_aids",
    "t_death",
    "t_primary",
    "t_last",
    "cd4_w",
    "vl_w",
    "cd4_locf",
    "vl_locf",
    "n_cycles",
    "t_cd4_known",
)
"""Per-patient outputs of the kernel, rows of its (outputs, replicates, patients) array."""
(
    O_BCD4,
    O_BVL,
    O_AGE,
    O_MALE,
    O_ENTRY,
    O_FUEND,
    O_TDROP,
    O_TCD4,
    O_TART,
    O_TAIDS,
    O_TDEATH,
    O_TPRIM,
    O_TLAST,
    O_CD4W,
    O_VLW,
    O_CD4LOCF,
    O_VLLOCF,
    O_NCYC,
    O_TCONF,
) = range(len(OUTPUTS))

# Streams of the counter-based generator (index of a patient's variate).
S_BASE_CD4 = 0  # uniform: measured screening CD4 (drawn in Python, inverted with scipy)
S_PAIR1 = 1  # normals: true CD4 given the screening count, true baseline VL
S_PAIR2 = 2  # normals: baseline VL assay noise, CD4 slope
S_PAIR3 = 3  # normals: IL-2 gain, VL drift
S_PAIR4 = 4  # normals: ART CD4 gain, age
S_ART = 5
S_AIDS = 6
S_DEATH = 7
S_DROP = 8
S_ENTRY = 9
S_SEX = 10
S_STOP = 11
S_AE = 12  # uniform: any grade 3-4 adverse event (predictive safety check)
S_VISIT_NOISE = 1000  # + visit index: normals (CD4 noise, VL noise)
S_VISIT_MISS = 2000  # + visit index: uniform, visit missed
MAX_VISITS: int = 1000

_U = np.uint64
_M1 = _U(0xBF58476D1CE4E5B9)
_M2 = _U(0x94D049BB133111EB)
_G = _U(0x9E3779B97F4A7C15)
_SH30 = _U(30)
_SH27 = _U(27)
_SH31 = _U(31)
_SH11 = _U(11)
_SH32 = _U(32)
_SH56 = _U(56)
_LOW32 = _U(0xFFFFFFFF)
_TWO53 = 2.0**-53
_TWO32 = 2.0**-32
_TWO_PI = 2.0 * math.pi


@njit(cache=True)
def _mix(z):
    """splitmix64 finaliser: a bijective, well-mixing hash of 64 bits."""
    z = (z ^ (z >> _SH30)) * _M1
    z = (z ^ (z >> _SH27)) * _M2
    return z ^ (z >> _SH31)


@njit(cache=True)
def patient_key(seed, rep, i):
    k = _mix(_U(seed) + _G)
    k = _mix(k ^ (_U(rep) * _G + _M1))
    return _mix(k ^ (_U(i) * _M2 + _G))


@njit(cache=True)
def _draw(key, stream):
    return _mix(key ^ (_U(stream) * _G + _M2))


@njit(cache=True)
def _uniform(x):
    """In (0, 1), 53 bits."""
    return (np.float64(x >> _SH11) + 0.5) * _TWO53


@njit(cache=True)
def _normal_pair(x):
    """Two independent standard normals (Box-Muller on two 32-bit halves)."""
    u1 = (np.float64(x >> _SH32) + 0.5) * _TWO32
    u2 = (np.float64(x & _LOW32) + 0.5) * _TWO32
    r = math.sqrt(-2.0 * math.log(u1))
    a = _TWO_PI * u2
    return r * math.cos(a), r * math.sin(a)


@njit(cache=True, parallel=True)
def uniforms(seed, rep0, replicates, patients, stream):
    """(replicates, patients) uniforms of one stream."""
    out = np.empty((replicates, patients))
    for idx in prange(replicates * patients):
        r = idx // patients
        i = idx % patients
        out[r, i] = _uniform(_draw(patient_key(seed, rep0 + r, i), stream))
    return out


@njit(cache=True)
def _attended(key, j, miss):
    if j == 0 or miss <= 0.0:
        return True
    return _uniform(_draw(key, S_VISIT_MISS + j)) >= miss


@njit(cache=True)
def _run_sum(inc0, b, em1b, j):
    """Sum of the first ``j`` increments ``inc0 * exp(b * i)`` of a geometric run
    (``em1b = expm1(b)``)."""
    if b == 0.0:
        return inc0 * j
    return inc0 * (math.expm1(b * j) / em1b)


@njit(cache=True)
def _run_crossing(inc0, b, m, need):
    """First step ``j`` < ``m`` of a geometric run (step ``i`` adds ``inc0 * exp(b * i)``) at
    which the running sum reaches ``need``, with the sum before it; (-1, sum of the run) if the
    run ends first. The closed form gives the step; the exact sums then confirm or move it."""
    em1b = math.expm1(b)
    total = _run_sum(inc0, b, em1b, m)
    if total < need:
        return -1, total
    r = need / inc0
    if b == 0.0:
        est = np.ceil(r) - 1.0
    else:
        x = r * em1b
        est = m if x <= -1.0 else np.ceil(math.log1p(x) / b) - 1.0
    j = int(min(max(est, 0.0), m - 1.0))
    before = _run_sum(inc0, b, em1b, j)
    while j > 0 and before >= need:
        j -= 1
        before = _run_sum(inc0, b, em1b, j)
    after = _run_sum(inc0, b, em1b, j + 1)
    while j < m - 1 and after < need:
        j += 1
        before = after
        after = _run_sum(inc0, b, em1b, j + 1)
    return j, before


@njit(cache=True)
def _first_step(lo, n, c0, slope, floor, dt, at_floor):
    """First step ``k`` in [lo, n] at which ``c0 + slope * (k * dt)`` is at or below ``floor``
    (``at_floor``, falling count) or above it (not ``at_floor``, rising count): ``n`` if none.
    The count moves one way, so an estimate corrected by the exact test is the step a walk
    would find."""
    step = slope * dt
    # a slope so small that one step underflows to 0 never crosses (numba raises on x / 0)
    est = np.ceil((floor - c0) / step) if step != 0.0 else float(n)
    k = int(min(max(est, float(lo)), float(n)))
    while k > lo and (c0 + slope * ((k - 1) * dt) <= floor) == at_floor:
        k -= 1
    while k < n and (c0 + slope * (k * dt) <= floor) != at_floor:
        k += 1
    return k


@njit(cache=True)
def _first_step_at(week, dt, lo, hi):
    """First step ``k`` in [lo, hi] whose start ``k * dt`` is at or after ``week``."""
    k = int(min(max(np.ceil(week / dt), float(lo)), float(hi)))
    while k > lo and (k - 1) * dt >= week:
        k -= 1
    while k < hi and k * dt < week:
        k += 1
    return k


@njit(cache=True)
def _clinical_reach(c0, slope, v0, drift, eff, ca, cv, hr_art, dt, n):
    """Upper bound of the cumulative AIDS/death hazard over ``n`` steps per unit of rate, for
    any on-ART switch (-1 when the signs of the log hazard ratios allow no such bound): the
    CD4 floor only lowers the hazard, so the straight line bounds it."""
    if ca < 0.0 or cv < 0.0:
        return -1.0
    a = ca * (ART_CD4_REFERENCE - c0) + cv * (v0 + max(eff, 0.0) - VL_REFERENCE)
    b = -ca * slope + cv * drift
    tiny = abs(b * dt) < 1e-12
    total = n * dt if tiny else dt * math.expm1(b * n * dt) / math.expm1(b * dt)
    return max(1.0, hr_art) * math.exp(a) * total


@njit(cache=True)
def _clinical_time(rate, budget, c0, slope, floor, v0, drift, eff, ca, cv, hr_art, switch, dt, n,
                   reach):  # fmt: skip
    """First time the cumulative AIDS/death hazard reaches ``budget`` (inf if never).

    The hazard is constant on each step of the fixed grid, evaluated at the step's start; the
    on-ART multiplier applies from the first step starting at or after ``switch``. Its log is
    linear in the step between the changes of regime (week 0, the CD4 floor, the switch), so
    each stretch is summed in closed form (a geometric series) rather than step by step.
    ``reach`` (:func:`_clinical_reach`, shared by AIDS and death) first sets aside the many
    patients whose budget is out of reach.
    """
    if rate <= 0.0 or (reach >= 0.0 and rate * reach * (1.0 + 1e-9) < budget):
        return np.inf
    k_floor = n  # the step from which the CD4 count is on the other side of the floor
    if slope != 0.0:
        k_floor = _first_step(1, n, c0, slope, floor, dt, slope < 0.0)
    k_switch = _first_step_at(switch, dt, 0, n) if switch < np.inf else n
    cum = 0.0
    k = 0
    while k < n:
        end = n if k > 0 else 1
        if k < k_floor < end:
            end = k_floor
        if k < k_switch < end:
            end = k_switch
        t0 = k * dt
        line = c0 + slope * t0
        base = max(line, floor)
        v = v0 + drift * t0 + (eff if t0 > 0.0 else 0.0)
        h = rate * math.exp(ca * (ART_CD4_REFERENCE - base) + cv * (v - VL_REFERENCE))
        if t0 >= switch:
            h *= hr_art
        b = (cv * drift - (ca * slope if line > floor else 0.0)) * dt
        j, s = _run_crossing(h * dt, b, end - k, budget - cum)
        if j >= 0:
            return (k + j) * dt + (budget - cum - s) / (h * math.exp(b * j))
        cum += s
        k = end
    return np.inf


@njit(cache=True)
def _art_out_of_reach(e_art, ref, hr_ep, a_cd4, a_vl, c0, slope, floor, gain, v0, drift, eff, dt,
                      n):  # fmt: skip
    """True if the ART hazard walk of :func:`_patient` cannot reach ``e_art`` within ``n`` steps.

    An upper bound of the walk's cumulative hazard, in blocks of steps: the CD4 count without
    the IL-2 boost (the boost only lowers the hazard) and the viral load are monotone in time,
    so each block's log hazard is at most the sum of the two terms' larger values at the block's
    ends; the end-point multiplier is bounded by max(1, hr). The margin covers the rounding of
    the walk's own sum, so skipping the walk never changes a result. Needs a non-negative boost.
    """
    if gain < 0.0 or ref < 0.0:
        return False
    h0 = ref * max(1.0, hr_ep) * dt
    acc = 0.0
    nb = 10  # blocks: about 10 exponentials instead of one per step
    size = max(1, (n - 1 + nb - 1) // nb)
    k1 = 0
    while k1 < n:
        k2 = 0 if k1 == 0 else min(k1 + size - 1, n - 1)  # step 0 alone: no IL-2 VL effect
        t1 = k1 * dt
        t2 = k2 * dt
        lo = min(max(c0 + slope * t1, floor), max(c0 + slope * t2, floor))
        l1 = a_cd4 * (ART_CD4_REFERENCE - lo) if (a_cd4 > 0.0 and lo < ART_CD4_REFERENCE) else 0.0
        e = eff if k1 > 0 else 0.0
        hi = max(v0 + drift * t1 + e, v0 + drift * t2 + e)
        l2 = a_vl * (hi - ART_VL_REFERENCE) if (a_vl > 0.0 and hi > ART_VL_REFERENCE) else 0.0
        acc += (k2 - k1 + 1) * h0 * math.exp(l1 + l2)
        if acc * (1.0 + 1e-6) >= e_art:
            return False
        k1 = k2 + 1
    return True


@njit(cache=True, inline="always")
def _obs(key, j, tv, pr, c0, slope, gain, bv, kw, v0, drift, eff, t_art, n_given, art_gain):
    """Measured CD4 and log10 VL at visit ``j`` (week ``tv``), off or on ART."""
    zc, zv = _normal_pair(_draw(key, S_VISIT_NOISE + j))
    floor = pr[P_FLOOR]
    lod = pr[P_LOD]
    if tv <= t_art:
        cd4 = max(c0 + slope * tv, floor) + gain * bv[j, kw]
        v = v0 + drift * tv + (eff if tv > 0.0 else 0.0)
    else:
        since = tv - t_art
        cd4 = (
            max(c0 + slope * t_art, floor)
            + gain * bv[j, n_given]
            + art_gain * (1.0 - math.exp(-since / pr[P_ART_TAU]))
        )
        fl = lod - 0.5  # suppressed below the assay limit
        v = fl + (v0 + drift * t_art - fl) * math.exp(-since / pr[P_ART_VL_TAU])
    return cd4 * math.exp(pr[P_NOISE] * zc), max(v + pr[P_VL_NOISE] * zv, lod)


NOISE_BUCKETS: int = 256
"""Buckets of a visit's first Box-Muller uniform (its top 8 bits) in :func:`noise_bounds`."""

# largest |z| = sqrt(-2 ln u1) in each bucket (u1 >= b / 256); bucket 0 has none (set apart)
_NOISE_REACH = np.sqrt(-2.0 * np.log(np.maximum(np.arange(NOISE_BUCKETS), 1) / NOISE_BUCKETS))


def noise_bounds(sig: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """(R, 2, NOISE_BUCKETS): counts that every reading falls below / at or above ``thr``.

    A visit's noise is ``z = sqrt(-2 ln u1) cos(2 pi u2)``, so ``|z| <= sqrt(-2 ln b / 256)``
    when ``u1`` lies in bucket ``b`` (``u1 >= b / 256``). With ``F`` = exp(sdlog x that bound),
    a true count below ``thr / F`` is read below ``thr`` and one at or above ``thr x F`` is
    read at or above it, whatever ``z``; ``F`` carries a relative margin of 1e-6, far above
    the rounding of either side. Bucket 0 (``u1 < 1 / 256``) decides nothing.
    """
    sig = np.asarray(sig, dtype=float)[:, None]
    thr = np.asarray(thr, dtype=float)[:, None]
    f = np.exp(np.abs(sig) * _NOISE_REACH) * (1.0 + 1e-6)
    f[:, 0] = np.inf
    out = np.empty((f.shape[0], 2, NOISE_BUCKETS))
    out[:, 0] = thr / f
    out[:, 1] = thr * f
    return out


@njit(cache=True, inline="always")
def _below(key, j, tv, pr, c0, slope, gain, bv, kw, thr, nb):
    """Whether the measured CD4 at visit ``j`` (off ART) is below ``thr``: the same answer as
    comparing :func:`_obs`'s count, mostly decided without computing the noise.

    ``nb`` (the replicate's :func:`noise_bounds`) settles every visit whose count is far
    enough from the threshold for the largest noise its first uniform allows: two table
    reads. Only the visits it cannot decide (near the threshold, or a small ``u1``) pay for
    the logarithm, square root, cosine and exponential of the exact reading.
    """
    x = _draw(key, S_VISIT_NOISE + j)
    cd4 = max(c0 + slope * tv, pr[P_FLOOR]) + gain * bv[j, kw]
    bucket = x >> _SH56
    if cd4 < nb[0, bucket]:
        return True
    if cd4 >= nb[1, bucket]:
        return False
    u1 = (np.float64(x >> _SH32) + 0.5) * _TWO32
    u2 = (np.float64(x & _LOW32) + 0.5) * _TWO32
    zc = math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)
    return cd4 * math.exp(pr[P_NOISE] * zc) < thr


@njit(cache=True)
def _measured_art_walk(key, pr, visits, bv, kw, c0, slope, gain, v0, drift, eff, cd4_seen,
                       vl_seen, e_art, ref, a_cd4, a_vl, hr_ep, thr, confirm, miss, dt,
                       n_steps):  # fmt: skip
    """The ART hazard walk of :func:`_patient` when ART start follows the measured values
    (``art_on_measured``, :data:`MODEL_OPTIONS`).

    A step's hazard is set by the CD4 count and viral load measured at the latest attended
    visit up to the step's start (``cd4_seen``, ``vl_seen``: the screening values before the
    first visit), with the same log-linear form and references as the default walk; it is
    constant until the next visit, so each stretch between visits is summed at once. The CD4
    end point is read at the same visits from the same measured count, and multiplies the
    hazard by ``art_endpoint_hr`` from the step after its confirming visit, as in the default
    walk. Returns (ART-start time or inf, next visit index, and the end point's state).
    """
    nv = visits.size
    jv = 1
    prev_below = False
    t_cd4 = np.inf
    t_conf = np.inf
    t_prev = np.inf
    cum = 0.0
    k = 0
    while k < n_steps:
        while jv < nv and visits[jv] <= k * dt:
            if _attended(key, jv, miss):
                cd4_seen, vl_seen = _obs(key, jv, visits[jv], pr, c0, slope, gain, bv, kw, v0,
                                         drift, eff, np.inf, 0, 0.0)  # fmt: skip
                if t_conf == np.inf:
                    below = cd4_seen < thr
                    if below and (prev_below or not confirm):
                        t_conf = visits[jv]
                        t_cd4 = t_prev if confirm else t_conf
                    if below:
                        t_prev = visits[jv]
                    prev_below = below
            jv += 1
        stop = n_steps
        if jv < nv:
            stop = _first_step_at(visits[jv], dt, k + 1, n_steps)
        lh = 0.0
        if cd4_seen < ART_CD4_REFERENCE:
            lh += a_cd4 * (ART_CD4_REFERENCE - cd4_seen)
        if vl_seen > ART_VL_REFERENCE:
            lh += a_vl * (vl_seen - ART_VL_REFERENCE)
        h = ref * math.exp(lh) * (hr_ep if t_conf < np.inf else 1.0)
        inc = h * ((stop - k) * dt)
        if h > 0.0 and cum + inc >= e_art:
            return k * dt + (e_art - cum) / h, jv, prev_below, t_cd4, t_conf, t_prev
        cum += inc
        k = stop
    return np.inf, jv, prev_below, t_cd4, t_conf, t_prev


@njit(cache=True, inline="always")
def _patient(
    seed, rep, i, pr, log_meas, il2, visits, cycles, bh, bv, dt, n_steps, jw, full, o, r,
    cd4_obs, vl_obs, attended, nb, boost_nonneg,
):  # fmt: skip
    key = patient_key(seed, rep, i)
    nv = visits.size
    nc = cycles.size
    horizon = visits[nv - 1]

    # baseline: true CD4 given the screening count (bivariate normal on the log scale)
    m = math.log(pr[P_POP_MEDIAN])
    s = pr[P_POP_SDLOG]
    sig = pr[P_NOISE]
    s_m = math.sqrt(s * s + sig * sig)
    z1, z2 = _normal_pair(_draw(key, S_PAIR1))
    z3, z4 = _normal_pair(_draw(key, S_PAIR2))
    z5, z6 = _normal_pair(_draw(key, S_PAIR3))
    z7, z8 = _normal_pair(_draw(key, S_PAIR4))
    c0 = math.exp(m + (s * s / (s_m * s_m)) * (log_meas - m) + (s * sig / s_m) * z1)
    bcd4 = math.exp(log_meas)
    v0 = pr[P_VL_MEAN] + pr[P_VL_SD] * z2
    bvl = v0 + pr[P_VL_NOISE] * z3
    slope = (
        -(pr[P_SLOPE_MEAN] + pr[P_SLOPE_VL] * (v0 - VL_REFERENCE)) + pr[P_SLOPE_SD] * z4
    ) / WEEKS_PER_YEAR
    gain = pr[P_GAIN_MEDIAN] * math.exp(pr[P_GAIN_SDLOG] * z5) if il2 else 0.0
    if il2 and pr[P_IL2_GAIN_VL] != 0.0:  # IL-2 effect varying with viral load (MODEL_OPTIONS)
        gain *= math.exp(pr[P_IL2_GAIN_VL] * (v0 - pr[P_VL_MEAN]))
    drift = (pr[P_DRIFT_MEAN] + pr[P_DRIFT_SD] * z6) / WEEKS_PER_YEAR
    eff = pr[P_IL2_VL] if il2 else 0.0
    art_gain = pr[P_ART_GAIN] * math.exp(pr[P_ART_GAIN_SD] * z7)
    floor = pr[P_FLOOR]
    age = min(max(pr[P_AGE_MEAN] + pr[P_AGE_SD] * z8, 18.0), 70.0)
    male = 1.0 if _uniform(_draw(key, S_SEX)) < pr[P_MALE] else 0.0
    entry = pr[P_ENTRY] * _uniform(_draw(key, S_ENTRY))
    fu_end = min(horizon, pr[P_CUTOFF] - entry)
    e_art = -math.log(_uniform(_draw(key, S_ART)))
    e_aids = -math.log(_uniform(_draw(key, S_AIDS)))
    e_death = -math.log(_uniform(_draw(key, S_DEATH)))
    e_drop = -math.log(_uniform(_draw(key, S_DROP)))
    miss = pr[P_MISS]

    # loss to follow-up: constant hazard
    rate_drop = pr[P_DROPOUT] / WEEKS_PER_YEAR
    t_drop = e_drop / rate_drop if rate_drop > 0.0 else np.inf
    if t_drop > horizon:
        t_drop = np.inf

    # IL-2 cycles the patient is willing to receive: after each cycle, stops for good with
    # probability il2_stop_prob
    kw = 0
    if il2:
        q = pr[P_STOP]
        if q <= 0.0:
            kw = nc
        elif q >= 1.0:
            kw = 1
        else:
            extra = math.floor(math.log(_uniform(_draw(key, S_STOP))) / math.log1p(-q))
            kw = nc if extra >= nc - 1 else 1 + int(extra)
        kw = min(kw, nc)

    # ART hazard walk on the fixed grid, with the CD4 end point detected at attended visits
    ref = pr[P_ART_REF] / WEEKS_PER_YEAR
    a_cd4 = pr[P_ART_CD4] / 100.0
    a_vl = pr[P_ART_VL]
    hr_ep = pr[P_ART_EP]
    thr = pr[P_THRESHOLD]
    confirm = pr[P_CONFIRM] >= 0.5
    jv = 1
    prev_below = False
    t_cd4 = np.inf  # end point date: the first of the two low counts when confirmed
    t_conf = np.inf  # the visit at which the end point is known (confirming visit)
    t_prev = np.inf
    cum = 0.0
    t_h = np.inf
    # most patients who never start ART by the horizon are recognised from a bound, and their
    # walk (one exponential per step) is skipped; the visits are then read after the loop
    walk = n_steps
    measured = pr[P_ART_MEASURED] >= 0.5  # ART follows the measured values (MODEL_OPTIONS)
    if measured or (boost_nonneg and _art_out_of_reach(e_art, ref, hr_ep, a_cd4, a_vl, c0,
                                                       slope, floor, gain, v0, drift, eff, dt,
                                                       n_steps)):  # fmt: skip
        walk = 0
    k = 0
    while k < walk:
        # visits up to the step's start change the state (end point known) from t0 on
        while jv < nv and visits[jv] <= k * dt and t_conf == np.inf:
            if _attended(key, jv, miss):
                below = _below(key, jv, visits[jv], pr, c0, slope, gain, bv, kw, thr, nb)
                if below and (prev_below or not confirm):
                    t_conf = visits[jv]
                    t_cd4 = t_prev if confirm else t_conf
                if below:
                    t_prev = visits[jv]
                prev_below = below
            jv += 1
        # then the steps before the next visit falls due, in a tight loop
        stop = walk
        if jv < nv and t_conf == np.inf:
            stop = _first_step_at(visits[jv], dt, k + 1, walk)
        mult = hr_ep if t_conf < np.inf else 1.0
        crossed = False
        while k < stop:
            t0 = k * dt
            cd4 = max(c0 + slope * t0, floor) + gain * bh[k, kw]
            lh = 0.0
            if cd4 < ART_CD4_REFERENCE:
                lh += a_cd4 * (ART_CD4_REFERENCE - cd4)
            v = v0 + drift * t0 + (eff if t0 > 0.0 else 0.0)
            if v > ART_VL_REFERENCE:
                lh += a_vl * (v - ART_VL_REFERENCE)
            h = (ref * math.exp(lh) if lh != 0.0 else ref) * mult
            inc = h * dt
            if cum + inc >= e_art:
                t_h = t0 + (e_art - cum) / h
                crossed = True
                break
            cum += inc
            k += 1
        if crossed:
            break
    if measured:
        t_h, jv, prev_below, t_cd4, t_conf, t_prev = _measured_art_walk(
            key, pr, visits, bv, kw, c0, slope, gain, v0, drift, eff, bcd4,
            max(bvl, pr[P_LOD]), e_art, ref, a_cd4, a_vl, hr_ep, thr, confirm, miss, dt, n_steps,
        )  # fmt: skip
    lim = min(t_h, horizon)
    while jv < nv and visits[jv] <= lim and t_conf == np.inf:
        if _attended(key, jv, miss):
            below = _below(key, jv, visits[jv], pr, c0, slope, gain, bv, kw, thr, nb)
            if below and (prev_below or not confirm):
                t_conf = visits[jv]
                t_cd4 = t_prev if confirm else t_conf
            if below:
                t_prev = visits[jv]
            prev_below = below
        jv += 1

    # AIDS-defining events and death follow the CD4 count without IL-2 (ESPRIT/SILCAAT);
    # an AIDS-defining event starts ART at once
    ca = pr[P_AIDS_CD4] / 100.0
    cv = pr[P_AIDS_VL]
    m_il2 = pr[P_IL2_CLIN] if il2 else 1.0
    hr_art = pr[P_ART_CLIN]
    reach = _clinical_reach(c0, slope, v0, drift, eff, ca, cv, hr_art, dt, n_steps)
    t_aids = _clinical_time(pr[P_AIDS_RATE] / WEEKS_PER_YEAR * m_il2, e_aids, c0, slope, floor,
                            v0, drift, eff, ca, cv, hr_art, t_h, dt, n_steps, reach)  # fmt: skip
    t_art = min(t_h, t_aids)
    t_death = _clinical_time(pr[P_DEATH_RATE] / WEEKS_PER_YEAR * m_il2, e_death, c0, slope,
                             floor, v0, drift, eff, ca, cv, hr_art, t_art, dt, n_steps,
                             reach)  # fmt: skip
    if t_art >= t_death:
        t_art = np.inf
    if t_aids >= t_death:  # no event after death
        t_aids = np.inf
    if t_conf > t_art or t_conf >= t_death:  # both counts measured off ART, alive
        t_cd4 = np.inf
        t_conf = np.inf
    t_primary = min(min(t_cd4, t_art), min(t_aids, t_death))

    n_given = 0
    n_cycles = 0
    for c in range(kw):
        if cycles[c] < t_art:
            n_given += 1
            if cycles[c] < t_death:
                n_cycles += 1

    # last attended visit before the end of follow-up (data cut-off or loss to follow-up)
    end = min(fu_end, t_drop)
    jl = nv - 1
    while jl > 0 and (visits[jl] > end or not _attended(key, jl, miss)):
        jl -= 1

    # readings at the primary week: the value at the visit, and the last value before ART
    tw = visits[jw]
    if _attended(key, jw, miss):
        cd4_w, vl_w = _obs(key, jw, tw, pr, c0, slope, gain, bv, kw, v0, drift, eff, t_art,
                           n_given, art_gain)  # fmt: skip
    else:
        cd4_w, vl_w = np.nan, np.nan
    jp = jw
    while jp > 0 and (visits[jp] > t_art or not _attended(key, jp, miss)):
        jp -= 1
    if jp == 0:
        cd4_p, vl_p = bcd4, max(bvl, pr[P_LOD])
    else:
        cd4_p, vl_p = _obs(key, jp, visits[jp], pr, c0, slope, gain, bv, kw, v0, drift, eff,
                           t_art, n_given, art_gain)  # fmt: skip
    if jw == 0:
        cd4_w, vl_w = bcd4, max(bvl, pr[P_LOD])

    o[O_BCD4, r, i] = bcd4
    o[O_BVL, r, i] = bvl
    o[O_AGE, r, i] = age
    o[O_MALE, r, i] = male
    o[O_ENTRY, r, i] = entry
    o[O_FUEND, r, i] = fu_end
    o[O_TDROP, r, i] = t_drop
    o[O_TCD4, r, i] = t_cd4
    o[O_TART, r, i] = t_art
    o[O_TAIDS, r, i] = t_aids
    o[O_TDEATH, r, i] = t_death
    o[O_TPRIM, r, i] = t_primary
    o[O_TLAST, r, i] = visits[jl]
    o[O_CD4W, r, i] = cd4_w
    o[O_VLW, r, i] = vl_w
    o[O_CD4LOCF, r, i] = cd4_p
    o[O_VLLOCF, r, i] = vl_p
    o[O_NCYC, r, i] = n_cycles
    o[O_TCONF, r, i] = t_conf

    if full:
        for j in range(nv):
            attended[r, i, j] = _attended(key, j, miss)
            if j == 0:
                cd4_obs[r, i, j] = bcd4
                vl_obs[r, i, j] = max(bvl, pr[P_LOD])
            else:
                c, v = _obs(key, j, visits[j], pr, c0, slope, gain, bv, kw, v0, drift, eff,
                            t_art, n_given, art_gain)  # fmt: skip
                cd4_obs[r, i, j] = c
                vl_obs[r, i, j] = v


PATIENT_BLOCK: int = 16
"""Patients simulated per call of :func:`_patients` (one parallel task)."""


@njit(cache=True)
def _patients(
    seed, rep, lo, hi, pr, log_meas, il2, visits, cycles, bh, bv, dt, n_steps, jw, full, o, r,
    cd4_obs, vl_obs, attended, nb, boost_nonneg,
):  # fmt: skip
    """Patients ``lo`` to ``hi - 1`` of one replicate. A call passes its arrays by reference
    count, so a block of patients shares one call; :func:`_patient` is inlined here rather
    than into the parallel loop of :func:`run`, whose compilation it would slow by half."""
    for i in range(lo, hi):
        _patient(seed, rep, i, pr, log_meas[i], il2[i], visits, cycles, bh, bv, dt, n_steps, jw,
                 full, o, r, cd4_obs, vl_obs, attended, nb, boost_nonneg)  # fmt: skip


@njit(cache=True, parallel=True)
def run(
    seed, rep0, params, log_meas, il2, visits, cycles, bh, bv, dt, n_steps, jw, full, out,
    cd4_obs, vl_obs, attended, noise, noise_index, boost_index, boost_nonneg=False,
):  # fmt: skip
    """Simulate every patient of every replicate (parallel over blocks of patients,
    deterministic: a patient's numbers do not depend on its block or thread).

    ``noise[noise_index[r]]`` is replicate ``r``'s :func:`noise_bounds` table, and
    ``bh[boost_index[r]]``, ``bv[boost_index[r]]`` its IL-2 boost tables (weekly, at visits).
    """
    reps, n = log_meas.shape
    blocks = (n + PATIENT_BLOCK - 1) // PATIENT_BLOCK
    for idx in prange(reps * blocks):
        r = idx // blocks
        lo = (idx % blocks) * PATIENT_BLOCK
        b = boost_index[r]
        _patients(seed, rep0 + r, lo, min(lo + PATIENT_BLOCK, n), params[r], log_meas[r], il2,
                  visits, cycles, bh[b], bv[b], dt, n_steps, jw, full, out, r, cd4_obs, vl_obs,
                  attended, noise[noise_index[r]], boost_nonneg)  # fmt: skip
