"""Figures of the forensic chapter: which arm sizes and tests reproduce the printed numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from anrs119 import ARMS
from anrs119.forensic import (
    TEST_LABELS,
    TEST_SHORT,
    TESTS,
    Allocation,
    ClaimCheck,
    randomization_probability,
    ranked_candidates,
)


def primary_test_heatmap(check: ClaimCheck, n_range: tuple[int, int]) -> Figure:
    """P value of every test (rows) for the one table of each split (columns) whose
    percentages round as printed; cells reproducing the printed P are outlined."""
    tables = check.tables[check.tables["n_il2"].between(*n_range)].copy()
    tables["split"] = tables["n_il2"].astype(str) + "/" + tables["n_control"].astype(str)
    tables["table"] = (
        tables["k_il2"].astype(str)
        + "/"
        + tables["n_il2"].astype(str)
        + "\n"
        + tables["k_control"].astype(str)
        + "/"
        + tables["n_control"].astype(str)
    )
    p = tables.set_index("table")[[f"p_{t}" for t in TESTS]].T
    match = tables.set_index("table")[[f"match_{t}" for t in TESTS]].T.to_numpy()
    p.index = [TEST_LABELS[t] for t in TESTS]
    with sns.axes_style("white"):
        fig, ax = plt.subplots(figsize=(1.0 + 0.62 * p.shape[1], 4.2), layout="constrained")
        sns.heatmap(
            np.log10(p),
            ax=ax,
            cmap="mako",
            annot=p.map(lambda v: f"{v:.4f}".removeprefix("0")),
            fmt="",
            annot_kws={"fontsize": 6.5},
            cbar_kws={"label": "log10 P value"},
            linewidths=0.5,
            linecolor="white",
        )
    for row, col in zip(*np.nonzero(match), strict=True):
        ax.add_patch(Rectangle((col, row), 1, 1, fill=False, edgecolor="#E69F00", linewidth=2.5))
    ax.set_xlabel("events / patients, IL-2 (top) and control (bottom), for each split of the trial")
    ax.set_ylabel("")
    ax.tick_params(axis="x", labelsize=7, rotation=0)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(
        f"Tables with {check.pct_il2.label} vs {check.pct_control.label}; "
        f"outlined: the test prints {check.reported_p.label}",
        fontsize=9,
    )
    fig.alt_text = (
        "Heat map of P values: one column per arm split whose percentages round as published, "
        "one row per candidate test; the cells whose P value prints as published are outlined."
    )
    return fig


def subgroup_feasibility_heatmap(check: ClaimCheck) -> Figure:
    """For every pair of subgroup sizes: gray where the printed percentages are impossible,
    else the number of tests for which some table also prints the published P."""
    grid = check.by_split()
    counts = grid.pivot(index="n_control", columns="n_il2", values="tests_matching")
    feasible = grid.pivot(index="n_control", columns="n_il2", values="tables") > 0
    shown = counts.where(feasible).sort_index(ascending=False)
    n_tests = len(TESTS)
    colours = sns.color_palette("rocket_r", n_tests + 1)
    cmap = ListedColormap(colours).with_extremes(bad="0.93")
    norm = BoundaryNorm(np.arange(-0.5, n_tests + 1.5), cmap.N)
    with sns.axes_style("white"):
        fig, ax = plt.subplots(figsize=(7.5, 6.2), layout="constrained")
        mesh = ax.pcolormesh(
            shown.columns.to_numpy(),
            shown.index.to_numpy(),
            np.ma.masked_invalid(shown.to_numpy(dtype=float)),
            cmap=cmap,
            norm=norm,
            shading="nearest",
        )
    bar = fig.colorbar(mesh, ax=ax, ticks=range(n_tests + 1), shrink=0.8)
    bar.set_label(f"tests (of {n_tests}) with a table printing {check.reported_p.label}")
    ax.set_xlabel(f"subgroup size, IL-2 arm (percentage printed {check.pct_il2.label})")
    ax.set_ylabel(f"subgroup size, control arm (percentage printed {check.pct_control.label})")
    ax.set_aspect("equal")
    handles = [Patch(facecolor="0.93", edgecolor="0.7", label="percentages impossible")]
    ax.legend(handles=handles, loc="upper right", fontsize=8, frameon=True)
    fig.alt_text = (
        "Heat map over subgroup sizes in the IL-2 arm (horizontal) and control arm (vertical): "
        "most cells are gray because the printed percentages are impossible there; the "
        "possible cells form sparse lines, and almost all of them reproduce the P value bound "
        "with every test."
    )
    return fig


def candidate_table(check: ClaimCheck, n_range: tuple[int, int], n_total: int) -> pd.DataFrame:
    """The candidate tables of the splits in ``n_range``, for display: counts, percentages to
    one decimal, every test's P to four decimals, and the tests that print the published P."""
    tables = check.tables[check.tables["n_il2"].between(*n_range)]
    weight = randomization_probability(tables["n_il2"].to_numpy(), n_total)
    rows = {
        "IL-2 events / n": [f"{k}/{n}" for k, n in zip(tables.k_il2, tables.n_il2, strict=True)],
        "IL-2 %": [f"{100 * k / n:.1f}" for k, n in zip(tables.k_il2, tables.n_il2, strict=True)],
        "Control events / n": [
            f"{k}/{n}" for k, n in zip(tables.k_control, tables.n_control, strict=True)
        ],
        "Control %": [
            f"{100 * k / n:.1f}" for k, n in zip(tables.k_control, tables.n_control, strict=True)
        ],
        "P(split), relative": [f"{w / weight.max():.2f}" for w in weight],
    }
    for test in TESTS:
        rows[f"P, {TEST_SHORT[test]}"] = [f"{p:.4f}" for p in tables[f"p_{test}"]]
    rows[f"tests printing {check.reported_p.label}"] = [
        ", ".join(TEST_SHORT[t] for t in TESTS if getattr(row, f"match_{t}")) or "none"
        for row in tables.itertuples(index=False)
    ]
    return pd.DataFrame(rows)


def km_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Display form of :func:`anrs119.forensic.km_split_summary` (3 reads "more than 2")."""

    def show(value: int) -> str:
        return "more than 2" if value > 2 else str(value)

    return pd.DataFrame(
        {
            "split (IL-2/control)": [
                f"{a}/{b}" for a, b in zip(summary.n_il2, summary.n_control, strict=True)
            ],
            "censorings needed, IL-2": summary.censored_il2.map(show),
            "censorings needed, control": summary.censored_control.map(show),
        }
    )


def logrank_table(summary: pd.DataFrame, reported: str) -> pd.DataFrame:
    """Display form of :func:`anrs119.forensic.logrank_by_table`."""
    return pd.DataFrame(
        {
            "IL-2 events / n": [
                f"{k}/{n}" for k, n in zip(summary.k_il2, summary.n_il2, strict=True)
            ],
            "Control events / n": [
                f"{k}/{n}" for k, n in zip(summary.k_control, summary.n_control, strict=True)
            ],
            "median log-rank P": summary.logrank_median_p.map(lambda p: f"{p:.4f}"),
            f"share of event-time patterns printing {reported}": summary.logrank_share_matching.map(
                lambda s: f"{100 * s:.0f}%"
            ),
        }
    )


def _share(value: float) -> str:
    return f"{100 * value:.0f}%"


def primary_numbers(
    check: ClaimCheck, allocation: Allocation, n_range: tuple[int, int], level: float
) -> dict[str, str | int]:
    """Preformatted numbers for the chapter's prose on the week-96 claim (keys ``fo_*``)."""
    splits = check.by_split()
    possible = splits[splits["tables"] > 0]
    balanced = possible[possible["n_il2"].between(*n_range)]
    n_total = allocation.n_randomized
    half = n_total // 2
    pct_low, pct_high = check.pct_il2.interval()
    p_low, p_high = check.reported_p.interval()
    runner_up = ranked_candidates(check).iloc[1]
    pct_digits, p_digits = check.pct_il2.decimals + 1, check.reported_p.decimals + 1
    n1, n2 = (allocation.n_by_arm[a] for a in ARMS)
    k1, k2 = (allocation.events_w96_by_arm[a] for a in ARMS)
    return {
        "fo_n_total": n_total,
        "fo_pct_il2": check.pct_il2.label,
        "fo_pct_control": check.pct_control.label,
        "fo_pct_low": f"{pct_low:.{pct_digits}f}%",
        "fo_pct_high": f"{pct_high:.{pct_digits}f}%",
        "fo_p_primary": check.reported_p.label,
        "fo_p_low": f"{p_low:.{p_digits}f}".removeprefix("0"),
        "fo_p_high": f"{p_high:.{p_digits}f}".removeprefix("0"),
        "fo_n_splits": len(splits),
        "fo_n_possible": len(possible),
        "fo_n_multi": int((possible["tables"] > 1).sum()),
        "fo_half": half,
        "fo_even_possible": "can" if half in set(possible["n_il2"]) else "cannot",
        "fo_rand_level": _share(level),
        "fo_rand_low": n_range[0],
        "fo_rand_high": n_range[1],
        "fo_n_balanced": len(balanced),
        "fo_n_balanced_match": int((balanced["tests_matching"] > 0).sum()),
        "fo_n1": n1,
        "fo_n2": n2,
        "fo_k1": k1,
        "fo_k2": k2,
        "fo_test": TEST_LABELS[allocation.test],
        "fo_alloc_p": f"{allocation.p_value:.4f}".removeprefix("0"),
        "fo_ru_split": f"{runner_up['n_il2']}/{runner_up['n_control']}",
        "fo_ru_events": f"{runner_up['k_il2']} and {runner_up['k_control']}",
        "fo_ru_tests": str(runner_up["tests"]),
    }


def subgroup_numbers(check: ClaimCheck) -> dict[str, str | int]:
    """Preformatted numbers for the chapter's prose on the low-viral-load subgroup."""
    grid = check.by_split()
    feasible = grid[grid["tables"] > 0]
    return {
        "fo_sub_pct_il2": check.pct_il2.label,
        "fo_sub_pct_control": check.pct_control.label,
        "fo_p_subgroup": check.reported_p.label,
        "fo_sub_cells": len(grid),
        "fo_sub_feasible": len(feasible),
        "fo_sub_all_tests": int((feasible["tests_matching"] == len(TESTS)).sum()),
        "fo_sub_no_test": int((feasible["tests_matching"] == 0).sum()),
        "fo_sub_min_il2": int(feasible["n_il2"].min()),
        "fo_sub_min_control": int(feasible["n_control"].min()),
        "fo_n_tests": len(TESTS),
    }


def km_numbers(
    km: pd.DataFrame, logrank: pd.DataFrame, allocation: Allocation
) -> dict[str, str | int]:
    """Preformatted numbers for the chapter's prose on Kaplan-Meier and log-rank readings."""
    n1, k1 = allocation.n_by_arm[ARMS[0]], allocation.events_w96_by_arm[ARMS[0]]
    chosen = logrank[(logrank["n_il2"] == n1) & (logrank["k_il2"] == k1)].iloc[0]
    return {
        "fo_km_splits": len(km),
        "fo_km_crude": int((km["censored_needed"] == 0).sum()),
        "fo_km_one": int((km["censored_needed"] <= 1).sum()),
        "fo_km_two": int((km["censored_needed"] <= 2).sum()),
        "fo_lr_median": f"{chosen['logrank_median_p']:.4f}".removeprefix("0"),
        "fo_lr_share": _share(chosen["logrank_share_matching"]),
        "fo_lr_best": _share(logrank["logrank_share_matching"].max()),
    }
