"""The ABC statistics: each numeric result claim of the registry on the scale it is compared on
(P values on log10, bounds as one-sided excess), and the fixed base values of the model."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from anrs119.model.inference.priors import Priors

P_FLOOR: float = 1e-12
"""P values are compared on the log10 scale, floored here (a simulated P of 0 is finite)."""


@dataclass(frozen=True)
class Statistic:
    """One numeric result claim as an ABC statistic."""

    id: str
    value: float
    bound: str
    log_scale: bool
    cap: float | None = None

    @property
    def observed(self) -> float:
        """The published value on the statistic's scale (0 for a bound: no excess)."""
        if self.bound != "=":
            return 0.0
        return float(_log_p(np.array(self.value))) if self.log_scale else self.value


def _log_p(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.log10(np.clip(x, P_FLOOR, 1.0))


def statistics(specs: Sequence | None = None) -> tuple[Statistic, ...]:
    """The numeric result claims of the registry, as ABC statistics.

    A bound such as "P < .001" becomes the one-sided excess ``max(log10 P - log10 .001, 0)``,
    observed as 0; the deferral (a difference of quantiles of time to ART) is capped at plus
    or minus the subgroup week when one arm's quantile is not reached, and set to 0 when
    neither is.
    """
    from anrs119.published import claim_value, load_claims

    c = load_claims()
    res = c[(c["kind"] == "result") & c["value"].notna()]
    cap = float(claim_value("subgroup_timepoint_weeks"))
    out = []
    for cid, r in res.iterrows():
        out.append(
            Statistic(
                id=str(cid),
                value=float(r["value"]),
                bound=str(r["bound"]),
                log_scale=r["statistic"] == "p_value",
                cap=cap if r["statistic"] == "difference" else None,
            )
        )
    return tuple(out)


def transform(stat: Statistic, x: np.ndarray) -> np.ndarray:
    """Summary values (printed units) -> the statistic's scale (see :func:`statistics`)."""
    x = np.asarray(x, dtype=float)
    if stat.log_scale:
        y = _log_p(x)
        if stat.bound == "<":
            y = np.maximum(y - math.log10(stat.value), 0.0)
        elif stat.bound == ">":
            y = np.maximum(math.log10(stat.value) - y, 0.0)
        return y
    if stat.bound == "<":
        return np.maximum(x - stat.value, 0.0)
    if stat.bound == ">":
        return np.maximum(stat.value - x, 0.0)
    if stat.cap is not None:
        x = np.where(np.isnan(x), 0.0, np.clip(x, -stat.cap, stat.cap))
    return x


def observed_statistics(stats_: Sequence[Statistic]) -> dict[str, float]:
    return {s.id: s.observed for s in stats_}


def statistic_values(
    summaries: Mapping[str, np.ndarray], stats_: Sequence[Statistic]
) -> dict[str, np.ndarray]:
    return {s.id: transform(s, summaries[s.id]) for s in stats_}


def base_values(priors: Priors) -> dict[str, float]:
    """Fixed parameters (literature, assumed, registry, published) plus the prior medians."""
    from anrs119.model.simulator.parameters import default_parameters

    base = default_parameters(calibrated=False).values()
    base.update(priors.medians())
    return base


# ---------------------------------------------------------------- the posterior's statistics


def print_round(x: np.ndarray, decimals: int) -> np.ndarray:
    """Round as the paper prints (half away from zero: 63.5 -> 64, -63.5 -> -64), vectorised.

    Rounding first to 9 decimals removes binary representation error (0.015 is stored as
    0.01499...), so the result equals :func:`anrs119.tolerance.round_half_up` on every value a
    trial of this size can produce; NaN and infinities pass through.
    """
    x = np.asarray(x, dtype=float)
    q = 10.0**decimals
    with np.errstate(invalid="ignore"):
        scaled = np.round(np.abs(x) * q, 9)
        return np.sign(x) * np.floor(scaled + 0.5) / q


@dataclass(frozen=True)
class PrintedStatistic:
    """One published point estimate as the posterior compares it: the simulated value printed
    as the paper prints it (``decimals``), a quantile difference capped at +/- ``cap``."""

    id: str
    value: float
    decimals: int
    cap: float | None = None

    def printed(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.cap is not None:
            # a deferral whose quantiles are not reached within follow-up: capped as in
            # :func:`transform`, so every simulated trial has a value
            x = np.where(np.isnan(x), 0.0, np.clip(x, -self.cap, self.cap))
        return print_round(x, self.decimals)


def posterior_statistics(claims=None) -> tuple[PrintedStatistic, ...]:
    """The statistics the posterior conditions on: every published point estimate (the result
    claims with a value, printed as ``=``, that are not P values), in registry order.

    P values are left out: each is a function of two point estimates already in, and of the
    spread of the values, which adds a correlated, noisy dimension to the distance (rejection
    ABC loses accuracy with every dimension). The bounds ("P < .001") are met by almost every
    trial near the published estimates. ``claims`` is a claims table in the registry's format
    (default: the registry), so a what-if abstract gets the same statistics.
    """
    from anrs119.published import claim_value, load_claims

    c = load_claims() if claims is None else claims
    res = c[
        (c["kind"] == "result")
        & c["value"].notna()
        & (c["bound"] == "=")
        & (c["statistic"] != "p_value")
    ]
    cap = float(claim_value("subgroup_timepoint_weeks"))
    return tuple(
        PrintedStatistic(
            id=str(cid),
            value=float(r["value"]),
            decimals=int(r["decimals"]),
            cap=cap if r["statistic"] == "difference" else None,
        )
        for cid, r in res.iterrows()
    )


def printed_matrix(
    summaries: Mapping[str, np.ndarray], stats_: Sequence[PrintedStatistic]
) -> np.ndarray:
    """(trials, statistics) matrix of simulated values printed as the paper prints them."""
    return np.column_stack([s.printed(summaries[s.id]) for s in stats_])


def observed_vector(stats_: Sequence[PrintedStatistic]) -> np.ndarray:
    """The published values, in the order of ``stats_``."""
    return np.array([s.value for s in stats_], dtype=float)
