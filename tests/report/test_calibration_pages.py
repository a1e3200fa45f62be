"""The calibration and confrontation pages: every glued key exists, every table is cited, and
the words the pages use for the committed results are what those results say (re-checked here
from the files, so a regeneration that changes the finding fails the tests)."""

from __future__ import annotations

import re

import pytest

from anrs119.model.checks import confrontation as cf
from anrs119.model.checks import sbc
from anrs119.model.checks.extensions import VARIANTS
from anrs119.model.inference.priors import load_priors
from anrs119.paths import CHAPTERS_DIR
from anrs119.report import calibration as cal
from anrs119.report import confrontation as rc
from anrs119.report.tables import BookTable

PAGES = ("calibration", "confrontation", "posterior", "checks")


@pytest.fixture(scope="module")
def stored() -> cf.Stored:
    return cf.read_results()


@pytest.fixture(scope="module")
def numbers(stored) -> dict[str, str]:
    return cal.calibration_numbers(sbc.read_sbc(), sbc.read_method()) | rc.confrontation_numbers(
        stored
    )


def _page(name: str) -> str:
    return (CHAPTERS_DIR / f"{name}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", PAGES)
def test_every_glued_key_of_these_sections_exists(page, numbers):
    keys = set(re.findall(r"\{glue:text\}`((?:sbc|cf)_[a-z0-9_]+)`", _page(page)))
    assert keys, page
    assert keys <= set(numbers), sorted(keys - set(numbers))


def test_every_table_is_a_cited_reader_table(stored):
    frame = sbc.read_sbc()
    tables = {
        "calibration": [cal.pooled_table(frame), cal.calibration_table(frame)],
        "confrontation": [
            rc.pair_table(stored),
            rc.leave_out_table(stored),
            rc.left_out_claims_table(stored),
            rc.priors_table(stored),
            rc.models_table(stored),
        ],
    }
    for page, made in tables.items():
        text = _page(page)
        for t in made:
            assert isinstance(t, BookTable)
            assert f"{{numref}}`{t.name}`" in text, (page, t.name)
            assert t.markdown().count("\n") > 3


# ---------------------------------------------------------------- the words match the results


def test_the_check_can_fail_and_the_method_is_calibrated_where_the_page_says(numbers):
    method = sbc.read_method()
    ctrl = method["control"]
    assert ctrl["uniformity_rejected"] == ctrl["parameters"]
    assert ctrl["coverage"]["0.9"] < 0.8
    frame = sbc.read_sbc()
    uni, cov = sbc.uniformity(frame), sbc.coverage(frame)
    # "calibrated" from the prior and near the published abstract: no rejection there
    for s in (sbc.PRIOR_SET, sbc.NEAR_SET):
        assert not uni.loc[uni["set"] == s, "rejected"].any()
        assert not cov.loc[cov["set"] == s, "rejected"].any()
    # "the published abstract is isolated": few replicates reach as far; the sparse set does
    bw = frame.groupby(["set", "replicate"])["bandwidth"].first()
    published = method["published_bandwidth"]
    assert (bw.loc[sbc.PRIOR_SET] >= published).mean() < 0.1
    assert (bw.loc[sbc.NEAR_SET] >= published).mean() < 0.1
    assert (bw.loc[sbc.TAIL_SET] >= published).all()
    # "the spread of the CD4 decline" stays near its prior whatever such an abstract prints
    con = sbc.contraction(frame).set_index(["set", "parameter"])["sd_ratio"]
    assert con[(sbc.NEAR_SET, "cd4_slope_sd")] >= cal.INFORMED_BELOW


def test_nothing_makes_the_pair_plausible(stored):
    """ "The one result the model cannot produce ... nothing the literature allows makes it
    plausible": under every prior, posterior, leave-out and model of the page, fewer than one
    trial in 200 prints the pair (two Monte Carlo SEs included)."""
    assert (stored.pair["p_pair"] + 2 * stored.pair["mc_se"] < 1 / 200).all()
    prior = rc._row(stored.pair, "prior", "base")
    assert prior["lower95"] <= prior["p_pair"] <= prior["upper95"]
    # "rarer still" given the abstract, and rarer when the pair is left out
    nopair = rc._row(stored.pair, "leave_out", "without lowvl_pair")
    assert nopair["p_pair"] < prior["p_pair"] and nopair["p_control"] < prior["p_control"]
    # the halves fight: the pair is far rarer than independent halves would make it
    assert prior["p_il2"] * prior["p_control"] > 5 * prior["p_pair"]


def test_the_control_arm_is_what_no_model_produces(stored):
    il2_id, control_id = (s.id for s in cf.pair_statistics())
    c = stored.claims[stored.claims["analysis"] == "model"]
    for v in VARIANTS:
        mine = c[c["variant"] == v.name].set_index("claim")
        control, il2 = mine.loc[control_id, "percentile"], mine.loc[il2_id, "percentile"]
        assert control < 2.5, v.name  # outside the central 95%
        assert control < 100 - il2, v.name  # further out than the IL-2 value


def test_the_pair_moves_the_half_life_and_the_vl_slope(stored):
    q25, q75 = load_priors()["il2_halflife"].quantiles([0.25, 0.75])
    hl = stored.posteriors[stored.posteriors["parameter"] == "il2_halflife"].set_index("variant")
    assert hl.loc["all claims", "median"] > q75
    assert q25 <= hl.loc["without lowvl_pair", "median"] <= q75
    assert rc.informed_by(stored)["il2_halflife"] == ["lowvl_pair"]
    vl = stored.posteriors[stored.posteriors["parameter"] == "cd4_slope_vl"].set_index("variant")
    assert vl.loc["all claims", "median"] < vl.loc["without lowvl_pair", "median"]


def test_the_prior_alternatives_trade_one_half_for_the_other(stored):
    pair = stored.pair.set_index("variant")
    base = rc._row(stored.pair, "prior", "base")
    durable, faster = pair.loc["durable_il2_gains"], pair.loc["cohere_decline"]
    assert durable["p_il2"] > base["p_il2"] and durable["p_control"] == pytest.approx(
        base["p_control"], rel=0.05
    )
    assert faster["p_control"] > base["p_control"] and faster["p_il2"] < base["p_il2"]


def test_the_vl_modified_gain_is_barely_informed(stored):
    post = stored.posteriors
    b = post[(post["analysis"] == "model") & (post["parameter"] == "il2_gain_vl")].iloc[0]
    assert b["sd_ratio"] > 0.8  # "the abstract hardly narrows the prior"
    assert b["median"] < 0  # "negative values ... are favored"


def test_without_the_pair_the_whole_abstract_fails_the_joint_check(stored):
    """ "... the published abstract is as far from the simulated ones as only x% of them": the
    page presents it as the abstract outside the central 95%."""
    nopair = rc._row(stored.pair, "leave_out", "without lowvl_pair")
    assert nopair["joint_p"] + 2 * nopair["joint_se"] < 0.025
