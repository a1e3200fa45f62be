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


WALK_SWEEPS: int = 1500
"""Proposals of the walk within the exact set after the search's first exact trial, in multiples
of the trial size: the reconstruction is the trial where the walk ends (the reconstruction
chapter's mixing check shows how far the first hit is forgotten by then)."""


PAIR_SHARE: float = 0.5
"""Share of the walk's proposals that swap two patients of the same arm at once (the rest swap
one): two swaps together can change the size of the low-viral-load subgroup and keep its
Kaplan-Meier percentages and the deferral, which one swap almost never can."""


LOCAL_SHARE: float = 0.3
"""Share of the walk's proposals that replace a patient by a neighbour in viral-load change (the
rank-sum P of the changes is printed to two decimals, so a random replacement usually breaks
it; a neighbour rarely does)."""


LOCAL_WIDTH: int = 10
"""A neighbour is 1 to LOCAL_WIDTH places away in its stratum sorted by viral-load change."""


RELAX: dict[str, float] = {
    "lowvl_art_deferral": 2.0,
    "lowvl_free_w150_il2": 1.0,
    "lowvl_free_w150_control": 1.0,
}
"""Claims the walk may miss by this much (printed units) between its exact trials. Only exact
trials are kept, and the walk's target is uniform on its larger set, so the kept trials are
uniform on the exact ones; the room lets the two arms' 25th percentiles of time to ART (whose
difference is the deferral) and the subgroup's size move one patient at a time."""
