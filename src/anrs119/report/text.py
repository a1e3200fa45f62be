"""Format numbers the way the paper prints them, and glue them into chapter prose.

Chapters never type a number: they compute it, format it here, and glue the string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def fmt_p(p: float, decimals: int = 3, floor: float = 0.001) -> str:
    """Journal style without the leading zero: "P = .008", "P = .93", "P < .001"."""
    if math.isnan(p):
        return "P not computed"
    if p < floor:
        return f"P < {_strip_zero(f'{floor:.{decimals}f}')}"
    shown = f"{p:.{decimals}f}"
    if float(shown) >= 1:
        return "P > .99"
    return f"P = {_strip_zero(shown)}"


def _strip_zero(text: str) -> str:
    return text[1:] if text.startswith("0.") else text


def fmt_pct(proportion: float, decimals: int = 0) -> str:
    """0.354 -> "35%"."""
    return f"{100 * proportion:.{decimals}f}%"


def fmt_signed(value: float, decimals: int = 0) -> str:
    """+51, -64, +0.02 (an explicit sign, as the abstract prints changes)."""
    text = f"{value:+.{decimals}f}"
    return "0" if float(text) == 0 and decimals == 0 else text


def fmt_num(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


def glue_text(values: Mapping[str, object]) -> None:
    """Glue preformatted values for ``{glue:text}`` (strings, ints or Python floats only)."""
    from myst_nb import glue

    for name, value in values.items():
        # Exact types: numpy scalars subclass float but break {glue:text} format specs.
        if type(value) not in (str, int, float):
            raise TypeError(f"glue {name!r}: format it first (got {type(value).__name__})")
        glue(name, value, display=False)


def glue_figure(name: str, figure) -> None:  # figure: matplotlib.figure.Figure
    """Glue a figure for ``{glue:figure}`` and close it, so it is not also shown in place."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(name, figure, display=False)
    plt.close(figure)


def estimand_note(estimand, comment: str = ""):  # estimand: Estimand -> IPython Markdown
    """The four attributes of an estimand (ICH E9(R1)) as a boxed definition list."""
    from IPython.display import Markdown

    items = (
        ("Population", estimand.population),
        ("Variable", estimand.variable),
        ("Intercurrent events", estimand.intercurrent_event_strategy),
        ("Summary measure", estimand.summary_measure),
    )
    body = "\n\n".join(f"{name}\n: {text}" for name, text in items)
    extra = f"\n\n{comment}" if comment else ""
    return Markdown(f":::{{admonition}} Estimand\n:class: tip\n{body}{extra}\n:::")
