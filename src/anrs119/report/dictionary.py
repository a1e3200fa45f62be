"""The data dictionary, rendered from the ADaM schema in `anrs119.adam` (never typed twice)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from anrs119.adam import TABLES, Column, DataValidationError, Table, rules, validate_tables
from anrs119.data import Dataset
from anrs119.paths import DATA_DIR

DICTIONARY_FILE = DATA_DIR / "adam_dictionary.csv"
"""The data dictionary as a committed CSV, offered for download next to the data."""

DICTIONARY_COLUMNS = [
    "table",
    "column",
    "label",
    "type",
    "unit",
    "allowed values",
    "required",
    "description",
]


def _num(value: float) -> str:
    return f"{value:g}"


def _span(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{_num(minimum)} to {_num(maximum)}"
    if minimum is not None:
        return f">= {_num(minimum)}"
    if maximum is not None:
        return f"<= {_num(maximum)}"
    return ""


def allowed_text(table: Table, col: Column) -> str:
    """The values a column may take, in words: a list, a range, or a range per PARAMCD."""
    parts: list[str] = []
    if col.allowed is not None:
        parts.append(", ".join(str(v) for v in col.allowed))
    span = _span(col.minimum, col.maximum)
    if span:
        parts.append(span)
    per_param = [
        f"{pr.paramcd}: {_span(pr.minimum, pr.maximum)} {pr.unit}"
        for pr in table.param_ranges
        if col.name in pr.columns
    ]
    if per_param:
        parts.append("; ".join(per_param))
    if col.kind == "integer" and not parts:
        parts.append("whole numbers")
    if col.nullable:
        parts.append("may be empty")
    return "; ".join(parts) if parts else "any"


def _table(name: str | None) -> list[Table]:
    if name is None:
        return list(TABLES.values())
    if name not in TABLES:
        raise KeyError(f"unknown ADaM table {name!r}; expected one of {', '.join(TABLES)}")
    return [TABLES[name]]


def data_dictionary(table_name: str | None = None) -> pd.DataFrame:
    """One row per column of the schema (all tables, or one), for the data-dictionary page."""
    rows = [
        {
            "table": table.name,
            "column": col.name,
            "label": col.label,
            "type": col.kind,
            "unit": col.unit,
            "allowed values": allowed_text(table, col),
            "required": "yes" if col.required else "optional",
            "description": col.description,
        }
        for table in _table(table_name)
        for col in table.columns
    ]
    return pd.DataFrame(rows, columns=DICTIONARY_COLUMNS)


def write_dictionary_csv(path: Path = DICTIONARY_FILE) -> Path:
    """Write `data_dictionary()` as UTF-8 CSV; the same schema always gives the same bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data_dictionary().to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def table_overview() -> pd.DataFrame:
    """One row per table: file, what a row is, the key, and the per-subject parameters."""
    return pd.DataFrame(
        [
            {
                "table": t.name,
                "file": t.file,
                "content": t.label,
                "one row per": ", ".join(t.key) if t.key else "adverse event",
                "required PARAMCD per subject": ", ".join(t.required_params),
                "description": t.description,
            }
            for t in TABLES.values()
        ]
    )


def validation_rules(table_name: str | None = None) -> pd.DataFrame:
    """Every rule the validator checks, worded exactly as in its error messages."""
    rows = [
        {"table": t.name, "column": column, "rule": rule}
        for t in _table(table_name)
        for column, rule in rules(t)
    ]
    return pd.DataFrame(rows, columns=["table", "column", "rule"])


def example_error(dataset: Dataset) -> str:
    """The validator's message for a copy of ``dataset`` with two cells broken on purpose.

    Shows readers what a failure looks like, computed rather than typed. Subject identifiers
    are masked unless the data are synthetic (real data: aggregate results only).
    """
    tables = {name: df.copy() for name, df in dataset.tables().items()}
    tables["adtte"].loc[tables["adtte"].index[0], "CNSR"] = 2
    tables["adsl"].loc[tables["adsl"].index[-1], "ARM"] = "Placebo"
    try:
        validate_tables(tables, "example (two cells changed on purpose)")
    except DataValidationError as err:
        problems = err.problems
        if not dataset.is_synthetic:
            problems = tuple(replace(p, usubjid="(masked)") for p in problems)
        return str(DataValidationError(err.source, problems))
    raise AssertionError("the validator accepted a CNSR of 2 and an unknown arm")
