"""Generative model of the ANRS 119 trial: priors, ABC posterior, predictive checks, realisation.

Entry points for the command line: :func:`run_calibration` (``python -m anrs119 calibrate``:
the ABC-SMC posterior, not bitwise reproducible, stored) and :func:`generate_data`
(``python -m anrs119 data``: everything downstream of the stored posterior, byte-identical).
"""

from __future__ import annotations

import json
from pathlib import Path

from anrs119.paths import MODEL_DIR, SYNTHETIC_DIR

__all__ = ["generate_data", "run_calibration", "write_point_calibration"]


def run_calibration(progress: bool = True, folder: Path = MODEL_DIR) -> list[Path]:
    """ABC-SMC: posterior.csv, abc_diagnostics.csv and abc_stability.csv in ``folder``."""
    from anrs119.model.posterior import run_calibration as run

    return run(folder=folder, progress=progress)


def write_point_calibration(
    medians: dict[str, float], expected: dict[str, float], path: Path
) -> Path:
    """data/model/calibration.json: the posterior-median point the embedded trial is drawn at."""
    from anrs119 import __version__
    from anrs119.model.checks import claim_refs

    targets = {r.id: r.value for r in claim_refs() if r.bound == "=" and r.statistic != "similar"}
    targets = {k: v for k, v in targets.items() if "_p" not in k}
    report = {
        "synthetic": True,
        "package_version": __version__,
        "method": "weighted posterior median of the ABC-SMC sample (data/model/posterior.csv)",
        "parameters": medians,
        "targets": targets,
        "expected": {k: expected[k] for k in targets if k in expected},
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
    point calibration, the embedded synthetic trial and the predictive intervals."""
    from anrs119.model.checks import N_DRAWS, checks_table, predictive_samples
    from anrs119.model.parameters import default_parameters
    from anrs119.model.posterior import base_values, load_posterior, posterior_medians
    from anrs119.model.predictive import write_predictive
    from anrs119.model.priors import load_priors
    from anrs119.model.realize import choose_replicate, write_csv, write_realization
    from anrs119.model.sensitivity import N_DRAWS as N_SENS
    from anrs119.model.sensitivity import sensitivity_table, write_sensitivity

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
    paths.append(
        write_point_calibration(
            medians, {k: float(v) for k, v in post.items()}, model_dir / "calibration.json"
        )
    )
    params = default_parameters(calibrated=medians)
    p = params.values()
    choice = choose_replicate(p, progress=progress)
    paths += write_realization(choice, params, folder)
    paths.append(write_predictive(p, model_dir / "predictive.csv", progress=progress))
    return paths
