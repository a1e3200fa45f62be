"""The hypothetical estimand "change at week W had nobody started ART": inverse probability of
censoring weights (IPCW) for ART start, with pooled logistic models and a stratified bootstrap,
and a mixed model of the pre-ART values.

Patients are censored when they start ART. The hazard of starting between two visits is modelled
by pooled logistic regression on the arm, time, the baseline CD4 and viral load and the last
values seen before the interval, allowed to bend at the guidelines' thresholds (the denominator
model). The stabilised weights' numerator holds
the arm and time only: the arms are then compared by *marginal* weighted medians, so every
covariate of the denominator must leave the numerator (a baseline covariate kept there would
reweight the patients still off ART to the baseline mix of those who stay off ART, not of
everyone randomized, and the marginal median would no longer estimate the arm's median; Cole
and Hernán, Am J Epidemiol 2008;168:656; Hernán and Robins, Causal Inference: What If, 2020,
section 12.6). The weighted patients then stand for everyone randomized, under no unmeasured
confounding of ART start by anything beyond the denominator's terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anrs119 import ARMS
from anrs119.analysis._common import AnalysisInputError, require_columns
from anrs119.analysis.estimands import Estimand

GUIDELINE_CD4: float = 350.0
GUIDELINE_VL: float = 5.0
"""The CD4 count (cells/µL) below which, and the log10 viral load above which, the guidelines of
2003-06 recommended or considered starting ART (French recommendations; US DHHS 2005-07: elective
above 350 if the viral load exceeded 100,000 copies/mL; PRIORS.md section 7). The denominator
model lets the hazard of starting bend there."""

NUMERATOR_TERMS: tuple[str, ...] = ("trt", "time", "time2")
DENOMINATOR_TERMS: tuple[str, ...] = (
    *NUMERATOR_TERMS,
    "base_cd4",
    "base_vl",
    "last_cd4",
    "last_vl",
    "cd4_below",
    "vl_above",
)
"""Terms of the pooled logistic models. CD4 in hundreds of cells/µL and time in years keep the
coefficients on similar scales (Newton's method converges in a few steps). The numerator holds
the arm and time only, to match the marginal comparison (module docstring); ``cd4_below`` and
``vl_above`` are how far the latest values lie beyond the guideline thresholds."""


@dataclass(frozen=True)
class LogisticFit:
    """Maximum-likelihood logistic regression by Newton-Raphson."""

    params: np.ndarray
    iterations: int
    converged: bool

    def predict(self, x: np.ndarray) -> np.ndarray:
        return _expit(x @ self.params)


def _expit(eta: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-eta) = inf for a very negative eta: expit 0
        return 1.0 / (1.0 + np.exp(-eta))


def logistic_fit(
    x: np.ndarray,
    y: np.ndarray,
    *,
    freq: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
):
    """Logistic MLE (the intercept is a column of ``x``) by Newton-Raphson with step halving.

    ``freq``: frequency weights (row ``i`` counts ``freq[i]`` times; a bootstrap resample is the
    original rows with their counts). Fast enough to refit inside a bootstrap; cross-checked
    against statsmodels GLM in the tests.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    f = np.ones(y.size) if freq is None else np.asarray(freq, dtype=float)
    beta = np.zeros(x.shape[1])

    def loglik(b: np.ndarray) -> float:
        eta = x @ b
        return float(np.sum(f * (y * eta - np.logaddexp(0.0, eta))))

    current = loglik(beta)
    for it in range(1, max_iter + 1):
        p = _expit(x @ beta)
        grad = x.T @ (f * (y - p))
        hess = (x * (f * p * (1 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return LogisticFit(beta, it, False)
        scale = 1.0
        while scale > 1e-6:
            candidate = beta + scale * step
            value = loglik(candidate)
            if value >= current - 1e-12:
                break
            scale /= 2
        beta, previous, current = candidate, current, value
        if abs(current - previous) < tol and np.max(np.abs(scale * step)) < 1e-6:
            return LogisticFit(beta, it, True)
    return LogisticFit(beta, max_iter, False)


@dataclass(frozen=True)
class SubjectHistories:
    """Per-subject arrays the IPCW estimator needs; a bootstrap resample is a row selection."""

    ids: np.ndarray
    group: np.ndarray
    trt: np.ndarray
    base_cd4: np.ndarray
    base_vl: np.ndarray
    last_cd4: np.ndarray
    """(subjects, visits): latest off-ART CD4 up to the previous visit (baseline for the first)."""
    last_vl: np.ndarray
    t_art: np.ndarray
    """ART start week (inf if none observed)."""
    end: np.ndarray
    """End of follow-up without ART (inf if ART was observed)."""
    visits: np.ndarray
    outcome: np.ndarray
    """Change from baseline at the last visit while off ART (NaN if none)."""

    def take(self, index: np.ndarray) -> SubjectHistories:
        return SubjectHistories(
            ids=np.arange(index.size),
            group=self.group[index],
            trt=self.trt[index],
            base_cd4=self.base_cd4[index],
            base_vl=self.base_vl[index],
            last_cd4=self.last_cd4[index],
            last_vl=self.last_vl[index],
            t_art=self.t_art[index],
            end=self.end[index],
            visits=self.visits,
            outcome=self.outcome[index],
        )


def subject_histories(
    adsl: pd.DataFrame, adlb: pd.DataFrame, adtte: pd.DataFrame, paramcd: str, week: int
) -> SubjectHistories:
    """Arrays for :func:`person_visits` from ADSL, ADLB (CD4, VLLOG, ``paramcd``) and ADTTE ARTINIT.

    A value drawn on the day ART starts counts as off ART, as ADLB's ONART records it.
    """
    require_columns(adsl, ["USUBJID", "ARM"], "adsl")
    require_columns(adlb, ["USUBJID", "PARAMCD", "AVISITN", "AVAL", "CHG", "ONART"], "adlb")
    require_columns(adtte, ["USUBJID", "PARAMCD", "AVAL", "CNSR"], "adtte")
    ids = adsl["USUBJID"].to_numpy()
    art = adtte[adtte["PARAMCD"] == "ARTINIT"].drop_duplicates("USUBJID").set_index("USUBJID")
    missing = sorted(set(ids) - set(art.index))
    if missing:
        raise AnalysisInputError(
            f"adtte: PARAMCD ARTINIT, subject {missing[0]}: rule: every ADSL subject needs one"
        )
    lb = adlb[adlb["USUBJID"].isin(ids)]
    visits = np.array(sorted(int(v) for v in lb["AVISITN"].unique() if 0 < v <= week))
    if visits.size == 0 or visits[-1] != week:
        raise AnalysisInputError(f"adlb: column AVISITN: rule: a visit at week {week} is needed")
    off = lb[lb["ONART"] == "N"]
    grid = np.concatenate([[0], visits])
    markers = {}
    for code in ("CD4", "VLLOG"):
        rows = off[off["PARAMCD"] == code]
        if rows.empty:
            raise AnalysisInputError(f"adlb: PARAMCD {code}: rule: needed for the IPCW model")
        wide = rows.pivot_table(index="USUBJID", columns="AVISITN", values="AVAL", aggfunc="first")
        wide = wide.reindex(index=ids, columns=grid)
        if wide[0].isna().any():
            subject = wide.index[wide[0].isna().to_numpy()][0]
            raise AnalysisInputError(
                f"adlb: subject {subject}, PARAMCD {code}: rule: a baseline value (AVISITN 0) is "
                "needed for the IPCW model"
            )
        # Last value carried forward: the physician deciding at a visit knows the latest count.
        markers[code] = wide.ffill(axis=1).to_numpy(dtype=float)
    a = art.loc[ids]
    event = a["CNSR"].to_numpy() == 0
    aval = a["AVAL"].to_numpy(dtype=float)
    out_rows = off[(off["PARAMCD"] == paramcd) & (off["AVISITN"] == week)]
    outcome = out_rows.drop_duplicates("USUBJID").set_index("USUBJID")["CHG"].reindex(ids)
    return SubjectHistories(
        ids=ids,
        group=adsl["ARM"].to_numpy(),
        trt=(adsl["ARM"].to_numpy() == ARMS[0]).astype(float),
        base_cd4=markers["CD4"][:, 0],
        base_vl=markers["VLLOG"][:, 0],
        last_cd4=markers["CD4"][:, :-1],
        last_vl=markers["VLLOG"][:, :-1],
        t_art=np.where(event, aval, np.inf),
        end=np.where(event, np.inf, aval),
        visits=visits,
        outcome=outcome.to_numpy(dtype=float),
    )


def person_visits(h: SubjectHistories) -> pd.DataFrame:
    """One row per subject and visit interval (v_{k-1}, v_k] while off ART and under follow-up.

    Columns: subject (row of ``h``), visit (v_k), censored (ART started in [v_{k-1}, v_k), so the
    v_k value would be on ART), trt, base_cd4, base_vl, last_cd4, last_vl, cd4_below (hundreds
    of cells below :data:`GUIDELINE_CD4`, 0 above), vl_above (log10 above :data:`GUIDELINE_VL`),
    time, time2 (CD4 in hundreds, time in years). A subject leaves after the interval in which
    ART starts, or when follow-up ends before the next visit.
    """
    v = h.visits[None, :]
    previous = np.concatenate([[0], h.visits[:-1]])[None, :]
    at_risk = (h.end[:, None] >= v) & (h.t_art[:, None] >= previous)
    subject, k = np.nonzero(at_risk)
    visit = h.visits[k].astype(float)
    return pd.DataFrame(
        {
            "subject": subject,
            "visit": visit,
            "censored": (h.t_art[subject] < visit).astype(int),
            "trt": h.trt[subject],
            "base_cd4": h.base_cd4[subject] / 100.0,
            "base_vl": h.base_vl[subject],
            "last_cd4": h.last_cd4[subject, k] / 100.0,
            "last_vl": h.last_vl[subject, k],
            "cd4_below": np.maximum(GUIDELINE_CD4 - h.last_cd4[subject, k], 0.0) / 100.0,
            "vl_above": np.maximum(h.last_vl[subject, k] - GUIDELINE_VL, 0.0),
            "time": visit / 52.0,
            "time2": (visit / 52.0) ** 2,
        }
    )


def _matrix(pv: pd.DataFrame, terms: Sequence[str]) -> np.ndarray:
    return np.column_stack([np.ones(len(pv)), pv[list(terms)].to_numpy(dtype=float)])


def stabilised_weights(
    pv: pd.DataFrame,
    numerator: Sequence[str] = NUMERATOR_TERMS,
    denominator: Sequence[str] = DENOMINATOR_TERMS,
    *,
    subject: str = "subject",
    freq: np.ndarray | None = None,
) -> pd.Series:
    """Stabilised IPC weight of every subject, from pooled logistic models of ``censored``.

    SW_i = prod over the subject's uncensored rows of P(uncensored | numerator terms) /
    P(uncensored | denominator terms). A censored row carries no outcome and no factor. Returns
    one weight per value of the ``subject`` column (1 for a subject with no uncensored row).
    ``freq`` (one count per row) fits the models as if each row appeared that many times.
    """
    codes, uniques = pd.factorize(pv[subject])
    log_ratio = _log_weights(
        pv["censored"].to_numpy(dtype=float),
        _matrix(pv, numerator),
        _matrix(pv, denominator),
        codes,
        uniques.size,
        freq,
        (list(numerator), list(denominator)),
    )
    return pd.Series(np.exp(log_ratio), index=pd.Index(uniques, name=subject), name="weight")


def _log_weights(
    y: np.ndarray,
    x_num: np.ndarray,
    x_den: np.ndarray,
    codes: np.ndarray,
    n_subjects: int,
    freq: np.ndarray | None,
    names: tuple[list[str], list[str]],
) -> np.ndarray:
    """Log stabilised weight per subject (``codes`` maps rows to subjects 0..n_subjects-1)."""
    log_ratio = np.zeros(y.size)
    for sign, x, terms in ((1.0, x_num, names[0]), (-1.0, x_den, names[1])):
        fit = logistic_fit(x, y, freq=freq)
        if not fit.converged:
            raise AnalysisInputError(
                f"IPCW censoring model with terms {terms}: rule: the logistic fit must "
                "converge (too few ART starts, or a term that separates them)"
            )
        log_ratio += sign * np.log1p(-fit.predict(x))
    kept = y == 0
    return np.bincount(codes[kept], weights=log_ratio[kept], minlength=n_subjects)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted median: the first value whose cumulative weight passes half; if it lands exactly
    on half, the mean of that value and the next. Equal weights give the ordinary median."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if v.size == 0 or v.shape != w.shape or np.any(w < 0) or w.sum() <= 0:
        raise AnalysisInputError("weighted_median: rule: values and non-negative weights, sum > 0")
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    i = int(np.flatnonzero(cum >= 0.5 - 1e-12)[0])
    if abs(cum[i] - 0.5) <= 1e-12 and i + 1 < v.size:
        return float((v[i] + v[i + 1]) / 2)
    return float(v[i])


@dataclass(frozen=True)
class HypotheticalChangeResult:
    """IPCW median change at ``week`` by arm, the difference, bootstrap CIs and the weights."""

    paramcd: str
    week: int
    table: pd.DataFrame
    """Columns: group, n_randomized, n_analysed (off ART with a value), median, ci_low, ci_high,
    unweighted_median, weighted_mean, weight_min, weight_max, weight_mean."""
    difference: float
    diff_ci: tuple[float, float]
    resamples: int
    failed_resamples: int
    estimand: Estimand


@dataclass(frozen=True)
class _CensoringDesign:
    """The person-visit rows of some histories as the weight models' matrices, built once: a
    bootstrap resample only changes how often each subject's rows count."""

    censored: np.ndarray
    x_num: np.ndarray
    x_den: np.ndarray
    subject: np.ndarray
    """Row -> subject (row of the histories)."""
    n_subjects: int

    @classmethod
    def of(cls, h: SubjectHistories) -> _CensoringDesign:
        pv = person_visits(h)
        return cls(
            censored=pv["censored"].to_numpy(dtype=float),
            x_num=_matrix(pv, NUMERATOR_TERMS),
            x_den=_matrix(pv, DENOMINATOR_TERMS),
            subject=pv["subject"].to_numpy(),
            n_subjects=h.ids.size,
        )

    def weights(self, counts: np.ndarray | None = None) -> np.ndarray:
        """Stabilised weight of every subject, the models fitted with each subject counted
        ``counts`` times (all once if None)."""
        freq = None if counts is None else counts[self.subject].astype(float)
        names = (list(NUMERATOR_TERMS), list(DENOMINATOR_TERMS))
        log_w = _log_weights(
            self.censored, self.x_num, self.x_den, self.subject, self.n_subjects, freq, names
        )
        return np.exp(log_w)


def _reached(h: SubjectHistories) -> np.ndarray:
    """Subjects off ART and followed at the last visit, with a value there."""
    week = float(h.visits[-1])
    return (h.t_art >= week) & (h.end >= week) & np.isfinite(h.outcome)


def _ipcw_medians(
    h: SubjectHistories, design: _CensoringDesign, counts: np.ndarray | None = None
) -> tuple[dict[str, float], np.ndarray]:
    """Weighted median change by arm among the subjects :func:`_reached`, each counted
    ``counts`` times (a bootstrap resample; all once if None), and the subjects' weights."""
    weights = design.weights(counts)
    mass = weights if counts is None else weights * counts
    reached = _reached(h) & (mass > 0)
    medians = {}
    for arm in ARMS:
        sel = reached & (h.group == arm)
        if not sel.any():
            raise AnalysisInputError(
                f"adlb: visit {float(h.visits[-1]):g}: rule: arm {arm} needs patients off ART "
                "with a value"
            )
        medians[arm] = weighted_median(h.outcome[sel], mass[sel])
    return medians, weights


def ipcw_change(
    adsl: pd.DataFrame,
    adlb: pd.DataFrame,
    adtte: pd.DataFrame,
    paramcd: str,
    week: int,
    *,
    resamples: int,
    seed: int,
    alpha: float = 0.05,
) -> HypotheticalChangeResult:
    """IPCW median change from baseline at ``week`` by arm (IL-2 minus Control), bootstrap CIs.

    The bootstrap resamples patients within each arm and refits both censoring models every
    time (a resample counts each patient's rows as often as the patient is drawn), so the CI
    carries the uncertainty of the weights. A resample in which a model does not converge is
    counted in ``failed_resamples`` and left out.
    """
    histories = subject_histories(adsl, adlb, adtte, paramcd, week)
    design = _CensoringDesign.of(histories)
    medians, weights = _ipcw_medians(histories, design)
    rng = np.random.default_rng(seed)
    strata = [np.flatnonzero(histories.group == arm) for arm in ARMS]
    n = histories.ids.size
    reps: list[tuple[float, float]] = []
    failed = 0
    for _ in range(resamples):
        index = np.concatenate([g[rng.integers(0, g.size, size=g.size)] for g in strata])
        try:
            boot, _ = _ipcw_medians(histories, design, np.bincount(index, minlength=n))
        except AnalysisInputError:
            failed += 1
            continue
        reps.append((boot[ARMS[0]], boot[ARMS[1]]))
    arr = np.asarray(reps, dtype=float).reshape(-1, 2)
    q = [alpha / 2, 1 - alpha / 2]

    def ci(x: np.ndarray) -> tuple[float, float]:
        if x.size == 0:
            return float("nan"), float("nan")
        low, high = np.quantile(x, q)
        return float(low), float(high)

    reached = _reached(histories)
    rows = []
    for i, arm in enumerate(ARMS):
        sel = reached & (histories.group == arm)
        w, chg = weights[sel], histories.outcome[sel]
        low, high = ci(arr[:, i])
        rows.append(
            {
                "group": arm,
                "n_randomized": int((adsl["ARM"] == arm).sum()),
                "n_analysed": int(sel.sum()),
                "median": medians[arm],
                "ci_low": low,
                "ci_high": high,
                "unweighted_median": float(np.median(chg)),
                "weighted_mean": float(np.average(chg, weights=w)),
                "weight_min": float(w.min()),
                "weight_max": float(w.max()),
                "weight_mean": float(w.mean()),
            }
        )
    estimand = Estimand(
        population="all randomized, by arm (the off-ART patients at week "
        f"{week} reweighted to stand for everyone)",
        variable=f"change from baseline in {paramcd} at week {week}",
        intercurrent_event_strategy="ART initiation: hypothetical (as if no one had started "
        "ART), by inverse probability of censoring weights for ART start",
        summary_measure="weighted median change by arm and its difference (IL-2 minus Control), "
        f"percentile bootstrap {int(100 * (1 - alpha))}% CI",
    )
    return HypotheticalChangeResult(
        paramcd=paramcd,
        week=int(week),
        table=pd.DataFrame(rows),
        difference=medians[ARMS[0]] - medians[ARMS[1]],
        diff_ci=ci(arr[:, 0] - arr[:, 1]),
        resamples=int(resamples),
        failed_resamples=failed,
        estimand=estimand,
    )


def median_difference_ci(
    x: np.ndarray, y: np.ndarray, *, resamples: int, seed: int, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Difference in medians (x minus y) with a percentile bootstrap CI, each sample resampled
    on its own (the readings without weights, shown beside the IPCW one on the same scale)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size == 0 or y.size == 0:
        raise AnalysisInputError("median_difference_ci: rule: both samples need a value")
    rng = np.random.default_rng(seed)
    bx = np.median(x[rng.integers(0, x.size, size=(resamples, x.size))], axis=1)
    by = np.median(y[rng.integers(0, y.size, size=(resamples, y.size))], axis=1)
    low, high = np.quantile(bx - by, [alpha / 2, 1 - alpha / 2])
    return float(np.median(x) - np.median(y)), float(low), float(high)


@dataclass(frozen=True)
class MixedModelResult:
    """Mean change at the last visit by arm from a mixed model of the pre-ART values."""

    paramcd: str
    week: int
    means: dict[str, float]
    difference: float
    diff_ci: tuple[float, float]
    diff_p: float
    n_patients: int
    n_values: int
    converged: bool
    estimand: Estimand


def mixed_model_change(
    adsl: pd.DataFrame, adlb: pd.DataFrame, paramcd: str, week: int, *, alpha: float = 0.05
) -> MixedModelResult:
    """Mixed model for the repeated off-ART changes up to ``week`` (statsmodels MixedLM, REML).

    Fixed effects: one mean per arm and visit (saturated). Random effects: an intercept and a
    slope in time per patient (a structured stand-in for MMRM's unstructured covariance, which
    would need a parameter per visit pair). Values after ART start are missing; under missing
    at random given the earlier values, the arm means at ``week`` estimate the change had no one
    started ART: a hypothetical estimand of the mean, beside the IPCW median.
    """
    from scipy import stats
    from statsmodels.regression.mixed_linear_model import MixedLM

    require_columns(adsl, ["USUBJID", "ARM"], "adsl")
    require_columns(adlb, ["USUBJID", "PARAMCD", "AVISITN", "CHG", "ONART"], "adlb")
    rows = adlb[
        (adlb["PARAMCD"] == paramcd)
        & (adlb["ONART"] == "N")
        & (adlb["AVISITN"] > 0)
        & (adlb["AVISITN"] <= week)
        & adlb["USUBJID"].isin(adsl["USUBJID"])
    ].dropna(subset=["CHG"])
    data = rows[["USUBJID", "AVISITN", "CHG"]].merge(adsl[["USUBJID", "ARM"]], on="USUBJID")
    visits = sorted(data["AVISITN"].unique())
    if not visits or visits[-1] != week:
        raise AnalysisInputError(f"adlb: PARAMCD {paramcd}: rule: off-ART values at week {week}")
    # Saturated arm x visit means: one indicator column per (arm, visit) cell, no intercept.
    cells = [(arm, v) for arm in ARMS for v in visits]
    exog = np.column_stack(
        [((data["ARM"] == arm) & (data["AVISITN"] == v)).to_numpy(float) for arm, v in cells]
    )
    keep = exog.sum(axis=0) > 0
    if not keep[cells.index((ARMS[0], week))] or not keep[cells.index((ARMS[1], week))]:
        raise AnalysisInputError(f"adlb: visit {week}: rule: both arms need off-ART values")
    exog = exog[:, keep]
    names = [c for c, k in zip(cells, keep, strict=True) if k]
    time = data["AVISITN"].to_numpy(float) / 52.0
    exog_re = np.column_stack([np.ones(len(data)), time])
    model = MixedLM(data["CHG"].to_numpy(float), exog, groups=data["USUBJID"], exog_re=exog_re)
    import warnings

    with warnings.catch_warnings():
        # statsmodels warns about boundary fits; convergence is reported in the result instead.
        warnings.simplefilter("ignore")
        fit = model.fit(reml=True, method=["lbfgs", "powell"])
    i1, i0 = names.index((ARMS[0], week)), names.index((ARMS[1], week))
    params = np.asarray(fit.fe_params)
    cov = np.asarray(fit.cov_params())[: len(names), : len(names)]
    diff = float(params[i1] - params[i0])
    se = float(np.sqrt(cov[i1, i1] + cov[i0, i0] - 2 * cov[i1, i0]))
    z = float(stats.norm.ppf(1 - alpha / 2))
    estimand = Estimand(
        population="all randomized with at least one off-ART value after baseline",
        variable=f"change from baseline in {paramcd} at week {week}",
        intercurrent_event_strategy="ART initiation: hypothetical (values after ART missing, "
        "missing at random given the earlier values), by a mixed model",
        summary_measure="model-based mean change by arm and difference (IL-2 minus Control), "
        f"Wald {int(100 * (1 - alpha))}% CI",
    )
    return MixedModelResult(
        paramcd=paramcd,
        week=int(week),
        means={ARMS[0]: float(params[i1]), ARMS[1]: float(params[i0])},
        difference=diff,
        diff_ci=(diff - z * se, diff + z * se),
        diff_p=float(2 * stats.norm.sf(abs(diff / se))),
        n_patients=int(data["USUBJID"].nunique()),
        n_values=len(data),
        converged=bool(fit.converged),
        estimand=estimand,
    )
