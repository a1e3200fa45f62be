"""Figures of the model chapter: priors against posteriors, predictive checks, sensitivity,
and patient trajectories of the embedded trial. The numbers come from ``anrs119.model``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from anrs119 import ARMS
from anrs119.report.figures import ARM_COLOURS, OKABE_ITO, BookFigure
from anrs119.report.model_tables import short_claim_label, short_parameter_name


def prior_posterior_figure(priors, sample: pd.DataFrame, moved: set[str]) -> BookFigure:
    """One panel per free parameter: prior density (line) and weighted posterior histogram."""
    n = len(priors)
    cols = 4
    rows = math.ceil(n / cols)
    fig = BookFigure(figsize=(10.0, 2.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    w = sample["weight"].to_numpy()
    for ax, p in zip(axes, priors, strict=False):
        x = sample[p.parameter].to_numpy()
        lo, hi = p.quantiles([0.005, 0.995])
        lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
        grid = np.linspace(lo, hi, 300)
        ax.hist(
            x,
            bins=30,
            range=(lo, hi),
            weights=w,
            density=True,
            color=OKABE_ITO["bluish_green"],
            alpha=0.55,
            label="posterior",
        )
        ax.plot(grid, p.dist.pdf(grid), color=OKABE_ITO["black"], lw=1.4, label="prior")
        title = short_parameter_name(p.parameter) + ("  (moved)" if p.parameter in moved else "")
        ax.set_title(
            title,
            fontsize="small",
            color=OKABE_ITO["vermillion"] if p.parameter in moved else "black",
        )
        ax.set_yticks([])
        ax.tick_params(labelsize="x-small")
    for ax in axes[n:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=2, fontsize="small")
    fig.alt_text = (
        f"{n} panels, one per free model parameter: the literature prior density as a line and "
        "the posterior as a weighted histogram; panels whose posterior median left the "
        "prior's central 50% are titled 'moved'."
    )
    return fig


def checks_figure(table: pd.DataFrame) -> BookFigure:
    """Percentile of each published value in the prior- and posterior-predictive distribution.

    Only the values printed as numbers: for a bound ("P < .001") or a "similar" statement the
    check is the share of trials that meet it, which is not a percentile and would sit at 100
    looking like an outlier; the table gives those."""
    from anrs119.published import results

    claims = results()
    printed = claims.index[(claims["bound"] == "=") & (claims["statistic"] != "similar")]
    t = table[table["id"].isin(printed)]
    ids = list(dict.fromkeys(t["id"]))
    fig = BookFigure(figsize=(7.5, 0.32 * len(ids) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(ids))[::-1]
    ax.axvspan(2.5, 97.5, color="0.92", zorder=0, label="central 95%")
    for dist, colour, marker, dy in (
        ("prior", OKABE_ITO["black"], "s", 0.15),
        ("posterior", OKABE_ITO["bluish_green"], "o", -0.15),
    ):
        d = t[t["distribution"] == dist].set_index("id")
        vals = [d.loc[i, "percentile"] if i in d.index else np.nan for i in ids]
        ax.plot(vals, y + dy, marker, color=colour, label=f"{dist} predictive", ls="none")
    ax.set_yticks(y, [short_claim_label(i) for i in ids])
    ax.set_xlim(0, 100)
    ax.set_xlabel("percentile of the published value among simulated trials")
    fig.legend(loc="outside upper center", ncols=3, fontsize="small")
    fig.alt_text = (
        "For every published number, where it falls in the prior-predictive "
        "(squares) and posterior-predictive (dots) distributions of simulated trials, as a "
        "percentile from 0 to 100, with the central 95% shaded."
    )
    return fig


def sensitivity_figure(table: pd.DataFrame) -> BookFigure:
    """Heat map: percentile of each published value (columns) under each assumption (rows)."""
    t = table[~table["id"].isin(["joint", "joint_subgroup"])]
    labels = list(dict.fromkeys(t["label"]))
    ids = list(dict.fromkeys(t["id"]))
    grid = t.pivot(index="label", columns="id", values="percentile").loc[labels, ids]
    out = t.pivot(index="label", columns="id", values="outside95").loc[labels, ids]
    fig = BookFigure(figsize=(10.0, 0.42 * len(labels) + 2.6), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(grid.to_numpy(dtype=float), cmap="RdBu_r", vmin=0, vmax=100, aspect="auto")
    for i in range(len(labels)):
        for j in range(len(ids)):
            v = grid.iloc[i, j]
            if np.isfinite(v):
                txt = f"{v:.0f}" + ("*" if bool(out.iloc[i, j]) else "")
                colour = "white" if v < 15 or v > 85 else "black"  # legible on dark cells
                ax.text(j, i, txt, ha="center", va="center", fontsize="small", color=colour)
    ax.set_xticks(
        range(len(ids)), [short_claim_label(i) for i in ids], rotation=60, ha="right",
        fontsize="small",
    )  # fmt: skip
    ax.set_yticks(range(len(labels)), labels, fontsize="small")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="percentile of the published value", shrink=0.8)
    fig.alt_text = (
        "Heat map with one row per changed assumption and one column per published result; each "
        "cell gives "
        "the percentile of the published value in the posterior-predictive distribution under "
        "that assumption; an asterisk marks values outside the central 95%."
    )
    return fig


def trajectory_figure(
    adsl: pd.DataFrame,
    adlb: pd.DataFrame,
    cycles: np.ndarray,
    per_arm: int = 4,
    threshold: float = 300.0,
) -> BookFigure:
    """CD4 counts of the first ``per_arm`` patients of each arm (by USUBJID) in the embedded
    trial: solid off ART, dotted once on ART; IL-2 cycles marked on the IL-2 panel."""
    fig = BookFigure(figsize=(8.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    cd4 = adlb[adlb["PARAMCD"] == "CD4"].merge(adsl[["USUBJID", "ARM"]], on="USUBJID")
    for ax, arm in zip(axes, ARMS, strict=True):
        ids = sorted(adsl.loc[adsl["ARM"] == arm, "USUBJID"])[:per_arm]
        for uid in ids:
            r = cd4[cd4["USUBJID"] == uid].sort_values("AVISITN")
            off = r[r["ONART"] == "N"]
            on = r[r["ONART"] == "Y"]
            ax.plot(off["AVISITN"], off["AVAL"], color=ARM_COLOURS[arm], lw=1.2, alpha=0.85)
            if len(on):
                joined = pd.concat([off.tail(1), on])
                ax.plot(joined["AVISITN"], joined["AVAL"], color="0.45", lw=1.0, ls=":")
        ax.axhline(threshold, color="0.3", lw=1, ls="--")
        if arm == ARMS[0]:
            for c in cycles:
                ax.axvline(c, color=ARM_COLOURS[arm], lw=0.6, alpha=0.35)
        ax.set_title(arm)
        ax.set_xlabel("Week")
    axes[0].set_ylabel("CD4 count (cells/µL)")
    fig.alt_text = (
        f"CD4 counts over time of {per_arm} patients per arm of the synthetic trial; dotted "
        "segments after ART initiation; dashed line at the 300 cells/µL end-point threshold; "
        "vertical lines mark IL-2 cycles."
    )
    return fig
