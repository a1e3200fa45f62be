"""Snapshot tests: each results table, rendered as text from the embedded data, is unchanged.

A change to the analysis code, the display code or the data that alters any printed table
fails here with a diff. When the change is intended, regenerate the snapshots with
``ANRS119_UPDATE_SNAPSHOTS=1 pytest tests/report/test_snapshots.py`` and review them in git.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from anrs119.data import load_dataset
from anrs119.design import trial_design
from anrs119.report import methods, results
from anrs119.report.participants import arm_flows, baseline_table, flow_table
from anrs119.report.scorecard import scorecard
from anrs119.reproduce import Reproducer, primary_test_name

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("ANRS119_UPDATE_SNAPSHOTS") == "1"


def _tables() -> dict[str, Callable[[], pd.DataFrame]]:
    dataset = load_dataset()
    design = trial_design()
    reproducer = Reproducer(dataset, design)
    proportions, test = reproducer.primary
    weeks = [design.primary_week, design.subgroup_week]
    return {
        "participants_flow": lambda: flow_table(arm_flows(dataset.adsl, dataset.adtte, weeks)),
        "participants_baseline": lambda: baseline_table(dataset.adsl, design.subgroup_vl_cutoff),
        "primary_proportions": lambda: results.proportions_table(proportions),
        "primary_tests": lambda: results.tests_table(test, primary_test_name()),
        "primary_first_component": lambda: results.first_component_table(
            dataset, design.primary_week
        ),
        "primary_registered": lambda: results.registered_outcome(dataset, design)[0],
        "markers_cd4": lambda: results.change_readings_table(
            dataset, "CD4", design.primary_week, 0
        ),
        "markers_vl": lambda: results.change_readings_table(
            dataset, "VLLOG", design.primary_week, 2
        ),
        "subgroup_deferral": lambda: results.deferral_readings(reproducer, design.subgroup_week),
        "subgroup_forest": lambda: results.forest_rows(
            dataset, results.baseline_subgroups(dataset.adsl, design)
        ).round(4),
        "subgroup_interaction": lambda: methods.interaction_table(reproducer.interactions),
        "subgroup_deferral_ci": lambda: methods.deferral_table(
            reproducer.deferral_bootstrap, design.subgroup_week
        ),
        "estimands_sap": lambda: methods.sap_display(reproducer.sap()),
        "estimands_holm": lambda: methods.holm_table(reproducer.multiplicity()),
        "safety_events": lambda: results.safety_table(reproducer),
        "safety_ae": lambda: results.ae_display(dataset),
        "scorecard": lambda: scorecard(dataset, reproducer=reproducer).drop(columns="value"),
    }


TABLES = _tables()


def render(table: pd.DataFrame) -> str:
    with pd.option_context("display.width", 250, "display.max_columns", None):
        return table.to_string() + "\n"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_table_matches_snapshot(name: str) -> None:
    text = render(TABLES[name]())
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"no snapshot for {name}: wrote {path}; review it and commit it")
        return
    expected = path.read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True), text.splitlines(keepends=True), "snapshot", "now"
        )
    )
    assert text == expected, f"{name} changed:\n{diff}"
