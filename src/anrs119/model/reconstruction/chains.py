"""Convergence diagnostics of Markov chains: rank-normalised split R-hat and bulk effective sample
size (Vehtari, Gelman, Simpson, Carpenter and Buerkner, Bayesian Analysis 2021;16:667-718), with
the autocorrelations from statsmodels. Used on the walk within the exact set of reconstructions.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def split_chains(draws: np.ndarray) -> np.ndarray:
    """(C, N) chains -> (2C, N // 2): each chain cut in two halves (a trend within a chain then
    shows as disagreement between its halves)."""
    x = np.asarray(draws, dtype=float)
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, half : 2 * half]], axis=0)


def rank_normalise(draws: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks (average ranks for ties; Blom's offset 3/8), same shape.
    Infinite values rank above every finite one, so quantities not reached still have a rank."""
    x = np.asarray(draws, dtype=float)
    r = stats.rankdata(x, method="average").reshape(x.shape)
    return stats.norm.ppf((r - 0.375) / (x.size + 0.25))


def _within_between(z: np.ndarray) -> tuple[float, float, int]:
    n = z.shape[1]
    w = float(np.mean(np.var(z, axis=1, ddof=1)))
    b = float(n * np.var(np.mean(z, axis=1), ddof=1))
    return w, b, n


def rhat(draws: np.ndarray) -> float:
    """Rank-normalised split R-hat of (C, N) chains: near 1 when the chains agree; NaN when the
    quantity does not vary at all."""
    z = split_chains(draws)
    if np.ptp(np.asarray(draws, dtype=float)[np.isfinite(draws)]) == 0 and np.all(
        np.isfinite(draws)
    ):
        return math.nan
    z = rank_normalise(z)
    w, b, n = _within_between(z)
    if w <= 0:
        return math.nan
    var_plus = (n - 1) / n * w + b / n
    return float(math.sqrt(var_plus / w))


def autocorrelation(x: np.ndarray, nlags: int) -> np.ndarray:
    """Autocorrelations at lags 0..nlags (statsmodels' FFT estimator, biased denominators)."""
    from statsmodels.tsa.stattools import acf

    x = np.asarray(x, dtype=float)
    if np.var(x) == 0:
        out = np.zeros(nlags + 1)
        out[0] = 1.0
        return out
    return np.asarray(acf(x, nlags=nlags, fft=True), dtype=float)


def ess(draws: np.ndarray) -> float:
    """Bulk effective sample size of (C, N) chains: rank-normalised split chains, the combined
    autocorrelation of Vehtari et al. (eq. 10) truncated by Geyer's initial monotone sequence.
    NaN when the quantity does not vary."""
    raw = np.asarray(draws, dtype=float)
    if np.all(np.isfinite(raw)) and np.ptp(raw) == 0:
        return math.nan
    z = rank_normalise(split_chains(raw))
    m, n = z.shape
    w, b, _ = _within_between(z)
    var_plus = (n - 1) / n * w + b / n
    if var_plus <= 0:
        return math.nan
    acov = np.stack([autocorrelation(c, n - 1) * np.var(c) for c in z])  # biased autocovariances
    rho = 1.0 - (w - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # Geyer: sums of consecutive pairs, kept while positive, made monotone
    tau = -1.0
    prev = math.inf
    for t in range(0, n - 1, 2):
        pair = rho[t] + rho[t + 1]
        if pair <= 0:
            break
        pair = min(pair, prev)
        prev = pair
        tau += 2.0 * pair
    tau = max(tau, 1.0 / math.log10(m * n))  # Stan's cap on antithetic chains
    return float(m * n / tau)
