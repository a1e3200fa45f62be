"""Render the claims registry for the reader: the published results and the design facts."""

from __future__ import annotations

import pandas as pd

from anrs119.published import load_claims, parse_tolerance

SOURCE_NAMES = {"S1": "abstract", "S2": "registry"}
POPULATION_NAMES = {"all": "all randomized", "lowvl": "baseline VL < 4.5 log10"}


TOLERANCE_NAMES = {
    "one_patient": "one patient",
    "one_event": "one event",
    "neighbouring_order_statistics": "neighbouring order statistics",
    "one_patient_p": "one patient's change",
    "neighbouring_event_times": "neighbouring event times",
    "no_difference_detected": "no difference detected (95% CI)",
}


def describe_tolerance(text: str, unit: str = "") -> str:
    """The registry's tolerance rule in words (the amount is computed from the data in use)."""
    rule = parse_tolerance(text).rule
    return TOLERANCE_NAMES.get(rule, "")


def results_table() -> pd.DataFrame:
    """The published results, one row per number, as printed, with tolerance and source."""
    claims = load_claims()
    claims = claims[claims["kind"] == "result"]
    return pd.DataFrame(
        {
            "Result": claims["claim"],
            "Population": claims["population"].map(POPULATION_NAMES),
            "What": claims["endpoint"],
            "Week": claims["timepoint_weeks"].astype("string").fillna(""),
            "Arm": claims["arm"],
            "Published": claims["reported_as"],
            "Scorecard tolerance": [
                describe_tolerance(t, u)
                for t, u in zip(claims["tolerance"], claims["unit"], strict=True)
            ],
            "Source": claims["source"].map(SOURCE_NAMES),
        },
        index=claims.index.rename("id"),
    )


def design_table() -> pd.DataFrame:
    """The design facts the book uses, with the sentence each comes from."""
    claims = load_claims()
    claims = claims[claims["kind"] == "design"]
    return pd.DataFrame(
        {
            "Fact": claims["endpoint"],
            "As published": claims["reported_as"],
            "Source": claims["source"].map(SOURCE_NAMES),
            "Sentence": claims["quote"],
        },
        index=claims.index.rename("id"),
    )


def quotes_table() -> pd.DataFrame:
    """Each published sentence once, with the ids of the numbers it carries."""
    claims = load_claims()
    claims = claims[claims["kind"] == "result"].reset_index()
    grouped = claims.groupby("quote", sort=False)["id"].agg(", ".join)
    return pd.DataFrame({"Sentence (abstract)": grouped.index, "Numbers": grouped.to_numpy()})
