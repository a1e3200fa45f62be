"""Benchmark: one conditioned reconstruction, and the ensemble of 200.

Run with ``.venv/bin/python bench/bench_reconstruct.py`` (``--single-only`` skips the ensemble).
Budgets (issues #12, #26): one reconstruction draw (pool simulation, swap search to a first exact
trial, and the walk within the exact set that draws the reconstruction) in 2 s at most, and the
ensemble of 200 (``python -m anrs119 ensemble``: reconstructions plus their unconditioned
reference trials, through the parallel path) within 5 minutes on the 2-core reference machine.
The machine load (``os.getloadavg``) is printed: on a shared machine the figures are upper
bounds. The numba kernels are compiled (or loaded from the cache) by an untimed warm-up.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from anrs119.model.inference.priors import FREE_PARAMETERS, load_priors
from anrs119.model.inference.sample import load_posterior
from anrs119.model.inference.statistics import base_values
from anrs119.model.reconstruction.ensemble import (
    N_RECONSTRUCTIONS,
    ensemble_draws,
    generate_ensemble,
)
from anrs119.model.reconstruction.search import make_pool, reconstruct

SINGLE_RUNS = 20
BUDGET_SINGLE_S = 2.0
BUDGET_ENSEMBLE_S = 300.0


def single() -> bool:
    base = base_values(load_priors())
    draws = ensemble_draws(load_posterior(), SINGLE_RUNS + 1)
    points = [
        {**base, **{k: float(v[i]) for k, v in draws.items() if k in FREE_PARAMETERS}}
        for i in range(SINGLE_RUNS + 1)
    ]
    reconstruct(make_pool(points[0], 1, 0), 0)  # warm-up: numba compilation / cache load
    load_before = os.getloadavg()[0]
    times, cpu, exact = [], [], []
    for i, p in enumerate(points[1:], start=1):
        start, start_cpu = time.perf_counter(), time.process_time()
        rec = reconstruct(make_pool(p, 1, i), i)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        exact.append(rec.exact)
    t = np.array(times)
    print(f"one reconstruction draw (pool + search + walk), {SINGLE_RUNS} posterior draws:")
    print(f"  load average (1 min) before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    print(f"  mean {t.mean():.2f} s, median {np.median(t):.2f} s, max {t.max():.2f} s")
    print(f"  CPU time of this process: mean {np.mean(cpu):.2f} s, max {np.max(cpu):.2f} s")
    print(f"  exact: {sum(exact)} of {len(exact)}")
    ok = bool(t.max() <= BUDGET_SINGLE_S and all(exact))
    print(f"  budget (every one exact, <= {BUDGET_SINGLE_S:g} s): {'met' if ok else 'NOT met'}")
    return ok


def ensemble() -> bool:
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        generate_ensemble(progress=True, folder=Path(folder))
    wall = time.perf_counter() - start
    print(f"ensemble of {N_RECONSTRUCTIONS} (python -m anrs119 ensemble), {os.cpu_count()} cores:")
    print(f"  load average (1 min) before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    print(f"  wall time {wall:.0f} s")
    ok = wall <= BUDGET_ENSEMBLE_S
    print(f"  budget (<= {BUDGET_ENSEMBLE_S:g} s): {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    ok = single()
    if "--single-only" not in sys.argv:
        ok = ensemble() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
