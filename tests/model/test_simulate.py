"""Tests of the vectorised trial simulator: determinism, invariants and the null IL-2 model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from anrs119.model.parameters import default_parameters
from anrs119.model.simulate import (
    _event_time,
    _il2_kernel,
    cycle_weeks,
    draw_noise,
    follow_up_horizon,
    simulate,
    simulate_trials,
    visit_weeks,
)
from anrs119.published import claim_value
from anrs119.seeds import TEST_SEED


@pytest.fixture(scope="module")
def p() -> dict[str, float]:
    return default_parameters().values()


@pytest.fixture(scope="module")
def trials(p):
    return next(simulate_trials(p, 50, TEST_SEED))


def cohort(p, n, il2, seed=TEST_SEED, **changes):
    v = visit_weeks(follow_up_horizon(p))
    q = dict(p, **changes)
    return simulate(q, draw_noise(np.random.default_rng(seed), 1, n, v.size), il2, v)


def test_visit_schedule_covers_the_published_time_points(p):
    v = visit_weeks(follow_up_horizon(p))
    assert v[0] == 0
    assert claim_value("primary_timepoint_weeks") in v
    assert claim_value("subgroup_timepoint_weeks") in v
    assert np.all(np.diff(v) > 0)


def test_il2_cycles_follow_the_registry(p):
    c = cycle_weeks(p)
    assert c.size == claim_value("il2_max_cycles")
    assert c[0] == claim_value("il2_first_cycle_week")
    assert np.all(np.diff(c[:3]) == claim_value("il2_cycle_interval_weeks"))
    assert c.max() <= claim_value("il2_last_cycle_week")


def test_same_seed_same_trials_other_seed_other_trials(p):
    a = next(simulate_trials(p, 20, 7))
    b = next(simulate_trials(p, 20, 7))
    c = next(simulate_trials(p, 20, 8))
    np.testing.assert_array_equal(a.cd4_obs, b.cd4_obs)
    np.testing.assert_array_equal(a.t_primary, b.t_primary)
    assert not np.array_equal(a.cd4_obs, c.cd4_obs)


def test_chunking_does_not_change_the_trials(p):
    whole = next(simulate_trials(p, 40, 3, chunk=40))
    parts = list(simulate_trials(p, 40, 3, chunk=40))
    np.testing.assert_array_equal(whole.t_primary, parts[0].t_primary)
    small = list(simulate_trials(p, 40, 3, chunk=10))
    assert sum(t.shape[0] for t in small) == 40


def test_shapes_and_arm_sizes(p, trials):
    r, n = trials.shape
    assert (r, n) == (50, p["n_il2"] + p["n_control"])
    assert trials.cd4_obs.shape == (r, n, trials.visits.size)
    assert np.all(trials.il2.sum(axis=1) == p["n_il2"])


def test_baseline_cd4_within_the_eligibility_window(p, trials):
    assert trials.bcd4.min() >= p["cd4_lower"]
    assert trials.bcd4.max() <= p["cd4_upper"]
    np.testing.assert_allclose(trials.cd4_obs[..., 0], trials.bcd4, rtol=1e-6)


def test_primary_end_point_is_the_first_component(trials):
    first = np.minimum.reduce([trials.t_cd4, trials.t_art, trials.t_aids, trials.t_death])
    np.testing.assert_array_equal(trials.t_primary, first)
    # an AIDS-defining event starts ART at the latest
    started = np.isfinite(trials.t_aids) & (trials.t_aids < trials.t_death)
    assert np.all(trials.t_art[started] <= trials.t_aids[started])


def test_on_art_only_after_the_start_and_no_il2_for_controls(trials):
    assert np.all(trials.onart == (trials.visits > trials.t_art[..., None]))
    assert np.all(trials.n_cycles[~trials.il2] == 0)
    assert np.all(trials.n_cycles <= trials.cycles.size)


def test_confirmation_never_makes_the_cd4_end_point_earlier(p):
    il2 = np.zeros(4000, bool)
    single = cohort(p, 4000, il2, confirm_cd4=0.0)
    confirmed = cohort(p, 4000, il2, confirm_cd4=1.0)
    assert np.all(confirmed.t_cd4 >= single.t_cd4)
    assert np.mean(np.isfinite(confirmed.t_cd4)) < np.mean(np.isfinite(single.t_cd4))


def test_control_patients_do_not_depend_on_il2_parameters(p):
    il2 = np.arange(2000) < 1000
    a = cohort(p, 2000, il2)
    b = cohort(p, 2000, il2, il2_gain_median=3 * p["il2_gain_median"], il2_halflife=10.0)
    ctl = ~il2
    np.testing.assert_array_equal(a.cd4_obs[0][ctl], b.cd4_obs[0][ctl])
    np.testing.assert_array_equal(a.t_primary[0][ctl], b.t_primary[0][ctl])


def test_with_no_il2_effect_the_arm_label_changes_nothing(p):
    """Same patients (same random numbers) in either arm give identical trajectories."""
    n = 3000
    as_il2 = cohort(p, n, np.ones(n, bool), il2_gain_median=0.0)
    as_ctl = cohort(p, n, np.zeros(n, bool), il2_gain_median=0.0)
    np.testing.assert_array_equal(as_il2.cd4_obs, as_ctl.cd4_obs)
    np.testing.assert_array_equal(as_il2.t_primary, as_ctl.t_primary)


def test_with_no_il2_effect_the_arms_are_equal_in_distribution(p):
    n = 40_000
    il2 = np.arange(n) < n // 2
    tr = cohort(p, n, il2, il2_gain_median=0.0)
    w96 = int(np.searchsorted(tr.visits, 96))
    chg = tr.cd4_obs[0, :, w96] - tr.bcd4[0]
    off = ~tr.onart[0, :, w96] & tr.alive[0, :, w96]
    a, b = chg[il2 & off], chg[~il2 & off]
    assert stats.mannwhitneyu(a, b).pvalue > 0.001
    assert stats.ks_2samp(a, b).pvalue > 0.001
    assert abs(a.mean() - b.mean()) < 4 * math.sqrt(a.var() / a.size + b.var() / b.size)
    e1 = (tr.t_primary[0, il2] <= 96).mean()
    e2 = (tr.t_primary[0, ~il2] <= 96).mean()
    se = math.sqrt(e1 * (1 - e1) / il2.sum() + e2 * (1 - e2) / (~il2).sum())
    assert abs(e1 - e2) < 4 * se


def test_il2_raises_cd4_and_lowers_the_end_point_rate(p):
    n = 6000
    il2 = np.arange(n) < n // 2
    tr = cohort(p, n, il2)
    assert (tr.t_primary[0, il2] <= 96).mean() < (tr.t_primary[0, ~il2] <= 96).mean()
    w48 = int(np.searchsorted(tr.visits, 48))
    assert np.median(tr.cd4_obs[0, il2, w48]) > np.median(tr.cd4_obs[0, ~il2, w48])


def test_aids_hazard_does_not_use_il2_gains(p):
    """Clinical events follow the CD4 count without IL-2: same patients, same AIDS times
    until ART (which IL-2 delays, and which lowers the hazard)."""
    n = 2000
    with_il2 = cohort(p, n, np.ones(n, bool))
    without = cohort(p, n, np.zeros(n, bool))
    off_art = ~np.isfinite(with_il2.t_art[0]) & ~np.isfinite(without.t_art[0])
    np.testing.assert_array_equal(with_il2.t_aids[0][off_art], without.t_aids[0][off_art])


@given(
    lag=st.floats(-50, 500),
    rampup=st.floats(0.5, 8),
    halflife=st.floats(1, 400),
)
def test_il2_kernel_is_a_share_of_the_peak(lag, rampup, halflife):
    k = float(_il2_kernel(np.array(lag), rampup, halflife))
    assert 0.0 <= k <= 1.0
    if lag <= 0:
        assert k == 0.0
    if lag >= rampup:
        expected = math.exp(-math.log(2) * (lag - rampup) / halflife)
        assert k == pytest.approx(expected, rel=1e-9)


@settings(max_examples=50)
@given(rate=st.floats(1e-3, 0.5), budget=st.floats(1e-4, 5.0))
def test_event_time_inverts_a_constant_hazard(rate, budget):
    visits = np.arange(0.0, 205.0, 5.0)
    r = np.full((1, 1, visits.size - 1), rate)
    t = float(_event_time(r, visits, np.array([[budget]]), float(visits[-1]))[0, 0])
    expected = budget / rate
    if expected <= visits[-1]:
        assert t == pytest.approx(expected, rel=1e-9, abs=1e-9)
    else:
        assert math.isinf(t)
