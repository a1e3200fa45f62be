"""The model's time grid, visit and IL-2 cycle schedules, follow-up horizon and reference
constants: plain numpy, importable without the compiled simulator (numba)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

HAZARD_STEP_WEEKS: float = 1.0
"""Step of the internal time grid on which every hazard is piecewise constant (weeks)."""


FOLLOW_UP_END: str = "subgroup_week"
"""Parameter holding the last week simulated: the paper reads nothing after week 150."""


def follow_up_horizon(p: Mapping[str, float]) -> float:
    """Last week simulated: the subgroup week (150); the data cut-off can only shorten it."""
    return float(p[FOLLOW_UP_END])


def data_cutoff(p: Mapping[str, float]) -> float:
    """Weeks from the first enrolment to the data cut-off (staggered entry shortens follow-up)."""
    return p["calendar_span"] + p["followup_extension"]


# Visit schedule (assumed; not published): frequent visits through the primary analysis period,
# then sparser ones, landing on the subgroup analysis week (96 + 9 x 6 = 150).
VISIT_INTERVAL_EARLY: float = 4.0
VISIT_EARLY_UNTIL: float = 96.0
VISIT_INTERVAL_LATE: float = 6.0


def visit_weeks(
    horizon: float = 150.0,
    early: float = VISIT_INTERVAL_EARLY,
    until: float = VISIT_EARLY_UNTIL,
    late: float = VISIT_INTERVAL_LATE,
) -> np.ndarray:
    """Visit weeks: every ``early`` weeks to ``until``, then every ``late`` weeks to
    ``horizon`` (the defaults are the assumed schedule; others serve sensitivity analyses)."""
    first = np.arange(0.0, until + 1e-9, early)
    rest = np.arange(first[-1] + late, horizon + 1e-9, late)
    return np.concatenate([first, rest])


def cycle_weeks(p: Mapping[str, float]) -> np.ndarray:
    """IL-2 cycle weeks: the fixed 8-week cycles (registry) then the assumed extra cycles."""
    fixed = p["il2_first_week"] + p["il2_interval"] * np.arange(int(p["il2_fixed_cycles"]))
    extra = [float(p["il2_extra_cycle_1"]), float(p["il2_extra_cycle_2"])]
    extra = extra[: int(p["il2_max_cycles"]) - int(p["il2_fixed_cycles"])]
    weeks = np.concatenate([fixed, np.asarray(extra, dtype=float)])
    if np.any(weeks > p["il2_last_week"]):
        raise ValueError(f"IL-2 cycle weeks {weeks} go beyond week {p['il2_last_week']:g}")
    return weeks


# Reference points of the hazard models. kernel.py compiles them in as constants, and numba's
# on-disk cache does not notice a change made here: after changing one, delete
# src/anrs119/model/simulator/__pycache__ (a fresh clone has no cache).
WEEKS_PER_YEAR: float = 365.25 / 7
ART_CD4_REFERENCE: float = 350.0
VL_REFERENCE: float = 4.0
ART_VL_REFERENCE: float = 5.0
