"""Tests of the cross-claim checks: the place of one statement given the rest of an abstract
matches the exact conditional distribution of a Gaussian table, its p values are uniform for
abstracts the table's own model prints, a statement that conflicts only with the rest is
flagged, and the nearest-trial selection is a stable sort."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from anrs119.model.checks.crossclaim import (
    GROUPS,
    PredictiveTable,
    cross_claim_check,
    cross_claim_checks,
    nearest,
)
from anrs119.seeds import TEST_SEED

IDS = tuple(i for ids in GROUPS.values() for i in ids)
DECIMALS = {i: 2 for i in IDS}
CD4 = GROUPS["CD4 changes"]


def _covariance() -> np.ndarray:
    """Unit variances; the CD4 pair leans on the primary pair (0.6), everything else apart."""
    c = np.eye(len(IDS))
    for a in CD4:
        for b in GROUPS["primary end point"]:
            c[IDS.index(a), IDS.index(b)] = c[IDS.index(b), IDS.index(a)] = 0.45
    c[IDS.index(CD4[0]), IDS.index(CD4[1])] = c[IDS.index(CD4[1]), IDS.index(CD4[0])] = 0.3
    return c


@pytest.fixture(scope="module")
def gaussian():
    rng = np.random.default_rng([TEST_SEED, 41])
    cov = _covariance()
    x = rng.multivariate_normal(np.zeros(len(IDS)), cov, 60_000)
    return PredictiveTable.of(x, IDS), cov


def _conditional(cov: np.ndarray, observed: dict[str, float], target: str) -> tuple[float, float]:
    """Mean and SD of one claim given every claim outside its group (exact, Gaussian)."""
    t = [IDS.index(target)]
    group = next(g for g in GROUPS.values() if target in g)
    rest = [j for j, i in enumerate(IDS) if i not in group]
    s_tr = cov[np.ix_(t, rest)]
    s_rr = cov[np.ix_(rest, rest)]
    x = np.array([observed[IDS[j]] for j in rest])
    mean = float((s_tr @ np.linalg.solve(s_rr, x))[0])
    var = float(cov[t[0], t[0]] - (s_tr @ np.linalg.solve(s_rr, s_tr.T))[0, 0])
    return mean, var**0.5


def test_percentiles_match_the_exact_conditional_distribution(gaussian):
    table, cov = gaussian
    observed = {i: 0.0 for i in IDS}
    observed.update({"primary_w96_il2": 1.2, "primary_w96_control": 0.8, CD4[0]: -0.9})
    check = cross_claim_check(table, observed, DECIMALS, "CD4 changes")
    for cid in CD4:
        mean, sd = _conditional(cov, observed, cid)
        exact = 100 * stats.norm.cdf((observed[cid] - mean) / sd)
        assert check.percentiles[cid] == pytest.approx(exact, abs=3.0)
    # the same claim ignoring the rest sits elsewhere: the conditioning is what is measured
    marginal = 100 * stats.norm.cdf(observed[CD4[0]])
    assert abs(check.percentiles[CD4[0]] - marginal) > 10


def test_p_values_are_uniform_for_abstracts_the_model_prints(gaussian):
    table, cov = gaussian
    rng = np.random.default_rng([TEST_SEED, 42])
    abstracts = rng.multivariate_normal(np.zeros(len(IDS)), cov, 200)
    observed = [dict(zip(IDS, a, strict=True)) for a in abstracts]
    p = np.array(
        [cross_claim_check(table, o, DECIMALS, "CD4 changes", 500).p_value for o in observed]
    )
    # 200 uniform p values: Kolmogorov-Smirnov, and the false-alarm share at 5%
    assert stats.kstest(p, "uniform").pvalue > 0.001
    assert np.mean(p < 0.05) <= 0.10


def test_a_statement_that_conflicts_only_with_the_rest_is_flagged(gaussian):
    """CD4 values typical on their own (z = 0.8) but far from what the primary pair predicts."""
    table, _ = gaussian
    observed = {i: 0.0 for i in IDS}
    observed.update({"primary_w96_il2": -2.0, "primary_w96_control": -2.0})
    observed.update({CD4[0]: 0.8, CD4[1]: 0.8})
    checks = cross_claim_checks(table, observed, DECIMALS)
    assert checks["CD4 changes"].p_value < 0.01
    assert checks["viral-load changes"].p_value > 0.05
    consistent = dict(observed)
    consistent.update({CD4[0]: -1.3, CD4[1]: -1.3})
    assert cross_claim_check(table, consistent, DECIMALS, "CD4 changes").p_value > 0.05


def test_the_neighbours_come_from_at_most_one_in_twenty_trials(gaussian):
    table, _ = gaussian
    small = PredictiveTable(table.statistics[:1_000], table.ids, table.scale)
    assert cross_claim_check(small, {i: 0.0 for i in IDS}, DECIMALS, "CD4 changes").neighbours == 50


@settings(max_examples=200, deadline=None)
@given(
    d=st.lists(st.integers(0, 6).map(float), min_size=1, max_size=40),
    k=st.integers(1, 40),
)
def test_nearest_is_a_stable_sort_of_the_distances(d: list[float], k: int):
    d_arr = np.array(d)
    k = min(k, d_arr.size)
    expected = np.lexsort((np.arange(d_arr.size), d_arr))[:k]
    assert nearest(d_arr, k).tolist() == expected.tolist()


def test_the_prediction_is_local_where_the_spread_depends_on_the_rest():
    """CD4 values whose spread grows with the primary percentage (no linear adjustment can see
    it): near a primary value of 0.1 the spread is a tenth of what it is over the table. The
    other statements follow the primary percentage closely, as the book's do (seven nearly
    independent statements would leave no trial near the abstract in all of them)."""
    rng = np.random.default_rng([TEST_SEED, 43])
    n = 100_000
    x = rng.normal(size=(n, len(IDS)))
    lead = x[:, IDS.index("primary_w96_il2")].copy()
    for j, cid in enumerate(IDS):
        if cid not in CD4 and cid != "primary_w96_il2":
            x[:, j] = lead + 0.2 * x[:, j]
    spread = np.abs(lead)
    for cid in CD4:
        x[:, IDS.index(cid)] *= spread
    table = PredictiveTable.of(x, IDS)
    observed = {i: 0.1 for i in IDS}
    observed.update({CD4[0]: 0.5, CD4[1]: 0.5})
    check = cross_claim_check(table, observed, DECIMALS, "CD4 changes")
    assert check.p_value < 0.01
    assert check.percentiles[CD4[0]] > 99
