"""Cross-claim checks: where the model places one statement of an abstract given the rest of it.

A joint check asks whether an abstract as a whole is one the model prints; the posterior then
refits the model to it. Neither asks the question a reader has about a single statement ("is an
IL-2 median CD4 change of +150 compatible with the rest of this abstract?"). This check does:
among the prior-predictive trials whose other printed point estimates are nearest the
abstract's, adjusted for how far they lie from it, how far out is the statement? It is a
conflict diagnostic in the sense of Marshall and Spiegelhalter (2007) and Presanis et al.
(2013): the statement is predicted from the rest of the evidence, never from itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

GROUPS: dict[str, tuple[str, ...]] = {
    "primary end point": ("primary_w96_il2", "primary_w96_control"),
    "CD4 changes": ("cd4_change_w96_il2", "cd4_change_w96_control"),
    "viral-load changes": ("vl_change_w96_il2", "vl_change_w96_control"),
    "low-viral-load subgroup": (
        "lowvl_free_w150_il2",
        "lowvl_free_w150_control",
        "lowvl_art_deferral",
    ),
}
"""The statements checked, each against all the other printed point estimates."""


REPORT_LEVELS: tuple[float, float] = (0.05, 0.01)
"""The levels at which the book reports the check's calibration (its p values below each, on
abstracts the model printed)."""


NEIGHBOURS: int = 2_000
"""Trials nearest the rest of the abstract (at most 1 in 20 of the table): 0.2% of the book's
reference table of a million, enough for the 99th percentile of the predicted statement to rest
on 20 trials."""


@dataclass(frozen=True)
class CrossClaim:
    """One statement's place given the rest of an abstract."""

    group: str
    p_value: float
    """Share of the predicted statements at least as far from their centre (normal-scores
    distance, as the joint check) as the abstract's."""
    percentiles: dict[str, float]
    """Each claim's mid-rank percentile among its predicted values."""
    neighbours: int
    observed: dict[str, float]
    """The statement's printed values, by claim."""


@dataclass(frozen=True)
class PredictiveTable:
    """Printed point estimates of prior-predictive trials ((trials, ids), finite rows only), with
    each estimate's scale for the distance: its median absolute deviation (else its SD)."""

    statistics: np.ndarray
    ids: tuple[str, ...]
    scale: np.ndarray

    @classmethod
    def of(cls, statistics: np.ndarray, ids: Sequence[str]) -> PredictiveTable:
        s = np.asarray(statistics, dtype=float)
        s = s[np.all(np.isfinite(s), axis=1)]
        med = np.median(s, axis=0)
        mad = 1.4826 * np.median(np.abs(s - med), axis=0)
        spread = s.std(axis=0)
        scale = np.where(mad > 0, mad, np.where(spread > 0, spread, 1.0))
        return cls(s, tuple(ids), scale)


def nearest(d: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` smallest of ``d``, nearest first, ties by index (as a stable sort,
    without sorting a million distances)."""
    threshold = np.partition(d, k - 1)[k - 1]
    candidates = np.flatnonzero(d <= threshold)
    return candidates[np.lexsort((candidates, d[candidates]))][:k]


def cross_claim_check(
    table: PredictiveTable,
    observed: Mapping[str, float],
    decimals: Mapping[str, int],
    group: str,
    neighbours: int = NEIGHBOURS,
) -> CrossClaim:
    """The statement ``GROUPS[group]`` of an abstract (``observed``: its printed point estimates
    by id) among the trials of ``table`` nearest it in the other estimates.

    The nearest trials are found by the Euclidean distance of the other estimates, each scaled by
    its median absolute deviation in the table; their statements are moved by a linear
    regression on the other estimates to where they would be at the abstract's (Beaumont et al.
    2002, as the consistency checks do), so the neighbours' residual distance from the abstract
    does not widen the prediction; the p value is the book's normal-scores joint check
    (:func:`anrs119.model.checks.predictive.joint_check`) of the statement among them."""
    from anrs119.model.checks.predictive import ClaimRef, joint_check, printed

    ids = list(table.ids)
    target = [ids.index(c) for c in GROUPS[group]]
    rest = [j for j in range(len(ids)) if j not in target]
    x_obs = np.array([observed[ids[j]] for j in rest])
    d2 = np.zeros(table.statistics.shape[0])
    for j, x0 in zip(rest, x_obs, strict=True):
        d2 += ((table.statistics[:, j] - x0) / table.scale[j]) ** 2
    k = min(neighbours, d2.size // 20)
    near = nearest(d2, k)
    offset = table.statistics[np.ix_(near, rest)] - x_obs
    y = table.statistics[np.ix_(near, target)]
    features = np.column_stack([np.ones(k), offset])
    beta = np.linalg.lstsq(features, y, rcond=None)[0]
    adjusted = y - offset @ beta[1:]
    samples = {ids[j]: adjusted[:, i] for i, j in enumerate(target)}
    refs = tuple(
        ClaimRef(ids[j], float(observed[ids[j]]), "=", "point", int(decimals[ids[j]]))
        for j in target
    )
    # printed once: the joint check prints them again, and printing is idempotent
    samples = {ref.id: printed(ref, samples[ref.id]) for ref in refs}
    check = joint_check(samples, refs)
    percentiles = {}
    for ref in refs:
        values = np.sort(samples[ref.id])
        below = np.searchsorted(values, ref.value, side="left")
        upto = np.searchsorted(values, ref.value, side="right")
        percentiles[ref.id] = float(100.0 * (below + upto) / (2.0 * values.size))
    return CrossClaim(group, check.p_value, percentiles, int(k),
                      {ref.id: ref.value for ref in refs})  # fmt: skip


def cross_claim_checks(
    table: PredictiveTable,
    observed: Mapping[str, float],
    decimals: Mapping[str, int],
    neighbours: int = NEIGHBOURS,
) -> dict[str, CrossClaim]:
    """:func:`cross_claim_check` for every group of :data:`GROUPS`."""
    return {g: cross_claim_check(table, observed, decimals, g, neighbours) for g in GROUPS}
