"""Tests of the ABC calibration on a reduced run (tiny population, 2 generations), of its
statistics, and of the stored posterior sample."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from anrs119.model.inference.abc import AbcSettings, mad_or_std, run_abc
from anrs119.model.inference.priors import FREE_PARAMETERS, load_priors
from anrs119.model.inference.sample import (
    POSTERIOR_FILE,
    PosteriorError,
    load_posterior,
    posterior_medians,
    resample,
    weighted_quantile,
    write_posterior,
)
from anrs119.model.inference.statistics import Statistic, statistics, transform
from anrs119.published import load_claims
from anrs119.seeds import TEST_SEED

TINY = AbcSettings(population=12, generations=2, max_simulations=400, max_minutes=2, workers=1)


def test_statistics_are_the_numeric_result_claims():
    c = load_claims()
    numeric = c[(c["kind"] == "result") & c["value"].notna()]
    assert [s.id for s in statistics()] == list(numeric.index)


def test_a_met_bound_costs_nothing_and_a_missed_one_grows():
    s = Statistic("x", 0.001, "<", log_scale=True)
    assert s.observed == 0.0
    v = transform(s, np.array([1e-5, 0.001, 0.01, 0.1]))
    np.testing.assert_allclose(v, [0.0, 0.0, 1.0, 2.0])


def test_p_values_are_compared_on_the_log_scale():
    s = Statistic("p", 0.008, "=", log_scale=True)
    assert s.observed == pytest.approx(math.log10(0.008))
    assert transform(s, np.array([0.0]))[0] == pytest.approx(-12.0)


def test_deferral_not_reached_is_capped():
    s = Statistic("d", 92.0, "=", log_scale=False, cap=150.0)
    np.testing.assert_array_equal(
        transform(s, np.array([np.inf, -np.inf, np.nan, 40.0])), [150.0, -150.0, 0.0, 40.0]
    )


def test_scale_falls_back_to_the_sd_where_the_mad_vanishes():
    samples = np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0], [3.0, 4.0]])
    scale = mad_or_std(samples=samples)
    assert scale[0] == pytest.approx(np.std(samples[:, 0]))
    assert scale[1] == pytest.approx(1.4826 * 1.0)


def test_weighted_quantile_matches_repetition():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([1.0, 1.0, 1.0, 5.0])
    rep = np.repeat(x, w.astype(int))
    assert weighted_quantile(x, w, 0.5) == pytest.approx(np.median(rep), abs=0.5)
    assert weighted_quantile(x, np.ones(4), 0.5) == pytest.approx(2.5)


def test_resampling_follows_the_weights():
    frame = pd.DataFrame({n: np.arange(4.0) for n in FREE_PARAMETERS})
    frame["weight"] = [0.1, 0.2, 0.3, 0.4]
    d = resample(frame, 10_000, np.random.default_rng(TEST_SEED))
    share = np.bincount(d[FREE_PARAMETERS[0]].astype(int), minlength=4) / 10_000
    np.testing.assert_allclose(share, frame["weight"], atol=1e-3)


def test_stored_posterior_is_valid_and_within_prior_support():
    sample = load_posterior()
    priors = load_priors()
    assert len(sample) >= 100
    assert sample["weight"].sum() == pytest.approx(1.0)
    for p in priors:
        lo, hi = p.internal_bounds()
        u = p.to_internal(sample[p.parameter].to_numpy())
        assert np.all((u >= lo) & (u <= hi)), p.parameter
    med = posterior_medians(sample)
    assert set(med) == set(FREE_PARAMETERS)


def test_stored_posterior_round_trips_byte_identically(tmp_path):
    sample = load_posterior()
    raw = pd.read_csv(POSTERIOR_FILE)
    out = write_posterior(raw, tmp_path / "posterior.csv")
    assert out.read_bytes() == POSTERIOR_FILE.read_bytes()
    assert len(sample) == len(raw)


def test_bad_posterior_names_line_and_column(tmp_path):
    raw = pd.read_csv(POSTERIOR_FILE)
    raw.loc[3, "il2_halflife"] = np.nan
    path = tmp_path / "posterior.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(PosteriorError, match=r"line 5: column il2_halflife"):
        load_posterior(path)


@pytest.mark.slow
def test_reduced_abc_run_gives_a_weighted_sample_and_diagnostics():
    result = run_abc(TINY, seed=TEST_SEED, progress=False)
    assert list(result.sample.columns) == [*FREE_PARAMETERS, "weight"]
    assert len(result.sample) == TINY.population
    assert result.sample["weight"].sum() == pytest.approx(1.0)
    d = result.diagnostics
    assert list(d["generation"]) == [0, 1]
    assert (d["acceptance_rate"] > 0).all() and (d["acceptance_rate"] <= 1).all()
    assert (d["ess"] >= 1).all() and (d["ess"] <= TINY.population + 1e-9).all()
    # adaptive scales change between generations, so epsilon need not fall monotonically
    assert np.isfinite(d["epsilon"]).all() and (d["epsilon"] > 0).all()


@pytest.mark.slow
def test_reduced_abc_run_on_a_dask_cluster(monkeypatch):
    from distributed import LocalCluster

    from anrs119.model.inference.abc import SCHEDULER_ENV, sampler

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False) as cluster:
        monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
        smp = sampler()
        assert type(smp).__name__ == "DaskDistributedSampler"
        smp.shutdown()  # its client, before the cluster closes (else it retries, noisily)
        result = run_abc(TINY, seed=TEST_SEED, progress=False)
    assert len(result.sample) == TINY.population
    assert list(result.diagnostics["generation"]) == [0, 1]
