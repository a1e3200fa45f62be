"""Render the claims registry for the reader: the published results and the design facts."""

from __future__ import annotations

import pandas as pd

from anrs119.published import load_claims, parse_tolerance
from anrs119.report.tables import BookTable

SOURCE_NAMES = {"S1": "abstract", "S2": "registry"}
POPULATION_NAMES = {"all": "all randomized", "lowvl": "low baseline viral load"}


TOLERANCE_NAMES = {
    "one_patient": "one patient",
    "one_event": "one event",
    "neighbouring_order_statistics": "neighboring order statistics",
    "one_patient_p": "one patient's change",
    "neighbouring_event_times": "neighboring event times",
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


def _labels(claims: pd.DataFrame) -> pd.Series:
    from anrs119.report.scorecard import claim_label

    return pd.Series([claim_label(c) for _, c in claims.iterrows()], index=claims.index)


def results_book_table() -> BookTable:
    """The published results for readers: a label per number, never a registry id."""
    claims = load_claims()
    claims = claims[claims["kind"] == "result"]
    frame = pd.DataFrame(
        {
            "Result": _labels(claims).to_numpy(),
            "Population": claims["population"].map(POPULATION_NAMES).to_numpy(),
            "Published": claims["reported_as"].to_numpy(),
            "Counts as close within": [
                describe_tolerance(t, u)
                for t, u in zip(claims["tolerance"], claims["unit"], strict=True)
            ],
            "Source": claims["source"].map(SOURCE_NAMES).to_numpy(),
        }
    )
    return BookTable(
        frame,
        caption="Every published result, as printed, with the tolerance the scorecard allows.",
        name="tbl-claims-results",
    )


def quotes_book_table() -> BookTable:
    """Each published sentence once, with the results it carries."""
    claims = load_claims()
    claims = claims[claims["kind"] == "result"].copy()
    claims["label"] = _labels(claims)
    grouped = claims.groupby("quote", sort=False)["label"].agg("; ".join)
    return BookTable(
        pd.DataFrame({"Sentence of the abstract": grouped.index, "Results": grouped.to_numpy()}),
        caption="The sentences of the abstract that the results come from.",
        name="tbl-claims-quotes",
        verbatim=("Sentence of the abstract",),
    )


def design_book_table() -> BookTable:
    """The design facts the book uses, with the sentence each comes from."""
    table = design_table()
    table["Fact"] = table["Fact"].str[0].str.upper() + table["Fact"].str[1:]
    return BookTable(
        table.reset_index(drop=True).astype(str),
        caption="The design facts the book uses, from the abstract and the trial registry.",
        name="tbl-claims-design",
        verbatim=("Sentence",),
    )
