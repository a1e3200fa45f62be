"""Time the ABC-SMC calibration (main run plus the reduced second-seed run) on this machine.

Writes to a temporary folder, so the committed data/model/posterior.csv is untouched. Parallel
ABC is not bitwise reproducible, so the result is compared with the committed sample only
through its posterior medians. Then the cost of one particle, part by part (one process):
the simulated trial (the model call pyabc makes), and the proposal draw and the two densities
(transition, prior) pyabc evaluates for it. ``--particles-only`` stops there.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.inference.abc import TrialModel, _abc_prior, _transition, run_calibration
from anrs119.model.inference.priors import load_priors
from anrs119.model.inference.sample import POSTERIOR_FILE, load_posterior, posterior_medians
from anrs119.model.inference.statistics import base_values, statistics

PARTICLES = 300

BUDGET_SECONDS = 6 * 60.0
"""Share of the 10-minute `make data` budget given to the calibration."""


def _ms_per_call(f, n: int = PARTICLES) -> float:
    f()  # warm-up: numba compilation or cache load
    start = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - start) / n * 1e3


def particle_costs() -> None:
    """Milliseconds per particle for each part pyabc runs, in one process."""
    priors = load_priors()
    model = TrialModel(base_values(priors), priors, statistics())
    prior = _abc_prior(priors)
    np.random.seed(1)  # noqa: NPY002 (pyabc draws through numpy's global state)
    population = pd.DataFrame([prior.rvs() for _ in range(PARTICLES)])
    transition = _transition(priors, 1.0)
    transition.fit(population, np.full(PARTICLES, 1.0 / PARTICLES))
    x = transition.rvs_single()
    parts = {
        "simulated trial (model)": lambda: model(x),
        "proposal draw": transition.rvs_single,
        "proposal density": lambda: transition.pdf(x),
        "prior density": lambda: prior.pdf(x),
    }
    for name, f in parts.items():
        print(f"  {name:24s} {_ms_per_call(f):7.2f} ms per particle")


def main() -> None:
    if "--particles-only" in sys.argv[1:]:
        particle_costs()
        return
    # The particle costs run the parallel kernel in this process, after which pyabc's forked
    # workers would die (GNU OpenMP refuses a fork): they come after the calibration.
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run_calibration(folder=Path(folder), progress=True)
        seconds = time.perf_counter() - start
        diag = pd.read_csv(Path(folder) / "abc_diagnostics.csv")
        new = posterior_medians(load_posterior(Path(folder) / "posterior.csv"))
    old = posterior_medians(load_posterior(POSTERIOR_FILE))
    verdict = "within" if seconds <= BUDGET_SECONDS else "OVER"
    print(
        f"calibration: {int(diag['simulations'].sum()):,} simulated trials in {seconds:.1f} s "
        f"({verdict} the {BUDGET_SECONDS:.0f} s budget)"
    )
    for name, value in new.items():
        print(f"  {name:18s} posterior median {value:10.4g} (committed {old[name]:10.4g})")
    particle_costs()


if __name__ == "__main__":
    main()
