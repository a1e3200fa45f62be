"""Time-to-event analyses of ADTTE by arm: Kaplan-Meier, quantiles, log-rank, Cox, RMST, at-risk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import restricted_mean_survival_time
from scipy import stats

from anrs119.analysis._common import (
    AnalysisInputError,
    group_order,
    require_columns,
    time_to_event,
)
from anrs119.analysis.estimands import Estimand, arm_population, endpoint_name

CITransform = Literal["log-log", "log", "plain"]
Ties = Literal["efron", "breslow"]
QuantileRule = Literal["first", "midpoint"]

DEFAULT_STRATEGY = "as coded in ADTTE for this PARAMCD (event if CNSR = 0, else censored)"


def _population(groups: Sequence[str], n: Sequence[int], by: str) -> str:
    return arm_population(groups, n, by)


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


def greenwood_ci(
    survival: np.ndarray, greenwood_sum: np.ndarray, alpha: float, transform: CITransform
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of S(t) from Greenwood's sum  sum d/(n(n-d)).

    ``log-log`` is lifelines' default (and SAS's); ``log`` is R survival's default
    (``conf.type = "log"``); ``plain`` is the linear Greenwood interval, clipped to [0, 1].
    Where S = 1 (no event yet) the interval is [1, 1]; where S = 0 it is [0, 0].
    """
    s = np.asarray(survival, dtype=float)
    v = np.asarray(greenwood_sum, dtype=float)
    z = _z(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        if transform == "plain":
            se = s * np.sqrt(v)
            low, high = s - z * se, s + z * se
        elif transform == "log":
            se = np.sqrt(v)
            low, high = s * np.exp(-z * se), s * np.exp(z * se)
        elif transform == "log-log":
            log_s = np.log(s)
            se = np.sqrt(v) / np.abs(log_s)
            low = np.exp(-np.exp(np.log(-log_s) + z * se))
            high = np.exp(-np.exp(np.log(-log_s) - z * se))
        else:
            raise AnalysisInputError(f"ci transform {transform!r}: rule: log-log, log or plain")
    low = np.where(s >= 1.0, 1.0, np.where(s <= 0.0, 0.0, low))
    high = np.where(s >= 1.0, 1.0, np.where(s <= 0.0, 0.0, high))
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


@dataclass(frozen=True)
class Estimate:
    """One estimate with its CI; NaN with the ``reason`` when it cannot be estimated."""

    estimate: float
    ci_low: float
    ci_high: float
    reason: str = ""
    """Empty when estimable; otherwise why not (e.g. beyond the arm's last follow-up)."""

    @property
    def estimable(self) -> bool:
        return not self.reason


NOT_ESTIMABLE = "not estimable"
"""How every table and chapter shows an estimate that the data cannot give."""


@dataclass(frozen=True)
class KaplanMeierResult:
    """Kaplan-Meier estimates by group, one row per distinct time (plus time 0)."""

    table: pd.DataFrame
    """Columns: group, time, n_at_risk, n_event, n_censor, survival, greenwood, ci_low, ci_high."""
    groups: tuple[str, ...]
    n: tuple[int, ...]
    ci_transform: CITransform
    alpha: float
    estimand: Estimand

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _rows(self, group: str) -> pd.DataFrame:
        if group not in self.groups:
            raise AnalysisInputError(f"group {group!r}: rule: one of {list(self.groups)}")
        return self.table[self.table["group"] == group]

    def last_followup(self, group: str) -> float:
        """The group's largest observed time (event or censoring): the end of its curve."""
        return float(self._rows(group)["time"].max())

    def not_estimable(self, group: str, t: float) -> str:
        """Why S(t) cannot be estimated for ``group`` ("" if it can).

        Beyond the last follow-up of an arm nobody is observed: the curve is not extended
        (R's ``summary.survfit`` drops such times unless ``extend = TRUE``). The one exception
        is a curve that has reached 0: nobody is left to survive, so S stays 0.
        """
        rows = self._rows(group)
        last = float(rows["time"].max())
        if not np.isfinite(t):
            return f"t = {t} is not a time"
        if t > last and float(rows["survival"].iloc[-1]) > 0.0:
            return f"beyond the last follow-up of {group} ({last:g})"
        return ""

    def survival_estimate(self, group: str, t: float) -> Estimate:
        """S(t) with its CI and, when it is not estimable, NaN and the reason."""
        reason = self.not_estimable(group, t)
        if reason:
            return Estimate(np.nan, np.nan, np.nan, reason)
        rows = self._rows(group)
        idx = np.searchsorted(rows["time"].to_numpy(), t, side="right") - 1
        if idx < 0:  # before time 0: nobody has had the event
            return Estimate(1.0, 1.0, 1.0)
        r = rows.iloc[int(idx)]
        return Estimate(float(r["survival"]), float(r["ci_low"]), float(r["ci_high"]))

    def survival_at(self, group: str, t: float) -> tuple[float, float, float]:
        """S(t) with its CI: the step function is right-continuous (events at t count).

        NaN beyond the group's last follow-up (see `not_estimable`), never carried forward.
        """
        e = self.survival_estimate(group, t)
        return e.estimate, e.ci_low, e.ci_high

    def event_probability_at(self, group: str, t: float) -> tuple[float, float, float]:
        """1 - S(t) (proportion with the event by t) and its CI."""
        s, low, high = self.survival_at(group, t)
        return 1.0 - s, 1.0 - high, 1.0 - low

    def quantile(
        self, group: str, p: float = 0.5, rule: QuantileRule = "first"
    ) -> tuple[float, float, float]:
        """Time by which a fraction ``p`` had the event (p=0.5: median), with CI.

        Estimate: first time with S(t) <= 1 - p (``rule="first"``, lifelines). With
        ``rule="midpoint"`` (R survival), when S equals 1 - p exactly on a flat stretch the
        estimate is the midpoint between that time and the next event time. CI
        (Brookmeyer-Crowley inversion, as R survival and lifelines do): the first times at
        which the lower and the upper pointwise bounds reach 1 - p; NaN when never reached.
        """
        if not 0.0 < p < 1.0:
            raise AnalysisInputError(f"quantile p={p}: rule: 0 < p < 1")
        rows = self._rows(group)
        target = 1.0 - p
        t = rows["time"].to_numpy()

        def first(col: str) -> float:
            hit = np.flatnonzero(rows[col].to_numpy() <= target + 1e-12)
            return float(t[hit[0]]) if hit.size else float("nan")

        est = first("survival")
        if rule == "midpoint" and np.isfinite(est):
            s = rows["survival"].to_numpy()
            i = int(np.flatnonzero(t == est)[0])
            later = np.flatnonzero((rows["n_event"].to_numpy() > 0) & (t > est))
            if abs(s[i] - target) <= 1e-12 and later.size:
                est = float((est + t[later[0]]) / 2)
        elif rule not in ("first", "midpoint"):
            raise AnalysisInputError(f"rule={rule!r}: rule: first or midpoint")
        return est, first("ci_low"), first("ci_high")

    def quantile_reason(self, group: str, p: float = 0.5) -> str:
        """Why the ``p`` quantile is NaN ("" if it is estimated): the curve never reaches 1 - p
        within the group's follow-up, and it is not extended beyond it."""
        rows = self._rows(group)
        if (rows["survival"].to_numpy() <= 1.0 - p + 1e-12).any():
            return ""
        return (
            f"not reached: S stays above {1 - p:g} up to the last follow-up of {group} "
            f"({self.last_followup(group):g})"
        )

    def median(self, group: str) -> tuple[float, float, float]:
        return self.quantile(group, 0.5)


def kaplan_meier(
    adsl: pd.DataFrame,
    adtte: pd.DataFrame,
    paramcd: str,
    *,
    by: str = "ARM",
    order: Sequence[str] | None = None,
    alpha: float = 0.05,
    ci_transform: CITransform = "log-log",
    intercurrent: str = DEFAULT_STRATEGY,
) -> KaplanMeierResult:
    """Kaplan-Meier survival by group (lifelines), with Greenwood CIs on the chosen scale."""
    df = time_to_event(adsl, adtte, paramcd, by)
    groups = group_order(df["group"], order)
    frames = []
    for g in groups:
        sub = df[df["group"] == g]
        kmf = KaplanMeierFitter().fit(sub["time"], sub["event"])
        et = kmf.event_table
        n_risk = et["at_risk"].to_numpy(dtype=float)
        d = et["observed"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)
        gw = np.cumsum(term)
        surv = kmf.survival_function_.iloc[:, 0].reindex(et.index).to_numpy(dtype=float)
        low, high = greenwood_ci(surv, gw, alpha, ci_transform)
        frames.append(
            pd.DataFrame(
                {
                    "group": g,
                    "time": et.index.to_numpy(dtype=float),
                    "n_at_risk": et["at_risk"].to_numpy(dtype=int),
                    "n_event": et["observed"].to_numpy(dtype=int),
                    "n_censor": et["censored"].to_numpy(dtype=int),
                    "survival": surv,
                    "greenwood": gw,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
        )
    n = tuple(int((df["group"] == g).sum()) for g in groups)
    estimand = Estimand(
        population=_population(groups, n, by),
        variable=f"time to {endpoint_name(paramcd)}, in weeks",
        intercurrent_event_strategy=intercurrent,
        summary_measure=f"Kaplan-Meier survival with {int(100 * (1 - alpha))}% CI ({ci_transform})",
    )
    return KaplanMeierResult(
        table=pd.concat(frames, ignore_index=True),
        groups=groups,
        n=n,
        ci_transform=ci_transform,
        alpha=alpha,
        estimand=estimand,
    )


@dataclass(frozen=True)
class QuantileResult:
    """A quantile of time to event (e.g. the median) by group, with CI."""

    p: float
    table: pd.DataFrame
    """Columns: group, n, events, estimate, ci_low, ci_high, reason ("" when estimated)."""
    ci_transform: CITransform
    estimand: Estimand

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def get(self, group: str) -> tuple[float, float, float]:
        r = self.table.set_index("group").loc[group]
        return float(r["estimate"]), float(r["ci_low"]), float(r["ci_high"])


def survival_quantile(
    km: KaplanMeierResult, p: float = 0.5, rule: QuantileRule = "first"
) -> QuantileResult:
    """Quantile (p=0.5: median, p=0.25: 25th percentile) of time to event by group."""
    rows = []
    for g, n in zip(km.groups, km.n, strict=True):
        est, low, high = km.quantile(g, p, rule)
        events = int(km.table.loc[km.table["group"] == g, "n_event"].sum())
        rows.append(
            {
                "group": g,
                "n": n,
                "events": events,
                "estimate": est,
                "ci_low": low,
                "ci_high": high,
                "reason": km.quantile_reason(g, p),
            }
        )
    label = "median" if p == 0.5 else f"{100 * p:g}th percentile"
    estimand = Estimand(
        population=km.estimand.population,
        variable=km.estimand.variable,
        intercurrent_event_strategy=km.estimand.intercurrent_event_strategy,
        summary_measure=f"Kaplan-Meier {label} with CI ({km.ci_transform} transform)",
    )
    return QuantileResult(
        p=p, table=pd.DataFrame(rows), ci_transform=km.ci_transform, estimand=estimand
    )


def median_survival(km: KaplanMeierResult, rule: QuantileRule = "first") -> QuantileResult:
    return survival_quantile(km, 0.5, rule)


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test across groups, with observed and expected events per group."""

    statistic: float
    df: int
    p_value: float
    table: pd.DataFrame
    """Columns: group, n, observed, expected."""
    estimand: Estimand

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _observed_expected(df: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """Observed and expected events per group under H0 (the survdiff table)."""
    times = np.unique(df.loc[df["event"] == 1, "time"].to_numpy())
    t = df["time"].to_numpy()[:, None]
    at_risk_all = (t >= times).sum(axis=0)
    d_all = ((t == times) & (df["event"].to_numpy()[:, None] == 1)).sum(axis=0)
    rows = []
    for g in groups:
        m = (df["group"] == g).to_numpy()
        n_g = (t[m] >= times).sum(axis=0)
        rows.append(
            {
                "group": g,
                "n": int(m.sum()),
                "observed": int(df.loc[m, "event"].sum()),
                "expected": float(np.sum(d_all * n_g / at_risk_all)),
            }
        )
    return pd.DataFrame(rows)


def logrank(
    adsl: pd.DataFrame,
    adtte: pd.DataFrame,
    paramcd: str,
    *,
    by: str = "ARM",
    order: Sequence[str] | None = None,
    intercurrent: str = DEFAULT_STRATEGY,
) -> LogRankResult:
    """Log-rank test (lifelines; k groups -> k-1 df), as R ``survdiff(rho = 0)``."""
    df = time_to_event(adsl, adtte, paramcd, by)
    groups = group_order(df["group"], order)
    if len(groups) < 2:
        raise AnalysisInputError(f"adsl: column {by}: rule: log-rank needs >= 2 groups")
    if len(groups) == 2:
        a, b = (df[df["group"] == g] for g in groups)
        res = logrank_test(a["time"], b["time"], a["event"], b["event"])
    else:
        res = multivariate_logrank_test(df["time"], df["group"], df["event"])
    oe = _observed_expected(df, groups)
    estimand = Estimand(
        population=_population(groups, tuple(oe["n"]), by),
        variable=f"time to {endpoint_name(paramcd)}, in weeks",
        intercurrent_event_strategy=intercurrent,
        summary_measure="log-rank test of equal hazards (chi-square)",
    )
    return LogRankResult(
        statistic=float(res.test_statistic),
        df=len(groups) - 1,
        p_value=float(res.p_value),
        table=oe,
        estimand=estimand,
    )


@dataclass(frozen=True)
class CoxResult:
    """Hazard ratio of ``treatment`` vs ``reference`` from a Cox model with one indicator."""

    treatment: str
    reference: str
    hazard_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    coef: float
    se: float
    ties: Ties
    alpha: float
    estimand: Estimand
    strata: tuple[str, ...] = ()
    """ADSL columns the model is stratified by (empty: one baseline hazard)."""

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "treatment": self.treatment,
                    "reference": self.reference,
                    "hazard_ratio": self.hazard_ratio,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "p_value": self.p_value,
                    "ties": self.ties,
                }
            ]
        )


def _cox_efron(
    time: np.ndarray, event: np.ndarray, x: np.ndarray, strata: np.ndarray | None = None
) -> tuple[float, float]:
    """Coefficient and SE of the first column of ``x`` (treatment), others are adjusters.

    ``strata`` (one label per subject) gives each stratum its own baseline hazard, as R's
    ``coxph(... + strata(s))`` and lifelines' ``CoxPHFitter(strata=...)``.
    """
    x = np.atleast_2d(x.T).T
    data = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    data = data.rename(columns={"x0": "x"}).assign(time=time, event=event)
    fitter = CoxPHFitter()
    if strata is not None:
        data["stratum"] = strata
        fitter = CoxPHFitter(strata=["stratum"])
    # Tighter than the default precision so the estimate agrees with statsmodels to ~1e-8.
    cph = fitter.fit(
        data,
        duration_col="time",
        event_col="event",
        fit_options={"precision": 1e-12, "r_precision": 1e-14},
    )
    return float(cph.params_["x"]), float(cph.standard_errors_["x"])


def _cox_breslow(
    time: np.ndarray, event: np.ndarray, x: np.ndarray, strata: np.ndarray | None = None
) -> tuple[float, float]:
    # lifelines implements only Efron's ties; statsmodels' PHReg gives Breslow (R's ties="breslow").
    from statsmodels.duration.hazard_regression import PHReg

    x = np.atleast_2d(x.T).T.astype(float)
    fit = PHReg(time, x, status=event, ties="breslow", strata=strata).fit()
    return float(fit.params[0]), float(fit.bse[0])


def cox_fit(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    strata: np.ndarray | None = None,
    ties: Ties = "efron",
) -> tuple[float, float]:
    """Coefficient and SE of the first column of ``x`` in a Cox model, optionally stratified.

    The engine behind `cox_hazard_ratio`, for a covariate that is not an arm indicator (the
    validation appendix checks it against R's own stratified example).
    """
    x = np.asarray(x, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    if ties == "efron":
        return _cox_efron(np.asarray(time), np.asarray(event), x, strata)
    if ties == "breslow":
        return _cox_breslow(np.asarray(time), np.asarray(event), x, strata)
    raise AnalysisInputError(f"ties={ties!r}: rule: efron or breslow")


def _strata_labels(adsl: pd.DataFrame, ids: pd.Series, strata: Sequence[str]) -> np.ndarray:
    """One label per subject: the combination of the ADSL strata columns (complete, >= 1 level)."""
    require_columns(adsl, list(strata), "adsl")
    values = adsl.set_index("USUBJID").loc[ids, list(strata)]
    for col in strata:
        empty = values[col].isna() | (values[col].astype(str).str.strip() == "")
        if empty.any():
            raise AnalysisInputError(f"adsl: column {col}: rule: Cox strata must be complete")
    return values.astype(str).agg(" / ".join, axis=1).to_numpy()


def cox_hazard_ratio(
    adsl: pd.DataFrame,
    adtte: pd.DataFrame,
    paramcd: str,
    *,
    by: str = "ARM",
    treatment: str | None = None,
    reference: str | None = None,
    ties: Ties = "efron",
    alpha: float = 0.05,
    covariates: Sequence[str] = (),
    strata: Sequence[str] | str = (),
    intercurrent: str = DEFAULT_STRATEGY,
) -> CoxResult:
    """Cox PH hazard ratio, Wald CI and Wald P. Defaults: first group vs second (IL-2 vs Control).

    ``ties="efron"`` uses lifelines (R coxph's default); ``"breslow"`` uses statsmodels PHReg
    (the default of SAS PHREG and of many textbooks). ``covariates`` are numeric ADSL columns
    added as adjusters (the hazard ratio is then conditional on them). ``strata`` are ADSL
    columns whose combinations each get their own baseline hazard (R ``strata()``, SAS
    ``STRATA``): the hazard ratio is then a common within-stratum ratio.
    """
    strata = (strata,) if isinstance(strata, str) else tuple(strata)
    df = time_to_event(adsl, adtte, paramcd, by)
    groups = group_order(df["group"])
    treatment = groups[0] if treatment is None else treatment
    if reference is None:
        others = [g for g in groups if g != treatment]
        if len(others) != 1:
            raise AnalysisInputError(f"adsl: column {by}: rule: give reference= with >2 groups")
        reference = others[0]
    for g in (treatment, reference):
        if g not in groups:
            raise AnalysisInputError(f"adsl: column {by}: group {g!r} absent; rule: must exist")
    sub = df[df["group"].isin([treatment, reference])]
    x = (sub["group"] == treatment).to_numpy(dtype=float)[:, None]
    if covariates:
        require_columns(adsl, list(covariates), "adsl")
        cov = adsl.set_index("USUBJID").loc[sub["USUBJID"], list(covariates)]
        if cov.isna().any().any():
            col = cov.columns[cov.isna().any()][0]
            raise AnalysisInputError(f"adsl: column {col}: rule: Cox covariates must be complete")
        x = np.column_stack([x, cov.to_numpy(dtype=float)])
    time, event = sub["time"].to_numpy(), sub["event"].to_numpy()
    labels = _strata_labels(adsl, sub["USUBJID"], strata) if strata else None
    if ties == "efron":
        coef, se = _cox_efron(time, event, x, labels)
    elif ties == "breslow":
        coef, se = _cox_breslow(time, event, x, labels)
    else:
        raise AnalysisInputError(f"ties={ties!r}: rule: efron or breslow")
    z = _z(alpha)
    estimand = Estimand(
        population=_population(
            (treatment, reference),
            (int((sub["group"] == treatment).sum()), int((sub["group"] == reference).sum())),
            by,
        ),
        variable=f"time to {endpoint_name(paramcd)}, in weeks",
        intercurrent_event_strategy=intercurrent,
        summary_measure=f"Cox hazard ratio {treatment} vs {reference} ({ties} ties), Wald CI"
        + (f", adjusted for {', '.join(covariates)}" if covariates else "")
        + (f", stratified by {', '.join(strata)}" if strata else ""),
    )
    return CoxResult(
        treatment=treatment,
        reference=reference,
        hazard_ratio=float(np.exp(coef)),
        ci_low=float(np.exp(coef - z * se)),
        ci_high=float(np.exp(coef + z * se)),
        p_value=float(2 * stats.norm.sf(abs(coef / se))),
        coef=coef,
        se=se,
        ties=ties,
        alpha=alpha,
        estimand=estimand,
        strata=strata,
    )


def rmst_variance(
    times: np.ndarray, survival: np.ndarray, n_at_risk: np.ndarray, n_event: np.ndarray, tau: float
) -> float:
    """Greenwood-type variance of the Kaplan-Meier restricted mean up to tau:
    sum over event times t_j <= tau of A_j^2 d_j / (n_j (n_j - d_j)), A_j = int_{t_j}^{tau} S.
    """
    t = np.asarray(times, dtype=float)
    s = np.asarray(survival, dtype=float)
    keep = t <= tau
    t, s = t[keep], s[keep]
    n, d = np.asarray(n_at_risk, float)[keep], np.asarray(n_event, float)[keep]
    # Area from each time to tau under the step function S (right-continuous at each t).
    widths = np.diff(np.append(t, tau))
    seg = s * widths
    tail = np.cumsum(seg[::-1])[::-1]  # A_j = integral from t_j to tau
    # When everyone at risk has the event (n = d), S drops to 0 and A_j = 0: the term is 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(d > 0, tail**2 * d / (n * (n - d)), 0.0)
    term = np.where((d > 0) & (n == d) & (tail == 0), 0.0, term)
    return float(np.sum(term))


@dataclass(frozen=True)
class RMSTResult:
    """Restricted mean survival time up to ``tau`` by group, and the difference with CI."""

    tau: float
    table: pd.DataFrame
    """Columns: group, rmst, se, ci_low, ci_high, reason ("" when estimated)."""
    difference: float
    """First group minus second group."""
    diff_ci_low: float
    diff_ci_high: float
    diff_p_value: float
    estimand: Estimand
    diff_reason: str = ""
    """Why the difference is NaN ("" when estimated)."""

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _refit(rows: pd.DataFrame) -> KaplanMeierFitter:
    """Rebuild the lifelines fit from a KM table (events and censorings as weighted rows).

    lifelines integrates a fitted KaplanMeierFitter exactly as a step function; given only a
    survival-function DataFrame it would use the trapezoid rule instead.
    """
    ev = rows[rows["n_event"] > 0]
    ce = rows[rows["n_censor"] > 0]
    durations = np.concatenate([ev["time"].to_numpy(), ce["time"].to_numpy()])
    observed = np.concatenate([np.ones(len(ev)), np.zeros(len(ce))])
    weights = np.concatenate([ev["n_event"].to_numpy(), ce["n_censor"].to_numpy()])
    return KaplanMeierFitter().fit(durations, observed, weights=weights)


def restricted_mean(km: KaplanMeierResult, tau: float) -> RMSTResult:
    """RMST by group (lifelines) with the Greenwood-type variance computed here."""
    z = _z(km.alpha)
    rows = []
    for g in km.groups:
        r = km.table[km.table["group"] == g]
        # The area up to tau needs S on all of [0, tau]: not beyond the arm's follow-up.
        reason = km.not_estimable(g, tau)
        if reason:
            nan = float("nan")
            rows.append(
                {"group": g, "rmst": nan, "se": nan, "ci_low": nan, "ci_high": nan}
                | {"reason": reason}
            )
            continue
        mean = float(restricted_mean_survival_time(_refit(r), t=tau))
        var = rmst_variance(
            r["time"].to_numpy(),
            r["survival"].to_numpy(),
            r["n_at_risk"].to_numpy(),
            r["n_event"].to_numpy(),
            tau,
        )
        se = float(np.sqrt(var))
        rows.append(
            {
                "group": g,
                "rmst": mean,
                "se": se,
                "ci_low": mean - z * se,
                "ci_high": mean + z * se,
                "reason": "",
            }
        )
    table = pd.DataFrame(rows)
    reasons = zip(table["group"], table["reason"], strict=True)
    diff_reason = "; ".join(f"{g}: {r}" for g, r in reasons if r)
    if len(table) < 2:
        diff_reason = "fewer than two groups"
    if not diff_reason:
        diff = float(table["rmst"].iloc[0] - table["rmst"].iloc[1])
        se_d = float(np.hypot(table["se"].iloc[0], table["se"].iloc[1]))
        lo, hi = diff - z * se_d, diff + z * se_d
        p = float(2 * stats.norm.sf(abs(diff / se_d))) if se_d > 0 else float("nan")
    else:
        diff = lo = hi = p = float("nan")
    estimand = Estimand(
        population=km.estimand.population,
        variable=km.estimand.variable,
        intercurrent_event_strategy=km.estimand.intercurrent_event_strategy,
        summary_measure=f"restricted mean event-free time up to {tau:g} weeks (difference "
        f"{km.groups[0]} minus {km.groups[-1]})",
    )
    return RMSTResult(
        tau=float(tau),
        table=table,
        difference=diff,
        diff_ci_low=lo,
        diff_ci_high=hi,
        diff_p_value=p,
        estimand=estimand,
        diff_reason=diff_reason,
    )


def numbers_at_risk(km: KaplanMeierResult, times: Sequence[float]) -> pd.DataFrame:
    """Subjects still at risk (AVAL >= t) per group at each of ``times``: rows groups, columns t."""
    out = {}
    for g, n in zip(km.groups, km.n, strict=True):
        r = km.table[km.table["group"] == g]
        t = r["time"].to_numpy()
        leaving = (r["n_event"] + r["n_censor"]).to_numpy()
        # at risk at t = n minus everyone who left strictly before t
        out[g] = [int(n - leaving[t < x].sum()) for x in times]
    return pd.DataFrame(out, index=pd.Index(list(times), name="time")).T
