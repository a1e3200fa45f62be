"""Ranges that the reconstruction ensemble gives for numbers the paper never printed.

A number computed from the embedded synthetic trial that the paper did not publish (a hazard
ratio, a Kaplan-Meier estimate at an unpublished week) is one reconstruction's value; the
ensemble of reconstructions (``data/model/ensemble.csv``) says how far it could move while the
published numbers stay as printed. Chapters show that range beside the value.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd


@lru_cache(maxsize=1)
def _ranges() -> pd.DataFrame:
    from anrs119.model.reconstruction import ensemble_tables as ens

    return ens.leaves_open(ens.read_ensemble()).set_index("quantity")


def ensemble_range(quantity: str, decimals: int = 2) -> str:
    """The central 95% range of ``quantity`` across the exact reconstructions, as text
    ("0.38 to 0.50"), or "" when the ensemble has no such quantity or it is mostly not
    reached."""
    ranges = _ranges()
    if quantity not in ranges.index:
        return ""
    row = ranges.loc[quantity]
    if pd.isna(row["low95"]) or pd.isna(row["high95"]):
        return ""
    return f"{row['low95']:.{decimals}f} to {row['high95']:.{decimals}f}"
