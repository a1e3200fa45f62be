"""Tests of the reference table and the posterior run: the same table whatever the number of
workers and from the cache, a deterministic posterior run whose accuracy criteria can fail, and
a committed posterior that meets them and agrees with its own summaries."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from anrs119.model.inference import posterior as post
from anrs119.model.inference.priors import FREE_PARAMETERS
from anrs119.model.inference.reference import (
    CACHE_ENV,
    build_reference_table,
    cache_key,
    reference_table,
)
from anrs119.model.inference.sample import POSTERIOR_FILE, load_posterior, weighted_quantile
from anrs119.model.inference.statistics import posterior_statistics
from anrs119.seeds import TEST_SEED

SMALL = 12_000
CHUNK = 3_000


@pytest.fixture(scope="module")
def small_table():
    return build_reference_table(SMALL, TEST_SEED, chunk=CHUNK, progress=False)


def test_the_table_is_the_same_whatever_the_number_of_workers(monkeypatch, small_table):
    monkeypatch.setenv("ANRS119_WORKERS", "1")
    part = build_reference_table(2 * CHUNK, TEST_SEED, chunk=CHUNK, progress=False)
    assert np.array_equal(part.parameters, small_table.parameters[: 2 * CHUNK])
    assert np.array_equal(part.statistics, small_table.statistics[: 2 * CHUNK], equal_nan=True)
    assert part.statistic_ids == tuple(s.id for s in posterior_statistics())
    assert part.names == FREE_PARAMETERS


def test_the_table_prints_what_the_paper_prints(small_table):
    """Whole percentages and whole cells; viral-load medians in hundredths."""
    for sid, decimals in ((s.id, s.decimals) for s in posterior_statistics()):
        x = small_table.column(sid)
        x = x[np.isfinite(x)]
        assert np.allclose(x * 10**decimals, np.round(x * 10**decimals)), sid


def test_the_cache_returns_the_table_it_stored(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    built = reference_table(CHUNK, TEST_SEED, chunk=CHUNK // 2, progress=False)
    assert len(list(tmp_path.glob("reference-*.npz"))) == 1
    cached = reference_table(CHUNK, TEST_SEED, chunk=CHUNK // 2, progress=False)
    assert np.array_equal(built.parameters, cached.parameters)
    assert cached.statistic_ids == built.statistic_ids
    assert cache_key(CHUNK, TEST_SEED, CHUNK // 2) != cache_key(CHUNK, TEST_SEED + 1, CHUNK // 2)


def test_a_posterior_run_is_deterministic_and_its_criteria_can_fail(small_table):
    """On a table far too small for 1,000 effective draws no rung passes: the run says so."""
    a = post.run_posterior(small_table, ladder=(1_400, 1_000), replicates=30)
    b = post.run_posterior(small_table, ladder=(1_400, 1_000), replicates=30)
    assert a.sample.equals(b.sample)
    assert np.array_equal(a.mcse, b.mcse)
    assert not a.converged and not any(r.passes for r in a.rungs)
    report = post.method_report(a)
    assert report["converged"] is False and report["accepted"] == a.chosen.accepted
    q = post.quantiles_table(a)
    assert len(q) == len(FREE_PARAMETERS) * len(post.REPORTED)
    assert (q["mcse"] > 0).all()


@pytest.fixture(scope="module")
def method() -> dict:
    return json.loads(post.METHOD_FILE.read_text(encoding="utf-8"))


def test_the_committed_posterior_meets_the_accuracy_criteria(method):
    crit = method["criteria"]
    assert method["converged"] is True
    assert method["ess"] >= crit["min_ess"] == post.MIN_ESS
    assert method["max_halving_z"] <= crit["max_halving_z"]
    assert method["max_halves_z"] < crit["max_halves_z"]
    assert method["reference_trials"] >= 1_000_000
    q = pd.read_csv(post.QUANTILES_FILE)
    assert q["halves_z"].abs().max() == pytest.approx(method["max_halves_z"], abs=1e-3)


def test_the_committed_posterior_agrees_with_its_quantiles(method):
    sample = load_posterior()
    raw = pd.read_csv(POSTERIOR_FILE)
    assert list(raw.columns) == [*FREE_PARAMETERS, "weight"]
    assert len(raw) <= method["accepted"]
    q = pd.read_csv(post.QUANTILES_FILE).set_index(["parameter", "quantile"])
    w = sample["weight"].to_numpy()
    for name in FREE_PARAMETERS:
        med = weighted_quantile(sample[name].to_numpy(), w, 0.5)
        # the stored draws carry five significant digits; the quantile is far less precise
        assert med == pytest.approx(q.loc[(name, 0.5), "value"], rel=2e-3, abs=1e-6), name
        assert q.loc[(name, 0.5), "mcse"] > 0
    ess = 1.0 / np.sum(w**2)
    assert ess == pytest.approx(method["ess"], rel=1e-3)
