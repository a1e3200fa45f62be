"""Every random seed of the project, in one place.

All randomness goes through ``numpy.random.default_rng(seed)`` with one of these seeds,
so regenerating any data file gives byte-identical output.
"""

from __future__ import annotations

CALIBRATION_SEED: int = 20090715
"""Common random numbers for the calibration cohorts (publication date of the paper)."""

RECONSTRUCTION_SEED: int = 119
"""The embedded reconstruction: its pool of model-drawn patients, the search, the subject order."""

ENSEMBLE_SEED: int = 2009_206_15
"""The ensemble of reconstructions (posterior draws, pools, searches) and the unconditioned
posterior-predictive trials it is compared with (the paper's volume, first and last page)."""

PREDICTIVE_SEED: int = 2003_12
"""Replicate trials used for the model's predictive intervals in the scorecard."""

TEST_SEED: int = 12345
"""Seed for randomness inside tests (property tests draw their own examples via hypothesis)."""

FORENSIC_SEED: int = 150
"""Event-time patterns in the forensic chapter's log-rank sensitivity check (week 150)."""

PRIOR_PREDICTIVE_SEED: int = 2004_1
"""Prior draws and their simulated trials (prior-predictive checks)."""

POSTERIOR_PREDICTIVE_SEED: int = 2009_7
"""Posterior draws (resampled from the stored sample) and their trials."""

SENSITIVITY_SEED: int = 2006_11
"""Posterior draws and trials of the sensitivity analysis (the same for every scenario)."""

BOOTSTRAP_SEED: int = 2009_215
"""Percentile bootstraps of the methods chapters (deferral readings, IPCW change); the paper's
year and last page."""

OPERATING_SEED: int = 2009_0706
"""Replicate trials of the operating-characteristics scenarios (power, type I error, coverage)."""

REFERENCE_SEED: int = 1995_332
"""The reference table of prior-predictive trials from which every posterior is computed (the
first trial of IL-2 in HIV, Kovacs et al., N Engl J Med 1995;332)."""

POSTERIOR_BOOTSTRAP_SEED: int = 2002_162
"""Poisson bootstrap of the reference table: Monte Carlo errors of the posterior quantiles
(Beaumont, Zhang and Balding, Genetics 2002;162)."""

SBC_SEED: int = 2018_1804
"""Simulation-based calibration: the replicates drawn from the reference table and the posterior
draws each rank is taken among (Talts et al. 2018, arXiv:1804.06788)."""

CONFRONTATION_SEED: int = 2011_15112
"""The confrontation with the subgroup result: posterior-predictive draws and trials of every
posterior compared (the same random numbers for each: common random numbers), and the bootstrap
of the left-out posteriors (Robert et al., PNAS 2011;108:15112, on ABC model choice)."""

ESTIMANDS_TRUTH_SEED: int = 2009_119
"""The hypothetical estimands' known truth: the large cohorts simulated with ART made impossible,
and the posterior draws at which the truth is also computed."""

ESTIMANDS_TRIALS_SEED: int = 2009_096
"""Trials simulated to validate the hypothetical estimands (the same patients under both models of
ART start: common random numbers)."""

ESTIMANDS_BOOTSTRAP_SEED: int = 2009_097
"""Subject order and bootstrap resamples of those trials (one seed per trial derived from it)."""

MIXING_SEED: int = 119_2
"""The mixing check of the walk within the exact set of reconstructions (its pool, starts and
chains) and the pool-size comparison."""

SIMULATED_ABSTRACT_SEED: int = 119_50
"""Parameter points drawn from the prior, their trials and printed abstracts, and the pipeline
run on each (posterior draws, pools, searches, walks, reference trials): the calibration of the
reconstructions and the false-alarm rate of the what-if verdict."""

WHATIF_SEED: int = 119_3
"""A what-if abstract's posterior draws, predictive trials and reconstructions."""
