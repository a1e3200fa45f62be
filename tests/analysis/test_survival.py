"""Survival helpers cross-checked against statsmodels, lifelines internals and hand cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from anrs119.analysis import survival as sv
from anrs119.analysis._common import AnalysisInputError

from .conftest import make_tte, random_tte


def _hand_km(time: np.ndarray, event: np.ndarray) -> pd.Series:
    """Product-limit estimator written from its definition."""
    out = {}
    s = 1.0
    for t in np.unique(time):
        n = np.sum(time >= t)
        d = np.sum((time == t) & (event == 1))
        s *= 1 - d / n
        out[float(t)] = s
    return pd.Series(out)


def test_km_matches_hand_product_limit(rng):
    adsl, adtte = random_tte(rng)
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    assert km.groups == ("IL-2", "Control")
    for g in km.groups:
        ids = adsl.loc[adsl["ARM"] == g, "USUBJID"]
        sub = adtte[adtte["USUBJID"].isin(ids)]
        hand = _hand_km(sub["AVAL"].to_numpy(), 1 - sub["CNSR"].to_numpy())
        rows = km.table[(km.table["group"] == g) & (km.table["time"] > 0)]
        np.testing.assert_allclose(rows["survival"].to_numpy(), hand.to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(rows["time"].to_numpy(), hand.index.to_numpy())


def test_km_log_log_ci_matches_lifelines_and_log_ci_matches_statsmodels(rng):
    adsl, adtte = random_tte(rng)
    km_ll = sv.kaplan_meier(adsl, adtte, "PRIMARY", ci_transform="log-log")
    km_log = sv.kaplan_meier(adsl, adtte, "PRIMARY", ci_transform="log")
    g = "Control"
    ids = adsl.loc[adsl["ARM"] == g, "USUBJID"]
    sub = adtte[adtte["USUBJID"].isin(ids)]
    kmf = KaplanMeierFitter().fit(sub["AVAL"], 1 - sub["CNSR"])
    ci = kmf.confidence_interval_.reindex(kmf.event_table.index)
    rows = km_ll.table[km_ll.table["group"] == g]
    s = rows["survival"].to_numpy()
    inner = (s > 0) & (s < 1)
    np.testing.assert_allclose(rows["ci_low"].to_numpy()[inner], ci.iloc[:, 0].to_numpy()[inner])
    np.testing.assert_allclose(rows["ci_high"].to_numpy()[inner], ci.iloc[:, 1].to_numpy()[inner])
    # statsmodels: Greenwood standard error of S at each event time; log CI = S exp(+-z se/S)
    sf = SurvfuncRight(sub["AVAL"].to_numpy(), 1 - sub["CNSR"].to_numpy())
    rows_log = km_log.table[(km_log.table["group"] == g) & (km_log.table["n_event"] > 0)]
    np.testing.assert_allclose(rows_log["survival"], sf.surv_prob)
    z = 1.959963984540054
    se_log = sf.surv_prob_se / sf.surv_prob
    ok = sf.surv_prob > 0
    np.testing.assert_allclose(
        rows_log["ci_low"].to_numpy()[ok], (sf.surv_prob * np.exp(-z * se_log))[ok], rtol=1e-9
    )


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(1, 30), st.booleans()), min_size=1, max_size=40),
    transform=st.sampled_from(["log-log", "log", "plain"]),
)
def test_km_invariants(data, transform):
    times = np.array([t for t, _ in data], dtype=float)
    events = np.array([int(e) for _, e in data])
    adsl, adtte = make_tte({"A": times}, {"A": events})
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY", ci_transform=transform)
    s = km.table["survival"].to_numpy()
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 1e-15)
    assert np.all(km.table["ci_low"] <= s + 1e-12)
    assert np.all(km.table["ci_high"] >= s - 1e-12)
    r = sv.restricted_mean(km, 20.0).table.iloc[0]
    if times.max() >= 20.0 or s[-1] == 0.0:
        assert 0 <= r["rmst"] <= 20.0 + 1e-12
        assert r["reason"] == ""
    else:  # the curve ends before tau: the area up to tau does not exist
        assert np.isnan(r["rmst"]) and "last follow-up" in r["reason"]


def test_median_uncensored_is_sample_median_and_ci_matches_lifelines(rng):
    x = rng.permutation(np.arange(1, 22, dtype=float))  # 21 distinct times, all events
    adsl, adtte = make_tte({"A": x}, {"A": np.ones(21, dtype=int)})
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    est, low, high = sv.median_survival(km).get("A")
    assert est == float(np.median(x))
    adsl, adtte = random_tte(rng, n=(60, 60), hr=0.8)
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY", ci_transform="log-log")
    for g in km.groups:
        ids = adsl.loc[adsl["ARM"] == g, "USUBJID"]
        sub = adtte[adtte["USUBJID"].isin(ids)]
        kmf = KaplanMeierFitter().fit(sub["AVAL"], 1 - sub["CNSR"])
        ref = median_survival_times(kmf.confidence_interval_).iloc[0].to_numpy()
        est, low, high = km.median(g)
        assert est == pytest.approx(kmf.median_survival_time_)
        # lifelines returns inf where a bound never reaches 0.5; we return NaN (not estimable)
        np.testing.assert_allclose([low, high], np.where(np.isinf(ref), np.nan, ref))


def test_quantile_25th_and_event_probability(rng):
    adsl, adtte = random_tte(rng)
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    q = sv.survival_quantile(km, 0.25)
    for g in km.groups:
        t25 = q.get(g)[0]
        rows = km.table[km.table["group"] == g]
        assert km.survival_at(g, t25)[0] <= 0.75
        before = rows[rows["time"] < t25]["survival"].min()
        assert before > 0.75
        p, lo, hi = km.event_probability_at(g, 50.0)
        s, slo, shi = km.survival_at(g, 50.0)
        assert (p, lo, hi) == pytest.approx((1 - s, 1 - shi, 1 - slo))


def test_logrank_matches_statsmodels_survdiff(rng):
    adsl, adtte = random_tte(rng)
    res = sv.logrank(adsl, adtte, "PRIMARY")
    merged = adsl.merge(adtte, on="USUBJID")
    stat, p = survdiff(merged["AVAL"], 1 - merged["CNSR"], merged["ARM"])
    assert res.statistic == pytest.approx(stat, rel=1e-9)
    assert res.p_value == pytest.approx(p, rel=1e-9)
    assert res.df == 1
    assert res.table["observed"].sum() == pytest.approx(res.table["expected"].sum())


def test_logrank_three_groups_matches_statsmodels(rng):
    adsl, adtte = random_tte(rng, n=(30, 30))
    adsl.loc[adsl.index[::3], "ARM"] = "Other"
    res = sv.logrank(adsl, adtte, "PRIMARY")
    merged = adsl.merge(adtte, on="USUBJID")
    stat, p = survdiff(merged["AVAL"], 1 - merged["CNSR"], merged["ARM"])
    assert res.df == 2
    assert res.statistic == pytest.approx(stat, rel=1e-9)
    assert res.p_value == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_matches_statsmodels_phreg(rng, ties):
    adsl, adtte = random_tte(rng)
    res = sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", ties=ties)
    assert (res.treatment, res.reference) == ("IL-2", "Control")
    merged = adsl.merge(adtte, on="USUBJID")
    x = (merged["ARM"] == "IL-2").to_numpy(dtype=float)[:, None]
    fit = PHReg(merged["AVAL"].to_numpy(), x, status=1 - merged["CNSR"].to_numpy(), ties=ties).fit()
    assert res.coef == pytest.approx(fit.params[0], abs=1e-6)
    assert res.se == pytest.approx(fit.bse[0], rel=1e-4)
    assert res.p_value == pytest.approx(fit.pvalues[0], rel=1e-3)
    assert res.ci_low < res.hazard_ratio < res.ci_high


def test_cox_ties_agree_without_ties_and_reverse_is_reciprocal(rng):
    times = {"IL-2": rng.permutation(np.arange(1, 30, 2.0)), "Control": np.arange(2, 30, 2.0)}
    events = {k: (rng.uniform(size=len(v)) < 0.7).astype(int) for k, v in times.items()}
    adsl, adtte = make_tte(times, events)
    efron = sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", ties="efron")
    breslow = sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", ties="breslow")
    assert efron.hazard_ratio == pytest.approx(breslow.hazard_ratio, rel=1e-5)
    rev = sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", treatment="Control")
    assert rev.hazard_ratio == pytest.approx(1 / efron.hazard_ratio, rel=1e-5)
    assert rev.p_value == pytest.approx(efron.p_value, rel=1e-4)


def test_rmst_uncensored_equals_sample_mean_and_variance(rng):
    x = rng.integers(1, 50, size=25).astype(float)
    adsl, adtte = make_tte({"A": x, "B": x + 3}, {"A": np.ones(25, int), "B": np.ones(25, int)})
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY", order=["A", "B"])
    res = sv.restricted_mean(km, tau=60.0)
    a = res.table.set_index("group").loc["A"]
    assert a["rmst"] == pytest.approx(x.mean())
    # With no censoring the KM variance of the mean is the plug-in sum (x - mean)^2 / n^2.
    assert a["se"] ** 2 == pytest.approx(np.sum((x - x.mean()) ** 2) / len(x) ** 2)
    assert res.difference == pytest.approx(-3.0)
    tau = 20.0
    res20 = sv.restricted_mean(km, tau=tau)
    assert res20.table.set_index("group").loc["A", "rmst"] == pytest.approx(
        np.minimum(x, tau).mean()
    )


def test_rmst_variance_hand_case_with_censoring():
    # times 2, 3+, 5, 7 ; tau = 8. S: 1 on [0,2), 3/4 on [2,5), 3/8 on [5,7), 0 after 7.
    t = np.array([0.0, 2.0, 3.0, 5.0, 7.0])
    s = np.array([1.0, 0.75, 0.75, 0.375, 0.0])
    n = np.array([4, 4, 3, 2, 1])
    d = np.array([0, 1, 0, 1, 1])
    a5 = 0.375 * 2  # integral of S from 5 to 8
    a2 = 0.75 * 3 + a5
    expected = a2**2 * 1 / (4 * 3) + a5**2 * 1 / (2 * 1)
    assert sv.rmst_variance(t, s, n, d, 8.0) == pytest.approx(expected)
    adsl, adtte = make_tte({"A": t[1:]}, {"A": np.array([1, 0, 1, 1])})
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    res = sv.restricted_mean(km, 8.0).table.iloc[0]
    assert res["rmst"] == pytest.approx(2 + 0.75 * 3 + a5)
    assert res["se"] ** 2 == pytest.approx(expected)


def test_numbers_at_risk_hand_count(rng):
    adsl, adtte = random_tte(rng)
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    times = [0, 12, 48, 96]
    nar = sv.numbers_at_risk(km, times)
    merged = adsl.merge(adtte, on="USUBJID")
    for g in km.groups:
        aval = merged.loc[merged["ARM"] == g, "AVAL"]
        assert nar.loc[g].tolist() == [int((aval >= t).sum()) for t in times]


def test_estimand_and_population_from_adsl(rng):
    adsl, adtte = random_tte(rng)
    sub = adsl.iloc[:30]
    km = sv.kaplan_meier(sub, adtte, "PRIMARY", intercurrent="composite")
    assert sum(km.n) == 30
    text = km.estimand.describe()
    assert "composite" in text and "PRIMARY" in text


def test_bad_input_messages(rng):
    adsl, adtte = random_tte(rng)
    with pytest.raises(AnalysisInputError, match="adtte: missing column"):
        sv.kaplan_meier(adsl, adtte.drop(columns="CNSR"), "PRIMARY")
    dup = pd.concat([adtte, adtte.iloc[[0]]])
    with pytest.raises(AnalysisInputError, match="one record per subject"):
        sv.kaplan_meier(adsl, dup, "PRIMARY")
    with pytest.raises(AnalysisInputError, match="non-missing AVAL"):
        sv.kaplan_meier(adsl, adtte.iloc[1:], "PRIMARY")
    bad = adtte.copy()
    bad.loc[3, "CNSR"] = 2
    with pytest.raises(AnalysisInputError, match="CNSR must be 0"):
        sv.logrank(adsl, bad, "PRIMARY")


def test_cox_with_covariates_matches_statsmodels(rng):
    adsl, adtte = random_tte(rng, n=(60, 60))
    adsl = adsl.assign(AGE=rng.normal(40, 10, len(adsl)), MALE=rng.integers(0, 2, len(adsl)))
    res = sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", covariates=["AGE", "MALE"])
    m = adsl.merge(adtte, on="USUBJID")
    x = np.column_stack([(m["ARM"] == "IL-2").to_numpy(float), m["AGE"], m["MALE"]])
    fit = PHReg(m["AVAL"].to_numpy(), x, status=1 - m["CNSR"].to_numpy(), ties="efron").fit()
    assert res.coef == pytest.approx(fit.params[0], abs=1e-6)
    assert res.se == pytest.approx(fit.bse[0], rel=1e-4)
    assert "adjusted for AGE, MALE" in res.estimand.summary_measure
    with pytest.raises(AnalysisInputError, match="missing column"):
        sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", covariates=["WEIGHT"])


def test_median_midpoint_rule_matches_sample_median_for_even_n(rng):
    x = rng.permutation(np.arange(1, 21, dtype=float))  # 20 distinct times: S = 0.5 after 10
    adsl, adtte = make_tte({"A": x}, {"A": np.ones(20, dtype=int)})
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    assert sv.median_survival(km).get("A")[0] == 10.0
    assert sv.median_survival(km, rule="midpoint").get("A")[0] == float(np.median(x))


# --- guards: nothing is extrapolated beyond an arm's last follow-up -------------------------


def _two_arms(a_times, a_events, b_times, b_events):
    return make_tte(
        {"A": np.asarray(a_times, float), "B": np.asarray(b_times, float)},
        {"A": np.asarray(a_events), "B": np.asarray(b_events)},
    )


def test_survival_past_last_followup_is_nan_with_a_reason():
    # Arm B is followed only to week 30 (censored there); A to week 150.
    adsl, adtte = _two_arms([10, 40, 150, 150], [1, 1, 0, 0], [5, 20, 30, 30], [1, 0, 0, 0])
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    s, low, high = km.survival_at("B", 150)
    assert np.isnan(s) and np.isnan(low) and np.isnan(high)
    est = km.survival_estimate("B", 150)
    assert not est.estimable and est.reason == "beyond the last follow-up of B (30)"
    assert km.survival_at("B", 30)[0] == pytest.approx(0.75)  # at the last time: defined
    assert km.survival_at("A", 150)[0] == pytest.approx(0.5)
    p = sv.survival_quantile(km, 0.5).table.set_index("group")
    assert np.isnan(p.at["B", "estimate"]) and "not reached" in p.at["B", "reason"]
    assert p.at["A", "reason"] == ""
    rmst = sv.restricted_mean(km, 100)
    table = rmst.table.set_index("group")
    assert np.isnan(table.at["B", "rmst"]) and "last follow-up" in table.at["B", "reason"]
    assert np.isfinite(table.at["A", "rmst"])
    assert np.isnan(rmst.difference) and rmst.diff_reason.startswith("B: beyond")


def test_a_curve_that_reached_zero_stays_zero():
    adsl, adtte = _two_arms([1, 2, 3], [1, 1, 1], [4, 5, 6], [1, 0, 1])
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    assert km.survival_at("A", 100) == (0.0, 0.0, 0.0)
    assert km.survival_estimate("A", 100).estimable
    assert km.survival_at("B", 100)[0] == 0.0  # the last time is an event that empties B


def test_event_probability_past_followup_is_nan():
    adsl, adtte = _two_arms([1, 10], [1, 0], [2, 20], [0, 0])
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    assert all(np.isnan(v) for v in km.event_probability_at("A", 11))


followup = st.lists(st.tuples(st.integers(1, 60), st.booleans()), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(data=followup, t=st.floats(-5, 120, allow_nan=False))
def test_step_function_properties(data, t):
    times = np.array([x for x, _ in data], float)
    events = np.array([int(e) for _, e in data])
    adsl, adtte = make_tte({"A": times}, {"A": events})
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    s = km.survival_at("A", t)[0]
    hand = _hand_km(times, events)
    last = times.max()
    if t > last and hand.iloc[-1] > 0:
        assert np.isnan(s)  # the guard: never carried forward
        assert "last follow-up" in km.not_estimable("A", t)
        return
    # Right-continuous step function: S(t) = product over event times <= t.
    expected = float(hand[hand.index <= t].iloc[-1]) if (hand.index <= t).any() else 1.0
    assert s == pytest.approx(expected, abs=1e-12)
    # Monotone: never higher than at an earlier time.
    assert s <= km.survival_at("A", min(t, last) - 0.5)[0] + 1e-12


@settings(max_examples=40, deadline=None)
@given(data=followup, tau=st.floats(1, 90, allow_nan=False), p=st.floats(0.05, 0.95))
def test_quantile_and_rmst_guards(data, tau, p):
    times = np.array([x for x, _ in data], float)
    events = np.array([int(e) for _, e in data])
    adsl, adtte = make_tte({"A": times}, {"A": events})
    km = sv.kaplan_meier(adsl, adtte, "PRIMARY")
    q = sv.survival_quantile(km, p).table.iloc[0]
    # A quantile is either a time within follow-up or NaN with the reason.
    if np.isnan(q["estimate"]):
        assert q["reason"].startswith("not reached")
    else:
        assert q["reason"] == "" and q["estimate"] <= times.max()
    r = sv.restricted_mean(km, tau).table.iloc[0]
    if np.isnan(r["rmst"]):
        assert tau > times.max() and r["reason"]
    else:
        assert 0 <= r["rmst"] <= tau + 1e-12


# --- stratified Cox ---------------------------------------------------------------------------


def _with_strata(rng, adsl: pd.DataFrame) -> pd.DataFrame:
    return adsl.assign(SITE=rng.choice(["north", "south", "east"], size=len(adsl)))


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_stratified_cox_matches_statsmodels(rng, ties):
    adsl, adtte = random_tte(rng, n=(70, 70), hr=0.6)
    adsl = _with_strata(rng, adsl)
    res = sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", ties=ties, strata="SITE")
    m = adsl.merge(adtte, on="USUBJID")
    x = (m["ARM"] == "IL-2").to_numpy(float)[:, None]
    fit = PHReg(
        m["AVAL"].to_numpy(),
        x,
        status=1 - m["CNSR"].to_numpy(),
        ties=ties,
        strata=m["SITE"].to_numpy(),
    ).fit()
    assert res.coef == pytest.approx(fit.params[0], abs=1e-6)
    assert res.se == pytest.approx(fit.bse[0], abs=1e-6)
    assert res.strata == ("SITE",)
    assert "stratified by SITE" in res.estimand.summary_measure


def test_stratified_cox_matches_lifelines(rng):
    from lifelines import CoxPHFitter

    adsl, adtte = random_tte(rng, n=(60, 60), hr=0.7)
    adsl = _with_strata(rng, adsl)
    res = sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", strata=["SITE"])
    m = adsl.merge(adtte, on="USUBJID")
    df = pd.DataFrame(
        {
            "x": (m["ARM"] == "IL-2").astype(float),
            "T": m["AVAL"],
            "E": 1 - m["CNSR"],
            "SITE": m["SITE"],
        }
    )
    cph = CoxPHFitter(strata=["SITE"]).fit(df, "T", "E")
    assert res.coef == pytest.approx(cph.params_["x"], abs=1e-5)
    assert res.se == pytest.approx(cph.standard_errors_["x"], abs=1e-5)


def test_strata_differ_from_unstratified_and_need_complete_columns(rng):
    adsl, adtte = random_tte(rng)
    adsl = _with_strata(rng, adsl)
    a = sv.cox_hazard_ratio(adsl, adtte, "PRIMARY")
    b = sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", strata="SITE")
    assert a.coef != b.coef
    adsl.loc[0, "SITE"] = ""
    with pytest.raises(AnalysisInputError, match="SITE: rule: Cox strata must be complete"):
        sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", strata="SITE")
    with pytest.raises(AnalysisInputError):
        sv.cox_hazard_ratio(adsl, adtte, "PRIMARY", strata="NOPE")
