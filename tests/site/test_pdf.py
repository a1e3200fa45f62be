"""The PDF edition (`make pdf`): the whole book, its numbers and the data notice, on the site.

Its text is read with pdftotext (Debian's poppler-utils, installed by `make browser`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from anrs119.paths import BUILD_DIR
from anrs119.pdf import PDF_FILE
from anrs119.published import results
from anrs119.report.notice import SYNTHETIC_HEADLINE
from tests.site.conftest import site_pages


def pdf_text(pdf: Path) -> str:
    """The PDF's text, one line, with typographic minus signs and dashes made plain."""
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext not found: `make browser` installs poppler-utils"
    result = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    text = result.stdout.replace("\u2212", "-").replace("\u2013", "-").replace("\u2019", "'")
    return " ".join(text.split())


def page_title(html_dir: Path, page: str) -> str:
    soup = BeautifulSoup((html_dir / f"{page}.html").read_text("utf-8"), "html.parser")
    heading = soup.select_one("article h1")
    assert heading is not None, page
    for link in heading.select("a.headerlink"):
        link.decompose()
    return " ".join(heading.get_text(" ", strip=True).replace("\u2019", "'").split())


@pytest.fixture(scope="module")
def text(html_dir: Path) -> str:
    pdf = html_dir / PDF_FILE
    assert pdf.is_file(), f"{pdf} is missing: `make pdf` (make book and make test build it)"
    assert (BUILD_DIR / "pdf" / PDF_FILE).is_file() or html_dir != BUILD_DIR / "html"
    return pdf_text(pdf)


def test_every_chapter_is_in_the_pdf(html_dir: Path, text: str) -> None:
    missing = [p for p in site_pages() if page_title(html_dir, p) not in text]
    assert not missing, f"chapters missing from the PDF: {missing}"


def test_the_published_numbers_are_in_the_pdf(text: str) -> None:
    missing = [v for v in results()["reported_as"] if " ".join(v.split()) not in text]
    assert not missing, f"published numbers missing from the PDF: {missing}"


def test_the_data_notice_is_in_the_pdf(text: str) -> None:
    assert SYNTHETIC_HEADLINE in text


def test_math_is_rendered_not_source(text: str) -> None:
    assert not re.search(r"\\\(|\\\[|\$\$|\\mathcal|\\frac", text), "TeX source in the PDF"


def test_the_site_links_the_pdf(html_dir: Path) -> None:
    soup = BeautifulSoup(
        (html_dir / "chapters" / "run_it_yourself.html").read_text("utf-8"), "html.parser"
    )
    links = [a["href"] for a in soup.select("article a[href]") if a["href"].endswith(PDF_FILE)]
    assert links, "the Run-it-yourself page does not link the PDF"
