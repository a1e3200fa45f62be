"""The stored posterior sample (``data/model/posterior.csv``): writing, loading and validating it,
weighted quantiles and medians, and resampling draws from it. Needs only numpy and pandas."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.inference.priors import FREE_PARAMETERS
from anrs119.paths import MODEL_DIR

POSTERIOR_FILE: Path = MODEL_DIR / "posterior.csv"


POSTERIOR_DIGITS: int = 5
"""Significant digits of the stored parameter values (far below Monte Carlo error)."""


def _round_sig(x: np.ndarray, digits: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(x != 0, np.floor(np.log10(np.abs(x))), 0.0)
    factor = 10.0 ** (digits - 1 - mag)
    return np.round(x * factor) / factor


def round_sample(sample: pd.DataFrame, digits: int = POSTERIOR_DIGITS) -> pd.DataFrame:
    out = sample.copy()
    for col in out.columns:
        out[col] = _round_sig(out[col].to_numpy(), digits)
    return out


def write_posterior(sample: pd.DataFrame, path: Path = POSTERIOR_FILE) -> Path:
    from anrs119.model.files import write_csv

    cols = [*FREE_PARAMETERS, "weight"]
    missing = [c for c in cols if c not in sample.columns]
    if missing:
        raise ValueError(f"posterior sample lacks columns {missing}")
    return write_csv(round_sample(sample[cols]), path)


class PosteriorError(ValueError):
    """The stored posterior sample is missing or malformed (file, line, column, rule)."""


def load_posterior(path: Path = POSTERIOR_FILE) -> pd.DataFrame:
    """The stored weighted sample, validated: one column per free parameter plus ``weight``."""
    from anrs119.published import display_path

    shown = display_path(path)
    if not path.exists():
        raise PosteriorError(
            f"{shown}: file missing; rule: run `python -m anrs119 calibrate` to compute it"
        )
    frame = pd.read_csv(path)
    cols = [*FREE_PARAMETERS, "weight"]
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise PosteriorError(f"{shown}: columns {missing}: rule: every free parameter and weight")
    for col in cols:
        bad = ~np.isfinite(pd.to_numeric(frame[col], errors="coerce"))
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise PosteriorError(f"{shown}: line {line}: column {col}: rule: a finite number")
    if (frame["weight"] < 0).any() or frame["weight"].sum() <= 0:
        raise PosteriorError(f"{shown}: column weight: rule: non-negative, positive total")
    frame = frame[cols].astype(float)
    frame["weight"] = frame["weight"] / frame["weight"].sum()
    return frame


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: Sequence[float] | float) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted CDF at mid-points)."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(q, dtype=float), cdf, x)


def posterior_medians(sample: pd.DataFrame | None = None) -> dict[str, float]:
    """Weighted posterior median of every free parameter (the point used for the embedded trial)."""
    sample = load_posterior() if sample is None else sample
    w = sample["weight"].to_numpy()
    return {
        n: float(_round_sig(weighted_quantile(sample[n].to_numpy(), w, 0.5), POSTERIOR_DIGITS))
        for n in FREE_PARAMETERS
    }


def resample(sample: pd.DataFrame, size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``size`` draws from the weighted sample (systematic resampling: low variance)."""
    w = sample["weight"].to_numpy()
    cdf = np.cumsum(w) / w.sum()
    u = (rng.random() + np.arange(size)) / size
    idx = np.minimum(np.searchsorted(cdf, u, side="right"), len(w) - 1)
    idx = rng.permutation(idx)
    return {n: sample[n].to_numpy()[idx] for n in FREE_PARAMETERS}
