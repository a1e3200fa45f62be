"""Tests of the operating characteristics: the vectorised Cox fit against statsmodels, the
scenarios, and reduced runs whose rejection rates must behave (type I error near alpha, power
above it, determinism)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg

from anrs119.model import operating as oc
from anrs119.model.parameters import default_parameters
from anrs119.model.simulate import simulate_trials
from anrs119.model.summaries import composite
from anrs119.seeds import TEST_SEED


def _grouped_counts(time: np.ndarray, event: np.ndarray, x: np.ndarray, groups: int):
    """Numbers at risk and events per integer time group 1..groups, per arm (x = 1, 0)."""
    out = []
    for arm in (1, 0):
        t, e = time[x == arm], event[x == arm]
        at_risk = np.array([(t >= j).sum() for j in range(1, groups + 1)], dtype=float)
        d = np.array([((t == j) & e).sum() for j in range(1, groups + 1)], dtype=float)
        out += [at_risk[None, :], d[None, :]]
    return out


@pytest.mark.parametrize("n", [30, 120])
def test_grouped_cox_matches_statsmodels_breslow(n: int) -> None:
    rng = np.random.default_rng(TEST_SEED + n)
    x = (rng.random(n) < 0.5).astype(int)
    time = rng.integers(1, 9, size=n)
    event = rng.random(n) < np.where(x == 1, 0.4, 0.7)
    n1, d1, n2, d2 = _grouped_counts(time, event, x, 8)
    fit = oc.grouped_cox(n1, d1, n2, d2)
    ref = PHReg(time.astype(float), x[:, None].astype(float), status=event, ties="breslow").fit()
    assert fit.log_hr[0] == pytest.approx(ref.params[0], abs=1e-7)
    assert fit.se[0] == pytest.approx(ref.bse[0], rel=1e-6)


def test_grouped_cox_has_no_estimate_without_events_in_an_arm() -> None:
    n1 = np.array([[10.0, 9.0]])
    fit = oc.grouped_cox(n1, np.zeros((1, 2)), n1, np.array([[1.0, 2.0]]))
    assert np.isnan(fit.log_hr[0]) and np.isnan(fit.se[0])


def test_primary_cox_matches_statsmodels_on_simulated_trials() -> None:
    p = default_parameters(calibrated=True).values()
    (tr,) = simulate_trials(p, 2, seed=TEST_SEED)
    week = p["primary_week"]
    fit = oc.primary_cox(tr, week)
    prim = composite(tr)
    grid = tr.visits[tr.visits <= week]
    for r in range(2):
        seen = prim.event[r] & (prim.time[r] <= week)
        t = np.minimum(prim.time[r], week)
        # the vectorised fit groups times by visit interval (grid[j-1], grid[j]]
        grouped = grid[np.searchsorted(grid, t, side="left")]
        ref = PHReg(grouped, tr.il2[r][:, None].astype(float), status=seen, ties="breslow").fit()
        assert fit.log_hr[r] == pytest.approx(ref.params[0], abs=1e-6)


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
    table = oc.read_operating()
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
