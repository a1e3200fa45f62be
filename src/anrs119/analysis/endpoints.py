"""Proportions with an event by a given week, by arm: crude and Kaplan-Meier, with tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from anrs119.analysis._common import AnalysisInputError, group_order, time_to_event
from anrs119.analysis.estimands import Estimand, endpoint_name
from anrs119.analysis.similarity import newcombe_interval, wilson_interval
from anrs119.analysis.survival import DEFAULT_STRATEGY, kaplan_meier

CIMethod = Literal["wilson", "exact"]

CI_NAMES: dict[str, str] = {"wilson": "Wilson score", "exact": "exact Clopper-Pearson"}
"""The binomial intervals by the names a reader meets in the literature."""


def proportion_ci(
    k: int, n: int, alpha: float = 0.05, method: CIMethod = "wilson"
) -> tuple[float, float]:
    """Binomial CI: Wilson score or exact Clopper-Pearson (as statsmodels ``beta``)."""
    if n <= 0 or not 0 <= k <= n:
        raise AnalysisInputError(f"proportion {k}/{n}: rule: n > 0 and 0 <= k <= n")
    if method == "wilson":
        low, high = wilson_interval(k, n, alpha)
        return float(low), float(high)
    if method == "exact":
        low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
        high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
        return low, high
    raise AnalysisInputError(f"method={method!r}: rule: wilson or exact")


@dataclass(frozen=True)
class ProportionsResult:
    """Proportion with the event by ``week`` per group, two readings side by side.

    ``crude``: events with AVAL <= week divided by all subjects in the group (patients
    censored before ``week`` count as event-free: the non-responder reading is the opposite).
    ``km``: 1 - S(week) from Kaplan-Meier (censored patients contribute until censoring).
    """

    week: float
    table: pd.DataFrame
    """Columns: group, n, events, censored_before, crude, crude_ci_low, crude_ci_high,
    km, km_ci_low, km_ci_high."""
    ci_method: CIMethod
    estimand: Estimand

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def counts(self) -> np.ndarray:
        """2 x k table [events, non-events] per group (for the tests below)."""
        ev = self.table["events"].to_numpy()
        return np.vstack([ev, self.table["n"].to_numpy() - ev])


def event_proportions(
    adsl: pd.DataFrame,
    adtte: pd.DataFrame,
    paramcd: str,
    week: float,
    *,
    by: str = "ARM",
    order: Sequence[str] | None = None,
    alpha: float = 0.05,
    ci_method: CIMethod = "wilson",
    km_ci_transform: Literal["log-log", "log", "plain"] = "log-log",
    intercurrent: str = DEFAULT_STRATEGY,
) -> ProportionsResult:
    """Crude and Kaplan-Meier proportions with the event by ``week``, with CIs."""
    df = time_to_event(adsl, adtte, paramcd, by)
    groups = group_order(df["group"], order)
    km = kaplan_meier(
        adsl, adtte, paramcd, by=by, order=groups, alpha=alpha, ci_transform=km_ci_transform
    )
    rows = []
    for g in groups:
        sub = df[df["group"] == g]
        n = len(sub)
        events = int(((sub["event"] == 1) & (sub["time"] <= week)).sum())
        cens = int(((sub["event"] == 0) & (sub["time"] < week)).sum())
        lo, hi = proportion_ci(events, n, alpha, ci_method)
        p_km, km_lo, km_hi = km.event_probability_at(g, week)
        rows.append(
            {
                "group": g,
                "n": n,
                "events": events,
                "censored_before": cens,
                "crude": events / n,
                "crude_ci_low": lo,
                "crude_ci_high": hi,
                "km": p_km,
                "km_ci_low": km_lo,
                "km_ci_high": km_hi,
            }
        )
    estimand = Estimand(
        population=km.estimand.population,
        variable=f"{endpoint_name(paramcd)} by week {week:g} (an event, CNSR = 0, at or "
        f"before week {week:g})",
        intercurrent_event_strategy=intercurrent,
        summary_measure=f"proportion with the event by week {week:g}: crude, over all randomized "
        f"patients ({CI_NAMES[ci_method]} {100 * (1 - alpha):g}% CI), and Kaplan-Meier (1 - S)",
    )
    return ProportionsResult(
        week=float(week), table=pd.DataFrame(rows), ci_method=ci_method, estimand=estimand
    )


@dataclass(frozen=True)
class TwoByTwoResult:
    """Tests and risk difference for events / n in two groups (first minus second)."""

    groups: tuple[str, str]
    events: tuple[int, int]
    n: tuple[int, int]
    chi2: float
    chi2_p: float
    chi2_yates: float
    chi2_yates_p: float
    fisher_p: float
    risk_difference: float
    rd_ci_low: float
    rd_ci_high: float
    estimand: Estimand

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"test": "Pearson chi-square", "statistic": self.chi2, "p_value": self.chi2_p},
                {
                    "test": "chi-square, continuity corrected",
                    "statistic": self.chi2_yates,
                    "p_value": self.chi2_yates_p,
                },
                {"test": "Fisher exact", "statistic": float("nan"), "p_value": self.fisher_p},
            ]
        )


def compare_proportions(
    events: Sequence[int],
    n: Sequence[int],
    groups: Sequence[str] = ("IL-2", "Control"),
    *,
    alpha: float = 0.05,
    estimand: Estimand | None = None,
) -> TwoByTwoResult:
    """Pearson chi-square (with/without Yates), two-sided Fisher exact, Wald risk difference."""
    if len(events) != 2 or len(n) != 2:
        raise AnalysisInputError("compare_proportions: rule: exactly two groups")
    e = np.asarray(events, dtype=int)
    m = np.asarray(n, dtype=int)
    if np.any(m <= 0) or np.any(e < 0) or np.any(e > m):
        raise AnalysisInputError(
            f"events={e.tolist()}, n={m.tolist()}: rule: 0 <= events <= n, n > 0"
        )
    table = np.vstack([e, m - e]).T  # rows groups, columns event / no event
    margins_ok = np.all(table.sum(axis=0) > 0)
    if margins_ok:
        c2, p2, _, _ = stats.chi2_contingency(table, correction=False)
        c2y, p2y, _, _ = stats.chi2_contingency(table, correction=True)
    else:  # all or none had the event: no evidence of a difference
        c2, p2, c2y, p2y = 0.0, 1.0, 0.0, 1.0
    fisher_p = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    p = e / m
    rd = float(p[0] - p[1])
    se = float(np.sqrt(np.sum(p * (1 - p) / m)))
    z = stats.norm.ppf(1 - alpha / 2)
    est = estimand or Estimand(
        population=f"{groups[0]} n={m[0]}, {groups[1]} n={m[1]}",
        variable="binary event",
        intercurrent_event_strategy="as defined by the caller",
        summary_measure=f"risk difference {groups[0]} minus {groups[1]} (Wald CI); chi-square, "
        "Fisher exact",
    )
    return TwoByTwoResult(
        groups=(groups[0], groups[1]),
        events=(int(e[0]), int(e[1])),
        n=(int(m[0]), int(m[1])),
        chi2=float(c2),
        chi2_p=float(p2),
        chi2_yates=float(c2y),
        chi2_yates_p=float(p2y),
        fisher_p=fisher_p,
        risk_difference=rd,
        rd_ci_low=rd - z * se,
        rd_ci_high=rd + z * se,
        estimand=est,
    )


def compare_event_proportions(result: ProportionsResult, alpha: float = 0.05) -> TwoByTwoResult:
    """Tests on the crude counts of an :func:`event_proportions` result with two groups."""
    t = result.table
    if len(t) != 2:
        raise AnalysisInputError(f"{len(t)} groups: rule: comparison needs exactly two")
    return compare_proportions(
        t["events"].tolist(),
        t["n"].tolist(),
        tuple(t["group"]),
        alpha=alpha,
        estimand=result.estimand,
    )


def newcombe_difference_ci(
    k1: int, n1: int, k2: int, n2: int, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Risk difference p1 - p2 with Newcombe's hybrid score CI (his method 10), as floats.

    The computation is :func:`anrs119.analysis.similarity.newcombe_interval`, the interval behind
    the book's one rule for "similar"; unlike the Wald interval it stays inside [-1, 1] and keeps
    its width when a count is 0.
    """
    d, low, high = newcombe_interval(k1, n1, k2, n2, alpha)
    return float(d), float(low), float(high)


def power_two_proportions(p1: float, p2: float, n1: int, n2: int, alpha: float = 0.05) -> float:
    """Power of the two-sided z test of p1 = p2 (variance pooled under H0, unpooled under H1).

    The usual normal-approximation formula (Fleiss, Levin and Paik, ch. 4), both tails:
    Phi((|d| - z s0) / s1) + Phi((-|d| - z s0) / s1), d = p1 - p2,
    s0 = sqrt(pbar qbar (1/n1 + 1/n2)), s1 = sqrt(p1 q1 / n1 + p2 q2 / n2).
    """
    z = stats.norm.ppf(1 - alpha / 2)
    pbar = (n1 * p1 + n2 * p2) / (n1 + n2)
    null_sd = np.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2))
    alt_sd = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    if alt_sd == 0:
        return float(abs(p1 - p2) > z * null_sd)
    d = abs(p1 - p2)
    return float(
        stats.norm.cdf((d - z * null_sd) / alt_sd) + stats.norm.cdf((-d - z * null_sd) / alt_sd)
    )


def fisher_rejections(n1: int, n2: int, alpha: float = 0.05) -> np.ndarray:
    """(n1 + 1, n2 + 1) booleans: tables (k1 of n1, k2 of n2) whose two-sided Fisher exact P is
    below ``alpha``.

    Given the total m = k1 + k2, k1 is hypergeometric; the two-sided P of a table sums the
    probabilities no larger than its own (relative tolerance 1e-7, as R and scipy), so every
    table of one margin is done at once.
    """
    out = np.zeros((n1 + 1, n2 + 1), dtype=bool)
    for m in range(n1 + n2 + 1):
        low, high = max(0, m - n2), min(n1, m)
        x = np.arange(low, high + 1)
        pmf = stats.hypergeom.pmf(x, n1 + n2, n1, m)
        p = (pmf[None, :] * (pmf[None, :] <= pmf[:, None] * (1 + 1e-7))).sum(axis=1)
        out[x, m - x] = p < alpha
    return out


def chi2_rejections(n1: int, n2: int, alpha: float = 0.05, correction: bool = False) -> np.ndarray:
    """(n1 + 1, n2 + 1) booleans: tables whose Pearson chi-square P (with Yates' correction when
    ``correction``) is below ``alpha``; tables with an empty margin never reject."""
    k1 = np.arange(n1 + 1)[:, None].astype(float)
    k2 = np.arange(n2 + 1)[None, :].astype(float)
    n = n1 + n2
    m = k1 + k2
    cross = np.abs(k1 * (n2 - k2) - k2 * (n1 - k1))
    if correction:
        cross = np.maximum(cross - n / 2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = n * cross**2 / (n1 * n2 * m * (n - m))
    p = np.where((m > 0) & (m < n), stats.chi2.sf(statistic, 1), 1.0)
    return p < alpha


def exact_power(
    p1: float, p2: float, n1: int, n2: int, test: str = "fisher", alpha: float = 0.05
) -> float:
    """Exact power of a two-sided test of two proportions: the binomial probability of every
    table the test rejects (``test``: "fisher", "chi2" or "chi2_yates"), no simulation."""
    if test == "fisher":
        reject = fisher_rejections(n1, n2, alpha)
    elif test in ("chi2", "chi2_yates"):
        reject = chi2_rejections(n1, n2, alpha, correction=test == "chi2_yates")
    else:
        raise AnalysisInputError(f"test={test!r}: rule: fisher, chi2 or chi2_yates")
    w1 = stats.binom.pmf(np.arange(n1 + 1), n1, p1)
    w2 = stats.binom.pmf(np.arange(n2 + 1), n2, p2)
    return float(w1 @ reject.astype(float) @ w2)


def minimal_detectable_difference(
    p_control: float, n1: int, n2: int, alpha: float = 0.05, power: float = 0.80
) -> float:
    """Smallest increase d over the control rate that the trial detects with the given power.

    Solves ``power_two_proportions(p_control + d, p_control, n1, n2, alpha) = power`` for
    d > 0 (NaN if even p1 = 1 is not detected with that power).
    """
    if not 0 <= p_control < 1:
        raise AnalysisInputError(f"control rate {p_control}: rule: 0 <= rate < 1")

    def gap(d: float) -> float:
        return power_two_proportions(p_control + d, p_control, n1, n2, alpha) - power

    top = 1.0 - p_control
    if gap(top) < 0:
        return float("nan")
    return float(optimize.brentq(gap, 1e-9, top, xtol=1e-10))
