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
from tqdm import tqdm

from anrs119.model.realize import primary_test, write_csv
from anrs119.model.simulate import Trials, simulate_trials
from anrs119.model.summaries import claim_summaries, fisher_2x2
from anrs119.paths import MODEL_DIR
from anrs119.seeds import PREDICTIVE_SEED

N_REPLICATES: int = 4000
PREDICTIVE_FILE: Path = MODEL_DIR / "predictive.csv"

SAFETY_KEYS: dict[str, str] = {"safety_aids_similar": "aids", "safety_death_similar": "death"}


def grade34_counts(tr: Trials, p: Mapping[str, float], rng: np.random.Generator) -> np.ndarray:
    """Patients with >= 1 grade 3-4 event by the primary week, per replicate and arm: (R, 2).

    Same process as the embedded trial's ADAE (background rate x RR while IL-2 is given), plus
    grade-3 IL-2 reactions per cycle received.
    """
    from anrs119.model.realize import IL2_REACTION_GRADES, IL2_REACTIONS

    week = p["primary_week"]
    end = np.minimum(np.minimum(tr.fu_end, tr.t_death), week)
    years = end / (365.25 / 7)
    on_il2 = np.where(tr.il2, np.minimum(end, p["il2_last_week"]) / (365.25 / 7), 0.0)
    mean = p["grade34_rate"] * ((p["il2_grade34_rr"] - 1.0) * on_il2 + years)
    p_reaction3 = 1.0 - np.prod(
        [1.0 - prob * IL2_REACTION_GRADES[2] for _, _, prob in IL2_REACTIONS]
    )
    cycles = np.where(tr.il2, np.minimum(tr.n_cycles, (tr.cycles < week).sum()), 0)
    p_none = np.exp(-mean) * (1.0 - p_reaction3) ** cycles
    hit = rng.random(tr.il2.shape) > p_none
    return np.stack([(hit & tr.il2).sum(axis=1), (hit & ~tr.il2).sum(axis=1)], axis=1)


def predictive_samples(
    p: Mapping[str, float],
    n_replicates: int = N_REPLICATES,
    seed: int = PREDICTIVE_SEED,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Claim summaries (and safety Fisher P values) of ``n_replicates`` replicate trials."""
    test = primary_test()
    rng = np.random.default_rng([seed, 1])
    chunks = []
    bar = tqdm(total=n_replicates, desc="predictive trials", disable=not progress)
    for tr in simulate_trials(p, n_replicates, seed):
        s = claim_summaries(tr, p, primary_test=test)
        n1, n2 = tr.il2.sum(axis=1), (~tr.il2).sum(axis=1)
        for claim, name in SAFETY_KEYS.items():
            s[claim] = fisher_2x2(
                s[f"{name}_w96_il2"].astype(int), n1, s[f"{name}_w96_control"].astype(int), n2
            )
        g = grade34_counts(tr, p, rng)
        s["safety_grade34_similar"] = fisher_2x2(g[:, 0], n1, g[:, 1], n2)
        chunks.append(s)
        bar.update(tr.shape[0])
    bar.close()
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


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
