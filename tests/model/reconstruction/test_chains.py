"""The convergence diagnostics (anrs119.model.reconstruction.chains) where the answer is known:
autoregressive chains of known autocorrelation, and chains that disagree."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anrs119.model.reconstruction.chains import autocorrelation, ess, rank_normalise, rhat
from anrs119.seeds import TEST_SEED


def ar1(rho: float, chains: int = 2, n: int = 4000, seed: int = TEST_SEED) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(chains, n))
    x = np.zeros_like(e)
    x[:, 0] = e[:, 0] / math.sqrt(1 - rho**2)
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + e[:, t]
    return x


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_ess_of_an_ar1_chain_is_its_known_value(rho):
    x = ar1(rho)
    truth = x.size * (1 - rho) / (1 + rho)  # N (1 - rho) / (1 + rho) for AR(1)
    assert ess(x) == pytest.approx(truth, rel=0.15)


def test_rhat_is_one_for_chains_of_one_distribution_and_large_for_shifted_ones():
    x = ar1(0.5)
    assert rhat(x) == pytest.approx(1.0, abs=0.01)
    y = x.copy()
    y[1] += 1.0  # the second chain sits one SD (of the innovations) higher
    assert rhat(y) > 1.1


def test_a_chain_stuck_in_the_middle_is_caught_by_the_split():
    x = ar1(0.0)
    x[0, : x.shape[1] // 2] += 2.0  # the first chain's first half elsewhere: a trend
    assert rhat(x) > 1.1


def test_a_constant_quantity_has_no_diagnostics():
    x = np.full((2, 100), 3.0)
    assert math.isnan(rhat(x)) and math.isnan(ess(x))


def test_chains_that_never_move_from_different_values_are_flagged():
    x = np.vstack([np.full(200, 1.0), np.full(200, 2.0)])
    assert rhat(x) > 1.5 or math.isnan(rhat(x))
    assert ess(x) < 10 or math.isnan(ess(x))


def test_rank_normalisation_gives_normal_scores_and_ranks_infinity_last():
    x = np.array([[1.0, np.inf, 3.0], [2.0, 5.0, 4.0]])
    z = rank_normalise(x)
    assert z.shape == x.shape
    assert z[0, 1] == z.max()
    assert abs(z.mean()) < 1e-12


def test_autocorrelation_is_one_at_lag_zero_and_decays_for_ar1():
    r = autocorrelation(ar1(0.5, chains=1, n=20000)[0], 3)
    assert r[0] == 1.0
    assert r[1] == pytest.approx(0.5, abs=0.03)
    assert r[2] == pytest.approx(0.25, abs=0.03)
