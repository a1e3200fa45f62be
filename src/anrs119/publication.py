"""Where the book is published: its repository and its site, named at build time or not at all.

The repository is named in one place, the environment variable ``ANRS119_REPOSITORY_URL`` (the
deploy workflow sets it from the repository it runs in; ``_config.yml`` leaves its own
``repository`` and ``launch_buttons`` empty). Source links, launch buttons and the absolute links
of the notebook downloads follow from it; a build that names none shows none of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

REPOSITORY_VAR = "ANRS119_REPOSITORY_URL"
"""The repository's web address (``https://github.com/owner/name``); the one place it is set."""
BRANCH_VAR = "ANRS119_REPOSITORY_BRANCH"
"""The branch the source links point at (default ``main``)."""
SITE_VAR = "ANRS119_SITE_URL"
"""Where the site is published (for absolute links in the notebooks and the PDF)."""
NOTEBOOKS_BRANCH = "notebooks"
"""The branch the deploy recipe fills with the executed notebooks (what Colab and Binder open)."""
BINDER_URL = "https://mybinder.org"
COLAB_URL = "https://colab.research.google.com"


@dataclass(frozen=True)
class Publication:
    """The repository and site addresses a build knows (each may be unknown)."""

    repository: str = ""
    branch: str = "main"
    site: str = ""

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Publication:
        env = os.environ if environ is None else environ
        repository = env.get(REPOSITORY_VAR, "").strip().rstrip("/").removesuffix(".git")
        if repository and urlsplit(repository).scheme not in {"http", "https"}:
            raise ValueError(f"{REPOSITORY_VAR}={repository!r}: expected an https:// address")
        site = env.get(SITE_VAR, "").strip()
        if site and not site.endswith("/"):
            site += "/"
        return cls(repository, env.get(BRANCH_VAR, "").strip() or "main", site)

    @property
    def github(self) -> tuple[str, str] | None:
        """(owner, name) when the repository is on GitHub (Colab opens only GitHub files)."""
        parts = urlsplit(self.repository)
        path = [p for p in parts.path.split("/") if p]
        if parts.netloc.lower() == "github.com" and len(path) == 2:
            return path[0], path[1]
        return None

    def page_url(self, docname: str, anchor: str = "") -> str:
        """The page's address on the published site, or "" when the site is unknown."""
        if not self.site:
            return ""
        return f"{self.site}{docname}.html" + (f"#{anchor}" if anchor else "")

    def launch_links(self, docname: str) -> list[tuple[str, str]]:
        """(name, address) of the launch services that open this chapter's executed notebook."""
        if not self.repository:
            return []
        path = f"{docname}.ipynb"
        github = self.github
        if github:
            owner, name = github
            binder = f"{BINDER_URL}/v2/gh/{owner}/{name}/{NOTEBOOKS_BRANCH}"
        else:
            binder = f"{BINDER_URL}/v2/git/{quote(self.repository, safe='')}/{NOTEBOOKS_BRANCH}"
        links = [("Binder", f"{binder}?urlpath=lab/tree/{path}")]
        if github:
            owner, name = github
            links.append(
                ("Colab", f"{COLAB_URL}/github/{owner}/{name}/blob/{NOTEBOOKS_BRANCH}/{path}")
            )
        return links
