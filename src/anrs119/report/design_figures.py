"""Figures of the trial design (the IL-2 regimen timeline), drawn from the registry facts."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from anrs119.design import TrialDesign
from anrs119.report.figures import ARM_COLOURS, apply_theme


def regimen_timeline(design: TrialDesign) -> Figure:
    """Weeks 0 to the subgroup horizon: fixed IL-2 cycles, the window for the optional ones,
    and the primary and subgroup time points."""
    apply_theme()
    fig, ax = plt.subplots(figsize=(8, 2.6), layout="constrained")
    colour = ARM_COLOURS["IL-2"]
    width = design.il2_days_per_cycle / 7
    for week in design.il2_fixed_cycle_weeks:
        ax.broken_barh([(week, width)], (0.55, 0.35), facecolors=colour)
    window_start = max(design.il2_fixed_cycle_weeks) + width
    ax.broken_barh(
        [(window_start, design.il2_last_cycle_week - window_start)],
        (0.55, 0.35),
        facecolors=colour,
        alpha=0.18,
        hatch="//",
        edgecolor=colour,
    )
    ax.broken_barh([(0, design.subgroup_week)], (0.1, 0.3), facecolors="0.85")
    for week, label in (
        (design.primary_week, f"primary analysis\nweek {design.primary_week}"),
        (design.subgroup_week, f"subgroup analysis\nweek {design.subgroup_week}"),
    ):
        ax.axvline(week, color="0.25", linestyle="--", linewidth=1)
        ax.text(week, 1.0, label, ha="center", va="bottom", fontsize=8)
    ax.set_xlim(-4, design.subgroup_week + 8)
    ax.set_ylim(0, 1.35)
    ax.set_yticks([0.25, 0.725], ["Control\n(no treatment)", "IL-2"])
    ax.set_xlabel("Weeks since randomization")
    ax.set_xticks([*design.il2_fixed_cycle_weeks, 48, design.primary_week, design.subgroup_week])
    ax.legend(
        handles=[
            Patch(facecolor=colour, label="IL-2 cycle (fixed week, registry)"),
            Patch(
                facecolor=colour,
                alpha=0.18,
                hatch="//",
                edgecolor=colour,
                label=f"{design.il2_optional_cycles} more cycles allowed (timing not published)",
            ),
            Patch(facecolor="0.85", label="follow-up without IL-2"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.35),
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    fig.alt_text = (
        f"Timeline of the IL-2 regimen: {len(design.il2_fixed_cycle_weeks)} fixed cycles at weeks "
        f"{', '.join(map(str, design.il2_fixed_cycle_weeks))}, up to "
        f"{design.il2_optional_cycles} more cycles by week {design.il2_last_cycle_week}, primary "
        f"analysis at week {design.primary_week} and subgroup analysis at week "
        f"{design.subgroup_week}; the control arm receives no treatment."
    )
    return fig
