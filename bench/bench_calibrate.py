"""Time the ABC-SMC calibration (main run plus the reduced second-seed run) on this machine.

Writes to a temporary folder, so the committed data/model/posterior.csv is untouched. Parallel
ABC is not bitwise reproducible, so the result is compared with the committed sample only
through its posterior medians.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from anrs119.model.posterior import (
    POSTERIOR_FILE,
    load_posterior,
    posterior_medians,
    run_calibration,
)

BUDGET_SECONDS = 6 * 60.0
"""Share of the 10-minute `make data` budget given to the calibration."""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run_calibration(folder=Path(folder), progress=True)
        seconds = time.perf_counter() - start
        diag = pd.read_csv(Path(folder) / "abc_diagnostics.csv")
        new = posterior_medians(load_posterior(Path(folder) / "posterior.csv"))
    old = posterior_medians(load_posterior(POSTERIOR_FILE))
    verdict = "within" if seconds <= BUDGET_SECONDS else "OVER"
    print(
        f"calibration: {int(diag['simulations'].sum()):,} simulated trials in {seconds:.1f} s "
        f"({verdict} the {BUDGET_SECONDS:.0f} s budget)"
    )
    for name, value in new.items():
        print(f"  {name:18s} posterior median {value:10.4g} (committed {old[name]:10.4g})")


if __name__ == "__main__":
    main()
