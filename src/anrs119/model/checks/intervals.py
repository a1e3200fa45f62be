"""The calibrated model's predictive distribution of every result claim over replicate trials.

Written to ``data/model/predictive.csv`` (claim_id, q025, q50, q975, n_replicates) for the
scorecard: where would a trial of the published size land if the model were the truth?
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from anrs119.model.files import write_csv
from anrs119.model.simulator import summaries
from anrs119.model.simulator.parameters import primary_test
from anrs119.model.simulator.simulate import simulate_claims
from anrs119.model.simulator.trials import Trials
from anrs119.paths import MODEL_DIR
from anrs119.seeds import PREDICTIVE_SEED

N_REPLICATES: int = 4000
PREDICTIVE_FILE: Path = MODEL_DIR / "predictive.csv"


def grade34_counts(tr: Trials, p: Mapping[str, float], rng: np.random.Generator) -> np.ndarray:
    """Patients with >= 1 grade 3-4 event by the primary week, per replicate and arm: (R, 2)."""
    return summaries.grade34_counts(tr, p, rng.random(tr.il2.shape))


def predictive_samples(
    p: Mapping[str, float],
    n_replicates: int = N_REPLICATES,
    seed: int = PREDICTIVE_SEED,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Claim summaries (and safety Fisher P values) of ``n_replicates`` replicate trials."""
    return simulate_claims(
        p, n_replicates, seed, progress=progress, primary_test=primary_test(), safety=True
    )


def predictive_table(samples: Mapping[str, np.ndarray], claim_ids: list[str]) -> pd.DataFrame:
    """2.5%, 50% and 97.5% quantiles per claim (non-finite values, e.g. quantiles not reached,
    sort above every finite value; NaN replicates are dropped)."""
    rows = []
    for cid in claim_ids:
        v = np.asarray(samples[cid], dtype=float)
        v = v[~np.isnan(v)]
        q = np.quantile(v, [0.025, 0.5, 0.975], method="inverted_cdf") if v.size else [np.nan] * 3
        rows.append(
            {
                "claim_id": cid,
                "q025": float(q[0]),
                "q50": float(q[1]),
                "q975": float(q[2]),
                "n_replicates": int(v.size),
            }
        )
    return pd.DataFrame(rows)


def write_predictive(
    p: Mapping[str, float],
    path: Path = PREDICTIVE_FILE,
    n_replicates: int = N_REPLICATES,
    progress: bool = True,
) -> Path:
    """Predictive intervals of every result claim of the registry -> ``path``."""
    from anrs119.published import load_claims

    c = load_claims()
    ids = [str(i) for i in c.index[c["kind"] == "result"]]
    samples = predictive_samples(p, n_replicates, progress=progress)
    table = predictive_table(samples, ids)
    for col in ("q025", "q50", "q975"):
        table[col] = table[col].round(6)
    return write_csv(table, path)


def coverage(samples: Mapping[str, np.ndarray], claim_id: str, value: float) -> float:
    """Share of replicates at or below ``value`` (where the claim sits in the predictive)."""
    v = np.asarray(samples[claim_id], dtype=float)
    v = v[~np.isnan(v)]
    return float(stats.percentileofscore(v, value, kind="weak") / 100.0)
