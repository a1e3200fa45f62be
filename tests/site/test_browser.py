"""The built site in a real browser: every page of the toc loads, reads and links correctly offline.

Debian's chromium, driven headless by Playwright, reads each page three times: at 1280 px and
390 px wide in light mode, and at 1280 px in dark mode. Requests that leave 127.0.0.1 are
aborted, so a page that needs the internet fails here. Screenshots of the primary end point page
are written to _build/screenshots/ for a person to look at.
"""

from __future__ import annotations

import itertools
import json
import re
import struct
import warnings
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import unquote, urldefrag, urljoin, urlparse
from urllib.request import Request, urlopen

import jupytext
import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from playwright.sync_api import Browser

from anrs119.adam import TABLES
from anrs119.data import PROVENANCE_FILE, SYNTHETIC_XPT_DIR, load_dataset
from anrs119.notebooks import notebook_of
from anrs119.paths import REPO_ROOT, SYNTHETIC_DIR
from anrs119.report.dictionary import DICTIONARY_FILE
from anrs119.report.notice import notice_html
from anrs119.sphinxext import PATIENT_LEVEL_PAGES
from tests.site import browser
from tests.site.conftest import site_pages, toc_pages

PAGES = site_pages()
PRIMARY_PAGE = "chapters/primary"  # the page a reader opens first for the trial's main result
FALLBACK_PAGE = "intro"
DATA_PAGE = PATIENT_LEVEL_PAGES[0].removesuffix(".md")
MODES = {  # name: (width, colour scheme)
    "wide": (browser.WIDE, "light"),
    "narrow": (browser.NARROW, "light"),
    "dark": (browser.WIDE, "dark"),
}
BOOK_TITLE = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]


@pytest.fixture(scope="session")
def site_url(html_dir: Path) -> Iterator[str]:
    with browser.serve(html_dir) as url:
        yield url


@pytest.fixture(scope="session")
def reports(chromium: Browser, site_url: str) -> dict[str, dict[str, browser.PageReport]]:
    """Every page read once per mode (the tests below only look at what was seen)."""
    seen: dict[str, dict[str, browser.PageReport]] = {}
    for mode, (width, scheme) in MODES.items():
        context = chromium.new_context(
            viewport={"width": width, "height": browser.HEIGHT}, color_scheme=scheme
        )
        browser.Offline().install(context)  # requests of no tab (workers) stay local too
        seen[mode] = browser.read_pages(context, site_url, PAGES)
        context.close()
    return seen


def source_heading(page: str) -> str:
    """The page's title as written in its source: the first level-1 Markdown heading."""
    notebook = jupytext.read(REPO_ROOT / f"{page}.md", fmt="md:myst")
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^# (.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return re.sub(r"[`*_]", "", match.group(1)).strip()
    raise AssertionError(f"{page}.md has no level-1 heading")


def fetch(url: str, method: str = "GET") -> tuple[int, bytes]:
    try:
        with urlopen(Request(url, method=method), timeout=10) as response:
            return response.status, response.read()
    except HTTPError as err:
        return err.code, b""


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_errors(reports, page: str) -> None:
    for mode, seen in reports.items():
        report = seen[page]
        assert report.status == 200, f"{page} ({mode}): HTTP {report.status}"
        assert not report.errors, f"{page} ({mode}):\n" + "\n".join(report.errors)


@pytest.mark.parametrize("page", PAGES)
def test_title_and_headings(reports, page: str) -> None:
    report = reports["wide"][page]
    levels = [level for level, _ in report.headings]
    assert levels and levels[0] == 1 and levels.count(1) == 1, f"{page}: one <h1>, first"
    heading = report.headings[0][1]
    assert heading == source_heading(page), f"{page}: <h1> {heading!r} is not the source's"
    assert report.title == f"{heading} — {BOOK_TITLE}", f"{page}: <title> {report.title!r}"
    skips = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
    assert not skips, f"{page}: heading levels skip {skips} in {report.headings}"


SMALLEST_FIGURE_TEXT_PX: float = 7 / 72 * 150
"""The smallest text the book's figures draw (7 pt tick labels, report/*_figures.py), in the
image's own pixels: figures are saved at 150 dpi (report/figures.py)."""

LEGIBLE_PX: float = 8.0
"""The least size, in CSS pixels, at which that text still reads on a phone."""


@pytest.mark.parametrize("page", PAGES)
def test_figure_text_stays_legible_on_a_phone(reports, page: str) -> None:
    """At 390 px a figure keeps a width at which its smallest text is at least LEGIBLE_PX (the
    figure scrolls sideways in its own box rather than shrinking to the column)."""
    small = [
        f"{image['src'].rsplit('/', 1)[-1][:12]}: {SMALLEST_FIGURE_TEXT_PX * scale:.1f} px"
        for image in reports["narrow"][page].images
        if image["inArticle"]
        and image["width"]
        and (scale := image["shown"] / image["width"]) * SMALLEST_FIGURE_TEXT_PX < LEGIBLE_PX
    ]
    assert not small, f"{page}: figure text below {LEGIBLE_PX:g} px at 390 px wide: {small}"


@pytest.mark.parametrize("page", PAGES)
def test_images_load_and_have_alt_text(reports, page: str) -> None:
    for mode, seen in reports.items():
        for image in seen[page].images:
            assert image["loaded"], f"{page} ({mode}): image did not load: {image['src']}"
            assert image["alt"], f"{page} ({mode}): image without alt text: {image['src']}"


@pytest.mark.parametrize("page", PAGES)
def test_data_notice_is_visible(reports, page: str) -> None:
    expected = BeautifulSoup(notice_html(load_dataset()), "html.parser").get_text(" ")
    expected = " ".join(expected.split())
    for mode, seen in reports.items():
        report = seen[page]
        assert report.notice_visible, f"{page} ({mode}): the data notice is not on screen"
        assert expected in report.notice, f"{page} ({mode}): notice reads {report.notice!r}"


@pytest.mark.parametrize("page", PAGES)
def test_glued_numbers_are_present(reports, page: str) -> None:
    report = reports["wide"][page]
    assert report.empty_glue == 0, f"{page}: {report.empty_glue} empty glued values"
    assert not report.unrendered_glue, f"{page}: a {{glue}} role was printed as text"


@pytest.mark.parametrize("page", PAGES)
def test_page_reads_offline(reports, page: str) -> None:
    """No request leaves the machine: fonts, scripts and MathJax are served by the site."""
    attempted = sorted({url for seen in reports.values() for url in seen[page].external})
    hint = ""
    if any("mathjax" in url.lower() for url in attempted):
        hint = "\n(MathJax: install django-static-mathjax; anrs119.sphinxext then serves it)"
    assert not attempted, f"{page} tried to reach the internet:\n" + "\n".join(attempted) + hint


@pytest.mark.parametrize("page", PAGES)
def test_wide_content_scrolls_instead_of_breaking_the_layout(reports, page: str) -> None:
    for mode in ("wide", "narrow"):
        report = reports[mode][page]
        sideways = report.overflow_px
        assert sideways == 0, f"{page} ({mode}): the page scrolls sideways by {sideways} px"
        assert not report.unscrollable, (
            f"{page} ({mode}): wider than the text, without a scroll box: {report.unscrollable}"
        )


@pytest.mark.parametrize("page", PAGES)
def test_dark_mode_keeps_figures_legible(reports, page: str) -> None:
    report = reports["dark"][page]
    assert report.dark_theme == "dark", f"{page}: the theme did not follow the dark preference"
    assert not report.illegible_images, (
        f"{page}: transparent images on a dark background: {report.illegible_images}"
    )


@pytest.mark.parametrize("page", PAGES)
def test_chapter_downloads_as_source_and_notebook(reports, page: str) -> None:
    source = REPO_ROOT / f"{page}.md"
    links = reports["wide"][page].downloads
    md = [u for u in links if urlparse(u).path.endswith(".md")]
    assert len(md) == 1, f"{page}: download menu offers {links}, not one .md"
    status, body = fetch(md[0])
    assert status == 200 and body == source.read_bytes(), f"{page}: {md[0]} is not the source"
    notebook = notebook_of(source)
    ipynb = [u for u in links if urlparse(u).path.endswith(".ipynb")]
    if notebook is None:  # a plain Markdown page (e.g. the references) has no notebook
        assert not ipynb, f"{page}: not a notebook, but offers {ipynb}"
        return
    assert len(ipynb) == 1, f"{page}: download menu offers {links}, not one .ipynb"
    status, body = fetch(ipynb[0])
    assert status == 200, f"{page}: {ipynb[0]} HTTP {status}"
    downloaded = nbformat.reads(body.decode("utf-8"), as_version=4)
    nbformat.validate(downloaded)
    assert downloaded.metadata["kernelspec"]["name"] == notebook.metadata["kernelspec"]["name"]
    # The download is the executed chapter converted from the page (tests/site/test_notebooks.py
    # checks its Markdown, outputs and glued values): its code is the chapter's.
    assert [c.source for c in downloaded.cells if c.cell_type == "code"] == [
        c.source for c in notebook.cells if c.cell_type == "code"
    ], f"{page}: the notebook's code differs from the chapter's"


def test_links_and_anchors_resolve(site_url: str) -> None:
    """Crawl the served site from every toc page: each internal target and #anchor exists."""
    queue = deque(f"{site_url}{page}.html" for page in ["index", *PAGES])
    status: dict[str, int] = {}
    ids: dict[str, set[str]] = {}
    broken: list[str] = []
    wanted: list[tuple[str, str, str]] = []  # (page, target, anchor)
    while queue:
        url = queue.popleft()
        if url in status:
            continue
        code, body = fetch(url)
        status[url] = code
        if code != 200:
            continue
        document = BeautifulSoup(body, "html.parser")
        ids[url] = {tag["id"] for tag in document.select("[id]")}
        ids[url] |= {tag["name"] for tag in document.select("a[name]")}
        for tag in document.select("a[href], link[href], img[src], script[src]"):
            ref = tag.get("href") or tag.get("src")
            target, anchor = urldefrag(urljoin(url, ref))
            target = target.split("?")[0]
            if not target.startswith(site_url):
                continue
            if anchor:
                wanted.append((url, target, unquote(anchor)))
            if target.endswith(".html") or target.endswith("/"):
                queue.append(target)
            elif target not in status:
                status[target] = fetch(target, "HEAD")[0]
    broken += [f"{url}: HTTP {code}" for url, code in status.items() if code != 200]
    broken += [
        f"{page}: {target}#{anchor}"
        for page, target, anchor in wanted
        if status.get(target) == 200 and target in ids and anchor not in ids[target]
    ]
    assert len(status) > len(PAGES), "the crawl found fewer files than pages"
    assert not broken, "broken links:\n" + "\n".join(sorted(set(broken)))


def test_data_page_offers_the_tables_and_dictionary(html_dir: Path, reports) -> None:
    if not load_dataset().is_synthetic:  # real data: no patient-level downloads anywhere
        assert not (html_dir / f"{DATA_PAGE}.html").exists(), f"{DATA_PAGE} built from real data"
        leaks = [
            p for p in html_dir.rglob("*") if p.suffix in {".csv", ".xpt"} and p.stem in TABLES
        ]
        assert not leaks, f"patient-level files in a real-data site: {leaks}"
        return
    assert DATA_PAGE in PAGES, f"{DATA_PAGE} is not in _toc.yml"
    expected = {
        **{t.file: SYNTHETIC_DIR / t.file for t in TABLES.values()},
        **{f"{t.name}.xpt": SYNTHETIC_XPT_DIR / f"{t.name}.xpt" for t in TABLES.values()},
        PROVENANCE_FILE: SYNTHETIC_DIR / PROVENANCE_FILE,
        DICTIONARY_FILE.name: DICTIONARY_FILE,
    }
    offered = reports["wide"][DATA_PAGE].data_downloads
    links = {unquote(Path(urlparse(u).path).name): u for u in offered}
    assert set(links) == set(expected), f"{DATA_PAGE} offers {sorted(links)}"
    for name, url in links.items():
        status, body = fetch(url)
        assert status == 200 and body == expected[name].read_bytes(), f"{url} is not {name}"
    provenance = json.loads(fetch(links[PROVENANCE_FILE])[1])
    assert provenance.get("synthetic") is True, "the downloaded provenance does not say synthetic"


def screenshot_page(html_dir: Path) -> str:
    """The primary end point page, or the intro while that chapter is not in the toc yet."""
    if PRIMARY_PAGE in toc_pages():
        built = (html_dir / f"{PRIMARY_PAGE}.html").exists()
        assert built, f"{PRIMARY_PAGE} is in _toc.yml but was not built"
        return PRIMARY_PAGE
    warnings.warn(
        f"{PRIMARY_PAGE} is not in _toc.yml yet: screenshots show {FALLBACK_PAGE}",
        stacklevel=2,
    )
    return FALLBACK_PAGE


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_screenshots_of_the_primary_page(chromium: Browser, site_url: str, html_dir: Path) -> None:
    page = screenshot_page(html_dir)
    folder = html_dir.parent / "screenshots"
    stem = Path(page).name
    for mode, (width, scheme) in MODES.items():
        context = chromium.new_context(
            viewport={"width": width, "height": browser.HEIGHT}, color_scheme=scheme
        )
        offline = browser.Offline()
        offline.install(context)
        suffix = "-dark" if scheme == "dark" else ""
        path = folder / f"{stem}-{width}{suffix}.png"
        browser.screenshot(context, f"{site_url}{page}.html", path)
        context.close()
        shot_width, shot_height = png_size(path)
        assert shot_width == width, f"{path}: {shot_width} px wide, not {width} ({mode})"
        assert shot_height >= browser.HEIGHT, f"{path}: only {shot_height} px tall"
        assert not offline.attempted, f"{page} ({mode}) tried the internet: {offline.attempted}"


def test_side_by_side_reading_charges_each_fault_to_its_own_page(
    chromium: Browser, tmp_path: Path
) -> None:
    """Pages read at once keep their faults apart: the harness itself can fail a page."""
    clean = "<html><head><title>{0}</title></head><body><article>{0}</article></body></html>"
    faulty = (
        "<html><head><title>b</title><script src='https://example.org/x.js'></script></head>"
        "<body><script>undefinedFunction()</script></body></html>"
    )
    for name, html in {"a": clean.format("a"), "b": faulty, "c": clean.format("c")}.items():
        (tmp_path / f"{name}.html").write_text(html, encoding="utf-8")
    context = chromium.new_context()
    try:
        with browser.serve(tmp_path) as url:
            seen = browser.read_pages(context, url, ["a", "b", "c"], at_once=3)
    finally:
        context.close()
    assert seen["b"].external == ["https://example.org/x.js"]
    assert any("undefinedFunction" in error for error in seen["b"].errors), seen["b"].errors
    for page in ("a", "c"):
        assert seen[page].title == page
        assert not seen[page].external and not seen[page].errors, seen[page]
