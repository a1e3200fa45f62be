"""Rebuild the published results of the ANRS 119 trial (IL-2 before ART) from ADaM data."""

__version__ = "0.1.0"

ARMS: tuple[str, str] = ("IL-2", "Control")
"""Arm labels, in the order used everywhere in the book (tables, figures, legends)."""

ARM_CODES: dict[str, str] = {"IL-2": "IL2", "Control": "CTRL"}
