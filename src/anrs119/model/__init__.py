"""Generative model of the ANRS 119 trial: priors, ABC posterior, predictive checks, realisation.

Entry points for the command line: :func:`run_calibration` (``python -m anrs119 calibrate``:
the reference table of prior-predictive trials and the posterior computed from it) and
:func:`generate_data` (``python -m anrs119 data``: everything downstream of the stored
posterior). Both are byte-identical on every run.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from anrs119.paths import MODEL_DIR, SYNTHETIC_DIR

__all__ = ["generate_data", "run_calibration", "write_point_calibration"]


def run_calibration(progress: bool = True, folder: Path = MODEL_DIR) -> list[Path]:
    """The reference table (cached), then the posterior: posterior.csv, posterior_quantiles.csv
    and posterior_method.json in ``folder``."""
    from anrs119.model.inference.posterior import run_calibration as run

    return run(folder=folder, progress=progress)


def write_point_calibration(
    medians: dict[str, float],
    expected: dict[str, float],
    path: Path,
    readings: dict[str, float] | None = None,
    long_horizon: dict[str, float] | None = None,
    embedding: dict[str, object] | None = None,
) -> Path:
    """data/model/calibration.json: the posterior-median point the embedded reconstruction's
    patients are drawn at."""
    from anrs119 import __version__
    from anrs119.model.checks.predictive import claim_refs

    targets = {r.id: r.value for r in claim_refs() if r.bound == "=" and r.statistic != "similar"}
    targets = {k: v for k, v in targets.items() if "_p" not in k}
    report = {
        "synthetic": True,
        "package_version": __version__,
        "method": "the weighted posterior median of each parameter of the posterior sample "
        "(data/model/posterior.csv), at which the embedded reconstruction's patients are drawn",
        "parameters": medians,
        "embedding": embedding or {},
        "targets": targets,
        "expected": {k: expected[k] for k in targets if k in expected},
        "expected_readings": readings or {},
        "expected_readings_definition": "posterior-predictive medians (one trial per draw)",
        "long_horizon_deferral": long_horizon or {},
        "long_horizon_definition": "latent quantile differences in weeks, follow-up to week "
        "400, cohort of 10,000 per arm at the posterior median (extrapolation; no claim uses it)",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return path


def generate_data(
    progress: bool = True,
    folder: Path = SYNTHETIC_DIR,
    model_dir: Path = MODEL_DIR,
    posterior_file: Path | None = None,
    n_draws: int | None = None,
    n_sensitivity: int | None = None,
) -> list[Path]:
    """Everything downstream of the stored posterior: predictive checks, sensitivity, the
    point calibration, the embedded reconstruction and the predictive intervals."""
    from anrs119.model.checks.intervals import write_predictive
    from anrs119.model.checks.predictive import checks_table, predictive_samples
    from anrs119.model.checks.sensitivity import N_DRAWS as N_SENS
    from anrs119.model.checks.sensitivity import (
        long_horizon_deferral,
        sensitivity_table,
        write_sensitivity,
    )
    from anrs119.model.files import write_csv
    from anrs119.model.inference.draws import N_DRAWS
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.sample import load_posterior, posterior_medians
    from anrs119.model.inference.statistics import base_values
    from anrs119.model.reconstruction.realize import write_reconstruction
    from anrs119.model.reconstruction.search import embedded_reconstruction
    from anrs119.model.simulator.parameters import default_parameters
    from anrs119.seeds import RECONSTRUCTION_SEED

    priors = load_priors()
    sample = load_posterior(posterior_file or MODEL_DIR / "posterior.csv")
    base = base_values(priors)
    samples = predictive_samples(
        base, n_draws or N_DRAWS, progress=progress, priors=priors, sample=sample
    )
    checks = checks_table(samples.prior, samples.posterior)
    paths = [write_csv(checks, model_dir / "predictive_checks.csv")]
    table = sensitivity_table(
        base, n_sensitivity or N_SENS, progress=progress, priors=priors, sample=sample
    )
    paths.append(write_sensitivity(table, model_dir / "sensitivity.csv"))
    post = checks[checks["distribution"] == "posterior"].set_index("id")["median"]
    medians = posterior_medians(sample)
    known = default_parameters(calibrated=False).values()
    medians = {k: v for k, v in medians.items() if k in known}
    params = default_parameters(calibrated=medians)
    p = params.values()
    rec, attempt = embedded_reconstruction(p, RECONSTRUCTION_SEED)
    with warnings.catch_warnings():  # a reading no draw can estimate has no median
        warnings.simplefilter("ignore", RuntimeWarning)
        readings = {
            k: float(f"{np.nanmedian(v):.6g}")
            for k, v in sorted(samples.posterior.items())
            if ":" in k and np.isfinite(np.nanmedian(v))
        }
    long = {k: round(v, 3) for k, v in long_horizon_deferral(p).items()}
    paths.append(
        write_point_calibration(
            medians,
            {k: float(v) for k, v in post.items()},
            model_dir / "calibration.json",
            readings,
            long,
            {"point": "posterior median", "posterior_median": medians},
        )
    )
    paths += write_reconstruction(rec, params, attempt, folder)
    paths.append(write_predictive(p, model_dir / "predictive.csv", progress=progress))
    return paths
