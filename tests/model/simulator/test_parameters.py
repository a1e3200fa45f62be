"""Tests of the model's parameter table: provenance rules and design facts read, not typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anrs119.model.simulator.parameters import (
    PROVENANCES,
    ModelInputError,
    Parameter,
    calibrated_values,
    default_parameters,
    read_allocation,
)
from anrs119.published import claim_value


def test_every_parameter_has_a_known_provenance_and_a_source():
    params = default_parameters()
    for p in params:
        assert p.provenance in PROVENANCES
        assert p.source.strip()
        if p.provenance == "calibrated":
            lo, hi = p.bounds
            assert lo <= p.value <= hi, p.name


def test_design_facts_come_from_the_registry_and_the_forensic_file():
    params = default_parameters()
    assert params["cd4_lower"] == claim_value("cd4_eligibility_lower")
    assert params["cd4_upper"] == claim_value("cd4_eligibility_upper")
    assert params["vl_cutoff"] == claim_value("subgroup_vl_cutoff")
    sizes = read_allocation()
    assert params["n_il2"] == sizes["IL-2"]
    assert params["n_control"] == sizes["Control"]
    assert params["n_il2"] + params["n_control"] == claim_value("n_randomized")


def test_calibrated_values_are_those_of_the_calibration_file():
    stored = calibrated_values()
    params = default_parameters()
    assert {p.name for p in params.calibrated()} == set(stored)
    for name, value in stored.items():
        assert params[name] == value


def test_provenance_table_has_one_row_per_parameter():
    params = default_parameters()
    frame = params.to_frame()
    assert list(frame.columns) == [
        "parameter",
        "description",
        "value",
        "unit",
        "provenance",
        "source",
        "bounds",
    ]
    assert len(frame) == len(params.parameters)
    assert frame["parameter"].is_unique


def test_missing_allocation_file_names_the_file(tmp_path: Path):
    missing = tmp_path / "allocation.json"
    with pytest.raises(ModelInputError, match=r"allocation\.json"):
        read_allocation(missing)


def test_malformed_allocation_file_names_the_key(tmp_path: Path):
    bad = tmp_path / "allocation.json"
    bad.write_text(json.dumps({"n_by_arm": {"IL-2": 3}}), encoding="utf-8")
    with pytest.raises(ModelInputError, match="n_by_arm"):
        read_allocation(bad)


def test_calibrated_parameter_needs_bounds():
    with pytest.raises(ValueError, match="bounds"):
        Parameter("x", 1.0, "u", "calibrated", "fitted", "x")


def test_unknown_parameter_is_rejected():
    with pytest.raises(KeyError):
        default_parameters().with_values(no_such_parameter=1.0)
