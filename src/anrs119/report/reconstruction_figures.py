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
    text = f"{x:.{-digits}g}" if digits < 0 else f"{x:.{digits}f}"
    # a small negative value rounds to "-0.0": a reader sees zero
    return text.removeprefix("-") if float(text) == 0 else text


def _digits(quantity: str) -> int:
    if quantity.startswith(("hr_", "baseline_vl")):
        return 2
    if quantity.startswith("logrank"):
        return -2
    return 0 if quantity.startswith(("aids", "death", "grade34", "n_lowvl")) else 1


def _p_short(p: float) -> str:
    """ ".13", "< .001", "> .99": the P value as the journal prints it, without "P"."""
    return fmt_p(p).removeprefix("P ").removeprefix("= ")


WIDTH_WORDS: dict[str, str] = {"pinned down": "narrowed sharply"}
"""The width verdict of :func:`leaves_open` in words, before the calibration checks."""


def ranges_table(table: pd.DataFrame, checked: pd.DataFrame | None = None) -> pd.DataFrame:
    """The chapter's table: range across reconstructions beside the unconditioned range, and
    the verdict (``checked``: :func:`anrs119.model.reconstruction.validation_tables.
    checked_verdicts`, so that "pinned down" needs the calibration and typicality checks)."""
    final = None if checked is None else checked.set_index("quantity")["checked"]
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
                "The paper": r["verdict"] if final is None else final[r["quantity"]],
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
                "In the tails (MC SE)": (
                    f"{100 * r['tail_share']:.1f}% ({100 * r['tail_share_se']:.1f})"
                ),
                "P (tails, if 5%)": _p_short(float(r["p_tails"])),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- the walk and its checks


def traces_figure(traces: pd.DataFrame, labels: dict[str, str]) -> BookFigure:
    """Traces of the two long chains for a few quantities (one panel each)."""
    quantities = [c for c in traces.columns if c not in ("chain", "proposal")]
    cols = 3
    rows_n = math.ceil(len(quantities) / cols)
    fig = BookFigure(figsize=(9.0, 2.3 * rows_n + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows_n, cols)).ravel()
    colours = (OKABE_ITO["blue"], OKABE_ITO["orange"])
    for ax, q in zip(axes, quantities, strict=False):
        for (chain, d), colour in zip(traces.groupby("chain"), colours, strict=False):
            ax.plot(d["proposal"] / 1e6, d[q], lw=0.7, color=colour, label=f"chain {chain}")
        ax.set_title(labels.get(q, q), fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.set_xlabel("proposals (millions)", fontsize="x-small")
    for ax in axes[len(quantities) :]:
        ax.set_visible(False)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
               fontsize="x-small")  # fmt: skip
    fig.alt_text = (
        f"{len(quantities)} small panels, one per unpublished quantity, each with two lines: "
        "the values of the trials kept by two long chains of the walk within the exact set, "
        "started from two different exact trials, against the number of proposals. Where the "
        "two lines overlap and wander over the same range, the chains agree."
    )
    return fig


def mixing_table(mixing: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Per quantity: the chains' means, R-hat, ESS, and the first hits and draws against the
    long chains, and the doubled pool against the book's (differences in standard errors)."""
    rows = []
    for _, r in mixing.iterrows():
        if not bool(r["estimable"]):
            continue
        digits = _digits(str(r["quantity"]))
        rows.append(
            {
                "Quantity": labels.get(r["quantity"], r["quantity"]),
                "Chain 1 mean": _num(r["chain1_mean"], digits),
                "Chain 2 mean": _num(r["chain2_mean"], digits),
                "R-hat": _num(r["rhat"], 2),
                "ESS": _num(r["ess"], 0),
                "First hits (z)": _num(r["z_first"], 1),
                "Draws (z)": _num(r["z_draw"], 1),
                "Pool x2 (z)": _num(r["z_pool"], 1),
            }
        )
    return pd.DataFrame(rows)


def coverage_figure(coverage: pd.DataFrame, labels: dict[str, str], limit: float) -> BookFigure:
    """Coverage of the reconstructions' central 95% range on simulated abstracts, per quantity,
    with two Monte Carlo standard errors, against 95% and the 'pinned down' limit."""
    rows = coverage[coverage["n"] > 0].reset_index(drop=True)
    n = len(rows)
    fig = BookFigure(figsize=(7.5, 0.28 * n + 1.5), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    cov = 100 * rows["coverage"]
    err = 200 * rows["coverage_se"]
    below = rows["coverage"] < limit
    colours = [OKABE_ITO["vermillion"] if b else RECON_COLOUR for b in below]
    ax.errorbar(cov, y, xerr=err, fmt="none", ecolor="#888888", lw=1)
    ax.scatter(cov, y, c=colours, s=18, zorder=3)
    ax.axvline(95, color=OKABE_ITO["black"], lw=1.0, ls="--", label="95% (calibrated)")
    ax.axvline(100 * limit, color=OKABE_ITO["black"], lw=0.8, ls=":",
               label=f"{100 * limit:.0f}%: needed for 'pinned down'")  # fmt: skip
    ax.set_yticks(y, [labels.get(q, q) for q in rows["quantity"]], fontsize="small")
    ax.set_xlabel("% of simulated abstracts whose truth lies in the central 95% range",
                  fontsize="small")  # fmt: skip
    ax.set_xlim(max(0, float(np.nanmin(cov - err)) - 5), 101)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=2,
               fontsize="x-small")  # fmt: skip
    fig.alt_text = (
        f"One row per unpublished quantity ({n}): a dot at the percentage of simulated "
        "abstracts whose true value fell within the central 95% range of their reconstructions, "
        "with a bar of two Monte Carlo standard errors; a dashed line at 95% and a dotted line "
        "at the coverage a 'pinned down' needs. Dots below it are vermillion."
    )
    return fig


def coverage_table(coverage: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    bins = [c for c in coverage.columns if c.startswith("bin")]
    rows = []
    for _, r in coverage.iterrows():
        rows.append(
            {
                "Quantity": labels.get(r["quantity"], r["quantity"]),
                "Abstracts": int(r["n"]),
                "Coverage (MC SE)": (
                    f"{100 * r['coverage']:.0f}% ({100 * r['coverage_se']:.1f})"
                    if math.isfinite(r["coverage"])
                    else "-"
                ),
                "Rank histogram (5 bins)": " ".join(
                    str(int(r[b])) if math.isfinite(r[b]) else "-" for b in bins
                ),
                "Uniform (P)": _num(r["uniform_p"], -2),
                "Mean rank (0-1)": _num(r["mean_u"], 2),
            }
        )
    return pd.DataFrame(rows)


def whatif_table(whatif: pd.DataFrame) -> pd.DataFrame:
    """The named abstracts' verdicts, the parts of the check that flag them, and the statements
    at odds with the rest of the abstract (cross-claim p values below the narrower reported
    level; reported beside the verdict, not part of it)."""
    from anrs119.model.checks.crossclaim import REPORT_LEVELS

    level = REPORT_LEVELS[-1]
    rows = []
    for _, r in whatif.iterrows():
        base = str(r.get("base", "published"))
        failed = r.get("failed")
        rows.append(
            {
                "Changed abstract": "the published one" if base == "published" else base,
                "Change": "none"
                if r["abstract"] in ("published", "plausible_base")
                else r["label"],
                "Verdict": "plausible" if bool(r["plausible"]) else "implausible",
                "Flagged by": failed if isinstance(failed, str) and failed else "-",
                f"At odds with the rest (p < {level:g})": _at_odds(r, level),
            }
        )
    return pd.DataFrame(rows)


def _at_odds(row: pd.Series, level: float) -> str:
    """The statements whose cross-claim p value is below ``level``, with it ("none"; "-" when
    the abstract was not checked)."""
    p = {
        c.removeprefix("crossclaim_p:"): float(row[c])
        for c in row.index
        if str(c).startswith("crossclaim_p:") and math.isfinite(float(row[c]))
    }
    if not p:
        return "-"
    low = sorted((v, g) for g, v in p.items() if v < level)
    return "; ".join(f"{g} ({'< 0.001' if v < 0.0005 else f'{v:.3f}'})" for v, g in low) or "none"


def placed_table(placed: pd.DataFrame) -> pd.DataFrame:
    """The dataset's unpublished quantities beside the ensemble's 95% ranges (aggregates)."""
    rows = []
    for _, r in placed.iterrows():
        digits = _digits(str(r["quantity"]))
        rows.append(
            {
                "Quantity": r["label"],
                "This dataset": _num(r["value"], digits),
                "Ensemble 95% range": f"{_num(r['low95'], digits)} to {_num(r['high95'], digits)}",
                "Percentile in the ensemble": _num(r["percentile"], 0),
            }
        )
    return pd.DataFrame(rows)
