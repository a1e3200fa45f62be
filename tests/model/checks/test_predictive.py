"""Tests of the predictive checks: the file's format, checks on printed values, bounds as events,
the one rule for "similar", both tails flagged, Monte Carlo errors, the joint checks, and the
simulation of draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anrs119.model.checks.predictive import (
    CHECKS_FILE,
    CLUSTER_KEY,
    COLUMNS,
    JOINT_ID,
    SIMILAR_SUFFIX,
    SUBGROUP_ID,
    SUBGROUP_PAIR,
    ClaimRef,
    check_rows,
    claim_refs,
    draw_clusters,
    joint_check,
    joint_refs,
    mc_se,
    mid_rank_percentile,
    printed,
    printed_p,
    subgroup_pair_check,
)
from anrs119.model.inference.draws import predictive_summaries, simulate_draws
from anrs119.model.inference.priors import load_priors
from anrs119.model.inference.sample import load_posterior, resample
from anrs119.model.inference.statistics import base_values
from anrs119.seeds import TEST_SEED

PCT = ClaimRef("pct", 35.0, "=", "proportion", 0)
BOUND = ClaimRef("p", 0.001, "<", "p_value", 3)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(CHECKS_FILE)


def test_file_has_the_columns_and_both_joint_checks(table):
    assert tuple(table.columns) == COLUMNS
    assert set(table["distribution"]) == {"prior", "posterior"}
    assert table["outside95"].dtype == bool
    assert ((table["percentile"] >= 0) & (table["percentile"] <= 100)).all()
    assert (table["mc_se"] >= 0).all()
    numeric = [r.id for r in claim_refs() if r.statistic != "similar"]
    for dist in ("prior", "posterior"):
        ids = set(table.loc[table["distribution"] == dist, "id"])
        assert set(numeric) <= ids and {JOINT_ID, SUBGROUP_ID} <= ids


def test_mid_rank_percentile_matches_scipy():
    rng = np.random.default_rng(TEST_SEED)
    x = rng.integers(0, 20, 500).astype(float)
    for v in (0.0, 7.0, 7.5, 19.0, 30.0):
        assert mid_rank_percentile(x, v) == pytest.approx(stats.percentileofscore(x, v, "mean"))


def test_infinite_draws_sort_above_and_nan_draws_are_dropped():
    x = np.array([1.0, np.inf, np.nan, 3.0])
    assert mid_rank_percentile(x, 2.0) == pytest.approx(100 / 3)


def test_simulated_values_are_printed_as_the_paper_prints_them():
    assert printed(PCT, np.array([34.49, 34.5, 35.4, np.inf])).tolist() == [
        34.0,
        35.0,
        35.0,
        np.inf,
    ]
    cd4 = ClaimRef("m", -64.0, "=", "median_change", 0)
    assert printed(cd4, np.array([-63.5, -64.4])).tolist() == [-64.0, -64.0]  # half away from 0
    # journal style: < .001 sorts below every printed number, 3 decimals below .01, else 2
    assert printed_p(np.array([0.0004, 0.0081, 0.0085, 0.0123, 0.934])).tolist() == [
        0.0,
        0.008,
        0.009,
        0.01,
        0.93,
    ]


def test_the_percentile_is_taken_among_printed_values():
    """Draws 34.6 print as 35 (a tie with the published 35%), so they count half; raw, they
    would all lie below 35.0."""
    x = np.array([34.6, 34.6, 36.0, 20.0])
    row = check_rows({"pct": x}, "prior", [PCT])[0]
    assert row["percentile"] == pytest.approx(100 * (1 + 0.5 * 2) / 4)
    assert row["percentile_unrounded"] == pytest.approx(75.0)


@pytest.mark.parametrize(("shift", "tail"), [(-10.0, "low"), (10.0, "high")])
def test_a_published_value_in_either_tail_is_flagged(shift: float, tail: str):
    rng = np.random.default_rng(TEST_SEED)
    x = PCT.value + shift + rng.normal(0, 2, 2000)
    row = check_rows({"pct": x}, "prior", [PCT])[0]
    assert row["outside95"], tail
    assert (row["percentile"] < 2.5) if tail == "high" else (row["percentile"] > 97.5)
    middle = check_rows({"pct": PCT.value + rng.normal(0, 2, 2000)}, "prior", [PCT])[0]
    assert not middle["outside95"] and 25 < middle["percentile"] < 75


def test_bound_rows_give_the_share_meeting_the_bound_as_an_event():
    rows = check_rows({"p": np.array([0.0001, 0.01, 0.5, 0.0005])}, "prior", [BOUND])
    assert rows[0]["percentile"] == 50.0 and not rows[0]["outside95"]
    rows = check_rows({"p": np.full(100, 0.5)}, "prior", [BOUND])
    assert rows[0]["percentile"] == 0.0 and rows[0]["outside95"]
    # meeting the bound is the observed event: every draw meeting it is not a deviation
    rows = check_rows({"p": np.full(100, 0.0)}, "prior", [BOUND])
    assert rows[0]["percentile"] == 100.0 and not rows[0]["outside95"]


def test_a_similar_statement_asks_the_one_rule():
    ref = ClaimRef("s", float("nan"), "=", "similar", 0)
    samples = {"s": np.array([1.0, 30.0, -2.0, 0.0]), "s" + SIMILAR_SUFFIX: np.array([1, 0, 1, 1])}
    row = check_rows(samples, "prior", [ref])[0]
    assert row["percentile"] == 75.0
    assert "one rule" in row["note"]


def test_mc_se_is_the_binomial_error_without_clusters_and_grows_with_clusters():
    rng = np.random.default_rng(TEST_SEED)
    event = (rng.random(4000) < 0.3).astype(float)
    assert mc_se(event) == pytest.approx(np.sqrt(event.mean() * (1 - event.mean()) / 3999))
    # the same 200 values repeated 20 times: 200 independent clusters, not 4000
    repeated = np.repeat(event[:200], 20)
    labels = np.repeat(np.arange(200), 20)
    assert mc_se(repeated, labels) == pytest.approx(mc_se(event[:200]), rel=0.05)
    assert mc_se(repeated, labels) > 3 * mc_se(repeated)


def test_draw_clusters_group_repeated_particles():
    draws = {"a": np.array([1.0, 2.0, 1.0, 3.0]), "b": np.array([5.0, 5.0, 5.0, 5.0])}
    labels = draw_clusters(draws)
    assert labels[0] == labels[2] and len(set(labels)) == 3


def _two_claims(rng, n=3000, rho=0.8):
    draws = rng.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], n)
    refs = [
        ClaimRef("a", 0.0, "=", "difference", 3),
        ClaimRef("b", 0.0, "=", "difference", 3),
        ClaimRef("p", 0.5, "=", "p_value", 2),
    ]
    samples = {"a": draws[:, 0], "b": draws[:, 1], "p": rng.random(n)}
    return samples, refs


def test_joint_check_flags_a_far_vector_and_not_a_typical_one():
    rng = np.random.default_rng(TEST_SEED)
    samples, refs = _two_claims(rng)
    typical = joint_check(samples, refs)
    assert typical.n_statistics == 2  # the P value is left out
    assert typical.p_value > 0.5
    # each value alone is unremarkable (about the 7th and 93rd percentiles), but opposite
    # deviations of strongly correlated claims are jointly rare
    far = [
        ClaimRef("a", 1.5, "=", "difference", 3),
        ClaimRef("b", -1.5, "=", "difference", 3),
        refs[2],
    ]
    single = [r["outside95"] for r in check_rows(samples, "prior", far[:2])]
    assert not any(single)
    assert joint_check(samples, far).p_value < 0.01


def test_joint_refs_leave_out_p_values_bounds_and_similar_statements():
    chosen = {r.id for r in joint_refs(claim_refs())}
    assert chosen and all(
        r.statistic not in ("p_value", "similar") and r.bound == "="
        for r in claim_refs()
        if r.id in chosen
    )
    assert set(SUBGROUP_PAIR) <= chosen


def test_subgroup_pair_check_counts_draws_as_extreme_in_both_directions():
    rng = np.random.default_rng(TEST_SEED)
    n = 4000
    il2 = rng.normal(45, 10, n)
    control = il2 - 18 + rng.normal(0, 5, n)  # correlated, as in the model
    refs = [
        ClaimRef(SUBGROUP_PAIR[0], 64.0, "=", "proportion", 0),
        ClaimRef(SUBGROUP_PAIR[1], 10.0, "=", "proportion", 0),
    ]
    samples = {SUBGROUP_PAIR[0]: il2, SUBGROUP_PAIR[1]: control, CLUSTER_KEY: np.arange(n)}
    check = subgroup_pair_check(samples, refs)
    p_il2, p_control = np.round(il2), np.round(control)
    expected = np.mean((p_il2 >= 64) & (p_control <= 10))
    assert check.p_value == pytest.approx(expected)
    assert check.p_value < 0.01
    assert check.mc_se == pytest.approx(mc_se(((p_il2 >= 64) & (p_control <= 10)).astype(float)))


@pytest.mark.slow
def test_predictive_summaries_do_not_depend_on_the_chunking():
    priors = load_priors()
    base = base_values(priors)
    draws = resample(load_posterior(), 6, np.random.default_rng(TEST_SEED))
    a = predictive_summaries(base, draws, TEST_SEED, chunk=6, progress=False)
    b = predictive_summaries(base, draws, TEST_SEED, chunk=6, progress=False)
    for k in ("primary_w96_il2", "lowvl_art_deferral"):
        np.testing.assert_array_equal(a[k], b[k])
    one = simulate_draws(base, {k: v[:1] for k, v in draws.items()}, 1, TEST_SEED)
    assert set(one) >= {
        "primary_w96_il2",
        "safety_aids_similar",
        "safety_aids_similar" + SIMILAR_SUFFIX,
    }


def test_checks_table_has_every_claim_and_both_joint_rows_per_distribution(tmp_path):
    """The table the model writes, on small made-up samples: one row per claim present, the two
    joint rows, MC SEs, and the file written and read back unchanged."""
    from anrs119.model.checks.predictive import (
        PredictiveSamples,
        checks_table,
        load_checks,
        write_checks,
    )

    rng = np.random.default_rng(TEST_SEED)
    refs = claim_refs()
    n = 400
    samples = {}
    for r in refs:
        if r.statistic == "similar":
            samples[r.id] = rng.normal(0, 5, n)
            samples[r.id + SIMILAR_SUFFIX] = (rng.random(n) < 0.9).astype(float)
        elif r.statistic == "p_value":
            samples[r.id] = rng.random(n) ** 3
        else:
            samples[r.id] = r.value + rng.normal(0, 10, n)
    samples[CLUSTER_KEY] = np.arange(n, dtype=float)
    table = checks_table(samples, samples)
    assert tuple(table.columns) == COLUMNS
    for dist in ("prior", "posterior"):
        part = table[table["distribution"] == dist].set_index("id")
        assert set(part.index) == {r.id for r in refs} | {JOINT_ID, SUBGROUP_ID}
        joint = part.loc[JOINT_ID]
        # the published values sit at the centre of these draws: no misfit to flag
        assert joint["percentile"] > 50 and not joint["outside95"] and joint["mc_se"] >= 0
        assert f"over {len(joint_refs(refs))} claims" in joint["note"]
        assert part.loc[SUBGROUP_ID, "n_draws"] == n
        similar = part.loc["safety_aids_similar"]
        assert 80 < similar["percentile"] < 100 and not similar["outside95"]
    path = write_checks(PredictiveSamples(samples, samples), tmp_path / "checks.csv")
    pd.testing.assert_frame_equal(load_checks(path), pd.read_csv(path))
    assert len(load_checks(path)) == len(table)


def test_printed_p_keeps_going_past_a_missing_value():
    shown = printed_p(np.array([np.nan, 0.0123, np.nan, 0.0004]))
    assert np.isnan(shown[0]) and np.isnan(shown[2])
    assert shown[1] == 0.01 and shown[3] == 0.0


def test_check_rows_write_every_column_with_its_own_mc_se():
    rng = np.random.default_rng(TEST_SEED)
    x = PCT.value + rng.normal(0, 5, 500)
    row = check_rows({"pct": x}, "posterior", [PCT])[0]
    assert set(row) == set(COLUMNS)
    shown = printed(PCT, x)
    event = (shown < 35.0) + 0.5 * (shown == 35.0)
    assert row["mc_se"] == pytest.approx(round(100 * mc_se(event), 2))
    assert row["lower95"] < row["median"] < row["upper95"]
    assert row["n_draws"] == 500 and row["distribution"] == "posterior"


def test_the_flag_starts_strictly_below_2_5_percent():
    """A bound met by exactly 2.5% of draws is inside the central 95%; by 2.4%, outside."""
    met = np.r_[np.zeros(25), np.ones(975)]  # 25 of 1000 draws print "< .001"
    at = check_rows({"p": np.where(met == 0, 0.0001, 0.5)}, "prior", [BOUND])[0]
    assert at["percentile"] == 2.5 and not at["outside95"]
    below = check_rows(
        {"p": np.where(np.r_[np.zeros(24), np.ones(976)] == 0, 0.0001, 0.5)}, "prior", [BOUND]
    )[0]
    assert below["outside95"]
    # and for a value: exactly at the 97.5th percentile is inside
    x = np.r_[np.full(975, 30.0), np.full(25, 40.0)]
    inside = check_rows({"pct": x}, "prior", [ClaimRef("pct", 35.0, "=", "proportion", 0)])[0]
    assert inside["percentile"] == 97.5 and not inside["outside95"]


def test_mc_se_with_two_clusters_uses_the_small_sample_correction():
    scores = np.array([1.0, 1.0, 0.0, 0.0])
    labels = np.array([0, 0, 1, 1])
    # cluster sums of deviations: +1 and -1; k/(k-1) = 2; sqrt(2 * 2) / 4
    assert mc_se(scores, labels) == pytest.approx(np.sqrt(2 * 2) / 4)
    assert np.isnan(mc_se(np.array([1.0])))


def test_joint_rows_carry_the_checks_p_and_mc_se_in_percent():
    from anrs119.model.checks.predictive import joint_rows

    rng = np.random.default_rng(TEST_SEED)
    samples, refs = _two_claims(rng)
    far = [
        ClaimRef("a", 1.5, "=", "difference", 3),
        ClaimRef("b", -1.5, "=", "difference", 3),
        refs[2],
    ]
    pair = (SUBGROUP_PAIR[0], SUBGROUP_PAIR[1])
    samples = {pair[0]: samples["a"], pair[1]: samples["b"], "p": samples["p"]}
    refs_pair = [
        ClaimRef(pair[0], 1.5, "=", "proportion", 3),
        ClaimRef(pair[1], -1.5, "=", "proportion", 3),
        far[2],
    ]
    rows = {r["id"]: r for r in joint_rows(samples, "prior", refs_pair)}
    j = joint_check(samples, refs_pair)
    assert rows[JOINT_ID]["percentile"] == round(100 * j.p_value, 2)
    assert rows[JOINT_ID]["mc_se"] == round(100 * j.mc_se, 2)
    assert rows[JOINT_ID]["outside95"] == (100 * j.p_value < 2.5)
    assert set(rows[JOINT_ID]) == set(COLUMNS) and np.isnan(rows[JOINT_ID]["upper95"])
    s = subgroup_pair_check(samples, refs_pair)
    assert rows[SUBGROUP_ID]["percentile"] == round(100 * s.p_value, 2)
    assert rows[SUBGROUP_ID]["n_draws"] == s.n_draws
