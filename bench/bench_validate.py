"""Benchmark: the calibration and the confrontation of ``make validate-methods``.

Run with ``.venv/bin/python bench/bench_validate.py``. Budget (issue #25): about 5 minutes for
the simulation-based calibration and 5 for the model extensions on the 2-core reference
machine, the book's reference table read from its cache (as after ``make data``). The
extensions' own tables are timed as they are found: from the cache, or simulated (the first run,
or after a change to the simulator). Writes into a temporary folder and says whether the files
equal the committed ones byte for byte. The machine load is printed: on a shared machine the
times are upper bounds.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

# one BLAS thread, as the commands set it, before numpy loads
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from anrs119.model.checks.confrontation import confrontation_main  # noqa: E402
from anrs119.model.checks.sbc import sbc_main  # noqa: E402
from anrs119.paths import MODEL_DIR  # noqa: E402

BUDGET_SECONDS = {"calibration (sbc)": 300.0, "extensions (validate-extensions)": 300.0}


def main() -> None:
    print(f"{os.cpu_count()} cores; load average (1 min) before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, run in (
            ("calibration (sbc)", sbc_main),
            ("extensions (validate-extensions)", confrontation_main),
        ):
            start = time.perf_counter()
            paths = run(progress=False, folder=folder)
            seconds = time.perf_counter() - start
            same = all(p.read_bytes() == (MODEL_DIR / p.name).read_bytes() for p in paths)
            verdict = "within" if seconds <= BUDGET_SECONDS[name] else "OVER"
            print(
                f"{name}: {seconds:.0f} s, {verdict} the {BUDGET_SECONDS[name]:.0f} s budget; "
                f"files {'identical to' if same else 'DIFFERENT from'} the committed ones"
            )
    print(f"load average (1 min) after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
