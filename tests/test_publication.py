"""The repository is named in one place; without it, no launch button or source link appears."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from anrs119 import notebooks
from anrs119.paths import REPO_ROOT
from anrs119.publication import (
    BINDER_URL,
    COLAB_URL,
    NOTEBOOKS_BRANCH,
    REPOSITORY_VAR,
    SITE_VAR,
    Publication,
)

GITHUB = {REPOSITORY_VAR: "https://github.com/owner/anrs119-book.git", SITE_VAR: "https://x.org/b"}


def test_read_from_the_environment() -> None:
    pub = Publication.from_environment(GITHUB)
    assert pub.repository == "https://github.com/owner/anrs119-book"
    assert pub.github == ("owner", "anrs119-book")
    assert pub.site == "https://x.org/b/"
    assert pub.branch == "main"
    assert Publication.from_environment({}) == Publication()


def test_a_repository_must_be_an_address() -> None:
    with pytest.raises(ValueError, match=REPOSITORY_VAR):
        Publication.from_environment({REPOSITORY_VAR: "git@github.com:owner/book"})


def test_launch_links_open_the_executed_notebook() -> None:
    links = dict(Publication.from_environment(GITHUB).launch_links("chapters/primary"))
    assert links["Binder"] == (
        f"{BINDER_URL}/v2/gh/owner/anrs119-book/{NOTEBOOKS_BRANCH}"
        "?urlpath=lab/tree/chapters/primary.ipynb"
    )
    assert links["Colab"] == (
        f"{COLAB_URL}/github/owner/anrs119-book/blob/{NOTEBOOKS_BRANCH}/chapters/primary.ipynb"
    )
    gitlab = Publication.from_environment({REPOSITORY_VAR: "https://gitlab.com/o/b"})
    assert [name for name, _ in gitlab.launch_links("intro")] == ["Binder"]  # Colab: GitHub only
    assert Publication().launch_links("intro") == []


def test_the_configuration_names_no_repository() -> None:
    """_config.yml leaves repository and launch buttons empty: the environment is the one place."""
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text("utf-8"))
    assert config["launch_buttons"] == {}
    assert config["repository"]["url"] == ""
    assert not any(
        config["html"].get(key) for key in ("use_repository_button", "use_issues_button")
    )
    assert "anrs119.notebooks" in config["sphinx"]["extra_extensions"]


def _configured(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    for key in (REPOSITORY_VAR, SITE_VAR):
        monkeypatch.delenv(key, raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    app = SimpleNamespace()
    config = SimpleNamespace(html_theme_options={"launch_buttons": {"binderhub_url": "x"}})
    notebooks._configure(app, config)
    return app, config


@pytest.mark.parametrize("environ", [{}, GITHUB])
def test_buttons_follow_the_repository(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, config = _configured(environ, monkeypatch)
    options = config.html_theme_options
    known = bool(environ)
    assert options["launch_buttons"] == {}  # never the theme's: ours point at the notebooks
    assert options["use_source_button"] is known
    assert options["use_repository_button"] is known
    assert options["repository_url"] == (
        GITHUB[REPOSITORY_VAR].removesuffix(".git") if known else ""
    )
    assert getattr(config, "html_baseurl", "") == ("https://x.org/b/" if known else "")
    monkeypatch.setattr(notebooks, "_is_notebook", lambda app, page: True)
    context: dict = {"header_buttons": []}
    notebooks._launch_buttons(app, "chapters/primary", "page.html", context, doctree=object())
    if not known:
        assert context["header_buttons"] == []
        return
    [group] = context["header_buttons"]
    assert [b["text"] for b in group["buttons"]] == ["Binder", "Colab"]
