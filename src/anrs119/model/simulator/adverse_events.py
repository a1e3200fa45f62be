"""Adverse events of simulated patients: IL-2 reactions per cycle received and background grade
3-4 events in both arms (assumed rates and terms, stated with each constant)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from anrs119.model.simulator.trials import Trials

IL2_REACTIONS: tuple[tuple[str, str, float], ...] = (
    ("Influenza like illness", "General disorders and administration site conditions", 0.75),
    ("Injection site reaction", "General disorders and administration site conditions", 0.60),
    ("Pyrexia", "General disorders and administration site conditions", 0.50),
    ("Fatigue", "General disorders and administration site conditions", 0.45),
    ("Headache", "Nervous system disorders", 0.30),
    ("Myalgia", "Musculoskeletal and connective tissue disorders", 0.30),
    ("Nausea", "Gastrointestinal disorders", 0.20),
)
"""IL-2 reactions per cycle received (assumed: near-universal constitutional symptoms, per-cycle
frequencies not published; PRIORS.md section 5)."""


IL2_REACTION_GRADES: tuple[float, float, float] = (0.70, 0.295, 0.005)
"""Grade 1 / 2 / 3 shares of IL-2 reactions (assumed: 'mostly grade 1-2')."""


GRADE34_TERMS: tuple[tuple[str, str], ...] = (
    ("Neutropenia", "Blood and lymphatic system disorders"),
    ("Alanine aminotransferase increased", "Investigations"),
    ("Pneumonia", "Infections and infestations"),
    ("Depression", "Psychiatric disorders"),
    ("Hypertriglyceridaemia", "Metabolism and nutrition disorders"),
    ("Back pain", "Musculoskeletal and connective tissue disorders"),
)
"""Background grade 3-4 events, both arms (assumed terms, equally likely)."""


GRADE4_SHARE: float = 0.2
"""Share of background grade 3-4 events that are grade 4 (assumed)."""


def pool_adverse_events(
    tr: Trials, p: Mapping[str, float], rng: np.random.Generator
) -> pd.DataFrame:
    """ADAE rows of every patient of one replicate, PATIENT = index in ``tr`` (no USUBJID yet).

    IL-2 reactions per cycle received; background grade 3-4 events in both arms (Poisson, rate x
    RR while IL-2 cycles are given). Each patient's events are drawn once, with the patient, so a
    patient keeps them whichever trial he is placed in. Vectorised over patients.
    """
    n = tr.shape[1]
    end = np.minimum(tr.t_last[0], tr.t_death[0])  # events reported up to the last visit
    cycles = tr.cycles
    given = (
        tr.il2[0][:, None]
        & (np.arange(cycles.size)[None, :] < tr.n_cycles[0][:, None])
        & (cycles[None, :] <= end[:, None])
    )
    probs = np.array([prob for _, _, prob in IL2_REACTIONS])
    shape = (n, cycles.size, probs.size)
    occurs = given[..., None] & (rng.random(shape) < probs)
    grade = rng.choice(3, size=shape, p=IL2_REACTION_GRADES) + 1
    onset = cycles[None, :, None] + rng.integers(0, 5, size=shape) / 7.0
    # a reaction in the days after the last visit is never reported: the patient was not seen
    occurs &= onset <= end[:, None, None]
    who, cyc, what = np.nonzero(occurs)
    reactions = pd.DataFrame(
        {
            "PATIENT": who,
            "AEDECOD": [IL2_REACTIONS[k][0] for k in what],
            "AEBODSYS": [IL2_REACTIONS[k][1] for k in what],
            "AETOXGR": grade[who, cyc, what],
            "ASTWK": np.round(onset[who, cyc, what], 1),
        }
    )
    on_il2 = np.where(tr.il2[0], np.minimum(end, p["il2_last_week"]), 0.0)
    years_il2 = on_il2 / (365.25 / 7)
    years_rest = (end - on_il2) / (365.25 / 7)
    mean = p["grade34_rate"] * (p["il2_grade34_rr"] * years_il2 + years_rest)
    count = rng.poisson(mean)
    owner = np.repeat(np.arange(n), count)
    term = rng.integers(len(GRADE34_TERMS), size=owner.size)
    background = pd.DataFrame(
        {
            "PATIENT": owner,
            "AEDECOD": [GRADE34_TERMS[k][0] for k in term],
            "AEBODSYS": [GRADE34_TERMS[k][1] for k in term],
            "AETOXGR": np.where(rng.random(owner.size) < GRADE4_SHARE, 4, 3),
            "ASTWK": np.round(rng.uniform(0.0, 1.0, owner.size) * end[owner], 1),
        }
    )
    out = pd.concat([reactions, background], ignore_index=True)
    out["AETOXGR"] = out["AETOXGR"].astype(np.int64)
    out["AESER"] = np.where(out["AETOXGR"] >= 3, "Y", "N")
    return out.sort_values(["PATIENT", "ASTWK", "AEDECOD", "AETOXGR"], kind="stable").reset_index(
        drop=True
    )
