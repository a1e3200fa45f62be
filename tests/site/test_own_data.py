"""Bring your own data: the whole book rebuilds from a folder named by ANRS119_DATA.

The folder holds a copy of the embedded ADaM tables without their provenance file, which is
how real data arrive: the book must then reproduce the same results, replace the synthetic-data
notice with the source, and publish no patient-level downloads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from anrs119.adam import TABLES
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


@pytest.fixture(scope="module")
def own_data_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("adam")
    for table in TABLES.values():
        shutil.copy(SYNTHETIC_DIR / table.file, folder / table.file)
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
        env={**os.environ, "ANRS119_DATA": str(folder)},
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


def test_no_patient_level_downloads(own_data_site: Path) -> None:
    for page in PATIENT_LEVEL_PAGES:
        assert not (own_data_site / page.replace(".md", ".html")).exists()
    published = [p.name for p in own_data_site.rglob("*") if p.suffix in {".csv", ".json"}]
    assert not [name for name in published if name.removesuffix(".csv") in TABLES], published
