"""Tests of the stored calibration: reproducible, and the model's expectations near each claim.

The full calibration (about 2 minutes) is not re-run here; the stored fit is checked instead.
"""

from __future__ import annotations

import numpy as np
import pytest

from anrs119.model.calibrate import (
    TARGETS,
    Z_TOLERANCE,
    Objective,
    claim_targets,
    expected_summaries,
    make_cohort,
    read_calibration,
)
from anrs119.model.parameters import default_parameters

OBJECTIVE_CEILING: float = len(TARGETS)
"""Sum of squared standardised misses at the fit: below one per claim on average."""


@pytest.fixture(scope="module")
def stored() -> dict:
    return read_calibration()


@pytest.fixture(scope="module")
def expected() -> dict[str, float]:
    p = default_parameters().values()
    return expected_summaries(p, make_cohort(p))


def test_stored_targets_are_the_registry_claims(stored):
    assert stored["targets"] == claim_targets()
    assert stored["synthetic"] is True


def test_expected_summaries_are_reproduced_from_the_stored_parameters(stored, expected):
    for k in TARGETS:
        assert expected[k] == pytest.approx(stored["expected"][k], abs=1e-4), k


@pytest.mark.parametrize("claim_id", TARGETS)
def test_expectation_within_tolerance_of_the_claim(stored, expected, claim_id):
    z = (expected[claim_id] - stored["targets"][claim_id]) / stored["scales"][claim_id]
    assert abs(z) <= Z_TOLERANCE, f"{claim_id}: z = {z:.2f}"


def test_objective_at_the_fit_is_small(stored, expected):
    z = np.array([(expected[k] - stored["targets"][k]) / stored["scales"][k] for k in TARGETS])
    assert float(np.sum(z**2)) < OBJECTIVE_CEILING


def test_fitted_values_are_inside_their_bounds_and_not_pinned(stored):
    for name, value in stored["parameters"].items():
        lo, hi = stored["bounds"][name]
        width = hi - lo
        assert lo + 0.001 * width < value < hi - 0.001 * width, name


def test_the_fit_is_a_local_minimum_along_the_main_parameters(stored):
    base = default_parameters(calibrated=False)
    p0 = base.with_values(**stored["parameters"]).values()
    obj = Objective(
        base=base,
        names=tuple(stored["parameters"]),
        lower=np.array([stored["bounds"][n][0] for n in stored["parameters"]]),
        upper=np.array([stored["bounds"][n][1] for n in stored["parameters"]]),
        targets=stored["targets"],
        scales=stored["scales"],
        cohort=make_cohort(p0),
    )

    def f(values):
        return sum(v * v for v in obj.residuals(values).values())

    at_fit = f(p0)
    for name in ("cd4_slope_mean", "il2_gain_median"):
        for factor in (0.8, 1.25):
            moved = dict(p0, **{name: p0[name] * factor})
            assert f(moved) > at_fit, (name, factor)
