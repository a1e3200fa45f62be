"""Simulation of replicate trials: hazards on a fixed weekly grid, measurements at visits.

ART start, AIDS-defining events, death and loss to follow-up are hazards per unit time on a
grid of ``HAZARD_STEP_WEEKS`` that does not depend on the visit schedule; visits only decide
what is *observed* (CD4 end point, measured values, the last visit attended). The per-patient
work runs in a numba kernel (:mod:`anrs119.model.simulator.kernel`) with counter-based random
numbers, so a seed fixes every variate and the same patients appear whatever is computed from them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import numpy as np
from scipy.special import ndtr, ndtri
from tqdm import tqdm

from anrs119.model.simulator import kernel
from anrs119.model.simulator.kernel import KERNEL_PARAMETERS, MODEL_OPTIONS
from anrs119.model.simulator.schedule import (
    ART_CD4_REFERENCE,
    ART_VL_REFERENCE,
    FOLLOW_UP_END,
    HAZARD_STEP_WEEKS,
    VL_REFERENCE,
    WEEKS_PER_YEAR,
    cycle_weeks,
    follow_up_horizon,
    visit_weeks,
)
from anrs119.model.simulator.trials import Trials

__all__ = [
    "ART_CD4_REFERENCE",
    "ART_VL_REFERENCE",
    "FOLLOW_UP_END",
    "HAZARD_STEP_WEEKS",
    "VL_REFERENCE",
    "WEEKS_PER_YEAR",
    "Trials",
    "arm_indicator",
    "cycle_weeks",
    "follow_up_horizon",
    "simulate",
    "simulate_claims",
    "simulate_trials",
    "visit_weeks",
]


DESIGN_SCALARS: tuple[str, ...] = (
    "n_il2",
    "n_control",
    "primary_week",
    "subgroup_week",
    "vl_cutoff",
    "il2_first_week",
    "il2_interval",
    "il2_fixed_cycles",
    "il2_max_cycles",
    "il2_last_week",
    "il2_extra_cycle_1",
    "il2_extra_cycle_2",
)
"""Inputs that fix array shapes or the schedule: one value for all replicates."""

PER_REPLICATE: tuple[str, ...] = (
    *KERNEL_PARAMETERS,
    "cd4_lower",
    "cd4_upper",
    "il2_rampup",
    "il2_halflife",
    "calendar_span",
    "followup_extension",
)
"""Inputs that may be given as one value per replicate (arrays of shape (replicates,)). The
kernel's :data:`~anrs119.model.simulator.kernel.MODEL_OPTIONS` (model extensions) may be left
out of a parameter set: they are then off."""


def per_replicate_value(v: object) -> bool:
    """Whether a parameter value is one value per replicate (a 1-D array), not one for all.

    Plain Python numbers, by far the most common values, are answered without numpy: the
    check runs for every parameter of every call, and a one-trial call (the ABC model) made
    two hundred ``np.ndim`` calls, a tenth of its time."""
    if isinstance(v, (float, int)):
        return False
    return np.ndim(v) == 1


def _check_design_scalars(p: Mapping[str, float]) -> None:
    for name in DESIGN_SCALARS:
        v = p[name]
        if not isinstance(v, (float, int)) and np.ndim(v) != 0:
            raise ValueError(f"parameter {name}: a design fact takes one value, not an array")


def _per_replicate(p: Mapping[str, float], replicates: int) -> dict[str, np.ndarray]:
    _check_design_scalars(p)
    rows = np.empty((len(PER_REPLICATE), replicates))  # one row per input (np.full is slower)
    out = {}
    for name, row in zip(PER_REPLICATE, rows, strict=True):
        v = p[name] if name not in MODEL_OPTIONS else p.get(name, MODEL_OPTIONS[name])
        if not isinstance(v, (float, int)):
            v = np.asarray(v, dtype=float)
            if v.ndim != 0 and v.shape != (replicates,):
                raise ValueError(
                    f"parameter {name}: per-replicate values need shape ({replicates},), "
                    f"got {v.shape}"
                )
        row[:] = v
        out[name] = row
    return out


def _boost_table(weeks: np.ndarray, cycles: np.ndarray, rampup, halflife) -> np.ndarray:
    """(R, T, C + 1): share of the peak gain present at each week from the first K cycles."""
    lag = weeks[None, :, None] - cycles[None, None, :]
    ramp = np.asarray(rampup, dtype=float)[:, None, None]
    half = np.asarray(halflife, dtype=float)[:, None, None]
    rise = np.clip(lag / ramp, 0.0, 1.0)
    decay = np.exp(-math.log(2.0) * np.maximum(lag - ramp, 0.0) / half)
    kern = np.where(lag > 0, rise * decay, 0.0)
    out = np.zeros((kern.shape[0], weeks.size, cycles.size + 1))
    out[..., 1:] = np.cumsum(kern, axis=-1)
    return out


def _il2_kernel(lag: np.ndarray, rampup: float, halflife: float) -> np.ndarray:
    """Share of a cycle's peak gain present ``lag`` weeks after the cycle starts."""
    rise = np.clip(lag / rampup, 0.0, 1.0)
    decay = np.exp(-math.log(2.0) * np.maximum(lag - rampup, 0.0) / halflife)
    return np.where(lag > 0, rise * decay, 0.0)


def _distinct_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct pairs (a[r], b[r]) and the index of each replicate's pair among them (one
    1-D unique of complex keys: np.unique over the rows of an array is a hundred times
    slower, and most calls have a single pair)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.all(a == a[0]) and np.all(b == b[0]):
        return a[:1], b[:1], np.zeros(a.size, dtype=np.int64)
    keys, index = np.unique(a + 1j * b, return_inverse=True)
    return keys.real.copy(), keys.imag.copy(), index.astype(np.int64).ravel()


def simulate(
    p: Mapping[str, float],
    il2: np.ndarray,
    visits: np.ndarray,
    seed: int,
    replicates: int = 1,
    first_replicate: int = 0,
    *,
    full: bool = True,
) -> Trials:
    """Simulate ``replicates`` trials of the patients ``il2`` (boolean (N,) arm indicator).

    Replicate r uses the random numbers of replicate ``first_replicate + r`` of ``seed``
    (common random numbers across parameter values and chunkings) and the r-th value of any
    per-replicate parameter array. ``full=False`` skips the per-visit arrays.
    """
    visits = np.asarray(visits, dtype=float)
    il2 = np.asarray(il2, dtype=bool)
    if il2.ndim != 1:
        raise ValueError("il2 must be a boolean (N,) arm indicator")
    horizon = follow_up_horizon(p)
    if visits[0] != 0.0 or np.any(np.diff(visits) <= 0) or visits[-1] > horizon + 1e-9:
        raise ValueError(f"visits must rise from week 0 and end by week {horizon:g}")
    if visits.size > kernel.MAX_VISITS:
        raise ValueError(f"at most {kernel.MAX_VISITS} visits")
    week = float(p["primary_week"])
    jw = int(np.searchsorted(visits, week))
    if jw >= visits.size or visits[jw] != week:
        raise ValueError(f"the visit schedule has no visit at the primary week {week:g}")
    q = _per_replicate(p, replicates)
    cycles = cycle_weeks(p)
    r, n = replicates, il2.size

    params = np.empty((r, kernel.N_PARAMS))
    for k, name in enumerate(KERNEL_PARAMETERS):
        params[:, k] = q[name]
    params[:, kernel.P_CUTOFF] = q["calendar_span"] + q["followup_extension"]

    # Screening CD4 (true x noise) must fall in the window: the measured log count comes from
    # its truncated marginal (inverse CDF), the true count from its conditional (kernel).
    m = np.log(q["cd4_pop_median"])[:, None]
    s_m = np.hypot(q["cd4_pop_sdlog"], q["cd4_noise_sdlog"])[:, None]
    a = ndtr((np.log(q["cd4_lower"])[:, None] - m) / s_m)
    b = ndtr((np.log(q["cd4_upper"])[:, None] - m) / s_m)
    u = kernel.uniforms(seed, first_replicate, r, n, kernel.S_BASE_CD4)
    log_meas = m + s_m * ndtri(a + u * (b - a))

    dt = HAZARD_STEP_WEEKS
    n_steps = math.ceil(horizon / dt - 1e-9)
    # one IL-2 boost table per distinct (ramp-up, half-life) pair, as for the noise bounds:
    # the kernel then always takes C-contiguous tables (one compiled signature)
    ramp, half, boost_index = _distinct_pairs(q["il2_rampup"], q["il2_halflife"])
    bh = _boost_table(np.arange(n_steps) * dt, cycles, ramp, half)
    bv = _boost_table(visits, cycles, ramp, half)
    boost_nonneg = bool(np.all(bh >= 0.0))  # lets the kernel bound the ART hazard (see there)

    out = np.empty((len(kernel.OUTPUTS), r, n))
    vshape = (r, n, visits.size) if full else (1, 1, 1)
    cd4_obs = np.empty(vshape)
    vl_obs = np.empty(vshape)
    attended = np.empty(vshape, dtype=bool)
    # one table of visit-noise bounds per distinct (noise, threshold) pair
    noise_sd, threshold = params[:, kernel.P_NOISE], params[:, kernel.P_THRESHOLD]
    sig, thr, noise_index = _distinct_pairs(noise_sd, threshold)
    noise = kernel.noise_bounds(sig, thr)
    kernel.run(
        int(seed), int(first_replicate), params, log_meas, il2, visits, cycles, bh, bv, dt,
        n_steps, jw, full, out, cd4_obs, vl_obs, attended, noise, noise_index, boost_index,
        boost_nonneg,
    )  # fmt: skip
    o = dict(zip(kernel.OUTPUTS, out, strict=True))
    return Trials(
        visits=visits,
        cycles=cycles,
        week=week,
        il2=np.broadcast_to(il2, (r, n)),
        male=o.pop("male") > 0.5,
        n_cycles=o.pop("n_cycles").astype(np.int64),
        cd4_obs=cd4_obs if full else None,
        vl_obs=vl_obs if full else None,
        attended=attended if full else None,
        **o,
    )


def arm_indicator(n_il2: int, n_control: int) -> np.ndarray:
    """Patients 0..n_il2-1 get IL-2, the rest are controls (order shuffled only when written)."""
    return np.arange(n_il2 + n_control) < n_il2


def _slice_params(p: Mapping[str, float], start: int, stop: int, replicates: int) -> dict:
    """Replicates ``start`` to ``stop - 1`` of ``p`` (of ``replicates``, lengths checked)."""
    if start == 0 and stop == replicates:  # one chunk: nothing to slice
        return dict(p)
    return {k: (v[start:stop] if per_replicate_value(v) else v) for k, v in p.items()}


def _check_lengths(p: Mapping[str, float], replicates: int) -> None:
    for k, v in p.items():
        if per_replicate_value(v) and len(v) != replicates:
            raise ValueError(
                f"parameter {k}: per-replicate values need shape ({replicates},), got ({len(v)},)"
            )


def simulate_trials(
    p: Mapping[str, float],
    replicates: int,
    seed: int,
    chunk: int = 250,
    visits: np.ndarray | None = None,
    *,
    full: bool = True,
) -> Iterator[Trials]:
    """Yield chunks of replicate trials of the design's size, reproducible from ``seed``.

    Values of ``p`` may be arrays of shape ``(replicates,)`` (per-replicate parameters).
    """
    _check_lengths(p, replicates)
    _check_design_scalars(p)
    v = visit_weeks(follow_up_horizon(p)) if visits is None else np.asarray(visits, float)
    il2 = arm_indicator(int(p["n_il2"]), int(p["n_control"]))
    done = 0
    while done < replicates:
        r = min(chunk, replicates - done)
        q = _slice_params(p, done, done + r, replicates)
        yield simulate(q, il2, v, seed, r, done, full=full)
        done += r


def simulate_claims(
    p: Mapping[str, float],
    replicates: int,
    seed: int,
    *,
    progress: bool = False,
    visits: np.ndarray | None = None,
    chunk: int = 1000,
    primary_test: str | None = None,
    safety: bool = True,
) -> dict[str, np.ndarray]:
    """Claim summaries of ``replicates`` simulated trials, each array of length ``replicates``.

    Values of ``p`` may be per-replicate arrays (shape ``(replicates,)``). ``primary_test``
    defaults to the test that reproduces the printed primary P value (forensic allocation);
    ``safety`` adds the Fisher P values of the safety statements (AIDS, death, grade 3-4).
    Same ``(p, replicates, seed)``, same bytes.
    """
    from anrs119.model.simulator.summaries import claim_summaries, safety_summaries

    if primary_test is None:
        primary_test = _default_primary_test()
    chunks = []
    bar = tqdm(total=replicates, desc="simulated trials", disable=not progress)
    done = 0
    for tr in simulate_trials(p, replicates, seed, chunk=chunk, visits=visits, full=False):
        r = tr.shape[0]
        q = _slice_params(p, done, done + r, replicates)
        s = claim_summaries(tr, q, primary_test=primary_test)
        if safety:
            u = kernel.uniforms(seed, done, r, tr.shape[1], kernel.S_AE)
            s.update(safety_summaries(tr, q, u))
        chunks.append(s)
        done += r
        bar.update(r)
    bar.close()
    if len(chunks) == 1:
        return chunks[0]
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def _default_primary_test() -> str:
    try:
        from anrs119.model.simulator.parameters import primary_test

        return primary_test()
    except (OSError, ValueError, KeyError):
        return "chi2"
