"""The hypothetical estimands checked where the truth is known: "CD4 change at week 96 had nobody
started ART", computed on a large simulated cohort in which ART is impossible, against the
book's estimators (IPCW, the mixed model, the naive off-ART reading) applied, exactly as the
chapters apply them, to the ADaM tables of trials simulated with ART allowed.

Three models of ART start (:data:`~anrs119.model.checks.estimands_tables.SCENARIOS`): the true
CD4 count and viral load drive it (the book's model: no analysis of the observed data can remove
that confounding); the values measured at the visits drive it
(:data:`~anrs119.model.simulator.kernel.MODEL_OPTIONS` ``art_on_measured``), except for the
starts an AIDS-defining event sets off; and the measured CD4 count alone drives it, where the
estimators' assumption holds exactly. The same patients appear in every scenario (common random
numbers), and the no-ART truth is the same for all. ``python -m anrs119 validate-estimands``
writes the outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119 import ARMS
from anrs119.model.checks.estimands_tables import (
    DRAWS_FILE,
    METHODS,
    RESAMPLES,
    SCENARIOS,
    SUMMARY_FILE,
    TRIALS_FILE,
    Method,
    summarise,
)
from anrs119.paths import MODEL_DIR
from anrs119.seeds import ESTIMANDS_BOOTSTRAP_SEED, ESTIMANDS_TRIALS_SEED, ESTIMANDS_TRUTH_SEED

PARAMCD: str = "CD4"

ESTIMATE_DIGITS: int = 6
"""Decimals kept in the per-trial file (far below any Monte Carlo error; keeps the bytes the
same whatever linear-algebra library rounds the last bit)."""


@dataclass(frozen=True)
class ValidationSize:
    """How much is simulated: trials per scenario (bias), the first ``coverage_trials`` of them
    with bootstrap intervals, resamples per bootstrap, the no-ART cohort per arm and the
    posterior draws at which the truth is also computed."""

    trials: int
    coverage_trials: int
    resamples: int
    cohort_per_arm: int
    draws: int
    chunk: int = 5


FULL = ValidationSize(
    trials=200, coverage_trials=100, resamples=RESAMPLES, cohort_per_arm=50_000, draws=4
)
"""The committed run (issue 26: bias on at least 200 trials, coverage on at least 100; 100
trials read a 95% coverage to about 2 points)."""

REDUCED = ValidationSize(
    trials=3, coverage_trials=2, resamples=20, cohort_per_arm=2_000, draws=1, chunk=3
)
"""The same code at a size ``make test`` affords."""


# ---------------------------------------------------------------- parameter points


def parameter_point(values: Mapping[str, float] | None = None) -> dict[str, float]:
    """The model's parameters at the stored posterior median (or at ``values`` of the free
    parameters): the point the embedded trial was drawn at."""
    from anrs119.model.inference.sample import posterior_medians
    from anrs119.model.simulator.parameters import default_parameters

    values = posterior_medians() if values is None else values
    known = default_parameters(calibrated=False).values()
    return default_parameters(calibrated={k: v for k, v in values.items() if k in known}).values()


def posterior_points(draws: int, seed: int = ESTIMANDS_TRUTH_SEED) -> list[dict[str, float]]:
    """``draws`` parameter points resampled from the stored posterior."""
    from anrs119.model.inference.sample import load_posterior, resample

    sample = resample(load_posterior(), draws, np.random.default_rng(seed))
    return [parameter_point({k: float(v[i]) for k, v in sample.items()}) for i in range(draws)]


def without_art(p: Mapping[str, float]) -> dict[str, float]:
    """The parameters with ART made impossible: no ART-start hazard, and no AIDS-defining event
    (which would start ART at once; the CD4 and viral-load paths do not depend on it)."""
    return dict(p, art_rate_ref=0.0, aids_rate=0.0)


# ---------------------------------------------------------------- the truth


def _week_index(visits: np.ndarray, week: float) -> int:
    j = int(np.searchsorted(visits, week))
    if j >= visits.size or visits[j] != week:
        raise ValueError(f"the visit schedule has no visit at week {week:g}")
    return j


def no_art_changes(tr) -> np.ndarray:
    """(R, N) CD4 change at the primary week of simulated trials, as ADLB records it (rounded
    counts; every patient, whether or not the visit took place: the hypothetical value)."""
    j = _week_index(tr.visits, tr.week)
    return np.round(tr.cd4_obs[:, :, j]) - np.round(tr.bcd4)


def _median_mcse(x: np.ndarray, batches: int = 20) -> float:
    """Monte Carlo SE of the median of ``x`` from the spread of batch medians."""
    parts = np.array_split(x, batches)
    return float(np.std([np.median(b) for b in parts], ddof=1) / np.sqrt(batches))


def hypothetical_truth(p: Mapping[str, float], per_arm: int, seed: int) -> dict[str, float]:
    """Median and mean CD4 change at the primary week by arm, and their differences (IL-2 minus
    control), had nobody started ART, in a cohort of ``per_arm`` patients per arm; with their
    Monte Carlo standard errors (``*_mcse``)."""
    from anrs119.model.simulator.schedule import follow_up_horizon, visit_weeks
    from anrs119.model.simulator.simulate import arm_indicator, simulate

    il2 = arm_indicator(per_arm, per_arm)
    tr = simulate(without_art(p), il2, visit_weeks(follow_up_horizon(p)), seed, 1, full=True)
    chg = no_art_changes(tr)[0]
    out: dict[str, float] = {}
    for key, arm in zip(("il2", "control"), (il2, ~il2), strict=True):
        x = chg[arm]
        out[f"median_{key}"] = float(np.median(x))
        out[f"median_{key}_mcse"] = _median_mcse(x)
        out[f"mean_{key}"] = float(np.mean(x))
        out[f"mean_{key}_mcse"] = float(np.std(x, ddof=1) / np.sqrt(x.size))
    for stat in ("median", "mean"):
        out[f"{stat}_difference"] = out[f"{stat}_il2"] - out[f"{stat}_control"]
        out[f"{stat}_difference_mcse"] = float(
            np.hypot(out[f"{stat}_il2_mcse"], out[f"{stat}_control_mcse"])
        )
    return out


# ---------------------------------------------------------------- one simulated trial


_EMPTY_ADAE = pd.DataFrame(
    {
        "PATIENT": pd.Series(dtype=int),
        "AEDECOD": pd.Series(dtype=object),
        "AEBODSYS": pd.Series(dtype=object),
        "AETOXGR": pd.Series(dtype=int),
        "ASTWK": pd.Series(dtype=float),
        "AESER": pd.Series(dtype=object),
    }
)


def _trial_seed(seed: int, scenario: str, trial: int) -> int:
    code = list(SCENARIOS).index(scenario)
    return int(np.random.SeedSequence([seed, code, trial]).generate_state(1)[0])


def apply_methods(
    tables: Mapping[str, pd.DataFrame], week: int, resamples: int, seed: int
) -> dict[str, float]:
    """The book's hypothetical estimators on one trial's ADaM tables, called as the markers
    chapter calls them; ``resamples = 0`` skips the bootstrap intervals. NaN where a method
    fails on this trial (``*_failed`` = 1)."""
    from anrs119.analysis._common import AnalysisInputError
    from anrs119.analysis.hypothetical import ipcw_change, median_difference_ci, mixed_model_change
    from anrs119.analysis.longitudinal import visit_values

    adsl, adlb, adtte = tables["adsl"], tables["adlb"], tables["adtte"]
    out: dict[str, float] = {}
    nan = float("nan")
    try:
        hyp = ipcw_change(adsl, adlb, adtte, PARAMCD, week, resamples=resamples, seed=seed)
        t = hyp.table.set_index("group")
        low, high = hyp.diff_ci if resamples else (nan, nan)
        out |= {
            "ipcw_il2": t.at[ARMS[0], "median"],
            "ipcw_control": t.at[ARMS[1], "median"],
            "ipcw_difference": hyp.difference,
            "ipcw_low": low,
            "ipcw_high": high,
            "ipcw_mean_il2": t.at[ARMS[0], "weighted_mean"],
            "ipcw_mean_control": t.at[ARMS[1], "weighted_mean"],
            "ipcw_mean_difference": t.at[ARMS[0], "weighted_mean"] - t.at[ARMS[1], "weighted_mean"],
            "ipcw_failed": 0.0,
        }
    except AnalysisInputError:
        out |= {f"ipcw_{k}": nan for k in ("il2", "control", "difference", "low", "high")}
        out |= {f"ipcw_mean_{k}": nan for k in ("il2", "control", "difference")}
        out["ipcw_failed"] = 1.0
    try:
        mm = mixed_model_change(adsl, adlb, PARAMCD, week)
        out |= {
            "mm_il2": mm.means[ARMS[0]],
            "mm_control": mm.means[ARMS[1]],
            "mm_difference": mm.difference,
            "mm_low": mm.diff_ci[0],
            "mm_high": mm.diff_ci[1],
            "mm_failed": 0.0 if mm.converged else 1.0,
        }
    except (AnalysisInputError, np.linalg.LinAlgError):
        out |= {f"mm_{k}": nan for k in ("il2", "control", "difference", "low", "high")}
        out["mm_failed"] = 1.0
    values = visit_values(adsl, adlb, PARAMCD, week, reading="off_art")
    samples = [values.loc[values["group"] == arm, "CHG"].to_numpy(float) for arm in ARMS]
    out["naive_il2"], out["naive_control"] = (float(np.median(s)) for s in samples)
    if resamples:
        diff, low, high = median_difference_ci(*samples, resamples=resamples, seed=seed)
    else:
        diff, low, high = out["naive_il2"] - out["naive_control"], nan, nan
    out |= {"naive_difference": diff, "naive_low": low, "naive_high": high, "naive_failed": 0.0}
    return out


def _oracle(changes: np.ndarray, il2: np.ndarray, resamples: int, seed: int) -> dict[str, float]:
    """What no analysis can see: the trial's own patients' week-96 changes had nobody started
    ART (every patient), summarised by medians with the bootstrap the naive reading uses. An
    unbiased reference: it checks the truth and the bookkeeping of the validation itself."""
    from anrs119.analysis.hypothetical import median_difference_ci

    x, y = changes[il2], changes[~il2]
    nan = float("nan")
    if resamples:
        diff, low, high = median_difference_ci(x, y, resamples=resamples, seed=seed)
    else:
        diff, low, high = float(np.median(x) - np.median(y)), nan, nan
    return {
        "oracle_il2": float(np.median(x)),
        "oracle_control": float(np.median(y)),
        "oracle_difference": diff,
        "oracle_low": low,
        "oracle_high": high,
        "oracle_failed": 0.0,
    }


def _art_summary(tr, week: float) -> dict[str, float]:
    """Share of each arm on ART by the primary week, and the share of those starts that an
    AIDS-defining event set off (they follow the true count in both models)."""
    on = tr.t_art[0] <= week
    il2 = tr.il2[0]
    at_aids = on & (tr.t_art[0] == tr.t_aids[0])
    return {
        "art_il2": float(on[il2].mean()),
        "art_control": float(on[~il2].mean()),
        "art_at_aids": float(at_aids.sum() / max(on.sum(), 1)),
    }


@dataclass(frozen=True)
class _Task:
    p: dict[str, float]
    scenario: str
    first: int
    count: int
    coverage_trials: int
    resamples: int


def _run_task(task: _Task) -> list[dict[str, float | str]]:
    """Trials ``first`` .. ``first + count - 1`` of one scenario: simulate (ART allowed, and the
    same patients without ART for the oracle), write their ADaM tables, apply every method."""
    from anrs119.model.reconstruction.realize import to_adam
    from anrs119.model.simulator.schedule import follow_up_horizon, visit_weeks
    from anrs119.model.simulator.simulate import arm_indicator, simulate
    from anrs119.parallel import single_threaded

    single_threaded()
    p = dict(task.p, **SCENARIOS[task.scenario])
    il2 = arm_indicator(int(p["n_il2"]), int(p["n_control"]))
    visits = visit_weeks(follow_up_horizon(p))
    week = int(p["primary_week"])
    args = (il2, visits, ESTIMANDS_TRIALS_SEED, task.count, task.first)
    trials = simulate(p, *args, full=True)
    hypothetical = no_art_changes(simulate(without_art(p), *args, full=True))
    rows: list[dict[str, float | str]] = []
    for r in range(task.count):
        trial = task.first + r
        resamples = task.resamples if trial < task.coverage_trials else 0
        seed = _trial_seed(ESTIMANDS_BOOTSTRAP_SEED, task.scenario, trial)
        tr = trials.take(r)
        tables = to_adam(tr, p, np.random.default_rng(seed), _EMPTY_ADAE)
        row: dict[str, float | str] = {"scenario": task.scenario, "trial": trial}
        row["bootstrap"] = float(resamples > 0)
        row |= _art_summary(tr, week)
        row |= apply_methods(tables, week, resamples, seed)
        row |= _oracle(hypothetical[r], il2, resamples, seed)
        rows.append(row)
    return rows


def validation_trials(
    p: Mapping[str, float],
    size: ValidationSize,
    *,
    scenarios: Sequence[str] = tuple(SCENARIOS),
    progress: bool = True,
) -> pd.DataFrame:
    """One row per scenario and simulated trial: the ART summary and every method's estimates
    (columns ``<method>_il2``, ``_control``, ``_difference``, ``_low``, ``_high``,
    ``_failed``). The same bytes whatever the number of workers: every trial carries its own
    seed, and a trial is the same whichever chunk simulates it."""
    from anrs119.parallel import run_tasks

    tasks = [
        _Task(dict(p), s, first, min(size.chunk, size.trials - first), size.coverage_trials,
              size.resamples)
        for s in scenarios
        for first in range(0, size.trials, size.chunk)
    ]  # fmt: skip
    parts = run_tasks(_run_task, tasks, desc="estimand validation trials", progress=progress)
    frame = pd.DataFrame([row for part in parts for row in part])
    numeric = frame.columns.difference(["scenario", "trial"])
    frame[numeric] = frame[numeric].astype(float).round(ESTIMATE_DIGITS)
    frame["trial"] = frame["trial"].astype(int)
    return frame


# ---------------------------------------------------------------- the truth at several points


def truth_table(
    p: Mapping[str, float], size: ValidationSize, seed: int = ESTIMANDS_TRUTH_SEED
) -> pd.DataFrame:
    """The no-ART truth at the posterior median and at ``size.draws`` posterior draws."""
    points = [("posterior median", dict(p))]
    points += [(f"posterior draw {i + 1}", q) for i, q in enumerate(posterior_points(size.draws))]
    rows = [
        truth_row(label, q, size.cohort_per_arm, i, seed) for i, (label, q) in enumerate(points)
    ]
    return pd.DataFrame(rows)


def truth_row(
    label: str, p: Mapping[str, float], per_arm: int, point: int, seed: int = ESTIMANDS_TRUTH_SEED
) -> dict[str, float | str]:
    """One row of the truth table: the parameter point's label, the week, the cohort size and
    the truth."""
    truth = hypothetical_truth(p, per_arm, cohort_seed(point, seed))
    return {"point": label, "week": int(p["primary_week"]), "cohort_per_arm": per_arm, **truth}


def cohort_seed(point: int, seed: int = ESTIMANDS_TRUTH_SEED) -> int:
    """Seed of the no-ART cohort at parameter point ``point`` (0: the posterior median)."""
    return int(np.random.SeedSequence([seed, point]).generate_state(1)[0])


def write_summary(folder: Path = MODEL_DIR, methods: Sequence[Method] = METHODS) -> Path:
    """The summary from the stored truth and trials (as the book reads them back)."""
    from anrs119.model.files import write_csv

    truth = pd.read_csv(folder / DRAWS_FILE.name)
    trials = pd.read_csv(folder / TRIALS_FILE.name)
    return write_csv(summarise(trials, truth.iloc[0], methods=methods), folder / SUMMARY_FILE.name)


def run_validation(
    size: ValidationSize = FULL, folder: Path = MODEL_DIR, *, progress: bool = True
) -> list[Path]:
    """Truth, simulated trials and their summary -> the three files the book reads."""
    from anrs119.model.files import write_csv

    p = parameter_point()
    truth = truth_table(p, size)
    trials = validation_trials(p, size, progress=progress)
    return [
        write_csv(truth.round(ESTIMATE_DIGITS), folder / DRAWS_FILE.name),
        write_csv(trials, folder / TRIALS_FILE.name),
        write_summary(folder),
    ]
