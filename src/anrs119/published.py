"""Load and validate the claims registry: every number the paper and the trial registry publish.

The registry (``data/published/claims.csv``) is the only place where published numbers are
typed by hand. Each row is checked against the rules below before anything uses it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from anrs119.paths import PUBLISHED_DIR, REPO_ROOT

CLAIMS_FILE: Path = PUBLISHED_DIR / "claims.csv"

COLUMNS: tuple[str, ...] = (
    "id",
    "claim",
    "kind",
    "population",
    "endpoint",
    "timepoint_weeks",
    "arm",
    "statistic",
    "bound",
    "value",
    "unit",
    "reported_as",
    "decimals",
    "tolerance",
    "source",
    "quote",
)
KINDS: frozenset[str] = frozenset({"result", "design"})
POPULATIONS: frozenset[str] = frozenset({"all", "lowvl"})
ARMS_ALLOWED: frozenset[str] = frozenset({"IL-2", "Control", "both", "difference"})
BOUNDS: frozenset[str] = frozenset({"=", "<", ">"})
SOURCES: frozenset[str] = frozenset({"S1", "S2"})

# Allowed range of `value` for each statistic, in the printed unit.
STATISTIC_RANGES: dict[str, tuple[float, float]] = {
    "proportion": (0.0, 100.0),
    "p_value": (0.0, 1.0),
    "median_change": (-math.inf, math.inf),
    "difference": (-math.inf, math.inf),
    "similar": (math.nan, math.nan),  # no value: a qualitative statement
    "count": (0.0, math.inf),
    "threshold": (0.0, math.inf),
    "timepoint": (0.0, 1000.0),
    "interval": (0.0, 1000.0),
    "dose": (0.0, math.inf),
    "date": (190001.0, 210012.0),
}
TOLERANCE_RULES: dict[str, frozenset[str]] = {
    # rule name -> the statistics it applies to. The registry names the rule; the amount is
    # computed for the dataset in use (anrs119.tolerance), so it follows the data's granularity.
    "one_patient": frozenset({"proportion"}),
    "one_event": frozenset({"proportion"}),
    "neighbouring_order_statistics": frozenset({"median_change"}),
    "one_patient_p": frozenset({"p_value"}),
    "neighbouring_event_times": frozenset({"difference"}),
    "no_difference_detected": frozenset({"similar"}),
    "none": frozenset(STATISTIC_RANGES),
}

_MONTH_NAMES = (
    "january february march april may june july august september october november december"
)
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES.split(), start=1)}
_WORD_NUMBERS = {"once": 1.0, "twice": 2.0, "two": 2.0, "three": 3.0}
_NUMBER = re.compile(r"(?P<op><|>|=|below|above)?\s*(?P<num>[+\-]?(?:\d+\.?\d*|\.\d+))")


class ClaimsError(ValueError):
    """A row of the claims registry breaks a rule; the message names file, line, field and rule."""


@dataclass(frozen=True)
class Reported:
    """What a printed value such as ``"P < .001"`` or ``"+0.02"`` says."""

    bound: str
    value: float
    decimals: int


@dataclass(frozen=True)
class Tolerance:
    """The registry's tolerance rule for one claim: a name, never an amount (see the scorecard).

    The amount (how far one patient's change can move the number) depends on the dataset and is
    computed by ``anrs119.tolerance``.
    """

    rule: str


def display_path(path: Path | str) -> str:
    """A path as shown in error messages: relative to the repository when inside it."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(path)


def parse_reported(text: str, statistic: str) -> Reported:
    """Parse the exact printed form of a published value into bound, value and decimals."""
    lowered = text.strip().lower()
    if statistic == "similar":
        if "similar" not in lowered:
            raise ValueError("a 'similar' statement must say 'similar'")
        return Reported("=", math.nan, 0)
    if statistic == "date":
        month, _, year = lowered.partition(" ")
        if month not in _MONTHS or not year.isdigit():
            raise ValueError("a date must read like 'December 2003'")
        return Reported("=", float(int(year) * 100 + _MONTHS[month]), 0)
    for word, number in _WORD_NUMBERS.items():
        if word in lowered.split():
            return Reported("=", number, 0)
    match = _NUMBER.search(lowered)
    if match is None:
        raise ValueError("no number found")
    op = {"below": "<", "above": ">", None: "="}.get(match["op"], match["op"])
    number = match["num"]
    decimals = len(number.split(".")[1]) if "." in number else 0
    return Reported(op, float(number), decimals)


def parse_tolerance(text: str) -> Tolerance:
    """Parse a tolerance rule: one of the names in ``TOLERANCE_RULES`` (no amount)."""
    rule = text.strip()
    if rule not in TOLERANCE_RULES:
        hint = " (amounts are computed from the data, not typed)" if ":" in rule else ""
        raise ValueError(f"rule must be one of {sorted(TOLERANCE_RULES)}{hint}")
    return Tolerance(rule)


def _check_row(row: pd.Series) -> list[tuple[str, str, str]]:
    """Return (field, rule, got) for every rule the row breaks."""
    problems: list[tuple[str, str, str]] = []

    def fail(field: str, rule: str) -> None:
        problems.append((field, rule, repr(row.get(field))))

    if not re.fullmatch(r"[a-z][a-z0-9_]*", str(row["id"])):
        fail("id", "id is lower-case snake_case")
    if row["kind"] not in KINDS:
        fail("kind", f"kind in {sorted(KINDS)}")
    if row["population"] not in POPULATIONS:
        fail("population", f"population in {sorted(POPULATIONS)}")
    if row["arm"] not in ARMS_ALLOWED:
        fail("arm", f"arm in {sorted(ARMS_ALLOWED)}")
    if row["bound"] not in BOUNDS:
        fail("bound", f"bound in {sorted(BOUNDS)}")
    if row["source"] not in SOURCES:
        fail("source", f"source in {sorted(SOURCES)}")
    for field in ("claim", "endpoint", "reported_as", "quote"):
        if not str(row[field]).strip():
            fail(field, f"{field} is not empty")
    if row["timepoint_weeks"] and not str(row["timepoint_weeks"]).isdigit():
        fail("timepoint_weeks", "timepoint_weeks is empty or a whole number of weeks")

    statistic = row["statistic"]
    if statistic not in STATISTIC_RANGES:
        fail("statistic", f"statistic in {sorted(STATISTIC_RANGES)}")
        return problems
    try:
        value = float(row["value"]) if row["value"] else math.nan
    except ValueError:
        fail("value", "value is a number")
        return problems
    low, high = STATISTIC_RANGES[statistic]
    if statistic == "similar":
        if not math.isnan(value):
            fail("value", "a 'similar' statement has no value")
    elif math.isnan(value) or not low <= value <= high:
        fail("value", f"{statistic} value within [{low}, {high}]")
    try:
        tolerance = parse_tolerance(str(row["tolerance"]))
        if row["kind"] == "design":
            expected_rule = {"none"}
        else:
            expected_rule = {
                name
                for name, statistics in TOLERANCE_RULES.items()
                if statistic in statistics and name != "none"
            }
        if tolerance.rule not in expected_rule:
            fail(
                "tolerance",
                f"a {row['kind']} {statistic} takes a tolerance in {sorted(expected_rule)}",
            )
    except ValueError as err:
        fail("tolerance", f"tolerance parses ({err})")
    try:
        reported = parse_reported(str(row["reported_as"]), statistic)
    except ValueError as err:
        fail("reported_as", f"reported_as parses ({err})")
        return problems
    if statistic != "similar":
        if not math.isclose(reported.value, value, rel_tol=0, abs_tol=1e-12):
            fail("reported_as", f"reported_as says {reported.value:g}, the same as value")
        if reported.bound != row["bound"]:
            fail("bound", f"bound matches reported_as ({reported.bound!r})")
        if str(row["decimals"]) != str(reported.decimals):
            fail("decimals", f"decimals match reported_as ({reported.decimals})")
    return problems


def validate_claims(table: pd.DataFrame, file: Path | str = CLAIMS_FILE) -> pd.DataFrame:
    """Check every row of a raw (all-text) claims table; raise one error listing every problem."""
    file = display_path(file)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ClaimsError(f"file {file}: missing column(s) {missing}: rule 'all columns present'")
    problems: list[str] = []
    seen: dict[str, int] = {}
    for position, (_, row) in enumerate(table.iterrows()):
        line = position + 2  # line 1 of the file is the header
        label = f"file {file}, line {line} (id {row['id']!r})"
        if row["id"] in seen:
            problems.append(
                f"{label}, field id: rule 'id is unique': also on line {seen[row['id']]}"
            )
        seen.setdefault(row["id"], line)
        problems.extend(
            f"{label}, field {field}: rule '{rule}': got {got}"
            for field, rule, got in _check_row(row)
        )
    if problems:
        raise ClaimsError("invalid claims registry:\n  " + "\n  ".join(problems))
    return _typed(table)


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    typed = table.copy()
    typed["value"] = pd.to_numeric(typed["value"].replace("", None), errors="raise")
    typed["decimals"] = pd.to_numeric(typed["decimals"].replace("", None)).astype("Int64")
    typed["timepoint_weeks"] = pd.to_numeric(typed["timepoint_weeks"].replace("", None)).astype(
        "Int64"
    )
    return typed.set_index("id", verify_integrity=True)


def read_claims(path: Path | str = CLAIMS_FILE) -> pd.DataFrame:
    """Read and validate a claims file (text only, nothing coerced before the checks)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return validate_claims(raw, file=path)


@lru_cache(maxsize=1)
def _cached_claims() -> pd.DataFrame:
    return read_claims(CLAIMS_FILE)


def load_claims() -> pd.DataFrame:
    """The validated claims registry, indexed by ``id`` (a fresh copy each call)."""
    return _cached_claims().copy()


def results() -> pd.DataFrame:
    """The published results (``kind == "result"``), in registry order."""
    claims = load_claims()
    return claims[claims["kind"] == "result"]


def claim_value(claim_id: str) -> float:
    """The published value of one claim, in its printed unit (35.0 for "35%")."""
    claims = _cached_claims()
    if claim_id not in claims.index:
        raise KeyError(f"no claim {claim_id!r} in {CLAIMS_FILE}")
    return float(claims.at[claim_id, "value"])


def claim(claim_id: str) -> pd.Series:
    """One row of the registry."""
    claims = _cached_claims()
    if claim_id not in claims.index:
        raise KeyError(f"no claim {claim_id!r} in {CLAIMS_FILE}")
    return claims.loc[claim_id].copy()
