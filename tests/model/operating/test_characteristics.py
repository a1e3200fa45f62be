"""Tests of the operating characteristics: the
scenarios, and reduced runs whose rejection rates must behave (type I error near alpha, power
above it, determinism)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anrs119.model.operating import characteristics as oc
from anrs119.model.operating.tables import read_operating
from anrs119.model.simulator.parameters import default_parameters


def test_arm_sizes_keep_the_total_and_the_allocation_ratio() -> None:
    p = {"n_il2": 66.0, "n_control": 64.0}
    assert oc.arm_sizes(p, None) == (66, 64)
    for n in oc.POWER_SIZES:
        a, b = oc.arm_sizes(p, n)
        assert a + b == n and abs(a / n - 66 / 130) <= 1 / n


def test_scenarios_are_named_once_and_include_the_design_and_the_null() -> None:
    names = [s.name for s in oc.scenarios()]
    assert len(names) == len(set(names))
    assert {"design", "il2_off"} <= set(names)
    sizes = [s.n_total for s in oc.scenarios() if s.family == "power_curve"]
    assert None not in sizes and len(sizes) == len(set(sizes))


@pytest.fixture(scope="module")
def reduced() -> pd.DataFrame:
    p = default_parameters(calibrated=True).values()
    chosen = [s for s in oc.scenarios() if s.name in ("design", "il2_off")]
    return oc.operating_characteristics(p, replicates=400, chosen=chosen, progress=False)


def _estimate(table: pd.DataFrame, scenario: str, quantity: str) -> pd.Series:
    row = table[(table.scenario == scenario) & (table.quantity == quantity)]
    assert len(row) == 1
    return row.iloc[0]


def test_type_one_error_is_near_alpha_with_il2_switched_off(reduced: pd.DataFrame) -> None:
    row = _estimate(reduced, "il2_off", "primary_reject")
    assert row.replicates == 400
    # Fisher's test is conservative: the rate may sit below alpha, never well above it
    assert row.estimate <= oc.ALPHA + 4 * max(row.mc_se, 0.011)


def test_power_exceeds_the_type_one_error(reduced: pd.DataFrame) -> None:
    power = _estimate(reduced, "design", "primary_reject").estimate
    null = _estimate(reduced, "il2_off", "primary_reject").estimate
    assert power > null + 0.2


def test_coverage_of_the_hazard_ratio_is_near_nominal(reduced: pd.DataFrame) -> None:
    row = _estimate(reduced, "design", "cox_covers")
    assert abs(row.estimate - 0.95) <= 4 * max(row.mc_se, 0.011)


def test_reduced_run_is_deterministic(reduced: pd.DataFrame) -> None:
    p = default_parameters(calibrated=True).values()
    chosen = [s for s in oc.scenarios() if s.name in ("design", "il2_off")]
    again = oc.operating_characteristics(p, replicates=400, chosen=chosen, progress=False)
    pd.testing.assert_frame_equal(reduced, again)


def test_committed_table_covers_every_scenario_and_quantity() -> None:
    table = read_operating()
    assert set(table.scenario) == {s.name for s in oc.scenarios()}
    assert set(table.quantity) == set(oc.QUANTITIES)
    assert (table.replicates[table.quantity != "cox_covers"] == oc.REPLICATES).all()


def test_predictive_scenarios_draw_parameters_and_claim_no_true_hazard_ratio() -> None:
    p = oc.base_parameters()
    chosen = [s for s in oc.scenarios() if s.draws is not None]
    assert {s.draws for s in chosen} == {"prior", "posterior"}
    table = oc.operating_characteristics(p, replicates=200, chosen=chosen, progress=False)
    for sc in chosen:
        power = _estimate(table, sc.name, "primary_reject")
        assert power.replicates == 200 and 0.0 <= power.estimate <= 1.0
        cover = _estimate(table, sc.name, "cox_covers")
        assert cover.replicates == 0 and np.isnan(cover.estimate)
    tasks = oc.make_tasks(p, 200, chosen=chosen[:1])
    values = np.concatenate([t.params["il2_halflife"] for t in tasks])
    assert values.shape == (200,) and np.unique(values).size > 100  # one draw per trial
