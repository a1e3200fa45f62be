"""The data dictionary is rendered from the schema, table by table, with every column once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anrs119 import adam
from anrs119.data import Dataset
from anrs119.report.dictionary import (
    DICTIONARY_COLUMNS,
    data_dictionary,
    example_error,
    table_overview,
    validation_rules,
)
from anrs119.seeds import TEST_SEED
from tests.adam_samples import valid_tables


def test_one_row_per_schema_column() -> None:
    dd = data_dictionary()
    assert list(dd.columns) == DICTIONARY_COLUMNS
    expected = [(t.name, c.name) for t in adam.TABLES.values() for c in t.columns]
    assert list(zip(dd["table"], dd["column"], strict=True)) == expected


def test_one_table() -> None:
    dd = data_dictionary("adtte")
    assert set(dd["table"]) == {"adtte"}
    row = dd.set_index("column").loc["CNSR"]
    assert row["type"] == "integer" and row["allowed values"] == "0, 1"
    assert row["required"] == "yes"
    assert dd.set_index("column").loc["CNSDTDSC", "required"] == "optional"


def test_ranges_and_per_parameter_ranges_are_shown() -> None:
    adsl = data_dictionary("adsl").set_index("column")
    assert adsl.loc["AGE", "allowed values"] == "18 to 100"
    assert adsl.loc["ARM", "allowed values"] == "IL-2, Control"
    aval = data_dictionary("adlb").set_index("column").loc["AVAL", "allowed values"]
    assert "CD4: 0 to 5000 cells/uL" in aval and "VLLOG: 0 to 8 log10 copies/mL" in aval
    assert (
        "may be empty" in data_dictionary("adlb").set_index("column").loc["BASE", "allowed values"]
    )


def test_unknown_table() -> None:
    with pytest.raises(KeyError, match="adxx"):
        data_dictionary("adxx")


def test_overview_and_rules() -> None:
    overview = table_overview()
    assert overview["file"].tolist() == ["adsl.csv", "adlb.csv", "adtte.csv", "adae.csv"]
    rules = validation_rules("adsl")
    assert ("USUBJID", "USUBJID unique") in set(zip(rules["column"], rules["rule"], strict=True))
    assert set(validation_rules()["table"]) == set(adam.TABLES)


@pytest.mark.parametrize("synthetic", [True, False])
def test_example_error_is_computed_and_masks_real_subjects(synthetic: bool) -> None:
    tables = valid_tables(np.random.default_rng(TEST_SEED), n_per_arm=2, n_ae=1)
    typed = adam.validate_tables(tables, "test")
    ds = Dataset(**typed, source="test", is_synthetic=synthetic, path=Path("."))
    text = example_error(ds)
    assert "2 problems found" in text
    assert "column CNSR, row 2" in text and "rule 'CNSR in {0, 1}': got 2" in text
    assert f"column ARM, row {len(tables['adsl']) + 1}" in text
    first = tables["adtte"].loc[0, "USUBJID"]
    assert (first in text) is synthetic
    assert ds.adtte.loc[0, "CNSR"] in (0, 1)  # the dataset itself is untouched
