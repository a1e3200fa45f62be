"""The "Run it yourself" page: the files the site offers and the commands that use them."""

from __future__ import annotations

import html

from anrs119 import distribution
from anrs119.pdf import PDF_FILE
from anrs119.publication import NOTEBOOKS_BRANCH, Publication

PAGE = "chapters/run_it_yourself"
_BLOCKS = {
    "install": ("bash", lambda: distribution.install_commands()),
    "install-windows": ("powershell", lambda: distribution.install_commands(windows=True)),
    "run": ("bash", lambda: distribution.run_commands()),
}


def _site_link(path: str, publication: Publication) -> str:
    """A file of the site, linked from this page (absolute when the site's address is known)."""
    return f"{publication.site}{path}" if publication.site else f"../{path}"


def _anchor(href: str, text: str) -> str:
    # Raw HTML: MyST would take a Markdown link to a file it cannot see for a missing reference.
    return f'<a href="{html.escape(href)}" download>{html.escape(text)}</a>'


def files_list(publication: Publication | None = None):  # -> IPython.display.Markdown
    """The three files to download, and the PDF edition."""
    from IPython.display import Markdown

    pub = Publication.from_environment() if publication is None else publication
    folder = distribution.SITE_FOLDER
    items = [
        f"- {label}: {_anchor(_site_link(f'{folder}/{name}', pub), name)}"
        for label, name in distribution.run_files().items()
    ]
    pdf = _anchor(_site_link(PDF_FILE, pub), PDF_FILE)
    return Markdown("\n".join([*items, "", f"The whole book is also a PDF: {pdf}."]))


def commands_block(kind: str):  # -> IPython.display.Markdown
    """One block of commands (``install``, ``install-windows`` or ``run``) as a code block."""
    from IPython.display import Markdown

    language, commands = _BLOCKS[kind]
    return Markdown(f"```{language}\n{commands()}\n```")


def repository_note(publication: Publication | None = None):  # -> IPython.display.Markdown
    """Where the book's sources are, and what the launch buttons open."""
    from IPython.display import Markdown

    pub = Publication.from_environment() if publication is None else publication
    if not pub.repository:
        return Markdown(
            "This build of the book names no repository. Its sources are the folder it was "
            "built from: there, `make book` builds this site and `make test` checks it (the "
            "README lists the other commands)."
        )
    services = " and ".join(name for name, _ in pub.launch_links(PAGE))
    return Markdown(
        f"The book's sources are at <{pub.repository}>: clone it, then `make book` builds this "
        "site and `make test` checks it (the README lists the other commands). The executed "
        f"notebooks are also on the repository's `{NOTEBOOKS_BRANCH}` branch, which the "
        f"{services} buttons at the top of each chapter open, to run it online without "
        "installing anything."
    )
