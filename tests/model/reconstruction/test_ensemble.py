"""Tests of the ensemble of exact reconstructions (anrs119.model.reconstruction.ensemble).

Small ensembles (3 exact reconstructions, 10 reference trials per draw) built several ways:
the table must be the same whoever runs the draws (one process or two, waves cut differently),
stop at the n-th exact draw, and record a failed draw as a failure rather than drop it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from anrs119 import ARMS
from anrs119.model.inference.priors import FREE_PARAMETERS, load_priors
from anrs119.model.inference.sample import load_posterior
from anrs119.model.inference.statistics import base_values
from anrs119.model.reconstruction import search as reconstruct_module
from anrs119.model.reconstruction.ensemble import (
    TRAJECTORY_QUANTILES,
    build_ensemble,
    ensemble_draws,
)
from anrs119.model.reconstruction.ensemble_tables import QUANTITIES
from anrs119.model.simulator.schedule import visit_weeks

N = 3
REFERENCE = 10

NOT_ALWAYS_REACHED = {
    "art_median_il2",
    "art_median_control",
    "art_q75_il2",
    "art_q75_control",
    "lowvl_art_deferral:median",
}
"""Quantiles of time to ART that a trial need not reach (inf, or NaN for a difference of two
quantiles not reached); every other quantity of an exact reconstruction is a finite number."""

PERCENT = [k for k in QUANTITIES if k.startswith("km_free_") or k.endswith(":crude")]
COUNTS = [k for k in QUANTITIES if k.split("_w96")[0] in ("aids", "death", "grade34")]


@pytest.fixture(scope="module")
def base() -> dict[str, float]:
    return base_values(load_priors())


@pytest.fixture(scope="module")
def draws() -> dict[str, np.ndarray]:
    sample = ensemble_draws(load_posterior(), 10)
    return {k: v for k, v in sample.items() if k in FREE_PARAMETERS}


def build(base, draws, workers: int, task_draws: int, n: int = N):
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ANRS119_DASK_SCHEDULER", raising=False)
        mp.setenv("ANRS119_WORKERS", str(workers))
        return build_ensemble(
            base, draws, n, reference=REFERENCE, task_draws=task_draws, progress=False
        )


@pytest.fixture(scope="module")
def two_workers(base, draws):
    """One task per draw on two worker processes."""
    return build(base, draws, workers=2, task_draws=1)


@pytest.fixture(scope="module")
def one_worker(base, draws):
    """The same draws in this process, cut into tasks of two draws."""
    return build(base, draws, workers=1, task_draws=2)


def test_the_table_stops_at_the_nth_exact_draw(two_workers, draws):
    table = two_workers.table
    assert table["exact"].sum() == N
    assert bool(table["exact"].iloc[-1])
    assert table["draw"].tolist() == list(range(len(table)))
    for name in draws:
        # the stored table keeps 6 decimals
        np.testing.assert_allclose(table[f"param:{name}"], draws[name][: len(table)], atol=5e-7)
    assert table["exact"].dtype == bool
    assert table["restarts"].between(1, reconstruct_module.RESTARTS).all()


def test_exact_rows_have_their_unpublished_quantities(two_workers):
    exact = two_workers.table[two_workers.table["exact"]]
    for key in QUANTITIES:
        values = exact[key].to_numpy()
        if key in NOT_ALWAYS_REACHED:
            if key.startswith("art_"):
                assert (values > 0).all(), key  # a time, or inf: never NaN
        else:
            assert np.isfinite(values).all(), key
        pct = exact[f"pct:{key}"].to_numpy()
        if key in NOT_ALWAYS_REACHED:
            # withheld (NaN) only where too few of the draw's own trials reach the quantity
            pct = pct[~np.isnan(pct)]
        assert ((pct >= 0) & (pct <= 100)).all(), key
    assert (exact["hr_primary_w96"] > 0).all()
    assert exact["logrank_p_primary_w96"].between(0, 1).all()
    for key in PERCENT:
        assert exact[key].between(0, 100).all(), key
    for key in COUNTS:
        n = 66 if key.endswith("_il2") else 64
        assert exact[key].between(0, n).all() and (exact[key] % 1 == 0).all(), key
    for arm in ("il2", "control"):
        km = exact[[f"km_free_w{w}_{arm}" for w in (48, 96, 150)]].to_numpy()
        assert (np.diff(km, axis=1) <= 1e-9).all(), arm  # survival never rises
        q = exact[[f"art_q25_{arm}", f"art_median_{arm}", f"art_q75_{arm}"]].to_numpy()
        assert (q[:, :-1] <= q[:, 1:]).all(), arm  # q25 <= median <= q75 (inf if not reached)


def test_the_reference_trial_is_recorded_for_every_draw(two_workers):
    table = two_workers.table
    for key in QUANTITIES:
        assert f"ref:{key}" in table
    for key in ("hr_primary_w96", "km_free_w96_il2", "n_lowvl_il2", "baseline_cd4_il2"):
        assert np.isfinite(table[f"ref:{key}"]).all(), key


def test_two_runs_give_the_same_table(one_worker, base, draws):
    again = build(base, draws, workers=1, task_draws=2)
    pd.testing.assert_frame_equal(again.table, one_worker.table)
    pd.testing.assert_frame_equal(again.cd4, one_worker.cd4)


def test_the_table_does_not_depend_on_who_runs_the_draws(two_workers, one_worker):
    pd.testing.assert_frame_equal(one_worker.table, two_workers.table)
    pd.testing.assert_frame_equal(one_worker.cd4, two_workers.cd4)


def test_the_trajectory_summary_covers_both_sources_arms_and_every_visit(two_workers, base):
    cd4 = two_workers.cd4
    weeks = visit_weeks(float(base["subgroup_week"])).astype(int).tolist()
    assert set(cd4["source"]) == {"reconstruction", "unconditioned"}
    for source in ("reconstruction", "unconditioned"):
        for arm in ARMS:
            part = cd4[(cd4["source"] == source) & (cd4["arm"] == arm)]
            assert part["week"].tolist() == weeks, (source, arm)
    q = cd4[[f"q{x:g}" for x in TRAJECTORY_QUANTILES]].to_numpy()
    assert np.isfinite(q[cd4["week"].to_numpy() <= 96]).all()
    ok = np.isfinite(q).all(axis=1)
    assert (np.diff(q[ok], axis=1) >= 0).all()
    assert len(cd4) == 2 * len(ARMS) * len(weeks)


FAILED_DRAW = 1


@pytest.fixture(scope="module")
def with_a_failure(base, draws):
    """Draw 1's search gets no budget (sweeps = 0), in this process, so it fails for real."""
    real = reconstruct_module.reconstruct
    real_pool = reconstruct_module.make_pool
    current = {}

    def make_pool(p, seed, replicate, per_arm=reconstruct_module.POOL_PER_ARM):
        current["draw"] = replicate  # run_draw makes draw i's pool as replicate i
        return real_pool(p, seed, replicate, per_arm)

    def reconstruct(pool, seed, **kwargs):
        if current["draw"] == FAILED_DRAW:
            kwargs.update(sweeps=0, restarts=1)
        return real(pool, seed, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reconstruct_module, "make_pool", make_pool)
        mp.setattr(reconstruct_module, "reconstruct", reconstruct)
        return build(base, draws, workers=1, task_draws=2, n=2)


def test_a_failed_draw_is_recorded_not_dropped(with_a_failure, two_workers):
    table = with_a_failure.table
    assert table["draw"].tolist() == [0, 1, 2]
    assert table["exact"].tolist() == [True, False, True]
    failed = table.iloc[FAILED_DRAW]
    for key in QUANTITIES:
        assert math.isnan(failed[key]), key
        assert math.isnan(failed[f"pct:{key}"]), key
    # the failure changes nothing else: its reference trial and the other draws are as before
    ref = [c for c in table if c.startswith(("param:", "ref:"))]
    pd.testing.assert_frame_equal(table[ref], two_workers.table[ref].iloc[:3])
    others = table[table["exact"]].reset_index(drop=True)
    expected = two_workers.table.iloc[[0, 2]].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        others.drop(columns="restarts"), expected.drop(columns="restarts")
    )


def test_a_failed_draw_leaves_the_reconstruction_trajectories_to_the_exact_ones(with_a_failure):
    cd4 = with_a_failure.cd4
    recon = cd4[cd4["source"] == "reconstruction"]
    assert np.isfinite(recon[recon["week"] <= 96]["q50"]).all()


def test_too_few_exact_draws_is_an_error_not_a_short_table(base, draws):
    few = {k: v[:2] for k, v in draws.items()}
    with pytest.raises(RuntimeError, match="exact reconstructions"):
        build(base, few, workers=1, task_draws=2, n=3)
