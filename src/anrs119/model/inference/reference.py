"""The reference table: trials simulated from the prior, each kept as its parameter draw and the
published statistics it prints. Every posterior of the book (the paper's, and the hundreds the
calibration needs) is computed from this one table, so the simulation is paid once.

The table is regenerated from a committed seed in seeded chunks (locally or on Dask, the same
bytes either way) and cached on disk, never committed: ``.cache/`` in the repository, or the
folder named by ``ANRS119_CACHE``. The cache file's name carries a hash of everything the table
depends on (the priors, the claims, the forensic allocation, the simulator's source, the seed
and the size), so a change to any of them builds a new table.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anrs119.model.inference.draws import _seed, simulate_draws
from anrs119.model.inference.priors import Priors, load_priors
from anrs119.model.inference.statistics import (
    PrintedStatistic,
    base_values,
    posterior_statistics,
    printed_matrix,
)
from anrs119.paths import FORENSIC_DIR, MODEL_DIR, PUBLISHED_DIR, REPO_ROOT
from anrs119.seeds import REFERENCE_SEED

REFERENCE_SIZE: int = 1_000_000
"""Prior-predictive trials in the table (issue #25: at least a million)."""

CHUNK: int = 5_000
"""Trials per seeded task: the unit of parallel work (one seed each, so the table is the same
whatever the number of workers)."""

CACHE_ENV: str = "ANRS119_CACHE"
"""Environment variable naming the cache folder (default: ``.cache`` in the repository)."""

_SOURCES: tuple[Path, ...] = (
    PUBLISHED_DIR / "claims.csv",
    MODEL_DIR / "priors.csv",
    FORENSIC_DIR / "allocation.json",
)


@dataclass(frozen=True)
class ReferenceTable:
    """Parameter draws (natural scale, ``names`` order) and their trials' printed statistics."""

    parameters: np.ndarray
    statistics: np.ndarray
    names: tuple[str, ...]
    statistic_ids: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.parameters.shape[0])

    def take(self, rows: np.ndarray | slice) -> ReferenceTable:
        return ReferenceTable(self.parameters[rows], self.statistics[rows], self.names,
                              self.statistic_ids)  # fmt: skip

    def halves(self) -> tuple[ReferenceTable, ReferenceTable]:
        """The first and the second half: two independent tables (every row is its own draw)."""
        mid = len(self) // 2
        return self.take(slice(0, mid)), self.take(slice(mid, 2 * mid))

    def column(self, statistic_id: str) -> np.ndarray:
        return self.statistics[:, self.statistic_ids.index(statistic_id)]


@dataclass(frozen=True)
class _Task:
    base: dict[str, float]
    priors: Priors
    statistics: tuple[PrintedStatistic, ...]
    seed: int
    index: int
    size: int


def _run_chunk(task: _Task) -> tuple[np.ndarray, np.ndarray]:
    from anrs119.parallel import single_threaded

    single_threaded()
    rng = np.random.default_rng([task.seed, task.index])
    draws = task.priors.sample(rng, task.size)
    summaries = simulate_draws(task.base, draws, task.size, _seed(task.seed, task.index))
    params = np.column_stack([draws[n] for n in task.priors.names])
    return params, printed_matrix(summaries, task.statistics)


def build_reference_table(
    size: int,
    seed: int = REFERENCE_SEED,
    *,
    chunk: int = CHUNK,
    priors: Priors | None = None,
    statistics: Sequence[PrintedStatistic] | None = None,
    progress: bool = True,
    options: Mapping[str, float] | None = None,
    desc: str = "reference table (prior-predictive trials)",
) -> ReferenceTable:
    """Simulate ``size`` prior-predictive trials in seeded chunks, in parallel
    (:func:`anrs119.parallel.run_tasks`). ``priors`` may add free parameters beyond the
    book's (sampled after them, so the book's get the same draws) and ``options`` fixes
    simulator options (a model extension); the table keeps every parameter of ``priors``."""
    from anrs119.parallel import run_tasks

    priors = load_priors() if priors is None else priors
    stats_ = tuple(posterior_statistics() if statistics is None else statistics)
    base = base_values(priors)
    base.update(options or {})
    tasks = [
        _Task(base, priors, stats_, seed, i, min(chunk, size - start))
        for i, start in enumerate(range(0, size, chunk))
    ]
    parts = run_tasks(_run_chunk, tasks, desc=desc, progress=progress)
    return ReferenceTable(
        np.concatenate([p for p, _ in parts]),
        np.concatenate([s for _, s in parts]),
        priors.names,
        tuple(s.id for s in stats_),
    )


def load_table(path: Path) -> ReferenceTable:
    """A table stored by :func:`save_table`."""
    with np.load(path) as f:
        return ReferenceTable(
            f["parameters"],
            f["statistics"],
            tuple(str(x) for x in f["names"]),
            tuple(str(x) for x in f["statistic_ids"]),
        )


def save_table(table: ReferenceTable, path: Path) -> None:
    """Store ``table`` at ``path`` (written aside, then moved: never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez(
        partial,
        parameters=table.parameters,
        statistics=table.statistics,
        names=np.array(table.names),
        statistic_ids=np.array(table.statistic_ids),
    )
    partial.replace(path)


def cache_folder() -> Path:
    text = os.environ.get(CACHE_ENV, "").strip()
    return Path(text) if text else REPO_ROOT / ".cache"


def cache_key(size: int, seed: int, chunk: int) -> str:
    """Hash of every input of the table: the data files it reads and the simulator's source."""
    import anrs119.model.inference as inference
    import anrs119.model.simulator as simulator

    h = hashlib.sha256(f"{size}:{seed}:{chunk}".encode())
    code = sorted(Path(simulator.__file__).parent.glob("*.py"))
    code += [Path(inference.__file__).parent / f for f in ("statistics.py", "draws.py",
                                                          "priors.py", "reference.py")]  # fmt: skip
    for path in [*_SOURCES, *code]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def reference_table(
    size: int = REFERENCE_SIZE,
    seed: int = REFERENCE_SEED,
    *,
    chunk: int = CHUNK,
    progress: bool = True,
    cache: bool = True,
) -> ReferenceTable:
    """The reference table, from the cache when it holds this exact table, else simulated (and
    cached). The cache only saves time: a table built afresh is the same, byte for byte."""
    path = cache_folder() / f"reference-{size}-{cache_key(size, seed, chunk)}.npz"
    if cache and path.exists():
        return load_table(path)
    table = build_reference_table(size, seed, chunk=chunk, progress=progress)
    if cache:
        save_table(table, path)
    return table
