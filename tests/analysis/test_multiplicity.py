"""Holm against statsmodels, its monotonicity, the brackets for bounds, and the registry count."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from anrs119.analysis._common import AnalysisInputError
from anrs119.analysis.multiplicity import (
    TEST_STATISTICS,
    holm,
    holm_bracket,
    holm_sensitivity,
    reported_tests,
)
from anrs119.published import load_claims

ps = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=12)


def test_hand_computed_case() -> None:
    # sorted .01, .03, .04 with m = 3: 3 x .01, max(.03, 2 x .03), max(.06, 1 x .04)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


@given(ps)
@settings(max_examples=25, deadline=None)  # multipletests takes ~0.15 s a call here
def test_matches_statsmodels(p: list[float]) -> None:
    expected = multipletests(p, method="holm")[1]
    assert holm(p) == pytest.approx(expected, abs=1e-12)


@given(ps, st.integers(0, 11), st.floats(0.0, 1.0))
@settings(max_examples=200, deadline=None)
def test_monotone_in_every_p(p: list[float], i: int, bump: float) -> None:
    i = i % len(p)
    higher = list(p)
    higher[i] = min(1.0, higher[i] + bump)
    assert np.all(holm(higher) >= holm(p) - 1e-15)


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=8), st.data())
@settings(max_examples=100, deadline=None)
def test_bracket_contains_every_point_inside(pairs, data) -> None:
    intervals = [(min(a, b), max(a, b)) for a, b in pairs]
    bracket = holm_bracket(intervals)
    point = [data.draw(st.floats(lo, hi)) for lo, hi in intervals]
    adjusted = holm(point)
    assert np.all(bracket.low <= adjusted + 1e-15)
    assert np.all(adjusted <= bracket.high + 1e-15)


def test_bad_p_is_refused() -> None:
    with pytest.raises(AnalysisInputError, match="in \\[0, 1\\]"):
        holm([0.2, 1.5])


def test_registry_tests_are_every_p_value_and_similar_row() -> None:
    claims = load_claims().reset_index()
    tests = reported_tests(claims)
    expected = claims[(claims["kind"] == "result") & claims["statistic"].isin(TEST_STATISTICS)]
    assert tests["id"].tolist() == expected["id"].tolist()
    bounded = tests[tests["bound"] == "<"]
    assert (bounded["p_low"] == 0).all()
    similar = tests[tests["bound"] == ">="]
    assert (similar["p_high"] == 1).all()


def test_sensitivity_table_uses_the_upper_end_of_a_bound() -> None:
    claims = load_claims().reset_index()
    tests = reported_tests(claims)
    table = holm_sensitivity(tests, {i: 0.5 for i in tests["id"]})
    upper = holm(tests["p_high"].to_numpy())
    assert table["holm_high"].to_numpy() == pytest.approx(upper)
    assert (table["holm_low"] <= table["holm_high"]).all()
