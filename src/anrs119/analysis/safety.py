"""Safety by arm: AIDS-defining events and deaths, grade 3-4 adverse events, and an AE table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from anrs119.analysis._common import AnalysisInputError, group_order, require_columns
from anrs119.analysis.endpoints import minimal_detectable_difference
from anrs119.analysis.estimands import Estimand, arm_population
from anrs119.analysis.similarity import SIMILARITY_ALPHA, Similarity, compare_counts

GRADE_34: tuple[int, ...] = (3, 4)


@dataclass(frozen=True)
class PatientCountResult:
    """Patients with at least one qualifying event, by group, with a Fisher exact test."""

    what: str
    table: pd.DataFrame
    """Columns: group, n, patients, percent."""
    fisher_p: float
    """Two-sided Fisher exact P (two groups only, else NaN)."""
    estimand: Estimand

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _count(
    adsl: pd.DataFrame,
    subjects: pd.Series,
    *,
    by: str,
    order: Sequence[str] | None,
    what: str,
    variable: str,
    strategy: str,
) -> PatientCountResult:
    groups = group_order(adsl[by], order)
    hit = adsl["USUBJID"].isin(set(subjects))
    rows = []
    for g in groups:
        in_g = (adsl[by] == g).to_numpy()
        n, k = int(in_g.sum()), int((hit.to_numpy() & in_g).sum())
        rows.append({"group": g, "n": n, "patients": k, "percent": 100 * k / n if n else np.nan})
    table = pd.DataFrame(rows)
    p = float("nan")
    if len(groups) == 2:
        k = table["patients"].to_numpy()
        n = table["n"].to_numpy()
        p = float(stats.fisher_exact(np.vstack([k, n - k]).T).pvalue)
    estimand = Estimand(
        population=arm_population([r["group"] for r in rows], [r["n"] for r in rows], by),
        variable=variable,
        intercurrent_event_strategy=strategy,
        summary_measure="number (%) of patients with at least one event; Fisher exact test",
    )
    return PatientCountResult(what=what, table=table, fisher_p=p, estimand=estimand)


def patients_with_tte_event(
    adsl: pd.DataFrame,
    adtte: pd.DataFrame,
    paramcd: str = "AIDSDTH",
    *,
    by_week: float | None = None,
    by: str = "ARM",
    order: Sequence[str] | None = None,
) -> PatientCountResult:
    """Patients with the ADTTE event (CNSR = 0), e.g. AIDS-defining event or death (AIDSDTH)."""
    require_columns(adsl, ["USUBJID", by], "adsl")
    require_columns(adtte, ["USUBJID", "PARAMCD", "AVAL", "CNSR"], "adtte")
    ev = adtte[(adtte["PARAMCD"] == paramcd) & (adtte["CNSR"] == 0)]
    if by_week is not None:
        ev = ev[ev["AVAL"] <= by_week]
    when = f" by week {by_week:g}" if by_week is not None else " during follow-up"
    return _count(
        adsl,
        ev["USUBJID"],
        by=by,
        order=order,
        what=f"{paramcd}{when}",
        variable=f"{paramcd} event (ADTTE CNSR = 0){when}",
        strategy="events counted whatever treatment was received (treatment policy)",
    )


def patients_with_ae(
    adsl: pd.DataFrame,
    adae: pd.DataFrame,
    grades: Sequence[int] = GRADE_34,
    *,
    by: str = "ARM",
    order: Sequence[str] | None = None,
) -> PatientCountResult:
    """Patients with at least one adverse event of the given toxicity grades (default 3-4)."""
    require_columns(adsl, ["USUBJID", by], "adsl")
    require_columns(adae, ["USUBJID", "AETOXGR"], "adae")
    bad = ~adae["AETOXGR"].isin([1, 2, 3, 4, 5])
    if bad.any():
        raise AnalysisInputError(
            f"adae: column AETOXGR, row {adae.index[bad.to_numpy()][0]}: rule: grade 1-5"
        )
    sel = adae[adae["AETOXGR"].isin(list(grades))]
    label = "-".join(str(g) for g in (min(grades), max(grades))) if grades else "none"
    return _count(
        adsl,
        sel["USUBJID"],
        by=by,
        order=order,
        what=f"grade {label} adverse event",
        variable=f"at least one adverse event of grade {label} (ADAE AETOXGR)",
        strategy="all reported events, on or off study treatment (treatment policy)",
    )


@dataclass(frozen=True)
class AETableResult:
    """Patients by system organ class x worst grade x group (each patient once per SOC)."""

    table: pd.DataFrame
    """Long form: AEBODSYS, grade, group, patients, n, percent."""
    estimand: Estimand

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def wide(self) -> pd.DataFrame:
        """SOC rows; columns (group, grade) with "k (p%)" strings, for display."""
        t = self.table.assign(
            cell=lambda d: [
                f"{k} ({p:.0f}%)" for k, p in zip(d["patients"], d["percent"], strict=True)
            ]
        )
        return t.pivot_table(
            index="AEBODSYS", columns=["group", "grade"], values="cell", aggfunc="first"
        )


def ae_table(
    adsl: pd.DataFrame,
    adae: pd.DataFrame,
    *,
    by: str = "ARM",
    order: Sequence[str] | None = None,
) -> AETableResult:
    """Count each patient once per AEBODSYS at their worst AETOXGR; grades with zero are kept."""
    require_columns(adsl, ["USUBJID", by], "adsl")
    require_columns(adae, ["USUBJID", "AEBODSYS", "AETOXGR"], "adae")
    groups = group_order(adsl[by], order)
    unknown = set(adae["USUBJID"]) - set(adsl["USUBJID"])
    if unknown:
        raise AnalysisInputError(
            f"adae: column USUBJID: subject {sorted(unknown)[0]} not in ADSL; rule: ADAE subjects "
            "are randomized subjects"
        )
    worst = (
        adae.groupby(["USUBJID", "AEBODSYS"], as_index=False)["AETOXGR"]
        .max()
        .merge(adsl[["USUBJID", by]], on="USUBJID")
    )
    n_by = adsl[by].value_counts()
    socs = sorted(worst["AEBODSYS"].unique())
    grades = sorted(set(worst["AETOXGR"].astype(int)) | {1, 2, 3, 4})
    idx = pd.MultiIndex.from_product([socs, grades, groups], names=["AEBODSYS", "grade", "group"])
    counts = (
        worst.rename(columns={by: "group", "AETOXGR": "grade"})
        .groupby(["AEBODSYS", "grade", "group"])
        .size()
        .reindex(idx, fill_value=0)
        .rename("patients")
        .reset_index()
    )
    counts["n"] = counts["group"].map(n_by).astype(int)
    counts["percent"] = 100 * counts["patients"] / counts["n"]
    estimand = Estimand(
        population=f"randomized patients analyzed, {'by arm' if by == 'ARM' else f'by {by}'}",
        variable="adverse events by system organ class (ADAE AEBODSYS), worst grade per patient",
        intercurrent_event_strategy="all reported events (treatment policy)",
        summary_measure="number (%) of patients by SOC and worst grade",
    )
    return AETableResult(table=counts, estimand=estimand)


SIMILARITY_POWER = 0.80
"""Power at which the smallest detectable difference is stated."""


@dataclass(frozen=True)
class SimilarityResult:
    """Two arms' safety counts judged by the book's one rule for "similar"
    (:mod:`anrs119.analysis.similarity`), with what else a reader needs to weigh it.

    "Similar" is read as "no difference detected", never as shown similarity: the difference is
    reported with its interval and the largest difference the data do not exclude, beside the
    smallest difference a trial of these arm sizes would detect with ``power``.
    """

    what: str
    groups: tuple[str, str]
    similarity: Similarity
    risk_ratio: float
    """First over second; NaN where it is not defined (no patient with an event in an arm)."""
    rr_ci_low: float
    rr_ci_high: float
    """Katz log CI (NaN where the ratio is not defined)."""
    detectable_difference: float
    """Smallest increase over the second group's rate detected with ``power`` (proportion)."""
    power: float
    estimand: Estimand

    @property
    def patients(self) -> tuple[int, int]:
        return self.similarity.patients

    @property
    def n(self) -> tuple[int, int]:
        return self.similarity.n

    @property
    def risk_difference(self) -> float:
        """First group minus second, as a proportion."""
        return self.similarity.difference

    @property
    def rd_ci_low(self) -> float:
        return self.similarity.ci_low

    @property
    def rd_ci_high(self) -> float:
        return self.similarity.ci_high

    @property
    def alpha(self) -> float:
        return self.similarity.alpha

    @property
    def difference_detected(self) -> bool:
        """True when the interval of the risk difference excludes 0 (the one rule)."""
        return self.similarity.detected

    @property
    def largest_not_excluded(self) -> float:
        """The largest difference (signed proportion) the data do not exclude."""
        return self.similarity.largest_not_excluded

    def sentence(self) -> str:
        """The verdict in words (see :meth:`Similarity.sentence`)."""
        return self.similarity.sentence(self.groups)


def compare_incidence(
    result: PatientCountResult,
    alpha: float = SIMILARITY_ALPHA,
    power: float = SIMILARITY_POWER,
) -> SimilarityResult:
    """The one rule for "similar" on two groups' counts, with the risk ratio (Katz CI) and the
    smallest detectable difference."""
    t = result.table
    if len(t) != 2:
        raise AnalysisInputError(f"{len(t)} groups: rule: the comparison needs exactly two")
    k1, k2 = (int(v) for v in t["patients"])
    n1, n2 = (int(v) for v in t["n"])
    rule = compare_counts(k1, n1, k2, n2, alpha)
    rr = rr_low = rr_high = float("nan")
    if k1 > 0 and k2 > 0:
        rr = (k1 / n1) / (k2 / n2)
        se = float(np.sqrt(1 / k1 - 1 / n1 + 1 / k2 - 1 / n2))
        z = float(stats.norm.ppf(1 - alpha / 2))
        rr_low, rr_high = rr * float(np.exp(-z * se)), rr * float(np.exp(z * se))
    groups = (str(t["group"].iloc[0]), str(t["group"].iloc[1]))
    estimand = Estimand(
        population=result.estimand.population,
        variable=result.estimand.variable,
        intercurrent_event_strategy=result.estimand.intercurrent_event_strategy,
        summary_measure=f"risk difference {groups[0]} minus {groups[1]} with Newcombe "
        f"{1 - alpha:.0%} CI ('similar' read as no difference detected); risk ratio (Katz CI); "
        f"smallest increase detected with {power:.0%} power",
    )
    return SimilarityResult(
        what=result.what,
        groups=groups,
        similarity=rule,
        risk_ratio=float(rr),
        rr_ci_low=rr_low,
        rr_ci_high=rr_high,
        detectable_difference=minimal_detectable_difference(k2 / n2, n1, n2, alpha, power),
        power=power,
        estimand=estimand,
    )
