"""Does the walk within the exact set mix, and are its draws what it targets?

At the embedded trial's parameter point (the posterior median), three checks on the unpublished
quantities of :data:`~anrs119.model.reconstruction.ensemble_tables.QUANTITIES`:

1. **Two long chains** walk from two different first exact trials in one pool; their agreement
   is measured by the rank-normalised split R-hat and the bulk effective sample size
   (:mod:`.chains`), and their thinned traces are kept for the chapter's figure.
2. **The reconstructions the book uses** (first exact trial, then :data:`WALK_SWEEPS` sweeps of
   the walk), made from many fresh starts in the same pool, against the long chains: if the walk
   is long enough, they agree; the first exact trials themselves are compared too.
3. **Is the pool large?** Reconstructions from fresh pools of :data:`POOL_PER_ARM` and of twice
   that size: if a pool's finiteness shaped the draws, doubling it would move them.

Written to ``data/model/reconstruction_mixing.csv`` (one row per quantity) and
``data/model/reconstruction_traces.csv``; every task carries its own seed, so the files are the
same bytes whatever runs them (``python -m anrs119 validate-reconstructions``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.reconstruction.ensemble_tables import QUANTITIES
from anrs119.model.reconstruction.settings import POOL_PER_ARM, WALK_SWEEPS
from anrs119.model.reconstruction.validation_tables import (
    MIXING_FILE,
    NOT_REACHED_CAP,
    TRACE_FILE,
    TRACE_QUANTITIES,
)
from anrs119.paths import MODEL_DIR
from anrs119.seeds import MIXING_SEED


@dataclass(frozen=True)
class MixingSizes:
    """How long and how many: ``proposals`` per long chain, thinned every ``thin``; ``draws``
    reconstructions from fresh starts in the chains' pool; ``pool_draws`` per pool size."""

    chains: int = 2
    proposals: int = 3_000_000
    thin: int = 6_000
    draws: int = 40
    pool_draws: int = 40
    walk: int | None = None
    """Walk of the draws (proposals; None: the book's, WALK_SWEEPS x trial size)."""


FULL = MixingSizes()
REDUCED = MixingSizes(chains=2, proposals=40_000, thin=4_000, draws=3, pool_draws=2)
"""For the test suite: every step runs, nothing is long enough to conclude."""


TASK_DRAWS: int = 5


def mixing_point() -> dict[str, float]:
    """The parameter point of the check: the base values and the posterior medians (the point
    of the embedded trial)."""
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.sample import posterior_medians
    from anrs119.model.inference.statistics import base_values

    p = base_values(load_priors())
    p.update(posterior_medians())
    return p


def quantities_of(
    pool, selections: np.ndarray, p: Mapping[str, float], n1: int | None = None
) -> np.ndarray:
    """(len(selections), Q): the unpublished quantities of pool patients ``selections[r]`` (the
    first ``n1`` of each are the IL-2 patients; the registry's arm size by default)."""
    from anrs119.model.reconstruction.ensemble import unpublished
    from anrs119.model.reconstruction.search import claim_targets, take_many

    sels = np.atleast_2d(np.asarray(selections, dtype=np.int64))
    n1 = claim_targets().n_il2 if n1 is None else n1
    g34 = np.column_stack([pool.grade34[sels[:, :n1]].sum(1), pool.grade34[sels[:, n1:]].sum(1)])
    q = unpublished(take_many(pool.trials, sels), p, g34)
    return np.column_stack([q[k] for k in QUANTITIES])


@dataclass(frozen=True)
class _Task:
    kind: str  # "chain", "same_pool", "pool", "pool2"
    first: int
    count: int
    p: dict[str, float]
    sizes: MixingSizes
    seed: int


def _run(task: _Task) -> dict[str, np.ndarray]:
    from anrs119.model.reconstruction.search import make_pool, reconstruct, walk_chain
    from anrs119.parallel import single_threaded

    single_threaded()
    s, p, seed = task.sizes, task.p, task.seed
    if task.kind == "chain":
        pool = make_pool(p, seed, 0)
        start = reconstruct(pool, [seed, 1, task.first], walk=0)
        if not start.exact:
            raise RuntimeError(f"no exact start for chain {task.first} (seed {seed})")
        rng = np.random.default_rng([seed, 2, task.first])
        w = walk_chain(pool, start.selection, rng, s.proposals, thin=s.thin)
        return {"values": quantities_of(pool, w.trace, p), "stats": w.stats}
    firsts, draws = [], []
    pool = make_pool(p, seed, 0) if task.kind == "same_pool" else None
    for i in range(task.first, task.first + task.count):
        if task.kind == "same_pool":
            rec = reconstruct(pool, [seed, 3, i], walk=s.walk)
            here = pool
        else:
            per_arm = POOL_PER_ARM * (2 if task.kind == "pool2" else 1)
            offset = 1_000 if task.kind == "pool" else 2_000
            here = make_pool(p, seed, offset + i, per_arm=per_arm)
            rec = reconstruct(here, [seed, 4, offset + i], walk=s.walk)
        if not rec.exact:
            continue
        firsts.append(quantities_of(here, rec.first_hit, p)[0])
        draws.append(quantities_of(here, rec.selection, p)[0])
    q = len(QUANTITIES)
    return {
        "first": np.array(firsts).reshape(-1, q),
        "draws": np.array(draws).reshape(-1, q),
    }


def _capped(x: np.ndarray, quantity: str) -> np.ndarray:
    """A time to ART not reached (inf) counts as :data:`NOT_REACHED_CAP` weeks; other values
    stay (a difference with an arm not reached stays infinite: not estimable)."""
    if quantity.startswith("art_"):
        return np.where(np.isposinf(x), NOT_REACHED_CAP, x)
    return x


def _z(a: np.ndarray, b: np.ndarray, n_b: float | None = None) -> float:
    """Difference of means over its standard error (``n_b``: effective size of ``b``)."""
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return math.nan
    nb = b.size if n_b is None or not np.isfinite(n_b) else n_b
    se = math.sqrt(np.var(a, ddof=1) / a.size + np.var(b, ddof=1) / nb)
    return float((a.mean() - b.mean()) / se) if se > 0 else 0.0


def summarise(
    chains: list[np.ndarray], first: np.ndarray, draws: np.ndarray, pool: np.ndarray,
    pool2: np.ndarray,
) -> pd.DataFrame:  # fmt: skip
    """One row per quantity: the chains' agreement and the comparisons of the module docstring."""
    from anrs119.model.reconstruction.chains import ess, rhat

    # a block of the walk without an exact visit keeps no trial: chains are cut to the shorter
    length = min(len(ch) for ch in chains)
    chains = [ch[:length] for ch in chains]
    rows = []
    for j, q in enumerate(QUANTITIES):
        c = np.stack([_capped(ch[:, j], q) for ch in chains])
        finite = np.all(np.isfinite(c))
        long = c.ravel()
        r = rhat(c) if finite else math.nan
        e = ess(c) if finite else math.nan
        row = {
            "quantity": q,
            "estimable": bool(finite),
            **{
                f"chain{k + 1}_mean": float(np.mean(ch)) if finite else math.nan
                for k, ch in enumerate(c)
            },
            "long_sd": float(np.std(long, ddof=1)) if finite else math.nan,
            "long_low95": float(np.percentile(long, 2.5)) if finite else math.nan,
            "long_high95": float(np.percentile(long, 97.5)) if finite else math.nan,
            "rhat": r,
            "ess": e,
            "first_mean": float(np.nanmean(_capped(first[:, j], q))) if len(first) else math.nan,
            "draw_mean": float(np.nanmean(_capped(draws[:, j], q))) if len(draws) else math.nan,
            "z_first": _z(_capped(first[:, j], q), long, e) if finite else math.nan,
            "z_draw": _z(_capped(draws[:, j], q), long, e) if finite else math.nan,
            "pool_mean": float(np.nanmean(_capped(pool[:, j], q))) if len(pool) else math.nan,
            "pool2_mean": float(np.nanmean(_capped(pool2[:, j], q))) if len(pool2) else math.nan,
            "z_pool": _z(_capped(pool2[:, j], q), _capped(pool[:, j], q)),
        }
        rows.append(row)
    out = pd.DataFrame(rows)
    num = out.select_dtypes("float").columns
    out[num] = out[num].round(6)
    return out


@dataclass(frozen=True)
class Mixing:
    table: pd.DataFrame
    traces: pd.DataFrame
    runs: pd.DataFrame


def run_mixing(
    sizes: MixingSizes = FULL, *, seed: int = MIXING_SEED, progress: bool = True
) -> Mixing:
    """The three checks of the module docstring, in parallel seeded tasks."""
    from anrs119.model.reconstruction.search import claim_targets
    from anrs119.parallel import run_tasks

    p = mixing_point()
    tasks = [_Task("chain", c, 1, p, sizes, seed) for c in range(sizes.chains)]
    for kind, n in (("same_pool", sizes.draws), ("pool", sizes.pool_draws),
                    ("pool2", sizes.pool_draws)):  # fmt: skip
        tasks += [_Task(kind, i, min(TASK_DRAWS, n - i), p, sizes, seed)
                  for i in range(0, n, TASK_DRAWS)]  # fmt: skip
    results = run_tasks(_run, tasks, desc="mixing check", progress=progress)
    chains = [r["values"] for r in results[: sizes.chains]]

    def gather(kind: str, key: str) -> np.ndarray:
        parts = [r[key] for t, r in zip(tasks, results, strict=True) if t.kind == kind]
        return np.concatenate(parts) if parts else np.empty((0, len(QUANTITIES)))

    table = summarise(
        chains,
        gather("same_pool", "first"),
        gather("same_pool", "draws"),
        gather("pool", "draws"),
        gather("pool2", "draws"),
    )
    names = list(QUANTITIES)
    traces = []
    for c, values in enumerate(chains):
        frame = pd.DataFrame(
            {q: values[:, names.index(q)] for q in TRACE_QUANTITIES}, dtype=float
        ).round(6)
        frame.insert(0, "proposal", (np.arange(len(values)) + 1) * sizes.thin)
        frame.insert(0, "chain", c + 1)
        traces.append(frame)
    n = claim_targets().n_il2 + claim_targets().n_control
    walk = WALK_SWEEPS * n if sizes.walk is None else sizes.walk
    runs = pd.DataFrame(
        [
            {
                "chain": c + 1,
                "proposals": sizes.proposals,
                "thin": sizes.thin,
                "single_acceptance": round(float(r["stats"][1] / max(r["stats"][0], 1)), 6),
                "local_acceptance": round(float(r["stats"][3] / max(r["stats"][2], 1)), 6),
                "pair_acceptance": round(float(r["stats"][5] / max(r["stats"][4], 1)), 6),
                "draws_same_pool": len(gather("same_pool", "draws")),
                "draws_per_pool_size": len(gather("pool", "draws")),
                "draws_double_pool": len(gather("pool2", "draws")),
                "walk": int(walk),
                "pool_per_arm": POOL_PER_ARM,
                "trial_size": n,
            }
            for c, r in enumerate(results[: sizes.chains])
        ]
    )
    return Mixing(table, pd.concat(traces, ignore_index=True), runs)


def write_mixing(m: Mixing, folder: Path = MODEL_DIR) -> list[Path]:
    from anrs119.model.files import write_csv
    from anrs119.model.reconstruction.validation_tables import MIXING_RUNS_FILE

    return [
        write_csv(m.table, folder / MIXING_FILE.name),
        write_csv(m.traces, folder / TRACE_FILE.name),
        write_csv(m.runs, folder / MIXING_RUNS_FILE.name),
    ]
