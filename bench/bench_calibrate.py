"""Time the model's calibration (budget: 2 minutes on 2 cores): prints seconds taken.

Writes the fit to a temporary file, so the committed data/model/calibration.json is untouched,
and says whether the fit equals the committed one (it should: common random numbers).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from anrs119.model import run_calibration
from anrs119.model.parameters import CALIBRATION_FILE

BUDGET_SECONDS = 120.0


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "calibration.json"
        start = time.perf_counter()
        run_calibration(path, progress=False)
        seconds = time.perf_counter() - start
        same = path.read_bytes() == CALIBRATION_FILE.read_bytes()
        fit = json.loads(path.read_text(encoding="utf-8"))
    verdict = "within" if seconds <= BUDGET_SECONDS else "OVER"
    print(
        f"calibration: {fit['evaluations']} evaluations in {seconds:.1f} s "
        f"({verdict} the {BUDGET_SECONDS:.0f} s budget); "
        f"identical to the committed file: {same}"
    )


if __name__ == "__main__":
    main()
