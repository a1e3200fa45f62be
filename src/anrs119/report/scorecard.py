"""The scorecard: every published claim beside its reproduction, the model's range, and a verdict.

The same table is a book page and a command (``python -m anrs119 scorecard``), which exits
non-zero when a claim is ``off``, so CI fails when a reproduction drifts out of tolerance.
"""

from __future__ import annotations

import sys

import pandas as pd

from anrs119.data import Dataset, load_dataset
from anrs119.paths import MODEL_DIR
from anrs119.published import results
from anrs119.report.verdict import LABELS, format_like, judge
from anrs119.reproduce import Reproducer, Reproduction

PREDICTIVE_FILE = MODEL_DIR / "predictive.csv"
PREDICTIVE_QUANTILES = ("q025", "q975")
"""The columns of the predictive file that bound the model's range."""
PREDICTIVE_LEVEL = 1 - 2 * int(PREDICTIVE_QUANTILES[0][1:]) / 1000
"""Share of simulated trials inside the range (0.95 for the 2.5th to 97.5th percentiles)."""
RANGE_COLUMN = f"Model {PREDICTIVE_LEVEL:.0%} range"

VERDICT_COLOURS: dict[str, str] = {
    # Okabe-Ito bluish green / yellow / vermillion, lightened for a cell background.
    "exact": "#c7eadf",
    "close": "#f9efb4",
    "off": "#f6c9b0",
}


def predictive_intervals(path=PREDICTIVE_FILE) -> pd.DataFrame:
    """The model's predictive interval of each claim over replicate trials, by claim id."""
    table = pd.read_csv(path).set_index("claim_id")
    return table[[*PREDICTIVE_QUANTILES, "n_replicates"]]


def _interval_text(claim: pd.Series, low: float, high: float) -> str:
    if claim["statistic"] in ("p_value", "similar"):
        return f"{_p_short(low)} to {_p_short(high)}"
    return f"{format_like(claim, low)} to {format_like(claim, high)}"


def _p_short(p: float) -> str:
    if p < 0.001:
        return "<.001"
    return f"{p:.3f}".lstrip("0") if p < 1 else "1"


def claim_label(claim: pd.Series) -> str:
    """A short, readable name for one registry row, built from its own fields."""
    what = claim["endpoint"][0].upper() + claim["endpoint"][1:]
    if claim["population"] == "lowvl":
        what = f"Low viral load: {claim['endpoint']}"
    if not pd.isna(claim["timepoint_weeks"]) and claim["statistic"] != "similar":
        what += f", week {int(claim['timepoint_weeks'])}"
    part = {
        "both": "P value" if claim["statistic"] == "p_value" else "",
        "difference": "IL-2 minus Control",
    }.get(claim["arm"], claim["arm"])
    return f"{what}: {part}" if part else what


def scorecard(
    dataset: Dataset | None = None, reproduced: dict[str, Reproduction] | None = None
) -> pd.DataFrame:
    """One row per result claim: published, reproduced, model interval, verdict and reason."""
    dataset = load_dataset() if dataset is None else dataset
    reproduced = Reproducer(dataset).all() if reproduced is None else reproduced
    intervals = predictive_intervals()
    rows = []
    for claim_id, claim in results().iterrows():
        reproduction = reproduced[claim_id]
        verdict = judge(claim, reproduction.value)
        interval = (
            _interval_text(claim, *intervals.loc[claim_id, list(PREDICTIVE_QUANTILES)])
            if claim_id in intervals.index
            else "not simulated"
        )
        rows.append(
            {
                "id": claim_id,
                "Claim": claim_label(claim),
                "Published": claim["reported_as"],
                "Reproduced": format_like(claim, reproduction.value),
                RANGE_COLUMN: interval,
                "Verdict": verdict.label,
                "How": reproduction.detail,
                "Why": verdict.reason,
                "value": reproduction.value,
            }
        )
    return pd.DataFrame(rows).set_index("id")


SUMMARY_COLUMNS = ["Claim", "Published", "Reproduced", RANGE_COLUMN, "Verdict"]


def styled(table: pd.DataFrame):  # -> pandas Styler
    """The scorecard for the book: verdicts colour-coded (with the word, not colour alone)."""
    return (
        table[SUMMARY_COLUMNS]
        .style.map(
            lambda v: (
                f"background-color: {VERDICT_COLOURS[v]}; font-weight: 600"
                if v in VERDICT_COLOURS
                else ""
            ),
            subset=["Verdict"],
        )
        .hide(axis="index")
    )


def details(table: pd.DataFrame) -> pd.DataFrame:
    """How each number was reproduced and why it got its verdict."""
    return table[["Claim", "How", "Why"]].reset_index(drop=True)


def verdict_summary(table: pd.DataFrame) -> dict[str, int]:
    counts = table["Verdict"].value_counts()
    return {label: int(counts.get(label, 0)) for label in LABELS}


def scorecard_main(dataset: Dataset | None = None) -> int:
    """Print the scorecard; return 1 if any claim is ``off`` (for CI), else 0."""
    table = scorecard(dataset)
    columns = ["Published", "Reproduced", RANGE_COLUMN, "Verdict", "Why"]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table[columns].to_string())
    summary = verdict_summary(table)
    print(", ".join(f"{n} {label}" for label, n in summary.items()))
    if summary["off"]:
        print(f"{summary['off']} claim(s) off: the reproduction drifted", file=sys.stderr)
        return 1
    return 0
