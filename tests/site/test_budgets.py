"""Size budgets: the whole site at most 20 MB, and no page over 3 MB with its images.

Scripts and style sheets are shared by every page and cached after the first, so a page's own
weight is its HTML and images (the theme's scripts and CSS count once, in the site's total).
The downloads a reader asks for (the PDF edition, the executed notebooks, the wheel and the
requirements of the "Run it yourself" page) load with no page and have budgets of their own.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

from anrs119.distribution import SITE_FOLDER
from anrs119.pdf import PDF_FILE
from tests.site.conftest import site_pages

MB = 1_000_000
SITE_BUDGET = 20 * MB
PAGE_BUDGET = 3 * MB
DOWNLOAD_BUDGETS = {"PDF edition": 10 * MB, "notebooks": 8 * MB, "run files": 2 * MB}
NOTEBOOK_BUDGET = 2 * MB
"""One notebook, with its figures attached (the page with its images has 3 MB)."""


def download_kind(html_dir: Path, path: Path) -> str | None:
    """Which download a file of the site is, or None for the pages and what they load."""
    parts = path.relative_to(html_dir).parts
    if parts == (PDF_FILE,):
        return "PDF edition"
    if parts[0] == "_sources" and path.suffix == ".ipynb":
        return "notebooks"
    if parts[0] == SITE_FOLDER:
        return "run files"
    return None


def page_files(html_dir: Path, page: str) -> set[Path]:
    """The page and the local images it shows."""
    source = html_dir / f"{page}.html"
    document = BeautifulSoup(source.read_text(encoding="utf-8"), "html.parser")
    files = {source}
    for tag in document.select("img[src]"):
        ref = urlparse(tag["src"])
        if ref.scheme or ref.netloc:
            continue
        path = (source.parent / unquote(ref.path)).resolve()
        if path.is_file():
            files.add(path)
    return files


def test_site_fits_its_budget(html_dir: Path) -> None:
    files = [f for f in html_dir.rglob("*") if f.is_file() and not download_kind(html_dir, f)]
    total = sum(f.stat().st_size for f in files)
    biggest = sorted(files, key=lambda f: f.stat().st_size)[-5:]
    listing = ", ".join(
        f"{f.relative_to(html_dir)} ({f.stat().st_size / MB:.1f} MB)" for f in biggest
    )
    assert total <= SITE_BUDGET, f"site is {total / MB:.1f} MB > 20 MB; largest: {listing}"


@pytest.mark.parametrize("page", site_pages())
def test_page_fits_its_budget(html_dir: Path, page: str) -> None:
    files = page_files(html_dir, page)
    total = sum(f.stat().st_size for f in files)
    assert total <= PAGE_BUDGET, f"{page}: {total / MB:.1f} MB with its {len(files) - 1} images"


def test_downloads_fit_their_budgets(html_dir: Path) -> None:
    sizes = dict.fromkeys(DOWNLOAD_BUDGETS, 0)
    for path in html_dir.rglob("*"):
        kind = download_kind(html_dir, path) if path.is_file() else None
        if kind:
            sizes[kind] += path.stat().st_size
            if kind == "notebooks":
                assert path.stat().st_size <= NOTEBOOK_BUDGET, f"{path.name} over 2 MB"
    assert all(sizes.values()), f"a download is missing: {sizes}"
    over = {k: f"{v / MB:.1f} MB" for k, v in sizes.items() if v > DOWNLOAD_BUDGETS[k]}
    assert not over, f"downloads over budget: {over}"
