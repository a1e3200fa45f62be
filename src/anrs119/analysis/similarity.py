"""The book's one rule for a "similar" statement, and the words that go with it.

The abstract calls the arms' incidences of AIDS-defining events, deaths and grade 3-4 adverse
events "similar" without counts. A trial of 130 patients can only fail to detect a difference,
so the statement is reproduced when the data in use detect none, as the paper's own test would
have: the 95% Newcombe (hybrid score) interval of the risk difference includes 0. That is
absence of evidence, not shown similarity: the same data do not exclude differences up to the
interval's far end, and every place that shows the verdict says so, with the difference, its
interval and the largest difference not excluded.

No equivalence margin is used: none is published for these events in this setting, and an
invented one would decide the verdict. Every user (the scorecard, the safety page, the
predictive checks, the reconstruction and the operating characteristics) calls
:func:`no_difference_detected`, vectorised so that simulated trials use the same rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from anrs119.analysis._common import AnalysisInputError

SIMILARITY_ALPHA: float = 0.05
"""Two-sided level of the interval (95%), the conventional level the paper's tests used."""

RULE_TEXT: str = (
    "no difference detected: the 95% Newcombe interval of the difference in the proportion of "
    "patients with the event includes 0"
)
CAVEAT_TEXT: str = "absence of evidence, not shown similarity"


def wilson_interval(k, n, alpha: float = SIMILARITY_ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of k/n, element-wise (exactly 0 at k = 0 and 1 at k = n)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    low = np.where(k == 0, 0.0, np.maximum(0.0, centre - half))
    high = np.where(k == n, 1.0, np.minimum(1.0, centre + half))
    return low, high


def newcombe_interval(
    k1, n1, k2, n2, alpha: float = SIMILARITY_ALPHA
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference p1 - p2 and Newcombe's hybrid score interval (his method 10), element-wise.

    From the two Wilson intervals (l_i, u_i):
    [d - sqrt((p1 - l1)^2 + (u2 - p2)^2), d + sqrt((u1 - p1)^2 + (p2 - l2)^2)], as statsmodels
    ``confint_proportions_2indep(method="newcomb")``. It stays inside [-1, 1] and keeps its width
    when a count is 0, which safety counts of 0 to 3 need.
    """
    k1, n1, k2, n2 = (np.asarray(v, dtype=float) for v in (k1, n1, k2, n2))
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, alpha)
    l2, u2 = wilson_interval(k2, n2, alpha)
    d = p1 - p2
    low = np.maximum(d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), -1.0)
    high = np.minimum(d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), 1.0)
    return d, low, high


def no_difference_detected(k1, n1, k2, n2, alpha: float = SIMILARITY_ALPHA):
    """THE rule for "similar": True where the Newcombe interval of p1 - p2 includes 0.

    Element-wise over arrays of counts (a bool for scalars): the scorecard, the predictive
    checks, the reconstruction and the operating characteristics all call this function.
    """
    _, low, high = newcombe_interval(k1, n1, k2, n2, alpha)
    out = (low <= 0.0) & (high >= 0.0)
    return bool(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class Similarity:
    """Two arms' counts of patients with an event, judged by the one rule, with its words."""

    patients: tuple[int, int]
    n: tuple[int, int]
    difference: float
    """First arm minus second, as a proportion."""
    ci_low: float
    ci_high: float
    alpha: float

    @property
    def detected(self) -> bool:
        """A difference is detected: the interval excludes 0 (the statement is contradicted)."""
        return not no_difference_detected(*self._counts(), self.alpha)

    def _counts(self) -> tuple[int, int, int, int]:
        return self.patients[0], self.n[0], self.patients[1], self.n[1]

    @property
    def largest_not_excluded(self) -> float:
        """The interval's bound farthest from 0 (signed, as a proportion): the largest
        difference between arms that the data do not exclude."""
        return self.ci_high if abs(self.ci_high) >= abs(self.ci_low) else self.ci_low

    def counts_text(self) -> str:
        return " vs ".join(f"{k}/{n}" for k, n in zip(self.patients, self.n, strict=True))

    def interval_text(self) -> str:
        level = f"{1 - self.alpha:.0%}"
        return (
            f"difference {_points(self.difference)} points ({level} CI {_points(self.ci_low)} "
            f"to {_points(self.ci_high)})"
        )

    def short_text(self) -> str:
        """'+13.2 points (-0.8 to +26.6)': the difference and its interval, for a table cell."""
        return (
            f"{_points(self.difference)} points ({_points(self.ci_low)} to {_points(self.ci_high)})"
        )

    def largest_text(self, groups: tuple[str, str]) -> str:
        """'26.6 points more often with IL-2' (the largest difference not excluded)."""
        far = self.largest_not_excluded
        side = "more" if far > 0 else "less"
        return f"{100 * abs(far):.1f} points {side} often with {groups[0]}"

    def sentence(self, groups: tuple[str, str]) -> str:
        """The verdict in words: counts, difference with its interval, and what it can show."""
        head = f"{self.counts_text()}: {self.interval_text()}"
        if self.detected:
            return (
                f"{head}; a difference is detected (the interval excludes 0), so the data "
                "contradict 'similar'"
            )
        return (
            f"{head}; no difference detected, but the data do not exclude a difference of up "
            f"to {self.largest_text(groups)}: {CAVEAT_TEXT}"
        )


def compare_counts(
    k1: int, n1: int, k2: int, n2: int, alpha: float = SIMILARITY_ALPHA
) -> Similarity:
    """The one rule applied to two arms' counts (first arm minus second)."""
    for k, n in ((k1, n1), (k2, n2)):
        if n <= 0 or not 0 <= k <= n:
            raise AnalysisInputError(f"counts {k}/{n}: rule: n > 0 and 0 <= k <= n")
    d, low, high = newcombe_interval(k1, n1, k2, n2, alpha)
    return Similarity(
        (int(k1), int(k2)), (int(n1), int(n2)), float(d), float(low), float(high), alpha
    )


def _points(proportion: float) -> str:
    text = f"{100 * proportion:+.1f}"
    return "0.0" if math.isclose(float(text), 0.0) else text
