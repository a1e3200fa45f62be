"""The SAP-style estimand rows: ICH E9(R1) strategy names, and one row for every result claim."""

from __future__ import annotations

import pytest

from anrs119.analysis.estimands import IntercurrentEvent, sap_table
from anrs119.data import load_dataset
from anrs119.published import load_claims
from anrs119.reproduce import CHANGE_READING, CHANGE_STRATEGIES, Reproducer


def test_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="strategy 'ignore'"):
        IntercurrentEvent("ART", "ignore", "")
    assert IntercurrentEvent("ART", "hypothetical: naive", "x").strategy.startswith("hypo")


def test_every_result_claim_has_one_row() -> None:
    claims = load_claims().reset_index()
    results = claims[claims["kind"] == "result"]
    # The three safety rows share the claim "safety" but are three end points.
    expected = [
        i if c == "safety" else c for i, c in zip(results["id"], results["claim"], strict=True)
    ]
    expected = list(dict.fromkeys(expected))
    entries = Reproducer(load_dataset()).sap()
    assert [e.claim for e in entries] == expected
    table = sap_table(entries)
    assert not table.isna().any().any()
    assert (table["test"].str.len() > 0).all()


def test_the_change_row_follows_the_named_reading() -> None:
    entries = {e.claim: e for e in Reproducer(load_dataset()).sap()}
    assert entries["cd4_change_w96"].intercurrent[0] == CHANGE_STRATEGIES[CHANGE_READING]
