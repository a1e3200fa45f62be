"""What the book says about the data it shows: synthetic reconstruction or real trial data.

Said once per page, in the banner (the announcement bar of every page), and in full once: on
the intro and on the data pages, where a chapter calls :func:`data_notice` in a visible cell.
Other chapters call it in a removed cell, so a chapter downloaded and run as a notebook still
says what its data are. A page whose own data are real and public (the validation appendix)
says so in its own words.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from anrs119.data import Dataset, load_dataset

SYNTHETIC_HEADLINE = "Synthetic data, not real patients."
SYNTHETIC_TEXT = (
    "Every ANRS 119 patient-level result in this book is computed from a synthetic "
    "reconstruction of the trial: patients drawn from a documented model (literature priors "
    "updated by the published summaries), chosen so that the published numbers come out "
    "exactly. The real patient data are not public."
)
SYNTHETIC_BANNER = (
    "The ANRS 119 results in this book are computed from a model-drawn synthetic "
    "reconstruction of the trial; the real patient data are not public."
)


def notice_text(dataset: Dataset | None = None) -> str:
    """One or two sentences naming the dataset in use (Markdown, no trailing newline)."""
    dataset = load_dataset() if dataset is None else dataset
    if dataset.is_synthetic:
        return f"**{SYNTHETIC_HEADLINE}** {SYNTHETIC_TEXT}"
    return (
        f"**Data: {dataset.source}.** Results are computed from the ADaM tables in the folder "
        "named by `ANRS119_DATA`; only aggregate results are shown."
    )


def notice_html(dataset: Dataset | None = None) -> str:
    """The banner on every page (the site's announcement bar), as HTML."""
    dataset = load_dataset() if dataset is None else dataset
    if dataset.is_synthetic:
        return f"<strong>{html.escape(SYNTHETIC_HEADLINE)}</strong> {html.escape(SYNTHETIC_BANNER)}"
    return (
        f"<strong>Data: {html.escape(dataset.source)}.</strong> "
        "Aggregate results computed from the ADaM tables named by ANRS119_DATA."
    )


@dataclass(frozen=True)
class Notice:
    """A boxed note: a MyST ``note`` for the book, plain HTML for Jupyter."""

    markdown: str

    def _repr_markdown_(self) -> str:
        return f":::{{note}}\n{self.markdown}\n:::"

    def _repr_html_(self) -> str:
        from markdown_it import MarkdownIt

        return f'<div class="alert alert-info">{MarkdownIt().render(self.markdown)}</div>'


def data_notice(dataset: Dataset | None = None) -> Notice:
    """The full notice as a cell output: shown on the intro and the data pages."""
    return Notice(notice_text(dataset))
