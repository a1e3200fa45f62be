"""Tests of the stored posterior sample: loading, validation, weighted quantiles, resampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
from anrs119.seeds import TEST_SEED


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
