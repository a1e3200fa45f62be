"""The stored checks of the reconstruction, read without the simulator: the walk's mixing, the
calibration on simulated abstracts and the what-if verdicts (``data/model/reconstruction_*.csv``,
``data/model/ensemble_calibration*.csv``, ``data/model/whatif*.csv``), with numpy and pandas only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anrs119.paths import MODEL_DIR

MIXING_FILE: Path = MODEL_DIR / "reconstruction_mixing.csv"
TRACE_FILE: Path = MODEL_DIR / "reconstruction_traces.csv"
MIXING_RUNS_FILE: Path = MODEL_DIR / "reconstruction_mixing_runs.csv"
CALIBRATION_FILE: Path = MODEL_DIR / "ensemble_calibration.csv"
ABSTRACTS_FILE: Path = MODEL_DIR / "simulated_abstracts.csv"
WHATIF_FILE: Path = MODEL_DIR / "whatif.csv"


PRINTED_CLAIMS: tuple[str, ...] = (
    "primary_w96_il2",
    "primary_w96_control",
    "primary_w96_p",
    "cd4_change_w96_il2",
    "cd4_change_w96_control",
    "cd4_change_w96_p",
    "vl_change_w96_il2",
    "vl_change_w96_control",
    "vl_change_w96_p",
    "lowvl_free_w150_il2",
    "lowvl_free_w150_control",
    "lowvl_free_w150_p",
    "lowvl_art_deferral",
)
"""The numeric claims a simulated abstract prints (kept with each abstract)."""


NOT_REACHED_CAP: float = 151.0
"""In the mixing check a time to ART not reached by week 150 counts as 151 weeks (a rank above
every reached value; means of such quantities are then only a summary of the chains)."""


TRACE_QUANTITIES: tuple[str, ...] = (
    "hr_primary_w96",
    "km_free_w150_control",
    "n_lowvl_il2",
    "baseline_vl_il2",
    "art_q25_il2",
    "lowvl_art_deferral:rmst",
)
"""Quantities whose chain traces are kept for the chapter's figure (slow and fast ones)."""


RHAT_LIMIT: float = 1.05
"""Chains agree on a quantity when its rank-normalised split R-hat is below this (Vehtari et al.
2021 recommend 1.01 for final inference; 1.05 is their looser, common working limit)."""


Z_LIMIT: float = 3.0
"""A mean difference beyond this many standard errors counts as a real difference (about 1 in
370 by chance for one quantity; the chapter reports how many quantities pass it)."""


def read_mixing(path: Path = MIXING_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_traces(path: Path = TRACE_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_mixing_runs(path: Path = MIXING_RUNS_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_calibration(path: Path = CALIBRATION_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_abstracts(path: Path = ABSTRACTS_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_whatif(path: Path = WHATIF_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


# ---------------------------------------------------------------- calibration summaries


COVERAGE_LEVEL: float = 0.95
"""The central range whose coverage is checked."""


COVERAGE_LIMIT: float = 0.88
"""A quantity is "pinned down" only where the reconstructions' central 95% range covered the
truth in at least 88% of the simulated abstracts (with 50 abstracts, 95% coverage reads as
88% or more with probability about 0.99; with more abstracts the limit is conservative)."""


RANK_BINS: int = 5
"""Bins of the rank histogram (of the randomised PIT u, equal width)."""


def coverage_table(ranks: pd.DataFrame) -> pd.DataFrame:
    """Per quantity: abstracts with a rank, coverage of the central 95% range (share of ``u``
    within [0.025, 0.975]) with its Monte Carlo standard error, the rank histogram (counts of
    ``u`` in :data:`RANK_BINS` equal bins), the chi-square P of its uniformity, and the mean
    ``u`` (0.5 when calibrated; below: the reconstructions sit above the truth)."""
    import numpy as np
    from scipy import stats

    lo, hi = (1 - COVERAGE_LEVEL) / 2, 1 - (1 - COVERAGE_LEVEL) / 2
    rows = []
    for q, group in ranks.groupby("quantity", sort=False):
        u = group["u"].to_numpy(dtype=float)
        u = u[np.isfinite(u)]
        n = u.size
        row: dict[str, object] = {"quantity": q, "n": n}
        if n == 0:
            row.update(coverage=np.nan, coverage_se=np.nan, uniform_p=np.nan, mean_u=np.nan)
            rows.append(row)
            continue
        cov = float(np.mean((u >= lo) & (u <= hi)))
        counts = np.histogram(u, bins=RANK_BINS, range=(0.0, 1.0))[0]
        row.update(
            coverage=cov,
            coverage_se=float(np.sqrt(cov * (1 - cov) / n)),
            uniform_p=float(stats.chisquare(counts).pvalue) if n >= RANK_BINS else np.nan,
            mean_u=float(u.mean()),
        )
        row.update({f"bin{k + 1}": int(c) for k, c in enumerate(counts)})
        rows.append(row)
    return pd.DataFrame(rows)


def checked_verdicts(
    ranges: pd.DataFrame, typical: pd.DataFrame, coverage: pd.DataFrame
) -> pd.DataFrame:
    """The ensemble's width verdicts (:func:`.ensemble_tables.leaves_open`) with the two checks
    a "pinned down" needs: coverage of at least :data:`COVERAGE_LIMIT` on simulated abstracts,
    and a typicality not flagged (binomial P of the tail count at least 0.01)."""
    out = ranges[["quantity", "label", "verdict"]].copy()
    cov = coverage.set_index("quantity")
    typ = typical.set_index("quantity")
    out["coverage"] = out["quantity"].map(cov["coverage"])
    out["coverage_se"] = out["quantity"].map(cov["coverage_se"])
    out["typicality_flagged"] = out["quantity"].map(typ["p_tails"] < 0.01)
    pinned = out["verdict"] == "pinned down"
    holds = (out["coverage"] >= COVERAGE_LIMIT) & ~out["typicality_flagged"].astype(bool)
    out["checked"] = out["verdict"]
    out.loc[pinned & ~holds, "checked"] = "narrow, not shown calibrated"
    return out


# ---------------------------------------------------------------- the what-if verdict


def false_alarms(abstracts: pd.DataFrame) -> dict[str, float]:
    """Share of the printable simulated abstracts called implausible, with its exact 95% CI
    (Clopper-Pearson), and the share each component flags."""
    from scipy import stats

    ok = abstracts[abstracts["printable"].astype(bool)]
    n = len(ok)
    k = int((~ok["plausible"].astype(bool)).sum())
    low = float(stats.beta.ppf(0.025, k, n - k + 1)) if k > 0 else 0.0
    high = float(stats.beta.ppf(0.975, k + 1, n - k)) if k < n else 1.0
    out = {"n": float(n), "implausible": float(k), "rate": k / n if n else float("nan"),
           "low95": low, "high95": high}  # fmt: skip
    for col in ("consistency_ok", "joint_ok", "reconstructions_ok", "typicality_ok"):
        out[col.replace("_ok", "_flagged")] = float((~ok[col].astype(bool)).mean())
    out["not_printable"] = float((~abstracts["printable"].astype(bool)).sum())
    out["attempts"] = float(abstracts["attempts"].sum())
    return out


def unmixed(mixing: pd.DataFrame) -> list[str]:
    """Quantities on which the long chains disagree: R-hat at or above :data:`RHAT_LIMIT`, or
    none computable although the quantity varies between chains (chains that never moved)."""
    bad = ~(mixing["rhat"] < RHAT_LIMIT)
    if "estimable" in mixing.columns:
        bad &= mixing["estimable"].astype(bool)
    return [str(q) for q in mixing.loc[bad, "quantity"]]
