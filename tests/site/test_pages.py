"""Every page of the built site exists, carries the data notice, and has no broken pieces."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from bs4 import BeautifulSoup

from anrs119.data import load_dataset
from anrs119.report.notice import SYNTHETIC_HEADLINE
from tests.site.conftest import site_pages

PAGES = site_pages()


def soup(html_dir: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((html_dir / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize("page", PAGES)
def test_page_exists_with_a_title(html_dir: Path, page: str) -> None:
    document = soup(html_dir, page)
    heading = document.find("h1")
    assert heading is not None and heading.get_text(strip=True), f"{page}: no <h1>"
    assert document.title is not None and document.title.get_text(strip=True)


@pytest.mark.parametrize("page", PAGES)
def test_data_notice_on_every_page(html_dir: Path, page: str) -> None:
    banner = soup(html_dir, page).select_one(".bd-header-announcement")
    assert banner is not None, f"{page}: no announcement bar"
    if load_dataset().is_synthetic:
        assert SYNTHETIC_HEADLINE in banner.get_text(" ", strip=True)


@pytest.mark.parametrize("page", PAGES)
def test_images_have_alt_text(html_dir: Path, page: str) -> None:
    for image in soup(html_dir, page).select("article img"):
        assert image.get("alt", "").strip(), f"{page}: image {image.get('src')} has no alt text"
        assert (html_dir / Path(page).parent / unquote(image["src"])).resolve().exists()


@pytest.mark.parametrize("page", PAGES)
def test_no_error_output_published(html_dir: Path, page: str) -> None:
    document = soup(html_dir, page)
    assert not document.select(".output.traceback, .output.stderr"), f"{page}: error output"


def test_internal_links_and_anchors_resolve(html_dir: Path) -> None:
    broken: list[str] = []
    ids: dict[Path, set[str]] = {}
    for page in PAGES:
        source = html_dir / f"{page}.html"
        for link in soup(html_dir, page).select("a[href]"):
            href = link["href"]
            if urlparse(href).scheme or href.startswith(("mailto:", "//")):
                continue
            target, anchor = urldefrag(href)
            path = (source.parent / unquote(target)).resolve() if target else source
            if not path.exists():
                broken.append(f"{page}: {href}")
                continue
            if anchor and path.suffix == ".html":
                if path not in ids:
                    html = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
                    ids[path] = {tag["id"] for tag in html.select("[id]")}
                if anchor not in ids[path]:
                    broken.append(f"{page}: {href} (no anchor)")
    assert not broken, "broken links:\n" + "\n".join(broken)
