"""Each claim's reproduction equals an independent, direct computation on the same tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from scipy import stats

from anrs119 import ARMS
from anrs119.data import Dataset
from anrs119.design import trial_design
from anrs119.published import results
from anrs119.reproduce import (
    DEFERRAL_QUANTILE,
    Reproducer,
    primary_test_name,
)
from tests.adam_samples import valid_tables

SUFFIX = {"IL-2": "il2", "Control": "control"}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    tables = valid_tables(np.random.default_rng(11), n_per_arm=40, n_ae=60)
    tables["adsl"]["BVLLOG"] = np.linspace(3.0, 5.5, len(tables["adsl"])).round(2)
    return Dataset(**tables, source="test tables", is_synthetic=True, path=None)


@pytest.fixture(scope="module")
def reproduced(dataset: Dataset) -> dict:
    return Reproducer(dataset).all()


def arm_rows(dataset: Dataset, paramcd: str) -> pd.DataFrame:
    tte = dataset.adtte[dataset.adtte["PARAMCD"] == paramcd]
    return tte.merge(dataset.adsl[["USUBJID", "ARM", "BVLLOG"]], on="USUBJID")


def test_every_result_claim_is_reproduced(reproduced: dict) -> None:
    assert set(results().index) == set(reproduced)


def test_primary_proportions_and_test(dataset: Dataset, reproduced: dict) -> None:
    week = trial_design().primary_week
    rows = arm_rows(dataset, "PRIMARY")
    events, totals = [], []
    for arm in ARMS:
        mine = rows[rows["ARM"] == arm]
        k = int(((mine["CNSR"] == 0) & (mine["AVAL"] <= week)).sum())
        events.append(k)
        totals.append(len(mine))
        assert reproduced[f"primary_w96_{SUFFIX[arm]}"].value == pytest.approx(100 * k / len(mine))
    table = [[events[0], totals[0] - events[0]], [events[1], totals[1] - events[1]]]
    expected = {
        "fisher": stats.fisher_exact(table).pvalue,
        "chi2": stats.chi2_contingency(table, correction=False).pvalue,
        "chi2_yates": stats.chi2_contingency(table, correction=True).pvalue,
    }[primary_test_name()]
    assert reproduced["primary_w96_p"].value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("paramcd", "key"), [("CD4", "cd4_change_w96"), ("VLLOG", "vl_change_w96")]
)
def test_median_changes_off_art(dataset: Dataset, reproduced: dict, paramcd: str, key: str) -> None:
    week = trial_design().primary_week
    lab = dataset.adlb[
        (dataset.adlb["PARAMCD"] == paramcd)
        & (dataset.adlb["AVISITN"] == week)
        & (dataset.adlb["ONART"] == "N")
    ].merge(dataset.adsl[["USUBJID", "ARM"]], on="USUBJID")
    samples = {
        arm: (lab.loc[lab["ARM"] == arm, "AVAL"] - lab.loc[lab["ARM"] == arm, "BASE"])
        for arm in ARMS
    }
    for arm in ARMS:
        assert reproduced[f"{key}_{SUFFIX[arm]}"].value == pytest.approx(np.median(samples[arm]))
    p = stats.mannwhitneyu(*samples.values(), method="asymptotic").pvalue
    assert reproduced[f"{key}_p"].value == pytest.approx(p)


def test_subgroup_km_and_deferral(dataset: Dataset, reproduced: dict) -> None:
    design = trial_design()
    for paramcd in ("PRIMARY", "ARTINIT"):
        rows = arm_rows(dataset, paramcd)
        rows = rows[rows["BVLLOG"] < design.subgroup_vl_cutoff]
        quantiles = {}
        for arm in ARMS:
            mine = rows[rows["ARM"] == arm]
            fitter = KaplanMeierFitter().fit(mine["AVAL"], 1 - mine["CNSR"])
            if paramcd == "PRIMARY":
                curve = fitter.survival_function_.iloc[:, 0]
                free = float(curve[curve.index <= design.subgroup_week].iloc[-1])
                value = reproduced[f"lowvl_free_w150_{SUFFIX[arm]}"].value
                if mine["AVAL"].max() < design.subgroup_week and free > 0:
                    # The arm's follow-up ends before the week: not estimable, not carried on.
                    assert math.isnan(value)
                else:
                    assert value == pytest.approx(100 * free)
            else:
                curve = fitter.survival_function_.iloc[:, 0]
                reached = curve[curve <= 1 - DEFERRAL_QUANTILE + 1e-12]
                quantiles[arm] = float(reached.index[0]) if len(reached) else math.inf
        if paramcd == "ARTINIT":
            expected = quantiles["IL-2"] - quantiles["Control"]
            value = reproduced["lowvl_art_deferral"].value
            assert value == pytest.approx(expected) or (
                math.isinf(expected) and not math.isfinite(value)
            )


def test_missing_death_records_give_an_explicit_not_computed(reproduced: dict) -> None:
    death = reproduced["safety_death_similar"]
    assert math.isnan(death.value)
    assert "DEATH" in death.detail


def test_grade34_counts(dataset: Dataset, reproduced: dict) -> None:
    adae = dataset.adae[(dataset.adae["AETOXGR"].isin([3, 4])) & (dataset.adae["ASTWK"] <= 96)]
    hit = dataset.adsl["USUBJID"].isin(adae["USUBJID"])
    table = [
        [
            int((hit & (dataset.adsl["ARM"] == arm)).sum()),
            int((~hit & (dataset.adsl["ARM"] == arm)).sum()),
        ]
        for arm in ARMS
    ]
    assert reproduced["safety_grade34_similar"].value == pytest.approx(
        stats.fisher_exact(table).pvalue
    )


def test_the_book_reads_the_embedded_trial_as_the_model_summarised_it() -> None:
    """The reconstruction was searched with the model's own claims kernel; the book's ADaM
    analyses must give the same numbers, or the two define the claims differently."""
    import json

    from anrs119.data import load_dataset

    dataset = load_dataset()
    recorded = json.loads((dataset.path / "provenance.json").read_text(encoding="utf-8"))
    reproduced = Reproducer(dataset).all()
    mismatched = {}
    compared = [k for k in recorded["reconstruction"] if k in reproduced]
    assert len(compared) >= 9, compared
    for claim_id in compared:
        value = recorded["reconstruction"][claim_id]
        mine = reproduced[claim_id].value
        tolerance = {"rel": 1e-6, "abs": 1e-6}
        if mine != pytest.approx(value, **tolerance):
            mismatched[claim_id] = (mine, value)
    assert not mismatched, f"book vs model summaries: {mismatched}"


def test_sap_rows_follow_the_registry_and_the_readings_in_use() -> None:
    """One SAP row per claim group of the registry, in its order, and the rows change with the
    reading: the Kaplan-Meier reading names its censoring and its log-rank test."""
    from anrs119.data import load_dataset
    from anrs119.reproduce import Readings, Reproducer

    # one row per claim group; the safety group has one row per statement
    claims = results()
    groups = [
        g
        for cid, g in zip(claims.index, claims["claim"], strict=True)
        for g in ([cid] if g == "safety" else [g])
    ]
    default = Reproducer(load_dataset()).sap()
    assert [s.claim for s in default] == list(dict.fromkeys(groups))
    km = {s.claim: s for s in Reproducer(load_dataset(), readings=Readings(proportion="km")).sap()}
    assert km["primary_w96"].test == "log-rank through week 96"
    assert km["primary_w96"].missing_data.startswith("Kaplan-Meier: censored")
    assert "(km)" in km["primary_w96"].summary_measure
    observed = {
        s.claim: s for s in Reproducer(load_dataset(), readings=Readings(change="observed")).sap()
    }
    assert "no value at week" in observed["cd4_change_w96"].missing_data
    assert "treatment policy" in str(observed["cd4_change_w96"].intercurrent)
    other = {
        s.claim: s for s in Reproducer(load_dataset(), readings=Readings(deferral="km_rmst")).sap()
    }
    assert "restricted mean" in other["lowvl_art_deferral"].summary_measure


def test_the_sap_counts_an_arm_with_no_patient_as_zero() -> None:
    from anrs119.reproduce import _n_text

    adsl = pd.DataFrame({"ARM": [ARMS[0]] * 3})
    assert _n_text(adsl) == f"{ARMS[0]} n=3, {ARMS[1]} n=0"
