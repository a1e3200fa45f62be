"""Inference: literature priors, the ABC statistics, draws and predictive simulation, and the
posterior (its method and its stored sample)."""
