"""Serve the built site on localhost and read its pages in headless Chromium, as a reader would.

The browser is Debian's chromium driven by Playwright (a test tool's own browser download does
not work here, so `playwright install` is never used). Every request that leaves 127.0.0.1 is
aborted and recorded: the tests prove the site reads correctly with no internet.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Response,
    Route,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",  # the tests run as root in CI
    "--disable-gpu",
    # Without these, Chromium keeps calling home (updates, sync, QUIC probes) on a closed network.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WIDE, NARROW = 1280, 390  # a laptop and a phone, CSS pixels
HEIGHT = 900


def chromium_path() -> Path:
    """Debian's chromium (installed by `make browser`), or the one named by ANRS119_CHROMIUM."""
    found = os.environ.get("ANRS119_CHROMIUM") or shutil.which("chromium")
    if not found or not Path(found).is_file():
        raise FileNotFoundError(
            "chromium not found: run `make browser` (installs Debian's chromium) "
            "or set ANRS119_CHROMIUM to a Chromium executable"
        )
    return Path(found)


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=str(chromium_path()), headless=True, args=list(CHROMIUM_ARGS)
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would bury pytest's output


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname == "127.0.0.1"


OFF_MACHINE = re.compile(r"^(?!(?:https?|wss?)://127\.0\.0\.1[:/]|data:|blob:|about:)")
"""URLs that leave this machine. Only these are routed through Python: routing every request
(a page's scripts, styles, fonts, images) cost a round trip to the test process each."""


@dataclass
class Offline:
    """Aborts every request that is not for the local site, and remembers it."""

    attempted: list[str] = field(default_factory=list)

    def install(self, target: BrowserContext | Page) -> None:
        """Route every request of a browser context, or of one tab (a tab's routes come first)."""
        target.route(OFF_MACHINE, self._route)

    def _route(self, route: Route, request: Request) -> None:
        if is_local(request.url):
            route.continue_()
        else:
            self.attempted.append(request.url)
            route.abort("internetdisconnected")


@dataclass
class PageReport:
    """What a reader's browser saw on one page."""

    page: str
    url: str
    status: int | None
    title: str
    headings: list[tuple[int, str]]  # (level, text) in document order, inside the article
    images: list[dict]  # src, alt, loaded, natural width, shown width (CSS px)
    notice: str  # the announcement bar's text as rendered ("" if not visible)
    notice_visible: bool
    empty_glue: int
    unrendered_glue: bool
    downloads: list[str]  # absolute URLs of the download menu's links
    data_downloads: list[str]  # absolute URLs of {download} links in the article
    errors: list[str]  # script errors, and failed or >= 400 requests for the site's own files
    external: list[str]  # requests the page tried to make off this machine
    overflow_px: int  # how far the page scrolls sideways (0 = fits the viewport)
    unscrollable: list[str]  # tables, code, equations wider than the text, not in a scroll box
    dark_theme: str  # data-theme on <html> ("dark" when dark mode applies)
    illegible_images: list[str]  # in dark mode: transparent images on a dark background


# Collected in the page in one pass, so each page is loaded once per viewport.
_COLLECT_JS = """
() => {
  const article = document.querySelector('article.bd-article') || document.body;
  const text = (el) => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('.headerlink, .toc-backref').forEach((x) => x.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  };
  const headings = [...article.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .map((h) => [Number(h.tagName[1]), text(h)]);
  const images = [...document.querySelectorAll('img')].map((img) => ({
    src: img.currentSrc || img.src, alt: (img.getAttribute('alt') || '').trim(),
    loaded: img.complete && img.naturalWidth > 0, width: img.naturalWidth,
    shown: img.getBoundingClientRect().width, inArticle: article.contains(img),
  }));
  const banner = document.querySelector('.bd-header-announcement');
  const box = banner ? banner.getBoundingClientRect() : null;
  const style = banner ? getComputedStyle(banner) : null;
  const visible = !!banner && box.height > 0 && box.width > 0 && box.top < window.innerHeight
    && style.visibility !== 'hidden' && style.display !== 'none';
  const glue = [...article.querySelectorAll('.pasted-text, .pasted-inline')];
  const emptyGlue = glue
    .filter((g) => !g.textContent.trim() && !g.querySelector('img, table')).length;
  const downloads = [...document.querySelectorAll('.dropdown-download-buttons a[href]')]
    .map((a) => a.href);
  const dataDownloads = [...article.querySelectorAll('a.download[href]')].map((a) => a.href);
  const column = article.getBoundingClientRect().width;
  const unscrollable = [];
  for (const wide of article.querySelectorAll('table, pre, mjx-container[display="true"]')) {
    // A cell tagged full-width is widened by the theme on purpose: its own width is the limit.
    const full = wide.closest('div.cell.tag_full-width');
    const limit = full ? Math.max(column, full.getBoundingClientRect().width) : column;
    if (Math.max(wide.getBoundingClientRect().width, wide.scrollWidth) <= limit + 1) continue;
    let box = wide, scrolls = false;
    while (box && box !== article.parentElement) {
      const ox = getComputedStyle(box).overflowX;
      if ((ox === 'auto' || ox === 'scroll') && box.getBoundingClientRect().width <= limit + 1) {
        scrolls = true; break;
      }
      box = box.parentElement;
    }
    if (!scrolls) unscrollable.push(`${wide.tagName.toLowerCase()}: ${text(wide).slice(0, 60)}`);
  }
  return {
    title: document.title, headings, images, notice: visible ? text(banner) : '',
    noticeVisible: visible, emptyGlue, unrenderedGlue: article.textContent.includes('{glue'),
    downloads, dataDownloads, unscrollable,
    overflow: Math.max(0, document.scrollingElement.scrollWidth - window.innerWidth),
    theme: document.documentElement.dataset.theme || '',
  };
}
"""

# An image is legible in dark mode if it is opaque (figures are drawn on white) or the theme
# puts a light background behind it.
_DARK_IMAGES_JS = """
() => {
  const out = [];
  const light = (rgb) => {
    const m = rgb.match(/[\\d.]+/g);
    if (!m || (m.length > 3 && Number(m[3]) === 0)) return false;
    return (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255 > 0.7;
  };
  for (const img of document.querySelectorAll('article.bd-article img')) {
    if (!img.naturalWidth) continue;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const w = canvas.width - 1, h = canvas.height - 1;
    const corners = [[0, 0], [w, 0], [0, h], [w, h]]
      .map(([x, y]) => ctx.getImageData(x, y, 1, 1).data[3]);
    const opaque = corners.every((a) => a === 255);
    if (!opaque && !light(getComputedStyle(img).backgroundColor)) out.push(img.currentSrc);
  }
  return out;
}
"""


PAGES_AT_ONCE: int = 6
"""Pages a reading keeps loading at the same time: most of a page's load is waiting (for its
scripts, its fonts, half a second of network quiet), which overlaps across tabs."""


PAGE_TIMEOUT_MS: float = 120_000
"""How long a tab may take to load and fall quiet. Playwright's 30 s was exceeded when two
readings of the site ran at once on a loaded machine (twelve tabs on two cores)."""


@dataclass
class _Loading:
    """A tab on its way to a page, with what it has seen so far."""

    page: str
    url: str
    tab: Page
    response: Response | None
    errors: list[str]
    external: list[str]


def _start(context: BrowserContext, base: str, page: str) -> _Loading:
    tab = context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    external: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"script error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            errors.append(f"console: {msg.text} ({msg.location.get('url', '')})")
            if msg.type == "error" and is_local(msg.location.get("url", "") or base)
            else None
        ),
    )
    tab.on(
        "requestfailed",
        lambda req: (
            errors.append(f"failed: {req.url} ({req.failure})") if is_local(req.url) else None
        ),
    )
    tab.on(
        "response",
        lambda res: (
            errors.append(f"HTTP {res.status}: {res.url}")
            if res.status >= 400 and is_local(res.url)
            else None
        ),
    )
    Offline(external).install(tab)  # the tab's own record: pages load side by side
    url = f"{base}{page}.html"
    try:
        response = tab.goto(url, wait_until="commit")
    except Exception:
        tab.close()
        raise
    return _Loading(page, url, tab, response, errors, external)


def _finish(loading: _Loading, *, retry: bool = True) -> PageReport:
    """The report of a page whose load has started; a page that does not fall quiet in time is
    loaded once more alone (on a starved machine, six tabs at once can exceed the timeout), and
    a second timeout names the page and the requests still open."""
    tab = loading.tab
    pending: list[str] = []
    tab.on("request", lambda req: pending.append(req.url))
    tab.on("requestfinished", lambda req: pending.remove(req.url) if req.url in pending else None)
    tab.on("requestfailed", lambda req: pending.remove(req.url) if req.url in pending else None)
    try:
        try:
            tab.wait_for_load_state("load")
            tab.wait_for_load_state("networkidle")
        except PlaywrightTimeoutError as exc:
            if not retry:
                raise TimeoutError(
                    f"{loading.page}: not loaded and quiet within {PAGE_TIMEOUT_MS / 1000:g} s, "
                    f"alone in its tab (requests still open: {pending or 'none seen'})"
                ) from exc
            tab.close()
            base = loading.url.removesuffix(f"{loading.page}.html")
            return _finish(_start(tab.context, base, loading.page), retry=False)
        seen = tab.evaluate(_COLLECT_JS)
        illegible = tab.evaluate(_DARK_IMAGES_JS) if seen["theme"] == "dark" else []
    finally:
        if not tab.is_closed():
            tab.close()
    response = loading.response
    return PageReport(
        page=loading.page,
        url=loading.url,
        status=response.status if response else None,
        title=seen["title"],
        headings=[(int(level), text) for level, text in seen["headings"]],
        images=seen["images"],
        notice=seen["notice"],
        notice_visible=seen["noticeVisible"],
        empty_glue=seen["emptyGlue"],
        unrendered_glue=seen["unrenderedGlue"],
        downloads=seen["downloads"],
        data_downloads=seen["dataDownloads"],
        errors=loading.errors,
        external=loading.external,
        overflow_px=int(seen["overflow"]),
        unscrollable=seen["unscrollable"],
        dark_theme=seen["theme"],
        illegible_images=illegible,
    )


def read_pages(
    context: BrowserContext, base: str, pages: list[str], at_once: int = PAGES_AT_ONCE
) -> dict[str, PageReport]:
    """Load each page of the site and report what a reader would see, ``at_once`` pages in
    their own tabs at a time (each tab records its own errors and off-machine requests)."""
    reports: dict[str, PageReport] = {}
    loading: deque[_Loading] = deque()
    try:
        for page in pages:
            if len(loading) >= at_once:
                done = loading.popleft()
                reports[done.page] = _finish(done)
            loading.append(_start(context, base, page))
        while loading:
            done = loading.popleft()
            reports[done.page] = _finish(done)
    finally:
        for left in loading:
            left.tab.close()
    return reports


def screenshot(context: BrowserContext, url: str, path: Path) -> Path:
    """A screenshot of the whole of ``url`` (written to ``path``).

    The viewport is stretched to the page's height rather than using a "full page" capture:
    that capture keeps the first viewport's height for sticky sidebars and clips them, which
    would show a reader a fault that no browser window has.
    """
    tab = context.new_page()
    try:
        tab.goto(url, wait_until="load")
        tab.wait_for_load_state("networkidle")
        width = tab.viewport_size["width"] if tab.viewport_size else WIDE
        height = tab.evaluate("() => document.scrollingElement.scrollHeight")
        tab.set_viewport_size({"width": width, "height": max(HEIGHT, int(height))})
        tab.wait_for_timeout(200)  # let the theme re-lay out sticky parts for the new height
        path.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(path))
    finally:
        tab.close()
    return path
