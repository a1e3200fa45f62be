"""Judge a reproduced number against its published claim: ``exact``, ``close`` or ``off``.

``exact``: equal after the paper's own rounding (a bound such as "P < .001" is satisfied).
``close``: within the registry's tolerance (for P values: the same side of the level).
``off``: neither, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import pandas as pd

from anrs119.published import parse_tolerance
from anrs119.report.text import fmt_p, fmt_signed

Label = Literal["exact", "close", "off"]
LABELS: tuple[Label, ...] = ("exact", "close", "off")


@dataclass(frozen=True)
class Verdict:
    label: Label
    reason: str


def round_half_up(value: float, decimals: int) -> float:
    """Round as printed tables do (0.0085 -> 0.009, -63.5 -> -64), not to even."""
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


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


def judge(claim: pd.Series, reproduced: float) -> Verdict:
    """The verdict for one claim (a registry row) and its reproduced value (printed unit).

    For a ``similar`` claim the reproduced value is the P value of the between-arm comparison.
    """
    if math.isnan(reproduced):
        return Verdict("off", "could not be computed from the dataset")
    tolerance = parse_tolerance(claim["tolerance"])
    statistic = claim["statistic"]
    if statistic == "similar":
        alpha = tolerance.amount
        if reproduced >= alpha:
            return Verdict("exact", f"no difference between arms at the {alpha:g} level")
        return Verdict("off", f"arms differ ({fmt_p(reproduced)} < {alpha:g})")
    published = float(claim["value"])
    decimals = int(claim["decimals"])
    if statistic == "p_value":
        return _judge_p(claim["bound"], published, decimals, reproduced, tolerance.amount)
    if round_half_up(reproduced, decimals) == published:
        return Verdict("exact", "equal after the paper's rounding")
    difference = reproduced - published
    if abs(difference) <= tolerance.amount:
        return Verdict(
            "close", f"differs by {difference:+.{decimals + 1}f} (tolerance {tolerance.amount:g})"
        )
    return Verdict(
        "off",
        f"differs by {difference:+.{decimals + 1}f}, beyond the tolerance {tolerance.amount:g}",
    )


def _judge_p(bound: str, published: float, decimals: int, p: float, alpha: float) -> Verdict:
    if bound == "<":
        if p < published:
            return Verdict("exact", f"below the published bound {published:g}")
        published_significant = published <= alpha
    elif bound == ">":
        if p > published:
            return Verdict("exact", f"above the published bound {published:g}")
        published_significant = False
    else:
        if round_half_up(p, decimals) == published:
            return Verdict("exact", "equal after the paper's rounding")
        published_significant = published < alpha
    if (p < alpha) == published_significant:
        side = "below" if published_significant else "at or above"
        return Verdict("close", f"same conclusion: both {side} {alpha:g}")
    return Verdict("off", f"opposite conclusion at the {alpha:g} level ({fmt_p(p)})")


def verdict_counts(labels: pd.Series) -> dict[str, int]:
    """How many claims got each verdict, in the order exact, close, off."""
    counts = labels.value_counts()
    return {label: int(counts.get(label, 0)) for label in LABELS}
