"""Longitudinal helpers: ART readings, Wilcoxon, Hodges-Lehmann (hand cases and invariants)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from anrs119.analysis import longitudinal as lg
from anrs119.analysis._common import AnalysisInputError


def _adlb(rows):
    df = pd.DataFrame(rows, columns=["USUBJID", "AVISITN", "AVAL", "ONART"])
    base = df[df["AVISITN"] == 0].set_index("USUBJID")["AVAL"]
    df["PARAMCD"] = "CD4"
    df["BASE"] = df["USUBJID"].map(base)
    df["CHG"] = df["AVAL"] - df["BASE"]
    df["ABLFL"] = np.where(df["AVISITN"] == 0, "Y", "")
    return df


ADSL = pd.DataFrame(
    {"USUBJID": ["A1", "A2", "C1", "C2"], "ARM": ["IL-2", "IL-2", "Control", "Control"]}
)
ADLB = _adlb(
    [
        ("A1", 0, 400, "N"), ("A1", 48, 450, "N"), ("A1", 96, 500, "N"),
        ("A2", 0, 350, "N"), ("A2", 48, 380, "N"), ("A2", 96, 600, "Y"),
        ("C1", 0, 420, "N"), ("C1", 48, 300, "Y"), ("C1", 96, 520, "Y"),
        ("C2", 0, 380, "N"), ("C2", 48, 330, "N"),  # C2 missed week 96
    ]
)  # fmt: skip


def test_three_readings_hand_case():
    obs = lg.visit_values(ADSL, ADLB, "CD4", 96, reading="observed").set_index("USUBJID")
    assert obs["CHG"].to_dict() == {"A1": 100, "A2": 250, "C1": 100}
    off = lg.visit_values(ADSL, ADLB, "CD4", 96, reading="off_art").set_index("USUBJID")
    assert off["CHG"].to_dict() == {"A1": 100}
    lbart = lg.visit_values(ADSL, ADLB, "CD4", 96, reading="last_before_art").set_index("USUBJID")
    # A2: last off-ART value week 48 (+30); C1: only the baseline (0); C2: week 48 (-50)
    assert lbart["CHG"].to_dict() == {"A1": 100, "A2": 30, "C1": 0, "C2": -50}
    assert lbart.loc["A2", "AVISITN"] == 48


def test_change_from_baseline_summary_and_estimand():
    res = lg.change_from_baseline(ADSL, ADLB, "CD4", 96, reading="last_before_art")
    t = res.table.set_index("group")
    assert tuple(res.table["group"]) == ("IL-2", "Control")
    assert t.loc["IL-2", "median"] == pytest.approx(65.0)
    assert t.loc["Control", "median"] == pytest.approx(-25.0)
    assert "last value before ART" in res.estimand.describe()
    # HL shift = median of pairwise differences {100-0, 100+50, 30-0, 30+50}
    assert res.hl_shift == pytest.approx(np.median([100, 150, 30, 80]))


def test_wilcoxon_against_hand_u_and_normal_approximation(rng):
    x = np.round(rng.normal(50, 80, 40))
    y = np.round(rng.normal(-60, 80, 45))
    ids = [f"S{i}" for i in range(85)]
    adsl = pd.DataFrame({"USUBJID": ids, "ARM": ["IL-2"] * 40 + ["Control"] * 45})
    adlb = pd.DataFrame(
        {
            "USUBJID": ids * 2,
            "PARAMCD": "CD4",
            "AVISITN": [0] * 85 + [96] * 85,
            "AVAL": np.concatenate([np.full(85, 400.0), 400 + np.concatenate([x, y])]),
            "BASE": 400.0,
            "ONART": "N",
        }
    ).assign(CHG=lambda d: d["AVAL"] - d["BASE"])
    res = lg.change_from_baseline(adsl, adlb, "CD4", 96, wilcoxon_method="asymptotic")
    u_hand = np.sum(x[:, None] > y[None, :]) + 0.5 * np.sum(x[:, None] == y[None, :])
    assert res.wilcoxon_statistic == pytest.approx(u_hand)
    # normal approximation with tie correction and continuity correction, written out
    m, n = len(x), len(y)
    _, counts = np.unique(np.concatenate([x, y]), return_counts=True)
    var = m * n / 12 * ((m + n + 1) - np.sum(counts**3 - counts) / ((m + n) * (m + n - 1)))
    z = (abs(u_hand - m * n / 2) - 0.5) / np.sqrt(var)
    assert res.wilcoxon_p == pytest.approx(2 * stats.norm.sf(z), rel=1e-9)


def test_exact_u_distribution_matches_enumeration():
    m, n = 4, 5
    us = []
    for xs in itertools.combinations(range(m + n), m):
        ys = [v for v in range(m + n) if v not in xs]
        us.append(sum(a > b for a in xs for b in ys))
    counts = np.bincount(us, minlength=m * n + 1)
    np.testing.assert_allclose(lg._u_null_cdf(m, n), np.cumsum(counts) / counts.sum())


def test_hl_interval_inverts_the_rank_sum_test(rng):
    x = rng.normal(3, 2, 12)
    y = rng.normal(0, 2, 15)
    est, lo, hi = lg.hodges_lehmann(x, y, method="exact")
    cdf = lg._u_null_cdf(12, 15)
    below = np.flatnonzero(cdf <= 0.025 + 1e-12)
    k = below[-1] + 1
    # Shifts strictly inside the interval give U inside [k, mn - k]: not rejected.
    for d in np.linspace(lo, hi, 9)[1:-1]:
        u = np.sum((x - d)[:, None] > y[None, :])
        assert k <= u <= 12 * 15 - k
    # Just outside, the test rejects.
    for d in (lo - 1e-9, hi + 1e-9):
        u = np.sum((x - d)[:, None] > y[None, :])
        assert u < k or u > 12 * 15 - k
    assert lo <= est <= hi
    # Normal approximation is close to exact for moderate samples.
    _, nlo, nhi = lg.hodges_lehmann(x, y, method="normal")
    assert abs(nlo - lo) < 0.5 and abs(nhi - hi) < 0.5


@settings(max_examples=40, deadline=None)
@given(
    x=st.lists(st.integers(-300, 300), min_size=2, max_size=25),
    y=st.lists(st.integers(-300, 300), min_size=2, max_size=25),
    c=st.integers(-200, 200),
)
def test_hl_shift_equivariance(x, y, c):
    x, y = np.array(x, float), np.array(y, float)
    base = lg.hodges_lehmann(y, x)
    shifted = lg.hodges_lehmann(y + c, x)
    assert shifted[0] == pytest.approx(base[0] + c)
    assert shifted[1] == pytest.approx(base[1] + c)
    assert shifted[2] == pytest.approx(base[2] + c)
    rev = lg.hodges_lehmann(x, y)
    assert rev[0] == pytest.approx(-base[0])


def test_trajectory_summary_feeds_the_plot():
    from anrs119.report.figures import trajectory_plot

    summ = lg.trajectory_summary(ADSL, ADLB, "CD4", reading="observed")
    assert list(summ.columns) == ["group", "AVISITN", "median", "q1", "q3", "n"]
    w96 = summ[(summ["AVISITN"] == 96)].set_index("group")
    assert w96.loc["IL-2", "n"] == 2 and w96.loc["Control", "n"] == 1
    fig = trajectory_plot(summ, ylabel="CD4 change")
    assert fig.alt_text


def test_bad_inputs():
    with pytest.raises(AnalysisInputError, match="reading"):
        lg.visit_values(ADSL, ADLB, "CD4", 96, reading="composite")  # type: ignore[arg-type]
    bad = ADLB.assign(ONART="maybe")
    with pytest.raises(AnalysisInputError, match="ONART"):
        lg.visit_values(ADSL, bad, "CD4", 96)
    with pytest.raises(AnalysisInputError, match="missing column"):
        lg.visit_values(ADSL, ADLB.drop(columns="ONART"), "CD4", 96)
