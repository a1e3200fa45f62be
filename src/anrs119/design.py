"""The trial's design as published (abstract S1, registry S2), read from the claims registry.

Nothing here is typed by hand: every number comes from ``data/published/claims.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from anrs119.published import claim_value


def _month(yyyymm: float) -> date:
    value = int(yyyymm)
    return date(value // 100, value % 100, 1)


@dataclass(frozen=True)
class TrialDesign:
    """Design facts of ANRS 119 used by the chapters and the model."""

    n_randomized: int
    cd4_eligibility: tuple[float, float]
    endpoint_cd4_threshold: float
    subgroup_vl_cutoff: float
    primary_week: int
    subgroup_week: int
    il2_dose_miu: float
    il2_doses_per_day: int
    il2_days_per_cycle: int
    il2_max_cycles: int
    il2_fixed_cycle_weeks: tuple[int, ...]
    il2_last_cycle_week: int
    study_start: date
    primary_completion: date
    registered_primary_cd4: float
    registered_primary_week: int

    @property
    def il2_optional_cycles(self) -> int:
        """Cycles allowed beyond the fixed schedule, timing not published."""
        return self.il2_max_cycles - len(self.il2_fixed_cycle_weeks)

    @property
    def il2_miu_per_cycle(self) -> float:
        return self.il2_dose_miu * self.il2_doses_per_day * self.il2_days_per_cycle

    @property
    def enrolment_to_completion_weeks(self) -> float:
        """Weeks from the first enrolment month to the primary completion month."""
        return (self.primary_completion - self.study_start).days / 7


def trial_design() -> TrialDesign:
    """Assemble the design from the registry rows (kind == "design")."""
    first = int(claim_value("il2_first_cycle_week"))
    interval = int(claim_value("il2_cycle_interval_weeks"))
    n_fixed = int(claim_value("il2_fixed_schedule_cycles"))
    return TrialDesign(
        n_randomized=int(claim_value("n_randomized")),
        cd4_eligibility=(
            claim_value("cd4_eligibility_lower"),
            claim_value("cd4_eligibility_upper"),
        ),
        endpoint_cd4_threshold=claim_value("endpoint_cd4_threshold"),
        subgroup_vl_cutoff=claim_value("subgroup_vl_cutoff"),
        primary_week=int(claim_value("primary_timepoint_weeks")),
        subgroup_week=int(claim_value("subgroup_timepoint_weeks")),
        il2_dose_miu=claim_value("il2_dose_miu"),
        il2_doses_per_day=int(claim_value("il2_doses_per_day")),
        il2_days_per_cycle=int(claim_value("il2_days_per_cycle")),
        il2_max_cycles=int(claim_value("il2_max_cycles")),
        il2_fixed_cycle_weeks=tuple(first + k * interval for k in range(n_fixed)),
        il2_last_cycle_week=int(claim_value("il2_last_cycle_week")),
        study_start=_month(claim_value("study_start")),
        primary_completion=_month(claim_value("primary_completion")),
        registered_primary_cd4=claim_value("registered_primary_cd4"),
        registered_primary_week=int(claim_value("registered_primary_week")),
    )
