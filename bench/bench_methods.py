"""Time the methods bootstraps the chapters run (budget: 30 s together on 2 cores).

The deferral readings (subgroup chapter) and the IPCW change with its refitted weight models
(markers chapter) are the only resampling in the book's build; this prints the seconds each takes
at the resample counts named in ``anrs119.reproduce``.
"""

from __future__ import annotations

import time

from anrs119.data import load_dataset
from anrs119.reproduce import DEFERRAL_RESAMPLES, IPCW_RESAMPLES, Reproducer

BUDGET_SECONDS = 30.0


def main() -> None:
    reproducer = Reproducer(load_dataset())
    timings = {}
    for name, attribute, resamples in (
        ("deferral readings", "deferral_bootstrap", DEFERRAL_RESAMPLES),
        ("IPCW change", "cd4_hypothetical", IPCW_RESAMPLES),
        ("mixed model", "cd4_mixed_model", 0),
    ):
        start = time.perf_counter()
        getattr(reproducer, attribute)
        timings[name] = time.perf_counter() - start
        what = f"{resamples} resamples" if resamples else "one fit"
        print(f"{name}: {what} in {timings[name]:.1f} s")
    total = sum(timings.values())
    verdict = "within" if total <= BUDGET_SECONDS else "OVER"
    print(f"total {total:.1f} s, {verdict} the {BUDGET_SECONDS:.0f} s budget")


if __name__ == "__main__":
    main()
