"""How far one patient's change can move each reproduced number: the scorecard's tolerances.

The registry names a rule per claim (``data/published/claims.csv``, column ``tolerance``); the
amount is computed here from the dataset in use, so it follows the data's granularity: a claim is
``close`` when changing one patient's outcome or value could give the published number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from scipy import stats

from anrs119 import ARMS
from anrs119.analysis._common import AnalysisInputError, time_to_event
from anrs119.analysis.competing import ART, CENSORED, DEATH, reading_values
from anrs119.analysis.endpoints import compare_proportions
from anrs119.analysis.longitudinal import visit_values
from anrs119.analysis.safety import SimilarityResult, compare_incidence
from anrs119.published import parse_tolerance, results
from anrs119.reproduce import (
    KM_QUANTILE_READINGS,
    WILCOXON_METHOD,
    Reproducer,
    follow_up_through,
    primary_test_name,
)

RULES: dict[str, str] = {
    "one_patient": "a proportion of events among patients: one patient more or fewer with "
    "the event, (k - 1)/n to (k + 1)/n, n the arm's size in the data",
    "one_event": "a Kaplan-Meier estimate: one event more or less (one patient's event "
    "censored at its time, or one censored or event-free patient given an event at their "
    "last time before the time point), recomputed",
    "neighbouring_order_statistics": "a median: one patient's value moved to any point of the "
    "data's recording grid (1 cell/µL, 0.01 log10): every median this gives is listed (they "
    "lie between the neighbouring order statistics)",
    "one_patient_p": "a P value: the test recomputed with one patient's outcome changed (an "
    "event added or removed) or one patient's value moved to any place among the others, in "
    "either arm; every P this gives is listed, and one of them must print as published",
    "neighbouring_event_times": "a quantile of time to event: one event more or less moves it "
    "to a neighbouring event time; the difference between arms recomputed for each change",
    "no_difference_detected": "a 'similar' statement: no tolerance; the one rule for 'similar' "
    "(the 95% Newcombe interval of the difference includes 0), shown with the interval and the "
    "largest difference not excluded: absence of evidence, not shown similarity",
}
"""Each tolerance rule in words, for the scorecard page."""


@dataclass(frozen=True)
class Reach:
    """Every value a claim's reproduction takes when one patient's outcome or value changes.

    ``values`` lists them one by one (counts, P values, Kaplan-Meier estimates, quantiles and
    medians on the data's recording grid are all discrete). ``intervals`` holds closed ranges
    only where the values cannot be listed: a median whose data have no recording grid (values
    not on any 10^-d grid up to 6 decimals) or an arm of one or two patients, where one moved
    value takes the median anywhere.
    """

    claim_id: str
    rule: str
    values: tuple[float, ...]
    detail: str
    intervals: tuple[tuple[float, float], ...] = ()

    def _ends(self) -> list[float]:
        ends = [v for v in self.values if not math.isnan(v)]
        return ends + [e for pair in self.intervals for e in pair]

    @property
    def low(self) -> float:
        return min(self._ends())

    @property
    def high(self) -> float:
        return max(self._ends())

    def printing(self, claim: pd.Series) -> tuple[float, ...]:
        """The listed values that print as the published number (or meet its bound)."""
        return tuple(v for v in self.values if not math.isnan(v) and is_exact(claim, v))

    def prints(self, claim: pd.Series) -> bool:
        """True if one patient's change gives a value printed as the published number."""
        if self.printing(claim):
            return True
        published = float(claim["value"])
        for low, high in self.intervals:
            if claim["bound"] == "<" and low < published:
                return True
            if claim["bound"] == ">" and high > published:
                return True
            if claim["bound"] == "=":
                lo, hi = rounding_interval(published, int(claim["decimals"]))
                if low < hi and high >= lo:
                    return True
        return False


PRINT_DIGITS: int = 9
"""Decimals a value is cleaned to before it is rounded for print: a median of two hundredths
such as (1.13 + 1.14) / 2 is stored as 1.1349999999999998 and must print as 1.14, like the
exact 1.135."""


def round_half_up(value: float, decimals: int) -> float:
    """Round as printed tables do (0.0085 -> 0.009, -63.5 -> -64), not to even; binary noise
    below :data:`PRINT_DIGITS` decimals is removed first."""
    quantum = Decimal(1).scaleb(-decimals)
    clean = Decimal(repr(value)).quantize(Decimal(1).scaleb(-PRINT_DIGITS), rounding=ROUND_HALF_UP)
    return float(clean.quantize(quantum, rounding=ROUND_HALF_UP))


def is_exact(claim: pd.Series, reproduced: float) -> bool:
    """Equal after the paper's rounding, or inside the published bound."""
    if not math.isfinite(reproduced):  # not estimable or not reached: prints as nothing
        return False
    published = float(claim["value"])
    if claim["bound"] == "<":
        return reproduced < published
    if claim["bound"] == ">":
        return reproduced > published
    return round_half_up(reproduced, int(claim["decimals"])) == published


def rounding_interval(value: float, decimals: int) -> tuple[float, float]:
    """The numbers printed as ``value`` with ``decimals`` decimals (rounding half up)."""
    half = 0.5 * 10.0 ** (-decimals)
    return value - half, value + half


# ---- the building blocks, each on plain arrays (tested one by one)


def count_reach(k: int, n: int) -> tuple[float, ...]:
    """Percentages (k - 1)/n, k/n, (k + 1)/n inside [0, 100]."""
    return tuple(100 * j / n for j in (k - 1, k, k + 1) if 0 <= j <= n)


MAX_DECIMALS: int = 6
"""Finest recording grid looked for: values on no 10^-d grid up to 6 decimals have none."""

MAX_GRID_POINTS: int = 200_000
"""Above this many listed medians the reach is kept as ranges (never reached on real data)."""


def recording_step(values: np.ndarray) -> float | None:
    """The data's recording grid: the largest 10^-d (d = 0..6) every value is a multiple of
    (1 for CD4 counts in cells, 0.01 for log10 viral loads printed to two decimals), or None."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    for d in range(MAX_DECIMALS + 1):
        scaled = x * 10.0**d
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6):
            return 10.0**-d
    return None


def _grid_points(low: float, high: float, step: float) -> np.ndarray:
    """Multiples of ``step`` in [low, high] (with the ends themselves, which are data values)."""
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    inner = np.arange(first, last + 1, dtype=float) * step
    return np.concatenate([[low], inner, [high]])


def median_reach(
    values: np.ndarray, step: float | None
) -> tuple[tuple[float, ...], tuple[tuple[float, float], ...]]:
    """Every median after moving one value to any point of the recording grid ``step``.

    Returns (values, ranges). Removing one value leaves r (sorted); the moved value g then gives
    the median clip(g, r[m-1], r[m]) for n = 2m + 1, and (r[m-1] + clip(g, r[m-2], r[m])) / 2 for
    n = 2m: so the medians are the grid points between neighbouring order statistics (or their
    midpoints with the middle value), listed one by one. Without a grid (``step`` None) or with
    more than :data:`MAX_GRID_POINTS` of them, the same sets are returned as closed ranges; with
    one or two values, one moved value takes the median anywhere.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    if n < 3:
        return (), ((-math.inf, math.inf),)
    m = n // 2
    pieces: list[tuple[float, float, float]] = []  # (middle or nan, low, high)
    for v in np.unique(x):
        i = int(np.searchsorted(x, v))
        r = np.delete(x, i)
        if n % 2:
            pieces.append((math.nan, float(r[m - 1]), float(r[m])))
        else:
            pieces.append((float(r[m - 1]), float(r[m - 2]), float(r[m])))
    count = sum((hi - lo) / step + 3 for _, lo, hi in pieces) if step else math.inf
    if count > MAX_GRID_POINTS:
        ranges = {
            (lo, hi) if math.isnan(mid) else ((mid + lo) / 2, (mid + hi) / 2)
            for mid, lo, hi in pieces
        }
        return (), tuple(sorted(ranges))
    out: set[float] = set()
    for mid, lo, hi in pieces:
        grid = _grid_points(lo, hi, step)
        medians = grid if math.isnan(mid) else (mid + grid) / 2
        out.update(np.round(medians, 9).tolist())
    return tuple(sorted(out)), ()


def two_by_two_p_reach(
    events: tuple[int, int], n: tuple[int, int], p_of: Callable[[list[int]], float]
) -> tuple[float, ...]:
    """P of the 2x2 test with one patient's outcome changed in either arm, either way."""
    out = [p_of(list(events))]
    for arm in (0, 1):
        for step in (-1, 1):
            k = list(events)
            k[arm] += step
            if 0 <= k[arm] <= n[arm]:
                out.append(p_of(k))
    return tuple(out)


def _placements(pooled: np.ndarray, step: float | None = None) -> np.ndarray:
    """Every place a moved value can take, up to ties: each distinct value, each gap between
    neighbouring values that holds a point of the recording grid ``step`` (every gap without a
    grid), and beyond either end."""
    distinct = np.unique(pooled)
    gaps = (distinct[:-1] + distinct[1:]) / 2
    if step is not None:  # a gap narrower than two grid steps holds no grid point strictly inside
        gaps = gaps[np.diff(distinct) > step * (1 + 1e-9)]
    return np.concatenate([distinct, gaps, [distinct[0] - 1.0, distinct[-1] + 1.0]])


def rank_sum_p_reach(
    x: np.ndarray, y: np.ndarray, method: str = WILCOXON_METHOD, step: float | None = None
) -> tuple:
    """Rank-sum P (normal approximation, continuity and tie corrected, as scipy's
    ``mannwhitneyu(method="asymptotic")``) for every move of one patient's value to any place
    (any point of the recording grid ``step``, when given).

    Moving one value changes U by the comparisons it gains and loses, and the tie term by the
    two tie groups it leaves and joins, so every placement is computed exactly without
    re-ranking; the result includes the unchanged P.
    """
    if method != "asymptotic":
        raise NotImplementedError(f"rank_sum_p_reach: method {method!r}: rule: asymptotic")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m, n = x.size, y.size
    pooled = np.concatenate([x, y])
    total = pooled.size
    places = _placements(pooled, step)
    distinct, counts = np.unique(pooled, return_counts=True)
    tie_sum = float(np.sum(counts**3 - counts))

    def score(values: np.ndarray, against: np.ndarray) -> np.ndarray:
        """Comparisons won by each value against a sample: #below + half #equal."""
        return (values[:, None] > against).sum(axis=1) + 0.5 * (values[:, None] == against).sum(
            axis=1
        )

    def group_size(values: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(distinct, values)
        found = (idx < distinct.size) & (distinct[np.minimum(idx, distinct.size - 1)] == values)
        return np.where(found, counts[np.minimum(idx, distinct.size - 1)], 0)

    u_x = float(score(x, y).sum())
    place_vs_y, place_vs_x = score(places, y), score(places, x)
    place_group = group_size(places)
    us, ties = [np.array([u_x])], [np.array([tie_sum])]
    for sample, own_vs, is_x in ((x, score(x, y), True), (y, score(y, x), False)):
        old_group = group_size(sample)
        # leaving a group of size g: (g^3 - g) -> ((g-1)^3 - (g-1)); joining one of size h
        # (h counted without the mover, who may be in it): h -> h + 1.
        leave = old_group**3 - old_group - ((old_group - 1) ** 3 - (old_group - 1))
        same = places[None, :] == sample[:, None]
        joined = place_group[None, :] - same
        join = (joined + 1) ** 3 - (joined + 1) - (joined**3 - joined)
        new_ties = tie_sum - leave[:, None] + join
        if is_x:
            gain = place_vs_y[None, :] - own_vs[:, None]
        else:  # a y moved: x's comparisons against it, m - its own score, change
            gain = own_vs[:, None] - place_vs_x[None, :]
        us.append((u_x + gain).ravel())
        ties.append(new_ties.ravel())
    u = np.concatenate(us)
    tie = np.concatenate(ties)
    big = np.maximum(u, m * n - u)
    sd = np.sqrt(m * n / 12 * ((total + 1) - tie / (total * (total - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, (big - m * n / 2 - 0.5) / sd, -np.inf)  # all tied: P = 1
    p = np.clip(2 * stats.norm.sf(z), 0.0, 1.0)
    return tuple(float(v) for v in p)


def km_survival_at(time: np.ndarray, event: np.ndarray, t: float) -> float:
    """Kaplan-Meier S(t) from arrays (right-continuous: events at t count)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    s = 1.0
    for u in np.unique(time[(event == 1) & (time <= t)]):
        at_risk = int((time >= u).sum())
        s *= 1.0 - int(((time == u) & (event == 1)).sum()) / at_risk
    return s


def km_quantile(time: np.ndarray, event: np.ndarray, p: float) -> float:
    """First event time at which the Kaplan-Meier S falls to 1 - p or below (NaN if never), as
    ``KaplanMeierResult.quantile``."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    s = 1.0
    for u in np.unique(time[event == 1]):
        s *= 1.0 - int(((time == u) & (event == 1)).sum()) / int((time >= u).sum())
        if s <= 1.0 - p + 1e-12:
            return float(u)
    return float("nan")


def logrank_p(time: np.ndarray, event: np.ndarray, first: np.ndarray) -> float:
    """Two-group log-rank P (hypergeometric variance, as lifelines and R ``survdiff``)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    first = np.asarray(first, dtype=bool)
    times = np.unique(time[event == 1])
    at_risk = time[:, None] >= times
    dies = (time[:, None] == times) & (event[:, None] == 1)
    n = at_risk.sum(axis=0).astype(float)
    n1 = at_risk[first].sum(axis=0).astype(float)
    d = dies.sum(axis=0).astype(float)
    d1 = dies[first].sum(axis=0).astype(float)
    expected = d * n1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(n > 1, d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1), 0.0)
    total = float(var.sum())
    if total <= 0:
        return 1.0
    chi2 = float((d1 - expected).sum()) ** 2 / total
    return float(stats.chi2.sf(chi2, 1))


def event_flips(
    time: np.ndarray, event: np.ndarray, horizon: float | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every (time, event) pair of arrays differing by one patient's event status.

    An event becomes censored at its time (an event after ``horizon`` moves to it instead); a
    censored patient gets an event at their time (at ``horizon`` if later, so it counts by then).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    out = []
    for i in range(time.size):
        t, e = time.copy(), event.copy()
        late = horizon is not None and t[i] > horizon
        if e[i] == 1 and not late:
            e[i] = 0
        else:
            e[i] = 1
            if late:
                t[i] = float(horizon)
        out.append((t, e))
    return out


# ---- the claims of the registry


def _pct(values: tuple[float, ...]) -> str:
    return f"{min(values):.1f}% to {max(values):.1f}%"


class ToleranceCalculator:
    """The reach of every result claim on one dataset, from the same analyses and the same
    readings as its ``Reproducer``."""

    def __init__(self, reproducer: Reproducer) -> None:
        self.reproducer = reproducer
        self.dataset = reproducer.dataset
        self.design = reproducer.design
        self.readings = reproducer.readings

    # ---- week-96 primary end point

    def _primary_tte(self) -> pd.DataFrame:
        """Every randomized patient's time to the composite, follow-up cut at week 96."""
        adtte = follow_up_through(self.dataset.adtte, self.design.primary_week)
        return time_to_event(self.dataset.adsl, adtte, "PRIMARY")

    def primary_proportion(self, claim_id: str, arm: str) -> Reach:
        if self.readings.proportion == "km":
            week = self.design.primary_week
            tte = self._primary_tte()
            mine = tte[tte["group"] == arm]
            t, e = mine["time"].to_numpy(), mine["event"].to_numpy()
            values = (100 * (1 - km_survival_at(t, e, week)),)
            values += tuple(100 * (1 - km_survival_at(a, b, week)) for a, b in event_flips(t, e))
            return Reach(claim_id, "one_event", values, f"n = {len(mine)}: {_pct(values)}")
        table = self.reproducer.primary[0].table.set_index("group")
        k, n = int(table.at[arm, "events"]), int(table.at[arm, "n"])
        values = count_reach(k, n)
        return Reach(claim_id, "one_patient", values, f"{k} ± 1 of {n}: {_pct(values)}")

    def primary_p(self, claim_id: str) -> Reach:
        if self.readings.proportion == "km":
            tte = self._primary_tte()
            first = (tte["group"] == ARMS[0]).to_numpy()
            t, e = tte["time"].to_numpy(), tte["event"].to_numpy()
            values = (self.reproducer.primary_logrank.p_value,)
            values += tuple(logrank_p(a, b, first) for a, b in event_flips(t, e))
            return Reach(claim_id, "one_patient_p", values, _p_detail(values, "one event"))
        _, test = self.reproducer.primary
        name = primary_test_name()

        def p_of(k: list[int]) -> float:
            result = compare_proportions(k, list(test.n))
            # the same test as the reproduction (reproduce._p_of), by the forensic chapter's name
            return {
                "chi2": result.chi2_p,
                "chi2_yates": result.chi2_yates_p,
                "fisher": result.fisher_p,
            }[name]

        values = two_by_two_p_reach(test.events, test.n, p_of)
        return Reach(claim_id, "one_patient_p", values, _p_detail(values, "one outcome"))

    # ---- week-96 marker changes

    def _change_samples(self, paramcd: str) -> list[np.ndarray]:
        vals = visit_values(
            self.dataset.adsl,
            self.dataset.adlb,
            paramcd,
            self.design.primary_week,
            reading=self.readings.change,
        )
        return [vals.loc[vals["group"] == arm, "CHG"].to_numpy(dtype=float) for arm in ARMS]

    def median(self, claim_id: str, paramcd: str, arm: str, decimals: int) -> Reach:
        samples = self._change_samples(paramcd)
        step = recording_step(np.concatenate(samples))
        sample = samples[ARMS.index(arm)]
        values, ranges = median_reach(sample, step)
        grid = f"grid {step:g}" if step is not None else "no recording grid"
        reach = Reach(claim_id, "neighbouring_order_statistics", values, "", ranges)
        shown = f"{reach.low:+.{decimals + 1}f} to {reach.high:+.{decimals + 1}f}"
        count = f"{len(values)} values" if values else "ranges"
        detail = f"n = {sample.size}, {grid}: {count} from {shown}"
        return Reach(claim_id, "neighbouring_order_statistics", values, detail, ranges)

    def rank_sum_p(self, claim_id: str, paramcd: str) -> Reach:
        x, y = self._change_samples(paramcd)
        values = rank_sum_p_reach(x, y, step=recording_step(np.concatenate([x, y])))
        return Reach(claim_id, "one_patient_p", values, _p_detail(values, "one value"))

    # ---- the low-viral-load subgroup

    def _subgroup_tte(self, paramcd: str) -> pd.DataFrame:
        """One row per subgroup patient: USUBJID, group, time, event (as the analyses use)."""
        return time_to_event(self.reproducer.subgroup.adsl, self.dataset.adtte, paramcd)

    def km_free(self, claim_id: str, arm: str) -> Reach:
        tte = self._subgroup_tte("PRIMARY")
        week = self.design.subgroup_week
        mine = tte[tte["group"] == arm]
        values = [100 * self.reproducer.subgroup.km_primary.survival_at(arm, week)[0]]
        values += [
            100 * km_survival_at(t, e, week)
            for t, e in event_flips(mine["time"].to_numpy(), mine["event"].to_numpy(), week)
        ]
        values_t = tuple(values)
        return Reach(claim_id, "one_event", values_t, f"n = {len(mine)}: {_pct(values_t)}")

    def logrank_p(self, claim_id: str) -> Reach:
        tte = self._subgroup_tte("PRIMARY")
        first = (tte["group"] == ARMS[0]).to_numpy()
        values = [self.reproducer.subgroup.logrank_primary.p_value]
        values += [
            logrank_p(t, e, first)
            for t, e in event_flips(tte["time"].to_numpy(), tte["event"].to_numpy())
        ]
        values_t = tuple(values)
        return Reach(claim_id, "one_patient_p", values_t, _p_detail(values_t, "one event"))

    def deferral(self, claim_id: str) -> Reach:
        difference, by_arm = self.reproducer.deferral_reading()
        key = self.readings.deferral
        values = [difference]
        if key in KM_QUANTILE_READINGS:
            tte = self._subgroup_tte("ARTINIT")
            for a, arm in enumerate(ARMS):
                mine = tte[tte["group"] == arm]
                other = by_arm[ARMS[1 - a]]
                for t, e in event_flips(mine["time"].to_numpy(), mine["event"].to_numpy()):
                    q = km_quantile(t, e, KM_QUANTILE_READINGS[key])
                    values.append(q - other if a == 0 else other - q)
            rule = "neighbouring_event_times"
        else:
            values += self._competing_flips(key)
            rule = "one_event"
        finite = tuple(v for v in values if math.isfinite(v))
        shown = ", ".join(f"{v:g}" for v in sorted(set(np.round(finite, 1))))
        detail = f"reachable: {shown} weeks" if finite else "not reached either way"
        return Reach(claim_id, rule, tuple(values), detail)

    def _competing_flips(self, key: str) -> list[float]:
        """The reading ``key`` (IL-2 minus Control) with one patient's ART start added (at their
        last time) or removed (censored at its time); deaths stay deaths."""
        arms = self.reproducer.art_competing_arms
        horizon = self.design.subgroup_week
        out = []
        for a in range(len(arms)):
            t, c = arms[a]
            for i in np.flatnonzero(c != DEATH):
                flipped = c.copy()
                flipped[i] = CENSORED if c[i] == ART else ART
                changed = list(arms)
                changed[a] = (t, flipped)
                first, second = reading_values(changed, horizon)[key]
                both_inf = math.isinf(first) and math.isinf(second)
                out.append(math.nan if both_inf else first - second)
        return out

    # ---- every claim

    def reach(self, claim_id: str, claim: pd.Series) -> Reach:
        """The reach of one result claim; under the book's default readings its computation
        must be the registry's rule (an alternative reading brings its own)."""
        rule = parse_tolerance(claim["tolerance"]).rule
        arm = claim["arm"]
        decimals = int(claim["decimals"]) if not pd.isna(claim["decimals"]) else 0
        computed: Reach
        if claim_id in ("primary_w96_il2", "primary_w96_control"):
            computed = self.primary_proportion(claim_id, arm)
        elif claim_id == "primary_w96_p":
            computed = self.primary_p(claim_id)
        elif claim_id.startswith(("cd4_change_w96_", "vl_change_w96_")):
            paramcd = "CD4" if claim_id.startswith("cd4") else "VLLOG"
            if arm == "both":
                computed = self.rank_sum_p(claim_id, paramcd)
            else:
                computed = self.median(claim_id, paramcd, arm, decimals)
        elif claim_id == "lowvl_free_w150_p":
            computed = self.logrank_p(claim_id)
        elif claim_id.startswith("lowvl_free_w150_"):
            computed = self.km_free(claim_id, arm)
        elif claim_id == "lowvl_art_deferral":
            computed = self.deferral(claim_id)
        else:
            raise KeyError(f"claim {claim_id!r}: rule: no tolerance computation for it")
        if self.readings.is_default and computed.rule != rule:
            raise ValueError(
                f"data/published/claims.csv, id {claim_id!r}, column tolerance: rule "
                f"'{rule}' does not fit this statistic (its computation is '{computed.rule}')"
            )
        return computed

    def all(self) -> dict[str, Reach]:
        """The reach of every numeric result claim (the 'similar' statements have none)."""
        out = {}
        for claim_id, claim in results().iterrows():
            if claim["statistic"] == "similar":
                continue
            try:
                out[str(claim_id)] = self.reach(str(claim_id), claim)
            except AnalysisInputError:  # a dataset lacking what the claim needs: no reach
                continue
        return out


def _p_detail(values: tuple[float, ...], what: str) -> str:
    low, high = min(values), max(values)
    if high < 0.001:
        return f"{what} changed: P stays below .001"
    return f"{what} changed: P from {_p3(low)} to {_p3(high)}"


def _p3(p: float) -> str:
    """A P value in the journal's style, without the leading zero ("below .001", ".014")."""
    if p < 0.001:
        return "below .001"
    return "above .99" if p > 0.99 else f"{p:.3f}".removeprefix("0")


def similarity(reproducer: Reproducer) -> dict[str, SimilarityResult | Exception]:
    """The between-arm comparison behind each 'similar' statement (or why it is missing)."""
    out: dict[str, SimilarityResult | Exception] = {}
    for key, result in reproducer.safety.items():
        out[key] = result if isinstance(result, Exception) else compare_incidence(result)
    return out


def one_patient_reach(reproducer: Reproducer) -> dict[str, Reach]:
    """Shortcut: the reach of every numeric result claim on the reproducer's dataset."""
    return ToleranceCalculator(reproducer).all()


def exactness(reproducer: Reproducer) -> dict[str, bool]:
    """Per result claim: does the dataset print it as published? Numeric claims equal after the
    paper's rounding (or inside the bound); "similar" statements: no difference detected."""
    reproduced = reproducer.all()
    similar = similarity(reproducer)
    out = {}
    for claim_id, claim in results().iterrows():
        if claim["statistic"] == "similar":
            result = similar[claim_id]
            out[claim_id] = not isinstance(result, Exception) and not result.difference_detected
        else:
            out[claim_id] = is_exact(claim, reproduced[claim_id].value)
    return out
