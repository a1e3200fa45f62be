"""One figure theme and one color per arm for the whole book; every figure carries alt text."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from anrs119 import ARMS
from anrs119.analysis.survival import KaplanMeierResult, numbers_at_risk

# Okabe & Ito (2008) colour-blind-safe palette. Yellow is left out: unreadable on white.
OKABE_ITO: dict[str, str] = {
    "vermillion": "#D55E00",
    "blue": "#0072B2",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "black": "#000000",
}

ARM_COLOURS: dict[str, str] = {ARMS[0]: OKABE_ITO["vermillion"], ARMS[1]: OKABE_ITO["blue"]}
"""IL-2 vermillion, Control blue, in every figure of the book."""

_OTHER_COLOURS: tuple[str, ...] = (
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["black"],
    "#7A7A7A",  # gray
    "#8C5A2B",  # brown
    "#B59B00",  # dark yellow (Okabe-Ito's yellow is unreadable on white)
)
"""Colors for groups that are not arms. Orange and sky blue are left out: next to the arms'
vermillion and blue they would read as the arms."""


def colours_for(labels: Iterable[str]) -> dict[str, str]:
    """Color per label: the fixed arm colors, then the next Okabe-Ito colors in order."""
    out: dict[str, str] = {}
    spare = iter(_OTHER_COLOURS)
    for label in labels:
        if label in out:
            continue
        if label in ARM_COLOURS:
            out[label] = ARM_COLOURS[label]
        else:
            try:
                out[label] = next(spare)
            except StopIteration:
                raise ValueError(
                    f"more than {len(_OTHER_COLOURS)} non-arm groups: rule: palette size"
                ) from None
    return out


def apply_theme() -> None:
    """Seaborn whitegrid with white, opaque backgrounds so figures read in light and dark mode."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", font_scale=1.0)
    mpl.rcParams.update(
        {
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.transparent": False,
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.prop_cycle": mpl.cycler(color=list(OKABE_ITO.values())),
            "legend.frameon": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


class BookFigure(Figure):
    """A matplotlib Figure that renders itself as PNG in notebooks and carries ``alt_text``.

    Built without pyplot (no global state, no open-figure warnings), so it cannot rely on the
    inline backend's formatters: ``_repr_png_`` lets IPython and myst-nb ``glue`` display it.
    """

    alt_text: str = ""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=150, bbox_inches="tight", facecolor="white")
        return buf.getvalue()


def _new_figure(**kwargs) -> BookFigure:
    fig = BookFigure(**kwargs)
    fig.set_facecolor("white")
    return fig


def km_plot(
    km: KaplanMeierResult,
    *,
    at_risk_times: Sequence[float] | None = None,
    cumulative_incidence: bool = False,
    show_ci: bool = True,
    xlabel: str = "Weeks since randomization",
    ylabel: str | None = None,
    title: str | None = None,
    time_unit: str = "weeks",
) -> Figure:
    """Kaplan-Meier curves by group (or 1 - S), censoring ticks, CI bands, at-risk table."""
    colours = colours_for(km.groups)
    n_rows = len(km.groups) if at_risk_times is not None else 0
    height = 4.2 + 0.3 * n_rows
    fig = _new_figure(figsize=(7.5, height), layout="constrained")
    if n_rows:
        gs = fig.add_gridspec(2, 1, height_ratios=[4.2, 0.35 + 0.3 * n_rows])
        ax = fig.add_subplot(gs[0])
        ax_risk = fig.add_subplot(gs[1], sharex=ax)
    else:
        ax = fig.add_subplot()
        ax_risk = None
    tmax = float(km.table["time"].max())
    for g in km.groups:
        r = km.table[km.table["group"] == g]
        t = np.append(r["time"].to_numpy(), tmax)
        s, lo, hi = (
            np.append(r[c].to_numpy(), r[c].iloc[-1]) for c in ("survival", "ci_low", "ci_high")
        )
        if cumulative_incidence:
            s, lo, hi = 1 - s, 1 - hi, 1 - lo
        ax.step(
            t, s, where="post", color=colours[g], lw=2, label=f"{g} (n={km.n[km.groups.index(g)]})"
        )
        if show_ci:
            ax.fill_between(t, lo, hi, step="post", color=colours[g], alpha=0.15, lw=0)
        cens = r[r["n_censor"] > 0]
        y = 1 - cens["survival"] if cumulative_incidence else cens["survival"]
        ax.plot(cens["time"], y, ls="none", marker="|", ms=7, mew=1.2, color=colours[g])
    what = "Proportion with event" if cumulative_incidence else "Proportion event-free"
    ax.set_ylabel(ylabel or what)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(-0.01 * tmax, tmax * 1.02)
    ax.legend(loc="lower left" if not cumulative_incidence else "upper left")
    if title:
        ax.set_title(title)
    if ax_risk is not None:
        nar = numbers_at_risk(km, list(at_risk_times))
        ax_risk.set_ylim(-0.5, n_rows - 0.5)
        ax_risk.set_yticks(range(n_rows), labels=list(reversed(km.groups)))
        for i, g in enumerate(km.groups):
            y = n_rows - 1 - i
            for t, n in zip(at_risk_times, nar.loc[g], strict=True):
                ax_risk.text(t, y, str(n), ha="center", va="center", color=colours[g], fontsize=9)
            ax_risk.get_yticklabels()[y].set_color(colours[g])
        ax_risk.set_xlabel(xlabel)
        ax_risk.set_title("Number at risk", fontsize=9, loc="left")
        ax_risk.grid(False)
        for side in ("top", "right", "left"):
            ax_risk.spines[side].set_visible(False)
        # pad keeps the group names clear of the numbers printed at time 0
        ax_risk.tick_params(axis="y", length=0, pad=16)
        ax.tick_params(labelbottom=False)
        ax_risk.set_xticks(list(at_risk_times))
    else:
        ax.set_xlabel(xlabel)
    parts = []
    for g in km.groups:
        med = km.median(g)[0]
        med_txt = f"median {med:g} {time_unit}" if np.isfinite(med) else "median not reached"
        parts.append(f"{g}: {med_txt}")
    fig.alt_text = (
        f"Kaplan-Meier {'cumulative incidence' if cumulative_incidence else 'event-free'} curves "
        f"for {', '.join(km.groups)} over {tmax:g} {time_unit} ({'; '.join(parts)})"
        + (", with numbers at risk below the axes." if ax_risk is not None else ".")
    )
    return fig


def trajectory_plot(
    summary: pd.DataFrame,
    *,
    ylabel: str,
    xlabel: str = "Week",
    title: str | None = None,
    reference_line: float | None = None,
) -> Figure:
    """Median with interquartile band by group over visits.

    ``summary`` has columns group, AVISITN, median, q1, q3, n (as returned by
    :func:`anrs119.analysis.longitudinal.trajectory_summary`).
    """
    needed = {"group", "AVISITN", "median", "q1", "q3", "n"}
    missing = needed - set(summary.columns)
    if missing:
        raise ValueError(f"trajectory summary: missing column(s) {sorted(missing)}")
    groups = [g for g in ARMS if g in set(summary["group"])] + sorted(
        set(summary["group"]) - set(ARMS), key=str
    )
    colours = colours_for(groups)
    fig = _new_figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    offset = 0.6  # small horizontal dodge so the two arms' markers do not hide each other
    for i, g in enumerate(groups):
        r = summary[summary["group"] == g].sort_values("AVISITN")
        x = r["AVISITN"].to_numpy(dtype=float) + (i - (len(groups) - 1) / 2) * offset
        ax.fill_between(x, r["q1"], r["q3"], color=colours[g], alpha=0.15, lw=0)
        ax.plot(x, r["median"], color=colours[g], marker="o", ms=4, lw=2, label=g)
    if reference_line is not None:
        ax.axhline(reference_line, color="0.4", lw=1, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(title="Median (IQR band)")
    weeks = sorted(set(summary["AVISITN"]))
    fig.alt_text = (
        f"Median {ylabel} with interquartile band by {', '.join(groups)} at weeks "
        f"{weeks[0]:g} to {weeks[-1]:g}."
    )
    return fig


FAVOURS: tuple[str, str] = (f"favors {ARMS[0]}", f"favors {ARMS[1].lower()}")
"""Which side of a ratio below or above 1 favors which arm, when the event is harmful."""


def favours_labels(ax, reference: float, labels: tuple[str, str] = FAVOURS) -> None:
    """Write which arm each side of the line of no difference favors, above the plot."""
    import matplotlib.transforms as transforms

    top = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    left, right = labels
    style = {"transform": top, "va": "bottom", "fontsize": "small", "color": "0.25"}
    ax.text(reference, 1.01, f"\u2190 {left}  ", ha="right", **style)
    ax.text(reference, 1.01, f"  {right} \u2192", ha="left", **style)


def forest_plot(
    rows: pd.DataFrame | Sequence[Mapping[str, object]],
    *,
    xlabel: str = "Hazard ratio (95% CI)",
    log_scale: bool = True,
    reference: float | None = None,
    title: str | None = None,
    favours: tuple[str, str] | None = FAVOURS,
) -> Figure:
    """Generic forest plot. ``rows`` has label, estimate, ci_low, ci_high and optional group."""
    df = pd.DataFrame(list(rows)) if not isinstance(rows, pd.DataFrame) else rows.copy()
    needed = {"label", "estimate", "ci_low", "ci_high"}
    missing = needed - set(df.columns)
    if missing:
        raise ValueError(f"forest rows: missing column(s) {sorted(missing)}")
    if "group" not in df:
        df["group"] = ""
    colours = colours_for([g for g in df["group"] if g])
    ref = (1.0 if log_scale else 0.0) if reference is None else reference
    fig = _new_figure(figsize=(7.5, 0.9 + 0.45 * len(df)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(df))[::-1]
    for yi, (_, r) in zip(y, df.iterrows(), strict=True):
        c = colours.get(r["group"], "#000000")
        ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color=c, lw=2)
        ax.plot([r["estimate"]], [yi], marker="s", ms=7, color=c)
    ax.axvline(ref, color="0.4", lw=1, ls="--")
    if log_scale:
        ax.set_xscale("log")
        # Plain-number ticks (0.25, 0.5, 1, 2) read better than powers of ten.
        low, high = ax.get_xlim()
        ticks = [t for t in (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20) if low <= t <= high]
        ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, labels=df["label"].astype(str).tolist())
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    if favours:
        favours_labels(ax, ref, favours)
    if title:
        ax.set_title(title, pad=18 if favours else None)
    fig.alt_text = (
        f"Forest plot of {len(df)} estimates with 95% confidence intervals ({xlabel}); "
        f"dashed line at {ref:g}"
        + (f" (left: {favours[0]}; right: {favours[1]})" if favours else "")
        + ": "
        + "; ".join(
            f"{r['label']} {r['estimate']:.3g} ({r['ci_low']:.3g} to {r['ci_high']:.3g})"
            for _, r in df.iterrows()
        )
        + "."
    )
    return fig
