"""Benchmark: the operating-characteristics run behind chapters/operating.md.

Run with ``.venv/bin/python bench/bench_operating.py``. Budget (issue #14): the full run (every
scenario, 10,000 replicate trials each) within 5 minutes on the 2-core reference machine. Writes
nothing: the table is written by ``python -m anrs119 operating``.
"""

from __future__ import annotations

import resource
import time

from anrs119.model.operating import characteristics as oc

BUDGET_SECONDS = 300.0


def main() -> None:
    base = oc.base_parameters()
    start = time.perf_counter()
    table = oc.operating_characteristics(base)
    elapsed = time.perf_counter() - start
    trials = int(table.groupby("scenario")["replicates"].max().sum())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"{len(oc.scenarios())} scenarios, {trials} replicate trials")
    print(f"elapsed:              {elapsed:6.1f} s  ({trials / elapsed:8.0f} trials/s)")
    print(f"peak resident memory: {peak_mb:6.0f} MB")
    print(f"budget ({BUDGET_SECONDS:g} s): {'met' if elapsed <= BUDGET_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
