"""Changes from baseline in ADLB by arm: readings of ART, Wilcoxon test, Hodges-Lehmann shift."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from anrs119.analysis._common import AnalysisInputError, group_order, require_columns
from anrs119.analysis.estimands import Estimand

Reading = Literal["observed", "off_art", "last_before_art"]

READINGS: dict[str, str] = {
    "observed": "all values at the visit, on or off ART (treatment policy)",
    "off_art": "values taken before ART initiation only (while off ART; others missing)",
    "last_before_art": "last value before ART initiation carried to the visit",
}


def visit_values(
    adsl: pd.DataFrame,
    adlb: pd.DataFrame,
    paramcd: str,
    visit: int,
    *,
    reading: Reading = "observed",
    by: str = "ARM",
) -> pd.DataFrame:
    """One row per analysed subject: USUBJID, group, AVISITN used, AVAL, BASE, CHG."""
    require_columns(adsl, ["USUBJID", by], "adsl")
    require_columns(adlb, ["USUBJID", "PARAMCD", "AVISITN", "AVAL", "BASE", "CHG", "ONART"], "adlb")
    if reading not in READINGS:
        raise AnalysisInputError(f"reading={reading!r}: rule: one of {sorted(READINGS)}")
    lb = adlb[(adlb["PARAMCD"] == paramcd) & adlb["USUBJID"].isin(adsl["USUBJID"])]
    bad = ~lb["ONART"].isin(["Y", "N"])
    if bad.any():
        raise AnalysisInputError(
            f"adlb: column ONART, row {lb.index[bad.to_numpy()][0]}: rule: 'Y' or 'N'"
        )
    if reading == "observed":
        rows = lb[lb["AVISITN"] == visit]
    elif reading == "off_art":
        rows = lb[(lb["AVISITN"] == visit) & (lb["ONART"] == "N")]
    else:
        # Why: patients who start ART leave the "natural history" estimand; their last
        # off-ART value (possibly the baseline itself) stands for the visit.
        off = lb[(lb["AVISITN"] <= visit) & (lb["ONART"] == "N")]
        rows = off.sort_values(["USUBJID", "AVISITN"]).groupby("USUBJID").tail(1)
    dup = rows["USUBJID"].duplicated()
    if dup.any():
        raise AnalysisInputError(
            f"adlb: row {rows.index[dup.to_numpy()][0]}: rule: one {paramcd} value per subject "
            f"and visit"
        )
    # ADLB's own CHG (validated to equal AVAL - BASE): recomputing it in floating point would
    # split values the data record as equal (4.58 - 4.56 != 4.60 - 4.58) and change rank ties.
    out = rows[["USUBJID", "AVISITN", "AVAL", "BASE", "CHG"]].merge(
        adsl[["USUBJID", by]], on="USUBJID", how="inner"
    )
    out = out.rename(columns={by: "group"})
    return out.dropna(subset=["CHG"]).reset_index(drop=True)


@lru_cache(maxsize=64)
def _u_null_cdf(m: int, n: int) -> np.ndarray:
    """Exact null cdf of the Mann-Whitney U (no ties) over u = 0..mn.

    Counts by the recursion on the largest pooled observation: it is either an x (which then
    exceeds all n y's: shift by n) or a y, so f(i, j) = f(i - 1, j) shifted by j + f(i, j - 1).
    """
    f: dict[tuple[int, int], np.ndarray] = {(0, j): np.ones(1) for j in range(n + 1)}
    for i in range(1, m + 1):
        f[(i, 0)] = np.ones(1)
        for j in range(1, n + 1):
            out = np.zeros(i * j + 1)
            a = f[(i - 1, j)]
            out[j : j + a.size] += a
            b = f[(i, j - 1)]
            out[: b.size] += b
            f[(i, j)] = out
    counts = f[(m, n)]
    return np.cumsum(counts / counts.sum())


def hodges_lehmann(
    x: np.ndarray,
    y: np.ndarray,
    alpha: float = 0.05,
    method: Literal["auto", "exact", "normal"] = "auto",
) -> tuple[float, float, float]:
    """Hodges-Lehmann shift (median of all x_i - y_j) with the Moses distribution-free CI.

    The CI inverts the Wilcoxon rank-sum test: with the m*n sorted differences D it is
    [D_(k), D_(mn-k+1)], k the largest integer with P(U <= k - 1) <= alpha / 2 under H0
    (exact U distribution with ``exact``; ``auto`` uses it when m, n <= 50), else the normal
    approximation k = floor(mn/2 - z sqrt(mn(m+n+1)/12)) (Hollander & Wolfe). If no k >= 1
    exists (tiny samples) the interval is unbounded.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        raise AnalysisInputError("hodges_lehmann: rule: both samples need at least one value")
    d = np.sort((x[:, None] - y[None, :]).ravel())
    est = float(np.median(d))
    mn = m * n
    if method == "exact" or (method == "auto" and m <= 50 and n <= 50):
        below = np.flatnonzero(_u_null_cdf(m, n) <= alpha / 2 + 1e-12)
        k = int(below[-1]) + 1 if below.size else 0
    else:
        z = stats.norm.ppf(1 - alpha / 2)
        k = int(np.floor(mn / 2 - z * np.sqrt(mn * (m + n + 1) / 12)))
    if k < 1:
        return est, float("-inf"), float("inf")
    return est, float(d[k - 1]), float(d[mn - k])


@dataclass(frozen=True)
class ChangeResult:
    """Median change from baseline at one visit, by group, with a two-group comparison."""

    paramcd: str
    visit: int
    reading: Reading
    table: pd.DataFrame
    """Columns: group, n, median, q1, q3."""
    wilcoxon_statistic: float
    """Mann-Whitney U of the first group."""
    wilcoxon_p: float
    hl_shift: float
    """Hodges-Lehmann shift, first group minus second group."""
    hl_ci_low: float
    hl_ci_high: float
    estimand: Estimand

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def change_from_baseline(
    adsl: pd.DataFrame,
    adlb: pd.DataFrame,
    paramcd: str,
    visit: int,
    *,
    reading: Reading = "observed",
    by: str = "ARM",
    order: Sequence[str] | None = None,
    alpha: float = 0.05,
    wilcoxon_method: Literal["auto", "asymptotic", "exact"] = "auto",
) -> ChangeResult:
    """Median (IQR) change from baseline by group; Wilcoxon rank-sum P and HL shift (2 groups).

    ``wilcoxon_method`` is passed to ``scipy.stats.mannwhitneyu`` ("asymptotic" applies the
    continuity correction, as R's ``wilcox.test`` does with ties).
    """
    vals = visit_values(adsl, adlb, paramcd, visit, reading=reading, by=by)
    groups = group_order(adsl[by], order)
    rows = []
    samples = []
    for g in groups:
        c = vals.loc[vals["group"] == g, "CHG"].to_numpy(dtype=float)
        samples.append(c)
        q1, med, q3 = np.quantile(c, [0.25, 0.5, 0.75]) if c.size else (np.nan,) * 3
        rows.append(
            {"group": g, "n": int(c.size), "median": float(med), "q1": float(q1), "q3": float(q3)}
        )
    u = p = hl = lo = hi = float("nan")
    if len(groups) == 2 and all(s.size > 0 for s in samples):
        res = stats.mannwhitneyu(
            samples[0], samples[1], alternative="two-sided", method=wilcoxon_method
        )
        u, p = float(res.statistic), float(res.pvalue)
        hl, lo, hi = hodges_lehmann(samples[0], samples[1], alpha)
    n_text = ", ".join(f"{r['group']} n={r['n']}" for r in rows)
    estimand = Estimand(
        population=f"randomized patients with a {paramcd} value for this reading ({n_text})",
        variable=f"change from baseline in {paramcd} at week {visit}",
        intercurrent_event_strategy=f"ART initiation: {READINGS[reading]}",
        summary_measure="median change by arm; Wilcoxon rank-sum test; Hodges-Lehmann shift "
        f"({groups[0]} minus {groups[-1]})",
    )
    return ChangeResult(
        paramcd=paramcd,
        visit=int(visit),
        reading=reading,
        table=pd.DataFrame(rows),
        wilcoxon_statistic=u,
        wilcoxon_p=p,
        hl_shift=hl,
        hl_ci_low=lo,
        hl_ci_high=hi,
        estimand=estimand,
    )


def trajectory_summary(
    adsl: pd.DataFrame,
    adlb: pd.DataFrame,
    paramcd: str,
    *,
    value: Literal["CHG", "AVAL"] = "CHG",
    reading: Reading = "observed",
    visits: Sequence[int] | None = None,
    by: str = "ARM",
    order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Median, quartiles and n by group and visit (input of ``figures.trajectory_plot``)."""
    require_columns(adlb, ["AVISITN", "PARAMCD"], "adlb")
    if visits is None:
        visits = sorted(adlb.loc[adlb["PARAMCD"] == paramcd, "AVISITN"].unique())
    groups = group_order(adsl[by], order)
    rows = []
    for v in visits:
        vals = visit_values(adsl, adlb, paramcd, int(v), reading=reading, by=by)
        for g in groups:
            c = vals.loc[vals["group"] == g, value].to_numpy(dtype=float)
            if c.size == 0:
                continue
            q1, med, q3 = np.quantile(c, [0.25, 0.5, 0.75])
            rows.append(
                {
                    "group": g,
                    "AVISITN": int(v),
                    "median": float(med),
                    "q1": float(q1),
                    "q3": float(q3),
                    "n": int(c.size),
                }
            )
    return pd.DataFrame(rows, columns=["group", "AVISITN", "median", "q1", "q3", "n"])
