"""The estimand (ICH E9(R1)) carried by every analysis result: what each number estimates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Estimand:
    """The four attributes of an estimand that the book names for every result.

    ``population``: who is analysed (e.g. "all randomized, by ARM").
    ``variable``: the endpoint (e.g. "time to PRIMARY (ADTTE)").
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
