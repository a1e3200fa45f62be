"""The scorecard covers every claim, and its command fails when one is off."""

from __future__ import annotations

import dataclasses

import pytest

from anrs119.data import load_dataset
from anrs119.published import results
from anrs119.report.scorecard import claim_label, scorecard, scorecard_main, verdict_summary
from anrs119.reproduce import Reproducer


@pytest.fixture(scope="module")
def embedded():
    dataset = load_dataset()
    return dataset, Reproducer(dataset).all()


def test_every_claim_in_the_registry_is_scored(embedded) -> None:
    dataset, reproduced = embedded
    card = scorecard(dataset, reproduced)
    assert list(card.index) == list(results().index)
    assert set(card["Verdict"]) <= {"exact", "close", "off"}


def test_no_claim_is_off_on_the_embedded_data(embedded) -> None:
    """The book's promise: every published result is reproduced within tolerance."""
    dataset, reproduced = embedded
    card = scorecard(dataset, reproduced)
    off = card[card["Verdict"] == "off"]
    assert off.empty, "claims off:\n" + off[["Published", "Reproduced", "Why"]].to_string()


def test_command_exits_nonzero_when_a_claim_drifts(embedded, monkeypatch, capsys) -> None:
    dataset, reproduced = embedded
    drifted = dict(reproduced)
    drifted["primary_w96_il2"] = dataclasses.replace(drifted["primary_w96_il2"], value=99.0)
    monkeypatch.setattr(
        "anrs119.report.scorecard.Reproducer",
        lambda ds: type("R", (), {"all": lambda self: drifted})(),
    )
    assert scorecard_main(dataset) == 1
    assert "off" in capsys.readouterr().err


def test_command_exits_zero_when_all_within_tolerance(embedded, monkeypatch) -> None:
    dataset, reproduced = embedded
    card = scorecard(dataset, reproduced)
    expected = 1 if verdict_summary(card)["off"] else 0
    assert scorecard_main(dataset) == expected


def test_claim_labels_are_unique_and_readable() -> None:
    labels = [claim_label(row) for _, row in results().iterrows()]
    assert len(set(labels)) == len(labels)
    assert all(label[0].isupper() for label in labels)
