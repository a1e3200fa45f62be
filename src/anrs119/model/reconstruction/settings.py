"""Settings of the reconstruction search (pool size, annealing schedule, restarts): read by the
search, by the provenance it writes and by the chapters, without the simulator."""

from __future__ import annotations

POOL_PER_ARM: int = 1500
"""Patients simulated per arm for one reconstruction (about 23 times the arm sizes): enough that
every stratum the search draws from (arm x week-96 event x baseline viral load) is well stocked."""


SWEEPS: int = 100
"""Proposals per annealing round, in multiples of the trial size (one sweep = one proposal per
patient on average)."""


ROUNDS: int = 12
"""Annealing rounds, each re-heating from where the last one stopped; a search that has not
reached every target after them is a failure, recorded as such (never a nearly-exact result)."""


RESTARTS: int = 2
"""Fresh starting trials tried from the same pool before a reconstruction is declared failed."""


EMBEDDED_ATTEMPTS: int = 6
"""Pools tried, in order, for the embedded reconstruction before giving up (each pool is a new
replicate of the seed: new patients from the same parameter point)."""
