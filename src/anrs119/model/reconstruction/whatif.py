"""What-if abstracts: how plausible an abstract in the registry's format is under the model.

``python -m anrs119 whatif CLAIMS.csv`` reads a claims table (the registry's columns; rows it
leaves out are the published ones), runs the pipeline of :mod:`.assess` on it and prints each
check and, last, ``verdict: plausible`` or ``verdict: implausible``.

``python -m anrs119 validate-whatif`` runs the same on the published abstract and on the named
abstracts of :data:`WHATIFS` (self-contradictory, arithmetically impossible, and the chapter's
worked example), and on a *plausible base*: an abstract printed from a trial simulated at the
paper's posterior, the one nearest the posterior prediction whose verdict is plausible, with
each contradiction of :data:`CONTRADICTIONS` inserted into it (so that a flip to implausible is
due to the inserted statement alone). It writes ``data/model/whatif.csv``; the false-alarm rate
comes from the abstracts printed from simulated trials (:mod:`.calibration`).

Beside the verdict, not part of it, each abstract gets the cross-claim checks of
:mod:`anrs119.model.checks.crossclaim` (where the model places each statement given the rest),
and ``data/model/whatif_crossclaim.csv`` holds the same checks of the abstracts printed from
simulated trials: their calibration.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from anrs119.model.reconstruction.assess import FULL, REDUCED, Sizes
from anrs119.model.reconstruction.validation_tables import CROSSCLAIM_FILE, WHATIF_FILE
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


CONTRADICTIONS: dict[str, dict[str, str]] = {
    "cd4_il2_minus10": {
        "cd4_change_w96_il2": "-10",
        "cd4_change_w96_control": "-64",
        "cd4_change_w96_p": "P < .001",
    },
    "cd4_il2_plus150": {
        "cd4_change_w96_il2": "+150",
        "cd4_change_w96_control": "-64",
        "cd4_change_w96_p": "P < .001",
    },
    "vl_contradiction": {
        "vl_change_w96_il2": "+0.40",
        "vl_change_w96_control": "-0.20",
        "vl_change_w96_p": "P = .93",
    },
    "primary_p93": {
        "primary_w96_il2": "35%",
        "primary_w96_control": "59%",
        "primary_w96_p": "P = .93",
    },
}
"""The referee's self-contradictory and arithmetically impossible statements, whole (estimates
and P value), to insert into a plausible base abstract."""


BASE_CANDIDATES: int = 12
"""Abstracts printed from trials at posterior draws among which the base is the nearest to
their median printed estimates (each estimate scaled by its spread among them)."""


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
               progress: bool = True, reference=None, table=None,
               predictive=None):  # fmt: skip
    """The assessment of one abstract and its verdict (``table``: the prior-predictive trials of
    the checks, simulated from the seed when not given; ``reference``: the amortised
    posterior's reference table, None for the stand-in posterior; ``predictive``: the
    :class:`~anrs119.model.checks.crossclaim.PredictiveTable` of the cross-claim checks, made
    from ``reference`` (else ``table``) when not given)."""
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
    if result.allocation is not None:
        if predictive is None:
            predictive = predictive_table(claims, reference, table)
        result = with_cross_claims(result, claims, predictive)
    return result, verdict(result)


def predictive_table(claims: pd.DataFrame, reference=None, table=None):
    """The prior-predictive trials of the cross-claim checks: the reference table (a million
    trials) when given, else ``table``'s trials printed as ``claims`` prints its estimates."""
    from anrs119.model.checks.crossclaim import PredictiveTable
    from anrs119.model.reconstruction.assess import POSTERIOR_STATISTICS, printed_summaries

    if reference is not None:
        return PredictiveTable.of(reference.statistics, reference.statistic_ids)
    return PredictiveTable.of(printed_summaries(table.summaries, claims), POSTERIOR_STATISTICS)


def with_cross_claims(result, claims: pd.DataFrame, predictive):
    """``result`` with each statement's place given the rest of the abstract."""
    from dataclasses import replace

    from anrs119.model.checks.crossclaim import cross_claim_checks
    from anrs119.model.inference.statistics import posterior_statistics

    stats_ = posterior_statistics(claims)
    observed = {s.id: s.value for s in stats_}
    decimals = {s.id: s.decimals for s in stats_}
    return replace(result, cross_claims=cross_claim_checks(predictive, observed, decimals))


def cross_claim_row(result) -> dict[str, float]:
    """The cross-claim checks as flat columns: ``crossclaim_p:<group>`` and
    ``crossclaim_pct:<claim>`` (empty for an abstract the forensic arithmetic stops)."""
    import math

    from anrs119.model.checks.crossclaim import GROUPS

    row: dict[str, float] = {}
    for group, ids in GROUPS.items():
        c = result.cross_claims.get(group)
        row[f"crossclaim_p:{group}"] = round(c.p_value, 6) if c else math.nan
        for cid in ids:
            row[f"crossclaim_pct:{cid}"] = round(c.percentiles[cid], 4) if c else math.nan
            row[f"crossclaim_value:{cid}"] = c.observed[cid] if c else math.nan
    return row


def cross_claim_calibration(
    predictive, abstracts: pd.DataFrame | None = None, progress: bool = False
) -> pd.DataFrame:
    """The cross-claim checks of the abstracts printed from simulated trials (the reconstruction
    calibration's, :data:`~.validation_tables.ABSTRACTS_FILE`), printed with the published
    decimals: one row per printable abstract. The model printed them, so each group's p value
    should be uniform: the share below a threshold is the check's false-alarm rate there."""
    from anrs119.model.checks.crossclaim import GROUPS, cross_claim_checks
    from anrs119.model.inference.statistics import posterior_statistics
    from anrs119.model.reconstruction.validation_tables import read_abstracts

    frame = read_abstracts() if abstracts is None else abstracts
    from tqdm import tqdm

    frame = frame[frame["printable"].astype(bool)]
    decimals = {s.id: s.decimals for s in posterior_statistics()}
    rows = []
    for _, r in tqdm(frame.iterrows(), total=len(frame), desc="cross-claim checks",
                     disable=not progress):  # fmt: skip
        observed = {cid: float(r[f"printed:{cid}"]) for cid in predictive.ids}
        checks = cross_claim_checks(predictive, observed, decimals)
        row: dict[str, object] = {"abstract": int(r["abstract"])}
        row.update({f"crossclaim_p:{g}": round(checks[g].p_value, 6) for g in GROUPS})
        rows.append(row)
    return pd.DataFrame(rows)


def base_candidates(base: Mapping[str, float], n: int, seed: int = WHATIF_SEED) -> list:
    """``n`` abstracts printed from trials simulated at draws from the paper's posterior
    (:func:`.calibration.simulated_abstract` with the stored posterior), ordered by their
    distance to the candidates' median printed point estimates (nearest first)."""
    import numpy as np

    from anrs119.model.inference.sample import load_posterior
    from anrs119.model.reconstruction.assess import printed_estimates
    from anrs119.model.reconstruction.calibration import simulated_abstract

    sample = load_posterior()
    truths = [simulated_abstract(i, seed + 7, base, sample=sample) for i in range(n)]
    truths = [t for t in truths if t is not None]
    x = np.array([printed_estimates(t.claims) for t in truths])
    med = np.median(x, axis=0)
    spread = 1.4826 * np.median(np.abs(x - med), axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    d = np.sqrt((((x - med) / spread) ** 2).sum(axis=1))
    return [truths[i] for i in np.lexsort((np.arange(d.size), d))]


def inserted(claims: pd.DataFrame, changes: Mapping[str, str]) -> pd.DataFrame:
    """``claims`` (a typed abstract) with the printed form of some claims replaced."""
    return changed_claims(changes, registry=claims)


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


def validate_whatif(
    sizes: Sizes = FULL, *, progress: bool = True, reference=None, candidates: int = BASE_CANDIDATES
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The named abstracts of :data:`WHATIFS`, then the plausible base and each of
    :data:`CONTRADICTIONS` inserted into it, assessed: one row each (``base`` says which
    abstract a row changes: ``published`` or ``plausible base``); and the cross-claim checks of
    the abstracts printed from simulated trials (:func:`cross_claim_calibration`)."""
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.statistics import base_values
    from anrs119.model.reconstruction.assess import prior_table, verdict_row

    base = base_values(load_priors())
    table = prior_table(base, sizes.table, WHATIF_SEED + 1, progress=progress)
    predictive = predictive_table(changed_claims({}), reference, table)
    rows = []

    def add(name: str, label: str, base_name: str, claims: pd.DataFrame) -> bool:
        result, v = run_whatif(claims, sizes, progress=False, reference=reference, table=table,
                               predictive=predictive)  # fmt: skip
        row: dict[str, object] = {"abstract": name, "base": base_name, "label": label}
        row.update(verdict_row(result, v))
        row["reasons"] = " | ".join(v.reasons)
        row.update(cross_claim_row(result))
        rows.append(row)
        return v.plausible

    from tqdm import tqdm

    bar = tqdm(total=len(WHATIFS) + len(CONTRADICTIONS) + 1, desc="what-if abstracts",
               disable=not progress)  # fmt: skip
    for name, changes in WHATIFS.items():
        add(name, WHATIF_LABELS[name], "published", changed_claims(changes))
        bar.update(1)
    # the base: the nearest candidate the verdict calls plausible (tried in order of distance)
    chosen = None
    for tried, truth in enumerate(base_candidates(base, candidates), start=1):
        if add("plausible_base", "a model-printed abstract near the posterior prediction",
               "plausible base", truth.claims):  # fmt: skip
            chosen = truth
            rows[-1]["candidates_tried"] = tried
            break
        rows.pop()
    bar.update(1)
    if chosen is None:
        raise RuntimeError(f"none of {candidates} model-printed abstracts is plausible")
    for name, changes in CONTRADICTIONS.items():
        add(f"base_{name}", WHATIF_LABELS[name], "plausible base",
            inserted(chosen.claims, changes))  # fmt: skip
        bar.update(1)
    bar.close()
    out = pd.DataFrame(rows)
    printed = {c: chosen.claims.at[c, "reported_as"] for c in chosen.claims.index
               if chosen.claims.at[c, "kind"] == "result"}  # fmt: skip
    out["base_printed"] = ""
    out.loc[out["abstract"] == "plausible_base", "base_printed"] = "; ".join(
        f"{c}: {v}" for c, v in printed.items()
    )
    return out, cross_claim_calibration(predictive, progress=progress)


def write_whatif(tables: tuple[pd.DataFrame, pd.DataFrame], folder: Path = MODEL_DIR) -> list:
    """``whatif.csv`` and the cross-claim checks' calibration beside it."""
    from anrs119.model.files import write_csv

    whatif, crossclaim = tables
    return [write_csv(whatif, folder / WHATIF_FILE.name),
            write_csv(crossclaim, folder / CROSSCLAIM_FILE.name)]  # fmt: skip
