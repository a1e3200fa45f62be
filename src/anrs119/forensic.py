"""Which arm sizes, 2x2 tables and tests are consistent with the abstract's rounded numbers.

GRIM-style (are the percentages possible for these arm sizes?) and statcheck-style (does some
plausible test on such a table give the printed P value?) enumeration, vectorised with numpy.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

from anrs119 import ARMS
from anrs119.paths import FORENSIC_DIR

TESTS: tuple[str, ...] = (
    "pearson",
    "yates",
    "mantel_haenszel",
    "likelihood_ratio",
    "wald_z",
    "fisher",
    "fisher_midp",
)
"""Candidate tests of a 2x2 table, all two-sided.

``pearson`` is the uncorrected chi-square (identical to the pooled two-proportion z-test);
``yates`` adds the continuity correction as ``scipy.stats.chi2_contingency`` does;
``mantel_haenszel`` is SAS PROC FREQ's "Mantel-Haenszel chi-square", (N - 1) / N times Pearson;
``likelihood_ratio`` is the G-test; ``wald_z`` the unpooled two-proportion z-test;
``fisher`` Fisher's exact test (probabilities no larger than the observed one, as scipy and R);
``fisher_midp`` its mid-p version (ties with the observed table count one half).
"""

TEST_SHORT: dict[str, str] = {
    "pearson": "Pearson",
    "yates": "Yates",
    "mantel_haenszel": "Mantel-Haenszel",
    "likelihood_ratio": "likelihood ratio",
    "wald_z": "Wald z",
    "fisher": "Fisher",
    "fisher_midp": "Fisher mid-p",
}

TEST_LABELS: dict[str, str] = {
    "pearson": "Pearson chi-square (= pooled z-test)",
    "yates": "chi-square with Yates correction",
    "mantel_haenszel": "Mantel-Haenszel chi-square, (N-1)/N x Pearson",
    "likelihood_ratio": "likelihood-ratio (G) test",
    "wald_z": "unpooled (Wald) z-test",
    "fisher": "Fisher's exact test",
    "fisher_midp": "Fisher's exact test, mid-p",
}

FISHER_RELATIVE_TOLERANCE: float = 1e-7
"""Tables whose probability is within this relative distance of the observed one count as ties.

R's ``fisher.test`` uses 1e-7; scipy 1.17 uses 1e-14 on probabilities it computes exactly. Our
probabilities come from log-gamma sums (relative error ~1e-13 at N = 300), so the looser R
tolerance is needed for genuine ties (e.g. mirror tables of equal arms) to be found as ties.
"""

ALLOCATION_FILE: Path = FORENSIC_DIR / "allocation.json"

PLAUSIBLE_2009_TESTS: tuple[str, ...] = ("pearson", "yates", "fisher")
"""Tests a 2009 trial report would most likely have used for a difference in proportions."""


@dataclass(frozen=True)
class ReportedPercent:
    """A printed percentage, e.g. ``35%`` is ``ReportedPercent(35.0, 0)``.

    A count k of n is consistent when 100 k / n lies in the closed interval
    [value - 0.5 10^-decimals, value + 0.5 10^-decimals]: closed, so that any rounding
    convention for exact halves (half-up, half-even) is allowed.
    """

    value: float
    decimals: int = 0

    def count_range(self, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest count k (per arm size n) whose percentage rounds to this value.

        Exact integer arithmetic: 100 k / n in [V - 1/2, V + 1/2] / 10^d, with V the printed
        digits as an integer, is (2V - 1) n <= 2 10^(d+2) k <= (2V + 1) n.
        """
        n = np.asarray(n, dtype=np.int64)
        digits = round(self.value * 10**self.decimals)
        scale = 2 * 10 ** (self.decimals + 2)
        low = -((-(2 * digits - 1) * n) // scale)  # ceiling division
        high = ((2 * digits + 1) * n) // scale
        return np.maximum(low, 0), np.minimum(high, n)

    def interval(self) -> tuple[float, float]:
        """The true percentages (closed interval) that print as this value."""
        half = 0.5 / 10**self.decimals
        return self.value - half, self.value + half

    @property
    def label(self) -> str:
        return f"{self.value:.{self.decimals}f}%"


def round_percent(k: int, n: int, decimals: int = 0) -> ReportedPercent:
    """The percentage 100 k / n as a paper prints it (half-up rounding, exact)."""
    scale = 10**decimals
    digits = (200 * k * scale + n) // (2 * n)
    return ReportedPercent(digits / scale, decimals)


@dataclass(frozen=True)
class ReportedP:
    """A printed P value: ``P = .008`` is ``("=", 0.008, 3)``, ``P < .001`` is ``("<", 0.001, 3)``.

    ``"="`` means p rounds half-up to the printed digits: ``.008`` is p in [0.0075, 0.0085).
    ``"<"`` and ``">"`` are strict bounds.
    """

    bound: str
    value: float
    decimals: int

    def __post_init__(self) -> None:
        if self.bound not in {"=", "<", ">"}:
            raise ValueError(f"ReportedP.bound: rule 'one of =, <, >': got {self.bound!r}")

    @classmethod
    def parse(cls, text: str) -> ReportedP:
        """Read ``".008"``, ``"P = .008"``, ``"< .001"``, ``"P<0.001"``."""
        match = re.fullmatch(r"\s*(?:[Pp]\s*)?(?P<op>[=<>])?\s*(?P<num>\d*\.\d+|\d+)\s*", text)
        if match is None:
            raise ValueError(f"ReportedP.parse: rule 'a P value like \"< .001\"': got {text!r}")
        number = match["num"]
        decimals = len(number.split(".")[1]) if "." in number else 0
        return cls(match["op"] or "=", float(number), decimals)

    def matches(self, p: np.ndarray) -> np.ndarray:
        """Which P values would be printed as this one."""
        p = np.asarray(p, dtype=float)
        if self.bound == "<":
            return p < self.value
        if self.bound == ">":
            return p > self.value
        scale = 10**self.decimals
        return np.floor(p * scale + 0.5) == round(self.value * scale)

    def interval(self) -> tuple[float, float]:
        """For ``"="``: the half-open interval [low, high) of P values printed as this one."""
        if self.bound != "=":
            raise ValueError(f"ReportedP.interval: rule 'bound is =': got {self.bound!r}")
        half = 0.5 / 10**self.decimals
        return self.value - half, self.value + half

    @property
    def label(self) -> str:
        printed = f"{self.value:.{self.decimals}f}".removeprefix("0")
        return f"P {self.bound} {printed}"


def format_p(p: float) -> ReportedP:
    """Print a P value in the journal's style: ``< .001``, 3 decimals below .01, else 2."""
    if p < 0.001:
        return ReportedP("<", 0.001, 3)
    decimals = 3 if p < 0.01 else 2
    scale = 10**decimals
    return ReportedP("=", math.floor(p * scale + 0.5) / scale, decimals)


def splits_with_total(n_total: int) -> np.ndarray:
    """Every split of ``n_total`` patients into two non-empty arms, as rows (n_il2, n_control)."""
    n_il2 = np.arange(1, n_total, dtype=np.int64)
    return np.column_stack([n_il2, n_total - n_il2])


def splits_grid(max_il2: int, max_control: int, max_total: int | None = None) -> np.ndarray:
    """Every pair of arm sizes (1..max_il2) x (1..max_control), optionally with a total cap."""
    a, b = np.meshgrid(
        np.arange(1, max_il2 + 1, dtype=np.int64),
        np.arange(1, max_control + 1, dtype=np.int64),
        indexing="ij",
    )
    pairs = np.column_stack([a.ravel(), b.ravel()])
    if max_total is not None:
        pairs = pairs[pairs.sum(axis=1) <= max_total]
    return pairs


def _counts_for(n: np.ndarray, percent: ReportedPercent) -> tuple[np.ndarray, np.ndarray]:
    """Expand arm sizes into (row index, count) pairs for every count consistent with percent."""
    low, high = percent.count_range(n)
    width = np.maximum(high - low + 1, 0)
    rows = np.repeat(np.arange(len(n)), width)
    offsets = np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width)
    return rows, low[rows] + offsets


def enumerate_tables(
    splits: np.ndarray, pct_il2: ReportedPercent, pct_control: ReportedPercent
) -> pd.DataFrame:
    """Every 2x2 table (n_il2, n_control, k_il2, k_control) whose percentages round as printed."""
    splits = np.asarray(splits, dtype=np.int64).reshape(-1, 2)
    rows1, k1 = _counts_for(splits[:, 0], pct_il2)
    rows2, k2 = _counts_for(splits[:, 1], pct_control)
    # Cross the IL-2 counts with the control counts of the same split.
    left = pd.DataFrame({"split": rows1, "k_il2": k1})
    right = pd.DataFrame({"split": rows2, "k_control": k2})
    tables = left.merge(right, on="split", how="inner", sort=True)
    tables.insert(0, "n_il2", splits[tables["split"].to_numpy(), 0])
    tables.insert(1, "n_control", splits[tables["split"].to_numpy(), 1])
    return tables.drop(columns="split").reset_index(drop=True)


def _chi2_p(statistic: np.ndarray) -> np.ndarray:
    return stats.chi2.sf(statistic, df=1)


def _fisher_p(n1: np.ndarray, n2: np.ndarray, k1: np.ndarray, k2: np.ndarray) -> tuple:
    """Two-sided Fisher and mid-p values, all tables at once (hypergeometric over k1 given m)."""
    m = k1 + k2
    lo = np.maximum(0, m - n2)
    hi = np.minimum(n1, m)
    width = int((hi - lo).max()) + 1 if len(n1) else 1
    x = lo[:, None] + np.arange(width)[None, :]
    inside = x <= hi[:, None]
    x = np.where(inside, x, lo[:, None])

    def log_pmf(xx: np.ndarray) -> np.ndarray:
        # log C(n1, x) + log C(n2, m - x) - log C(N, m), with the shared terms dropped.
        return -(
            special.gammaln(xx + 1)
            + special.gammaln(n1[:, None] - xx + 1)
            + special.gammaln(m[:, None] - xx + 1)
            + special.gammaln(n2[:, None] - m[:, None] + xx + 1)
        )

    log_all = log_pmf(x)
    log_obs = log_pmf(k1[:, None])
    shift = log_all.max(axis=1, keepdims=True, where=inside, initial=-np.inf)
    pmf = np.where(inside, np.exp(log_all - shift), 0.0)
    total = pmf.sum(axis=1)
    tolerance = math.log1p(FISHER_RELATIVE_TOLERANCE)
    as_extreme = inside & (log_all <= log_obs + tolerance)
    tied = inside & (np.abs(log_all - log_obs) <= tolerance)
    p = np.minimum(np.where(as_extreme, pmf, 0.0).sum(axis=1) / total, 1.0)
    midp = p - 0.5 * np.where(tied, pmf, 0.0).sum(axis=1) / total
    return p, midp


def p_values(n1, n2, k1, k2) -> dict[str, np.ndarray]:
    """P values of every test in :data:`TESTS` for tables (arm sizes n1, n2; counts k1, k2).

    Tables with an empty row or column carry no evidence: every test gives p = 1.
    """
    n1, n2, k1, k2 = (np.atleast_1d(np.asarray(v, dtype=np.int64)) for v in (n1, n2, k1, k2))
    if np.any((k1 < 0) | (k2 < 0) | (k1 > n1) | (k2 > n2)):
        raise ValueError("p_values: rule '0 <= k <= n in each arm' broken")
    total = n1 + n2
    m = k1 + k2
    degenerate = (n1 == 0) | (n2 == 0) | (m == 0) | (m == total)
    # Replace degenerate tables by a harmless one, compute, then overwrite with p = 1.
    n1s, n2s = np.where(degenerate, 1, n1), np.where(degenerate, 1, n2)
    k1s, k2s = np.where(degenerate, 1, k1), np.where(degenerate, 0, k2)
    ns, ms = n1s + n2s, k1s + k2s
    nf = ns.astype(float)
    cross = (k1s * (n2s - k2s) - k2s * (n1s - k1s)).astype(float)
    margins = n1s.astype(float) * n2s * ms * (ns - ms)
    pearson = nf * cross**2 / margins
    yates = nf * np.maximum(np.abs(cross) - nf / 2, 0.0) ** 2 / margins
    observed = np.stack([k1s, n1s - k1s, k2s, n2s - k2s]).astype(float)
    expected = np.stack([n1s * ms, n1s * (ns - ms), n2s * ms, n2s * (ns - ms)]) / nf
    with np.errstate(divide="ignore", invalid="ignore"):
        g_terms = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
        prop1, prop2 = k1s / n1s, k2s / n2s
        se = np.sqrt(prop1 * (1 - prop1) / n1s + prop2 * (1 - prop2) / n2s)
        z = np.abs(prop1 - prop2) / se
    # A zero standard error with different proportions (0% vs 100%) is as extreme as it gets.
    z = np.where(se > 0, z, np.where(prop1 == prop2, 0.0, np.inf))
    fisher, midp = _fisher_p(n1s, n2s, k1s, k2s)
    result = {
        "pearson": _chi2_p(pearson),
        "yates": _chi2_p(yates),
        "mantel_haenszel": _chi2_p(pearson * (nf - 1) / nf),
        "likelihood_ratio": _chi2_p(2 * g_terms.sum(axis=0)),
        "wald_z": 2 * stats.norm.sf(z),
        "fisher": fisher,
        "fisher_midp": midp,
    }
    return {name: np.where(degenerate, 1.0, p) for name, p in result.items()}


@dataclass(frozen=True)
class ClaimCheck:
    """The enumeration for one published comparison: every table and every test's verdict."""

    pct_il2: ReportedPercent
    pct_control: ReportedPercent
    reported_p: ReportedP
    arm_sizes: pd.DataFrame
    """Every pair of arm sizes searched (n_il2, n_control), whether or not a table fits."""
    tables: pd.DataFrame
    """One row per table: n_il2, n_control, k_il2, k_control, p_<test> and match_<test>."""

    def matches(self, tests: tuple[str, ...] = TESTS) -> pd.DataFrame:
        """Long format: one row per (table, test) that reproduces the printed P value."""
        long = self.tables.melt(
            id_vars=["n_il2", "n_control", "k_il2", "k_control"],
            value_vars=[f"match_{t}" for t in tests],
            var_name="test",
            value_name="match",
        )
        long["test"] = long["test"].str.removeprefix("match_")
        p = self.tables.melt(value_vars=[f"p_{t}" for t in tests], value_name="p")["p"]
        long["p"] = p.to_numpy()
        out = long[long["match"]].drop(columns="match")
        return out.sort_values(["n_il2", "k_il2", "k_control", "test"]).reset_index(drop=True)

    def by_split(self, tests: tuple[str, ...] = TESTS) -> pd.DataFrame:
        """Per pair of arm sizes searched: how many tables fit the percentages (0 when none
        does), how many of them reproduce the P with each test, and with how many tests."""
        summary = (
            self.tables.groupby(["n_il2", "n_control"], sort=True)
            .agg(tables=("k_il2", "size"), **{t: (f"match_{t}", "sum") for t in tests})
            .reset_index()
        )
        full = self.arm_sizes.merge(summary, on=["n_il2", "n_control"], how="left")
        counts = ["tables", *tests]
        full[counts] = full[counts].fillna(0).astype(np.int64)
        full["tests_matching"] = (full[list(tests)] > 0).sum(axis=1)
        return full.sort_values(["n_il2", "n_control"]).reset_index(drop=True)


def check_claim(
    splits: np.ndarray,
    pct_il2: ReportedPercent,
    pct_control: ReportedPercent,
    reported_p: ReportedP,
) -> ClaimCheck:
    """Enumerate every table consistent with the percentages and test each against the P."""
    tables = enumerate_tables(splits, pct_il2, pct_control)
    pvals = p_values(*(tables[c].to_numpy() for c in ("n_il2", "n_control", "k_il2", "k_control")))
    for name in TESTS:
        tables[f"p_{name}"] = pvals[name]
    for name in TESTS:
        tables[f"match_{name}"] = reported_p.matches(pvals[name])
    arm_sizes = pd.DataFrame(np.asarray(splits).reshape(-1, 2), columns=["n_il2", "n_control"])
    return ClaimCheck(pct_il2, pct_control, reported_p, arm_sizes, tables)


def randomization_probability(n_il2: np.ndarray, n_total: int) -> np.ndarray:
    """Probability of an arm size under simple 1:1 randomization, Binomial(n_total, 1/2)."""
    return stats.binom.pmf(np.asarray(n_il2), n_total, 0.5)


def simple_randomization_range(n_total: int, level: float = 0.95) -> tuple[int, int]:
    """Central ``level`` range of the IL-2 arm size under simple 1:1 randomization."""
    tail = (1 - level) / 2
    return int(stats.binom.ppf(tail, n_total, 0.5)), int(stats.binom.isf(tail, n_total, 0.5))


# ---------------------------------------------------------------- claims of the abstract


def _percent(claim_id: str) -> ReportedPercent:
    from anrs119.published import claim

    row = claim(claim_id)
    return ReportedPercent(float(row["value"]), int(row["decimals"]))


def _p(claim_id: str) -> ReportedP:
    from anrs119.published import claim

    row = claim(claim_id)
    return ReportedP(str(row["bound"]), float(row["value"]), int(row["decimals"]))


def n_randomized() -> int:
    """Total number randomized (claims registry)."""
    from anrs119.published import claim_value

    return int(claim_value("n_randomized"))


def primary_check() -> ClaimCheck:
    """The week-96 primary end point, all randomized patients, every split of the total."""
    return check_claim(
        splits_with_total(n_randomized()),
        _percent("primary_w96_il2"),
        _percent("primary_w96_control"),
        _p("primary_w96_p"),
    )


def lowvl_check(arm_sizes: tuple[int, int] | None = None) -> ClaimCheck:
    """The low-viral-load subgroup (free of the end point at week 150), every subgroup size.

    The subgroup sizes are not reported: each arm's subgroup may hold anything from 1 patient
    to the whole arm (``arm_sizes``, by default those of :func:`choose_allocation`).
    """
    if arm_sizes is None:
        arm_sizes = choose_allocation().arm_sizes
    return check_claim(
        splits_grid(*arm_sizes),
        _percent("lowvl_free_w150_il2"),
        _percent("lowvl_free_w150_control"),
        _p("lowvl_free_w150_p"),
    )


# ---------------------------------------------------------------- Kaplan-Meier percentages


def km_percent_reachable(
    n: int, percent: ReportedPercent, censored: int, event_percent: bool = True
) -> bool:
    """Can a Kaplan-Meier estimate on n patients, with exactly ``censored`` patients censored
    before the time point (no tied times), print as ``percent``?

    With no censoring the KM estimate is k / n (the GRIM constraint). With c censorings, the
    estimate is the product of (1 - 1/r) over the risk-set sizes r at the event times, and
    depends on where among the exits the censorings fall; all placements are enumerated
    (c <= 2 keeps this at most a few hundred thousand products). ``event_percent`` says the
    printed number is 1 - KM (reached the end point) rather than KM (free of it).
    """
    if censored not in (0, 1, 2):
        raise ValueError("km_percent_reachable: rule 'censored in 0, 1, 2' broken")
    digits = round(percent.value * 10**percent.decimals)
    half = 0.5 / 10**percent.decimals
    lo, hi = (
        (digits / 10**percent.decimals - half) / 100,
        (digits / 10**percent.decimals + half) / 100,
    )
    # log(1 - 1/r) for the i-th exit (i = 0..n-1), risk set r = n - i. With censoring we ask
    # that someone is still at risk at the time point (at most n - 1 exits), else the estimate
    # is not defined there; without censoring, k = n events (estimate 0) is allowed.
    with np.errstate(divide="ignore"):
        step = np.log1p(-1.0 / (n - np.arange(n)))
    cumulative = np.concatenate([[0.0], np.cumsum(step)])
    if censored == 0:
        log_km = cumulative
    elif censored == 1:
        # The censored exit contributes no factor: remove its step.
        log_km = np.concatenate(
            [cumulative[exits] - step[:exits] for exits in range(1, n)] or [np.empty(0)]
        )
    else:
        parts = []
        for exits in range(2, n):
            i, j = np.triu_indices(exits, k=1)
            parts.append(cumulative[exits] - step[i] - step[j])
        log_km = np.concatenate(parts or [np.empty(0)])
    km = np.exp(log_km)
    shown = 1.0 - km if event_percent else km
    # A small guard against floating error deciding exact halves.
    return bool(np.any((shown >= lo - 1e-12) & (shown <= hi + 1e-12)))


def km_min_censored(
    n_values: np.ndarray, percent: ReportedPercent, event_percent: bool = True
) -> np.ndarray:
    """For each arm size: fewest censorings (0, 1 or 2) letting a KM estimate print as
    ``percent``; 3 stands for "more than 2"."""
    out = np.full(len(n_values), 3, dtype=np.int64)
    for idx, n in enumerate(np.asarray(n_values, dtype=np.int64)):
        for c in (0, 1, 2):
            if km_percent_reachable(int(n), percent, c, event_percent):
                out[idx] = c
                break
    return out


def logrank_p_uncensored(event_in_il2: np.ndarray, n_il2: int, n_control: int) -> np.ndarray:
    """Log-rank P values (two-sided, chi-square 1 df) for many replicate event orders.

    ``event_in_il2`` is (replicates, events): row r lists, in time order and without ties,
    whether each event happened in the IL-2 arm. Everyone without an event is censored after
    the last event (administrative censoring at the time point), so only the order matters.
    """
    in_il2 = np.asarray(event_in_il2, dtype=bool)
    # Patients of each arm still at risk just before each event.
    at_risk_il2 = n_il2 - (np.cumsum(in_il2, axis=1) - in_il2)
    at_risk_ctrl = n_control - (np.cumsum(~in_il2, axis=1) - ~in_il2)
    at_risk = at_risk_il2 + at_risk_ctrl
    observed_minus_expected = (in_il2 - at_risk_il2 / at_risk).sum(axis=1)
    variance = (at_risk_il2 * at_risk_ctrl / at_risk**2).sum(axis=1)
    return stats.chi2.sf(observed_minus_expected**2 / variance, df=1)


def simulate_event_order(
    n_il2: int, n_control: int, k_il2: int, k_control: int, replicates: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Event times under a constant hazard per arm, given each arm's event count by the horizon.

    Conditional on k events before the horizon, the times are independent draws from the
    exponential truncated at the horizon (horizon = 1 here; only the order matters). Returns
    (times, in_il2), both (replicates, k_il2 + k_control), sorted by time within each row.
    """
    rng = np.random.default_rng(seed)

    def truncated(n: int, k: int) -> np.ndarray:
        rate = -math.log1p(-k / n) if k < n else 10.0  # all-events arm: a steep hazard
        u = rng.random((replicates, k))
        return -np.log1p(-u * -np.expm1(-rate)) / rate

    times = np.concatenate([truncated(n_il2, k_il2), truncated(n_control, k_control)], axis=1)
    in_il2 = np.zeros(times.shape, dtype=bool)
    in_il2[:, :k_il2] = True
    order = np.argsort(times, axis=1, kind="stable")
    return np.take_along_axis(times, order, axis=1), np.take_along_axis(in_il2, order, axis=1)


def logrank_by_table(
    check: ClaimCheck, n_range: tuple[int, int], replicates: int = 2000
) -> pd.DataFrame:
    """If the printed P were a log-rank test (no censoring before the time point, so the
    percentages are still crude): per table of the splits in ``n_range``, the median log-rank
    P over random event-time patterns, and the share of patterns that print as published."""
    from anrs119.seeds import FORENSIC_SEED

    rows = []
    tables = check.tables[check.tables["n_il2"].between(*n_range)]
    for offset, t in enumerate(tables.itertuples(index=False)):
        _, in_il2 = simulate_event_order(
            t.n_il2, t.n_control, t.k_il2, t.k_control, replicates, FORENSIC_SEED + offset
        )
        p = logrank_p_uncensored(in_il2, t.n_il2, t.n_control)
        rows.append(
            {
                "n_il2": t.n_il2,
                "n_control": t.n_control,
                "k_il2": t.k_il2,
                "k_control": t.k_control,
                "logrank_median_p": float(np.median(p)),
                "logrank_share_matching": float(check.reported_p.matches(p).mean()),
            }
        )
    return pd.DataFrame(rows)


def km_split_summary(
    splits: np.ndarray, pct_il2: ReportedPercent, pct_control: ReportedPercent
) -> pd.DataFrame:
    """Per split: fewest censorings before the time point (0, 1, 2; 3 means more) each arm
    needs for a Kaplan-Meier estimate of the event percentage to print as published."""
    splits = np.asarray(splits, dtype=np.int64).reshape(-1, 2)
    out = pd.DataFrame({"n_il2": splits[:, 0], "n_control": splits[:, 1]})
    out["censored_il2"] = km_min_censored(splits[:, 0], pct_il2)
    out["censored_control"] = km_min_censored(splits[:, 1], pct_control)
    out["censored_needed"] = out[["censored_il2", "censored_control"]].max(axis=1)
    return out


# ---------------------------------------------------------------- the allocation used downstream


@dataclass(frozen=True)
class Allocation:
    """The arm sizes and week-96 event counts the synthetic trial is built on."""

    n_randomized: int
    n_by_arm: dict[str, int]
    events_w96_by_arm: dict[str, int]
    test: str
    p_value: float
    rationale: str

    @property
    def arm_sizes(self) -> tuple[int, int]:
        """(IL-2, Control) arm sizes, in the order of :data:`anrs119.ARMS`."""
        return self.n_by_arm[ARMS[0]], self.n_by_arm[ARMS[1]]

    def to_json(self) -> str:
        payload = {
            "n_randomized": self.n_randomized,
            "n_by_arm": dict(self.n_by_arm),
            "events_w96_by_arm": dict(self.events_w96_by_arm),
            "test": self.test,
            "p_value": self.p_value,
            "rationale": self.rationale,
            "generated_by": "python -m anrs119 forensic",
        }
        return json.dumps(payload, sort_keys=True, indent=2) + "\n"


def ranked_candidates(check: ClaimCheck) -> pd.DataFrame:
    """Tables reproducing the printed P with a plausible 2009 test, best first, one row per
    table (the tests that reproduce it joined in ``tests``).

    Order: most balanced split first (most probable under 1:1 randomization), then the
    smaller IL-2 arm, then tables reproduced by more of :data:`PLAUSIBLE_2009_TESTS`; the
    ``test`` column is the first of those tests in that tuple's order.
    """
    fits = check.matches(PLAUSIBLE_2009_TESTS)
    if fits.empty:
        raise ValueError("ranked_candidates: no table reproduces the printed P with any test")
    fits = fits.assign(test_rank=fits["test"].map(PLAUSIBLE_2009_TESTS.index))
    fits = fits.sort_values("test_rank")
    keys = ["n_il2", "n_control", "k_il2", "k_control"]
    ranked = fits.groupby(keys, sort=False).agg(
        test=("test", "first"),
        p=("p", "first"),
        tests=("test", lambda t: ", ".join(TEST_SHORT[x] for x in t)),
        n_tests=("test", "size"),
    )
    ranked = ranked.reset_index()
    ranked["imbalance"] = (ranked["n_il2"] - ranked["n_control"]).abs()
    ranked = ranked.sort_values(
        ["imbalance", "n_il2", "n_tests"], ascending=[True, True, False], kind="stable"
    )
    return ranked.reset_index(drop=True)


def choose_allocation(check: ClaimCheck | None = None) -> Allocation:
    """Pick the table the model is built on: the first of :func:`ranked_candidates`."""
    check = check or primary_check()
    n_total = int((check.tables["n_il2"] + check.tables["n_control"]).iloc[0])
    best = ranked_candidates(check).iloc[0]
    tests_text = ", ".join(
        TEST_LABELS[t] for t in PLAUSIBLE_2009_TESTS if TEST_SHORT[t] in best["tests"].split(", ")
    )
    n1, n2 = int(best["n_il2"]), int(best["n_control"])
    k1, k2 = int(best["k_il2"]), int(best["k_control"])
    half = n_total // 2
    even_possible = bool(
        ((check.tables["n_il2"] == half) & (check.tables["n_control"] == n_total - half)).any()
    )
    even_note = (
        ""
        if even_possible or 2 * half != n_total
        else f"The even split {half}/{half} cannot give both printed percentages. "
    )
    rationale = even_note + (
        f"Of all splits of {n_total} patients and all 2x2 tables whose percentages round to the "
        f"published {check.pct_il2.label} and {check.pct_control.label}, this is the most "
        f"balanced split (the most probable under 1:1 randomization) with a table that "
        f"reproduces the published {check.reported_p.label} with a test a 2009 report would "
        f"plausibly use; that table does so with: {tests_text}. "
        f"The percentages are read as crude proportions of all randomized patients."
    )
    return Allocation(
        n_randomized=n_total,
        n_by_arm={ARMS[0]: n1, ARMS[1]: n2},
        events_w96_by_arm={ARMS[0]: k1, ARMS[1]: k2},
        test=str(best["test"]),
        p_value=round(float(best["p"]), 6),
        rationale=rationale,
    )


def feasible_allocations(
    check: ClaimCheck | None = None, n_range: tuple[int, int] | None = None
) -> pd.DataFrame:
    """Every allocation the abstract allows within the range of simple 1:1 randomization, and
    what each implies for the published numbers.

    One row per table of :func:`ranked_candidates` (arm sizes and week-96 event counts whose
    percentages print as published and whose P prints as published with a plausible 2009 test),
    most balanced first: the true percentages, the test and its P, the difference between arms
    with its 95% Newcombe interval, how many pairs of low-viral-load subgroup sizes then allow
    the subgroup's printed percentages, and whether the embedded data are built on it (they fix
    one allocation; another needs its own reconstruction).
    """
    from anrs119.analysis.similarity import compare_counts

    check = check or primary_check()
    n_total = int((check.tables["n_il2"] + check.tables["n_control"]).iloc[0])
    n_range = n_range or simple_randomization_range(n_total)
    ranked = ranked_candidates(check)
    ranked = ranked[ranked["n_il2"].between(*n_range)].reset_index(drop=True)
    embedded = read_allocation() if ALLOCATION_FILE.exists() else None
    rows = []
    for t in ranked.itertuples(index=False):
        rule = compare_counts(t.k_il2, t.n_il2, t.k_control, t.n_control)
        sub = lowvl_check((t.n_il2, t.n_control)).by_split()
        feasible = sub[sub["tables"] > 0]
        is_embedded = embedded is not None and (
            (embedded["n_by_arm"][ARMS[0]], embedded["n_by_arm"][ARMS[1]]) == (t.n_il2, t.n_control)
            and (embedded["events_w96_by_arm"][ARMS[0]], embedded["events_w96_by_arm"][ARMS[1]])
            == (t.k_il2, t.k_control)
        )
        rows.append(
            {
                "n_il2": int(t.n_il2),
                "n_control": int(t.n_control),
                "k_il2": int(t.k_il2),
                "k_control": int(t.k_control),
                "pct_il2": 100 * t.k_il2 / t.n_il2,
                "pct_control": 100 * t.k_control / t.n_control,
                "test": str(t.test),
                "tests": str(t.tests),
                "p": float(t.p),
                "difference": 100 * rule.difference,
                "ci_low": 100 * rule.ci_low,
                "ci_high": 100 * rule.ci_high,
                "randomization_probability": float(
                    randomization_probability(np.array([t.n_il2]), n_total)[0]
                ),
                "subgroup_sizes": len(feasible),
                "subgroup_min_il2": int(feasible["n_il2"].min()) if len(feasible) else 0,
                "subgroup_min_control": int(feasible["n_control"].min()) if len(feasible) else 0,
                "embedded": bool(is_embedded),
            }
        )
    return pd.DataFrame(rows)


def write_allocation(path: Path = ALLOCATION_FILE) -> Path:
    """Write the chosen allocation as JSON (byte-identical on every run) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(choose_allocation().to_json(), encoding="utf-8", newline="\n")
    return path


def read_allocation(path: Path = ALLOCATION_FILE) -> dict:
    """The committed allocation (as written by :func:`write_allocation`)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def main_forensic(path: Path = ALLOCATION_FILE) -> str:
    """Write the allocation and return a short summary to print (for ``python -m anrs119``)."""
    written = write_allocation(path)
    allocation = read_allocation(written)
    n1, n2 = (allocation["n_by_arm"][a] for a in ARMS)
    k1, k2 = (allocation["events_w96_by_arm"][a] for a in ARMS)
    return (
        f"wrote {written}\n"
        f"arms {ARMS[0]}/{ARMS[1]}: {n1}/{n2}; events by week 96: {k1}/{n1} and {k2}/{n2}; "
        f"{TEST_LABELS[allocation['test']]} P = {allocation['p_value']:.4f}"
    )
