"""Figures and tables of the reconstruction chapter: what the published numbers leave open, and
whether conditioning on them distorts anything. The numbers come from
``anrs119.model.reconstruction.ensemble``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from anrs119 import ARMS
from anrs119.report.figures import ARM_COLOURS, OKABE_ITO, BookFigure
from anrs119.report.text import fmt_p

RECON_COLOUR = OKABE_ITO["blue"]
REFERENCE_COLOUR = "#9a9a9a"


def _label(quantity: str, description: str) -> str:
    return description[0].upper() + description[1:]


def ranges_figure(table: pd.DataFrame) -> BookFigure:
    """Each quantity's 95% range across reconstructions, drawn on the scale of its unconditioned
    95% range (0 = its 2.5th percentile, 1 = its 97.5th), so quantities in any unit share one
    axis: a short bar is a quantity the paper pins down, a bar off-center one it moves."""
    rows = table[np.isfinite(table["width_ratio"])].reset_index(drop=True)
    n = len(rows)
    fig = BookFigure(figsize=(7.5, 0.3 * n + 1.5), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    span = rows["unconditioned_high95"] - rows["unconditioned_low95"]
    lo = (rows["low95"] - rows["unconditioned_low95"]) / span
    hi = (rows["high95"] - rows["unconditioned_low95"]) / span
    mid = (rows["median"] - rows["unconditioned_low95"]) / span
    ref_mid = (rows["unconditioned_median"] - rows["unconditioned_low95"]) / span
    ax.hlines(y, 0.0, 1.0, color=REFERENCE_COLOUR, lw=6, alpha=0.45,
              label="unconditioned trials (one per draw): 95% range")  # fmt: skip
    ax.plot(ref_mid, y, "|", color="#555555", ms=10, label="unconditioned median")
    ax.hlines(y, lo, hi, color=RECON_COLOUR, lw=2.6, label="reconstructions: 95% range")
    ax.plot(mid, y, "o", color=RECON_COLOUR, ms=4, label="reconstructions: median")
    ax.set_yticks(y, list(rows["label"]), fontsize="small")
    ax.set_xlabel("position in the unconditioned 95% range (0 = 2.5th, 1 = 97.5th percentile)",
                  fontsize="small")  # fmt: skip
    ax.axvline(0.0, color="#cccccc", lw=0.8)
    ax.axvline(1.0, color="#cccccc", lw=0.8)
    ax.set_xlim(min(-0.1, float(np.nanmin(lo)) - 0.05), max(1.1, float(np.nanmax(hi)) + 0.05))
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=2,
               fontsize="x-small")  # fmt: skip
    fig.alt_text = (
        f"{n} rows, one per quantity the paper does not report. A gray band spans each "
        "quantity's 95% range among unconditioned posterior-predictive trials, rescaled to run "
        "from 0 to 1; a blue bar with a dot shows the 95% range and median of the same quantity "
        "across the exact reconstructions on that scale. Short blue bars are quantities the "
        "published numbers pin down; bars shifted toward an end are quantities they move."
    )
    return fig


def trajectories_figure(cd4: pd.DataFrame) -> BookFigure:
    """Median CD4 by visit and arm: 95% band across reconstructions and across unconditioned
    trials (one per draw)."""
    fig = BookFigure(figsize=(9.0, 3.6), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, arm in zip(axes, ARMS, strict=True):
        for source, colour, alpha, style in (
            ("unconditioned", REFERENCE_COLOUR, 0.30, "--"),
            ("reconstruction", ARM_COLOURS[arm], 0.35, "-"),
        ):
            d = cd4[(cd4["arm"] == arm) & (cd4["source"] == source)].sort_values("week")
            ax.fill_between(d["week"], d["q2.5"], d["q97.5"], color=colour, alpha=alpha, lw=0,
                            label=f"{source}: 95% band")  # fmt: skip
            ax.plot(d["week"], d["q50"], style, color=colour if source == "reconstruction"
                    else "#555555", lw=1.6, label=f"{source}: median")  # fmt: skip
        ax.axhline(300, color=OKABE_ITO["black"], lw=0.8, ls=":")
        ax.set_title(arm, fontsize="small")
        ax.set_xlabel("week")
    axes[0].set_ylabel("median CD4 of the patients seen (cells/µL)")
    handles, labels = axes[1].get_legend_handles_labels()
    labels = [label.replace("reconstruction", "reconstructions (arm color)") for label in labels]
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize="x-small")
    fig.alt_text = (
        "Two panels, IL-2 and control: the median CD4 count of the patients seen at each visit "
        "from week 0 to week 150. A colored band and line show the 95% range and median across "
        "the reconstructions; a gray band and dashed line the same across unconditioned trials. "
        "A dotted line marks 300 cells/µL."
    )
    return fig


def typicality_figure(table: pd.DataFrame) -> BookFigure:
    """Share of reconstructions in the outer 5% of their draw's unconditioned trials, per
    quantity, against the 5% expected if conditioning changed nothing."""
    from scipy import stats

    rows = table[table["n"] > 0].reset_index(drop=True)
    n = len(rows)
    fig = BookFigure(figsize=(7.5, 0.28 * n + 1.5), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    size = int(rows["n"].max())
    limit = stats.binom.ppf(0.99, size, 0.05) / size
    flagged = rows["p_tails"] < 0.01
    colours = [OKABE_ITO["vermillion"] if f else RECON_COLOUR for f in flagged]
    ax.barh(y, 100 * rows["below"] / rows["n"], color=colours, alpha=0.55, height=0.7,
            label="below the 2.5th percentile")  # fmt: skip
    ax.barh(y, 100 * rows["above"] / rows["n"], left=100 * rows["below"] / rows["n"],
            color=colours, height=0.7, label="above the 97.5th percentile")  # fmt: skip
    ax.axvline(5.0, color=OKABE_ITO["black"], lw=1.0, ls="--", label="5% expected")
    ax.axvline(100 * limit, color=OKABE_ITO["black"], lw=0.8, ls=":",
               label="99% binomial limit")  # fmt: skip
    ax.set_yticks(y, list(rows["label"]), fontsize="small")
    ax.set_xlabel("% of reconstructions in the outer 5% of their draw's unconditioned trials",
                  fontsize="small")  # fmt: skip
    ax.set_xlim(0, max(10.0, math.ceil(float((100 * rows["tail_share"]).max()) / 10) * 10))
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=2,
               fontsize="x-small")  # fmt: skip
    fig.alt_text = (
        f"Horizontal stacked bars, one per quantity ({n}): the share of reconstructions below the "
        "2.5th percentile (light) and above the 97.5th percentile (dark) of the unconditioned "
        "trials at the same posterior draw. A dashed line marks the 5% expected without "
        "distortion and a dotted line its 99% binomial limit; bars past it are drawn in "
        "vermillion."
    )
    return fig


def _num(x: float, digits: int) -> str:
    """``digits`` decimals; a negative ``digits``: that many significant digits (P values)."""
    if not math.isfinite(x):
        return "-"
    return f"{x:.{-digits}g}" if digits < 0 else f"{x:.{digits}f}"


def _digits(quantity: str) -> int:
    if quantity.startswith(("hr_", "baseline_vl")):
        return 2
    if quantity.startswith("logrank"):
        return -2
    return 0 if quantity.startswith(("aids", "death", "grade34", "n_lowvl")) else 1


def _p_short(p: float) -> str:
    """ ".13", "< .001", "> .99": the P value as the journal prints it, without "P"."""
    return fmt_p(p).removeprefix("P ").removeprefix("= ")


def ranges_table(table: pd.DataFrame) -> pd.DataFrame:
    """The chapter's table: range across reconstructions beside the unconditioned range."""
    rows = []
    for _, r in table.iterrows():
        d = _digits(r["quantity"])
        nr = r["not_reached"]
        recon = f"{_num(r['median'], d)} ({_num(r['low95'], d)} to {_num(r['high95'], d)})"
        unc = (
            f"{_num(r['unconditioned_median'], d)} ({_num(r['unconditioned_low95'], d)} to "
            f"{_num(r['unconditioned_high95'], d)})"
        )
        if nr >= 1.0:
            recon = "not reached by week 150"
        elif nr > 0:
            recon += f"; not reached in {100 * nr:.0f}%"
        if r["unconditioned_not_reached"] >= 1.0:
            unc = "not reached by week 150"
        elif r["unconditioned_not_reached"] > 0:
            unc += f"; not reached in {100 * r['unconditioned_not_reached']:.0f}%"
        rows.append(
            {
                "Quantity (not in the paper)": _label(r["quantity"], r["description"]),
                "Reconstructions: median (95% range)": recon,
                "Unconditioned trials: median (95% range)": unc,
                "Width ratio": _num(r["width_ratio"], 2),
                "The paper": r["verdict"],
            }
        )
    return pd.DataFrame(rows)


def typicality_table(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in table.iterrows():
        rows.append(
            {
                "Quantity": r["label"],
                "Median percentile": _num(r["median_percentile"], 0),
                "Below 2.5th": f"{r['below']} of {r['n']}",
                "Above 97.5th": f"{r['above']} of {r['n']}",
                "P (tails, if 5%)": fmt_p(float(r["p_tails"]))
                .removeprefix("P ")
                .removeprefix("= "),
            }
        )
    return pd.DataFrame(rows)
