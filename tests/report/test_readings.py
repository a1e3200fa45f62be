"""Verdicts under every reading, allocations, power at the published numbers, provenance words."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test

from anrs119 import ARMS
from anrs119.data import load_dataset
from anrs119.model.operating.tables import ALPHA, read_operating
from anrs119.report import provenance_words as pw
from anrs119.report import readings as rd
from anrs119.report.methods import interaction_sentence
from anrs119.report.power import operating_power_numbers
from anrs119.report.scorecard import REPRODUCES_COLUMN, scorecard
from anrs119.reproduce import DEFAULT_READINGS, READING_CHOICES, Readings, Reproducer
from tests.report.test_scorecard import FIXTURE


@pytest.fixture(scope="module")
def embedded():
    dataset = load_dataset()
    reproducer = Reproducer(dataset)
    return dataset, reproducer, rd.reading_verdicts(dataset, reproducer)


def test_every_reading_judges_every_claim_it_changes_with_one_default(embedded) -> None:
    _, _, frame = embedded
    for dimension, choices in READING_CHOICES.items():
        part = frame[frame["dimension"] == dimension]
        assert list(dict.fromkeys(part["reading"])) == list(choices)
        assert len(part) == len(choices) * len(rd.READING_CLAIMS[dimension])
        defaults = part[part["default"]]
        assert set(defaults["reading"]) == {getattr(DEFAULT_READINGS, dimension)}
    table = rd.readings_table(frame)
    assert table["Reading"].str.endswith(rd.DEFAULT_MARK).sum() == sum(
        len(c) for c in rd.READING_CLAIMS.values()
    )


def test_default_rows_are_the_main_scorecards_verdicts(embedded) -> None:
    dataset, reproducer, frame = embedded
    card = scorecard(dataset, reproducer=reproducer, checks_path=FIXTURE)
    defaults = frame[frame["default"]].set_index("claim_id")
    for claim_id, row in defaults.iterrows():
        assert row["verdict"] == card.at[claim_id, REPRODUCES_COLUMN], claim_id


def test_the_kaplan_meier_reading_is_lifelines_at_week_96(embedded) -> None:
    dataset, _, _ = embedded
    rep = Reproducer(dataset, readings=Readings(proportion="km"))
    week = rep.design.primary_week
    tte = dataset.adtte[dataset.adtte["PARAMCD"] == "PRIMARY"].merge(
        dataset.adsl[["USUBJID", "ARM"]], on="USUBJID"
    )
    time = np.minimum(tte["AVAL"], week)
    event = (tte["CNSR"] == 0) & (tte["AVAL"] <= week)
    reproduced = rep.all()
    for arm, suffix in zip(ARMS, ("il2", "control"), strict=True):
        mine = tte["ARM"] == arm
        kmf = KaplanMeierFitter().fit(time[mine], event[mine])
        expected = 100 * (1 - float(kmf.survival_function_at_times(week).iloc[0]))
        assert reproduced[f"primary_w96_{suffix}"].value == pytest.approx(expected)
    first = tte["ARM"] == ARMS[0]
    ref = logrank_test(time[first], time[~first], event[first], event[~first]).p_value
    assert reproduced["primary_w96_p"].value == pytest.approx(ref, rel=1e-9)


def test_the_observed_change_reading_is_every_week_96_value(embedded) -> None:
    dataset, _, _ = embedded
    rep = Reproducer(dataset, readings=Readings(change="observed"))
    week = rep.design.primary_week
    adlb = dataset.adlb.merge(dataset.adsl[["USUBJID", "ARM"]], on="USUBJID")
    at_week = adlb[(adlb["PARAMCD"] == "CD4") & (adlb["AVISITN"] == week)]
    reproduced = rep.all()
    for arm, suffix in zip(ARMS, ("il2", "control"), strict=True):
        expected = float(at_week.loc[at_week["ARM"] == arm, "CHG"].median())
        assert reproduced[f"cd4_change_w96_{suffix}"].value == pytest.approx(expected)


def test_the_default_deferral_is_the_same_on_both_routes(embedded) -> None:
    """The ADTTE Kaplan-Meier quantile and the competing-risks data's Kaplan-Meier reading."""
    _, reproducer, _ = embedded
    from anrs119.analysis.competing import reading_values

    first, second = reading_values(reproducer.art_competing_arms, reproducer.design.subgroup_week)[
        "km_q25"
    ]
    assert reproducer.deferral()[0] == pytest.approx(first - second)


def test_an_unknown_reading_is_refused() -> None:
    with pytest.raises(ValueError, match="rule: one of"):
        Readings(change="locf")


def test_reading_words_say_what_holds_by_construction(embedded) -> None:
    dataset, _, frame = embedded
    words = rd.readings_numbers(frame, dataset)
    assert "by construction" in words["rd_meaning"]
    real = rd.readings_numbers(frame, dataclasses.replace(dataset, is_synthetic=False))
    assert "real test" in real["rd_meaning"]
    defaults = rd.defaults_table()
    assert len(defaults) == len(READING_CHOICES) and defaults["Why"].str.len().gt(40).all()


def test_allocations_table_marks_the_embedded_allocation() -> None:
    from anrs119 import forensic

    allocations = forensic.feasible_allocations()
    table = rd.allocations_table(allocations)
    assert (table["Embedded data"] == "built on it").sum() == 1
    words = rd.allocation_numbers(allocations)
    assert words["al_n"] == str(len(allocations)) and "events" in words["al_embedded"]


def test_power_at_the_published_percentages_sits_beside_the_models() -> None:
    words = operating_power_numbers(read_operating(), ALPHA)
    published = float(words["pw_published"].rstrip("%"))
    model = float(words["pw_model"].rstrip("%"))
    assert published < model  # the model's control rate is above the published 59%
    assert float(words["pw_model_control"].rstrip("%")) > float(words["pw_pub_control"].rstrip("%"))


def test_provenance_words_follow_the_data(embedded) -> None:
    dataset, reproducer, _ = embedded
    ensemble = pw.ensemble_table()
    synthetic = pw.safety_source(reproducer, ensemble)
    assert "reconstruction, not from patients" in synthetic and "percentile" in synthetic
    assert "by construction" in pw.subgroup_source(reproducer, ensemble)
    real = Reproducer(dataclasses.replace(dataset, is_synthetic=False))
    for text in (pw.safety_source(real, ensemble), pw.subgroup_source(real, ensemble)):
        assert "reconstruction" not in text and "data in use" in text


def test_the_interaction_on_synthetic_data_is_not_read_as_a_finding(embedded) -> None:
    _, reproducer, _ = embedded
    vl = reproducer.interactions[0]
    synthetic = interaction_sentence(vl, synthetic=True)
    assert "not evidence of effect modification" in synthetic
    assert "point to effect modification" not in synthetic
    assert "reconstruction" in synthetic
    assert pd.notna(vl.wald_p)
