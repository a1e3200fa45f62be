"""Tests of the forensic chapter's figures, display tables and glued numbers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from anrs119 import forensic
from anrs119.report import forensic_plots as plots


@pytest.fixture(scope="module")
def checks():
    primary = forensic.primary_check()
    allocation = forensic.choose_allocation(primary)
    subgroup = forensic.lowvl_check((20, 25))
    return primary, allocation, subgroup, forensic.simple_randomization_range(130)


def test_figures_carry_alt_text(checks):
    primary, _, subgroup, n_range = checks
    for fig in (
        plots.primary_test_heatmap(primary, n_range),
        plots.subgroup_feasibility_heatmap(subgroup),
    ):
        assert isinstance(fig.alt_text, str) and len(fig.alt_text) > 40
        plt.close(fig)


def test_candidate_table_lists_every_table_in_range(checks):
    primary, allocation, _, n_range = checks
    table = plots.candidate_table(primary, n_range, allocation.n_randomized)
    expected = primary.tables["n_il2"].between(*n_range).sum()
    assert len(table) == expected
    assert table["P(split), relative"].astype(float).max() == 1.0
    assert len([c for c in table.columns if c.startswith("P, ")]) == len(forensic.TESTS)


def test_glued_numbers_are_plain_python(checks):
    primary, allocation, subgroup, n_range = checks
    km = forensic.km_split_summary(
        forensic.splits_with_total(allocation.n_randomized)[n_range[0] - 1 : n_range[1]],
        primary.pct_il2,
        primary.pct_control,
    )
    logrank = forensic.logrank_by_table(primary, n_range, replicates=50)
    numbers = {
        **plots.primary_numbers(primary, allocation, n_range, 0.95),
        **plots.subgroup_numbers(subgroup),
        **plots.km_numbers(km, logrank, allocation),
    }
    assert all(type(v) in (str, int) for v in numbers.values()), numbers
    assert numbers["fo_n1"] + numbers["fo_n2"] == allocation.n_randomized
    assert numbers["fo_km_crude"] <= numbers["fo_km_one"] <= numbers["fo_km_two"]
