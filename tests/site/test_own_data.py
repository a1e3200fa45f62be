"""Bring your own data: the whole book rebuilds from a folder named by ANRS119_DATA.

The folder holds the embedded ADaM tables as real data arrive: without their provenance
file, as SAS transport files with upper-case names, and with their synthetic mark removed
(a copy that keeps the mark is still synthetic, see tests/test_data.py). The book must then
reproduce the same results, replace the synthetic-data notice with the dataset's label, and
publish no patient-level downloads, no subject identifier and no path of the folder.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from anrs119.adam import TABLES, load_tables
from anrs119.distribution import SITE_FOLDER, wheel_name
from anrs119.pdf import PDF_FILE
from anrs119.report.notice import SYNTHETIC_HEADLINE
from anrs119.sphinxext import PATIENT_LEVEL_PAGES
from tests.site import own_data
from tests.site.own_data import OWN_LABEL, OWN_PREFIX


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
def own_build(tmp_path_factory: pytest.TempPathFactory) -> own_data.OwnDataBuild:
    """The build `make test` made beside the unit tests, or a new one."""
    prebuilt = os.environ.get(own_data.PREBUILT_ENV)
    if prebuilt:
        result = own_data.load(Path(prebuilt))
    else:
        result = own_data.build(tmp_path_factory.mktemp("own-data"))
    assert result.ok, f"own-data build: exit {result.returncode}\n{result.log}"
    return result


@pytest.fixture(scope="module")
def own_data_folder(own_build: own_data.OwnDataBuild) -> Path:
    return own_build.folder


@pytest.fixture(scope="module")
def own_data_site(own_build: own_data.OwnDataBuild) -> Path:
    return own_build.html


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


def _pdf_text(site: Path) -> str:
    from tests.site.test_pdf import pdf_text

    pdf = site / PDF_FILE
    assert pdf.is_file(), f"the own-data build has no PDF edition ({pdf})"
    return pdf_text(pdf)


def test_notebooks_pdf_and_downloads_carry_aggregates_only(
    own_data_site: Path, own_data_folder: Path
) -> None:
    """Every format the site offers, read as text: no identifier, no path of the data folder.

    The notebooks are executed (their outputs are what would leak), the PDF is read with
    pdftotext (its streams are compressed), and the wheel's files are read one by one."""
    notebooks = sorted((own_data_site / "_sources").rglob("*.ipynb"))
    assert notebooks, "the own-data build offers no notebook downloads"
    executed = [nbformat.read(p, as_version=4) for p in notebooks]
    assert any(o for nb in executed for c in nb.cells for o in c.get("outputs", []))
    texts = {str(p.relative_to(own_data_site)): p.read_text("utf-8") for p in notebooks}
    texts[PDF_FILE] = _pdf_text(own_data_site)
    wheel = own_data_site / SITE_FOLDER / wheel_name()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            texts[f"{wheel.name}:{name}"] = archive.read(name).decode("utf-8", errors="replace")
    folder = str(own_data_folder.resolve())
    ids = set(load_tables(own_data_folder)["adsl"]["USUBJID"])
    for name, text in texts.items():
        assert OWN_PREFIX not in text, f"subject identifiers ({OWN_PREFIX}...) in {name}"
        assert folder not in text, f"the data folder's path in {name}"
        assert not any(subject in text for subject in ids), name
    # the synthetic notice gives way to the dataset's label in the PDF too
    assert SYNTHETIC_HEADLINE not in texts[PDF_FILE] and OWN_LABEL in texts[PDF_FILE]
    # no patient-level listing in a notebook either: the data-downloads chapter is left out
    assert not [p for p in notebooks if p.stem in {Path(q).stem for q in PATIENT_LEVEL_PAGES}]


def test_real_data_carry_no_synthetic_mark_and_keep_their_kinds(own_data_site: Path) -> None:
    """Built from real data, a number the paper never printed is the trial's own result: it
    keeps its kind (its class) but loses the dagger that marks synthetic-only values."""
    kinds_seen = set()
    pages = sorted(own_data_site.rglob("*.html"))
    assert pages
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert not soup.select(".synthetic-mark, .ensemble-range"), f"{page.name}: a synthetic mark"
        for value in soup.select(".pasted-text"):
            kinds_seen |= {c for c in value.get("class", []) if c.startswith("glue-")}
    assert "glue-synthetic-only" in kinds_seen, "the real-data build lost the kinds"


def _reconstruction_text(site: Path) -> str:
    page = site / "chapters" / "reconstruction.html"
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text(" ")


def test_the_data_holders_test_places_the_datasets_quantities_in_the_ensemble(
    own_data_site: Path, html_dir: Path
) -> None:
    """On an own-data build the reconstruction chapter places each unpublished quantity of the
    data in the ensemble's range (aggregates only); on the synthetic build it does not."""
    own = _reconstruction_text(own_data_site)
    assert "lie within the central 95% range of the reconstructions" in own
    assert "This dataset" in own and "Ensemble 95% range" in own
    assert OWN_PREFIX not in own
    embedded = _reconstruction_text(html_dir)
    assert "This dataset" not in embedded
