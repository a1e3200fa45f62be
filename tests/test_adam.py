"""The ADaM schema and its validator: valid data pass, each kind of bad input is located."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anrs119 import adam
from anrs119.adam import DataValidationError, load_tables, read_tables, validate_tables
from anrs119.seeds import TEST_SEED
from tests.adam_samples import read_raw, set_cell, valid_tables, write_tables


def problems_of(folder: Path) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load_tables(folder)
    return info.value


def assert_located(
    err: DataValidationError, file: str, column: str, row: int | None, rule: str
) -> adam.Problem:
    """The error lists a problem at (file, column, row) for ``rule``, and says so in words."""
    matches = [
        p for p in err.problems if (p.file, p.column, p.row, p.rule) == (file, column, row, rule)
    ]
    assert matches, f"no ({file}, {column}, {row}, {rule!r}) in:\n{err}"
    shown = "-" if row is None else str(row)
    assert f"file {file}, column {column or '-'}, row {shown}" in str(err)
    assert f"rule '{rule}'" in str(err)
    return matches[0]


def first_index(df: pd.DataFrame, **where: str) -> int:
    mask = np.ones(len(df), bool)
    for column, value in where.items():
        mask &= (df[column] == value).to_numpy()
    return int(np.flatnonzero(mask)[0])


# --- valid data ----------------------------------------------------------------------


def test_valid_dataset_passes_and_is_typed(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    typed = load_tables(folder)
    assert set(typed) == {"adsl", "adlb", "adtte", "adae"}
    assert typed["adsl"]["AGE"].dtype == np.int64
    assert typed["adtte"]["CNSR"].dtype == np.int64
    assert typed["adlb"]["AVISITN"].dtype == np.int64
    assert typed["adlb"]["AVAL"].dtype == np.float64
    assert typed["adlb"]["ABLFL"].tolist() == tables["adlb"]["ABLFL"].tolist()
    for name, df in tables.items():
        pd.testing.assert_frame_equal(typed[name], df, check_dtype=False)


def test_in_memory_typed_tables_pass(tables: dict[str, pd.DataFrame]) -> None:
    typed = validate_tables(tables, "in memory")
    pd.testing.assert_frame_equal(typed["adlb"], tables["adlb"], check_dtype=False)


def test_boundary_values_are_allowed(tmp_path: Path) -> None:
    tables = valid_tables(np.random.default_rng(TEST_SEED), edges=True)
    assert tables["adsl"]["AGE"].min() == 18 and tables["adsl"]["AGE"].max() == 100
    load_tables(write_tables(tables, tmp_path))


def test_adae_may_be_empty(tmp_path: Path) -> None:
    tables = valid_tables(np.random.default_rng(TEST_SEED), n_ae=0)
    typed = load_tables(write_tables(tables, tmp_path))
    assert typed["adae"].empty


def test_schema_has_the_issue_minimum_names() -> None:
    # Issue #4, item 5: names every tool may rely on.
    minimum = {
        "adsl": ["USUBJID", "ARM", "ARMCD", "AGE", "SEX", "BCD4", "BVLLOG"],
        "adlb": ["USUBJID", "PARAMCD", "AVISITN", "AVAL", "BASE", "CHG", "ABLFL", "ONART"],
        "adtte": ["USUBJID", "PARAMCD", "AVAL", "CNSR", "EVNTDESC"],
        "adae": ["USUBJID", "AEDECOD", "AEBODSYS", "AETOXGR", "ASTWK"],
    }
    for name, columns in minimum.items():
        for column in columns:
            assert adam.TABLES[name].column(column).required, (name, column)
    required = {"PRIMARY", "ARTINIT", "CD4LT300", "AIDSDTH"}
    assert set(adam.ADTTE.required_params) == required
    # DEATH is optional: real datasets may record deaths elsewhere.
    assert set(adam.ADTTE.column("PARAMCD").allowed) == required | {"DEATH"}


# --- one test per kind of bad input ----------------------------------------------------


def test_missing_column(folder: Path) -> None:
    df = read_raw(folder, "adsl").drop(columns="BCD4")
    df.to_csv(folder / "adsl.csv", index=False)
    assert_located(problems_of(folder), "adsl.csv", "BCD4", 1, "required column present")


def test_missing_file(folder: Path) -> None:
    (folder / "adae.csv").unlink()
    err = problems_of(folder)
    assert_located(err, "adae.*", None, None, "file present")
    assert "file adae.*, column -, row -" in str(err)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="no such folder"):
        read_tables(tmp_path / "nowhere")


def test_text_in_numeric_column(folder: Path) -> None:
    row = set_cell(folder, "adlb", 7, "AVAL", "12 cells")
    p = assert_located(problems_of(folder), "adlb.csv", "AVAL", row, adam.RULE_NUMBER)
    assert p.got == '"12 cells"'


@pytest.mark.parametrize("text", ["NA", "nan", "inf", " 5", "1,5", "."])
def test_no_silent_coercion_of_numbers(folder: Path, text: str) -> None:
    row = set_cell(folder, "adsl", 2, "BCD4", text)
    assert_located(problems_of(folder), "adsl.csv", "BCD4", row, "a number (empty cell = missing)")


def test_fraction_in_integer_column(folder: Path) -> None:
    row = set_cell(folder, "adsl", 0, "AGE", "40.5")
    assert_located(problems_of(folder), "adsl.csv", "AGE", row, "a whole number")


def test_empty_required_cell(folder: Path) -> None:
    row = set_cell(folder, "adsl", 4, "SEX", "")
    assert_located(problems_of(folder), "adsl.csv", "SEX", row, "not empty")


def test_negative_cd4(folder: Path) -> None:
    i = first_index(read_raw(folder, "adlb"), PARAMCD="CD4", AVISITN="48")
    row = set_cell(folder, "adlb", i, "AVAL", "-5")
    rule = "AVAL in [0, 5000] when PARAMCD = CD4"
    assert_located(problems_of(folder), "adlb.csv", "AVAL", row, rule)


def test_negative_baseline_cd4_in_adsl(folder: Path) -> None:
    row = set_cell(folder, "adsl", 1, "BCD4", "-300")
    assert_located(problems_of(folder), "adsl.csv", "BCD4", row, "BCD4 in [0, 5000]")


def test_viral_load_log_out_of_range(folder: Path) -> None:
    i = first_index(read_raw(folder, "adlb"), PARAMCD="VLLOG", AVISITN="96")
    row = set_cell(folder, "adlb", i, "AVAL", "12")
    err = problems_of(folder)
    assert_located(err, "adlb.csv", "AVAL", row, "AVAL in [0, 8] when PARAMCD = VLLOG")


def test_cnsr_not_0_or_1(folder: Path) -> None:
    row = set_cell(folder, "adtte", 5, "CNSR", "2")
    p = assert_located(problems_of(folder), "adtte.csv", "CNSR", row, "CNSR in {0, 1}")
    subject = read_raw(folder, "adtte").loc[5, "USUBJID"]
    assert p.usubjid == subject
    assert f"row {row} (USUBJID {subject}): rule 'CNSR in {{0, 1}}': got 2" in str(
        problems_of(folder)
    )


def test_toxicity_grade_7(folder: Path) -> None:
    row = set_cell(folder, "adae", 1, "AETOXGR", "7")
    assert_located(problems_of(folder), "adae.csv", "AETOXGR", row, "AETOXGR in [1, 5]")


def test_negative_event_time(folder: Path) -> None:
    row = set_cell(folder, "adtte", 0, "AVAL", "-1.5")
    assert_located(problems_of(folder), "adtte.csv", "AVAL", row, "AVAL in [0, 520]")


def test_age_out_of_range(folder: Path) -> None:
    row = set_cell(folder, "adsl", 3, "AGE", "17")
    assert_located(problems_of(folder), "adsl.csv", "AGE", row, "AGE in [18, 100]")


def test_duplicate_subject(folder: Path) -> None:
    first = read_raw(folder, "adsl").loc[0, "USUBJID"]
    row = set_cell(folder, "adsl", 2, "USUBJID", first)
    p = assert_located(problems_of(folder), "adsl.csv", "USUBJID", row, "USUBJID unique")
    assert "first at row 2" in p.got


def test_duplicate_visit_in_adlb(folder: Path) -> None:
    df = read_raw(folder, "adlb")
    pd.concat([df, df.iloc[[3]]]).to_csv(folder / "adlb.csv", index=False)
    err = problems_of(folder)
    rule = "one row per USUBJID, PARAMCD, AVISITN"
    assert_located(err, "adlb.csv", "USUBJID, PARAMCD, AVISITN", len(df) + 2, rule)


def test_duplicate_key_is_found_on_parsed_values(folder: Path) -> None:
    """A visit written "24" and again "24.0" is one visit: the key is compared after parsing."""
    df = read_raw(folder, "adlb")
    again = df.iloc[[3]].copy()
    again["AVISITN"] = f"{again['AVISITN'].iloc[0]}.0"
    assert again["AVISITN"].iloc[0] != df["AVISITN"].iloc[3]  # different text
    pd.concat([df, again]).to_csv(folder / "adlb.csv", index=False)
    rule = "one row per USUBJID, PARAMCD, AVISITN"
    p = assert_located(
        problems_of(folder), "adlb.csv", "USUBJID, PARAMCD, AVISITN", len(df) + 2, rule
    )
    assert "first at row 5" in p.got


def test_duplicate_end_point_in_adtte(folder: Path) -> None:
    df = read_raw(folder, "adtte")
    pd.concat([df, df.iloc[[1]]]).to_csv(folder / "adtte.csv", index=False)
    rule = "one row per USUBJID, PARAMCD"
    assert_located(problems_of(folder), "adtte.csv", "USUBJID, PARAMCD", len(df) + 2, rule)


def test_subject_in_adtte_not_in_adsl(folder: Path) -> None:
    df = read_raw(folder, "adtte")
    stray = df.iloc[[0, 1]].assign(USUBJID="ANRS-9999")
    pd.concat([df, stray]).to_csv(folder / "adtte.csv", index=False)
    err = problems_of(folder)
    p = assert_located(err, "adtte.csv", "USUBJID", len(df) + 2, "USUBJID in adsl")
    assert "ANRS-9999" in p.got and "1 more row" in p.got
    # One problem per stray subject, not one per row.
    assert sum(q.rule == "USUBJID in adsl" for q in err.problems) == 1


def test_adsl_subject_lacking_an_end_point(folder: Path) -> None:
    df = read_raw(folder, "adtte")
    i = first_index(df, PARAMCD="ARTINIT")
    subject = df.loc[i, "USUBJID"]
    df.drop(index=i).to_csv(folder / "adtte.csv", index=False)
    err = problems_of(folder)
    rule = "one row per adsl subject for each PARAMCD in {PRIMARY, ARTINIT, CD4LT300, AIDSDTH}"
    p = assert_located(err, "adtte.csv", "PARAMCD", None, rule)
    assert p.usubjid == subject and "ARTINIT" in p.got


def test_unknown_arm(folder: Path) -> None:
    row = set_cell(folder, "adsl", 1, "ARM", "Placebo")
    p = assert_located(problems_of(folder), "adsl.csv", "ARM", row, 'ARM in {"IL-2", "Control"}')
    assert p.got == '"Placebo"'


def test_arm_with_stray_space_is_shown_quoted(folder: Path) -> None:
    set_cell(folder, "adsl", 0, "ARM", "IL-2 ")
    assert 'got "IL-2 "' in str(problems_of(folder))


def test_armcd_inconsistent_with_arm(folder: Path) -> None:
    i = first_index(read_raw(folder, "adsl"), ARM="IL-2")
    row = set_cell(folder, "adsl", i, "ARMCD", "CTRL")
    rule = "ARMCD matches ARM (IL-2 -> IL2, Control -> CTRL)"
    assert_located(problems_of(folder), "adsl.csv", "ARMCD", row, rule)


def test_chg_inconsistent(folder: Path) -> None:
    df = read_raw(folder, "adlb")
    i = first_index(df, PARAMCD="CD4", AVISITN="24")
    row = set_cell(folder, "adlb", i, "CHG", str(float(df.loc[i, "CHG"]) + 1))
    assert_located(problems_of(folder), "adlb.csv", "CHG", row, "CHG = AVAL - BASE (within 1e-6)")


def test_base_differs_from_baseline_row(folder: Path) -> None:
    df = read_raw(folder, "adlb")
    i = first_index(df, PARAMCD="VLLOG", AVISITN="16")
    base = float(df.loc[i, "BASE"]) + 0.5
    df.loc[i, ["BASE", "CHG"]] = [repr(base), repr(float(df.loc[i, "AVAL"]) - base)]
    df.to_csv(folder / "adlb.csv", index=False)
    rule = "BASE = AVAL of the ABLFL = Y row (within 1e-6)"
    assert_located(problems_of(folder), "adlb.csv", "BASE", i + 2, rule)


def test_two_baseline_rows(folder: Path) -> None:
    i = first_index(read_raw(folder, "adlb"), PARAMCD="CD4", AVISITN="8")
    row = set_cell(folder, "adlb", i, "ABLFL", "Y")
    rule = "at most one ABLFL = Y row per USUBJID and PARAMCD"
    assert_located(problems_of(folder), "adlb.csv", "ABLFL", row, rule)


def test_ablfl_value(folder: Path) -> None:
    row = set_cell(folder, "adlb", 1, "ABLFL", "N")
    assert_located(problems_of(folder), "adlb.csv", "ABLFL", row, 'ABLFL in {"Y", ""}')


def test_ragged_row(folder: Path) -> None:
    lines = (folder / "adsl.csv").read_text().splitlines()
    lines[3] += ",extra"
    (folder / "adsl.csv").write_text("\n".join(lines) + "\n")
    err = problems_of(folder)
    assert_located(err, "adsl.csv", None, 4, "same number of fields as the header")


def test_duplicate_column_name(folder: Path) -> None:
    lines = (folder / "adae.csv").read_text().splitlines()
    lines = [line + "," + line.split(",")[0] for line in lines]
    (folder / "adae.csv").write_text("\n".join(lines) + "\n")
    assert_located(problems_of(folder), "adae.csv", "USUBJID", 1, "column names unique")


def test_empty_file(folder: Path) -> None:
    (folder / "adtte.csv").write_text("")
    assert_located(problems_of(folder), "adtte.csv", None, 1, "header row present")


def test_rows_are_file_lines_despite_blank_lines(folder: Path) -> None:
    lines = (folder / "adtte.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[3] = "3"  # CNSR of the third data row
    lines[3] = ",".join(cells)
    lines.insert(1, "")  # a blank line after the header moves that row to line 5
    (folder / "adtte.csv").write_text("\n".join(lines) + "\n")
    assert_located(problems_of(folder), "adtte.csv", "CNSR", 5, "CNSR in {0, 1}")


def test_byte_order_mark_is_accepted(folder: Path) -> None:
    text = (folder / "adsl.csv").read_text()
    (folder / "adsl.csv").write_text("\ufeff" + text, encoding="utf-8")
    load_tables(folder)


def test_all_problems_in_one_error_with_a_cap(folder: Path) -> None:
    df = read_raw(folder, "adlb")
    df["AVISITN"] = "week"
    df.to_csv(folder / "adlb.csv", index=False)
    set_cell(folder, "adae", 0, "AETOXGR", "0")
    err = problems_of(folder)
    assert len(err.problems) >= len(df) + 1
    assert f"and {len(err.problems) - adam.MAX_SHOWN} more" in str(err)
    assert any(p.file == "adae.csv" for p in err.problems)
    assert "header is row 1" in str(err)


def test_missing_table_in_memory(tables: dict[str, pd.DataFrame]) -> None:
    del tables["adlb"]
    with pytest.raises(DataValidationError, match=r"file adlb\.csv"):
        validate_tables(tables, "in memory")


def test_in_memory_rows_are_numbered_as_in_a_csv(tables: dict[str, pd.DataFrame]) -> None:
    tables["adsl"].loc[3, "SEX"] = "X"
    with pytest.raises(DataValidationError) as info:
        validate_tables(tables, "in memory")
    assert_located(info.value, "adsl.csv", "SEX", 5, 'SEX in {"M", "F"}')


def test_infinite_value_in_memory(tables: dict[str, pd.DataFrame]) -> None:
    tables["adtte"].loc[2, "AVAL"] = np.inf
    with pytest.raises(DataValidationError) as info:
        validate_tables(tables, "in memory")
    assert_located(info.value, "adtte.csv", "AVAL", 4, "a finite number")


def test_every_reported_rule_is_documented(folder: Path) -> None:
    set_cell(folder, "adsl", 0, "ARMCD", "CTRL")
    set_cell(folder, "adtte", 1, "CNSR", "x")
    set_cell(folder, "adlb", 2, "CHG", "99")
    err = problems_of(folder)
    for p in err.problems:
        documented = {rule for _, rule in adam.rules(adam.TABLES[p.file.removesuffix(".csv")])}
        assert p.rule in documented, p


# --- properties -------------------------------------------------------------------------

NUMERIC = [(t.name, c.name) for t in adam.TABLES.values() for c in t.columns if c.is_numeric]


def _not_a_number(text: str) -> bool:
    """Judged by Python's float(), which is laxer than the validator ("nan", " 5", "1_0")."""
    try:
        float(text)
    except ValueError:
        return True
    return False


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_per_arm=st.integers(1, 4),
    n_ae=st.integers(0, 6),
    edges=st.booleans(),
)
def test_any_valid_random_dataset_validates(
    seed: int, n_per_arm: int, n_ae: int, edges: bool
) -> None:
    tables = valid_tables(np.random.default_rng(seed), n_per_arm, n_ae, edges)
    with tempfile.TemporaryDirectory() as tmp:
        typed = load_tables(write_tables(tables, Path(tmp)))
    assert len(typed["adsl"]) == 2 * n_per_arm
    assert len(typed["adtte"]) == 4 * 2 * n_per_arm


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    target=st.sampled_from(NUMERIC),
    position=st.floats(0, 1, exclude_max=True),
    text=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1
    ).filter(_not_a_number),
)
def test_text_in_any_numeric_cell_is_located(
    seed: int, target: tuple[str, str], position: float, text: str
) -> None:
    table, column = target
    tables = valid_tables(np.random.default_rng(seed), n_per_arm=2, n_ae=3)
    index = int(position * len(tables[table]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_tables(tables, Path(tmp))
        row = set_cell(folder, table, index, column, text)
        with pytest.raises(DataValidationError) as info:
            load_tables(folder)
    located = [(p.column, p.row, p.rule) for p in info.value.problems if p.file == f"{table}.csv"]
    assert (column, row, "a number (empty cell = missing)") in located


def test_write_tables_round_trips_byte_identically(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    paths = adam.write_tables(tables, tmp_path / "a")
    assert [p.name for p in paths] == ["adsl.csv", "adlb.csv", "adtte.csv", "adae.csv"]
    adam.write_tables(load_tables(tmp_path / "a"), tmp_path / "b")
    for p in paths:
        assert (tmp_path / "b" / p.name).read_bytes() == p.read_bytes()
        assert b"\r" not in p.read_bytes()


def test_write_tables_refuses_invalid_data(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    tables["adae"].loc[0, "AETOXGR"] = 6
    with pytest.raises(DataValidationError, match="AETOXGR"):
        adam.write_tables(tables, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_duplicate_keys_on_parsed_values_by_hand() -> None:
    """The key helper alone: rows 2 and 3 repeat rows 0 and 1 once parsed; row 4 is unusable."""
    from anrs119.adam_keys import duplicate_keys, usable_rows

    ids = ["A", "A", "A", "A", "A"]
    visits = [96, 48, 96, 48, 96]  # "96" and "96.0" both parse to 96
    usable = usable_rows([np.array([1, 1, 1, 1, 1]), np.array([1, 1, 1, 1, 0])], 5)
    assert usable.tolist() == [True, True, True, True, False]
    assert duplicate_keys([ids, visits], usable) == [(2, 0), (3, 1)]
    assert duplicate_keys([ids, [1, 2, 3, 4, 5]], usable) == []
    assert usable_rows([], 3).tolist() == [True, True, True]
    # a row is usable only if every key column parsed, the first as much as the last
    assert usable_rows([np.array([0, 1]), np.array([1, 1])], 2).tolist() == [False, True]
