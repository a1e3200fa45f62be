"""Load and validate the registry of other randomized IL-2 trials and the CONSORT 2010 checklist.

Both files are hand-entered facts (``data/published/``); every row is checked before use, and an
error names the file, line, field and rule, as for the claims registry.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from anrs119.paths import CHAPTERS_DIR, PUBLISHED_DIR
from anrs119.published import display_path

TRIALS_FILE: Path = PUBLISHED_DIR / "trials.csv"
CONSORT_FILE: Path = PUBLISHED_DIR / "consort_2010.csv"

TRIAL_COLUMNS: tuple[str, ...] = (
    "id",
    "trial",
    "acronym",
    "type",
    "year",
    "citation",
    "bibkey",
    "doi",
    "pmid",
    "pmcid",
    "registry_id",
    "n_randomized",
    "n_il2",
    "n_control",
    "art_status",
    "entry_cd4",
    "dose",
    "schedule",
    "cycles",
    "comparator",
    "design_quote",
    "result",
    "endpoint",
    "il2_arm",
    "measure",
    "value",
    "value_il2",
    "value_control",
    "unit",
    "timepoint",
    "ci_low",
    "ci_high",
    "p_bound",
    "p_value",
    "quote",
    "source",
    "verification",
    "derived",
    "note",
)
# Fields that describe the trial, not one of its results: they must agree on every row of a trial.
TRIAL_LEVEL_FIELDS: tuple[str, ...] = TRIAL_COLUMNS[1 : TRIAL_COLUMNS.index("design_quote") + 1]
TRIAL_TYPES: tuple[str, ...] = (
    "IL-2 with ART",
    "IL-2 without ART",
    "IL-2 before ART interruption",
    "systematic review",
    "immediate vs deferred ART",
)
IL2_TYPES: tuple[str, ...] = TRIAL_TYPES[:4]
"""The kinds of IL-2 evidence; the registry also holds START, the trial of when to start ART,
whose answer (start at once, whatever the CD4 count) is why ANRS 119's question is closed."""
RESULTS: frozenset[str] = frozenset(
    {
        "cd4",
        "cd4_level",
        "od_death",
        "death",
        "oi",
        "harm",
        "art_restart",
        "failure",
        "serious_or_death",
    }
)
RATIO_MEASURES: frozenset[str] = frozenset({"hazard_ratio", "risk_ratio"})
CD4_MEASURES: frozenset[str] = frozenset(
    {"mean_difference", "mean_change", "median_change", "auc_change", "median_level"}
)
MEASURES: frozenset[str] = RATIO_MEASURES | CD4_MEASURES | {"probability", "proportion"}
VERIFICATIONS: frozenset[str] = frozenset({"primary", "unverified"})
"""primary: read in the paper's own text (publisher, PMC, PubMed, a repository copy of the paper);
unverified: the value the cited paper reports, which could not be read at its source here (the row
has no quote, its ``source`` is the paper itself, and its ``note`` says where the value was seen
and what to check). Summaries and reworded copies are never a source."""
P_BOUNDS: frozenset[str] = frozenset({"=", "<"})
DESIGN_NUMBERS: tuple[str, ...] = ("n_randomized", "n_il2", "n_control")
RESULT_NUMBERS: tuple[str, ...] = (
    "value",
    "value_il2",
    "value_control",
    "ci_low",
    "ci_high",
    "p_value",
)
YEAR_RANGE: tuple[int, int] = (1990, 2030)

_WORDS = "one two three four five six seven eight nine ten eleven twelve"
_WORD_NUMBERS = {word: float(n) for n, word in enumerate(_WORDS.split(), start=1)}
# A printed number: digits with optional thousands commas and decimals, or a bare ".001".
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?(?![\w])")
_DERIVED = re.compile(r"^(?P<field>[a-z][a-z0-9_]*)=(?P<expr>[0-9.]+(?:[+-][0-9.]+)+)$")
_FORMATS: dict[str, re.Pattern[str]] = {
    "doi": re.compile(r"10\.\d{4,9}/\S+"),
    "pmid": re.compile(r"\d{6,9}"),
    "pmcid": re.compile(r"PMC\d+"),
    "registry_id": re.compile(r"NCT\d{8}"),
    "source": re.compile(r"https?://\S+"),
    "id": re.compile(r"[a-z][a-z0-9_]*"),
    "bibkey": re.compile(r"[a-z][a-z0-9_]*"),
}


class ContextError(ValueError):
    """A row of the trials registry or the CONSORT file breaks a rule (file, line, field, rule)."""


@dataclass(frozen=True)
class Problem:
    """One broken rule on one row."""

    field: str
    rule: str
    got: str


def numbers_in(text: str) -> list[float]:
    """Every number printed in a sentence: "4,111", "0.0009", ".001", and number words to twelve."""
    found: list[float] = []
    for match in _NUMBER.finditer(text):
        whole, decimals = match.group(1), match.group(2)
        if whole is None and decimals is None:
            continue
        found.append(float((whole or "0").replace(",", "") + (decimals or "")))
    words = re.findall(r"[a-z]+", text.lower())
    found.extend(_WORD_NUMBERS[w] for w in words if w in _WORD_NUMBERS)
    return found


def _printed(number: float, text: str) -> bool:
    return any(math.isclose(number, n, rel_tol=0, abs_tol=1e-9) for n in numbers_in(text))


def parse_derived(text: str) -> dict[str, list[tuple[str, float]]]:
    """``"value=129-13; n_il2=12+12"`` -> {"value": [("+", 129), ("-", 13)], ...}."""
    out: dict[str, list[tuple[str, float]]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = _DERIVED.match(part.replace(" ", ""))
        if match is None:
            raise ValueError(f"{part!r} is not 'field=a+b' or 'field=a-b'")
        terms = re.findall(r"([+-]?)([0-9.]+)", match["expr"])
        out[match["field"]] = [(sign or "+", float(number)) for sign, number in terms]
    return out


def _number(row: pd.Series, field: str) -> float:
    return float(row[field]) if str(row[field]).strip() else math.nan


def _check_numbers(row: pd.Series, fail: Callable[[str, str], None]) -> dict[str, float]:
    numbers: dict[str, float] = {}
    for field in DESIGN_NUMBERS + RESULT_NUMBERS:
        try:
            numbers[field] = _number(row, field)
        except ValueError:
            fail(field, f"{field} is empty or a number")
            numbers[field] = math.nan
    for field in DESIGN_NUMBERS:
        value = numbers[field]
        if not math.isnan(value) and not (value > 0 and value.is_integer()):
            fail(field, f"{field} is a positive whole number")
    n, n_il2, n_control = (numbers[f] for f in DESIGN_NUMBERS)
    if not any(map(math.isnan, (n, n_il2, n_control))) and n_il2 + n_control != n:
        fail("n_randomized", "n_il2 + n_control equals n_randomized")
    return numbers


def _check_estimates(row: pd.Series, nums: dict[str, float], fail) -> None:
    value, low, high = nums["value"], nums["ci_low"], nums["ci_high"]
    if all(math.isnan(nums[f]) for f in ("value", "value_il2", "value_control")):
        fail("value", "a result has a value, or a value per arm")
    if math.isnan(low) != math.isnan(high):
        fail(
            "ci_high" if math.isnan(high) else "ci_low",
            "ci_low and ci_high are both given or both empty",
        )
    elif not math.isnan(low):
        if low > high:
            fail("ci_high", "ci_low <= ci_high")
        elif not math.isnan(value) and not low <= value <= high:
            fail("value", "ci_low <= value <= ci_high")
    if row["measure"] in RATIO_MEASURES:
        if math.isnan(value) or value <= 0:
            fail("value", f"a {row['measure']} is a positive number")
        if not math.isnan(low) and low <= 0:
            fail("ci_low", "a ratio's confidence limits are positive")
    p = nums["p_value"]
    if bool(row["p_bound"]) != (not math.isnan(p)):
        fail("p_bound", "p_bound is given exactly when p_value is")
    if row["p_bound"] and row["p_bound"] not in P_BOUNDS:
        fail("p_bound", f"p_bound in {sorted(P_BOUNDS)}")
    if not math.isnan(p) and not 0 < p <= 1:
        fail("p_value", "p_value within (0, 1]")


def _check_quotes(row: pd.Series, nums: dict[str, float], fail) -> None:
    """Each number is printed in its sentence, or derived from numbers printed there."""
    try:
        derived = parse_derived(str(row["derived"]))
    except ValueError as err:
        fail("derived", f"derived parses ({err})")
        derived = {}
    for field, terms in derived.items():
        if field not in nums:
            fail("derived", f"derived names a numeric field ({field!r} is not one)")
            continue
        quote = row["design_quote"] if field in DESIGN_NUMBERS else row["quote"]
        missing = [n for _, n in terms if not _printed(n, str(quote))]
        if missing:
            fail("derived", f"the terms of {field} are printed in its quote (not {missing})")
        total = sum(n if sign == "+" else -n for sign, n in terms)
        if not math.isclose(total, nums[field], rel_tol=0, abs_tol=1e-9):
            fail(field, f"{field} equals its derivation ({total:g})")
    for field in DESIGN_NUMBERS + RESULT_NUMBERS:
        if math.isnan(nums[field]) or field in derived:
            continue
        if field in RESULT_NUMBERS and row["verification"] == "unverified":
            continue  # no sentence was read: the row says so instead
        quote_field = "design_quote" if field in DESIGN_NUMBERS else "quote"
        if not _printed(nums[field], str(row[quote_field])):
            fail(field, f"{quote_field} contains {field} ({nums[field]:g})")


def _check_trial_row(row: pd.Series) -> list[Problem]:
    """Every rule one row of the trials registry breaks."""
    problems: list[Problem] = []

    def fail(field: str, rule: str) -> None:
        problems.append(Problem(field, rule, repr(row.get(field))))

    required = ("trial", "acronym", "citation", "endpoint", "quote", "design_quote", "timepoint")
    unverified = row["verification"] == "unverified"
    for field in required:
        if field == "quote" and unverified:
            if str(row[field]).strip():
                fail(field, "an unverified value has no quote (none was read at its source)")
            continue
        if not str(row[field]).strip():
            fail(field, f"{field} is not empty")
    for field, pattern in _FORMATS.items():
        text = str(row[field])
        optional = field in {"doi", "pmid", "pmcid", "registry_id"}
        if (text or not optional) and not pattern.fullmatch(text):
            fail(field, f"{field} matches {pattern.pattern}")
    for field, allowed in (
        ("type", TRIAL_TYPES),
        ("result", RESULTS),
        ("measure", MEASURES),
        ("verification", VERIFICATIONS),
    ):
        if row[field] not in allowed:
            fail(field, f"{field} in {sorted(allowed)}")
    if unverified and not str(row["note"]).strip():
        fail("note", "a fact not read in the paper's own text says so in note")
    year = str(row["year"])
    if not (year.isdigit() and YEAR_RANGE[0] <= int(year) <= YEAR_RANGE[1]):
        fail("year", f"year is a whole number within {list(YEAR_RANGE)}")
    elif year not in str(row["citation"]):
        fail("year", "the citation carries the year")
    if (
        row["result"] in {"od_death", "death", "oi", "harm", "serious_or_death"}
        and row["measure"] not in RATIO_MEASURES
    ):
        fail("measure", f"a clinical result is one of {sorted(RATIO_MEASURES)}")
    if row["result"] in {"cd4", "cd4_level"} and row["measure"] not in CD4_MEASURES:
        fail("measure", f"a CD4 result is one of {sorted(CD4_MEASURES)}")
    if row["result"] in {"cd4", "cd4_level"} and not str(row["unit"]).strip():
        fail("unit", "a CD4 result has a unit")
    nums = _check_numbers(row, fail)
    _check_estimates(row, nums, fail)
    _check_quotes(row, nums, fail)
    return problems


def _raise(kind: str, problems: list[str]) -> None:
    if problems:
        raise ContextError(f"invalid {kind}:\n  " + "\n  ".join(problems))


def _read(path: Path | str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def validate_trials(table: pd.DataFrame, file: Path | str = TRIALS_FILE) -> pd.DataFrame:
    """Check every row of a raw (all-text) trials table; raise one error listing every problem."""
    file = display_path(file)
    missing = [c for c in TRIAL_COLUMNS if c not in table.columns]
    if missing:
        raise ContextError(f"file {file}: missing column(s) {missing}: rule 'all columns present'")
    problems: list[str] = []
    seen: dict[str, int] = {}
    first_of_trial: dict[str, tuple[int, pd.Series]] = {}
    for position, (_, row) in enumerate(table.iterrows()):
        line = position + 2  # line 1 of the file is the header
        label = f"file {file}, line {line} (id {row['id']!r})"
        if row["id"] in seen:
            problems.append(
                f"{label}, field id: rule 'id is unique': also on line {seen[row['id']]}"
            )
        seen.setdefault(row["id"], line)
        problems.extend(
            f"{label}, field {p.field}: rule '{p.rule}': got {p.got}" for p in _check_trial_row(row)
        )
        if row["trial"] in first_of_trial:
            first_line, first = first_of_trial[row["trial"]]
            problems.extend(
                f"{label}, field {field}: rule 'trial-level fields agree on every row of a "
                f"trial': line {first_line} has {first[field]!r}, got {row[field]!r}"
                for field in TRIAL_LEVEL_FIELDS
                if row[field] != first[field]
            )
        else:
            first_of_trial[row["trial"]] = (line, row)
    _raise("trials registry", problems)
    typed = table.copy()
    for field in DESIGN_NUMBERS + RESULT_NUMBERS:
        typed[field] = pd.to_numeric(typed[field].replace("", None)).astype(float)
    typed["year"] = typed["year"].astype(int)
    return typed.set_index("id", verify_integrity=True)


def read_trials(path: Path | str = TRIALS_FILE) -> pd.DataFrame:
    """Read and validate a trials file (text only, nothing coerced before the checks)."""
    return validate_trials(_read(path), file=path)


@lru_cache(maxsize=1)
def _cached_trials() -> pd.DataFrame:
    return read_trials(TRIALS_FILE)


def load_trials() -> pd.DataFrame:
    """The validated trials registry, indexed by ``id`` (a fresh copy each call)."""
    return _cached_trials().copy()


# --- CONSORT 2010 checklist ---------------------------------------------------------------------

CONSORT_COLUMNS: tuple[str, ...] = (
    "item",
    "section",
    "topic",
    "text",
    "verified",
    "status",
    "book_page",
    "assessment",
    "note",
)
CONSORT_ITEMS: tuple[str, ...] = tuple(
    [
        "1a",
        "1b",
        "2a",
        "2b",
        "3a",
        "3b",
        "4a",
        "4b",
        "5",
        "6a",
        "6b",
        "7a",
        "7b",
        "8a",
        "8b",
        "9",
        "10",
        "11a",
        "11b",
        "12a",
        "12b",
        "13a",
        "13b",
        "14a",
        "14b",
        "15",
        "16",
        "17a",
        "17b",
        "18",
        "19",
        "20",
        "21",
        "22",
        "23",
        "24",
        "25",
    ]
)
"""The CONSORT 2010 checklist: 25 items, 37 with their sub-items, in the statement's order."""
CANNOT_ASSESS = "cannot be assessed from the abstract"
CONSORT_STATUSES: tuple[str, ...] = ("reported", "partly reported", CANNOT_ASSESS, "not applicable")
CONSORT_VERIFIED: frozenset[str] = frozenset({"yes", "partial", "no"})


def _check_consort_row(row: pd.Series, chapters_dir: Path) -> list[Problem]:
    problems: list[Problem] = []

    def fail(field: str, rule: str) -> None:
        problems.append(Problem(field, rule, repr(row.get(field))))

    if row["item"] not in CONSORT_ITEMS:
        fail("item", "item is a CONSORT 2010 item (1a ... 25)")
    for field in ("section", "assessment"):
        if not str(row[field]).strip():
            fail(field, f"{field} is not empty")
    if row["verified"] not in CONSORT_VERIFIED:
        fail("verified", f"verified in {sorted(CONSORT_VERIFIED)}")
    if row["verified"] != "no" and not str(row["text"]).strip():
        fail("text", "text is not empty unless its wording could not be verified")
    if row["verified"] != "yes" and not str(row["note"]).strip():
        fail("note", "an item not verified word for word says why in note")
    if row["status"] not in CONSORT_STATUSES:
        fail("status", f"status in {list(CONSORT_STATUSES)}")
    page = str(row["book_page"])
    if page and not (
        re.fullmatch(r"chapters/[a-z0-9_]+", page) and (chapters_dir.parent / f"{page}.md").exists()
    ):
        fail("book_page", "book_page is empty or a chapter of the book (chapters/name)")
    return problems


def validate_consort(
    table: pd.DataFrame, file: Path | str = CONSORT_FILE, chapters_dir: Path = CHAPTERS_DIR
) -> pd.DataFrame:
    """Check a raw CONSORT checklist table: every item once, in order, each row well formed."""
    file = display_path(file)
    missing = [c for c in CONSORT_COLUMNS if c not in table.columns]
    if missing:
        raise ContextError(f"file {file}: missing column(s) {missing}: rule 'all columns present'")
    problems: list[str] = []
    for position, (_, row) in enumerate(table.iterrows()):
        label = f"file {file}, line {position + 2} (item {row['item']!r})"
        problems.extend(
            f"{label}, field {p.field}: rule '{p.rule}': got {p.got}"
            for p in _check_consort_row(row, chapters_dir)
        )
    items = tuple(table["item"])
    if items != CONSORT_ITEMS:
        absent = [i for i in CONSORT_ITEMS if i not in items]
        repeated = sorted({i for i in items if items.count(i) > 1})
        problems.append(
            f"file {file}, field item: rule 'every CONSORT 2010 item once, in order': "
            f"missing {absent}, repeated {repeated}"
        )
    _raise("CONSORT checklist", problems)
    return table.set_index("item", verify_integrity=True)


def read_consort(
    path: Path | str = CONSORT_FILE, chapters_dir: Path = CHAPTERS_DIR
) -> pd.DataFrame:
    """Read and validate a CONSORT checklist file."""
    return validate_consort(_read(path), file=path, chapters_dir=chapters_dir)


@lru_cache(maxsize=1)
def _cached_consort() -> pd.DataFrame:
    return read_consort(CONSORT_FILE)


def load_consort() -> pd.DataFrame:
    """The validated CONSORT 2010 checklist for ANRS 119, indexed by item (a fresh copy)."""
    return _cached_consort().copy()
