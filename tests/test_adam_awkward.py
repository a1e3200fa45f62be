"""Five more awkward exports: numeric arm codes, UTF-16, Excel's sep= line, numeric
USUBJID, and non-breaking spaces. Each is read to the right values or refused with a
message naming file, column, row and rule (the message is asserted, not only the error).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from anrs119 import ARM_CODES, adam
from anrs119.adam import TABLES, load_tables
from tests.adam_samples import set_cell, write_tables
from tests.test_adam import assert_located, problems_of
from tests.test_adam_formats import assert_same_tables, write_xpt_folder


def test_new_rules_are_documented() -> None:
    documented = {(c, r) for t in TABLES.values() for c, r in adam.rules(t)}
    assert ("ARM", adam.RULE_TEXT) in documented
    assert ("EVNTDESC", adam.RULE_NO_SPACES) in documented
    assert ("", adam.RULE_READABLE) in documented


# --- 1. ARM stored as numeric codes in a SAS file ------------------------------------------


def test_numeric_arm_codes_in_xpt_are_refused_once_per_column(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    # Sponsors code arms 1/2 with a SAS format; XPT carries no format catalogue.
    code = {arm: k + 1 for k, arm in enumerate(ARM_CODES)}
    tables["adsl"]["ARM"] = tables["adsl"]["ARM"].map(code).astype(float)
    tables["adsl"]["ARMCD"] = tables["adsl"]["ARM"]
    err = problems_of(write_xpt_folder(tables, tmp_path / "x", 5))
    p = assert_located(err, "ADSL.XPT", "ARM", 1, adam.RULE_TEXT)
    assert p.got == (
        'numbers 1 (3 rows), 2 (3 rows) where text "IL-2", "Control" is expected: a numeric '
        "SAS variable holds codes whose labels are in a format catalog the file does not "
        "carry; export ARM as its formatted text values"
    )
    assert_located(err, "ADSL.XPT", "ARMCD", 1, adam.RULE_TEXT)
    # One problem per column, not one per row, and no second rule on the same cells.
    assert [q.column for q in err.problems] == ["ARM", "ARMCD"]


# --- 2. UTF-16 CSV (Excel's "Unicode Text", Windows tools) --------------------------------


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_utf16_csv_is_read_or_refused_by_name(
    tmp_path: Path, folder: Path, bom: bytes, codec: str
) -> None:
    text = (folder / "adsl.csv").read_text(encoding="utf-8")
    other = write_tables({}, tmp_path / "utf16")
    for t in TABLES.values():
        (other / t.file).write_bytes((folder / t.file).read_bytes())
    # With its byte-order mark the encoding is certain: read to the same values.
    (other / "adsl.csv").write_bytes(bom + text.encode(codec))
    assert_same_tables(load_tables(folder), load_tables(other))
    # Without it the byte order would be a guess: refused, saying UTF-16 and what to do.
    (other / "adsl.csv").write_bytes(text.encode(codec))
    p = assert_located(problems_of(other), "adsl.csv", None, 1, adam.RULE_READABLE)
    assert p.got.startswith("NUL bytes: the file looks like UTF-16")
    assert "without a byte-order mark" in p.got and "CSV UTF-8" in p.got
    assert "Latin-1" not in p.got
    # Excel's "Unicode Text" is UTF-16 with tabs: decoded, then refused for its tabs.
    (other / "adsl.csv").write_bytes(bom + text.replace(",", "\t").encode(codec))
    p = assert_located(problems_of(other), "adsl.csv", None, 1, adam.RULE_COMMAS)
    assert p.got == f"fields separated by tabs ({adam.SAVE_AS_CSV})"


# --- 3. Excel's sep= hint on the first line ---------------------------------------------------


def test_sep_hint_line_is_skipped_and_rows_stay_file_lines(folder: Path) -> None:
    clean = load_tables(folder)
    text = (folder / "adtte.csv").read_text(encoding="utf-8")
    (folder / "adtte.csv").write_text("sep=,\r\n" + text, encoding="utf-8")
    assert_same_tables(clean, load_tables(folder))
    (folder / "adtte.csv").write_text(text, encoding="utf-8")
    row = set_cell(folder, "adtte", 2, "CNSR", "3")  # file row 4 without the hint line
    bad = (folder / "adtte.csv").read_text(encoding="utf-8")
    (folder / "adtte.csv").write_text("sep=,\n" + bad, encoding="utf-8")
    # The hint moves every line down by one; messages name the file's own lines.
    assert_located(problems_of(folder), "adtte.csv", "CNSR", row + 1, "CNSR in {0, 1}")
    # A header problem is on line 2, where the header now is.
    lines = text.splitlines()
    lines[0] += ",cnsr"
    (folder / "adtte.csv").write_text("sep=,\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert_located(problems_of(folder), "adtte.csv", "CNSR", 2, adam.RULE_UNIQUE_NAMES)


def test_sep_hint_for_semicolons_is_refused(folder: Path) -> None:
    text = (folder / "adsl.csv").read_text(encoding="utf-8")
    (folder / "adsl.csv").write_text("sep=;\n" + text.replace(",", ";"), encoding="utf-8")
    p = assert_located(problems_of(folder), "adsl.csv", None, 1, adam.RULE_COMMAS)
    assert p.got.startswith('a first line "sep=;" declaring fields separated by semicolons')


# --- 4. USUBJID a number in one table, text in another --------------------------------------


def test_numeric_usubjid_matches_the_same_number_written_as_text(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    for df in tables.values():
        df["USUBJID"] = df["USUBJID"].str.removeprefix("ANRS-").astype(int) + 1000
    folder = write_tables(tables, tmp_path / "mixed")  # text 1001 ... in the CSVs
    (folder / "adsl.csv").unlink()
    adsl = tables["adsl"].assign(USUBJID=tables["adsl"]["USUBJID"].astype(float))
    pyreadstat.write_xport(adsl, str(folder / "ADSL.XPT"), table_name="ADSL")  # SAS numeric
    typed = load_tables(folder)
    # Every subject keeps its rows, identified as written (1001, never "1001.0").
    assert typed["adsl"]["USUBJID"].tolist() == [str(1001 + k) for k in range(6)]
    assert len(typed["adlb"]) == len(tables["adlb"])
    assert set(typed["adtte"]["USUBJID"]) == set(typed["adsl"]["USUBJID"])
    # Text that is not written like the number is refused, saying the storage differs.
    row = set_cell(folder, "adae", 0, "USUBJID", "0" + str(tables["adae"].loc[0, "USUBJID"]))
    p = assert_located(problems_of(folder), "adae.csv", "USUBJID", row, adam.RULE_IN_ADSL)
    assert p.got.endswith(
        "USUBJID is stored as numbers in ADSL.XPT but as text in adae.csv, and a number "
        "matches only text written like it (1001, not 01001 or 1001.0)"
    )


# --- 5. Non-breaking and other invisible spaces around values --------------------------------


def test_no_break_spaces_around_values_are_refused_by_name(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    tables["adsl"].loc[0, "ARM"] = "IL-2\u00a0"
    tables["adlb"].loc[3, "PARAMCD"] = "\u2007CD4"
    aids = tables["adtte"]["PARAMCD"] == "AIDSDTH"
    tables["adtte"].loc[aids, "EVNTDESC"] += "\u00a0"  # free text the analyses match on
    err = problems_of(write_tables(tables, tmp_path / "csv"))
    p = assert_located(err, "adsl.csv", "ARM", 2, adam.RULE_NO_SPACES)
    assert p.got == '"IL-2\\u00a0" (ends with NO-BREAK SPACE U+00A0; did you mean "IL-2"?)'
    p = assert_located(err, "adlb.csv", "PARAMCD", 5, adam.RULE_NO_SPACES)
    assert p.got == '"\\u2007CD4" (starts with FIGURE SPACE U+2007; did you mean "CD4"?)'
    first = int(np.flatnonzero(aids)[0])
    assert_located(err, "adtte.csv", "EVNTDESC", first + 2, adam.RULE_NO_SPACES)
    assert sum(q.column == "EVNTDESC" for q in err.problems) == int(aids.sum())
    # In a SAS file the padding blanks go, the no-break space stays and is refused.
    xpt = write_xpt_folder(tables, tmp_path / "xpt", 8)
    p = assert_located(problems_of(xpt), "ADSL.XPT", "ARM", 1, adam.RULE_NO_SPACES)
    assert "NO-BREAK SPACE U+00A0" in p.got


def test_a_cell_of_only_invisible_spaces_is_not_a_value(folder: Path) -> None:
    row = set_cell(folder, "adae", 1, "AEDECOD", "\u00a0\u200b")
    p = assert_located(problems_of(folder), "adae.csv", "AEDECOD", row, adam.RULE_NO_SPACES)
    assert p.got == '"\\u00a0\\u200b" (only NO-BREAK SPACE U+00A0, ZERO WIDTH SPACE U+200B)'
