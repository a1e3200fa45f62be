"""Mutated copies of the embedded ADaM tables: one or more patients' events or values changed.

The verdict tests feed these to the reproduction and the verdict code, so every expected verdict
follows from a change to real rows (never from a typed number).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from anrs119.analysis.longitudinal import visit_values
from anrs119.data import Dataset
from anrs119.reproduce import AIDS_EVENT, CHANGE_READING


def with_tables(dataset: Dataset, **tables: pd.DataFrame) -> Dataset:
    return dataclasses.replace(dataset, source=f"{dataset.source} (mutated)", **tables)


def events_by(dataset: Dataset, paramcd: str, arm: str, week: float) -> pd.Series:
    """Event by ``week`` (True/False) per row of ``paramcd`` in ``arm``, indexed like ADTTE."""
    adtte = dataset.adtte
    ids = set(dataset.adsl.loc[dataset.adsl["ARM"] == arm, "USUBJID"])
    rows = adtte[(adtte["PARAMCD"] == paramcd) & adtte["USUBJID"].isin(ids)]
    return (rows["CNSR"] == 0) & (rows["AVAL"] <= week)


def set_event_count(dataset: Dataset, paramcd: str, arm: str, week: float, k: int) -> Dataset:
    """Exactly ``k`` patients of ``arm`` with a ``paramcd`` event by ``week``.

    Events are removed by censoring them at their time, added by giving an event-free patient an
    event at half the week; patients are taken in USUBJID order, so the result is deterministic.
    """
    adtte = dataset.adtte.copy()
    hit = events_by(dataset, paramcd, arm, week)
    have = int(hit.sum())
    if k < have:
        rows = hit[hit].index[: have - k]
        adtte.loc[rows, "CNSR"] = 1
    elif k > have:
        rows = hit[~hit].index[: k - have]
        if len(rows) < k - have:
            raise ValueError(f"{arm}: only {len(hit)} patients, cannot have {k} events")
        adtte.loc[rows, "CNSR"] = 0
        adtte.loc[rows, "AVAL"] = week / 2
    return with_tables(dataset, adtte=adtte)


def set_median_change(
    dataset: Dataset, paramcd: str, arm: str, week: int, centre: float, moved: int, step: float
) -> Dataset:
    """Spread the arm's analysed changes ``step`` apart around ``centre`` (so the median is
    ``centre``), then move ``moved`` patients from above the median to below all others."""
    adlb = dataset.adlb.copy()
    values = visit_values(dataset.adsl, adlb, paramcd, week, reading=CHANGE_READING)
    ids = values.loc[values["group"] == arm, "USUBJID"].sort_values().to_numpy()
    n = ids.size
    # order statistics centre + step * (i - (n - 1) / 2): symmetric, so the median is centre
    changes = centre + step * (np.arange(n) - (n - 1) / 2)
    top = n - 1
    for j in range(moved):  # the largest values jump below the smallest
        changes[top - j] = changes[0] - step * (j + 1)
    rows = adlb[
        (adlb["PARAMCD"] == paramcd)
        & (adlb["AVISITN"] == week)
        & (adlb["ONART"] == "N")
        & adlb["USUBJID"].isin(ids)
    ]
    position = {subject: i for i, subject in enumerate(ids)}
    new = np.array([changes[position[s]] for s in rows["USUBJID"]])
    adlb.loc[rows.index, "CHG"] = new
    adlb.loc[rows.index, "AVAL"] = rows["BASE"].to_numpy() + new
    return with_tables(dataset, adlb=adlb)


def add_aids_events(dataset: Dataset, arm: str, k: int, week: float) -> Dataset:
    """Give ``k`` more patients of ``arm`` an AIDS-defining event at half ``week``."""
    adtte = dataset.adtte.copy()
    ids = set(dataset.adsl.loc[dataset.adsl["ARM"] == arm, "USUBJID"])
    rows = adtte[
        (adtte["PARAMCD"] == "AIDSDTH") & adtte["USUBJID"].isin(ids) & (adtte["CNSR"] == 1)
    ].index[:k]
    adtte.loc[rows, ["CNSR", "AVAL", "EVNTDESC"]] = [0, week / 2, AIDS_EVENT]
    return with_tables(dataset, adtte=adtte)


def keep_patients(dataset: Dataset, sizes: dict[str, int]) -> Dataset:
    """Only the first ``sizes[arm]`` patients of each arm (USUBJID order), in every table."""
    adsl = dataset.adsl.sort_values("USUBJID")
    keep = pd.concat([adsl[adsl["ARM"] == arm].head(n) for arm, n in sizes.items()])
    ids = set(keep["USUBJID"])
    return with_tables(
        dataset,
        adsl=dataset.adsl[dataset.adsl["USUBJID"].isin(ids)],
        adlb=dataset.adlb[dataset.adlb["USUBJID"].isin(ids)],
        adtte=dataset.adtte[dataset.adtte["USUBJID"].isin(ids)],
        adae=dataset.adae[dataset.adae["USUBJID"].isin(ids)],
    )
