"""The model confronted with the published subgroup result: the percentages of IL-2 and control
patients with a low viral load free of the end point at the subgroup's week (the *pair*).

Four questions, each answered from the reference table and posterior-predictive trials:

1. How probable is the published pair (IL-2 printed at or above its value *and* control at or
   below its value)? Under the prior predictive it is counted in the reference table; under a
   posterior predictive it is estimated from ``PER_DRAW`` trials per posterior draw. Given the
   parameters the two arms are independent groups of patients, so the chance of the pair is the
   product of each arm's chance, estimated per draw from its trials (unbiased, and far less noisy
   than counting the rare joint event).
2. Which claims carry what? Posteriors that leave out one group of claims at a time (the same
   method and acceptance, the group's columns dropped), their parameters, and the predictive
   percentiles of the claims they left out (a check that does not use those claims twice).
3. How much does the prior matter? Each alternative prior of ``prior_alternatives.csv``
   reweights the reference table (importance weights, the alternative's density over the
   prior's): the prior-predictive chance of the pair and the posterior under that prior.
4. Does a richer model need the pair less? Each model variant of :mod:`.extensions` (with its
   own reference table and priors) gets the same posterior method and the same checks.

``python -m anrs119 validate-extensions`` writes ``confrontation_pair.csv``,
``confrontation_posteriors.csv``, ``confrontation_claims.csv`` and ``confrontation_method.json``
in ``data/model/``. Deterministic: the same tables give the same bytes.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from anrs119.model.checks.batch import Posteriors, one_thread
from anrs119.model.checks.extensions import (
    BASE,
    VARIANTS,
    Variant,
    available,
    variant_base,
    variant_priors,
    variant_table,
)
from anrs119.model.checks.predictive import (
    CLUSTER_KEY,
    SUBGROUP_PAIR,
    check_rows,
    claim_refs,
    draw_clusters,
    joint_check,
    mc_se,
)
from anrs119.model.inference.priors import FREE_PARAMETERS, Prior, Priors
from anrs119.model.inference.reference import ReferenceTable
from anrs119.model.inference.rejection import Fit, Unbounded, to_sample
from anrs119.model.inference.sample import weighted_quantile
from anrs119.model.inference.statistics import PrintedStatistic, posterior_statistics
from anrs119.paths import MODEL_DIR
from anrs119.seeds import CONFRONTATION_SEED

PAIR_FILE: Path = MODEL_DIR / "confrontation_pair.csv"
POSTERIORS_FILE: Path = MODEL_DIR / "confrontation_posteriors.csv"
CLAIMS_FILE: Path = MODEL_DIR / "confrontation_claims.csv"
METHOD_FILE: Path = MODEL_DIR / "confrontation_method.json"
ALTERNATIVES_FILE: Path = MODEL_DIR / "prior_alternatives.csv"

GROUPS: dict[str, tuple[str, ...]] = {
    "primary": ("primary_w96_il2", "primary_w96_control"),
    "cd4_changes": ("cd4_change_w96_il2", "cd4_change_w96_control"),
    "vl_changes": ("vl_change_w96_il2", "vl_change_w96_control"),
    "lowvl_pair": SUBGROUP_PAIR,
    "deferral": ("lowvl_art_deferral",),
}
"""Claim groups left out one at a time (statistic ids of the posterior)."""


def group_labels() -> dict[str, str]:
    """Each claim group in words, its weeks read from the claims registry."""
    from anrs119.published import claim_value

    first = f"{claim_value('primary_timepoint_weeks'):g}"
    last = f"{claim_value('subgroup_timepoint_weeks'):g}"
    return {
        "primary": f"end point by week {first}",
        "cd4_changes": f"CD4 changes at week {first}",
        "vl_changes": f"viral-load changes at week {first}",
        "lowvl_pair": f"low-viral-load pair at week {last}",
        "deferral": "ART deferral",
    }


N_DRAWS: int = 2000
"""Posterior draws per posterior-predictive distribution."""
PER_DRAW: int = 5
"""Simulated trials per draw (the pair's chance is estimated per draw from them)."""
BOOTSTRAP: int = 100
"""Poisson-bootstrap replicates for the Monte Carlo errors of the left-out posteriors."""
EXTENSION_SIZE: int = 200_000
"""Trials in each model variant's reference table (the book's model: its first 200,000)."""
EXTENSION_ACCEPTED: int = 2_000
"""Trials kept for every variant's posterior (1% of its table; the book's 0.4% of a table five
times larger would keep 800, too few for 15 parameters)."""
REPORTED: tuple[float, ...] = (0.025, 0.5, 0.975)


# ---------------------------------------------------------------- the published pair


def pair_statistics() -> tuple[PrintedStatistic, PrintedStatistic]:
    by_id = {s.id: s for s in posterior_statistics()}
    return by_id[SUBGROUP_PAIR[0]], by_id[SUBGROUP_PAIR[1]]


def pair_events(il2: np.ndarray, control: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each printed IL-2 value is at or above the published one, and each printed
    control value at or below it (a trial that printed nothing meets neither)."""
    s_il2, s_control = pair_statistics()
    a = s_il2.printed(np.asarray(il2, dtype=float))
    b = s_control.printed(np.asarray(control, dtype=float))
    with np.errstate(invalid="ignore"):
        return (a >= s_il2.value) & ~np.isnan(a), (b <= s_control.value) & ~np.isnan(b)


@dataclass(frozen=True)
class PairProbability:
    """The chance of the published pair, of each half, and the Monte Carlo error."""

    p: float
    mc_se: float
    p_il2: float
    p_control: float
    trials: int
    draws: int
    lower: float = math.nan
    upper: float = math.nan
    """Exact (Clopper-Pearson) 95% limits, for a plain count."""


def table_pair(table: ReferenceTable, weights: np.ndarray | None = None) -> PairProbability:
    """The pair counted among the table's trials (prior predictive); ``weights`` reweights the
    table to another prior (self-normalised importance sampling)."""
    e1, e2 = pair_events(table.column(SUBGROUP_PAIR[0]), table.column(SUBGROUP_PAIR[1]))
    both = (e1 & e2).astype(float)
    n = both.size
    if weights is None:
        k = int(both.sum())
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
        p = k / n
        return PairProbability(
            p,
            math.sqrt(p * (1 - p) / n),
            float(e1.mean()),
            float(e2.mean()),
            n,
            n,
            float(ci.low),
            float(ci.high),
        )
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    p = float(w @ both / total)
    se = float(np.sqrt(np.sum((w * (both - p)) ** 2)) / total)
    return PairProbability(p, se, float(w @ e1 / total), float(w @ e2 / total), n, n)


@dataclass(frozen=True)
class Predictive:
    """Posterior-predictive trials: ``per_draw`` consecutive trials share each draw."""

    samples: dict[str, np.ndarray]
    draws: int
    per_draw: int


def resample_rows(sample: pd.DataFrame, size: int, rng: np.random.Generator) -> dict:
    """``size`` draws of every parameter column (systematic resampling of the weights, as
    :func:`anrs119.model.inference.sample.resample`, for any set of parameters)."""
    w = sample["weight"].to_numpy()
    cdf = np.cumsum(w) / w.sum()
    u = (rng.random() + np.arange(size)) / size
    idx = np.minimum(np.searchsorted(cdf, u, side="right"), len(w) - 1)
    idx = rng.permutation(idx)
    return {c: sample[c].to_numpy()[idx] for c in sample.columns if c != "weight"}


def predictive_trials(
    base: Mapping[str, float],
    sample: pd.DataFrame,
    *,
    draws: int = N_DRAWS,
    per_draw: int = PER_DRAW,
    seed: int = CONFRONTATION_SEED,
    desc: str = "posterior-predictive trials",
    progress: bool = True,
) -> Predictive:
    from anrs119.model.inference.draws import predictive_summaries

    d = resample_rows(sample, draws, np.random.default_rng(seed))
    rep = {k: np.repeat(v, per_draw) for k, v in d.items()}
    s = predictive_summaries(base, rep, seed, desc=desc, progress=progress)
    s[CLUSTER_KEY] = draw_clusters(rep)
    return Predictive(s, draws, per_draw)


def predictive_pair(pred: Predictive) -> PairProbability:
    """Per draw, the share of its trials meeting each half; the product, averaged over draws
    (the arms are independent given the parameters), with a Monte Carlo error in which draws
    of the same posterior particle form one cluster."""
    e1, e2 = pair_events(pred.samples[SUBGROUP_PAIR[0]], pred.samples[SUBGROUP_PAIR[1]])
    a = e1.reshape(pred.draws, pred.per_draw).mean(axis=1)
    b = e2.reshape(pred.draws, pred.per_draw).mean(axis=1)
    x = a * b
    clusters = pred.samples[CLUSTER_KEY].reshape(pred.draws, pred.per_draw)[:, 0]
    return PairProbability(
        float(x.mean()),
        mc_se(x, clusters),
        float(a.mean()),
        float(b.mean()),
        pred.draws * pred.per_draw,
        pred.draws,
    )


# ---------------------------------------------------------------- posteriors


@dataclass(frozen=True)
class Summary:
    """One posterior: reported quantiles (parameters x REPORTED) with Monte Carlo errors where
    bootstrapped, its spread on the method's scale, and the weighted sample."""

    names: tuple[str, ...]
    quantiles: np.ndarray
    mcse: np.ndarray | None
    sd: np.ndarray
    accepted: int
    ess: float
    sample: pd.DataFrame


def _spread(f: Fit) -> np.ndarray:
    w = f.weight / f.weight.sum()
    mean = w @ f.theta
    return np.sqrt(np.maximum(w @ (f.theta - mean) ** 2, 0.0))


def summarise(
    f: Fit, unb: Unbounded, names: Sequence[str], accepted: int, mcse: np.ndarray | None = None
) -> Summary:
    q = np.column_stack(
        [weighted_quantile(f.theta[:, j], f.weight, REPORTED) for j in range(f.theta.shape[1])]
    )
    q = unb.backward(np.atleast_2d(q)).T
    return Summary(tuple(names), q, mcse, _spread(f), accepted, f.ess, to_sample(f, unb, names))


def bootstrap_mcse(
    engine: Posteriors, observed: np.ndarray, replicates: int, seed: int
) -> np.ndarray:
    """Monte Carlo SEs of the reported quantiles: Poisson bootstrap of the table's trials (each
    trial counted a Poisson(1) number of times, the fit redone), as the paper's posterior."""
    from anrs119.model.inference.rejection import fit, neighbourhood

    size = 3 * engine.accepted
    rows = engine.candidates(observed, size)
    sub = engine._sub.take(rows)
    nb = neighbourhood(sub, observed, len(rows), scales=engine.scales, unbounded=engine.unbounded)
    rng = np.random.default_rng(seed)
    out = []
    with one_thread():
        for _ in range(replicates):
            counts = rng.poisson(1.0, size=len(nb.rows)).astype(float)
            f = fit(nb, engine.accepted, counts=counts)
            q = np.column_stack(
                [
                    weighted_quantile(f.theta[:, j], f.weight, REPORTED)
                    for j in range(f.theta.shape[1])
                ]
            )
            out.append(engine.unbounded.backward(np.atleast_2d(q)).T)
    return np.std(np.stack(out), axis=0, ddof=1)


def pair_profile(table: ReferenceTable, unb: Unbounded) -> Summary | None:
    """The parameters of the table's trials that printed the pair (equal weights): what a
    trial needs to print it, before any other claim is asked for."""
    e1, e2 = pair_events(table.column(SUBGROUP_PAIR[0]), table.column(SUBGROUP_PAIR[1]))
    rows = np.flatnonzero(e1 & e2)
    if rows.size < 2:
        return None
    theta = unb.forward(table.parameters[rows])
    f = Fit(theta, np.ones(rows.size), math.nan, rows)
    return summarise(f, unb, table.names, int(rows.size))


def group_columns(table: ReferenceTable, left_out: str | None) -> list[int]:
    drop = set(GROUPS[left_out]) if left_out else set()
    return [j for j, s in enumerate(table.statistic_ids) if s not in drop]


# ---------------------------------------------------------------- alternative priors


@dataclass(frozen=True)
class Alternative:
    """A literature-defensible alternative prior for one parameter."""

    name: str
    prior: Prior

    @property
    def parameter(self) -> str:
        return self.prior.parameter


ALTERNATIVE_COLUMNS: tuple[str, ...] = (
    "alternative",
    "parameter",
    "distribution",
    "loc",
    "scale",
    "lower",
    "upper",
    "source",
    "reason",
)


class AlternativesError(ValueError):
    """A row of the alternative priors breaks a rule (file, line, field, rule)."""


def load_alternatives(
    path: Path = ALTERNATIVES_FILE, priors: Priors | None = None
) -> tuple[Alternative, ...]:
    """Read and validate ``prior_alternatives.csv``: each alternative changes one free
    parameter's prior, inside the book's prior's support (so the table can be reweighted)."""
    from anrs119.model.inference.priors import load_priors
    from anrs119.published import display_path

    priors = load_priors() if priors is None else priors
    shown = display_path(path)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != ALTERNATIVE_COLUMNS:
            raise AlternativesError(
                f"{shown}: line 1: header: columns must be {', '.join(ALTERNATIVE_COLUMNS)}"
            )
        out, seen = [], set()
        for line, row in enumerate(reader, start=2):

            def fail(fld: str, rule: str, row=row, line=line) -> AlternativesError:
                return AlternativesError(
                    f"{shown}: line {line}: field {fld}: {rule} (got {row.get(fld)!r})"
                )

            name = (row["alternative"] or "").strip()
            if not name or name in seen:
                raise fail("alternative", "a unique, non-empty name")
            seen.add(name)
            parameter = (row["parameter"] or "").strip()
            if parameter not in FREE_PARAMETERS:
                raise fail("parameter", "one of the model's free parameters")
            base = priors[parameter]
            dist = (row["distribution"] or "").strip()
            if dist not in ("normal", "lognormal"):
                raise fail("distribution", "normal or lognormal")
            try:
                loc, scale = float(row["loc"]), float(row["scale"])
                lower = float(row["lower"]) if (row["lower"] or "").strip() else None
                upper = float(row["upper"]) if (row["upper"] or "").strip() else None
            except ValueError as exc:
                raise fail("loc", "loc, scale, lower and upper are numbers") from exc
            if not (math.isfinite(loc) and math.isfinite(scale) and scale > 0):
                raise fail("scale", "finite loc and a positive scale")
            if dist == "lognormal" and (loc <= 0 or lower is not None or upper is not None):
                raise fail("loc", "a log-normal prior has a positive median and no bounds")
            lo_b = base.lower if base.lower is not None else (0.0 if base.log_scale else None)
            if (
                lo_b is not None
                and (lower if lower is not None else (0.0 if dist == "lognormal" else -math.inf))
                < lo_b
            ):
                raise fail("lower", f"inside the book's prior's support (lower bound {lo_b:g})")
            if base.upper is not None and (upper is None or upper > base.upper):
                raise fail(
                    "upper", f"inside the book's prior's support (upper bound {base.upper:g})"
                )
            for fld in ("source", "reason"):
                if not (row[fld] or "").strip():
                    raise fail(fld, "must say where the alternative comes from and why")
            out.append(
                Alternative(
                    name,
                    Prior(
                        parameter,
                        dist,
                        loc,
                        scale,
                        lower,
                        upper,
                        "literature",
                        "R",
                        row["source"].strip(),
                        row["reason"].strip(),
                    ),
                )
            )
    return tuple(out)


def importance_weights(table: ReferenceTable, alt: Alternative, priors: Priors) -> np.ndarray:
    """The alternative's density over the book's prior at each trial's draw, mean 1."""
    j = table.names.index(alt.parameter)
    x = table.parameters[:, j]
    logw = alt.prior.logpdf(x) - priors[alt.parameter].logpdf(x)
    w = np.exp(logw - np.max(logw))
    return w / w.mean()


def weights_ess(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / np.sum(w**2))


# ---------------------------------------------------------------- the whole confrontation


@dataclass
class Sizes:
    """The run's sizes (reduced in the tests)."""

    draws: int = N_DRAWS
    per_draw: int = PER_DRAW
    bootstrap: int = BOOTSTRAP
    extension_size: int = EXTENSION_SIZE
    extension_accepted: int = EXTENSION_ACCEPTED


@dataclass
class Results:
    pair: list[dict] = field(default_factory=list)
    posteriors: list[dict] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)
    method: dict = field(default_factory=dict)


def _pair_row(
    analysis: str,
    variant: str,
    distribution: str,
    pp: PairProbability,
    *,
    joint=None,
    ess: float = math.nan,
    note: str = "",
) -> dict:
    return {
        "analysis": analysis,
        "variant": variant,
        "distribution": distribution,
        "trials": pp.trials,
        "draws": pp.draws,
        "p_pair": _sig(pp.p, 4),
        "mc_se": _sig(pp.mc_se, 3),
        "lower95": _sig(pp.lower, 4),
        "upper95": _sig(pp.upper, 4),
        "p_il2": _sig(pp.p_il2, 4),
        "p_control": _sig(pp.p_control, 4),
        "joint_p": math.nan if joint is None else _sig(joint.p_value, 4),
        "joint_se": math.nan if joint is None else _sig(joint.mc_se, 3),
        "ess": round(ess, 1) if math.isfinite(ess) else math.nan,
        "note": note,
    }


def _posterior_rows(analysis: str, variant: str, s: Summary, prior_sd: np.ndarray) -> list:
    rows = []
    for j, name in enumerate(s.names):
        rows.append(
            {
                "analysis": analysis,
                "variant": variant,
                "parameter": name,
                "q025": _sig(s.quantiles[j, 0], 5),
                "median": _sig(s.quantiles[j, 1], 5),
                "q975": _sig(s.quantiles[j, 2], 5),
                "median_mcse": math.nan if s.mcse is None else _sig(s.mcse[j, 1], 3),
                "sd_ratio": round(float(s.sd[j] / prior_sd[j]), 4),
                "accepted": s.accepted,
                "ess": round(s.ess, 1),
            }
        )
    return rows


def _claim_rows(analysis: str, variant: str, samples, ids: Sequence[str] | None) -> list:
    refs = claim_refs()
    keep = [r for r in refs if ids is None or r.id in ids]
    rows = check_rows(samples, "posterior", keep)
    return [
        {
            "analysis": analysis,
            "variant": variant,
            "claim": r["id"],
            "percentile": r["percentile"],
            "mc_se": r["mc_se"],
            "outside95": r["outside95"],
        }
        for r in rows
    ]


def _sig(x: float, digits: int) -> float:
    x = float(x)
    if not math.isfinite(x) or x == 0:
        return x
    return float(f"{x:.{digits}g}")


def unbounded_sd(table: ReferenceTable, unb: Unbounded) -> np.ndarray:
    return unb.forward(table.parameters).std(axis=0)


def run_confrontation(
    table: ReferenceTable,
    *,
    sizes: Sizes | None = None,
    accepted: int | None = None,
    variants: Sequence[Variant] = VARIANTS,
    alternatives: Sequence[Alternative] | None = None,
    seed: int = CONFRONTATION_SEED,
    progress: bool = True,
) -> Results:
    """Every analysis of the module docstring on the book's ``table`` (and the variants')."""
    from anrs119.model.checks.sbc import paper_settings
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.statistics import base_values, observed_vector

    sizes = sizes or Sizes()
    priors = load_priors()
    settings = paper_settings(table)
    accepted = settings.accepted if accepted is None else accepted
    unb, scales = settings.unbounded, settings.scales
    observed = observed_vector(posterior_statistics())
    base = base_values(priors)
    prior_sd = unbounded_sd(table, unb)
    alternatives = load_alternatives(priors=priors) if alternatives is None else alternatives
    res = Results()
    refs = claim_refs()

    def predictive(sample: pd.DataFrame, base_: Mapping[str, float], label: str) -> Predictive:
        return predictive_trials(
            base_,
            sample,
            draws=sizes.draws,
            per_draw=sizes.per_draw,
            seed=seed,
            desc=label,
            progress=progress,
        )

    # 1. the prior predictive (the whole table), then the posterior and the leave-outs
    res.pair.append(
        _pair_row("prior", BASE.name, "prior predictive (reference table)", table_pair(table))
    )
    profile = pair_profile(table, unb)
    if profile is not None:
        res.posteriors += _posterior_rows("pair_trials", BASE.name, profile, prior_sd)
    for k, left_out in enumerate((None, *GROUPS)):
        cols = group_columns(table, left_out)
        engine = Posteriors(table, unb, accepted, scales=scales, columns=cols)
        obs = observed[cols]
        f = engine.fit(obs)
        mcse = bootstrap_mcse(engine, obs, sizes.bootstrap, seed + 1 + k)
        s = summarise(f, unb, table.names, accepted, mcse)
        variant = "all claims" if left_out is None else f"without {left_out}"
        analysis = "posterior" if left_out is None else "leave_out"
        res.posteriors += _posterior_rows(analysis, variant, s, prior_sd)
        pred = predictive(s.sample, base, f"posterior-predictive trials ({variant})")
        res.pair.append(
            _pair_row(
                analysis,
                variant,
                "posterior predictive",
                predictive_pair(pred),
                joint=joint_check(pred.samples, refs),
                ess=f.ess,
            )
        )
        ids = None if left_out is None else GROUPS[left_out]
        res.claims += _claim_rows(analysis, variant, pred.samples, ids)

    # 2. alternative priors: the table reweighted
    for alt in alternatives:
        w = importance_weights(table, alt, priors)
        engine = Posteriors(table, unb, accepted, scales=scales, importance=w)
        f = engine.fit(observed)
        s = summarise(f, unb, table.names, accepted)
        res.posteriors += _posterior_rows("prior_sensitivity", alt.name, s, prior_sd)
        res.pair.append(
            _pair_row(
                "prior_sensitivity",
                alt.name,
                "prior predictive (reference table reweighted)",
                table_pair(table, w),
                ess=weights_ess(w),
                note=f"posterior ESS {f.ess:.0f}",
            )
        )

    # 3. model variants, each on its own table of the same size
    for v in variants:
        if not available(v):
            continue
        vt = variant_table(v, sizes.extension_size, progress=progress)
        v_priors = variant_priors(v)
        v_unb = Unbounded.from_priors(v_priors, vt.names)
        engine = Posteriors(vt, v_unb, sizes.extension_accepted, scales=scales)
        f = engine.fit(observed)
        s = summarise(f, v_unb, vt.names, sizes.extension_accepted)
        res.posteriors += _posterior_rows("model", v.name, s, unbounded_sd(vt, v_unb))
        res.pair.append(
            _pair_row("model", v.name, "prior predictive (reference table)", table_pair(vt))
        )
        profile = pair_profile(vt, v_unb)
        if profile is not None:
            res.posteriors += _posterior_rows(
                "model_pair_trials", v.name, profile, unbounded_sd(vt, v_unb)
            )
        pred = predictive(
            s.sample, variant_base(v, v_priors), f"posterior-predictive trials ({v.label})"
        )
        res.pair.append(
            _pair_row(
                "model",
                v.name,
                "posterior predictive",
                predictive_pair(pred),
                joint=joint_check(pred.samples, refs),
                ess=f.ess,
            )
        )
        res.claims += _claim_rows("model", v.name, pred.samples, None)

    res.method = {
        "reference_trials": len(table),
        "accepted": accepted,
        "posterior_draws": sizes.draws,
        "trials_per_draw": sizes.per_draw,
        "bootstrap_replicates": sizes.bootstrap,
        "extension_trials": sizes.extension_size,
        "extension_accepted": sizes.extension_accepted,
        "seed": seed,
        "groups": {k: list(v) for k, v in GROUPS.items()},
        "variants": {
            v.name: {
                "label": v.label,
                "description": v.description,
                "options": v.options,
                "extra": list(v.extra),
                "run": available(v),
            }
            for v in variants
        },
    }
    return res


def write_results(res: Results, folder: Path = MODEL_DIR) -> list[Path]:
    from anrs119.model.files import write_csv

    paths = [
        write_csv(pd.DataFrame(res.pair), folder / PAIR_FILE.name),
        write_csv(pd.DataFrame(res.posteriors), folder / POSTERIORS_FILE.name),
        write_csv(pd.DataFrame(res.claims), folder / CLAIMS_FILE.name),
    ]
    method = folder / METHOD_FILE.name
    method.write_text(json.dumps(res.method, indent=2) + "\n", encoding="utf-8")
    return [*paths, method]


def confrontation_main(progress: bool = True, folder: Path = MODEL_DIR) -> list[Path]:
    """``python -m anrs119 validate-extensions``: the input files are checked first (a bad row
    stops the command before any simulation), then the book's table is read from its cache."""
    from anrs119.model.checks.batch import book_table

    alternatives = load_alternatives()
    for v in VARIANTS:
        variant_priors(v)
    table = book_table(progress=progress)
    res = run_confrontation(table, alternatives=alternatives, progress=progress)
    return write_results(res, folder)


@dataclass(frozen=True)
class Stored:
    """The committed confrontation (what the chapter reads)."""

    pair: pd.DataFrame
    posteriors: pd.DataFrame
    claims: pd.DataFrame
    method: dict


def read_results(folder: Path = MODEL_DIR) -> Stored:
    """The four committed files, checked for presence (file and rule named)."""
    from anrs119.published import display_path

    paths = [folder / f.name for f in (PAIR_FILE, POSTERIORS_FILE, CLAIMS_FILE, METHOD_FILE)]
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(
                f"{display_path(path)}: file missing; rule: run "
                "`python -m anrs119 validate-extensions`"
            )
    return Stored(
        pd.read_csv(paths[0]),
        pd.read_csv(paths[1]),
        pd.read_csv(paths[2]),
        json.loads(paths[3].read_text(encoding="utf-8")),
    )
