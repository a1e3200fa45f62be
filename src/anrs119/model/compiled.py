"""Compile every numba kernel of the model into numba's on-disk cache, once.

Processes started afterwards (test workers, the book's notebook kernels) then load the kernels
instead of each compiling them again: about a minute of one core per process on a fresh clone.
"""

from __future__ import annotations

import time

import numpy as np


def compile_kernels() -> float:
    """Run each compiled entry point once on a small input; returns the seconds it took."""
    from anrs119.model.reconstruction.search import warm_up
    from anrs119.model.simulator.parameters import default_parameters
    from anrs119.model.simulator.simulate import simulate_claims, simulate_trials
    from anrs119.model.simulator.summaries import mann_whitney
    from anrs119.seeds import TEST_SEED

    start = time.perf_counter()
    p = default_parameters(calibrated=True).values()
    simulate_claims(p, 2, seed=TEST_SEED)  # simulator, claim summaries, Fisher rows
    next(simulate_trials(p, 1, seed=TEST_SEED, full=True))  # the per-visit variant
    mann_whitney(np.arange(3.0)[None, :], np.arange(1.0, 4.0)[None, :])
    warm_up(p, TEST_SEED)  # the search and the walk kernels
    return time.perf_counter() - start
