"""An ensemble of exact reconstructions: what the published numbers leave open.

Each reconstruction draws its patients at its own posterior draw, from its own pool, and is
conditioned on every published number (:mod:`anrs119.model.reconstruction.search`). Across
reconstructions the published numbers are the same by construction; everything the paper does
not report (the hazard ratio, Kaplan-Meier curves, time to ART, event counts, the other
readings) varies, and its spread is what the paper leaves open. Each reconstruction is also set
among unconditioned trials simulated at the same draw (its typicality), so that the reader sees
what conditioning changes.

Written to ``data/model/ensemble.csv`` (one row per draw tried, failures included) and
``data/model/ensemble_cd4.csv`` (CD4 trajectories by arm, summarised across the ensemble).
Deterministic: every draw carries its own seed, whatever runs it (local processes or Dask).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.inference.priors import FREE_PARAMETERS
from anrs119.model.simulator.simulate import simulate, visit_weeks
from anrs119.model.simulator.trials import Trials
from anrs119.paths import MODEL_DIR
from anrs119.seeds import ENSEMBLE_SEED

ENSEMBLE_FILE: Path = MODEL_DIR / "ensemble.csv"
TRAJECTORY_FILE: Path = MODEL_DIR / "ensemble_cd4.csv"

N_RECONSTRUCTIONS: int = 200
"""Exact reconstructions in the ensemble (issue #12: at least 200)."""

MAX_DRAWS: int = 400
"""Posterior draws available to the ensemble; draws are tried in order, in waves, until
N_RECONSTRUCTIONS of them have given an exact reconstruction."""

TASK_DRAWS: int = 5
"""Draws per parallel task: big enough to amortise a worker's start, small enough to balance."""

REFERENCE_TRIALS: int = 100
"""Unconditioned trials simulated at each draw, among which the reconstruction's unpublished
quantities are ranked (typicality)."""

QUANTITIES: dict[str, str] = {
    "hr_primary_w96": "Cox hazard ratio of the primary end point through week 96 (IL-2 vs control)",
    "logrank_p_primary_w96": "log-rank P of the primary end point through week 96",
    "km_free_w48_il2": "Kaplan-Meier % free of the primary end point at week 48, IL-2",
    "km_free_w48_control": "Kaplan-Meier % free of the primary end point at week 48, control",
    "km_free_w96_il2": "Kaplan-Meier % free of the primary end point at week 96, IL-2",
    "km_free_w96_control": "Kaplan-Meier % free of the primary end point at week 96, control",
    "km_free_w150_il2": "Kaplan-Meier % free of the primary end point at week 150, IL-2",
    "km_free_w150_control": "Kaplan-Meier % free of the primary end point at week 150, control",
    "art_q25_il2": "25th percentile of time to ART (weeks), IL-2",
    "art_q25_control": "25th percentile of time to ART (weeks), control",
    "art_median_il2": "median time to ART (weeks), IL-2",
    "art_median_control": "median time to ART (weeks), control",
    "art_q75_il2": "75th percentile of time to ART (weeks), IL-2",
    "art_q75_control": "75th percentile of time to ART (weeks), control",
    "aids_w96_il2": "patients with an AIDS-defining event by week 96, IL-2",
    "aids_w96_control": "patients with an AIDS-defining event by week 96, control",
    "death_w96_il2": "deaths by week 96, IL-2",
    "death_w96_control": "deaths by week 96, control",
    "grade34_w96_il2": "patients with a grade 3-4 adverse event by week 96, IL-2",
    "grade34_w96_control": "patients with a grade 3-4 adverse event by week 96, control",
    "n_lowvl_il2": "IL-2 patients in the low-viral-load subgroup",
    "n_lowvl_control": "control patients in the low-viral-load subgroup",
    "baseline_cd4_il2": "median baseline CD4 (cells/uL), IL-2",
    "baseline_cd4_control": "median baseline CD4 (cells/uL), control",
    "baseline_vl_il2": "median baseline viral load (log10), IL-2",
    "baseline_vl_control": "median baseline viral load (log10), control",
    "cd4_change_w96_il2:policy": "median CD4 change at week 96, treatment policy, IL-2",
    "cd4_change_w96_control:policy": "median CD4 change at week 96, treatment policy, control",
    "cd4_change_w96_il2:pre_art_locf": "median CD4 change at week 96, last value before ART, IL-2",
    "cd4_change_w96_control:pre_art_locf": "median CD4 change at week 96, last value before ART, "
    "control",
    "lowvl_free_w150_il2:crude": "low viral load: crude % free of the end point at week 150, IL-2",
    "lowvl_free_w150_control:crude": "low viral load: crude % free of the end point at week 150, "
    "control",
    "lowvl_art_deferral:median": "low viral load: difference in median time to ART (weeks)",
    "lowvl_art_deferral:rmst": "low viral load: difference in restricted mean time to ART to "
    "week 150 (weeks)",
    "lowvl_art_deferral:exp_median": "low viral load: difference in exponential-model median "
    "time to ART (weeks)",
}
"""What the paper does not report, computed the same way on every trial (name: description)."""

SHORT: dict[str, str] = {
    "hr_primary_w96": "hazard ratio, week 96",
    "logrank_p_primary_w96": "log-rank P, week 96",
    **{
        f"km_free_w{w}_{arm}": f"KM % free at week {w}, {label}"
        for w in (48, 96, 150)
        for arm, label in (("il2", "IL-2"), ("control", "control"))
    },
    **{
        f"art_{q}_{arm}": f"time to ART, {text}, {label}"
        for q, text in (("q25", "25th percentile"), ("median", "median"), ("q75", "75th pct."))
        for arm, label in (("il2", "IL-2"), ("control", "control"))
    },
    **{
        f"{key}_w96_{arm}": f"{text} by week 96, {label}"
        for key, text in (
            ("aids", "AIDS events"),
            ("death", "deaths"),
            ("grade34", "grade 3-4 AEs"),
        )
        for arm, label in (("il2", "IL-2"), ("control", "control"))
    },
    "n_lowvl_il2": "low-VL subgroup size, IL-2",
    "n_lowvl_control": "low-VL subgroup size, control",
    "baseline_cd4_il2": "baseline CD4, IL-2",
    "baseline_cd4_control": "baseline CD4, control",
    "baseline_vl_il2": "baseline viral load, IL-2",
    "baseline_vl_control": "baseline viral load, control",
    "cd4_change_w96_il2:policy": "CD4 change, treatment policy, IL-2",
    "cd4_change_w96_control:policy": "CD4 change, treatment policy, control",
    "cd4_change_w96_il2:pre_art_locf": "CD4 change, last before ART, IL-2",
    "cd4_change_w96_control:pre_art_locf": "CD4 change, last before ART, control",
    "lowvl_free_w150_il2:crude": "low VL: crude % free at week 150, IL-2",
    "lowvl_free_w150_control:crude": "low VL: crude % free at week 150, control",
    "lowvl_art_deferral:median": "low VL: deferral, medians",
    "lowvl_art_deferral:rmst": "low VL: deferral, restricted means",
    "lowvl_art_deferral:exp_median": "low VL: deferral, exponential medians",
}
"""Short names of the quantities for figures and lists."""


def unpublished(tr: Trials, p: Mapping[str, float], grade34: np.ndarray) -> dict[str, np.ndarray]:
    """The quantities of :data:`QUANTITIES` per replicate of ``tr`` (``grade34``: (R, 2) counts
    of patients with a grade 3-4 event by week 96, IL-2 and control)."""
    from anrs119.model.simulator.cox import primary_cox
    from anrs119.model.simulator.summaries import (
        TimeToEvent,
        claim_summaries,
        composite,
        grid_km,
        km_quantile,
        logrank,
        time_to_art,
        truncate,
    )

    week = float(p["primary_week"])
    t = truncate(tr, float(p["subgroup_week"]))
    il2, ctl = t.il2, ~t.il2
    out: dict[str, np.ndarray] = {}
    with np.errstate(over="ignore"):
        out["hr_primary_w96"] = np.exp(primary_cox(t, week).log_hr)
    prim = composite(t)
    seen = prim.event & (prim.time <= week)
    cut = TimeToEvent(np.minimum(prim.time, week), seen)
    grid96 = t.visits[t.visits <= week]
    out["logrank_p_primary_w96"] = logrank(cut, il2, ctl, grid96)
    k1, k2 = grid_km(prim, il2, t.visits), grid_km(prim, ctl, t.visits)
    for w in (48, 96, 150):
        out[f"km_free_w{w}_il2"] = 100.0 * k1.at(w)
        out[f"km_free_w{w}_control"] = 100.0 * k2.at(w)
    art = time_to_art(t)
    for q, name in ((0.25, "q25"), (0.5, "median"), (0.75, "q75")):
        out[f"art_{name}_il2"] = km_quantile(art, il2, q)
        out[f"art_{name}_control"] = km_quantile(art, ctl, q)
    claims = claim_summaries(t, p)
    for key in QUANTITIES:
        if key in claims:
            out[key] = np.asarray(claims[key], dtype=float)
    out["grade34_w96_il2"] = grade34[:, 0].astype(float)
    out["grade34_w96_control"] = grade34[:, 1].astype(float)
    for arm, mask in (("il2", il2), ("control", ctl)):
        out[f"baseline_cd4_{arm}"] = np.nanmedian(np.where(mask, np.round(t.bcd4), np.nan), 1)
        out[f"baseline_vl_{arm}"] = np.nanmedian(np.where(mask, np.round(t.bvl, 2), np.nan), 1)
    return {k: np.asarray(out[k], dtype=float) for k in QUANTITIES}


def cd4_medians(tr: Trials) -> np.ndarray:
    """(R, 2, V): median measured CD4 at each visit among the patients seen, IL-2 and control."""
    seen = tr.observed()
    out = np.full((tr.shape[0], 2, tr.visits.size), np.nan)
    for a, mask in enumerate((tr.il2, ~tr.il2)):
        values = np.where(seen & mask[..., None], np.round(tr.cd4_obs), np.nan)
        with np.errstate(all="ignore"), _quiet():
            out[:, a, :] = np.nanmedian(values, axis=1)
    return out


class _quiet:
    """Silence numpy's 'All-NaN slice' warning (a visit nobody attended has no median)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


@dataclass(frozen=True)
class Task:
    """Reconstructions of the draws ``first .. first + len(draws) - 1``."""

    first: int
    base: dict[str, float]
    draws: dict[str, np.ndarray]
    seed: int
    reference: int


@dataclass(frozen=True)
class DrawResult:
    """One draw's reconstruction (or failure) and its unconditioned reference trials."""

    row: dict[str, float]
    recon_cd4: np.ndarray
    reference_cd4: np.ndarray


def run_draw(base: Mapping[str, float], draw: Mapping[str, float], index: int, seed: int,
             reference: int) -> DrawResult:  # fmt: skip
    """Reconstruct at one posterior draw and rank it among ``reference`` unconditioned trials."""
    from anrs119.model.checks.predictive import mid_rank_percentile
    from anrs119.model.reconstruction.search import make_pool, reconstruct
    from anrs119.model.simulator import kernel
    from anrs119.model.simulator.simulate import arm_indicator, follow_up_horizon
    from anrs119.model.simulator.summaries import grade34_counts

    p = dict(base)
    p.update(draw)
    rng = np.random.default_rng([seed, index])
    rec = reconstruct(make_pool(p, seed, index), rng)
    row: dict[str, float] = {"draw": index, "exact": float(rec.exact), "restarts": rec.restarts}
    row.update({f"param:{k}": float(v) for k, v in draw.items()})
    # the unconditioned trials: replicates of a second stream of the same seed, same draw
    visits = visit_weeks(follow_up_horizon(p))
    il2 = arm_indicator(int(p["n_il2"]), int(p["n_control"]))
    first = reference * index
    ref = simulate(p, il2, visits, seed + 1, reference, first, full=True)
    u = kernel.uniforms(seed + 1, first, reference, il2.size, kernel.S_AE)
    ref_q = unpublished(ref, p, grade34_counts(ref, p, u))
    ref_cd4 = cd4_medians(ref.take(0))[0]
    for key, values in ref_q.items():
        row[f"ref:{key}"] = float(values[0])  # one unconditioned trial per draw
    if not rec.exact:
        for key in QUANTITIES:
            row[key] = math.nan
            row[f"pct:{key}"] = math.nan
        return DrawResult(row, np.full_like(ref_cd4, np.nan), ref_cd4)
    trial = rec.trial()
    g34 = np.array([[rec.values["grade34_w96_il2"], rec.values["grade34_w96_control"]]])
    q = unpublished(trial, p, g34)
    for key, values in q.items():
        row[key] = float(values[0])
        row[f"pct:{key}"] = mid_rank_percentile(ref_q[key], float(values[0]))
    return DrawResult(row, cd4_medians(trial)[0], ref_cd4)


def run_task(task: Task) -> list[DrawResult]:
    from anrs119.parallel import single_threaded

    single_threaded()
    n = len(next(iter(task.draws.values())))
    return [
        run_draw(
            task.base,
            {k: float(v[i]) for k, v in task.draws.items()},
            task.first + i,
            task.seed,
            task.reference,
        )
        for i in range(n)
    ]


def ensemble_draws(sample: pd.DataFrame, n: int = MAX_DRAWS, seed: int = ENSEMBLE_SEED):
    """The posterior draws of the ensemble, in the order they are tried."""
    from anrs119.model.inference.sample import resample

    return resample(sample, n, np.random.default_rng(seed))


@dataclass(frozen=True)
class Ensemble:
    """Every draw tried (``table``) and the CD4 trajectories summarised (``cd4``)."""

    table: pd.DataFrame
    cd4: pd.DataFrame


def build_ensemble(
    base: Mapping[str, float],
    draws: Mapping[str, np.ndarray],
    n: int = N_RECONSTRUCTIONS,
    *,
    seed: int = ENSEMBLE_SEED,
    reference: int = REFERENCE_TRIALS,
    task_draws: int = TASK_DRAWS,
    visits: np.ndarray | None = None,
    progress: bool = True,
) -> Ensemble:
    """Reconstruct draw after draw (in waves, in parallel) until ``n`` are exact.

    Draw i's result depends on i alone, so the ensemble is the same however the waves are cut
    and whoever runs them; it holds the draws up to the n-th exact one, failures included.
    """
    from anrs119.parallel import run_tasks

    total = len(next(iter(draws.values())))
    results: list[DrawResult] = []
    done = 0
    while sum(r.row["exact"] for r in results) < n:
        missing = n - int(sum(r.row["exact"] for r in results))
        # the next wave: as many draws as are still missing (failures are rare: a short extra
        # wave costs less than a margin of draws computed for nothing)
        size = min(total - done, max(task_draws, missing))
        if size <= 0:
            raise RuntimeError(
                f"only {int(sum(r.row['exact'] for r in results))} exact reconstructions in "
                f"{total} posterior draws; {n} were asked for"
            )
        tasks = [
            Task(
                first=i,
                base=dict(base),
                draws={
                    k: np.asarray(v)[i : min(i + task_draws, done + size)] for k, v in draws.items()
                },
                seed=seed,
                reference=reference,
            )
            for i in range(done, done + size, task_draws)
        ]
        for part in run_tasks(run_task, tasks, desc="reconstructions", progress=progress):
            results.extend(part)
        done += size
    exact_seen = np.cumsum([r.row["exact"] for r in results])
    last = int(np.searchsorted(exact_seen, n)) + 1  # keep draws up to the n-th exact one
    kept = results[:last]
    table = ensemble_table([r.row for r in kept])
    weeks = visit_weeks(float(base["subgroup_week"])) if visits is None else visits
    cd4 = trajectory_summary(
        np.stack([r.recon_cd4 for r in kept if r.row["exact"]]),
        np.stack([r.reference_cd4 for r in kept]),
        weeks,
    )
    return Ensemble(table, cd4)


def ensemble_table(rows: Sequence[Mapping[str, float]]) -> pd.DataFrame:
    """The rows of :func:`run_draw` as the stored table: typed, floats to 6 decimals."""
    table = pd.DataFrame(list(rows))
    table["draw"] = table["draw"].astype(int)
    table["exact"] = table["exact"].astype(bool)
    table["restarts"] = table["restarts"].astype(int)
    num = table.select_dtypes("float").columns
    table[num] = table[num].round(6)
    return table


TRAJECTORY_QUANTILES: tuple[float, ...] = (2.5, 25.0, 50.0, 75.0, 97.5)


def trajectory_summary(recon: np.ndarray, reference: np.ndarray, weeks: np.ndarray) -> pd.DataFrame:
    """Quantiles across trials of the median CD4 per arm and visit: reconstructions and one
    unconditioned trial per draw."""
    from anrs119 import ARMS

    rows = []
    for source, arr in (("reconstruction", recon), ("unconditioned", reference)):
        with _quiet():
            qs = np.nanpercentile(arr, TRAJECTORY_QUANTILES, axis=0)  # (Q, 2, V)
        for a, arm in enumerate(ARMS):
            for j, week in enumerate(weeks):
                row = {"source": source, "arm": arm, "week": int(week)}
                row.update({f"q{q:g}": round(float(qs[k, a, j]), 1) for k, q in
                            enumerate(TRAJECTORY_QUANTILES)})  # fmt: skip
                rows.append(row)
    return pd.DataFrame(rows)


def write_ensemble(ens: Ensemble, folder: Path = MODEL_DIR) -> list[Path]:
    from anrs119.model.files import write_csv

    return [
        write_csv(ens.table, folder / ENSEMBLE_FILE.name),
        write_csv(ens.cd4, folder / TRAJECTORY_FILE.name),
    ]


def generate_ensemble(
    progress: bool = True,
    folder: Path = MODEL_DIR,
    n: int = N_RECONSTRUCTIONS,
    reference: int = REFERENCE_TRIALS,
) -> list[Path]:
    """``python -m anrs119 ensemble``: the ensemble from the stored posterior, written."""
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.sample import load_posterior
    from anrs119.model.inference.statistics import base_values

    base = base_values(load_priors())
    draws = ensemble_draws(load_posterior())
    draws = {k: v for k, v in draws.items() if k in FREE_PARAMETERS}
    ens = build_ensemble(base, draws, n, reference=reference, progress=progress)
    return write_ensemble(ens, folder)


def read_ensemble(path: Path = ENSEMBLE_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_trajectories(path: Path = TRAJECTORY_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


# ---------------------------------------------------------------- what the chapter shows

GROUPS: dict[str, str] = {
    "hr_primary_w96": "effect",
    "logrank_p_primary_w96": "effect",
    "km_free": "Kaplan-Meier % free of the end point",
    "art_": "time to ART (weeks)",
    "aids_": "patients with the event by week 96",
    "death_": "patients with the event by week 96",
    "grade34_": "patients with the event by week 96",
    "n_lowvl": "baseline",
    "baseline_": "baseline",
    "cd4_change": "other readings",
    "lowvl_": "other readings",
}
"""Panel of each quantity in the chapter's figure (by name prefix)."""


def group_of(quantity: str) -> str:
    return next(g for prefix, g in GROUPS.items() if quantity.startswith(prefix))


PINNED: float = 1 / 3
NARROWED: float = 2 / 3
"""Width of the reconstructions' 95% range relative to the unconditioned one: at most PINNED,
the paper pins the quantity down; at most NARROWED, it narrows it; above, it barely constrains
it (a convention of this book, stated with the table)."""

TAIL: float = 2.5
"""A reconstruction is in a tail of its draw's unconditioned trials below the 2.5th or above the
97.5th percentile: 5% of reconstructions would be if conditioning changed nothing."""


def _range(values: pd.Series) -> tuple[float, float, float, float]:
    """Median, 2.5th and 97.5th percentiles of the finite values, and the share not reached."""
    x = values.to_numpy(dtype=float)
    reached = np.isfinite(x)
    if reached.sum() == 0:
        return math.nan, math.nan, math.nan, 1.0 - reached.mean()
    lo, med, hi = np.percentile(x[reached], [2.5, 50.0, 97.5])
    return float(med), float(lo), float(hi), float(1.0 - reached.mean())


def leaves_open(table: pd.DataFrame) -> pd.DataFrame:
    """Per unpublished quantity: its range across exact reconstructions beside its range across
    unconditioned posterior-predictive trials (one per draw), and how much the paper narrows it.

    Time-to-event quantiles that are not reached by week 150 are infinite: they are left out of
    the ranges and counted in ``not_reached``; when most are not reached, no ratio is given.
    """
    exact = table[table["exact"]]
    rows = []
    for q, text in QUANTITIES.items():
        r_med, r_lo, r_hi, r_nr = _range(exact[q])
        u_med, u_lo, u_hi, u_nr = _range(table[f"ref:{q}"])
        ratio = math.nan
        if max(r_nr, u_nr) < 0.5 and u_hi > u_lo:
            ratio = (r_hi - r_lo) / (u_hi - u_lo)
        if math.isnan(ratio):
            verdict = "mostly not reached by week 150"
        elif ratio <= PINNED:
            verdict = "pinned down"
        elif ratio <= NARROWED:
            verdict = "narrowed"
        else:
            verdict = "barely constrained"
        rows.append(
            {
                "quantity": q,
                "description": text,
                "label": SHORT[q],
                "group": group_of(q),
                "median": r_med,
                "low95": r_lo,
                "high95": r_hi,
                "not_reached": r_nr,
                "unconditioned_median": u_med,
                "unconditioned_low95": u_lo,
                "unconditioned_high95": u_hi,
                "unconditioned_not_reached": u_nr,
                "width_ratio": ratio,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def typicality(table: pd.DataFrame) -> pd.DataFrame:
    """Per quantity: where the reconstructions fall among their own draw's unconditioned trials.

    With no distortion the percentiles would be uniform: median near 50, 5% in the two tails.
    ``p_tails`` is the binomial probability of at least the tail count seen, if 5% were the
    truth: small values flag a quantity that conditioning on the paper moves.
    """
    from scipy import stats

    exact = table[table["exact"]]
    n = len(exact)
    rows = []
    for q, text in QUANTITIES.items():
        pct = exact[f"pct:{q}"].to_numpy(dtype=float)
        pct = pct[np.isfinite(pct)]
        tails = int(((pct < TAIL) | (pct > 100 - TAIL)).sum())
        rows.append(
            {
                "quantity": q,
                "description": text,
                "label": SHORT[q],
                "group": group_of(q),
                "n": int(pct.size),
                "median_percentile": float(np.median(pct)) if pct.size else math.nan,
                "below": int((pct < TAIL).sum()),
                "above": int((pct > 100 - TAIL).sum()),
                "tail_share": tails / pct.size if pct.size else math.nan,
                "p_tails": float(stats.binom.sf(tails - 1, pct.size, 2 * TAIL / 100))
                if pct.size
                else math.nan,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["n_reconstructions"] = n
    return out


def _names(frame: pd.DataFrame) -> str:
    items = list(frame["label"])
    if not items:
        return "none"
    return "; ".join(items)


def chapter_numbers(table: pd.DataFrame, reference: int = REFERENCE_TRIALS) -> dict[str, str]:
    """The reconstruction chapter's glued numbers, from the stored ensemble."""
    from anrs119.model.reconstruction.search import POOL_PER_ARM, RESTARTS

    ranges = leaves_open(table).set_index("quantity")
    typ = typicality(table).set_index("quantity")
    exact = table[table["exact"]]
    flagged = typ[typ["p_tails"] < 0.01]
    baseline = flagged[flagged["group"] == "baseline"]

    def rng(q: str, digits: int, source: str = "") -> str:
        r = ranges.loc[q]
        pre = f"{source}_" if source else ""
        return (
            f"{r[pre + 'median']:.{digits}f} ({r[pre + 'low95']:.{digits}f} to "
            f"{r[pre + 'high95']:.{digits}f})"
        )

    def pct(q: str) -> str:
        return f"{typ.loc[q, 'median_percentile']:.0f}"

    from anrs119.published import load_claims

    claims = load_claims()["reported_as"]
    return {
        "rc_pub_low_il2": str(claims["lowvl_free_w150_il2"]),
        "rc_pub_low_control": str(claims["lowvl_free_w150_control"]),
        "rc_pub_deferral": str(claims["lowvl_art_deferral"]),
        "rc_n": str(len(exact)),
        "rc_tried": str(len(table)),
        "rc_failed": str(int((~table["exact"]).sum())),
        "rc_restarted": str(int((exact["restarts"] > 1).sum())),
        "rc_restarts_allowed": str(RESTARTS),
        "rc_pool": f"{POOL_PER_ARM:,}",
        "rc_reference": str(reference),
        "rc_hr": rng("hr_primary_w96", 2),
        "rc_hr_unc": rng("hr_primary_w96", 2, "unconditioned"),
        "rc_hr_ratio": f"{ranges.loc['hr_primary_w96', 'width_ratio']:.2f}",
        "rc_km96_il2": rng("km_free_w96_il2", 1),
        "rc_km96_control": rng("km_free_w96_control", 1),
        "rc_km150_il2": rng("km_free_w150_il2", 1),
        "rc_km150_control": rng("km_free_w150_control", 1),
        "rc_art_median_control": rng("art_median_control", 0),
        "rc_art_median_il2_nr": f"{100 * ranges.loc['art_median_il2', 'not_reached']:.0f}%",
        "rc_aids_il2": rng("aids_w96_il2", 0),
        "rc_death_il2": rng("death_w96_il2", 0),
        "rc_grade34_il2": rng("grade34_w96_il2", 0),
        "rc_grade34_control": rng("grade34_w96_control", 0),
        "rc_pinned": _names(ranges[ranges["verdict"] == "pinned down"].reset_index()),
        "rc_n_pinned": str(int((ranges["verdict"] == "pinned down").sum())),
        "rc_n_barely": str(int((ranges["verdict"] == "barely constrained").sum())),
        "rc_n_quantities": str(len(ranges)),
        "rc_pinned_cut": f"{PINNED:.2f}",
        "rc_narrowed_cut": f"{NARROWED:.2f}",
        "rc_n_flagged": str(len(flagged)),
        "rc_flagged": _names(flagged.reset_index()),
        "rc_baseline_flagged": _names(baseline.reset_index()),
        "rc_n_baseline_flagged": str(len(baseline)),
        "rc_n_baseline": str(int((typ["group"] == "baseline").sum())),
        "rc_pct_km150_il2": pct("km_free_w150_il2"),
        "rc_pct_km150_control": pct("km_free_w150_control"),
        "rc_pct_hr": pct("hr_primary_w96"),
        "rc_tail_km150_control": f"{100 * typ.loc['km_free_w150_control', 'tail_share']:.0f}%",
        "rc_rmst": rng("lowvl_art_deferral:rmst", 1),
        "rc_rmst_unc": rng("lowvl_art_deferral:rmst", 1, "unconditioned"),
    }


__all__: Sequence[str] = (
    "QUANTITIES",
    "build_ensemble",
    "chapter_numbers",
    "generate_ensemble",
    "leaves_open",
    "read_ensemble",
    "typicality",
    "unpublished",
)
