"""The reach of one patient's change: each building block against brute force or lifelines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy import stats

from anrs119 import ARMS
from anrs119.analysis.survival import kaplan_meier
from anrs119.data import Dataset, load_dataset
from anrs119.published import load_claims, results
from anrs119.reproduce import Reproducer
from anrs119.tolerance import (
    RULES,
    Reach,
    ToleranceCalculator,
    count_reach,
    event_flips,
    km_quantile,
    km_survival_at,
    logrank_p,
    median_reach,
    rank_sum_p_reach,
    recording_step,
    rounding_interval,
)

values = st.lists(st.integers(-50, 50), min_size=3, max_size=9)


def test_count_reach_is_one_patient_either_way_within_the_arm() -> None:
    assert count_reach(22, 66) == pytest.approx((100 * 21 / 66, 100 * 22 / 66, 100 * 23 / 66))
    assert count_reach(0, 10) == (0.0, 10.0)
    assert count_reach(10, 10) == (90.0, 100.0)


def _brute_medians(x: np.ndarray, places: np.ndarray) -> set[float]:
    medians = set()
    for i in range(x.size):
        for new in places:
            moved = x.copy()
            moved[i] = new
            medians.add(round(float(np.median(moved)), 9))
    return medians


@settings(max_examples=80, deadline=None)
@given(values, st.sampled_from([1.0, 0.5, 2.0]))
def test_median_reach_lists_every_median_of_every_move_on_the_grid(xs: list[int], step: float):
    """Brute force: every value moved to every grid point from below the lowest to above the
    highest; the listed medians are exactly the medians this gives."""
    x = np.array(xs, dtype=float) * step
    places = np.arange(x.min() - 3 * step, x.max() + 4 * step, step)
    listed, ranges = median_reach(x, step)
    assert ranges == ()
    assert set(listed) == _brute_medians(x, places)


@settings(max_examples=40, deadline=None)
@given(values)
def test_median_reach_without_a_grid_is_the_ranges_between_neighbours(xs: list[int]) -> None:
    x = np.array(xs, dtype=float)
    fine = np.arange(x.min() - 2, x.max() + 2, 0.125)
    medians = _brute_medians(x, fine)
    listed, ranges = median_reach(x, None)
    assert listed == ()
    assert min(lo for lo, _ in ranges) == pytest.approx(min(medians))
    assert max(hi for _, hi in ranges) == pytest.approx(max(medians))
    assert all(any(lo - 1e-9 <= m <= hi + 1e-9 for lo, hi in ranges) for m in medians)


def test_median_of_one_or_two_values_can_move_anywhere() -> None:
    assert median_reach(np.array([1.0, 2.0]), 1.0) == ((), ((-math.inf, math.inf),))


def test_recording_step_is_the_data_grid() -> None:
    assert recording_step(np.array([443.0, -64.0, 0.0])) == 1.0
    assert recording_step(np.array([0.02, -0.53, 4.45])) == pytest.approx(0.01)
    assert recording_step(np.array([0.5, 1.0])) == pytest.approx(0.1)
    assert recording_step(np.array([1 / 3, 0.5])) is None


@settings(max_examples=15, deadline=None)
@given(values, values)
def test_rank_sum_reach_is_every_single_move_recomputed_by_scipy(xs: list[int], ys: list[int]):
    x, y = np.array(xs, float), np.array(ys, float)
    reach = np.array(rank_sum_p_reach(x, y))
    pooled = np.concatenate([x, y])
    places = np.concatenate([pooled, pooled + 0.5, pooled - 0.5, [pooled.min() - 3, 99.0]])
    brute = [stats.mannwhitneyu(x, y, method="asymptotic").pvalue]
    for sample, first in ((x, True), (y, False)):
        for i in range(sample.size):
            for new in places:
                moved = sample.copy()
                moved[i] = new
                a, b = (moved, y) if first else (x, moved)
                brute.append(stats.mannwhitneyu(a, b, method="asymptotic").pvalue)
    assert reach.min() == pytest.approx(min(brute), abs=1e-12)
    assert reach.max() == pytest.approx(max(brute), abs=1e-12)
    assert np.all(np.isin(np.round(reach, 12), np.round(brute, 12)))


@settings(max_examples=15, deadline=None)
@given(values, values)
def test_rank_sum_reach_on_a_grid_is_every_move_to_a_grid_point(xs: list[int], ys: list[int]):
    """On the integer grid a value cannot sit between two neighbouring integers: the listed P
    values are exactly those of every move to every integer (scipy recomputes each)."""
    x, y = np.array(xs, float), np.array(ys, float)
    reach = set(np.round(rank_sum_p_reach(x, y, step=1.0), 12))
    pooled = np.concatenate([x, y])
    places = np.arange(pooled.min() - 2, pooled.max() + 3)
    brute = {round(float(stats.mannwhitneyu(x, y, method="asymptotic").pvalue), 12)}
    for sample, first in ((x, True), (y, False)):
        for i in range(sample.size):
            for new in places:
                moved = sample.copy()
                moved[i] = new
                a, b = (moved, y) if first else (x, moved)
                brute.add(round(float(stats.mannwhitneyu(a, b, method="asymptotic").pvalue), 12))
    assert reach == brute


def _random_tte(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    time = rng.choice(np.arange(4, 200, 4), size=n).astype(float)
    return time, (rng.random(n) < 0.6).astype(int)


@pytest.mark.parametrize("seed", range(6))
def test_array_kaplan_meier_and_log_rank_match_lifelines(seed: int) -> None:
    rng = np.random.default_rng(seed)
    time, event = _random_tte(rng, 40)
    kmf = KaplanMeierFitter().fit(time, event)
    for t in (30.0, 96.0, 150.0):
        expected = float(kmf.survival_function_.loc[:t].iloc[-1, 0])
        assert km_survival_at(time, event, t) == pytest.approx(expected)
    ids = [f"S{i}" for i in range(time.size)]
    adsl = pd.DataFrame({"USUBJID": ids, "ARM": ARMS[0]})
    adtte = pd.DataFrame({"USUBJID": ids, "PARAMCD": "X", "AVAL": time, "CNSR": 1 - event})
    km = kaplan_meier(adsl, adtte, "X")
    for p in (0.25, 0.5, 0.9):
        expected = km.quantile(ARMS[0], p)[0]
        got = km_quantile(time, event, p)
        assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)
    first = rng.random(40) < 0.5
    ref = logrank_test(time[first], time[~first], event[first], event[~first]).p_value
    assert logrank_p(time, event, first) == pytest.approx(ref, rel=1e-9)


def test_event_flips_change_exactly_one_patient() -> None:
    time = np.array([10.0, 50.0, 160.0, 200.0])
    event = np.array([1, 0, 1, 0])
    flips = event_flips(time, event, horizon=150.0)
    assert len(flips) == 4
    assert flips[0][1].tolist() == [0, 0, 1, 0]  # an event censored at its time
    assert flips[1][1].tolist() == [1, 1, 1, 0]  # a censored patient given an event
    assert flips[2][0].tolist() == [10.0, 50.0, 150.0, 200.0]  # a late event brought in
    assert flips[3][0].tolist() == [10.0, 50.0, 160.0, 150.0]  # event-free: an event by then
    assert flips[3][1].tolist() == [1, 0, 1, 1]


def test_close_needs_a_listed_value_printed_as_published() -> None:
    claims = load_claims()
    count = Reach("c", "one_patient", count_reach(22, 66), "")
    claim = claims.loc["primary_w96_il2"].copy()
    assert count.prints(claim)  # 23/66 = 34.8% prints as 35%
    claim["value"] = 36.0
    assert not count.prints(claim)
    median = Reach("m", "neighbouring_order_statistics", (49.0, 50.0, 52.0), "")
    cd4 = claims.loc["cd4_change_w96_il2"]  # +51: 50.5 would print, but no listed value does
    assert not median.prints(cd4)
    assert Reach("m", "x", (50.5,), "").prints(cd4)
    assert Reach("m", "x", (), "", ((50.0, 50.4),)).prints(cd4) is False
    assert Reach("m", "x", (), "", ((50.0, 50.5),)).prints(cd4)


@pytest.fixture(scope="module")
def embedded() -> tuple[Reproducer, dict[str, Reach]]:
    reproducer = Reproducer(load_dataset())
    return reproducer, ToleranceCalculator(reproducer).all()


def test_every_numeric_claim_has_a_reach_holding_its_own_reproduction(embedded) -> None:
    reproducer, reach = embedded
    reproduced = reproducer.all()
    numeric = [i for i, c in results().iterrows() if c["statistic"] != "similar"]
    assert sorted(reach) == sorted(numeric)
    for claim_id, one in reach.items():
        value = reproduced[claim_id].value
        assert one.claim_id == claim_id
        assert one.rule in RULES
        if math.isfinite(value):
            assert any(math.isclose(v, value, abs_tol=1e-9) for v in one.values), claim_id


def test_array_helpers_agree_with_the_reproduction_on_the_embedded_subgroup(embedded) -> None:
    reproducer, _ = embedded
    calc = ToleranceCalculator(reproducer)
    tte = calc._subgroup_tte("PRIMARY")
    week = reproducer.design.subgroup_week
    for arm in ARMS:
        mine = tte[tte["group"] == arm]
        expected = reproducer.subgroup.km_primary.survival_at(arm, week)[0]
        assert km_survival_at(mine["time"], mine["event"], week) == pytest.approx(expected)
    first = (tte["group"] == ARMS[0]).to_numpy()
    assert logrank_p(tte["time"], tte["event"], first) == pytest.approx(
        reproducer.subgroup.logrank_primary.p_value, rel=1e-9
    )


def test_a_rule_that_does_not_fit_the_claim_is_refused(embedded) -> None:
    reproducer, _ = embedded
    claim = load_claims().loc["primary_w96_il2"].copy()
    claim["tolerance"] = "one_event"
    with pytest.raises(ValueError, match="column tolerance"):
        ToleranceCalculator(reproducer).reach("primary_w96_il2", claim)


def test_reach_follows_the_dataset_not_a_typed_amount() -> None:
    """Half the patients: each one weighs twice as much, so the reach of a count widens."""
    full = load_dataset()
    keep = full.adsl.groupby("ARM").head(30)
    half = Dataset(
        adsl=keep,
        adlb=full.adlb[full.adlb["USUBJID"].isin(keep["USUBJID"])],
        adtte=full.adtte[full.adtte["USUBJID"].isin(keep["USUBJID"])],
        adae=full.adae[full.adae["USUBJID"].isin(keep["USUBJID"])],
        source="half",
        is_synthetic=True,
        path=None,
    )
    wide = ToleranceCalculator(Reproducer(half)).primary_proportion("primary_w96_il2", ARMS[0])
    narrow = ToleranceCalculator(Reproducer(full)).primary_proportion("primary_w96_il2", ARMS[0])
    assert (wide.high - wide.low) > (narrow.high - narrow.low)


def test_exactness_is_true_on_the_embedded_trial_and_false_where_one_patient_changed():
    from anrs119.tolerance import exactness
    from tests import mutations

    dataset = load_dataset()
    assert all(exactness(Reproducer(dataset)).values())
    week = float(results().at["primary_w96_il2", "timepoint_weeks"])
    k = int(Reproducer(dataset).primary[0].table.set_index("group").at[ARMS[0], "events"])
    changed = mutations.set_event_count(dataset, "PRIMARY", ARMS[0], week, k + 3)
    verdicts = exactness(Reproducer(changed))
    assert not verdicts["primary_w96_il2"] and verdicts["primary_w96_control"]
    harmed = mutations.add_aids_events(dataset, ARMS[0], 20, week)
    verdicts = exactness(Reproducer(harmed))
    assert not verdicts["safety_aids_similar"] and verdicts["safety_death_similar"]


def test_ranges_print_as_a_two_decimal_claim_only_within_half_a_hundredth():
    """A median without a recording grid is a range; it reaches +0.04 only if it meets
    [0.035, 0.045)."""
    claim = load_claims().loc["vl_change_w96_control"]
    assert rounding_interval(0.04, 2) == pytest.approx((0.035, 0.045))
    assert Reach("m", "x", (), "", ((0.030, 0.036),)).prints(claim)
    assert not Reach("m", "x", (), "", ((0.030, 0.0349),)).prints(claim)
    assert not Reach("m", "x", (), "", ((0.045, 0.05),)).prints(claim)


def _calculator_on_arms(arms, horizon: float) -> ToleranceCalculator:
    """A calculator whose subgroup is the given (time, cause) arms, without a dataset."""
    from types import SimpleNamespace

    calc = ToleranceCalculator.__new__(ToleranceCalculator)
    calc.reproducer = SimpleNamespace(art_competing_arms=arms)
    calc.design = SimpleNamespace(subgroup_week=horizon)
    return calc


def test_competing_reach_flips_each_art_status_once_and_leaves_deaths_alone():
    """One patient's ART start added (censored -> ART) or removed (ART -> censored) in turn;
    the death stays a death. Expected values: the reading on the four changed data sets,
    written out by hand."""
    from anrs119.analysis.competing import ART, CENSORED, DEATH, reading_values

    il2_t, control_t = np.array([10.0, 20.0, 30.0]), np.array([5.0, 15.0])
    il2 = (il2_t, np.array([ART, CENSORED, DEATH]))
    control = (control_t, np.array([ART, ART]))
    changed = [
        [(il2_t, np.array([CENSORED, CENSORED, DEATH])), control],
        [(il2_t, np.array([ART, ART, DEATH])), control],
        [il2, (control_t, np.array([CENSORED, ART]))],
        [il2, (control_t, np.array([ART, CENSORED]))],
    ]
    calc = _calculator_on_arms([il2, control], 40.0)
    for key in ("aj_rmtl", "km_rmst"):
        expected = [np.subtract(*reading_values(arms, 40.0)[key]) for arms in changed]
        assert calc._competing_flips(key) == pytest.approx(expected), key
        # every value is a change: none equals the reading on the data as they are
        unchanged = np.subtract(*reading_values([il2, control], 40.0)[key])
        assert all(v != pytest.approx(unchanged) for v in expected)


def test_competing_reach_is_undefined_only_when_neither_arm_reaches_the_quantile():
    """Three patients followed to week 30, none on ART: one ART start among them takes the
    cumulative incidence to 1/3, short of 50%, so the median is not reached in either arm and
    the difference is undefined (not inf, not a number)."""
    from anrs119.analysis.competing import ART, CENSORED

    never = (np.array([30.0, 30.0, 30.0]), np.array([CENSORED, CENSORED, CENSORED]))
    calc = _calculator_on_arms([never, never], 40.0)
    values = calc._competing_flips("aj_median")
    assert len(values) == 6
    assert all(math.isnan(v) for v in values)
    early = (np.array([10.0, 20.0]), np.array([ART, ART]))
    values = _calculator_on_arms([early, early], 40.0)._competing_flips("aj_median")
    assert all(math.isfinite(v) for v in values)


def test_two_by_two_reach_moves_one_patient_in_either_arm_down_to_0_and_up_to_n():
    """Each table the reach recomputes, recorded: 1/3 vs 2/3 gives the table itself, then 0/3
    and 2/3 in the first arm, 1/3 and 3/3 in the second; 0 and n are reachable, -1 and n + 1
    are not."""
    from anrs119.tolerance import two_by_two_p_reach

    def table(k: list[int]) -> float:
        return float(10 * k[0] + k[1])

    values = two_by_two_p_reach((1, 2), (3, 3), table)
    assert values[0] == 12.0
    assert sorted(values[1:]) == [2.0, 11.0, 13.0, 22.0]
    assert sorted(two_by_two_p_reach((0, 3), (2, 3), table)[1:]) == [2.0, 13.0]


def test_p_ranges_in_the_reach_detail_use_the_journal_bounds_strictly():
    """'below .001' only below .001 and 'above .99' only above .99: .001 and .990 are numbers."""
    from anrs119.tolerance import _p_detail

    assert (
        _p_detail((0.0004, 0.0142), "one event") == "one event changed: P from below .001 to .014"
    )
    assert _p_detail((0.001, 0.99), "x") == "x changed: P from .001 to .990"
    assert _p_detail((0.5, 0.995), "x") == "x changed: P from .500 to above .99"
    assert _p_detail((0.0001, 0.0009), "x") == "x changed: P stays below .001"
    assert _p_detail((0.0001, 0.001), "x") == "x changed: P from below .001 to .001"


def test_the_recording_grid_goes_down_to_a_millionth_and_no_further():
    """The grid is 10^-d for d = 0..6 (docstring): values in millionths have one, a value with a
    seventh decimal has none."""
    assert recording_step(np.array([0.00001, 0.00003])) == pytest.approx(1e-5)
    assert recording_step(np.array([0.000001, 0.000004])) == pytest.approx(1e-6)
    assert recording_step(np.array([0.1234567, 0.2])) is None


def test_a_safety_comparison_that_failed_is_passed_on_as_its_error():
    from types import SimpleNamespace

    from anrs119.tolerance import similarity

    missing = KeyError("no adverse-event table")
    assert similarity(SimpleNamespace(safety={"safety_aids_similar": missing})) == {
        "safety_aids_similar": missing
    }
