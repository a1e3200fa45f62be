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
        glue_text({"x": np.float64(1.0)})
