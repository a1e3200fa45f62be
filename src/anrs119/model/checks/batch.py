"""Many posteriors from one reference table, each exactly the book's posterior method (the
calibration and the confrontation need hundreds): the same nearest trials, weights and
regression adjustment as :func:`anrs119.model.inference.rejection.abc_posterior`, found faster.

The distances to every trial of the table are computed once per abstract on pre-scaled columns
(no table-sized temporaries), which picks a few more candidates than needed; the method's own
:func:`~anrs119.model.inference.rejection.neighbourhood` then orders the candidates exactly as
it would order the whole table (same arithmetic per trial, ties by table row), so the fit is
the same, bit for bit (tested). The tiny least-squares fits run on one BLAS thread: on a busy
machine the threaded solver took fifty times longer.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from anrs119.model.inference.reference import ReferenceTable
from anrs119.model.inference.rejection import (
    NEIGHBOURHOOD,
    Fit,
    Unbounded,
    fit,
    neighbourhood,
    statistic_scales,
)

MARGIN: float = 1e-9
"""Relative margin on the candidates' squared distance: far above the rounding difference
between the pre-scaled and the method's arithmetic, far below any gap between trials."""


def book_table(size: int | None = None, progress: bool = True) -> ReferenceTable:
    """The book's reference table from its cache; if the cache lacks it, say so and simulate
    it (then cache it), as ``python -m anrs119 calibrate`` does."""
    import sys

    from anrs119.model.inference.reference import (
        CHUNK,
        REFERENCE_SIZE,
        cache_folder,
        cache_key,
        reference_table,
    )
    from anrs119.seeds import REFERENCE_SEED

    size = REFERENCE_SIZE if size is None else size
    path = cache_folder() / f"reference-{size}-{cache_key(size, REFERENCE_SEED, CHUNK)}.npz"
    if not path.exists():
        print(
            f"the reference table ({size:,} trials) is not in the cache {cache_folder()}: "
            "simulating it (1,000,000 trials take about 5 minutes on two quiet cores) and "
            "caching it",
            file=sys.stderr,
        )
    return reference_table(size, progress=progress)


@functools.cache
def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ModuleNotFoundError:  # not a dependency: the command line sets the threads instead
        return None
    return ThreadpoolController()


def one_thread():
    """Context in which BLAS and OpenMP use a single thread, where threadpoolctl is installed
    (its controller, which inspects the loaded libraries, is made once); the commands
    ``sbc`` and ``validate-extensions`` also ask for one thread before numpy loads."""
    controller = _controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1)


@dataclass
class Posteriors:
    """The book's posterior method on ``table`` for any printed abstract (statistics in the
    table's order): ``accepted`` nearest trials, Epanechnikov weights, regression adjustment.

    ``columns`` keeps only some statistics (a posterior that leaves a claim group out): the
    distance and the adjustment then use those columns only, with the same scales.
    ``importance`` (one weight per trial, mean 1) reweights the table to another prior: a
    trial then counts as that many trials, for the bandwidth and in the fit.
    """

    table: ReferenceTable
    unbounded: Unbounded
    accepted: int
    scales: np.ndarray | None = None
    columns: Sequence[int] | None = None
    importance: np.ndarray | None = None
    adjust: bool = True
    _scaled: np.ndarray = field(init=False, repr=False)
    _sub: ReferenceTable = field(init=False, repr=False)

    def __post_init__(self) -> None:
        full = statistic_scales(self.table.statistics) if self.scales is None else self.scales
        cols = (
            list(range(self.table.statistics.shape[1]))
            if self.columns is None
            else list(self.columns)
        )
        self.columns = tuple(cols)
        self.scales = np.asarray(full, dtype=float)[cols]
        self._sub = ReferenceTable(
            self.table.parameters,
            np.ascontiguousarray(self.table.statistics[:, cols]),
            self.table.names,
            tuple(self.table.statistic_ids[c] for c in cols),
        )
        self._scaled = np.asfortranarray(self._sub.statistics / self.scales)
        if self.importance is not None:
            w = np.asarray(self.importance, dtype=float)
            if w.shape != (len(self.table),) or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("importance: one finite, non-negative weight per trial")

    def _squared(self, observed: np.ndarray) -> np.ndarray:
        o = observed / self.scales
        d2 = np.zeros(len(self.table))
        for j in range(self._scaled.shape[1]):
            d2 += (self._scaled[:, j] - o[j]) ** 2
        d2[np.isnan(d2)] = np.inf
        return d2

    def candidates(self, observed: np.ndarray, size: int, exclude=None) -> np.ndarray:
        """Table rows (ascending) holding at least the ``size`` nearest trials of ``observed``."""
        d2 = self._squared(observed)
        if exclude is not None:
            d2[np.asarray(exclude)] = np.inf
        size = min(size, len(d2))
        if size < len(d2):
            kth = np.partition(d2, size - 1)[size - 1]
            rows = np.flatnonzero(d2 <= kth * (1.0 + MARGIN) + 1e-300)
        else:
            rows = np.arange(len(d2))
        return rows

    def radius(self, observed: np.ndarray, k: int) -> float:
        """Distance from ``observed`` to its ``k``-th nearest trial (the bandwidth of a
        posterior keeping ``k - 1`` trials)."""
        d2 = self._squared(np.asarray(observed, dtype=float))
        return float(np.sqrt(np.partition(d2, k - 1)[k - 1]))

    def fit(self, observed: np.ndarray, exclude: int | Sequence[int] | None = None) -> Fit:
        """The fit given ``observed`` (this posterior's columns), leaving out ``exclude``."""
        observed = np.asarray(observed, dtype=float)
        if self.importance is None:
            size = self.accepted + 1
        else:
            size = _weighted_size(self, observed, exclude)
        rows = self.candidates(observed, size, exclude)
        nb = neighbourhood(
            self._sub.take(rows), observed, len(rows), scales=self.scales, unbounded=self.unbounded
        )
        nb = type(nb)(rows[nb.rows], nb.distance, nb.theta, nb.departure)
        counts = None if self.importance is None else self.importance[nb.rows]
        with one_thread():
            return fit(nb, self.accepted, adjust=self.adjust, counts=counts)


def _weighted_size(post: Posteriors, observed: np.ndarray, exclude) -> int:
    """Trials to order so that their importance weights add up past ``accepted``."""
    size = NEIGHBOURHOOD * post.accepted
    d2 = post._squared(observed)
    if exclude is not None:
        d2[np.asarray(exclude)] = np.inf
    order = np.argsort(d2, kind="stable")
    cum = np.cumsum(post.importance[order])
    need = int(np.searchsorted(cum, post.accepted + 1)) + 2
    if need > len(order):
        raise ValueError("the reweighted table holds fewer than the accepted trials' weight")
    return max(size, need)
