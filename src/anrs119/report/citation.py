"""How to cite the book: the reproducibility page's section, written from CITATION.cff."""

from __future__ import annotations

import re

import yaml

from anrs119.paths import REPO_ROOT
from anrs119.publication import Publication

CITATION_FILE = REPO_ROOT / "CITATION.cff"


def _authors(people: list[dict]) -> str:
    """Vancouver style: "Molina JM, Levy Y, Fournier I, et al., for the ... Study Team".

    A reference that names a group after its people lists only the first authors (the
    paper has more), so "et al." stands before the group."""
    persons = [
        f"{p['family-names']} {''.join(w[0] for w in re.split(r'[ -]', p['given-names']) if w)}"
        for p in people
        if "family-names" in p
    ]
    groups = [p["name"] for p in people if "name" in p]
    if persons and groups:
        return f"{', '.join(persons)}, et al., for the {' and '.join(groups)}"
    return ", ".join(persons or groups)


def how_to_cite(publication: Publication | None = None):  # -> IPython.display.Markdown
    """The book's citation, the trial paper's, and where the licences and terms are stated."""
    from IPython.display import Markdown

    pub = Publication.from_environment() if publication is None else publication
    cff = yaml.safe_load(CITATION_FILE.read_text(encoding="utf-8"))
    where = f" {pub.repository}." if pub.repository else ""
    book = f"{_authors(cff['authors'])}. *{cff['title']}*. Version {cff['version']}.{where}"
    [paper] = [r for r in cff["references"] if r.get("type") == "article"]
    trial = (
        f"{_authors(paper['authors'])}. {' '.join(paper['title'].split())}. "
        f"*{paper['journal']}* {paper['year']};{paper['volume']}({paper['issue']}):"
        f"{paper['start']}-{paper['end']}. doi:{paper['doi']}"
    )
    return Markdown(
        "\n\n".join(
            [
                f"Cite the book as: {book}",
                f"Its results are the trial's, and the trial's paper is the source: {trial}.",
                "The repository's `CITATION.cff` says the same in the Citation File Format "
                "(GitHub's *Cite this repository* reads it), and `codemeta.json` describes the "
                "software. The code is under the MIT License; the text, the figures and the "
                "generated data (the synthetic reconstruction included) under CC BY 4.0. The "
                "source data keep their own terms (`LICENSE-TEXT.md`): the trial's patient "
                "data belong to its sponsor and are not part of the book, and the published "
                "numbers and quotations come from the cited articles.",
            ]
        )
    )
