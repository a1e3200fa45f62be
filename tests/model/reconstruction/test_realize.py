"""Tests of the embedded reconstruction: byte-identical regeneration, valid ADaM, and the
published figures recomputed independently from the CSVs (lifelines, scipy, statsmodels)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from anrs119 import ARMS
from anrs119.data import load_dataset
from anrs119.model import generate_data
from anrs119.model.simulator.adverse_events import IL2_REACTIONS
from anrs119.model.simulator.parameters import default_parameters
from anrs119.paths import MODEL_DIR, SYNTHETIC_DIR
from anrs119.published import claim_value, load_claims
from anrs119.tolerance import is_exact

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


def test_provenance_records_seed_parameters_and_the_values_reached(provenance):
    assert provenance["synthetic"] is True
    params = default_parameters().values()
    for name, value in params.items():
        assert provenance["parameters"][name] == pytest.approx(value, abs=1e-6), name
    assert provenance["every_claim_as_published"] is True
    results = load_claims()
    results = results[results["kind"] == "result"]
    assert provenance["conditioned_on"]["claims"] == sorted(results.index)
    reached = provenance["reconstruction"]
    for claim_id, claim in results[results["statistic"] != "similar"].iterrows():
        if claim_id in reached:  # the kernel's values, as the search saw them
            assert is_exact(claim, reached[claim_id]), claim_id


def published(claim_id: str) -> pd.Series:
    return load_claims().loc[claim_id]


def test_arm_sizes_are_the_forensic_allocation(tables):
    params = default_parameters()
    counts = tables["adsl"]["ARM"].value_counts()
    assert counts[ARMS[0]] == params["n_il2"]
    assert counts[ARMS[1]] == params["n_control"]
    assert tables["adsl"]["USUBJID"].str.fullmatch(r"ANRS119-SYNTH-\d{3}").all()


def test_independent_recomputation_gives_the_published_figures(tables, provenance):
    """Issue #12: every numeric claim recomputed from the CSVs alone (pandas, scipy, lifelines),
    printed as the paper prints it, equals the published figure; and equals what the search
    recorded."""
    adsl, adlb, adtte = tables["adsl"], tables["adlb"], tables["adtte"]
    rec = provenance["reconstruction"]
    got: dict[str, float] = {}
    prim = adtte[adtte["PARAMCD"] == "PRIMARY"].merge(adsl, on="USUBJID")
    events = {}
    for arm, key in zip(ARMS, ("primary_w96_il2", "primary_w96_control"), strict=True):
        s = prim[prim["ARM"] == arm]
        events[arm] = int(((s["CNSR"] == 0) & (s["AVAL"] <= 96)).sum())
        got[key] = 100 * events[arm] / len(s)
    n = adsl["ARM"].value_counts()
    table = [[events[a], int(n[a]) - events[a]] for a in ARMS]
    got["primary_w96_p"] = float(stats.fisher_exact(table).pvalue)
    w96 = adlb[(adlb["AVISITN"] == 96) & (adlb["ONART"] == "N")].merge(adsl[["USUBJID", "ARM"]])
    for code, claim in (("CD4", "cd4_change_w96"), ("VLLOG", "vl_change_w96")):
        x = w96[w96["PARAMCD"] == code]
        a = x[x["ARM"] == ARMS[0]]["CHG"]
        b = x[x["ARM"] == ARMS[1]]["CHG"]
        got[f"{claim}_il2"], got[f"{claim}_control"] = float(a.median()), float(b.median())
        got[f"{claim}_p"] = float(stats.mannwhitneyu(a, b, method="asymptotic").pvalue)
    cut = claim_value("subgroup_vl_cutoff")
    low = prim[prim["BVLLOG"] < cut]
    art = adtte[adtte["PARAMCD"] == "ARTINIT"].merge(adsl, on="USUBJID")
    art = art[art["BVLLOG"] < cut]
    q25 = {}
    for arm, key in zip(ARMS, ("lowvl_free_w150_il2", "lowvl_free_w150_control"), strict=True):
        s = low[low["ARM"] == arm]
        km = KaplanMeierFitter().fit(s["AVAL"].clip(upper=150), s["CNSR"] == 0)
        got[key] = 100 * float(km.predict(150.0))
        a = art[art["ARM"] == arm]
        sf = KaplanMeierFitter().fit(a["AVAL"], a["CNSR"] == 0).survival_function_.iloc[:, 0]
        q25[arm] = float(sf.index[sf.to_numpy() <= 0.75 + 1e-12][0])
    got["lowvl_art_deferral"] = q25[ARMS[0]] - q25[ARMS[1]]
    s1, s2 = (low[low["ARM"] == arm] for arm in ARMS)
    got["lowvl_free_w150_p"] = float(
        logrank_test(s1["AVAL"], s2["AVAL"], s1["CNSR"] == 0, s2["CNSR"] == 0).p_value
    )
    claims = load_claims()
    numeric = claims[(claims["kind"] == "result") & (claims["statistic"] != "similar")]
    assert set(got) == set(numeric.index)
    for claim_id, claim in numeric.iterrows():
        assert is_exact(claim, got[claim_id]), (claim_id, got[claim_id], claim["reported_as"])
        if claim_id in rec:
            assert got[claim_id] == pytest.approx(rec[claim_id], rel=1e-6, abs=1e-6), claim_id


def test_safety_claims_hold_on_the_embedded_trial(tables):
    """Deaths (DEATH rows), AIDS-defining events and grade 3-4 events: the Newcombe CI of the
    difference includes 0 (statsmodels' implementation, independent of the book's)."""
    adsl, adtte, adae = tables["adsl"], tables["adtte"], tables["adae"]
    week = claim_value("primary_timepoint_weeks")
    arms = adsl.set_index("USUBJID")["ARM"]

    def ci(subjects) -> tuple[float, float]:
        hit = arms.index.isin(set(subjects))
        k = [int((hit & (arms == a)).sum()) for a in ARMS]
        n = [int((arms == a).sum()) for a in ARMS]
        low, high = confint_proportions_2indep(k[0], n[0], k[1], n[1], method="newcomb")
        return float(low), float(high)

    death = adtte[(adtte["PARAMCD"] == "DEATH") & (adtte["CNSR"] == 0) & (adtte["AVAL"] <= week)]
    aids = adtte[
        (adtte["PARAMCD"] == "AIDSDTH")
        & (adtte["EVNTDESC"] == "AIDS-defining event")
        & (adtte["AVAL"] <= week)
    ]
    g34 = adae[adae["AETOXGR"].isin([3, 4]) & (adae["ASTWK"] <= week)]
    for key, subjects in (
        ("safety_death_similar", death["USUBJID"]),
        ("safety_aids_similar", aids["USUBJID"]),
        ("safety_grade34_similar", g34["USUBJID"]),
    ):
        low, high = ci(subjects)
        assert low <= 0.0 <= high, key
    assert (adtte["PARAMCD"] == "DEATH").sum() == len(adsl)


def test_adverse_events_il2_reactions_only_with_il2_and_grade34_in_both_arms(tables):
    ae = tables["adae"].merge(tables["adsl"][["USUBJID", "ARM"]], on="USUBJID")
    reactions = {t for t, _, _ in IL2_REACTIONS}
    assert set(ae.loc[ae["AEDECOD"].isin(reactions), "ARM"]) == {ARMS[0]}
    severe = ae[ae["AETOXGR"] >= 3]
    assert set(severe["ARM"]) == set(ARMS)
