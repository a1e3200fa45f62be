"""Holm's step-down adjustment of the tests an abstract reports, some P values known as bounds.

Holm's adjusted P values never decrease when any raw P value increases (each one is a maximum of
Bonferroni tests over the intersection hypotheses that contain it, in the closed-testing form).
So a raw P known only to lie in [low, high] gives adjusted P values bracketed by the Holm
adjustment of all lower ends and that of all upper ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anrs119.analysis._common import AnalysisInputError, require_columns

TEST_STATISTICS: tuple[str, ...] = ("p_value", "similar")
"""Registry statistics that report a test: a printed P value, or "similar between arms" (a test
at the 0.05 level that did not reject, the P value itself not printed)."""

SIMILAR_LEVEL = 0.05
"""Assumed: "similar between arms" is a test at the 5% level that did not reject (the book's one
rule for "similar" detects no difference at that level), entered as a P of at least .05."""


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm-adjusted P values in input order: max over k <= rank of min(1, (m - k + 1) p_(k))."""
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise AnalysisInputError("holm: rule: a non-empty 1-d sequence of P values")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise AnalysisInputError(f"holm: P values {p.tolist()}: rule: each in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.maximum.accumulate(stepped)
    out = np.empty(m)
    out[order] = adjusted
    return out


def bounds_of(bound: str, value: float) -> tuple[float, float]:
    """The interval a printed P value allows: "=" exact, "<" (0, value], ">=" [value, 1]."""
    if bound == "=":
        return float(value), float(value)
    if bound == "<":
        return 0.0, float(value)
    if bound == ">=":
        return float(value), 1.0
    raise AnalysisInputError(f"bound {bound!r}: rule: one of '=', '<', '>='")


@dataclass(frozen=True)
class HolmBracket:
    """Holm-adjusted P values when raw ones are known as intervals: low[i] <= adj[i] <= high[i]."""

    low: np.ndarray
    high: np.ndarray


def holm_bracket(intervals: Sequence[tuple[float, float]]) -> HolmBracket:
    """Adjust the lower ends together and the upper ends together (Holm is monotone)."""
    lows = [lo for lo, _ in intervals]
    highs = [hi for _, hi in intervals]
    if any(lo > hi for lo, hi in intervals):
        raise AnalysisInputError(f"intervals {list(intervals)}: rule: low <= high")
    return HolmBracket(low=holm(lows), high=holm(highs))


def reported_tests(claims: pd.DataFrame) -> pd.DataFrame:
    """The tests the abstract reports: result rows whose statistic is a P value or "similar".

    Columns: id, endpoint, population, timepoint_weeks, reported_as, bound, p_low, p_high.
    """
    require_columns(
        claims,
        ["id", "kind", "statistic", "bound", "value", "endpoint", "population", "reported_as"],
        "claims",
    )
    rows = claims[(claims["kind"] == "result") & claims["statistic"].isin(TEST_STATISTICS)]
    out = []
    for r in rows.itertuples():
        if r.statistic == "similar":
            low, high = bounds_of(">=", SIMILAR_LEVEL)
            bound = ">="
        else:
            low, high = bounds_of(str(r.bound), float(r.value))
            bound = str(r.bound)
        out.append(
            {
                "id": r.id,
                "endpoint": r.endpoint,
                "population": r.population,
                "timepoint_weeks": r.timepoint_weeks,
                "reported_as": r.reported_as,
                "bound": bound,
                "p_low": low,
                "p_high": high,
            }
        )
    return pd.DataFrame(out)


def holm_sensitivity(tests: pd.DataFrame, reproduced: dict[str, float]) -> pd.DataFrame:
    """Published P bracket and its Holm bracket, beside the reproduced P and its Holm value.

    ``tests`` comes from :func:`reported_tests`; ``reproduced`` maps each test id to the P value
    computed on the data in use (NaN when not computable: it then enters as [0, 1]).
    """
    require_columns(tests, ["id", "p_low", "p_high"], "tests")
    bracket = holm_bracket(list(zip(tests["p_low"], tests["p_high"], strict=True)))
    rep = np.array([reproduced.get(i, np.nan) for i in tests["id"]], dtype=float)
    rep_intervals = [(0.0, 1.0) if np.isnan(x) else (x, x) for x in rep]
    rep_bracket = holm_bracket(rep_intervals)
    out = tests.copy()
    out["holm_low"] = bracket.low
    out["holm_high"] = bracket.high
    out["reproduced_p"] = rep
    out["reproduced_holm"] = np.where(np.isnan(rep), np.nan, rep_bracket.high)
    return out
