"""Generative model of the ANRS 119 trial: parameters, simulation, calibration, realisation.

Entry points for the command line: :func:`run_calibration` (``python -m anrs119 calibrate``)
and :func:`generate_data` (``python -m anrs119 data``).
"""

from __future__ import annotations

from pathlib import Path

from anrs119.model.calibrate import run_calibration
from anrs119.paths import MODEL_DIR, SYNTHETIC_DIR

__all__ = ["generate_data", "run_calibration"]


def generate_data(
    progress: bool = True, folder: Path = SYNTHETIC_DIR, model_dir: Path = MODEL_DIR
) -> list[Path]:
    """Write the embedded synthetic trial (data/synthetic/*) and data/model/predictive.csv.

    Reads the stored calibration (``data/model/calibration.json``); never recalibrates.
    """
    from anrs119.model.parameters import default_parameters
    from anrs119.model.predictive import write_predictive
    from anrs119.model.realize import choose_replicate, write_realization

    params = default_parameters(calibrated=True)
    p = params.values()
    choice = choose_replicate(p, progress=progress)
    paths = write_realization(choice, params, folder)
    paths.append(write_predictive(p, model_dir / "predictive.csv", progress=progress))
    return paths
