"""Benchmark: simulate 10,000 replicate trials of 130 patients and report throughput and memory.

Run with ``.venv/bin/python bench/bench_simulate.py``. Budget (issue #4): <= 10 s and < 2 GB on
the 2-core reference machine. Two figures are printed: simulation alone, and simulation plus
every claim summary with its test (what the predictive intervals and the choice of the embedded
trial need).
"""

from __future__ import annotations

import resource
import time

from anrs119.model.parameters import default_parameters
from anrs119.model.simulate import simulate_trials
from anrs119.model.summaries import claim_summaries

REPLICATES = 10_000
BUDGET_SECONDS = 10.0
BUDGET_MB = 2048.0


def main() -> None:
    p = default_parameters(calibrated=True).values()
    n = int(p["n_il2"] + p["n_control"])

    start = time.perf_counter()
    for _ in simulate_trials(p, REPLICATES, seed=1):
        pass
    sim = time.perf_counter() - start

    start = time.perf_counter()
    for tr in simulate_trials(p, REPLICATES, seed=1):
        claim_summaries(tr, p)
    both = time.perf_counter() - start

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"{REPLICATES} replicate trials x {n} patients")
    print(f"simulation only:        {sim:6.2f} s  ({REPLICATES / sim:8.0f} trials/s)")
    print(f"simulation + summaries: {both:6.2f} s  ({REPLICATES / both:8.0f} trials/s)")
    print(f"peak resident memory:   {peak_mb:6.0f} MB")
    ok = both <= BUDGET_SECONDS and peak_mb < BUDGET_MB
    print(f"budget ({BUDGET_SECONDS:g} s, {BUDGET_MB:g} MB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
