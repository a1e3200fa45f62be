"""Bring your own data: the whole book rebuilds from a folder named by ANRS119_DATA.

The folder holds the embedded ADaM tables as real data arrive: without their provenance
file, as SAS transport files with upper-case names, and with their synthetic mark removed
(a copy that keeps the mark is still synthetic, see tests/test_data.py). The book must then
reproduce the same results, replace the synthetic-data notice with the dataset's label, and
publish no patient-level downloads, no subject identifier and no path of the folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from anrs119.adam import TABLES, load_tables, write_xpt
from anrs119.paths import REPO_ROOT, SYNTHETIC_DIR
from anrs119.report.notice import SYNTHETIC_HEADLINE
from anrs119.sphinxext import PATIENT_LEVEL_PAGES

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


def scorecard_rows(html: Path) -> list[list[str]]:
    """The rows of the scorecard's summary table, as text."""
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    table = soup.select_one("article table")
    assert table is not None, f"no table in {html}"
    return [
        [cell.get_text(" ", strip=True) for cell in row.select("td")]
        for row in table.select("tbody tr")
    ]


OWN_LABEL = "Own-data rebuild test"
OWN_PREFIX = "OWNDATA-"


def own_tables() -> dict[str, pd.DataFrame]:
    """The embedded tables with their synthetic mark replaced by other identifiers."""
    tables = load_tables(SYNTHETIC_DIR)
    ids = {u: f"{OWN_PREFIX}{k + 1:04d}" for k, u in enumerate(tables["adsl"]["USUBJID"])}
    out = {name: df.assign(USUBJID=df["USUBJID"].map(ids)) for name, df in tables.items()}
    out["adsl"]["STUDYID"] = "ANRS119"
    return out


@pytest.fixture(scope="module")
def own_data_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("adam-own")
    for path in write_xpt(own_tables(), folder):
        path.rename(path.with_name(path.stem.upper() + path.suffix))  # ADSL.xpt, as exported
    return folder


@pytest.fixture(scope="module")
def own_data_site(tmp_path_factory: pytest.TempPathFactory, own_data_folder: Path) -> Path:
    folder = own_data_folder
    output = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [
            str(JUPYTER_BOOK),
            "build",
            str(REPO_ROOT),
            "--path-output",
            str(output),
            "-W",
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "ANRS119_DATA": str(folder), "ANRS119_DATA_LABEL": OWN_LABEL},
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return output / "_build" / "html"


def test_results_match_the_embedded_build(html_dir: Path, own_data_site: Path) -> None:
    page = Path("chapters") / "scorecard.html"
    assert scorecard_rows(own_data_site / page) == scorecard_rows(html_dir / page)


def test_notice_names_the_source_instead_of_synthetic(own_data_site: Path) -> None:
    soup = BeautifulSoup((own_data_site / "intro.html").read_text(encoding="utf-8"), "html.parser")
    banner = soup.select_one(".bd-header-announcement").get_text(" ", strip=True)
    assert SYNTHETIC_HEADLINE not in banner
    assert "ANRS119_DATA" in banner
    assert OWN_LABEL in banner


def _site_text(site: Path) -> dict[Path, str]:
    """Every file of the built site as text: pages, _sources, downloads, search index."""
    out = {}
    for path in site.rglob("*"):
        if path.is_file() and path.suffix not in {".png", ".svg", ".woff", ".woff2", ".ttf"}:
            out[path] = path.read_bytes().decode("utf-8", errors="replace")
    return out


def test_no_subject_identifier_anywhere_on_the_site(
    own_data_site: Path, own_data_folder: Path
) -> None:
    files = _site_text(own_data_site)
    assert any(p.name == "searchindex.js" for p in files)
    assert any("_sources" in p.parts for p in files)
    ids = set(load_tables(own_data_folder)["adsl"]["USUBJID"])
    assert len(ids) > 100
    leaks = {str(p.relative_to(own_data_site)) for p, text in files.items() if OWN_PREFIX in text}
    assert not leaks, f"subject identifiers ({OWN_PREFIX}...) published in {sorted(leaks)}"
    for subject in ids:  # also each identifier in full, in case a page reformats the prefix
        assert not any(subject in text for text in files.values()), subject


def test_no_path_of_the_data_folder_on_the_site(own_data_site: Path, own_data_folder: Path) -> None:
    folder = str(own_data_folder.resolve())
    leaks = [str(p) for p, text in _site_text(own_data_site).items() if folder in text]
    assert not leaks, f"{folder} published in {leaks}"


def test_no_patient_level_downloads(own_data_site: Path) -> None:
    for page in PATIENT_LEVEL_PAGES:
        assert not (own_data_site / page.replace(".md", ".html")).exists()
    suffixes = {".csv", ".json", ".xpt", ".sas7bdat"}
    published = [p for p in own_data_site.rglob("*") if p.suffix.lower() in suffixes]
    assert not [p.name for p in published if p.stem.lower() in TABLES], published
