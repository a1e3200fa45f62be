"""Tests of anrs119.parallel: results in task order, locally and on a Dask LocalCluster."""

from __future__ import annotations

import pytest

from anrs119.parallel import SCHEDULER_ENV, WORKERS_ENV, local_workers, run_tasks


def _square(x: int) -> int:
    return x * x


def test_local_processes_keep_task_order(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert run_tasks(_square, range(7), desc="t", progress=False) == [x * x for x in range(7)]


def test_bad_worker_count_names_the_variable(monkeypatch):
    monkeypatch.setenv(WORKERS_ENV, "zero")
    with pytest.raises(ValueError, match=WORKERS_ENV):
        local_workers()


@pytest.mark.slow
def test_dask_scheduler_gives_the_same_results(monkeypatch):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False) as cluster:
        monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
        assert run_tasks(_square, range(5), desc="t", progress=False) == [0, 1, 4, 9, 16]
