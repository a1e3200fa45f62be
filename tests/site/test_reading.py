"""The site reads as a book for its readers: the answer first, tables that fit, numbered and
captioned, one notice, one voice, terms and cross-references linked, code on demand.

Two kinds of check. The built HTML is read with BeautifulSoup (what every page contains); the
pages are laid out in Debian's Chromium at 1280 px (a laptop) and 390 px (a phone) for what a
reader sees (tables that fit, text that is large enough, page lengths, the intro's first
screen). Screenshots of the intro, the primary end point and the scorecard at both widths are
written to _build/screenshots/ for a person to read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Browser

from anrs119.data import load_dataset
from anrs119.published import load_claims, results
from anrs119.report.notice import SYNTHETIC_TEXT
from anrs119.report.tables import ordinal
from anrs119.report.text import GLUE_KINDS
from anrs119.sphinxext import PATIENT_LEVEL_PAGES
from tests.site import browser
from tests.site.conftest import site_pages

PAGES = site_pages()
NOTEBOOK_PAGES = [p for p in PAGES if p not in ("chapters/references", "chapters/glossary")]
INTRO = "intro"
DATA_PAGES = {"chapters/data_dictionary", *(p.removesuffix(".md") for p in PATIENT_LEVEL_PAGES)}
"""The pages that carry the full data notice besides the intro."""
REAL_DATA_PAGES = {"chapters/validation"}
"""Pages whose own data are real and public: they say so, never that they are synthetic."""
SCREENSHOT_PAGES = (INTRO, "chapters/primary", "chapters/scorecard")
SCREEN = {"wide": (browser.WIDE, 800), "narrow": (browser.NARROW, 844)}
MAX_SCREENS = 12.5
"""A page should not need much more than a dozen desktop screens (1280 x 800)."""
MIN_TABLE_FONT_PX = 12.0

# What no reader should meet in a page's text (code blocks and cells excepted).
LEAKS = {
    "unrendered role": re.compile(r"\{(?:glue|cite|numref|term|doc|flag)[:}]"),
    "LaTeX markup": re.compile(r"\\(?:texttt|emph|textbf|url)\b"),
    "authoring note": re.compile(
        r"PRIORS\.md|CONTRACT-|READERS\.md|not retrieved|garbling|machine-reworded|"
        r"the search tool|TODO|FIXME",
        re.IGNORECASE,
    ),
    "Python repr": re.compile(
        r"\b(?:True|False|None|nan|NaN)\b(?! positive| negative)|\d\.\d*000\b|\b\d+\.000\b"
        r"|\(s\)|\b1 parameters\b|not reached to not reached|-0\.0\b"
    ),
    "unit spelling": re.compile(r"cells/(?:uL|ul|microL|mm3|ml)\b|cells per cubic"),
    "British spelling": re.compile(
        r"\b(?:randomis\w*|analysed|analysing|labelled|modelled|modelling|colour\w*|"
        r"behaviour|neighbour\w*|favour\w*|tumour|leukaemia|centre)\b",
        re.IGNORECASE,
    ),
}
CODE_SELECTOR = "pre, code, .cell_input, .highlight, script, style, mjx-container, .math"


def soup(html_dir: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((html_dir / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


def article(html_dir: Path, page: str):
    return soup(html_dir, page).select_one("article.bd-article")


def reader_text(node) -> str:
    """The article's text as a reader reads it: without code, equations or the toggles."""
    node = BeautifulSoup(str(node), "html.parser")
    for hidden in node.select(CODE_SELECTOR + ", .headerlink, summary"):
        hidden.decompose()
    return " ".join(node.get_text(" ").split())


# ---------------------------------------------------------------- static: what every page holds


QUOTING_PAGES = {"chapters/references", "chapters/consort", "chapters/claims"}
"""Pages that quote titles, checklists and the abstract in their own spelling and units."""
QUOTED_LEAKS = {"British spelling", "unit spelling"}


@pytest.mark.parametrize("page", PAGES)
def test_no_markup_repr_or_authoring_note_reaches_a_reader(html_dir: Path, page: str) -> None:
    # a DOI (10.1080/01621459.2000.10474309) is an identifier, not a number a reader reads
    text = re.sub(r"\b10\.\d{4,9}/\S+", "", reader_text(article(html_dir, page)))
    found = {
        name: sorted({m.group(0) for m in pattern.finditer(text)})
        for name, pattern in LEAKS.items()
        if pattern.search(text) and not (name in QUOTED_LEAKS and page in QUOTING_PAGES)
    }
    assert not found, f"{page}: {found}"


@pytest.mark.parametrize("page", PAGES)
def test_every_table_is_numbered_captioned_and_cited(html_dir: Path, page: str) -> None:
    document = soup(html_dir, page)
    body = document.select_one("article.bd-article")
    links = {a["href"].split("#")[-1] for a in document.select("a[href*='#']")}
    for table in body.select("table"):
        caption = table.find("caption")
        assert caption is not None and caption.select_one(".caption-number"), (
            f"{page}: a table without a number and caption: {reader_text(table)[:80]}"
        )
        assert table.get("id") in links, f"{page}: {caption.get_text(' ', strip=True)[:60]} is "
        "never cited by number"


@pytest.mark.parametrize("page", PAGES)
def test_every_figure_is_cited_by_number(html_dir: Path, page: str) -> None:
    document = soup(html_dir, page)
    links = {a["href"].split("#")[-1] for a in document.select("a[href*='#']")}
    for figure in document.select("article.bd-article figure[id]"):
        assert figure["id"] in links, f"{page}: figure {figure['id']} is never cited by number"


CODE_NAME = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")


@pytest.mark.parametrize("page", PAGES)
def test_table_headers_are_words_not_ids(html_dir: Path, page: str) -> None:
    ids = set(load_claims().index) | set(load_claims()["claim"])
    for header in article(html_dir, page).select("th"):
        text = header.get_text(" ", strip=True)
        assert text, f"{page}: an empty header cell (an index name row?)"
        assert not (CODE_NAME.findall(text) or set(text.split()) & ids), (
            f"{page}: header {text!r} is an identifier"
        )


ORDINAL = re.compile(r"\b(\d+(?:\.\d+)?)(st|nd|rd|th)\b")


@pytest.mark.parametrize("page", PAGES)
def test_percentiles_are_whole_numbers_with_correct_ordinals(html_dir: Path, page: str) -> None:
    text = reader_text(article(html_dir, page))
    for number, suffix in ORDINAL.findall(text):
        if number in ("2.5", "97.5"):  # the bounds of a central 95%, not a reported percentile
            continue
        assert "." not in number, f"{page}: '{number}{suffix}'"
        assert ordinal(int(number)) == f"{number}{suffix}", f"{page}: '{number}{suffix}'"


@pytest.mark.parametrize("page", PAGES)
def test_the_full_notice_only_where_it_belongs(html_dir: Path, page: str) -> None:
    text = reader_text(article(html_dir, page))
    full = " ".join(SYNTHETIC_TEXT.split()[:12])
    if page in REAL_DATA_PAGES:
        assert "real" in text.lower() and full not in text, f"{page} must say its data are real"
        return
    expected = load_dataset().is_synthetic and (page == INTRO or page in DATA_PAGES)
    assert text.count(full) == int(expected), (
        f"{page}: the full data notice appears {text.count(full)} times (expected "
        f"{int(expected)}; the banner says it on every page)"
    )


@pytest.mark.parametrize("page", PAGES)
def test_every_glued_value_says_what_it_is(html_dir: Path, page: str) -> None:
    kinds = {f"glue-{kind}" for kind in GLUE_KINDS}
    synthetic = load_dataset().is_synthetic
    body = article(html_dir, page)
    for value in body.select(".pasted-text"):
        classes = set(value.get("class", []))
        assert classes & kinds, f"{page}: glued value {value.get_text()!r} has no kind"
    marks = body.select(".synthetic-mark")
    only = body.select(".glue-synthetic-only")
    if synthetic:
        assert len(marks) == len(only), (
            f"{page}: {len(only)} synthetic-only values, {len(marks)} marks"
        )
    else:
        assert not marks, f"{page}: a synthetic mark on a real-data build"


PLAIN_POINTER = re.compile(
    r"\b(?:see |in |on )?the (?!next\b|same\b|first\b|last\b|whole\b|whole\b)[\w-]+(?: [\w-]+)? "
    r"(?:chapter|page)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("page", [p for p in PAGES if p != "chapters/references"])
def test_pointers_to_other_pages_are_links(html_dir: Path, page: str) -> None:
    body = BeautifulSoup(str(article(html_dir, page)), "html.parser")
    for link in body.select("a"):
        link.replace_with(" LINK ")
    text = reader_text(body)
    plain = [m for m in PLAIN_POINTER.findall(text) if "LINK" not in m]
    assert not plain, f"{page}: pointers that are not links: {plain}"


GLOSSARY_TERMS = {
    "Mahalanobis": "mahalanobis",
    "IPCW": "ipcw",
    "ABC-SMC": "term-abc",
    "Newcombe": "newcombe",
    "MMRM": "mmrm",
    "plug-in range": "plug-in",
}


@pytest.mark.parametrize(
    "page", [p for p in PAGES if p not in ("chapters/glossary", "chapters/references")]
)
def test_jargon_links_to_the_glossary(html_dir: Path, page: str) -> None:
    body = article(html_dir, page)
    text = reader_text(body)
    targets = " ".join(a["href"].lower() for a in body.select("a[href*='glossary']"))
    missing = [
        word for word, anchor in GLOSSARY_TERMS.items() if word in text and anchor not in targets
    ]
    assert not missing, f"{page}: {missing} used without a link to the glossary"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_code_behind_every_result_opens_on_demand(html_dir: Path, page: str) -> None:
    body = article(html_dir, page)
    for cell in body.select("div.cell"):
        shows = cell.select_one(".cell_output table, .cell_output img")
        removed = "tag_remove-input" in cell.get("class", []) or not cell.select(".cell_input")
        assert not (shows and removed), f"{page}: a result whose code cannot be opened"


def _plain(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def test_bibliography_is_sorted_by_author_with_et_al(html_dir: Path) -> None:
    body = article(html_dir, "chapters/references")
    entries = body.select("div.citation")
    assert len(entries) > 20
    texts = []
    for entry in entries:
        for label in entry.select(".label"):
            label.decompose()
        texts.append(entry.get_text(" ", strip=True))
    keys = [_plain(re.split(r"[ ,.:]", t, maxsplit=1)[0]) for t in texts]
    assert keys == sorted(keys), f"bibliography not sorted by author: {keys}"
    assert "and others" not in body.get_text(" ")


# ---------------------------------------------------------------- in the browser: what is seen

_LAYOUT_JS = """
() => {
  const art = document.querySelector('article.bd-article');
  const out = {height: document.scrollingElement.scrollHeight, tables: []};
  for (const t of art.querySelectorAll('table')) {
    const box = t.closest('.pst-scrollable-table-container, .cell_output') || t.parentElement;
    const rect = t.getBoundingClientRect();
    const sizes = [...t.querySelectorAll('th, td')].map(
      (c) => parseFloat(getComputedStyle(c).fontSize));
    out.tables.push({
      caption: (t.querySelector('caption') || t).textContent.replace(/\\s+/g, ' ').slice(0, 70),
      clipped: Math.max(0, box.scrollWidth - box.clientWidth),
      right: rect.right, viewport: window.innerWidth, font: Math.min(...sizes),
      hidden: t.offsetParent === null,
    });
  }
  return out;
}
"""

_FIRST_SCREEN_JS = """
() => {
  const art = document.querySelector('article.bd-article');
  const seen = [];
  for (const el of art.querySelectorAll('p, li, dd, h1, h2')) {
    const r = el.getBoundingClientRect();
    if (r.top < window.innerHeight && r.bottom > 0) seen.push(el.textContent);
  }
  return seen.join(' ').replace(/\\s+/g, ' ');
}
"""


@pytest.fixture(scope="module")
def site(html_dir: Path) -> Iterator[str]:
    with browser.serve(html_dir) as url:
        yield url


@pytest.fixture(scope="module")
def layouts(chromium: Browser, site: str) -> dict[str, dict[str, dict]]:
    """Every page laid out once per width."""
    seen: dict[str, dict[str, dict]] = {}
    for mode, (width, height) in SCREEN.items():
        context = chromium.new_context(viewport={"width": width, "height": height})
        browser.Offline().install(context)
        seen[mode] = {}
        for page in PAGES:
            tab = context.new_page()
            tab.set_default_timeout(browser.PAGE_TIMEOUT_MS)
            tab.goto(f"{site}{page}.html", wait_until="load")
            tab.wait_for_load_state("networkidle")
            seen[mode][page] = tab.evaluate(_LAYOUT_JS)
            tab.close()
        context.close()
    return seen


def test_bibliography_shows_no_label_keys(chromium: Browser, site: str) -> None:
    context = chromium.new_context(viewport={"width": browser.WIDE, "height": browser.HEIGHT})
    browser.Offline().install(context)
    tab = context.new_page()
    tab.goto(f"{site}chapters/references.html", wait_until="load")
    shown = tab.evaluate(
        "() => [...document.querySelectorAll('div.citation .label')]"
        ".filter((l) => l.offsetParent !== null).map((l) => l.textContent)"
    )
    context.close()
    assert not shown, f"the bibliography shows label keys: {shown[:5]}"


@pytest.mark.parametrize("page", PAGES)
def test_tables_fit_a_laptop_screen(layouts, page: str) -> None:
    for table in layouts["wide"][page]["tables"]:
        if table["hidden"]:
            continue
        assert table["clipped"] <= 1, (
            f"{page}: '{table['caption']}' needs sideways scrolling ({table['clipped']} px)"
        )
        assert table["right"] <= table["viewport"], f"{page}: '{table['caption']}' runs off screen"


@pytest.mark.parametrize("page", PAGES)
def test_table_text_is_large_enough(layouts, page: str) -> None:
    for mode in SCREEN:
        for table in layouts[mode][page]["tables"]:
            if not table["hidden"]:
                assert table["font"] >= MIN_TABLE_FONT_PX, (
                    f"{page} ({mode}): '{table['caption']}' set at {table['font']} px"
                )


@pytest.mark.parametrize("page", PAGES)
def test_a_page_can_be_read_to_the_end(layouts, page: str) -> None:
    height = layouts["wide"][page]["height"]
    screens = height / SCREEN["wide"][1]
    assert screens <= MAX_SCREENS, f"{page}: {height} px, {screens:.1f} desktop screens"


@pytest.mark.parametrize("mode", list(SCREEN))
def test_the_first_screen_of_the_intro_gives_the_answer(chromium: Browser, site: str, mode) -> None:
    width, height = SCREEN[mode]
    context = chromium.new_context(viewport={"width": width, "height": height})
    browser.Offline().install(context)
    tab = context.new_page()
    tab.goto(f"{site}{INTRO}.html", wait_until="load")
    tab.wait_for_load_state("networkidle")
    seen = tab.evaluate(_FIRST_SCREEN_JS)
    context.close()
    claims = results()
    for claim_id in ("primary_w96_il2", "primary_w96_control", "primary_w96_p"):
        printed = claims.loc[claim_id, "reported_as"]
        assert printed in seen, f"{mode}: the first screen lacks the published {printed!r}"
    assert "per 100" in seen, f"{mode}: no absolute risk per 100 patients on the first screen"


def test_screenshots_for_a_reader(chromium: Browser, site: str, html_dir: Path) -> None:
    folder = html_dir.parent / "screenshots"
    for page in SCREENSHOT_PAGES:
        for width, height in SCREEN.values():
            context = chromium.new_context(viewport={"width": width, "height": height})
            browser.Offline().install(context)
            path = folder / f"{Path(page).name}-{width}.png"
            browser.screenshot(context, f"{site}{page}.html", path)
            context.close()
            assert path.stat().st_size > 10_000, f"{path} is nearly empty"


def test_the_configured_footer_appears_on_every_page(html_dir: Path) -> None:
    import yaml

    from anrs119.paths import REPO_ROOT

    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    # the theme options carry it (they replace what jupyter-book makes from `html:`)
    theme = ((config.get("sphinx") or {}).get("config") or {}).get("html_theme_options") or {}
    configured = theme.get("extra_footer") or (config.get("html") or {}).get("extra_footer") or ""
    expected = " ".join(BeautifulSoup(configured, "html.parser").get_text(" ").split())
    assert expected, "_config.yml configures no footer"
    for page in PAGES:
        footer = soup(html_dir, page).select_one(".extra_footer")
        shown = " ".join(footer.get_text(" ").split()) if footer else ""
        assert expected in shown, f"{page}: the configured footer is missing"
