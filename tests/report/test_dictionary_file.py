"""The committed data-dictionary CSV (a download on the data page) matches the schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anrs119.report.dictionary import DICTIONARY_FILE, data_dictionary, write_dictionary_csv


def test_committed_dictionary_regenerates_byte_identically(tmp_path: Path) -> None:
    fresh = write_dictionary_csv(tmp_path / "adam_dictionary.csv")
    assert DICTIONARY_FILE.read_bytes() == fresh.read_bytes(), (
        f"{DICTIONARY_FILE} is stale: regenerate it with "
        "`python -c 'from anrs119.report.dictionary import write_dictionary_csv as w; w()'`"
    )


def test_dictionary_csv_reads_back_as_the_schema(tmp_path: Path) -> None:
    path = write_dictionary_csv(tmp_path / "dd.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(back, data_dictionary().astype(str))
    assert path.read_bytes().endswith(b"\n") and b"\r" not in path.read_bytes()
