"""Tests of the embedded realisation: byte-identical regeneration, valid ADaM, and results that
an independent computation from the CSVs reproduces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from scipy import stats

from anrs119 import ARMS
from anrs119.data import load_dataset
from anrs119.model import generate_data, realize
from anrs119.model.parameters import default_parameters
from anrs119.model.realize import (
    IL2_REACTIONS,
    ClaimSpec,
    distance,
    outside_tolerance,
)
from anrs119.paths import MODEL_DIR, SYNTHETIC_DIR
from anrs119.published import claim_value

FILES = ("adsl.csv", "adlb.csv", "adtte.csv", "adae.csv", "provenance.json")
MODEL_FILES = ("predictive.csv", "predictive_checks.csv", "sensitivity.csv", "calibration.json")


@pytest.fixture(scope="module")
def provenance() -> dict:
    return json.loads((SYNTHETIC_DIR / "provenance.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_csv(SYNTHETIC_DIR / f"{name}.csv", keep_default_na=False, na_values=[""])
        for name in ("adsl", "adlb", "adtte", "adae")
    }


@pytest.mark.slow
def test_generate_data_regenerates_the_committed_files_byte_identically(tmp_path: Path):
    out = tmp_path / "synthetic"
    model = tmp_path / "model"
    written = generate_data(progress=False, folder=out, model_dir=model)
    assert {p.name for p in written} == {*FILES, *MODEL_FILES}
    for name in FILES:
        assert (out / name).read_bytes() == (SYNTHETIC_DIR / name).read_bytes(), name
    for name in MODEL_FILES:
        assert (model / name).read_bytes() == (MODEL_DIR / name).read_bytes(), name


def test_committed_tables_pass_the_adam_schema():
    ds = load_dataset(SYNTHETIC_DIR)
    assert ds.is_synthetic
    assert len(ds.adsl) == claim_value("n_randomized")


def test_provenance_records_seed_parameters_and_targets(provenance):
    assert provenance["synthetic"] is True
    params = default_parameters().values()
    for name, value in params.items():
        assert provenance["parameters"][name] == pytest.approx(value, abs=1e-6), name
    assert set(provenance["calibration_targets"]) <= set(provenance["realization"])
    # The count is a recorded fact about the chosen draw, not a promise that it is zero: under
    # the posterior model even the best of the candidates misses some claims (issue #12
    # replaces the selection by an exact reconstruction). It must agree with the values.
    specs = realize.claim_specs(numeric=False)
    realised = {k: np.array([v]) for k, v in provenance["realization"].items()}
    misses = sum(bool(realize.outside_tolerance(realised, s)[0]) for s in specs)
    assert provenance["n_claims_outside_tolerance"] == misses


def test_arm_sizes_are_the_forensic_allocation(tables):
    params = default_parameters()
    counts = tables["adsl"]["ARM"].value_counts()
    assert counts[ARMS[0]] == params["n_il2"]
    assert counts[ARMS[1]] == params["n_control"]
    assert tables["adsl"]["USUBJID"].str.fullmatch(r"ANRS119-SYNTH-\d{3}").all()


def test_independent_recomputation_matches_the_recorded_summaries(tables, provenance):
    """Primary proportions, median changes, subgroup KM and the deferral from the CSVs alone."""
    adsl, adlb, adtte = tables["adsl"], tables["adlb"], tables["adtte"]
    rec = provenance["realization"]
    prim = adtte[adtte["PARAMCD"] == "PRIMARY"].merge(adsl, on="USUBJID")
    for arm, key in zip(ARMS, ("primary_w96_il2", "primary_w96_control"), strict=True):
        s = prim[prim["ARM"] == arm]
        assert 100 * ((s["CNSR"] == 0) & (s["AVAL"] <= 96)).mean() == pytest.approx(rec[key])
    w96 = adlb[(adlb["AVISITN"] == 96) & (adlb["ONART"] == "N")].merge(adsl[["USUBJID", "ARM"]])
    for code, claim in (("CD4", "cd4_change_w96"), ("VLLOG", "vl_change_w96")):
        x = w96[w96["PARAMCD"] == code]
        a = x[x["ARM"] == ARMS[0]]["CHG"]
        b = x[x["ARM"] == ARMS[1]]["CHG"]
        assert a.median() == pytest.approx(rec[f"{claim}_il2"], abs=1e-9)
        assert b.median() == pytest.approx(rec[f"{claim}_control"], abs=1e-9)
        p = stats.mannwhitneyu(a, b, method="asymptotic").pvalue
        assert p == pytest.approx(rec[f"{claim}_p"], rel=1e-3, abs=1e-6)
    low = prim[prim["BVLLOG"] < claim_value("subgroup_vl_cutoff")]
    art = adtte[adtte["PARAMCD"] == "ARTINIT"].merge(adsl, on="USUBJID")
    art = art[art["BVLLOG"] < claim_value("subgroup_vl_cutoff")]
    q25 = {}
    for arm, key in zip(ARMS, ("lowvl_free_w150_il2", "lowvl_free_w150_control"), strict=True):
        s = low[low["ARM"] == arm]
        km = KaplanMeierFitter().fit(s["AVAL"], s["CNSR"] == 0)
        assert 100 * float(km.predict(150.0)) == pytest.approx(rec[key], abs=1e-4)
        a = art[art["ARM"] == arm]
        sf = KaplanMeierFitter().fit(a["AVAL"], a["CNSR"] == 0).survival_function_.iloc[:, 0]
        q25[arm] = float(sf.index[sf.to_numpy() <= 0.75 + 1e-12][0])
    assert q25[ARMS[0]] - q25[ARMS[1]] == pytest.approx(rec["lowvl_art_deferral"])


def test_safety_claims_hold_on_the_embedded_trial(tables, provenance):
    """Deaths (DEATH rows), AIDS-defining events and grade 3-4 events: no difference at the
    registry's level, recomputed from the CSVs with scipy."""
    adsl, adtte, adae = tables["adsl"], tables["adtte"], tables["adae"]
    week = claim_value("primary_timepoint_weeks")
    arms = adsl.set_index("USUBJID")["ARM"]

    def fisher(subjects) -> float:
        hit = arms.index.isin(set(subjects))
        k = [int((hit & (arms == a)).sum()) for a in ARMS]
        n = [int((arms == a).sum()) for a in ARMS]
        return float(stats.fisher_exact([[k[0], n[0] - k[0]], [k[1], n[1] - k[1]]]).pvalue)

    death = adtte[(adtte["PARAMCD"] == "DEATH") & (adtte["CNSR"] == 0) & (adtte["AVAL"] <= week)]
    aids = adtte[
        (adtte["PARAMCD"] == "AIDSDTH")
        & (adtte["EVNTDESC"] == "AIDS-defining event")
        & (adtte["AVAL"] <= week)
    ]
    g34 = adae[adae["AETOXGR"].isin([3, 4]) & (adae["ASTWK"] <= week)]
    rec = provenance["realization"]
    for key, subjects in (
        ("safety_death_similar", death["USUBJID"]),
        ("safety_aids_similar", aids["USUBJID"]),
        ("safety_grade34_similar", g34["USUBJID"]),
    ):
        p = fisher(subjects)
        assert p == pytest.approx(rec[key], abs=1e-6), key
        assert p >= 0.05, key
    assert (adtte["PARAMCD"] == "DEATH").sum() == len(adsl)


def test_adverse_events_il2_reactions_only_with_il2_and_grade34_in_both_arms(tables):
    ae = tables["adae"].merge(tables["adsl"][["USUBJID", "ARM"]], on="USUBJID")
    reactions = {t for t, _, _ in IL2_REACTIONS}
    assert set(ae.loc[ae["AEDECOD"].isin(reactions), "ARM"]) == {ARMS[0]}
    severe = ae[ae["AETOXGR"] >= 3]
    assert set(severe["ARM"]) == set(ARMS)


def test_distance_is_zero_on_the_claims_and_bounds_cost_nothing_when_met():
    specs = (
        ClaimSpec("a", 35.0, "=", False, "abs", 5.0),
        ClaimSpec("p", 0.001, "<", True, "p", 0.05),
    )
    s = {"a": np.array([35.0, 40.0, 30.0]), "p": np.array([1e-4, 1e-5, 0.01])}
    d = distance(s, specs)
    assert d[0] == 0.0
    assert d[1] == pytest.approx(d[2] - ((np.log10(0.01) + 3) / np.std(np.log10(s["p"]))) ** 2)
    assert outside_tolerance(s, specs[0]).tolist() == [False, False, False]
    assert outside_tolerance({"a": np.array([41.0])}, specs[0]).tolist() == [True]
    # P = .01 does not meet "< .001" but reaches the same conclusion at the 0.05 level
    assert outside_tolerance(s, specs[1]).tolist() == [False, False, False]
    assert outside_tolerance({"p": np.array([0.2])}, specs[1]).tolist() == [True]
