"""Names of the simulator's claim-summary keys that other stages read (a light module: importing
it loads no kernel)."""

from __future__ import annotations

NO_DIFFERENCE_SUFFIX: str = "__no_difference"
"""Suffix of the key holding, per simulated trial, the book's one rule's verdict on a safety
statement (1.0: no difference detected). No ':' in it: keys with ':' are a claim's alternative
readings."""
