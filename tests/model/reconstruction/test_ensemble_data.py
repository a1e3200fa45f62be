"""The committed ensemble (data/model/ensemble*.csv): its rows regenerate byte for byte, and
its summaries say what the chapter prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anrs119.model.files import write_csv
from anrs119.model.inference.priors import FREE_PARAMETERS, load_priors
from anrs119.model.inference.sample import load_posterior
from anrs119.model.inference.statistics import base_values
from anrs119.model.reconstruction import ensemble as ens
from anrs119.model.reconstruction import ensemble_tables as tables
from anrs119.seeds import ENSEMBLE_SEED

REGENERATED = (0, 1, 2)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return tables.read_ensemble()


def test_first_rows_regenerate_byte_for_byte(tmp_path: Path) -> None:
    """Each draw's row depends on its index alone: recomputing three of them from the stored
    posterior and the seed gives the committed CSV lines exactly."""
    base = base_values(load_priors())
    draws = ens.ensemble_draws(load_posterior())
    rows = [
        ens.run_draw(
            base,
            {k: float(v[i]) for k, v in draws.items() if k in FREE_PARAMETERS},
            i,
            ENSEMBLE_SEED,
            tables.REFERENCE_TRIALS,
        ).row
        for i in REGENERATED
    ]
    path = write_csv(ens.ensemble_table(rows), tmp_path / "rows.csv")
    committed = tables.ENSEMBLE_FILE.read_text(encoding="utf-8").splitlines()
    mine = path.read_text(encoding="utf-8").splitlines()
    assert mine == committed[: len(REGENERATED) + 1]


def test_the_ensemble_holds_the_asked_number_of_exact_reconstructions(table) -> None:
    assert int(table["exact"].sum()) == tables.N_RECONSTRUCTIONS
    assert bool(table["exact"].iloc[-1]), "the table stops at the last exact reconstruction"
    assert table["draw"].tolist() == list(range(len(table)))
    exact = table[table["exact"]]
    for q in tables.QUANTITIES:
        pct = exact[f"pct:{q}"].dropna()
        assert pct.between(0, 100).all(), q
    assert np.isfinite(exact["hr_primary_w96"]).all()


def test_trajectory_summary_has_both_sources_arms_and_weeks() -> None:
    cd4 = tables.read_trajectories()
    assert set(cd4["source"]) == {"reconstruction", "unconditioned"}
    weeks = cd4.groupby(["source", "arm"])["week"].apply(list)
    assert len(weeks) == 4
    assert len({tuple(w) for w in weeks}) == 1
    q = cd4[[f"q{x:g}" for x in ens.TRAJECTORY_QUANTILES]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()


def test_leaves_open_verdicts_follow_the_stated_cut_points(table) -> None:
    ranges = tables.leaves_open(table)
    finite = ranges[np.isfinite(ranges["width_ratio"])]
    pinned = finite["width_ratio"] <= tables.PINNED
    assert (finite.loc[pinned, "verdict"] == "pinned down").all()
    barely = finite["width_ratio"] > tables.NARROWED
    assert (finite.loc[barely, "verdict"] == "barely constrained").all()
    # the quantities the published numbers fix most directly must come out pinned down
    by = ranges.set_index("quantity")["verdict"]
    assert by["km_free_w96_il2"] == "pinned down"
    assert by["km_free_w96_control"] == "pinned down"


def test_typicality_flags_a_shifted_quantity_and_not_a_uniform_one() -> None:
    """The tail test can fail: uniform percentiles pass it, percentiles piled at one end do not."""
    rng = np.random.default_rng(0)
    n = 200
    rows = {"exact": np.ones(n, bool)}
    for q in tables.QUANTITIES:
        rows[f"pct:{q}"] = rng.uniform(0, 100, n)
    rows["pct:hr_primary_w96"] = rng.uniform(95, 100, n)
    typ = tables.typicality(pd.DataFrame(rows)).set_index("quantity")
    assert typ.loc["hr_primary_w96", "p_tails"] < 1e-6
    assert (typ.drop(index="hr_primary_w96")["p_tails"] > 1e-4).all()


@pytest.mark.slow
def test_the_ensemble_runs_on_a_dask_cluster_with_the_same_result(monkeypatch) -> None:
    """ANRS119_DASK_SCHEDULER sends the reconstructions to a cluster; each draw carries its
    seed, so the table is the one local processes give."""
    from distributed import LocalCluster

    from anrs119.parallel import SCHEDULER_ENV, WORKERS_ENV

    base = base_values(load_priors())
    draws = ens.ensemble_draws(load_posterior(), 4)
    draws = {k: v for k, v in draws.items() if k in FREE_PARAMETERS}

    def run() -> pd.DataFrame:
        return ens.build_ensemble(base, draws, 1, reference=5, task_draws=1, progress=False).table

    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    monkeypatch.setenv(WORKERS_ENV, "1")
    local = run()
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False) as cluster:
        monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
        on_dask = run()
    pd.testing.assert_frame_equal(local, on_dask)
