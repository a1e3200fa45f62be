"""The paper's posterior, computed from the reference table and checked for Monte Carlo accuracy.

``python -m anrs119 calibrate`` (part of ``make data``) writes three files:

- ``data/model/posterior.csv``: one row per kept trial, the free parameters (five significant
  digits) and a normalised ``weight`` (the Epanechnikov kernel weight);
- ``data/model/posterior_quantiles.csv``: per parameter and reported quantile, the value, its
  Monte Carlo standard error, the value at half the acceptance, the values from the two halves
  of the table, and the z scores that compare them;
- ``data/model/posterior_method.json``: the settings, the effective sample size and every
  acceptance tried.

The acceptance (the number of nearest trials kept) is the largest of a fixed ladder at which
(a) the effective sample size is at least ``MIN_ESS`` and (b) halving the acceptance moves no
reported quantile by more than ``MAX_HALVING_Z`` Monte Carlo standard errors of that move. The
two halves of the table, each at half the acceptance (the same share), are two independent runs;
their reported quantiles should agree (largest |z| below ``MAX_HALVES_Z``). Monte Carlo standard
errors come from a Poisson bootstrap of the table's trials (every trial repeated a Poisson(1)
number of times, the whole fit redone). Deterministic: the same table gives the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.inference.priors import Priors, load_priors
from anrs119.model.inference.reference import REFERENCE_SIZE, ReferenceTable, reference_table
from anrs119.model.inference.rejection import (
    NEIGHBOURHOOD,
    Fit,
    Unbounded,
    fit,
    neighbourhood,
    quantiles,
    statistic_scales,
    to_sample,
)
from anrs119.model.inference.sample import POSTERIOR_FILE, write_posterior
from anrs119.model.inference.statistics import observed_vector, posterior_statistics
from anrs119.paths import MODEL_DIR
from anrs119.seeds import POSTERIOR_BOOTSTRAP_SEED, REFERENCE_SEED

QUANTILES_FILE: Path = MODEL_DIR / "posterior_quantiles.csv"
METHOD_FILE: Path = MODEL_DIR / "posterior_method.json"

REPORTED: tuple[float, ...] = (0.025, 0.5, 0.975)
"""The quantiles the book reports: the median and the central 95% interval."""

LADDER: tuple[int, ...] = (16_000, 11_314, 8_000, 5_657, 4_000, 2_828, 2_000, 1_414)
"""Acceptances tried, largest first (steps of the square root of 2)."""

MIN_ESS: float = 1000.0
MAX_HALVING_Z: float = 2.0
MAX_HALVES_Z: float = 3.5
BOOTSTRAP: int = 200
"""Poisson-bootstrap replicates of the table for the Monte Carlo standard errors."""


@dataclass(frozen=True)
class Rung:
    """One acceptance tried: its effective sample size and the largest standardised move of a
    reported quantile when the acceptance is halved."""

    accepted: int
    ess: float
    bandwidth: float
    max_halving_z: float

    @property
    def passes(self) -> bool:
        return self.ess >= MIN_ESS and self.max_halving_z <= MAX_HALVING_Z


@dataclass(frozen=True)
class PosteriorRun:
    """The chosen posterior with its accuracy: quantiles (parameters x REPORTED) and errors."""

    fit: Fit
    sample: pd.DataFrame
    rungs: tuple[Rung, ...]
    chosen: Rung
    table_size: int
    quantiles: np.ndarray
    mcse: np.ndarray
    halved: np.ndarray
    halving_z: np.ndarray
    half_a: np.ndarray
    half_b: np.ndarray
    halves_z: np.ndarray
    rejection_only: np.ndarray
    names: tuple[str, ...]

    @property
    def max_halves_z(self) -> float:
        return float(np.nanmax(np.abs(self.halves_z)))

    @property
    def converged(self) -> bool:
        return self.chosen.passes and self.max_halves_z < MAX_HALVES_Z


def _bootstrap(
    nb_rows: int, replicates: int, seed: int
) -> np.ndarray:  # (replicates, nb_rows) Poisson(1) counts
    rng = np.random.default_rng(seed)
    return rng.poisson(1.0, size=(replicates, nb_rows)).astype(float)


def _quantile_draws(nb, accepted: int, counts: np.ndarray, unb: Unbounded) -> np.ndarray:
    """(replicates, parameters, REPORTED) quantiles of the bootstrap fits."""
    return np.stack([quantiles(fit(nb, accepted, counts=c), REPORTED, unb) for c in counts])


def accuracy(
    table: ReferenceTable,
    observed: np.ndarray,
    accepted: int,
    *,
    scales: np.ndarray,
    unb: Unbounded,
    replicates: int = BOOTSTRAP,
    seed: int = POSTERIOR_BOOTSTRAP_SEED,
) -> tuple[Fit, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fit at ``accepted`` with its quantiles, their Monte Carlo SEs, the quantiles at half
    the acceptance and the z scores of the move (SE of the move from the same bootstrap)."""
    nb = neighbourhood(table, observed, NEIGHBOURHOOD * accepted, scales=scales, unbounded=unb)
    f = fit(nb, accepted)
    q = quantiles(f, REPORTED, unb)
    half = quantiles(fit(nb, accepted // 2), REPORTED, unb)
    counts = _bootstrap(len(nb.rows), replicates, seed)
    boot = _quantile_draws(nb, accepted, counts, unb)
    boot_half = _quantile_draws(nb, accepted // 2, counts, unb)
    se = boot.std(axis=0, ddof=1)
    se_move = (boot - boot_half).std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se_move > 0, (half - q) / se_move, 0.0)
    return f, q, se, half, z


def run_posterior(
    table: ReferenceTable,
    *,
    priors: Priors | None = None,
    ladder: Sequence[int] = LADDER,
    replicates: int = BOOTSTRAP,
) -> PosteriorRun:
    """The paper's posterior from ``table``, at the first acceptance of ``ladder`` that passes
    (or, if none does, the one whose halving moves the quantiles least, flagged as failing)."""
    priors = load_priors() if priors is None else priors
    unb = Unbounded.from_priors(priors, table.names)
    stats_ = posterior_statistics()
    observed = observed_vector(stats_)
    scales = statistic_scales(table.statistics)
    rungs, results = [], []
    for k in ladder:
        if NEIGHBOURHOOD * k >= len(table):
            continue
        f, q, se, half, z = accuracy(table, observed, k, scales=scales, unb=unb,
                                     replicates=replicates)  # fmt: skip
        rung = Rung(k, f.ess, f.bandwidth, float(np.nanmax(np.abs(z))))
        rungs.append(rung)
        results.append((f, q, se, half, z))
        if rung.passes:
            break
    if not rungs:
        raise ValueError(f"a table of {len(table)} trials is too small for the acceptance ladder")
    pick = next((i for i, r in enumerate(rungs) if r.passes), None)
    if pick is None:
        pick = int(np.argmin([r.max_halving_z for r in rungs]))
    f, q, se, half, z = results[pick]
    chosen = rungs[pick]
    halves = []
    for h, part in enumerate(table.halves()):
        _, qh, seh, _, _ = accuracy(part, observed, chosen.accepted // 2, scales=scales,
                                    unb=unb, replicates=replicates,
                                    seed=POSTERIOR_BOOTSTRAP_SEED + 1 + h)  # fmt: skip
        halves.append((qh, seh))
    (qa, sea), (qb, seb) = halves
    with np.errstate(divide="ignore", invalid="ignore"):
        hz = (qa - qb) / np.sqrt(sea**2 + seb**2)
    nb = neighbourhood(table, observed, NEIGHBOURHOOD * chosen.accepted, scales=scales,
                       unbounded=unb)  # fmt: skip
    plain = quantiles(fit(nb, chosen.accepted, adjust=False), REPORTED, unb)
    return PosteriorRun(
        fit=f,
        sample=to_sample(f, unb, table.names),
        rungs=tuple(rungs),
        chosen=chosen,
        table_size=len(table),
        quantiles=q,
        mcse=se,
        halved=half,
        halving_z=z,
        half_a=qa,
        half_b=qb,
        halves_z=hz,
        rejection_only=plain,
        names=table.names,
    )


# ---------------------------------------------------------------- files


def _sig(x: float, digits: int = 5) -> float:
    if not math.isfinite(x) or x == 0:
        return float(x)
    return float(f"{x:.{digits}g}")


def quantiles_table(run: PosteriorRun) -> pd.DataFrame:
    rows = []
    for j, name in enumerate(run.names):
        for i, prob in enumerate(REPORTED):
            rows.append(
                {
                    "parameter": name,
                    "quantile": prob,
                    "value": _sig(run.quantiles[j, i]),
                    "mcse": _sig(run.mcse[j, i], 3),
                    "half_acceptance": _sig(run.halved[j, i]),
                    "halving_z": round(float(run.halving_z[j, i]), 3),
                    "half_a": _sig(run.half_a[j, i]),
                    "half_b": _sig(run.half_b[j, i]),
                    "halves_z": round(float(run.halves_z[j, i]), 3),
                    "rejection_only": _sig(run.rejection_only[j, i]),
                }
            )
    return pd.DataFrame(rows)


def method_report(run: PosteriorRun, seed: int = REFERENCE_SEED) -> dict[str, object]:
    return {
        "method": "rejection ABC with local-linear regression adjustment (Beaumont, Zhang and "
        "Balding 2002) on a reference table of prior-predictive trials",
        "statistics": [s.id for s in posterior_statistics()],
        "distance": "Euclidean; each statistic divided by its median absolute deviation over "
        "the table (x 1.4826)",
        "kernel": "Epanechnikov; bandwidth = distance of the first trial not kept",
        "reference_trials": run.table_size,
        "reference_seed": seed,
        "accepted": run.chosen.accepted,
        "acceptance_share": _sig(run.chosen.accepted / run.table_size, 4),
        "bandwidth": _sig(run.chosen.bandwidth, 4),
        "ess": round(run.chosen.ess, 1),
        "reported_quantiles": list(REPORTED),
        "bootstrap_replicates": BOOTSTRAP,
        "bootstrap_seed": POSTERIOR_BOOTSTRAP_SEED,
        "criteria": {
            "min_ess": MIN_ESS,
            "max_halving_z": MAX_HALVING_Z,
            "max_halves_z": MAX_HALVES_Z,
        },
        "max_halving_z": round(run.chosen.max_halving_z, 3),
        "max_halves_z": round(run.max_halves_z, 3),
        "converged": bool(run.converged),
        "ladder": [
            {
                "accepted": r.accepted,
                "ess": round(r.ess, 1),
                "bandwidth": _sig(r.bandwidth, 4),
                "max_halving_z": round(r.max_halving_z, 3),
                "passes": bool(r.passes),
            }
            for r in run.rungs
        ],
    }


def write_run(run: PosteriorRun, folder: Path = MODEL_DIR) -> list[Path]:
    from anrs119.model.files import write_csv

    method = folder / METHOD_FILE.name
    method.parent.mkdir(parents=True, exist_ok=True)
    method.write_text(json.dumps(method_report(run), indent=2) + "\n", encoding="utf-8")
    return [
        write_posterior(run.sample, folder / POSTERIOR_FILE.name),
        write_csv(quantiles_table(run), folder / QUANTILES_FILE.name),
        method,
    ]


def run_calibration(
    folder: Path = MODEL_DIR, progress: bool = True, size: int = REFERENCE_SIZE
) -> list[Path]:
    """``python -m anrs119 calibrate``: the reference table (cached), then the posterior."""
    table = reference_table(size, progress=progress)
    run = run_posterior(table)
    paths = write_run(run, folder)
    print(
        f"posterior: {run.chosen.accepted:,} of {len(table):,} trials kept, "
        f"ESS {run.chosen.ess:,.0f}, halving |z| <= {run.chosen.max_halving_z:.2f}, "
        f"halves |z| <= {run.max_halves_z:.2f}: "
        + ("converged" if run.converged else "NOT converged by the book's criteria")
    )
    return paths


def read_method(path: Path = METHOD_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def read_quantiles(path: Path = QUANTILES_FILE) -> pd.DataFrame:
    return pd.read_csv(path)
