"""The week-150 horizon: no claim read at or before week 150 uses follow-up after week 150."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from anrs119.data import Dataset, load_dataset
from anrs119.model.simulator.parameters import default_parameters
from anrs119.model.simulator.schedule import visit_weeks
from anrs119.model.simulator.simulate import arm_indicator, simulate
from anrs119.model.simulator.summaries import claim_summaries, truncate
from anrs119.reproduce import Reproducer
from anrs119.seeds import TEST_SEED
from tests.adam_samples import valid_tables

WEEK = 150.0


@pytest.fixture(scope="module")
def p() -> dict[str, float]:
    return default_parameters().values()


def test_simulator_claims_ignore_follow_up_after_week_150(p):
    """The same patients simulated to week 204 (the old horizon) and to week 150 give the same
    claims: the summaries cut everything after week 150."""
    il2 = arm_indicator(int(p["n_il2"]), int(p["n_control"]))
    short = simulate(p, il2, visit_weeks(WEEK), TEST_SEED, 40)
    long_p = dict(p, subgroup_week=204.0)
    long = simulate(long_p, il2, visit_weeks(204.0), TEST_SEED, 40)
    assert np.isfinite(long.t_art).sum() > np.isfinite(short.t_art).sum()  # later data exist
    a, b = claim_summaries(short, p), claim_summaries(long, p)
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    cut = truncate(long, WEEK)
    np.testing.assert_array_equal(cut.t_primary, short.t_primary)
    np.testing.assert_array_equal(cut.t_last, short.t_last)


def test_deferral_quantile_not_reached_by_week_150_is_not_read_from_later_data(p):
    """With few ART starts the 25th percentile is not reached by week 150: inf/NaN, never a
    value read from later follow-up."""
    q = dict(p, art_rate_ref=1e-4, art_cd4_loghr=0.0, aids_rate=1e-6, death_rate=1e-6)
    il2 = arm_indicator(int(p["n_il2"]), int(p["n_control"]))
    long = simulate(dict(q, subgroup_week=400.0), il2, visit_weeks(400.0), TEST_SEED, 5)
    s = claim_summaries(long, q)
    assert np.all(np.isnan(s["lowvl_art_deferral:q25"]))
    assert np.all(np.isnan(s["lowvl_art_deferral:median"]))


def _cut_tables(ds: Dataset, week: float) -> Dataset:
    """The ADaM tables with everything after ``week`` removed: later visits dropped, later
    events and censorings censored at ``week`` (known free of them up to ``week``)."""
    adlb = ds.adlb[ds.adlb["AVISITN"] <= week].copy()
    tte = ds.adtte.copy()
    late = tte["AVAL"] > week
    tte.loc[late, "AVAL"] = float(week)
    tte.loc[late, "CNSR"] = 1
    tte.loc[late, "EVNTDESC"] = ""
    tte.loc[late, "CNSDTDSC"] = "Last visit before the data cut-off"
    adae = ds.adae[ds.adae["ASTWK"] <= week].copy()
    return Dataset(
        adsl=ds.adsl.copy(), adlb=adlb, adtte=tte, adae=adae, source=ds.source + " (cut)",
        is_synthetic=ds.is_synthetic, path=ds.path,
    )  # fmt: skip


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_synthetic_tables_end_at_week_150_and_reproduce_the_same_when_cut():
    ds = load_dataset()
    assert ds.adlb["AVISITN"].max() <= WEEK
    assert ds.adtte["AVAL"].max() <= WEEK
    full, cut = Reproducer(ds).all(), Reproducer(_cut_tables(ds, WEEK)).all()
    for k, r in full.items():
        assert _same(r.value, cut[k].value), k


def test_reproduced_claims_do_not_use_data_after_week_150():
    """Tables that do run beyond week 150: the claims read at or before week 150 are the same
    once everything after week 150 is removed."""
    tables = valid_tables(np.random.default_rng(3), n_per_arm=40, n_ae=60)
    tables["adsl"]["BVLLOG"] = np.linspace(3.0, 5.5, len(tables["adsl"])).round(2)
    tables["adtte"]["AVAL"] = (tables["adtte"]["AVAL"] * 1.6).round(1)  # follow-up to ~240
    ds = Dataset(**tables, source="test tables", is_synthetic=True, path=None)
    assert (ds.adtte["AVAL"] > WEEK).any() or (ds.adlb["AVISITN"] > WEEK).any()
    full, cut = Reproducer(ds).all(), Reproducer(_cut_tables(ds, WEEK)).all()
    differ = {
        k: (r.value, cut[k].value) for k, r in full.items() if not _same(r.value, cut[k].value)
    }
    assert not differ, differ


def test_cut_tables_really_drop_later_rows():
    tables = valid_tables(np.random.default_rng(3), n_per_arm=10, n_ae=10)
    ds = Dataset(**tables, source="t", is_synthetic=True, path=None)
    cut = _cut_tables(ds, 20.0)
    assert cut.adlb["AVISITN"].max() <= 20
    assert cut.adtte["AVAL"].max() <= 20
    assert isinstance(cut.adtte, pd.DataFrame)
