"""Number formatting follows the journal's style, and glue refuses unformatted values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anrs119.report.text import fmt_p, fmt_pct, fmt_signed, glue_text


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0081, "P = .008"),
        (0.00049, "P < .001"),
        (0.0499, "P = .050"),
        (0.9999, "P > .99"),
        (float("nan"), "P not computed"),
    ],
)
def test_fmt_p(p: float, expected: str) -> None:
    assert fmt_p(p) == expected


def test_fmt_p_two_decimals() -> None:
    assert fmt_p(0.9312, decimals=2) == "P = .93"
    # below .005 two decimals would print ".00": the floor's three are used instead
    assert fmt_p(0.0041, decimals=2) == "P = .004"
    assert fmt_p(0.0062, decimals=2) == "P = .01"
    assert fmt_p(0.00049, decimals=2) == "P < .001"


@given(st.floats(min_value=0.0, max_value=0.994, allow_nan=False), st.integers(1, 4))
def test_fmt_p_never_prints_a_zero_p(p: float, decimals: int) -> None:
    text = fmt_p(p, decimals=decimals)
    number = float(text.split(" ")[-1])
    assert number > 0


@given(st.floats(min_value=0.001, max_value=0.994, allow_nan=False))
def test_fmt_p_round_trips(p: float) -> None:
    text = fmt_p(p)
    assert text.startswith("P = .")
    assert float(text.removeprefix("P = ")) == pytest.approx(p, abs=0.0005 + 1e-12)


def test_fmt_pct_and_signed() -> None:
    assert fmt_pct(0.354) == "35%"
    assert fmt_pct(0.1, 1) == "10.0%"
    assert fmt_signed(51.2) == "+51"
    assert fmt_signed(-63.6) == "-64"
    assert fmt_signed(0.021, 2) == "+0.02"
    assert fmt_signed(-0.2) == "0"


def test_glue_text_refuses_numpy_scalars() -> None:
    with pytest.raises(TypeError, match="format it first"):
        glue_text({"x": np.float64(1.0)}, kind="model")


def _captured(monkeypatch) -> list[dict]:
    import IPython.display

    shown: list[dict] = []
    monkeypatch.setattr(
        IPython.display, "display", lambda data, raw, metadata: shown.append(metadata)
    )
    return shown


def test_glue_text_refuses_a_value_without_a_kind() -> None:
    with pytest.raises(TypeError, match="say what it is"):
        glue_text({"x": "35%"})


def test_glued_values_carry_their_kind_in_the_output_metadata(monkeypatch) -> None:
    from anrs119.report.text import GLUE_METADATA_KEY, Glued

    shown = _captured(monkeypatch)
    glue_text(
        {"a": "35%", "b": "0.36", "c": Glued("0.36", "synthetic-only", "0.38 to 0.50")},
        kind="published",
        kinds={"b": "model"},
    )
    kinds = [m[GLUE_METADATA_KEY]["kind"] for m in shown]
    assert kinds == ["published", "model", "synthetic-only"]
    assert [m["scrapbook"]["name"] for m in shown] == ["a", "b", "c"]
    assert shown[2][GLUE_METADATA_KEY]["ensemble_range"] == "0.38 to 0.50"


def test_unknown_kinds_are_refused() -> None:
    from anrs119.report.text import Glued

    with pytest.raises(ValueError, match="glue kind"):
        Glued("1", "guessed")
    with pytest.raises(KeyError, match="not glued here"):
        glue_text({"a": "1"}, kind="book", kinds={"b": "model"})


def test_never_minus_zero() -> None:
    assert fmt_signed(-0.04, 1) == "0.0"
    assert fmt_signed(-0.06, 1) == "-0.1"


def test_reader_text_has_one_unit_one_spelling_and_no_authoring_notes() -> None:
    from anrs119.report.text import reader_text

    text = reader_text(
        "randomised; 300 cells/uL (PRIORS.md section 5); cells/mm3; labelled; colour "
        "(data/forensic/allocation.json)"
    )
    assert text == "randomized; 300 cells/µL; cells/µL; labeled; color"
