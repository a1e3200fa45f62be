"""The published claims computed from simulated trials, vectorised over replicate trials.

Every function takes (R, N) or (R, N, V) arrays and returns one value per replicate, so the
same code serves the calibration (one huge replicate), the predictive intervals (thousands of
trial-sized replicates) and the choice of the embedded trial.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy import special, stats

from anrs119.extras import MissingExtraError
from anrs119.model.simulator.trials import Trials

try:
    from numba import njit, prange
except ModuleNotFoundError as missing:  # numba comes with the optional extra anrs119[model]
    raise MissingExtraError.of(missing, __name__) from missing

PERCENT = 100.0


# ---------------------------------------------------------------- observed data from latent times


@dataclass(frozen=True)
class TimeToEvent:
    """Observed (possibly censored) times, (R, N): ``event`` is True when the event was seen."""

    time: np.ndarray
    event: np.ndarray


def last_visit(tr: Trials, censor: bool = True) -> np.ndarray:
    """Week where each patient is censored (R, N): the last visit attended before the data
    cut-off or loss to follow-up; ``censor=False``: the last week simulated (latent data)."""
    if not censor:
        return np.full(tr.shape, float(tr.visits[-1]))
    return tr.t_last


def truncate(tr: Trials, week: float) -> Trials:
    """The trials with everything after ``week`` removed: later visits dropped, later event
    times set to inf (not seen), censoring at the last visit attended by ``week``."""
    if tr.visits[-1] <= week:
        return tr
    keep = tr.visits <= week
    visits = tr.visits[keep]
    if tr.attended is None:
        raise ValueError("truncating needs the per-visit arrays: simulate with full=True")
    att = tr.attended[..., keep] & (visits <= tr.t_last[..., None])
    last = visits[visits.size - 1 - np.argmax(att[..., ::-1], axis=-1)]
    cut = {
        k: np.where(getattr(tr, k) <= week, getattr(tr, k), np.inf)
        for k in ("t_cd4_known", "t_art", "t_aids", "t_death", "t_drop")
    }
    # a low count confirmed only after ``week`` is not an end point by ``week``
    cut["t_cd4"] = np.where(np.isfinite(cut["t_cd4_known"]), tr.t_cd4, np.inf)
    cut["t_primary"] = np.minimum.reduce(
        [cut["t_cd4"], cut["t_art"], cut["t_aids"], cut["t_death"]]
    )
    return replace(
        tr,
        visits=visits,
        t_last=np.minimum(tr.t_last, last),
        fu_end=np.minimum(tr.fu_end, week),
        n_cycles=np.where(tr.il2, np.minimum(tr.n_cycles, (tr.cycles <= week).sum()), 0),
        cd4_obs=tr.cd4_obs[..., keep],
        vl_obs=None if tr.vl_obs is None else tr.vl_obs[..., keep],
        attended=tr.attended[..., keep],
        **cut,
    )


def composite(tr: Trials, censor: bool = True) -> TimeToEvent:
    """Primary composite end point: confirmed CD4 < 300, ART, AIDS-defining event or death."""
    cens = last_visit(tr, censor)
    event = tr.t_primary <= cens
    return TimeToEvent(np.where(event, tr.t_primary, cens), event)


def time_to_art(tr: Trials, censor: bool = True) -> TimeToEvent:
    """Time to ART initiation; censored at the last visit or at death."""
    cens = np.minimum(last_visit(tr, censor), tr.t_death)
    event = tr.t_art <= cens
    return TimeToEvent(np.where(event, tr.t_art, cens), event)


# ---------------------------------------------------------------- Kaplan-Meier on the visit grid


@dataclass(frozen=True)
class GridKM:
    """Kaplan-Meier survival at the visit weeks, per replicate: ``surv`` is (R, V)."""

    grid: np.ndarray
    surv: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray

    def at(self, week: float) -> np.ndarray:
        j = int(np.searchsorted(self.grid, week, side="right")) - 1
        return self.surv[:, j]

    def quantile(self, q: float, interpolate: bool = False) -> np.ndarray:
        """Week at which S first falls to 1 - q (inf if not reached).

        ``interpolate`` joins the grid values linearly (smooth in the parameters, for
        calibration); otherwise the usual step-function definition is used.
        """
        level = 1.0 - q
        hit = self.surv <= level + 1e-12
        idx = hit.argmax(axis=1)
        reached = hit.any(axis=1)
        if not interpolate:
            return np.where(reached, self.grid[idx], np.inf)
        j = np.maximum(idx, 1)
        rows = np.arange(self.surv.shape[0])
        s_hi, s_lo = self.surv[rows, j - 1], self.surv[rows, j]
        frac = np.where(s_hi > s_lo, (s_hi - level) / np.maximum(s_hi - s_lo, 1e-300), 1.0)
        t = self.grid[j - 1] + np.clip(frac, 0.0, 1.0) * (self.grid[j] - self.grid[j - 1])
        return np.where(reached, t, np.inf)

    def rmst(self, week: float) -> np.ndarray:
        """Restricted mean survival time up to ``week`` (step function on the grid)."""
        j = int(np.searchsorted(self.grid, week, side="right")) - 1
        widths = np.diff(self.grid[: j + 1])
        return (self.surv[:, :j] * widths).sum(axis=1)


def grid_km(tte: TimeToEvent, mask: np.ndarray, grid: np.ndarray) -> GridKM:
    """KM of the patients in ``mask`` with event times binned to (grid[j-1], grid[j]].

    Exact for the usual KM at grid weeks: censoring happens only at visit weeks, so within an
    interval the risk set only shrinks through events (product telescopes to (n - d) / n).
    """
    r, _ = tte.time.shape
    v = grid.size
    b = np.searchsorted(grid, tte.time, side="left")  # bin j holds (grid[j-1], grid[j]]
    b = np.where(mask, np.minimum(b, v - 1), v)  # excluded patients go to a dropped bin
    offs = (np.arange(r) * (v + 1))[:, None]
    total = np.bincount((b + offs).ravel(), minlength=r * (v + 1)).reshape(r, v + 1)[:, :v]
    ev = np.bincount(
        (b + offs).ravel(), weights=tte.event.ravel().astype(float), minlength=r * (v + 1)
    ).reshape(r, v + 1)[:, :v]
    at_risk = np.cumsum(total[:, ::-1], axis=1)[:, ::-1].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - ev / at_risk, 1.0)
    factor[:, 0] = 1.0  # no events at week 0
    return GridKM(grid=grid, surv=np.cumprod(factor, axis=1), at_risk=at_risk, events=ev)


# ---------------------------------------------------------------- vectorised tests


def chi2_2x2(e1: np.ndarray, n1: np.ndarray, e2: np.ndarray, n2: np.ndarray, yates: bool):
    """Pearson chi-square P value of a 2x2 table per replicate (as scipy chi2_contingency)."""
    obs = np.stack([e1, n1 - e1, e2, n2 - e2], axis=-1).astype(float)
    n = n1 + n2
    col = np.stack([e1 + e2, n - e1 - e2], axis=-1).astype(float)
    exp = np.concatenate([n1[..., None] * col, n2[..., None] * col], axis=-1) / n[..., None]
    dev = np.abs(obs - exp)
    if yates:
        dev = np.maximum(dev - 0.5, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(exp > 0, dev**2 / exp, 0.0).sum(axis=-1)
    degenerate = (col == 0).any(axis=-1)
    return np.where(degenerate, 1.0, chi2_sf_1df(stat))


def chi2_sf_1df(stat: np.ndarray) -> np.ndarray:
    """Upper tail of chi-square with 1 degree of freedom: ``stats.chi2.sf(stat, 1)`` bit for
    bit (the same cephes routine), without the distribution object's per-call overhead."""
    return special.chdtrc(1.0, stat)


@njit(cache=True)
def _block_sum(a, lo, n):  # pragma: no cover - compiled
    """numpy's sum of at most 128 contiguous values: 8 accumulators, then the rest in turn."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    m = n - n % 8
    i = 8
    while i < m:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise_sum(a, lo, n):  # pragma: no cover - compiled
    """Sum of ``a[lo:lo + n]`` in numpy's order (pairwise halves of multiples of 8 down to
    blocks of <= 128, each summed by :func:`_block_sum`).

    ``ndarray.sum`` over a contiguous axis adds in this order; the compiled summaries follow
    it step by step so that every float comes out bit for bit as the numpy code gave it.
    The halving runs on an explicit stack: numba's on-disk cache cannot reload a recursive
    function (the process crashes on the second run).
    """
    if n <= 128:
        return _block_sum(a, lo, n)
    seg_lo = np.empty(128, dtype=np.int64)
    seg_n = np.empty(128, dtype=np.int64)
    split = np.zeros(128, dtype=np.bool_)
    vals = np.empty(128)
    sp = 0
    vp = 0
    seg_lo[0], seg_n[0] = lo, n
    while sp >= 0:
        m = seg_n[sp]
        if m <= 128:
            vals[vp] = _block_sum(a, seg_lo[sp], m)
            vp += 1
            sp -= 1
        elif split[sp]:  # both halves summed: left + right
            vals[vp - 2] = vals[vp - 2] + vals[vp - 1]
            vp -= 1
            split[sp] = False
            sp -= 1
        else:
            split[sp] = True
            m2 = m // 2
            m2 -= m2 % 8
            l0 = seg_lo[sp]
            seg_lo[sp + 1], seg_n[sp + 1] = l0 + m2, m - m2  # right half, summed second
            seg_lo[sp + 2], seg_n[sp + 2] = l0, m2  # left half, on top: summed first
            split[sp + 1] = False
            split[sp + 2] = False
            sp += 2
    return vals[0]


@njit(cache=True)
def _fisher_rows(pmf, size, col, out):  # pragma: no cover - compiled
    """Two-sided P of each table from its hypergeometric row: the mass of the outcomes no more
    likely than the one observed (``col``), with scipy's relative tolerance of 1e-7."""
    for u in range(pmf.shape[0]):
        n = size[u]
        row = np.empty(n)
        p_obs = pmf[u, col[u]] * (1 + 1e-7)
        for x in range(n):
            row[x] = pmf[u, x] if pmf[u, x] <= p_obs else 0.0
        out[u] = min(_pairwise_sum(row, 0, n), 1.0)


_FISHER_MEMO: dict[tuple[int, int, int, int], float] = {}
"""Two-sided Fisher P of each table seen in this process, keyed by (n1, n2, e1 + e2, e1)."""
FISHER_MEMO_LIMIT: int = 500_000


def _flat_counts(v, shape: tuple[int, ...]) -> np.ndarray:
    """``v`` as 64-bit integers of ``shape``, flattened (broadcast only where it must be)."""
    a = np.asarray(v, dtype=np.int64)
    return (a if a.shape == shape else np.broadcast_to(a, shape)).ravel()


def fisher_2x2(e1: np.ndarray, n1: np.ndarray, e2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided Fisher exact P value per replicate (same rule as scipy.stats.fisher_exact).

    Only the hypergeometric rows of the distinct tables (n1, n2, e1 + e2, e1) that occur are
    computed (one scipy call), and each P is remembered for the process: one-trial calls (the
    ABC model) meet the same few hundred tables again and again. A remembered P is the number
    a fresh computation gives, bit for bit (each hypergeometric mass is computed on its own).
    """
    shape = np.shape(e1)
    e1, n1, e2, n2 = (_flat_counts(v, shape) for v in (e1, n1, e2, n2))
    if e1.size == 0:
        return np.empty(shape)
    if np.any((e1 < 0) | (e2 < 0) | (e1 > n1) | (e2 > n2)):
        raise ValueError("Fisher test of counts outside 0..group size")
    if e1.size <= 16:  # a few tables, most often all remembered: no sorting
        seen = [
            _FISHER_MEMO.get(t)
            for t in zip(n1.tolist(), n2.tolist(), (e1 + e2).tolist(), e1.tolist(), strict=True)
        ]
        if None not in seen:
            return np.array(seen, dtype=float).reshape(shape)
    big = int(max(n1.max(), n2.max())) + 1
    if big < 30_000:
        # one integer per table (n1, n2, e1 + e2, e1), digits in base ``big``: unique is then a
        # 1-D sort, much faster than np.unique over the columns of a (4, R) array
        code = ((n1 * big + n2) * (2 * big) + (e1 + e2)) * big + e1
        codes, inverse = np.unique(code, return_inverse=True)
        codes, x = np.divmod(codes, big)
        codes, k = np.divmod(codes, 2 * big)
        a, b = np.divmod(codes, big)
    else:  # the code would overflow 64 bits
        keys, inverse = np.unique(np.stack([n1, n2, e1 + e2, e1]), axis=1, return_inverse=True)
        a, b, k, x = keys
    tables = list(zip(a.tolist(), b.tolist(), k.tolist(), x.tolist(), strict=True))
    p = np.array([_FISHER_MEMO.get(t, np.nan) for t in tables])
    new = np.flatnonzero(np.isnan(p))
    if new.size:
        a, b, k, x = a[new], b[new], k[new], x[new]
        width = int(a.max()) + 1
        xs = np.arange(width)[None, :]
        pmf = stats.hypergeom.pmf(xs, (a + b)[:, None], k[:, None], a[:, None])
        fresh = np.empty(a.size)
        _fisher_rows(np.ascontiguousarray(pmf), a + 1, x, fresh)
        p[new] = fresh
        if len(_FISHER_MEMO) + new.size > FISHER_MEMO_LIMIT:
            _FISHER_MEMO.clear()
        _FISHER_MEMO.update((tables[i], float(v)) for i, v in zip(new, fresh, strict=True))
    return p[inverse.ravel()].reshape(shape)


@njit(cache=True)
def _mw_p(vals, grp, order, n, n1):  # pragma: no cover - compiled
    """Mann-Whitney P of ``vals[:n]`` (``grp`` True for the first sample, ``n1`` of them),
    ``order`` their argsort (ties get one average rank: the sort need not be stable)."""
    n2 = n - n1
    if n1 == 0 or n2 == 0:
        return np.nan
    r1 = 0.0
    tie = 0.0
    k = 0
    while k < n:
        m = k
        while m + 1 < n and vals[order[m + 1]] == vals[order[k]]:
            m += 1
        t = m - k + 1
        rank = (k + m) / 2.0 + 1.0  # average rank of the tie group
        for q in range(k, m + 1):
            if grp[order[q]]:
                r1 += rank
        tie += t * t * t - t
        k = m + 1
    u1 = r1 - n1 * (n1 + 1) / 2.0
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1.0)))
    if var <= 0.0:
        return np.nan
    z = (abs(u1 - mu) - 0.5) / math.sqrt(var)
    p = math.erfc(max(z, 0.0) / math.sqrt(2.0))
    return min(p, 1.0)


@njit(cache=True)
def _radix_sort(keys, n, work, count):  # pragma: no cover - compiled
    """Sort ``keys[:n]`` in place: two 8-bit counting passes over ``key - min`` when the span
    fits 16 bits (numpy's quicksort otherwise). On a trial's hundred-odd changes it takes half
    the time of the quicksort, whose comparisons the branch predictor cannot learn."""
    if n < 2:
        return
    lo = keys[0]
    hi = keys[0]
    for k in range(1, n):
        lo = min(lo, keys[k])
        hi = max(hi, keys[k])
    if hi - lo >= 65536:
        keys[:n].sort()
        return
    count[:] = 0
    for k in range(n):
        count[((keys[k] - lo) & 255) + 1] += 1
    for b in range(256):
        count[b + 1] += count[b]
    for k in range(n):
        d = (keys[k] - lo) & 255
        work[count[d]] = keys[k]
        count[d] += 1
    if hi - lo < 256:
        keys[:n] = work[:n]
        return
    count[:] = 0
    for k in range(n):
        count[((work[k] - lo) >> 8) + 1] += 1
    for b in range(256):
        count[b + 1] += count[b]
    for k in range(n):
        d = (work[k] - lo) >> 8
        keys[count[d]] = work[k]
        count[d] += 1


@njit(cache=True)
def _rank_claims(keys, n, scale, out, col, kind, i, tests, scratch):  # pragma: no cover - compiled
    """Both arms' medians and the Mann-Whitney P of the values in ``keys[:n]``, sorted integer
    keys ``value * scale << 2 | flag << 1 | IL-2``, into ``out[col + 2 * kind + arm, i]`` and
    ``out[col + 4 + kind, i]``: the numbers np.median and :func:`_mw_p` give, bit for bit (a
    key's value divided by ``scale`` is the value it came from). ``scratch``: (2, N) work space.

    The passes never branch on a patient's arm or on a tie (compares the branch predictor
    cannot learn): each arm's values are written to their own row, a position advancing only
    for its arm, and each value's tie run is found from its start and end.
    """
    n1 = 0
    for k in range(n):
        key = keys[k]
        g = key & 1
        scratch[0, n1] = key
        scratch[1, k - n1] = key
        n1 += g
    for arm in range(2):
        size = n1 if arm == 0 else n - n1
        med = np.nan
        if size % 2 == 1:
            med = np.float64(scratch[arm, size >> 1] >> 2) / scale
        elif size > 0:
            lo = np.float64(scratch[arm, (size >> 1) - 1] >> 2) / scale
            med = (lo + np.float64(scratch[arm, size >> 1] >> 2) / scale) / 2
        out[col + 2 * kind + arm, i] = med
    if not tests:
        return
    # _mw_p on the sorted values: the rank of a value is the mean position of its tie run;
    # rank and tie sums are sums of halves and integers, exact in any order
    n2 = n - n1
    if n1 == 0 or n2 == 0:
        out[col + 4 + kind, i] = np.nan
        return
    start = scratch[0]
    for k in range(n):
        start[k] = k if k == 0 or keys[k] >> 2 != keys[k - 1] >> 2 else start[k - 1]
    r1 = 0.0
    tie = 0.0
    end = n - 1
    for k in range(n - 1, -1, -1):
        end = end if k == n - 1 or keys[k] >> 2 == keys[k + 1] >> 2 else k
        t = end - start[k] + 1
        r1 += ((start[k] + end) / 2.0 + 1.0) * (keys[k] & 1)
        tie += t * t - 1
    u1 = r1 - n1 * (n1 + 1) / 2.0
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1.0)))
    if var <= 0.0:
        out[col + 4 + kind, i] = np.nan
        return
    z = (abs(u1 - mu) - 0.5) / math.sqrt(var)
    out[col + 4 + kind, i] = min(math.erfc(max(z, 0.0) / math.sqrt(2.0)), 1.0)


@njit(cache=True, parallel=True)
def _mann_whitney_rows(x, y):  # pragma: no cover - compiled
    r = x.shape[0]
    out = np.empty(r)
    for i in prange(r):
        vals = np.empty(x.shape[1] + y.shape[1])
        grp = np.empty(x.shape[1] + y.shape[1], dtype=np.bool_)
        n1 = 0
        n = 0
        for j in range(x.shape[1]):
            if not np.isnan(x[i, j]):
                vals[n] = x[i, j]
                grp[n] = True
                n += 1
                n1 += 1
        for j in range(y.shape[1]):
            if not np.isnan(y[i, j]):
                vals[n] = y[i, j]
                grp[n] = False
                n += 1
        out[i] = _mw_p(vals, grp, np.argsort(vals[:n]), n, n1)
    return out


def mann_whitney(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Two-sided Mann-Whitney P per row (NaN = missing), asymptotic with tie and continuity
    corrections, as ``scipy.stats.mannwhitneyu(method="asymptotic")``."""
    return _mann_whitney_rows(np.ascontiguousarray(x, float), np.ascontiguousarray(y, float))


def logrank(
    tte: TimeToEvent,
    group1: np.ndarray,
    group2: np.ndarray,
    grid: np.ndarray,
    km: tuple[GridKM, GridKM] | None = None,
):
    """Two-sided log-rank P per replicate, event times binned to visit intervals (``km``: the
    two groups' grid Kaplan-Meier, if already computed)."""
    k1, k2 = km if km is not None else (grid_km(tte, group1, grid), grid_km(tte, group2, grid))
    n1, n2, d1, d2 = k1.at_risk, k2.at_risk, k1.events, k2.events
    n, d = n1 + n2, d1 + d2
    with np.errstate(divide="ignore", invalid="ignore"):
        e1 = np.where(n > 0, d * n1 / n, 0.0)
        var = np.where(n > 1, n1 * n2 * d * (n - d) / (n**2 * (n - 1)), 0.0)
    o_e = (d1 - e1).sum(axis=1)
    v = var.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(v > 0, o_e**2 / v, 0.0)
    return chi2_sf_1df(stat)


# ---------------------------------------------------------------- the claim summaries


def _index(visits: np.ndarray, week: float) -> int:
    j = int(np.searchsorted(visits, week))
    if j >= visits.size or visits[j] != week:
        raise ValueError(f"week {week:g} is not a visit week")
    return j


def change_readings(
    tr: Trials, censor: bool = True
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Change from baseline at the primary week per reading: (CD4, VL change, included mask).

    Values are rounded as the ADaM tables are (CD4 to whole cells, log10 VL to 2 decimals).
    ``off_art``: patients seen at the visit, alive and still off ART (the reading used).
    ``pre_art_locf``: last value measured before ART, carried forward (alive, in follow-up).
    ``policy``: value at the visit whatever the treatment (treatment policy).
    """
    w = tr.week
    bcd4, bvl = np.round(tr.bcd4), np.round(tr.bvl, 2)
    in_fu = tr.t_death > w
    if censor:
        in_fu &= (w <= tr.fu_end) & (w <= tr.t_drop)
    seen = in_fu & ~np.isnan(tr.cd4_w)
    off = seen & (tr.t_art >= w)
    cd4_w, vl_w = np.round(tr.cd4_w), np.round(tr.vl_w, 2)
    cd4_p, vl_p = np.round(tr.cd4_locf), np.round(tr.vl_locf, 2)
    # changes rounded as the ADaM CHG column is (2 decimals for log10 viral load)
    return {
        "off_art": (cd4_w - bcd4, np.round(vl_w - bvl, 2), off),
        "pre_art_locf": (cd4_p - bcd4, np.round(vl_p - bvl, 2), in_fu),
        "policy": (cd4_w - bcd4, np.round(vl_w - bvl, 2), seen),
    }


def ceil_tenth(t: np.ndarray) -> np.ndarray:
    """Weeks rounded up to 0.1, as the ADaM AVAL column is written."""
    return np.ceil(np.round(t * 10.0, 6)) / 10.0


def km_quantile(tte: TimeToEvent, mask: np.ndarray, q: float) -> np.ndarray:
    """Kaplan-Meier q-quantile per replicate on the exact (0.1-week) times: the first time at
    which S(t) <= 1 - q (inf if not reached), as lifelines and the ADaM analyses define it."""
    time = np.where(mask, ceil_tenth(tte.time), np.inf)
    event = tte.event & mask
    order = np.lexsort((~event, time), axis=-1)  # events before censorings at tied times
    t_sorted = np.take_along_axis(time, order, -1)
    e_sorted = np.take_along_axis(event, order, -1)
    m = mask.sum(axis=1, keepdims=True)
    at_risk = m - np.arange(time.shape[1])[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(e_sorted & (at_risk > 0), 1.0 - 1.0 / at_risk, 1.0)
    surv = np.cumprod(factor, axis=1)
    hit = (surv <= 1.0 - q + 1e-12) & e_sorted
    idx = hit.argmax(axis=1)
    rows = np.arange(time.shape[0])
    return np.where(hit.any(axis=1), t_sorted[rows, idx], np.inf)


def exponential_median(tte: TimeToEvent, mask: np.ndarray) -> np.ndarray:
    """Median of an exponential model fitted by maximum likelihood (events / time at risk) to
    the data of ``mask``: ln 2 x time at risk / events (inf without events). Uses only the
    follow-up simulated, so it extrapolates from data up to week 150, never reads later data."""
    d = (tte.event & mask).sum(axis=1)
    at_risk = np.where(mask, tte.time, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, math.log(2.0) * at_risk / d, np.inf)


CHANGE_READING: str = "off_art"
"""Reading of the week-96 median changes matched to the claims (MODEL-NOTES: best prototype fit)."""

PRIMARY_TESTS: tuple[str, ...] = ("chi2", "chi2_yates", "fisher")


READINGS: tuple[str, ...] = ("off_art", "pre_art_locf", "policy")
"""The readings of :func:`change_readings`, in its order."""

# Columns of the compiled summaries (one row per replicate); each mirrors a numpy formula of
# the functions above and the module's tests hold it to the same bits.
(
    K_PRIM1, K_PRIM2, K_FREE1, K_FREE2, K_CRUDE1, K_CRUDE2, K_LOGRANK, K_Q25, K_MEDIAN,
    K_RMST, K_EXPMED, K_ARTFREE1, K_ARTFREE2, K_AIDS1, K_AIDS2, K_DEATH1, K_DEATH2, K_READ,
) = range(18)  # fmt: skip
N_READ = 6  # per reading: median CD4 change IL-2 / control, median VL change, the two P values
N_FLOAT = K_READ + N_READ * len(READINGS)
# integer columns: events by the primary week and arm sizes; low-VL subgroup sizes and patients
# free of the end point at the subgroup week; sizes of the off-ART reading
I_E1, I_E2, I_N1, I_N2, I_M1, I_F1, I_M2, I_F2, I_NCH1, I_NCH2 = range(10)
N_INT = 10


@njit(cache=True)
def _round2(x):  # pragma: no cover - compiled
    """``np.round(x, 2)``: numpy scales, rounds half to even and scales back."""
    return np.rint(x * 100.0) / 100.0


@njit(cache=True)
def _km_row(time, event, mask, grid, surv, at_risk, ev, total):  # pragma: no cover - compiled
    """:func:`grid_km` of one replicate into ``surv``, ``at_risk``, ``ev``."""
    v = grid.size
    total[:] = 0
    ev[:] = 0.0
    for j in range(time.size):
        if mask[j]:
            b = min(np.searchsorted(grid, time[j]), v - 1)
            total[b] += 1
            if event[j]:
                ev[b] += 1.0
    acc = 0
    for k in range(v - 1, -1, -1):
        acc += total[k]
        at_risk[k] = acc
    s = 1.0  # no events at week 0
    surv[0] = s
    for k in range(1, v):
        if at_risk[k] > 0:  # otherwise the factor is 1
            s = s * (1.0 - ev[k] / at_risk[k])
        surv[k] = s


@njit(cache=True)
def _grid_quantile(surv, grid, q, interpolate):  # pragma: no cover - compiled
    """:meth:`GridKM.quantile` of one replicate."""
    level = 1.0 - q
    idx = -1
    for k in range(surv.size):
        if surv[k] <= level + 1e-12:
            idx = k
            break
    if idx < 0:
        return np.inf
    if not interpolate:
        return grid[idx]
    j = max(idx, 1)
    s_hi, s_lo = surv[j - 1], surv[j]
    frac = (s_hi - level) / max(s_hi - s_lo, 1e-300) if s_hi > s_lo else 1.0
    return grid[j - 1] + min(max(frac, 0.0), 1.0) * (grid[j] - grid[j - 1])


@njit(cache=True)
def _km_quartiles_row(time, event, mask, keys):  # pragma: no cover - compiled
    """:func:`km_quantile` of one replicate at q = 0.25 and 0.5, from one sort of integer keys
    (tenths of a week, then censored after events at tied times; ``keys``: work space of N)."""
    m = 0
    for j in range(time.size):
        if mask[j]:
            tenths = np.ceil(np.rint(time[j] * 10.0 * 1e6) / 1e6)  # ceil_tenth, times 10
            keys[m] = (np.int64(tenths) << 1) | (0 if event[j] else 1)
            m += 1
    keys[:m].sort()
    s = 1.0
    q25 = np.inf
    for k in range(m):
        if keys[k] & 1 == 0:
            s = s * (1.0 - 1.0 / (m - k))
            if q25 == np.inf and s <= 1.0 - 0.25 + 1e-12:
                q25 = np.float64(keys[k] >> 1) / 10.0
            if s <= 1.0 - 0.5 + 1e-12:
                return q25, np.float64(keys[k] >> 1) / 10.0
    return q25, np.inf


@njit(cache=True, parallel=True, error_model="numpy")
def _claim_rows(
    il2, t_primary, t_last, t_art, t_death, t_aids, bcd4, bvl, cd4_w, vl_w, cd4_locf, vl_locf,
    fu_end, t_drop, grid, w_tr, week, sub_week, j_sub, vl_cutoff, censor, interpolate, tests,
    out, counts,
):  # fmt: skip  # pragma: no cover - compiled
    """Every claim of :func:`claim_summaries` for each replicate in one pass over its patients
    (parallel over replicates), instead of dozens of numpy passes over (R, N) arrays."""
    r, n = il2.shape
    v = grid.size
    for i in prange(r):
        ptime = np.empty(n)
        pev = np.empty(n, dtype=np.bool_)
        atime = np.empty(n)
        aev = np.empty(n, dtype=np.bool_)
        cens = np.empty(n)
        low = np.empty(n, dtype=np.bool_)
        g = np.empty(n, dtype=np.bool_)
        dcs = np.empty((2, n))  # CD4 changes: at the visit, last before ART
        dvs = np.empty((2, n))
        inc = np.empty((3, n), dtype=np.bool_)
        e1 = e2 = n1 = n2 = 0
        m1 = m2 = f1 = f2 = 0
        aids1 = aids2 = death1 = death2 = 0
        for j in range(n):
            c = t_last[i, j] if censor else grid[v - 1]
            cens[j] = c
            ev = t_primary[i, j] <= c
            pev[j] = ev
            ptime[j] = t_primary[i, j] if ev else c
            ca = min(c, t_death[i, j])
            ev = t_art[i, j] <= ca
            aev[j] = ev
            atime[j] = t_art[i, j] if ev else ca
            ev96 = pev[j] and ptime[j] <= week
            low[j] = _round2(bvl[i, j]) < vl_cutoff
            free = not (pev[j] and ptime[j] <= sub_week)
            seen_until = min(c, week)
            aids = t_aids[i, j] <= seen_until
            death = t_death[i, j] <= seen_until
            if il2[i, j]:
                n1 += 1
                e1 += ev96
                aids1 += aids
                death1 += death
                if low[j]:
                    m1 += 1
                    f1 += free
            else:
                n2 += 1
                e2 += ev96
                aids2 += aids
                death2 += death
                if low[j]:
                    m2 += 1
                    f2 += free
            # change_readings: values rounded as written to the ADaM tables
            bc = np.rint(bcd4[i, j])
            bv = _round2(bvl[i, j])
            in_fu = t_death[i, j] > w_tr
            if censor:
                in_fu = in_fu and (w_tr <= fu_end[i, j]) and (w_tr <= t_drop[i, j])
            seen = in_fu and not np.isnan(cd4_w[i, j])
            inc[0, j] = seen and t_art[i, j] >= w_tr
            inc[1, j] = in_fu
            inc[2, j] = seen
            dcs[0, j] = np.rint(cd4_w[i, j]) - bc
            dvs[0, j] = _round2(_round2(vl_w[i, j]) - bv)
            dcs[1, j] = np.rint(cd4_locf[i, j]) - bc
            dvs[1, j] = _round2(_round2(vl_locf[i, j]) - bv)
        out[K_PRIM1, i] = PERCENT * e1 / n1
        out[K_PRIM2, i] = PERCENT * e2 / n2
        out[K_CRUDE1, i] = PERCENT * f1 / m1
        out[K_CRUDE2, i] = PERCENT * f2 / m2
        out[K_AIDS1, i] = aids1
        out[K_AIDS2, i] = aids2
        out[K_DEATH1, i] = death1
        out[K_DEATH2, i] = death2
        counts[I_E1, i] = e1
        counts[I_E2, i] = e2
        counts[I_N1, i] = n1
        counts[I_N2, i] = n2
        counts[I_M1, i] = m1
        counts[I_F1, i] = f1
        counts[I_M2, i] = m2
        counts[I_F2, i] = f2

        # medians and rank-sum tests of the changes. The values are whole cells or hundredths,
        # so each sorts as an integer key (value, then flags); the off-ART and policy readings
        # share the values at the visit, so one sort serves both (off ART: a flag bit)
        keys = np.empty(n, dtype=np.int64)
        sub = np.empty(n, dtype=np.int64)
        work = np.empty(n, dtype=np.int64)
        count = np.empty(257, dtype=np.int64)
        scratch = np.empty((2, n), dtype=np.int64)
        counts[I_NCH1, i] = 0
        counts[I_NCH2, i] = 0
        for j in range(n):
            if inc[0, j]:
                counts[I_NCH1 + (0 if il2[i, j] else 1), i] += 1
        for kind in range(2):
            scale = 1.0 if kind == 0 else 100.0
            for src in range(2):
                d = dcs[src] if kind == 0 else dvs[src]
                rd = 2 if src == 0 else 1
                nn = 0
                for j in range(n):
                    if inc[rd, j] and not np.isnan(d[j]):
                        flag = 2 if (src == 0 and inc[0, j]) else 0
                        keys[nn] = (np.int64(np.rint(d[j] * scale)) << 2) | flag | il2[i, j]
                        nn += 1
                _radix_sort(keys, nn, work, count)
                _rank_claims(keys, nn, scale, out, K_READ + N_READ * rd, kind, i, tests, scratch)
                if src == 0:
                    m = 0
                    for k in range(nn):
                        if keys[k] & 2:
                            sub[m] = keys[k]
                            m += 1
                    _rank_claims(sub, m, scale, out, K_READ, kind, i, tests, scratch)

        # Kaplan-Meier of the low-VL subgroup: end point free and ART free at the subgroup week
        surv = np.empty((2, v))
        at_risk = np.empty((2, v))
        evs = np.empty((2, v))
        total = np.empty(v, dtype=np.int64)
        for arm in range(2):
            for j in range(n):
                g[j] = low[j] and il2[i, j] == (arm == 0)
            _km_row(ptime, pev, g, grid, surv[arm], at_risk[arm], evs[arm], total)
            out[K_FREE1 + arm, i] = PERCENT * surv[arm, j_sub]
        if tests:  # log-rank on the grid, from the two groups' Kaplan-Meier tables
            oe = np.empty(v)
            var = np.empty(v)
            for k in range(v):
                a1, a2, d1, d2 = at_risk[0, k], at_risk[1, k], evs[0, k], evs[1, k]
                nt, dt = a1 + a2, d1 + d2
                oe[k] = d1 - (dt * a1 / nt if nt > 0 else 0.0)
                var[k] = a1 * a2 * dt * (nt - dt) / (nt * nt * (nt - 1)) if nt > 1 else 0.0
            o_e = _pairwise_sum(oe, 0, v)
            vv = _pairwise_sum(var, 0, v)
            out[K_LOGRANK, i] = o_e * o_e / vv if vv > 0 else 0.0

        tmp = np.empty(max(n, v))
        q = np.empty((2, 2))
        rmst = np.empty(2)
        expmed = np.empty(2)
        for arm in range(2):
            for j in range(n):
                g[j] = low[j] and il2[i, j] == (arm == 0)
            _km_row(atime, aev, g, grid, surv[arm], at_risk[arm], evs[arm], total)
            if interpolate:
                q[arm, 0] = _grid_quantile(surv[arm], grid, 0.25, True)
                q[arm, 1] = _grid_quantile(surv[arm], grid, 0.5, True)
            else:
                q[arm, 0], q[arm, 1] = _km_quartiles_row(atime, aev, g, keys)
            for k in range(j_sub):
                tmp[k] = surv[arm, k] * (grid[k + 1] - grid[k])
            rmst[arm] = _pairwise_sum(tmp, 0, j_sub)
            d = 0
            for j in range(n):
                tmp[j] = atime[j] if g[j] else 0.0
                d += aev[j] and g[j]
            expmed[arm] = math.log(2.0) * _pairwise_sum(tmp, 0, n) / d if d > 0 else np.inf
            out[K_ARTFREE1 + arm, i] = PERCENT * surv[arm, j_sub]
        out[K_Q25, i] = q[0, 0] - q[1, 0]
        out[K_MEDIAN, i] = q[0, 1] - q[1, 1]
        out[K_RMST, i] = rmst[0] - rmst[1]
        out[K_EXPMED, i] = expmed[0] - expmed[1]


def claim_summaries(
    tr: Trials,
    p: Mapping[str, float],
    *,
    censor: bool = True,
    interpolate: bool = False,
    tests: bool = True,
    primary_test: str = "chi2",
) -> dict[str, np.ndarray]:
    """Every result claim (printed units: %, cells/uL, log10, weeks) per replicate, plus the
    alternative readings (keys with a ``:reading`` suffix).

    ``censor=False`` uses the latent, complete follow-up (expected values in big cohorts);
    ``interpolate=True`` makes quantiles smooth in the parameters (calibration).
    The per-replicate work runs in one compiled pass (:func:`_claim_rows`) that reproduces,
    bit for bit, :func:`composite`, :func:`change_readings`, :func:`grid_km`,
    :func:`km_quantile`, :func:`logrank`'s statistic, :func:`mann_whitney` and the medians;
    only the vectorised tail (chi-square, Fisher) runs in numpy.
    """
    tr = truncate(tr, p["subgroup_week"])  # no claim reads follow-up after week 150
    grid = np.ascontiguousarray(tr.visits, dtype=float)
    week = float(p["primary_week"])
    sub_week = float(p["subgroup_week"])
    j_sub = int(np.searchsorted(grid, sub_week, side="right")) - 1
    r = tr.shape[0]
    res = np.empty((N_FLOAT, r))
    counts = np.empty((N_INT, r), dtype=np.int64)
    _claim_rows(
        tr.il2, tr.t_primary, tr.t_last, tr.t_art, tr.t_death, tr.t_aids, tr.bcd4, tr.bvl,
        tr.cd4_w, tr.vl_w, tr.cd4_locf, tr.vl_locf, tr.fu_end, tr.t_drop, grid, float(tr.week),
        week, sub_week, j_sub, float(p["vl_cutoff"]), censor, interpolate, tests, res, counts,
    )  # fmt: skip
    e1, e2, n1, n2, m1, f1, m2, f2 = counts[:8]

    out: dict[str, np.ndarray] = {}
    out["primary_w96_il2"] = res[K_PRIM1]
    out["primary_w96_control"] = res[K_PRIM2]
    out["events_w96_il2"] = e1.astype(float)
    out["events_w96_control"] = e2.astype(float)
    if tests:
        out["primary_w96_p:chi2"] = chi2_2x2(e1, n1, e2, n2, yates=False)
        out["primary_w96_p:chi2_yates"] = chi2_2x2(e1, n1, e2, n2, yates=True)
        out["primary_w96_p:fisher"] = fisher_2x2(e1, n1, e2, n2)
        out["primary_w96_p"] = out[f"primary_w96_p:{primary_test}"]
    for k, reading in enumerate(READINGS):
        sfx = "" if reading == CHANGE_READING else f":{reading}"
        col = K_READ + N_READ * k
        out[f"cd4_change_w96_il2{sfx}"] = res[col]
        out[f"cd4_change_w96_control{sfx}"] = res[col + 1]
        out[f"vl_change_w96_il2{sfx}"] = res[col + 2]
        out[f"vl_change_w96_control{sfx}"] = res[col + 3]
        if tests:
            out[f"cd4_change_w96_p{sfx}"] = res[col + 4]
            out[f"vl_change_w96_p{sfx}"] = res[col + 5]
        if reading == CHANGE_READING:
            if k != 0:  # the compiled pass counts the first reading's sizes
                raise AssertionError("CHANGE_READING must be the first reading")
            out["n_change_w96_il2"] = counts[I_NCH1].astype(float)
            out["n_change_w96_control"] = counts[I_NCH2].astype(float)

    out["lowvl_free_w150_il2"] = res[K_FREE1]
    out["lowvl_free_w150_control"] = res[K_FREE2]
    out["lowvl_free_w150_il2:crude"] = res[K_CRUDE1]
    out["lowvl_free_w150_control:crude"] = res[K_CRUDE2]
    out["n_lowvl_il2"] = m1.astype(float)
    out["n_lowvl_control"] = m2.astype(float)
    if tests:
        out["lowvl_free_w150_p"] = chi2_sf_1df(res[K_LOGRANK])
        out["lowvl_free_w150_p:fisher"] = fisher_2x2(m1 - f1, m1, m2 - f2, m2)

    out["lowvl_art_deferral:q25"] = res[K_Q25]
    out["lowvl_art_deferral:median"] = res[K_MEDIAN]
    out["lowvl_art_deferral:rmst"] = res[K_RMST]
    out["lowvl_art_deferral:exp_median"] = res[K_EXPMED]
    out["lowvl_art_deferral"] = out[f"lowvl_art_deferral:{DEFERRAL_READING}"]
    out["lowvl_art_free_w150_il2"] = res[K_ARTFREE1]
    out["lowvl_art_free_w150_control"] = res[K_ARTFREE2]
    out["aids_w96_il2"] = res[K_AIDS1]
    out["aids_w96_control"] = res[K_AIDS2]
    out["death_w96_il2"] = res[K_DEATH1]
    out["death_w96_control"] = res[K_DEATH2]
    return out


DEFERRAL_READING: str = "q25"
"""Reading of the 92-week deferral used for calibration (see the model chapter)."""


@njit(cache=True, parallel=True)
def _safety_rows(il2, t_aids, t_death, t_last, n_cycles, u, week, il2_last, rate, rr, powers,
                 out):  # fmt: skip  # pragma: no cover - compiled
    """Per replicate and arm: patients with an AIDS-defining event, a death and a grade 3-4
    event by ``week`` (columns IL-2 / control of each), as the numpy of :func:`grade34_counts`
    computes them, operation for operation."""
    r, n = il2.shape
    cap = powers.size - 1
    for i in prange(r):
        for c in range(6):
            out[i, c] = 0
        for j in range(n):
            arm = 0 if il2[i, j] else 1
            seen_until = min(t_last[i, j], week)
            out[i, arm] += t_aids[i, j] <= seen_until
            out[i, 2 + arm] += t_death[i, j] <= seen_until
            end = min(min(t_last[i, j], t_death[i, j]), week)
            years = end / (365.25 / 7)
            on_il2 = min(end, il2_last) / (365.25 / 7) if il2[i, j] else 0.0
            mean = rate[i] * ((rr[i] - 1.0) * on_il2 + years)
            cycles = min(n_cycles[i, j], cap) if il2[i, j] else 0
            out[i, 4 + arm] += u[i, j] > math.exp(-mean) * powers[cycles]


def _safety_counts(tr: Trials, p: Mapping[str, float], u: np.ndarray) -> np.ndarray:
    """(R, 6): AIDS, death and grade 3-4 counts by the primary week, IL-2 then control."""
    from anrs119.model.simulator.adverse_events import IL2_REACTION_GRADES, IL2_REACTIONS

    r = tr.shape[0]
    p_reaction3 = 1.0 - np.prod(
        [1.0 - prob * IL2_REACTION_GRADES[2] for _, _, prob in IL2_REACTIONS]
    )
    # (1 - p) ** cycles from a table of the few powers: the same numbers, without one pow each
    powers = (1.0 - p_reaction3) ** np.arange(int((tr.cycles < p["primary_week"]).sum()) + 1)
    out = np.empty((r, 6), dtype=np.int64)
    _safety_rows(
        np.ascontiguousarray(tr.il2), tr.t_aids, tr.t_death, tr.t_last, tr.n_cycles,
        np.ascontiguousarray(u, dtype=float), float(p["primary_week"]),
        float(p["il2_last_week"]),
        np.broadcast_to(np.asarray(p["grade34_rate"], dtype=float), (r,)),
        np.broadcast_to(np.asarray(p["il2_grade34_rr"], dtype=float), (r,)), powers, out,
    )  # fmt: skip
    return out


def grade34_counts(tr: Trials, p: Mapping[str, float], u: np.ndarray) -> np.ndarray:
    """Patients with >= 1 grade 3-4 event by the primary week, per replicate and arm: (R, 2).

    Same process as the embedded trial's ADAE (background rate x RR while IL-2 is given, plus
    grade-3 IL-2 reactions per cycle received); ``u`` holds one uniform per patient.
    """
    return _safety_counts(tr, p, u)[:, 4:6]


def safety_summaries(tr: Trials, p: Mapping[str, float], u: np.ndarray) -> dict[str, np.ndarray]:
    """The safety statements (AIDS, death, grade 3-4 events by week 96) per replicate: the
    difference in patients with the event (IL-2 minus control, percentage points) under the
    statement's id, and under ``<id>__no_difference`` 1.0 where the book's one rule for "similar"
    (:func:`anrs119.analysis.similarity.no_difference_detected`) detects no difference."""
    from anrs119.analysis.similarity import no_difference_detected
    from anrs119.model.simulator.keys import NO_DIFFERENCE_SUFFIX

    n1, n2 = tr.il2.sum(axis=1), (~tr.il2).sum(axis=1)
    c = _safety_counts(tr, p, u)
    out = {}
    for key, col in (
        ("safety_aids_similar", 0),
        ("safety_death_similar", 2),
        ("safety_grade34_similar", 4),
    ):
        e1, e2 = c[:, col], c[:, col + 1]
        out[key] = 100.0 * (e1 / n1 - e2 / n2)
        out[f"{key}{NO_DIFFERENCE_SUFFIX}"] = no_difference_detected(e1, n1, e2, n2).astype(float)
    return out
