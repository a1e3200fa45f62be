"""What the built pages say about the publication: the licences in every footer, and no launch
button or source link when the build named no repository (no dead button)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from anrs119.notebooks import notebook_of
from anrs119.paths import REPO_ROOT
from anrs119.publication import REPOSITORY_VAR
from tests.site.conftest import site_pages


def _soup(html_dir: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((html_dir / f"{page}.html").read_text("utf-8"), "html.parser")


@pytest.mark.parametrize("page", site_pages())
def test_footer_states_the_licences(html_dir: Path, page: str) -> None:
    footer = _soup(html_dir, page).select_one(".extra_footer")
    assert footer is not None, f"{page}: no extra footer"
    text = footer.get_text(" ", strip=True)
    assert "MIT" in text and "CC BY 4.0" in text, text


@pytest.mark.parametrize("page", site_pages())
def test_launch_buttons_only_with_a_repository(html_dir: Path, page: str) -> None:
    """The build that named a repository (the workflow's) has them; any other has none."""
    soup = _soup(html_dir, page)
    links = [a["href"] for a in soup.select(".article-header-buttons a[href]")]
    launch = [href for href in links if "mybinder.org" in href or "colab.research" in href]
    repository = os.environ.get(REPOSITORY_VAR, "")
    if not repository:
        assert not launch, f"{page}: launch buttons without a repository: {launch}"
        assert not [href for href in links if "github.com" in href], f"{page}: {links}"
    elif notebook_of(REPO_ROOT / f"{page}.md") is not None:  # a plain page has none to launch
        assert len(launch) == 2, f"{page}: {links}"
        assert any(href.startswith(repository) for href in links), f"{page}: no source link"
