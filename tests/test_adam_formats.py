"""Real data as it arrives: XPT v5/v8 and sas7bdat, file-name case, and awkward exports.

Every input is either read to the same values as the clean CSV, or refused with a message
naming file, column, row and rule (the message is asserted, not only the exception).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from anrs119 import ARMS, adam
from anrs119.adam import TABLES, DataValidationError, load_tables
from tests.adam_samples import write_tables
from tests.test_adam import assert_located, problems_of


def write_xpt_folder(tables: dict[str, pd.DataFrame], folder: Path, version: int) -> Path:
    """The tables as SAS transport files, named as exports often are (upper case)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        pyreadstat.write_xport(
            df,
            str(folder / f"{name.upper()}.XPT"),
            table_name=name.upper(),
            file_format_version=version,
        )
    return folder


def assert_same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        left, right = a[name], b[name][list(a[name].columns)]
        assert list(left.dtypes) == list(right.dtypes), name
        # XPT v5 stores IBM floating point: doubles come back within a few ulps, not always
        # bit for bit, so numbers are compared to 1e-12 relative and text exactly.
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-12)


# --- the formats -----------------------------------------------------------------------


@pytest.mark.parametrize("version", [5, 8])
def test_xpt_reads_to_the_same_values_as_csv(
    tmp_path: Path, folder: Path, tables: dict[str, pd.DataFrame], version: int
) -> None:
    xpt = write_xpt_folder(tables, tmp_path / f"xpt{version}", version)
    assert_same_tables(load_tables(folder), load_tables(xpt))


def test_file_names_match_ignoring_case(tmp_path: Path, folder: Path) -> None:
    upper = tmp_path / "upper"
    upper.mkdir()
    for t in TABLES.values():
        (upper / t.file.upper().replace(".CSV", ".csv")).write_bytes((folder / t.file).read_bytes())
    assert_same_tables(load_tables(folder), load_tables(upper))


def test_two_formats_of_one_table_are_refused(
    folder: Path, tables: dict[str, pd.DataFrame]
) -> None:
    pyreadstat.write_xport(tables["adsl"], str(folder / "ADSL.xpt"), table_name="ADSL")
    err = problems_of(folder)
    p = assert_located(err, "adsl.*", None, None, adam.RULE_ONE_FILE)
    assert "ADSL.xpt, adsl.csv" in p.got


def test_unsupported_format_is_named(folder: Path) -> None:
    (folder / "adae.csv").rename(folder / "adae.xlsx")
    p = assert_located(problems_of(folder), "adae.*", None, None, adam.RULE_FILE)
    assert "found adae.xlsx" in p.got


def test_rows_are_record_numbers_in_xpt(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    tables["adsl"].loc[2, "AGE"] = 7
    xpt = write_xpt_folder(tables, tmp_path / "x", 8)
    err = problems_of(xpt)
    assert_located(err, "ADSL.XPT", "AGE", 3, "AGE in [18, 100]")  # third record
    assert "rows are record numbers" in str(err)


def test_sas_missing_values_are_missing(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    # A missing BCD4 is refused (not nullable); an empty BASE is allowed (nullable) as in CSV.
    tables["adsl"]["BCD4"] = tables["adsl"]["BCD4"].astype(float)
    tables["adsl"].loc[1, "BCD4"] = np.nan
    xpt = write_xpt_folder(tables, tmp_path / "x", 5)
    p = assert_located(problems_of(xpt), "ADSL.XPT", "BCD4", 2, adam.RULE_NOT_EMPTY)
    assert p.got == adam.SAS_MISSING


def _special_missing(path: Path, letter: bytes) -> None:
    """Turn every '.' missing value of an XPT v5 file into the special missing '.<letter>'.

    In XPORT a missing number is 8 bytes: the missing code ('.', 'A'-'Z' or '_'), then zeros.
    """
    data = path.read_bytes()
    obs = data.index(b"OBS     HEADER RECORD")
    body = data[obs:].replace(b".\x00\x00\x00\x00\x00\x00\x00", letter + b"\x00" * 7)
    path.write_bytes(data[:obs] + body)


@pytest.mark.parametrize("letter", [b"A", b"Z", b"_"])
def test_special_missing_values_are_missing(
    tmp_path: Path, tables: dict[str, pd.DataFrame], letter: bytes
) -> None:
    tables["adsl"]["BCD4"] = tables["adsl"]["BCD4"].astype(float)
    tables["adsl"].loc[1, "BCD4"] = np.nan
    xpt = write_xpt_folder(tables, tmp_path / "x", 5)
    _special_missing(xpt / "ADSL.XPT", letter)
    df, _ = pyreadstat.read_xport(str(xpt / "ADSL.XPT"))
    assert np.isnan(df["BCD4"][1])  # the patched file is still valid XPORT
    assert_located(problems_of(xpt), "ADSL.XPT", "BCD4", 2, adam.RULE_NOT_EMPTY)


def test_character_padding_and_numbers_stored_as_text(
    tmp_path: Path, folder: Path, tables: dict[str, pd.DataFrame]
) -> None:
    tables["adsl"]["ARM"] = tables["adsl"]["ARM"] + "   "  # padded as SAS pads
    tables["adsl"]["BCD4"] = tables["adsl"]["BCD4"].map(lambda v: f"{v:g}")  # character $8
    xpt = write_xpt_folder(tables, tmp_path / "x", 8)
    assert_same_tables(load_tables(folder), load_tables(xpt))


def test_sas_date_where_weeks_are_expected_is_refused(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    xpt = tmp_path / "x"
    write_xpt_folder(tables, xpt, 8)
    pyreadstat.write_xport(
        tables["adtte"],
        str(xpt / "ADTTE.XPT"),
        table_name="ADTTE",
        variable_format={"AVAL": "DATE9."},
    )
    p = assert_located(problems_of(xpt), "ADTTE.XPT", "AVAL", 1, adam.RULE_NUMBER)
    assert "SAS date" in p.got


def test_not_a_sas_file(folder: Path) -> None:
    (folder / "adsl.csv").rename(folder / "adsl.xpt")  # a CSV with the wrong extension
    err = problems_of(folder)
    assert [p.rule for p in err.problems if p.file == "adsl.xpt"] == [
        f"readable {adam.FORMATS['.xpt']}"
    ]


def test_sas7bdat_goes_through_the_sas_reader(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, folder: Path, tables: dict[str, pd.DataFrame]
) -> None:
    # pyreadstat cannot write sas7bdat, so a whole ADaM folder of them is simulated with a
    # stand-in for ReadStat's reader (dispatch and SAS conventions); genuine SAS-written
    # files are read against their references in tests/test_adam_sas7bdat.py.
    sas = tmp_path / "sas"
    sas.mkdir()
    for name in tables:
        (sas / f"{name}.sas7bdat").write_bytes(b"stand-in")
    read = []

    class Reader:
        @staticmethod
        def read_sas7bdat(path: str, encoding=None):
            read.append(Path(path).name)
            df = tables[Path(path).stem].copy()
            text = df.select_dtypes("object").columns
            df[text] = df[text].apply(lambda c: c.str.pad(12, side="right"))  # SAS padding
            return df, None

    monkeypatch.setattr(adam, "_sas_reader", lambda: Reader)
    assert_same_tables(load_tables(folder), load_tables(sas))
    assert sorted(read) == sorted(f"{n}.sas7bdat" for n in TABLES)


def test_unreadable_sas7bdat(folder: Path) -> None:
    (folder / "adae.csv").unlink()
    (folder / "adae.sas7bdat").write_bytes(b"not a SAS dataset")
    err = problems_of(folder)
    assert [p.rule for p in err.problems if p.file == "adae.sas7bdat"] == [
        f"readable {adam.FORMATS['.sas7bdat']}"
    ]


# --- awkward CSV exports ----------------------------------------------------------------


def test_latin1_csv_is_refused_with_its_line(folder: Path) -> None:
    text = (folder / "adae.csv").read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace("Headache", "Céphalée").replace("Influenza", "Grippé")
    text[3] = text[3] if "é" in text[3] else text[3] + ",é"
    (folder / "adae.csv").write_bytes(("\n".join(text) + "\n").encode("latin-1"))
    p = assert_located(problems_of(folder), "adae.csv", None, 4, adam.RULE_READABLE)
    assert "not UTF-8" in p.got and "Latin-1" in p.got


def test_semicolon_csv_is_refused(folder: Path) -> None:
    text = (folder / "adsl.csv").read_text(encoding="utf-8")
    (folder / "adsl.csv").write_text(text.replace(",", ";"), encoding="utf-8")
    p = assert_located(problems_of(folder), "adsl.csv", None, 1, adam.RULE_COMMAS)
    assert "semicolons" in p.got


def test_empty_file(folder: Path) -> None:
    (folder / "adlb.csv").write_bytes(b"")
    assert_located(problems_of(folder), "adlb.csv", None, 1, adam.RULE_HEADER)


def test_header_only_adsl(folder: Path) -> None:
    header = (folder / "adsl.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "adsl.csv").write_text(header + "\n", encoding="utf-8")
    assert_located(problems_of(folder), "adsl.csv", None, None, adam.RULE_MIN_ROWS)


def test_header_only_adlb_is_refused(folder: Path) -> None:
    header = (folder / "adlb.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "adlb.csv").write_text(header + "\n", encoding="utf-8")
    p = assert_located(problems_of(folder), "adlb.csv", "PARAMCD", None, adam.RULE_ARM_PARAM)
    assert "no CD4 row" in p.got


def test_header_only_adae_means_no_adverse_event(folder: Path) -> None:
    header = (folder / "adae.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "adae.csv").write_text(header + "\n", encoding="utf-8")
    assert len(load_tables(folder)["adae"]) == 0


def test_duplicated_columns(folder: Path) -> None:
    lines = (folder / "adsl.csv").read_text(encoding="utf-8").splitlines()
    at = lines[0].split(",").index("ARM")
    lines = [f"{line},{line.split(',')[at]}" for line in lines]  # ARM again at the end
    (folder / "adsl.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = assert_located(problems_of(folder), "adsl.csv", "ARM", 1, adam.RULE_UNIQUE_NAMES)
    assert p.got == '"ARM" and "ARM"'


def test_columns_equal_ignoring_case(folder: Path) -> None:
    lines = (folder / "adsl.csv").read_text(encoding="utf-8").splitlines()
    lines[0] += ",arm"
    lines[1:] = [f"{line},x" for line in lines[1:]]
    (folder / "adsl.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = assert_located(problems_of(folder), "adsl.csv", "ARM", 1, adam.RULE_UNIQUE_NAMES)
    assert p.got == '"ARM" and "arm"'


def test_lower_case_column_names_and_extra_columns(tmp_path: Path, folder: Path) -> None:
    other = tmp_path / "lower"
    other.mkdir()
    for t in TABLES.values():
        lines = (folder / t.file).read_text(encoding="utf-8").splitlines()
        lines[0] = lines[0].lower() + ",comment"
        lines[1:] = [f"{line},kept" for line in lines[1:]]
        (other / t.file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = load_tables(other)
    assert (read["adsl"]["COMMENT"] == "kept").all()
    assert_same_tables(load_tables(folder), read)


def test_numbers_with_stray_text_are_refused(folder: Path) -> None:
    text = (folder / "adsl.csv").read_text(encoding="utf-8").splitlines()
    cells = text[2].split(",")
    cells[5] = "455 cells"  # BCD4
    text[2] = ",".join(cells)
    (folder / "adsl.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    p = assert_located(problems_of(folder), "adsl.csv", "BCD4", 3, adam.RULE_NUMBER)
    assert p.got == '"455 cells"'


@pytest.mark.parametrize("spelled", ["il-2", "IL2", "Il-2"])
def test_arm_spelled_differently_is_refused_with_a_hint(
    tmp_path: Path, tables: dict[str, pd.DataFrame], spelled: str
) -> None:
    tables["adsl"].loc[tables["adsl"]["ARM"] == ARMS[0], "ARM"] = spelled
    folder = write_tables(tables, tmp_path / "adam")
    p = assert_located(problems_of(folder), "adsl.csv", "ARM", 2, 'ARM in {"IL-2", "Control"}')
    assert p.got == f'"{spelled}" (did you mean "IL-2"?)'


# --- datasets no analysis can use ---------------------------------------------------------


def test_one_arm_only_is_refused(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    keep = tables["adsl"]["ARM"] == ARMS[0]
    ids = set(tables["adsl"].loc[keep, "USUBJID"])
    one = {n: df[df["USUBJID"].isin(ids)].reset_index(drop=True) for n, df in tables.items()}
    p = assert_located(
        problems_of(write_tables(one, tmp_path / "a")), "adsl.csv", "ARM", None, adam.RULE_ALL_ARMS
    )
    assert p.got == "no subject in Control (only IL-2 3 subjects)"


def test_arm_without_cd4_rows_is_refused(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    control = set(tables["adsl"].loc[tables["adsl"]["ARM"] == ARMS[1], "USUBJID"])
    lb = tables["adlb"]
    tables["adlb"] = lb[~(lb["USUBJID"].isin(control) & (lb["PARAMCD"] == "CD4"))]
    folder = write_tables(tables, tmp_path / "a")
    p = assert_located(problems_of(folder), "adlb.csv", "PARAMCD", None, adam.RULE_ARM_PARAM)
    assert p.got == "no CD4 row for any subject of Control"


def test_no_baseline_for_a_parameter_is_refused(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    lb = tables["adlb"]
    vl = lb["PARAMCD"] == "VLLOG"
    lb.loc[vl, "ABLFL"] = ""
    lb.loc[vl, ["BASE", "CHG"]] = np.nan
    folder = write_tables(tables, tmp_path / "a")
    p = assert_located(problems_of(folder), "adlb.csv", "ABLFL", None, adam.RULE_ARM_BASELINE)
    assert p.got == "no ABLFL = Y row for VLLOG in IL-2, Control"


# --- synthetic rows carry their mark -----------------------------------------------------------


def test_mixing_synthetic_and_other_rows_is_refused(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    old = tables["adsl"].loc[0, "USUBJID"]
    new = f"{adam.SYNTHETIC_PREFIX}001"
    for df in tables.values():
        df.loc[df["USUBJID"] == old, "USUBJID"] = new
    folder = write_tables(tables, tmp_path / "a")
    p = assert_located(problems_of(folder), "adsl.csv", "USUBJID", 2, adam.RULE_NOT_MIXED)
    assert p.got.startswith("1 synthetic and 5 other subjects")


def test_every_new_rule_is_documented() -> None:
    documented = {rule for t in TABLES.values() for _, rule in adam.rules(t)}
    for rule in (
        adam.RULE_ONE_FILE,
        adam.RULE_COMMAS,
        adam.RULE_ALL_ARMS,
        adam.RULE_ARM_PARAM,
        adam.RULE_ARM_BASELINE,
        adam.RULE_NOT_MIXED,
        f"readable {adam.FORMATS['.xpt']}",
        f"readable {adam.FORMATS['.sas7bdat']}",
    ):
        assert rule in documented, rule


def test_no_traceback_for_any_of_them_in_the_cli(tmp_path: Path, folder: Path) -> None:
    from anrs119.data import validate_main

    (folder / "adsl.csv").write_bytes("USUBJID;ARM\n1;é\n".encode("latin-1"))
    assert validate_main(folder) == 1


def test_error_type_is_the_validation_error(folder: Path) -> None:
    (folder / "adsl.csv").write_bytes(b"")
    with pytest.raises(DataValidationError):
        load_tables(folder)


def test_windows_line_ends_and_spaces_around_names_are_read(tmp_path: Path, folder: Path) -> None:
    other = tmp_path / "crlf"
    other.mkdir()
    for t in TABLES.values():
        lines = (folder / t.file).read_text(encoding="utf-8").splitlines()
        lines[0] = ",".join(f" {name} " for name in lines[0].split(","))
        (other / t.file).write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    assert_same_tables(load_tables(folder), load_tables(other))


def test_na_written_for_missing_is_refused(folder: Path) -> None:
    text = (folder / "adsl.csv").read_text(encoding="utf-8").splitlines()
    at = text[0].split(",").index("BVLLOG")
    cells = text[1].split(",")
    cells[at] = "NA"
    text[1] = ",".join(cells)
    (folder / "adsl.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    p = assert_located(problems_of(folder), "adsl.csv", "BVLLOG", 2, adam.RULE_NUMBER)
    assert p.got == '"NA"'


def test_a_copy_of_the_embedded_csvs_is_still_synthetic(tmp_path: Path) -> None:
    from anrs119.data import load_dataset
    from anrs119.paths import SYNTHETIC_DIR

    copy = tmp_path / "looks-real"
    copy.mkdir()
    for t in TABLES.values():
        (copy / t.file.upper()).write_bytes((SYNTHETIC_DIR / t.file).read_bytes())
    ds = load_dataset(copy)
    assert ds.is_synthetic and ds.source == 'synthetic ADaM data "looks-real"'
    from anrs119.report.notice import SYNTHETIC_HEADLINE, notice_text

    assert SYNTHETIC_HEADLINE in notice_text(ds)


def test_latin1_xpt_is_read_as_windows_1252(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    # XPT records no encoding; SAS on Windows writes WLATIN1, so that is the fallback.
    tables["adae"].loc[0, "AEDECOD"] = "Cephalee"
    xpt = write_xpt_folder(tables, tmp_path / "x", 5)
    path = xpt / "ADAE.XPT"
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Cephalee", "Céphalée".encode("latin-1")))
    adae = load_tables(xpt)["adae"]
    assert "Céphalée" in set(adae["AEDECOD"])


def test_times_in_days_are_refused(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    tables["adtte"]["AVAL"] = tables["adtte"]["AVAL"] * 7 + 600  # days, as SAS exports count
    folder = write_tables(tables, tmp_path / "days")
    err = problems_of(folder)
    assert_located(err, "adtte.csv", "AVAL", 2, "AVAL in [0, 520]")


def test_typed_tables_forget_the_file_they_came_from(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    typed = load_tables(write_xpt_folder(tables, tmp_path / "x", 8))
    assert all(not df.attrs for df in typed.values())
