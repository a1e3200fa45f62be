"""Abstracts as the paper prints them, what-if tables read by the registry's validator, and the
forensic allocation of any abstract (anrs119.model.reconstruction.abstract)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from anrs119.forensic import ReportedPercent
from anrs119.model.reconstruction.abstract import (
    AbstractError,
    forensic_allocation,
    format_value,
    print_abstract,
    print_round,
    read_abstract,
    typed,
)
from anrs119.model.reconstruction.search import SAFETY_CLAIMS, make_pool, reconstruct
from anrs119.model.simulator.parameters import default_parameters
from anrs119.published import CLAIMS_FILE, load_claims
from anrs119.seeds import TEST_SEED

NUMERIC = [
    cid
    for cid, r in load_claims().iterrows()
    if r["kind"] == "result" and r["statistic"] != "similar"
]


@pytest.fixture(scope="module")
def exact_values() -> dict[str, float]:
    p = default_parameters(calibrated=True).values()
    rec = reconstruct(make_pool(p, TEST_SEED, 0, per_arm=400), TEST_SEED, walk=0)
    assert rec.exact
    return rec.values


def test_an_exact_reconstruction_prints_the_published_abstract(exact_values):
    """The kernel reads an exact trial's claims inside their rounding intervals: printed as the
    paper prints, they are the registry's printed values, every one."""
    printed = print_abstract(exact_values, (23, 38), (66, 64), dict.fromkeys(SAFETY_CLAIMS, True))
    assert printed.reason == ""
    table = typed(printed.claims).loc[NUMERIC]
    reg = load_claims().loc[NUMERIC]
    assert (table["reported_as"] == reg["reported_as"]).all(), table["reported_as"].compare(
        reg["reported_as"]
    )
    assert (table["bound"] == reg["bound"]).all()
    np.testing.assert_allclose(table["value"].astype(float), reg["value"].astype(float))


def test_an_abstract_the_paper_could_not_print_is_refused_with_the_reason(exact_values):
    values = dict(exact_values, lowvl_art_deferral=math.nan)
    printed = print_abstract(values, (23, 38), (66, 64), dict.fromkeys(SAFETY_CLAIMS, True))
    assert printed.claims is None and "deferral" in printed.reason
    differ = dict.fromkeys(SAFETY_CLAIMS, True) | {"safety_grade34_similar": False}
    printed = print_abstract(exact_values, (23, 38), (66, 64), differ)
    assert printed.claims is None and "grade34" in printed.reason


@pytest.mark.parametrize(
    ("statistic", "value", "decimals", "bound", "text"),
    [
        ("proportion", 35.0, 0, "=", "35%"),
        ("median_change", 51.0, 0, "=", "+51"),
        ("median_change", -64.0, 0, "=", "-64"),
        ("median_change", 0.02, 2, "=", "+0.02"),
        ("median_change", 0.0, 0, "=", "0"),
        ("p_value", 0.001, 3, "<", "P < .001"),
        ("p_value", 0.008, 3, "=", "P = .008"),
        ("p_value", 0.93, 2, "=", "P = .93"),
        ("difference", 92.0, 0, "=", "92 weeks"),
    ],
)
def test_values_print_as_the_paper_prints_them(statistic, value, decimals, bound, text):
    assert format_value(statistic, value, decimals, bound) == text


def test_print_round_goes_half_away_from_zero_without_binary_error():
    assert print_round(63.5, 0) == 64.0
    assert print_round(-63.5, 0) == -64.0
    assert print_round(0.015, 2) == 0.02
    assert print_round(-0.4, 0) == 0.0 and math.copysign(1, print_round(-0.4, 0)) == 1.0


def _write(tmp_path, frame: pd.DataFrame, name: str = "whatif.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _raw() -> pd.DataFrame:
    return pd.read_csv(CLAIMS_FILE, dtype=str, keep_default_na=False)


def test_a_partial_what_if_table_changes_its_rows_and_keeps_the_others(tmp_path):
    raw = _raw()
    row = raw[raw["id"] == "lowvl_free_w150_il2"].copy()
    row[["value", "reported_as"]] = ["50", "50%"]
    claims = read_abstract(_write(tmp_path, row))
    assert claims.at["lowvl_free_w150_il2", "value"] == 50.0
    reg = load_claims()
    others = [c for c in reg.index if c != "lowvl_free_w150_il2"]
    pd.testing.assert_frame_equal(claims.loc[others], reg.loc[others], check_dtype=False)


def test_an_unknown_claim_or_a_changed_design_is_refused_naming_line_and_field(tmp_path):
    raw = _raw()
    row = raw[raw["id"] == "cd4_change_w96_il2"].copy()
    row["id"] = "cd4_change_w48_il2"
    with pytest.raises(AbstractError, match=r"line 2 \(id 'cd4_change_w48_il2'\), field id"):
        read_abstract(_write(tmp_path, row))
    design = raw[raw["id"] == "n_randomized"].copy()
    design[["value", "reported_as"]] = ["200", "200"]
    with pytest.raises(AbstractError, match=r"line 2 \(id 'n_randomized'\), field value"):
        read_abstract(_write(tmp_path, design))
    other = raw[raw["id"] == "cd4_change_w96_il2"].copy()
    other["timepoint_weeks"] = "48"
    with pytest.raises(AbstractError, match="field timepoint_weeks"):
        read_abstract(_write(tmp_path, other))


def test_a_malformed_value_is_refused_by_the_registrys_validator(tmp_path):
    raw = _raw()
    row = raw[raw["id"] == "vl_change_w96_p"].copy()
    row["value"] = "abc"
    with pytest.raises(AbstractError, match=r"line 2 .*field value: rule 'value is a number'"):
        read_abstract(_write(tmp_path, row))


def test_the_published_primary_claims_give_the_forensic_allocation():
    alloc, reason = forensic_allocation(load_claims(), (66, 64))
    assert reason == ""
    assert alloc["events_w96_by_arm"] == {"IL-2": 23, "Control": 38}
    assert alloc["test"] == "fisher"


def test_35_vs_59_percent_with_p_93_is_arithmetically_impossible():
    claims = load_claims()
    claims.loc["primary_w96_p", ["value", "decimals"]] = [0.93, 2]
    alloc, reason = forensic_allocation(claims, (66, 64))
    assert alloc is None and "arithmetically impossible" in reason


def test_a_percentage_other_splits_allow_but_the_models_arms_do_not_is_named_as_such():
    value = next(
        v
        for v in range(1, 100)
        if ReportedPercent(v).count_range(np.array([66]))[0][0]
        > ReportedPercent(v).count_range(np.array([66]))[1][0]
    )
    claims = load_claims()
    claims.loc["primary_w96_il2", "value"] = float(value)
    alloc, reason = forensic_allocation(claims, (66, 64))
    assert alloc is None
    assert "model's arms" in reason or "arithmetically impossible" in reason
