"""Display tables for the results chapters, built from the analysis results (no new statistics).

Each function turns tested analysis output into the table a CONSORT-style report shows, with
numbers formatted at the edge. The chapters call these and glue what the prose needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from anrs119 import ARMS
from anrs119.analysis.endpoints import ProportionsResult, TwoByTwoResult, compare_proportions
from anrs119.analysis.longitudinal import READINGS, ChangeResult, visit_values
from anrs119.analysis.survival import (
    CoxResult,
    KaplanMeierResult,
    cox_hazard_ratio,
    restricted_mean,
)
from anrs119.data import Dataset
from anrs119.design import TrialDesign
from anrs119.report.text import fmt_p
from anrs119.reproduce import READING_WORDS, Reproducer, marker_change


def _ci(estimate: float, low: float, high: float, decimals: int = 0, scale: float = 1.0) -> str:
    if np.isnan(estimate):
        return "not estimable"
    fmt = f"{{:.{decimals}f}}"
    low_text = fmt.format(scale * low) if not np.isnan(low) else "NE"
    high_text = fmt.format(scale * high) if not np.isnan(high) else "NE"
    return f"{fmt.format(scale * estimate)} ({low_text} to {high_text})"


def proportions_table(result: ProportionsResult) -> pd.DataFrame:
    """Events by the week, crude and Kaplan-Meier percentages with 95% CIs, by arm."""
    t = result.table
    week = f"{result.week:g}"
    return pd.DataFrame(
        {
            "Patients": t["n"].to_numpy(),
            f"Events by week {week}": t["events"].to_numpy(),
            f"Follow-up ended event-free before week {week}": t["censored_before"].to_numpy(),
            "Crude %, events / randomized (95% CI)": [
                _ci(r.crude, r.crude_ci_low, r.crude_ci_high, 1, 100) for r in t.itertuples()
            ],
            "Kaplan-Meier % (95% CI)": [
                _ci(r.km, r.km_ci_low, r.km_ci_high, 1, 100) for r in t.itertuples()
            ],
        },
        index=pd.Index(t["group"], name="Arm"),
    )


def tests_table(test: TwoByTwoResult, chosen: str) -> pd.DataFrame:
    """The candidate tests of a 2x2 comparison, the one matched to the paper marked."""
    rows = [
        ("chi2", "Pearson chi-square", test.chi2, test.chi2_p),
        ("chi2_yates", "Chi-square with Yates' correction", test.chi2_yates, test.chi2_yates_p),
        ("fisher", "Fisher's exact test (two-sided)", float("nan"), test.fisher_p),
    ]
    return pd.DataFrame(
        {
            "Test": [label for _, label, _, _ in rows],
            "Statistic": ["" if np.isnan(s) else f"{s:.2f}" for _, _, s, _ in rows],
            "P": [fmt_p(p) for _, _, _, p in rows],
            "Used for the scorecard": ["yes" if key == chosen else "" for key, *_ in rows],
        }
    ).set_index("Test")


def first_component_table(dataset: Dataset, week: int) -> pd.DataFrame:
    """Which component of the composite came first, among patients with the end point by week."""
    tte = dataset.adtte[dataset.adtte["PARAMCD"] == "PRIMARY"].merge(
        dataset.adsl[["USUBJID", "ARM"]], on="USUBJID"
    )
    events = tte[(tte["CNSR"] == 0) & (tte["AVAL"] <= week)]
    table = pd.crosstab(events["EVNTDESC"], events["ARM"]).reindex(columns=list(ARMS), fill_value=0)
    table.index.name = f"First event (by week {week})"
    table.columns.name = None
    table.loc["Total"] = table.sum()
    return table


def censored_at(dataset: Dataset, paramcd: str, week: float) -> pd.DataFrame:
    """ADTTE with one end point's follow-up cut at ``week`` (administrative censoring): the
    reading the paper's week-96 comparison and the reconstruction ensemble use."""
    tte = dataset.adtte.copy()
    later = (tte["PARAMCD"] == paramcd) & (tte["AVAL"] > week)
    tte.loc[later, "AVAL"] = float(week)
    tte.loc[later, "CNSR"] = 1
    return tte


def cox_through(dataset: Dataset, paramcd: str, week: float) -> CoxResult:
    """The Cox hazard ratio (IL-2 vs control) with follow-up cut at ``week``."""
    return cox_hazard_ratio(dataset.adsl, censored_at(dataset, paramcd, week), paramcd)


def cox_text(cox: CoxResult) -> str:
    return (
        f"{cox.hazard_ratio:.2f} (95% CI {cox.ci_low:.2f} to {cox.ci_high:.2f}; "
        f"{fmt_p(cox.p_value)})"
    )


def registered_outcome(dataset: Dataset, design: TrialDesign) -> tuple[pd.DataFrame, float]:
    """The registered primary outcome: CD4 below the threshold at the week-96 visit.

    Read at that one visit among patients with a week-96 count, whatever their treatment then
    (the registry does not say how ART starters count). Returns the table and the Fisher P.
    """
    values = visit_values(
        dataset.adsl, dataset.adlb, "CD4", design.registered_primary_week, reading="observed"
    )
    below = values["AVAL"] < design.registered_primary_cd4
    events = [int(below[values["group"] == arm].sum()) for arm in ARMS]
    totals = [int((values["group"] == arm).sum()) for arm in ARMS]
    test = compare_proportions(events, totals, groups=ARMS)
    table = pd.DataFrame(
        {
            "Patients with a week-96 CD4 count": totals,
            "CD4 below the threshold at week 96": events,
            "%": [f"{100 * e / n:.1f}" if n else "" for e, n in zip(events, totals, strict=True)],
        },
        index=pd.Index(ARMS, name="Arm"),
    )
    return table, test.fisher_p


def change_readings_table(dataset: Dataset, paramcd: str, week: int, decimals: int) -> pd.DataFrame:
    """Median change at ``week`` under each reading of how ART starters count, side by side."""
    rows = []
    for reading in READINGS:
        change = marker_change(dataset, paramcd, week, reading)
        medians = change.table.set_index("group")
        row = {"Reading": READING_WORDS[reading]}
        for arm in ARMS:
            r = medians.loc[arm]
            row[f"{arm}: n"] = int(r["n"])
            row[f"{arm}: median (IQR)"] = (
                f"{r['median']:+.{decimals}f} ({r['q1']:+.{decimals}f} to {r['q3']:+.{decimals}f})"
            )
        row["Wilcoxon P"] = fmt_p(change.wilcoxon_p)
        row["HL shift, IL-2 minus Control (95% CI)"] = _ci(
            change.hl_shift, change.hl_ci_low, change.hl_ci_high, decimals
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("Reading")


def readings_legend():  # -> IPython Markdown
    """What each reading of "change at week 96" counts, as a definition list."""
    from IPython.display import Markdown

    return Markdown(
        "\n\n".join(f"{READING_WORDS[name]}\n: {text}" for name, text in READINGS.items())
    )


def change_summary(change: ChangeResult, decimals: int) -> dict[str, str]:
    """Strings to glue for one marker's headline change."""
    medians = change.table.set_index("group")
    out = {}
    for arm, key in zip(ARMS, ("il2", "control"), strict=True):
        out[f"median_{key}"] = f"{medians.at[arm, 'median']:+.{decimals}f}"
        out[f"n_{key}"] = str(int(medians.at[arm, "n"]))
    out["p"] = fmt_p(change.wilcoxon_p)
    out["hl"] = _ci(change.hl_shift, change.hl_ci_low, change.hl_ci_high, decimals)
    return out


def deferral_readings(reproducer: Reproducer, tau: float) -> pd.DataFrame:
    """IL-2 minus Control in time to ART, low-VL subgroup, under each reading of "deferred by"."""
    km = reproducer.subgroup.km_art
    rows = []
    for label, q in (("25th percentile", 0.25), ("median", 0.5)):
        by_arm = {arm: km.quantile(arm, q)[0] for arm in ARMS}
        rows.append(
            {
                "Reading": f"difference in the {label} of time to ART",
                "IL-2": _weeks(by_arm[ARMS[0]]),
                "Control": _weeks(by_arm[ARMS[1]]),
                "Difference, weeks": _weeks(by_arm[ARMS[0]] - by_arm[ARMS[1]]),
            }
        )
    rmst = restricted_mean(km, tau)
    table = rmst.table.set_index("group")
    rows.append(
        {
            "Reading": f"difference in restricted mean time to ART up to week {tau:g}",
            # NaN here is an arm followed for less than tau, never "not reached".
            "IL-2": _weeks(table.at[ARMS[0], "rmst"], "not estimable"),
            "Control": _weeks(table.at[ARMS[1], "rmst"], "not estimable"),
            "Difference, weeks": _ci(rmst.difference, rmst.diff_ci_low, rmst.diff_ci_high, 1),
        }
    )
    return pd.DataFrame(rows).set_index("Reading")


def _weeks(value: float, missing: str = "not reached") -> str:
    return missing if np.isnan(value) or np.isinf(value) else f"{value:.0f}"


def km_summary_at(km: KaplanMeierResult, week: float, survival: bool = True) -> pd.DataFrame:
    """Kaplan-Meier percentage (free of the event, or with it) at ``week`` with CI, by arm."""
    rows = []
    for arm in km.groups:
        s, low, high = km.survival_at(arm, week)
        if not survival:
            s, low, high = 1 - s, 1 - high, 1 - low
        rows.append({"Arm": arm, f"% at week {week:g} (95% CI)": _ci(s, low, high, 1, 100)})
    return pd.DataFrame(rows).set_index("Arm")


Subgroup = tuple[str, str, Callable[[pd.DataFrame], pd.Series]]


def baseline_subgroups(adsl: pd.DataFrame, design: TrialDesign) -> list[Subgroup]:
    """(family, label, mask) for the forest plot; CD4 and age split at their overall medians."""
    cd4_median = float(adsl["BCD4"].median())
    age_median = float(adsl["AGE"].median())
    cut = design.subgroup_vl_cutoff
    return [
        ("All patients", "All", lambda d: d["ARM"].notna()),
        ("Baseline viral load", f"< {cut:g} log10", lambda d: d["BVLLOG"] < cut),
        ("Baseline viral load", f">= {cut:g} log10", lambda d: d["BVLLOG"] >= cut),
        ("Baseline CD4", f"< {cd4_median:.0f} cells/µL", lambda d: d["BCD4"] < cd4_median),
        ("Baseline CD4", f">= {cd4_median:.0f} cells/µL", lambda d: d["BCD4"] >= cd4_median),
        ("Age", f"< {age_median:.0f} years", lambda d: d["AGE"] < age_median),
        ("Age", f">= {age_median:.0f} years", lambda d: d["AGE"] >= age_median),
        ("Sex", "Men", lambda d: d["SEX"] == "M"),
        ("Sex", "Women", lambda d: d["SEX"] == "F"),
    ]


def forest_rows(
    dataset: Dataset, subgroups: Sequence[Subgroup], paramcd: str = "PRIMARY"
) -> pd.DataFrame:
    """Cox hazard ratio (IL-2 vs Control) of ``paramcd`` within each baseline subgroup."""
    rows = []
    for family, label, mask in subgroups:
        adsl = dataset.adsl[mask(dataset.adsl)]
        counts = adsl["ARM"].value_counts()
        name = label if family == label or family == "All patients" else f"{family}: {label}"
        row = {"label": f"{name} (n = {len(adsl)})", "n": len(adsl)}
        if all(counts.get(arm, 0) >= 2 for arm in ARMS):
            cox = cox_hazard_ratio(adsl, dataset.adtte, paramcd)
            row.update(estimate=cox.hazard_ratio, ci_low=cox.ci_low, ci_high=cox.ci_high)
        else:
            row.update(estimate=np.nan, ci_low=np.nan, ci_high=np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def safety_table(reproducer: Reproducer) -> pd.DataFrame:
    """Patients with each safety event by arm, n (%), judged by the book's one rule for "similar":
    the difference with its 95% Newcombe interval and the largest difference not excluded."""
    from anrs119.analysis.safety import compare_incidence

    labels = {
        "safety_aids_similar": "AIDS-defining event",
        "safety_death_similar": "Death",
        "safety_grade34_similar": "Grade 3 or 4 adverse event",
    }
    difference = "Difference, points (95% CI)"
    largest = "Largest difference not excluded"
    rows = []
    for key, label in labels.items():
        result = reproducer.safety[key]
        if isinstance(result, Exception):
            rows.append(
                {
                    "Event": label,
                    **{arm: "not available" for arm in ARMS},
                    difference: "",
                    largest: "",
                    "Difference detected?": "",
                }
            )
            continue
        counts = result.table.set_index("group")
        rule = compare_incidence(result)
        row = {"Event": label}
        for arm in ARMS:
            row[arm] = f"{int(counts.at[arm, 'patients'])} ({counts.at[arm, 'percent']:.0f}%)"
        row[difference] = rule.similarity.short_text().replace(" points (", " (")
        row[largest] = rule.similarity.largest_text(rule.groups)
        row["Difference detected?"] = "yes" if rule.difference_detected else "no"
        rows.append(row)
    return pd.DataFrame(rows).set_index("Event")


def ae_display(dataset: Dataset) -> pd.DataFrame:
    """Patients by system organ class and worst grade, arms in the book's order, for reading."""
    from anrs119.analysis.safety import ae_table

    wide = ae_table(dataset.adsl, dataset.adae).wide()
    arms = [arm for arm in ARMS if arm in wide.columns.get_level_values(0)]
    wide = wide.reindex(columns=arms, level=0).fillna("")
    wide.columns = wide.columns.set_names(["Arm", "Grade"])
    wide.index.name = "System organ class"
    return wide
