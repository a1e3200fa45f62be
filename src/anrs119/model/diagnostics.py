"""Tables and figures of the model chapter: calibration fit, readings, sensitivity, trajectories.

Everything reads the stored files (calibration.json, predictive.csv, provenance.json) or the
embedded ADaM tables; only the sensitivity analyses simulate (one calibration-sized cohort).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from anrs119 import ARMS
from anrs119.model.calibrate import (
    TARGETS,
    Z_TOLERANCE,
    expected_summaries,
    make_cohort,
    read_calibration,
)
from anrs119.model.parameters import COHERE_VL_SLOPE, default_parameters
from anrs119.model.predictive import PREDICTIVE_FILE
from anrs119.model.simulate import (
    ART_CD4_REFERENCE,
    ART_VL_REFERENCE,
    HAZARD_STEP_WEEKS,
    VISIT_EARLY_UNTIL,
    VISIT_INTERVAL_EARLY,
    VISIT_INTERVAL_LATE,
    arm_indicator,
    cycle_weeks,
    follow_up_horizon,
    simulate,
    visit_weeks,
)
from anrs119.model.summaries import claim_summaries
from anrs119.paths import SYNTHETIC_DIR
from anrs119.seeds import CALIBRATION_SEED


def _provenance() -> dict:
    return json.loads((SYNTHETIC_DIR / "provenance.json").read_text(encoding="utf-8"))


def calibration_table() -> pd.DataFrame:
    """Per result claim: published value, model expectation (fitted claims), 95% predictive
    interval over replicate trials, and the embedded trial's value."""
    from anrs119.published import load_claims

    claims = load_claims()
    claims = claims[claims["kind"] == "result"]
    cal = read_calibration()
    pred = pd.read_csv(PREDICTIVE_FILE).set_index("claim_id")
    real = _provenance()["realization"]
    rows = []
    for cid, c in claims.iterrows():
        rows.append(
            {
                "claim_id": cid,
                "published": c["reported_as"],
                "unit": c["unit"] if isinstance(c["unit"], str) else "",
                "claim": float(c["value"]),
                "fitted": cid in TARGETS,
                "expected": float(cal["expected"][cid]) if cid in TARGETS else np.nan,
                "z": float(cal["z"][cid]) if cid in TARGETS else np.nan,
                "pred_q025": float(pred.loc[cid, "q025"]),
                "pred_q50": float(pred.loc[cid, "q50"]),
                "pred_q975": float(pred.loc[cid, "q975"]),
                "embedded": float(real[cid]) if real.get(cid) is not None else np.nan,
            }
        )
    return pd.DataFrame(rows)


READING_LABELS: dict[str, str] = {
    "cd4_change_w96_il2": "CD4 change, IL-2: off ART at week 96 (used)",
    "cd4_change_w96_il2:pre_art_locf": "CD4 change, IL-2: last value before ART",
    "cd4_change_w96_il2:policy": "CD4 change, IL-2: whatever the treatment",
    "cd4_change_w96_control": "CD4 change, control: off ART at week 96 (used)",
    "cd4_change_w96_control:pre_art_locf": "CD4 change, control: last value before ART",
    "cd4_change_w96_control:policy": "CD4 change, control: whatever the treatment",
    "vl_change_w96_control": "VL change, control: off ART at week 96 (used)",
    "vl_change_w96_control:policy": "VL change, control: whatever the treatment",
    "lowvl_art_deferral": "ART deferral: difference in 25th percentiles (used)",
    "lowvl_art_deferral:median": "ART deferral: difference in medians",
    "lowvl_art_deferral:rmst": "ART deferral: RMST difference to week 150",
    "lowvl_art_deferral:exp_median": "ART deferral: exponential fit to week 150, medians",
    "lowvl_free_w150_control": "Low-VL control free at week 150: Kaplan-Meier (used)",
    "lowvl_free_w150_control:crude": "Low-VL control free at week 150: crude",
}


def readings_table() -> pd.DataFrame:
    """The alternative readings of ambiguous claims: model expectation and embedded value."""
    cal = read_calibration()
    exp = {**cal["expected"], **cal["expected_readings"]}
    prov = _provenance()
    real = {**prov["realization"], **prov["realization_readings"]}
    rows = []
    for key, label in READING_LABELS.items():
        claim_id = key.split(":")[0]
        rows.append(
            {
                "reading": label,
                "claim": float(cal["targets"].get(claim_id, np.nan)),
                "expected": float(exp[key]) if exp.get(key) is not None else np.nan,
                "embedded": float(real[key]) if real.get(key) is not None else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _cohort_summaries(p: Mapping[str, float], visits: np.ndarray, n: int, seed: int):
    tr = simulate(p, arm_indicator(n, n), visits, seed, full=False)
    return claim_summaries(tr, p, censor=False, interpolate=True, tests=False)


def confirmation_sensitivity(per_arm: int = 10_000) -> pd.DataFrame:
    """Expected summaries under the confirmed (used) and the single-measurement CD4 rule."""
    base = default_parameters().values()
    cohort = make_cohort(base, per_arm)
    keys = ("primary_w96_il2", "primary_w96_control", "lowvl_free_w150_il2")
    keys = (*keys, "lowvl_free_w150_control")
    rows = []
    for label, flag in (("confirmed at the next visit (used)", 1.0), ("single count", 0.0)):
        e = expected_summaries(dict(base, confirm_cd4=flag), cohort)
        rows.append({"CD4 < 300 rule": label, **{k: e[k] for k in keys}})
    return pd.DataFrame(rows)


def long_horizon_deferral(horizon: float = 400.0, per_arm: int = 10_000) -> dict[str, float]:
    """Latent time-to-ART quantiles in the low-VL subgroup if follow-up ran to ``horizon``
    weeks: a labelled sensitivity reading, the model extrapolated beyond the data (no IL-2
    after week 96); no claim of the scorecard uses it."""
    p = dict(default_parameters().values(), subgroup_week=horizon)
    v = visit_weeks(horizon)
    s = _cohort_summaries(p, v, per_arm, CALIBRATION_SEED)
    return {k: float(s[f"lowvl_art_deferral:{k}"][0]) for k in ("q25", "median", "rmst")}


def calibration_figure(table: pd.DataFrame) -> Figure:
    """Fitted claims on a common scale: (value - claim) / trial-level SD of the summary."""
    from anrs119.report.figures import OKABE_ITO, BookFigure

    cal = read_calibration()
    t = table[table["fitted"]].reset_index(drop=True)
    scale = np.array([cal["scales"][c] for c in t["claim_id"]])
    fig = BookFigure(figsize=(7.5, 4.6), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(t))[::-1]
    lo = (t["pred_q025"] - t["claim"]) / scale
    hi = (t["pred_q975"].replace(np.inf, np.nan) - t["claim"]) / scale
    hi = hi.fillna(4.0)
    ax.hlines(y, lo.clip(-4, 4), hi.clip(-4, 4), color="0.75", lw=6, label="95% predictive")
    ax.plot(t["z"], y, "o", color=OKABE_ITO["blue"], label="model expectation")
    ax.plot(
        (t["embedded"] - t["claim"]) / scale,
        y,
        "D",
        color=OKABE_ITO["vermillion"],
        label="embedded trial",
    )
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(y, t["claim_id"])
    ax.set_xlim(-4, 4)
    ax.set_xlabel("(value - published claim) / trial-level SD")
    fig.legend(loc="outside upper center", ncols=3, fontsize="small")
    fig.alt_text = (
        "For each fitted claim, the model expectation, the embedded trial's value and the 95% "
        "predictive interval of replicate trials, in trial-level standard deviations from the "
        "published value (zero line)."
    )
    return fig


def trajectory_figure(
    adsl: pd.DataFrame, adlb: pd.DataFrame, per_arm: int = 4, threshold: float = 300.0
) -> Figure:
    """CD4 counts of the first ``per_arm`` patients of each arm (by USUBJID) in the embedded
    trial: solid off ART, dotted once on ART; IL-2 cycles marked on the IL-2 panel."""
    from anrs119.report.figures import ARM_COLOURS, BookFigure

    cycles = cycle_weeks(default_parameters().values())
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
    axes[0].set_ylabel("CD4 count (cells/uL)")
    fig.alt_text = (
        f"CD4 counts over time of {per_arm} patients per arm of the synthetic trial; dotted "
        "segments after ART initiation; dashed line at the 300 cells/uL end-point threshold; "
        "vertical lines mark IL-2 cycles."
    )
    return fig


def parameter_table() -> pd.DataFrame:
    """The provenance table, with values rounded for display."""
    frame = default_parameters().to_frame()
    frame["value"] = frame["value"].map(lambda v: f"{v:.4g}")
    return frame


def _f(value: float, decimals: int = 0) -> str:
    return f"{float(value):.{decimals}f}"


def chapter_numbers(
    sensitivity: pd.DataFrame, long_deferral: Mapping[str, float]
) -> dict[str, str]:
    """Every number the model chapter's prose quotes, formatted (keys prefixed ``mo_``)."""
    params = default_parameters()
    p = params.values()
    cal = read_calibration()
    prov = _provenance()
    z = cal["z"]
    worst = max(z, key=lambda k: abs(z[k]))
    cycles = cycle_weeks(p)
    n_cal = sum(1 for q in params if q.provenance == "calibrated")
    confirmed, single = sensitivity.iloc[0], sensitivity.iloc[1]
    from anrs119.published import load_claims

    claims = load_claims()
    out = {
        "mo_n_il2": _f(p["n_il2"]),
        "mo_n_control": _f(p["n_control"]),
        "mo_cycles": ", ".join(_f(c) for c in cycles),
        "mo_example_bound": claims.loc[claims["bound"] != "=", "reported_as"].iloc[0],
        "mo_visit_early": _f(VISIT_INTERVAL_EARLY),
        "mo_visit_until": _f(VISIT_EARLY_UNTIL),
        "mo_visit_late": _f(VISIT_INTERVAL_LATE),
        "mo_art_cd4": _f(ART_CD4_REFERENCE),
        "mo_art_vl": f"{10**ART_VL_REFERENCE:,.0f}",
        "mo_art_ref": _f(100 * p["art_rate_ref"], 1),
        "mo_art_hr100": _f(math.exp(p["art_cd4_loghr"]), 1),
        "mo_art_vl_hr": _f(math.exp(p["art_vl_loghr"]), 1),
        "mo_art_ep_hr": f"{p['art_endpoint_hr']:g}",
        "mo_hazard_step": f"{HAZARD_STEP_WEEKS:g}",
        "mo_horizon": _f(follow_up_horizon(p)),
        "mo_dropout": _f(100 * p["dropout_rate"], 1),
        "mo_miss": f"{p['visit_miss_prob']:g}",
        "mo_il2_stop": f"{p['il2_stop_prob']:g}",
        "mo_last_followup": _f(
            min(
                follow_up_horizon(p),
                p["calendar_span"] + p["followup_extension"] - p["entry_window"],
            )
        ),
        "mo_entry_window": _f(p["entry_window"]),
        "mo_cutoff": _f(p["calendar_span"] + p["followup_extension"]),
        "mo_extension": _f(p["followup_extension"]),
        "mo_n_params": str(len(params.parameters)),
        "mo_n_calibrated": str(n_cal),
        "mo_n_targets": str(len(TARGETS)),
        "mo_slope_mean": _f(p["cd4_slope_mean"]),
        "mo_slope_sd": _f(p["cd4_slope_sd"]),
        "mo_slope_vl": _f(p["cd4_slope_vl"], 1),
        "mo_noise_cv": _f(100 * p["cd4_noise_sdlog"]),
        "mo_pop_median": _f(p["cd4_pop_median"]),
        "mo_pop_sdlog": _f(p["cd4_pop_sdlog"], 2),
        "mo_gain": _f(p["il2_gain_median"]),
        "mo_gain_sdlog": _f(p["il2_gain_sdlog"], 2),
        "mo_halflife": _f(p["il2_halflife"]),
        "mo_drift": _f(p["vl_drift_mean"], 3),
        "mo_aids_rate": _f(100 * p["aids_rate"], 1),
        "mo_cohort": f"{int(cal['cohort_per_arm']):,}",
        "mo_evaluations": str(cal["evaluations"]),
        "mo_objective": _f(cal["objective"], 1),
        "mo_converged": "converged" if cal["converged"] else "stopped at the evaluation cap",
        "mo_worst_claim": worst,
        "mo_worst_z": f"{z[worst]:+.1f}",
        "mo_n_candidates": f"{int(prov['n_candidates']):,}",
        "mo_chosen": str(prov["chosen_replicate"]),
        "mo_distance": _f(prov["distance"], 2),
        "mo_n_forensic": str(prov["n_candidates_matching_forensic_counts"]),
        "mo_forensic_matched": "matches" if prov["forensic_counts_matched"] else "does not match",
        "mo_n_off": str(prov["n_claims_outside_tolerance"]),
        "mo_conf_ctl": _f(confirmed["primary_w96_control"]),
        "mo_single_ctl": _f(single["primary_w96_control"]),
        "mo_conf_il2": _f(confirmed["primary_w96_il2"]),
        "mo_single_il2": _f(single["primary_w96_il2"]),
        "mo_conf_low_ctl": _f(confirmed["lowvl_free_w150_control"]),
        "mo_single_low_ctl": _f(single["lowvl_free_w150_control"]),
        "mo_single_low_il2": _f(single["lowvl_free_w150_il2"]),
        "mo_long_median": _f(long_deferral["median"]),
        "mo_long_q25": _f(long_deferral["q25"]),
        "mo_rmst": _f(cal["expected_readings"]["lowvl_art_deferral:rmst"]),
        "mo_exp_median": _f(cal["expected_readings"]["lowvl_art_deferral:exp_median"]),
        "mo_z_tol": f"{Z_TOLERANCE:g}",
        "mo_max_abs_z": _f(max(abs(v) for v in z.values()), 1),
        "mo_exp_prim_ctl": _f(cal["expected"]["primary_w96_control"]),
        "mo_exp_low_ctl": _f(cal["expected"]["lowvl_free_w150_control"]),
        "mo_exp_low_il2": _f(cal["expected"]["lowvl_free_w150_il2"]),
        "mo_slope_vl_prior": _f(COHERE_VL_SLOPE, 1),
        "mo_rampup": _f(p["il2_rampup"]),
        "mo_cd4_lower": _f(p["cd4_lower"]),
        "mo_cd4_upper": _f(p["cd4_upper"]),
        "mo_threshold": _f(p["cd4_threshold"]),
        "mo_n_within_tol": f"{int(prov['n_candidates_within_tolerance']):,}",
        "mo_n_forensic_within_tol": str(prov["n_candidates_matching_and_within_tolerance"]),
        **{f"mo_claim_{k}": claims.loc[k, "reported_as"] for k in CLAIMS_QUOTED},
    }
    return out


CLAIMS_QUOTED: tuple[str, ...] = (
    "primary_w96_control",
    "lowvl_free_w150_control",
    "lowvl_free_w150_il2",
    "lowvl_art_deferral",
)
