"""The book's citation style: author-year in the text, in round brackets as the journal prints
them, and a bibliography sorted by author and year, without label keys.

Registered by ``anrs119.sphinxext`` as the pybtex formatting style ``anrs119`` and the
sphinxcontrib-bibtex referencing style ``anrs119_author_year``; ``_config.yml`` names both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
from pybtex.style.template import join, node, sentence
from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

FORMATTING_STYLE = "anrs119"
REFERENCING_STYLE = "anrs119_author_year"


def _is_others(person) -> bool:
    return str(person).strip().lower() == "others"


@node
def names_et_al(children, context, role, **kwargs):
    """Authors as listed, with a trailing "and others" of the BibTeX entry printed "et al."."""
    if children:
        raise ValueError(children)
    persons = list(context["entry"].persons.get(role, []))
    style = context["style"]
    others = bool(persons) and _is_others(persons[-1])
    shown = persons[:-1] if others else persons
    formatted = [style.format_name(person, style.abbreviate_names) for person in shown]
    if others:  # "Angus, B., Lampe, F., Tambussi, G., et al."
        return Text(join(sep=kwargs.get("sep", ", "))[formatted].format_data(context), ", et al.")
    return join(**kwargs)[formatted].format_data(context)


class BookSorting(AuthorYearTitleSorting):
    """Author (else editor), year, title; braces of corporate authors ({INSIGHT START Study
    Group}) do not count, and an entry without authors or editors sorts by its title."""

    def sorting_key(self, entry):
        role = next((r for r in ("author", "editor") if r in entry.persons), None)
        if role is not None:
            key = self.persons_key(entry.persons[role])
        else:
            key = entry.fields.get("title", "").lower()
        return (_plain(key), entry.fields.get("year", ""), entry.fields.get("title", ""))


def _plain(text: str) -> str:
    """LaTeX accents decoded and dropped, braces removed, lower case: "L{\\'e}vy" -> "levy"."""
    import codecs
    import unicodedata

    import latexcodec  # noqa: F401  (registers the "ulatex" codec)

    decoded = codecs.decode(text, "ulatex").replace("{", "").replace("}", "")
    return "".join(
        c for c in unicodedata.normalize("NFKD", decoded) if not unicodedata.combining(c)
    ).lower()


class BookStyle(PlainStyle):
    """pybtex's plain style with names last name first, "et al." for "and others", sorted by
    author, year and title."""

    def __init__(self, **options):
        options.setdefault("name_style", "lastfirst")
        options.setdefault("abbreviate_names", True)
        super().__init__(**options)
        self.sort = BookSorting().sort

    def format_names(self, role, as_sentence=True):
        formatted = names_et_al(role, sep=", ", sep2=" and ", last_sep=", and ")
        return sentence[formatted] if as_sentence else formatted


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")", sep="; ")


@dataclass
class RoundAuthorYearStyle(AuthorYearReferenceStyle):
    """Author-year citations in round brackets: "(Molina et al., 2009)", "Molina et al.
    (2009)"; three or more authors as "et al."."""

    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)
    person: PersonStyle = field(default_factory=lambda: PersonStyle(style="last"))


def register() -> None:
    """Make both styles known to pybtex and sphinxcontrib-bibtex (idempotent)."""
    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    pybtex.plugin.register_plugin("pybtex.style.formatting", FORMATTING_STYLE, BookStyle)
    group = "sphinxcontrib.bibtex.style.referencing"
    sphinxcontrib.bibtex.plugin.register_plugin(
        group, REFERENCING_STYLE, RoundAuthorYearStyle, force=True
    )
