"""Tests of the sensitivity analysis: scenarios change exactly one assumption, the stored table
covers every scenario and claim, and the 'moved out' rule compares with the baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anrs119.model.checks.sensitivity import (
    BASELINE,
    COLUMNS,
    SENSITIVITY_FILE,
    _apply,
    _grid,
    moved_out,
    scenarios,
)
from anrs119.model.inference.priors import load_priors
from anrs119.model.inference.statistics import base_values


@pytest.fixture(scope="module")
def priors():
    return load_priors()


@pytest.fixture(scope="module")
def base(priors):
    return base_values(priors)


def test_visit_grids_land_on_the_analysis_weeks():
    for early, late in ((4, 6), (8, 6), (12, 12)):
        g = _grid(early, late)
        assert g[0] == 0 and g[-1] == 150 and 96 in g
        assert np.all(np.diff(g) > 0)


def test_each_scenario_changes_one_thing(priors, base):
    draws = {n: np.full(3, v) for n, v in priors.medians().items()}
    for s in scenarios(base, priors):
        b, d = _apply(s, base, draws)
        changed = {k for k in base if b[k] != base[k]} | {
            k for k in draws if not np.array_equal(d[k], draws[k])
        }
        if s.key == BASELINE or s.visits is not None:
            assert changed == set(), s.key
        else:
            assert changed <= set(s.set_values) | set(s.scale_draws), s.key
            assert len(set(s.set_values) | set(s.scale_draws)) == 1


def test_halflife_scenarios_use_the_literature_prior(priors, base):
    keyed = {s.key: s for s in scenarios(base, priors)}
    med = float(priors["il2_halflife"].quantiles([0.5])[0])
    assert keyed["halflife_lit_median"].set_values["il2_halflife"] == pytest.approx(med)


def test_stored_table_covers_every_scenario_and_claim():
    t = pd.read_csv(SENSITIVITY_FILE)
    assert tuple(t.columns) == COLUMNS
    per = t.groupby("scenario")["id"].apply(set)
    assert per.map(len).nunique() == 1  # the same claims under every scenario
    assert BASELINE in per.index and "joint" in per[BASELINE]


def test_moved_out_compares_with_the_baseline():
    t = pd.DataFrame(
        {
            "scenario": [BASELINE, BASELINE, "x", "x"],
            "label": ["b", "b", "lab", "lab"],
            "id": ["a", "c", "a", "c"],
            "outside95": [False, True, True, True],
            "percentile": [50.0, 99.0, 99.5, 99.9],
        }
    )
    m = moved_out(t)
    assert list(m["id"]) == ["a"] and list(m["scenario"]) == ["x"]
