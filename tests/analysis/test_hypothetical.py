"""IPCW for ART start: logistic fit vs statsmodels GLM; weights, median, person-visits by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from anrs119.analysis._common import AnalysisInputError
from anrs119.analysis.hypothetical import (
    ipcw_change,
    logistic_fit,
    median_difference_ci,
    person_visits,
    stabilised_weights,
    subject_histories,
    weighted_median,
)
from anrs119.seeds import TEST_SEED


def test_logistic_fit_matches_statsmodels_glm() -> None:
    rng = np.random.default_rng(TEST_SEED)
    x = np.column_stack([np.ones(400), rng.normal(size=(400, 3))])
    y = rng.uniform(size=400) < 1 / (1 + np.exp(-(x @ np.array([-1.0, 0.5, -0.3, 0.8]))))
    ours = logistic_fit(x, y)
    glm = sm.GLM(y.astype(float), x, family=sm.families.Binomial()).fit()
    assert ours.converged
    assert ours.params == pytest.approx(glm.params, abs=1e-7)
    assert ours.predict(x) == pytest.approx(glm.predict(x), abs=1e-9)


def test_weights_by_hand_in_a_saturated_model() -> None:
    # One interval. L = 0: 4 patients, 1 starts ART; L = 1: 4 patients, 2 start ART.
    # Saturated model: P(uncensored | L) = 3/4 and 1/2; marginal 5/8.
    pv = pd.DataFrame(
        {
            "subject": list("abcdefgh"),
            "L": [0, 0, 0, 0, 1, 1, 1, 1],
            "censored": [0, 0, 0, 1, 0, 0, 1, 1],
        }
    )
    w = stabilised_weights(pv, numerator=(), denominator=("L",))
    assert w[list("abc")].to_numpy() == pytest.approx([(5 / 8) / (3 / 4)] * 3)
    assert w[list("ef")].to_numpy() == pytest.approx([(5 / 8) / (1 / 2)] * 2)
    # Weighted median of outcomes 1, 2, 3 (weight 5/6) and 10, 20 (weight 5/4): the cumulative
    # weight reaches exactly half at 3, so the median is (3 + 10) / 2.
    values = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
    assert weighted_median(values, w[list("abcef")].to_numpy()) == pytest.approx(6.5)
    # Unweighted, the median of these five is 3.
    assert weighted_median(values, np.ones(5)) == 3.0


@given(st.lists(st.integers(-50, 50), min_size=1, max_size=30))
@settings(max_examples=100, deadline=None)
def test_equal_weights_give_the_ordinary_median(values: list[int]) -> None:
    v = np.array(values, dtype=float)
    assert weighted_median(v, np.full(v.size, 2.5)) == pytest.approx(np.median(v))


@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(1, 4)), min_size=1, max_size=20))
@settings(max_examples=100, deadline=None)
def test_integer_weights_are_repetitions(pairs: list[tuple[int, int]]) -> None:
    v = np.array([a for a, _ in pairs], dtype=float)
    w = np.array([b for _, b in pairs], dtype=float)
    assert weighted_median(v, w) == pytest.approx(np.median(np.repeat(v, w.astype(int))))


def _tiny_adam() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    adsl = pd.DataFrame({"USUBJID": ["A", "B"], "ARM": ["IL-2", "Control"]})
    lb = []
    for uid, values, onart in (
        ("A", {0: 400, 4: 380, 8: 420}, {0: "N", 4: "N", 8: "Y"}),
        ("B", {0: 450, 8: 300}, {0: "N", 8: "N"}),  # visit 4 missed
    ):
        for v, cd4 in values.items():
            for code, aval in (("CD4", cd4), ("VLLOG", 4.0 + v / 100)):
                base = values[0] if code == "CD4" else 4.0
                lb.append(
                    {
                        "USUBJID": uid,
                        "PARAMCD": code,
                        "AVISITN": v,
                        "AVAL": aval,
                        "CHG": aval - base,
                        "ONART": onart[v],
                    }
                )
    adtte = pd.DataFrame(
        {"USUBJID": ["A", "B"], "PARAMCD": "ARTINIT", "AVAL": [6.0, 8.0], "CNSR": [0, 1]}
    )
    return adsl, pd.DataFrame(lb), adtte


def test_person_visits_by_hand() -> None:
    adsl, adlb, adtte = _tiny_adam()
    pv = person_visits(subject_histories(adsl, adlb, adtte, "CD4", 8))
    a = pv[pv["subject"] == 0]
    assert a["visit"].tolist() == [4.0, 8.0]
    assert a["censored"].tolist() == [0, 1]  # ART at week 6: the week-8 value is on ART
    assert a["last_cd4"].tolist() == [4.0, 3.8]  # hundreds of cells, value known at v_{k-1}
    b = pv[pv["subject"] == 1]
    assert b["censored"].tolist() == [0, 0]
    assert b["last_cd4"].tolist() == [4.5, 4.5]  # the missed visit carries the baseline forward


def test_missing_week_is_refused() -> None:
    adsl, adlb, adtte = _tiny_adam()
    with pytest.raises(AnalysisInputError, match="visit at week 12"):
        subject_histories(adsl, adlb, adtte, "CD4", 12)


def test_embedded_data_same_patients_as_off_art_and_deterministic() -> None:
    from anrs119.analysis.longitudinal import visit_values
    from anrs119.data import load_dataset

    dataset = load_dataset()
    a = ipcw_change(dataset.adsl, dataset.adlb, dataset.adtte, "CD4", 96, resamples=5, seed=3)
    b = ipcw_change(dataset.adsl, dataset.adlb, dataset.adtte, "CD4", 96, resamples=5, seed=3)
    assert a.table.equals(b.table) and a.diff_ci == b.diff_ci
    off = visit_values(dataset.adsl, dataset.adlb, "CD4", 96, reading="off_art")
    counts = off["group"].value_counts()
    table = a.table.set_index("group")
    for arm in ("IL-2", "Control"):
        assert table.at[arm, "n_analysed"] == counts[arm]
        assert table.at[arm, "unweighted_median"] == pytest.approx(
            np.median(off.loc[off["group"] == arm, "CHG"])
        )
    # Stabilised weights average about one.
    assert table["weight_mean"].min() > 0.5 and table["weight_mean"].max() < 2


def test_median_difference_ci_brackets_the_estimate() -> None:
    rng = np.random.default_rng(TEST_SEED)
    est, low, high = median_difference_ci(
        rng.normal(10, 5, 50), rng.normal(0, 5, 50), resamples=300, seed=1
    )
    assert low < est < high


def test_mixed_model_on_complete_balanced_data_gives_the_cell_means() -> None:
    # Same visits for everyone: GLS with saturated arm x visit means returns the cell means.
    from anrs119.analysis.hypothetical import mixed_model_change

    rng = np.random.default_rng(TEST_SEED)
    adsl = pd.DataFrame({"USUBJID": [f"P{i}" for i in range(40)], "ARM": ["IL-2", "Control"] * 20})
    rows = []
    for uid, arm in zip(adsl["USUBJID"], adsl["ARM"], strict=True):
        level, slope = rng.normal(0, 30), rng.normal(0, 20)
        for v in (4, 8, 12):
            effect = 40 if arm == "IL-2" else -20
            chg = level + slope * v / 52 + effect * v / 12 + rng.normal(0, 10)
            rows.append({"USUBJID": uid, "PARAMCD": "CD4", "AVISITN": v, "CHG": chg, "ONART": "N"})
    adlb = pd.DataFrame(rows)
    result = mixed_model_change(adsl, adlb, "CD4", 12)
    last = adlb[adlb["AVISITN"] == 12].merge(adsl, on="USUBJID")
    means = last.groupby("ARM")["CHG"].mean()
    assert result.means["IL-2"] == pytest.approx(means["IL-2"], abs=1e-6)
    assert result.means["Control"] == pytest.approx(means["Control"], abs=1e-6)
    assert result.diff_ci[0] < result.difference < result.diff_ci[1]


def test_weights_on_the_embedded_data_match_statsmodels_glm() -> None:
    from anrs119.analysis.hypothetical import DENOMINATOR_TERMS, NUMERATOR_TERMS
    from anrs119.data import load_dataset

    d = load_dataset()
    pv = person_visits(subject_histories(d.adsl, d.adlb, d.adtte, "CD4", 96))
    ours = stabilised_weights(pv)
    y = pv["censored"].to_numpy(float)
    log_ratio = np.zeros(len(pv))
    for sign, terms in ((1.0, NUMERATOR_TERMS), (-1.0, DENOMINATOR_TERMS)):
        x = sm.add_constant(pv[list(terms)].to_numpy(float), has_constant="add")
        p = sm.GLM(y, x, family=sm.families.Binomial()).fit().predict(x)
        log_ratio += sign * np.log1p(-p)
    kept = y == 0
    expected = np.exp(pd.Series(log_ratio[kept]).groupby(pv["subject"].to_numpy()[kept]).sum())
    assert ours.reindex(expected.index).to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-6)


def test_numerator_holds_the_arm_and_time_only() -> None:
    from anrs119.analysis.hypothetical import DENOMINATOR_TERMS, NUMERATOR_TERMS

    assert set(NUMERATOR_TERMS) == {"trt", "time", "time2"}
    assert set(NUMERATOR_TERMS) < set(DENOMINATOR_TERMS)


def test_a_baseline_term_in_the_numerator_would_miss_the_marginal_median() -> None:
    # One interval; half the patients have L = 1, which doubles the chance of starting ART
    # (censored) and shifts the outcome up: L = 0 -> 0, 1, 2 (3 censored); L = 1 -> 10, 11
    # (12, 13 censored).
    pv = pd.DataFrame(
        {
            "subject": range(8),
            "L": [0, 0, 0, 0, 1, 1, 1, 1],
            "censored": [0, 0, 0, 1, 0, 0, 1, 1],
        }
    )
    kept = pv["censored"].to_numpy() == 0
    y = np.array([0.0, 1, 2, 10, 11])
    high = np.array([False, False, False, True, True])
    # Arm-and-time numerator: the weighted patients carry L = 1 in the share of everyone (1/2).
    marginal = stabilised_weights(pv, numerator=(), denominator=("L",))[kept].to_numpy()
    assert marginal[high].sum() / marginal.sum() == pytest.approx(0.5)
    assert weighted_median(y, marginal) == pytest.approx(6.0)
    # L in the numerator too: nothing is reweighted, L = 1 keeps the share of those off ART.
    conditional = stabilised_weights(pv, numerator=("L",), denominator=("L",))[kept].to_numpy()
    assert conditional == pytest.approx(np.ones(5))
    assert conditional[high].sum() / conditional.sum() == pytest.approx(0.4)
    assert weighted_median(y, conditional) == pytest.approx(2.0)


def test_frequency_weights_are_repeated_rows_and_match_statsmodels() -> None:
    rng = np.random.default_rng(TEST_SEED)
    x = np.column_stack([np.ones(300), rng.normal(size=(300, 2))])
    y = (rng.uniform(size=300) < 1 / (1 + np.exp(-(x @ np.array([-0.5, 1.0, -0.7]))))).astype(float)
    counts = rng.integers(0, 4, size=300)
    weighted = logistic_fit(x, y, freq=counts)
    repeated = logistic_fit(np.repeat(x, counts, axis=0), np.repeat(y, counts))
    glm = sm.GLM(y, x, family=sm.families.Binomial(), freq_weights=counts.astype(float)).fit()
    assert weighted.converged and repeated.converged
    assert weighted.params == pytest.approx(repeated.params, abs=1e-8)
    assert weighted.params == pytest.approx(glm.params, abs=1e-7)


def test_a_bootstrap_resample_by_counts_equals_refitting_on_the_drawn_patients() -> None:
    from anrs119.analysis.hypothetical import _CensoringDesign, _ipcw_medians
    from anrs119.data import load_dataset

    d = load_dataset()
    h = subject_histories(d.adsl, d.adlb, d.adtte, "CD4", 96)
    rng = np.random.default_rng(TEST_SEED)
    for _ in range(3):
        index = rng.integers(0, h.ids.size, size=h.ids.size)
        by_counts, _ = _ipcw_medians(
            h, _CensoringDesign.of(h), np.bincount(index, minlength=h.ids.size)
        )
        drawn = h.take(index)
        refitted, _ = _ipcw_medians(drawn, _CensoringDesign.of(drawn))
        assert by_counts == pytest.approx(refitted, abs=1e-9)


def test_ipcw_medians_match_statsmodels_weights_and_weighted_quantiles() -> None:
    from statsmodels.stats.weightstats import DescrStatsW

    from anrs119.analysis.hypothetical import DENOMINATOR_TERMS, NUMERATOR_TERMS
    from anrs119.data import load_dataset

    d = load_dataset()
    h = subject_histories(d.adsl, d.adlb, d.adtte, "CD4", 96)
    pv = person_visits(h)
    y = pv["censored"].to_numpy(float)
    log_ratio = np.zeros(len(pv))
    for sign, terms in ((1.0, NUMERATOR_TERMS), (-1.0, DENOMINATOR_TERMS)):
        x = sm.add_constant(pv[list(terms)].to_numpy(float), has_constant="add")
        log_ratio += sign * np.log1p(-sm.GLM(y, x, family=sm.families.Binomial()).fit().predict(x))
    kept = y == 0
    sw = np.exp(np.bincount(pv["subject"].to_numpy()[kept], weights=log_ratio[kept]))
    reached = (h.t_art >= 96) & (h.end >= 96) & np.isfinite(h.outcome)
    result = ipcw_change(d.adsl, d.adlb, d.adtte, "CD4", 96, resamples=0, seed=1)
    table = result.table.set_index("group")
    for arm in ("IL-2", "Control"):
        sel = reached & (h.group == arm)
        expected = DescrStatsW(h.outcome[sel], weights=sw[sel]).quantile(0.5, return_pandas=False)
        assert table.at[arm, "median"] == pytest.approx(float(expected[0]))
        assert table.at[arm, "weighted_mean"] == pytest.approx(
            DescrStatsW(h.outcome[sel], weights=sw[sel]).mean
        )


def test_guideline_terms_by_hand() -> None:
    adsl, adlb, adtte = _tiny_adam()
    pv = person_visits(subject_histories(adsl, adlb, adtte, "CD4", 8))
    a = pv[pv["subject"] == 0]
    assert a["cd4_below"].tolist() == pytest.approx([0.0, 0.0])  # 400 and 380: above 350
    b = pv[pv["subject"] == 1]
    assert b["cd4_below"].tolist() == pytest.approx([0.0, 0.0])
    low = adlb.assign(AVAL=np.where(adlb["PARAMCD"] == "CD4", adlb["AVAL"] - 150, 5.6))
    pv = person_visits(subject_histories(adsl, low, adtte, "CD4", 8))
    a = pv[pv["subject"] == 0]
    assert a["cd4_below"].tolist() == pytest.approx([1.0, 1.2])  # 250 and 230: 100, 120 below
    assert a["vl_above"].tolist() == pytest.approx([0.6, 0.6])
