"""Tests of the stored point calibration (data/model/calibration.json): the posterior medians
of the stored ABC sample, at which the embedded trial is drawn.

The ABC itself is tested on a reduced run in test_posterior.py; it is never re-run here.
"""

from __future__ import annotations

import json

import pytest

from anrs119.model.checks.predictive import claim_refs
from anrs119.model.inference.draws import posterior_draws
from anrs119.model.inference.sample import load_posterior, posterior_medians
from anrs119.model.simulator.parameters import (
    CALIBRATION_FILE,
    calibrated_values,
    default_parameters,
)


@pytest.fixture(scope="module")
def stored() -> dict:
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))


def test_point_is_the_posterior_median_or_a_stated_draw(stored):
    medians = posterior_medians()
    known = default_parameters(calibrated=False).values()
    emb = stored["embedding"]
    assert emb["posterior_median"] == {k: v for k, v in medians.items() if k in known}
    assert calibrated_values() == stored["parameters"]
    if emb["point"] == "posterior median":
        assert stored["parameters"] == emb["posterior_median"]
    else:
        draws = posterior_draws(load_posterior())
        i = emb["draw_index"]
        assert stored["parameters"] == {k: float(v[i]) for k, v in draws.items() if k in known}


def test_targets_are_registry_claims(stored):
    values = {r.id: r.value for r in claim_refs()}
    for k, v in stored["targets"].items():
        assert values[k] == v
    assert stored["synthetic"] is True
