"""The whole pipeline on one abstract: how plausible it is under the model, and what its
reconstructions say.

For an abstract in the registry's format (the published one, a what-if, or one printed from a
simulated trial):

1. **Forensic**: week-96 counts within the model's arms and a plausible test that give its
   primary percentages and P value (:func:`.abstract.forensic_allocation`); none:
   arithmetically impossible (or impossible with the model's arm sizes).
2. **Consistency of each P value with its own point estimates** (CD4 changes, viral-load
   changes, the low-viral-load subgroup): among the prior-predictive trials whose two printed
   estimates are nearest the abstract's, how often is the P value as far out as the printed one
   (:func:`consistency_checks`)?
3. **Joint predictive checks**: the book's normal-scores distance of all its printed point
   estimates (:func:`anrs119.model.checks.predictive.joint_check`) among prior-predictive trials
   (the model before any abstract: the abstract is not used twice) and among trials simulated at
   the abstract's own posterior (the model fitted to it: what "under the model" means once the
   abstract has been read; posterior predictive checks are conservative, so this one flags
   less often than its nominal level).
4. **Posterior** of the model's free parameters given its printed point estimates
   (:func:`posterior_for`), and **reconstructions** at posterior draws, each conditioned on every
   claim, with their **typicality**: where each unpublished quantity falls among unconditioned
   trials of its own draw.

:func:`verdict` turns these into ``plausible`` or ``implausible`` by the thresholds below; the
reconstruction chapter reports their false-alarm rate on abstracts printed from simulated trials.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from anrs119.model.reconstruction.ensemble_tables import QUANTITIES

JOINT_ALPHA: float = 0.01
"""Each joint predictive check (prior and posterior) flags an abstract whose statistics are at
least as far from the predictive trials' centre as fewer than 1% of them."""


CONSISTENCY_ALPHA: float = 0.005
"""A P value is inconsistent with its point estimates when, among the nearest prior-predictive
trials, fewer than 0.5% (two-sided) are as far out. Three such checks: at most 1.5% of the
abstracts the model prints are flagged by them, leaving room in a 5% false-alarm budget for the
two joint checks (1% each, the posterior one fewer) and the reconstructions."""


NEIGHBOURS: int = 400
"""Prior-predictive trials nearest in a claim's two printed estimates, among which its P value is
placed (at most 1 in 20 of the table). With n neighbours a P beyond all of them has p = 0, which
the model's own abstracts reach about 2/(n + 1) of the time: 200 neighbours gave 1% per check
where 0.5% was meant; 400 give 0.5%."""


CONSISTENCY_GROUPS: dict[str, tuple[str, str, str]] = {
    "CD4 changes": ("cd4_change_w96_il2", "cd4_change_w96_control", "cd4_change_w96_p"),
    "viral-load changes": ("vl_change_w96_il2", "vl_change_w96_control", "vl_change_w96_p"),
    "low-viral-load subgroup": (
        "lowvl_free_w150_il2",
        "lowvl_free_w150_control",
        "lowvl_free_w150_p",
    ),
}
"""The claims whose P value is checked against their two point estimates."""


MIN_EXACT: int = 1
"""At least one reconstruction must be exact: an abstract the search cannot print at any of the
posterior draws is one the model cannot be shown to produce. (A failure at some draws is not
counted against an abstract: it says as much about how well the posterior draws fit as about
the abstract.)"""


TYPICALITY_SHARE: float = 0.8
"""The typicality check flags an abstract when, for some unpublished quantity, at least this
share of its reconstructions falls in the outer 5% of its own draw's unconditioned trials (5%
would if conditioning on the abstract changed nothing about that quantity)."""


TYPICALITY_MIN: int = 6
"""...counted only over quantities with at least this many reconstructions placed (a quantity
not reached in most of them, or an abstract with few exact reconstructions, tells too little)."""


TAIL: float = 2.5
"""Outer 5%: below the 2.5th or above the 97.5th percentile of the unconditioned trials."""


@dataclass(frozen=True)
class Sizes:
    """Work per abstract: ``reconstructions`` at posterior draws, each ranked among ``reference``
    unconditioned trials of its draw; ``table`` prior-predictive trials for the checks;
    ``accepted`` trials kept by the posterior (amortised, or the stand-in on ``table``)."""

    reconstructions: int = 7
    reference: int = 39
    table: int = 20_000
    accepted: int = 1_000
    posterior_trials: int = 1_000
    """Trials simulated at the abstract's posterior for the posterior joint check."""


FULL = Sizes()
REDUCED = Sizes(reconstructions=3, reference=19, table=2_000, accepted=60, posterior_trials=200)


# ---------------------------------------------------------------- statistics of an abstract


def abstract_statistics(claims: pd.DataFrame):
    """The joint check's statistics of an abstract (as :func:`anrs119.model.inference.statistics.
    statistics` makes them for the registry): every numeric result claim, P values on log10,
    bounds as one-sided excess, the deferral capped at the subgroup week."""
    from anrs119.model.inference.statistics import Statistic

    res = claims[(claims["kind"] == "result") & claims["value"].notna()]
    cap = float(claims.at["subgroup_timepoint_weeks", "value"])
    return tuple(
        Statistic(
            id=str(cid),
            value=float(r["value"]),
            bound=str(r["bound"]),
            log_scale=r["statistic"] == "p_value",
            cap=cap if r["statistic"] == "difference" else None,
        )
        for cid, r in res.iterrows()
    )


POSTERIOR_STATISTICS: tuple[str, ...] = (
    "primary_w96_il2",
    "primary_w96_control",
    "cd4_change_w96_il2",
    "cd4_change_w96_control",
    "vl_change_w96_il2",
    "vl_change_w96_control",
    "lowvl_free_w150_il2",
    "lowvl_free_w150_control",
    "lowvl_art_deferral",
)
"""The printed point estimates the stand-in posterior conditions on (as the amortised one)."""


def printed_estimates(claims: pd.DataFrame) -> np.ndarray:
    return np.array([float(claims.at[c, "value"]) for c in POSTERIOR_STATISTICS])


def printed_summaries(summaries: Mapping[str, np.ndarray], claims: pd.DataFrame) -> np.ndarray:
    """(trials, statistics): simulated point estimates printed with the abstract's decimals, the
    deferral capped at the subgroup week (0 when not estimable)."""
    cap = float(claims.at["subgroup_timepoint_weeks", "value"])
    cols = []
    for c in POSTERIOR_STATISTICS:
        x = np.asarray(summaries[c], dtype=float)
        if c == "lowvl_art_deferral":
            x = np.where(np.isnan(x), 0.0, np.clip(x, -cap, cap))
        d = int(claims.at[c, "decimals"])
        q = 10.0**d
        cols.append(np.sign(x) * np.floor(np.round(np.abs(x) * q, 9) + 0.5) / q)
    return np.column_stack(cols)


# ---------------------------------------------------------------- the posterior


@dataclass(frozen=True)
class PriorTable:
    """Prior draws (free parameters) and the printed point estimates of their trials."""

    parameters: pd.DataFrame
    summaries: dict[str, np.ndarray]


def prior_table(base: Mapping[str, float], size: int, seed: int, progress: bool = False):
    """``size`` trials simulated at prior draws (one each), in seeded chunks."""
    from anrs119.model.inference.draws import predictive_summaries
    from anrs119.model.inference.priors import load_priors

    draws = load_priors().sample(np.random.default_rng([seed, 0]), size)
    summ = predictive_summaries(base, draws, seed, desc="prior-predictive table", progress=progress)
    return PriorTable(pd.DataFrame(draws), summ)


def stand_in_posterior(claims: pd.DataFrame, table: PriorTable, accepted: int) -> pd.DataFrame:
    """Rejection ABC on ``table``: the ``accepted`` trials whose printed point estimates are
    nearest the abstract's (each statistic scaled by its median absolute deviation), with
    Epanechnikov weights. A stand-in for the amortised posterior (no regression adjustment)."""
    s = printed_summaries(table.summaries, claims)
    ok = np.all(np.isfinite(s), axis=1)
    med = np.median(s[ok], axis=0)
    mad = 1.4826 * np.median(np.abs(s[ok] - med), axis=0)
    scale = np.where(mad > 0, mad, np.where(s[ok].std(axis=0) > 0, s[ok].std(axis=0), 1.0))
    d = np.sqrt(np.sum(((s - printed_estimates(claims)) / scale) ** 2, axis=1))
    d[~ok] = np.inf
    order = np.lexsort((np.arange(d.size), d))
    keep = order[:accepted]
    h = d[order[min(accepted, d.size - 1)]]
    w = 1.0 - (d[keep] / h) ** 2 if h > 0 else np.ones(keep.size)
    sample = table.parameters.iloc[keep].reset_index(drop=True)
    sample["weight"] = np.maximum(w, 0.0) / np.maximum(w, 0.0).sum()
    return sample


def amortised_posterior(claims: pd.DataFrame, reference, accepted: int) -> pd.DataFrame:
    """The abstract's posterior by the book's own method (issue 25: rejection ABC with
    regression adjustment on a reference table of prior-predictive trials,
    :func:`anrs119.model.inference.rejection.abc_posterior`), ``accepted`` trials kept."""
    from anrs119.model.inference.rejection import abc_posterior
    from anrs119.model.inference.statistics import posterior_statistics

    observed = {s.id: float(s.value) for s in posterior_statistics(claims)}
    return abc_posterior(observed, reference, accepted=accepted).sample


def posterior_for(
    claims: pd.DataFrame, table: PriorTable, accepted: int, reference=None
) -> tuple[pd.DataFrame, str]:
    """The abstract's posterior sample (free parameters and ``weight``) and its source: the
    amortised posterior on ``reference`` (a :class:`~anrs119.model.inference.reference.
    ReferenceTable`) when given, else the rejection stand-in on ``table``."""
    if reference is not None:
        return amortised_posterior(claims, reference, accepted), "amortised"
    return stand_in_posterior(claims, table, accepted), "stand-in"


# ---------------------------------------------------------------- the checks


def _statistic_matrix(claims: pd.DataFrame, table: PriorTable):
    from anrs119.model.inference.statistics import statistic_values

    stats_ = abstract_statistics(claims)
    vals = statistic_values(table.summaries, stats_)
    m = np.column_stack([vals[s.id] for s in stats_])
    return stats_, m


def joint_prior_check(claims: pd.DataFrame, table: PriorTable) -> tuple[float, float]:
    """(p value, statistic) of the book's joint predictive check
    (:func:`anrs119.model.checks.predictive.joint_check`: normal scores of the printed point
    estimates) among the table's prior-predictive trials, for this abstract's values."""
    return joint_check_among(claims, table.summaries)


def posterior_joint_check(
    claims: pd.DataFrame, base: Mapping[str, float], sample: pd.DataFrame, trials: int, seed: int
) -> tuple[float, float]:
    """(p value, statistic) of the same joint check among ``trials`` trials simulated at draws
    from the abstract's own posterior ``sample`` (seeded chunks, run in this process)."""
    from anrs119.model.inference.draws import CHUNK, simulate_draws
    from anrs119.model.inference.sample import resample

    draws = resample(sample, trials, np.random.default_rng([seed, 2]))
    parts = []
    for i in range(0, trials, CHUNK):
        chunk = {k: v[i : i + CHUNK] for k, v in draws.items()}
        chunk_seed = int(np.random.SeedSequence([seed, 2, i]).generate_state(1)[0])
        parts.append(simulate_draws(base, chunk, min(CHUNK, trials - i), chunk_seed))
    keys = [k for k in parts[0] if all(k in q for q in parts)]
    return joint_check_among(claims, {k: np.concatenate([q[k] for q in parts]) for k in keys})


def joint_check_among(
    claims: pd.DataFrame, summaries: Mapping[str, np.ndarray]
) -> tuple[float, float]:
    """(p value, statistic) of the book's joint check of this abstract among ``summaries``."""
    from anrs119.model.checks.predictive import ClaimRef, joint_check

    res = claims[(claims["kind"] == "result") & claims["value"].notna()]
    refs = tuple(
        ClaimRef(
            str(cid), float(r["value"]), str(r["bound"]), str(r["statistic"]), int(r["decimals"])
        )
        for cid, r in res.iterrows()
    )
    j = joint_check(summaries, refs)
    return j.p_value, j.statistic


def consistency_checks(claims: pd.DataFrame, table: PriorTable) -> dict[str, float]:
    """Per :data:`CONSISTENCY_GROUPS`: the two-sided p value of the printed P among the
    :data:`NEIGHBOURS` prior-predictive trials nearest in the two printed point estimates
    (each scaled by its median absolute deviation in the table; P values on log10, a bound as
    its one-sided excess, as the joint check reads them). A printed P (``=``) is compared after
    a local linear regression on the two estimates and their distance (the neighbours are near,
    not at, the abstract's estimates, and P moves steeply with them: Beaumont et al. 2002's
    adjustment); a bound (``P < .001``) is compared as it is, as the share of neighbours that
    print it."""
    stats_, m = _statistic_matrix(claims, table)
    ids = [s.id for s in stats_]
    obs = np.array([s.observed for s in stats_])
    out = {}
    for name, (a, b, pid) in CONSISTENCY_GROUPS.items():
        ja, jb, jp = ids.index(a), ids.index(b), ids.index(pid)
        x = m[:, [ja, jb]]
        ok = np.all(np.isfinite(x), axis=1) & np.isfinite(m[:, jp])
        x, y = x[ok], m[ok, jp]
        med = np.median(x, axis=0)
        scale = 1.4826 * np.median(np.abs(x - med), axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        d = np.sqrt(np.sum(((x - obs[[ja, jb]]) / scale) ** 2, axis=1))
        near = np.lexsort((np.arange(d.size), d))[: min(NEIGHBOURS, d.size // 20)]
        yn, y0 = y[near], obs[jp]
        if stats_[jp].bound == "=":
            xn = x[near] - obs[[ja, jb]]
            gap = np.abs(x[near, 0] - x[near, 1])
            features = np.column_stack([np.ones(near.size), xn, gap])
            beta = np.linalg.lstsq(features, yn, rcond=None)[0]
            yn = yn - features @ beta
            y0 = y0 - beta[0] - beta[3] * abs(obs[ja] - obs[jb])
        low = float(np.mean(yn <= y0))
        high = float(np.mean(yn >= y0))
        out[name] = min(1.0, 2.0 * min(low, high))
    return out


@dataclass(frozen=True)
class AbstractResult:
    """Everything the pipeline found for one abstract."""

    allocation: dict | None
    posterior_source: str
    joint_p: float
    joint_distance: float
    draws: pd.DataFrame
    """One row per reconstruction: ``exact``, the quantities, ``pct:<quantity>``."""
    reason: str = ""
    consistency: dict[str, float] = field(default_factory=dict)
    posterior_joint_p: float = math.nan
    posterior_joint_distance: float = math.nan
    cross_claims: Mapping = field(default_factory=dict)
    """Per statement group, its :class:`~anrs119.model.checks.crossclaim.CrossClaim` given the
    rest of the abstract (reported beside the verdict, not part of it)."""

    @property
    def exact_share(self) -> float:
        if self.draws.empty:
            return 0.0
        return float(self.draws["exact"].mean())

    def placed_counts(self) -> pd.Series:
        """Per quantity: exact reconstructions with a percentile among their draw's trials."""
        if self.draws.empty or "exact" not in self.draws:
            return pd.Series(0, index=list(QUANTITIES))
        exact = self.draws[self.draws["exact"].astype(bool)]
        return pd.Series(
            {q: int(np.isfinite(exact[f"pct:{q}"].to_numpy(dtype=float)).sum()) for q in QUANTITIES}
        )

    def tail_shares(self) -> pd.Series:
        """Per quantity: share of the exact reconstructions in the outer 5% of their draw."""
        exact = self.draws[self.draws["exact"].astype(bool)]
        out = {}
        for q in QUANTITIES:
            pct = exact[f"pct:{q}"].to_numpy(dtype=float)
            pct = pct[np.isfinite(pct)]
            out[q] = float(((pct < TAIL) | (pct > 100 - TAIL)).mean()) if pct.size else math.nan
        return pd.Series(out)


def run_reconstructions(
    claims: pd.DataFrame,
    allocation: Mapping,
    base: Mapping[str, float],
    sample: pd.DataFrame,
    sizes: Sizes,
    seed: int,
) -> pd.DataFrame:
    """``sizes.reconstructions`` reconstructions at posterior draws, conditioned on ``claims``,
    each with its typicality among ``sizes.reference`` unconditioned trials of its draw."""
    from anrs119.model.inference.priors import FREE_PARAMETERS
    from anrs119.model.inference.sample import resample
    from anrs119.model.reconstruction.ensemble import run_draw
    from anrs119.model.reconstruction.search import claims_from_table

    targets = claims_from_table(claims, allocation)
    draws = resample(sample, sizes.reconstructions, np.random.default_rng([seed, 1]))
    rows = []
    for i in range(sizes.reconstructions):
        draw = {k: float(v[i]) for k, v in draws.items() if k in FREE_PARAMETERS}
        rows.append(run_draw(base, draw, i, seed, sizes.reference, claims=targets).row)
    frame = pd.DataFrame(rows)
    frame["exact"] = frame["exact"].astype(bool)
    return frame


def posterior_steps(
    checked: AbstractResult,
    claims: pd.DataFrame,
    base: Mapping[str, float],
    sample: pd.DataFrame,
    sizes: Sizes,
    seed: int,
) -> AbstractResult:
    """What needs the abstract's posterior ``sample``: the posterior joint check and the
    reconstructions with their typicality, added to the result of :func:`check_abstract`."""
    p, distance = posterior_joint_check(claims, base, sample, sizes.posterior_trials, seed)
    draws = run_reconstructions(claims, checked.allocation, base, sample, sizes, seed)
    return replace(checked, draws=draws, posterior_joint_p=p, posterior_joint_distance=distance)


def assess(
    claims: pd.DataFrame,
    base: Mapping[str, float],
    sizes: Sizes,
    seed: int,
    table: PriorTable | None,
    reference=None,
) -> AbstractResult:
    """Steps 1 to 4 of the module docstring for one abstract (a typed claims table); the
    posterior is the amortised one on ``reference`` when given, else the stand-in."""
    checked = check_abstract(claims, base, table)
    if checked.allocation is None:
        return checked
    sample, source = posterior_for(claims, table, sizes.accepted, reference)
    checked = replace(checked, posterior_source=source)
    return posterior_steps(checked, claims, base, sample, sizes, seed)


def check_abstract(
    claims: pd.DataFrame, base: Mapping[str, float], table: PriorTable | None
) -> AbstractResult:
    """Steps 1 to 3 (no reconstruction yet: ``draws`` empty)."""
    from anrs119.model.reconstruction.abstract import forensic_allocation

    allocation, reason = forensic_allocation(claims, (int(base["n_il2"]), int(base["n_control"])))
    if allocation is None:
        return AbstractResult(None, "", math.nan, math.nan, pd.DataFrame({"exact": []}), reason)
    if table is None:
        raise ValueError("assess: the checks need a prior-predictive table")
    consistency = consistency_checks(claims, table)
    joint_p, distance = joint_prior_check(claims, table)
    return AbstractResult(
        allocation, "", joint_p, distance, pd.DataFrame({"exact": []}), "", consistency
    )


# ---------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class Verdict:
    """The what-if verdict and the components it rests on."""

    plausible: bool
    forensic_ok: bool
    consistency_ok: bool
    joint_ok: bool
    reconstructions_ok: bool
    typicality_ok: bool
    flagged_quantities: tuple[str, ...]
    reasons: tuple[str, ...]
    prior_joint_ok: bool = True
    posterior_joint_ok: bool = True

    @property
    def failed(self) -> tuple[str, ...]:
        """The components that flag the abstract, by name (:data:`COMPONENTS`); an abstract
        that fails the forensic arithmetic is checked no further."""
        if not self.forensic_ok:
            return ("forensic consistency",)
        ok = {
            "forensic consistency": self.forensic_ok,
            "P value against its estimates": self.forensic_ok and self.consistency_ok,
            "prior joint check": self.forensic_ok and self.prior_joint_ok,
            "posterior joint check": self.forensic_ok and self.posterior_joint_ok,
            "exact reconstructions": self.forensic_ok and self.reconstructions_ok,
            "typicality": self.forensic_ok and self.typicality_ok,
        }
        return tuple(name for name, good in ok.items() if not good)


COMPONENTS: tuple[str, ...] = (
    "forensic consistency",
    "P value against its estimates",
    "prior joint check",
    "posterior joint check",
    "exact reconstructions",
    "typicality",
)
"""The verdict's components, in the order they are checked."""


def verdict(result: AbstractResult) -> Verdict:
    """``plausible`` unless one component fails its threshold (module constants)."""
    reasons = []
    if result.allocation is None:
        reasons.append(f"forensic: {result.reason}")
        return Verdict(False, False, False, False, False, False, (), tuple(reasons))
    bad = {k: p for k, p in result.consistency.items() if p < CONSISTENCY_ALPHA}
    for k, p in bad.items():
        reasons.append(f"the P value of the {k} is inconsistent with its estimates (p = {p:.3f})")
    prior_ok = not (result.joint_p < JOINT_ALPHA)
    if not prior_ok:
        reasons.append(
            f"prior joint check: p = {result.joint_p:.3f} < {JOINT_ALPHA:g} "
            f"(distance {result.joint_distance:.1f})"
        )
    posterior_ok = not (result.posterior_joint_p < JOINT_ALPHA)
    if not posterior_ok:
        reasons.append(
            f"posterior joint check: p = {result.posterior_joint_p:.3f} < {JOINT_ALPHA:g} "
            f"(distance {result.posterior_joint_distance:.1f})"
        )
    joint_ok = prior_ok and posterior_ok
    rec_ok = int(result.draws["exact"].sum()) >= MIN_EXACT
    if not rec_ok:
        reasons.append(f"reconstructions: none exact at the {len(result.draws)} posterior draws")
    shares = result.tail_shares()
    counts = result.placed_counts()
    flagged = tuple(
        q
        for q, s in shares.items()
        if np.isfinite(s) and s >= TYPICALITY_SHARE and counts[q] >= TYPICALITY_MIN
    )
    typ_ok = not flagged
    if not typ_ok:
        reasons.append(
            f"typicality: {len(flagged)} unpublished quantities with at least "
            f"{TYPICALITY_SHARE:.0%} of the reconstructions in the outer 5% of their draw"
        )
    cons_ok = not bad
    return Verdict(
        cons_ok and joint_ok and rec_ok and typ_ok,
        True, cons_ok, joint_ok, rec_ok, typ_ok, flagged, tuple(reasons), prior_ok, posterior_ok,
    )  # fmt: skip


def verdict_row(result: AbstractResult, v: Verdict) -> dict[str, object]:
    """The verdict and its components as one flat row (for the stored tables)."""
    shares = pd.Series(dtype=float)
    if result.allocation is not None and len(result.draws):
        shares = result.tail_shares()[result.placed_counts() >= TYPICALITY_MIN]
    row: dict[str, object] = {"forensic_ok": v.forensic_ok}
    for k in CONSISTENCY_GROUPS:
        p = result.consistency.get(k, math.nan)
        row[f"consistency_p:{k}"] = round(p, 6) if np.isfinite(p) else math.nan
    row.update(
        {
            "consistency_ok": v.consistency_ok,
            "joint_p": round(result.joint_p, 6) if np.isfinite(result.joint_p) else math.nan,
            "posterior_joint_p": round(result.posterior_joint_p, 6)
            if np.isfinite(result.posterior_joint_p)
            else math.nan,
            "prior_joint_ok": v.prior_joint_ok,
            "posterior_joint_ok": v.posterior_joint_ok,
            "joint_ok": v.joint_ok,
            "exact_share": round(result.exact_share, 6),
            "reconstructions_ok": v.reconstructions_ok,
            "max_tail_share": round(float(shares.max()), 6) if shares.notna().any() else math.nan,
            "typicality_ok": v.typicality_ok,
            "flagged": "; ".join(v.flagged_quantities),
            "plausible": v.plausible,
            "failed": "; ".join(v.failed),
            "posterior": result.posterior_source,
        }
    )
    return row


def describe(result: AbstractResult, v: Verdict) -> Sequence[str]:
    """The what-if report, line by line; the last line is the verdict."""
    lines = []
    if result.allocation is None:
        lines.append(f"forensic consistency: FAILS ({result.reason})")
    else:
        a = result.allocation
        n = a["n_by_arm"]
        k = a["events_w96_by_arm"]
        lines.append(
            f"forensic consistency: ok (arms {n['IL-2']}/{n['Control']}, week-96 events "
            f"{k['IL-2']}/{k['Control']}, {a['test']})"
        )
        for k, p in result.consistency.items():
            lines.append(
                f"P value of the {k} against its estimates: p = {p:.3f} (flag below "
                f"{CONSISTENCY_ALPHA:g}); {'ok' if p >= CONSISTENCY_ALPHA else 'FAILS'}"
            )
        lines.append(
            f"joint predictive check (prior predictive): p = {result.joint_p:.3f} (flag below "
            f"{JOINT_ALPHA:g}); {'ok' if v.prior_joint_ok else 'FAILS'}"
        )
        lines.append(f"posterior: {result.posterior_source}")
        lines.append(
            f"joint predictive check (at the abstract's posterior): p = "
            f"{result.posterior_joint_p:.3f} (flag below {JOINT_ALPHA:g}); "
            f"{'ok' if v.posterior_joint_ok else 'FAILS'}"
        )
        lines.append(
            f"reconstructions: exact at {int(result.draws['exact'].sum())} of "
            f"{len(result.draws)} posterior draws (need {MIN_EXACT}); "
            f"{'ok' if v.reconstructions_ok else 'FAILS'}"
        )
        shares = result.tail_shares()[result.placed_counts() >= TYPICALITY_MIN]
        worst = shares.dropna().sort_values(ascending=False).head(3)
        listed = ", ".join(f"{q} {s:.0%}" for q, s in worst.items())
        lines.append(
            f"typicality: largest shares in the outer 5%: {listed} (flag at "
            f"{TYPICALITY_SHARE:.0%} of at least {TYPICALITY_MIN}); "
            f"{'ok' if v.typicality_ok else 'FAILS'}"
        )
    lines.extend(cross_claim_lines(result))
    lines.append(f"verdict: {'plausible' if v.plausible else 'implausible'}")
    return lines


def cross_claim_lines(result: AbstractResult) -> list[str]:
    """Where the model places each statement given the rest of the abstract (not part of the
    verdict): its p value and each claim's percentile among the predicted values."""
    if not result.cross_claims:
        return []
    lines = ["given the rest of the abstract (reported, not part of the verdict):"]
    for group, c in result.cross_claims.items():
        places = ", ".join(f"{cid} at percentile {pct:.1f}"
                           for cid, pct in c.percentiles.items())  # fmt: skip
        lines.append(f"  {group}: p = {c.p_value:.3f} ({places})")
    return lines
