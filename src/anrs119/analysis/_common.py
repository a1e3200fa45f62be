"""Shared input checks for the analysis helpers: group order and ADaM column/row validation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from anrs119 import ARMS


class AnalysisInputError(ValueError):
    """Bad ADaM input to an analysis helper; the message names table, column, row and rule."""


def require_columns(df: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    """Fail early, naming the table and the missing columns."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise AnalysisInputError(
            f"{table}: missing column(s) {missing}; rule: required by the analysis helper"
        )


def group_order(labels: Sequence[str] | pd.Series, order: Sequence[str] | None = None) -> tuple:
    """Group order: explicit ``order``; else ``anrs119.ARMS`` for IL-2/Control; else sorted."""
    present = list(pd.unique(pd.Series(labels)))
    if order is not None:
        unknown = sorted(set(present) - set(order), key=str)
        if unknown:
            raise AnalysisInputError(
                f"groups {unknown} are not in order={list(order)}; rule: every group must be listed"
            )
        return tuple(g for g in order if g in present)
    if set(present) <= set(ARMS):
        return tuple(a for a in ARMS if a in present)
    return tuple(sorted(present, key=str))


def time_to_event(
    adsl: pd.DataFrame,
    adtte: pd.DataFrame,
    paramcd: str,
    by: str = "ARM",
) -> pd.DataFrame:
    """One row per ADSL subject with columns USUBJID, group, time, event (1 = event).

    ADSL defines the population (pass a filtered ADSL for a subgroup); each of its subjects
    must have exactly one ADTTE row for ``paramcd``. ADTTE rows of other subjects are ignored.
    """
    require_columns(adsl, ["USUBJID", by], "adsl")
    require_columns(adtte, ["USUBJID", "PARAMCD", "AVAL", "CNSR"], "adtte")
    tte = adtte.loc[adtte["PARAMCD"] == paramcd, ["USUBJID", "AVAL", "CNSR"]]
    dup = tte["USUBJID"].duplicated(keep=False)
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise AnalysisInputError(
            f"adtte: column USUBJID, row {tte.index[row]} ({tte['USUBJID'].iloc[row]}): "
            f"rule: one record per subject for PARAMCD={paramcd}"
        )
    merged = adsl[["USUBJID", by]].merge(tte, on="USUBJID", how="left", validate="1:1")
    missing = merged["AVAL"].isna()
    if missing.any():
        subj = merged.loc[missing, "USUBJID"].iloc[0]
        raise AnalysisInputError(
            f"adtte: column AVAL, subject {subj}: rule: every ADSL subject needs a non-missing "
            f"AVAL for PARAMCD={paramcd} ({int(missing.sum())} missing)"
        )
    bad_cnsr = ~merged["CNSR"].isin([0, 1])
    if bad_cnsr.any():
        subj = merged.loc[bad_cnsr, "USUBJID"].iloc[0]
        raise AnalysisInputError(
            f"adtte: column CNSR, subject {subj}: rule: CNSR must be 0 (event) or 1 (censored)"
        )
    if (merged["AVAL"] < 0).any():
        subj = merged.loc[merged["AVAL"] < 0, "USUBJID"].iloc[0]
        raise AnalysisInputError(f"adtte: column AVAL, subject {subj}: rule: AVAL must be >= 0")
    return pd.DataFrame(
        {
            "USUBJID": merged["USUBJID"].to_numpy(),
            "group": merged[by].to_numpy(),
            "time": merged["AVAL"].to_numpy(dtype=float),
            "event": (merged["CNSR"].to_numpy() == 0).astype(int),
        }
    )
