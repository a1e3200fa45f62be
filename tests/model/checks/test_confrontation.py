"""Tests of the confrontation with the subgroup result: the pair's event as printed, its exact
count and the per-draw product estimator, the arms' independence given the parameters (which the
estimator needs), alternative priors and the importance weights that recover a known posterior,
the model variants' tables (common random numbers), a reduced run, the committed files."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anrs119.model.checks import confrontation as cf
from anrs119.model.checks import extensions as ext
from anrs119.model.checks.batch import Posteriors
from anrs119.model.checks.predictive import CLUSTER_KEY, SUBGROUP_PAIR
from anrs119.model.inference.priors import FREE_PARAMETERS, Prior, Priors, load_priors
from anrs119.model.inference.reference import ReferenceTable
from anrs119.model.inference.rejection import Unbounded, quantiles
from anrs119.model.inference.statistics import posterior_statistics
from anrs119.seeds import TEST_SEED

IL2, CONTROL = SUBGROUP_PAIR


def test_the_pair_is_read_as_printed():
    il2 = np.array([63.5, 63.49, 70.0, np.nan, 64.0])
    control = np.array([10.49, 10.0, 10.5, 5.0, np.nan])
    a, b = cf.pair_events(il2, control)
    np.testing.assert_array_equal(a, [True, False, True, False, True])
    np.testing.assert_array_equal(b, [True, True, False, True, False])


def _pair_table(il2: np.ndarray, control: np.ndarray) -> ReferenceTable:
    ids = tuple(s.id for s in posterior_statistics())
    stats_ = np.zeros((il2.size, len(ids)))
    stats_[:, ids.index(IL2)] = il2
    stats_[:, ids.index(CONTROL)] = control
    return ReferenceTable(np.zeros((il2.size, 1)), stats_, ("x",), ids)


def test_the_table_count_and_its_exact_interval():
    rng = np.random.default_rng(TEST_SEED)
    il2 = rng.choice([70.0, 40.0], 5_000, p=[0.2, 0.8])
    control = rng.choice([5.0, 30.0], 5_000, p=[0.1, 0.9])
    table = _pair_table(il2, control)
    pp = cf.table_pair(table)
    k = int(np.sum((il2 == 70) & (control == 5)))
    assert pp.p == k / 5_000 and pp.trials == 5_000
    ci = stats.binomtest(k, 5_000).proportion_ci(method="exact")
    assert (pp.lower, pp.upper) == (ci.low, ci.high)
    same = cf.table_pair(table, np.full(5_000, 3.0))  # constant weights: the same share
    assert same.p == pytest.approx(pp.p) and same.mc_se == pytest.approx(pp.mc_se, rel=1e-3)


def test_the_product_estimator_is_unbiased_and_beats_the_count():
    """Draws whose two arms meet their half with chances p1, p2 (independently): the mean of
    the per-draw products estimates E[p1 p2] within its Monte Carlo error."""
    rng = np.random.default_rng(TEST_SEED)
    draws, per = 4_000, 5
    p1 = rng.beta(1, 20, draws)
    p2 = rng.beta(1, 30, draws)
    e1 = rng.random((draws, per)) < p1[:, None]
    e2 = rng.random((draws, per)) < p2[:, None]
    samples = {
        IL2: np.where(e1, 70.0, 30.0).ravel(),
        CONTROL: np.where(e2, 5.0, 30.0).ravel(),
        CLUSTER_KEY: np.repeat(np.arange(draws), per).astype(float),
    }
    pp = cf.predictive_pair(cf.Predictive(samples, draws, per))
    truth = float(np.mean(p1 * p2))
    assert abs(pp.p - truth) < 4 * pp.mc_se
    both = (e1 & e2).mean(axis=1)
    count_se = both.std(ddof=1) / math.sqrt(draws)
    assert pp.mc_se < count_se


def test_given_the_parameters_the_arms_are_independent():
    """The estimator's premise: at fixed parameters the two arms' low-viral-load results are
    uncorrelated across simulated trials (disjoint patients, independent random numbers)."""
    from anrs119.model.inference.statistics import base_values
    from anrs119.model.simulator.simulate import simulate_claims

    s = simulate_claims(base_values(load_priors()), 400, TEST_SEED, safety=False)
    x, y = s[IL2], s[CONTROL]
    keep = np.isfinite(x) & np.isfinite(y)
    r = np.corrcoef(x[keep], y[keep])[0, 1]
    assert abs(r) < 0.2  # SE about 0.05
    assert np.std(x[keep]) > 0 and np.std(y[keep]) > 0


def test_the_groups_split_the_posteriors_statistics():
    ids = [s.id for s in posterior_statistics()]
    grouped = [i for g in cf.GROUPS.values() for i in g]
    assert sorted(grouped) == sorted(ids)
    table = ReferenceTable(np.zeros((1, 1)), np.zeros((1, len(ids))), ("x",), tuple(ids))
    assert cf.group_columns(table, None) == list(range(len(ids)))
    kept = [ids[j] for j in cf.group_columns(table, "lowvl_pair")]
    assert IL2 not in kept and CONTROL not in kept and len(kept) == len(ids) - 2


# ---------------------------------------------------------------- alternative priors


def test_the_committed_alternatives_are_valid():
    alts = cf.load_alternatives()
    assert len(alts) >= 3
    assert all(a.parameter in FREE_PARAMETERS for a in alts)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"parameter": "nonsense"}, "line 2: field parameter"),
        (
            {"parameter": "cd4_slope_mean", "distribution": "normal", "lower": ""},
            "line 2: field lower: inside the book's prior's support",
        ),
        ({"source": " "}, "line 2: field source"),
        ({"scale": "-1"}, "line 2: field scale"),
    ],
)
def test_a_bad_alternative_is_named(tmp_path, edit, message):
    row = {
        "alternative": "x",
        "parameter": "il2_halflife",
        "distribution": "lognormal",
        "loc": "40",
        "scale": "0.6",
        "lower": "",
        "upper": "",
        "source": "s",
        "reason": "r",
    }
    row.update(edit)
    path = tmp_path / "prior_alternatives.csv"
    pd.DataFrame([row], columns=list(cf.ALTERNATIVE_COLUMNS)).to_csv(path, index=False)
    with pytest.raises(cf.AlternativesError, match=message):
        cf.load_alternatives(path)


def _normal(name: str, loc: float, scale: float) -> Prior:
    return Prior(name, "normal", loc, scale, None, None, "literature", "R", "s", "r")


def test_reweighting_recovers_the_posterior_under_another_prior():
    """theta ~ N(0, 1) in the table; under the alternative N(0.8, 0.6^2) the exact posterior
    of an observation s with noise 0.5 is normal with precision 1/0.36 + 1/0.25."""
    rng = np.random.default_rng(TEST_SEED)
    n = 200_000
    theta = rng.normal(size=(n, 1))
    table = ReferenceTable(theta, theta + 0.5 * rng.normal(size=(n, 1)), ("a",), ("sa",))
    priors = Priors((_normal("a", 0.0, 1.0),))
    alt = cf.Alternative("shifted", _normal("a", 0.8, 0.6))
    w = cf.importance_weights(table, alt, priors)
    assert w.mean() == pytest.approx(1.0)
    unb = Unbounded(("identity",), np.array([-math.inf]), np.array([math.inf]))
    f = Posteriors(table, unb, 8_000, scales=np.ones(1), importance=w).fit(np.array([1.2]))
    assert f.ess > 2_000  # a quantile's Monte Carlo SE near 0.02 here
    prec = 1 / 0.36 + 1 / 0.25
    mean, sd = (0.8 / 0.36 + 1.2 / 0.25) / prec, math.sqrt(1 / prec)
    q = quantiles(f, [0.025, 0.5, 0.975], unb)[0]
    np.testing.assert_allclose(q, mean + sd * np.array([-1.96, 0.0, 1.96]), atol=0.06)
    plain = quantiles(
        Posteriors(table, unb, 8_000, scales=np.ones(1)).fit(np.array([1.2])), [0.5], unb
    )[0, 0]
    assert abs(plain - 1.2 / 1.25) < 0.03 and abs(q[1] - plain) > 0.05


# ---------------------------------------------------------------- variants and a reduced run


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    """The whole confrontation at toy sizes, on a tiny table, with its own cache folder."""
    from anrs119.model.inference.reference import build_reference_table

    cache = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("ANRS119_CACHE", str(cache))
    table = build_reference_table(1_500, TEST_SEED, chunk=1_500, progress=False)
    sizes = cf.Sizes(draws=12, per_draw=2, bootstrap=5, extension_size=1_000, extension_accepted=60)
    kw = dict(sizes=sizes, accepted=75, progress=False)
    first = cf.run_confrontation(table, **kw)
    second = cf.run_confrontation(table, **kw)
    yield table, first, second
    mp.undo()


def test_a_reduced_run_is_deterministic_and_complete(reduced, tmp_path):
    _, first, second = reduced
    a = [p.read_bytes() for p in cf.write_results(first, tmp_path / "a")]
    b = [p.read_bytes() for p in cf.write_results(second, tmp_path / "b")]
    assert a == b
    pair = pd.DataFrame(first.pair)
    assert set(pair["analysis"]) == {
        "prior",
        "posterior",
        "leave_out",
        "prior_sensitivity",
        "model",
    }
    assert (pair["analysis"] == "leave_out").sum() == len(cf.GROUPS)
    assert set(pair.loc[pair["analysis"] == "model", "variant"]) == {v.name for v in ext.VARIANTS}
    assert pair["p_pair"].between(0, 1).all()
    post = pd.DataFrame(first.posteriors)
    vl = post[(post["analysis"] == "model") & (post["variant"] == ext.VL_MODIFIED.name)]
    assert "il2_gain_vl" in set(vl["parameter"])
    claims = pd.DataFrame(first.claims)
    left = claims[claims["analysis"] == "leave_out"]
    assert set(left["claim"]) == {i for g in cf.GROUPS.values() for i in g}


def test_variant_tables_share_the_books_draws(reduced):
    base = ext.variant_table(ext.BASE, 1_000, progress=False)
    for v in (ext.VL_MODIFIED, ext.ART_MEASURED):
        t = ext.variant_table(v, 1_000, progress=False)  # from the run's cache
        np.testing.assert_array_equal(t.parameters[:, : len(FREE_PARAMETERS)], base.parameters)
        assert t.names[: len(FREE_PARAMETERS)] == FREE_PARAMETERS
        assert not np.array_equal(t.statistics, base.statistics, equal_nan=True)
    vl = ext.variant_table(ext.VL_MODIFIED, 1_000, progress=False)
    assert vl.names[-1] == "il2_gain_vl" and np.std(vl.parameters[:, -1]) > 0.3


# ---------------------------------------------------------------- the committed files


def test_the_committed_files_hold_every_analysis():
    pair = pd.read_csv(cf.PAIR_FILE)
    prior = pair[pair["analysis"] == "prior"].iloc[0]
    assert prior["trials"] >= 1_000_000 and prior["lower95"] <= prior["p_pair"] <= prior["upper95"]
    assert (pair["analysis"] == "leave_out").sum() == len(cf.GROUPS)
    alts = {a.name for a in cf.load_alternatives()}
    assert set(pair.loc[pair["analysis"] == "prior_sensitivity", "variant"]) == alts
    models = pair[pair["analysis"] == "model"]
    assert {v.name for v in ext.VARIANTS} <= set(models["variant"])
    post = pd.read_csv(cf.POSTERIORS_FILE)
    assert (post["q025"] <= post["median"]).all() and (post["median"] <= post["q975"]).all()
    assert post.loc[post["analysis"] == "leave_out", "median_mcse"].notna().all()
