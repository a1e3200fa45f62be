"""Figures build without warnings, use the fixed arm colours and carry alt text."""

from __future__ import annotations

import warnings

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from anrs119 import ARMS
from anrs119.analysis.survival import kaplan_meier
from anrs119.report import figures
from anrs119.seeds import TEST_SEED


def _km():
    rng = np.random.default_rng(TEST_SEED)
    rows, tte = [], []
    for i in range(60):
        arm = ARMS[i % 2]
        t = float(np.ceil(rng.exponential(60 if arm == "IL-2" else 35)))
        rows.append({"USUBJID": f"S{i}", "ARM": arm})
        tte.append(
            {"USUBJID": f"S{i}", "PARAMCD": "PRIMARY", "AVAL": min(t, 96.0), "CNSR": int(t > 96)}
        )
    return kaplan_meier(pd.DataFrame(rows), pd.DataFrame(tte), "PRIMARY")


def _line_colours(fig):
    return {mcolors.to_hex(line.get_color()) for ax in fig.axes for line in ax.get_lines()}


def test_arm_colours_fixed_and_colour_blind_palette():
    assert figures.ARM_COLOURS == {"IL-2": "#D55E00", "Control": "#0072B2"}
    c = figures.colours_for(["Placebo", "IL-2", "6-MP", "Control"])
    assert c["IL-2"] == "#D55E00" and c["Control"] == "#0072B2"
    assert c["Placebo"] != c["6-MP"]
    assert set(c.values()) <= set(figures.OKABE_ITO.values())
    assert len(set(c.values())) == 4


def test_theme_white_background():
    import matplotlib as mpl

    figures.apply_theme()
    assert mcolors.to_hex(mpl.rcParams["figure.facecolor"]) == "#ffffff"
    assert mcolors.to_hex(mpl.rcParams["axes.facecolor"]) == "#ffffff"


def test_km_plot_builds_without_warnings_with_at_risk_table():
    figures.apply_theme()
    km = _km()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = figures.km_plot(km, at_risk_times=[0, 24, 48, 72, 96])
        fig.canvas.draw()
    assert len(fig.axes) == 2
    assert {"#d55e00", "#0072b2"} <= _line_colours(fig)
    risk_texts = [t.get_text() for t in fig.axes[1].texts]
    assert len(risk_texts) == 10 and risk_texts[0] == "30"
    assert "Kaplan-Meier" in fig.alt_text and "IL-2" in fig.alt_text
    fig2 = figures.km_plot(km, cumulative_incidence=True)
    assert len(fig2.axes) == 1 and "cumulative incidence" in fig2.alt_text


def test_trajectory_and_forest_plots():
    summary = pd.DataFrame(
        {
            "group": ["IL-2"] * 3 + ["Control"] * 3,
            "AVISITN": [0, 48, 96] * 2,
            "median": [0, 40, 50, 0, -30, -60.0],
            "q1": [-10, 0, 10, -40, -70, -100.0],
            "q3": [10, 80, 90, 30, 10, -20.0],
            "n": [65] * 6,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = figures.trajectory_plot(summary, ylabel="CD4 change (cells/uL)", reference_line=0)
        fig.canvas.draw()
        rows = [
            {"label": "Trial A", "estimate": 0.6, "ci_low": 0.4, "ci_high": 0.9, "group": "IL-2"},
            {"label": "Trial B", "estimate": 1.2, "ci_low": 0.8, "ci_high": 1.7},
        ]
        fp = figures.forest_plot(rows)
        fp.canvas.draw()
    assert {"#d55e00", "#0072b2"} <= _line_colours(fig)
    assert "weeks 0 to 96" in fig.alt_text
    assert "Trial A" in fp.alt_text and "#d55e00" in _line_colours(fp)
    with pytest.raises(ValueError, match="missing column"):
        figures.forest_plot([{"label": "x", "estimate": 1.0}])


def test_figures_render_as_png_without_pyplot():
    fig = figures.km_plot(_km())
    png = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
