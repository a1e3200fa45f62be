"""Genuine SAS-written sas7bdat files read by the book's reader, against independent references.

The files and their reference CSVs come from pyreadstat's test data (tests/fixtures/sas7bdat,
README there names repository, commit, paths and licence). The reference is the CSV the same
repository ships, parsed here with the csv module only, so nothing of our reader is reused.
Comparison rules: column names ignoring case; an empty (or "NaN") reference cell is missing,
and SAS missing values must come back missing; text exactly (padding removed); numbers equal.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anrs119 import adam
from anrs119.adam import read_table
from anrs119.seeds import TEST_SEED
from tests.adam_samples import valid_tables, write_tables
from tests.test_adam import assert_located, problems_of

FIXTURES = Path(__file__).parent / "fixtures" / "sas7bdat"


def reference(name: str) -> dict[str, list[str]]:
    """The reference CSV as text columns keyed by upper-case name (SAS names ignore case)."""
    with open(FIXTURES / name, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    return {h.upper(): [r[i] for r in body] for i, h in enumerate(header)}


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def ref_missing(text: str) -> bool:
    # pyreadstat's reference CSVs write a missing cell as empty or as NaN (pandas' to_csv).
    return text in ("", "NaN")


def as_reference_text(value: object) -> str:
    """A value read from SAS, spelled as the reference CSV spells it (ISO dates and times)."""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        # The reference writes hours without a leading zero ("0:00:00.000000").
        return f"{value.hour}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    return str(value)


def assert_matches_reference(path: Path, ref: dict[str, list[str]]) -> None:
    got = read_table(path)
    assert set(ref) <= set(got.columns), (sorted(ref), list(got.columns))
    assert len(got) == len(next(iter(ref.values())))
    for column, expected in ref.items():
        for i, (text, value) in enumerate(zip(expected, got[column], strict=True)):
            where = f"{path.name} {column} record {i + 1}: {value!r} vs {text!r}"
            if ref_missing(text):
                assert is_missing(value), where
                continue
            assert not is_missing(value), where
            if isinstance(value, float | np.floating):
                assert value == float(text), where  # both are the same IEEE double
            elif isinstance(value, str):
                assert value == text, where  # trailing blanks removed, nothing else touched
            else:
                assert as_reference_text(value) == text, where


def test_sample_reads_to_the_reference_values() -> None:
    """Numbers, text, SAS dates/datetimes/times, and the missing values of the last record."""
    ref = reference("sample.csv")
    assert_matches_reference(FIXTURES / "sample.sas7bdat", ref)
    got = read_table(FIXTURES / "sample.sas7bdat")
    assert list(got["MYNUM"]) == [1.1, 1.2, -1000.3, -1.4, 1000.3]
    assert [is_missing(v) for v in got["MYDATE"]] == [False] * 4 + [True]
    assert got.attrs[adam.ROWS_ATTR] == (1, 2, 3, 4, 5)  # rows are record numbers


def test_special_missing_values_of_a_real_file_are_missing() -> None:
    """.A .B .C .X .Y .Z ._ and . written by SAS all read as missing; the 1 stays 1."""
    assert_matches_reference(
        FIXTURES / "missing_test.sas7bdat", reference("missing_unformatted.csv")
    )
    got = read_table(FIXTURES / "missing_test.sas7bdat")
    assert [is_missing(got[f"VAR{k}"][0]) for k in range(1, 10)] == [True] * 8 + [False]


def test_padded_character_values_lose_their_blanks() -> None:
    raw = (FIXTURES / "test_data_linux.sas7bdat").read_bytes()
    assert b"ID1     " in raw  # stored padded to the variable's length of 8
    ref = reference("sas_formatted.csv")
    # SEXA/SEXB in the reference are format labels from a catalog not shipped here; ID is raw.
    assert_matches_reference(FIXTURES / "test_data_linux.sas7bdat", {"ID": ref["ID"]})


def test_a_real_sas7bdat_that_is_not_adsl_is_refused_with_file_column_rule(
    tmp_path: Path,
) -> None:
    folder = write_tables(
        valid_tables(np.random.default_rng(TEST_SEED), n_per_arm=3, n_ae=5), tmp_path / "adam"
    )
    (folder / "adsl.csv").unlink()
    shutil.copy(FIXTURES / "sample.sas7bdat", folder / "adsl.sas7bdat")
    err = problems_of(folder)
    for column in ("USUBJID", "ARM"):
        p = assert_located(err, "adsl.sas7bdat", column, None, adam.RULE_REQUIRED)
        assert "MYCHAR, MYNUM, MYDATE" in p.got


def test_the_cli_refuses_it_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from anrs119.data import validate_main

    folder = write_tables(
        valid_tables(np.random.default_rng(TEST_SEED), n_per_arm=3, n_ae=5), tmp_path / "adam"
    )
    (folder / "adsl.csv").unlink()
    shutil.copy(FIXTURES / "sample.sas7bdat", folder / "ADSL.SAS7BDAT")
    assert validate_main(folder) == 1
    err = capsys.readouterr().err
    assert "file ADSL.SAS7BDAT, column USUBJID, row -: rule" in err
    assert "Traceback" not in err
