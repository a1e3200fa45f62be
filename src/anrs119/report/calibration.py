"""The calibration page's figure, table and numbers: simulation-based calibration of the
posterior method (``data/model/sbc.csv``, computed by :mod:`anrs119.model.checks.sbc`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from anrs119.model.checks import sbc
from anrs119.report.figures import OKABE_ITO, BookFigure
from anrs119.report.model_tables import SHORT_PARAMETER_NAMES
from anrs119.report.tables import BookTable

SET_LABELS: dict[str, str] = {
    sbc.PRIOR_SET: "drawn from the prior",
    sbc.NEAR_SET: "near the published abstract",
    sbc.TAIL_SET: "as isolated as the published abstract",
}
SET_SHORT: dict[str, str] = {
    sbc.PRIOR_SET: "From the prior",
    sbc.NEAR_SET: "Near",
    sbc.TAIL_SET: "Isolated",
}
SET_COLOURS: dict[str, str] = {
    sbc.PRIOR_SET: OKABE_ITO["black"],
    sbc.NEAR_SET: OKABE_ITO["bluish_green"],
    sbc.TAIL_SET: OKABE_ITO["reddish_purple"],
}
INFORMED_BELOW: float = 0.8
"""A parameter is 'informed' by abstracts of a set when its posterior SD is typically (median
over replicates) below this share of the prior SD."""


def _sets(frame: pd.DataFrame) -> list[str]:
    return [s for s in sbc.SETS if s in set(frame["set"])]


def rank_figure(frame: pd.DataFrame) -> BookFigure:
    """One panel per parameter: the share of replicates per rank bin, one line per set, and
    the band within which 99% of bins fall when ranks are uniform (for the smallest set)."""
    hist = sbc.rank_histogram(frame)
    params = list(dict.fromkeys(frame["parameter"]))
    sets = _sets(frame)
    n_min = int(frame.groupby("set")["replicate"].nunique().min())
    bins = int(hist["bin"].max()) + 1
    lo, hi = stats.binom.ppf([0.005, 0.995], n_min, 1 / bins) / n_min
    cols = 4
    rows = int(np.ceil(len(params) / cols))
    fig = BookFigure(figsize=(10.0, 2.0 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True).ravel()
    for ax, name in zip(axes, params, strict=False):
        ax.axhspan(lo, hi, color="0.9", zorder=0)
        ax.axhline(1 / bins, color="0.6", lw=0.8)
        for s in sets:
            h = hist[(hist["set"] == s) & (hist["parameter"] == name)].sort_values("bin")
            share = h["count"].to_numpy() / h["count"].sum()
            ax.step(np.arange(bins + 1), np.r_[share, share[-1]], where="post",
                    color=SET_COLOURS[s], lw=1.2, label=SET_LABELS[s])  # fmt: skip
        ax.set_title(SHORT_PARAMETER_NAMES.get(name, name), fontsize="small")
        ax.set_xticks([0, bins / 2, bins], ["0", "50%", "100%"])
        ax.tick_params(labelsize="x-small")
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    fig.supxlabel("rank of the true value among the posterior draws (share of its range)",
                  fontsize="small")  # fmt: skip
    fig.supylabel("share of replicates", fontsize="small")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=3, fontsize="small")
    fig.alt_text = (
        f"{len(params)} panels, one per free parameter, each with {len(sets)} step lines: the "
        f"share of simulated abstracts whose true parameter value falls in each of {bins} rank "
        "bins among the posterior's draws, for abstracts drawn from the prior, near the "
        "published abstract and as isolated as it. A grey band marks where 99% of bins fall "
        "when the method is calibrated (flat ranks)."
    )
    return fig


def _pct(x: float) -> str:
    return f"{100 * x:.0f}"


def pooled_table(frame: pd.DataFrame) -> BookTable:
    """Per set of abstracts: the coverage of each interval averaged over the parameters, and
    the tests that reject (Holm within the set)."""
    cov, uni = sbc.coverage(frame), sbc.uniformity(frame)
    reps = frame.groupby("set")["replicate"].nunique()
    rows, flags = [], []
    for s in _sets(frame):
        c, u = cov[cov["set"] == s], uni[uni["set"] == s]
        row = {"Abstracts": SET_LABELS[s], "Number": f"{reps[s]:,}"}
        for lv in sbc.LEVELS:
            row[f"{round(100 * lv)}% intervals, %"] = _pct(
                c.loc[c["level"] == lv, "coverage"].mean()
            )
        row["Rank tests rejected"] = f"{int(u['rejected'].sum())} of {len(u)}"
        row["Coverage tests rejected"] = f"{int(c['rejected'].sum())} of {len(c)}"
        rows.append(row)
        flags.append(
            {k: False for k in row}
            | {
                "Rank tests rejected": bool(u["rejected"].any()),
                "Coverage tests rejected": bool(c["rejected"].any()),
            }
        )
    return BookTable(
        pd.DataFrame(rows),
        caption="How often the posterior's central intervals held the true value, averaged over "
        "the parameters, for each set of simulated abstracts, and how many of the per-parameter "
        "tests reject a calibrated method (5% level, Holm's correction within the set). "
        "Highlighted: a rejection.",
        name="tbl-calibration-pooled",
        flags=pd.DataFrame(flags),
    )


def calibration_table(frame: pd.DataFrame) -> BookTable:
    """Per parameter and set: the coverage of the 90% interval (highlighted where any of the
    coverage tests rejects), the P value of uniform ranks (highlighted where it is rejected);
    and the typical posterior SD over the prior SD near the published abstract."""
    cov = sbc.coverage(frame)
    uni = sbc.uniformity(frame)
    con = sbc.contraction(frame).set_index(["set", "parameter"])["sd_ratio"]
    sets = _sets(frame)
    rows, flags = [], []
    for name in dict.fromkeys(frame["parameter"]):
        row = {"Parameter": SHORT_PARAMETER_NAMES.get(name, name)}
        flag = {"Parameter": False}
        for s in sets:
            c = cov[(cov["set"] == s) & (cov["parameter"] == name)]
            key = f"90% held, {SET_SHORT[s].lower()}"
            row[key] = _pct(c.loc[c["level"] == 0.9, "coverage"].iloc[0])
            flag[key] = bool(c["rejected"].any())
        for s in sets:
            u = uni[(uni["set"] == s) & (uni["parameter"] == name)].iloc[0]
            key = f"Ranks flat P, {SET_SHORT[s].lower()}"
            row[key] = f"{u['p_value']:.2f}"
            flag[key] = bool(u["rejected"])
        row["SD ratio near the published"] = f"{con[(sbc.NEAR_SET, name)]:.2f}"
        flag["SD ratio near the published"] = False
        rows.append(row)
        flags.append(flag)
    return BookTable(
        pd.DataFrame(rows),
        caption="Calibration per parameter: the percentage of simulated abstracts whose central "
        "90% posterior interval held the true value (highlighted where the test of the 50%, 90% "
        "or 95% interval rejects), and the P value of the test that the true value's rank among "
        "the posterior draws is uniform (highlighted where rejected), each after Holm's "
        "correction within the set. Last column: the posterior SD over the prior SD (median over "
        "the abstracts near the published one; 1 = such abstracts say nothing about the "
        "parameter). The 50% and 95% coverages are in data/model/sbc.csv.",
        name="tbl-calibration-coverage",
        flags=pd.DataFrame(flags),
    )


def _listed(items: list[str]) -> str:
    """Items in words, separated by semicolons (names may hold commas)."""
    if not items:
        return "none"
    return items[0] if len(items) == 1 else "; ".join(items[:-1]) + "; and " + items[-1]


def calibration_numbers(frame: pd.DataFrame, method: dict) -> dict[str, str]:
    """Numbers of the calibration page's prose (all of kind 'model')."""
    cov = sbc.coverage(frame)
    uni = sbc.uniformity(frame)
    con = sbc.contraction(frame)
    reps = frame.groupby("set")["replicate"].nunique()
    bw = frame.groupby(["set", "replicate"])["bandwidth"].first()
    published = float(method["published_bandwidth"])
    out: dict[str, str] = {
        "sbc_trials": f"{method['reference_trials']:,}",
        "sbc_accepted": f"{method['accepted']:,}",
        "sbc_draws": str(method["draws"]),
        "sbc_ranks": str(method["draws"] + 1),
        "sbc_bins": str(method["bins"]),
        "sbc_screen": f"{method['tail_screen']['trials']:,}",
        "sbc_screen_on": f"{method['tail_screen']['screened_on']:,}",
        "sbc_bw_published": f"{published:.2f}",
        "sbc_n_params": str(frame["parameter"].nunique()),
        "sbc_tests": str(frame["parameter"].nunique() * len(sbc.LEVELS)),
    }
    for s in _sets(frame):
        c = cov[cov["set"] == s]
        u = uni[uni["set"] == s]
        out[f"sbc_reps_{s}"] = f"{reps[s]:,}"
        for lv in sbc.LEVELS:
            out[f"sbc_cov{round(100 * lv)}_{s}"] = _pct(c.loc[c["level"] == lv, "coverage"].mean())
        out[f"sbc_se90_{s}"] = f"{100 * np.sqrt(0.9 * 0.1 / reps[s]):.1f}"
        bad_u = [SHORT_PARAMETER_NAMES.get(p, p) for p in u.loc[u["rejected"], "parameter"]]
        bad_c = sorted({SHORT_PARAMETER_NAMES.get(p, p) for p in c.loc[c["rejected"], "parameter"]})
        out[f"sbc_unif_rejected_{s}"] = _listed(bad_u)
        out[f"sbc_cov_rejected_{s}"] = _listed(bad_c)
        details = []
        for name in dict.fromkeys(c.loc[c["rejected"], "parameter"]):
            levels = c[c["parameter"] == name].sort_values("level")
            details.append(
                f"{SHORT_PARAMETER_NAMES.get(name, name)} (its 50%, 90% and 95% intervals held "
                f"the truth in {', '.join(_pct(v) for v in levels['coverage'])}% of abstracts)"
            )
        out[f"sbc_cov_detail_{s}"] = _listed(details)
        out[f"sbc_where_{s}"] = (
            "the method stays calibrated: no rank or coverage test rejects"
            if not (bad_u or details)
            else "the method stays calibrated except for "
            + _listed(details + [f"the rank test of {b}" for b in bad_u])
        )
        b = bw.loc[s].to_numpy()
        out[f"sbc_bw_{s}"] = f"{np.median(b):.2f}"
        out[f"sbc_bw_wider_{s}"] = f"{100 * np.mean(b >= published):.0f}%"
        informed = con[(con["set"] == s) & (con["sd_ratio"] < INFORMED_BELOW)]
        out[f"sbc_informed_{s}"] = _listed(
            [SHORT_PARAMETER_NAMES.get(p, p) for p in informed["parameter"]]
        )
        out[f"sbc_n_informed_{s}"] = str(len(informed))
    out["sbc_informed_below"] = f"{INFORMED_BELOW:g}"
    n_u, n_c = int(uni["rejected"].sum()), int(cov["rejected"].sum())
    where = sorted({SET_LABELS[s] for s in cov.loc[cov["rejected"], "set"]} |
                   {SET_LABELS[s] for s in uni.loc[uni["rejected"], "set"]})  # fmt: skip
    out["sbc_verdict"] = (
        "no rank test and no coverage test rejects the method in any set"
        if not (n_u or n_c)
        else f"{n_u} of {len(uni)} rank tests and {n_c} of {len(cov)} coverage tests reject "
        f"the method, among the abstracts {_listed(where)}"
    )
    ctrl = method["control"]
    out["sbc_ctrl_share"] = f"{100 * ctrl['shrink']:.0f}%"
    out["sbc_ctrl_cov90"] = _pct(ctrl["coverage"]["0.9"])
    out["sbc_ctrl_cov50"] = _pct(ctrl["coverage"]["0.5"])
    out["sbc_ctrl_unif"] = f"{ctrl['uniformity_rejected']} of {ctrl['parameters']}"
    return out
