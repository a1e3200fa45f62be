"""Tests of the trial simulator: determinism, invariants, hazards independent of the visits."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from anrs119.model.simulator import kernel
from anrs119.model.simulator.parameters import default_parameters
from anrs119.model.simulator.schedule import (
    HAZARD_STEP_WEEKS,
    cycle_weeks,
    follow_up_horizon,
    visit_weeks,
)
from anrs119.model.simulator.simulate import (
    _distinct_pairs,
    _il2_kernel,
    arm_indicator,
    per_replicate_value,
    simulate,
    simulate_claims,
    simulate_trials,
)
from anrs119.model.simulator.summaries import claim_summaries, composite, grid_km
from anrs119.published import claim_value
from anrs119.seeds import TEST_SEED


@pytest.fixture(scope="module")
def p() -> dict[str, float]:
    return default_parameters().values()


@pytest.fixture(scope="module")
def trials(p):
    return next(simulate_trials(p, 50, TEST_SEED))


def cohort(p, n, il2, seed=TEST_SEED, visits=None, full=True, **changes):
    q = dict(p, **changes)
    v = visit_weeks(follow_up_horizon(q)) if visits is None else visits
    return simulate(q, il2, v, seed, full=full)


def test_visit_schedule_covers_the_published_time_points(p):
    v = visit_weeks(follow_up_horizon(p))
    assert v[0] == 0
    assert claim_value("primary_timepoint_weeks") in v
    assert claim_value("subgroup_timepoint_weeks") in v
    assert np.all(np.diff(v) > 0)


def test_follow_up_ends_at_week_150(p, trials):
    assert follow_up_horizon(p) == claim_value("subgroup_timepoint_weeks")
    assert trials.visits[-1] == claim_value("subgroup_timepoint_weeks")
    for name in ("t_cd4", "t_art", "t_aids", "t_death", "t_primary", "t_drop", "t_last"):
        t = getattr(trials, name)
        assert np.all(t[np.isfinite(t)] <= 150.0), name


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


def test_chunking_and_threads_do_not_change_the_trials(p):
    whole = next(simulate_trials(p, 40, 3, chunk=40))
    small = list(simulate_trials(p, 40, 3, chunk=7))
    assert sum(t.shape[0] for t in small) == 40
    np.testing.assert_array_equal(whole.t_primary, np.concatenate([t.t_primary for t in small]))
    np.testing.assert_array_equal(whole.cd4_obs, np.concatenate([t.cd4_obs for t in small]))
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = next(simulate_trials(p, 40, 3, chunk=40))
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(whole.cd4_obs, one.cd4_obs)
    np.testing.assert_array_equal(whole.t_art, one.t_art)


def test_per_replicate_tables_follow_their_replicates(p):
    """Replicates with their own IL-2 boost shape, noise and threshold share tables by
    index: each replicate is the trial its own scalar parameters give."""
    r = 6
    per = {
        "il2_rampup": np.array([2.0, 4.0, 2.0, 4.0, 3.0, 2.0]),
        "il2_halflife": np.array([52.0, 52.0, 52.0, 200.0, 52.0, 52.0]),
        "cd4_noise_sdlog": np.array([0.2, 0.2, 0.3, 0.2, 0.2, 0.2]),
        "cd4_threshold": np.array([300.0, 300.0, 300.0, 300.0, 350.0, 300.0]),
    }
    together = next(simulate_trials(dict(p, **per), r, 9, chunk=r))
    for k in range(r):
        alone = simulate(dict(p, **{n: v[k] for n, v in per.items()}), together.il2[0],
                         together.visits, 9, 1, k)  # fmt: skip
        for name in ("t_primary", "t_cd4", "t_art", "t_aids", "cd4_w", "cd4_obs"):
            np.testing.assert_array_equal(getattr(alone, name)[0], getattr(together, name)[k])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.1, 0.2, -0.0, 0.0]), st.sampled_from([1.0, 2.0])),
                min_size=1, max_size=12))  # fmt: skip
def test_distinct_pairs_index_every_row(rows):
    a, b = np.array(rows).T
    x, y, index = _distinct_pairs(a, b)
    np.testing.assert_array_equal(x[index], a)
    np.testing.assert_array_equal(y[index], b)
    assert len(set(zip(x.tolist(), y.tolist(), strict=True))) == x.size


def test_claims_only_run_equals_the_full_run(p):
    full = next(simulate_trials(p, 30, 5, full=True))
    lean = next(simulate_trials(p, 30, 5, full=False))
    assert lean.cd4_obs is None
    for name in ("t_primary", "t_art", "t_last", "cd4_w", "vl_locf", "n_cycles"):
        np.testing.assert_array_equal(getattr(full, name), getattr(lean, name))
    # the week-96 readouts are the per-visit values at that visit
    j = int(np.searchsorted(full.visits, 96.0))
    seen = full.attended[..., j]
    np.testing.assert_array_equal(full.cd4_w[seen], full.cd4_obs[..., j][seen])
    assert np.all(np.isnan(full.cd4_w[~seen]))
    a, b = claim_summaries(full, p), claim_summaries(lean, p)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_shapes_and_arm_sizes(p, trials):
    r, n = trials.shape
    assert (r, n) == (50, p["n_il2"] + p["n_control"])
    assert trials.cd4_obs.shape == (r, n, trials.visits.size)
    assert np.all(trials.il2.sum(axis=1) == p["n_il2"])


def test_baseline_cd4_within_the_eligibility_window(p, trials):
    assert trials.bcd4.min() >= p["cd4_lower"]
    assert trials.bcd4.max() <= p["cd4_upper"]
    np.testing.assert_array_equal(trials.cd4_obs[..., 0], trials.bcd4)


def test_primary_end_point_is_the_first_component(trials):
    first = np.minimum.reduce([trials.t_cd4, trials.t_art, trials.t_aids, trials.t_death])
    np.testing.assert_array_equal(trials.t_primary, first)
    # an AIDS-defining event starts ART at the latest
    started = np.isfinite(trials.t_aids) & (trials.t_aids < trials.t_death)
    assert np.all(trials.t_art[started] <= trials.t_aids[started])


def test_cd4_end_point_is_read_at_an_attended_visit_off_art(trials):
    hit = np.isfinite(trials.t_cd4)
    assert hit.any()
    j = np.searchsorted(trials.visits, trials.t_cd4[hit])
    np.testing.assert_array_equal(trials.visits[j], trials.t_cd4[hit])
    assert np.all(trials.attended[hit, j])
    assert np.all(trials.cd4_obs[hit, j] < 300)
    assert np.all(trials.t_cd4[hit] <= trials.t_art[hit])


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
    kw = {"il2_gain_median": 0.0, "il2_vl_effect": 0.0, "il2_clinical_hr": 1.0}
    as_il2 = cohort(p, n, np.ones(n, bool), **kw)
    as_ctl = cohort(p, n, np.zeros(n, bool), **kw)
    np.testing.assert_array_equal(as_il2.cd4_obs, as_ctl.cd4_obs)
    np.testing.assert_array_equal(as_il2.t_primary, as_ctl.t_primary)


def test_with_no_il2_effect_the_arms_are_equal_in_distribution(p):
    n = 40_000
    il2 = np.arange(n) < n // 2
    tr = cohort(p, n, il2, full=False, il2_gain_median=0.0, il2_vl_effect=0.0)
    chg = tr.cd4_w[0] - tr.bcd4[0]
    off = (tr.t_art[0] >= 96) & (tr.t_death[0] > 96) & ~np.isnan(chg)
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
    kw = {"il2_vl_effect": 0.0, "il2_clinical_hr": 1.0}
    with_il2 = cohort(p, n, np.ones(n, bool), **kw)
    without = cohort(p, n, np.zeros(n, bool), **kw)
    # AIDS before any ART start (it then starts ART) or no ART at all, in both arms
    before = np.ones(n, bool)
    for tr in (with_il2, without):
        before &= (tr.t_art[0] == tr.t_aids[0]) | ~np.isfinite(tr.t_art[0])
        before &= ~np.isfinite(tr.t_death[0])
    assert np.isfinite(without.t_aids[0][before]).any()
    np.testing.assert_array_equal(with_il2.t_aids[0][before], without.t_aids[0][before])


# ---------------------------------------------------------------- hazards and the visit schedule

SCHEDULES = (4.0, 8.0, 12.0)


def test_art_start_times_do_not_depend_on_the_visit_schedule_common_random_numbers(p):
    """With common random numbers the ART hazard (a function of the latent state on the fixed
    grid) gives the same start times whatever the visits, when reaching the end point does not
    itself change the ART hazard (art_endpoint_hr = 1)."""
    n = 5000
    q = dict(p, art_endpoint_hr=1.0)
    il2 = np.zeros(n, bool)
    runs = [cohort(q, n, il2, visits=visit_weeks(150.0, early=e), full=False) for e in SCHEDULES]
    for tr in runs[1:]:
        np.testing.assert_array_equal(tr.t_art, runs[0].t_art)
        np.testing.assert_array_equal(tr.t_aids, runs[0].t_aids)
        np.testing.assert_array_equal(tr.t_death, runs[0].t_death)
    # what is observed does change: the CD4 end point is read at the visits
    assert not np.array_equal(runs[0].t_cd4, runs[-1].t_cd4)


def test_expected_art_start_rate_does_not_move_with_the_visit_schedule(p):
    """Share starting ART by week 96 in large IL-2-free cohorts drawn independently for each
    schedule (different seeds): the differences stay within 4 Monte Carlo standard errors
    (SE of a difference of two proportions of n = 20,000: about 0.005)."""
    n = 20_000
    q = dict(p, il2_gain_median=0.0)
    il2 = np.zeros(n, bool)
    shares = []
    for k, e in enumerate(SCHEDULES):
        tr = cohort(q, n, il2, seed=TEST_SEED + k, visits=visit_weeks(150.0, early=e), full=False)
        shares.append(float(np.mean(tr.t_art <= 96.0)))
    for s in shares[1:]:
        se = math.sqrt(s * (1 - s) / n + shares[0] * (1 - shares[0]) / n)
        assert abs(s - shares[0]) < 4 * se, (shares, se)


def _walk(rate, budget, c0, slope, floor, v0, drift, eff, ca, cv, hr_art, switch, dt, n):
    """Plain cumulative-hazard walk (no shortcut), for the kernel's bounded version."""
    cum = 0.0
    for k in range(n):
        t0 = k * dt
        base = max(c0 + slope * t0, floor)
        v = v0 + drift * t0 + (eff if t0 > 0 else 0.0)
        h = rate * math.exp(ca * (350.0 - base) + cv * (v - 4.0))
        if t0 >= switch:
            h *= hr_art
        if cum + h * dt >= budget:
            return t0 + (budget - cum) / h
        cum += h * dt
    return math.inf


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(1e-5, 0.05),
    budget=st.floats(1e-3, 6.0),
    c0=st.floats(250, 700),
    slope=st.floats(-3.0, 1.0),
    v0=st.floats(1.7, 6.0),
    drift=st.floats(-0.01, 0.01),
    ca=st.floats(0.0, 0.02),
    cv=st.floats(0.0, 1.5),
    hr_art=st.floats(0.1, 2.0),
    switch=st.one_of(st.floats(0.0, 200.0), st.just(math.inf)),
    floor=st.one_of(st.just(10.0), st.floats(0.0, 700.0)),
    dt=st.sampled_from([1.0, 0.5, 2.0]),
)
def test_clinical_event_time_in_closed_form_equals_the_step_walk(
    rate, budget, c0, slope, v0, drift, ca, cv, hr_art, switch, floor, dt
):
    """The kernel sums each stretch of log-linear hazard in closed form: the event time is the
    step-by-step walk's up to rounding (floor reached or left, any switch, any grid step)."""
    args = (rate, budget, c0, slope, floor, v0, drift, 0.1, ca, cv, hr_art, switch, dt, 150)
    reach = kernel._clinical_reach(c0, slope, v0, drift, 0.1, ca, cv, hr_art, dt, 150)
    expected = _walk(*args)
    assert kernel._clinical_time(*args, reach) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert kernel._clinical_time(*args, -1.0) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    e_art=st.floats(1e-3, 8.0),
    ref=st.floats(0.0, 0.02),
    hr_ep=st.floats(0.2, 5.0),
    a_cd4=st.floats(-0.01, 0.05),
    a_vl=st.floats(-0.5, 1.5),
    c0=st.floats(200, 900),
    slope=st.floats(-3.0, 1.0),
    gain=st.floats(0.0, 300.0),
    boost=st.lists(st.floats(0.0, 2.0), min_size=150, max_size=150),
    v0=st.floats(1.7, 6.5),
    drift=st.floats(-0.02, 0.02),
    eff=st.floats(-0.5, 0.5),
    switch=st.integers(0, 160),
)
def test_art_hazard_bound_skips_only_walks_that_cannot_end(
    e_art, ref, hr_ep, a_cd4, a_vl, c0, slope, gain, boost, v0, drift, eff, switch
):
    """Where the kernel skips the ART hazard walk, the walk (any IL-2 boost, end point known
    from any step) never reaches the patient's budget: skipping changes no result."""
    floor = 10.0
    args = (e_art, ref, hr_ep, a_cd4, a_vl, c0, slope, floor, gain, v0, drift, eff, 1.0, 150)
    if not kernel._art_out_of_reach(*args):
        return
    cum = 0.0
    for k in range(150):
        t0 = float(k)
        cd4 = max(c0 + slope * t0, floor) + gain * boost[k]
        lh = 0.0
        if cd4 < 350.0:
            lh += a_cd4 * (350.0 - cd4)
        v = v0 + drift * t0 + (eff if t0 > 0.0 else 0.0)
        if v > 5.0:
            lh += a_vl * (v - 5.0)
        h = ref * math.exp(lh) if lh != 0.0 else ref
        if k >= switch:
            h *= hr_ep
        assert cum + h < e_art
        cum += h


@settings(max_examples=100, deadline=None)
@given(
    sig=st.floats(0.0, 0.6),
    thr=st.floats(100.0, 500.0),
    scale=st.floats(0.3, 3.0),
    seed=st.integers(0, 2**32),
)
def test_noise_table_decides_a_visit_as_the_exact_reading_does(sig, thr, scale, seed):
    """:func:`kernel._below` answers from the noise table where it can: every answer is the
    one the exact reading (count x exp(sdlog x z) against the threshold) gives."""
    pr = np.zeros(kernel.N_PARAMS)
    pr[kernel.P_NOISE] = sig
    pr[kernel.P_FLOOR] = 10.0
    bv = np.zeros((200, 2))
    nb = kernel.noise_bounds(np.array([sig]), np.array([thr]))[0]
    key = np.uint64(kernel.patient_key(seed, 0, 0))
    for j in range(1, 200):
        c0 = thr * scale * (1.0 + 0.002 * (j - 100))  # counts around the threshold's region
        zc, _ = kernel._normal_pair(np.uint64(kernel._draw(key, kernel.S_VISIT_NOISE + j)))
        exact = c0 * math.exp(sig * zc) < thr
        assert kernel._below(key, j, 0.0, pr, c0, 0.0, 0.0, bv, 0, thr, nb) == exact, j


def test_clinical_event_time_inverts_a_constant_hazard():
    rate, budget = 0.01, 0.7
    t = kernel._clinical_time(rate, budget, 350.0, 0.0, 10.0, 4.0, 0.0, 0.0, 0.0, 0.0,
                              1.0, math.inf, HAZARD_STEP_WEEKS, 150, -1.0)  # fmt: skip
    assert t == pytest.approx(budget / rate, rel=1e-12)


# ---------------------------------------------------------------- observation processes


def test_missed_visits_are_missed_at_the_stated_rate(p):
    tr = cohort(p, 20_000, np.zeros(20_000, bool), visit_miss_prob=0.1)
    share = 1 - tr.attended[0, :, 1:].mean()
    assert abs(share - 0.1) < 4 * math.sqrt(0.1 * 0.9 / tr.attended[0, :, 1:].size)
    assert tr.attended[0, :, 0].all()


def test_loss_to_follow_up_censors_at_the_last_visit_attended(p):
    tr = cohort(p, 20_000, np.zeros(20_000, bool), dropout_rate=0.2)
    lost = np.isfinite(tr.t_drop[0])
    years = np.minimum(tr.t_drop[0], 150.0) / (365.25 / 7)
    assert lost.sum() / years.sum() == pytest.approx(0.2, rel=0.1)
    assert np.all(tr.t_last[0][lost] <= tr.t_drop[0][lost])
    j = np.searchsorted(tr.visits, tr.t_last[0])
    assert np.all(tr.attended[0, np.arange(j.size), j])


def test_il2_discontinuation_lowers_the_cycles_received(p):
    n = 20_000
    il2 = np.ones(n, bool)
    none = cohort(p, n, il2, full=False, il2_stop_prob=0.0)
    some = cohort(p, n, il2, full=False, il2_stop_prob=0.3)
    assert np.all(some.n_cycles <= none.n_cycles)
    assert some.n_cycles.mean() < none.n_cycles.mean()


def test_dropout_and_missed_visits_make_crude_and_kaplan_meier_differ(p):
    q = dict(p, followup_extension=1000.0)  # no administrative censoring
    complete = next(
        simulate_trials(dict(q, dropout_rate=0.0, visit_miss_prob=0.0), 200, 11, full=False)
    )
    lossy = next(simulate_trials(dict(q, dropout_rate=0.3), 200, 11, full=False))
    missed = next(
        simulate_trials(dict(q, dropout_rate=0.0, visit_miss_prob=0.3), 200, 11, full=False)
    )

    def crude_and_km(tr):
        s = claim_summaries(tr, q, tests=False)
        return s["lowvl_free_w150_control:crude"], s["lowvl_free_w150_control"]

    crude, km = crude_and_km(complete)
    ok = np.isfinite(crude)
    np.testing.assert_allclose(crude[ok], km[ok], rtol=0, atol=1e-9)
    crude, km = crude_and_km(lossy)
    ok = np.isfinite(crude)
    assert np.mean(np.abs(crude[ok] - km[ok]) > 1e-6) > 0.5
    assert np.mean(crude[ok]) > np.mean(km[ok])  # lost patients count as free in the crude
    crude, km = crude_and_km(missed)  # a missed week-150 visit censors at the one before
    ok = np.isfinite(crude)
    assert np.mean(np.abs(crude[ok] - km[ok]) > 1e-6) > 0.05


# ---------------------------------------------------------------- per-replicate parameters


def test_per_replicate_parameters_equal_scalar_runs(p):
    r = 6
    gains = np.linspace(10.0, 120.0, r)
    halves = np.linspace(20.0, 300.0, r)
    q = dict(p, il2_gain_median=gains, il2_halflife=halves)
    s = simulate_claims(q, r, 21, chunk=4)
    for k in range(r):
        one = dict(p, il2_gain_median=gains[k], il2_halflife=halves[k])
        il2 = arm_indicator(int(p["n_il2"]), int(p["n_control"]))
        tr = simulate(one, il2, visit_weeks(150.0), 21, 1, k, full=False)
        ref = claim_summaries(tr, one, primary_test=s_test())
        for key, v in ref.items():
            np.testing.assert_array_equal(s[key][k : k + 1], v, err_msg=key)


def test_one_chunk_gives_the_claims_of_many(p):
    """The single-chunk path (no slicing, no concatenation) returns the same numbers."""
    r = 9
    q = dict(p, il2_halflife=np.linspace(20.0, 300.0, r))
    whole = simulate_claims(q, r, 23, chunk=r)
    pieces = simulate_claims(q, r, 23, chunk=2)
    assert whole.keys() == pieces.keys()
    for key in whole:
        np.testing.assert_array_equal(whole[key], pieces[key], err_msg=key)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3.0, False), (2, False), (np.float64(1.5), False), (np.int64(4), False),
     (np.array(2.0), False), (np.arange(3.0), True), ([1.0, 2.0], True),
     (np.ones((2, 2)), False)],
)  # fmt: skip
def test_per_replicate_values_are_the_one_dimensional_ones(value, expected):
    assert per_replicate_value(value) is expected


def test_wrong_length_and_array_design_facts_are_refused(p):
    with pytest.raises(ValueError, match="per-replicate values need shape"):
        simulate_claims(dict(p, il2_halflife=np.ones(3)), 2, 1)
    with pytest.raises(ValueError, match="a design fact takes one value"):
        simulate_claims(dict(p, n_il2=np.array([66.0, 66.0])), 2, 1)


def s_test() -> str:
    from anrs119.model.simulator.parameters import primary_test

    return primary_test()


def test_simulate_claims_is_deterministic_and_rejects_bad_shapes(p):
    a = simulate_claims(p, 30, 4)
    b = simulate_claims(p, 30, 4)
    for k in a:
        assert a[k].shape == (30,)
        np.testing.assert_array_equal(a[k], b[k])
    with pytest.raises(ValueError, match="il2_halflife"):
        simulate_claims(dict(p, il2_halflife=np.ones(3)), 30, 4)
    with pytest.raises(ValueError, match="n_il2"):
        simulate_claims(dict(p, n_il2=np.ones(30)), 30, 4)


# ---------------------------------------------------------------- helpers


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


def test_grid_km_of_latent_data_is_the_crude_proportion(p, trials):
    tte = composite(trials, censor=False)
    km = grid_km(tte, trials.il2, trials.visits)
    crude = 1 - (tte.event & trials.il2).sum(axis=1) / trials.il2.sum(axis=1)
    np.testing.assert_allclose(km.at(150.0), crude, atol=1e-12)
