"""Judge a reproduced number against its published claim: ``exact``, ``close`` or ``off``.

``exact``: equal after the paper's own rounding (a bound such as "P < .001" is satisfied).
``close``: not exact, but one of the values one patient's change gives on the dataset in use
prints as the published number (the reach, listed value by value by ``anrs119.tolerance``).
``off``: neither, with the reason.
A "similar" statement gets its own verdict by the book's one rule
(:mod:`anrs119.analysis.similarity`): ``consistent`` (no difference detected: the 95% Newcombe
interval of the difference includes 0; absence of evidence, not shown similarity) or
``inconsistent`` (a difference is detected); it is never ``exact``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from anrs119.analysis.safety import SimilarityResult
from anrs119.published import parse_tolerance
from anrs119.report.text import fmt_p, fmt_signed
from anrs119.tolerance import Reach, is_exact, round_half_up

Label = Literal["exact", "close", "off", "consistent", "inconsistent"]
REPRODUCTION_LABELS: tuple[Label, ...] = ("exact", "close", "off")
SIMILARITY_LABELS: tuple[Label, ...] = ("consistent", "inconsistent")
LABELS: tuple[Label, ...] = REPRODUCTION_LABELS + SIMILARITY_LABELS
FAILING: frozenset[str] = frozenset({"off", "inconsistent"})
"""Verdicts that make ``python -m anrs119 scorecard`` exit non-zero."""


@dataclass(frozen=True)
class Verdict:
    label: Label
    reason: str


def format_like(claim: pd.Series, value: float) -> str:
    """A reproduced value printed the way the paper printed the claim."""
    if math.isnan(value):
        return "not estimable"  # e.g. beyond an arm's last follow-up (never extrapolated)
    if math.isinf(value):
        return "not reached" if value > 0 else "-inf"
    decimals = int(claim["decimals"]) if not pd.isna(claim["decimals"]) else 0
    statistic = claim["statistic"]
    if statistic in ("p_value", "similar"):
        return fmt_p(value, decimals=max(decimals, 2))
    if statistic == "proportion":
        return f"{round_half_up(value, decimals):.{decimals}f}%"
    if statistic == "median_change":
        return fmt_signed(round_half_up(value, decimals), decimals)
    unit = f" {claim['unit']}" if claim["unit"] else ""
    return f"{round_half_up(value, decimals):.{decimals}f}{unit}"


def judge(claim: pd.Series, reproduced: float, reach: Reach | None) -> Verdict:
    """The verdict for one numeric claim (a registry row), its reproduced value and its reach.

    ``reach`` lists the values one patient's change gives on the dataset in use; ``close`` needs
    one of them to print as the published number. Without a reach (a dataset where it cannot be
    computed) nothing short of ``exact`` passes.
    """
    if claim["statistic"] == "similar":
        raise ValueError(
            f"claim {claim.name!r}: rule: a 'similar' statement is judged by "
            "judge_similar, not judge"
        )
    if math.isnan(reproduced):
        return Verdict("off", "could not be computed from the dataset (not estimable)")
    if math.isinf(reproduced):
        return Verdict("off", "not reached in one arm by the end of follow-up")
    rule = parse_tolerance(claim["tolerance"]).rule
    if is_exact(claim, reproduced):
        if claim["bound"] in ("<", ">"):
            return Verdict("exact", f"{claim['bound']} the published bound {claim['value']:g}")
        return Verdict("exact", "equal after the paper's rounding")
    if reach is None:
        return Verdict("off", f"not equal, and the one-patient reach ({rule}) is not computed")
    hits = reach.printing(claim)
    if hits:
        nearest = min(hits, key=lambda v: abs(v - reproduced))
        return Verdict(
            "close",
            f"one patient's change gives {format_like(claim, nearest)} ({reach.detail})",
        )
    if reach.prints(claim):
        return Verdict("close", f"one patient's change reaches it ({reach.detail})")
    return Verdict(
        "off",
        f"none of the values one patient's change gives prints as {claim['reported_as']} "
        f"({reach.detail})",
    )


def judge_similar(claim: pd.Series, result: SimilarityResult | Exception) -> Verdict:
    """``consistent`` when the one rule detects no difference (the interval includes 0)."""
    if claim["statistic"] != "similar":
        raise ValueError(f"claim {claim.name!r}: rule: judge_similar takes 'similar' statements")
    if isinstance(result, Exception):
        return Verdict("inconsistent", f"could not be computed from the dataset ({result})")
    text = similarity_text(result)
    if result.difference_detected:
        return Verdict("inconsistent", text)
    return Verdict("consistent", text)


def similarity_text(result: SimilarityResult) -> str:
    """The one rule's sentence (difference, interval, largest difference not excluded, what it
    can show), then the risk ratio and the smallest increase the trial would detect."""
    rr = (
        f"risk ratio {result.risk_ratio:.2f} ({result.rr_ci_low:.2f} to {result.rr_ci_high:.2f})"
        if math.isfinite(result.risk_ratio)
        else "risk ratio not defined"
    )
    mdd = (
        f"{100 * result.detectable_difference:.0f} points"
        if math.isfinite(result.detectable_difference)
        else "none"
    )
    return (
        f"{result.sentence()}; {rr}; smallest increase a trial of these arm sizes detects "
        f"with {result.power:.0%} power: {mdd}"
    )


def verdict_counts(labels: pd.Series) -> dict[str, int]:
    """How many claims got each verdict, in the order of ``LABELS``."""
    counts = labels.value_counts()
    return {label: int(counts.get(label, 0)) for label in LABELS}
