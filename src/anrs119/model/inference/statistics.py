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
