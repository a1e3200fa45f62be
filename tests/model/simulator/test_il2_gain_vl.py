"""The model extension "the IL-2 effect varies with viral load" (``il2_gain_vl`` in
kernel.MODEL_OPTIONS): off by default and then changing no bit of any simulation; on, an IL-2
patient's gain is multiplied by exp(b x (true baseline log10 VL - vl_mean)), controls untouched."""

from __future__ import annotations

import numpy as np
import pytest

from anrs119.model.simulator import kernel
from anrs119.model.simulator.parameters import default_parameters
from anrs119.model.simulator.schedule import follow_up_horizon, visit_weeks
from anrs119.model.simulator.simulate import simulate, simulate_trials
from anrs119.seeds import TEST_SEED
from tests.model.simulator.test_art_on_measured import (
    DEFAULT_FINGERPRINT,
    _digest,
    _fingerprint_trials,
)


@pytest.fixture(scope="module")
def p() -> dict[str, float]:
    return default_parameters(calibrated=False).values()


def test_the_option_is_off_by_default_and_off_changes_no_bit(p):
    assert "il2_gain_vl" not in p
    assert kernel.MODEL_OPTIONS["il2_gain_vl"] == 0.0
    assert _digest(_fingerprint_trials(p)) == DEFAULT_FINGERPRINT
    assert _digest(_fingerprint_trials(dict(p, il2_gain_vl=0.0))) == DEFAULT_FINGERPRINT
    # and on, it changes the IL-2 patients' trials (the fingerprint can fail)
    assert _digest(_fingerprint_trials(dict(p, il2_gain_vl=0.8))) != DEFAULT_FINGERPRINT


def _quiet(p: dict[str, float]) -> dict[str, float]:
    """No ART, clinical events, loss or missed visit: every visit is observed off ART."""
    return dict(
        p, art_rate_ref=0.0, aids_rate=0.0, death_rate=0.0, dropout_rate=0.0, visit_miss_prob=0.0
    )


def test_the_gain_grows_with_viral_load_in_the_il2_arm_only(p):
    q = _quiet(p)
    v = visit_weeks(follow_up_horizon(q))
    il2 = np.arange(4000) % 2 == 0
    off = simulate(q, il2, v, TEST_SEED, full=True)
    on = simulate(dict(q, il2_gain_vl=1.0), il2, v, TEST_SEED, full=True)
    # controls: the same patients, bit for bit
    np.testing.assert_array_equal(off.cd4_obs[0][~il2], on.cd4_obs[0][~il2])
    np.testing.assert_array_equal(off.t_primary[0][~il2], on.t_primary[0][~il2])
    # IL-2 patients: the same baseline, and four weeks after the first cycle a larger count
    # where the viral load is high, a smaller one where it is low (measured baseline viral load
    # far from the mean: its assay noise cannot flip the side of the true value)
    np.testing.assert_array_equal(off.bvl, on.bvl)
    week4 = int(np.searchsorted(v, 4.0))
    diff = on.cd4_obs[0][il2, week4] - off.cd4_obs[0][il2, week4]
    dist = off.bvl[0][il2] - q["vl_mean"]
    margin = 5 * q["vl_noise_sd"]
    high, low = dist > margin, dist < -margin
    assert high.sum() > 50 and low.sum() > 50
    assert np.all(diff[high] > 0) and np.all(diff[low] < 0)
    # and the further above the mean, the larger the extra gain
    assert np.corrcoef(dist[high], np.log(diff[high]))[0, 1] > 0.3


def test_the_option_may_differ_between_replicates(p):
    values = np.array([0.0, 0.7, -0.7, 0.0])
    mixed = next(simulate_trials(dict(p, il2_gain_vl=values), 4, TEST_SEED, full=True))
    for value in (0.0, 0.7, -0.7):
        alone = next(simulate_trials(dict(p, il2_gain_vl=value), 4, TEST_SEED, full=True))
        keep = values == value
        np.testing.assert_array_equal(mixed.cd4_obs[keep], alone.cd4_obs[keep])
        np.testing.assert_array_equal(mixed.t_primary[keep], alone.t_primary[keep])
