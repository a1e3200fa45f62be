"""Time `make data` step by step (forensic, priors, calibration, downstream data, ensemble,
operating characteristics) against its budget.

Runs each step as `make data` does (`python -m anrs119 ...`), in this checkout, so it rewrites
the committed data files; run it on a clean tree and inspect `git diff` afterwards.
"""

from __future__ import annotations

import subprocess
import sys
import time

BUDGET_SECONDS = 10 * 60.0
STEPS: tuple[tuple[str, ...], ...] = (
    ("forensic",),
    ("priors",),
    ("calibrate",),
    ("data",),
    ("ensemble",),
    ("operating",),
)
"""The steps of `make data`, in its order (Makefile)."""


def main() -> None:
    total = 0.0
    for step in STEPS:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "anrs119", *step], check=True)
        seconds = time.perf_counter() - start
        total += seconds
        print(f"{' '.join(step):10s} {seconds:7.1f} s", flush=True)
    verdict = "within" if total <= BUDGET_SECONDS else "OVER"
    print(f"make data: {total:.1f} s ({verdict} the {BUDGET_SECONDS:.0f} s budget)")


if __name__ == "__main__":
    main()
