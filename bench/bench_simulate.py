"""Benchmark: replicate trials of 130 patients per second, simulation plus claim summaries.

Run with ``.venv/bin/python bench/bench_simulate.py``. Budget (issue #25, which withdrew the
15,000 of issue #11): at least 4,000 replicate trials per second for ``simulate_claims``
(simulation and every claim summary with its test) on the 2-core reference machine, and < 2 GB.
The third line times what the reference table simulates: one trial per prior draw, each with
its own parameters (and so its own IL-2 boost table), through the seeded chunks the table uses.
The machine load (``os.getloadavg``) is printed: on a
shared machine the figure is a lower bound. The numba kernels are compiled (or loaded from the
cache) by a warm-up call that is not timed.
"""

from __future__ import annotations

import os
import resource
import time

from anrs119.model.inference.reference import build_reference_table
from anrs119.model.simulator.parameters import default_parameters
from anrs119.model.simulator.simulate import simulate_claims, simulate_trials

REPLICATES = 20_000
BUDGET_TRIALS_PER_SECOND = 4_000.0
BUDGET_MB = 2048.0


def main() -> None:
    p = default_parameters(calibrated=True).values()
    n = int(p["n_il2"] + p["n_control"])
    simulate_claims(p, 100, seed=2)  # warm-up: numba compilation / cache load

    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    for _ in simulate_trials(p, REPLICATES, seed=1, chunk=1000, full=False):
        pass
    sim = time.perf_counter() - start

    start = time.perf_counter()
    simulate_claims(p, REPLICATES, seed=1)
    both = time.perf_counter() - start

    start = time.perf_counter()
    build_reference_table(REPLICATES, seed=1, progress=False)
    prior = time.perf_counter() - start
    load_after = os.getloadavg()[0]

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    rate = REPLICATES / both
    print(f"{REPLICATES} replicate trials x {n} patients, {os.cpu_count()} cores")
    print(f"load average (1 min) before/after: {load_before:.1f} / {load_after:.1f}")
    print(f"simulation only:        {sim:6.2f} s  ({REPLICATES / sim:8.0f} trials/s)")
    print(f"simulation + summaries: {both:6.2f} s  ({rate:8.0f} trials/s)")
    print(f"prior draws (table):    {prior:6.2f} s  ({REPLICATES / prior:8.0f} trials/s)")
    print(f"peak resident memory:   {peak_mb:6.0f} MB")
    ok = rate >= BUDGET_TRIALS_PER_SECOND and peak_mb < BUDGET_MB
    print(
        f"budget (>= {BUDGET_TRIALS_PER_SECOND:,.0f} trials/s, < {BUDGET_MB:g} MB): "
        f"{'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
