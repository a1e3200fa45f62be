"""The data holder's test (anrs119.model.reconstruction.observed): the unpublished quantities of
a dataset by the book's analyses, and their place in the ensemble's range (aggregates only)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from anrs119.data import load_dataset
from anrs119.model.reconstruction import observed
from anrs119.model.reconstruction.ensemble_tables import QUANTITIES as QUANTITY_INFO
from anrs119.model.reconstruction.ensemble_tables import read_ensemble

QUANTITIES = list(QUANTITY_INFO)


@pytest.fixture(scope="module")
def values() -> dict[str, float]:
    return observed.observed_quantities(load_dataset())


def test_the_embedded_trials_quantities_are_read_by_the_books_analyses(values):
    ds = load_dataset()
    assert set(values) == set(QUANTITIES)
    assert 0 < values["hr_primary_w96"] < 10 and 0 <= values["logrank_p_primary_w96"] <= 1
    for arm, sfx in observed.SUFFIX.items():
        assert values[f"n_lowvl_{sfx}"] <= (ds.adsl["ARM"] == arm).sum()
        assert 0 <= values[f"km_free_w150_{sfx}"] <= values[f"km_free_w48_{sfx}"] <= 100
        assert values[f"art_q25_{sfx}"] <= values[f"art_median_{sfx}"] <= values[f"art_q75_{sfx}"]
        for name in ("aids", "death", "grade34"):
            count = values[f"{name}_w96_{sfx}"]
            assert count == int(count) and 0 <= count <= (ds.adsl["ARM"] == arm).sum()


def test_each_quantity_is_placed_by_its_share_of_reconstructions_below(monkeypatch):
    n = 200
    table = pd.DataFrame({q: np.arange(n, dtype=float) for q in QUANTITIES})
    table["exact"] = True
    table.loc[0, "exact"] = False  # a failed draw is not part of the ensemble's range
    given = dict.fromkeys(QUANTITIES, 100.0)
    given[QUANTITIES[0]] = 1_000.0  # beyond every reconstruction
    given[QUANTITIES[1]] = math.nan  # not computable from the data
    monkeypatch.setattr(observed, "observed_quantities", lambda dataset: given)
    where = observed.placed(None, table).set_index("quantity")
    middle = where.loc[QUANTITIES[2]]
    assert middle["percentile"] == pytest.approx(100 * 99.5 / (n - 1))
    assert middle["inside"]
    assert where.loc[QUANTITIES[0], "percentile"] == 100.0
    assert not where.loc[QUANTITIES[0], "inside"]
    assert math.isnan(where.loc[QUANTITIES[1], "percentile"])
    assert not where.loc[QUANTITIES[1], "inside"]


def test_the_embedded_trial_mostly_lies_within_its_own_ensemble(values):
    """The embedded trial is a draw like the ensemble's reconstructions: most of its quantities
    fall in their central 95% ranges (not all: 5% of them need not)."""
    where = observed.placed(load_dataset(), read_ensemble())
    placed = where[where["percentile"].notna()]
    assert len(placed) >= len(QUANTITIES) // 2
    assert placed["inside"].mean() >= 0.75
