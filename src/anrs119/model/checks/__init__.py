"""Checks of the model and its posterior: prior- and posterior-predictive checks, predictive
intervals, sensitivity to assumptions, and the model chapter's diagnostics."""
