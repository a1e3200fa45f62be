"""External validation: real randomized trials mapped to ADaM and compared with published results.

The trials ship inside lifelines, so the check needs no network. Each trial is mapped to the
same ADSL/ADTTE shape the book uses and analysed through the very same ``anrs119.analysis``
calls; the published reference values live in ``data/validation/references.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from anrs119.analysis import survival
from anrs119.paths import VALIDATION_DIR

REFERENCES_PATH: Path = VALIDATION_DIR / "references.csv"
REFERENCE_COLUMNS: tuple[str, ...] = (
    "trial",
    "quantity",
    "arm",
    "value",
    "ci_low",
    "ci_high",
    "tolerance",
    "convention",
    "source_key",
    "source_detail",
)

# Time units of the source data, converted to weeks so ADTTE.AVAL is in weeks as in the book.
WEEKS_PER: dict[str, float] = {"weeks": 1.0, "days": 1 / 7, "months": 365.25 / 12 / 7}


class ValidationError(ValueError):
    """A reference file or trial mapping that breaks a rule (message names file, column, row)."""


@dataclass(frozen=True)
class TrialAdam:
    """A real trial in the book's ADaM shape, with the facts needed to analyse it."""

    trial: str
    title: str
    adsl: pd.DataFrame
    adtte: pd.DataFrame
    paramcd: str
    arms: tuple[str, str]
    """(treatment, reference): hazard ratios are treatment vs reference."""
    source_unit: str
    covariates: tuple[str, ...] = field(default=())
    """Numeric ADSL columns used by the adjusted Cox model of the reference, if any."""
    note: str = ""

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(adsl, adtte), in the order the analysis helpers take them."""
        return self.adsl, self.adtte


def to_adam(
    data: pd.DataFrame,
    *,
    study: str,
    time_col: str,
    event_col: str,
    arm_col: str,
    arm_labels: Mapping[object, str],
    paramcd: str,
    time_unit: str = "weeks",
    covariates: Mapping[str, Callable[[pd.DataFrame], pd.Series]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map a one-row-per-patient trial table to ADSL (ARM) and ADTTE (AVAL weeks, CNSR).

    ``event_col`` is 1/True for an event; ADTTE.CNSR = 0 then, as in CDISC. ``arm_labels`` maps
    every source arm code to its label; an unmapped code is an error, never silently dropped.
    ``covariates`` maps an ADSL column name to a function of the source table.
    """
    where = f"{study} source table"
    for col in (time_col, event_col, arm_col):
        if col not in data.columns:
            raise ValidationError(f"{where}: missing column {col!r}; rule: needed for ADaM")
    unknown = sorted(set(data[arm_col]) - set(arm_labels), key=str)
    if unknown:
        raise ValidationError(
            f"{where}: column {arm_col!r} has codes {unknown} not in arm_labels; rule: map all"
        )
    if time_unit not in WEEKS_PER:
        raise ValidationError(f"time_unit={time_unit!r}: rule: one of {sorted(WEEKS_PER)}")
    events = data[event_col].astype(int).to_numpy()
    if not set(np.unique(events)) <= {0, 1}:
        raise ValidationError(f"{where}: column {event_col!r}: rule: event indicator is 0/1")
    usubjid = [f"{study}-{i + 1:04d}" for i in range(len(data))]
    adsl = pd.DataFrame(
        {
            "USUBJID": usubjid,
            "STUDYID": study,
            "ARM": [arm_labels[c] for c in data[arm_col]],
        }
    )
    for name, fn in (covariates or {}).items():
        adsl[name] = np.asarray(fn(data), dtype=float)
    adtte = pd.DataFrame(
        {
            "USUBJID": usubjid,
            "STUDYID": study,
            "PARAMCD": paramcd,
            "AVAL": data[time_col].to_numpy(dtype=float) * WEEKS_PER[time_unit],
            "CNSR": 1 - events,
        }
    )
    return adsl, adtte


def freireich_leukemia() -> TrialAdam:
    """Freireich et al. (1963): 6-MP vs placebo, remission duration in weeks (n = 21 + 21).

    lifelines' ``load_leukemia`` is Kleinbaum & Klein's "anderson" file: the Freireich
    remission times plus sex and log WBC. Its ``Rx`` is 0 for 6-MP and 1 for placebo (the
    arm with censored times 6+, 9+, 10+, ... is the 6-MP arm; the placebo arm has no
    censoring), so the coding is checked by the tests against the published KM table.
    """
    from lifelines.datasets import load_leukemia

    raw = load_leukemia()
    adsl, adtte = to_adam(
        raw,
        study="FREIREICH",
        time_col="t",
        event_col="status",
        arm_col="Rx",
        arm_labels={0: "6-MP", 1: "Placebo"},
        paramcd="REMISS",
    )
    return TrialAdam(
        trial="freireich",
        title="Freireich et al. 1963: 6-mercaptopurine vs placebo, time to relapse",
        adsl=adsl,
        adtte=adtte,
        paramcd="REMISS",
        arms=("Placebo", "6-MP"),
        source_unit="weeks",
        note="Pairs matched on remission status were randomized; analyses ignore the pairing.",
    )


def glioma_grade3() -> TrialAdam:
    """Grana et al. (2002): radioimmunotherapy (RIT) vs control, grade III glioma (n = 17).

    Not randomized: a pilot study with a concurrent control group (coin's ``glioma`` help page).
    It is kept as a third, textbook-documented check of the log-rank helper, not as a trial.
    """
    from lifelines.datasets import load_g3

    raw = load_g3()
    adsl, adtte = to_adam(
        raw,
        study="GLIOMA3",
        time_col="time",
        event_col="event",
        arm_col="group",
        arm_labels={"RIT": "RIT", "Control": "Control"},
        paramcd="DEATH",
        time_unit="months",
    )
    return TrialAdam(
        trial="glioma_g3",
        title="Grana et al. 2002 (non-randomized pilot): radioimmunotherapy, grade III glioma",
        adsl=adsl,
        adtte=adtte,
        paramcd="DEATH",
        arms=("RIT", "Control"),
        source_unit="months",
        note="Non-randomized pilot study; the grade III stratum only (17 of 37 patients).",
    )


GBSG2_COVARIATES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "AGE": lambda d: d["age"],
    "MENOPOST": lambda d: (d["menostat"] == "Post").astype(float),
    "TSIZE": lambda d: d["tsize"],
    # Two indicators span the same space as R's polynomial contrasts for the ordered factor,
    # so the hormonal-therapy coefficient is identical under either coding.
    "TGRADE2": lambda d: (d["tgrade"] == "II").astype(float),
    "TGRADE3": lambda d: (d["tgrade"] == "III").astype(float),
    "PNODES": lambda d: d["pnodes"],
    "PROGREC": lambda d: d["progrec"],
    "ESTREC": lambda d: d["estrec"],
}


def gbsg2() -> TrialAdam:
    """German Breast Cancer Study Group 2 (Schumacher et al. 1994): hormonal therapy yes/no.

    686 of the 720 recruited node-positive patients (those with complete prognostic data);
    the trial report counts 473 randomized patients, so hormonal therapy here is only partly
    randomized. Recurrence-free survival in days, converted to weeks.
    """
    from lifelines.datasets import load_gbsg2

    raw = load_gbsg2()
    adsl, adtte = to_adam(
        raw,
        study="GBSG2",
        time_col="time",
        event_col="cens",
        arm_col="horTh",
        arm_labels={"yes": "Hormonal therapy", "no": "No hormonal therapy"},
        paramcd="RFS",
        time_unit="days",
        covariates=GBSG2_COVARIATES,
    )
    return TrialAdam(
        trial="gbsg2",
        title="GBSG2 (Schumacher et al. 1994): hormonal therapy, recurrence-free survival",
        adsl=adsl,
        adtte=adtte,
        paramcd="RFS",
        arms=("Hormonal therapy", "No hormonal therapy"),
        source_unit="days",
        covariates=tuple(GBSG2_COVARIATES),
        note="Complete cases of all recruited patients; only part of them were randomized.",
    )


def survival_test1() -> TrialAdam:
    """R survival's smallest stratified example (help page ``coxph``): 7 subjects, 2 strata.

    Not a trial: the data set with which R documents ``coxph(Surv(time, status) ~ x +
    strata(sex), test1)``; ``x`` is a numeric covariate (0, 1, 2), so it lives in ADSL as X
    and the arm column is a single placeholder group.
    """
    time = [4, 3, 1, 1, 2, 2, 3]
    status = [1, 1, 1, 0, 1, 1, 0]
    usubjid = [f"TEST1-{i + 1:04d}" for i in range(len(time))]
    adsl = pd.DataFrame(
        {
            "USUBJID": usubjid,
            "STUDYID": "TEST1",
            "ARM": "all",
            "X": [0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 0.0],
            "SEX": ["0", "0", "0", "0", "1", "1", "1"],
        }
    )
    adtte = pd.DataFrame(
        {
            "USUBJID": usubjid,
            "STUDYID": "TEST1",
            "PARAMCD": "EVENT",
            "AVAL": np.asarray(time, dtype=float),
            "CNSR": 1 - np.asarray(status),
        }
    )
    return TrialAdam(
        trial="survival_test1",
        title="R survival, help page coxph: test1, stratified by sex",
        adsl=adsl,
        adtte=adtte,
        paramcd="EVENT",
        arms=("all", "all"),
        source_unit="weeks",
        covariates=("X",),
        note="Toy data documenting R's stratified Cox model; not a trial.",
    )


TRIALS: dict[str, Callable[[], TrialAdam]] = {
    "freireich": freireich_leukemia,
    "gbsg2": gbsg2,
    "glioma_g3": glioma_grade3,
    "survival_test1": survival_test1,
}
"""The two randomized trials first; the non-randomized glioma pilot, then R's toy example."""


def load_references(path: Path = REFERENCES_PATH) -> pd.DataFrame:
    """Published reference values, one row per (trial, quantity, arm), validated."""
    refs = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in REFERENCE_COLUMNS if c not in refs.columns]
    if missing:
        raise ValidationError(f"{path.name}: missing column(s) {missing}")
    for col in ("value", "ci_low", "ci_high", "tolerance"):
        refs[col] = pd.to_numeric(refs[col].replace("", np.nan), errors="raise")
    for i, r in refs.iterrows():
        row = i + 2  # header is line 1
        if r["trial"] not in TRIALS:
            raise ValidationError(f"{path.name}: row {row}, column trial: unknown {r['trial']!r}")
        if not (r["tolerance"] > 0):
            raise ValidationError(f"{path.name}: row {row}, column tolerance: rule: > 0")
        if not str(r["source_key"]).strip() or not str(r["convention"]).strip():
            raise ValidationError(
                f"{path.name}: row {row}: rule: every value needs a source_key and convention"
            )
    dup = refs.duplicated(["trial", "quantity", "arm"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 2
        raise ValidationError(f"{path.name}: row {row}: rule: (trial, quantity, arm) is unique")
    return refs


def _km_at(trial: TrialAdam, quantity: str, arm: str) -> tuple[float, float, float]:
    # quantity "km_survival_<transform>_at_<t>", e.g. km_survival_loglog_at_6
    _, _, transform, _, t = quantity.split("_")
    ci = {"loglog": "log-log", "log": "log", "plain": "plain"}[transform]
    km = survival.kaplan_meier(trial.adsl, trial.adtte, trial.paramcd, ci_transform=ci)
    return km.survival_at(arm, float(t))


def _median(trial: TrialAdam, quantity: str, arm: str) -> tuple[float, float, float]:
    # quantity "km_median_<transform>"; times reported back in the source unit
    transform = quantity.split("_")[2]
    ci = {"loglog": "log-log", "log": "log", "plain": "plain"}[transform]
    km = survival.kaplan_meier(trial.adsl, trial.adtte, trial.paramcd, ci_transform=ci)
    est, lo, hi = km.median(arm)
    f = 1 / WEEKS_PER[trial.source_unit]
    return est * f, lo * f, hi * f


def _logrank(trial: TrialAdam, quantity: str, arm: str) -> tuple[float, float, float]:
    lr = survival.logrank(trial.adsl, trial.adtte, trial.paramcd, order=trial.arms)
    nan = float("nan")
    if quantity == "logrank_chisq":
        return lr.statistic, nan, nan
    if quantity == "logrank_p":
        return lr.p_value, nan, nan
    col = {"logrank_observed": "observed", "logrank_expected": "expected"}[quantity]
    return float(lr.table.set_index("group").loc[arm, col]), nan, nan


def _cox(trial: TrialAdam, quantity: str, arm: str) -> tuple[float, float, float]:
    # quantity "cox_<hr|coef|se|p>_<efron|breslow>[_adjusted]"; arm "<treatment> vs <reference>"
    parts = quantity.split("_")
    what, ties = parts[1], parts[2]
    adjusted = len(parts) > 3 and parts[3] == "adjusted"
    treatment, reference = (s.strip() for s in arm.split(" vs "))
    res = survival.cox_hazard_ratio(
        trial.adsl,
        trial.adtte,
        trial.paramcd,
        treatment=treatment,
        reference=reference,
        ties=ties,  # type: ignore[arg-type]
        covariates=trial.covariates if adjusted else (),
    )
    nan = float("nan")
    return {
        "hr": (res.hazard_ratio, res.ci_low, res.ci_high),
        "coef": (res.coef, nan, nan),
        "se": (res.se, nan, nan),
        "p": (res.p_value, nan, nan),
    }[what]


def _cox_covariate(trial: TrialAdam, quantity: str, arm: str) -> tuple[float, float, float]:
    # quantity "coxcov_<hr|coef|se|p>_<ties>"; arm "<covariate> | strata <ADSL column>"
    _, what, ties = quantity.split("_")
    covariate, _, stratum = (s.strip() for s in arm.partition("| strata"))
    m = trial.adsl.merge(trial.adtte, on="USUBJID")
    coef, se = survival.cox_fit(
        m["AVAL"].to_numpy(),
        (m["CNSR"] == 0).to_numpy(dtype=int),
        m[covariate].to_numpy(dtype=float),
        strata=m[stratum].to_numpy() if stratum else None,
        ties=ties,  # type: ignore[arg-type]
    )
    z = float(stats.norm.ppf(0.975))
    nan = float("nan")
    return {
        "hr": (math.exp(coef), math.exp(coef - z * se), math.exp(coef + z * se)),
        "coef": (coef, nan, nan),
        "se": (se, nan, nan),
        "p": (float(2 * stats.norm.sf(abs(coef / se))), nan, nan),
    }[what]


def _counts(trial: TrialAdam, quantity: str, arm: str) -> tuple[float, float, float]:
    m = trial.adsl[["USUBJID", "ARM"]].merge(trial.adtte, on="USUBJID")
    if arm:
        m = m[m["ARM"] == arm]
    nan = float("nan")
    if quantity == "n":
        return float(len(m)), nan, nan
    return float((m["CNSR"] == 0).sum()), nan, nan


def compute(trial: TrialAdam, quantity: str, arm: str) -> tuple[float, float, float]:
    """The package's value (estimate, ci_low, ci_high) for one reference row."""
    if quantity.startswith("km_survival_"):
        return _km_at(trial, quantity, arm)
    if quantity.startswith("km_median_"):
        return _median(trial, quantity, arm)
    if quantity.startswith("logrank_"):
        return _logrank(trial, quantity, arm)
    if quantity.startswith("cox_"):
        return _cox(trial, quantity, arm)
    if quantity.startswith("coxcov_"):
        return _cox_covariate(trial, quantity, arm)
    if quantity in ("n", "n_events"):
        return _counts(trial, quantity, arm)
    raise ValidationError(f"quantity {quantity!r}: rule: no helper computes it")


def _close(ref: float, got: float, tol: float) -> bool:
    if math.isnan(ref):
        return True  # no published bound to compare
    if math.isinf(ref) or math.isnan(got):
        return math.isnan(got) and math.isnan(ref)
    return abs(ref - got) <= tol


def compare(refs: pd.DataFrame | None = None, trials: Sequence[str] | None = None) -> pd.DataFrame:
    """Reference vs reproduced for every row; ``ok`` is True when estimate and CI agree."""
    refs = load_references() if refs is None else refs
    if trials is not None:
        refs = refs[refs["trial"].isin(trials)]
    cache: dict[str, TrialAdam] = {}
    rows = []
    for _, r in refs.iterrows():
        trial = cache.setdefault(r["trial"], TRIALS[r["trial"]]())
        est, lo, hi = compute(trial, r["quantity"], r["arm"])
        tol = float(r["tolerance"])
        ok = (
            _close(r["value"], est, tol)
            and _close(r["ci_low"], lo, tol)
            and _close(r["ci_high"], hi, tol)
        )
        rows.append(
            {
                "trial": r["trial"],
                "quantity": r["quantity"],
                "arm": r["arm"],
                "reference": r["value"],
                "reproduced": est,
                "ref_ci_low": r["ci_low"],
                "ref_ci_high": r["ci_high"],
                "ci_low": lo,
                "ci_high": hi,
                "difference": est - r["value"],
                "tolerance": tol,
                "ok": bool(ok),
                "convention": r["convention"],
                "source_key": r["source_key"],
            }
        )
    return pd.DataFrame(rows)


def _fmt(x: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return ""
    return f"{x:.6g}"


_QUANTITY_ORDER = ("n", "n_events", "km_survival", "km_median", "logrank", "coxcov", "cox")


def _order(row: pd.Series) -> tuple:
    """Trials as in TRIALS, then counts, KM (by arm, then time), log-rank, Cox."""
    q = str(row["quantity"])
    rank = next(i for i, p in enumerate(_QUANTITY_ORDER) if q.startswith(p))
    time = float(q.rsplit("_", 1)[1]) if q.startswith("km_survival") else 0.0
    return (list(TRIALS).index(row["trial"]), rank, str(row["arm"]), time, q)


def comparison_table(cmp: pd.DataFrame) -> pd.DataFrame:
    """Human-readable version of :func:`compare` for the appendix (strings, one row each)."""

    def with_ci(est: float, lo: float, hi: float) -> str:
        ci = f" ({_fmt(lo)} to {_fmt(hi)})" if not (math.isnan(lo) and math.isnan(hi)) else ""
        return f"{_fmt(est)}{ci}"

    cmp = cmp.iloc[sorted(range(len(cmp)), key=lambda i: _order(cmp.iloc[i]))]
    return pd.DataFrame(
        {
            "Trial": cmp["trial"].to_numpy(),
            "Quantity": cmp["quantity"].to_numpy(),
            "Arm": cmp["arm"].to_numpy(),
            "Published (95% CI)": [
                with_ci(r.reference, r.ref_ci_low, r.ref_ci_high) for r in cmp.itertuples()
            ],
            "Reproduced (95% CI)": [
                with_ci(r.reproduced, r.ci_low, r.ci_high) for r in cmp.itertuples()
            ],
            "Tolerance": [_fmt(t) for t in cmp["tolerance"]],
            "Agrees": ["yes" if ok else "NO" for ok in cmp["ok"]],
            "Convention": cmp["convention"].to_numpy(),
            "Source": cmp["source_key"].to_numpy(),
        }
    )


# --------------------------------------------------------------------------------------
# Cross-checks against an independent implementation (where R output is missing or rounded)
# --------------------------------------------------------------------------------------

CROSSCHECK_TOLERANCE: dict[str, float] = {"logrank": 1e-8, "median": 1e-9, "cox": 1e-6}
"""Two implementations of the same estimator on the same data agree to rounding error."""

GBSG2_STRATA = "TGRADE"
"""ADSL column of tumour grade (I, II, III), the stratum of the stratified GBSG2 example."""


def gbsg2_with_grade() -> TrialAdam:
    """GBSG2 with tumour grade in ADSL (column GBSG2_STRATA), for the stratified example."""
    from lifelines.datasets import load_gbsg2

    trial = gbsg2()
    grade = load_gbsg2()["tgrade"].astype(str).to_numpy()
    return TrialAdam(**{**trial.__dict__, "adsl": trial.adsl.assign(**{GBSG2_STRATA: grade})})


def cross_checks() -> pd.DataFrame:
    """GBSG2 log-rank, Kaplan-Meier medians and a stratified Cox model: package vs statsmodels.

    We found no published R output of the medians or of the stratified model for GBSG2, so
    the package (lifelines underneath) is compared with statsmodels' own implementation,
    which shares no code with it. The log-rank test also has an R reference (R survdiff
    output, 5 significant digits, in REFERENCES_PATH); it stays here as the full-precision
    check. Medians are in days, as the source data.
    """
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    trial = gbsg2_with_grade()
    m = trial.adsl.merge(trial.adtte, on="USUBJID")
    time, event = m["AVAL"].to_numpy(), (m["CNSR"] == 0).to_numpy(dtype=int)
    days = 1 / WEEKS_PER[trial.source_unit]
    rows = []

    def add(quantity: str, arm: str, package: float, other: float, kind: str, how: str) -> None:
        tol = CROSSCHECK_TOLERANCE[kind]
        ok = abs(package - other) <= tol * max(1.0, abs(other))
        rows.append(
            {
                "trial": trial.trial,
                "quantity": quantity,
                "arm": arm,
                "package": package,
                "independent": other,
                "implementation": how,
                "relative_tolerance": tol,
                "ok": bool(ok),
            }
        )

    lr = survival.logrank(trial.adsl, trial.adtte, trial.paramcd, order=trial.arms)
    chisq, p = survdiff(time, event, m["ARM"].to_numpy())
    add("logrank_chisq", "", lr.statistic, float(chisq), "logrank", "statsmodels survdiff")
    add("logrank_p", "", lr.p_value, float(p), "logrank", "statsmodels survdiff")
    km = survival.kaplan_meier(trial.adsl, trial.adtte, trial.paramcd)
    for arm in trial.arms:
        sel = (m["ARM"] == arm).to_numpy()
        other = SurvfuncRight(time[sel], event[sel]).quantile(0.5)
        add(
            "km_median",
            arm,
            km.median(arm)[0] * days,
            float(other) * days,
            "median",
            "statsmodels SurvfuncRight.quantile",
        )
    treatment, reference = trial.arms
    for ties in ("efron", "breslow"):
        res = survival.cox_hazard_ratio(
            trial.adsl,
            trial.adtte,
            trial.paramcd,
            treatment=treatment,
            reference=reference,
            ties=ties,
            strata=GBSG2_STRATA,
        )
        x = (m["ARM"] == treatment).to_numpy(dtype=float)[:, None]
        fit = PHReg(time, x, status=event, ties=ties, strata=m[GBSG2_STRATA].to_numpy()).fit()
        add(
            f"cox_hr_{ties}_strata",
            f"{treatment} vs {reference} | strata {GBSG2_STRATA}",
            res.hazard_ratio,
            float(np.exp(fit.params[0])),
            "cox",
            f"statsmodels PHReg(ties={ties!r}, strata=...)",
        )
    return pd.DataFrame(rows)


def cross_check_table(checks: pd.DataFrame) -> pd.DataFrame:
    """Human-readable version of :func:`cross_checks` for the appendix."""
    return pd.DataFrame(
        {
            "Trial": checks["trial"].to_numpy(),
            "Quantity": checks["quantity"].to_numpy(),
            "Arm": checks["arm"].to_numpy(),
            "Package": [_fmt(v) for v in checks["package"]],
            "Independent": [_fmt(v) for v in checks["independent"]],
            "Implementation": checks["implementation"].to_numpy(),
            "Agrees": ["yes" if ok else "NO" for ok in checks["ok"]],
        }
    )
