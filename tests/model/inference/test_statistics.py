"""Tests of the statistics: the ABC-style transforms of the claims (used by the predictive checks)
and the printed statistics the posterior conditions on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anrs119.model.inference.statistics import (
    PrintedStatistic,
    Statistic,
    posterior_statistics,
    statistics,
    transform,
)
from anrs119.published import load_claims


def test_statistics_are_the_numeric_result_claims():
    c = load_claims()
    numeric = c[(c["kind"] == "result") & c["value"].notna()]
    assert [s.id for s in statistics()] == list(numeric.index)


def test_a_met_bound_costs_nothing_and_a_missed_one_grows():
    s = Statistic("x", 0.001, "<", log_scale=True)
    assert s.observed == 0.0
    v = transform(s, np.array([1e-5, 0.001, 0.01, 0.1]))
    np.testing.assert_allclose(v, [0.0, 0.0, 1.0, 2.0])


def test_p_values_are_compared_on_the_log_scale():
    s = Statistic("p", 0.008, "=", log_scale=True)
    assert s.observed == pytest.approx(math.log10(0.008))
    assert transform(s, np.array([0.0]))[0] == pytest.approx(-12.0)


def test_deferral_not_reached_is_capped():
    s = Statistic("d", 92.0, "=", log_scale=False, cap=150.0)
    np.testing.assert_array_equal(
        transform(s, np.array([np.inf, -np.inf, np.nan, 40.0])), [150.0, -150.0, 0.0, 40.0]
    )


def test_the_posterior_conditions_on_every_printed_point_estimate():
    """Every result claim printed as a value that is not a P value, in registry order."""
    c = load_claims()
    point = c[(c["kind"] == "result") & c["value"].notna() & (c["bound"] == "=")]
    point = point[point["statistic"] != "p_value"]
    stats = posterior_statistics()
    assert [s.id for s in stats] == list(point.index)
    assert [s.decimals for s in stats] == [int(d) for d in point["decimals"]]


def test_a_printed_statistic_rounds_as_printed_and_caps_the_deferral():
    s = PrintedStatistic("d", 92.0, 0, cap=150.0)
    np.testing.assert_array_equal(
        s.printed(np.array([np.inf, np.nan, 91.5, -91.5, 40.2])), [150.0, 0.0, 92.0, -92.0, 40.0]
    )
    v = PrintedStatistic("v", 0.02, 2)
    assert v.printed(np.array([0.015]))[0] == 0.02
