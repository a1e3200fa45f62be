"""Tests of simulation-based calibration: the batch posteriors are the book's method bit for bit;
on a conjugate normal model whose posterior is known, the check passes a calibrated posterior
and fails a deliberately overconfident one; a reduced run on a small real table is
deterministic; the committed run has the issue's size and format."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from anrs119.model.checks import sbc
from anrs119.model.checks.batch import Posteriors
from anrs119.model.inference.priors import FREE_PARAMETERS
from anrs119.model.inference.reference import ReferenceTable, build_reference_table
from anrs119.model.inference.rejection import Fit, Unbounded, fit, neighbourhood
from anrs119.seeds import TEST_SEED

IDENTITY = Unbounded(("identity", "identity"), np.array([-math.inf] * 2), np.array([math.inf] * 2))


def _conjugate_table(n: int, seed: int, decimals: int | None = None) -> ReferenceTable:
    """theta ~ N(0, 1) twice, each observed once with N(0, 0.5^2) noise; ``decimals`` rounds
    the statistics as a printed abstract would (ties), and a few trials print nothing."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n, 2))
    s = theta + 0.5 * rng.normal(size=(n, 2))
    if decimals is not None:
        s = np.round(s, decimals)
        s[rng.choice(n, 5, replace=False), 1] = np.nan
    return ReferenceTable(theta, s, ("a", "b"), ("sa", "sb"))


def _method(table, obs, accepted, exclude=None, columns=None) -> Fit:
    """The book's method as abc_posterior runs it, for a table without priors."""
    cols = list(range(table.statistics.shape[1])) if columns is None else columns
    sub = ReferenceTable(
        table.parameters,
        table.statistics[:, cols],
        table.names,
        tuple(table.statistic_ids[c] for c in cols),
    )
    nb = neighbourhood(
        sub,
        obs,
        3 * accepted,
        scales=np.ones(len(cols)),
        unbounded=IDENTITY,
        exclude=None if exclude is None else np.array([exclude]),
    )
    return fit(nb, accepted)


@pytest.mark.parametrize("row", [0, 17, 1234])
def test_batch_posteriors_are_the_method_bit_for_bit(row):
    table = _conjugate_table(20_000, TEST_SEED, decimals=2)  # many exact ties in distance
    engine = Posteriors(table, IDENTITY, 300, scales=np.ones(2))
    obs = np.nan_to_num(table.statistics[row])
    a, b = _method(table, obs, 300, exclude=row), engine.fit(obs, exclude=row)
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert a.bandwidth == b.bandwidth and row not in b.rows
    one = Posteriors(table, IDENTITY, 300, scales=np.ones(2), columns=[1]).fit(obs[[1]])
    np.testing.assert_array_equal(_method(table, obs[[1]], 300, columns=[1]).theta, one.theta)


def test_unit_importance_weights_change_nothing():
    table = _conjugate_table(20_000, TEST_SEED)
    obs = np.array([0.3, -0.4])
    plain = Posteriors(table, IDENTITY, 300, scales=np.ones(2)).fit(obs)
    ones = Posteriors(table, IDENTITY, 300, scales=np.ones(2), importance=np.ones(len(table))).fit(
        obs
    )
    np.testing.assert_allclose(plain.theta, ones.theta, rtol=1e-12, atol=1e-12)
    assert plain.bandwidth == ones.bandwidth
    with pytest.raises(ValueError, match="importance"):
        Posteriors(table, IDENTITY, 300, importance=-np.ones(len(table)))


@pytest.fixture(scope="module")
def calibrated() -> pd.DataFrame:
    return _conjugate_sbc()


def _conjugate_sbc(fit_abstract=None) -> pd.DataFrame:
    table = _conjugate_table(40_000, TEST_SEED + 1)
    settings = sbc.Settings(400, np.ones(2), IDENTITY)
    return sbc.run_sbc(
        table,
        np.array([1.5, -1.5]),
        settings,
        progress=False,
        replicates={sbc.PRIOR_SET: 200, sbc.NEAR_SET: 120},
        fit_abstract=fit_abstract,
    )


def test_a_calibrated_posterior_passes(calibrated):
    """On the conjugate model the regression-adjusted posterior is close to exact: ranks
    uniform and intervals covering at their nominal rate, also near an abstract in the tail."""
    frame = calibrated
    u = sbc.uniformity(frame)
    assert not u["rejected"].any(), u
    cov = sbc.coverage(frame)
    assert not cov["rejected"].any(), cov
    assert (abs(cov["coverage"] - cov["level"]) < 4 * cov["mc_se"]).all()


def test_an_overconfident_posterior_fails():
    """The same posteriors with their spread shrunk to 40%: the check must see it."""
    table = _conjugate_table(40_000, TEST_SEED + 1)
    settings = sbc.Settings(400, np.ones(2), IDENTITY)
    frame = sbc.run_sbc(
        table,
        np.array([1.5, -1.5]),
        settings,
        progress=False,
        shrink=0.4,
        replicates={sbc.PRIOR_SET: 200, sbc.NEAR_SET: 120},
    )
    u = sbc.uniformity(frame)
    assert u["rejected"].all(), u
    assert (u["outer_tenth"] > 0.3).all()  # a U-shaped rank histogram
    cov = sbc.coverage(frame)
    assert (cov.loc[cov["level"] == 0.9, "coverage"] < 0.6).all()


def test_holm_is_statsmodels_holm():
    p = np.array([0.001, 0.04, 0.013, 0.2, 0.0004, 0.03])
    expected = multipletests(p, alpha=0.05, method="holm")[0]
    np.testing.assert_array_equal(sbc.holm(p), expected)


def test_ranks_fill_the_histogram_and_bins_must_divide(calibrated):
    frame = calibrated
    hist = sbc.rank_histogram(frame)
    per = hist.groupby(["set", "parameter"])["count"].sum()
    assert set(per) == {200, 120}
    with pytest.raises(ValueError, match="equal bins"):
        sbc.rank_histogram(frame, bins=7)


# ---------------------------------------------------------------- the real model, reduced


@pytest.fixture(scope="module")
def tiny_table() -> ReferenceTable:
    # one chunk: simulated in this process, no worker pool to start
    return build_reference_table(1_500, TEST_SEED, chunk=1_500, progress=False)


def test_a_reduced_run_on_the_model_is_deterministic(tiny_table, tmp_path):
    settings = sbc.paper_settings(tiny_table, share=0.05)
    assert settings.accepted == 75
    observed = np.nanmedian(tiny_table.statistics, axis=0)
    kw = dict(replicates={sbc.PRIOR_SET: 6, sbc.NEAR_SET: 6, sbc.TAIL_SET: 4}, progress=False)
    a = sbc.run_sbc(tiny_table, observed, settings, **kw)
    b = sbc.run_sbc(tiny_table, observed, settings, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 16 * len(FREE_PARAMETERS)
    # the sparse set: the abstracts with the widest neighbourhoods of those screened
    tail = a[a["set"] == sbc.TAIL_SET].groupby("replicate")["bandwidth"].first()
    assert tail.median() > a[a["set"] == sbc.PRIOR_SET]["bandwidth"].median()
    first = sbc.write_sbc(a, tmp_path / "a.csv").read_bytes()
    assert sbc.write_sbc(sbc.read_sbc(tmp_path / "a.csv"), tmp_path / "b.csv").read_bytes() == first
    near = a[a["set"] == sbc.NEAR_SET]
    assert near["row"].is_unique is False  # 14 rows per replicate
    assert near.groupby("replicate")["row"].nunique().eq(1).all()


def test_a_bad_file_is_named_with_its_rule(tmp_path):
    bad = tmp_path / "sbc.csv"
    pd.DataFrame(
        {
            "set": ["prior"],
            "replicate": [0],
            "row": [1],
            "parameter": ["a"],
            "true": [1.0],
            "rank": [120],
            "draws": [99],
            "in50": [True],
            "in90": [True],
            "in95": [True],
            "median": [1.0],
            "sd_ratio": [0.5],
            "bandwidth": [1.0],
        }
    ).to_csv(bad, index=False)
    with pytest.raises(ValueError, match=r"sbc\.csv: line 2: column rank"):
        sbc.read_sbc(bad)


# ---------------------------------------------------------------- the committed run


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return sbc.read_sbc()


def test_the_committed_run_has_the_issues_size_and_format(committed):
    reps = committed.groupby("set")["replicate"].nunique()
    assert reps[sbc.PRIOR_SET] >= 200 and reps[sbc.NEAR_SET] >= 200 and reps[sbc.TAIL_SET] >= 200
    assert (committed.groupby(["set", "replicate"]).size() == len(FREE_PARAMETERS)).all()
    assert set(committed["parameter"]) == set(FREE_PARAMETERS)
    assert committed["draws"].nunique() == 1
    # central intervals are nested: inside the 50% means inside the 90% and the 95%
    assert not (committed["in50"] & ~committed["in90"]).any()
    assert not (committed["in90"] & ~committed["in95"]).any()
    near = committed[committed["set"] == sbc.NEAR_SET].groupby("replicate")["row"].first()
    assert near.is_unique


def test_the_command_writes_the_same_bytes_twice(monkeypatch, tmp_path):
    """``python -m anrs119 sbc`` at toy sizes: its table simulated once into an empty cache
    (and said so), then read from it; the files identical on the second run."""
    monkeypatch.setenv("ANRS119_CACHE", str(tmp_path / "cache"))
    reps = {sbc.PRIOR_SET: 3, sbc.NEAR_SET: 3, sbc.TAIL_SET: 3}
    first = sbc.sbc_main(progress=False, folder=tmp_path / "a", size=1_500, replicates=reps)
    second = sbc.sbc_main(progress=False, folder=tmp_path / "b", size=1_500, replicates=reps)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    method = sbc.read_method(first[1])
    assert method["control"]["shrink"] == sbc.CONTROL_SHRINK
    assert method["replicates"] == reps and method["published_bandwidth"] > 0
