"""The trials registry and the CONSORT checklist: the committed files are valid, and each kind of
bad row is refused with a message naming the file, line, field and rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anrs119.context import (
    CONSORT_FILE,
    CONSORT_ITEMS,
    TRIAL_LEVEL_FIELDS,
    TRIAL_TYPES,
    TRIALS_FILE,
    ContextError,
    load_consort,
    load_trials,
    numbers_in,
    parse_derived,
    read_consort,
    read_trials,
)
from anrs119.paths import CHAPTERS_DIR

REQUIRED_TRIALS = {"ESPRIT", "SILCAAT", "STALWART", "UK-Vanguard", "ANRS 079"}


def raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write(tmp_path: Path, table: pd.DataFrame, name: str) -> Path:
    path = tmp_path / name
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def test_committed_trials_registry_is_valid_and_typed() -> None:
    trials = load_trials()
    assert trials.index.is_unique
    assert set(trials["trial"]) >= REQUIRED_TRIALS
    assert set(trials["type"]) <= set(TRIAL_TYPES)
    assert trials["value"].dtype == float and trials["year"].dtype == int
    assert TRIAL_LEVEL_FIELDS[-1] == "design_quote" and "dose" in TRIAL_LEVEL_FIELDS


def test_committed_consort_checklist_is_valid_and_complete() -> None:
    consort = load_consort()
    assert tuple(consort.index) == CONSORT_ITEMS
    assert len(CONSORT_ITEMS) == 37  # 25 items, with their sub-items


def test_every_number_is_in_its_sentence_on_the_committed_file() -> None:
    """Independent of the validator: each non-derived number is a token of its quote (values
    not read at their source have no quote: they are marked unverified instead)."""
    for _, row in raw(TRIALS_FILE).iterrows():
        if row["verification"] == "unverified":
            assert row["quote"] == "" and "not verified here" in row["note"], row["id"]
            continue
        derived = parse_derived(row["derived"])
        for field in ("value", "value_il2", "value_control", "ci_low", "ci_high", "p_value"):
            if row[field] and field not in derived:
                assert float(row[field]) in numbers_in(row["quote"]), (row["id"], field)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HR 5.84, CI: 0.59 to 43.57; p = 0.009", [5.84, 0.59, 43.57, 0.009]),
        ("4111 patients (2071 receiving", [4111.0, 2071.0]),
        ("P < .001 and 4,111", [0.001, 4111.0]),
        ("Twelve participants compared to 1", [1.0, 12.0]),
        ("CD4+ cells 51.3–181.2 cells/mm3", [51.3, 181.2]),
    ],
)
def test_numbers_in(text: str, expected: list[float]) -> None:
    assert sorted(numbers_in(text)) == sorted(expected)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=4))
def test_numbers_in_round_trips_any_printed_number(units: int, decimals: int) -> None:
    value = units / 10**decimals
    assert value in numbers_in(f"a value of {value:.{decimals}f} cells")


def test_parse_derived() -> None:
    assert parse_derived("value=129-13; n_il2=12+12") == {
        "value": [("+", 129.0), ("-", 13.0)],
        "n_il2": [("+", 12.0), ("+", 12.0)],
    }
    assert parse_derived("") == {}
    with pytest.raises(ValueError, match="is not 'field=a\\+b'"):
        parse_derived("value=129*13")


def line_of(table: pd.DataFrame, key: str, column: str = "id") -> int:
    return int(table.index[table[column] == key][0]) + 2


@pytest.mark.parametrize(
    ("row_id", "field", "value", "rule"),
    [
        ("esprit_od_death", "value", "abc", "value is empty or a number"),
        ("stalwart_od_death", "value", "5.85", "quote contains value"),
        ("stalwart_od_death", "ci_low", "6", "ci_low <= value <= ci_high"),
        ("esprit_od_death", "ci_high", "0.5", "ci_low <= ci_high"),
        ("esprit_od_death", "ci_high", "", "both given or both empty"),
        ("esprit_od_death", "value", "-0.94", "a hazard_ratio is a positive number"),
        ("esprit_od_death", "p_bound", "", "p_bound is given exactly when p_value is"),
        ("esprit_od_death", "p_bound", ">", "p_bound in"),
        ("esprit_od_death", "year", "1850", "year is a whole number within"),
        ("esprit_od_death", "year", "2010", "the citation carries the year"),
        ("esprit_od_death", "measure", "odds", "measure in"),
        ("esprit_od_death", "measure", "mean_difference", "a clinical result is one of"),
        ("esprit_od_death", "result", "benefit", "result in"),
        ("esprit_od_death", "type", "IL-2", "type in"),
        ("esprit_od_death", "verification", "memory", "verification in"),
        ("esprit_od_death", "note", "", "says so in note"),
        ("stalwart_od_death", "quote", "", "quote is not empty"),
        # a value not read at its source carries no quote (none was read) and says so in note
        ("esprit_od_death", "quote", "HR 0.94 (0.75 to 1.16)", "an unverified value has no"),
        ("esprit_od_death", "verification", "copy", "verification in"),
        ("esprit_od_death", "verification", "secondary", "verification in"),
        ("esprit_od_death", "source", "somewhere", "source matches"),
        ("esprit_od_death", "pmid", "PMID19828532", "pmid matches"),
        ("esprit_od_death", "registry_id", "NCT123", "registry_id matches"),
        ("esprit_od_death", "id", "ESPRIT OD", "id matches"),
        ("esprit_od_death", "n_control", "2041", "n_il2 + n_control equals n_randomized"),
        ("esprit_od_death", "n_control", "20.5", "positive whole number"),
        ("esprit_cd4", "unit", "", "a CD4 result has a unit"),
        ("esprit_cd4", "value", "", "a result has a value, or a value per arm"),
        ("vanguard_cd4", "value", "117", "value equals its derivation"),
        ("vanguard_cd4", "derived", "value=129-14; n_il2=12+12", "are printed in its quote"),
        ("vanguard_cd4", "derived", "value=129x13", "derived parses"),
        ("vanguard_cd4", "derived", "n_il2=12+12", "quote contains value"),
        ("vanguard_cd4", "derived", "valu=129-13; n_il2=12+12", "names a numeric field"),
        ("anrs048_cd4_sc", "dose", "another", "trial-level fields agree"),
    ],
)
def test_bad_trial_row_names_file_line_field_and_rule(
    tmp_path: Path, row_id: str, field: str, value: str, rule: str
) -> None:
    table = raw(TRIALS_FILE)
    line = line_of(table, row_id)
    table.loc[table["id"] == row_id, field] = value
    path = write(tmp_path, table, "trials.csv")
    with pytest.raises(ContextError) as caught:
        read_trials(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"line {line}" in message
    assert f"field {field}" in message or (field == "derived" and "field value" in message)
    assert rule in message


def test_duplicate_trial_id_is_refused(tmp_path: Path) -> None:
    table = raw(TRIALS_FILE)
    table.loc[1, "id"] = table.loc[0, "id"]
    with pytest.raises(ContextError, match=r"line 3 .*rule 'id is unique': also on line 2"):
        read_trials(write(tmp_path, table, "trials.csv"))


def test_missing_trials_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match=r"missing column\(s\) \['quote'\]"):
        read_trials(write(tmp_path, raw(TRIALS_FILE).drop(columns="quote"), "trials.csv"))


@pytest.mark.parametrize(
    ("item", "field", "value", "rule"),
    [
        ("9", "status", "unclear", "status in"),
        ("9", "verified", "maybe", "verified in"),
        ("9", "text", "", "text is not empty unless"),
        ("24", "note", "", "says why in note"),
        ("9", "assessment", "", "assessment is not empty"),
        ("9", "book_page", "chapters/nowhere", "book_page is empty or a chapter"),
        ("9", "book_page", "https://example.org", "book_page is empty or a chapter"),
        ("9", "item", "9z", "item is a CONSORT 2010 item"),
    ],
)
def test_bad_consort_row_names_file_line_field_and_rule(
    tmp_path: Path, item: str, field: str, value: str, rule: str
) -> None:
    table = raw(CONSORT_FILE)
    line = line_of(table, item, "item")
    table.loc[table["item"] == item, field] = value
    path = write(tmp_path, table, "consort.csv")
    with pytest.raises(ContextError) as caught:
        read_consort(path, chapters_dir=CHAPTERS_DIR)
    message = str(caught.value)
    assert str(path) in message and f"line {line}" in message
    assert f"field {field}" in message and rule in message


def test_consort_items_out_of_order_or_missing_are_refused(tmp_path: Path) -> None:
    table = raw(CONSORT_FILE)
    swapped = table.iloc[[1, 0, *range(2, len(table))]]
    with pytest.raises(ContextError, match="every CONSORT 2010 item once, in order"):
        read_consort(write(tmp_path, swapped, "consort.csv"))
    with pytest.raises(ContextError, match=r"missing \['25'\]"):
        read_consort(write(tmp_path, table.iloc[:-1], "consort.csv"))
