"""Duplicate keys of an ADaM table, compared on parsed values: a visit written "96" in one row
and "96.0" in another is the same visit, and a subject twice in ADSL is found whatever its
spelling of the same number."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def usable_rows(parsed_ok: Sequence[np.ndarray], n_rows: int) -> np.ndarray:
    """Rows whose key columns all parsed and are not empty (every row when there is no key)."""
    ok = np.ones(n_rows, dtype=bool)
    for column in parsed_ok:
        ok &= np.asarray(column, dtype=bool)
    return ok


def duplicate_keys(
    columns: Sequence[Sequence[object]], usable: np.ndarray
) -> list[tuple[int, int]]:
    """(row, first row) for every usable row whose key, the tuple of its parsed values in
    ``columns``, repeats the key of an earlier usable row (0-based row positions)."""
    first: dict[tuple[object, ...], int] = {}
    out = []
    for i in np.flatnonzero(usable):
        key = tuple(column[i] for column in columns)
        if key in first:
            out.append((int(i), first[key]))
        else:
            first[key] = int(i)
    return out
