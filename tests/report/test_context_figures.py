"""The evidence chapter's tables and figures: built from the registries, with alt text."""

from __future__ import annotations

import math
import warnings

import matplotlib.colors as mcolors
import pytest

from anrs119.context import CONSORT_ITEMS, IL2_TYPES, TRIAL_TYPES, load_trials
from anrs119.published import claim_value
from anrs119.report import context_figures as cf


def test_every_reference_is_in_the_bibliography() -> None:
    keys = cf.bib_keys()
    assert set(load_trials()["bibkey"]) | {cf.ANRS119_BIBKEY} <= keys
    with pytest.raises(KeyError, match="no entry 'nope'"):
        cf.bib_year("nope")


def test_comparison_table_has_one_row_per_trial_and_anrs119() -> None:
    table = cf.comparison_table()
    trials = load_trials()
    assert len(table) == trials["trial"].nunique() + 1
    assert table["Year"].is_monotonic_increasing
    own = table[table["Trial"] == cf.ANRS119].iloc[0]
    assert own["Randomized"] == f"{claim_value('n_randomized'):.0f}"
    assert own["Year"] == cf.bib_year("molina2009")
    markdown = cf.comparison_markdown(table)
    assert markdown.count("{cite:p}") == len(table)


def test_anrs119_cd4_contrast_comes_from_the_claims() -> None:
    rows = cf.cd4_rows()
    own = rows[rows["trial"] == cf.ANRS119].iloc[0]
    expected = claim_value("cd4_change_w96_il2") - claim_value("cd4_change_w96_control")
    assert own["value"] == pytest.approx(expected)
    assert own["measure"] == "median_change"


def test_cd4_rows_keep_each_kind_of_contrast_apart() -> None:
    rows = cf.cd4_rows()
    trials = load_trials()
    assert len(rows) == trials["result"].isin(["cd4", "cd4_level"]).sum() + 1
    assert list(rows["measure"]) == sorted(rows["measure"], key=cf._order)  # grouped by kind


def test_clinical_rows_are_ratios_whose_interval_holds_the_estimate() -> None:
    rows = cf.clinical_rows()
    assert {"ESPRIT", "SILCAAT", "STALWART"} <= set(rows["acronym"])
    assert ((rows["ci_low"] <= rows["value"]) & (rows["value"] <= rows["ci_high"])).all()
    assert rows["summary"].is_monotonic_increasing  # the review's pooled rows come last


def test_p_text_keeps_the_printed_precision() -> None:
    trials = load_trials()
    assert cf._p_text(trials.loc["vanguard_cd4"]) == "P = .0009"
    assert cf._p_text(trials.loc["stalwart_cd4_il2"]) == "P < .001"
    assert cf._p_text(trials.loc["esprit_od_death"]) == "P = .55"


@pytest.mark.parametrize("make", [cf.clinical_forest, cf.cd4_panel])
def test_figures_carry_alt_text_and_one_colour_per_trial_type(make) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = make()
        png = fig._repr_png_()
    assert png.startswith(b"\x89PNG")
    assert fig.alt_text and cf.ANRS119 in fig.alt_text
    used = {
        mcolors.to_hex(line.get_color()).upper()
        for ax in fig.axes
        for line in ax.get_lines()
        if line.get_linestyle() != "--"
    }
    assert used <= {c.upper() for c in cf.TYPE_COLOURS.values()}
    assert len(set(cf.TYPE_COLOURS.values())) == len(TRIAL_TYPES)


def test_forest_alt_text_lists_every_ratio() -> None:
    fig = cf.clinical_forest()
    for _, row in cf.clinical_rows().iterrows():
        assert f"{row['value']:.2f}" in fig.alt_text


def test_chapter_numbers_are_formatted_strings_from_the_registry() -> None:
    numbers = cf.chapter_numbers()
    trials = load_trials()
    assert numbers["esprit_hr"].startswith(f"{trials.at['esprit_od_death', 'value']:.2f} (")
    assert numbers["threshold"] == f"{claim_value('endpoint_cd4_threshold'):g}"
    assert all(type(v) in (str, int) for v in numbers.values())
    assert sum(cf.verification_counts().values()) == numbers["n_rows"]


def test_consort_markdown_has_every_item_and_links_chapters() -> None:
    markdown = cf.consort_markdown()
    body = markdown.splitlines()[2:]
    assert [line.split("|")[1].strip() for line in body] == list(CONSORT_ITEMS)
    assert "{doc}`/chapters/primary`" in markdown
    counts = cf.consort_counts()
    assert sum(counts.values()) == len(CONSORT_ITEMS)
    assert not math.isnan(counts["cannot be assessed from the abstract"])


def test_n_studies_counts_a_registration_once() -> None:
    trials = load_trials()
    stalwart = trials[trials["acronym"].str.startswith("STALWART")]
    assert stalwart["trial"].nunique() == 2 and stalwart["registry_id"].nunique() == 1
    il2 = trials["type"].isin(IL2_TYPES) & (trials["type"] != "systematic review")
    reports = trials.loc[il2, "trial"].nunique()
    assert cf.n_studies(trials) == reports - 1
    assert "START" in set(trials["trial"]), "START is in the registry but not counted"
