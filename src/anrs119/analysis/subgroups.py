"""Treatment-by-subgroup interaction in a Cox model (Wald and likelihood-ratio), at set cut points.

A subgroup's own hazard ratio says little about effect modification: the interaction test asks
whether the hazard ratios of the two levels differ. Cut points are fixed before looking at the
outcome (the paper's 4.5 log10 split, guideline or round values), each with its provenance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from scipy import stats

from anrs119 import ARMS
from anrs119.analysis._common import AnalysisInputError, require_columns, time_to_event
from anrs119.analysis.estimands import Estimand, endpoint_name

Provenance = Literal["published", "guideline", "assumed", "data (median)"]


@dataclass(frozen=True)
class CutPoint:
    """A binary split of one baseline variable, fixed before the outcome is looked at."""

    family: str
    column: str
    cut: float | str
    """A number (``column < cut`` is the first level) or, for a category, the first level."""
    labels: tuple[str, str]
    provenance: Provenance
    reason: str

    def mask(self, adsl: pd.DataFrame) -> pd.Series:
        """True for the first level (below the cut, or equal to the category)."""
        require_columns(adsl, [self.column], "adsl")
        values = adsl[self.column]
        if values.isna().any():
            row = values.index[values.isna().to_numpy()][0]
            raise AnalysisInputError(
                f"adsl: column {self.column}, row {row}: rule: a subgroup variable must be present"
            )
        if isinstance(self.cut, str):
            return values == self.cut
        return values < self.cut


@dataclass(frozen=True)
class InteractionResult:
    """Cox model with treatment, subgroup level and their product; HR within each level."""

    cut: CutPoint
    n: tuple[int, int]
    """Patients in the first and second level."""
    events: tuple[int, int]
    hazard_ratios: tuple[float, float]
    ci: tuple[tuple[float, float], tuple[float, float]]
    ratio_of_hazard_ratios: float
    """HR in the second level divided by HR in the first (exp of the interaction coefficient)."""
    wald_p: float
    lr_statistic: float
    lr_p: float
    estimand: Estimand

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for i, label in enumerate(self.cut.labels):
            rows.append(
                {
                    "family": self.cut.family,
                    "level": label,
                    "n": self.n[i],
                    "events": self.events[i],
                    "hazard_ratio": self.hazard_ratios[i],
                    "ci_low": self.ci[i][0],
                    "ci_high": self.ci[i][1],
                    "interaction_wald_p": self.wald_p,
                    "interaction_lr_p": self.lr_p,
                }
            )
        return pd.DataFrame(rows)


_FIT_OPTIONS = {"precision": 1e-12, "r_precision": 1e-14}


def _fit(data: pd.DataFrame, columns: list[str], stratify: bool) -> CoxPHFitter:
    # Stratified by the level, each level keeps its own baseline hazard; otherwise the level
    # enters as a main effect with a common baseline hazard.
    if stratify:
        return CoxPHFitter(strata=["level"]).fit(
            data[[*columns, "level", "time", "event"]],
            duration_col="time",
            event_col="event",
            fit_options=_FIT_OPTIONS,
        )
    return CoxPHFitter().fit(
        data[[*columns, "level", "time", "event"]],
        duration_col="time",
        event_col="event",
        fit_options=_FIT_OPTIONS,
    )


def design_matrix(
    adsl: pd.DataFrame, adtte: pd.DataFrame, paramcd: str, cut: CutPoint
) -> pd.DataFrame:
    """time, event, trt (1 = IL-2), level (1 = second level) and trt_x_level, one row a subject."""
    df = time_to_event(adsl, adtte, paramcd)
    unknown = sorted(set(df["group"]) - set(ARMS))
    if unknown:
        raise AnalysisInputError(f"adsl: column ARM: values {unknown}: rule: one of {list(ARMS)}")
    first = cut.mask(adsl).to_numpy()
    trt = (df["group"] == ARMS[0]).to_numpy(dtype=float)
    level = (~first).astype(float)
    return pd.DataFrame(
        {
            "time": df["time"].to_numpy(),
            "event": df["event"].to_numpy(),
            "trt": trt,
            "level": level,
            "trt_x_level": trt * level,
        }
    )


def cox_interaction(
    adsl: pd.DataFrame,
    adtte: pd.DataFrame,
    paramcd: str,
    cut: CutPoint,
    *,
    alpha: float = 0.05,
    stratify: bool = True,
    intercurrent: str = "as coded in ADTTE for this PARAMCD",
) -> InteractionResult:
    """Treatment x subgroup interaction (Efron ties): Wald P of the product, and the LR test.

    Model: a Cox model stratified by the level (each level its own baseline hazard) with
    log HR = b1 trt + b3 trt*level. The partial likelihood is then the product of the two
    levels' own, so the HR in each level (exp(b1), exp(b1 + b3)) equals that of a Cox model
    fitted to the level alone, as the forest plot shows it, and the Wald test of b3 compares the
    two. The likelihood-ratio test compares this model with the one without the product (1 df).
    With ``stratify=False`` the level is a main effect under one common baseline hazard (the
    within-level HRs then differ slightly from separate fits).
    """
    data = design_matrix(adsl, adtte, paramcd, cut)
    for name, m in (("first", data["level"] == 0), ("second", data["level"] == 1)):
        arms = data.loc[m, "trt"]
        if arms.nunique() < 2 or data.loc[m, "event"].sum() == 0:
            raise AnalysisInputError(
                f"adsl: column {cut.column}: the {name} level of the {cut.family} split has "
                "patients of one arm only or no event; rule: both arms and an event in each level"
            )
    full = _fit(data, ["trt", "trt_x_level"], stratify)
    reduced = _fit(data, ["trt"], stratify)
    b = full.params_
    v = full.variance_matrix_
    z = float(stats.norm.ppf(1 - alpha / 2))
    se1 = float(np.sqrt(v.loc["trt", "trt"]))
    var2 = v.loc["trt", "trt"] + v.loc["trt_x_level", "trt_x_level"]
    se2 = float(np.sqrt(var2 + 2 * v.loc["trt", "trt_x_level"]))
    log_hr = (float(b["trt"]), float(b["trt"] + b["trt_x_level"]))
    ci = tuple(
        (float(np.exp(lh - z * se)), float(np.exp(lh + z * se)))
        for lh, se in zip(log_hr, (se1, se2), strict=True)
    )
    b3, se3 = float(b["trt_x_level"]), float(full.standard_errors_["trt_x_level"])
    lr = float(2 * (full.log_likelihood_ - reduced.log_likelihood_))
    lr = max(lr, 0.0)  # a tiny negative value is rounding, not evidence
    level = data["level"].to_numpy()
    estimand = Estimand(
        population=f"all randomized patients, split by {cut.family} "
        f"({cut.labels[0]} / {cut.labels[1]})",
        variable=f"time to {endpoint_name(paramcd)}, in weeks",
        intercurrent_event_strategy=intercurrent,
        summary_measure="Cox hazard ratio IL-2 vs Control within each level; ratio of hazard "
        "ratios; Wald and likelihood-ratio tests of the treatment x subgroup product term",
    )
    return InteractionResult(
        cut=cut,
        n=(int((level == 0).sum()), int((level == 1).sum())),
        events=(
            int(data.loc[level == 0, "event"].sum()),
            int(data.loc[level == 1, "event"].sum()),
        ),
        hazard_ratios=(float(np.exp(log_hr[0])), float(np.exp(log_hr[1]))),
        ci=ci,  # type: ignore[arg-type]
        ratio_of_hazard_ratios=float(np.exp(b3)),
        wald_p=float(2 * stats.norm.sf(abs(b3 / se3))),
        lr_statistic=lr,
        lr_p=float(stats.chi2.sf(lr, 1)),
        estimand=estimand,
    )


def prespecified_cut_points(vl_cutoff: float) -> tuple[CutPoint, ...]:
    """The book's cut points, fixed without looking at the outcome, each with its reason."""
    return (
        CutPoint(
            "Baseline viral load",
            "BVLLOG",
            vl_cutoff,
            (f"< {vl_cutoff:g} log10", f">= {vl_cutoff:g} log10"),
            "published",
            "the split of the abstract's subgroup claim",
        ),
        CutPoint(
            "Baseline CD4",
            "BCD4",
            350.0,
            ("< 350 cells/µL", ">= 350 cells/µL"),
            "guideline",
            "the CD4 count below which the 2008 guidelines recommended treating asymptomatic "
            "patients (Hammer et al., JAMA 2008; unverified: the guideline's text was not read)",
        ),
        CutPoint(
            "Age",
            "AGE",
            40.0,
            ("< 40 years", ">= 40 years"),
            "assumed",
            "a round, conventional split; the model has no age effect, so any difference is noise",
        ),
        CutPoint("Sex", "SEX", "M", ("Men", "Women"), "published", "the recorded sex (ADSL SEX)"),
    )


def median_cut_points(adsl: pd.DataFrame) -> tuple[CutPoint, ...]:
    """Secondary view: CD4 and age split at the medians of the data in use (data-driven)."""
    require_columns(adsl, ["BCD4", "AGE"], "adsl")
    out = []
    for family, column, unit in (("Baseline CD4", "BCD4", "cells/µL"), ("Age", "AGE", "years")):
        m = float(adsl[column].median())
        out.append(
            CutPoint(
                f"{family} (median split)",
                column,
                m,
                (f"< {m:.0f} {unit}", f">= {m:.0f} {unit}"),
                "data (median)",
                "the median of the data in use: a data-driven split, shown as a secondary view",
            )
        )
    return tuple(out)


def interaction_table(
    adsl: pd.DataFrame,
    adtte: pd.DataFrame,
    paramcd: str,
    cuts: tuple[CutPoint, ...],
    fit: Callable[..., InteractionResult] = cox_interaction,
) -> list[InteractionResult | AnalysisInputError]:
    """One interaction analysis per cut point; a split that cannot be fitted keeps its reason."""
    out: list[InteractionResult | AnalysisInputError] = []
    for cut in cuts:
        try:
            out.append(fit(adsl, adtte, paramcd, cut))
        except AnalysisInputError as err:  # e.g. a level without events on another dataset
            out.append(err)
    return out
