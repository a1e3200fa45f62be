"""Format numbers the way the paper prints them, and glue them into chapter prose.

Chapters never type a number: they compute it, format it here, and glue the string.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

US_SPELLING: tuple[tuple[str, str], ...] = (
    (r"\b([Rr])andomis(e|ed|es|ing|ation)\b", r"\1andomiz\2"),
    (r"\b([Aa])nalys(ed|ing)\b", r"\1nalyz\2"),
    (r"\b([Aa])nalyse\b", r"\1nalyze"),
    (r"\b(label|model)l(ed|ing)\b", r"\1\2"),
    (r"\b(vectori|stabili|summari|characteri|organi|recogni|optimi|minimi|normali|utili)s"
     r"(e|ed|es|ing|ation)\b", r"\1z\2"),
    (r"\b([Cc])olour(s|ed)?\b", r"\1olor\2"),
    (r"\bcentre(s)?\b", r"center\1"),
    (r"\bcentred\b", "centered"),
    (r"\bneighbour(s|ing)?\b", r"neighbor\1"),
    (r"\b([Gg])rey\b", r"\1ray"),
    (r"\bbehaviour(s)?\b", r"behavior\1"),
    (r"\b([Ff])avour(s|ed|able)?\b", r"\1avor\2"),
    (r"\b(micro|milli)litre\b", r"\1liter"),
    (r"\bcatalogue\b", "catalog"),
)  # fmt: skip
"""British spellings and their US forms (the journal's): the book writes one spelling."""


def us_spelling(text: str) -> str:
    """``text`` with British spellings in US form ("randomised" -> "randomized")."""
    for pattern, replacement in US_SPELLING:
        text = re.sub(pattern, replacement, text)
    return text


def reader_text(text: str) -> str:
    """Text written for the code made fit for readers: one unit spelling (cells/µL), US
    spelling, and no pointers to files or notes that only the book's authors can open."""
    text = re.sub(r"cells/(?:uL|ul|microL|mm3|µl|ml)\b", "cells/µL", str(text))
    text = re.sub(r"cells per (?:cubic millimeter|microliter)", "cells/µL", text)
    text = text.replace("not retrieved", "not found in the sources read")
    text = re.sub(r"\s*\((?:see )?[A-Z-]+\.md(?:,? section \d+)?\)", "", text)
    text = re.sub(r";?\s*[A-Z-]+\.md(?:,? section \d+)?", "", text)
    text = re.sub(r"\s*\(data/[^)]*\)", "", text)
    return us_spelling(text).strip()


def fmt_p(p: float, decimals: int = 3, floor: float = 0.001) -> str:
    """Journal style without the leading zero: "P = .008", "P = .93", "P < .001"."""
    if math.isnan(p):
        return "P not computed"
    # enough decimals for the floor and for any P above it: with two, .004 would print as ".00"
    # and the floor .001 as "< .00"
    fine = max(decimals, -math.floor(math.log10(floor)))
    if p < floor:
        return f"P < {_strip_zero(f'{floor:.{fine}f}')}"
    shown = f"{p:.{decimals}f}"
    if float(shown) == 0:
        shown = f"{p:.{fine}f}"
    if float(shown) >= 1:
        return "P > .99"
    return f"P = {_strip_zero(shown)}"


def _strip_zero(text: str) -> str:
    return text[1:] if text.startswith("0.") else text


def fmt_pct(proportion: float, decimals: int = 0) -> str:
    """0.354 -> "35%"."""
    return f"{100 * proportion:.{decimals}f}%"


def fmt_signed(value: float, decimals: int = 0) -> str:
    """+51, -64, +0.02 (an explicit sign, as the abstract prints changes); a value that rounds
    to zero prints without a sign ("0", "0.0"), never "-0.0"."""
    text = f"{value:+.{decimals}f}"
    return text[1:] if float(text) == 0 else text


def fmt_num(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


GLUE_KINDS: tuple[str, ...] = ("published", "reproduced", "synthetic-only", "model", "book")
"""What a glued value is, shown to readers as its class (``glue-<kind>``):

published
    printed in the paper or another publication (the claims and trials registries);
reproduced
    computed from the dataset in use, where the paper printed the same quantity;
synthetic-only
    computed from the dataset in use, with no published counterpart: on the embedded synthetic
    data such a number exists only in the reconstruction, and carries a visible mark there;
model
    computed from the model (priors, posterior, predictive checks, ensemble), whatever data
    the book is built from;
book
    a fact about this book and its build, not a result: a file name, a count of the book's own
    tables or rules, a software version, the name of the dataset in use.
"""

GLUE_METADATA_KEY = "anrs119"


@dataclass(frozen=True)
class Glued:
    """A preformatted value with its kind, and for a synthetic-only value the range the
    reconstruction ensemble gives for it (shown beside it on synthetic builds)."""

    text: str | int | float
    kind: str
    ensemble_range: str = ""

    def __post_init__(self) -> None:
        if self.kind not in GLUE_KINDS:
            raise ValueError(f"glue kind {self.kind!r} is not one of {GLUE_KINDS}")


def glue_text(
    values: Mapping[str, object],
    kind: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> None:
    """Glue preformatted values for ``{glue:text}``, each with its kind (see GLUE_KINDS).

    A value is a string, an int or a Python float (then ``kinds[name]``, or else ``kind``, says
    what it is) or a :class:`Glued` carrying its own kind. A value without a kind is refused:
    every number a reader sees says whether it is published, reproduced, synthetic-only, from
    the model, or a fact about the book.
    """
    kinds = dict(kinds or {})
    unknown = set(kinds) - set(values)
    if unknown:
        raise KeyError(f"kinds given for values not glued here: {sorted(unknown)}")
    for name, value in values.items():
        glued = value if isinstance(value, Glued) else None
        if glued is None:
            chosen = kinds.get(name, kind)
            if chosen is None:
                raise TypeError(f"glue {name!r}: say what it is (kind= one of {GLUE_KINDS})")
            glued = Glued(value, chosen)  # type: ignore[arg-type]
        # Exact types: numpy scalars subclass float but break {glue:text} format specs.
        if type(glued.text) not in (str, int, float):
            raise TypeError(f"glue {name!r}: format it first (got {type(glued.text).__name__})")
        if isinstance(glued.text, str):  # one unit, one spelling, whatever the source wrote
            glued = Glued(reader_text(glued.text), glued.kind, glued.ensemble_range)
        _glue_with_kind(name, glued)


def _glue_with_kind(name: str, glued: Glued) -> None:
    """myst_nb's ``glue(..., display=False)``, with the kind in the output's metadata (read by
    anrs119.sphinxext, which gives the pasted text its class)."""
    from IPython.core.formatters import format_display_data
    from IPython.display import display
    from myst_nb.ext.glue import GLUE_PREFIX

    bundle, metadata = format_display_data(glued.text)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    metadata[GLUE_METADATA_KEY] = {"kind": glued.kind}
    if glued.ensemble_range:
        metadata[GLUE_METADATA_KEY]["ensemble_range"] = glued.ensemble_range
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def glue_figure(name: str, figure) -> None:  # figure: matplotlib.figure.Figure
    """Glue a figure for ``{glue:figure}`` and close it, so it is not also shown in place."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(name, figure, display=False)
    plt.close(figure)


def estimand_note(estimand, comment: str = ""):  # estimand: Estimand -> IPython Markdown
    """The four attributes of an estimand (ICH E9(R1)) as a boxed definition list."""
    from IPython.display import Markdown

    items = (
        ("Population", estimand.population),
        ("Variable", estimand.variable),
        ("Intercurrent events", estimand.intercurrent_event_strategy),
        ("Summary measure", estimand.summary_measure),
    )
    body = "\n\n".join(f"{name}\n: {text}" for name, text in items)
    extra = f"\n\n{comment}" if comment else ""
    return Markdown(f":::{{admonition}} Estimand\n:class: tip\n{body}{extra}\n:::")
