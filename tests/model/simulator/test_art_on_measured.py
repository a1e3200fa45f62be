"""The model extension "ART started on the measured rather than the true CD4 count"
(``art_on_measured`` in kernel.MODEL_OPTIONS): off by default and then changing no bit of any
simulation; on, the ART-start hazard follows the values measured at the visits."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest

from anrs119.model.simulator import kernel
from anrs119.model.simulator.parameters import default_parameters
from anrs119.model.simulator.schedule import (
    ART_CD4_REFERENCE,
    ART_VL_REFERENCE,
    WEEKS_PER_YEAR,
    follow_up_horizon,
    visit_weeks,
)
from anrs119.model.simulator.simulate import simulate, simulate_trials
from anrs119.model.simulator.trials import Trials
from anrs119.seeds import TEST_SEED

DEFAULT_FINGERPRINT = "8629bcf21770f438dc89ec0bbeb8b4ae420c239485707073cbdc455b6337c30c"
"""SHA-256 of every array of :func:`_fingerprint_trials`, recorded with the kernel as it was
before the option existed (commit f460b2a), at the uncalibrated defaults (the calibrated point
moves with every new posterior): the default path must give the same bits."""


@pytest.fixture(scope="module")
def p() -> dict[str, float]:
    return default_parameters(calibrated=False).values()


def _digest(trials: list[Trials]) -> str:
    h = hashlib.sha256()
    for tr in trials:
        for f in dataclasses.fields(tr):
            h.update(np.ascontiguousarray(np.asarray(getattr(tr, f.name), dtype=float)).tobytes())
    return h.hexdigest()


def _fingerprint_trials(p: dict[str, float]) -> list[Trials]:
    """The default model, and one that exercises missed visits, loss to follow-up, a single
    low count as the end point and an end point that raises the ART hazard."""
    other = dict(p, visit_miss_prob=0.3, dropout_rate=0.4, art_endpoint_hr=3.0, confirm_cd4=0.0)
    return [next(simulate_trials(q, 40, TEST_SEED, full=True)) for q in (p, other)]


def test_the_option_is_off_by_default_and_off_changes_no_bit(p):
    assert "art_on_measured" not in p  # parameter sets need not know the option
    assert kernel.MODEL_OPTIONS["art_on_measured"] == 0.0
    default = _fingerprint_trials(p)
    assert _digest(default) == DEFAULT_FINGERPRINT
    assert _digest(_fingerprint_trials(dict(p, art_on_measured=0.0))) == DEFAULT_FINGERPRINT


def test_the_option_changes_only_who_starts_art_and_when(p):
    # Without any ART the two rules cannot differ: every output is the same.
    no_art = dict(p, art_rate_ref=0.0, aids_rate=0.0)
    a = next(simulate_trials(no_art, 20, TEST_SEED, full=True))
    b = next(simulate_trials(dict(no_art, art_on_measured=1.0), 20, TEST_SEED, full=True))
    assert _digest([a]) == _digest([b])
    # With ART, the measured rule starts it at other times, and every value before the start
    # (baseline, visits off ART) stays the same patient's.
    c = next(simulate_trials(p, 20, TEST_SEED, full=True))
    d = next(simulate_trials(dict(p, art_on_measured=1.0), 20, TEST_SEED, full=True))
    assert not np.array_equal(c.t_art, d.t_art)
    np.testing.assert_array_equal(c.bcd4, d.bcd4)
    off = ~c.onart & ~d.onart
    np.testing.assert_array_equal(c.cd4_obs[off], d.cd4_obs[off])


def test_the_option_may_differ_between_replicates(p):
    flags = np.array([0.0, 1.0, 1.0, 0.0])
    mixed = next(simulate_trials(dict(p, art_on_measured=flags), 4, TEST_SEED, full=True))
    for flag in (0.0, 1.0):
        alone = next(simulate_trials(dict(p, art_on_measured=flag), 4, TEST_SEED, full=True))
        keep = flags == flag
        np.testing.assert_array_equal(mixed.t_art[keep], alone.t_art[keep])
        np.testing.assert_array_equal(mixed.cd4_obs[keep], alone.cd4_obs[keep])


def _art_starts_against_measured_values(p, flag: float) -> list[float]:
    """Standardised (observed - expected) ART starts per band of the latest measured CD4 count,
    expected from the ART hazard evaluated at the latest measured values (held since their
    visit) in every interval between two visits."""
    q = dict(p, art_on_measured=flag, aids_rate=0.0, death_rate=0.0, dropout_rate=0.0,
             art_rate_ref=0.2)  # fmt: skip
    v = visit_weeks(follow_up_horizon(q))
    tr = simulate(q, np.zeros(20_000, bool), v, TEST_SEED, full=True)
    seen = tr.attended[0]
    cd4 = pd.DataFrame(np.where(seen, tr.cd4_obs[0], np.nan)).ffill(axis=1).to_numpy()[:, :-1]
    vl = pd.DataFrame(np.where(seen, tr.vl_obs[0], np.nan)).ffill(axis=1).to_numpy()[:, :-1]
    t_art = tr.t_art[0][:, None]
    lo, hi = v[None, :-1], v[None, 1:]
    at_risk = t_art >= lo
    started = at_risk & (t_art < hi)
    log_hr = q["art_cd4_loghr"] / 100.0 * np.maximum(ART_CD4_REFERENCE - cd4, 0.0) + q[
        "art_vl_loghr"
    ] * np.maximum(vl - ART_VL_REFERENCE, 0.0)
    prob = 1.0 - np.exp(-q["art_rate_ref"] / WEEKS_PER_YEAR * np.exp(log_hr) * (hi - lo))
    z = []
    for low, high in ((0.0, 250.0), (250.0, 300.0), (300.0, 350.0), (350.0, np.inf)):
        band = at_risk & (cd4 >= low) & (cd4 < high)
        observed, expected = started[band].sum(), prob[band].sum()
        z.append(float((observed - expected) / np.sqrt(expected)))
    return z


def test_with_the_option_art_starts_follow_the_measured_values(p):
    z = _art_starts_against_measured_values(p, 1.0)
    assert max(abs(x) for x in z) < 4.0, z


def test_by_default_art_starts_follow_the_true_values_not_the_measured_ones(p):
    # A low measured count is partly noise (the true count is higher): fewer starts than the
    # measured values predict, and more where the measured count is high.
    z = _art_starts_against_measured_values(p, 0.0)
    assert z[0] < -10.0 and z[-1] > 4.0, z
