"""The claims registry: the committed file is valid, and each kind of bad row is refused."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anrs119.paths import PUBLISHED_DIR
from anrs119.published import (
    CLAIMS_FILE,
    TOLERANCE_RULES,
    ClaimsError,
    claim_value,
    load_claims,
    parse_reported,
    parse_tolerance,
    read_claims,
    results,
)

# Source S1: the abstract as retrieved from PubMed (PMID 19508157), kept verbatim in the repository.
ABSTRACT = PUBLISHED_DIR / "abstract_pubmed.txt"


def raw_claims() -> pd.DataFrame:
    return pd.read_csv(CLAIMS_FILE, dtype=str, keep_default_na=False)


def write(tmp_path: Path, table: pd.DataFrame) -> Path:
    path = tmp_path / "claims.csv"
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def test_committed_registry_is_valid_and_typed() -> None:
    claims = load_claims()
    assert claims.index.is_unique
    assert claims["value"].dtype == float
    assert set(claims["kind"]) == {"result", "design"}


def test_every_result_number_appears_in_the_abstract() -> None:
    """Each printed form (e.g. '35%', 'P = .008', '+0.02') occurs in the abstract's text."""
    text = ABSTRACT.read_text(encoding="utf-8")
    for claim_id, row in results().iterrows():
        if row["statistic"] == "similar":
            assert "similar between study arms" in text, claim_id
        else:
            assert row["reported_as"].removesuffix(" weeks") in text, claim_id


def test_every_number_in_the_results_sentences_is_registered() -> None:
    """Covering the abstract: each number in its Results section maps to a registry row."""
    text = ABSTRACT.read_text(encoding="utf-8")
    section = text[text.index("Results:") : text.index("Conclusion:")]
    # Numbers that are names, not results: the log base and the toxicity grades.
    for phrase in ("log(10)", "grade 3 or 4"):
        section = section.replace(phrase, "")

    printed = set(re.findall(r"(?<![A-Za-z\-.\d])[+-]?\d*\.?\d+%?", section))
    registered = {
        parse_reported(r, "p_value").value for r in results()["reported_as"] if r[0] != "s"
    }
    # design figures that appear inside the results sentences (thresholds and weeks)
    design = set(load_claims().query("kind == 'design'")["value"])
    for token in printed:
        number = float(token.rstrip("%"))
        assert number in registered or number in design or abs(number) in registered, token


def test_claim_value_in_printed_units() -> None:
    assert claim_value("primary_w96_il2") == pytest.approx(35.0)
    assert claim_value("primary_w96_p") == pytest.approx(0.008)
    assert math.isnan(load_claims().at["safety_aids_similar", "value"])
    with pytest.raises(KeyError, match="no claim 'nope'"):
        claim_value("nope")


@pytest.mark.parametrize(
    ("text", "statistic", "bound", "value", "decimals"),
    [
        ("35%", "proportion", "=", 35.0, 0),
        ("P = .008", "p_value", "=", 0.008, 3),
        ("P < .001", "p_value", "<", 0.001, 3),
        ("P = .93", "p_value", "=", 0.93, 2),
        ("+0.02", "median_change", "=", 0.02, 2),
        ("-64", "median_change", "=", -64.0, 0),
        ("92 weeks", "difference", "=", 92.0, 0),
        ("December 2003", "date", "=", 200312.0, 0),
        ("twice a day", "count", "=", 2.0, 0),
        ("below 300/mm3", "threshold", "<", 300.0, 0),
    ],
)
def test_parse_reported(text: str, statistic: str, bound: str, value: float, decimals: int) -> None:
    parsed = parse_reported(text, statistic)
    assert (parsed.bound, parsed.value, parsed.decimals) == (bound, value, decimals)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=4))
def test_parse_reported_round_trips_any_printed_number(units: int, decimals: int) -> None:
    value = units / 10**decimals
    parsed = parse_reported(f"{value:.{decimals}f}", "difference")
    assert parsed.value == pytest.approx(value)
    assert parsed.decimals == decimals


def test_parse_tolerance_keeps_only_the_rule_name() -> None:
    assert parse_tolerance("one_patient").rule == "one_patient"
    assert parse_tolerance(" one_patient_p ").rule == "one_patient_p"
    for bad in ("abs:5", "p:0.05", "near", "none:1", "one_patient:2", ""):
        with pytest.raises(ValueError):
            parse_tolerance(bad)
    with pytest.raises(ValueError, match="computed from the data"):
        parse_tolerance("abs:5")


def test_every_tolerance_rule_fits_its_statistic() -> None:
    for _, claim in load_claims().iterrows():
        rule = parse_tolerance(claim["tolerance"]).rule
        assert claim["statistic"] in TOLERANCE_RULES[rule], claim.name


def corrupt(tmp_path: Path, claim_id: str, field: str, value: str) -> Path:
    table = raw_claims()
    table.loc[table["id"] == claim_id, field] = value
    return write(tmp_path, table)


def line_of(claim_id: str) -> int:
    return int(raw_claims().index[raw_claims()["id"] == claim_id][0]) + 2


@pytest.mark.parametrize(
    ("claim_id", "field", "value", "rule"),
    [
        ("primary_w96_il2", "statistic", "mean", "statistic in"),
        ("primary_w96_il2", "reported_as", "thirty-five", "reported_as parses"),
        ("primary_w96_il2", "reported_as", "36%", "the same as value"),
        ("primary_w96_p", "bound", "<", "bound matches reported_as"),
        ("primary_w96_il2", "value", "135", "proportion value within"),
        ("primary_w96_p", "value", "1.5", "p_value value within"),
        ("primary_w96_il2", "value", "abc", "value is a number"),
        ("primary_w96_il2", "source", "", "source in"),
        ("primary_w96_il2", "quote", "", "quote is not empty"),
        ("primary_w96_il2", "arm", "Placebo", "arm in"),
        ("primary_w96_il2", "tolerance", "one_patient_p", "takes a tolerance in"),
        ("primary_w96_il2", "tolerance", "abs:5", "tolerance parses"),
        # a result claim without a tolerance rule is refused, on its own line
        ("primary_w96_il2", "tolerance", "none", "takes a tolerance in"),
        ("cd4_change_w96_p", "tolerance", "", "tolerance"),
        ("n_randomized", "tolerance", "one_patient", "takes a tolerance in"),
        ("primary_w96_il2", "decimals", "2", "decimals match"),
        ("primary_w96_il2", "id", "Primary W96", "snake_case"),
    ],
)
def test_bad_row_names_file_line_field_and_rule(
    tmp_path: Path, claim_id: str, field: str, value: str, rule: str
) -> None:
    line = line_of(claim_id)
    path = corrupt(tmp_path, claim_id, field, value)
    with pytest.raises(ClaimsError) as caught:
        read_claims(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"line {line}" in message
    assert f"field {field}" in message
    assert rule in message


def test_duplicate_id_is_refused(tmp_path: Path) -> None:
    table = raw_claims()
    table.loc[1, "id"] = table.loc[0, "id"]
    with pytest.raises(ClaimsError, match=r"line 3 .*rule 'id is unique': also on line 2"):
        read_claims(write(tmp_path, table))


def test_missing_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ClaimsError, match=r"missing column\(s\) \['tolerance'\]"):
        read_claims(write(tmp_path, raw_claims().drop(columns="tolerance")))


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    table = raw_claims()
    table.loc[0, "statistic"] = "mean"
    table.loc[5, "source"] = "S9"
    with pytest.raises(ClaimsError) as caught:
        read_claims(write(tmp_path, table))
    assert "line 2" in str(caught.value) and "line 7" in str(caught.value)
