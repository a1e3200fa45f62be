"""CONSORT counts add up, agree with a direct count, and the baseline table covers every arm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anrs119 import ARMS
from anrs119.report.participants import arm_flows, baseline_table, consort_figure, flow_table
from tests.adam_samples import valid_tables

WEEKS = (96, 150)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=1, max_value=15))
def test_flow_boxes_partition_each_arm(seed: int, n_per_arm: int) -> None:
    tables = valid_tables(np.random.default_rng(seed), n_per_arm=n_per_arm)
    for flow in arm_flows(tables["adsl"], tables["adtte"], WEEKS):
        for w in WEEKS:
            total = flow.events_by[w] + flow.censored_before[w] + flow.followed_past[w]
            assert total == flow.randomized
        assert flow.events_by[WEEKS[0]] <= flow.events_by[WEEKS[1]]
        assert sum(flow.first_component.values()) >= flow.events_by[WEEKS[1]]


def test_flow_counts_match_a_direct_count() -> None:
    tables = valid_tables(np.random.default_rng(7), n_per_arm=12)
    adsl, adtte = tables["adsl"], tables["adtte"]
    primary = adtte[adtte["PARAMCD"] == "PRIMARY"].merge(adsl[["USUBJID", "ARM"]])
    flows = {f.arm: f for f in arm_flows(adsl, adtte, WEEKS)}
    for arm in ARMS:
        rows = primary[primary["ARM"] == arm]
        expected = int(((rows["CNSR"] == 0) & (rows["AVAL"] <= 96)).sum())
        assert flows[arm].events_by[96] == expected
    table = flow_table(list(flows.values()))
    assert list(table.columns) == list(ARMS)
    assert table.loc["Randomized"].sum() == len(adsl)


def test_consort_figure_has_alt_text() -> None:
    tables = valid_tables(np.random.default_rng(3), n_per_arm=4)
    fig = consort_figure(arm_flows(tables["adsl"], tables["adtte"], WEEKS))
    assert "CONSORT" in fig.alt_text and str(len(tables["adsl"])) in fig.alt_text


def test_baseline_table() -> None:
    tables = valid_tables(np.random.default_rng(5), n_per_arm=6)
    adsl = tables["adsl"]
    table = baseline_table(adsl, vl_cutoff=4.5)
    assert [c.split(" (")[0] for c in table.columns] == [*ARMS, "All"]
    below = int((adsl["BVLLOG"] < 4.5).sum())
    assert table.iloc[-1, -1].startswith(f"{below} (")
    median_cd4 = adsl["BCD4"].median()
    assert table.loc["CD4 count, cells/µL, median (IQR)", table.columns[-1]].startswith(
        f"{median_cd4:.0f} ("
    )


def test_baseline_table_rejects_nothing_silently() -> None:
    adsl = pd.DataFrame({"ARM": ["IL-2"], "AGE": [30]})
    with pytest.raises(KeyError):
        baseline_table(adsl, vl_cutoff=4.5)
