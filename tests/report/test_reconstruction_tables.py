"""The what-if table of the reconstruction checks: one row per abstract, the verdict and its
parts, and the statements at odds with the rest of the abstract."""

from __future__ import annotations

import math

import pandas as pd

from anrs119.model.checks.crossclaim import GROUPS, REPORT_LEVELS
from anrs119.model.reconstruction.validation_tables import read_whatif
from anrs119.report.reconstruction_figures import whatif_table


def _row(**p: float) -> dict[str, object]:
    row: dict[str, object] = {"abstract": "x", "base": "published", "label": "a change",
                              "plausible": True, "failed": math.nan}  # fmt: skip
    row.update({f"crossclaim_p:{g}": p.get(g.split()[0], 0.5) for g in GROUPS})
    return row


def test_every_statement_below_the_level_is_listed_smallest_first():
    level = REPORT_LEVELS[-1]
    column = f"At odds with the rest (p < {level:g})"
    rows = pd.DataFrame([
        _row(),
        _row(**{"viral-load": 0.0, "low-viral-load": 0.004}),
        _row(**{"CD4": level}),  # at the level: not below it
        {**_row(), **{f"crossclaim_p:{g}": math.nan for g in GROUPS}},
    ])  # fmt: skip
    shown = whatif_table(rows)[column].tolist()
    assert shown == [
        "none",
        "viral-load changes (< 0.001); low-viral-load subgroup (0.004)",
        "none",
        "-",
    ]


def test_the_committed_what_ifs_each_get_a_row():
    w = read_whatif()
    table = whatif_table(w)
    assert len(table) == len(w)
    assert (table["Verdict"] == w["plausible"].map({True: "plausible", False: "implausible"})).all()
