"""What the stored validation of the hypothetical estimands says: reading
``data/model/estimands_*.csv``, the bias and coverage of each method against the known truth
(with Monte Carlo standard errors), and the chapters' tables and numbers; numpy and pandas only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119 import ARMS
from anrs119.paths import MODEL_DIR

DRAWS_FILE: Path = MODEL_DIR / "estimands_truth.csv"
TRIALS_FILE: Path = MODEL_DIR / "estimands_trials.csv"
SUMMARY_FILE: Path = MODEL_DIR / "estimands_validation.csv"

SCENARIOS: dict[str, dict[str, float]] = {
    "true_cd4": {"art_on_measured": 0.0},
    "measured_cd4": {"art_on_measured": 1.0},
    "measured_cd4_only": {"art_on_measured": 1.0, "aids_rate": 0.0, "art_vl_loghr": 0.0},
}
"""Models of ART start in the validation, as changes to the model's parameters: the book's
model (the true CD4 count and viral load drive it); the extension in which the values measured
at the visits drive it (AIDS-defining events still start ART at once, and follow the true
count); and that extension with the measured CD4 count alone driving every start (no
AIDS-defining events, no viral-load term), where the assumption of the weights and of the mixed
model holds exactly."""

SHORT_SCENARIOS: dict[str, str] = {
    "true_cd4": "the true CD4 count and viral load (the book's model)",
    "measured_cd4": "the measured CD4 count and viral load, and AIDS-defining events",
    "measured_cd4_only": "the measured CD4 count alone",
}
"""How the chapters' tables name each scenario ("ART start follows ...")."""

BOOK_KEYS: dict[str, str] = {
    key: "book"
    for key in (
        "hv_week",
        "hv_cohort_per_arm",
        "hv_truth_draws",
        "hv_trials",
        "hv_bootstrap_trials",
        "hv_coverage_trials",
        "hv_resamples",
    )
}
"""Glue kinds of the :func:`chapter_numbers` that describe the check rather than its results
(every other number is a "model" one)."""

RESAMPLES: int = 200
"""Bootstrap resamples per trial in the committed run (the ``FULL`` size of the validation)."""


@dataclass(frozen=True)
class Method:
    """One estimator as the validation files name it: columns ``<key>_il2``, ``_control``,
    ``_difference`` (and ``_low``, ``_high`` if it has an interval), a failure flag column."""

    key: str
    label: str
    target: str
    """"median" or "mean": which no-ART truth it estimates."""
    failed: str
    interval: str
    """How its 95% interval is made ("" if none)."""


METHODS: tuple[Method, ...] = (
    Method("naive", "off ART, unweighted (headline reading)", "median", "naive_failed",
           "percentile bootstrap"),
    Method("ipcw", "IPCW, weighted median", "median", "ipcw_failed", "percentile bootstrap"),
    Method("ipcw_mean", "IPCW, weighted mean", "mean", "ipcw_failed", ""),
    Method("mm", "mixed model of pre-ART values", "mean", "mm_failed", "Wald"),
    Method("oracle", "reference: the patients' own no-ART values (unobservable)", "median",
           "oracle_failed", "percentile bootstrap"),
)  # fmt: skip
"""The methods validated; the oracle is a reference that checks the validation itself."""

DETECTION_Z: float = 1.96
"""A bias is called detected when it lies further from zero than this many Monte Carlo SEs."""

QUANTITIES: dict[str, str] = {"il2": ARMS[0], "control": ARMS[1], "difference": "difference"}


def summarise(
    trials: pd.DataFrame, truth: Mapping[str, float], *, methods: Sequence[Method] = METHODS
) -> pd.DataFrame:
    """Bias, empirical SE, RMSE and interval coverage of every method and quantity against the
    truth, each with its Monte Carlo standard error (Morris et al., Stat Med 2019;38:2074), by
    scenario. ``bias_detected``: the bias lies beyond :data:`DETECTION_Z` MC SEs.

    The bias's MC SE adds the truth's own Monte Carlo error; coverage is over the trials with an
    interval (the bootstrap ones, or all for a Wald interval) and only for the difference.
    """
    rows = []
    for scenario, group in trials.groupby("scenario", sort=False):
        for m in methods:
            ok = group[m.failed] == 0
            for q, label in QUANTITIES.items():
                est = group.loc[ok, f"{m.key}_{q}"].to_numpy(float)
                est = est[np.isfinite(est)]
                true = float(truth[f"{m.target}_{q}"])
                true_se = float(truth[f"{m.target}_{q}_mcse"])
                n = est.size
                sd = float(np.std(est, ddof=1)) if n > 1 else float("nan")
                bias = float(est.mean() - true) if n else float("nan")
                bias_se = float(np.hypot(sd / np.sqrt(n), true_se)) if n > 1 else float("nan")
                row = {
                    "scenario": scenario,
                    "method": m.key,
                    "quantity": label,
                    "target": m.target,
                    "truth": true,
                    "truth_mcse": true_se,
                    "trials": n,
                    "failed": int((~ok).sum()),
                    "mean_estimate": float(est.mean()) if n else float("nan"),
                    "bias": bias,
                    "bias_mcse": bias_se,
                    "bias_detected": bool(abs(bias) > DETECTION_Z * bias_se),
                    "empirical_se": sd,
                    "rmse": float(np.sqrt(np.mean((est - true) ** 2))) if n else float("nan"),
                    "coverage_trials": 0,
                    "coverage": float("nan"),
                    "coverage_mcse": float("nan"),
                }
                if m.interval and q == "difference":
                    low = group.loc[ok, f"{m.key}_low"].to_numpy(float)
                    high = group.loc[ok, f"{m.key}_high"].to_numpy(float)
                    has = np.isfinite(low) & np.isfinite(high)
                    if has.any():
                        hit = (low[has] <= true) & (true <= high[has])
                        c = float(hit.mean())
                        row |= {
                            "coverage_trials": int(has.sum()),
                            "coverage": c,
                            "coverage_mcse": float(np.sqrt(c * (1 - c) / has.sum())),
                        }
                rows.append(row)
    out = pd.DataFrame(rows)
    floats = ["truth", "truth_mcse", "mean_estimate", "bias", "bias_mcse", "empirical_se", "rmse",
              "coverage", "coverage_mcse"]  # fmt: skip
    out[floats] = out[floats].astype(float).round(6)
    for col in ("trials", "failed", "coverage_trials"):
        out[col] = out[col].astype(int)
    return out


# ---------------------------------------------------------------- reading the stored files


def read_summary(path: Path = SUMMARY_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_truth(path: Path = DRAWS_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_trials(path: Path = TRIALS_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def _whole(x: float) -> str:
    """A signed whole number, never "-0"."""
    return f"{round(x):+d}"


def _signed(x: float, se: float) -> str:
    if not np.isfinite(x):
        return ""
    if not np.isfinite(se):
        return _whole(x)
    return f"{_whole(x)} ({se:.0f})" if se >= 0.5 else f"{_whole(x)} ({se:.1f})"


def _percent(c: float, se: float) -> str:
    return "" if not np.isfinite(c) else f"{100 * c:.0f}% ({100 * se:.0f})"


def validation_table(summary: pd.DataFrame | None = None, quantity: str = "difference"):
    """The chapters' table: per model of ART start and method, the truth, the bias (average
    estimate minus truth) and the coverage of the 95% intervals (Monte Carlo SEs in
    brackets)."""
    s = read_summary() if summary is None else summary
    s = s[s["quantity"] == quantity].set_index(["scenario", "method"])
    rows = []
    for scenario in SCENARIOS:
        for m in METHODS:
            r = s.loc[(scenario, m.key)]
            coverage = _percent(r["coverage"], r["coverage_mcse"])
            rows.append(
                {
                    "ART start follows": SHORT_SCENARIOS[scenario] if m is METHODS[0] else "",
                    "Method": m.label,
                    "Truth": f"{_whole(r['truth'])} ({m.target})",
                    "Bias (MC SE)": _signed(r["bias"], r["bias_mcse"]),
                    "95% interval covers the truth (MC SE)": coverage or "no interval",
                }
            )
    return pd.DataFrame(rows)


def arm_table(summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Bias by arm: where each method's error in the difference comes from."""
    s = read_summary() if summary is None else summary
    s = s.set_index(["scenario", "method", "quantity"])
    rows = []
    for scenario in SCENARIOS:
        for m in METHODS:
            label = SHORT_SCENARIOS[scenario] if m is METHODS[0] else ""
            row = {"ART start follows": label, "Method": m.label}
            for arm in ARMS:
                r = s.loc[(scenario, m.key, arm)]
                row[f"{arm}: truth"] = _whole(r["truth"])
                row[f"{arm}: bias (MC SE)"] = _signed(r["bias"], r["bias_mcse"])
            rows.append(row)
    return pd.DataFrame(rows)


def truth_display(truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """The no-ART truth at the posterior median and at each posterior draw."""
    t = read_truth() if truth is None else truth
    rows = []
    for _, r in t.iterrows():
        rows.append(
            {
                "Parameter point": r["point"],
                "Median change, IL-2": _whole(r["median_il2"]),
                "Median change, control": _whole(r["median_control"]),
                "Difference in medians (MC SE)": _signed(
                    r["median_difference"], r["median_difference_mcse"]
                ),
                "Difference in means (MC SE)": _signed(
                    r["mean_difference"], r["mean_difference_mcse"]
                ),
            }
        )
    return pd.DataFrame(rows)


def _se(se: float) -> str:
    return f"{se:.0f}" if se >= 0.5 else f"{se:.1f}"


def bias_phrase(r: pd.Series, unit: str = "cells/µL") -> str:
    """The bias in words: "too low by 12 cells/µL (Monte Carlo SE 3)", or "within Monte Carlo
    error of the truth (+2, Monte Carlo SE 3)" when it is not detected (:data:`DETECTION_Z`)."""
    se = _se(r["bias_mcse"])
    if not bool(r["bias_detected"]):
        return f"within Monte Carlo error of the truth ({_whole(r['bias'])}, Monte Carlo SE {se})"
    side = "high" if r["bias"] > 0 else "low"
    return f"too {side} by {abs(r['bias']):.0f} {unit} (Monte Carlo SE {se})"


def coverage_phrase(r: pd.Series, nominal: float = 0.95) -> str:
    """How often the 95% interval covered the truth, and how that compares with 95%."""
    c, se, n = float(r["coverage"]), float(r["coverage_mcse"]), int(r["coverage_trials"])
    if c - nominal > DETECTION_Z * se:
        how = "more often than the nominal 95%: the intervals are wider than they need be"
    elif nominal - c > DETECTION_Z * se:
        how = "less often than the nominal 95%"
    else:
        how = "close to the nominal 95%"
    points = f"{100 * se:.0f}"
    unit = "point" if points == "1" else "points"
    return f"{100 * c:.0f}% of {n} trials (Monte Carlo SE {points} percentage {unit}), {how}"


READINGS: tuple[str, ...] = ("naive", "ipcw", "mm")
"""The readings a chapter shows (the other methods are references)."""

READING_NAMES: dict[str, str] = {
    "naive": "the off-ART reading",
    "ipcw": "the weighted median",
    "mm": "the mixed model",
}


def verdict(summary: pd.DataFrame, scenario: str) -> str:
    """Which readings get the difference between the arms within Monte Carlo error of the truth
    in one scenario, in words."""
    s = summary[(summary["scenario"] == scenario) & (summary["quantity"] == "difference")]
    s = s.set_index("method")
    fine = [READING_NAMES[m] for m in READINGS if not bool(s.loc[m, "bias_detected"])]
    off = [READING_NAMES[m] for m in READINGS if bool(s.loc[m, "bias_detected"])]
    if not fine:
        return (
            "none of the three gets the difference between the arms within Monte Carlo error "
            "of the truth in trials of this size"
        )
    if not off:
        return "all three get the difference between the arms within Monte Carlo error of the truth"
    return (
        f"{_join(fine)} {'gets' if len(fine) == 1 else 'get'} the difference between the arms "
        f"within Monte Carlo error of the truth, {_join(off)} {'does' if len(off) == 1 else 'do'} "
        "not"
    )


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _stem(r: pd.Series) -> str:
    q = {"difference": "diff", ARMS[0]: "il2", ARMS[1]: "control"}[r["quantity"]]
    return f"hv_{r['method']}_{r['scenario']}_{q}"


def chapter_numbers(
    summary: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
    trials: pd.DataFrame | None = None,
) -> dict[str, str | int]:
    """Strings the chapters glue: the truth (at the posterior median; its range over the
    posterior draws), each method's average estimate, bias and coverage by scenario (keys
    ``hv_<method>_<scenario>_<il2|control|diff>_<mean|bias|phrase|sd|coverage>``, with
    ``_coverage_phrase``; ``hv_verdict_<scenario>``), the shares of patients
    on ART by the primary week and of ART starts an AIDS-defining event set off, and the run's
    sizes."""
    s = read_summary() if summary is None else summary
    t = read_truth() if truth is None else truth
    tr = read_trials() if trials is None else trials
    out: dict[str, str | int] = {}
    at_median = t.iloc[0]
    for key in ("il2", "control", "difference"):
        for stat in ("median", "mean"):
            out[f"hv_truth_{stat}_{key}"] = _whole(at_median[f"{stat}_{key}"])
    out["hv_cohort_per_arm"] = f"{int(at_median['cohort_per_arm']):,}"
    out["hv_week"] = int(at_median["week"])
    draws = t.iloc[1:]
    out["hv_truth_draws"] = len(draws)
    if len(draws):
        low, high = draws["median_difference"].min(), draws["median_difference"].max()
        out["hv_truth_draw_range"] = f"{_whole(low)} to {_whole(high)}"
    for _, r in s.iterrows():
        stem = _stem(r)
        out[f"{stem}_bias"] = _signed(r["bias"], r["bias_mcse"])
        out[f"{stem}_phrase"] = bias_phrase(r)
        out[f"{stem}_mean"] = _whole(r["mean_estimate"])
        out[f"{stem}_sd"] = f"{r['empirical_se']:.0f}"
        if np.isfinite(r["coverage"]):
            out[f"{stem}_coverage"] = _percent(r["coverage"], r["coverage_mcse"])
            out[f"{stem}_coverage_phrase"] = coverage_phrase(r)
    for scenario in SCENARIOS:
        out[f"hv_verdict_{scenario}"] = verdict(s, scenario)
    for scenario, g in tr.groupby("scenario"):
        out[f"hv_art_at_aids_{scenario}"] = f"{100 * g['art_at_aids'].mean():.0f}%"
        for arm in ("il2", "control"):
            out[f"hv_art_{arm}_{scenario}"] = f"{100 * g[f'art_{arm}'].mean():.0f}%"
    out["hv_bootstrap_trials"] = int(tr.groupby("scenario")["bootstrap"].sum().max())
    out["hv_trials"] = int(s["trials"].max())
    out["hv_coverage_trials"] = int(s["coverage_trials"].max())
    out["hv_resamples"] = RESAMPLES
    return out
