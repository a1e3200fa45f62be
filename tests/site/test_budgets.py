"""Size budgets: the whole site at most 20 MB, and no page over 3 MB with its images.

Scripts and style sheets are shared by every page and cached after the first, so a page's own
weight is its HTML and images (the theme's scripts and CSS count once, in the site's total).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

from tests.site.conftest import site_pages

MB = 1_000_000
SITE_BUDGET = 20 * MB
PAGE_BUDGET = 3 * MB


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
    total = sum(f.stat().st_size for f in html_dir.rglob("*") if f.is_file())
    biggest = sorted(
        (f for f in html_dir.rglob("*") if f.is_file()), key=lambda f: f.stat().st_size
    )[-5:]
    listing = ", ".join(
        f"{f.relative_to(html_dir)} ({f.stat().st_size / MB:.1f} MB)" for f in biggest
    )
    assert total <= SITE_BUDGET, f"site is {total / MB:.1f} MB > 20 MB; largest: {listing}"


@pytest.mark.parametrize("page", site_pages())
def test_page_fits_its_budget(html_dir: Path, page: str) -> None:
    files = page_files(html_dir, page)
    total = sum(f.stat().st_size for f in files)
    assert total <= PAGE_BUDGET, f"{page}: {total / MB:.1f} MB with its {len(files) - 1} images"
