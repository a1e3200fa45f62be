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

    refs = claim_refs()
    n = 400
    samples = _fake_samples(n)
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


# ---------------------------------------------------------------- pinned by the mutation run


def test_mid_rank_percentile_of_one_draw_and_of_none():
    assert mid_rank_percentile(np.array([5.0]), 5.0) == 50.0
    assert mid_rank_percentile(np.array([5.0]), 6.0) == 100.0
    assert np.isnan(mid_rank_percentile(np.array([]), 5.0))
    assert np.isnan(mid_rank_percentile(np.array([np.nan]), 5.0))


def test_a_p_value_claim_is_printed_in_the_journal_style_not_at_its_decimals():
    """A P value claim with 3 decimals: .0123 prints as .01 (two decimals from .01 up), not
    .012; below .001 it prints as the bound (0 here)."""
    ref = ClaimRef("p", 0.008, "=", "p_value", 3)
    assert printed(ref, np.array([0.0123, 0.0004, 0.0081])).tolist() == [0.01, 0.0, 0.008]


def test_mc_se_of_two_draws_and_of_one_cluster():
    # two independent draws 0 and 1: deviations +-0.5, sqrt(0.5 / (2 * 1)) = 0.5
    assert mc_se(np.array([0.0, 1.0])) == pytest.approx(0.5)
    # one cluster: its deviations sum to zero, so the mean carries no Monte Carlo error
    assert mc_se(np.array([0.0, 1.0, 1.0]), np.zeros(3)) == pytest.approx(0.0, abs=1e-12)


def test_every_row_uses_the_clusters_of_repeated_particles():
    """Draws that repeat one posterior particle are one cluster: each row's MC SE, the joint
    check's and the subgroup check's are the clustered ones."""
    rng = np.random.default_rng(TEST_SEED)
    n = 600
    labels = np.repeat(np.arange(n // 6), 6).astype(float)
    base = np.repeat(rng.normal(0, 1, n // 6), 6)
    a, b = 35 + 8 * base, 10 + 6 * base + rng.normal(0, 1, n)
    refs = [
        ClaimRef(SUBGROUP_PAIR[0], 35.0, "=", "proportion", 0),
        ClaimRef(SUBGROUP_PAIR[1], 12.0, "=", "proportion", 0),
    ]
    samples = {SUBGROUP_PAIR[0]: a, SUBGROUP_PAIR[1]: b, CLUSTER_KEY: labels}
    row = check_rows(samples, "posterior", refs[:1])[0]
    shown = printed(refs[0], a)
    event = (shown < 35.0) + 0.5 * (shown == 35.0)
    assert row["mc_se"] == round(100 * mc_se(event, labels), 2)
    assert row["mc_se"] > round(100 * mc_se(event), 2)
    pair = subgroup_pair_check(samples, refs)
    far = np.all(
        np.array([1.0, 1.0]) * (np.column_stack([np.round(a), np.round(b)]) - [35.0, 12.0]) >= 0,
        axis=1,
    )
    assert pair.p_value == pytest.approx(far.mean())
    assert pair.mc_se == pytest.approx(mc_se(far.astype(float), labels))
    joint = joint_check(samples, refs)
    d2, d2_obs = _normal_score_distances(samples, refs)
    assert joint.mc_se == pytest.approx(mc_se((d2 >= d2_obs).astype(float), labels))


def _normal_score_distances(samples, refs):
    """The joint check recomputed with scipy's ranks: mid-rank share = (average rank - 1/2)/n,
    normal scores clipped half a draw from 0 and 1, distance by the inverse correlation."""
    m = np.column_stack([printed(r, samples[r.id]) for r in refs])
    n = m.shape[0]
    pub = np.array([printed(r, np.array([r.value]))[0] for r in refs])
    u = np.column_stack([(stats.rankdata(m[:, j]) - 0.5) / n for j in range(m.shape[1])])
    u_obs = np.array(
        [
            ((m[:, j] < pub[j]).sum() + 0.5 * (m[:, j] == pub[j]).sum()) / n
            for j in range(m.shape[1])
        ]
    )
    z = stats.norm.ppf(np.clip(u, 0.5 / n, 1 - 0.5 / n))
    z_obs = stats.norm.ppf(np.clip(u_obs, 0.5 / n, 1 - 0.5 / n))
    prec = np.linalg.inv(np.corrcoef(z.T))
    return np.array([v @ prec @ v for v in z]), float(z_obs @ prec @ z_obs)


@pytest.mark.parametrize("side", [-1.0, 1.0])
def test_joint_check_matches_an_independent_computation_beyond_every_draw(side: float):
    """Published values below (or above) every draw get the clipped score half a draw from the
    end, never an infinite one; statistic, p and counts match the recomputation."""
    rng = np.random.default_rng(TEST_SEED)
    n = 500
    x = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.5], [0.5, 1.0]], n)
    refs = [
        ClaimRef("a", side * 10.0, "=", "difference", 2),
        ClaimRef("b", side * 10.0, "=", "difference", 2),
    ]
    samples = {"a": x[:, 0], "b": x[:, 1]}
    check = joint_check(samples, refs)
    d2, d2_obs = _normal_score_distances(samples, refs)
    assert np.isfinite(check.statistic)
    assert check.statistic == pytest.approx(d2_obs, rel=1e-9)
    assert check.p_value == pytest.approx(np.mean(d2 >= d2_obs))
    assert check.n_draws == n and check.n_statistics == 2


def _correlated_pair():
    """800 seeded draws of two correlated percentages, printed as whole numbers, and a published
    pair (33, 44) that some draws print exactly."""
    rng = np.random.default_rng(TEST_SEED)
    x = rng.multivariate_normal([30.0, 50.0], [[25.0, 10.0], [10.0, 25.0]], 800)
    refs = [
        ClaimRef("a", 33.0, "=", "proportion", 0),
        ClaimRef("b", 44.0, "=", "proportion", 0),
    ]
    return x, refs, {"a": x[:, 0], "b": x[:, 1]}


def test_joint_check_gives_tied_printed_values_their_mid_ranks():
    """Printed values tie (whole percentages): each tie counts half, as scipy's average ranks."""
    from anrs119.model.checks.predictive import _mid_ranks

    column = np.array([1.0, 2.0, 2.0, 3.0])
    assert _mid_ranks(column, np.array([2.0, 0.0, 9.0, 1.0])).tolist() == [0.5, 0.0, 1.0, 0.125]
    _, refs, samples = _correlated_pair()
    d2, d2_obs = _normal_score_distances(samples, refs)
    check = joint_check(samples, refs)
    assert check.statistic == pytest.approx(d2_obs, rel=1e-9)
    # draws exactly as far as the published pair differ from it by rounding only
    tol = 1e-9 * d2_obs
    assert np.mean(d2 > d2_obs + tol) <= check.p_value <= np.mean(d2 >= d2_obs - tol)


def test_a_draw_printing_exactly_the_published_values_counts_as_at_least_as_far():
    """Found by the mutation work: the published distance and the draws' are summed in different
    orders, so a draw printing exactly the published values came out 4e-16 closer and was not
    counted as 'at least as far'."""
    x, refs, samples = _correlated_pair()
    d2, d2_obs = _normal_score_distances(samples, refs)
    same = np.all(np.round(x) == [33.0, 44.0], axis=1)
    assert same.any()
    tol = 1e-9 * d2_obs
    expected = np.mean((d2 > d2_obs + tol) | same)
    assert joint_check(samples, refs).p_value == pytest.approx(expected)


def test_subgroup_pair_directions_come_from_each_claims_own_median_and_ties_count():
    """Published 50 lies below the IL-2 draws' median (60) but above the median of all values
    pooled: the direction is 'at most 50'. A draw printing exactly a published value is as far
    as it (ties count), in either direction; a value at its median counts draws at or above."""
    il2 = np.array([50.0, 49.0, 70.0, 60.0, 61.0, 58.0, 65.0])
    control = np.array([13.0, 12.0, 9.0, 10.0, 8.0, 11.0, 10.0])  # median 10
    samples = {SUBGROUP_PAIR[0]: il2, SUBGROUP_PAIR[1]: control}

    def pair(il2_value: float, control_value: float):
        refs = [
            ClaimRef(SUBGROUP_PAIR[0], il2_value, "=", "proportion", 0),
            ClaimRef(SUBGROUP_PAIR[1], control_value, "=", "proportion", 0),
        ]
        return subgroup_pair_check(samples, refs)

    # at most 50 and at least 12: (50, 13) with a tie below, and (49, 12) with a tie above
    check = pair(50.0, 12.0)
    assert check.p_value == pytest.approx(2 / 7)
    assert check.n_draws == 7 and check.n_statistics == 2 and np.isnan(check.statistic)
    # 60 is the IL-2 median: at least 60 and at least 12: no draw
    assert pair(60.0, 12.0).p_value == 0.0
    # both at their medians: at least 60 and at least 10: (60, 10) and (65, 10)
    assert pair(60.0, 10.0).p_value == pytest.approx(2 / 7)


def test_claim_refs_carry_the_registrys_decimals():
    from anrs119.published import load_claims

    claims = load_claims()
    for ref in claim_refs():
        if ref.statistic != "similar":
            assert ref.decimals == int(claims.at[ref.id, "decimals"]), ref.id
    assert {r.decimals for r in claim_refs()} >= {0, 2}


def test_check_rows_give_the_inverted_cdf_quantiles_of_the_draws():
    """Draws 1..8000: the 2.5th percentile is the 200th draw (the smallest with at least 2.5%
    of draws at or below it), the median the 4000th, the 97.5th the 7800th."""
    x = np.arange(1.0, 8001.0)
    row = check_rows({"pct": x}, "prior", [PCT])[0]
    assert (row["lower95"], row["median"], row["upper95"]) == (200.0, 4000.0, 7800.0)


def test_check_rows_skip_absent_and_empty_claims_and_go_on():
    similar = ClaimRef("s", float("nan"), "=", "similar", 0)
    empty = ClaimRef("e", 10.0, "=", "proportion", 0)
    missing = ClaimRef("m", 10.0, "=", "proportion", 0)
    samples = {"s": np.ones(4), "e": np.full(4, np.nan), "pct": np.array([30.0, 40.0])}
    # the similar statement lacks its per-draw verdicts: no row, and the later claims still come
    rows = check_rows(samples, "prior", [similar, empty, missing, PCT])
    assert [r["id"] for r in rows] == ["pct"]


def _met(k: int, n: int) -> np.ndarray:
    return np.r_[np.ones(k), np.zeros(n - k)]


@pytest.mark.parametrize("kind", ["similar", "bound"])
def test_an_event_met_by_2_48_percent_of_draws_is_flagged_and_2_5_percent_is_not(kind: str):
    def row(k: int, n: int) -> dict:
        met = _met(k, n)
        if kind == "similar":
            ref = ClaimRef("s", float("nan"), "=", "similar", 0)
            samples = {"s": np.zeros(n), "s" + SIMILAR_SUFFIX: met}
        else:
            ref, samples = BOUND, {"p": np.where(met == 1, 0.0001, 0.5)}
        return check_rows(samples, "prior", [ref])[0]

    assert row(31, 1250)["outside95"]  # 2.48%
    assert not row(25, 1000)["outside95"]  # 2.5%
    assert row(0, 10)["outside95"] and not row(10, 10)["outside95"]
    assert np.isnan(row(31, 1250)["percentile_unrounded"])


def test_a_bound_is_met_strictly_in_either_direction():
    """'P < .001' is not met by a draw of exactly .001; '> 10' is not met by exactly 10."""
    rows = check_rows({"p": np.array([0.001, 0.0005, 0.5, 0.002])}, "prior", [BOUND])
    assert rows[0]["percentile"] == 25.0
    above = ClaimRef("d", 10.0, ">", "difference", 0)
    row = check_rows({"d": np.array([10.0, 11.0, 9.0, 12.0, 30.0])}, "prior", [above])[0]
    assert row["percentile"] == 60.0
    assert "printing > 10" in row["note"] and np.isnan(row["percentile_unrounded"])


def test_value_rows_round_to_two_decimals_and_flag_from_either_end():
    # 34 prints below 35, 36 and 37 above: 33.33 (raw, unrounded: also a third)
    row = check_rows({"pct": np.array([34.0, 36.0, 37.0])}, "prior", [PCT])[0]
    assert row["percentile"] == 33.33 and row["percentile_unrounded"] == 33.33
    assert row["mc_se"] == 33.33  # scores 1, 0, 0: sqrt((2/3) / (3 * 2)) = 1/3
    low = check_rows({"pct": np.r_[np.full(25, 30.0), np.full(975, 40.0)]}, "prior", [PCT])[0]
    assert low["percentile"] == 2.5 and not low["outside95"]
    high = check_rows({"pct": np.r_[np.full(980, 30.0), np.full(20, 40.0)]}, "prior", [PCT])[0]
    assert high["percentile"] == 98.0 and high["outside95"]


def test_joint_rows_round_to_two_decimals_and_flag_below_2_5_percent():
    from anrs119.model.checks.predictive import JointCheck, _joint_row

    row = _joint_row(JointCheck(1.0, 1 / 3, 1 / 7, 10, 2), "prior", JOINT_ID, "note")
    assert (row["percentile"], row["mc_se"]) == (33.33, 14.29)
    assert not _joint_row(JointCheck(1.0, 0.025, 0.0, 10, 2), "prior", JOINT_ID, "")["outside95"]
    assert _joint_row(JointCheck(1.0, 0.0248, 0.0, 10, 2), "prior", JOINT_ID, "")["outside95"]


def test_the_checks_table_writes_the_notes_of_the_committed_file_and_six_digit_quantiles(table):
    """The notes the code writes are the committed file's (up to the joint distance, which
    depends on the draws), and quantiles keep six significant digits."""
    from anrs119.model.checks.predictive import checks_table

    samples = _fake_samples(300, shrink=3)
    mine = checks_table(samples, samples).set_index(["distribution", "id"])["note"]
    committed = table.set_index(["distribution", "id"])["note"]
    for key, note in committed.items():
        assert mine[key].split("; distance")[0] == note.split("; distance")[0], key
    frame = checks_table(samples, samples)
    finite = frame["median"].dropna()
    assert len(finite) and all(v == float(f"{v:.6g}") for v in finite)


def _fake_samples(n: int, shrink: float = 1) -> dict[str, np.ndarray]:
    """Draws for every registry claim (seeded): similar statements with their no-difference
    flags, P values skewed towards 0, point estimates around the published values."""
    rng = np.random.default_rng(TEST_SEED)
    samples = {}
    for r in claim_refs():
        if r.statistic == "similar":
            samples[r.id] = rng.normal(0, 5, n)
            samples[r.id + SIMILAR_SUFFIX] = (rng.random(n) < 0.9).astype(float)
        elif r.statistic == "p_value":
            samples[r.id] = rng.random(n) ** 3
        else:
            samples[r.id] = r.value + rng.normal(0, 10, n) / shrink
    return samples
