"""The walk within the exact set (anrs119.model.reconstruction.search: _walk, walk_chain): it
keeps only exact trials, it moves, its proposals are symmetric (uniform target), and a walk that
cannot move is caught by the mixing diagnostics. Pools of 400 patients per arm keep this fast."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from anrs119.model.reconstruction.chains import rhat
from anrs119.model.reconstruction.search import (
    _strata,
    claim_targets,
    is_exact_selection,
    make_pool,
    pool_of,
    reconstruct,
    take_patients,
    walk_chain,
)
from anrs119.model.reconstruction.validation_tables import RHAT_LIMIT, unmixed
from anrs119.model.simulator.parameters import default_parameters
from anrs119.seeds import TEST_SEED

PER_ARM = 400


@pytest.fixture(scope="module")
def params() -> dict[str, float]:
    return default_parameters(calibrated=True).values()


@pytest.fixture(scope="module")
def pool(params):
    return make_pool(params, TEST_SEED, 0, per_arm=PER_ARM)


@pytest.fixture(scope="module")
def first_hit(pool) -> np.ndarray:
    rec = reconstruct(pool, TEST_SEED, walk=0)
    assert rec.exact
    return rec.selection


def test_every_trial_the_walk_keeps_is_exact(pool, first_hit):
    w = walk_chain(pool, first_hit, np.random.default_rng(TEST_SEED), 30_000, thin=3_000)
    assert len(w.trace) >= 5
    assert all(is_exact_selection(pool, row) for row in w.trace)
    assert w.draw is not None and is_exact_selection(pool, w.draw)
    # the relaxed set is larger: the walk also visits trials that are not exact
    assert 0.0 < w.exact_share < 1.0


def test_the_walk_moves_away_from_its_start(pool, first_hit):
    w = walk_chain(pool, first_hit, np.random.default_rng(TEST_SEED + 1), 30_000)
    accepted = int(w.stats[1] + w.stats[3] + w.stats[5])
    assert accepted > 100
    assert np.intersect1d(w.draw, first_hit).size < first_hit.size - 10


def test_reconstruct_returns_a_walked_draw_not_its_first_hit(pool, first_hit):
    rec = reconstruct(pool, TEST_SEED)  # the same search, then the walk
    np.testing.assert_array_equal(rec.first_hit, first_hit)
    assert rec.walk > 0 and rec.accepted > 0
    assert not np.array_equal(np.sort(rec.selection), np.sort(first_hit))
    assert is_exact_selection(pool, rec.selection)


def test_the_walk_is_uniform_when_every_trial_is_exact(pool):
    """With every interval infinite and every count allowed, the exact set is every trial of
    the forensic strata: a symmetric walk then includes each pool patient of a stratum equally
    often (edges of the viral-load order included)."""
    t = claim_targets()
    free = replace(
        t,
        intervals=np.column_stack([np.full(10, -np.inf), np.full(10, np.inf), t.intervals[:, 2:]]),
        similar=np.ones_like(t.similar),
    )
    _, _, groups = _strata(pool)
    need = (t.events_il2, t.n_il2 - t.events_il2, t.events_control,
            t.n_control - t.events_control)  # fmt: skip
    rng = np.random.default_rng(TEST_SEED)
    sel = np.concatenate(
        [rng.choice(g, k, replace=False) for g, k in zip(groups, need, strict=True)]
    )
    w = walk_chain(pool, sel, rng, 300_000, thin=300, claims=free, relax={})
    counts = np.bincount(w.trace.ravel(), minlength=pool.il2.size)
    for g, k in zip(groups, need, strict=True):
        expected = len(w.trace) * k / g.size
        observed = counts[g]
        assert stats.chisquare(observed, np.full(g.size, expected)).pvalue > 1e-4
        # the ends of the stratum's viral-load order (fewer neighbours) are not under-sampled
        ends = np.concatenate([g[:10], g[-10:]])
        assert counts[ends].mean() == pytest.approx(expected, rel=0.2)


def test_a_walk_that_cannot_move_is_detected(pool, first_hit, params):
    """A pool holding only the trial's own patients leaves the walk nowhere to go; two such
    walks from different trials disagree, and the mixing diagnostics say so."""
    own = take_patients(pool.trials, first_hit)
    ae = pool.adae[pool.adae["PATIENT"].isin(first_hit)].copy()
    ae["PATIENT"] = ae["PATIENT"].map({int(k): i for i, k in enumerate(first_hit)})
    tiny = pool_of(own, params, ae)
    everyone = np.arange(first_hit.size)
    w = walk_chain(tiny, everyone, np.random.default_rng(TEST_SEED), 5_000, thin=500)
    assert int(w.stats[1] + w.stats[3] + w.stats[5]) == 0
    assert all(np.array_equal(row, everyone) for row in w.trace)
    stuck = np.vstack([np.full(10, 0.40), np.full(10, 0.45)])  # two such walks' values
    assert not rhat(stuck) < RHAT_LIMIT
    import pandas as pd

    table = pd.DataFrame(
        {
            "quantity": ["hr", "km", "q75"],
            "rhat": [rhat(stuck), 1.001, np.nan],
            "estimable": True,
            "long_sd": [0.025, 1.0, 0.0],
        }
    )
    assert unmixed(table) == ["hr"]
