"""Participants: the CONSORT flow (counts and diagram) and the baseline table, from ADSL/ADTTE."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from anrs119 import ARMS
from anrs119.analysis._common import time_to_event
from anrs119.report.figures import ARM_COLOURS, apply_theme


@dataclass(frozen=True)
class ArmFlow:
    """One arm's path through the trial for one end point, at each landmark week."""

    arm: str
    randomized: int
    events_by: dict[int, int]
    """Patients who reached the end point by each landmark week."""
    censored_before: dict[int, int]
    """Patients whose follow-up ended, event-free, before each landmark week."""
    followed_past: dict[int, int]
    """Patients event-free and still followed at each landmark week."""
    first_component: dict[str, int]
    """Which component of the composite came first (EVNTDESC of the events), all follow-up."""


def arm_flows(
    adsl: pd.DataFrame, adtte: pd.DataFrame, weeks: Sequence[int], paramcd: str = "PRIMARY"
) -> list[ArmFlow]:
    """The CONSORT counts per arm (in the book's arm order) for ``paramcd`` at ``weeks``."""
    tte = time_to_event(adsl, adtte, paramcd)
    descriptions = adtte.loc[adtte["PARAMCD"] == paramcd, ["USUBJID", "EVNTDESC"]]
    tte = tte.merge(descriptions, on="USUBJID", how="left")
    flows = []
    for arm in ARMS:
        rows = tte[tte["group"] == arm]
        events = rows[rows["event"] == 1]
        flows.append(
            ArmFlow(
                arm=arm,
                randomized=len(rows),
                events_by={w: int((events["time"] <= w).sum()) for w in weeks},
                censored_before={
                    w: int(((rows["event"] == 0) & (rows["time"] < w)).sum()) for w in weeks
                },
                followed_past={
                    w: int((rows["time"] >= w).sum() - _events_at(rows, w)) for w in weeks
                },
                first_component=events["EVNTDESC"].value_counts().sort_index().to_dict(),
            )
        )
    return flows


def _events_at(rows: pd.DataFrame, week: int) -> int:
    """Events exactly at the landmark: counted as reached, so not as followed past it."""
    return int(((rows["event"] == 1) & (rows["time"] == week)).sum())


def flow_table(flows: Sequence[ArmFlow]) -> pd.DataFrame:
    """The flow as a table: one column per arm, one row per box of the diagram."""
    weeks = sorted(flows[0].events_by)
    index = ["Randomized"]
    for w in weeks:
        index += [
            f"Reached the end point by week {w}",
            f"Follow-up ended event-free before week {w}",
            f"Event-free and followed at week {w}",
        ]
    index.append("Analysed (all randomized)")
    data = {}
    for flow in flows:
        column = [flow.randomized]
        for w in weeks:
            column += [flow.events_by[w], flow.censored_before[w], flow.followed_past[w]]
        column.append(flow.randomized)
        data[flow.arm] = column
    return pd.DataFrame(data, index=pd.Index(index, name="")).astype(int)


def consort_figure(flows: Sequence[ArmFlow]) -> Figure:
    """A CONSORT-style flow diagram: randomized, allocated, status at each landmark, analyzed."""
    apply_theme()
    weeks = sorted(flows[0].events_by)
    n_levels = 3 + len(weeks)
    fig, ax = plt.subplots(figsize=(7.2, 1.3 * n_levels + 0.4), layout="constrained")
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, n_levels)
    box = {"boxstyle": "round,pad=0.45", "facecolor": "white", "linewidth": 1.2}
    top = n_levels - 0.5
    total = sum(f.randomized for f in flows)
    ax.text(
        0.5,
        top,
        f"Randomized\nn = {total}",
        ha="center",
        va="center",
        fontsize=11,
        bbox={**box, "edgecolor": "0.3"},
    )
    xs = [0.25, 0.75]
    for x, flow in zip(xs, flows, strict=True):
        colour = ARM_COLOURS[flow.arm]
        levels = [f"Allocated to {flow.arm}\nn = {flow.randomized}"]
        for w in weeks:
            levels.append(
                f"By week {w}:\nreached the end point: {flow.events_by[w]}\n"
                f"event-free, still followed: {flow.followed_past[w]}\n"
                f"follow-up ended, event-free: {flow.censored_before[w]}"
            )
        levels.append(f"Analysed (intention to treat)\nn = {flow.randomized}")
        for level, text in enumerate(levels, start=1):
            y = top - level
            ax.text(
                x,
                y,
                text,
                ha="center",
                va="center",
                fontsize=10,
                bbox={**box, "edgecolor": colour},
            )
            ax.annotate(
                "",
                xy=(x, y + 0.38),
                xytext=(x if level > 1 else 0.5, y + 0.62),
                arrowprops={"arrowstyle": "->", "color": "0.4"},
            )
    fig.alt_text = (
        f"CONSORT flow diagram: {total} patients randomized; "
        + "; ".join(
            f"{f.arm} {f.randomized}, of whom "
            + ", ".join(f"{f.events_by[w]} reached the end point by week {w}" for w in weeks)
            for f in flows
        )
        + "; all randomized patients analyzed."
    )
    return fig


def _median_iqr(values: pd.Series, decimals: int) -> str:
    q1, q2, q3 = values.quantile([0.25, 0.5, 0.75])
    return f"{q2:.{decimals}f} ({q1:.{decimals}f} to {q3:.{decimals}f})"


def _count_pct(mask: pd.Series) -> str:
    return f"{int(mask.sum())} ({100 * mask.mean():.0f}%)"


def baseline_table(adsl: pd.DataFrame, vl_cutoff: float) -> pd.DataFrame:
    """Baseline characteristics by arm and overall (median and IQR, or n and %)."""
    groups = [(arm, adsl[adsl["ARM"] == arm]) for arm in ARMS] + [("All", adsl)]
    rows = {
        "Patients, n": lambda d: str(len(d)),
        "Age, years, median (IQR)": lambda d: _median_iqr(d["AGE"], 0),
        "Women, n (%)": lambda d: _count_pct(d["SEX"] == "F"),
        "CD4 count, cells/µL, median (IQR)": lambda d: _median_iqr(d["BCD4"], 0),
        "Plasma HIV RNA, log10 copies/mL, median (IQR)": lambda d: _median_iqr(d["BVLLOG"], 2),
        f"HIV RNA below {vl_cutoff:g} log10 copies/mL, n (%)": lambda d: _count_pct(
            d["BVLLOG"] < vl_cutoff
        ),
    }
    table = pd.DataFrame(
        {name: [fn(data) for fn in rows.values()] for name, data in groups},
        index=pd.Index(list(rows), name="Characteristic"),
    )
    table.columns = [f"{name} (n = {len(data)})" for name, data in groups]
    return table
