"""Safety helpers on a hand-built ADaM fixture: counts per patient, worst grade, Fisher P."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anrs119.analysis import safety
from anrs119.analysis._common import AnalysisInputError

ADSL = pd.DataFrame({"USUBJID": [f"S{i}" for i in range(8)], "ARM": ["IL-2"] * 4 + ["Control"] * 4})
ADAE = pd.DataFrame(
    {
        "USUBJID": ["S0", "S0", "S0", "S1", "S4", "S4", "S5"],
        "AEDECOD": ["Fever", "Chills", "Fatigue", "Rash", "Fever", "Fever", "Anaemia"],
        "AEBODSYS": ["General", "General", "General", "Skin", "General", "General", "Blood"],
        "AETOXGR": [2, 3, 1, 4, 1, 2, 3],
        "ASTWK": [1, 1, 9, 17, 5, 30, 40],
    }
)
ADTTE = pd.DataFrame(
    {
        "USUBJID": [f"S{i}" for i in range(8)],
        "PARAMCD": "AIDSDTH",
        "AVAL": [50.0, 96, 96, 120, 30, 96, 96, 96],
        "CNSR": [0, 1, 1, 0, 0, 1, 1, 1],
    }
)


def test_grade34_counts_each_patient_once():
    res = safety.patients_with_ae(ADSL, ADAE)
    t = res.table.set_index("group")
    assert t.loc["IL-2", "patients"] == 2  # S0 (grade 3) and S1 (grade 4)
    assert t.loc["Control", "patients"] == 1  # S5
    # two-sided Fisher for [[2, 2], [1, 3]]: both tables as or less likely than observed
    pmf = stats.hypergeom.pmf(np.arange(4), 8, 3, 4)
    p_obs = stats.hypergeom.pmf(2, 8, 3, 4)
    assert res.fisher_p == pytest.approx(pmf[pmf <= p_obs * (1 + 1e-7)].sum())
    assert "grade 3-4" in res.estimand.describe()


def test_tte_event_counts_with_and_without_week_cutoff():
    all_fu = safety.patients_with_tte_event(ADSL, ADTTE).table.set_index("group")
    assert all_fu["patients"].to_dict() == {"IL-2": 2, "Control": 1}
    by96 = safety.patients_with_tte_event(ADSL, ADTTE, by_week=96).table.set_index("group")
    assert by96["patients"].to_dict() == {"IL-2": 1, "Control": 1}


def test_ae_table_worst_grade_per_soc():
    res = safety.ae_table(ADSL, ADAE)
    t = res.table.set_index(["AEBODSYS", "grade", "group"])["patients"]
    assert t[("General", 3, "IL-2")] == 1  # S0 counted once, at grade 3
    assert t[("General", 2, "IL-2")] == 0
    assert t[("General", 2, "Control")] == 1  # S4: worst grade 2
    assert t[("General", 1, "Control")] == 0
    assert t[("Skin", 4, "IL-2")] == 1
    # every patient appears once per SOC
    assert res.table["patients"].sum() == ADAE.groupby(["USUBJID", "AEBODSYS"]).ngroups
    assert res.table["n"].unique().tolist() == [4]
    wide = res.wide()
    assert wide.loc["Skin", ("IL-2", 4)] == "1 (25%)"


def test_bad_inputs():
    with pytest.raises(AnalysisInputError, match="AETOXGR"):
        safety.patients_with_ae(ADSL, ADAE.assign(AETOXGR=7))
    with pytest.raises(AnalysisInputError, match="not in ADSL"):
        safety.ae_table(ADSL.iloc[1:], ADAE)


def _counts(k1: int, n1: int, k2: int, n2: int) -> safety.PatientCountResult:
    adsl = pd.DataFrame(
        {"USUBJID": [f"S{i}" for i in range(n1 + n2)], "ARM": ["IL-2"] * n1 + ["Control"] * n2}
    )
    hit = [f"S{i}" for i in range(k1)] + [f"S{n1 + i}" for i in range(k2)]
    tte = pd.DataFrame(
        {
            "USUBJID": adsl["USUBJID"],
            "PARAMCD": "AIDSDTH",
            "AVAL": 50.0,
            "CNSR": [0 if s in hit else 1 for s in adsl["USUBJID"]],
        }
    )
    return safety.patients_with_tte_event(adsl, tte)


def test_compare_incidence_reports_difference_ratio_and_detectable_difference():
    from statsmodels.stats.proportion import confint_proportions_2indep

    res = safety.compare_incidence(_counts(2, 66, 3, 64))
    assert res.patients == (2, 3) and res.n == (66, 64)
    low, high = confint_proportions_2indep(2, 66, 3, 64, method="newcomb", compare="diff")
    assert (res.rd_ci_low, res.rd_ci_high) == pytest.approx((float(low), float(high)))
    assert res.risk_ratio == pytest.approx((2 / 66) / (3 / 64))
    assert res.rr_ci_low < res.risk_ratio < res.rr_ci_high
    assert not res.difference_detected
    assert res.detectable_difference > 0.1  # a handful of events: only large differences show


def test_compare_incidence_detects_a_real_difference_and_leaves_undefined_ratios_nan():
    res = safety.compare_incidence(_counts(30, 66, 3, 64))
    assert res.difference_detected and res.rd_ci_low > 0
    none_in_control = safety.compare_incidence(_counts(1, 66, 0, 64))
    assert np.isnan(none_in_control.risk_ratio) and not none_in_control.difference_detected
