"""Site tests read the built book in _build/html; `make test` builds it strictly before them.

Set ANRS119_SITE_DIR to test a book built elsewhere (e.g. `jupyter-book build --path-output`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from anrs119.paths import BUILD_DIR, REPO_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser

HTML_DIR = Path(os.environ.get("ANRS119_SITE_DIR") or BUILD_DIR / "html").resolve()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.site)


def toc_pages() -> list[str]:
    """Every document named in _toc.yml, in reading order (without extension)."""
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(node: dict) -> None:
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                if "file" in child:
                    pages.append(child["file"])
                walk(child)

    walk(toc)
    return pages


def site_pages() -> list[str]:
    """The toc documents this build publishes: patient-level pages only from synthetic data."""
    from anrs119.adam import DataValidationError
    from anrs119.data import load_dataset
    from anrs119.sphinxext import PATIENT_LEVEL_PAGES

    try:
        synthetic = load_dataset().is_synthetic
    except DataValidationError:  # no valid data, no book: the build reports it, not collection
        return toc_pages()
    if synthetic:
        return toc_pages()
    left_out = {page.removesuffix(".md") for page in PATIENT_LEVEL_PAGES}
    return [page for page in toc_pages() if page not in left_out]


@pytest.fixture(scope="session")
def html_dir() -> Path:
    index = HTML_DIR / "index.html"
    if not index.exists():
        pytest.fail(f"{index} is missing: build the book first (`make book` or `make test`)")
    return HTML_DIR


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One browser per test process: Playwright's sync API allows one running instance per
    thread, so two test files each starting their own failed when they shared a worker."""
    from playwright.sync_api import sync_playwright

    from tests.site import browser

    with sync_playwright() as playwright:
        instance = browser.launch(playwright)
        yield instance
        instance.close()
