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
    rounding_interval,
)

values = st.lists(st.integers(-50, 50), min_size=3, max_size=9)


def test_count_reach_is_one_patient_either_way_within_the_arm() -> None:
    assert count_reach(22, 66) == pytest.approx((100 * 21 / 66, 100 * 22 / 66, 100 * 23 / 66))
    assert count_reach(0, 10) == (0.0, 10.0)
    assert count_reach(10, 10) == (90.0, 100.0)


@settings(max_examples=80, deadline=None)
@given(values)
def test_median_reach_equals_brute_force_over_every_move(xs: list[int]) -> None:
    x = np.array(xs, dtype=float)
    places = np.concatenate([x, x - 0.5, x + 0.5, [x.min() - 10, x.max() + 10]])
    medians = []
    for i in range(x.size):
        for new in places:
            moved = x.copy()
            moved[i] = new
            medians.append(float(np.median(moved)))
    assert median_reach(x) == pytest.approx((min(medians), max(medians)))


def test_median_of_one_or_two_values_can_move_anywhere() -> None:
    assert median_reach(np.array([1.0, 2.0])) == (-math.inf, math.inf)


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


def test_reach_of_a_count_is_discrete_and_of_a_median_continuous() -> None:
    count = Reach("c", "one_patient", count_reach(22, 66), False, "")
    assert count.reaches(*rounding_interval(35, 0))  # 23/66 = 34.8% prints as 35%
    assert not count.reaches(*rounding_interval(36, 0))
    median = Reach("m", "neighbouring_order_statistics", (49.0, 52.0, 52.0), True, "")
    assert median.reaches(*rounding_interval(51, 0)) and not median.reaches(52.5, 53.5)


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
        assert one.rule in RULES
        if math.isfinite(value):
            assert value in one.values or one.low <= value <= one.high, claim_id


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
