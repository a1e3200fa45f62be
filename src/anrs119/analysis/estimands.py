"""The estimand (ICH E9(R1)) carried by every analysis result: what each number estimates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Estimand:
    """The four attributes of an estimand that the book names for every result.

    ``population``: who is analyzed (e.g. "all randomized patients, by arm").
    ``variable``: the end point (e.g. "time to the primary end point (ADTTE PRIMARY), in weeks").
    ``intercurrent_event_strategy``: how ART initiation, death, loss to follow-up are handled.
    ``summary_measure``: the population-level summary (e.g. "Kaplan-Meier median").
    """

    population: str
    variable: str
    intercurrent_event_strategy: str
    summary_measure: str

    def describe(self) -> str:
        """One line, for captions and tables."""
        return (
            f"{self.summary_measure} of {self.variable} in {self.population}; "
            f"intercurrent events: {self.intercurrent_event_strategy}"
        )


ENDPOINT_NAMES: dict[str, str] = {
    "PRIMARY": "the primary end point",
    "ARTINIT": "ART initiation",
    "CD4LT300": "a confirmed CD4 count below 300 cells/µL",
    "AIDSDTH": "an AIDS-defining event or death",
    "DEATH": "death",
}
"""Reader words for the ADTTE parameters (PARAMCD) the estimand boxes name."""


def endpoint_name(paramcd: str) -> str:
    """The end point in words, with its ADTTE parameter code (a data holder's key)."""
    name = ENDPOINT_NAMES.get(paramcd)
    return f"{name} (ADTTE {paramcd})" if name else f"ADTTE parameter {paramcd}"


def arm_population(groups: Sequence[str], n: Sequence[int], by: str = "ARM") -> str:
    """The randomized patients analyzed, by arm (or by another ADSL column), with each group's
    size: the sizes say whether it is everyone or a subgroup (the analyses do not know which)."""
    parts = ", ".join(f"{g} n={k}" for g, k in zip(groups, n, strict=True))
    split = "by arm" if by == "ARM" else f"by {by}"
    return f"randomized patients analyzed, {split} ({parts})"


STRATEGIES: tuple[str, ...] = (
    "treatment policy",
    "composite",
    "hypothetical",
    "while on treatment",
    "principal stratum",
)
"""The five intercurrent-event strategies of ICH E9(R1)."""


@dataclass(frozen=True)
class IntercurrentEvent:
    """One intercurrent event and how an estimand handles it (an ICH E9(R1) strategy)."""

    event: str
    strategy: str
    """One of :data:`STRATEGIES`, possibly qualified after a colon (e.g. "hypothetical: naive")."""
    how: str

    def __post_init__(self) -> None:
        if self.strategy.split(":")[0] not in STRATEGIES:
            raise ValueError(
                f"intercurrent event {self.event!r}: strategy {self.strategy!r}: rule: one of "
                f"{list(STRATEGIES)} (optionally qualified after a colon)"
            )

    def describe(self) -> str:
        return f"{self.event}: {self.strategy} ({self.how})"


@dataclass(frozen=True)
class SapEstimand:
    """A statistical-analysis-plan row: what one claim's numbers estimate, and how tested."""

    claim: str
    label: str
    population: str
    variable: str
    intercurrent: tuple[IntercurrentEvent, ...]
    missing_data: str
    summary_measure: str
    test: str


def sap_table(entries: Sequence[SapEstimand]) -> pd.DataFrame:
    """One row per claim with the six attributes (intercurrent events joined by "; ")."""
    return pd.DataFrame(
        [
            {
                "claim": e.claim,
                "label": e.label,
                "population": e.population,
                "variable": e.variable,
                "intercurrent_events": "; ".join(i.describe() for i in e.intercurrent),
                "missing_data": e.missing_data,
                "summary_measure": e.summary_measure,
                "test": e.test,
            }
            for e in entries
        ]
    )
