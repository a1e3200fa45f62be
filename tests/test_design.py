"""The trial design is assembled from the registry, not typed."""

from __future__ import annotations

from itertools import pairwise

from anrs119.design import trial_design
from anrs119.published import claim_value


def test_design_matches_registry() -> None:
    design = trial_design()
    assert design.n_randomized == claim_value("n_randomized")
    assert design.il2_fixed_cycle_weeks[0] == claim_value("il2_first_cycle_week")
    steps = {b - a for a, b in pairwise(design.il2_fixed_cycle_weeks)}
    assert steps == {claim_value("il2_cycle_interval_weeks")}
    assert len(design.il2_fixed_cycle_weeks) + design.il2_optional_cycles == design.il2_max_cycles
    assert design.study_start < design.primary_completion
    assert design.cd4_eligibility[0] < design.cd4_eligibility[1]
