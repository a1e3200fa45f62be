"""The scorecard as readers see it: two numbered tables, one per question.

Question (a), does the dataset in use reproduce each published number? Question (b), is the
published number what the evidence predicts? Each table highlights what failed or is in
tension, never what holds by construction; percentiles are whole, with their ordinals. The
verdicts themselves come from ``anrs119.report.scorecard``; this module lays them out.
"""

from __future__ import annotations

import math

import pandas as pd

from anrs119.published import results
from anrs119.report.scorecard import (
    FAILING,
    JOINT_ID,
    PREDICTIVE_QUANTILES,
    REPRODUCES_COLUMN,
    predictive_intervals,
)
from anrs119.report.tables import BookTable, percentile_text

REPRODUCTION_TABLE = "tbl-scorecard-reproduction"
PREDICTION_TABLE = "tbl-scorecard-prediction"
DETAILS_TABLE = "tbl-scorecard-details"
IN_TENSION = frozenset({*FAILING, "close"})
"""Verdicts a reader's eye should land on: not reproduced, or only within one patient."""

PRIOR_COLUMN = "Literature alone"
POSTERIOR_COLUMN = "Literature and paper"
PLUGIN_COLUMN = "Model at its fitted values, 95% of trials"


def reproduction_table(card: pd.DataFrame) -> BookTable:
    """Question (a): published, reproduced, verdict; failed or close verdicts flagged."""
    frame = pd.DataFrame(
        {
            "Result": card["Claim"].to_numpy(),
            "Published": card["Published"].to_numpy(),
            "Reproduced": card["Reproduced"].to_numpy(),
            "Verdict": card[REPRODUCES_COLUMN].to_numpy(),
        }
    )
    flags = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    flags["Verdict"] = frame["Verdict"].isin(IN_TENSION).to_numpy()
    return BookTable(
        frame,
        caption="Question (a): does the dataset in use reproduce each published number?",
        name=REPRODUCTION_TABLE,
        flags=flags,
    )


def _check_cell(checks: pd.DataFrame | None, claim: pd.Series, distribution: str) -> tuple:
    """(text, outside the central 95%) for one claim under one predictive distribution."""
    key = (claim.name, distribution)
    if checks is None or key not in checks.index:
        return "not yet computed", False
    row = checks.loc[key]
    value = float(row["percentile"])
    if claim["statistic"] == "similar":
        text = f"{value:.0f}% of trials print 'similar'"
    elif claim["bound"] != "=":
        text = f"{value:.0f}% of trials meet the bound"
    else:
        text = percentile_text(value)
    return text, bool(row["outside95"])


def _outside_plugin(claim: pd.Series, low: float, high: float) -> bool:
    """Whether a published point estimate lies outside the plug-in model's 95% range."""
    if claim["statistic"] in ("p_value", "similar") or claim["bound"] != "=":
        return False
    value = float(claim["value"])
    return bool(not math.isnan(low) and (value < low or value > high))


def prediction_table(card: pd.DataFrame, checks: pd.DataFrame | None) -> BookTable:
    """Question (b): the published value's percentile among simulated trials, before and after
    the model has seen the paper, and the plug-in model's range; values outside flagged."""
    claims = results()
    intervals = predictive_intervals()
    rows, flags = [], []
    for claim_id, row in card.iterrows():
        claim = claims.loc[claim_id]
        prior, prior_out = _check_cell(checks, claim, "prior")
        post, post_out = _check_cell(checks, claim, "posterior")
        plugin = row.get("Plug-in 95% range", "")
        plugin_out = False
        if claim_id in intervals.index:
            low, high = (float(v) for v in intervals.loc[claim_id, list(PREDICTIVE_QUANTILES)])
            plugin_out = _outside_plugin(claim, low, high)
        rows.append(
            {
                "Result": row["Claim"],
                "Published": row["Published"],
                PRIOR_COLUMN: prior,
                POSTERIOR_COLUMN: post,
                PLUGIN_COLUMN: plugin,
            }
        )
        flags.append(
            {
                "Result": False,
                "Published": plugin_out or post_out,
                PRIOR_COLUMN: prior_out,
                POSTERIOR_COLUMN: post_out,
                PLUGIN_COLUMN: plugin_out,
            }
        )
    return BookTable(
        pd.DataFrame(rows),
        caption="Question (b): where each published number falls among trials simulated from "
        "the model, as a percentile (for a bound or a 'similar' statement, the share of trials "
        "that meet it). Highlighted: outside the central 95%.",
        name=PREDICTION_TABLE,
        flags=pd.DataFrame(flags),
    )


def details_table(card: pd.DataFrame) -> BookTable:
    """How each number was computed, how far one patient's change moves it, why its verdict."""
    frame = pd.DataFrame(
        {
            "Result": card["Claim"].to_numpy(),
            "How it was computed": card["How"].to_numpy(),
            "What one patient's change gives": card["One patient's reach"].to_numpy(),
            "Why this verdict": card["Why"].to_numpy(),
        }
    )
    return BookTable(
        frame,
        caption="How each number was computed, and why it got its verdict.",
        name=DETAILS_TABLE,
    )


def joint_share(checks: pd.DataFrame | None, distribution: str, row_id: str = JOINT_ID) -> str:
    """A joint check's predictive p-value as a share of simulated trials with its Monte Carlo
    standard error ("4.8% (SE 0.5)"), the one form every page uses; ``row_id`` picks the check
    of all point estimates or the one of the low-viral-load pair. No trial at all as far:
    "none of 2,000"."""
    if checks is None or (row_id, distribution) not in checks.index:
        return "not yet computed"
    row = checks.loc[(row_id, distribution)]
    pct = float(row["percentile"])
    if pct <= 0:
        return f"none of {int(row['n_draws']):,}"
    se = row.get("mc_se", float("nan"))
    return f"{pct:.1f}%" + (f" (SE {float(se):.1f})" if pd.notna(se) else "")
