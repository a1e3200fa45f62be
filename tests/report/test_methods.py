"""Display of the methods readings: wording that follows the numbers, bounds, open intervals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from anrs119.analysis.competing import DeferralReading
from anrs119.analysis.multiplicity import holm_sensitivity
from anrs119.data import load_dataset
from anrs119.report import methods
from anrs119.reproduce import Reproducer

REPRODUCER = Reproducer(load_dataset())


def test_interaction_sentence_follows_the_p_value() -> None:
    result = REPRODUCER.interactions[0]
    significant = dataclasses.replace(result, wald_p=0.01)
    assert "effect modification by baseline viral load" in methods.interaction_sentence(significant)
    null = dataclasses.replace(result, wald_p=0.6)
    assert "not evidence of effect modification" in methods.interaction_sentence(null)


def test_holm_table_marks_undecided_brackets() -> None:
    tests = pd.DataFrame(
        {
            "id": ["a", "b"],
            "endpoint": ["x", "y"],
            "timepoint_weeks": [96, 96],
            "reported_as": ["P < .05", "P = .5"],
            "bound": ["<", "="],
            "p_low": [0.0, 0.5],
            "p_high": [0.05, 0.5],
        }
    )
    table = methods.holm_table(holm_sensitivity(tests, {"a": 0.01, "b": 0.5}))
    assert table["Below .05 after Holm (published)"].tolist() == ["undecided", "no"]
    assert table["Enters Holm as"].iloc[0] == "at most .050"


def test_deferral_table_states_what_is_known_when_not_reached() -> None:
    reading = DeferralReading(
        key="km_q25",
        label="25th percentile",
        by_arm={"IL-2": np.inf, "Control": 70.0},
        difference=np.inf,
        arm_ci={"IL-2": (100.0, np.inf), "Control": (50.0, 90.0)},
        diff_ci=(20.0, np.inf),
        undefined=0,
    )
    row = methods.deferral_table([reading], 150).iloc[0]
    expected = "more than 80 (IL-2 not reached) (20 to not reached)"
    assert row["Difference, weeks (95% CI)"] == expected
    assert row["IL-2, weeks (95% CI)"] == "not reached (100 to not reached)"


def test_figures_carry_alt_text_with_the_numbers() -> None:
    fig = methods.cumulative_incidence_plot(REPRODUCER.art_incidence)
    assert "Aalen-Johansen" in fig.alt_text and "on ART by week" in fig.alt_text
    from anrs119.analysis.survival import cox_hazard_ratio

    d = REPRODUCER.dataset
    rows = methods.interaction_rows(
        cox_hazard_ratio(d.adsl, d.adtte, "PRIMARY"), len(d.adsl), REPRODUCER.interactions
    )
    assert rows["interaction_p"].notna().sum() == 2 * len(REPRODUCER.interactions)
    assert "interaction P values" in methods.interaction_forest(rows).alt_text


def test_subgroup_values_survive_an_interaction_that_cannot_be_fitted() -> None:
    reproducer = Reproducer(REPRODUCER.dataset)
    reproducer.__dict__["interactions"] = [ValueError("adsl: column BVLLOG: rule: x")]
    values = methods.subgroup_values(reproducer)
    assert "cannot be estimated" in values["vl_reading"]
    assert values["vl_interaction_lr"] == "not computed"
