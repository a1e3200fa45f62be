"""Tests of the predictive intervals written for the scorecard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anrs119.model.checks.intervals import (
    N_REPLICATES,
    PREDICTIVE_FILE,
    grade34_counts,
    predictive_table,
)
from anrs119.model.simulator.parameters import default_parameters
from anrs119.model.simulator.simulate import simulate_trials
from anrs119.published import load_claims
from anrs119.seeds import TEST_SEED


def test_predictive_file_has_every_result_claim_with_ordered_quantiles():
    table = pd.read_csv(PREDICTIVE_FILE)
    assert list(table.columns) == ["claim_id", "q025", "q50", "q975", "n_replicates"]
    claims = load_claims()
    assert set(table["claim_id"]) == set(claims.index[claims["kind"] == "result"])
    assert (table["q025"] <= table["q50"]).all()
    assert (table["q50"] <= table["q975"]).all()
    assert (table["n_replicates"] <= N_REPLICATES).all()
    assert (table["n_replicates"] > 0.9 * N_REPLICATES).all()


def test_predictive_table_quantiles_match_numpy():
    rng = np.random.default_rng(TEST_SEED)
    x = rng.normal(size=1001)
    x[:3] = np.nan
    row = predictive_table({"a": x}, ["a"]).iloc[0]
    kept = x[~np.isnan(x)]
    ref = np.quantile(kept, [0.025, 0.5, 0.975], method="inverted_cdf")
    assert [row["q025"], row["q50"], row["q975"]] == pytest.approx(list(ref))
    assert row["n_replicates"] == kept.size


def test_grade34_counts_are_bounded_by_arm_sizes():
    p = default_parameters().values()
    tr = next(simulate_trials(p, 30, TEST_SEED))
    g = grade34_counts(tr, p, np.random.default_rng(TEST_SEED))
    assert g.shape == (30, 2)
    assert (g[:, 0] <= p["n_il2"]).all()
    assert (g[:, 1] <= p["n_control"]).all()
    assert g.sum() > 0
