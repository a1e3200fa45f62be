"""Fixtures shared by the ADaM test modules: a small valid dataset, in memory and as CSV files.

A module may define its own ``tables``/``folder`` (e.g. other sizes); pytest then uses that one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anrs119.seeds import TEST_SEED
from tests.adam_samples import valid_tables, write_tables


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return valid_tables(np.random.default_rng(TEST_SEED), n_per_arm=3, n_ae=5)


@pytest.fixture
def folder(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    return write_tables(tables, tmp_path / "adam")
