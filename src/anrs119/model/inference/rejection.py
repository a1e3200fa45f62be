"""Rejection ABC with local-linear regression adjustment (Beaumont, Zhang and Balding, Genetics
2002;162:2025-35) on the reference table: the posterior of the free parameters given any printed
abstract, in a fraction of a second once the table exists.

1. Distance: Euclidean, each statistic divided by its median absolute deviation over the table.
2. Rejection: the ``accepted`` nearest trials are kept, with Epanechnikov weights
   ``1 - (d / h)^2``, the bandwidth ``h`` being the distance of the next trial.
3. Adjustment: on an unbounded scale (log, or logit between two bounds, as the prior's support
   asks), each parameter is regressed on the statistics' departures from the observed ones by
   weighted least squares, and each kept draw is moved along the fitted slope to the observed
   statistics: ``theta* = theta - (s - s_obs) beta``.

Every step is deterministic: the same table and abstract give the same sample, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anrs119.model.inference.priors import FREE_PARAMETERS, Priors, load_priors
from anrs119.model.inference.reference import ReferenceTable
from anrs119.model.inference.sample import weighted_quantile

ACCEPTED: int = 2000
"""Trials kept by default (the posterior run chooses its own, see :mod:`.posterior`)."""

NEIGHBOURHOOD: int = 3
"""Trials considered for a fit of ``accepted``, as a multiple of it: enough for every
bootstrap replicate's bandwidth (Poisson counts sum to about the number of trials)."""


# ---------------------------------------------------------------- scales


def statistic_scales(statistics: np.ndarray) -> np.ndarray:
    """Median absolute deviation of each statistic (scaled to the SD of a normal), or its SD
    where the MAD is 0 (a statistic with more than half its values equal), over the trials
    where it exists (a median change needs at least one patient still off ART)."""
    med = np.nanmedian(statistics, axis=0)
    mad = 1.4826 * np.nanmedian(np.abs(statistics - med), axis=0)
    sd = np.nanstd(statistics, axis=0)
    return np.where(mad > 0, mad, np.where(sd > 0, sd, 1.0))


# ---------------------------------------------------------------- unbounded coordinates


@dataclass(frozen=True)
class Unbounded:
    """Maps each parameter to an unbounded scale and back: log for a log-normal prior, log of
    the distance to a one-sided bound, logit between two bounds, identity otherwise."""

    kinds: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def from_priors(cls, priors: Priors, names: Sequence[str] = FREE_PARAMETERS) -> Unbounded:
        kinds, lo, hi = [], [], []
        for name in names:
            p = priors[name]
            a = -math.inf if p.lower is None else p.lower
            b = math.inf if p.upper is None else p.upper
            if p.log_scale:
                a = max(a, 0.0)
            if math.isfinite(a) and math.isfinite(b):
                kinds.append("logit")
            elif math.isfinite(a):
                kinds.append("log_lower")
            elif math.isfinite(b):
                kinds.append("log_upper")
            else:
                kinds.append("identity")
            lo.append(a)
            hi.append(b)
        return cls(tuple(kinds), np.array(lo), np.array(hi))

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x, dtype=float)
        for j, kind in enumerate(self.kinds):
            v, a, b = x[:, j], self.lower[j], self.upper[j]
            if kind == "logit":
                z = (v - a) / (b - a)
                out[:, j] = np.log(z) - np.log1p(-z)
            elif kind == "log_lower":
                out[:, j] = np.log(v - a)
            elif kind == "log_upper":
                out[:, j] = np.log(b - v)
            else:
                out[:, j] = v
        return out

    def backward(self, u: np.ndarray) -> np.ndarray:
        out = np.empty_like(u, dtype=float)
        for j, kind in enumerate(self.kinds):
            v, a, b = u[:, j], self.lower[j], self.upper[j]
            if kind == "logit":
                out[:, j] = a + (b - a) / (1.0 + np.exp(-v))
            elif kind == "log_lower":
                out[:, j] = a + np.exp(v)
            elif kind == "log_upper":
                out[:, j] = b - np.exp(v)
            else:
                out[:, j] = v
        return out


# ---------------------------------------------------------------- one fit


@dataclass(frozen=True)
class Neighbourhood:
    """The trials nearest the observed statistics, in order of distance (ties by table row)."""

    rows: np.ndarray
    distance: np.ndarray
    theta: np.ndarray
    """Parameters on the unbounded scale."""
    departure: np.ndarray
    """Statistics minus the observed ones (printed units)."""


def neighbourhood(
    table: ReferenceTable,
    observed: np.ndarray,
    size: int,
    *,
    scales: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    unbounded: Unbounded | None = None,
) -> Neighbourhood:
    """The ``size`` nearest trials (``exclude``: table rows left out, e.g. the trial whose
    printed abstract plays the observed one in a calibration)."""
    scales = statistic_scales(table.statistics) if scales is None else scales
    unbounded = (
        Unbounded.from_priors(load_priors(), table.names) if unbounded is None else unbounded
    )
    dep = table.statistics - observed
    d = np.sqrt(np.sum((dep / scales) ** 2, axis=1))
    # a trial that cannot print one of the statistics (nobody left to give a median) did not
    # print the abstract: it is never near it
    d[np.isnan(d)] = np.inf
    if exclude is not None:
        d[np.asarray(exclude)] = np.inf
    size = min(size, len(d))
    near = np.argpartition(d, size - 1)[:size] if size < len(d) else np.arange(len(d))
    order = near[np.lexsort((near, d[near]))]
    return Neighbourhood(order, d[order], unbounded.forward(table.parameters[order]), dep[order])


@dataclass(frozen=True)
class Fit:
    """Adjusted (or merely accepted) draws on the unbounded scale, with their weights."""

    theta: np.ndarray
    weight: np.ndarray
    bandwidth: float
    rows: np.ndarray

    @property
    def ess(self) -> float:
        w = self.weight
        return float(w.sum() ** 2 / np.sum(w**2))


def fit(nb: Neighbourhood, accepted: int, *, adjust: bool = True,
        counts: np.ndarray | None = None) -> Fit:  # fmt: skip
    """Rejection (Epanechnikov weights) and, if ``adjust``, the local-linear adjustment, on the
    nearest ``accepted`` trials of ``nb``; ``counts`` (Poisson bootstrap) repeats trials."""
    counts = np.ones(len(nb.rows)) if counts is None else np.asarray(counts, dtype=float)
    cum = np.cumsum(counts)
    j = int(np.searchsorted(cum, accepted + 1))
    if j >= len(cum):
        raise ValueError(f"the neighbourhood holds fewer than {accepted + 1} trials")
    h = float(nb.distance[j])
    w = counts[:j] * (1.0 - (nb.distance[:j] / h) ** 2)
    keep = w > 0
    theta, dep, w = nb.theta[:j][keep], nb.departure[:j][keep], w[keep]
    if adjust:
        theta = theta - dep @ local_linear_slopes(theta, dep, w)
    return Fit(theta, w, h, nb.rows[:j][keep])


def local_linear_slopes(theta: np.ndarray, departure: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares of ``theta`` (n, p) on ``[1, departure]`` (n, m): the slopes
    (m, p). Statistics constant among the kept trials get a slope of 0 (least-squares minimum
    norm), so they move nothing."""
    x = np.column_stack([np.ones(len(w)), departure])
    sw = np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(x * sw, theta * sw, rcond=None)
    return coef[1:]


# ---------------------------------------------------------------- the posterior of an abstract


@dataclass(frozen=True)
class AbcPosterior:
    """A posterior sample (one row per kept trial, natural scale, normalised ``weight``)."""

    sample: pd.DataFrame
    accepted: int
    bandwidth: float
    ess: float
    adjusted: bool


def to_sample(f: Fit, unbounded: Unbounded, names: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(unbounded.backward(f.theta), columns=list(names))
    frame["weight"] = f.weight / f.weight.sum()
    return frame


def abc_posterior(
    observed: Mapping[str, float] | np.ndarray,
    table: ReferenceTable,
    *,
    accepted: int = ACCEPTED,
    adjust: bool = True,
    exclude: np.ndarray | None = None,
    scales: np.ndarray | None = None,
    priors: Priors | None = None,
) -> AbcPosterior:
    """The posterior given ``observed`` printed statistics (by id, or in the table's order)."""
    obs = (
        np.array([observed[i] for i in table.statistic_ids], dtype=float)
        if isinstance(observed, Mapping)
        else np.asarray(observed, dtype=float)
    )
    unb = Unbounded.from_priors(load_priors() if priors is None else priors, table.names)
    nb = neighbourhood(table, obs, NEIGHBOURHOOD * accepted, scales=scales, exclude=exclude,
                       unbounded=unb)  # fmt: skip
    f = fit(nb, accepted, adjust=adjust)
    return AbcPosterior(to_sample(f, unb, table.names), accepted, f.bandwidth, f.ess, adjust)


def quantiles(f: Fit, probs: Sequence[float], unbounded: Unbounded) -> np.ndarray:
    """(parameters, probs) weighted quantiles on the natural scale (monotone maps commute
    with quantiles, so they are taken on the unbounded scale and mapped back)."""
    q = np.column_stack([weighted_quantile(f.theta[:, j], f.weight, probs)
                         for j in range(f.theta.shape[1])])  # fmt: skip
    return unbounded.backward(np.atleast_2d(q)).T
