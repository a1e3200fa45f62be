"""Small synthetic ADaM fixtures built inside the tests (independent of data/synthetic)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anrs119.seeds import TEST_SEED


def make_tte(
    times_by_group: dict[str, np.ndarray],
    events_by_group: dict[str, np.ndarray],
    paramcd: str = "PRIMARY",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ADSL + ADTTE from per-group arrays of times and event flags (1 = event)."""
    rows, tte = [], []
    i = 0
    for g, times in times_by_group.items():
        for t, e in zip(times, events_by_group[g], strict=True):
            uid = f"S{i:04d}"
            rows.append({"USUBJID": uid, "ARM": g})
            tte.append({"USUBJID": uid, "PARAMCD": paramcd, "AVAL": float(t), "CNSR": 1 - int(e)})
            i += 1
    return pd.DataFrame(rows), pd.DataFrame(tte)


def random_tte(
    rng: np.random.Generator, n: tuple[int, int] = (40, 45), hr: float = 0.6, tau: float = 96.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two arms, exponential times rounded to whole weeks (ties!), administrative censoring."""
    times, events = {}, {}
    for arm, k, rate in (("IL-2", n[0], 0.01 * hr), ("Control", n[1], 0.01)):
        t = np.ceil(rng.exponential(1 / rate, size=k))
        c = np.ceil(rng.uniform(20, 150, size=k))
        times[arm] = np.minimum(np.minimum(t, c), tau)
        events[arm] = ((t <= c) & (t <= tau)).astype(int)
    return make_tte(times, events)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(TEST_SEED)
