"""Judge a reproduced number against its published claim: ``exact``, ``close`` or ``off``.

``exact``: equal after the paper's own rounding (a bound such as "P < .001" is satisfied).
``close``: not exact, but changing one patient's outcome or value could give the published
number (the reach computed by ``anrs119.tolerance`` from the dataset in use).
``off``: neither, with the reason.
A "similar" statement gets its own verdict: ``consistent`` (no difference detected: the 95% CI
of the risk difference includes 0) or ``inconsistent``; it is never ``exact``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from anrs119.analysis.safety import SimilarityResult
from anrs119.published import parse_tolerance
from anrs119.report.text import fmt_p, fmt_signed
from anrs119.tolerance import Reach, is_exact, round_half_up, rounding_interval

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


def _target(claim: pd.Series) -> tuple[float, float]:
    """The reproduced values that print as the published one: [low, high)."""
    published = float(claim["value"])
    if claim["bound"] == "<":
        return -math.inf, published
    if claim["bound"] == ">":
        return math.nextafter(published, math.inf), math.inf
    return rounding_interval(published, int(claim["decimals"]))


def judge(claim: pd.Series, reproduced: float, reach: Reach | None) -> Verdict:
    """The verdict for one numeric claim (a registry row), its reproduced value and its reach.

    ``reach`` holds the values one patient's change can give on the dataset in use; without it
    (a dataset where the reach cannot be computed) nothing short of ``exact`` passes.
    """
    if claim["statistic"] == "similar":
        raise ValueError(
            f"claim {claim.name!r}: rule: a 'similar' statement is judged by "
            "judge_similar, not judge"
        )
    if math.isnan(reproduced):
        return Verdict("off", "could not be computed from the dataset")
    rule = parse_tolerance(claim["tolerance"]).rule
    if is_exact(claim, reproduced):
        if claim["bound"] in ("<", ">"):
            return Verdict("exact", f"{claim['bound']} the published bound {claim['value']:g}")
        return Verdict("exact", "equal after the paper's rounding")
    if reach is None:
        return Verdict("off", f"not equal, and the one-patient reach ({rule}) is not computed")
    low, high = _target(claim)
    if reach.reaches(low, high):
        return Verdict("close", f"one patient's change reaches it ({reach.detail})")
    return Verdict("off", f"more than one patient away ({reach.detail})")


def judge_similar(claim: pd.Series, result: SimilarityResult | Exception) -> Verdict:
    """``consistent`` when no difference is detected (the CI of the difference includes 0)."""
    if claim["statistic"] != "similar":
        raise ValueError(f"claim {claim.name!r}: rule: judge_similar takes 'similar' statements")
    if isinstance(result, Exception):
        return Verdict("inconsistent", f"could not be computed from the dataset ({result})")
    text = similarity_text(result)
    if result.difference_detected:
        return Verdict("inconsistent", f"the arms differ: {text}")
    return Verdict("consistent", f"no difference detected: {text}")


def similarity_text(result: SimilarityResult) -> str:
    """Counts, risk difference with its CI, risk ratio, Fisher P and the detectable difference."""
    counts = " vs ".join(f"{k}/{n}" for k, n in zip(result.patients, result.n, strict=True))
    level = f"{1 - result.alpha:.0%}"
    rd = (
        f"difference {fmt_signed(100 * result.risk_difference, 1)} points ({level} CI "
        f"{fmt_signed(100 * result.rd_ci_low, 1)} to {fmt_signed(100 * result.rd_ci_high, 1)})"
    )
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
        f"{counts}; {rd}; {rr}; Fisher {fmt_p(result.fisher_p)}; smallest increase detectable "
        f"with {result.power:.0%} power: {mdd}"
    )


def verdict_counts(labels: pd.Series) -> dict[str, int]:
    """How many claims got each verdict, in the order of ``LABELS``."""
    counts = labels.value_counts()
    return {label: int(counts.get(label, 0)) for label in LABELS}
