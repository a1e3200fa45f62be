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

import numpy as np
import pandas as pd

from anrs119 import ARMS
from anrs119.analysis.competing import READING_LABELS as COMPETING_READING_LABELS
from anrs119.analysis.competing import (
    CumulativeIncidenceResult,
    DeferralReading,
    art_competing_data,
    cumulative_incidence,
    deferral_readings,
    reading_values,
)
from anrs119.analysis.endpoints import (
    ProportionsResult,
    TwoByTwoResult,
    compare_event_proportions,
    event_proportions,
)
from anrs119.analysis.estimands import Estimand, IntercurrentEvent, SapEstimand
from anrs119.analysis.hypothetical import (
    HypotheticalChangeResult,
    MixedModelResult,
    ipcw_change,
    mixed_model_change,
)
from anrs119.analysis.longitudinal import ChangeResult, Reading, change_from_baseline
from anrs119.analysis.multiplicity import holm_sensitivity, reported_tests
from anrs119.analysis.safety import (
    PatientCountResult,
    compare_incidence,
    patients_with_ae,
    patients_with_tte_event,
)
from anrs119.analysis.similarity import CAVEAT_TEXT, RULE_TEXT
from anrs119.analysis.subgroups import InteractionResult, cox_interaction, prespecified_cut_points
from anrs119.analysis.survival import (
    KaplanMeierResult,
    LogRankResult,
    kaplan_meier,
    logrank,
)
from anrs119.data import Dataset
from anrs119.design import TrialDesign, trial_design
from anrs119.paths import FORENSIC_DIR
from anrs119.published import load_claims
from anrs119.seeds import BOOTSTRAP_SEED

# ---- the readings of the abstract used for the headline numbers (alternatives in the chapters)

PRIMARY_PROPORTION = "crude"
"""Week-96 percentages as events / patients randomized: the forensic chapter finds crude
proportions of 66 and 64 patients that reproduce the printed percentages and P value."""

CHANGE_READING: Reading = "off_art"
"""Median changes at week 96 among patients still off ART (values after ART would show the
drug's effect, not IL-2's); the best fit in the feasibility study (MODEL-NOTES)."""

READING_WORDS: dict[str, str] = {
    "observed": "all values",
    "off_art": "values off ART",
    "last_before_art": "last value before ART",
}
"""The readings of a change from baseline in words, for text a reader sees."""

WILCOXON_METHOD = "asymptotic"
"""Rank-sum P with normal approximation and continuity correction, as SAS and R print with ties."""

LOWVL_TEST = "logrank"
"""Week-150 subgroup percentages as Kaplan-Meier estimates (follow-up to week 150 is cut short
by the calendar for late entrants), compared by the log-rank test."""

DEFERRAL_QUANTILE = 0.25
"""The 92-week deferral as a difference in the 25th percentile of time to ART: with 64% of IL-2
patients free of the end point at week 150 the median is not reached (see the subgroup chapter)."""

KM_QUANTILE_READINGS: dict[str, float] = {"km_q25": 0.25, "km_median": 0.5}
"""Deferral readings that are Kaplan-Meier quantiles of the ADTTE time to ART."""

DEFERRAL_READING = "km_q25"
"""The deferral reading above by its key among the subgroup chapter's readings
(:data:`anrs119.analysis.competing.READING_LABELS`)."""

READING_CHOICES: dict[str, tuple[str, ...]] = {
    "proportion": ("crude", "km"),
    "change": ("observed", "off_art", "last_before_art"),
    "deferral": ("km_q25", "km_median", "km_rmst", "aj_q25", "aj_median", "aj_rmtl"),
}
"""The plausible readings of what the abstract leaves open, by what they read: the week-96
percentages (crude proportions with the forensic test, or Kaplan-Meier estimates with a log-rank
test through week 96), the marker changes (how ART is handled) and the deferral (which summary
of time to ART)."""

READING_LABELS: dict[str, dict[str, str]] = {
    "proportion": {
        "crude": "crude proportions of the randomized, the forensic test",
        "km": "Kaplan-Meier estimates at week 96, log-rank test through week 96",
    },
    "change": {
        "observed": "all week-96 values, on ART or not (treatment policy)",
        "off_art": "patients still off ART at week 96 (values after ART dropped)",
        "last_before_art": "last value before ART stands for week 96",
    },
    "deferral": dict(COMPETING_READING_LABELS),
}

DEFAULT_JUSTIFICATION: dict[str, str] = {
    "proportion": "crude proportions of two arm sizes print the percentages and the P value "
    "together (the forensic analysis of the printed numbers); no Kaplan-Meier reading was needed",
    "change": "the abstract compares IL-2 with no treatment, and values after ART would show the "
    "drug's effect rather than IL-2's; chosen before the reconstruction, from the feasibility "
    "study",
    "deferral": "most IL-2 patients of the subgroup are free of the end point at week 150 (the "
    "published percentage), so the median time to ART is not reached in that arm and a "
    "difference of medians cannot be the published deferral",
}
"""Why the book's default reading is the default (shown beside the per-reading verdicts)."""


@dataclass(frozen=True)
class Readings:
    """One reading of each thing the abstract leaves open (the book's defaults unless named)."""

    proportion: str = PRIMARY_PROPORTION
    change: Reading = CHANGE_READING
    deferral: str = DEFERRAL_READING

    def __post_init__(self) -> None:
        for dimension, choices in READING_CHOICES.items():
            if getattr(self, dimension) not in choices:
                raise ValueError(
                    f"reading {dimension}={getattr(self, dimension)!r}: rule: one of {choices}"
                )

    @property
    def is_default(self) -> bool:
        return self == DEFAULT_READINGS


DEFAULT_READINGS = Readings()

SAFETY_WEEK = 96
"""Safety events counted through the primary analysis period."""

DEFERRAL_RESAMPLES = 1000
"""Bootstrap resamples for the CIs of the deferral readings: enough for stable 2.5th and 97.5th
percentiles (25 replicates beyond each bound) while the subgroup chapter builds in seconds."""

IPCW_RESAMPLES = 400
"""Bootstrap resamples for the IPCW change at week 96. Each refits two pooled logistic models on
about 2,500 person-visits (about 25 ms); 400 keep the markers chapter within seconds, and the
percentile bounds then rest on 10 replicates beyond each: read them to a few cells/µL."""

MEDIAN_DIFFERENCE_RESAMPLES = 1000
"""Bootstrap resamples for the difference in medians of the unweighted change readings (each
resample is two medians: cheap, so the same number as for the deferral)."""

INTERACTION_ENDPOINT = "PRIMARY"
"""The forest plot and the interaction tests use time to the primary composite end point."""

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

    def __init__(
        self,
        dataset: Dataset,
        design: TrialDesign | None = None,
        readings: Readings = DEFAULT_READINGS,
    ) -> None:
        self.dataset = dataset
        self.design = trial_design() if design is None else design
        self.readings = readings

    @cached_property
    def primary(self) -> tuple[ProportionsResult, TwoByTwoResult]:
        return primary_week96(self.dataset, self.design)

    @cached_property
    def primary_logrank(self) -> LogRankResult:
        """Log-rank test of the composite through the primary week (the Kaplan-Meier reading)."""
        adtte = follow_up_through(self.dataset.adtte, self.design.primary_week)
        return logrank(
            self.dataset.adsl,
            adtte,
            "PRIMARY",
            intercurrent="composite: starting ART, an AIDS-defining event and death are events",
        )

    @cached_property
    def cd4(self) -> ChangeResult:
        week = self.design.primary_week
        return marker_change(self.dataset, "CD4", week, self.readings.change)

    @cached_property
    def vl(self) -> ChangeResult:
        week = self.design.primary_week
        return marker_change(self.dataset, "VLLOG", week, self.readings.change)

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

    def deferral_reading(self) -> tuple[float, dict[str, float]]:
        """IL-2 minus Control under the deferral reading in use: a Kaplan-Meier quantile of the
        subgroup's ADTTE time to ART (as :meth:`deferral`), or another summary of the competing
        risks data (not reached: inf, and inf minus inf is NaN)."""
        key = self.readings.deferral
        if key in KM_QUANTILE_READINGS:
            return self.deferral(KM_QUANTILE_READINGS[key])
        values = reading_values(self.art_competing_arms, self.design.subgroup_week)[key]
        by_arm = dict(zip(ARMS, values, strict=True))
        a, b = values
        return (math.nan if math.isinf(a) and math.isinf(b) else a - b), by_arm

    @cached_property
    def art_competing_arms(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(time, cause) arrays of the subgroup's time to ART, per arm in the order of ARMS."""
        data = self.art_competing
        return [
            (
                data.loc[data["group"] == arm, "time"].to_numpy(dtype=float),
                data.loc[data["group"] == arm, "cause"].to_numpy(dtype=int),
            )
            for arm in ARMS
        ]

    # ---- methods readings (subgroups, multiplicity, estimands, competing risks)

    @cached_property
    def art_competing(self) -> pd.DataFrame:
        """Low-VL subgroup: time to ART with death competing, truncated at the subgroup week."""
        return art_competing_data(self.subgroup.adsl, self.dataset.adtte, self.design.subgroup_week)

    @cached_property
    def art_incidence(self) -> CumulativeIncidenceResult:
        return cumulative_incidence(self.art_competing, self.design.subgroup_week)

    @cached_property
    def deferral_bootstrap(self) -> list[DeferralReading]:
        """Every reading of the deferral, follow-up cut at the subgroup week, with bootstrap CIs."""
        return deferral_readings(
            self.art_competing,
            self.design.subgroup_week,
            resamples=DEFERRAL_RESAMPLES,
            seed=BOOTSTRAP_SEED,
        )

    @cached_property
    def cd4_hypothetical(self) -> HypotheticalChangeResult:
        """Week-96 CD4 change had no one started ART (IPCW for ART start)."""
        d = self.dataset
        return ipcw_change(
            d.adsl,
            d.adlb,
            d.adtte,
            "CD4",
            self.design.primary_week,
            resamples=IPCW_RESAMPLES,
            seed=BOOTSTRAP_SEED,
        )

    @cached_property
    def cd4_mixed_model(self) -> MixedModelResult:
        """Week-96 mean CD4 change had no one started ART (mixed model of pre-ART values)."""
        d = self.dataset
        return mixed_model_change(d.adsl, d.adlb, "CD4", self.design.primary_week)

    @cached_property
    def interactions(self) -> list[InteractionResult | Exception]:
        """Treatment x subgroup interaction at the pre-specified cut points (primary end point)."""
        out: list[InteractionResult | Exception] = []
        for cut in prespecified_cut_points(self.design.subgroup_vl_cutoff):
            try:
                d = self.dataset
                out.append(cox_interaction(d.adsl, d.adtte, INTERACTION_ENDPOINT, cut))
            except ValueError as err:  # a level without events or without one arm
                out.append(err)
        return out

    def multiplicity(self) -> pd.DataFrame:
        """The abstract's tests, Holm-adjusted: published P (as bounds) and reproduced P."""
        reproduced = {key: r.value for key, r in self.all().items()}
        return holm_sensitivity(reported_tests(load_claims().reset_index()), reproduced)

    def sap(self) -> list[SapEstimand]:
        """The estimand of every result claim, SAP-style, from the readings named above."""
        return sap_estimands(self)

    def all(self) -> dict[str, Reproduction]:
        """Every result claim of the registry, reproduced."""
        out: dict[str, Reproduction] = {}
        proportions, test = self.primary
        table = proportions.table.set_index("group")
        proportion = self.readings.proportion
        for arm, suffix in zip(ARMS, ("il2", "control"), strict=True):
            row = table.loc[arm]
            out[f"primary_w96_{suffix}"] = Reproduction(
                f"primary_w96_{suffix}",
                100 * float(row[proportion]),
                f"{int(row['events'])}/{int(row['n'])} ({proportion})"
                if proportion == "crude"
                else f"Kaplan-Meier, n = {int(row['n'])}",
                proportions.estimand,
            )
        if proportion == "crude":
            name = primary_test_name()
            out["primary_w96_p"] = Reproduction(
                "primary_w96_p", _p_of(test, name), f"{TEST_LABELS[name]} test", test.estimand
            )
        else:
            lr = self.primary_logrank
            out["primary_w96_p"] = Reproduction(
                "primary_w96_p", lr.p_value, "log-rank test through week 96", lr.estimand
            )
        for key, change in (("cd4_change_w96", self.cd4), ("vl_change_w96", self.vl)):
            medians = change.table.set_index("group")
            for arm, suffix in zip(ARMS, ("il2", "control"), strict=True):
                out[f"{key}_{suffix}"] = Reproduction(
                    f"{key}_{suffix}",
                    float(medians.at[arm, "median"]),
                    f"median of {int(medians.at[arm, 'n'])} patients, "
                    f"{READING_WORDS[self.readings.change]}",
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
        difference, by_arm = self.deferral_reading()
        label = COMPETING_READING_LABELS[self.readings.deferral]
        out["lowvl_art_deferral"] = Reproduction(
            "lowvl_art_deferral",
            difference,
            f"{label}: " + " vs ".join(f"{by_arm[a]:g}" for a in ARMS) + " weeks",
            sub.km_art.estimand,
        )
        for key, result in self.safety.items():
            if isinstance(result, Exception):
                out[key] = Reproduction(key, math.nan, str(result), _MISSING)
                continue
            # the value is Fisher's P (the multiplicity table needs a P for each reported test);
            # the verdict uses the one rule for "similar" (anrs119.analysis.similarity)
            rule = compare_incidence(result)
            out[key] = Reproduction(
                key,
                result.fisher_p,
                f"{rule.similarity.counts_text()}; difference with its {1 - rule.alpha:.0%} "
                "Newcombe interval",
                result.estimand,
            )
        return out


_MISSING = Estimand("not computed", "not computed", "not computed", "not computed")


CHANGE_STRATEGIES: dict[str, IntercurrentEvent] = {
    "observed": IntercurrentEvent(
        "ART initiation", "treatment policy", "values on ART are used as measured"
    ),
    "off_art": IntercurrentEvent(
        "ART initiation",
        "hypothetical: naive",
        "values after ART start are dropped and the analysis keeps the patients still off ART, "
        "which conditions on a post-randomization variable that IL-2 affects",
    ),
    "last_before_art": IntercurrentEvent(
        "ART initiation",
        "while on treatment: last value before ART",
        "the last value before ART (possibly the baseline) stands for the visit",
    ),
}
"""How each reading of the marker changes handles ART (ICH E9(R1) names)."""


def _n_text(adsl: pd.DataFrame) -> str:
    counts = adsl["ARM"].value_counts()
    return ", ".join(f"{arm} n={int(counts.get(arm, 0))}" for arm in ARMS)


def sap_estimands(reproducer: Reproducer) -> list[SapEstimand]:
    """One SAP row per result claim (the registry's ``claim`` groups), in the registry's order."""
    design = reproducer.design
    adsl = reproducer.dataset.adsl
    all_n = _n_text(adsl)
    low_n = _n_text(reproducer.subgroup.adsl)
    cut = f"{design.subgroup_vl_cutoff:g}"
    week, sub_week = design.primary_week, design.subgroup_week
    composite = IntercurrentEvent(
        "ART initiation, AIDS-defining event, death",
        "composite",
        "each is a component of the end point",
    )
    death_while_alive = IntercurrentEvent(
        "death", "while on treatment: while alive", "a patient who died has no value: left out"
    )
    readings = reproducer.readings
    change = CHANGE_STRATEGIES[readings.change]
    change_missing = (
        f"no off-ART value at week {week} (on ART, missed visit, follow-up ended): left out "
        "(complete case)"
        if readings.change == "off_art"
        else f"no value at week {week}: left out (complete case)"
    )
    crude = readings.proportion == "crude"
    safety_policy = IntercurrentEvent(
        "ART initiation", "treatment policy", "events are counted whether on ART or not"
    )
    safety_missing = (
        f"patients followed less than {SAFETY_WEEK} weeks count as event-free (crude count over "
        "the randomized)"
    )
    return [
        SapEstimand(
            claim="primary_w96",
            label=f"Primary end point through week {week}",
            population=f"all randomized ({all_n})",
            variable=f"first of CD4 < {design.endpoint_cd4_threshold:g} cells/µL, ART initiation, "
            f"AIDS-defining event or death, by week {week}",
            intercurrent=(composite,),
            missing_data=(
                f"event-free patients whose follow-up ended before week {week} count as "
                "event-free (crude proportion over the randomized)"
                if crude
                else "Kaplan-Meier: censored at the end of follow-up (independent censoring)"
            ),
            summary_measure=f"proportion with the end point by arm ({readings.proportion})",
            test=primary_test_label() if crude else "log-rank through week 96",
        ),
        *[
            SapEstimand(
                claim=f"{key}_change_w96",
                label=f"{label} change from baseline at week {week}",
                population=f"randomized patients with an analysable week-{week} value ({all_n} "
                "randomized)",
                variable=f"{label} at week {week} minus baseline",
                intercurrent=(change, death_while_alive),
                missing_data=change_missing,
                summary_measure="median change by arm",
                test=f"Wilcoxon rank-sum ({WILCOXON_METHOD}, continuity corrected)",
            )
            for key, label in (("cd4", "CD4 count"), ("vl", "plasma HIV RNA (log10)"))
        ],
        SapEstimand(
            claim="lowvl_free_w150",
            label=f"Low viral load: free of the primary end point through week {sub_week}",
            population=f"subgroup with baseline viral load < {cut} log10 copies/mL ({low_n})",
            variable=f"time to the primary composite end point, read at week {sub_week}",
            intercurrent=(composite,),
            missing_data="censored at the end of follow-up (Kaplan-Meier; independent censoring, "
            "late entrants contribute until their data cut-off)",
            summary_measure=f"Kaplan-Meier proportion free of the end point at week {sub_week}",
            test="log-rank" if LOWVL_TEST == "logrank" else LOWVL_TEST,
        ),
        SapEstimand(
            claim="lowvl_art_deferral",
            label="Low viral load: deferral of ART initiation",
            population=f"subgroup with baseline viral load < {cut} log10 copies/mL ({low_n})",
            variable=f"time to ART initiation, follow-up up to week {sub_week}",
            intercurrent=(
                IntercurrentEvent(
                    "death before ART",
                    "hypothetical",
                    "censored, as if death could not happen (Kaplan-Meier); the Aalen-Johansen "
                    "reading treats it as a competing event instead",
                ),
                IntercurrentEvent(
                    "CD4 < 300, AIDS-defining event",
                    "treatment policy",
                    "ignored: time to ART is followed whatever came first",
                ),
            ),
            missing_data="censored at the end of follow-up or at week "
            f"{sub_week}, whichever comes first",
            summary_measure=f"difference in the {100 * DEFERRAL_QUANTILE:g}th percentile of time "
            "to ART (IL-2 minus Control)"
            if readings.deferral == DEFERRAL_READING
            else f"difference (IL-2 minus Control): {COMPETING_READING_LABELS[readings.deferral]}",
            test="none reported (percentile bootstrap CI in this book)",
        ),
        *[
            SapEstimand(
                claim=key,
                label=f"{label} through week {SAFETY_WEEK}",
                population=f"all randomized ({all_n})",
                variable=f"at least one {label.lower()} by week {SAFETY_WEEK}",
                intercurrent=(safety_policy,),
                missing_data=safety_missing,
                summary_measure="patients with the event by arm; difference (IL-2 minus Control) "
                "with its 95% Newcombe interval",
                test=f'none; "similar" read as {RULE_TEXT} ({CAVEAT_TEXT})',
            )
            for key, label in (
                ("safety_aids_similar", "AIDS-defining event"),
                ("safety_death_similar", "Death"),
                ("safety_grade34_similar", "Grade 3 or 4 adverse event"),
            )
        ],
    ]
