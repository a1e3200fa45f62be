"""Figures and tables of the operating-characteristics chapter (power, type I error, coverage)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from anrs119.report.figures import OKABE_ITO, _new_figure


def _rows(table: pd.DataFrame, quantity: str, *families: str) -> pd.DataFrame:
    sel = table["quantity"] == quantity
    if families:
        sel &= table["family"].isin(families)
    return table[sel]


def power_curve(table: pd.DataFrame, design_n: int, alpha: float) -> Figure:
    """Power of the primary comparison against the total sample size, with 95% MC bands."""
    rows = _rows(table, "primary_reject", "power_curve", "design").copy()
    rows["n"] = rows["n_il2"] + rows["n_control"]
    rows = rows.sort_values("n")
    n = rows["n"].to_numpy(float)
    est = rows["estimate"].to_numpy(float)
    half = 1.96 * rows["mc_se"].to_numpy(float)
    fig = _new_figure(figsize=(7.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    colour = OKABE_ITO["bluish_green"]
    ax.plot(n, est, marker="o", color=colour, lw=2, label="power of the primary comparison")
    ax.fill_between(n, est - half, est + half, color=colour, alpha=0.2, lw=0)
    ax.axhline(0.8, color="gray", ls=":", lw=1)
    ax.axhline(alpha, color=OKABE_ITO["black"], ls="--", lw=1, label=f"alpha = {alpha:g}")
    ax.axvline(design_n, color=OKABE_ITO["orange"], lw=1.5, label=f"ANRS 119 ({design_n})")
    ax.set_xlabel("Patients randomized (both arms)")
    ax.set_ylabel("Probability that P < alpha")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right")
    at = int(np.argmin(np.abs(n - design_n)))
    fig.alt_text = (
        f"Power of the primary comparison rising with sample size from {est[0]:.0%} at "
        f"{n[0]:.0f} patients to {est[-1]:.0%} at {n[-1]:.0f}; {est[at]:.0%} at {n[at]:.0f} "
        "patients, the size of ANRS 119."
    )
    return fig


def similar_bars(table: pd.DataFrame) -> Figure:
    """How often AIDS events and deaths would be called 'similar' under each clinical HR."""
    rows = table[table["quantity"].isin(["similar_aids", "similar_death"])]
    rows = rows[rows["family"].isin(["design", "clinical"])]
    order = list(dict.fromkeys(rows["scenario_label"]))
    fig = _new_figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    width = 0.38
    x = np.arange(len(order))
    colours = {"similar_aids": OKABE_ITO["reddish_purple"], "similar_death": OKABE_ITO["black"]}
    names = {"similar_aids": "AIDS-defining events", "similar_death": "deaths"}
    texts = []
    for k, (quantity, colour) in enumerate(colours.items()):
        r = rows[rows["quantity"] == quantity].set_index("scenario_label").loc[order]
        ax.bar(x + (k - 0.5) * width, r["estimate"], width, color=colour, label=names[quantity])
        texts.append(
            f"{names[quantity]}: " + ", ".join(f"{e:.0%}" for e in r["estimate"].to_numpy(float))
        )
    ax.set_xticks(x, labels=[_short(label) for label in order])
    ax.set_ylabel("Probability of 'similar' (no difference detected)")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower right")
    fig.alt_text = (
        "Bars of the probability that a trial of this size detects no difference "
        f"between arms, for scenarios {', '.join(_short(o) for o in order)}. "
        + "; ".join(texts)
        + "."
    )
    return fig


def _short(label: str) -> str:
    if label.startswith("IL-2 multiplies"):
        return "IL-2 HR " + label.rsplit(" ", 1)[-1]
    return "posterior medians (HR 1)"


def summary_table(table: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """One scenario's quantities as a reader's table (estimate with its Monte Carlo SE)."""
    rows = table[table["scenario"] == scenario]
    out = pd.DataFrame(
        {
            "Quantity": rows["quantity_label"],
            "Estimate": [
                f"{e:.2f}" if q.startswith("events") else f"{100 * e:.1f}%"
                for e, q in zip(rows["estimate"], rows["quantity"], strict=True)
            ],
            "Monte Carlo SE": [
                f"{s:.2f}" if q.startswith("events") else f"{100 * s:.1f}"
                for s, q in zip(rows["mc_se"], rows["quantity"], strict=True)
            ],
            "Replicates": rows["replicates"].astype(int),
        }
    )
    return out.reset_index(drop=True)


def _value(table: pd.DataFrame, scenario: str, quantity: str) -> pd.Series:
    row = table[(table["scenario"] == scenario) & (table["quantity"] == quantity)]
    if len(row) != 1:
        raise KeyError(f"operating table: no single row for {scenario}/{quantity}")
    return row.iloc[0]


def _pct(row: pd.Series) -> str:
    return f"{100 * float(row['estimate']):.1f}%"


def _se(row: pd.Series) -> str:
    return f"{100 * float(row['mc_se']):.1f}"


def size_for_power(table: pd.DataFrame, target: float = 0.8) -> float:
    """Total size at which the power curve reaches ``target`` (linear interpolation; NaN if
    the curve never gets there, the smallest size if it starts above)."""
    rows = _rows(table, "primary_reject", "power_curve", "design").copy()
    rows["n"] = rows["n_il2"] + rows["n_control"]
    rows = rows.sort_values("n")
    n, power = rows["n"].to_numpy(float), rows["estimate"].to_numpy(float)
    above = np.flatnonzero(power >= target)
    if above.size == 0:
        return float("nan")
    j = int(above[0])
    if j == 0:
        return float(n[0])
    frac = (target - power[j - 1]) / (power[j] - power[j - 1])
    return float(n[j - 1] + frac * (n[j] - n[j - 1]))


def chapter_numbers(table: pd.DataFrame) -> dict[str, str]:
    """Every number the chapter's prose glues, formatted."""
    design = _value(table, "design", "primary_reject")
    null = _value(table, "il2_off", "primary_reject")
    cover = _value(table, "design", "cox_covers")
    n80 = size_for_power(table)
    out = {
        "oc_replicates": f"{int(design['replicates']):,}",
        "oc_n_design": f"{int(design['n_il2'] + design['n_control'])}",
        "oc_power": _pct(design),
        "oc_power_se": _se(design),
        "oc_type1": _pct(null),
        "oc_type1_se": _se(null),
        "oc_coverage": _pct(cover),
        "oc_coverage_se": _se(cover),
        "oc_true_hr": f"{float(cover['true_hr']):.2f}",
        "oc_n80": "not reached in the sizes simulated" if np.isnan(n80) else f"{n80:.0f}",
        "oc_power_cd4": _pct(_value(table, "design", "cd4_reject")),
        "oc_power_lowvl": _pct(_value(table, "design", "lowvl_reject")),
        "oc_vl_reject": _pct(_value(table, "design", "vl_reject")),
        "oc_events_aids": f"{float(_value(table, 'design', 'events_aids')['estimate']):.1f}",
        "oc_events_death": f"{float(_value(table, 'design', 'events_death')['estimate']):.1f}",
    }
    for scenario, short in (("prior_predictive", "prior"), ("posterior_predictive", "post")):
        for quantity, name in (("primary_reject", "power"), ("lowvl_reject", "lowvl")):
            row = _value(table, scenario, quantity)
            out[f"oc_{short}_{name}"] = _pct(row)
            out[f"oc_{short}_{name}_se"] = _se(row)
    for quantity in ("similar_aids", "similar_death"):
        short = quantity.split("_")[1]
        out[f"oc_{short}_similar"] = _pct(_value(table, "design", quantity))
        for scenario in table.loc[table["family"] == "clinical", "scenario"].unique():
            hr = scenario.rsplit("_", 1)[-1].replace(".", "")
            out[f"oc_{short}_similar_hr{hr}"] = _pct(_value(table, scenario, quantity))
    return out
