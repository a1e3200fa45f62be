"""What every page says about the data it shows: synthetic reconstruction or real trial data."""

from __future__ import annotations

import html

from anrs119.data import Dataset, load_dataset

SYNTHETIC_HEADLINE = "Synthetic data, not real patients."
SYNTHETIC_TEXT = (
    "Every patient-level result in this book is computed from a synthetic reconstruction of the "
    "ANRS 119 trial: patients drawn from a documented model (literature priors updated by the "
    "published summaries), chosen so that the published numbers come out exactly. The real "
    "patient data are not public."
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
    """The same notice as HTML, for the site's announcement bar on every page."""
    dataset = load_dataset() if dataset is None else dataset
    if dataset.is_synthetic:
        return (
            f"<strong>{html.escape(SYNTHETIC_HEADLINE)}</strong> "
            "Every patient-level result here comes from a model-drawn synthetic reconstruction "
            "of ANRS 119; the real patient data are not public."
        )
    return (
        f"<strong>Data: {html.escape(dataset.source)}.</strong> "
        "Aggregate results computed from the ADaM tables named by ANRS119_DATA."
    )


def data_notice(dataset: Dataset | None = None):  # -> IPython.display.Markdown
    """The notice as a cell output, so a chapter run as a notebook says what its data are too."""
    from IPython.display import Markdown

    return Markdown(f":::{{note}}\n{notice_text(dataset)}\n:::")
