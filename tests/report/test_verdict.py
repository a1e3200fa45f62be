"""Verdicts: exact after the paper's rounding, close within tolerance, off otherwise."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from anrs119.published import load_claims
from anrs119.report.verdict import format_like, judge, round_half_up, verdict_counts

CLAIMS = load_claims()


def row(claim_id: str) -> pd.Series:
    return CLAIMS.loc[claim_id]


def published(claim_id: str) -> float:
    return float(CLAIMS.at[claim_id, "value"])


def tolerance(claim_id: str) -> float:
    return float(CLAIMS.at[claim_id, "tolerance"].split(":")[1])


def test_round_half_up_is_not_bankers_rounding() -> None:
    assert round_half_up(0.0085, 3) == 0.009
    assert round_half_up(34.5, 0) == 35
    assert round_half_up(-63.5, 0) == -64
    assert round_half_up(0.925, 2) == 0.93


def test_proportion_exact_close_off() -> None:
    claim_id = "primary_w96_il2"
    value, tol = published(claim_id), tolerance(claim_id)
    assert judge(row(claim_id), value + 0.4).label == "exact"
    assert judge(row(claim_id), value - 0.5).label == "exact"  # rounds half up to the value
    assert judge(row(claim_id), value + 0.6).label == "close"
    verdict = judge(row(claim_id), value + tol + 0.1)
    assert verdict.label == "off" and "beyond the tolerance" in verdict.reason


def test_exact_p_value() -> None:
    claim_id = "primary_w96_p"  # printed as an exact value
    p = published(claim_id)
    assert judge(row(claim_id), p + 0.0004).label == "exact"
    assert judge(row(claim_id), p + 0.003).label == "close"
    assert judge(row(claim_id), 0.2).label == "off"


def test_bounded_p_value() -> None:
    claim_id = "cd4_change_w96_p"  # printed as a bound
    bound = published(claim_id)
    assert judge(row(claim_id), bound / 10).label == "exact"
    assert judge(row(claim_id), bound * 5).label == "close"
    assert judge(row(claim_id), 0.5).label == "off"


def test_non_significant_p_value() -> None:
    claim_id = "vl_change_w96_p"
    assert judge(row(claim_id), published(claim_id)).label == "exact"
    assert judge(row(claim_id), 0.40).label == "close"
    assert judge(row(claim_id), 0.01).label == "off"


def test_similar_statement() -> None:
    claim_id = "safety_grade34_similar"
    assert judge(row(claim_id), 0.6).label == "exact"
    assert judge(row(claim_id), 0.001).label == "off"


def test_nan_is_off() -> None:
    assert judge(row("primary_w96_il2"), math.nan).label == "off"


@given(st.sampled_from(list(CLAIMS.query("kind == 'result'").index)))
def test_the_published_value_itself_is_always_exact(claim_id: str) -> None:
    claim = row(claim_id)
    value = published(claim_id)
    if claim["statistic"] == "similar":
        value = 0.5
    elif claim["bound"] == "<":
        value = value / 2
    assert judge(claim, value).label == "exact"


@given(st.floats(min_value=-200, max_value=200, allow_nan=False))
def test_verdict_is_monotone_in_distance(offset: float) -> None:
    """A reproduction further from the claim never gets a better verdict."""
    claim = row("cd4_change_w96_il2")
    rank = {"exact": 0, "close": 1, "off": 2}
    near = judge(claim, published("cd4_change_w96_il2") + offset / 2).label
    far = judge(claim, published("cd4_change_w96_il2") + offset).label
    assert rank[near] <= rank[far]


def test_format_like_prints_as_the_paper() -> None:
    assert format_like(row("primary_w96_il2"), 35.4) == "35%"
    assert format_like(row("cd4_change_w96_il2"), 51.2) == "+51"
    assert format_like(row("vl_change_w96_control"), 0.041) == "+0.04"
    assert format_like(row("primary_w96_p"), 0.0081) == "P = .008"
    assert format_like(row("lowvl_free_w150_p"), 0.00001) == "P < .001"
    assert format_like(row("lowvl_art_deferral"), 91.6) == "92 weeks"


def test_verdict_counts_in_fixed_order() -> None:
    assert verdict_counts(pd.Series(["close", "exact", "exact"])) == {
        "exact": 2,
        "close": 1,
        "off": 0,
    }
