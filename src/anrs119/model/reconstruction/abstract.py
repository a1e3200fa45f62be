"""Abstracts as the paper prints them, and what the book reads from any abstract.

- :func:`print_abstract`: the abstract a simulated trial would have printed: the same claims,
  the same rounding, the same readings and tests as the book reads the published one (the
  kernel's readings of :mod:`.search`), as a claims table in the registry's format.
- :func:`read_abstract`: a claims table in the registry's format (a what-if abstract), validated
  by the registry's own validator and completed with the registry's rows it does not change.
- :func:`forensic_allocation`: the week-96 counts and test that give an abstract's primary
  numbers within the model's arm sizes, or why there are none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119 import ARMS

PRINTED_SOURCE: str = "simulated abstract"
"""The ``quote`` of a printed abstract's rows (the registry's validator wants one)."""

PRIMARY_TEST: str = "fisher"
"""The test a simulated abstract prints its primary P value with (the forensic allocation's
test for the published numbers)."""


class AbstractError(ValueError):
    """A what-if claims table the book cannot read (the message names row, column and rule)."""


def format_value(statistic: str, value: float, decimals: int, bound: str = "=") -> str:
    """The printed form of a value, as the registry's ``reported_as`` holds it."""
    from anrs119.forensic import ReportedP

    if statistic == "proportion":
        return f"{value:.{decimals}f}%"
    if statistic == "median_change":
        return f"{value + 0.0:+.{decimals}f}" if value != 0 else f"{0:.{decimals}f}"
    if statistic == "p_value":
        return ReportedP(bound, value, decimals).label
    if statistic == "difference":
        return f"{value:.{decimals}f} weeks"
    raise ValueError(f"no printed form for statistic {statistic!r}")


def print_round(x: float, decimals: int) -> float:
    """Round as the paper prints (half away from zero), free of binary representation error."""
    q = 10.0**decimals
    scaled = round(abs(x) * q, 9)
    return math.copysign(math.floor(scaled + 0.5) / q, x) + 0.0


@dataclass(frozen=True)
class Printed:
    """A printed abstract (``claims``: the registry's raw text format) or why it cannot print."""

    claims: pd.DataFrame | None
    reason: str


def print_abstract(
    values: Mapping[str, float],
    events: tuple[int, int],
    arm_sizes: tuple[int, int],
    similar: Mapping[str, bool],
    registry: pd.DataFrame | None = None,
) -> Printed:
    """The abstract of a trial whose kernel values are ``values`` (:func:`.search.trial_values`),
    with week-96 ``events`` of ``arm_sizes`` and the book's verdicts on the three "similar"
    statements.

    Every claim is printed as the published one is: percentages and medians with the registry's
    decimals (half away from zero), P values in the journal's style (``< .001``; three decimals
    below .01, two above). An abstract the paper's sentences could not have printed (a deferral
    not estimable by week 150, an empty subgroup arm, a safety statement that is not "similar")
    is refused with the reason: calibration is then conditional on printable abstracts.
    """
    from anrs119.forensic import format_p, p_values
    from anrs119.published import load_claims

    reg = load_claims() if registry is None else registry
    n1, n2 = arm_sizes
    k1, k2 = events
    numbers: dict[str, float] = {
        "primary_w96_il2": 100.0 * k1 / n1,
        "primary_w96_control": 100.0 * k2 / n2,
        "primary_w96_p": float(p_values(n1, n2, k1, k2)[PRIMARY_TEST][0]),
    }
    numbers.update({k: float(v) for k, v in values.items()})
    for key in ("lowvl_art_deferral", "lowvl_free_w150_il2", "lowvl_free_w150_control"):
        if not np.isfinite(numbers.get(key, math.nan)):
            return Printed(None, f"{key} is not estimable")
    for key, ok in similar.items():
        if not ok:
            return Printed(None, f"{key}: the arms differ by the book's rule")
    rows = []
    for cid, r in reg.iterrows():
        row = {c: ("" if pd.isna(v) else str(v)) for c, v in r.items()}
        row["id"] = str(cid)
        if r["kind"] == "result" and r["statistic"] != "similar":
            x = numbers.get(str(cid), math.nan)
            if not np.isfinite(x):
                return Printed(None, f"{cid} is not estimable")
            if r["statistic"] == "p_value":
                p = format_p(x)
                bound, value, decimals = p.bound, p.value, p.decimals
            else:
                decimals = int(r["decimals"])
                bound, value = "=", print_round(x, decimals)
            row.update(
                value=f"{value:.{decimals}f}",
                bound=bound,
                decimals=str(decimals),
                reported_as=format_value(str(r["statistic"]), value, decimals, bound),
                quote=PRINTED_SOURCE,
            )
        rows.append(row)
    frame = pd.DataFrame(rows)
    from anrs119.published import COLUMNS

    return Printed(frame[list(COLUMNS)], "")


def read_abstract(path: Path | str, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """A what-if claims table, validated and completed: rows of the registry it does not hold are
    the registry's; it may change result rows only (the design is the trial's)."""
    from anrs119.published import ClaimsError, display_path, load_claims, read_claims

    reg = load_claims() if registry is None else registry
    path = Path(path)
    shown = display_path(path)
    if not path.exists():
        raise AbstractError(f"file {shown}: not found")
    try:
        table = read_claims(path)
    except ClaimsError as exc:
        raise AbstractError(str(exc)) from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AbstractError(f"file {shown}: not a CSV table in UTF-8 ({exc})") from None
    problems = []
    for line, cid in enumerate(table.index, start=2):
        if cid not in reg.index:
            problems.append(
                f"file {shown}, line {line} (id {cid!r}), field id: rule 'an id of the claims "
                "registry': a what-if changes published claims, it adds none"
            )
            continue
        if reg.at[cid, "kind"] != "result":
            same = all(
                str(table.at[cid, c]) == str(reg.at[cid, c]) for c in ("value", "bound", "unit")
            )
            if not same:
                problems.append(
                    f"file {shown}, line {line} (id {cid!r}), field value: rule 'design rows "
                    "are the trial's': a what-if changes results, not the design"
                )
        for column in ("statistic", "population", "arm", "timepoint_weeks"):
            if str(table.at[cid, column]) != str(reg.at[cid, column]):
                problems.append(
                    f"file {shown}, line {line} (id {cid!r}), field {column}: rule 'the same "
                    f"{column} as the registry ({reg.at[cid, column]})'"
                )
    if problems:
        raise AbstractError("invalid what-if abstract:\n  " + "\n  ".join(problems))
    out = reg.copy()
    out.loc[table.index, :] = table[out.columns]
    return out


def typed(raw: pd.DataFrame, file: str = PRINTED_SOURCE) -> pd.DataFrame:
    """A raw (text) claims table validated by the registry's validator and typed."""
    from anrs119.published import validate_claims

    return validate_claims(raw.astype(str), file=file)


def forensic_allocation(
    claims: pd.DataFrame, sizes: tuple[int, int] | None = None
) -> tuple[dict | None, str]:
    """The allocation (as :func:`anrs119.forensic.read_allocation` returns it) of an abstract's
    primary claims within the model's arm sizes (``sizes``; the forensic allocation's by
    default): the week-96 counts whose percentages print as published and whose table gives the
    printed P value with a plausible test. None, with the reason, when there is none: no split of
    the randomized patients at all (arithmetically impossible), or none with the model's arms."""
    from anrs119.forensic import (
        ReportedP,
        ReportedPercent,
        check_claim,
        choose_allocation,
        read_allocation,
        splits_with_total,
    )

    if sizes is None:
        sizes = arm_sizes(read_allocation())

    def pct(cid: str) -> ReportedPercent:
        return ReportedPercent(float(claims.at[cid, "value"]), int(claims.at[cid, "decimals"]))

    p = ReportedP(
        str(claims.at["primary_w96_p", "bound"]),
        float(claims.at["primary_w96_p", "value"]),
        int(claims.at["primary_w96_p", "decimals"]),
    )
    args = (pct("primary_w96_il2"), pct("primary_w96_control"), p)
    # no table at all: choose_allocation fails on the empty enumeration (IndexError) or finds
    # no test that gives the P value (ValueError)
    try:
        alloc = choose_allocation(check_claim(np.array([sizes]), *args))
    except (ValueError, IndexError):
        total = int(claims.at["n_randomized", "value"])
        try:
            choose_allocation(check_claim(splits_with_total(total), *args))
        except (ValueError, IndexError):
            return None, (
                f"no split of the {total} randomized patients and no plausible test give its "
                "primary percentages and P value (arithmetically impossible)"
            )
        return None, (
            f"the model's arms ({sizes[0]}/{sizes[1]}) cannot give its primary percentages and "
            "P value with a plausible test (other splits can)"
        )
    return {
        "n_by_arm": dict(alloc.n_by_arm),
        "events_w96_by_arm": dict(alloc.events_w96_by_arm),
        "test": alloc.test,
        "p_value": alloc.p_value,
    }, ""


def arm_sizes(allocation: Mapping) -> tuple[int, int]:
    return int(allocation["n_by_arm"][ARMS[0]]), int(allocation["n_by_arm"][ARMS[1]])


SIMULATOR_TEST: dict[str, str] = {"fisher": "fisher", "yates": "chi2_yates", "pearson": "chi2"}
"""The simulator's name of each forensic test of the primary table."""
