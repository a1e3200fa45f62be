"""Where a number on a page comes from, in words: the reconstruction or the data.

On the embedded synthetic trial a count, a subgroup percentage or an interaction P value is a
property of one reconstruction, chosen to print the paper's numbers; the sentences here say so
and what the ensemble of reconstructions says about it. On real data they say that the numbers
are the data's. (The visual mark of synthetic numbers is the data notice's job.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anrs119 import ARMS
from anrs119.reproduce import Reproducer

TAIL = 2.5
"""Percent in each tail of 'the outer 5%' (as the reconstruction chapter's typicality)."""


def ensemble_table() -> pd.DataFrame | None:
    """The stored ensemble of exact reconstructions (``data/model/ensemble.csv``), or None."""
    from anrs119.model.reconstruction.ensemble_tables import ENSEMBLE_FILE, read_ensemble

    if not ENSEMBLE_FILE.exists():
        return None
    table = read_ensemble()
    return table[table["exact"]]


def mid_rank(values: np.ndarray, x: float) -> float:
    """Percent of ``values`` below ``x`` plus half those equal to it."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(100 * ((v < x).sum() + 0.5 * (v == x).sum()) / v.size)


def tail_share(ensemble: pd.DataFrame, quantity: str) -> float:
    """Share (percent) of reconstructions whose value lies in the outer 5% of the unconditioned
    trials drawn with the same parameters (column ``pct:<quantity>``)."""
    pct = ensemble[f"pct:{quantity}"].to_numpy(dtype=float)
    pct = pct[np.isfinite(pct)]
    return float(100 * ((pct < TAIL) | (pct > 100 - TAIL)).mean())


def _ordinal(value: float) -> str:
    n = round(value)
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def safety_source(reproducer: Reproducer, ensemble: pd.DataFrame | None) -> str:
    """Whose counts the safety table shows, and (synthetic) where the ensemble puts them."""
    if not reproducer.dataset.is_synthetic:
        return (
            "These are the counts of the data in use; the abstract printed none, so they are the "
            "first counts behind its 'similar'."
        )
    head = (
        "On this synthetic trial these counts come from the reconstruction, not from patients: "
        "the abstract prints no counts, and the reconstruction was only required to detect no "
        "difference between arms"
    )
    result = reproducer.safety["safety_grade34_similar"]
    if ensemble is None or isinstance(result, Exception):
        return head + "."
    counts = result.table.set_index("group")["patients"]
    parts = []
    for arm, suffix in zip(ARMS, ("il2", "control"), strict=True):
        values = ensemble[f"grade34_w96_{suffix}"].to_numpy(dtype=float)
        k = int(counts[arm])
        parts.append(
            f"{values.min():.0f} to {values.max():.0f} in the {arm} arm (median "
            f"{np.median(values):.0f}; this trial's {k} is at the "
            f"{_ordinal(mid_rank(values, k))} percentile)"
        )
    return (
        f"{head}. Across the {len(ensemble)} reconstructions of the ensemble, all required the "
        "same, the patients with a grade 3 or 4 event number " + " and ".join(parts) + "."
    )


def subgroup_source(reproducer: Reproducer, ensemble: pd.DataFrame | None) -> str:
    """Whose subgroup estimates the page shows, and (synthetic) how typical the ensemble's are."""
    if not reproducer.dataset.is_synthetic:
        return "These are the estimates of the data in use."
    head = (
        "On this synthetic trial they equal the published numbers by construction: the "
        "reconstruction was selected to print them"
    )
    if ensemble is None:
        return head + "."
    shares = [
        f"{tail_share(ensemble, f'lowvl_free_w150_{suffix}:crude'):.0f}% ({arm})"
        for arm, suffix in zip(ARMS, ("il2", "control"), strict=True)
    ]
    return (
        f"{head}. What the ensemble says about them: the subgroup's crude week-"
        f"{reproducer.design.subgroup_week} percentages of its {len(ensemble)} reconstructions "
        "lie in the outer 5% of the trials the same parameters give without that selection in "
        + " and ".join(shares)
        + " of reconstructions, so the model reaches these numbers mostly by selecting unusual "
        "trials (the reconstructions' typicality table has every quantity)."
    )
