"""Verdicts under every plausible reading of the abstract, and every allocation it allows.

The main scorecard judges each claim under the book's default readings (named and justified in
``anrs119.reproduce``). Here every claim that a reading changes is judged under each reading, on
the dataset in use, with the same verdict rules; and the forensic chapter's feasible allocations
are listed with what each implies for the published numbers.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from anrs119.data import Dataset
from anrs119.published import results
from anrs119.report.scorecard import claim_label
from anrs119.report.verdict import format_like, judge
from anrs119.reproduce import (
    DEFAULT_JUSTIFICATION,
    DEFAULT_READINGS,
    READING_CHOICES,
    READING_LABELS,
    Reproducer,
)
from anrs119.tolerance import ToleranceCalculator

READING_CLAIMS: dict[str, tuple[str, ...]] = {
    "proportion": ("primary_w96_il2", "primary_w96_control", "primary_w96_p"),
    "change": (
        "cd4_change_w96_il2",
        "cd4_change_w96_control",
        "cd4_change_w96_p",
        "vl_change_w96_il2",
        "vl_change_w96_control",
        "vl_change_w96_p",
    ),
    "deferral": ("lowvl_art_deferral",),
}
"""The claims whose reproduction each reading changes."""

DIMENSION_LABELS: dict[str, str] = {
    "proportion": "Week-96 percentages and their P value",
    "change": "CD4 and viral-load changes at week 96",
    "deferral": "ART deferral, low viral load subgroup",
}

DEFAULT_MARK = " (book's default)"


def reading_verdicts(dataset: Dataset, reproducer: Reproducer | None = None) -> pd.DataFrame:
    """One row per (reading, claim it changes): the reproduced value and its verdict.

    Columns: dimension, reading, default, claim_id, claim, published, reproduced, verdict, why.
    Each reading is judged with the reach computed under that same reading.
    """
    claims = results()
    base = reproducer if reproducer is not None else Reproducer(dataset)
    rows = []
    for dimension, choices in READING_CHOICES.items():
        for choice in choices:
            readings = dataclasses.replace(DEFAULT_READINGS, **{dimension: choice})
            rep = base if readings.is_default else Reproducer(dataset, base.design, readings)
            reproduced = rep.all()
            calc = ToleranceCalculator(rep)
            for claim_id in READING_CLAIMS[dimension]:
                claim = claims.loc[claim_id]
                value = reproduced[claim_id].value
                try:
                    reach = calc.reach(claim_id, claim)
                except (ValueError, KeyError):  # e.g. an arm without the values a reach needs
                    reach = None
                verdict = judge(claim, value, reach)
                rows.append(
                    {
                        "dimension": dimension,
                        "reading": choice,
                        "default": readings.is_default,
                        "claim_id": claim_id,
                        "claim": claim_label(claim),
                        "published": claim["reported_as"],
                        "reproduced": format_like(claim, value),
                        "verdict": verdict.label,
                        "why": verdict.reason,
                    }
                )
    return pd.DataFrame(rows)


def readings_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The per-reading verdicts for reading: what is open, the reading (default marked), claim,
    published, reproduced, verdict."""
    return pd.DataFrame(
        {
            "What the abstract leaves open": frame["dimension"].map(DIMENSION_LABELS),
            "Reading": [
                READING_LABELS[d][r] + (DEFAULT_MARK if default else "")
                for d, r, default in zip(
                    frame["dimension"], frame["reading"], frame["default"], strict=True
                )
            ],
            "Claim": frame["claim"],
            "Published": frame["published"],
            "Reproduced": frame["reproduced"],
            "Verdict": frame["verdict"],
        }
    )


def defaults_table() -> pd.DataFrame:
    """The book's default reading of each open point, and why it is the default."""
    return pd.DataFrame(
        [
            {
                "What the abstract leaves open": DIMENSION_LABELS[d],
                "Default reading": READING_LABELS[d][getattr(DEFAULT_READINGS, d)],
                "Why": DEFAULT_JUSTIFICATION[d],
            }
            for d in READING_CHOICES
        ]
    )


def readings_numbers(frame: pd.DataFrame, dataset: Dataset) -> dict[str, str]:
    """Glue-ready words: per open point, the readings under which every claim it changes is
    exact or close, and what this can mean on the data in use."""
    out: dict[str, str] = {}
    for dimension in READING_CHOICES:
        part = frame[frame["dimension"] == dimension]
        passing = [
            READING_LABELS[dimension][r]
            for r, g in part.groupby("reading", sort=False)
            if g["verdict"].isin(["exact", "close"]).all()
        ]
        out[f"rd_{dimension}_passing"] = "; ".join(passing) if passing else "none"
        out[f"rd_{dimension}_n"] = str(part["reading"].nunique())
    if dataset.is_synthetic:
        out["rd_meaning"] = (
            "On the embedded synthetic trial only the default readings were constrained when the "
            "trial was reconstructed, so the default rows are exact by construction and the other "
            "rows describe the reconstruction, not the paper: they show how far the readings "
            "drift apart on a trial of this size, not which one the authors used"
        )
    else:
        out["rd_meaning"] = (
            "On this dataset every row is a real test: a reading under which a claim is off "
            "cannot be the one the paper used, if the data are the paper's"
        )
    return out


# ---------------------------------------------------------------- allocations


def allocations_table(allocations: pd.DataFrame) -> pd.DataFrame:
    """The feasible allocations for reading (``anrs119.forensic.feasible_allocations``)."""
    return pd.DataFrame(
        {
            "Arms (IL-2/control)": [
                f"{a}/{b}"
                for a, b in zip(allocations["n_il2"], allocations["n_control"], strict=True)
            ],
            "Events by week 96": [
                f"{k1}/{n1} ({p1:.1f}%) vs {k2}/{n2} ({p2:.1f}%)"
                for k1, n1, p1, k2, n2, p2 in zip(
                    allocations["k_il2"],
                    allocations["n_il2"],
                    allocations["pct_il2"],
                    allocations["k_control"],
                    allocations["n_control"],
                    allocations["pct_control"],
                    strict=True,
                )
            ],
            "Test printing the P": allocations["tests"],
            "P": [f"{p:.4f}".removeprefix("0") for p in allocations["p"]],
            "Difference, points (95% CI)": [
                f"{d:+.1f} ({lo:+.1f} to {hi:+.1f})"
                for d, lo, hi in zip(
                    allocations["difference"],
                    allocations["ci_low"],
                    allocations["ci_high"],
                    strict=True,
                )
            ],
            "Probability of the split (1:1)": [
                f"{100 * p:.1f}%" for p in allocations["randomization_probability"]
            ],
            "Subgroup sizes allowing the week-150 percentages": allocations["subgroup_sizes"],
            "Embedded data": ["built on it" if e else "" for e in allocations["embedded"]],
        }
    )


def allocation_numbers(allocations: pd.DataFrame) -> dict[str, str]:
    """Glue-ready words about the allocations: how many, the embedded one, the spread of the
    implied difference."""
    embedded = allocations[allocations["embedded"]]
    others = allocations[~allocations["embedded"]]
    fixed = (
        f"{int(embedded['n_il2'].iloc[0])}/{int(embedded['n_control'].iloc[0])} with "
        f"{int(embedded['k_il2'].iloc[0])} and {int(embedded['k_control'].iloc[0])} events"
        if len(embedded)
        else "none of them"
    )
    examples = "; ".join(
        f"{int(r.n_il2)}/{int(r.n_control)} with {r.tests}" for r in others.head(3).itertuples()
    )
    return {
        "al_n": str(len(allocations)),
        "al_embedded": fixed,
        "al_examples": examples or "none",
        "al_diff_low": f"{allocations['difference'].min():+.1f}",
        "al_diff_high": f"{allocations['difference'].max():+.1f}",
        "al_spread": f"{allocations['difference'].max() - allocations['difference'].min():.1f}",
    }
