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

from anrs119.model.inference.priors import FREE_PARAMETERS, Prior, Priors, load_priors
from anrs119.model.inference.sample import (
    POSTERIOR_DIGITS,
    POSTERIOR_FILE,
    _round_sig,
    weighted_quantile,
    write_posterior,
)
from anrs119.model.inference.statistics import (
    Statistic,
    base_values,
    observed_statistics,
    statistic_values,
    statistics,
)
from anrs119.paths import MODEL_DIR
from anrs119.seeds import ABC_SEED, ABC_SEED_CHECK

DIAGNOSTICS_FILE: Path = MODEL_DIR / "abc_diagnostics.csv"
STABILITY_FILE: Path = MODEL_DIR / "abc_stability.csv"
SCHEDULER_ENV: str = "ANRS119_DASK_SCHEDULER"


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


# ---------------------------------------------------------------- the model pyabc calls


class TrialModel:
    """pyabc model: internal coordinates -> one simulated trial -> ABC statistics."""

    def __init__(self, base: Mapping[str, float], priors: Priors, stats_: Sequence[Statistic]):
        self.base = dict(base)
        self.priors = priors
        self.stats = tuple(stats_)

    def natural(self, internal: Mapping[str, float]) -> dict[str, float]:
        return {p.parameter: float(p.to_natural(internal[p.parameter])) for p in self.priors}

    def __call__(self, internal: Mapping[str, float]) -> dict[str, float]:
        from anrs119.model.inference.draws import simulate_draws
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

    from anrs119.model.inference.proposals import IndependentNormalPrior

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
    (:mod:`anrs119.model.inference.proposals`)."""
    from anrs119.model.inference.proposals import MarginalKdeTransition

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
    from anrs119.model.files import write_csv

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
