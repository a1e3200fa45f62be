"""Competing risks for time to ART: Aalen-Johansen incidence, deferral readings, bootstrap CIs.

Every reading is made on follow-up truncated at a horizon (week 150 for the subgroup claim):
a patient still followed after the horizon is censored there, so no later datum can enter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anrs119.analysis._common import AnalysisInputError, group_order, require_columns
from anrs119.analysis.estimands import Estimand

CENSORED, ART, DEATH = 0, 1, 2
CAUSE_LABELS: dict[int, str] = {ART: "ART initiation", DEATH: "death before ART"}


def _param(adtte: pd.DataFrame, paramcd: str) -> pd.DataFrame:
    rows = adtte.loc[adtte["PARAMCD"] == paramcd, ["USUBJID", "AVAL", "CNSR"]]
    dup = rows["USUBJID"].duplicated()
    if dup.any():
        raise AnalysisInputError(
            f"adtte: column USUBJID, row {rows.index[dup.to_numpy()][0]}: rule: one record per "
            f"subject for PARAMCD={paramcd}"
        )
    return rows.set_index("USUBJID")


def art_competing_data(
    adsl: pd.DataFrame,
    adtte: pd.DataFrame,
    horizon: float,
    *,
    by: str = "ARM",
) -> pd.DataFrame:
    """One row per ADSL subject: USUBJID, group, time, cause (0 censored, 1 ART, 2 death).

    ART (ADTTE ``ARTINIT``) is the event of interest; a death (``DEATH``) before any ART start
    competes with it: it is the one event that makes ART impossible. An AIDS-defining event is
    not a competing event (it makes ART imminent, not impossible). Times beyond ``horizon`` are
    censored at the horizon, so nothing observed after it is used.
    """
    require_columns(adsl, ["USUBJID", by], "adsl")
    require_columns(adtte, ["USUBJID", "PARAMCD", "AVAL", "CNSR"], "adtte")
    if not horizon > 0:
        raise AnalysisInputError(f"horizon={horizon}: rule: a positive number of weeks")
    art = _param(adtte, "ARTINIT")
    missing = sorted(set(adsl["USUBJID"]) - set(art.index))
    if missing:
        raise AnalysisInputError(
            f"adtte: PARAMCD ARTINIT, subject {missing[0]}: rule: every ADSL subject needs one "
            f"record ({len(missing)} missing)"
        )
    ids = adsl["USUBJID"].to_numpy()
    a = art.loc[ids]
    t_art = a["AVAL"].to_numpy(dtype=float)
    art_event = a["CNSR"].to_numpy() == 0
    if np.any(t_art < 0) or np.any(np.isnan(t_art)):
        raise AnalysisInputError("adtte: column AVAL, PARAMCD ARTINIT: rule: AVAL >= 0, present")
    time = t_art.copy()
    cause = np.where(art_event, ART, CENSORED)
    death = _param(adtte, "DEATH") if (adtte["PARAMCD"] == "DEATH").any() else None
    if death is not None:
        d = death.reindex(ids)
        t_d = d["AVAL"].to_numpy(dtype=float)
        died = (d["CNSR"].to_numpy() == 0) & ~np.isnan(t_d)
        # A death before ART (or with no ART) ends the ART-free state for a competing reason.
        first = died & (~art_event | (t_d < t_art))
        time = np.where(first, t_d, time)
        cause = np.where(first, DEATH, cause)
    late = time > horizon
    time = np.where(late, horizon, time)
    cause = np.where(late, CENSORED, cause)
    return pd.DataFrame(
        {
            "USUBJID": ids,
            "group": adsl[by].to_numpy(),
            "time": time,
            "cause": cause.astype(int),
        }
    )


def _aj_core(
    t: np.ndarray, c: np.ndarray, causes: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray], np.ndarray]:
    """Distinct times (with 0), numbers at risk, events and CIF per cause, and S(t)."""
    grid, idx = np.unique(np.concatenate([[0.0], t]), return_inverse=True)
    idx = idx[1:]
    n_leave = np.bincount(idx, minlength=grid.size)
    n_at_risk = t.size - np.concatenate([[0], np.cumsum(n_leave)[:-1]])
    d_all = np.zeros(grid.size)
    events = {}
    for k in causes:
        events[k] = np.bincount(idx[c == k], minlength=grid.size).astype(float)
        d_all += events[k]
    safe = np.maximum(n_at_risk, 1)
    free = np.cumprod(1.0 - d_all / safe)
    free_before = np.concatenate([[1.0], free[:-1]])
    cif = {k: np.cumsum(free_before * d / safe) for k, d in events.items()}
    return grid, n_at_risk, events, cif, free


def aalen_johansen(
    time: np.ndarray, cause: np.ndarray, causes: Sequence[int] = (ART, DEATH)
) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of each cause, one row per distinct time (and 0).

    CIF_k(t) = sum over times t_j <= t of S(t_j-) d_kj / n_j, S the Kaplan-Meier estimate of
    being free of every cause. Columns: time, n_at_risk, one ``d_<k>`` and one ``cif_<k>`` per
    cause, ``n_censor`` and ``free`` (S(t)). Censorings at t count as still at risk at t.
    """
    t = np.asarray(time, dtype=float)
    c = np.asarray(cause, dtype=int)
    if t.shape != c.shape or t.ndim != 1:
        raise AnalysisInputError("aalen_johansen: rule: time and cause are 1-d of equal length")
    unknown = set(np.unique(c).tolist()) - set(causes) - {CENSORED}
    if unknown:
        raise AnalysisInputError(f"cause values {sorted(unknown)}: rule: one of {list(causes)}")
    grid, n_at_risk, events, cif, free = _aj_core(t, c, causes)
    out: dict[str, np.ndarray] = {"time": grid, "n_at_risk": n_at_risk}
    for k in causes:
        out[f"d_{k}"] = events[k].astype(int)
        out[f"cif_{k}"] = cif[k]
    idx = np.searchsorted(grid, t)
    out["n_censor"] = np.bincount(idx[c == CENSORED], minlength=grid.size)
    out["free"] = free
    return pd.DataFrame(out)


def step_quantile(times: np.ndarray, cumulative: np.ndarray, p: float) -> float:
    """First time at which a non-decreasing step function reaches ``p`` (inf if never)."""
    hit = np.flatnonzero(np.asarray(cumulative) >= p - 1e-12)
    return float(np.asarray(times)[hit[0]]) if hit.size else float("inf")


def km_event_curve(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier 1 - S(t) at each distinct time (and 0): the compact form the bootstrap uses."""
    t = np.asarray(time, dtype=float)
    grid, _, _, _, free = _aj_core(t, np.where(np.asarray(event) == 1, ART, CENSORED), (ART,))
    return grid, 1.0 - free


def restricted_mean_free(times: np.ndarray, free: np.ndarray, tau: float) -> float:
    """Area under the right-continuous step function ``free`` from 0 to ``tau``."""
    t = np.asarray(times, dtype=float)
    s = np.asarray(free, dtype=float)
    keep = t < tau
    t, s = t[keep], s[keep]
    widths = np.diff(np.append(t, tau))
    return float(np.sum(s * widths))


@dataclass(frozen=True)
class DeferralReading:
    """One reading of "ART deferred by": the value per arm and the difference, with CIs."""

    key: str
    label: str
    by_arm: dict[str, float]
    difference: float
    arm_ci: dict[str, tuple[float, float]]
    diff_ci: tuple[float, float]
    undefined: int
    """Bootstrap resamples in which the difference was undefined (not reached in both arms)."""


def _readings_one(
    arms: Sequence[tuple[np.ndarray, np.ndarray]], horizon: float
) -> dict[str, list[float]]:
    """Per-arm values of every reading on one (possibly resampled) data set of (time, cause)."""
    out: dict[str, list[float]] = {}
    for t, c in arms:
        km_t, km_f = km_event_curve(t, (c == ART).astype(int))
        aj_t, _, _, cif, _ = _aj_core(t, c, (ART, DEATH))
        values = {
            "km_q25": step_quantile(km_t, km_f, 0.25),
            "km_median": step_quantile(km_t, km_f, 0.5),
            "km_rmst": restricted_mean_free(km_t, 1.0 - km_f, horizon),
            "aj_q25": step_quantile(aj_t, cif[ART], 0.25),
            "aj_median": step_quantile(aj_t, cif[ART], 0.5),
            "aj_rmtl": horizon - restricted_mean_free(aj_t, cif[ART], horizon),
        }
        for k, v in values.items():
            out.setdefault(k, []).append(v)
    return out


def reading_values(
    arms: Sequence[tuple[np.ndarray, np.ndarray]], horizon: float
) -> dict[str, list[float]]:
    """Every reading of time to ART per arm, from (time, cause) arrays truncated at ``horizon``
    (the point estimates of :func:`deferral_readings`; the scorecard's reach recomputes them
    with one patient's outcome changed)."""
    return _readings_one(arms, horizon)


READING_LABELS: dict[str, str] = {
    "km_q25": "25th percentile of time to ART (Kaplan-Meier, deaths censored)",
    "km_median": "median time to ART (Kaplan-Meier, deaths censored)",
    "km_rmst": "restricted mean ART-free time to the horizon (Kaplan-Meier, deaths censored)",
    "aj_q25": "time by which 25% had started ART (Aalen-Johansen, death competing)",
    "aj_median": "time by which 50% had started ART (Aalen-Johansen, death competing)",
    "aj_rmtl": "horizon minus the area under the cumulative incidence of ART (Aalen-Johansen; "
    "time after a death counts as time without ART)",
}


def _difference(a: float, b: float) -> float:
    """a - b with not-reached (inf) kept: inf - finite = inf; inf - inf is undefined (nan)."""
    if np.isinf(a) and np.isinf(b):
        return float("nan")
    return float(a - b)


def percentile_ci(values: np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap interval by order statistics, so that inf (not reached) is kept.

    Undefined replicates (nan) could be anything: they are put at -inf for the lower bound and
    at +inf for the upper bound (conservative: the interval opens if they are many).
    """
    v = np.asarray(values, dtype=float)
    b = v.size
    if b == 0:
        raise AnalysisInputError("percentile_ci: rule: at least one bootstrap replicate")
    lo_index = int(np.floor(alpha / 2 * b))
    hi_index = int(np.ceil((1 - alpha / 2) * b)) - 1
    low = np.sort(np.where(np.isnan(v), -np.inf, v))[lo_index]
    high = np.sort(np.where(np.isnan(v), np.inf, v))[hi_index]
    return float(low), float(high)


def deferral_readings(
    data: pd.DataFrame,
    horizon: float,
    *,
    resamples: int,
    seed: int,
    alpha: float = 0.05,
    order: Sequence[str] | None = None,
) -> list[DeferralReading]:
    """Every reading of the deferral (first arm minus second) with percentile bootstrap CIs.

    ``data`` comes from :func:`art_competing_data` (already truncated at ``horizon``). Resampling
    is of patients within each arm (stratified by arm, so arm sizes stay fixed). "Not reached by
    the horizon" is kept as +inf throughout, so an interval may be open on the right.
    """
    if resamples < 1:
        raise AnalysisInputError(f"resamples={resamples}: rule: at least 1")
    if (data["time"] > horizon).any():
        raise AnalysisInputError(f"data: column time: rule: truncated at the horizon {horizon:g}")
    groups = group_order(data["group"], order)
    if len(groups) != 2:
        raise AnalysisInputError(f"{len(groups)} groups: rule: the deferral compares two arms")
    arms = [
        (
            data.loc[data["group"] == g, "time"].to_numpy(dtype=float),
            data.loc[data["group"] == g, "cause"].to_numpy(dtype=int),
        )
        for g in groups
    ]
    point = _readings_one(arms, horizon)
    rng = np.random.default_rng(seed)
    boot: dict[str, list[list[float]]] = {k: [] for k in point}
    for _ in range(resamples):
        sample = []
        for t, c in arms:
            pick = rng.integers(0, t.size, size=t.size)
            sample.append((t[pick], c[pick]))
        values = _readings_one(sample, horizon)
        for k, v in values.items():
            boot[k].append(v)
    out = []
    for key, arm_values in point.items():
        reps = np.asarray(boot[key], dtype=float)
        diffs = np.array([_difference(a, b) for a, b in reps])
        out.append(
            DeferralReading(
                key=key,
                label=READING_LABELS[key],
                by_arm={g: float(v) for g, v in zip(groups, arm_values, strict=True)},
                difference=_difference(arm_values[0], arm_values[1]),
                arm_ci={g: percentile_ci(reps[:, i], alpha) for i, g in enumerate(groups)},
                diff_ci=percentile_ci(diffs, alpha),
                undefined=int(np.isnan(diffs).sum()),
            )
        )
    return out


@dataclass(frozen=True)
class CumulativeIncidenceResult:
    """Aalen-Johansen cumulative incidence of ART (and the competing causes) by arm."""

    table: pd.DataFrame
    """Columns: group, time, n_at_risk, d_<k>, cif_<k> per cause, n_censor, free."""
    groups: tuple[str, ...]
    n: tuple[int, ...]
    horizon: float
    causes: tuple[int, ...]
    estimand: Estimand

    def cif_at(self, group: str, cause: int, t: float) -> float:
        rows = self.table[self.table["group"] == group]
        i = np.searchsorted(rows["time"].to_numpy(), t, side="right") - 1
        return float(rows[f"cif_{cause}"].iloc[max(int(i), 0)])

    def counts(self) -> pd.DataFrame:
        """Events of each cause and censorings per arm, within the horizon."""
        rows = []
        for g in self.groups:
            r = self.table[self.table["group"] == g]
            row = {"group": g, "n": self.n[self.groups.index(g)]}
            for k in self.causes:
                row[CAUSE_LABELS[k]] = int(r[f"d_{k}"].sum())
            row["censored"] = int(r["n_censor"].sum())
            rows.append(row)
        return pd.DataFrame(rows)


def cumulative_incidence(
    data: pd.DataFrame, horizon: float, *, order: Sequence[str] | None = None
) -> CumulativeIncidenceResult:
    """Aalen-Johansen estimates by arm on data from :func:`art_competing_data`."""
    groups = group_order(data["group"], order)
    causes = tuple(k for k in (ART, DEATH) if (k == ART) or (data["cause"] == k).any())
    frames = []
    for g in groups:
        sub = data[data["group"] == g]
        t = aalen_johansen(sub["time"].to_numpy(), sub["cause"].to_numpy(), causes)
        frames.append(t.assign(group=g))
    n = tuple(int((data["group"] == g).sum()) for g in groups)
    competing = ", ".join(CAUSE_LABELS[k] for k in causes if k != ART) or "none observed"
    estimand = Estimand(
        population=", ".join(f"{g} n={k}" for g, k in zip(groups, n, strict=True)),
        variable=f"time to ART initiation (ADTTE ARTINIT) up to week {horizon:g}",
        intercurrent_event_strategy=f"competing events ({competing}) end the ART-free state "
        "without ART (a while-alive reading, not a hypothetical one); follow-up after week "
        f"{horizon:g} is not used",
        summary_measure="Aalen-Johansen cumulative incidence of ART by arm",
    )
    table = pd.concat(frames, ignore_index=True)
    return CumulativeIncidenceResult(
        table=table[["group", *[c for c in table.columns if c != "group"]]],
        groups=groups,
        n=n,
        horizon=float(horizon),
        causes=causes,
        estimand=estimand,
    )


def as_adtte(data: pd.DataFrame, paramcd: str = "ARTINIT") -> pd.DataFrame:
    """ADTTE rows of truncated ART times (deaths censored), for the Kaplan-Meier helpers."""
    require_columns(data, ["USUBJID", "time", "cause"], "data")
    return pd.DataFrame(
        {
            "USUBJID": data["USUBJID"].to_numpy(),
            "PARAMCD": paramcd,
            "AVAL": data["time"].to_numpy(dtype=float),
            "CNSR": (data["cause"].to_numpy() != ART).astype(int),
        }
    )
