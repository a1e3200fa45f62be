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
from anrs119.analysis.endpoints import compare_proportions
from anrs119.analysis.longitudinal import visit_values
from anrs119.analysis.safety import SimilarityResult, compare_incidence
from anrs119.published import parse_tolerance, results
from anrs119.reproduce import (
    CHANGE_READING,
    DEFERRAL_QUANTILE,
    PRIMARY_PROPORTION,
    WILCOXON_METHOD,
    Reproducer,
    primary_test_name,
)

RULES: dict[str, str] = {
    "one_patient": "a proportion of events among patients: one patient more or fewer with "
    "the event, (k - 1)/n to (k + 1)/n, n the arm's size in the data",
    "one_event": "a Kaplan-Meier estimate: one event more or less (one patient's event "
    "censored at its time, or one censored or event-free patient given an event at their "
    "last time before the time point), recomputed",
    "neighbouring_order_statistics": "a median: moving one patient's value anywhere moves the "
    "median between its neighbouring order statistics",
    "one_patient_p": "a P value: the test recomputed with one patient's outcome changed (an "
    "event added or removed) or one patient's value moved below the lowest or above the "
    "highest, in either arm; the range from the smallest to the largest P",
    "neighbouring_event_times": "a quantile of time to event: one event more or less moves it "
    "to a neighbouring event time; the difference between arms recomputed for each change",
    "no_difference_detected": "a 'similar' statement: the 95% Newcombe CI of the risk "
    "difference includes 0 (shown with the smallest difference the trial could detect)",
}
"""Each tolerance rule in words, for the scorecard page."""


@dataclass(frozen=True)
class Reach:
    """The values a claim's reproduction takes when one patient's outcome or value changes.

    ``continuous``: every value between ``low`` and ``high`` can be produced (a median, a P
    value); otherwise only the listed ``values`` (a count over a fixed denominator).
    """

    claim_id: str
    rule: str
    values: tuple[float, ...]
    continuous: bool
    detail: str

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def reaches(self, low: float, high: float) -> bool:
        """True if one patient's change can give a value in [low, high)."""
        if self.continuous:
            return self.low < high and self.high >= low
        return any(low <= v < high for v in self.values)


def round_half_up(value: float, decimals: int) -> float:
    """Round as printed tables do (0.0085 -> 0.009, -63.5 -> -64), not to even."""
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def is_exact(claim: pd.Series, reproduced: float) -> bool:
    """Equal after the paper's rounding, or inside the published bound."""
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


def median_reach(values: np.ndarray) -> tuple[float, float]:
    """Lowest and highest median after moving one value anywhere (the median is monotone in each
    value, so the extremes move the largest value to the bottom or the smallest to the top)."""
    x = np.sort(np.asarray(values, dtype=float))
    if x.size < 3:  # one of one or two values moved anywhere takes the median with it
        return -math.inf, math.inf
    down, up = x.copy(), x.copy()
    down[-1] = x[0]
    up[0] = x[-1]
    return float(np.quantile(down, 0.5)), float(np.quantile(up, 0.5))


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


def _placements(pooled: np.ndarray) -> np.ndarray:
    """Every place a moved value can take, up to ties: each distinct value, each gap, the ends."""
    distinct = np.unique(pooled)
    gaps = (distinct[:-1] + distinct[1:]) / 2
    return np.concatenate([distinct, gaps, [distinct[0] - 1.0, distinct[-1] + 1.0]])


def rank_sum_p_reach(x: np.ndarray, y: np.ndarray, method: str = WILCOXON_METHOD) -> tuple:
    """Rank-sum P (normal approximation, continuity and tie corrected, as scipy's
    ``mannwhitneyu(method="asymptotic")``) for every move of one patient's value to any place.

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
    places = _placements(pooled)
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
    """The reach of every result claim on one dataset, from the same analyses as ``Reproducer``."""

    def __init__(self, reproducer: Reproducer) -> None:
        self.reproducer = reproducer
        self.dataset = reproducer.dataset
        self.design = reproducer.design

    def primary_proportion(self, claim_id: str, arm: str) -> Reach:
        table = self.reproducer.primary[0].table.set_index("group")
        k, n = int(table.at[arm, "events"]), int(table.at[arm, "n"])
        if PRIMARY_PROPORTION != "crude":  # pragma: no cover - the reading is fixed in reproduce
            raise NotImplementedError("one_patient applies to crude proportions")
        values = count_reach(k, n)
        return Reach(claim_id, "one_patient", values, False, f"{k} ± 1 of {n}: {_pct(values)}")

    def primary_p(self, claim_id: str) -> Reach:
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
        return Reach(claim_id, "one_patient_p", values, True, _p_detail(values, "one outcome"))

    def _change_samples(self, paramcd: str) -> list[np.ndarray]:
        vals = visit_values(
            self.dataset.adsl,
            self.dataset.adlb,
            paramcd,
            self.design.primary_week,
            reading=CHANGE_READING,
        )
        return [vals.loc[vals["group"] == arm, "CHG"].to_numpy(dtype=float) for arm in ARMS]

    def median(self, claim_id: str, paramcd: str, arm: str, decimals: int) -> Reach:
        sample = self._change_samples(paramcd)[ARMS.index(arm)]
        low, high = median_reach(sample)
        return Reach(
            claim_id,
            "neighbouring_order_statistics",
            (low, float(np.median(sample)), high),
            True,
            f"n = {sample.size}: {low:+.{decimals + 1}f} to {high:+.{decimals + 1}f}",
        )

    def rank_sum_p(self, claim_id: str, paramcd: str) -> Reach:
        x, y = self._change_samples(paramcd)
        values = rank_sum_p_reach(x, y)
        return Reach(claim_id, "one_patient_p", values, True, _p_detail(values, "one value"))

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
        return Reach(claim_id, "one_event", values_t, False, f"n = {len(mine)}: {_pct(values_t)}")

    def logrank_p(self, claim_id: str) -> Reach:
        tte = self._subgroup_tte("PRIMARY")
        first = (tte["group"] == ARMS[0]).to_numpy()
        values = [self.reproducer.subgroup.logrank_primary.p_value]
        values += [
            logrank_p(t, e, first)
            for t, e in event_flips(tte["time"].to_numpy(), tte["event"].to_numpy())
        ]
        values_t = tuple(values)
        return Reach(claim_id, "one_patient_p", values_t, True, _p_detail(values_t, "one event"))

    def deferral(self, claim_id: str) -> Reach:
        tte = self._subgroup_tte("ARTINIT")
        difference, by_arm = self.reproducer.deferral()
        values = [difference]
        for a, arm in enumerate(ARMS):
            mine = tte[tte["group"] == arm]
            other = by_arm[ARMS[1 - a]]
            for t, e in event_flips(mine["time"].to_numpy(), mine["event"].to_numpy()):
                q = km_quantile(t, e, DEFERRAL_QUANTILE)
                values.append(q - other if a == 0 else other - q)
        finite = tuple(v for v in values if math.isfinite(v))
        shown = ", ".join(f"{v:g}" for v in sorted(set(finite)))
        detail = f"reachable: {shown} weeks" if finite else "not reached either way"
        return Reach(claim_id, "neighbouring_event_times", tuple(values), False, detail)

    def reach(self, claim_id: str, claim: pd.Series) -> Reach:
        """The reach of one result claim, by its registry rule (checked against the claim)."""
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
        if computed.rule != rule:
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
