"""Tests of rejection ABC with regression adjustment: the known posterior of a conjugate normal
model is recovered, the adjustment is statsmodels' weighted least squares, the coordinates
round-trip, and the neighbourhood never keeps a left-out or unprintable trial."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from anrs119.model.inference.priors import load_priors
from anrs119.model.inference.reference import ReferenceTable
from anrs119.model.inference.rejection import (
    Unbounded,
    abc_posterior,
    fit,
    local_linear_slopes,
    neighbourhood,
    quantiles,
    statistic_scales,
)
from anrs119.model.inference.statistics import print_round
from anrs119.seeds import TEST_SEED

IDENTITY = Unbounded(("identity", "identity"), np.array([-math.inf] * 2), np.array([math.inf] * 2))


def _conjugate_table(n: int, noise: float, seed: int) -> ReferenceTable:
    """Two independent normal means, theta ~ N(0, 1), each observed once with N(0, noise^2)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n, 2))
    stats = theta + noise * rng.normal(size=(n, 2))
    return ReferenceTable(theta, stats, ("a", "b"), ("sa", "sb"))


@pytest.mark.parametrize("observed", [0.0, 2.0])
def test_recovers_the_conjugate_normal_posterior(observed: float) -> None:
    """Posterior N(s / (1 + v), v / (1 + v)) with v = noise^2; the adjusted quantiles land on it
    within Monte Carlo error, also in the prior predictive's tail (s = 2)."""
    noise = 0.5
    table = _conjugate_table(200_000, noise, TEST_SEED)
    obs = np.array([observed, -observed])
    nb = neighbourhood(table, obs, 12_000, scales=np.ones(2), unbounded=IDENTITY)
    f = fit(nb, 4_000)
    v = noise**2
    mean, sd = obs / (1 + v), math.sqrt(v / (1 + v))
    q = quantiles(f, [0.025, 0.5, 0.975], IDENTITY)
    for j in range(2):
        expected = mean[j] + sd * np.array([-1.959964, 0.0, 1.959964])
        # Monte Carlo SE of a quantile with ESS ~ 2,700 is below 0.02 here
        assert q[j] == pytest.approx(expected, abs=0.06)


def test_adjustment_removes_the_bias_of_a_wide_bandwidth() -> None:
    """Kept far from the observed value, plain rejection is pulled towards the prior; the
    regression adjustment is not."""
    table = _conjugate_table(50_000, 0.5, TEST_SEED + 1)
    obs = np.array([2.0, -2.0])
    nb = neighbourhood(table, obs, 30_000, scales=np.ones(2), unbounded=IDENTITY)
    truth = 2.0 / 1.25
    adjusted = quantiles(fit(nb, 20_000), [0.5], IDENTITY)[0, 0]
    plain = quantiles(fit(nb, 20_000, adjust=False), [0.5], IDENTITY)[0, 0]
    assert abs(adjusted - truth) < 0.05 < abs(plain - truth)


def test_slopes_are_statsmodels_weighted_least_squares() -> None:
    rng = np.random.default_rng(TEST_SEED)
    dep = rng.normal(size=(300, 3))
    theta = dep @ rng.normal(size=(3, 2)) + rng.normal(size=(300, 2))
    w = rng.uniform(0.01, 1.0, 300)
    slopes = local_linear_slopes(theta, dep, w)
    for j in range(2):
        ref = sm.WLS(theta[:, j], sm.add_constant(dep), weights=w).fit()
        assert slopes[:, j] == pytest.approx(ref.params[1:], rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(u=st.floats(-8.0, 8.0))
def test_unbounded_coordinates_round_trip(u: float) -> None:
    unb = Unbounded.from_priors(load_priors())
    x = unb.backward(np.full((1, len(unb.kinds)), u))
    assert np.all((x >= unb.lower) & (x <= unb.upper))
    assert unb.forward(x) == pytest.approx(np.full((1, len(unb.kinds)), u), abs=1e-6)


def test_every_bounded_prior_gets_a_bounded_map() -> None:
    priors = load_priors()
    unb = Unbounded.from_priors(priors)
    for p, kind in zip(priors, unb.kinds, strict=True):
        if p.log_scale or p.lower is not None:
            assert kind in ("log_lower", "logit"), p.parameter
        if p.lower is not None and p.upper is not None:
            assert kind == "logit", p.parameter


def test_neighbourhood_leaves_out_excluded_and_unprintable_trials() -> None:
    table = _conjugate_table(1_000, 0.5, TEST_SEED)
    stats = table.statistics.copy()
    stats[3] = [0.0, 0.0]  # the observed point itself
    stats[4] = [np.nan, 0.0]  # a trial that cannot print one statistic
    table = ReferenceTable(table.parameters, stats, table.names, table.statistic_ids)
    nb = neighbourhood(table, np.zeros(2), 50, scales=np.ones(2), exclude=np.array([3]),
                       unbounded=IDENTITY)  # fmt: skip
    assert 3 not in nb.rows and 4 not in nb.rows
    assert np.all(np.diff(nb.distance) >= 0)


def test_scales_ignore_missing_values_and_fall_back_to_the_sd() -> None:
    x = np.array([[1.0, 5.0], [1.0, np.nan], [1.0, 7.0], [2.0, 9.0], [1.0, 11.0]])
    scales = statistic_scales(x)
    assert scales[0] == pytest.approx(np.std(x[:, 0]))
    assert np.isfinite(scales[1]) and scales[1] > 0


def test_the_fit_is_deterministic_and_its_weights_are_epanechnikov() -> None:
    table = _conjugate_table(20_000, 0.5, TEST_SEED)
    nb = neighbourhood(table, np.array([0.3, 0.1]), 1_500, scales=np.ones(2), unbounded=IDENTITY)
    f1, f2 = fit(nb, 500), fit(nb, 500)
    assert np.array_equal(f1.theta, f2.theta) and np.array_equal(f1.weight, f2.weight)
    d = nb.distance[: len(f1.weight)]
    assert f1.weight == pytest.approx(1 - (d / f1.bandwidth) ** 2)
    assert 0.5 * 500 < f1.ess < 500


def _half_up(value: Fraction, decimals: int) -> float:
    """The oracle: round an exact rational half away from zero."""
    q = Fraction(10) ** decimals
    scaled = abs(value) * q
    whole = math.floor(scaled + Fraction(1, 2))
    return math.copysign(whole / float(q), float(value)) if whole else 0.0


@settings(max_examples=300, deadline=None)
@given(k=st.integers(0, 200), n=st.integers(1, 200), decimals=st.sampled_from([0, 1, 2]),
       sign=st.sampled_from([1, -1]))  # fmt: skip
def test_print_round_is_the_papers_rounding(k: int, n: int, decimals: int, sign: int) -> None:
    """Percentages of whole patients and medians of two values in hundredths print as their
    exact values do with half-up rounding, whatever binary error the float carries
    ((1.13 + 1.14) / 2 is stored as 1.13499999..., and prints as 1.14)."""
    cases = (
        (Fraction(sign * 100 * k, n), sign * 100.0 * k / n),
        (Fraction(sign * (2 * k + 1), 200), sign * (k / 100 + (k + 1) / 100) / 2),
    )
    for exact, value in cases:
        assert print_round(np.array([value]), decimals)[0] == _half_up(exact, decimals)


def test_a_posterior_of_the_model_stays_inside_every_prior_support() -> None:
    """On the model's own parameters (drawn from the literature priors), the adjusted draws stay
    within each prior's bounds and the weights are normalised."""
    priors = load_priors()
    rng = np.random.default_rng(TEST_SEED)
    draws = priors.sample(rng, 20_000)
    params = np.column_stack([draws[n] for n in priors.names])
    stats = params[:, :3] * np.array([0.1, 100.0, 10.0]) + rng.normal(size=(20_000, 3))
    table = ReferenceTable(params, stats, priors.names, ("s1", "s2", "s3"))
    post = abc_posterior({"s1": 40.0, "s2": 20.0, "s3": 1.0}, table, accepted=800)
    assert post.sample["weight"].sum() == pytest.approx(1.0)
    for p in priors:
        x = post.sample[p.parameter]
        assert (p.lower is None or (x >= p.lower).all()) and (
            p.upper is None or (x <= p.upper).all()
        )
        if p.log_scale:
            assert (x > 0).all()
