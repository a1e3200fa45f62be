"""Tables as readers see them: a number, a caption, column labels in words, no index column.

A :class:`BookTable` is what a chapter cell returns. In the book it renders as a MyST ``table``
directive (a real table: numbered "Table N", captioned, and named so the prose can cite it with
``{numref}``); in Jupyter it renders as a plain captioned HTML table. Cells are text that a
reader can read: the builder escapes Markdown, except in the columns named as ``markup``
(equations, citations), and marks the cells named in ``flags`` (what failed, or is in tension).
The caption and the note are written by the chapter's author and may hold MyST markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from anrs119.report.text import reader_text

FLAG_CLASS = "table-flag"
"""Class of a flagged cell's text (the ``{flag}`` role of anrs119.sphinxext, styled in
_static/custom.css): a result that failed or is in tension, never one that holds by
construction."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|$~&])")
_NUMBER = re.compile(r"^[−\-+]?[\d,.]+%?$")


def escape_markdown(text: str) -> str:
    """``text`` as literal Markdown: every character that could start markup is escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _is_numeric(column: pd.Series) -> bool:
    cells = [str(v).strip() for v in column if str(v).strip() not in ("", "-", "—")]
    return bool(cells) and all(_NUMBER.match(c) for c in cells)


@dataclass
class BookTable:
    """A reader's table: ``frame`` holds display text, its columns are the header labels."""

    frame: pd.DataFrame
    caption: str
    name: str
    markup: Sequence[str] = ()
    flags: pd.DataFrame | None = None
    note: str = ""
    align: Mapping[str, str] = field(default_factory=dict)
    verbatim: Sequence[str] = ()
    """Columns quoted from a source (kept as written: no unit or spelling change)."""

    def __post_init__(self) -> None:
        if not self.name.startswith("tbl-"):
            raise ValueError(f"table name {self.name!r} must start with 'tbl-'")
        if not self.caption.strip():
            raise ValueError(f"table {self.name!r} needs a caption")
        unknown = set(self.markup) - set(self.frame.columns)
        if unknown:
            raise ValueError(f"table {self.name!r}: markup columns {sorted(unknown)} not found")
        if self.flags is not None and list(self.flags.columns) != list(self.frame.columns):
            raise ValueError(f"table {self.name!r}: flags must have the frame's columns")

    def _cell(self, row: int, column: str) -> str:
        value = self.frame.iloc[row][column]
        text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
        if column not in self.markup and column not in self.verbatim:
            text = reader_text(text)
        flagged = self.flags is not None and bool(self.flags.iloc[row][column])
        if flagged and text and column not in self.markup:
            # a role's content is literal text: no escaping, and no backtick to close it early
            return "{flag}`" + text.replace("`", "\u2019").replace("|", "\\|") + "`"
        return text if column in self.markup else escape_markdown(text)

    def _alignment(self, column: str) -> str:
        how = self.align.get(column) or ("right" if _is_numeric(self.frame[column]) else "left")
        return {"left": ":--", "right": "--:", "center": ":-:"}[how]

    def markdown(self) -> str:
        """The table as a MyST ``table`` directive (numbered and captioned by Sphinx)."""
        columns = list(self.frame.columns)
        header = "| " + " | ".join(escape_markdown(reader_text(str(c))) for c in columns) + " |"
        rule = "|" + "|".join(self._alignment(c) for c in columns) + "|"
        body = [
            "| " + " | ".join(self._cell(i, c) for c in columns) + " |"
            for i in range(len(self.frame))
        ]
        lines = [
            f"::::{{table}} {self.caption}",
            f":name: {self.name}",
            ":class: book-table",
            ":align: left",
            "",
            header,
            rule,
            *body,
            "::::",
        ]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_html_(self) -> str:
        """A plain captioned table for Jupyter (which prefers HTML to Markdown)."""
        table = self.frame.to_html(index=False, escape=True, border=0)
        caption = f"<caption>{html.escape(self.caption)}</caption>"
        table = table.replace(">", ">" + caption, 1)
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        return table + note


def from_frame(
    frame: pd.DataFrame,
    caption: str,
    name: str,
    *,
    index_label: str | None = None,
    rename: Mapping[str, str] | None = None,
    **options,
) -> BookTable:
    """A results DataFrame as a reader's table: its index (if it carries labels) becomes the
    first column under ``index_label``, columns are renamed for readers, cells become text."""
    shown = frame.copy()
    if isinstance(shown.columns, pd.MultiIndex):  # one header row: "IL-2, grade 3"
        names = [n or "" for n in shown.columns.names]
        shown.columns = [
            ", ".join(
                f"{name.lower()} {part}" if name and i else str(part)
                for i, (name, part) in enumerate(zip(names, column, strict=True))
                if str(part)
            )
            for column in shown.columns
        ]
    shown = shown.rename(columns=dict(rename or {}))
    if not isinstance(shown.index, pd.RangeIndex):
        label = index_label if index_label is not None else (shown.index.name or "")
        shown = shown.reset_index(names=label or " ")
    shown.columns = [str(c) for c in shown.columns]
    shown = shown.map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else v)
    shown = shown.astype(str)
    return BookTable(shown.reset_index(drop=True), caption=caption, name=name, **options)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 101st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def percentile_text(value: float) -> str:
    """A percentile as a reader says it: whole numbers, with the extremes named.

    "below the 1st" under 0.5, "above the 99th" over 99.5, otherwise the nearest whole
    percentile with its ordinal ("19th", "23rd", "1st")."""
    if pd.isna(value):
        return "not computed"
    if value < 0.5:
        return "below the 1st"
    if value > 99.5:
        return "above the 99th"
    return ordinal(round(value))


def percentile_phrase(value: float) -> str:
    """Where a value falls, in words: "at the 19th percentile", "below the 1st percentile"."""
    text = percentile_text(value)
    if text == "not computed":
        return text
    if text.startswith(("below", "above")):
        return f"{text} percentile"
    return f"at the {text} percentile"


CHAPTER_MENTION = re.compile(r"\bthe ([a-z]+(?: [a-z]+)?) (chapter|page)\b")


def link_chapter_mentions(markdown: str, chapters: Path | None = None) -> str:
    """Markdown with "the forensic chapter" turned into a link to chapters/forensic.md, for
    text written in data files (a chapter's page in the same folder); unknown names stay."""
    from anrs119.paths import CHAPTERS_DIR

    folder = CHAPTERS_DIR if chapters is None else chapters

    def link(match: re.Match) -> str:
        stem = match.group(1).replace(" ", "_")
        if (folder / f"{stem}.md").is_file():
            return f"[{match.group(0)}]({stem}.md)"
        return match.group(0)

    return CHAPTER_MENTION.sub(link, markdown)
