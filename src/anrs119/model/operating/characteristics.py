"""Operating characteristics of a trial like ANRS 119, simulated from the model.

How likely was a 130-patient trial to find what this one found? Power of the primary comparison
(at the design size and across sample sizes), type I error with IL-2 switched off, coverage of the
Cox hazard ratio's 95% interval, power of the secondary claims, and how often a trial of this size
would call AIDS events and deaths "similar" (the book's one rule: no difference detected by the
95% Newcombe interval) if IL-2 halved or doubled their rate. Written to
``data/model/operating.csv`` by ``python -m anrs119 operating`` (part of ``make data``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.analysis.similarity import no_difference_detected
from anrs119.model.operating.tables import ALPHA, OPERATING_FILE
from anrs119.model.simulator.cox import primary_cox
from anrs119.model.simulator.simulate import simulate_trials
from anrs119.model.simulator.summaries import claim_summaries
from anrs119.parallel import run_tasks, single_threaded
from anrs119.seeds import OPERATING_SEED

REPLICATES: int = 10_000
"""Replicate trials per scenario: the Monte Carlo SE of a power near 50% is then 0.5 points."""

TASK_REPLICATES: int = 500
"""Replicate trials per task (one seed each): the unit of work of the parallel path."""

POWER_SIZES: tuple[int, ...] = (40, 60, 80, 100, 160, 200, 260)
"""Total sample sizes of the power curve besides the design's own (the 'design' scenario);
the design's allocation ratio is kept."""

CLINICAL_HRS: tuple[float, ...] = (0.5, 1.0, 2.0)
"""IL-2 hazard ratios for AIDS-defining events and deaths in the "similar" scenarios."""

TRUTH_PER_ARM: int = 50_000
"""Patients per arm of the large cohort whose Cox fit defines the 'true' hazard ratio."""


IL2_OFF: dict[str, float] = {"il2_gain_median": 0.0, "il2_vl_effect": 0.0, "il2_clinical_hr": 1.0}
"""The null model: no IL-2 effect on CD4, viral load or clinical events."""


# ---------------------------------------------------------------- grouped-data Cox, vectorised


# ---------------------------------------------------------------- scenarios and tasks


@dataclass(frozen=True)
class Scenario:
    """One set of model changes and arm sizes under which replicate trials are simulated."""

    name: str
    family: str
    label: str
    overrides: Mapping[str, float] = field(default_factory=dict)
    n_total: int | None = None  # None: the design's arm sizes
    draws: str | None = None  # "prior" / "posterior": free parameters drawn per replicate


def arm_sizes(p: Mapping[str, float], n_total: int | None) -> tuple[int, int]:
    """Arm sizes for ``n_total`` patients with the design's allocation ratio (IL-2 first)."""
    n1, n2 = int(p["n_il2"]), int(p["n_control"])
    if n_total is None:
        return n1, n2
    il2 = round(n_total * n1 / (n1 + n2))
    return il2, n_total - il2


def scenarios() -> tuple[Scenario, ...]:
    """Every scenario of the chapter, in a fixed order (their index seeds their replicates)."""
    out = [
        Scenario("design", "design", "the model at the posterior medians, design arm sizes"),
        Scenario("il2_off", "null", "IL-2 switched off (type I error)", IL2_OFF),
        Scenario(
            "prior_predictive",
            "predictive",
            "free parameters drawn from the literature priors (before the trial)",
            draws="prior",
        ),
        Scenario(
            "posterior_predictive",
            "predictive",
            "free parameters drawn from the posterior (a replication of the trial)",
            draws="posterior",
        ),
    ]
    out += [
        Scenario(f"n{n}", "power_curve", f"{n} patients in all", n_total=n) for n in POWER_SIZES
    ]
    out += [
        Scenario(
            f"clinical_hr_{hr:g}",
            "clinical",
            f"IL-2 multiplies AIDS and death hazards by {hr:g}",
            {"il2_clinical_hr": hr},
        )
        for hr in CLINICAL_HRS
        if hr != 1.0
    ]
    return tuple(out)


@dataclass(frozen=True)
class Task:
    """``replicates`` trials of one scenario from one seed: the unit the parallel path runs."""

    scenario: Scenario
    params: Mapping[str, float]
    replicates: int
    seed: tuple[int, ...]
    log_hr_truth: float


def _scenario_params(base: Mapping[str, float], sc: Scenario) -> dict[str, float]:
    p = dict(base)
    p.update(sc.overrides)
    n1, n2 = arm_sizes(base, sc.n_total)
    p["n_il2"], p["n_control"] = float(n1), float(n2)
    return p


def true_log_hr(p: Mapping[str, float], seed: int = OPERATING_SEED) -> float:
    """The Cox estimand of a very large trial under ``p``: the value a 95% CI should cover."""
    big = dict(p)
    big["n_il2"] = big["n_control"] = float(TRUTH_PER_ARM)
    (tr,) = simulate_trials(big, 1, seed=seed, chunk=1, full=False)
    return float(primary_cox(tr, p["primary_week"]).log_hr[0])


def make_tasks(
    base: Mapping[str, float],
    replicates: int = REPLICATES,
    task_replicates: int = TASK_REPLICATES,
    chosen: Sequence[Scenario] | None = None,
) -> list[Task]:
    """Split every scenario into seeded tasks; the truth is computed once per parameter set."""
    tasks = []
    truths: dict[tuple, float] = {}
    for index, sc in enumerate(scenarios() if chosen is None else chosen):
        p = _scenario_params(base, sc)
        if sc.draws is None:
            key = tuple(sorted((k, v) for k, v in p.items() if k not in ("n_il2", "n_control")))
            if key not in truths:
                truths[key] = true_log_hr(p)
            truth, draws = truths[key], {}
        else:
            # no single true hazard ratio when every trial has its own parameters
            truth, draws = math.nan, parameter_draws(sc.draws, replicates, index)
        done, part = 0, 0
        while done < replicates:
            r = min(task_replicates, replicates - done)
            q = dict(p) | {k: v[done : done + r] for k, v in draws.items()}
            tasks.append(Task(sc, q, r, (OPERATING_SEED, index, part), truth))
            done += r
            part += 1
    return tasks


def parameter_draws(kind: str, n: int, index: int) -> dict[str, np.ndarray]:
    """``n`` draws of the free parameters from the priors or from the stored posterior."""
    from anrs119.model.inference.draws import posterior_draws, prior_draws
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.sample import load_posterior

    seed = int(np.random.SeedSequence([OPERATING_SEED, index]).generate_state(1)[0])
    if kind == "prior":
        return prior_draws(load_priors(), n, seed)
    if kind == "posterior":
        return posterior_draws(load_posterior(), n, seed)
    raise ValueError(f"scenario draws {kind!r}: rule: 'prior' or 'posterior'")


def run_task(task: Task) -> dict[str, np.ndarray]:
    """Per-replicate indicators of one task: rejections, CI coverage, 'similar' verdicts."""
    from anrs119.model.simulator.parameters import primary_test

    single_threaded()  # the workers are the parallelism (see anrs119.parallel)
    p = task.params
    seed = int(np.random.SeedSequence(task.seed).generate_state(1)[0])
    chunks, done = [], 0
    for tr in simulate_trials(p, task.replicates, seed=seed, full=False):
        r = tr.shape[0]
        q = {k: (v[done : done + r] if np.ndim(v) == 1 else v) for k, v in p.items()}
        done += r
        s = claim_summaries(tr, q, primary_test=primary_test())
        cox = primary_cox(tr, p["primary_week"])
        lo, hi = cox.ci()
        covers = (lo <= task.log_hr_truth) & (task.log_hr_truth <= hi)
        n1, n2 = tr.il2.sum(axis=1), (~tr.il2).sum(axis=1)
        chunk = {
            "primary_reject": s["primary_w96_p"] < ALPHA,
            "primary_direction": (s["primary_w96_p"] < ALPHA)
            & (s["primary_w96_il2"] < s["primary_w96_control"]),
            "cox_covers": np.where(np.isfinite(task.log_hr_truth), covers, np.nan),
            "cox_estimable": np.isfinite(cox.log_hr),
            "cd4_reject": s["cd4_change_w96_p"] < ALPHA,
            "vl_reject": s["vl_change_w96_p"] < ALPHA,
            "lowvl_reject": s["lowvl_free_w150_p"] < ALPHA,
        }
        for name in ("aids", "death"):
            e1 = s[f"{name}_w96_il2"].astype(int)
            e2 = s[f"{name}_w96_control"].astype(int)
            chunk[f"similar_{name}"] = no_difference_detected(e1, n1, e2, n2)
            chunk[f"events_{name}"] = (e1 + e2).astype(float)
        chunks.append(chunk)
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


Runner = Callable[[Callable[[Task], dict[str, np.ndarray]], Sequence[Task]], list]


# ---------------------------------------------------------------- summaries


QUANTITIES: dict[str, str] = {
    "primary_reject": "primary end point: P < .05",
    "primary_direction": "primary end point: P < .05 in favour of IL-2",
    "cox_covers": "Cox hazard ratio: 95% CI covers the true value",
    "cd4_reject": "CD4 change at week 96: P < .05",
    "vl_reject": "viral-load change at week 96: P < .05",
    "lowvl_reject": "low-viral-load subgroup at week 150: P < .05",
    "similar_aids": "AIDS-defining events: no difference detected ('similar', the one rule)",
    "similar_death": "deaths: no difference detected ('similar', the one rule)",
    "events_aids": "AIDS-defining events in both arms (mean count)",
    "events_death": "deaths in both arms (mean count)",
}


def summarise(tasks: Sequence[Task], results: Sequence[Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """One row per (scenario, quantity): estimate, Monte Carlo SE and number of replicates."""
    rows = []
    names = [t.scenario.name for t in tasks]
    for sc_name in dict.fromkeys(names):
        idx = [i for i, n in enumerate(names) if n == sc_name]
        sc, p = tasks[idx[0]].scenario, tasks[idx[0]].params
        merged = {k: np.concatenate([results[i][k] for i in idx]) for k in results[idx[0]]}
        for key, label in QUANTITIES.items():
            values = merged[key].astype(float)
            if key == "cox_covers":
                values = values[merged["cox_estimable"] & np.isfinite(values)]
            n = values.size
            est = float(values.mean()) if n else math.nan
            se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            rows.append(
                {
                    "scenario": sc.name,
                    "family": sc.family,
                    "scenario_label": sc.label,
                    "draws": sc.draws or "",
                    "n_il2": int(p["n_il2"]),
                    "n_control": int(p["n_control"]),
                    "quantity": key,
                    "quantity_label": label,
                    "estimate": round(est, 6),
                    "mc_se": round(se, 6),
                    "replicates": int(n),
                    "true_hr": round(math.exp(tasks[idx[0]].log_hr_truth), 6),  # NaN: none
                }
            )
    return pd.DataFrame(rows)


def operating_characteristics(
    base: Mapping[str, float],
    replicates: int = REPLICATES,
    runner: Runner | None = None,
    chosen: Sequence[Scenario] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Simulate every scenario and summarise it (the table behind the chapter)."""
    tasks = make_tasks(base, replicates, chosen=chosen)
    if runner is None:
        results = run_tasks(run_task, tasks, desc="operating characteristics", progress=progress)
    else:
        results = runner(run_task, tasks)
    return summarise(tasks, results)


def base_parameters() -> dict[str, float]:
    """The parameter values the scenarios start from: fixed inputs and the posterior medians
    (data/model/calibration.json, written from the stored posterior)."""
    from anrs119.model.simulator.parameters import default_parameters

    return default_parameters(calibrated=True).values()


def write_operating(
    base: Mapping[str, float], path: Path = OPERATING_FILE, progress: bool = True
) -> Path:
    """Write the operating characteristics table (regenerates byte-identically)."""
    from anrs119.model.files import write_csv

    return write_csv(operating_characteristics(base, progress=progress), path)
