"""External validation: helpers reproduce published results on real trials (issue #6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anrs119 import validation as v
from anrs119.analysis import survival

REFS = v.load_references()


@pytest.fixture(scope="module")
def comparison() -> pd.DataFrame:
    return v.compare(REFS)


@pytest.mark.parametrize(
    "key", [tuple(r) for r in REFS[["trial", "quantity", "arm"]].itertuples(index=False)]
)
def test_reference_reproduced_within_tolerance(comparison, key):
    trial, quantity, arm = key
    row = comparison[
        (comparison["trial"] == trial)
        & (comparison["quantity"] == quantity)
        & (comparison["arm"] == arm)
    ].iloc[0]
    assert row["ok"], row.to_dict()


def test_references_cover_three_trials_and_r_stratified_example_with_sources():
    assert set(REFS["trial"]) == {"freireich", "glioma_g3", "gbsg2", "survival_test1"}
    assert REFS["source_key"].str.len().min() > 0
    assert REFS["convention"].str.len().min() > 0


def test_freireich_arm_coding_matches_published_design():
    # 6-MP arm: 21 patients, 9 relapses, 12 censored; placebo: 21 relapses, none censored.
    trial = v.freireich_leukemia()
    m = trial.adsl.merge(trial.adtte, on="USUBJID")
    by_arm = m.groupby("ARM")["CNSR"].agg(["size", "sum"])
    assert by_arm.loc["6-MP"].tolist() == [21, 12]
    assert by_arm.loc["Placebo"].tolist() == [21, 0]


def test_swapped_arm_coding_is_caught():
    trial = v.freireich_leukemia()
    swapped = trial.adsl.assign(ARM=trial.adsl["ARM"].map({"6-MP": "Placebo", "Placebo": "6-MP"}))
    km = survival.kaplan_meier(swapped, trial.adtte, trial.paramcd, ci_transform="log-log")
    ref = REFS[(REFS["quantity"] == "km_survival_loglog_at_6") & (REFS["arm"] == "6-MP")].iloc[0]
    assert abs(km.survival_at("6-MP", 6)[0] - ref["value"]) > ref["tolerance"]


def test_conventions_matter_ties_and_ci_transform():
    trial = v.freireich_leukemia()
    ref = REFS[REFS["quantity"] == "cox_hr_efron"].iloc[0]
    breslow = survival.cox_hazard_ratio(
        trial.adsl, trial.adtte, trial.paramcd, treatment="Placebo", ties="breslow"
    )
    assert abs(breslow.hazard_ratio - ref["value"]) > ref["tolerance"]
    km_log = survival.kaplan_meier(trial.adsl, trial.adtte, trial.paramcd, ci_transform="log")
    ref_km = REFS[(REFS["quantity"] == "km_survival_loglog_at_13")].iloc[0]
    assert abs(km_log.survival_at("6-MP", 13)[1] - ref_km["ci_low"]) > ref_km["tolerance"]
    gb = v.gbsg2()
    unadjusted = survival.cox_hazard_ratio(gb.adsl, gb.adtte, gb.paramcd)
    ref_gb = REFS[REFS["quantity"] == "cox_hr_efron_adjusted"].iloc[0]
    assert abs(unadjusted.hazard_ratio - ref_gb["value"]) > ref_gb["tolerance"]


def test_to_adam_shape_and_errors():
    raw = pd.DataFrame({"t": [3.0, 5.0], "e": [1, 0], "g": ["a", "b"]})
    adsl, adtte = v.to_adam(
        raw,
        study="X",
        time_col="t",
        event_col="e",
        arm_col="g",
        arm_labels={"a": "A", "b": "B"},
        paramcd="P",
        time_unit="days",
    )
    assert adsl["ARM"].tolist() == ["A", "B"]
    assert adtte["CNSR"].tolist() == [0, 1]
    assert adtte["AVAL"].tolist() == pytest.approx([3 / 7, 5 / 7])
    with pytest.raises(v.ValidationError, match="not in arm_labels"):
        v.to_adam(
            raw,
            study="X",
            time_col="t",
            event_col="e",
            arm_col="g",
            arm_labels={"a": "A"},
            paramcd="P",
        )
    with pytest.raises(v.ValidationError, match="missing column"):
        v.to_adam(
            raw,
            study="X",
            time_col="time",
            event_col="e",
            arm_col="g",
            arm_labels={"a": "A", "b": "B"},
            paramcd="P",
        )


def test_load_references_rejects_bad_rows(tmp_path: Path):
    bad = REFS.copy()
    bad.loc[0, "tolerance"] = 0
    p = tmp_path / "references.csv"
    bad.to_csv(p, index=False)
    with pytest.raises(v.ValidationError, match="row 2, column tolerance"):
        v.load_references(p)
    bad = REFS.copy()
    bad.loc[3, "trial"] = "unknown_trial"
    bad.to_csv(p, index=False)
    with pytest.raises(v.ValidationError, match="row 5, column trial"):
        v.load_references(p)
    REFS.drop(columns="convention").to_csv(p, index=False)
    with pytest.raises(v.ValidationError, match="missing column"):
        v.load_references(p)


def test_stratified_cox_matches_r_published_example():
    cmp = v.compare(trials=["survival_test1"])
    assert cmp["ok"].all(), cmp
    assert "coxcov_coef_efron" in set(cmp["quantity"])


def test_stratified_cox_ignores_the_stratum_effect():
    # Each stratum has its own baseline: adding a constant shift of risk in one stratum (by
    # multiplying its times) must not move the stratified estimate; it moves the pooled one.
    trial = v.survival_test1()
    m = trial.adsl.merge(trial.adtte, on="USUBJID")
    t, e, x = m["AVAL"].to_numpy(), (m["CNSR"] == 0).to_numpy(int), m["X"].to_numpy()
    s = m["SEX"].to_numpy()
    stretched = np.where(s == "1", t * 10, t)
    a = survival.cox_fit(t, e, x, strata=s)[0]
    b = survival.cox_fit(stretched, e, x, strata=s)[0]
    assert abs(a - b) < 1e-9


def test_cross_checks_gbsg2_logrank_medians_and_stratified_cox():
    checks = v.cross_checks()
    assert checks["ok"].all(), checks
    assert {"logrank_chisq", "logrank_p", "km_median", "cox_hr_efron_strata"} <= set(
        checks["quantity"]
    )


def test_no_reference_is_coursework_and_gbsg2_logrank_is_cross_checked():
    """Issue #24: coursework is not a source. The GBSG2 log-rank has no citable printed R
    output, so it has no reference row; it is checked against statsmodels instead."""
    raw = pd.read_csv(v.REFERENCES_PATH, dtype=str, keep_default_na=False)
    for text in ("homework", "coursework", "regression_II"):
        assert not raw["source_detail"].str.contains(text, case=False).any(), text
    gbsg2 = raw[(raw["trial"] == "gbsg2") & raw["quantity"].str.startswith("logrank_")]
    assert gbsg2.empty
    checks = v.cross_checks()
    assert {"logrank_chisq", "logrank_p"} <= set(checks["quantity"]) and checks["ok"].all()
