"""Which dataset the book reads (ANRS119_DATA or the embedded one), loading it, and `validate`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anrs119 import ARMS, data
from anrs119.adam import DataValidationError
from anrs119.cli import main as cli_main
from anrs119.data import ENV_VAR, dataset_path, is_synthetic, load_dataset, validate_main
from anrs119.seeds import TEST_SEED
from tests.adam_samples import set_cell, valid_tables, write_tables

N_PER_ARM = 3


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return valid_tables(np.random.default_rng(TEST_SEED), n_per_arm=N_PER_ARM, n_ae=4)


@pytest.fixture
def folder(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    return write_tables(tables, tmp_path / "real")


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for data/synthetic, so these tests never read the committed data."""
    path = write_tables(valid_tables(np.random.default_rng(TEST_SEED + 1), 2, 2), tmp_path / "syn")
    (path / "provenance.json").write_text(json.dumps({"synthetic": True}) + "\n")
    monkeypatch.setattr(data, "SYNTHETIC_DIR", path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    return path


# --- dataset_path ------------------------------------------------------------------------


def test_default_is_the_embedded_data(embedded: Path) -> None:
    assert dataset_path() == embedded


def test_empty_variable_means_unset(embedded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "")
    assert dataset_path() == embedded


def test_variable_names_the_folder(
    embedded: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(folder))
    assert dataset_path() == folder.resolve()
    assert dataset_path({ENV_VAR: str(embedded)}) == embedded.resolve()


def test_variable_naming_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "does-not-exist"
    monkeypatch.setenv(ENV_VAR, str(missing))
    with pytest.raises(DataValidationError) as info:
        dataset_path()
    assert f"{ENV_VAR}={missing}" in str(info.value)
    assert "no such folder" in str(info.value)


def test_variable_naming_a_file(folder: Path) -> None:
    with pytest.raises(DataValidationError, match="a file, not a folder"):
        dataset_path({ENV_VAR: str(folder / "adsl.csv")})


def test_missing_embedded_data_says_how_to_make_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "SYNTHETIC_DIR", tmp_path / "synthetic")
    with pytest.raises(DataValidationError, match="python -m anrs119 data"):
        dataset_path({})


# --- provenance ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, False),
        ({"synthetic": True}, True),
        ({"synthetic": False}, False),
        ({"synthetic": "yes"}, False),
        ([True], False),
    ],
)
def test_is_synthetic(folder: Path, content: object, expected: bool) -> None:
    if content is not None:
        (folder / "provenance.json").write_text(json.dumps(content))
    assert is_synthetic(folder) is expected


def test_broken_provenance_is_an_error(folder: Path) -> None:
    (folder / "provenance.json").write_text("{synthetic: true")
    with pytest.raises(DataValidationError, match=r"provenance\.json"):
        is_synthetic(folder)


# --- load_dataset ----------------------------------------------------------------------------


def test_load_real_data_from_the_variable(
    embedded: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, tables: dict
) -> None:
    monkeypatch.setenv(ENV_VAR, str(folder))
    ds = load_dataset()
    assert ds.path == folder.resolve()
    assert not ds.is_synthetic
    assert "real" in ds.source
    assert len(ds.adsl) == 2 * N_PER_ARM
    assert ds.adsl["AGE"].dtype == np.int64
    pd.testing.assert_frame_equal(ds.adtte, tables["adtte"], check_dtype=False)
    assert ds.subjects_by_arm() == {arm: N_PER_ARM for arm in ARMS}


def test_load_embedded_data(embedded: Path) -> None:
    ds = load_dataset()
    assert ds.is_synthetic and ds.path == embedded and "synthetic" in ds.source


def test_invalid_data_stop_loading(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    row = set_cell(folder, "adtte", 2, "CNSR", "2")
    monkeypatch.setenv(ENV_VAR, str(folder))
    with pytest.raises(DataValidationError) as info:
        load_dataset()
    assert f"file adtte.csv, column CNSR, row {row}" in str(info.value)


def test_callers_get_copies(folder: Path) -> None:
    first = load_dataset(folder)
    first.adsl.loc[0, "ARM"] = "changed"
    first.adlb.drop(index=first.adlb.index, inplace=True)
    second = load_dataset(folder)
    assert second.adsl.loc[0, "ARM"] in ARMS
    assert len(second.adlb) > 0


def test_cache_follows_file_changes(folder: Path, tables: dict) -> None:
    assert len(load_dataset(folder).adae) == len(tables["adae"])
    adae = tables["adae"].iloc[:1]
    adae.to_csv(folder / "adae.csv", index=False, lineterminator="\n")
    stat = (folder / "adae.csv").stat()
    os.utime(folder / "adae.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert len(load_dataset(folder).adae) == 1


def test_summary_counts_subjects_by_arm(folder: Path, tables: dict) -> None:
    text = load_dataset(folder).summary()
    assert text.startswith(f"{2 * N_PER_ARM} subjects (IL-2 {N_PER_ARM}, Control {N_PER_ARM})")
    assert f"adlb {len(tables['adlb'])}" in text


# --- validate_main and the CLI --------------------------------------------------------------


def test_validate_main_ok(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_main(folder) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: ") and f"IL-2 {N_PER_ARM}" in out


def test_validate_main_reports_problems(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row = set_cell(folder, "adae", 0, "AETOXGR", "7")
    (folder / "adlb.csv").unlink()
    assert validate_main(str(folder)) == 1
    err = capsys.readouterr().err
    assert "file adlb.*, column -, row -: rule 'file present'" in err
    assert validate_main(folder / "nowhere") == 1
    assert "no such folder" in capsys.readouterr().err
    (folder / "adlb.csv").touch()
    assert validate_main(folder) == 1
    assert f"file adae.csv, column AETOXGR, row {row}" in capsys.readouterr().err


def test_cli_validate(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["validate", str(folder)]) == 0
    set_cell(folder, "adsl", 0, "ARMCD", "XX")
    assert cli_main(["validate", str(folder)]) == 1
    assert "column ARMCD" in capsys.readouterr().err


# --- synthetic rows carry their mark; the site names data by a label --------------------------


def _mark_synthetic(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    from anrs119.adam import SYNTHETIC_PREFIX, SYNTHETIC_STUDYID

    ids = {u: f"{SYNTHETIC_PREFIX}{k + 1:03d}" for k, u in enumerate(tables["adsl"]["USUBJID"])}
    out = {name: df.assign(USUBJID=df["USUBJID"].map(ids)) for name, df in tables.items()}
    out["adsl"]["STUDYID"] = SYNTHETIC_STUDYID
    return out


def test_a_copy_of_synthetic_rows_without_provenance_is_synthetic(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    folder = write_tables(_mark_synthetic(tables), tmp_path / "copy")
    assert not (folder / "provenance.json").exists()
    ds = load_dataset(folder)
    assert ds.is_synthetic
    assert ds.source.startswith("synthetic ADaM data")


def test_the_embedded_tables_are_marked_in_their_rows() -> None:
    from anrs119.adam import SYNTHETIC_PREFIX, SYNTHETIC_STUDYID
    from anrs119.paths import SYNTHETIC_DIR

    adsl = pd.read_csv(SYNTHETIC_DIR / "adsl.csv", dtype=str)
    assert (adsl["STUDYID"] == SYNTHETIC_STUDYID).all()
    for name in ("adsl", "adlb", "adtte", "adae"):
        ids = pd.read_csv(SYNTHETIC_DIR / f"{name}.csv", dtype=str)["USUBJID"]
        assert ids.str.startswith(SYNTHETIC_PREFIX).all(), name


def test_real_data_are_named_by_their_folder_never_by_path(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(data.LABEL_VAR, raising=False)
    ds = load_dataset(folder)
    assert not ds.is_synthetic
    assert ds.label == folder.name
    assert ds.source == f'real ADaM data "{folder.name}"'
    assert str(folder.parent) not in ds.source


def test_label_from_the_environment(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.LABEL_VAR, "ANRS 119 final database (2008)")
    ds = load_dataset(folder)
    assert ds.label == "ANRS 119 final database (2008)"
    assert ds.source == 'real ADaM data "ANRS 119 final database (2008)"'
    from anrs119.report.notice import notice_html, notice_text

    for text in (notice_text(ds), notice_html(ds)):
        assert str(folder) not in text and "ANRS 119 final database (2008)" in text


def test_xpt_folder_loads_like_the_csv_folder(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anrs119.adam import write_xpt

    xpt = tmp_path / "xpt"
    write_xpt(load_dataset(folder).tables(), xpt)
    a, b = load_dataset(folder), load_dataset(xpt)
    for name in a.tables():
        pd.testing.assert_frame_equal(a.tables()[name], b.tables()[name], rtol=1e-12)


def test_xpt_downloads_regenerate_byte_identically(tmp_path: Path) -> None:
    from anrs119.data import SYNTHETIC_XPT_DIR, write_xpt_downloads

    for path in write_xpt_downloads(target=tmp_path):
        assert path.read_bytes() == (SYNTHETIC_XPT_DIR / path.name).read_bytes(), path.name


def test_xpt_downloads_read_back_to_the_csv_values() -> None:
    from anrs119.adam import load_tables
    from anrs119.data import SYNTHETIC_XPT_DIR
    from anrs119.paths import SYNTHETIC_DIR

    csv, xpt = load_tables(SYNTHETIC_DIR), load_tables(SYNTHETIC_XPT_DIR)
    for name in csv:
        # v5 stores IBM doubles; the committed CSV values have at most 2 decimals, so the
        # values come back exactly once rounded to 10 decimals (and text exactly).
        left, right = csv[name], xpt[name][list(csv[name].columns)]
        num = left.select_dtypes("number").columns
        pd.testing.assert_frame_equal(left.drop(columns=num), right.drop(columns=num))
        np.testing.assert_array_equal(
            left[num].round(10).to_numpy(), right[num].astype(float).round(10).to_numpy()
        )
