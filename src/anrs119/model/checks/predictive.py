"""Prior- and posterior-predictive checks: where each published number falls among the claims
of trials simulated from parameter draws (one trial per draw), and one joint check.

Written to ``data/model/predictive_checks.csv`` (format: CONTRACT-model.md, section 4), read by
the scorecard and the model chapter. Deterministic given the stored posterior and the seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.inference.draws import (
    N_DRAWS,
    posterior_draws,
    predictive_summaries,
    prior_draws,
)
from anrs119.model.inference.priors import Priors, load_priors
from anrs119.model.inference.sample import load_posterior
from anrs119.model.inference.statistics import Statistic, statistic_values, statistics
from anrs119.paths import MODEL_DIR
from anrs119.seeds import POSTERIOR_PREDICTIVE_SEED, PRIOR_PREDICTIVE_SEED

CHECKS_FILE: Path = MODEL_DIR / "predictive_checks.csv"
LEVEL: float = 95.0
COLUMNS: tuple[str, ...] = (
    "id",
    "distribution",
    "n_draws",
    "median",
    "lower95",
    "upper95",
    "percentile",
    "outside95",
    "note",
)
JOINT_METHOD: str = (
    "Mahalanobis distance of the published statistics (P values on log10, bounds as one-sided "
    "excess) from the predictive mean, predictive covariance; p = share of draws at least as far"
)


# ---------------------------------------------------------------- simulation of draws


# ---------------------------------------------------------------- the checks


def mid_rank_percentile(x: np.ndarray, value: float) -> float:
    """100 x (share below + half the share equal); infinite draws sort above every value."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan")
    return float(100.0 * ((x < value).sum() + 0.5 * (x == value).sum()) / x.size)


@dataclass(frozen=True)
class ClaimRef:
    id: str
    value: float
    bound: str
    statistic: str
    tolerance: float


def claim_refs() -> tuple[ClaimRef, ...]:
    """Result claims checked: numeric ones and the 'similar' statements (as P >= level)."""
    from anrs119.analysis.safety import SIMILARITY_ALPHA
    from anrs119.published import load_claims

    c = load_claims()
    out = []
    for cid, r in c[c["kind"] == "result"].iterrows():
        # 'similar' is read as P >= the level the scorecard's similarity verdict uses
        level = SIMILARITY_ALPHA if r["statistic"] == "similar" else float("nan")
        out.append(
            ClaimRef(str(cid), float(r["value"]), str(r["bound"]), str(r["statistic"]), level)
        )
    return tuple(out)


def check_rows(
    samples: Mapping[str, np.ndarray], distribution: str, refs: Sequence[ClaimRef]
) -> list[dict[str, object]]:
    """One row per claim present in ``samples`` (see the module docstring for the format)."""
    lo_q, hi_q = (100 - LEVEL) / 200, 1 - (100 - LEVEL) / 200
    rows = []
    for ref in refs:
        if ref.id not in samples:
            continue
        x = np.asarray(samples[ref.id], dtype=float)
        x = x[~np.isnan(x)]
        if x.size == 0:
            continue
        med, lo, hi = np.quantile(x, [0.5, lo_q, hi_q], method="inverted_cdf")
        if ref.statistic == "similar":
            pct = float(100.0 * np.mean(x >= ref.tolerance))
            note = f"share of draws (x100) with P >= {ref.tolerance:g} (arms similar)"
            outside = pct < 100 * lo_q
        elif ref.bound == "<":
            pct = float(100.0 * np.mean(x < ref.value))
            note = f"share of draws (x100) satisfying the bound < {ref.value:g}"
            outside = pct < 100 * lo_q
        elif ref.bound == ">":
            pct = float(100.0 * np.mean(x > ref.value))
            note = f"share of draws (x100) satisfying the bound > {ref.value:g}"
            outside = pct < 100 * lo_q
        else:
            pct = mid_rank_percentile(x, ref.value)
            note = "mid-rank percentile of the published value"
            outside = pct < 100 * lo_q or pct > 100 * hi_q
        rows.append(
            {
                "id": ref.id,
                "distribution": distribution,
                "n_draws": int(x.size),
                "median": float(med),
                "lower95": float(lo),
                "upper95": float(hi),
                "percentile": round(pct, 2),
                "outside95": bool(outside),
                "note": note,
            }
        )
    return rows


@dataclass(frozen=True)
class JointCheck:
    distance: float
    p_value: float
    n_draws: int
    n_statistics: int


def joint_check(samples: Mapping[str, np.ndarray], stats_: Sequence[Statistic]) -> JointCheck:
    """Mahalanobis distance of the published statistics among the predictive draws."""
    vals = statistic_values(samples, stats_)
    m = np.column_stack([vals[s.id] for s in stats_])
    m = m[np.all(np.isfinite(m), axis=1)]
    obs = np.array([s.observed for s in stats_])
    mean = m.mean(axis=0)
    prec = np.linalg.pinv(np.cov(m, rowvar=False))
    d = m - mean
    d2 = np.einsum("ij,jk,ik->i", d, prec, d)
    o = obs - mean
    d2_obs = float(o @ prec @ o)
    return JointCheck(
        distance=float(np.sqrt(d2_obs)),
        p_value=float(np.mean(d2 >= d2_obs)),
        n_draws=int(m.shape[0]),
        n_statistics=len(stats_),
    )


def checks_table(
    prior_samples: Mapping[str, np.ndarray], post_samples: Mapping[str, np.ndarray]
) -> pd.DataFrame:
    refs = claim_refs()
    stats_ = statistics()
    rows: list[dict[str, object]] = []
    for label, s in (("prior", prior_samples), ("posterior", post_samples)):
        rows += check_rows(s, label, refs)
        j = joint_check(s, stats_)
        rows.append(
            {
                "id": "joint",
                "distribution": label,
                "n_draws": j.n_draws,
                "median": np.nan,
                "lower95": np.nan,
                "upper95": np.nan,
                "percentile": round(100.0 * j.p_value, 2),
                "outside95": bool(j.p_value < (100 - LEVEL) / 100),
                "note": f"{JOINT_METHOD}; distance {j.distance:.2f} over {j.n_statistics} "
                "statistics",
            }
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("median", "lower95", "upper95"):
        frame[col] = frame[col].map(lambda v: float(f"{v:.6g}") if np.isfinite(v) else v)
    return frame


@dataclass(frozen=True)
class PredictiveSamples:
    prior: dict[str, np.ndarray]
    posterior: dict[str, np.ndarray]


def predictive_samples(
    base: Mapping[str, float] | None = None,
    n_draws: int = N_DRAWS,
    progress: bool = True,
    priors: Priors | None = None,
    sample: pd.DataFrame | None = None,
) -> PredictiveSamples:
    from anrs119.model.inference.statistics import base_values

    priors = priors or load_priors()
    base = dict(base) if base is not None else base_values(priors)
    sample = load_posterior() if sample is None else sample
    prior = predictive_summaries(
        base,
        prior_draws(priors, n_draws),
        PRIOR_PREDICTIVE_SEED,
        desc="prior-predictive trials",
        progress=progress,
    )
    post = predictive_summaries(
        base,
        posterior_draws(sample, n_draws),
        POSTERIOR_PREDICTIVE_SEED,
        desc="posterior-predictive trials",
        progress=progress,
    )
    return PredictiveSamples(prior, post)


def write_checks(samples: PredictiveSamples, path: Path = CHECKS_FILE) -> Path:
    from anrs119.model.files import write_csv

    return write_csv(checks_table(samples.prior, samples.posterior), path)


def load_checks(path: Path = CHECKS_FILE) -> pd.DataFrame:
    return pd.read_csv(path)
