"""Site tests read the built book in _build/html; `make test` builds it strictly before them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from anrs119.paths import BUILD_DIR, REPO_ROOT

HTML_DIR = BUILD_DIR / "html"


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


@pytest.fixture(scope="session")
def html_dir() -> Path:
    index = HTML_DIR / "index.html"
    if not index.exists():
        pytest.fail(f"{index} is missing: build the book first (`make book` or `make test`)")
    return HTML_DIR
