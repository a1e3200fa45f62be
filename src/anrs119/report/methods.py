"""Tables and figures of the methods readings: interaction, multiplicity, estimands, competing.

No new statistics here: each function formats tested results from ``anrs119.analysis``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from anrs119 import ARMS
from anrs119.analysis.competing import ART, DEATH, CumulativeIncidenceResult, DeferralReading
from anrs119.analysis.estimands import SapEstimand, sap_table
from anrs119.analysis.hypothetical import median_difference_ci
from anrs119.analysis.longitudinal import READINGS, visit_values
from anrs119.analysis.subgroups import InteractionResult
from anrs119.analysis.survival import CoxResult
from anrs119.report import figures
from anrs119.report.text import fmt_p
from anrs119.reproduce import CHANGE_STRATEGIES, READING_WORDS, Reproducer, marker_change

# ---- subgroups and interaction


def _hr_text(hr: float, low: float, high: float) -> str:
    return f"{hr:.2f} ({low:.2f} to {high:.2f})"


def interaction_rows(
    overall: CoxResult, n_all: int, results: Sequence[InteractionResult | Exception]
) -> pd.DataFrame:
    """Forest-plot rows: label, n, estimate, ci_low, ci_high, interaction_p, family, note."""
    rows = [
        {
            "family": "All patients",
            "label": f"All (n = {n_all})",
            "estimate": overall.hazard_ratio,
            "ci_low": overall.ci_low,
            "ci_high": overall.ci_high,
            "interaction_p": np.nan,
        }
    ]
    for r in results:
        if isinstance(r, Exception):
            continue
        for i, level in enumerate(r.cut.labels):
            rows.append(
                {
                    "family": r.cut.family,
                    "label": f"{r.cut.family}: {level} (n = {r.n[i]})",
                    "estimate": r.hazard_ratios[i],
                    "ci_low": r.ci[i][0],
                    "ci_high": r.ci[i][1],
                    "interaction_p": r.wald_p,
                }
            )
    return pd.DataFrame(rows)


def interaction_forest(rows: pd.DataFrame) -> Figure:
    """The forest plot with each row's HR (95% CI) and its family's interaction P at the right."""
    fig = figures.forest_plot(rows, reference=1.0)
    ax = fig.axes[0]
    y = np.arange(len(rows))[::-1]
    shown: set[str] = set()
    for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
        text = _hr_text(r["estimate"], r["ci_low"], r["ci_high"])
        ax.annotate(text, (1.02, yi), xycoords=("axes fraction", "data"), va="center", fontsize=8)
        if np.isfinite(r["interaction_p"]) and r["family"] not in shown:
            shown.add(r["family"])
            ax.annotate(
                f"interaction {fmt_p(r['interaction_p'])}",
                (1.02, yi - 0.5),
                xycoords=("axes fraction", "data"),
                va="center",
                fontsize=8,
                style="italic",
            )
    fig.set_size_inches(9.0, fig.get_size_inches()[1])
    fig.alt_text = (
        fig.alt_text.rstrip(".")
        + "; interaction P values: "
        + "; ".join(
            f"{fam} {fmt_p(p)}"
            for fam, p in rows.dropna(subset=["interaction_p"])
            .drop_duplicates("family")[["family", "interaction_p"]]
            .itertuples(index=False)
        )
        + "."
    )
    return fig


def interaction_table(results: Sequence[InteractionResult | Exception]) -> pd.DataFrame:
    """Per split: levels, patients and events, HR (95% CI) per level, ratio of HRs, both Ps."""
    rows = []
    for r in results:
        if isinstance(r, Exception):
            rows.append({"Split": str(r)})
            continue
        rows.append(
            {
                "Split": r.cut.family,
                "Cut point (provenance)": f"{r.cut.labels[0]} vs {r.cut.labels[1]} "
                f"({r.cut.provenance})",
                "Patients (events)": f"{r.n[0]} ({r.events[0]}) / {r.n[1]} ({r.events[1]})",
                "HR, first level": _hr_text(r.hazard_ratios[0], *r.ci[0]),
                "HR, second level": _hr_text(r.hazard_ratios[1], *r.ci[1]),
                "Ratio of HRs": f"{r.ratio_of_hazard_ratios:.2f}",
                "Interaction P (Wald)": fmt_p(r.wald_p),
                "Interaction P (LR)": fmt_p(r.lr_p),
            }
        )
    return pd.DataFrame(rows).set_index("Split")


# ---- multiplicity


def _p_bracket(low: float, high: float) -> str:
    if np.isclose(low, high):
        return _bare(high)
    if low <= 0:
        return f"at most {fmt_p(high).removeprefix('P = ').removeprefix('P ')}"
    return f"{_bare(low)} to {_bare(high)}"


def _bare(p: float) -> str:
    if p >= 1:
        return "1"
    text = fmt_p(p)
    return text.removeprefix("P = ").removeprefix("P ")


def holm_table(table: pd.DataFrame) -> pd.DataFrame:
    """The abstract's tests: printed P, what enters Holm, the Holm bracket, and the reproduced."""
    out = pd.DataFrame(
        {
            "Test": table["endpoint"].map(lambda e: e[:1].upper() + e[1:])
            + " (week "
            + table["timepoint_weeks"].astype(str)
            + ")",
            "Printed": table["reported_as"],
            "Enters Holm as": [
                _p_bracket(lo, hi) for lo, hi in zip(table["p_low"], table["p_high"], strict=True)
            ],
            "Holm-adjusted, published": [
                _p_bracket(lo, hi)
                for lo, hi in zip(table["holm_low"], table["holm_high"], strict=True)
            ],
            "Reproduced P": [fmt_p(p) for p in table["reproduced_p"]],
            "Holm-adjusted, reproduced": [fmt_p(p) for p in table["reproduced_holm"]],
            "Below .05 after Holm (published)": [
                "yes" if hi < 0.05 else ("no" if lo >= 0.05 else "undecided")
                for lo, hi in zip(table["holm_low"], table["holm_high"], strict=True)
            ],
        }
    )
    return out.set_index("Test")


# ---- estimands


def sap_display(entries: Sequence[SapEstimand]) -> pd.DataFrame:
    table = sap_table(list(entries)).drop(columns="claim")
    table.columns = [
        "Claim",
        "Population",
        "Variable",
        "Intercurrent events (ICH E9(R1) strategy)",
        "Missing data",
        "Summary measure",
        "Test",
    ]
    return table.set_index("Claim")


def change_estimands_table(reproducer: Reproducer, resamples: int, seed: int) -> pd.DataFrame:
    """Week-96 CD4 change under each reading and the IPCW hypothetical one, on one scale."""
    week = reproducer.design.primary_week
    rows = []
    for reading in READINGS:
        change = marker_change(reproducer.dataset, "CD4", week, reading)
        medians = change.table.set_index("group")
        values = visit_values(
            reproducer.dataset.adsl, reproducer.dataset.adlb, "CD4", week, reading=reading
        )
        samples = [values.loc[values["group"] == arm, "CHG"].to_numpy(float) for arm in ARMS]
        diff, low, high = median_difference_ci(*samples, resamples=resamples, seed=seed)
        rows.append(
            {
                "Reading": READING_WORDS[reading],
                "Strategy (ICH E9(R1))": CHANGE_STRATEGIES[reading].strategy,
                **{f"{arm}: estimate (n)": _median_n(medians, arm) for arm in ARMS},
                "Summary": "difference in medians (bootstrap CI)",
                "Difference (95% CI)": f"{diff:+.0f} ({low:+.0f} to {high:+.0f})",
            }
        )
    hyp = reproducer.cd4_hypothetical
    t = hyp.table.set_index("group")
    rows.append(
        {
            "Reading": "IPCW (hypothetical)",
            "Strategy (ICH E9(R1))": "hypothetical: inverse probability of censoring weights",
            **{
                f"{arm}: estimate (n)": f"{t.at[arm, 'median']:+.0f} ({t.at[arm, 'n_analysed']})"
                for arm in ARMS
            },
            "Summary": "difference in weighted medians (bootstrap CI)",
            "Difference (95% CI)": f"{hyp.difference:+.0f} "
            f"({hyp.diff_ci[0]:+.0f} to {hyp.diff_ci[1]:+.0f})",
        }
    )
    mm = reproducer.cd4_mixed_model
    rows.append(
        {
            "Reading": "mixed model (hypothetical)",
            "Strategy (ICH E9(R1))": "hypothetical: mixed model of the pre-ART values",
            **{
                f"{arm}: estimate (n)": f"mean {mm.means[arm]:+.0f} (all with a value)"
                for arm in ARMS
            },
            "Summary": "difference in model means (Wald CI)",
            "Difference (95% CI)": f"{mm.difference:+.0f} "
            f"({mm.diff_ci[0]:+.0f} to {mm.diff_ci[1]:+.0f})",
        }
    )
    return pd.DataFrame(rows).set_index("Reading")


def _median_n(medians: pd.DataFrame, arm: str) -> str:
    return f"{medians.at[arm, 'median']:+.0f} ({int(medians.at[arm, 'n'])})"


def weights_table(reproducer: Reproducer) -> pd.DataFrame:
    """The stabilized weights by arm: patients weighted, range and mean."""
    t = reproducer.cd4_hypothetical.table.set_index("group")
    return pd.DataFrame(
        {
            "Randomized": t["n_randomized"].astype(int),
            "Off ART with a week-96 value": t["n_analysed"].astype(int),
            "Weight, min to max": [
                f"{a:.2f} to {b:.2f}" for a, b in zip(t["weight_min"], t["weight_max"], strict=True)
            ],
            "Weight, mean": [f"{m:.2f}" for m in t["weight_mean"]],
        },
        index=pd.Index(t.index, name="Arm"),
    )


# ---- competing risks and deferral


def _weeks(value: float) -> str:
    if np.isposinf(value):
        return "not reached"
    if np.isneginf(value):
        return "open"
    return f"{value:.0f}"


def _interval(low: float, high: float) -> str:
    low_text, high_text = _weeks(low), _weeks(high)
    if low_text == high_text == "not reached":
        return "not reached in any resample"
    return f"{low_text} to {high_text}"


def deferral_table(readings: Sequence[DeferralReading], horizon: float) -> pd.DataFrame:
    """Each reading per arm and the difference (IL-2 minus Control), with bootstrap 95% CIs.

    When the first arm's quantile is not reached by the horizon and the second arm's is, the
    difference is only known to exceed the horizon minus the second arm's value.
    """
    rows = []
    for r in readings:
        arms = list(r.by_arm)
        row = {"Reading": r.label}
        for arm in arms:
            row[f"{arm}, weeks (95% CI)"] = f"{_weeks(r.by_arm[arm])} ({_interval(*r.arm_ci[arm])})"
        diff = "not estimable" if np.isnan(r.difference) else _weeks(r.difference)
        if np.isposinf(r.difference):
            other = r.by_arm[arms[1]]
            diff = f"more than {horizon - other:.0f} ({arms[0]} not reached)"
        row["Difference, weeks (95% CI)"] = f"{diff} ({_interval(*r.diff_ci)})"
        rows.append(row)
    return pd.DataFrame(rows).set_index("Reading")


def cumulative_incidence_plot(result: CumulativeIncidenceResult) -> Figure:
    """Aalen-Johansen cumulative incidence of ART by arm (solid), and of death before ART."""
    colours = figures.colours_for(result.groups)
    fig = figures.BookFigure(figsize=(7.5, 4.2), layout="constrained")
    fig.set_facecolor("white")
    ax = fig.add_subplot()
    parts = []
    for g, n in zip(result.groups, result.n, strict=True):
        r = result.table[result.table["group"] == g]
        t = np.append(r["time"].to_numpy(), result.horizon)
        cif = np.append(r[f"cif_{ART}"].to_numpy(), r[f"cif_{ART}"].iloc[-1])
        ax.step(t, cif, where="post", color=colours[g], lw=2, label=f"{g}: ART (n={n})")
        parts.append(f"{g} {100 * cif[-1]:.0f}% on ART by week {result.horizon:g}")
        if DEATH in result.causes:
            dead = np.append(r[f"cif_{DEATH}"].to_numpy(), r[f"cif_{DEATH}"].iloc[-1])
            if dead[-1] > 0:
                ax.step(
                    t,
                    dead,
                    where="post",
                    color=colours[g],
                    lw=1.5,
                    ls="--",
                    label=f"{g}: death before ART",
                )
    ax.set_xlim(0, result.horizon * 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Weeks since randomization")
    ax.set_ylabel("Cumulative incidence")
    ax.legend(loc="upper left")
    fig.alt_text = (
        "Aalen-Johansen cumulative incidence of ART initiation by arm in the low viral load "
        f"subgroup up to week {result.horizon:g}, death before ART as a competing event: "
        + "; ".join(parts)
        + "."
    )
    return fig


def interaction_sentence(
    result: InteractionResult, alpha: float = 0.05, synthetic: bool = False
) -> str:
    """What the interaction test says, in words that follow the P value (not fixed in advance).

    On the synthetic trial the number describes the reconstruction, not patients: the sentence
    says so and what the model behind it assumes, instead of reading it as a finding.
    """
    p = fmt_p(result.wald_p)
    lo, hi = result.cut.labels
    hrs = f"{result.hazard_ratios[0]:.2f} ({lo}) and {result.hazard_ratios[1]:.2f} ({hi})"
    if synthetic:
        return (
            f"the hazard ratios are {hrs} (interaction {p}), but on this synthetic trial they come "
            "from the reconstruction, not from patients: the model that drew its patients gives "
            "IL-2 the same CD4 gain whatever the baseline viral load, and the trial (like every "
            "trial of its ensemble) was selected to print the subgroup's published percentages: "
            "the contrast between the levels reflects that selection and the levels' different "
            "risks, not an effect built into the model, and it is not evidence of effect "
            "modification in the real trial"
        )
    if result.wald_p < alpha:
        return (
            f"the hazard ratios, {hrs}, differ more than chance alone would easily explain "
            f"(interaction {p}): the data point to effect modification by baseline viral load"
        )
    return (
        f"the hazard ratios, {hrs}, do not differ beyond chance (interaction {p}): the data give "
        "no evidence that IL-2 works differently by baseline viral load, and a large contrast "
        "within the subgroup is what a common effect produces at that subgroup's control-arm "
        "risk over the longer horizon; it is not evidence of effect modification"
    )


def subgroup_values(reproducer: Reproducer) -> dict[str, str | int]:
    """Strings the subgroup chapter glues: interaction, deaths, the old reading, Holm."""
    from anrs119.analysis.subgroups import cox_interaction
    from anrs119.reproduce import DEFERRAL_RESAMPLES

    d = reproducer.dataset
    vl = reproducer.interactions[0]
    old_difference, old_by_arm = reproducer.deferral()
    if isinstance(vl, Exception):  # e.g. a level without events in another dataset
        interaction = {
            "vl_reading": f"the interaction cannot be estimated ({vl})",
            "vl_interaction_lr": "not computed",
            "vl_interaction_common": "not computed",
        }
    else:
        common = cox_interaction(d.adsl, d.adtte, "PRIMARY", vl.cut, stratify=False)
        interaction = {
            "vl_reading": interaction_sentence(vl, synthetic=d.is_synthetic),
            "vl_interaction_lr": fmt_p(vl.lr_p),
            "vl_interaction_common": fmt_p(common.wald_p),
        }
    holm = holm_table(reproducer.multiplicity())
    lowvl_row = list(reproducer.multiplicity()["id"]).index("lowvl_free_w150_p")
    return {
        **interaction,
        "deaths_sentence": _deaths_sentence(
            int((reproducer.art_competing["cause"] == DEATH).sum()), reproducer.design.subgroup_week
        ),
        "old_reading": _old_reading_sentence(old_by_arm[ARMS[0]], reproducer.design.subgroup_week),
        "resamples": f"{DEFERRAL_RESAMPLES:,}",
        "old_il2": _weeks(old_by_arm[ARMS[0]]),
        "old_control": _weeks(old_by_arm[ARMS[1]]),
        "old_difference": _weeks(old_difference),
        "n_tests": len(holm),
        "lowvl_holm": str(holm.iloc[lowvl_row]["Holm-adjusted, published"]),
    }


def hypothetical_values(reproducer: Reproducer) -> dict[str, str | int]:
    """Strings the markers chapter glues for the IPCW reading and the off-ART counts."""
    from anrs119.analysis.hypothetical import GUIDELINE_CD4, GUIDELINE_VL
    from anrs119.reproduce import IPCW_RESAMPLES

    hyp = reproducer.cd4_hypothetical
    t = hyp.table.set_index("group")
    out: dict[str, str | int] = {
        "ipcw_diff": f"{hyp.difference:+.0f}",
        "ipcw_ci": f"{hyp.diff_ci[0]:+.0f} to {hyp.diff_ci[1]:+.0f}",
        "ipcw_resamples": f"{IPCW_RESAMPLES:,}",
        "ipcw_failed": hyp.failed_resamples,
        "mm_diff": f"{reproducer.cd4_mixed_model.difference:+.0f}",
        "mm_ci": "{:+.0f} to {:+.0f}".format(*reproducer.cd4_mixed_model.diff_ci),
        "mm_patients": reproducer.cd4_mixed_model.n_patients,
        "ipcw_guideline_cd4": f"{GUIDELINE_CD4:.0f}",
        "ipcw_guideline_vl": f"{10**GUIDELINE_VL:,.0f}",
    }
    for arm, key in zip(ARMS, ("il2", "control"), strict=True):
        out[f"ipcw_{key}"] = f"{t.at[arm, 'median']:+.0f}"
        out[f"off_art_{key}"] = int(t.at[arm, "n_analysed"])
        out[f"randomized_{key}"] = int(t.at[arm, "n_randomized"])
    return out


def multiplicity_values(table: pd.DataFrame) -> dict[str, str | int]:
    """Counts and the plain-words result of the Holm table for the estimands chapter."""
    holm = holm_table(table)
    survive = holm.index[holm["Below .05 after Holm (published)"] == "yes"].tolist()
    significant = table["p_high"] < 0.05
    return {
        "n_tests": len(table),
        "n_pvalues": int((table["bound"] != ">=").sum()),
        "n_similar": int((table["bound"] == ">=").sum()),
        "n_significant": int(significant.sum()),
        "n_survive": len(survive),
        "survivors": "; ".join(survive) or "none",
    }


def shown(table: pd.DataFrame):  # -> pandas Styler
    """The table for the page, with every cell's full text (a DataFrame's HTML cuts at 50)."""
    # The Styler writes cells as raw HTML: escape them, or "P < .001" loses its "< .001".
    return (
        table.style.format(escape="html")
        .format_index(escape="html", axis=0)
        .format_index(escape="html", axis=1)
        .set_properties(**{"text-align": "left", "vertical-align": "top"})
    )


def _deaths_sentence(deaths: int, week: int) -> str:
    if deaths == 0:
        return (
            f"In this subgroup no patient died before ART by week {week}, so the two estimates "
            "coincide here; on other data they need not"
        )
    return (
        f"In this subgroup {deaths} patient{'s' if deaths > 1 else ''} died before ART by week "
        f"{week}, so the Aalen-Johansen incidence of ART lies below one minus the Kaplan-Meier "
        "curve"
    )


def _old_reading_sentence(il2_value: float, week: int) -> str:
    if np.isfinite(il2_value) and il2_value > week:
        return (
            f"The IL-2 value lies beyond week {week}, so that reading rests on data the paper's "
            "horizon excludes, and the truncated table above is the one to believe"
        )
    if not np.isfinite(il2_value):
        return "Even on all follow-up the IL-2 value is not reached"
    return f"Both values lie within week {week}, so it agrees with the truncated reading"
