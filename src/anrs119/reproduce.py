"""Each published result recomputed from ADaM tables: the one map from a claim to its analysis.

Chapters, the scorecard and the tests all call these functions, so a number is computed one way
everywhere. The readings chosen where the abstract is ambiguous are named here, once, with the
reason; the chapters show the other readings beside them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from anrs119 import ARMS
from anrs119.analysis.endpoints import (
    ProportionsResult,
    TwoByTwoResult,
    compare_event_proportions,
    event_proportions,
)
from anrs119.analysis.estimands import Estimand
from anrs119.analysis.longitudinal import ChangeResult, Reading, change_from_baseline
from anrs119.analysis.safety import PatientCountResult, patients_with_ae, patients_with_tte_event
from anrs119.analysis.survival import (
    KaplanMeierResult,
    LogRankResult,
    kaplan_meier,
    logrank,
)
from anrs119.data import Dataset
from anrs119.design import TrialDesign, trial_design
from anrs119.paths import FORENSIC_DIR

# ---- the readings of the abstract used for the headline numbers (alternatives in the chapters)

PRIMARY_PROPORTION = "crude"
"""Week-96 percentages as events / patients randomized: the forensic chapter finds crude
proportions of 66 and 64 patients that reproduce the printed percentages and P value."""

CHANGE_READING: Reading = "off_art"
"""Median changes at week 96 among patients still off ART (values after ART would show the
drug's effect, not IL-2's); the best fit in the feasibility study (MODEL-NOTES)."""

WILCOXON_METHOD = "asymptotic"
"""Rank-sum P with normal approximation and continuity correction, as SAS and R print with ties."""

LOWVL_TEST = "logrank"
"""Week-150 subgroup percentages as Kaplan-Meier estimates (follow-up to week 150 is cut short
by the calendar for late entrants), compared by the log-rank test."""

DEFERRAL_QUANTILE = 0.25
"""The 92-week deferral as a difference in the 25th percentile of time to ART: with 64% of IL-2
patients free of the end point at week 150 the median is not reached (see the subgroup chapter)."""

SAFETY_WEEK = 96
"""Safety events counted through the primary analysis period."""

AIDS_EVENT = "AIDS-defining event"
DEATH_PARAM = "DEATH"


TEST_LABELS: dict[str, str] = {
    "chi2": "Pearson chi-square",
    "chi2_yates": "chi-square with Yates' correction",
    "fisher": "Fisher's exact",
}


def primary_test_label() -> str:
    """The matched test as prose names it."""
    return TEST_LABELS[primary_test_name()]


def primary_test_name() -> str:
    """The test the forensic chapter found to reproduce the printed primary P value."""
    allocation = json.loads((FORENSIC_DIR / "allocation.json").read_text(encoding="utf-8"))
    return str(allocation["test"])


@dataclass(frozen=True)
class Reproduction:
    """One claim's reproduced value (in the printed unit) and how it was obtained."""

    claim_id: str
    value: float
    detail: str
    estimand: Estimand


@dataclass(frozen=True)
class SubgroupResult:
    """The low-viral-load subgroup: who is in it, and its analyses."""

    adsl: pd.DataFrame
    km_primary: KaplanMeierResult
    logrank_primary: LogRankResult
    km_art: KaplanMeierResult


def _p_of(test: TwoByTwoResult, name: str) -> float:
    return {"chi2": test.chi2_p, "chi2_yates": test.chi2_yates_p, "fisher": test.fisher_p}[name]


def primary_week96(
    dataset: Dataset, design: TrialDesign
) -> tuple[ProportionsResult, TwoByTwoResult]:
    proportions = event_proportions(
        dataset.adsl,
        dataset.adtte,
        "PRIMARY",
        design.primary_week,
        intercurrent="composite: starting ART, an AIDS-defining event and death are events",
    )
    return proportions, compare_event_proportions(proportions)


def marker_change(dataset: Dataset, paramcd: str, week: int, reading: Reading) -> ChangeResult:
    return change_from_baseline(
        dataset.adsl,
        dataset.adlb,
        paramcd,
        week,
        reading=reading,
        wilcoxon_method=WILCOXON_METHOD,
    )


def follow_up_through(adtte: pd.DataFrame, week: float) -> pd.DataFrame:
    """Time-to-event rows with follow-up after ``week`` cut: later events and censorings become
    censorings at ``week`` (the paper reads its subgroup "through week 150")."""
    late = adtte["AVAL"] > week
    if not late.any():
        return adtte
    out = adtte.copy()
    out.loc[late, "AVAL"] = float(week)
    out.loc[late, "CNSR"] = 1
    return out


def low_viral_load(dataset: Dataset, design: TrialDesign) -> SubgroupResult:
    """Patients whose measured baseline viral load is below the cut-off, and their analyses,
    with follow-up cut at the subgroup week (nothing after it is read)."""
    adsl = dataset.adsl[dataset.adsl["BVLLOG"] < design.subgroup_vl_cutoff]
    adtte = follow_up_through(dataset.adtte, design.subgroup_week)
    strategy = "composite: starting ART, an AIDS-defining event and death are events"
    return SubgroupResult(
        adsl=adsl,
        km_primary=kaplan_meier(adsl, adtte, "PRIMARY", intercurrent=strategy),
        logrank_primary=logrank(adsl, adtte, "PRIMARY", intercurrent=strategy),
        km_art=kaplan_meier(
            adsl,
            adtte,
            "ARTINIT",
            intercurrent="death: censored (hypothetical); the composite's other components ignored",
        ),
    )


def aids_events(dataset: Dataset, week: int) -> PatientCountResult:
    """Patients with an AIDS-defining event: AIDSDTH events described as such (deaths aside)."""
    adtte = dataset.adtte
    is_aids = (adtte["PARAMCD"] == "AIDSDTH") & (adtte["EVNTDESC"] == AIDS_EVENT)
    return patients_with_tte_event(dataset.adsl, adtte[is_aids], "AIDSDTH", by_week=week)


def deaths(dataset: Dataset, week: int) -> PatientCountResult:
    """Patients who died (ADTTE PARAMCD DEATH, which also counts deaths after an AIDS event)."""
    if not (dataset.adtte["PARAMCD"] == DEATH_PARAM).any():
        raise ValueError(
            "adtte: column PARAMCD: rule: deaths are counted from PARAMCD 'DEATH' rows, and the "
            "dataset has none"
        )
    return patients_with_tte_event(dataset.adsl, dataset.adtte, DEATH_PARAM, by_week=week)


def grade34_events(dataset: Dataset, week: int) -> PatientCountResult:
    adae = dataset.adae[dataset.adae["ASTWK"] <= week]
    return patients_with_ae(dataset.adsl, adae)


class Reproducer:
    """Computes every result claim from one dataset; each analysis runs once and is kept."""

    def __init__(self, dataset: Dataset, design: TrialDesign | None = None) -> None:
        self.dataset = dataset
        self.design = trial_design() if design is None else design

    @cached_property
    def primary(self) -> tuple[ProportionsResult, TwoByTwoResult]:
        return primary_week96(self.dataset, self.design)

    @cached_property
    def cd4(self) -> ChangeResult:
        return marker_change(self.dataset, "CD4", self.design.primary_week, CHANGE_READING)

    @cached_property
    def vl(self) -> ChangeResult:
        return marker_change(self.dataset, "VLLOG", self.design.primary_week, CHANGE_READING)

    @cached_property
    def subgroup(self) -> SubgroupResult:
        return low_viral_load(self.dataset, self.design)

    @cached_property
    def safety(self) -> dict[str, PatientCountResult | Exception]:
        out: dict[str, PatientCountResult | Exception] = {}
        for key, function in (
            ("safety_aids_similar", aids_events),
            ("safety_death_similar", deaths),
            ("safety_grade34_similar", grade34_events),
        ):
            try:
                out[key] = function(self.dataset, SAFETY_WEEK)
            except ValueError as err:  # a real dataset may lack what a count needs
                out[key] = err
        return out

    def deferral(self, quantile: float = DEFERRAL_QUANTILE) -> tuple[float, dict[str, float]]:
        """IL-2 minus Control in the given quantile of time to ART (NaN if not reached)."""
        km = self.subgroup.km_art
        by_arm = {arm: km.quantile(arm, quantile)[0] for arm in ARMS}
        return by_arm[ARMS[0]] - by_arm[ARMS[1]], by_arm

    def all(self) -> dict[str, Reproduction]:
        """Every result claim of the registry, reproduced."""
        out: dict[str, Reproduction] = {}
        proportions, test = self.primary
        table = proportions.table.set_index("group")
        for arm, suffix in zip(ARMS, ("il2", "control"), strict=True):
            row = table.loc[arm]
            out[f"primary_w96_{suffix}"] = Reproduction(
                f"primary_w96_{suffix}",
                100 * float(row[PRIMARY_PROPORTION]),
                f"{int(row['events'])}/{int(row['n'])} ({PRIMARY_PROPORTION})",
                proportions.estimand,
            )
        name = primary_test_name()
        out["primary_w96_p"] = Reproduction(
            "primary_w96_p", _p_of(test, name), f"{TEST_LABELS[name]} test", test.estimand
        )
        for key, change in (("cd4_change_w96", self.cd4), ("vl_change_w96", self.vl)):
            medians = change.table.set_index("group")
            for arm, suffix in zip(ARMS, ("il2", "control"), strict=True):
                out[f"{key}_{suffix}"] = Reproduction(
                    f"{key}_{suffix}",
                    float(medians.at[arm, "median"]),
                    f"median of n = {int(medians.at[arm, 'n'])} ({CHANGE_READING})",
                    change.estimand,
                )
            out[f"{key}_p"] = Reproduction(
                f"{key}_p", change.wilcoxon_p, "Wilcoxon rank-sum test", change.estimand
            )
        sub = self.subgroup
        week = self.design.subgroup_week
        for arm, suffix in zip(ARMS, ("il2", "control"), strict=True):
            n = int((sub.adsl["ARM"] == arm).sum())
            out[f"lowvl_free_w150_{suffix}"] = Reproduction(
                f"lowvl_free_w150_{suffix}",
                100 * sub.km_primary.survival_at(arm, week)[0],
                f"Kaplan-Meier, n = {n}",
                sub.km_primary.estimand,
            )
        out["lowvl_free_w150_p"] = Reproduction(
            "lowvl_free_w150_p",
            sub.logrank_primary.p_value,
            "log-rank test",
            sub.logrank_primary.estimand,
        )
        difference, by_arm = self.deferral()
        label = f"{100 * DEFERRAL_QUANTILE:g}th percentile"
        out["lowvl_art_deferral"] = Reproduction(
            "lowvl_art_deferral",
            difference,
            f"{label} of time to ART: " + " vs ".join(f"{by_arm[a]:g}" for a in ARMS) + " weeks",
            sub.km_art.estimand,
        )
        for key, result in self.safety.items():
            if isinstance(result, Exception):
                out[key] = Reproduction(key, math.nan, str(result), _MISSING)
                continue
            counts = result.table.set_index("group")
            detail = " vs ".join(
                f"{int(counts.at[a, 'patients'])}/{int(counts.at[a, 'n'])}" for a in ARMS
            )
            out[key] = Reproduction(
                key, result.fisher_p, f"{detail}, Fisher exact test", result.estimand
            )
        return out


_MISSING = Estimand("not computed", "not computed", "not computed", "not computed")
