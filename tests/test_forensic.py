"""Tests of the forensic enumeration: tables, P values (against scipy and by hand), allocation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifelines.statistics import logrank_test
from scipy import stats

from anrs119 import ARMS, forensic
from anrs119.forensic import (
    TESTS,
    ReportedP,
    ReportedPercent,
    check_claim,
    format_p,
    p_values,
    round_percent,
    splits_with_total,
)
from anrs119.paths import FORENSIC_DIR
from anrs119.published import claim, claim_value


@st.composite
def tables(draw, max_total: int = 300):
    n1 = draw(st.integers(1, max_total - 1))
    n2 = draw(st.integers(1, max_total - n1))
    return n1, n2, draw(st.integers(0, n1)), draw(st.integers(0, n2))


@st.composite
def strong_effects(draw):
    """Tables with a large difference between arms, so that every test prints "< .001"."""
    n1 = draw(st.integers(40, 150))
    n2 = draw(st.integers(40, 150))
    return n1, n2, draw(st.integers(0, n1 // 10)), draw(st.integers(9 * n2 // 10, n2))


def _true_table_found(n1: int, n2: int, k1: int, k2: int, decimals: int) -> None:
    pct1, pct2 = round_percent(k1, n1, decimals), round_percent(k2, n2, decimals)
    own_p = p_values(n1, n2, k1, k2)
    for test in TESTS:
        reported = format_p(float(own_p[test][0]))
        check = check_claim(splits_with_total(n1 + n2), pct1, pct2, reported)
        hits = check.matches((test,))
        found = hits[(hits["n_il2"] == n1) & (hits["k_il2"] == k1) & (hits["k_control"] == k2)]
        assert len(found) == 1, (test, reported, pct1, pct2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), decimals=st.sampled_from([0, 1]))
def test_true_table_is_among_its_own_candidates(table, decimals):
    _true_table_found(*table, decimals)


@settings(max_examples=25, deadline=None)
@given(table=strong_effects())
def test_true_table_found_when_p_is_printed_as_a_bound(table):
    p = p_values(*table)
    assert all(format_p(float(p[t][0])).bound == "<" for t in TESTS)
    _true_table_found(*table, 0)


@settings(max_examples=150, deadline=None)
@given(table=tables(max_total=200))
def test_p_values_agree_with_scipy(table):
    n1, n2, k1, k2 = table
    ours = {name: float(v[0]) for name, v in p_values(n1, n2, k1, k2).items()}
    observed = [[k1, n1 - k1], [k2, n2 - k2]]
    assert ours["fisher"] == pytest.approx(stats.fisher_exact(observed).pvalue, rel=1e-9)
    if 0 < k1 + k2 < n1 + n2:  # chi-square needs non-empty columns
        for name, kwargs in (
            ("pearson", {"correction": False}),
            ("yates", {"correction": True}),
            ("likelihood_ratio", {"correction": False, "lambda_": "log-likelihood"}),
        ):
            expected = stats.chi2_contingency(observed, **kwargs).pvalue
            assert ours[name] == pytest.approx(expected, rel=1e-9, abs=1e-300), name
    assert all(0.0 <= v <= 1.0 for v in ours.values())
    assert ours["fisher_midp"] <= ours["fisher"]
    assert ours["mantel_haenszel"] >= ours["pearson"]


def test_p_values_by_hand_tea_tasting():
    # Fisher's tea-tasting table [[3, 1], [1, 3]]: hypergeometric weights 1, 16, 36, 16, 1 / 70.
    p = {name: float(v[0]) for name, v in p_values(4, 4, 3, 1).items()}
    assert p["fisher"] == pytest.approx(34 / 70, rel=1e-12)
    assert p["fisher_midp"] == pytest.approx(18 / 70, rel=1e-12)  # ties: 16 and 16 count half
    # N (ad - bc)^2 / (r1 r2 c1 c2) = 8 * 64 / 256 = 2; Yates: 8 (8 - 4)^2 / 256 = 0.5.
    assert p["pearson"] == pytest.approx(math.erfc(math.sqrt(2 / 2)), rel=1e-12)
    assert p["yates"] == pytest.approx(math.erfc(math.sqrt(0.5 / 2)), rel=1e-12)
    assert p["mantel_haenszel"] == pytest.approx(math.erfc(math.sqrt(1.75 / 2)), rel=1e-12)
    g = 2 * (2 * 3 * math.log(3 / 2) + 2 * 1 * math.log(1 / 2))
    assert p["likelihood_ratio"] == pytest.approx(math.erfc(math.sqrt(g / 2)), rel=1e-12)
    z = 0.5 / math.sqrt(2 * 0.75 * 0.25 / 4)
    assert p["wald_z"] == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-12)


def test_degenerate_tables_give_p_one():
    p = p_values([5, 5, 3], [4, 4, 3], [0, 5, 3], [0, 4, 0])
    for name in TESTS:
        assert p[name][:2].tolist() == [1.0, 1.0], name
        assert p[name][2] < 1.0, name
    with pytest.raises(ValueError, match="0 <= k <= n"):
        p_values(3, 3, 4, 0)


def test_percent_count_ranges_by_hand():
    low, high = ReportedPercent(35.0).count_range(np.array([65, 66, 20]))
    assert low.tolist() == [23, 23, 7] and high.tolist() == [23, 23, 7]
    # 59% of 65 would need 38.025 <= k <= 38.675: no whole number.
    low, high = ReportedPercent(59.0).count_range(np.array([65]))
    assert low[0] > high[0]
    # Exact halves are allowed either way: 1/8 = 12.5% prints as 12% or 13%.
    assert ReportedPercent(12.0).count_range(np.array([8]))[1][0] == 1
    assert ReportedPercent(13.0).count_range(np.array([8]))[0][0] == 1
    assert round_percent(1, 8) == ReportedPercent(13.0, 0)
    assert round_percent(23, 66, 1) == ReportedPercent(34.8, 1)


def test_reported_p_parsing_and_rounding():
    exact = ReportedP.parse("P = .008")
    assert exact == ReportedP("=", 0.008, 3)
    assert exact.matches([0.0075, 0.0084999, 0.0085, 0.00749]).tolist() == [
        True,
        True,
        False,
        False,
    ]
    bound = ReportedP.parse("< .001")
    assert bound == ReportedP("<", 0.001, 3)
    assert bound.matches([0.000999, 0.001]).tolist() == [True, False]
    assert bound.label == "P < .001"
    assert format_p(0.0081) == exact and format_p(0.934) == ReportedP("=", 0.93, 2)
    with pytest.raises(ValueError, match="P value"):
        ReportedP.parse("about .05")


def test_enumeration_agrees_with_a_brute_force_loop():
    pct1, pct2, reported = ReportedPercent(35.0), ReportedPercent(59.0), ReportedP("=", 0.008, 3)
    check = check_claim(splits_with_total(130), pct1, pct2, reported)
    brute = {
        (n1, 130 - n1, k1, k2)
        for n1 in range(1, 130)
        for k1 in range(n1 + 1)
        for k2 in range(130 - n1 + 1)
        if round(100 * k1 / n1, 6) >= 34.5
        and round(100 * k1 / n1, 6) <= 35.5
        and round(100 * k2 / (130 - n1), 6) >= 58.5
        and round(100 * k2 / (130 - n1), 6) <= 59.5
    }
    columns = ["n_il2", "n_control", "k_il2", "k_control"]
    assert set(map(tuple, check.tables[columns].to_numpy().tolist())) == brute


def test_primary_enumeration_structure():
    check = forensic.primary_check()
    n = claim_value("n_randomized")
    tables = check.tables
    assert {"n_il2", "n_control", "k_il2", "k_control"} <= set(tables.columns)
    assert {f"p_{t}" for t in TESTS} | {f"match_{t}" for t in TESTS} <= set(tables.columns)
    assert ((tables["n_il2"] + tables["n_control"]) == n).all()
    assert tables[[f"p_{t}" for t in TESTS]].stack().between(0, 1).all()
    assert len(check.arm_sizes) == n - 1
    splits = check.by_split()
    assert len(splits) == n - 1 and splits["tables"].sum() == len(tables)
    matches = check.matches()
    assert not matches.empty
    assert matches.apply(lambda r: check.reported_p.matches(r["p"]), axis=1).all()
    assert set(matches["test"]) <= set(TESTS)


def test_allocation_reproduces_the_published_numbers():
    allocation = forensic.choose_allocation()
    n1, n2 = (allocation.n_by_arm[a] for a in ARMS)
    k1, k2 = (allocation.events_w96_by_arm[a] for a in ARMS)
    assert n1 + n2 == claim_value("n_randomized")
    assert round_percent(k1, n1).value == claim_value("primary_w96_il2")
    assert round_percent(k2, n2).value == claim_value("primary_w96_control")
    row = claim("primary_w96_p")
    reported = ReportedP(row["bound"], float(row["value"]), int(row["decimals"]))
    p = float(p_values(n1, n2, k1, k2)[allocation.test][0])
    assert reported.matches(p)
    assert allocation.p_value == pytest.approx(p, abs=1e-6)
    assert allocation.test in forensic.PLAUSIBLE_2009_TESTS


def test_write_allocation_regenerates_the_committed_file(tmp_path):
    written = forensic.write_allocation(tmp_path / "allocation.json")
    committed = FORENSIC_DIR / "allocation.json"
    assert written.read_bytes() == committed.read_bytes()
    payload = forensic.read_allocation(committed)
    assert set(payload) == {
        "n_randomized",
        "n_by_arm",
        "events_w96_by_arm",
        "test",
        "p_value",
        "rationale",
        "generated_by",
    }
    assert list(payload["n_by_arm"]) == sorted(ARMS)
    assert payload["generated_by"] == "python -m anrs119 forensic"


def test_lowvl_grid_covers_every_subgroup_size():
    check = forensic.lowvl_check((12, 25))
    grid = check.by_split()
    assert len(grid) == 12 * 25
    assert (grid["tests_matching"] <= len(TESTS)).all()
    assert (grid.loc[grid["tables"] == 0, "tests_matching"] == 0).all()


def test_logrank_matches_lifelines():
    times, in_il2 = forensic.simulate_event_order(30, 25, 9, 15, replicates=3, seed=1)
    ours = forensic.logrank_p_uncensored(in_il2, 30, 25)
    for r in range(3):
        horizon = 1.0  # everyone without an event is censored at the horizon
        t1 = np.r_[times[r][in_il2[r]], np.full(30 - 9, horizon)]
        t2 = np.r_[times[r][~in_il2[r]], np.full(25 - 15, horizon)]
        e1 = np.r_[np.ones(9), np.zeros(30 - 9)]
        e2 = np.r_[np.ones(15), np.zeros(25 - 15)]
        assert ours[r] == pytest.approx(logrank_test(t1, t2, e1, e2).p_value, rel=1e-9)


def test_km_reachability_by_hand_and_against_grim():
    # n = 3, one censoring: the event percentages possible are 0, 1/3 and 1/2.
    assert forensic.km_percent_reachable(3, ReportedPercent(50.0), censored=1)
    assert not forensic.km_percent_reachable(3, ReportedPercent(50.0), censored=0)
    assert forensic.km_percent_reachable(3, ReportedPercent(33.0), censored=1)
    n = np.arange(1, 131)
    for percent in (ReportedPercent(35.0), ReportedPercent(59.0)):
        low, high = percent.count_range(n)
        without_censoring = forensic.km_min_censored(n, percent) == 0
        assert without_censoring.tolist() == (low <= high).tolist()
    with pytest.raises(ValueError, match="censored"):
        forensic.km_percent_reachable(10, ReportedPercent(35.0), censored=3)


def test_feasible_allocations_list_the_referees_tables_and_mark_the_embedded_one():
    """Every listed table prints both percentages and the P (checked by scipy), the referee's
    62/68 (chi-square), 69/61 and 71/59 (Fisher) are among them, and exactly one, the committed
    allocation, is marked as the embedded data's."""
    table = forensic.feasible_allocations()
    shown = {(r.n_il2, r.n_control, r.k_il2, r.k_control): r.test for r in table.itertuples()}
    assert shown[(62, 68, 22, 40)] == "pearson"
    assert shown[(69, 61, 24, 36)] == "fisher" and shown[(71, 59, 25, 35)] == "fisher"
    pct_il2, pct_control = (
        float(claim_value(c)) for c in ("primary_w96_il2", "primary_w96_control")
    )
    p_claim = claim("primary_w96_p")
    for r in table.itertuples():
        assert round(100 * r.k_il2 / r.n_il2) == pct_il2
        assert round(100 * r.k_control / r.n_control) == pct_control
        observed = [[r.k_il2, r.n_il2 - r.k_il2], [r.k_control, r.n_control - r.k_control]]
        p = (
            stats.fisher_exact(observed).pvalue
            if r.test == "fisher"
            else stats.chi2_contingency(observed, correction=r.test == "yates")[1]
        )
        assert math.floor(1000 * p + 0.5) / 1000 == float(p_claim["value"])
        assert r.ci_low < r.difference < r.ci_high
    embedded = table[table["embedded"]]
    allocation = forensic.read_allocation()
    assert len(embedded) == 1
    assert int(embedded["n_il2"].iloc[0]) == allocation["n_by_arm"][ARMS[0]]
    assert int(embedded["k_control"].iloc[0]) == allocation["events_w96_by_arm"][ARMS[1]]
    low, high = forensic.simple_randomization_range(int(claim_value("n_randomized")))
    assert table["n_il2"].between(low, high).all()
