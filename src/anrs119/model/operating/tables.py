"""The stored operating characteristics (``data/model/operating.csv``) and the significance
level they use: read by the chapter without the simulator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anrs119.paths import MODEL_DIR

OPERATING_FILE: Path = MODEL_DIR / "operating.csv"
ALPHA: float = 0.05
"""Two-sided significance level of every simulated test."""


def read_operating(path: Path = OPERATING_FILE) -> pd.DataFrame:
    """The stored table; the chapter and tests read this rather than re-simulating."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: file missing; rule: run `python -m anrs119 operating` (part of make data)"
        )
    return pd.read_csv(path)
