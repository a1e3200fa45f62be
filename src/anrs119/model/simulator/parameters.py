"""Every parameter of the synthetic-trial model, each with its value, unit and provenance.

Design facts are read from the claims registry (``anrs119.published``) and the forensic
allocation file, never re-typed; calibrated values are read from ``data/model/calibration.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import pandas as pd

from anrs119 import ARMS
from anrs119.paths import FORENSIC_DIR, MODEL_DIR

Provenance = Literal["published", "registry", "literature", "assumed", "calibrated"]
PROVENANCES: tuple[str, ...] = ("published", "registry", "literature", "assumed", "calibrated")

ALLOCATION_FILE: Path = FORENSIC_DIR / "allocation.json"
CALIBRATION_FILE: Path = MODEL_DIR / "calibration.json"


class ModelInputError(RuntimeError):
    """A model input file is missing or malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class Parameter:
    """One model input: value, unit, where it comes from and (if calibrated) its search bounds."""

    name: str
    value: float
    unit: str
    provenance: Provenance
    source: str
    description: str
    bounds: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.provenance not in PROVENANCES:
            raise ValueError(f"parameter {self.name}: provenance {self.provenance!r} unknown")
        if self.provenance == "calibrated" and self.bounds is None:
            raise ValueError(f"parameter {self.name}: calibrated parameters need bounds")
        if not self.source.strip():
            raise ValueError(f"parameter {self.name}: empty source")


@dataclass(frozen=True)
class ParameterSet:
    """An ordered collection of parameters with dict-like access to their values."""

    parameters: tuple[Parameter, ...]

    def __getitem__(self, name: str) -> float:
        return self.get(name).value

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def get(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(f"model parameter {name!r} does not exist")

    def values(self) -> dict[str, float]:
        return {p.name: float(p.value) for p in self.parameters}

    def calibrated(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.provenance == "calibrated")

    def with_values(self, **values: float) -> ParameterSet:
        """A copy with some values replaced (unknown names raise KeyError)."""
        names = {p.name for p in self.parameters}
        unknown = set(values) - names
        if unknown:
            raise KeyError(f"model parameters {sorted(unknown)} do not exist")
        return ParameterSet(
            tuple(
                replace(p, value=float(values[p.name])) if p.name in values else p
                for p in self.parameters
            )
        )

    def to_frame(self) -> pd.DataFrame:
        """The provenance table of the model chapter, one row per parameter."""
        rows = [
            {
                "parameter": p.name,
                "description": p.description,
                "value": p.value,
                "unit": p.unit,
                "provenance": p.provenance,
                "source": p.source,
                "bounds": "" if p.bounds is None else f"[{p.bounds[0]:g}, {p.bounds[1]:g}]",
            }
            for p in self.parameters
        ]
        return pd.DataFrame(rows)


def read_allocation(path: Path = ALLOCATION_FILE) -> dict[str, int]:
    """Arm sizes from the forensic allocation file (written by ``python -m anrs119 forensic``)."""
    if not path.exists():
        raise ModelInputError(
            f"{path}: file missing; rule: the model takes the arm sizes from the forensic "
            "allocation; run `python -m anrs119 forensic` first"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        sizes = {arm: int(data["n_by_arm"][arm]) for arm in ("IL-2", "Control")}
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelInputError(
            f"{path}: key n_by_arm: rule: an object with integer entries 'IL-2' and 'Control'"
        ) from exc
    if min(sizes.values()) <= 0:
        raise ModelInputError(f"{path}: key n_by_arm: rule: arm sizes must be positive")
    return sizes


def _months_between(start_yyyymm: float, end_yyyymm: float) -> int:
    s, e = int(start_yyyymm), int(end_yyyymm)
    return (e // 100 - s // 100) * 12 + (e % 100 - s % 100)


WEEKS_PER_MONTH: float = 365.25 / 12 / 7

COHERE_VL_SLOPE: float = 37.6
"""Extra CD4 decline (cells/uL per year) per +1 log10 viral load in 34,384 ART-naive patients
(COHERE, Nakagawa AIDS 2014;28:1351): the literature value the calibrated gradient is set
against in the model chapter."""


def design_parameters(sizes: Mapping[str, int] | None = None) -> tuple[Parameter, ...]:
    """Design facts: from the claims registry (published paper S1, registry S2) and forensics.

    ``sizes`` overrides the forensic arm sizes (used only by tests of the simulator itself).
    """
    from anrs119.published import claim_value

    sizes = dict(sizes) if sizes is not None else read_allocation()
    months = _months_between(claim_value("study_start"), claim_value("primary_completion"))
    span = months * WEEKS_PER_MONTH
    primary_week = claim_value("primary_timepoint_weeks")
    alloc_src = "forensic allocation (data/forensic/allocation.json) from the printed results"
    return (
        Parameter("n_il2", sizes["IL-2"], "patients", "published", alloc_src, "IL-2 arm size"),
        Parameter(
            "n_control", sizes["Control"], "patients", "published", alloc_src, "control arm size"
        ),
        Parameter(
            "cd4_lower",
            claim_value("cd4_eligibility_lower"),
            "cells/uL",
            "published",
            "claims: cd4_eligibility_lower",
            "eligibility window, lower limit (screening count)",
        ),
        Parameter(
            "cd4_upper",
            claim_value("cd4_eligibility_upper"),
            "cells/uL",
            "published",
            "claims: cd4_eligibility_upper",
            "eligibility window, upper limit (screening count)",
        ),
        Parameter(
            "cd4_threshold",
            claim_value("endpoint_cd4_threshold"),
            "cells/uL",
            "published",
            "claims: endpoint_cd4_threshold",
            "CD4 threshold of the composite end point",
        ),
        Parameter(
            "vl_cutoff",
            claim_value("subgroup_vl_cutoff"),
            "log10 copies/mL",
            "published",
            "claims: subgroup_vl_cutoff",
            "measured baseline viral load defining the subgroup",
        ),
        Parameter(
            "primary_week",
            primary_week,
            "weeks",
            "published",
            "claims: primary_timepoint_weeks",
            "time point of the primary analysis",
        ),
        Parameter(
            "subgroup_week",
            claim_value("subgroup_timepoint_weeks"),
            "weeks",
            "published",
            "claims: subgroup_timepoint_weeks",
            "time point of the subgroup analysis (end of extended follow-up)",
        ),
        Parameter(
            "il2_first_week",
            claim_value("il2_first_cycle_week"),
            "weeks",
            "registry",
            "claims: il2_first_cycle_week (NCT00120185)",
            "week of the first IL-2 cycle",
        ),
        Parameter(
            "il2_interval",
            claim_value("il2_cycle_interval_weeks"),
            "weeks",
            "registry",
            "claims: il2_cycle_interval_weeks (NCT00120185)",
            "interval between the first three cycles",
        ),
        Parameter(
            "il2_fixed_cycles",
            claim_value("il2_fixed_schedule_cycles"),
            "cycles",
            "registry",
            "claims: il2_fixed_schedule_cycles (NCT00120185)",
            "cycles on the fixed 8-week schedule",
        ),
        Parameter(
            "il2_max_cycles",
            claim_value("il2_max_cycles"),
            "cycles",
            "registry",
            "claims: il2_max_cycles (NCT00120185)",
            "IL-2 cycles at most",
        ),
        Parameter(
            "il2_last_week",
            claim_value("il2_last_cycle_week"),
            "weeks",
            "registry",
            "claims: il2_last_cycle_week (NCT00120185)",
            "last week in which a cycle may be given",
        ),
        Parameter(
            "entry_window",
            span - primary_week,
            "weeks",
            "registry",
            "claims: study_start to primary_completion minus the week-96 follow-up "
            "(the last patient's week-96 visit closes the primary analysis)",
            "length of the (uniform) enrolment period",
        ),
        Parameter(
            "calendar_span",
            span,
            "weeks",
            "registry",
            "claims: study_start to primary_completion (NCT00120185)",
            "weeks from first enrolment to primary completion",
        ),
    )


def model_parameters() -> tuple[Parameter, ...]:
    """Non-design inputs: literature, assumptions and calibrated parameters (starting values)."""
    cal = "calibrated"
    return (
        # --- baseline
        Parameter(
            "cd4_pop_median",
            500.0,
            "cells/uL",
            "calibrated",
            "fitted to the timing claims (primary_w96_* vs lowvl_free_w150_*); baseline CD4 "
            "distribution not published",
            "median true CD4 of screened candidates",
            (330.0, 650.0),
        ),
        Parameter(
            "cd4_pop_sdlog",
            0.30,
            "log",
            "calibrated",
            "fitted to the timing claims (primary_w96_* vs lowvl_free_w150_*); baseline CD4 "
            "distribution not published",
            "between-person SD of log true CD4 among screened candidates",
            (0.08, 0.6),
        ),
        Parameter(
            "cd4_noise_sdlog",
            0.18,
            "log",
            "calibrated",
            "fitted within the literature range of within-person CV 12-25% (Hughes JID "
            "1994;169:28, Raboud JID 1996;174:191, Malone JAIDS 1990;3:144) to the primary claims",
            "visit-to-visit CD4 measurement and biological noise (log scale)",
            (0.12, 0.25),
        ),
        Parameter(
            "vl_mean",
            4.1,
            "log10 copies/mL",
            "calibrated",
            "free parameter (prior: median 4.1 at CD4 351-500, Kitahata NEJM 2009;360:1815); "
            "fitted to the subgroup sizes and subgroup claims",
            "mean true baseline viral load",
            (3.3, 4.9),
        ),
        Parameter(
            "vl_sd",
            0.9,
            "log10 copies/mL",
            "literature",
            "IQR 3.4-4.6 in Kitahata NEJM 2009;360:1815",
            "between-person SD of baseline viral load",
        ),
        Parameter(
            "vl_noise_sd",
            0.25,
            "log10 copies/mL",
            "literature",
            "within-person SD 0.31 (2/3 biological), Bartlett JID 1998;178:1803",
            "viral-load measurement noise (baseline and visits)",
        ),
        Parameter(
            "age_mean", 37.0, "years", "assumed", "typical of French cohorts 2003-2004", "mean age"
        ),
        Parameter("age_sd", 9.0, "years", "assumed", "adult trial, range 18-70", "SD of age"),
        Parameter(
            "male_fraction",
            0.75,
            "fraction",
            "assumed",
            "men were most French ART-naive patients 2003-2004; not reported",
            "proportion of men",
        ),
        # --- CD4 without IL-2
        Parameter(
            "cd4_slope_mean",
            60.0,
            "cells/uL per year",
            cal,
            "fitted to primary_w96_control, cd4_change_w96_control, lowvl_free_w150_control "
            "(prior: ~60/yr, CASCADE, Lodi AIDS 2010;24:2697)",
            "mean CD4 decline at true VL 4.0 log10",
            (10.0, 150.0),
        ),
        Parameter(
            "cd4_slope_sd",
            26.0,
            "cells/uL per year",
            cal,
            "fitted to the same control claims (prior ~26/yr from the CASCADE IQR)",
            "between-person SD of the CD4 slope",
            (5.0, 80.0),
        ),
        Parameter(
            "cd4_slope_vl",
            20.0,
            "cells/uL per year per log10",
            "calibrated",
            "fitted to the subgroup vs all-patient control claims (literature: "
            f"{COHERE_VL_SLOPE:g}, COHERE, Nakagawa AIDS 2014;28:1351)",
            "extra decline per +1 log10 viral load",
            (0.0, 80.0),
        ),
        Parameter(
            "cd4_floor",
            10.0,
            "cells/uL",
            "assumed",
            "keeps the linear decline positive",
            "lowest true CD4",
        ),
        # --- IL-2
        Parameter(
            "il2_gain_median",
            40.0,
            "cells/uL per cycle",
            cal,
            "fitted to cd4_change_w96_il2, primary_w96_il2, lowvl_free_w150_il2",
            "median peak CD4 gain per IL-2 cycle",
            (5.0, 600.0),
        ),
        Parameter(
            "il2_gain_sdlog",
            1.0,
            "log",
            cal,
            "fitted to the IL-2 claims (prior: SD ~100% of the gain, Davey JAMA 2000;284:183)",
            "between-person SD of the log gain per cycle",
            (0.2, 2.0),
        ),
        Parameter(
            "il2_halflife",
            52.0,
            "weeks",
            cal,
            "fitted to the IL-2 claims at weeks 96 and 150 (Vanguard: gains gone within a year)",
            "half-life of a cycle's CD4 gain",
            (4.0, 400.0),
        ),
        Parameter(
            "il2_rampup",
            2.0,
            "weeks",
            "assumed",
            "gain builds over the weeks after a 5-day cycle; peak timing not published",
            "time to the peak gain after a cycle",
        ),
        Parameter(
            "il2_extra_cycle_1",
            48.0,
            "weeks",
            "assumed",
            "registry gives up to 5 cycles by week 96 but not when cycles 4-5 fall",
            "week of the 4th cycle",
        ),
        Parameter(
            "il2_extra_cycle_2",
            80.0,
            "weeks",
            "assumed",
            "same: evenly spaced maintenance cycles, the last before week 96",
            "week of the 5th cycle",
        ),
        Parameter(
            "il2_vl_effect",
            0.0,
            "log10 copies/mL",
            cal,
            "assumption, not a finding: free parameter with a prior centred on 0; the paper's "
            "VL changes (+0.02 vs +0.04, P = .93) are not significant, which is not evidence "
            "of no effect; UK-Vanguard saw VL AUC +0.13 vs +0.09 log, NS (Youle PLoS Clin "
            "Trials 2006;1:e3)",
            "IL-2 effect on viral load (shift from week 0 on)",
            (-0.5, 0.5),
        ),
        # --- viral load
        Parameter(
            "vl_drift_mean",
            0.09,
            "log10 per year",
            cal,
            "fitted to vl_change_w96_il2 and vl_change_w96_control (prior +0.09/yr, COHERE 2014)",
            "mean viral-load drift off ART",
            (-0.5, 0.5),
        ),
        Parameter(
            "vl_drift_sd",
            0.15,
            "log10 per year",
            "assumed",
            "individual set-point drifts vary; not reported",
            "between-person SD of the drift",
        ),
        Parameter(
            "vl_lod",
            math.log10(50.0),
            "log10 copies/mL",
            "assumed",
            "50 copies/mL assays of 2004-2007",
            "lower limit of quantification",
        ),
        # --- ART initiation
        Parameter(
            "art_rate_ref",
            0.05,
            "per person-year",
            cal,
            "guidelines of 2003-06: ART not recommended for asymptomatic patients above 350 "
            "(French expert reports 2004/2006, unverified; US DHHS, PMC3922739 Table 1); fitted "
            "to the ART-related claims",
            "ART-start hazard at true CD4 >= 350 and true VL <= 5 log10, off ART",
            (0.002, 1.0),
        ),
        Parameter(
            "art_cd4_loghr",
            1.5,
            "log HR per 100 cells/uL below 350",
            cal,
            "guidelines of 2003-06: start recommended at 200-350, necessary below 200 (French "
            "expert reports 2004/2006, unverified; US DHHS, PMC3922739 Table 1); most deferred "
            "starts at 230-320 "
            "(Kitahata NEJM 2009;360:1815); fitted to the ART-related claims",
            "rise of the log ART-start hazard per 100 cells/uL of true CD4 below 350",
            (0.0, 5.0),
        ),
        Parameter(
            "art_vl_loghr",
            1.0,
            "log HR per log10 above 5",
            "assumed",
            "VL > 100,000 copies/mL argued for starting (French expert reports 2004/2006, "
            "unverified; US DHHS 2005-07 elective threshold 100,000, PMC3922739 Table 1); size "
            "of the effect not published",
            "rise of the log ART-start hazard per log10 of true VL above 5",
        ),
        Parameter(
            "art_endpoint_hr",
            1.0,
            "hazard ratio",
            "assumed",
            "reaching the trial's CD4 < 300 end point ends the ART-free strategy but the paper "
            "and registry do not say it prompted ART; the guideline threshold was 350 and 200 "
            "(1 = the end point does not by itself trigger ART)",
            "ART-hazard multiplier after the CD4 end point is reached",
        ),
        Parameter(
            "art_cd4_gain",
            150.0,
            "cells/uL",
            "assumed",
            "typical first-year CD4 rise on first-line ART",
            "plateau CD4 gain on ART",
        ),
        Parameter(
            "art_gain_sdlog",
            0.4,
            "log",
            "assumed",
            "CD4 recovery on ART varies widely between patients",
            "between-person SD of the log ART CD4 gain",
        ),
        Parameter(
            "art_tau",
            16.0,
            "weeks",
            "assumed",
            "typical CD4 recovery kinetics on ART",
            "time constant of the CD4 rise on ART",
        ),
        Parameter(
            "art_vl_tau",
            4.0,
            "weeks",
            "assumed",
            "viral load falls below 50 copies/mL within weeks on ART",
            "time constant of the viral-load fall on ART",
        ),
        # --- clinical events
        Parameter(
            "aids_rate",
            0.01,
            "per person-year",
            "literature",
            "~1/100 PY at CD4 >= 350 off ART: Phillips AIDS 2004;18:51, AIDS 2007;21:1717",
            "AIDS-defining event rate at CD4 350, VL 4, off ART",
        ),
        Parameter(
            "aids_cd4_loghr",
            0.7,
            "log HR per 100 cells/uL lower",
            "assumed",
            "roughly doubling per 100 cells lower (CASCADE/UK CHIC gradients)",
            "CD4 gradient of the AIDS hazard",
        ),
        Parameter(
            "aids_vl_loghr",
            1.0,
            "log HR per log10",
            "assumed",
            "steep VL gradient in Phillips AIDS 2004;18:51",
            "VL gradient of the AIDS hazard",
        ),
        Parameter(
            "death_rate",
            0.003,
            "per person-year",
            "assumed",
            "low mortality at CD4 > 300 in France; West African 1.5/100 PY is a different setting",
            "death rate at CD4 350, VL 4, off ART",
        ),
        Parameter(
            "art_clinical_hr",
            0.3,
            "hazard ratio",
            "assumed",
            "ART sharply lowers AIDS/death risk (SMART, NEJM 2006)",
            "AIDS/death hazard ratio on ART",
        ),
        Parameter(
            "il2_clinical_hr",
            1.0,
            "hazard ratio",
            "literature",
            "no clinical benefit of IL-2 gains: ESPRIT/SILCAAT NEJM 2009;361:1548; the clinical "
            "hazard follows the CD4 count the patient would have had without IL-2",
            "IL-2 hazard ratio for AIDS/death",
        ),
        # --- observation: loss to follow-up, missed visits, IL-2 discontinuation
        Parameter(
            "dropout_rate",
            0.035,
            "per person-year",
            "literature",
            "loss to follow-up 3.5/100 person-years, five French centres 1997-2006 (Ndiaye "
            "et al., Antivir Ther 2009;14:567); a trial with visits every month may retain "
            "better",
            "loss-to-follow-up hazard (censored at the last visit attended)",
        ),
        Parameter(
            "visit_miss_prob",
            0.05,
            "probability",
            "assumed",
            "missed scheduled visits in trials of the era not published; a small rate",
            "probability that a scheduled visit is missed (independently)",
        ),
        Parameter(
            "il2_stop_prob",
            0.05,
            "probability per cycle",
            "assumed",
            "cycle completion in STALWART/ESPRIT not retrieved; flu-like reactions make some "
            "patients stop (PRIORS.md section 5)",
            "probability of stopping IL-2 for good after a cycle",
        ),
        # --- ART-free endpoint rule
        Parameter(
            "confirm_cd4",
            1.0,
            "0/1",
            "assumed",
            "trials of the era confirmed CD4 < 300 on a second sample (1 = confirmed, 0 = single)",
            "CD4 end point needs confirmation at the next visit",
        ),
        Parameter(
            "followup_extension",
            52.0,
            "weeks",
            "assumed",
            "extended follow-up analysed ~1 year after primary completion (paper 2009); "
            "follow-up never runs beyond week 150 (the last week the paper reads)",
            "data cut-off for week-150 follow-up after primary completion",
        ),
        # --- adverse events (realisation only)
        Parameter(
            "grade34_rate",
            0.08,
            "per person-year",
            "assumed",
            "background grade 3-4 events in untreated HIV; not reported",
            "grade 3-4 adverse event rate without IL-2",
        ),
        Parameter(
            "il2_grade34_rr",
            1.3,
            "rate ratio",
            "assumed",
            "modest excess between 'similar between arms' (Molina 2009) and RR up to ~3 at "
            "7.5 MIU (Davey JAMA 2000;284:183)",
            "grade 3-4 rate ratio during IL-2 treatment",
        ),
    )


def calibrated_values(path: Path = CALIBRATION_FILE) -> dict[str, float]:
    """Fitted values stored by :func:`anrs119.model.write_point_calibration` (calibration.json)."""
    if not path.exists():
        raise ModelInputError(
            f"{path}: file missing; rule: run `python -m anrs119 calibrate` to fit the model"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        return {k: float(v) for k, v in data["parameters"].items()}
    except (KeyError, AttributeError, ValueError) as exc:
        raise ModelInputError(f"{path}: key parameters: rule: a name -> number object") from exc


def default_parameters(
    calibrated: bool | Mapping[str, float] = True, sizes: Mapping[str, int] | None = None
) -> ParameterSet:
    """All parameters; calibrated ones from the calibration file (or given values, or priors)."""
    params = ParameterSet(design_parameters(sizes) + model_parameters())
    if calibrated is True:
        return params.with_values(**calibrated_values())
    if calibrated is False:
        return params
    return params.with_values(**dict(calibrated))


def primary_test(path: Path = ALLOCATION_FILE) -> str:
    """Test that reproduces the printed primary P value (forensic allocation), as a key."""
    test = json.loads(path.read_text(encoding="utf-8")).get("test", "chi2").lower()
    if "fisher" in test:
        return "fisher"
    if "yates" in test or "continuity" in test:
        return "chi2_yates"
    return "chi2"


def forensic_events(path: Path = ALLOCATION_FILE) -> dict[str, int]:
    """Week-96 event counts per arm of the forensic allocation."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {arm: int(data["events_w96_by_arm"][arm]) for arm in ARMS}
