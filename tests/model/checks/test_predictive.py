"""Tests of the predictive checks: the contract's file format, percentiles against scipy, the
joint check, and byte-identical regeneration of a reduced run from the stored posterior."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anrs119.model.checks.predictive import (
    CHECKS_FILE,
    COLUMNS,
    ClaimRef,
    check_rows,
    claim_refs,
    joint_check,
    mid_rank_percentile,
)
from anrs119.model.inference.draws import predictive_summaries, simulate_draws
from anrs119.model.inference.priors import load_priors
from anrs119.model.inference.sample import load_posterior, resample
from anrs119.model.inference.statistics import Statistic, base_values
from anrs119.seeds import TEST_SEED


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(CHECKS_FILE)


def test_file_has_the_contract_columns(table):
    assert tuple(table.columns) == COLUMNS
    assert set(table["distribution"]) == {"prior", "posterior"}
    assert table["outside95"].dtype == bool
    assert ((table["percentile"] >= 0) & (table["percentile"] <= 100)).all()


def test_every_numeric_claim_and_a_joint_row_per_distribution(table):
    numeric = [r.id for r in claim_refs() if r.statistic != "similar"]
    for dist in ("prior", "posterior"):
        ids = set(table.loc[table["distribution"] == dist, "id"])
        assert set(numeric) <= ids
        assert "joint" in ids


def test_mid_rank_percentile_matches_scipy():
    rng = np.random.default_rng(TEST_SEED)
    x = rng.integers(0, 20, 500).astype(float)
    for v in (0.0, 7.0, 7.5, 19.0, 30.0):
        assert mid_rank_percentile(x, v) == pytest.approx(stats.percentileofscore(x, v, "mean"))


def test_infinite_draws_sort_above_and_nan_draws_are_dropped():
    x = np.array([1.0, np.inf, np.nan, 3.0])
    assert mid_rank_percentile(x, 2.0) == pytest.approx(100 / 3)


def test_bound_rows_give_the_share_meeting_the_bound():
    ref = ClaimRef("p", 0.001, "<", "p_value", 0.05)
    rows = check_rows({"p": np.array([0.0001, 0.01, 0.5, 0.0005])}, "prior", [ref])
    assert rows[0]["percentile"] == 50.0 and not rows[0]["outside95"]
    rows = check_rows({"p": np.full(100, 0.5)}, "prior", [ref])
    assert rows[0]["percentile"] == 0.0 and rows[0]["outside95"]


def test_joint_check_flags_a_far_vector_and_not_a_typical_one():
    rng = np.random.default_rng(TEST_SEED)
    s = [Statistic("a", 0.0, "=", False), Statistic("b", 0.0, "=", False)]
    cov = [[1.0, 0.8], [0.8, 1.0]]
    draws = rng.multivariate_normal([0.0, 0.0], cov, 4000)
    typical = joint_check({"a": draws[:, 0], "b": draws[:, 1]}, s)
    assert typical.p_value > 0.5
    far = [Statistic("a", 2.0, "=", False), Statistic("b", -2.0, "=", False)]
    assert joint_check({"a": draws[:, 0], "b": draws[:, 1]}, far).p_value < 0.01
    # the chi-square reference agrees for Gaussian draws
    assert typical.distance**2 == pytest.approx(0.0, abs=0.01)


@pytest.mark.slow
def test_predictive_summaries_do_not_depend_on_the_chunking():
    priors = load_priors()
    base = base_values(priors)
    draws = resample(load_posterior(), 6, np.random.default_rng(TEST_SEED))
    a = predictive_summaries(base, draws, TEST_SEED, chunk=6, progress=False)
    b = predictive_summaries(base, draws, TEST_SEED, chunk=6, progress=False)
    for k in ("primary_w96_il2", "lowvl_art_deferral"):
        np.testing.assert_array_equal(a[k], b[k])
    one = simulate_draws(base, {k: v[:1] for k, v in draws.items()}, 1, TEST_SEED)
    assert set(one) >= {"primary_w96_il2", "safety_aids_similar"}
