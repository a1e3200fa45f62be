"""The ADaM schema of the book, defined once: tables, columns and rules, with the validator.

The same objects check any dataset the book reads and render the data-dictionary page.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
import numbers
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from anrs119 import ARM_CODES, ARMS
from anrs119.adam_keys import duplicate_keys, usable_rows

Kind = Literal["text", "integer", "number"]

ROW_CONVENTION = (
    "in a CSV file rows are lines: the header is row 1, the first data row is row 2; "
    "in a SAS file (.xpt, .sas7bdat) rows are record numbers: the first record is row 1"
)
"""How rows are numbered in every error message (what a text editor, spreadsheet or SAS shows)."""

SYNTHETIC_STUDYID = "ANRS119-SYNTH"
"""STUDYID of every synthetic row: the mark travels with the data, not only in provenance.json."""

SYNTHETIC_PREFIX = f"{SYNTHETIC_STUDYID}-"
"""Every synthetic USUBJID starts with this (STUDYID-subject, the CDISC convention)."""

LAB_PARAMS: tuple[str, ...] = ("CD4", "VLLOG")
"""ADLB parameters the chapters analyze: each arm needs rows and baselines for each of them."""

MAX_SHOWN = 20
"""At most this many problems are listed in an error message (all are kept in `.problems`)."""

CHG_TOLERANCE = 1e-6
"""Absolute tolerance for CHG = AVAL - BASE and BASE = baseline AVAL (cells/µL or log10)."""

CD4_MAX = 5000.0
"""Highest credible CD4 count in cells/µL; above it the unit is almost surely wrong (cells/L)."""

VLLOG_RANGE = (0.0, 8.0)
"""Credible range of plasma HIV RNA in log10 copies/mL (below 0 or above 8 is not a viral load)."""

WEEKS_MAX = 520.0
"""Longest credible follow-up in weeks (10 years; the trial followed patients for about
three): a larger time to event is almost surely in days, the usual unit of SAS exports."""

AGE_RANGE = (18, 100)
"""The trial enrolled adults; above 100 years is taken as a data-entry error."""


# --------------------------------------------------------------------------------------
# The schema as data
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One ADaM variable: its type, whether it must be there, and the values it may take."""

    name: str
    kind: Kind
    label: str
    description: str
    required: bool = True
    nullable: bool = False
    """May a cell be empty? (An empty cell is the only way to write a missing value.)"""
    unit: str = ""
    allowed: tuple[str | int, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("integer", "number")


@dataclass(frozen=True)
class ParamRange:
    """A range that holds for some value columns only on the rows of one PARAMCD."""

    paramcd: str
    columns: tuple[str, ...]
    minimum: float | None
    maximum: float | None
    unit: str


@dataclass(frozen=True)
class Table:
    """One ADaM dataset, stored as ``<name>.csv``."""

    name: str
    label: str
    description: str
    key: tuple[str, ...]
    """Columns that identify a row: no two rows may share them."""
    columns: tuple[Column, ...]
    param_ranges: tuple[ParamRange, ...] = ()
    required_params: tuple[str, ...] = ()
    """Every subject of adsl has exactly one row for each of these PARAMCD values."""
    min_rows: int = 0

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r} in the schema")


_USUBJID = Column(
    "USUBJID",
    "text",
    "Unique subject identifier",
    "Identifies the patient across all tables. In the synthetic reconstruction every value "
    f"starts with {SYNTHETIC_PREFIX}, so its rows stay recognisable wherever they are copied; "
    "a dataset may not mix such rows with others.",
)
_YN = ("Y", "N")

ADSL = Table(
    name="adsl",
    label="Subject level",
    description="One row per randomized patient: arm and baseline characteristics.",
    key=("USUBJID",),
    min_rows=1,
    columns=(
        _USUBJID,
        Column("ARM", "text", "Randomized arm", "Arm as randomized.", allowed=ARMS),
        Column(
            "ARMCD",
            "text",
            "Randomized arm code",
            "Short code of ARM; must match it.",
            allowed=tuple(ARM_CODES[a] for a in ARMS),
        ),
        Column(
            "AGE",
            "integer",
            "Age at randomization",
            "Completed years.",
            unit="years",
            minimum=AGE_RANGE[0],
            maximum=AGE_RANGE[1],
        ),
        Column("SEX", "text", "Sex", "M = male, F = female.", allowed=("M", "F")),
        Column(
            "BCD4",
            "number",
            "Baseline CD4 count",
            "CD4 T-cell count at randomization.",
            unit="cells/uL",
            minimum=0.0,
            maximum=CD4_MAX,
        ),
        Column(
            "BVLLOG",
            "number",
            "Baseline plasma HIV RNA",
            "Viral load at randomization, log10 scale; defines the low-viral-load subgroup.",
            unit="log10 copies/mL",
            minimum=VLLOG_RANGE[0],
            maximum=VLLOG_RANGE[1],
        ),
        Column(
            "TRT01P",
            "text",
            "Planned treatment",
            "Planned treatment for the study period (same labels as ARM).",
            required=False,
            allowed=ARMS,
        ),
        Column(
            "ITTFL",
            "text",
            "Intention-to-treat population flag",
            "Y if the patient belongs to the intention-to-treat population.",
            required=False,
            allowed=_YN,
        ),
        Column(
            "SAFFL",
            "text",
            "Safety population flag",
            "Y if the patient belongs to the safety population.",
            required=False,
            allowed=_YN,
        ),
        Column(
            "STUDYID",
            "text",
            "Study identifier",
            f"Name of the study; {SYNTHETIC_STUDYID} on every row of the synthetic reconstruction.",
            required=False,
            nullable=True,
        ),
        Column(
            "SITEID", "text", "Site identifier", "Recruiting center.", required=False, nullable=True
        ),
    ),
)

ADLB = Table(
    name="adlb",
    label="Laboratory values (BDS)",
    description=(
        "One row per patient, parameter and visit: CD4 count and log10 plasma HIV RNA, "
        "with the baseline value and the change from baseline."
    ),
    key=("USUBJID", "PARAMCD", "AVISITN"),
    param_ranges=(
        ParamRange("CD4", ("AVAL", "BASE"), 0.0, CD4_MAX, "cells/uL"),
        ParamRange("VLLOG", ("AVAL", "BASE"), VLLOG_RANGE[0], VLLOG_RANGE[1], "log10 copies/mL"),
    ),
    columns=(
        _USUBJID,
        Column(
            "PARAMCD",
            "text",
            "Parameter code",
            "CD4 = CD4 count (cells/µL); VLLOG = plasma HIV RNA (log10 copies/mL).",
            allowed=("CD4", "VLLOG"),
        ),
        Column(
            "AVISITN",
            "integer",
            "Analysis visit",
            "Scheduled visit, in weeks since randomization (baseline = 0).",
            unit="weeks",
        ),
        Column(
            "AVAL",
            "number",
            "Analysis value",
            "The measured value, in the parameter's unit.",
            unit="by PARAMCD",
        ),
        Column(
            "BASE",
            "number",
            "Baseline value",
            "AVAL of the patient's baseline row (ABLFL = Y) for the same parameter; "
            "empty if there is no baseline value.",
            unit="by PARAMCD",
            nullable=True,
        ),
        Column(
            "CHG",
            "number",
            "Change from baseline",
            "AVAL - BASE; empty when BASE is empty (may be empty on the baseline row).",
            unit="by PARAMCD",
            nullable=True,
        ),
        Column(
            "ABLFL",
            "text",
            "Baseline record flag",
            "Y on the baseline row of each patient and parameter, otherwise empty.",
            nullable=True,
            allowed=("Y",),
        ),
        Column(
            "ONART",
            "text",
            "On antiretroviral therapy",
            "Y if the value was taken after the patient started ART, otherwise N; "
            "analyses of CD4 and viral load use it to handle ART as an intercurrent event.",
            allowed=_YN,
        ),
        Column(
            "PARAM", "text", "Parameter", "Full name of PARAMCD.", required=False, nullable=True
        ),
        Column(
            "AVISIT",
            "text",
            "Visit name",
            "Visit label, e.g. 'Week 96'.",
            required=False,
            nullable=True,
        ),
    ),
)

ADTTE = Table(
    name="adtte",
    label="Time to event",
    description=(
        "One row per patient and end point: time from randomization to the event, "
        "or to the last time the patient was known to be free of it (censored)."
    ),
    key=("USUBJID", "PARAMCD"),
    required_params=("PRIMARY", "ARTINIT", "CD4LT300", "AIDSDTH"),
    columns=(
        _USUBJID,
        Column(
            "PARAMCD",
            "text",
            "Parameter code",
            "PRIMARY = composite primary end point (CD4 < 300 cells/µL, ART initiation, "
            "AIDS-defining event or death, whichever first); ARTINIT = start of ART; "
            "CD4LT300 = first CD4 < 300 cells/µL; AIDSDTH = AIDS-defining event or death; "
            "DEATH (optional) = death from any cause, needed to count deaths that follow an "
            "AIDS-defining event.",
            allowed=("PRIMARY", "ARTINIT", "CD4LT300", "AIDSDTH", "DEATH"),
        ),
        Column(
            "AVAL",
            "number",
            "Analysis value",
            "Weeks from randomization to the event or censoring (not days).",
            unit="weeks",
            minimum=0.0,
            maximum=WEEKS_MAX,
        ),
        Column(
            "CNSR",
            "integer",
            "Censoring",
            "0 = the event happened at AVAL; 1 = censored at AVAL (ADaM convention).",
            allowed=(0, 1),
        ),
        Column(
            "EVNTDESC",
            "text",
            "Event description",
            "What happened at AVAL (e.g. which component of the composite came first).",
            nullable=True,
        ),
        Column(
            "CNSDTDSC",
            "text",
            "Censoring date description",
            "Why follow-up for this end point stopped, on censored rows.",
            required=False,
            nullable=True,
        ),
        Column(
            "PARAM", "text", "Parameter", "Full name of PARAMCD.", required=False, nullable=True
        ),
    ),
)

ADAE = Table(
    name="adae",
    label="Adverse events",
    description="One row per adverse event (a patient may have none or several).",
    key=(),
    columns=(
        _USUBJID,
        Column(
            "AEDECOD", "text", "Dictionary-derived term", "Preferred term of the adverse event."
        ),
        Column("AEBODSYS", "text", "Body system or organ class", "System organ class."),
        Column(
            "AETOXGR",
            "integer",
            "Toxicity grade",
            "1 = mild ... 4 = life-threatening, 5 = death.",
            minimum=1,
            maximum=5,
        ),
        Column(
            "ASTWK",
            "number",
            "Onset week",
            "Week of onset, counted from randomization.",
            unit="weeks",
        ),
        Column("AETERM", "text", "Reported term", "Verbatim term.", required=False, nullable=True),
        Column(
            "AESER",
            "text",
            "Serious event",
            "Y if the event was serious.",
            required=False,
            allowed=_YN,
        ),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ADSL, ADLB, ADTTE, ADAE)}
"""The four tables every dataset must provide, in the order of the data dictionary."""


# --------------------------------------------------------------------------------------
# Rules: the exact wording used in error messages (and listed on the dictionary page)
# --------------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"in [{_fmt(float(minimum))}, {_fmt(float(maximum))}]"
    if minimum is not None:
        return f">= {_fmt(float(minimum))}"
    return f"<= {_fmt(float(maximum))}"


_TOL = f"{CHG_TOLERANCE:.0e}".replace("e-0", "e-")  # "1e-6", as people write it

RULE_FOLDER = "folder exists"
RULE_FILE = "file present"
RULE_READABLE = "readable CSV text (UTF-8, or UTF-16 with its byte-order mark)"
RULE_ONE_FILE = "one file per table"
RULE_FORMAT = "a CSV, XPT or sas7bdat file"
RULE_COMMAS = "fields separated by commas"
RULE_HEADER = "header row present"
RULE_FIELDS = "same number of fields as the header"
RULE_UNIQUE_NAMES = "column names unique"
RULE_REQUIRED = "required column present"
RULE_NOT_EMPTY = "not empty"
RULE_NUMBER = "a number (empty cell = missing)"
RULE_FINITE = "a finite number"
RULE_INTEGER = "a whole number"
RULE_MIN_ROWS = "at least one data row"
RULE_NO_SPACES = "text without spaces around it (SAS padding aside)"
RULE_TEXT = "stored as text, not as numeric codes"
RULE_ARMCD = "ARMCD matches ARM (" + ", ".join(f"{a} -> {c}" for a, c in ARM_CODES.items()) + ")"
RULE_IN_ADSL = "USUBJID in adsl"
RULE_ALL_ARMS = "every arm randomized: " + ", ".join(ARMS)
RULE_ARM_PARAM = (
    "every arm has subjects with rows for each PARAMCD in {" + ", ".join(LAB_PARAMS) + "}"
)
RULE_ARM_BASELINE = (
    "every arm has baseline rows (ABLFL = Y) for each PARAMCD in {" + ", ".join(LAB_PARAMS) + "}"
)
RULE_NOT_MIXED = (
    f"synthetic rows (STUDYID {SYNTHETIC_STUDYID}, USUBJID {SYNTHETIC_PREFIX}...) "
    "not mixed with other rows"
)
RULE_CHG = f"CHG = AVAL - BASE (within {_TOL})"
RULE_CHG_NO_BASE = "CHG empty when BASE is empty"
RULE_CHG_MISSING = "CHG present when AVAL and BASE are (except on the baseline row)"
RULE_ONE_BASELINE = "at most one ABLFL = Y row per USUBJID and PARAMCD"
RULE_BASE = f"BASE = AVAL of the ABLFL = Y row (within {_TOL})"


def allowed_rule(col: Column) -> str:
    values = [_fmt(v) for v in (col.allowed or ())]
    if col.nullable and col.kind == "text":
        values.append('""')
    return f"{col.name} in {{{', '.join(values)}}}"


def range_rule(col: Column) -> str:
    return f"{col.name} {_range_text(col.minimum, col.maximum)}"


def param_range_rule(column: str, pr: ParamRange) -> str:
    return f"{column} {_range_text(pr.minimum, pr.maximum)} when PARAMCD = {pr.paramcd}"


def unique_rule(table: Table) -> str:
    if len(table.key) == 1:
        return f"{table.key[0]} unique"
    return "one row per " + ", ".join(table.key)


def required_params_rule(table: Table) -> str:
    return "one row per adsl subject for each PARAMCD in {" + ", ".join(table.required_params) + "}"


def rules(table: Table) -> list[tuple[str, str]]:
    """(column, rule) pairs checked for one table, worded exactly as in error messages."""
    out: list[tuple[str, str]] = [
        ("", RULE_FILE),
        ("", RULE_ONE_FILE),
        ("", RULE_READABLE),
        *(("", f"readable {FORMATS[ext]}") for ext in (".xpt", ".sas7bdat")),
        ("", RULE_COMMAS),
        ("", RULE_HEADER),
        ("", RULE_FIELDS),
        ("", RULE_UNIQUE_NAMES),
    ]
    for col in table.columns:
        if col.required:
            out.append((col.name, RULE_REQUIRED))
        if not col.nullable:
            out.append((col.name, RULE_NOT_EMPTY))
        if col.is_numeric:
            out += [(col.name, RULE_NUMBER), (col.name, RULE_FINITE)]
        if col.kind == "integer":
            out.append((col.name, RULE_INTEGER))
        if col.kind == "text":
            out.append((col.name, RULE_NO_SPACES))
        if col.kind == "text" and col.allowed is not None:
            out.append((col.name, RULE_TEXT))
        if col.allowed is not None:
            out.append((col.name, allowed_rule(col)))
        if col.minimum is not None or col.maximum is not None:
            out.append((col.name, range_rule(col)))
    for pr in table.param_ranges:
        out.extend((c, param_range_rule(c, pr)) for c in pr.columns)
    if table.min_rows:
        out.append(("", RULE_MIN_ROWS))
    if table.key:
        out.append((", ".join(table.key), unique_rule(table)))
    if table.name != ADSL.name:
        out.append(("USUBJID", RULE_IN_ADSL))
    if table.required_params:
        out.append(("PARAMCD", required_params_rule(table)))
    if table.name == ADSL.name:
        out += [("ARMCD", RULE_ARMCD), ("ARM", RULE_ALL_ARMS), ("USUBJID", RULE_NOT_MIXED)]
    if table.name == ADLB.name:
        out += [
            ("PARAMCD", RULE_ARM_PARAM),
            ("ABLFL", RULE_ARM_BASELINE),
            ("CHG", RULE_CHG),
            ("CHG", RULE_CHG_NO_BASE),
            ("CHG", RULE_CHG_MISSING),
            ("ABLFL", RULE_ONE_BASELINE),
            ("BASE", RULE_BASE),
        ]
    return out


# --------------------------------------------------------------------------------------
# Problems and the error
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One broken rule, located by file, column and row (see ROW_CONVENTION)."""

    file: str
    column: str | None
    row: int | None
    rule: str
    got: str
    usubjid: str = ""

    def __str__(self) -> str:
        row = "-" if self.row is None else str(self.row)
        where = f"file {self.file}, column {self.column or '-'}, row {row}"
        if self.usubjid:
            where += f" (USUBJID {self.usubjid})"
        return f"{where}: rule '{self.rule}': got {self.got}"


class DataValidationError(ValueError):
    """A dataset breaks the ADaM schema; ``problems`` lists every broken rule found."""

    def __init__(self, source: str, problems: Iterable[Problem], max_shown: int = MAX_SHOWN):
        self.source = source
        self.problems: tuple[Problem, ...] = tuple(problems)
        n = len(self.problems)
        lines = [f"{source}: {n} problem{'s' if n != 1 else ''} found ({ROW_CONVENTION})"]
        lines += [f"  {p}" for p in self.problems[:max_shown]]
        if n > max_shown:
            lines.append(f"  ... and {n - max_shown} more")
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------------------
# Reading CSV and SAS files without silent coercion
# --------------------------------------------------------------------------------------

ROWS_ATTR = "csv_rows"
"""DataFrame.attrs key: the row number of each data row (CSV line, or SAS record number)."""

FILE_ATTR = "source_file"
"""DataFrame.attrs key: the name of the file the table was read from (as spelled on disk)."""

HEADER_ROW_ATTR = "header_row"
"""DataFrame.attrs key: the row that holds the column names (1 in CSV; None in SAS files)."""

SAS_MISSING_ATTR = "missing_shown_as"
"""DataFrame.attrs key: how a missing cell is named in messages (set for SAS files)."""

FORMATS: dict[str, str] = {
    ".csv": "CSV (UTF-8, or UTF-16 with its byte-order mark; comma separated)",
    ".xpt": "SAS transport file (XPORT version 5 or 8)",
    ".sas7bdat": "SAS dataset",
}
"""File formats the book reads, by extension (matched ignoring case)."""

XPT_ENCODINGS: tuple[str, ...] = ("UTF-8", "WINDOWS-1252")
"""XPT files do not record their encoding: try UTF-8, then SAS's WLATIN1 (Windows-1252)."""


def _sas_reader():
    # pyreadstat (ReadStat), not pandas.read_sas: it reads XPT v5 and v8 and sas7bdat with
    # one API and can write XPT, which the downloads and the tests need; pandas reads XPT
    # version 5 only and writes no SAS format.
    import pyreadstat

    return pyreadstat


def table_files(folder: Path, table: Table) -> list[Path]:
    """The files of ``folder`` that hold ``table``: ``<name>.<csv|xpt|sas7bdat>``, any case."""
    wanted = {f"{table.name}{ext}" for ext in FORMATS}
    return sorted(p for p in Path(folder).iterdir() if p.name.lower() in wanted and p.is_file())


def _no_file_problem(folder: Path, table: Table) -> Problem:
    names = ", ".join(f"{table.name}{ext}" for ext in FORMATS)
    near = sorted(
        p.name
        for p in Path(folder).iterdir()
        if p.stem.lower() == table.name and p.suffix.lower() not in FORMATS
    )
    got = f"none of {names} (any case) in the folder"
    if near:
        got += f"; found {', '.join(near)}, a format the book does not read"
    return Problem(f"{table.name}.*", None, None, RULE_FILE, got)


def find_table_file(folder: Path, table: Table) -> Path:
    """The one file holding ``table`` in ``folder``; DataValidationError if none or several."""
    files = table_files(folder, table)
    if not files:
        raise DataValidationError(str(folder), [_no_file_problem(folder, table)])
    if len(files) > 1:
        got = ", ".join(p.name for p in files) + " (keep one: the book cannot tell which is right)"
        raise DataValidationError(
            str(folder), [Problem(f"{table.name}.*", None, None, RULE_ONE_FILE, got)]
        )
    return files[0]


def _normalise_names(name: str, header: list[str], header_row: int | None) -> list[str]:
    """Column names as the schema spells them: stripped, upper case (SAS names ignore case)."""
    out = [str(c).strip().upper() for c in header]
    problems = []
    for upper in sorted({c for c in out if out.count(c) > 1}):
        spelled = [
            json.dumps(str(h).strip()) for h, u in zip(header, out, strict=True) if u == upper
        ]
        problems.append(
            Problem(name, upper, header_row, RULE_UNIQUE_NAMES, f"{' and '.join(spelled)}")
        )
    if problems:
        raise DataValidationError(name, problems)
    return out


_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian mark starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
"""Byte-order marks that name a file's encoding beyond doubt (Excel's "Unicode Text" and
Windows tools write UTF-16 with one); the codec reads the mark and the byte order from it."""

SAVE_AS_CSV = 'save the file as UTF-8 comma-separated CSV, in Excel "CSV UTF-8 (Comma delimited)"'
"""How to re-export, in every message about the shape of a CSV file."""


def _unreadable(path: Path, line: int, got: str) -> DataValidationError:
    return DataValidationError(str(path), [Problem(path.name, None, line, RULE_READABLE, got)])


def _nul_problem(path: Path, raw: bytes) -> DataValidationError:
    """A NUL byte: UTF-16 written without its byte-order mark, or not a text file at all.

    UTF-16 without a mark is refused rather than guessed: the byte order would be a guess.
    """
    at = raw.index(b"\x00")
    head = raw[:200]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) >= len(head) // 4:
        order = "big-endian" if even > odd else "little-endian"
        got = f"NUL bytes: the file looks like UTF-16 ({order}) without a byte-order mark; "
        return _unreadable(path, 1, got + SAVE_AS_CSV)
    line = raw[:at].count(b"\n") + 1
    return _unreadable(path, line, f"a NUL byte (0x00) at byte {at}: not a text file")


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError as err:
                line = raw[: err.start].decode(codec, errors="replace").count("\n") + 1
                got = f"not valid {name} after its byte-order mark ({err.reason}); {SAVE_AS_CSV}"
                raise _unreadable(path, line, got) from err
    # UTF-8 allows NUL, but no spreadsheet writes it: it comes from UTF-16 without a mark.
    if b"\x00" in raw:
        raise _nul_problem(path, raw)
    try:
        # utf-8-sig: files saved by spreadsheet programs often start with a byte-order mark.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        byte = raw[err.start]
        got = (
            f"byte 0x{byte:02x} is not UTF-8 (the file is probably Latin-1 or Windows-1252: "
            "save it as UTF-8)"
        )
        raise _unreadable(path, line, got) from err


_SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}

_SEP_HINT = re.compile(r'"?sep=(.)"?\1*', re.IGNORECASE)
"""Excel's first-line hint naming the separator (``sep=,``), with the padding some tools add."""


def _drop_sep_hint(path: Path, text: str) -> str:
    """The text without Excel's ``sep=`` line, kept as a blank line so rows stay file lines.

    ``sep=,`` only confirms the format and is skipped; any other separator is refused like
    a file separated by it (a semicolon usually means decimal commas too).
    """
    first, newline, rest = text.partition("\n")
    hint = _SEP_HINT.fullmatch(first.rstrip("\r"))
    if hint is None:
        return text
    sep = hint.group(1)
    if sep != ",":
        what = _SEPARATORS.get(sep, json.dumps(sep))
        line = json.dumps(first.rstrip())
        got = f"a first line {line} declaring fields separated by {what} ({SAVE_AS_CSV})"
        raise DataValidationError(str(path), [Problem(path.name, None, 1, RULE_COMMAS, got)])
    return newline + rest


def read_csv_table(path: Path) -> pd.DataFrame:
    """Read one CSV file as text cells (no type guessing); empty cells stay ``""``.

    Blank lines are skipped, as in pandas; the file row of each data row is kept in
    ``df.attrs[ROWS_ATTR]`` so messages point at the right line.
    """
    path = Path(path)
    name = path.name
    text = _drop_sep_hint(path, _decode(path))
    records: list[list[str]] = []
    rows: list[int] = []
    problems: list[Problem] = []
    header: list[str] | None = None
    header_row = 1
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        line = 0
        for record in reader:
            start, line = line + 1, reader.line_num
            # Blank lines, and the all-empty rows spreadsheets leave (",,,,"), hold no record.
            if not record or all(not f.strip() for f in record):
                continue
            if header is None:
                header, header_row = record, start
                continue
            if len(record) != len(header):
                got = f"{len(record)} (header has {len(header)})"
                problems.append(Problem(name, None, start, RULE_FIELDS, got))
                continue
            records.append(record)
            rows.append(start)
    except csv.Error as err:
        raise DataValidationError(
            str(path), [Problem(name, None, reader.line_num, RULE_READABLE, str(err))]
        ) from err
    if header is None:
        raise DataValidationError(str(path), [Problem(name, None, 1, RULE_HEADER, "an empty file")])
    if len(header) == 1:
        for sep, what in _SEPARATORS.items():
            if sep != "," and sep in header[0]:
                got = f"fields separated by {what} ({SAVE_AS_CSV})"
                raise DataValidationError(
                    str(path), [Problem(name, None, header_row, RULE_COMMAS, got)]
                )
    header = _normalise_names(name, header, header_row)
    if problems:
        raise DataValidationError(str(path), problems)
    df = pd.DataFrame(records, columns=header, dtype=object)
    if not records:
        df = pd.DataFrame({c: pd.Series([], dtype=object) for c in header})
    df.attrs.update({ROWS_ATTR: tuple(rows), FILE_ATTR: name, HEADER_ROW_ATTR: header_row})
    return df


def _read_sas_file(path: Path) -> pd.DataFrame:
    reader = _sas_reader()
    sas7bdat = path.suffix.lower() == ".sas7bdat"
    fn = reader.read_sas7bdat if sas7bdat else reader.read_xport
    # sas7bdat records its encoding; XPT does not (see XPT_ENCODINGS).
    encodings = (None,) if sas7bdat else XPT_ENCODINGS
    last: Exception | None = None
    for encoding in encodings:
        try:
            df, _ = fn(str(path), encoding=encoding)
            return df
        except Exception as err:  # ReadStat raises its own types; all mean "unreadable"
            last = err
    kind = FORMATS[path.suffix.lower()]
    got = f"{type(last).__name__}: {last}" if last else "unreadable"
    raise DataValidationError(
        str(path), [Problem(path.name, None, None, f"readable {kind}", got)]
    ) from last


SAS_MISSING = "a SAS missing value (., .A-.Z or ._)"
"""How an empty numeric or blank character cell of a SAS file is shown in messages."""


def read_sas_table(path: Path) -> pd.DataFrame:
    """Read one XPT or sas7bdat file as SAS users see it.

    Character values lose their trailing blanks (SAS pads them to the variable's length and
    ignores the padding when comparing); the numeric missing value ``.`` and the special
    missing values ``.A``-``.Z`` and ``._`` are all missing, as in SAS procedures; rows are
    record numbers (the first record is row 1). Date-formatted numeric variables are read as
    dates, so a date where the schema expects weeks is refused rather than read as a count
    of days since 1960.
    """
    path = Path(path)
    df = _read_sas_file(path)
    names = _normalise_names(path.name, list(df.columns), None)
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for original, name in zip(df.columns, names, strict=True):
        values = df[original].to_numpy(dtype=object)
        out[name] = pd.Series(
            [v.rstrip(" ") if isinstance(v, str) else v for v in values], dtype=object
        )
    out.attrs.update(
        {
            ROWS_ATTR: tuple(range(1, len(df) + 1)),
            FILE_ATTR: path.name,
            HEADER_ROW_ATTR: None,
            SAS_MISSING_ATTR: SAS_MISSING,
        }
    )
    return out


def read_table(path: Path) -> pd.DataFrame:
    """Read one table file (CSV, XPT or sas7bdat, by extension) with its row numbers."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(
            str(path.parent),
            [Problem(path.name, None, None, RULE_FILE, f"no such file in {path.parent}")],
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_table(path)
    if suffix in FORMATS:
        return read_sas_table(path)
    got = f"extension {path.suffix!r}; the book reads {', '.join(FORMATS)}"
    raise DataValidationError(str(path), [Problem(path.name, None, None, RULE_FORMAT, got)])


def _existing_folder(folder: Path | str) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        what = "a file, not a folder" if folder.exists() else "no such folder"
        raise DataValidationError(
            str(folder), [Problem(str(folder), None, None, RULE_FOLDER, what)]
        )
    return folder


def _read_folder(folder: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for table in TABLES.values():
        try:
            tables[table.name] = read_table(find_table_file(folder, table))
        except DataValidationError as err:
            problems.extend(err.problems)
    return tables, problems


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Read the four tables of ``folder`` (any supported format) raw; read problems in one error."""
    folder = _existing_folder(folder)
    tables, problems = _read_folder(folder)
    if problems:
        raise DataValidationError(str(folder), problems)
    return tables


def load_tables(folder: Path, source: str | None = None) -> dict[str, pd.DataFrame]:
    """Read, validate and type the four tables of ``folder`` (raises DataValidationError)."""
    folder = _existing_folder(folder)
    source = source or str(folder)
    raw, unreadable = _read_folder(folder)
    # Validate the readable tables too, so one run reports every problem of the folder.
    return _validate(raw, source, unreadable)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _show(value: object) -> str:
    """A cell as the user wrote it: numbers bare, anything else quoted (shows stray spaces)."""
    if isinstance(value, str):
        return value if _NUMBER.fullmatch(value) else json.dumps(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        return _fmt(float(value)) if isinstance(value, float | np.floating) else str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time | pd.Timestamp):
        return f"the SAS date or time {value.isoformat()}"
    return json.dumps(str(value))


def _squash(value: object) -> str:
    return re.sub(r"[^0-9a-z]", "", str(value).lower())


def _did_you_mean(value: object, allowed: Iterable[object]) -> str:
    """A hint when the value is an allowed one spelled differently ("il2" for "IL-2").

    Only a hint: the value is still refused, because guessing an arm is not for the book to do.
    """
    near = [a for a in allowed if isinstance(a, str) and _squash(a) == _squash(value)]
    return f" (did you mean {json.dumps(near[0])}?)" if near else ""


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _as_text(value: object) -> str:
    """A cell of a text column as text; a number as SAS prints it (1001, never "1001.0").

    A SAS numeric USUBJID of 1001 is the subject a CSV calls "1001": written without the
    decimals a float would add, the two tables match instead of losing every subject.
    """
    if isinstance(value, str):
        return value
    if _is_number(value):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return str(int(number))
        return repr(number)
    return str(value)


_EDGE_SPACES = "\u200b\u200c\u200d\u2060\ufeff"
"""Zero-width characters that str.isspace() misses but that hide at the edge of a cell."""

_CONTROL_NAMES = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}


_SPACES_AROUND = re.compile(rf"^[\s{_EDGE_SPACES}]+|[\s{_EDGE_SPACES}]+$")


def _strip_spaces(text: str) -> str:
    return _SPACES_AROUND.sub("", text)


def _char_name(char: str) -> str:
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "")
    return f"{name} U+{ord(char):04X}".strip()


def _spaces_note(text: str, stripped: str) -> str:
    """Which invisible characters surround ``text`` (named: U+00A0 looks like a space)."""
    if not stripped:
        return "only " + ", ".join(sorted({_char_name(c) for c in text}))
    parts = []
    if not text.startswith(stripped):
        parts.append(f"starts with {_char_name(text[0])}")
    if not text.endswith(stripped):
        parts.append(f"ends with {_char_name(text[-1])}")
    return " and ".join(parts)


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


@dataclass
class _Col:
    """A parsed column: values, which cells are empty, and which broke a rule already."""

    values: np.ndarray
    missing: np.ndarray
    bad: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return ~self.missing & ~self.bad


class _Checker:
    """Validates one table, collecting problems; keeps parsed columns for cross-table rules."""

    def __init__(self, table: Table, df: pd.DataFrame, problems: list[Problem]):
        self.table = table
        self.df = df
        self.problems = problems
        n = len(df)
        rows = df.attrs.get(ROWS_ATTR)
        # Frames built in memory (not read from CSV) are numbered as if written without blanks.
        self.rows = np.asarray(rows if rows is not None and len(rows) == n else range(2, n + 2))
        self.file = str(df.attrs.get(FILE_ATTR, table.file))
        self.header_row: int | None = df.attrs.get(HEADER_ROW_ATTR, 1)
        self.missing_as = str(df.attrs.get(SAS_MISSING_ATTR, "an empty cell"))
        self.cols: dict[str, _Col] = {}
        self.raw: dict[str, np.ndarray] = {}
        self.stored_as_numbers: set[str] = set()
        """Text columns whose file stored numbers (a SAS numeric variable)."""
        self.ids = np.full(n, "", dtype=object)

    def add(self, column: str | None, i: int | None, rule: str, got: str) -> None:
        row = None if i is None else int(self.rows[i])
        subject = "" if i is None or column == "USUBJID" else str(self.ids[i])
        self.problems.append(Problem(self.file, column, row, rule, got, subject))

    def run(self) -> None:
        names = list(self.df.columns)
        if len(set(names)) != len(names):
            for name in sorted({str(c) for c in names if names.count(c) > 1}):
                got = f"{json.dumps(name)} {names.count(name)} times"
                self.problems.append(
                    Problem(self.file, name, self.header_row, RULE_UNIQUE_NAMES, got)
                )
            return
        for col in self.table.columns:
            if col.name not in self.df.columns and col.required:
                self.problems.append(
                    Problem(
                        self.file,
                        col.name,
                        self.header_row,
                        RULE_REQUIRED,
                        "columns " + ", ".join(map(str, names)) if names else "no columns",
                    )
                )
        if "USUBJID" in self.df.columns:
            self.ids = np.array(
                [_show(v) if not isinstance(v, str) else v for v in self.df["USUBJID"]],
                dtype=object,
            )
        for col in self.table.columns:
            if col.name in self.df.columns:
                self.cols[col.name] = self._check_column(col)
        self._check_param_ranges()
        if len(self.df) < self.table.min_rows:
            self.add(None, None, RULE_MIN_ROWS, "no data rows")
        self._check_unique()

    def _check_column(self, col: Column) -> _Col:
        series = self.df[col.name]
        raw = series.to_numpy(dtype=object)
        self.raw[col.name] = raw
        n = len(raw)
        missing = np.fromiter((_is_missing(v) or v == "" for v in raw), bool, n)
        bad = np.zeros(n, bool)
        if col.is_numeric:
            values = np.full(n, np.nan)
            for i, v in enumerate(raw):
                if missing[i]:
                    continue
                if isinstance(v, str) and _NUMBER.fullmatch(v):
                    values[i] = float(v)
                elif isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_):
                    values[i] = float(v)
                    if not math.isfinite(values[i]):
                        bad[i] = True
                        self.add(col.name, i, RULE_FINITE, _show(v))
                else:
                    bad[i] = True
                    self.add(col.name, i, RULE_NUMBER, _show(v))
            if col.kind == "integer":
                frac = ~missing & ~bad & (values != np.round(values))
                for i in np.flatnonzero(frac):
                    bad[i] = True
                    self.add(col.name, int(i), RULE_INTEGER, _show(raw[i]))
        else:
            values = np.array(
                ["" if missing[i] else _as_text(v) for i, v in enumerate(raw)], dtype=object
            )
            numeric = ~missing & np.fromiter((_is_number(v) for v in raw), bool, n)
            if numeric.any():
                self.stored_as_numbers.add(col.name)
                if col.allowed is not None:
                    self._refuse_codes(col, raw, numeric, bad)
            self._check_spaces(col, values, missing | bad, bad)
        if not col.nullable:
            for i in np.flatnonzero(missing):
                bad[i] = True
                self.add(col.name, int(i), RULE_NOT_EMPTY, self.missing_as)
        ok = ~missing & ~bad
        if col.allowed is not None:
            allowed = {float(a) for a in col.allowed} if col.is_numeric else set(col.allowed)
            for i in np.flatnonzero(ok):
                if values[i] not in allowed:
                    bad[i] = True
                    got = _show(raw[i]) + _did_you_mean(values[i], col.allowed or ())
                    self.add(col.name, int(i), allowed_rule(col), got)
        if col.minimum is not None or col.maximum is not None:
            lo = -np.inf if col.minimum is None else col.minimum
            hi = np.inf if col.maximum is None else col.maximum
            for i in np.flatnonzero(ok & ~bad):
                if not lo <= values[i] <= hi:
                    bad[i] = True
                    self.add(col.name, int(i), range_rule(col), _show(raw[i]))
        return _Col(values, missing, bad)

    def _refuse_codes(
        self, col: Column, raw: np.ndarray, numeric: np.ndarray, bad: np.ndarray
    ) -> None:
        """One problem for a coded column stored as numbers: the codes cannot be mapped.

        SAS keeps the labels of coded values (1 = "IL-2") in a format catalog that an XPT
        or sas7bdat file does not carry, so which number is which arm is not for the book
        to guess; one problem per column, not per row, because every row is wrong the same way.
        """
        idx = np.flatnonzero(numeric)
        bad[idx] = True
        counts: dict[float, int] = {}
        for i in idx:
            counts[float(raw[i])] = counts.get(float(raw[i]), 0) + 1
        shown = [f"{_fmt(v)} ({k} row{'s' if k != 1 else ''})" for v, k in sorted(counts.items())]
        if len(shown) > 10:
            shown = [*shown[:10], f"... {len(shown) - 10} more values"]
        expected = ", ".join(_fmt(a) for a in col.allowed or ())
        got = (
            f"numbers {', '.join(shown)} where text {expected} is expected: a numeric SAS "
            "variable holds codes whose labels are in a format catalog the file does not "
            f"carry; export {col.name} as its formatted text values"
        )
        self.add(col.name, int(idx[0]), RULE_TEXT, got)

    def _check_spaces(
        self, col: Column, values: np.ndarray, skip: np.ndarray, bad: np.ndarray
    ) -> None:
        """Refuse text with spaces around it, named, rather than let it mismatch.

        "IL-2\u00a0" (a no-break space, from a copy-paste) looks like "IL-2" but matches
        nothing: as a USUBJID it loses the subject's rows, as an EVNTDESC its events. SAS
        padding (trailing blanks) is already gone; a CSV cell is refused like a SAS value
        with a leading blank, because which spaces are data is not for the book to guess.
        """
        for i in np.flatnonzero(~skip):
            text = values[i]
            stripped = _strip_spaces(text)
            if stripped == text:
                continue
            bad[i] = True
            note = _spaces_note(text, stripped)
            if stripped and col.allowed is not None and stripped in col.allowed:
                note += f"; did you mean {json.dumps(stripped)}?"
            self.add(col.name, int(i), RULE_NO_SPACES, f"{_show(text)} ({note})")

    def _check_param_ranges(self) -> None:
        param = self.cols.get("PARAMCD")
        if param is None:
            return
        for pr in self.table.param_ranges:
            on = param.ok & (param.values == pr.paramcd)
            lo = -np.inf if pr.minimum is None else pr.minimum
            hi = np.inf if pr.maximum is None else pr.maximum
            for name in pr.columns:
                col = self.cols.get(name)
                if col is None:
                    continue
                for i in np.flatnonzero(on & col.ok):
                    if not lo <= col.values[i] <= hi:
                        col.bad[i] = True
                        self.add(name, int(i), param_range_rule(name, pr), _show(self.raw[name][i]))

    def key_ok(self) -> np.ndarray:
        """Rows whose key columns all parsed and are not empty."""
        if any(name not in self.cols for name in self.table.key):
            return np.zeros(len(self.df), bool)
        return usable_rows([self.cols[name].ok for name in self.table.key], len(self.df))

    def _check_unique(self) -> None:
        usable = self.key_ok()
        if not self.table.key or not usable.any():  # no key, or a key column missing
            return
        columns = [self.cols[k].values for k in self.table.key]
        for i, j in duplicate_keys(columns, usable):
            shown = ", ".join(_show(self.raw[k][i]) for k in self.table.key)
            self.add(
                ", ".join(self.table.key),
                i,
                unique_rule(self.table),
                f"{shown} again (first at row {int(self.rows[j])})",
            )


def _check_armcd(adsl: _Checker) -> None:
    arm, armcd = adsl.cols.get("ARM"), adsl.cols.get("ARMCD")
    if arm is None or armcd is None:
        return
    for i in np.flatnonzero(arm.ok & armcd.ok):
        if ARM_CODES[arm.values[i]] != armcd.values[i]:
            armcd.bad[i] = True
            adsl.add(
                "ARMCD",
                int(i),
                RULE_ARMCD,
                f"{_show(armcd.values[i])} with ARM {_show(arm.values[i])}",
            )


def _check_in_adsl(check: _Checker, subjects: set[str], adsl: _Checker) -> None:
    ids = check.cols.get("USUBJID")
    if ids is None:
        return
    # Numbers and text match when written alike (1001 and "1001"); when they do not, say that
    # the two files store USUBJID differently, the likely reason ("01001", "1001.0").
    here, there = ("USUBJID" in t.stored_as_numbers for t in (check, adsl))
    why = ""
    if here != there:
        numeric, text = (check.file, adsl.file) if here else (adsl.file, check.file)
        why = (
            f"; USUBJID is stored as numbers in {numeric} but as text in {text}, "
            "and a number matches only text written like it (1001, not 01001 or 1001.0)"
        )
    strays: dict[str, list[int]] = {}
    for i in np.flatnonzero(ids.ok):
        if ids.values[i] not in subjects:
            strays.setdefault(ids.values[i], []).append(int(i))
    # One problem per stray subject (not per row), so one missing patient cannot flood the list.
    for subject, idx in strays.items():
        more = f" (and {len(idx) - 1} more rows)" if len(idx) > 1 else ""
        got = f"{_show(subject)}, absent from adsl{more}{why}"
        check.add("USUBJID", idx[0], RULE_IN_ADSL, got)


def _check_required_params(adtte: _Checker, adsl: _Checker) -> None:
    ids, param = adtte.cols.get("USUBJID"), adtte.cols.get("PARAMCD")
    adsl_ids = adsl.cols.get("USUBJID")
    if ids is None or param is None or adsl_ids is None:
        return
    have: dict[str, set[str]] = {}
    for i in np.flatnonzero(ids.ok & param.ok):
        have.setdefault(ids.values[i], set()).add(param.values[i])
    rule = required_params_rule(adtte.table)
    for i in np.flatnonzero(adsl_ids.ok):
        subject = adsl_ids.values[i]
        lacking = [p for p in adtte.table.required_params if p not in have.get(subject, set())]
        if lacking:
            adtte.problems.append(
                Problem(
                    adtte.file,
                    "PARAMCD",
                    None,
                    rule,
                    f"no row for {', '.join(lacking)}"
                    f" (subject at {adsl.file} row {int(adsl.rows[i])})",
                    subject,
                )
            )


def _check_adlb_baseline(adlb: _Checker) -> None:
    need = ("USUBJID", "PARAMCD", "AVAL", "BASE", "CHG", "ABLFL")
    if any(n not in adlb.cols for n in need):
        return
    ids, param, aval, base, chg, ablfl = (adlb.cols[n] for n in need)
    group_ok = ids.ok & param.ok
    is_bl = group_ok & ~ablfl.bad & (ablfl.values == "Y")
    # Baseline row of each (subject, parameter): at most one.
    baseline: dict[tuple[str, str], int] = {}
    for i in np.flatnonzero(is_bl):
        key = (ids.values[i], param.values[i])
        if key in baseline:
            adlb.add(
                "ABLFL",
                int(i),
                RULE_ONE_BASELINE,
                f'"Y" again (first at row {int(adlb.rows[baseline[key]])})',
            )
        else:
            baseline[key] = int(i)
    # BASE equals the baseline AVAL on every row of the group.
    for i in np.flatnonzero(group_ok & ~base.bad):
        j = baseline.get((ids.values[i], param.values[i]))
        if j is None or not aval.ok[j]:
            continue
        if base.missing[i] or abs(base.values[i] - aval.values[j]) > CHG_TOLERANCE:
            got = "an empty cell" if base.missing[i] else _show(adlb.raw["BASE"][i])
            adlb.add(
                "BASE",
                int(i),
                RULE_BASE,
                f"{got}, baseline AVAL {_show(adlb.raw['AVAL'][j])} at row {int(adlb.rows[j])}",
            )
    # CHG = AVAL - BASE.
    for i in np.flatnonzero(~chg.bad & ~aval.bad & ~base.bad & ~aval.missing):
        if base.missing[i]:
            if not chg.missing[i]:
                adlb.add("CHG", int(i), RULE_CHG_NO_BASE, _show(adlb.raw["CHG"][i]))
        elif chg.missing[i]:
            if not is_bl[i]:
                adlb.add("CHG", int(i), RULE_CHG_MISSING, "an empty cell")
        elif abs(chg.values[i] - (aval.values[i] - base.values[i])) > CHG_TOLERANCE:
            adlb.add(
                "CHG",
                int(i),
                RULE_CHG,
                f"{_show(adlb.raw['CHG'][i])} with AVAL {_show(adlb.raw['AVAL'][i])} "
                f"and BASE {_show(adlb.raw['BASE'][i])}",
            )


def _arm_of(adsl: _Checker) -> dict[str, str]:
    """USUBJID -> ARM for the adsl rows whose both cells passed their rules."""
    ids, arm = adsl.cols.get("USUBJID"), adsl.cols.get("ARM")
    if ids is None or arm is None:
        return {}
    ok = ids.ok & arm.ok
    return {str(ids.values[i]): str(arm.values[i]) for i in np.flatnonzero(ok)}


def _check_arms(adsl: _Checker) -> None:
    """Every comparison in the book is between arms: a dataset with one arm answers nothing."""
    arms = _arm_of(adsl)
    if not arms:
        return
    counts = {a: sum(v == a for v in arms.values()) for a in ARMS}
    absent = [a for a, n in counts.items() if n == 0]
    if absent:
        present = ", ".join(f"{a} {n} subjects" for a, n in counts.items() if n)
        got = f"no subject in {', '.join(absent)} (only {present})"
        adsl.problems.append(Problem(adsl.file, "ARM", None, RULE_ALL_ARMS, got))


def is_synthetic_id(usubjid: object, studyid: object = "") -> bool:
    """Is this row marked as synthetic (USUBJID prefix or STUDYID)?"""
    return str(usubjid).startswith(SYNTHETIC_PREFIX) or str(studyid) == SYNTHETIC_STUDYID


def synthetic_marks(adsl: pd.DataFrame) -> np.ndarray:
    """Which adsl rows carry the synthetic mark (see SYNTHETIC_STUDYID, SYNTHETIC_PREFIX)."""
    studyid = adsl["STUDYID"] if "STUDYID" in adsl.columns else pd.Series("", index=adsl.index)
    return np.array(
        [is_synthetic_id(u, s) for u, s in zip(adsl["USUBJID"], studyid, strict=True)], bool
    )


def _check_not_mixed(adsl: _Checker) -> None:
    ids = adsl.cols.get("USUBJID")
    if ids is None or not ids.ok.any():
        return
    studyid = adsl.cols.get("STUDYID")
    rows = np.flatnonzero(ids.ok)
    marked = np.array(
        [
            is_synthetic_id(ids.values[i], studyid.values[i] if studyid is not None else "")
            for i in rows
        ],
        bool,
    )
    if marked.all() or not marked.any():
        return
    # Point at the first row of the smaller group: that is the likely intruder.
    minority = rows[marked] if marked.sum() <= (~marked).sum() else rows[~marked]
    kind = "synthetic" if marked.sum() <= (~marked).sum() else "other"
    got = (
        f"{int(marked.sum())} synthetic and {int((~marked).sum())} other subjects; "
        f"first {kind} subject here"
    )
    adsl.add("USUBJID", int(minority[0]), RULE_NOT_MIXED, got)


def _check_lab_arms(adlb: _Checker, adsl: _Checker) -> None:
    """CD4 and viral-load analyses compare arms from baseline: each arm needs both."""
    arms = _arm_of(adsl)
    ids, param, ablfl = adlb.cols.get("USUBJID"), adlb.cols.get("PARAMCD"), adlb.cols.get("ABLFL")
    if not arms or ids is None or param is None:
        return
    ok = ids.ok & param.ok
    has: dict[tuple[str, str], int] = {}
    base: dict[tuple[str, str], int] = {}
    for i in np.flatnonzero(ok):
        arm = arms.get(str(ids.values[i]))
        if arm is None:
            continue
        key = (arm, str(param.values[i]))
        has[key] = has.get(key, 0) + 1
        if ablfl is not None and ablfl.ok[i] and ablfl.values[i] == "Y":
            base[key] = base.get(key, 0) + 1
    present = [a for a in ARMS if a in set(arms.values())]
    for p in LAB_PARAMS:
        lacking = [a for a in present if (a, p) not in has]
        if lacking:
            got = f"no {p} row for any subject of {', '.join(lacking)}"
            adlb.problems.append(Problem(adlb.file, "PARAMCD", None, RULE_ARM_PARAM, got))
            continue
        no_base = [a for a in present if (a, p) not in base]
        if no_base and ablfl is not None:
            got = f"no ABLFL = Y row for {p} in {', '.join(no_base)}"
            adlb.problems.append(Problem(adlb.file, "ABLFL", None, RULE_ARM_BASELINE, got))


def _typed(check: _Checker) -> pd.DataFrame:
    """The table with schema dtypes: text as str ("" = empty), integer as int64, number float64."""
    out = check.df.copy()
    # What the reader knew about the file (rows, name, conventions) stays with the file.
    for key in (ROWS_ATTR, FILE_ATTR, HEADER_ROW_ATTR, SAS_MISSING_ATTR):
        out.attrs.pop(key, None)
    for col in check.table.columns:
        parsed = check.cols.get(col.name)
        if parsed is None:
            continue
        if col.kind == "text":
            out[col.name] = pd.Series(parsed.values, index=out.index, dtype=object)
        elif col.kind == "integer" and not parsed.missing.any():
            out[col.name] = pd.Series(parsed.values.astype(np.int64), index=out.index)
        else:
            out[col.name] = pd.Series(parsed.values, index=out.index, dtype=float)
    return out.reset_index(drop=True)


def validate_tables(tables: Mapping[str, pd.DataFrame], source: str) -> dict[str, pd.DataFrame]:
    """Check the four ADaM tables against the schema; raise one error listing every problem.

    ``tables`` maps "adsl", "adlb", "adtte", "adae" to DataFrames, either as read by
    `read_tables` (text cells) or already typed. Rows are reported as file rows (header =
    row 1); frames not read from a file are numbered as if written to CSV in their order.
    Returns the tables with schema dtypes (text -> str, integer -> int64, number -> float64);
    columns outside the schema are kept unchanged.
    """
    return _validate(tables, source, [])


def _validate(
    tables: Mapping[str, pd.DataFrame], source: str, unreadable: list[Problem]
) -> dict[str, pd.DataFrame]:
    problems: list[Problem] = list(unreadable)
    checks: dict[str, _Checker] = {}
    reported = {p.file for p in unreadable}
    for table in TABLES.values():
        df = tables.get(table.name)
        if df is None:
            if not any(f.split(".")[0].lower() == table.name for f in reported):
                problems.append(Problem(table.file, None, None, RULE_FILE, "no such table"))
            continue
        check = _Checker(table, df, problems)
        check.run()
        checks[table.name] = check
    adsl = checks.get(ADSL.name)
    if adsl is not None:
        _check_armcd(adsl)
        ids = adsl.cols.get("USUBJID")
        if ids is not None:
            subjects = {str(v) for v in ids.values[ids.ok]}
            for name in (ADLB.name, ADTTE.name, ADAE.name):
                if name in checks:
                    _check_in_adsl(checks[name], subjects, adsl)
            if ADTTE.name in checks:
                _check_required_params(checks[ADTTE.name], adsl)
    if ADLB.name in checks:
        _check_adlb_baseline(checks[ADLB.name])
    if adsl is not None:
        _check_arms(adsl)
        _check_not_mixed(adsl)
        if ADLB.name in checks:
            _check_lab_arms(checks[ADLB.name], adsl)
    if problems:
        raise DataValidationError(source, problems)
    return {name: _typed(check) for name, check in checks.items()}


def write_tables(tables: Mapping[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Validate, then write each table as ``folder/<name>.csv`` (UTF-8, ``\\n`` line ends).

    Invalid tables are never written. Floats are written in Python's shortest round-trip
    form, so the files read back to the same values and the same input gives the same bytes.
    Round AVAL and BASE before computing CHG, or CHG = AVAL - BASE will not hold in the file.
    """
    folder = Path(folder)
    typed = validate_tables(tables, str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in TABLES.values():
        path = folder / table.file
        typed[table.name].to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------
# SAS transport copies of the tables (the downloads)
# --------------------------------------------------------------------------------------

XPT_VERSION = 5
"""XPORT version of the downloads: v5 is what FDA submissions use and every SAS and R reads."""

XPT_TIMESTAMP = b"01JAN70:00:00:00"
"""Fixed creation and modification time written into XPT headers, so that the same tables
give the same bytes (ReadStat stamps the current time, and pyreadstat cannot set it)."""

_XPT_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
_XPT_OBS_HEADER = re.compile(rb"HEADER RECORD\*{7}OBS(?:V8)?\s+HEADER RECORD")


def _fixed_timestamps(data: bytes) -> bytes:
    """The XPT bytes with every header timestamp set to XPT_TIMESTAMP.

    Only the header records before the first observation header are touched, so no data
    value can be rewritten; the format has no checksum, so the file stays valid.
    """
    out = bytearray()
    start = 0
    for obs in _XPT_OBS_HEADER.finditer(data):
        out += _XPT_STAMP.sub(XPT_TIMESTAMP, data[start : obs.start()]) + obs.group(0)
        start = obs.end()
        # The data of this member run up to the next member header (or the end of the file).
        nxt = data.find(b"HEADER RECORD*******MEMB", start)
        end = len(data) if nxt < 0 else nxt
        out += data[start:end]
        start = end
    out += _XPT_STAMP.sub(XPT_TIMESTAMP, data[start:])
    return bytes(out)


def write_xpt(
    tables: Mapping[str, pd.DataFrame], folder: Path, version: int = XPT_VERSION
) -> list[Path]:
    """Validate, then write each table as ``folder/<name>.xpt`` with the schema's labels.

    Byte-identical for the same tables (see XPT_TIMESTAMP). Columns keep their schema
    names (all are at most 8 characters, the v5 limit); labels are the schema's labels.
    """
    pyreadstat = _sas_reader()
    folder = Path(folder)
    typed = validate_tables(tables, str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in TABLES.values():
        df = typed[table.name]
        labels = {c: table.column(c).label if c in table.column_names else None for c in df.columns}
        path = folder / f"{table.name}.xpt"
        pyreadstat.write_xport(
            df,
            str(path),
            file_label=table.label,
            column_labels=labels,
            table_name=table.name.upper(),
            file_format_version=version,
        )
        path.write_bytes(_fixed_timestamps(path.read_bytes()))
        paths.append(path)
    return paths
