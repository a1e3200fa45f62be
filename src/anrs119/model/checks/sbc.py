"""Simulation-based calibration of the book's posterior method (Talts, Betancourt, Simpson,
Vehtari and Gelman 2018): abstracts printed by trials whose parameters are known, each put
through the paper's posterior method, and the rank of the truth among the posterior's draws.

Every trial of the reference table is a prior draw with the abstract it prints. For each
chosen trial (a *replicate*) the posterior of its abstract is computed from the rest of the
table (the trial itself left out) with the settings of the paper's posterior (the same
statistics, scales, acceptance share and regression adjustment). If the method is calibrated,
the rank of the true value among ``draws`` posterior draws is uniform on 0..draws, and a
central x% interval holds the truth in x% of replicates.

Two sets of replicates:

``prior``
    trials drawn at random from the table: calibration over the whole prior predictive;
``near_published``
    the trials whose abstracts lie nearest the published one (scaled distance): the published
    abstract sits in the prior predictive's tail, where the regression adjustment
    extrapolates;
``sparse``
    among ``TAIL_SCREEN`` random trials, those whose abstracts have the fewest simulated
    neighbours (the widest neighbourhood at the paper's acceptance): abstracts as isolated as
    the published one, wherever they lie.

Selecting replicates by their abstract keeps the ranks uniform under an exact posterior (given
its abstract, a replicate's truth is a draw from that abstract's posterior), so the check stays
valid in every set.

``python -m anrs119 sbc`` writes ``data/model/sbc.csv``: one row per replicate and parameter
(``set``, ``replicate``, ``row`` of the reference table, ``parameter``, ``true``, ``rank``,
``draws``, ``in50``, ``in90``, ``in95``, the posterior ``median`` and ``sd_ratio``, the
posterior SD over the prior's on the method's unbounded scale: log for a log-normal prior, logit
between two bounds). Deterministic: the same table gives the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from anrs119.model.checks.batch import Posteriors
from anrs119.model.inference.reference import ReferenceTable
from anrs119.model.inference.rejection import Fit, Unbounded, neighbourhood, statistic_scales
from anrs119.model.inference.sample import weighted_quantile
from anrs119.paths import MODEL_DIR
from anrs119.seeds import SBC_SEED

SBC_FILE: Path = MODEL_DIR / "sbc.csv"
METHOD_FILE: Path = MODEL_DIR / "sbc_method.json"
PRIOR_SET: str = "prior"
NEAR_SET: str = "near_published"
TAIL_SET: str = "sparse"
SETS: tuple[str, ...] = (PRIOR_SET, NEAR_SET, TAIL_SET)
REPLICATES: dict[str, int] = {PRIOR_SET: 300, NEAR_SET: 300, TAIL_SET: 200}
"""Replicates per set (issue #25: at least 200 from the prior)."""
TAIL_SCREEN: int = 6_000
"""Trials screened for the ``sparse`` set: the replicates are the ones among them whose
abstracts have the fewest simulated neighbours (about the rarest 3%, like the published one)."""
SCREEN_TRIALS: int = 100_000
"""Trials of the table (its first) on which the screen counts neighbours: a selection may use
any function of the abstract, so this cheaper count need not equal the posterior's."""
DRAWS: int = 99
"""Posterior draws a rank is taken among: ranks 0..99, 100 values, 5 per histogram bin."""
BINS: int = 20
LEVELS: tuple[float, ...] = (0.50, 0.90, 0.95)
"""Central intervals whose coverage is checked."""
CONTROL_SHRINK: float = 0.5
"""The check of the check: the near-published replicates again, each posterior's spread shrunk
to this share around its weighted mean (an overconfident method the calibration must flag)."""
ALPHA: float = 0.05
"""Family-wise level of the uniformity and coverage tests within a set (Holm)."""
COLUMNS: tuple[str, ...] = (
    "set",
    "replicate",
    "row",
    "parameter",
    "true",
    "rank",
    "draws",
    "in50",
    "in90",
    "in95",
    "median",
    "sd_ratio",
    "bandwidth",
)


# ---------------------------------------------------------------- one replicate


@dataclass(frozen=True)
class Replicate:
    """The calibration quantities of one replicate, one entry per parameter."""

    rank: np.ndarray
    inside: np.ndarray
    """(parameters, LEVELS) booleans: the truth strictly inside the central interval."""
    median: np.ndarray
    sd: np.ndarray
    """Posterior SD on the method's unbounded scale (log or logit where the prior is bounded)."""


def _interval_probs(levels: Sequence[float]) -> list[float]:
    out = [0.5]
    for lv in levels:
        out += [(1 - lv) / 2, (1 + lv) / 2]
    return out


def calibrate_one(
    f: Fit,
    truth: np.ndarray,
    unbounded: Unbounded,
    rng: np.random.Generator,
    draws: int = DRAWS,
    levels: Sequence[float] = LEVELS,
) -> Replicate:
    """Rank of ``truth`` (natural scale) among ``draws`` draws resampled from the weighted fit,
    and whether it lies inside each central interval of the weighted posterior. Both on the
    unbounded scale, where the fit lives (ranks and quantiles commute with monotone maps)."""
    u = unbounded.forward(np.asarray(truth, dtype=float)[None, :])[0]
    p = f.weight / f.weight.sum()
    idx = rng.choice(p.size, size=draws, replace=True, p=p)
    rank = (f.theta[idx] < u).sum(axis=0)
    probs = _interval_probs(levels)
    q = np.column_stack(
        [weighted_quantile(f.theta[:, j], f.weight, probs) for j in range(f.theta.shape[1])]
    )
    inside = np.column_stack([(q[1 + 2 * k] < u) & (u < q[2 + 2 * k]) for k in range(len(levels))])
    mean = p @ f.theta
    sd = np.sqrt(np.maximum(p @ (f.theta - mean) ** 2, 0.0))
    return Replicate(rank, inside, unbounded.backward(q[:1])[0], sd)


# ---------------------------------------------------------------- choosing the replicates


def printable_rows(table: ReferenceTable) -> np.ndarray:
    """Trials that print every statistic (a published abstract does)."""
    return np.flatnonzero(np.all(np.isfinite(table.statistics), axis=1))


def prior_rows(table: ReferenceTable, n: int, seed: int = SBC_SEED) -> np.ndarray:
    """``n`` trials drawn at random (without replacement) among those that print everything."""
    rng = np.random.default_rng([seed, 0])
    return rng.choice(printable_rows(table), size=n, replace=False)


def tail_rows(
    table: ReferenceTable,
    n: int,
    settings: Settings,
    *,
    screen: int = TAIL_SCREEN,
    seed: int = SBC_SEED,
) -> np.ndarray:
    """Among ``screen`` random printable trials, the ``n`` whose abstracts have the widest
    neighbourhood (distance to the ``accepted``-th nearest trial, at the paper's acceptance
    share, among the table's first ``SCREEN_TRIALS``), widest first (ties by row)."""
    rng = np.random.default_rng([seed, 2])
    pool = rng.choice(printable_rows(table), size=min(screen, len(table)), replace=False)
    head = table.take(slice(0, min(SCREEN_TRIALS, len(table))))
    k = max(1, round(settings.accepted * len(head) / len(table)))
    engine = Posteriors(head, settings.unbounded, k, scales=settings.scales)
    radius = np.array([engine.radius(table.statistics[r], k) for r in pool])
    order = np.lexsort((pool, -radius))
    return pool[order[:n]]


def near_rows(
    table: ReferenceTable, observed: np.ndarray, n: int, scales: np.ndarray, unbounded: Unbounded
) -> np.ndarray:
    """The ``n`` trials nearest ``observed`` in the posterior's distance, nearest first."""
    return neighbourhood(table, observed, n, scales=scales, unbounded=unbounded).rows


# ---------------------------------------------------------------- the run


FitFunction = Callable[[np.ndarray, int], Fit]
"""(abstract, row left out) -> fit: the posterior method under calibration."""


def shrunk(f: Fit, share: float) -> Fit:
    """``f`` with every draw moved towards the weighted mean: its spread times ``share``."""
    w = f.weight / f.weight.sum()
    centre = w @ f.theta
    return Fit(centre + share * (f.theta - centre), f.weight, f.bandwidth, f.rows)


def run_set(
    table: ReferenceTable,
    rows: np.ndarray,
    fit_abstract: FitFunction,
    unbounded: Unbounded,
    *,
    set_name: str,
    seed: int = SBC_SEED,
    draws: int = DRAWS,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per replicate and parameter (see the module docstring)."""
    from tqdm import tqdm

    names = table.names
    prior_sd = unbounded.forward(table.parameters).std(axis=0)
    set_index = SETS.index(set_name) + 1 if set_name in SETS else 99
    records = []
    for r, row in enumerate(tqdm(rows, desc=f"SBC ({set_name})", disable=not progress)):
        row = int(row)
        truth = table.parameters[row]
        f = fit_abstract(table.statistics[row], row)
        rep = calibrate_one(f, truth, unbounded, np.random.default_rng([seed, set_index, r]), draws)
        for j, name in enumerate(names):
            records.append(
                {
                    "set": set_name,
                    "replicate": r,
                    "row": row,
                    "parameter": name,
                    "true": _sig(truth[j], 6),
                    "rank": int(rep.rank[j]),
                    "draws": draws,
                    "in50": bool(rep.inside[j, 0]),
                    "in90": bool(rep.inside[j, 1]),
                    "in95": bool(rep.inside[j, 2]),
                    "median": _sig(rep.median[j], 5),
                    "sd_ratio": round(float(rep.sd[j] / prior_sd[j]), 4),
                    "bandwidth": round(float(f.bandwidth), 4),
                }
            )
    return pd.DataFrame(records, columns=list(COLUMNS))


@dataclass(frozen=True)
class Settings:
    """The paper's posterior settings, carried over to a table of any size."""

    accepted: int
    scales: np.ndarray
    unbounded: Unbounded


def paper_settings(table: ReferenceTable, share: float | None = None, priors=None) -> Settings:
    """The acceptance share of ``data/model/posterior_method.json`` (4,000 of 1,000,000) applied
    to ``table``, the statistics' scales over ``table``, the priors' unbounded coordinates."""
    from anrs119.model.inference.posterior import read_method
    from anrs119.model.inference.priors import load_priors

    if share is None:
        share = float(read_method()["acceptance_share"])
    priors = load_priors() if priors is None else priors
    accepted = max(1, round(share * len(table)))
    return Settings(
        accepted,
        statistic_scales(table.statistics),
        Unbounded.from_priors(priors, table.names),
    )


def run_sbc(
    table: ReferenceTable,
    observed: np.ndarray,
    settings: Settings,
    *,
    replicates: dict[str, int] | None = None,
    draws: int = DRAWS,
    seed: int = SBC_SEED,
    progress: bool = True,
    fit_abstract: FitFunction | None = None,
    shrink: float | None = None,
) -> pd.DataFrame:
    """Both sets of replicates, with the paper's posterior method (or ``fit_abstract``);
    ``shrink`` makes the method overconfident (:func:`shrunk`), to show the check fails it."""
    replicates = dict(REPLICATES) if replicates is None else replicates
    if fit_abstract is None:
        engine = Posteriors(table, settings.unbounded, settings.accepted, scales=settings.scales)

        def fit_abstract(abstract: np.ndarray, row: int) -> Fit:
            return engine.fit(abstract, exclude=row)

    if shrink is not None:
        method = fit_abstract

        def fit_abstract(abstract: np.ndarray, row: int) -> Fit:
            return shrunk(method(abstract, row), shrink)

    sets = {
        PRIOR_SET: lambda n: prior_rows(table, n, seed),
        NEAR_SET: lambda n: near_rows(table, observed, n, settings.scales, settings.unbounded),
        TAIL_SET: lambda n: tail_rows(table, n, settings, seed=seed),
    }
    frames = [
        run_set(
            table,
            sets[name](n),
            fit_abstract,
            settings.unbounded,
            set_name=name,
            seed=seed,
            draws=draws,
            progress=progress,
        )
        for name, n in replicates.items()
    ]
    return pd.concat(frames, ignore_index=True)


def _sig(x: float, digits: int) -> float:
    x = float(x)
    if not math.isfinite(x) or x == 0:
        return x
    return float(f"{x:.{digits}g}")


# ---------------------------------------------------------------- summaries


def rank_histogram(frame: pd.DataFrame, bins: int = BINS) -> pd.DataFrame:
    """Counts of ranks per (set, parameter, bin); bins of equal width over 0..draws."""
    draws = int(frame["draws"].iloc[0])
    if (draws + 1) % bins:
        raise ValueError(f"{draws + 1} possible ranks do not split into {bins} equal bins")
    width = (draws + 1) // bins
    b = frame.assign(bin=frame["rank"] // width)
    counts = b.groupby(["set", "parameter", "bin"]).size().rename("count")
    full = pd.MultiIndex.from_product(
        [frame["set"].unique(), frame["parameter"].unique(), range(bins)],
        names=["set", "parameter", "bin"],
    )
    return counts.reindex(full, fill_value=0).reset_index()


def holm(p: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Holm's step-down rejections at family-wise level ``alpha``."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    reject = np.zeros(p.size, dtype=bool)
    for k, i in enumerate(order):
        if p[i] > alpha / (p.size - k):
            break
        reject[i] = True
    return reject


def uniformity(frame: pd.DataFrame, bins: int = BINS) -> pd.DataFrame:
    """Per set and parameter: the chi-square test of uniform ranks over ``bins`` bins (Talts et
    al.), the mean rank as a share of its range (0.5 if unbiased; above: the truth tends to lie
    above the posterior) and the share of ranks in the outer tenth of the range (0.1 if the
    spread is right; more: an overconfident posterior), with Holm's rejections per set."""
    hist = rank_histogram(frame, bins)
    draws = int(frame["draws"].iloc[0])
    rows = []
    for (set_name, parameter), h in hist.groupby(["set", "parameter"], sort=False):
        counts = h["count"].to_numpy()
        chi2, p = stats.chisquare(counts)
        ranks = frame.loc[(frame["set"] == set_name) & (frame["parameter"] == parameter), "rank"]
        share = ranks.to_numpy() / draws
        rows.append(
            {
                "set": set_name,
                "parameter": parameter,
                "replicates": int(counts.sum()),
                "chi2": float(chi2),
                "p_value": float(p),
                "mean_rank": float(share.mean()),
                "outer_tenth": float(np.mean((share < 0.05) | (share > 0.95))),
            }
        )
    out = pd.DataFrame(rows)
    out["rejected"] = False
    for _, idx in out.groupby("set", sort=False).groups.items():
        out.loc[idx, "rejected"] = holm(out.loc[idx, "p_value"].to_numpy())
    return out


def coverage(frame: pd.DataFrame, levels: Sequence[float] = LEVELS) -> pd.DataFrame:
    """Per set, parameter and level: the share of replicates whose interval holds the truth,
    its binomial Monte Carlo SE (at the nominal level), and the exact two-sided binomial test
    of the nominal level, with Holm's rejections per set over parameters and levels."""
    rows = []
    for (set_name, parameter), g in frame.groupby(["set", "parameter"], sort=False):
        n = len(g)
        for level in levels:
            hits = int(g[f"in{round(100 * level)}"].sum())
            rows.append(
                {
                    "set": set_name,
                    "parameter": parameter,
                    "level": level,
                    "replicates": n,
                    "covered": hits,
                    "coverage": hits / n,
                    "mc_se": math.sqrt(level * (1 - level) / n),
                    "p_value": float(stats.binomtest(hits, n, level).pvalue),
                }
            )
    out = pd.DataFrame(rows)
    out["rejected"] = False
    for _, idx in out.groupby("set", sort=False).groups.items():
        out.loc[idx, "rejected"] = holm(out.loc[idx, "p_value"].to_numpy())
    return out


def contraction(frame: pd.DataFrame) -> pd.DataFrame:
    """Per set and parameter: the median over replicates of the posterior SD over the prior SD
    (1: abstracts like these say nothing about the parameter)."""
    rows = []
    for (set_name, parameter), g in frame.groupby(["set", "parameter"], sort=False):
        rows.append(
            {
                "set": set_name,
                "parameter": parameter,
                "sd_ratio": float(g["sd_ratio"].median()),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- files


def read_sbc(path: Path = SBC_FILE) -> pd.DataFrame:
    """The committed calibration run, validated (file, column, rule)."""
    from anrs119.published import display_path

    shown = display_path(path)
    if not path.exists():
        raise FileNotFoundError(f"{shown}: file missing; rule: run `python -m anrs119 sbc`")
    frame = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{shown}: columns {missing} missing; rule: columns {list(COLUMNS)}")
    bad = frame.index[(frame["rank"] < 0) | (frame["rank"] > frame["draws"])]
    if len(bad):
        raise ValueError(f"{shown}: line {int(bad[0]) + 2}: column rank: rule: 0 <= rank <= draws")
    return frame


def write_sbc(frame: pd.DataFrame, path: Path = SBC_FILE) -> Path:
    from anrs119.model.files import write_csv

    return write_csv(frame[list(COLUMNS)], path)


def control_summary(frame: pd.DataFrame, share: float = CONTROL_SHRINK) -> dict:
    """What the check says of a deliberately overconfident method (:data:`CONTROL_SHRINK`)."""
    cov = coverage(frame)
    u = uniformity(frame)
    return {
        "shrink": share,
        "replicates": int(frame["replicate"].nunique()),
        "coverage": {
            f"{lv:g}": round(float(cov.loc[cov["level"] == lv, "coverage"].mean()), 4)
            for lv in LEVELS
        },
        "uniformity_rejected": int(u["rejected"].sum()),
        "coverage_rejected": int(cov["rejected"].sum()),
        "parameters": int(u.shape[0]),
    }


def settings_report(
    settings: Settings,
    table: ReferenceTable,
    frame: pd.DataFrame,
    control: pd.DataFrame | None = None,
) -> dict:
    out = {
        "reference_trials": len(table),
        "accepted": settings.accepted,
        "draws": int(frame["draws"].iloc[0]),
        "bins": BINS,
        "replicates": {
            k: int(v) for k, v in frame.groupby("set", sort=False)["replicate"].nunique().items()
        },
        "seed": SBC_SEED,
    }
    if control is not None:
        out["control"] = control_summary(control)
    return out


def sbc_main(
    progress: bool = True,
    folder: Path = MODEL_DIR,
    size: int | None = None,
    replicates: dict[str, int] | None = None,
) -> list[Path]:
    """``python -m anrs119 sbc``: the reference table (from the cache, else simulated), the
    sets of replicates, ``data/model/sbc.csv`` and its settings (``sbc_method.json``, with the
    published abstract's own bandwidth and the overconfident control)."""
    from anrs119.model.checks.batch import book_table
    from anrs119.model.inference.statistics import observed_vector, posterior_statistics

    table = book_table(size, progress)
    settings = paper_settings(table)
    observed = observed_vector(posterior_statistics())
    replicates = dict(REPLICATES) if replicates is None else replicates
    frame = run_sbc(table, observed, settings, replicates=replicates, progress=progress)
    control = run_sbc(
        table,
        observed,
        settings,
        replicates={NEAR_SET: replicates[NEAR_SET]},
        shrink=CONTROL_SHRINK,
        progress=progress,
    )
    path = write_sbc(frame, folder / SBC_FILE.name)
    method = folder / METHOD_FILE.name
    report = settings_report(settings, table, frame, control)
    engine = Posteriors(table, settings.unbounded, settings.accepted, scales=settings.scales)
    report["published_bandwidth"] = round(engine.fit(observed).bandwidth, 4)
    report["tail_screen"] = {"trials": TAIL_SCREEN, "screened_on": SCREEN_TRIALS}
    method.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return [path, method]


def read_method(path: Path = METHOD_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
