"""The reconstructions checked where the truth is known: abstracts printed from simulated trials.

For each of :attr:`CalibrationSizes.abstracts` tasks (seeded per task, whoever runs it):

1. a parameter point is drawn from the prior and a whole trial simulated at it (the forensic arm
   sizes); its unpublished quantities are then known;
2. its abstract is printed as the paper would (:func:`.abstract.print_abstract`: the same
   claims, rounding and readings); a trial whose abstract the paper's sentences could not print
   is replaced by the next draw of the task (the calibration is conditional on printable
   abstracts, and the share replaced is reported);
3. the whole pipeline runs on that abstract (:func:`.assess.assess`): its forensic allocation,
   its own posterior, the joint predictive check, reconstructions at posterior draws with their
   typicality, and the what-if verdict;
4. the truth is ranked among the reconstructions, quantity by quantity (ties broken at random),
   and turned into a randomised probability integral transform ``u = (rank + V) / (n + 1)``:
   uniform on (0, 1) when the reconstructions are draws from the distribution the truth came
   from, so the share of abstracts with ``u`` in [0.025, 0.975] estimates the coverage of the
   reconstructions' central 95% range (Talts et al. 2018, simulation-based calibration).

Written to ``data/model/ensemble_calibration.csv`` (one row per abstract and quantity) and
``data/model/simulated_abstracts.csv`` (one row per abstract: what it printed, the pipeline's
findings and the verdict), by ``python -m anrs119 validate-reconstructions``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.reconstruction.assess import FULL as FULL_ASSESS
from anrs119.model.reconstruction.assess import REDUCED as REDUCED_ASSESS
from anrs119.model.reconstruction.assess import PriorTable, Sizes
from anrs119.model.reconstruction.ensemble_tables import QUANTITIES
from anrs119.model.reconstruction.validation_tables import (
    ABSTRACTS_FILE,
    CALIBRATION_FILE,
    PRINTED_CLAIMS,
)
from anrs119.paths import MODEL_DIR
from anrs119.seeds import SIMULATED_ABSTRACT_SEED

MAX_ATTEMPTS: int = 20
"""Prior draws a task tries before giving up on a printable abstract (recorded as a failure)."""


@dataclass(frozen=True)
class CalibrationSizes:
    abstracts: int = 100
    assess: Sizes = field(default_factory=lambda: FULL_ASSESS)


FULL = CalibrationSizes()
REDUCED = CalibrationSizes(abstracts=2, assess=REDUCED_ASSESS)


@dataclass(frozen=True)
class Truth:
    """A simulated trial's printed abstract (typed claims) and its unpublished quantities."""

    claims: pd.DataFrame
    quantities: dict[str, float]
    parameters: dict[str, float]
    attempts: int
    truth_pool: object = None


def simulated_abstract(
    index: int, seed: int, base: Mapping[str, float], sample: pd.DataFrame | None = None
) -> Truth | None:
    """Task ``index``'s trial and abstract (the first printable of its prior draws, or of its
    draws from a posterior ``sample`` when given)."""
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.reconstruction.abstract import print_abstract, typed
    from anrs119.model.reconstruction.mixing import quantities_of
    from anrs119.model.reconstruction.search import (
        SAFETY_CLAIMS,
        consistent_counts,
        pool_of,
        similarity_level,
        trial_values,
    )
    from anrs119.model.simulator.adverse_events import pool_adverse_events
    from anrs119.model.simulator.schedule import follow_up_horizon, visit_weeks
    from anrs119.model.simulator.simulate import arm_indicator, simulate

    priors = load_priors()
    n1, n2 = int(base["n_il2"]), int(base["n_control"])
    il2 = arm_indicator(n1, n2)
    ok = consistent_counts(n1, n2, similarity_level())
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng([seed, index, attempt])
        if sample is None:
            theta = {k: float(v[0]) for k, v in priors.sample(rng, 1).items()}
        else:
            from anrs119.model.inference.sample import resample

            theta = {k: float(v[0]) for k, v in resample(sample, 1, rng).items()}
        p = dict(base)
        p.update(theta)
        tr = simulate(p, il2, visit_weeks(follow_up_horizon(p)), seed, 1,
                      index * MAX_ATTEMPTS + attempt, full=True)  # fmt: skip
        pool = pool_of(tr, p, pool_adverse_events(tr, p, rng))
        everyone = np.arange(n1 + n2)
        values = trial_values(pool, everyone, n1)
        events = (int(pool.event96[:n1].sum()), int(pool.event96[n1:].sum()))
        similar = {
            cid: bool(ok[int(values[f"{w}_w96_il2"]), int(values[f"{w}_w96_control"])])
            for cid, w in zip(SAFETY_CLAIMS, ("aids", "death", "grade34"), strict=True)
        }
        printed = print_abstract(values, events, (n1, n2), similar)
        if printed.claims is None:
            continue
        q = quantities_of(pool, everyone[None, :], p, n1)[0]
        return Truth(
            claims=typed(printed.claims, file=f"simulated abstract {index}"),
            quantities=dict(zip(QUANTITIES, q.tolist(), strict=True)),
            parameters=theta,
            attempts=attempt + 1,
            truth_pool=pool,
        )
    return None


def truth_rank(
    truth: float, values: np.ndarray, rng: np.random.Generator
) -> tuple[float, int, float]:
    """(rank, n, u): the truth's rank among the finite-or-infinite ``values`` (NaN left out),
    ties broken uniformly at random, and the randomised PIT ``(rank + V) / (n + 1)``."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if math.isnan(truth) or v.size == 0:
        return math.nan, int(v.size), math.nan
    below = int((v < truth).sum())
    ties = int((v == truth).sum())
    rank = below + int(rng.integers(0, ties + 1))
    return float(rank), int(v.size), float((rank + rng.random()) / (v.size + 1))


@dataclass(frozen=True)
class _TruthTask:
    index: int
    seed: int
    base: dict[str, float]


def _truth(task: _TruthTask) -> Truth | None:
    from anrs119.parallel import single_threaded

    single_threaded()
    return simulated_abstract(task.index, task.seed, task.base)


@dataclass(frozen=True)
class _ReconTask:
    index: int
    seed: int
    base: dict[str, float]
    sizes: Sizes
    claims: pd.DataFrame
    checked: object
    sample: pd.DataFrame


def _reconstruct(task: _ReconTask):
    """The posterior joint check and the reconstructions of one abstract."""
    from anrs119.model.reconstruction.assess import posterior_steps
    from anrs119.parallel import single_threaded

    single_threaded()
    return posterior_steps(task.checked, task.claims, task.base, task.sample, task.sizes,
                           _abstract_seed(task.seed, task.index))  # fmt: skip


def _abstract_seed(seed: int, index: int) -> int:
    """The integer seed of abstract ``index``'s pipeline (its pools, searches, walks and
    reference trials)."""
    return seed * 1000 + index


def _summary(index: int, truth: Truth | None, result, base) -> dict[str, object]:
    from anrs119.model.reconstruction.assess import verdict, verdict_row
    from anrs119.model.reconstruction.search import claims_from_table, is_exact_selection

    summary: dict[str, object] = {"abstract": index}
    if truth is None:
        summary.update(printable=False, attempts=MAX_ATTEMPTS)
        return summary
    claims = truth.claims
    summary.update(printable=True, attempts=truth.attempts)
    summary.update({f"printed:{c}": float(claims.at[c, "value"]) for c in PRINTED_CLAIMS})
    summary.update({f"bound:{c}": str(claims.at[c, "bound"]) for c in PRINTED_CLAIMS
                    if claims.at[c, "statistic"] == "p_value"})  # fmt: skip
    summary.update(verdict_row(result, verdict(result)))
    if result.allocation is not None:
        a = result.allocation
        summary["alloc_test"] = str(a["test"])
        n = int(base["n_il2"]) + int(base["n_control"])
        targets = claims_from_table(claims, a)
        summary["truth_exact"] = bool(is_exact_selection(truth.truth_pool, np.arange(n), targets))
    return summary


def _rank_rows(index: int, seed: int, truth: Truth, draws: pd.DataFrame) -> list[dict]:
    rng = np.random.default_rng([seed, index, 99])
    exact = draws[draws["exact"].astype(bool)] if len(draws) else None
    rows = []
    for q in QUANTITIES:
        values = exact[q].to_numpy(dtype=float) if exact is not None else np.array([])
        rank, n, u = truth_rank(truth.quantities[q], values, rng)
        rows.append({"abstract": index, "quantity": q, "truth": truth.quantities[q], "n": n,
                     "rank": rank, "u": u})  # fmt: skip
    return rows


@dataclass(frozen=True)
class Calibration:
    ranks: pd.DataFrame
    abstracts: pd.DataFrame


def run_calibration(
    sizes: CalibrationSizes = FULL,
    *,
    seed: int = SIMULATED_ABSTRACT_SEED,
    progress: bool = True,
    table: PriorTable | None = None,
    reference=None,
) -> Calibration:
    """Steps 1 to 4 of the module docstring for every abstract.

    Three passes, so that the result is the same bytes whatever runs them: the simulated trials
    and their abstracts (parallel, one seed each); each abstract's checks and posterior (here,
    in order: the posterior needs the reference table, which stays in this process); the
    reconstructions (parallel, one seed per abstract). ``table``: the prior-predictive trials of
    the checks (``sizes.assess.table`` of them from the seed's own stream by default);
    ``reference``: the amortised posterior's reference table (None: the stand-in posterior).
    """
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.statistics import base_values
    from anrs119.model.reconstruction.assess import check_abstract, posterior_for, prior_table
    from anrs119.parallel import run_tasks

    base = base_values(load_priors())
    if table is None:
        table = prior_table(base, sizes.assess.table, seed + 1, progress=progress)
    truths = run_tasks(_truth, [_TruthTask(i, seed, base) for i in range(sizes.abstracts)],
                       desc="simulated trials and abstracts", progress=progress)  # fmt: skip
    from tqdm import tqdm

    checked, tasks = {}, []
    for i, truth in enumerate(tqdm(truths, desc="checks and posteriors", disable=not progress)):
        if truth is None:
            continue
        result = check_abstract(truth.claims, base, table)
        if result.allocation is not None:
            sample, source = posterior_for(truth.claims, table, sizes.assess.accepted, reference)
            result = replace(result, posterior_source=source)
            tasks.append(_ReconTask(i, seed, base, sizes.assess, truth.claims, result,
                                    sample))  # fmt: skip
        checked[i] = result
    done = run_tasks(_reconstruct, tasks,
                     desc="posterior checks and reconstructions of simulated abstracts",
                     progress=progress)  # fmt: skip
    for task, result in zip(tasks, done, strict=True):
        checked[task.index] = result
    summaries, ranks = [], []
    for i, truth in enumerate(truths):
        summaries.append(_summary(i, truth, checked.get(i), base))
        if truth is not None and i in checked:
            ranks += _rank_rows(i, seed, truth, checked[i].draws)
    ranks_frame = pd.DataFrame(ranks)
    abstracts = pd.DataFrame(summaries)
    for frame in (ranks_frame, abstracts):
        num = frame.select_dtypes("float").columns
        frame[num] = frame[num].round(6)
    return Calibration(ranks_frame, abstracts)


def write_calibration(c: Calibration, folder: Path = MODEL_DIR) -> list[Path]:
    from anrs119.model.files import write_csv

    return [
        write_csv(c.ranks, folder / CALIBRATION_FILE.name),
        write_csv(c.abstracts, folder / ABSTRACTS_FILE.name),
    ]
