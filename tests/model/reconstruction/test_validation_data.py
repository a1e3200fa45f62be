"""The committed checks of the reconstruction (data/model/reconstruction_*.csv,
ensemble_calibration.csv, simulated_abstracts.csv, whatif.csv): what the chapter says of them
holds, and every number it glues is computed from them."""

from __future__ import annotations

import re

import pytest

from anrs119.model.reconstruction import ensemble_tables as ens
from anrs119.model.reconstruction import validation_tables as val
from anrs119.paths import CHAPTERS_DIR


@pytest.fixture(scope="module")
def numbers() -> dict[str, str]:
    table = ens.read_ensemble()
    ranges = ens.leaves_open(table)
    typical = ens.typicality(table)
    coverage = val.coverage_table(val.read_calibration())
    checked = val.checked_verdicts(ranges, typical, coverage)
    out = ens.chapter_numbers(table)
    stored = (val.read_mixing(), val.read_mixing_runs(), val.read_calibration(),
              val.read_abstracts(), val.read_whatif(), val.read_crossclaim())  # fmt: skip
    out.update(val.validation_numbers(*stored, checked))
    return out


def test_every_glued_key_of_the_chapter_is_computed(numbers):
    text = "".join(
        (CHAPTERS_DIR / name).read_text(encoding="utf-8")
        for name in ("reconstruction.md", "reconstruction_checks.md")
    )
    keys = set(re.findall(r"\{glue:text\}`(r[cv]_[a-z0-9_]+)`", text))
    assert keys and keys <= set(numbers)


def test_the_two_long_chains_agree_on_every_quantity_that_varies():
    mixing = val.read_mixing()
    assert val.unmixed(mixing) == []
    assert (mixing.loc[mixing["estimable"], "ess"].dropna() > 50).all()


def test_every_quantity_has_its_coverage_on_at_least_fifty_abstracts():
    coverage = val.coverage_table(val.read_calibration())
    assert set(coverage["quantity"]) == set(ens.QUANTITIES)
    assert (coverage["n"] >= 50).sum() >= len(ens.QUANTITIES) - 1  # the median deferral: fewer


def test_the_false_alarm_rate_on_model_abstracts_is_at_most_five_percent():
    fa = val.false_alarms(val.read_abstracts())
    assert fa["n"] >= 100
    assert fa["rate"] <= 0.05


def test_every_stored_verdict_follows_from_its_parts_and_thresholds():
    from anrs119.model.reconstruction.assess import CONSISTENCY_ALPHA, JOINT_ALPHA

    w = val.read_whatif()
    for _, r in w.iterrows():
        if not r["forensic_ok"]:
            assert not r["plausible"] and r["failed"] == "forensic consistency"
            continue
        ps = [r[c] for c in w.columns if c.startswith("consistency_p:")]
        assert r["consistency_ok"] == all(p >= CONSISTENCY_ALPHA for p in ps)
        assert r["prior_joint_ok"] == (r["joint_p"] >= JOINT_ALPHA)
        assert r["posterior_joint_ok"] == (r["posterior_joint_p"] >= JOINT_ALPHA)
        parts = ("consistency_ok", "prior_joint_ok", "posterior_joint_ok",
                 "reconstructions_ok", "typicality_ok")  # fmt: skip
        assert r["plausible"] == all(bool(r[c]) for c in parts)


def test_a_contradiction_inserted_into_the_plausible_base_flips_it_by_the_part_that_reads_it():
    """The base passes every part; an inserted contradiction that comes out implausible is
    flagged by the part that reads the inserted statement (the base differs in nothing else)."""
    w = val.read_whatif().set_index("abstract")
    base = w.loc["plausible_base"]
    assert base["plausible"] and not isinstance(base["failed"], str)
    expected = {
        "base_vl_contradiction": "P value against its estimates",
        "base_primary_p93": "forensic consistency",
    }
    for name, part in expected.items():
        assert not w.loc[name, "plausible"]
        assert part in str(w.loc[name, "failed"]).split("; ")
    # parts that do not read the inserted CD4 or viral-load statements keep the base's values
    for name in ("base_cd4_il2_minus10", "base_cd4_il2_plus150", "base_vl_contradiction"):
        group = "low-viral-load subgroup"
        assert w.loc[name, f"consistency_p:{group}"] == base[f"consistency_p:{group}"]


def test_arithmetically_impossible_abstracts_are_implausible_whatever_they_change():
    w = val.read_whatif().set_index("abstract")
    for name in ("primary_p93", "base_primary_p93"):
        assert not w.loc[name, "plausible"] and not w.loc[name, "forensic_ok"]


def test_pinned_down_only_where_coverage_and_typicality_hold():
    table = ens.read_ensemble()
    coverage = val.coverage_table(val.read_calibration()).set_index("quantity")
    checked = val.checked_verdicts(ens.leaves_open(table), ens.typicality(table),
                                   coverage.reset_index())  # fmt: skip
    pinned = checked[checked["checked"] == "pinned down"]
    assert (pinned["coverage"] >= val.COVERAGE_LIMIT).all()
    assert not pinned["typicality_flagged"].any()


def test_the_cross_claim_checks_are_calibrated_on_abstracts_the_model_printed():
    """Each statement's p value given the rest is uniform when the model printed the abstract:
    the share below each reported level lies within a 99% binomial range of the level."""
    from scipy import stats

    from anrs119.model.checks.crossclaim import GROUPS, REPORT_LEVELS

    cc = val.read_crossclaim()
    assert len(cc) >= 95
    p = cc[[f"crossclaim_p:{g}" for g in GROUPS]].to_numpy(dtype=float)
    for level in REPORT_LEVELS:
        low, high = stats.binom.ppf([0.005, 0.995], p.size, level) / p.size
        assert low <= (p < level).mean() <= high


def test_what_the_chapter_says_of_the_cross_claim_checks_holds():
    """The CD4 statements do not conflict with the rest (in the base, nor +150 in the published
    abstract); the viral-load contradiction does; -10 is unusual twice over (its P value and its
    place in the published abstract); the published abstract's conflicts are the subgroup and
    primary statements, not its CD4 changes."""
    w = val.read_whatif().set_index("abstract")
    cd4, vl = "crossclaim_p:CD4 changes", "crossclaim_p:viral-load changes"
    for name in ("base_cd4_il2_minus10", "base_cd4_il2_plus150", "cd4_il2_plus150", "published"):
        assert w.loc[name, cd4] >= 0.05, name
    for name in ("vl_contradiction", "base_vl_contradiction"):
        assert w.loc[name, vl] < 0.01, name
    assert w.loc["cd4_il2_minus10", cd4] < 0.05
    assert w.loc["base_cd4_il2_minus10", "consistency_p:CD4 changes"] < 0.05
    pub = w.loc["published"]
    assert pub["crossclaim_p:low-viral-load subgroup"] < 0.01
    assert pub["crossclaim_p:primary end point"] < 0.01
