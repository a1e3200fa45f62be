"""Time the calibration on this machine: the reference table of prior-predictive trials (built
afresh, not read from the cache) and the posterior computed from it.

Writes to a temporary folder and a temporary cache, so the committed files and the cached table
are untouched; then checks that the posterior it computed is the committed one, byte for byte.
``--size N`` times a smaller table (the throughput per trial is what matters); the comparison
with the committed posterior is then skipped.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from anrs119.model.inference.posterior import run_posterior, write_run
from anrs119.model.inference.reference import CACHE_ENV, REFERENCE_SIZE, reference_table
from anrs119.model.inference.sample import POSTERIOR_FILE

BUDGET_SECONDS = 6 * 60.0
"""Share of the 10-minute `make data` budget given to the calibration."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=REFERENCE_SIZE)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        os.environ[CACHE_ENV] = cache
        start = time.perf_counter()
        table = reference_table(args.size)
        built = time.perf_counter() - start
        start = time.perf_counter()
        run = run_posterior(table)
        fitted = time.perf_counter() - start
        paths = write_run(run, Path(out))
        same = paths[0].read_bytes() == POSTERIOR_FILE.read_bytes()
    total = built + fitted
    print(f"load average (1 min) at the start: {load:.1f}; {os.cpu_count()} cores")
    print(f"reference table: {args.size:,} trials in {built:.1f} s ({args.size / built:,.0f}/s)")
    print(f"posterior (ladder, bootstrap, halves): {fitted:.1f} s; ESS {run.chosen.ess:,.0f}")
    if args.size == REFERENCE_SIZE:
        print(f"posterior.csv equal to the committed one: {'yes' if same else 'NO'}")
    verdict = "within" if total <= BUDGET_SECONDS else "OVER"
    print(f"calibration: {total:.1f} s ({verdict} the {BUDGET_SECONDS:.0f} s budget)")


if __name__ == "__main__":
    main()
