"""The vectorised ABC prior and proposal against pyabc's own classes (independent code)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyabc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anrs119.model.inference.abc import _abc_prior
from anrs119.model.inference.priors import load_priors
from anrs119.model.inference.proposals import IndependentNormalPrior, MarginalKdeTransition


def _reference_prior(priors) -> pyabc.Distribution:
    fast = _abc_prior(priors)
    return pyabc.Distribution(**{name: rv for name, rv in fast.items()})


def test_prior_density_is_pyabcs_inside_and_outside_the_bounds():
    priors = load_priors()
    fast = _abc_prior(priors)
    ref = _reference_prior(priors)
    assert isinstance(fast, IndependentNormalPrior)
    np.random.seed(3)  # noqa: NPY002 (pyabc draws from numpy's global state)
    for _ in range(200):
        x = ref.rvs()
        assert fast.pdf(x) == pytest.approx(ref.pdf(x), rel=1e-10)
        wide = {k: v * 1.7 + 0.3 for k, v in x.items()}  # often outside a truncated prior
        assert fast.pdf(wide) == pytest.approx(ref.pdf(wide), rel=1e-10, abs=1e-300)


def test_prior_outside_a_bound_has_density_zero_and_copy_keeps_the_class():
    rv = pyabc.RV("truncnorm", -1.0, 2.0, 0.5, 0.2)  # support [0.3, 0.9]
    prior = IndependentNormalPrior(a=rv, b=pyabc.RV("norm", 0.0, 1.0))
    assert prior.pdf({"a": 0.29, "b": 0.0}) == 0.0
    assert prior.pdf({"a": 0.3, "b": 0.0}) > 0.0
    assert isinstance(prior.copy(), IndependentNormalPrior)
    with pytest.raises(ValueError, match="expected"):
        prior.pdf({"a": 0.5})


def _reference_transition(columns, scaling):
    return pyabc.AggregatedTransition(
        mapping={c: pyabc.MultivariateNormalTransition(scaling=scaling) for c in columns}
    )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 40),
    d=st.integers(1, 5),
    scaling=st.floats(0.3, 2.0),
    seed=st.integers(0, 10_000),
)
def test_transition_density_is_pyabcs_aggregate_of_one_dimensional_kernels(n, d, scaling, seed):
    rng = np.random.default_rng(seed)
    cols = [f"p{k}" for k in range(d)]
    X = pd.DataFrame(rng.normal(size=(n, d)) * rng.uniform(0.1, 3.0, size=d), columns=cols)
    w = rng.uniform(0.1, 1.0, size=n)
    w /= w.sum()
    fast, ref = MarginalKdeTransition(scaling), _reference_transition(cols, scaling)
    fast.fit(X, w)
    ref.fit(X, w)
    points = pd.DataFrame(rng.normal(size=(7, d)) * 2.0, columns=cols)
    assert np.allclose(fast.pdf(points), ref.pdf(points), rtol=1e-10, atol=0.0)
    one = pyabc.Parameter(points.iloc[0].to_dict())
    assert fast.pdf(one) == pytest.approx(float(ref.pdf(one)), rel=1e-10)


def test_transition_draws_each_parameter_from_its_own_weighted_kernel_estimate():
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.gamma(2.0, size=60)})
    w = rng.uniform(size=60)
    w /= w.sum()
    t = MarginalKdeTransition(scaling=1.0)
    t.fit(X, w)
    np.random.seed(11)  # noqa: NPY002
    draws = pd.DataFrame([t.rvs_single() for _ in range(20_000)])
    for k, col in enumerate(X.columns):
        mean = float(w @ X[col])
        var = float(w @ (X[col] - mean) ** 2) + t._sd[k] ** 2
        se = np.sqrt(var / len(draws))
        assert abs(draws[col].mean() - mean) < 4 * se
        assert draws[col].var() == pytest.approx(var, rel=0.05)
    # the parameters are perturbed from independently resampled particles
    assert abs(np.corrcoef(draws["a"], draws["b"])[0, 1]) < 0.05


def test_transition_with_one_particle_and_none():
    t = MarginalKdeTransition()
    t.fit(pd.DataFrame({"a": [2.0], "b": [-0.5]}), np.array([1.0]))
    ref = _reference_transition(["a", "b"], 1.0)
    ref.fit(pd.DataFrame({"a": [2.0], "b": [-0.5]}), np.array([1.0]))
    x = pyabc.Parameter({"a": 2.3, "b": -0.1})
    assert t.pdf(x) == pytest.approx(float(ref.pdf(x)), rel=1e-10)
    with pytest.raises(Exception, match="Fitting not possible"):
        MarginalKdeTransition().fit(pd.DataFrame({"a": []}), np.array([]))
