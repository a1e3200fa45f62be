"""What-if abstracts: how plausible an abstract in the registry's format is under the model.

``python -m anrs119 whatif CLAIMS.csv`` reads a claims table (the registry's columns; rows it
leaves out are the published ones), runs the pipeline of :mod:`.assess` on it and prints each
check and, last, ``verdict: plausible`` or ``verdict: implausible``.

``python -m anrs119 validate-whatif`` runs the same on the published abstract and on the named
abstracts of :data:`WHATIFS` (self-contradictory, arithmetically impossible, and the chapter's
worked example) and writes ``data/model/whatif.csv``; the false-alarm rate comes from the
abstracts printed from simulated trials (:mod:`.calibration`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from anrs119.model.reconstruction.assess import FULL, REDUCED, Sizes
from anrs119.model.reconstruction.validation_tables import WHATIF_FILE
from anrs119.paths import MODEL_DIR
from anrs119.seeds import WHATIF_SEED

WHATIFS: dict[str, dict[str, str]] = {
    "published": {},
    "cd4_il2_minus10": {"cd4_change_w96_il2": "-10"},
    "cd4_il2_plus150": {"cd4_change_w96_il2": "+150"},
    "vl_contradiction": {"vl_change_w96_il2": "+0.40", "vl_change_w96_control": "-0.20"},
    "primary_p93": {"primary_w96_p": "P = .93"},
    "subgroup_50_20": {"lowvl_free_w150_il2": "50%", "lowvl_free_w150_control": "20%"},
}
"""Named abstracts: the published one with the printed values of some claims changed."""


WHATIF_LABELS: dict[str, str] = {
    "published": "the published abstract",
    "cd4_il2_minus10": "IL-2 median CD4 change -10 (control -64, P < .001)",
    "cd4_il2_plus150": "IL-2 median CD4 change +150 (control -64, P < .001)",
    "vl_contradiction": "viral-load changes +0.40 vs -0.20 (P = .93)",
    "primary_p93": "35% vs 59% of these arms reach the end point, P = .93",
    "subgroup_50_20": "low viral load: 50% vs 20% free of the end point at week 150",
}


def changed_claims(changes: Mapping[str, str], registry: pd.DataFrame | None = None):
    """The registry with the printed form of some claims changed (value, bound and decimals
    follow from the printed form, as the registry's validator reads it)."""
    from anrs119.model.reconstruction.abstract import typed
    from anrs119.published import load_claims, parse_reported

    reg = load_claims() if registry is None else registry
    raw = reg.reset_index().astype(object)
    for cid, printed in changes.items():
        i = raw.index[raw["id"] == cid][0]
        rep = parse_reported(printed, str(raw.at[i, "statistic"]))
        raw.at[i, "reported_as"] = printed
        raw.at[i, "value"] = f"{rep.value:.{rep.decimals}f}"
        raw.at[i, "bound"] = rep.bound
        raw.at[i, "decimals"] = str(rep.decimals)
    raw = raw.fillna("").astype(str)
    raw["decimals"] = raw["decimals"].replace("<NA>", "")
    raw["timepoint_weeks"] = raw["timepoint_weeks"].replace("<NA>", "")
    raw["value"] = raw["value"].replace("nan", "")
    return typed(raw, file="what-if abstract")


def run_whatif(claims: pd.DataFrame, sizes: Sizes = FULL, seed: int = WHATIF_SEED,
               progress: bool = True, reference=None, table=None):  # fmt: skip
    """The assessment of one abstract and its verdict (``table``: the prior-predictive trials of
    the checks, simulated from the seed when not given; ``reference``: the amortised
    posterior's reference table, None for the stand-in posterior)."""
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.statistics import base_values
    from anrs119.model.reconstruction.abstract import forensic_allocation
    from anrs119.model.reconstruction.assess import assess, prior_table, verdict

    base = base_values(load_priors())
    if (
        table is None
        and forensic_allocation(claims, (int(base["n_il2"]), int(base["n_control"])))[0]
    ):
        table = prior_table(base, sizes.table, seed + 1, progress=progress)
    result = assess(claims, base, sizes, seed, table, reference)
    return result, verdict(result)


def book_reference(reduced: bool, progress: bool = True):
    """The amortised posterior's reference table (the book's, from its cache or simulated once),
    or None for the stand-in posterior in reduced runs."""
    if reduced:
        return None
    from anrs119.model.inference.reference import reference_table

    return reference_table(progress=progress)


def whatif_main(path: Path | str, *, progress: bool = True, reduced: bool = False) -> int:
    """``python -m anrs119 whatif``: the report, verdict last; 2 for a table it cannot read."""
    from anrs119.model.reconstruction.abstract import AbstractError, read_abstract
    from anrs119.model.reconstruction.assess import describe

    try:
        claims = read_abstract(path)
    except AbstractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from anrs119.model.reconstruction.abstract import forensic_allocation

    reference = None
    if forensic_allocation(claims)[0] is not None:
        reference = book_reference(reduced, progress)
    result, v = run_whatif(claims, REDUCED if reduced else FULL, progress=progress,
                           reference=reference)  # fmt: skip
    print("\n".join(describe(result, v)))
    return 0


def validate_whatif(sizes: Sizes = FULL, *, progress: bool = True, reference=None) -> pd.DataFrame:
    """The named abstracts of :data:`WHATIFS`, assessed: one row each."""
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.statistics import base_values
    from anrs119.model.reconstruction.assess import prior_table, verdict_row

    table = prior_table(base_values(load_priors()), sizes.table, WHATIF_SEED + 1,
                        progress=progress)  # fmt: skip
    rows = []
    for name, changes in WHATIFS.items():
        result, v = run_whatif(changed_claims(changes), sizes, progress=progress,
                               reference=reference, table=table)  # fmt: skip
        row: dict[str, object] = {"abstract": name, "label": WHATIF_LABELS[name]}
        row.update(verdict_row(result, v))
        row["reasons"] = " | ".join(v.reasons)
        rows.append(row)
    return pd.DataFrame(rows)


def write_whatif(table: pd.DataFrame, folder: Path = MODEL_DIR) -> Path:
    from anrs119.model.files import write_csv

    return write_csv(table, folder / WHATIF_FILE.name)
