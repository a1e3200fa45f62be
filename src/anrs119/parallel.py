"""Run independent, individually seeded tasks locally (processes) or on a Dask cluster.

``ANRS119_DASK_SCHEDULER`` (a scheduler address such as ``tcp://host:8786``) sends the tasks to
that cluster; otherwise they run in local worker processes (``ANRS119_WORKERS``, default 2).
Results come back in task order, so outputs are the same bytes either way.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from tqdm import tqdm

SCHEDULER_ENV: str = "ANRS119_DASK_SCHEDULER"
WORKERS_ENV: str = "ANRS119_WORKERS"

T = TypeVar("T")


def scheduler_address() -> str | None:
    address = os.environ.get(SCHEDULER_ENV, "").strip()
    return address or None


def local_workers() -> int:
    text = os.environ.get(WORKERS_ENV, "").strip()
    if not text:
        return min(2, os.cpu_count() or 1)
    try:
        n = int(text)
    except ValueError as exc:
        raise ValueError(f"{WORKERS_ENV}={text!r}: rule: a positive integer") from exc
    if n < 1:
        raise ValueError(f"{WORKERS_ENV}={text!r}: rule: a positive integer")
    return n


def single_threaded() -> None:
    """One numba thread in this worker: the workers are the parallelism (two cores), and
    numba's thread pool on top of them made one small trial about 25 times slower."""
    import numba

    if numba.get_num_threads() != 1:
        numba.set_num_threads(1)


def run_tasks(
    fn: Callable[[Any], T], tasks: Sequence[Any], *, desc: str, progress: bool = True
) -> list[T]:
    """``[fn(t) for t in tasks]``, in parallel; each task must carry its own seed."""
    tasks = list(tasks)
    bar = tqdm(total=len(tasks), desc=desc, disable=not progress)
    try:
        address = scheduler_address()
        if address is not None:
            return _run_dask(fn, tasks, address, bar)
        workers = local_workers()
        if workers == 1 or len(tasks) <= 1:
            out = []
            for t in tasks:
                out.append(fn(t))
                bar.update(1)
            return out
        ctx = _context()
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx) as pool:
            futures = {pool.submit(fn, t): i for i, t in enumerate(tasks)}
            results: list[Any] = [None] * len(tasks)
            for f in as_completed(futures):
                results[futures[f]] = f.result()
                bar.update(1)
            return results
    finally:
        bar.close()


def _context():
    # Not "fork": a parent that has run numba's parallel kernels cannot fork safely (the
    # children die). A fork server that has imported the simulator forks clean workers fast.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(
        ["anrs119.model.simulator.simulate", "anrs119.model.inference.draws"]
    )
    return ctx


def _run_dask(fn: Callable[[Any], T], tasks: list[Any], address: str, bar: tqdm) -> list[T]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(address) as client:
        futures = client.map(fn, tasks, pure=False)
        for _ in dask_completed(futures):
            bar.update(1)
        return client.gather(futures)
