"""Posterior of the free parameters given the paper's numbers, by ABC-SMC (pyabc).

The published claims are treated as one observed trial: each particle simulates one trial of
the published size, its claim summaries are turned into the ABC statistics below, and pyabc's
adaptive weighted Euclidean distance compares them with the published ones. The run is parallel
and therefore not bitwise reproducible: its output, the weighted sample in
``data/model/posterior.csv``, is stored, and everything downstream is computed from it.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.priors import FREE_PARAMETERS, Prior, Priors, load_priors
from anrs119.paths import MODEL_DIR
from anrs119.seeds import ABC_SEED, ABC_SEED_CHECK

POSTERIOR_FILE: Path = MODEL_DIR / "posterior.csv"
DIAGNOSTICS_FILE: Path = MODEL_DIR / "abc_diagnostics.csv"
STABILITY_FILE: Path = MODEL_DIR / "abc_stability.csv"
SCHEDULER_ENV: str = "ANRS119_DASK_SCHEDULER"

P_FLOOR: float = 1e-12
"""P values are compared on the log10 scale, floored here (a simulated P of 0 is finite)."""

POSTERIOR_DIGITS: int = 5
"""Significant digits of the stored parameter values (far below Monte Carlo error)."""


@dataclass(frozen=True)
class AbcSettings:
    """Size of an ABC-SMC run: particles per generation and the stopping rules."""

    population: int = 400
    generations: int = 8
    max_simulations: int = 60_000
    max_minutes: float = 5.0
    workers: int = 2
    kernel_scaling: float = 1.0
    """Multiplier of pyabc's (Silverman) proposal covariance; >1 widens the proposals."""
    min_acceptance: float = 0.04
    """Stop when a generation accepts fewer; it also caps one generation's simulations at
    population / min_acceptance (pyabc checks the other limits only between generations)."""


FULL = AbcSettings(population=300, generations=10, max_simulations=40_000, max_minutes=3.5)
CHECK = AbcSettings(population=150, generations=6, max_simulations=8_000, max_minutes=1.5)
"""The second-seed stability run is reduced (stated in the chapter)."""


# ---------------------------------------------------------------- the statistics


@dataclass(frozen=True)
class Statistic:
    """One numeric result claim as an ABC statistic."""

    id: str
    value: float
    bound: str
    log_scale: bool
    cap: float | None = None

    @property
    def observed(self) -> float:
        """The published value on the statistic's scale (0 for a bound: no excess)."""
        if self.bound != "=":
            return 0.0
        return float(_log_p(np.array(self.value))) if self.log_scale else self.value


def _log_p(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.log10(np.clip(x, P_FLOOR, 1.0))


def statistics(specs: Sequence | None = None) -> tuple[Statistic, ...]:
    """The numeric result claims of the registry, as ABC statistics.

    A bound such as "P < .001" becomes the one-sided excess ``max(log10 P - log10 .001, 0)``,
    observed as 0; the deferral (a difference of quantiles of time to ART) is capped at plus
    or minus the subgroup week when one arm's quantile is not reached, and set to 0 when
    neither is.
    """
    from anrs119.published import claim_value, load_claims

    c = load_claims()
    res = c[(c["kind"] == "result") & c["value"].notna()]
    cap = float(claim_value("subgroup_timepoint_weeks"))
    out = []
    for cid, r in res.iterrows():
        out.append(
            Statistic(
                id=str(cid),
                value=float(r["value"]),
                bound=str(r["bound"]),
                log_scale=r["statistic"] == "p_value",
                cap=cap if r["statistic"] == "difference" else None,
            )
        )
    return tuple(out)


def transform(stat: Statistic, x: np.ndarray) -> np.ndarray:
    """Summary values (printed units) -> the statistic's scale (see :func:`statistics`)."""
    x = np.asarray(x, dtype=float)
    if stat.log_scale:
        y = _log_p(x)
        if stat.bound == "<":
            y = np.maximum(y - math.log10(stat.value), 0.0)
        elif stat.bound == ">":
            y = np.maximum(math.log10(stat.value) - y, 0.0)
        return y
    if stat.bound == "<":
        return np.maximum(x - stat.value, 0.0)
    if stat.bound == ">":
        return np.maximum(stat.value - x, 0.0)
    if stat.cap is not None:
        x = np.where(np.isnan(x), 0.0, np.clip(x, -stat.cap, stat.cap))
    return x


def observed_statistics(stats_: Sequence[Statistic]) -> dict[str, float]:
    return {s.id: s.observed for s in stats_}


def statistic_values(
    summaries: Mapping[str, np.ndarray], stats_: Sequence[Statistic]
) -> dict[str, np.ndarray]:
    return {s.id: transform(s, summaries[s.id]) for s in stats_}


# ---------------------------------------------------------------- the model pyabc calls


def base_values(priors: Priors) -> dict[str, float]:
    """Fixed parameters (literature, assumed, registry, published) plus the prior medians."""
    from anrs119.model.parameters import default_parameters

    base = default_parameters(calibrated=False).values()
    base.update(priors.medians())
    return base


class TrialModel:
    """pyabc model: internal coordinates -> one simulated trial -> ABC statistics."""

    def __init__(self, base: Mapping[str, float], priors: Priors, stats_: Sequence[Statistic]):
        self.base = dict(base)
        self.priors = priors
        self.stats = tuple(stats_)

    def natural(self, internal: Mapping[str, float]) -> dict[str, float]:
        return {p.parameter: float(p.to_natural(internal[p.parameter])) for p in self.priors}

    def __call__(self, internal: Mapping[str, float]) -> dict[str, float]:
        from anrs119.model.checks import simulate_draws
        from anrs119.parallel import single_threaded

        single_threaded()

        p = dict(self.base, **self.natural(internal))
        # pyabc seeds numpy's global state per worker; the trial seed is drawn from it
        seed = int(np.random.randint(0, 2**31 - 1))  # noqa: NPY002
        s = simulate_draws(p, {}, 1, seed)
        return {k: float(v[0]) for k, v in statistic_values(s, self.stats).items()}


def _abc_prior(priors: Priors):
    """pyabc prior on the internal scale (normal, truncated where the prior is bounded)."""
    import pyabc

    from anrs119.model.proposals import IndependentNormalPrior

    rvs = {}
    for p in priors:
        lo, hi = p.internal_bounds()
        if math.isinf(lo) and math.isinf(hi):
            mu = math.log(p.loc) if p.log_scale else p.loc
            rvs[p.parameter] = pyabc.RV("norm", mu, p.scale)
        else:
            rvs[p.parameter] = pyabc.RV("truncnorm", *_truncnorm_args(p))
    return IndependentNormalPrior(**rvs)


def _transition(priors: Priors, scaling: float):
    """Product of one-dimensional Gaussian kernels, one per parameter. A single 14-dimensional
    kernel makes the importance weights degenerate: each particle's weight inherits the
    chi-square fluctuation of its parent kernel's density (a trial run fell to an effective
    sample size of 2 in three generations); one-dimensional kernels overlap and keep it high.
    The proposal is pyabc's aggregate of one-dimensional kernels, computed in one numpy step
    (:mod:`anrs119.model.proposals`)."""
    from anrs119.model.proposals import MarginalKdeTransition

    return MarginalKdeTransition(scaling=scaling)


def _truncnorm_args(p: Prior) -> tuple[float, float, float, float]:
    mu = math.log(p.loc) if p.log_scale else p.loc
    lo, hi = p.internal_bounds()
    return ((lo - mu) / p.scale, (hi - mu) / p.scale, mu, p.scale)


def mad_or_std(*, samples: np.ndarray, **kwargs) -> np.ndarray:
    """Scale of each statistic: MAD (x 1.4826) across the sample, or its SD where the MAD is 0
    (a bound met by most particles), or 1 if both vanish."""
    samples = np.asarray(samples, dtype=float)
    with np.errstate(all="ignore"):
        mad = 1.4826 * np.nanmedian(np.abs(samples - np.nanmedian(samples, axis=0)), axis=0)
        sd = np.nanstd(samples, axis=0)
    out = np.where(mad > 0, mad, sd)
    return np.where(np.isfinite(out) & (out > 0), out, 1.0)


def sampler(workers: int = 2):
    """pyabc's Dask sampler when ANRS119_DASK_SCHEDULER names a scheduler, else local processes."""
    import pyabc

    address = os.environ.get(SCHEDULER_ENV, "").strip()
    if address:
        from distributed import Client

        return pyabc.sampler.DaskDistributedSampler(dask_client=Client(address), batch_size=4)
    if workers <= 1:
        return pyabc.sampler.SingleCoreSampler()
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers)


@dataclass(frozen=True)
class AbcResult:
    """The weighted posterior sample (natural units) and per-generation diagnostics."""

    sample: pd.DataFrame
    diagnostics: pd.DataFrame
    seconds: float


def run_abc(
    settings: AbcSettings = FULL,
    seed: int = ABC_SEED,
    priors: Priors | None = None,
    base: Mapping[str, float] | None = None,
    progress: bool = True,
) -> AbcResult:
    """One ABC-SMC run; ``base`` overrides the fixed parameters (reduced test runs)."""
    import pyabc
    from tqdm import tqdm

    for name in ("pyabc", "Sampler", "Distance", "Epsilon", "Acceptor", "Population"):
        logging.getLogger(name).setLevel(logging.WARNING)
    priors = priors or load_priors()
    base = dict(base) if base is not None else base_values(priors)
    stats_ = statistics()
    model = TrialModel(base, priors, stats_)
    np.random.seed(seed)  # noqa: NPY002 (pyabc draws through numpy's global state)
    distance = pyabc.AdaptivePNormDistance(p=2, scale_function=mad_or_std)
    smp = sampler(settings.workers)
    abc = pyabc.ABCSMC(
        model,
        _abc_prior(priors),
        distance,
        population_size=settings.population,
        transitions=_transition(priors, settings.kernel_scaling),
        sampler=smp,
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        abc.new("sqlite:///" + str(Path(folder) / "abc.db"), observed_statistics(stats_))
        bar = tqdm(total=settings.generations, desc=f"ABC-SMC (seed {seed})", disable=not progress)
        handler = _ProgressHandler(bar)
        logger = logging.getLogger("ABC")
        saved = (logger.handlers[:], logger.level, logger.propagate)
        # pyabc's INFO lines feed the bar instead of the terminal
        logger.handlers, logger.propagate = [handler], False
        logger.setLevel(logging.INFO)
        try:
            history = abc.run(
                max_nr_populations=settings.generations,
                max_total_nr_simulations=settings.max_simulations,
                max_walltime=timedelta(minutes=settings.max_minutes),
                min_acceptance_rate=settings.min_acceptance,
            )
        finally:
            logger.handlers, logger.propagate = saved[0], saved[2]
            logger.setLevel(saved[1])
            bar.close()
            if hasattr(smp, "shutdown"):  # the Dask sampler's client
                smp.shutdown()
        sample, diag = _collect(history, priors)
    return AbcResult(sample=sample, diagnostics=diag, seconds=time.perf_counter() - start)


class _ProgressHandler(logging.Handler):
    """Moves a tqdm bar on pyabc's "t: N, eps: E." log lines (one per generation)."""

    def __init__(self, bar) -> None:
        super().__init__(logging.INFO)
        self.bar = bar

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("t: ") and ", eps: " in msg:
            t = int(msg[3:].split(",")[0])
            self.bar.n = t
            self.bar.set_postfix(eps=msg.split("eps: ")[1].rstrip("."))
            self.bar.refresh()
        elif msg.startswith("Stop"):
            self.bar.set_postfix_str(msg)


def _collect(history, priors: Priors) -> tuple[pd.DataFrame, pd.DataFrame]:
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    rows = []
    for _, r in pops.iterrows():
        t = int(r["t"])
        _, w = history.get_distribution(m=0, t=t)
        rows.append(
            {
                "generation": t,
                "epsilon": float(r["epsilon"]),
                "particles": int(r["particles"]),
                "simulations": int(r["samples"]),
                "acceptance_rate": float(r["particles"]) / float(r["samples"]),
                "ess": float(effective_sample_size(np.asarray(w))),
            }
        )
    df, w = history.get_distribution(m=0, t=history.max_t)
    sample = pd.DataFrame({p.parameter: p.to_natural(df[p.parameter].to_numpy()) for p in priors})
    sample["weight"] = np.asarray(w, dtype=float) / float(np.sum(w))
    return sample, pd.DataFrame(rows)


# ---------------------------------------------------------------- stored sample


def _round_sig(x: np.ndarray, digits: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(x != 0, np.floor(np.log10(np.abs(x))), 0.0)
    factor = 10.0 ** (digits - 1 - mag)
    return np.round(x * factor) / factor


def round_sample(sample: pd.DataFrame, digits: int = POSTERIOR_DIGITS) -> pd.DataFrame:
    out = sample.copy()
    for col in out.columns:
        out[col] = _round_sig(out[col].to_numpy(), digits)
    return out


def write_posterior(sample: pd.DataFrame, path: Path = POSTERIOR_FILE) -> Path:
    from anrs119.model.realize import write_csv

    cols = [*FREE_PARAMETERS, "weight"]
    missing = [c for c in cols if c not in sample.columns]
    if missing:
        raise ValueError(f"posterior sample lacks columns {missing}")
    return write_csv(round_sample(sample[cols]), path)


class PosteriorError(ValueError):
    """The stored posterior sample is missing or malformed (file, line, column, rule)."""


def load_posterior(path: Path = POSTERIOR_FILE) -> pd.DataFrame:
    """The stored weighted sample, validated: one column per free parameter plus ``weight``."""
    from anrs119.published import display_path

    shown = display_path(path)
    if not path.exists():
        raise PosteriorError(
            f"{shown}: file missing; rule: run `python -m anrs119 calibrate` to compute it"
        )
    frame = pd.read_csv(path)
    cols = [*FREE_PARAMETERS, "weight"]
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise PosteriorError(f"{shown}: columns {missing}: rule: every free parameter and weight")
    for col in cols:
        bad = ~np.isfinite(pd.to_numeric(frame[col], errors="coerce"))
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise PosteriorError(f"{shown}: line {line}: column {col}: rule: a finite number")
    if (frame["weight"] < 0).any() or frame["weight"].sum() <= 0:
        raise PosteriorError(f"{shown}: column weight: rule: non-negative, positive total")
    frame = frame[cols].astype(float)
    frame["weight"] = frame["weight"] / frame["weight"].sum()
    return frame


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: Sequence[float] | float) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted CDF at mid-points)."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(q, dtype=float), cdf, x)


def posterior_medians(sample: pd.DataFrame | None = None) -> dict[str, float]:
    """Weighted posterior median of every free parameter (the point used for the embedded trial)."""
    sample = load_posterior() if sample is None else sample
    w = sample["weight"].to_numpy()
    return {
        n: float(_round_sig(weighted_quantile(sample[n].to_numpy(), w, 0.5), POSTERIOR_DIGITS))
        for n in FREE_PARAMETERS
    }


def resample(sample: pd.DataFrame, size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``size`` draws from the weighted sample (systematic resampling: low variance)."""
    w = sample["weight"].to_numpy()
    cdf = np.cumsum(w) / w.sum()
    u = (rng.random() + np.arange(size)) / size
    idx = np.minimum(np.searchsorted(cdf, u, side="right"), len(w) - 1)
    idx = rng.permutation(idx)
    return {n: sample[n].to_numpy()[idx] for n in FREE_PARAMETERS}


# ---------------------------------------------------------------- stability and diagnostics


def stability_table(runs: Mapping[str, tuple[pd.DataFrame, AbcSettings]]) -> pd.DataFrame:
    rows = []
    for label, (sample, settings) in runs.items():
        w = sample["weight"].to_numpy()
        for n in FREE_PARAMETERS:
            med, lo, hi = weighted_quantile(sample[n].to_numpy(), w, [0.5, 0.025, 0.975])
            rows.append(
                {
                    "parameter": n,
                    "run": label,
                    "population": settings.population,
                    "median": med,
                    "low95": lo,
                    "high95": hi,
                }
            )
    frame = pd.DataFrame(rows)
    for col in ("median", "low95", "high95"):
        frame[col] = _round_sig(frame[col].to_numpy(), POSTERIOR_DIGITS)
    return frame


def run_calibration(
    settings: AbcSettings = FULL,
    check: AbcSettings | None = CHECK,
    folder: Path = MODEL_DIR,
    progress: bool = True,
) -> list[Path]:
    """The full calibration: main run -> posterior.csv; diagnostics of both runs; stability."""
    from anrs119.model.realize import write_csv

    main = run_abc(settings, ABC_SEED, progress=progress)
    runs = {"main": (main.sample, settings)}
    diags = [main.diagnostics.assign(run="main")]
    if check is not None:
        second = run_abc(check, ABC_SEED_CHECK, progress=progress)
        runs["second seed (reduced)"] = (second.sample, check)
        diags.append(second.diagnostics.assign(run="second seed (reduced)"))
    diag = pd.concat(diags, ignore_index=True)
    diag = diag[
        ["run", "generation", "epsilon", "particles", "simulations", "acceptance_rate", "ess"]
    ]
    for col in ("epsilon", "acceptance_rate", "ess"):
        diag[col] = _round_sig(diag[col].to_numpy(), 4)
    paths = [
        write_posterior(main.sample, folder / POSTERIOR_FILE.name),
        write_csv(diag, folder / DIAGNOSTICS_FILE.name),
        write_csv(stability_table(runs), folder / STABILITY_FILE.name),
    ]
    print(f"ABC-SMC: {main.seconds:.0f} s for the main run")
    return paths
