"""Generative model of the ANRS 119 trial: priors, ABC posterior, predictive checks, realisation.

Entry points for the command line: :func:`run_calibration` (``python -m anrs119 calibrate``:
the ABC-SMC posterior, not bitwise reproducible, stored) and :func:`generate_data`
(``python -m anrs119 data``: everything downstream of the stored posterior, byte-identical).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from anrs119.paths import MODEL_DIR, SYNTHETIC_DIR

__all__ = ["generate_data", "run_calibration", "write_point_calibration"]


def run_calibration(progress: bool = True, folder: Path = MODEL_DIR) -> list[Path]:
    """ABC-SMC: posterior.csv, abc_diagnostics.csv and abc_stability.csv in ``folder``."""
    from anrs119.model.posterior import run_calibration as run

    return run(folder=folder, progress=progress)


def write_point_calibration(
    medians: dict[str, float],
    expected: dict[str, float],
    path: Path,
    readings: dict[str, float] | None = None,
    long_horizon: dict[str, float] | None = None,
    embedding: dict[str, object] | None = None,
) -> Path:
    """data/model/calibration.json: the posterior-median point the embedded trial is drawn at."""
    from anrs119 import __version__
    from anrs119.model.checks import claim_refs

    targets = {r.id: r.value for r in claim_refs() if r.bound == "=" and r.statistic != "similar"}
    targets = {k: v for k, v in targets.items() if "_p" not in k}
    report = {
        "synthetic": True,
        "package_version": __version__,
        "method": "a stated draw of the ABC-SMC posterior (data/model/posterior.csv), at which "
        "the embedded trial is drawn; see 'embedding'",
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


EMBEDDING_RULE: str = (
    "the posterior-predictive trials (one per posterior draw) are ranked by the number of "
    "claims outside the registry's tolerance, then by their distance to the claims; the "
    "embedded trial is drawn at the first of the top-ranked draws (after the posterior median, "
    "tried first) whose 10,000 candidate trials include one with every claim inside tolerance"
)
MAX_EMBEDDING_DRAWS: int = 4
"""Parameter points tried for the embedded trial: the posterior median, then ranked draws."""


def embedding_draw(
    trials: dict[str, np.ndarray],
    draws: dict[str, np.ndarray],
    medians: dict[str, float],
    known: dict[str, float],
    n: int = MAX_EMBEDDING_DRAWS,
) -> tuple[list[dict[str, float]], list[dict[str, object]]]:
    """Parameter points to try, in order: the posterior median, then the posterior draws whose
    predictive trial came nearest the claims (fewest outside tolerance, then distance)."""
    from anrs119.model.realize import claim_specs, distance, outside_tolerance

    specs = claim_specs(numeric=False)
    n_off = np.sum([outside_tolerance(trials, s) for s in specs if s.id in trials], axis=0)
    d = distance(trials, claim_specs())
    order = np.lexsort((d, n_off))[: n - 1]
    points = [dict(medians)]
    info: list[dict[str, object]] = [{"point": "posterior median"}]
    for i in order:
        points.append({k: float(v[i]) for k, v in draws.items() if k in known})
        info.append(
            {
                "point": "posterior draw",
                "draw_index": int(i),
                "draw_seed": "POSTERIOR_PREDICTIVE_SEED (checks.posterior_draws)",
                "predictive_trial_claims_outside_tolerance": int(n_off[i]),
                "predictive_trial_distance": round(float(d[i]), 4),
            }
        )
    return points, info


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
    from anrs119.model.checks import N_DRAWS, checks_table, posterior_draws, predictive_samples
    from anrs119.model.parameters import default_parameters
    from anrs119.model.posterior import base_values, load_posterior, posterior_medians
    from anrs119.model.predictive import write_predictive
    from anrs119.model.priors import load_priors
    from anrs119.model.realize import choose_replicate, write_csv, write_realization
    from anrs119.model.sensitivity import N_DRAWS as N_SENS
    from anrs119.model.sensitivity import (
        long_horizon_deferral,
        sensitivity_table,
        write_sensitivity,
    )

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
    draws = posterior_draws(sample, n_draws or N_DRAWS)  # the draws behind samples.posterior
    draw, rank_info = embedding_draw(samples.posterior, draws, medians, known)
    choice = None
    for k, values in enumerate(draw):
        params = default_parameters(calibrated=values)
        p = params.values()
        cand = choose_replicate(p, progress=progress)
        if choice is None or cand.n_outside_tolerance < choice[1].n_outside_tolerance:
            choice = (k, cand, params)
        if cand.n_outside_tolerance == 0:
            break
    assert choice is not None
    used, cand, params = choice
    p = params.values()
    with warnings.catch_warnings():  # a reading no draw can estimate has no median
        warnings.simplefilter("ignore", RuntimeWarning)
        readings = {
            k: float(f"{np.nanmedian(v):.6g}")
            for k, v in sorted(samples.posterior.items())
            if ":" in k and np.isfinite(np.nanmedian(v))
        }
    at_median = default_parameters(calibrated=medians).values()
    long = {k: round(v, 3) for k, v in long_horizon_deferral(at_median).items()}
    paths.append(
        write_point_calibration(
            draw[used],
            {k: float(v) for k, v in post.items()},
            model_dir / "calibration.json",
            readings,
            long,
            {
                "posterior_median": medians,
                **rank_info[used],
                "rule": EMBEDDING_RULE,
            },
        )
    )
    paths += write_realization(cand, params, folder)
    paths.append(write_predictive(p, model_dir / "predictive.csv", progress=progress))
    return paths
