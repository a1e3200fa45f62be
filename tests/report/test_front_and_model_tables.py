"""The intro's numbers come from the registries with their kinds; the model's symbol map covers
every symbol of the equations and every free parameter; the scorecard tables flag failures."""

from __future__ import annotations

import pandas as pd
import pytest

from anrs119.model.inference.priors import load_priors
from anrs119.model.simulator.parameters import default_parameters
from anrs119.paths import CHAPTERS_DIR
from anrs119.published import claim, claim_value
from anrs119.report import front
from anrs119.report import model_tables as mt
from anrs119.report import scorecard_table as st


def test_the_first_screen_numbers_are_the_published_ones() -> None:
    numbers = front.trial_numbers()
    assert numbers["fp_primary_il2"].text == claim("primary_w96_il2")["reported_as"]
    assert numbers["fp_primary_p"].text == claim("primary_w96_p")["reported_as"]
    fewer = claim_value("primary_w96_control") - claim_value("primary_w96_il2")
    assert float(numbers["fp_per100_fewer"].text) == pytest.approx(fewer)
    assert {g.kind for g in numbers.values()} == {"published"}


def test_later_trials_come_from_the_registry_with_start() -> None:
    from anrs119.context import load_trials

    trials = load_trials()
    later = front.later_trials()
    start = trials.loc["start_serious"]
    assert later["fp_start_hr"].text.startswith(f"{start['value']:.2f} ({start['ci_low']:.2f}")
    assert "cells/µL" in later["fp_start_cd4"].text
    assert {g.kind for g in later.values()} == {"published"}


def test_the_strain_is_read_from_the_predictive_checks() -> None:
    checks = pd.DataFrame(
        {"percentile": [1.45, 95.85, 4.0], "outside95": [True, False, True]},
        index=pd.MultiIndex.from_tuples(
            [
                ("lowvl_free_w150_control", "posterior"),
                ("lowvl_free_w150_il2", "posterior"),
                ("joint", "posterior"),
            ],
            names=["id", "distribution"],
        ),
    )
    strain = front.strain_numbers(checks)
    assert strain["fp_pct_control"].text == "at the 1st percentile"
    assert strain["fp_pct_il2"].text == "at the 96th percentile"
    assert strain["fp_n_outside"].text == 1
    assert front.strain_numbers(None)["fp_pct_il2"].text == "not yet computed"


def test_every_symbol_of_the_equations_is_mapped_and_every_free_parameter_has_one() -> None:
    text = (CHAPTERS_DIR / "model.md").read_text(encoding="utf-8")
    for symbol, _ in mt.SYMBOLS:
        assert mt._latex(symbol) in text, f"{symbol} is mapped but not in the equations"
    for symbol, _, _ in mt.CONSTANTS:
        assert symbol in text, f"{symbol} is described but not in the equations"
    names = {p.name for p in default_parameters().parameters}
    mapped = {name for _, name in mt.SYMBOLS}
    assert mapped <= names, f"symbols of unknown parameters: {mapped - names}"
    free = {p.parameter for p in load_priors()}
    assert free <= mapped, f"free parameters without a symbol: {free - mapped}"


def test_the_symbol_table_points_at_the_priors_rows() -> None:
    priors = load_priors()
    table = mt.symbol_table(priors, default_parameters().to_frame(), {"VL_REFERENCE": "4"})
    row = table.frame[table.frame["Parameter"] == "`il2_halflife`"].iloc[0]
    number = [p.parameter for p in priors].index("il2_halflife") + 1
    assert row["Value or prior"] == f"prior: {{numref}}`{mt.PRIORS_TABLE}`, row {number}"


def test_scorecard_flags_what_failed_not_what_holds_by_construction() -> None:
    card = pd.DataFrame(
        {
            "Claim": ["a", "b", "c"],
            "Published": ["35%", "59%", "similar"],
            "Reproduced": ["35%", "61%", "+1.0 points"],
            "(a) Reproduces?": ["exact", "off", "consistent"],
        },
        index=["x", "y", "z"],
    )
    table = st.reproduction_table(card)
    assert table.flags["Verdict"].tolist() == [False, True, False]
    assert "{flag}`off`" in table.markdown() and "{flag}`exact`" not in table.markdown()
