"""Prior- and posterior-predictive checks of what the paper printed: where each published number
falls among the same numbers of trials simulated from parameter draws (one trial per draw),
printed the way the paper prints them, with Monte Carlo errors, a joint check and a joint check
of the low-viral-load pair.

Every simulated value is rounded as the paper prints it (percentages and medians to the printed
decimals, P values in the journal's style) before the published value is placed among them; a
bound ("P < .001") is checked as the event it is (the share of draws that meet it); a "similar"
statement asks the book's one rule (the share of draws whose arms the Newcombe interval does not
tell apart). Posterior-predictive p-values use the data twice (to fit and to check) and are
conservative: a published value is flagged less often than its tail area suggests.

Written to ``data/model/predictive_checks.csv`` (format: CONTRACT-model.md, section 4, with the
columns ``mc_se`` and ``percentile_unrounded`` added), read by the scorecard and the model
chapter. Deterministic given the stored posterior and the seeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from anrs119.model.inference.draws import (
    N_DRAWS,
    posterior_draws,
    predictive_summaries,
    prior_draws,
)
from anrs119.model.inference.priors import Priors, load_priors
from anrs119.model.inference.sample import load_posterior
from anrs119.model.simulator.keys import NO_DIFFERENCE_SUFFIX
from anrs119.paths import MODEL_DIR
from anrs119.seeds import POSTERIOR_PREDICTIVE_SEED, PRIOR_PREDICTIVE_SEED

CHECKS_FILE: Path = MODEL_DIR / "predictive_checks.csv"
LEVEL: float = 95.0
TAIL: float = (100 - LEVEL) / 2
"""Percent in each tail: a published value below the 2.5th or above the 97.5th percentile (or
a bound met by fewer than 2.5% of draws) is flagged."""
COLUMNS: tuple[str, ...] = (
    "id",
    "distribution",
    "n_draws",
    "median",
    "lower95",
    "upper95",
    "percentile",
    "mc_se",
    "percentile_unrounded",
    "outside95",
    "note",
)
CLUSTER_KEY: str = "_draw"
"""Key of the samples holding, per simulated trial, the parameter draw it used: trials whose
draws repeat one posterior particle are one cluster for the Monte Carlo errors."""
SIMILAR_SUFFIX: str = NO_DIFFERENCE_SUFFIX
"""Samples key suffix of the one rule's verdict per simulated trial (1.0: no difference)."""
JOINT_ID: str = "joint"
SUBGROUP_ID: str = "joint_subgroup"
SUBGROUP_PAIR: tuple[str, str] = ("lowvl_free_w150_il2", "lowvl_free_w150_control")
TIE_TOLERANCE: float = 1e-9
"""Relative: two normal-scores distances closer than this are the same distance. The draws'
distances and the published one's are summed in different orders, so a draw printing exactly
the published values can come out a rounding error (about 1e-16) closer; it is as far."""
JOINT_METHOD: str = (
    "normal scores of the printed point estimates' predictive mid-ranks (P values left out: "
    "their point estimates are in; bounds are events, checked one by one), squared distance "
    "with the scores' correlation; p = share of draws at least as far"
)
SUBGROUP_METHOD: str = (
    "share of draws printing both low-viral-load percentages at least as far from the "
    "predictive medians as the published pair, in the same directions (directions taken from "
    "the published values)"
)


# ---------------------------------------------------------------- printed values


def mid_rank_percentile(x: np.ndarray, value: float) -> float:
    """100 x (share below + half the share equal); infinite draws sort above every value."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan")
    return float(100.0 * ((x < value).sum() + 0.5 * (x == value).sum()) / x.size)


@dataclass(frozen=True)
class ClaimRef:
    """A result claim as the checks need it: what was printed, and how."""

    id: str
    value: float
    bound: str
    statistic: str
    decimals: int


def claim_refs() -> tuple[ClaimRef, ...]:
    """Result claims checked: numeric ones and the 'similar' statements."""
    from anrs119.published import load_claims

    c = load_claims()
    out = []
    for cid, r in c[c["kind"] == "result"].iterrows():
        decimals = 0 if pd.isna(r["decimals"]) else int(r["decimals"])
        out.append(
            ClaimRef(str(cid), float(r["value"]), str(r["bound"]), str(r["statistic"]), decimals)
        )
    return tuple(out)


def printed_p(p: np.ndarray) -> np.ndarray:
    """P values as the journal prints them: below .001 as "< .001" (here 0, below every printed
    number), three decimals below .01, else two (``anrs119.forensic.format_p``)."""
    from anrs119.forensic import format_p

    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    for i, v in enumerate(p):
        if np.isnan(v):
            continue
        shown = format_p(float(v))
        out[i] = 0.0 if shown.bound == "<" else shown.value
    return out


def printed(ref: ClaimRef, x: np.ndarray) -> np.ndarray:
    """Simulated values of a claim as the paper would print them (NaN kept, inf kept)."""
    from anrs119.tolerance import round_half_up

    x = np.asarray(x, dtype=float)
    if ref.statistic == "p_value":
        return printed_p(x)
    out = x.copy()
    finite = np.isfinite(x)
    out[finite] = [round_half_up(float(v), ref.decimals) for v in x[finite]]
    return out


def published_printed(ref: ClaimRef) -> float:
    """The published value on the same scale as :func:`printed`."""
    return float(printed(ref, np.array([ref.value]))[0])


# ---------------------------------------------------------------- Monte Carlo errors


def mc_se(scores: np.ndarray, clusters: np.ndarray | None = None) -> float:
    """Monte Carlo SE of the mean of per-draw ``scores`` (x100 when they are shares): draws with
    the same cluster label (the same posterior particle) are summed before squaring."""
    s = np.asarray(scores, dtype=float)
    n = s.size
    if n < 2:
        return float("nan")
    dev = s - s.mean()
    if clusters is None:
        return float(np.sqrt(np.sum(dev**2) / (n * (n - 1))))
    labels = np.asarray(clusters)
    _, inverse = np.unique(labels, return_inverse=True)
    sums = np.bincount(inverse, weights=dev)
    k = sums.size
    correction = k / (k - 1) if k > 1 else 1.0
    return float(np.sqrt(correction * np.sum(sums**2)) / n)


def _clusters(samples: Mapping[str, np.ndarray], keep: np.ndarray) -> np.ndarray | None:
    labels = samples.get(CLUSTER_KEY)
    return None if labels is None else np.asarray(labels)[keep]


# ---------------------------------------------------------------- one claim at a time


def check_rows(
    samples: Mapping[str, np.ndarray], distribution: str, refs: Sequence[ClaimRef]
) -> list[dict[str, object]]:
    """One row per claim present in ``samples`` (see the module docstring for the format)."""
    lo_q, hi_q = TAIL / 100, 1 - TAIL / 100
    rows = []
    for ref in refs:
        key = ref.id + SIMILAR_SUFFIX if ref.statistic == "similar" else ref.id
        if key not in samples or ref.id not in samples:
            continue
        raw = np.asarray(samples[ref.id], dtype=float)
        keep = ~np.isnan(raw)
        if not keep.any():
            continue
        x = raw[keep]
        clusters = _clusters(samples, keep)
        med, lo, hi = np.quantile(x, [0.5, lo_q, hi_q], method="inverted_cdf")
        unrounded = math.nan
        if ref.statistic == "similar":
            event = np.asarray(samples[key], dtype=float)[keep]
            note = "share of draws (x100) in which the one rule detects no difference"
            outside = 100 * event.mean() < TAIL
        elif ref.bound in ("<", ">"):
            event = (x < ref.value) if ref.bound == "<" else (x > ref.value)
            event = event.astype(float)
            note = (
                f"share of draws (x100) printing {ref.bound} {ref.value:g} (the bound as an event)"
            )
            outside = 100 * event.mean() < TAIL
        else:
            shown = printed(ref, x)
            value = published_printed(ref)
            event = (shown < value) + 0.5 * (shown == value)
            unrounded = round(mid_rank_percentile(x, ref.value), 2)
            note = "mid-rank percentile of the published value among draws printed as the paper"
            outside = not TAIL <= 100 * event.mean() <= 100 - TAIL
        rows.append(
            {
                "id": ref.id,
                "distribution": distribution,
                "n_draws": int(x.size),
                "median": float(med),
                "lower95": float(lo),
                "upper95": float(hi),
                "percentile": round(100 * float(event.mean()), 2),
                "mc_se": round(100 * mc_se(event, clusters), 2),
                "percentile_unrounded": unrounded,
                "outside95": bool(outside),
                "note": note,
            }
        )
    return rows


# ---------------------------------------------------------------- joint checks


def joint_refs(refs: Sequence[ClaimRef]) -> tuple[ClaimRef, ...]:
    """The claims of the joint check: printed point estimates ("=", not P values, not similar)."""
    return tuple(r for r in refs if r.bound == "=" and r.statistic not in ("p_value", "similar"))


def _mid_ranks(column: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mid-rank share of each of ``values`` among ``column`` (inf sorts above every value)."""
    ordered = np.sort(column)
    below = np.searchsorted(ordered, values, side="left")
    upto = np.searchsorted(ordered, values, side="right")
    return (below + 0.5 * (upto - below)) / column.size


@dataclass(frozen=True)
class JointCheck:
    statistic: float
    p_value: float
    mc_se: float
    n_draws: int
    n_statistics: int


def joint_check(samples: Mapping[str, np.ndarray], refs: Sequence[ClaimRef]) -> JointCheck:
    """Normal-scores joint check of the printed point estimates (see :data:`JOINT_METHOD`).

    Each draw's printed value and the published one get their mid-rank share among the draws,
    turned into a normal score (clipped half a draw from 0 and 1); the squared distance of a
    vector of scores uses the inverse of the scores' correlation (a Gaussian copula, so skewed,
    discrete and not-reached values weigh as ranks); p is the share of draws whose own distance
    is at least the published one's.
    """
    chosen = [r for r in joint_refs(refs) if r.id in samples]
    m = np.column_stack([printed(r, samples[r.id]) for r in chosen])
    keep = ~np.any(np.isnan(m), axis=1)
    m = m[keep]
    n = m.shape[0]
    published = np.array([published_printed(r) for r in chosen])
    u = np.column_stack([_mid_ranks(m[:, j], m[:, j]) for j in range(m.shape[1])])
    u_obs = np.array([_mid_ranks(m[:, j], published[j : j + 1])[0] for j in range(m.shape[1])])
    clip = 0.5 / n
    z = stats.norm.ppf(np.clip(u, clip, 1 - clip))
    z_obs = stats.norm.ppf(np.clip(u_obs, clip, 1 - clip))
    prec = np.linalg.pinv(np.corrcoef(z, rowvar=False))
    d2 = np.einsum("ij,jk,ik->i", z, prec, z)
    d2_obs = float(z_obs @ prec @ z_obs)
    far = (d2 >= d2_obs - TIE_TOLERANCE * max(abs(d2_obs), 1.0)).astype(float)
    return JointCheck(
        statistic=d2_obs,
        p_value=float(far.mean()),
        mc_se=mc_se(far, _clusters(samples, keep)),
        n_draws=int(n),
        n_statistics=len(chosen),
    )


def subgroup_pair_check(
    samples: Mapping[str, np.ndarray], refs: Sequence[ClaimRef], pair: Sequence[str] = SUBGROUP_PAIR
) -> JointCheck:
    """Share of draws printing both members of ``pair`` at least as far from the predictive
    medians as the published values, in the published values' directions."""
    by_id = {r.id: r for r in refs}
    chosen = [by_id[i] for i in pair]
    m = np.column_stack([printed(r, samples[r.id]) for r in chosen])
    keep = ~np.any(np.isnan(m), axis=1)
    m = m[keep]
    published = np.array([published_printed(r) for r in chosen])
    direction = np.where(published >= np.median(m, axis=0), 1.0, -1.0)
    event = np.all(direction * (m - published) >= 0, axis=1).astype(float)
    return JointCheck(
        statistic=float("nan"),
        p_value=float(event.mean()),
        mc_se=mc_se(event, _clusters(samples, keep)),
        n_draws=int(m.shape[0]),
        n_statistics=len(chosen),
    )


def _joint_row(check: JointCheck, distribution: str, row_id: str, note: str) -> dict[str, object]:
    return {
        "id": row_id,
        "distribution": distribution,
        "n_draws": check.n_draws,
        "median": np.nan,
        "lower95": np.nan,
        "upper95": np.nan,
        "percentile": round(100.0 * check.p_value, 2),
        "mc_se": round(100.0 * check.mc_se, 2),
        "percentile_unrounded": np.nan,
        "outside95": bool(100 * check.p_value < TAIL),
        "note": note,
    }


def joint_rows(samples: Mapping[str, np.ndarray], distribution: str, refs) -> list[dict]:
    """The two joint rows of one distribution: all printed point estimates, and the subgroup
    pair."""
    j = joint_check(samples, refs)
    pair = subgroup_pair_check(samples, refs)
    return [
        _joint_row(
            j,
            distribution,
            JOINT_ID,
            f"{JOINT_METHOD}; distance {j.statistic:.2f} over {j.n_statistics} claims",
        ),
        _joint_row(pair, distribution, SUBGROUP_ID, SUBGROUP_METHOD),
    ]


def checks_table(
    prior_samples: Mapping[str, np.ndarray], post_samples: Mapping[str, np.ndarray]
) -> pd.DataFrame:
    refs = claim_refs()
    rows: list[dict[str, object]] = []
    for label, s in (("prior", prior_samples), ("posterior", post_samples)):
        rows += check_rows(s, label, refs)
        rows += joint_rows(s, label, refs)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("median", "lower95", "upper95"):
        frame[col] = frame[col].map(lambda v: float(f"{v:.6g}") if np.isfinite(v) else v)
    return frame


def draw_clusters(draws: Mapping[str, np.ndarray]) -> np.ndarray:
    """One label per draw: equal labels for draws with every parameter equal (one particle)."""
    m = np.column_stack([np.asarray(v, dtype=float) for _, v in sorted(draws.items())])
    _, labels = np.unique(m, axis=0, return_inverse=True)
    return labels.ravel().astype(float)


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
) -> PredictiveSamples:  # pragma: no mutate block
    # Not mutated: simulation orchestration (thousands of simulated trials), which no unit test
    # can run in seconds; the data regeneration test checks its output byte for byte.
    from anrs119.model.inference.statistics import base_values

    priors = priors or load_priors()
    base = dict(base) if base is not None else base_values(priors)
    sample = load_posterior() if sample is None else sample
    prior_d = prior_draws(priors, n_draws)
    prior = predictive_summaries(
        base, prior_d, PRIOR_PREDICTIVE_SEED, desc="prior-predictive trials", progress=progress
    )
    prior[CLUSTER_KEY] = draw_clusters(prior_d)
    post_d = posterior_draws(sample, n_draws)
    post = predictive_summaries(
        base,
        post_d,
        POSTERIOR_PREDICTIVE_SEED,
        desc="posterior-predictive trials",
        progress=progress,
    )
    post[CLUSTER_KEY] = draw_clusters(post_d)
    return PredictiveSamples(prior, post)


def write_checks(samples: PredictiveSamples, path: Path = CHECKS_FILE) -> Path:
    from anrs119.model.files import write_csv

    return write_csv(checks_table(samples.prior, samples.posterior), path)


def load_checks(path: Path = CHECKS_FILE) -> pd.DataFrame:
    return pd.read_csv(path)
