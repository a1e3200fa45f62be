"""The scorecard: both questions for every claim, predictive checks read as written, and a
command that fails when a claim fails question (a)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from anrs119 import ARMS
from anrs119.data import load_dataset
from anrs119.published import results
from anrs119.report import scorecard as sc
from anrs119.reproduce import Reproducer
from tests import mutations

FIXTURE = Path(__file__).parent / "fixtures" / "predictive_checks.csv"
"""A made-up predictive-checks file in the format of CONTRACT-model section 4 (test input only)."""


@pytest.fixture(scope="module")
def embedded():
    dataset = load_dataset()
    reproducer = Reproducer(dataset)
    return dataset, reproducer


@pytest.fixture(scope="module")
def card(embedded) -> pd.DataFrame:
    dataset, reproducer = embedded
    return sc.scorecard(dataset, reproducer=reproducer, checks_path=FIXTURE)


def test_every_claim_in_the_registry_is_scored_on_both_questions(card) -> None:
    assert list(card.index) == list(results().index)
    assert set(card[sc.REPRODUCES_COLUMN]) <= set(sc.LABELS)
    for column in (*sc.CHECK_COLUMN.values(), sc.RANGE_COLUMN, "One patient's reach"):
        assert card[column].str.len().gt(0).all(), column


def test_similar_statements_get_their_own_verdict_never_exact(card) -> None:
    similar = card[card["Kind"] == "similar statement"]
    assert len(similar) == 3
    assert set(similar[sc.REPRODUCES_COLUMN]) <= {"consistent", "inconsistent"}
    assert similar["Why"].str.contains("CI").all()
    assert similar["Why"].str.contains("do not exclude|is detected").all()
    consistent = similar[similar[sc.REPRODUCES_COLUMN] == "consistent"]
    assert consistent["Why"].str.contains("absence of evidence, not shown similarity").all()


def test_every_claim_is_exact_on_the_embedded_reconstruction(card) -> None:
    """Issue #12: the embedded reconstruction prints every numeric claim as published, and the
    'similar' statements stay consistent. This holds by construction (a regression check of the
    analysis code); tests/model/reconstruction/test_search.py shows it fails on a perturbed
    trial."""
    off = sc.failing(card)
    assert off.empty, "claims off:\n" + off[["Published", "Reproduced", "Why"]].to_string()
    numeric = card[card["Kind"] != "similar statement"]
    assert set(numeric[sc.REPRODUCES_COLUMN]) == {"exact"}


def test_predictive_checks_are_shown_as_written_and_flagged(card) -> None:
    prior, posterior = sc.CHECK_COLUMN["prior"], sc.CHECK_COLUMN["posterior"]
    assert card.at["primary_w96_il2", prior] == "72nd percentile (MC SE 2.2)"
    assert card.at["primary_w96_il2", posterior] == "62nd percentile (MC SE 2.4)"
    assert (
        card.at["lowvl_free_w150_control", posterior] == "2nd percentile (MC SE 0.6) (outside 95%)"
    )
    assert card.at["cd4_change_w96_p", prior] == "64% of draws meet the bound (MC SE 2.4)"
    assert card.at["primary_w96_control", posterior] == "not computed"
    checks = sc.predictive_checks(FIXTURE)
    joint = sc.joint_checks(checks)
    assert joint["prior"].startswith(
        "31.0% (Monte Carlo SE 2.3 points) of simulated trials lie at least as far"
    )
    pair = sc.joint_checks(checks, sc.SUBGROUP_ID)
    assert pair["posterior"].startswith("0.5% (Monte Carlo SE 0.4 points) of simulated trials")
    assert pair["posterior"].endswith("the published low-viral-load pair")
    assert sc.outside_counts(card) == {"prior": "0 of 3", "posterior": "1 of 2"}


def test_absent_predictive_checks_say_not_yet_computed(embedded, tmp_path) -> None:
    dataset, reproducer = embedded
    card = sc.scorecard(dataset, reproducer=reproducer, checks_path=tmp_path / "none.csv")
    for column in sc.CHECK_COLUMN.values():
        assert (card[column] == sc.NOT_YET).all()
    assert sc.joint_checks(None) == {"prior": sc.NOT_YET, "posterior": sc.NOT_YET}
    assert sc.outside_counts(card)["prior"] == sc.NOT_YET


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("distribution", "plug-in", "column distribution"),
        ("percentile", "140", "column percentile"),
        ("outside95", "maybe", "outside95"),
    ],
)
def test_a_malformed_checks_file_names_file_line_and_column(tmp_path, column, value, message):
    table = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    table.loc[1, column] = value
    path = tmp_path / "predictive_checks.csv"
    table.to_csv(path, index=False)
    with pytest.raises(sc.PredictiveChecksError, match=message):
        sc.predictive_checks(path)


def test_headline_counts_each_kind_separately(card) -> None:
    counts = sc.headline(card)
    kinds = card["Kind"].value_counts()
    assert counts["n_point_estimate"] == kinds["point estimate"]
    assert counts["n_p_value_bound"] == kinds["P value bound"]
    assert counts["n_similar_statement"] == 3
    assert sum(counts[f"n_{label}"] for label in sc.LABELS) == counts["n_claims"] == len(card)


def test_command_exits_nonzero_when_a_claim_drifts(embedded, capsys) -> None:
    """Ten more IL-2 patients with the primary end point: far beyond one patient's reach."""
    dataset, reproducer = embedded
    week = float(results().at["primary_w96_il2", "timepoint_weeks"])
    k = int(reproducer.primary[0].table.set_index("group").at[ARMS[0], "events"])
    drifted = mutations.set_event_count(dataset, "PRIMARY", ARMS[0], week, k + 10)
    assert sc.scorecard_main(drifted, checks_path=FIXTURE) == 1
    assert "primary_w96_il2" in capsys.readouterr().err


def test_command_exit_code_follows_question_a(embedded, card, capsys) -> None:
    dataset, _ = embedded
    expected = 1 if len(sc.failing(card)) else 0
    assert sc.scorecard_main(dataset, checks_path=FIXTURE) == expected
    out = capsys.readouterr().out
    assert "regression check" in out and "joint check" in out
    assert "low-viral-load pair" in out and "use the data twice" in out


def test_claim_labels_are_unique_and_readable() -> None:
    labels = [sc.claim_label(row) for _, row in results().iterrows()]
    assert len(set(labels)) == len(labels)
    assert all(label[0].isupper() for label in labels)


def test_headline_says_what_holds_by_construction(embedded, card) -> None:
    dataset, _ = embedded
    text = sc.headline_sentences(card, dataset)
    assert "by construction" in text["hl_construction"]
    assert f"{len(sc.failing(card))} of the {len(card)}" in text["hl_construction"]
    real = sc.headline_sentences(card, dataclasses.replace(dataset, is_synthetic=False))
    assert "real test" in real["hl_construction"]
    counts = sc.category_summary(card)["point estimate"]
    assert text["hl_point_estimate"].startswith(f"{counts['exact']} exact, {counts['close']} close")


def test_rules_table_lists_every_rule_of_the_registry(card) -> None:
    rules = sc.rules_table(card)
    used = {t.replace("_", " ") for t in results()["tolerance"]}
    assert set(rules["Rule"]) == used


def test_similarity_table_shows_ci_largest_difference_and_detectable_difference(
    embedded, card
) -> None:
    _, reproducer = embedded
    from anrs119.tolerance import similarity

    table = sc.similarity_table(card, similarity(reproducer))
    assert len(table) == 3
    assert table.filter(like="Newcombe").iloc[:, 0].str.contains(" to ").all()
    assert table.filter(like="detectable").iloc[:, 0].astype(float).gt(0).all()
    assert table["Largest difference not excluded"].str.contains("points").all()


def test_the_fixture_has_exactly_the_contract_columns() -> None:
    assert tuple(pd.read_csv(FIXTURE).columns) == sc.CHECK_COLUMNS


def test_22_of_65_vs_35_of_61_is_off_for_the_p_value(embedded) -> None:
    """The referee's case end to end: arms of 65 and 61 with 22 and 35 events print P = .012
    (Fisher), and no single patient's change prints .008, so the scorecard says off although
    the one-patient P values straddle it; each percentage is one patient from its print (close)."""
    dataset, _ = embedded
    week = float(results().at["primary_w96_p", "timepoint_weeks"])
    small = mutations.keep_patients(dataset, {ARMS[0]: 65, ARMS[1]: 61})
    small = mutations.set_event_count(small, "PRIMARY", ARMS[0], week, 22)
    small = mutations.set_event_count(small, "PRIMARY", ARMS[1], week, 35)
    card = sc.scorecard(small, checks_path=FIXTURE)
    assert card.at["primary_w96_p", "Reproduced"] == "P = .012"
    assert card.at["primary_w96_p", sc.REPRODUCES_COLUMN] == "off"
    assert "none of the values" in card.at["primary_w96_p", "Why"]
    assert card.at["primary_w96_il2", sc.REPRODUCES_COLUMN] == "close"  # 23/65 prints 35%
    assert card.at["primary_w96_control", sc.REPRODUCES_COLUMN] == "close"  # 36/61 prints 59%


def test_command_exits_nonzero_and_names_an_inconsistent_statement(embedded, capsys) -> None:
    """Half the IL-2 arm given an AIDS-defining event: 'similar' is contradicted."""
    dataset, _ = embedded
    n = dataset.subjects_by_arm()[ARMS[0]]
    harmed = mutations.add_aids_events(dataset, ARMS[0], n // 2, 96)
    assert sc.scorecard_main(harmed, checks_path=FIXTURE) == 1
    err = capsys.readouterr().err
    assert "safety_aids_similar" in err and "primary_w96_il2" not in err
