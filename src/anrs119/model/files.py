"""Deterministic writing of the model's CSV outputs: same table, same bytes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Deterministic CSV: fixed float format, LF line endings, UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.10g", lineterminator="\n", encoding="utf-8")
    return path
