"""Tests of the vectorised Cox fit of simulated trials (grouped counts) against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.duration.hazard_regression import PHReg

from anrs119.model.simulator.cox import grouped_cox, primary_cox
from anrs119.model.simulator.parameters import default_parameters
from anrs119.model.simulator.simulate import simulate_trials
from anrs119.model.simulator.summaries import composite
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
    fit = grouped_cox(n1, d1, n2, d2)
    ref = PHReg(time.astype(float), x[:, None].astype(float), status=event, ties="breslow").fit()
    assert fit.log_hr[0] == pytest.approx(ref.params[0], abs=1e-7)
    assert fit.se[0] == pytest.approx(ref.bse[0], rel=1e-6)


def test_grouped_cox_has_no_estimate_without_events_in_an_arm() -> None:
    n1 = np.array([[10.0, 9.0]])
    fit = grouped_cox(n1, np.zeros((1, 2)), n1, np.array([[1.0, 2.0]]))
    assert np.isnan(fit.log_hr[0]) and np.isnan(fit.se[0])


def test_primary_cox_matches_statsmodels_on_simulated_trials() -> None:
    p = default_parameters(calibrated=True).values()
    (tr,) = simulate_trials(p, 2, seed=TEST_SEED)
    week = p["primary_week"]
    fit = primary_cox(tr, week)
    prim = composite(tr)
    grid = tr.visits[tr.visits <= week]
    for r in range(2):
        seen = prim.event[r] & (prim.time[r] <= week)
        t = np.minimum(prim.time[r], week)
        # the vectorised fit groups times by visit interval (grid[j-1], grid[j]]
        grouped = grid[np.searchsorted(grid, t, side="left")]
        ref = PHReg(grouped, tr.il2[r][:, None].astype(float), status=seen, ties="breslow").fit()
        assert fit.log_hr[r] == pytest.approx(ref.params[0], abs=1e-6)
