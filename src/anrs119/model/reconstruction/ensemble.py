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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from anrs119.model.inference.priors import FREE_PARAMETERS
from anrs119.model.reconstruction.ensemble_tables import (
    ENSEMBLE_FILE,
    N_RECONSTRUCTIONS,
    QUANTITIES,
    REFERENCE_TRIALS,
    TRAJECTORY_FILE,
)
from anrs119.model.simulator.schedule import visit_weeks
from anrs119.model.simulator.simulate import simulate
from anrs119.model.simulator.trials import Trials
from anrs119.paths import MODEL_DIR

if TYPE_CHECKING:
    from anrs119.model.reconstruction.search import Claims
from anrs119.seeds import ENSEMBLE_SEED

MAX_DRAWS: int = 400
"""Posterior draws available to the ensemble; draws are tried in order, in waves, until
N_RECONSTRUCTIONS of them have given an exact reconstruction."""

TASK_DRAWS: int = 5
"""Draws per parallel task: big enough to amortise a worker's start, small enough to balance."""


MIN_ESTIMABLE: float = 0.75
"""A reconstruction is placed among its draw's unconditioned trials only when at least this
share of them have a value for the quantity."""


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
             reference: int, claims: Claims | None = None) -> DrawResult:  # fmt: skip
    """Reconstruct at one posterior draw and rank it among ``reference`` unconditioned trials
    (``claims``: the abstract's targets, the registry's by default; its arm sizes are the
    reference trials' too)."""
    from anrs119.model.checks.predictive import mid_rank_percentile
    from anrs119.model.reconstruction.search import make_pool, reconstruct
    from anrs119.model.simulator import kernel
    from anrs119.model.simulator.schedule import follow_up_horizon
    from anrs119.model.simulator.simulate import arm_indicator
    from anrs119.model.simulator.summaries import grade34_counts

    p = dict(base)
    p.update(draw)
    if claims is not None:
        p["n_il2"], p["n_control"] = claims.n_il2, claims.n_control
    rng = np.random.default_rng([seed, index])
    rec = reconstruct(make_pool(p, seed, index), rng, claims=claims)
    row: dict[str, float] = {
        "draw": index,
        "exact": float(rec.exact),
        "restarts": rec.restarts,
        "accepted": rec.accepted,
    }
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
        # a percentile among a few estimable reference trials says little: none is given when
        # more than a quarter of them have no value (a difference of quantiles not reached)
        estimable = float(np.mean(~np.isnan(ref_q[key])))
        row[f"pct:{key}"] = (
            mid_rank_percentile(ref_q[key], float(values[0]))
            if estimable >= MIN_ESTIMABLE
            else math.nan
        )
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
    table["accepted"] = table["accepted"].astype(int)
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


# ---------------------------------------------------------------- what the chapter shows
