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
              val.read_abstracts(), val.read_whatif())  # fmt: skip
    out.update(val.validation_numbers(*stored, checked))
    return out


def test_every_glued_key_of_the_chapter_is_computed(numbers):
    text = (CHAPTERS_DIR / "reconstruction.md").read_text(encoding="utf-8")
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


def test_impossible_and_self_contradictory_abstracts_are_implausible_in_the_stored_verdicts():
    w = val.read_whatif().set_index("abstract")
    assert not w.loc["primary_p93", "plausible"] and not w.loc["primary_p93", "forensic_ok"]
    assert not w.loc["vl_contradiction", "plausible"]
    assert not w.loc["vl_contradiction", "consistency_ok"]
    for name in ("cd4_il2_minus10", "cd4_il2_plus150"):
        assert not w.loc[name, "plausible"]


def test_pinned_down_only_where_coverage_and_typicality_hold():
    table = ens.read_ensemble()
    coverage = val.coverage_table(val.read_calibration()).set_index("quantity")
    checked = val.checked_verdicts(ens.leaves_open(table), ens.typicality(table),
                                   coverage.reset_index())  # fmt: skip
    pinned = checked[checked["checked"] == "pinned down"]
    assert (pinned["coverage"] >= val.COVERAGE_LIMIT).all()
    assert not pinned["typicality_flagged"].any()
