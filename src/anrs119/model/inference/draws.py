"""Parameter draws and the trials simulated from them: prior and posterior draws, and the claim
summaries of one simulated trial per draw, in seeded chunks (the predictive distributions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anrs119.model.inference.priors import Priors
from anrs119.model.inference.sample import resample
from anrs119.seeds import POSTERIOR_PREDICTIVE_SEED, PRIOR_PREDICTIVE_SEED

CHUNK: int = 200
N_DRAWS: int = 2000


def _seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def simulate_draws(
    base: Mapping[str, float],
    draws: Mapping[str, np.ndarray],
    replicates: int,
    seed: int,
    visits: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Claim summaries of ``replicates`` trials; trial r uses the r-th value of each draw
    (the simulator's vectorised ``simulate_claims`` with per-replicate parameters)."""
    from anrs119.model.simulator.simulate import simulate_claims

    p: dict[str, object] = dict(base)
    p.update({k: np.asarray(v, dtype=float) for k, v in draws.items()})
    return dict(simulate_claims(p, replicates, seed, visits=visits))


@dataclass(frozen=True)
class _Task:
    base: dict[str, float]
    draws: dict[str, np.ndarray]
    seed: int
    visits: np.ndarray | None


def _run_task(task: _Task) -> dict[str, np.ndarray]:
    from anrs119.parallel import single_threaded

    single_threaded()
    n = len(next(iter(task.draws.values()))) if task.draws else 1
    return simulate_draws(task.base, task.draws, n, task.seed, task.visits)


def predictive_summaries(
    base: Mapping[str, float],
    draws: Mapping[str, np.ndarray],
    seed: int,
    *,
    visits: np.ndarray | None = None,
    chunk: int = CHUNK,
    desc: str = "predictive trials",
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """One trial per draw, in seeded chunks run by :func:`anrs119.parallel.run_tasks`."""
    from anrs119.parallel import run_tasks

    n = len(next(iter(draws.values())))
    tasks = [
        _Task(
            dict(base),
            {k: np.asarray(v)[i : i + chunk] for k, v in draws.items()},
            _seed(seed, i // chunk),
            visits,
        )
        for i in range(0, n, chunk)
    ]
    parts = run_tasks(_run_task, tasks, desc=desc, progress=progress)
    keys = [k for k in parts[0] if all(k in q for q in parts)]
    return {k: np.concatenate([q[k] for q in parts]) for k in keys}


def prior_draws(priors: Priors, n: int = N_DRAWS, seed: int = PRIOR_PREDICTIVE_SEED):
    return priors.sample(np.random.default_rng(seed), n)


def posterior_draws(sample: pd.DataFrame, n: int = N_DRAWS, seed: int = POSTERIOR_PREDICTIVE_SEED):
    return resample(sample, n, np.random.default_rng(seed))
