"""Write a simulated trial as ADaM tables: the embedded reconstruction and its adverse events.

The embedded trial is a conditioned reconstruction (:mod:`anrs119.model.reconstruction.search`);
this module turns its patients into ADSL, ADLB, ADTTE and ADAE rows, each derived column from
the patient's simulated history. Writing is deterministic: same inputs, same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from anrs119 import ARM_CODES, ARMS, __version__
from anrs119.adam import SYNTHETIC_STUDYID
from anrs119.model.files import write_csv
from anrs119.model.reconstruction.search import ReconstructionError
from anrs119.model.simulator.parameters import ParameterSet, primary_test
from anrs119.model.simulator.summaries import CHANGE_READING, DEFERRAL_READING
from anrs119.model.simulator.trials import Trials
from anrs119.paths import SYNTHETIC_DIR
from anrs119.seeds import RECONSTRUCTION_SEED

if TYPE_CHECKING:
    from anrs119.model.reconstruction.search import Reconstruction

STUDYID: str = SYNTHETIC_STUDYID
"""Every row is marked synthetic in itself (STUDYID, and USUBJID = STUDYID-nnn), so a copy of
the tables without provenance.json is still recognised as synthetic."""


# ---------------------------------------------------------------- adverse events


# ---------------------------------------------------------------- ADaM tables


def _ceil1(t: np.ndarray) -> np.ndarray:
    """Round weeks up to 0.1 (keeps 'event by week w' exactly as on the unrounded scale)."""
    return np.ceil(np.round(t * 10.0, 6)) / 10.0


def _primary_desc(tr: Trials, i: int) -> str:
    t = tr.t_primary[0, i]
    if tr.t_death[0, i] == t:
        return "Death"
    if tr.t_aids[0, i] == t:
        return "AIDS-defining event"
    if tr.t_cd4[0, i] == t:
        return "CD4 < 300 cells/uL (confirmed)"
    return "ART initiation"


def to_adam(
    tr: Trials, p: Mapping[str, float], rng: np.random.Generator, adae: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """ADSL, ADLB, ADTTE and ADAE of a single replicate (shapes (1, N, ...)); ``rng`` orders
    the subject identifiers, ``adae`` holds the patients' adverse events by PATIENT (index in
    ``tr``), as :func:`pool_adverse_events` draws them."""
    n = tr.shape[1]
    order = rng.permutation(n)  # randomisation order: arms interleaved
    usub = np.empty(n, dtype=object)
    usub[order] = [f"{STUDYID}-{k + 1:03d}" for k in range(n)]
    arm = np.where(tr.il2[0], ARMS[0], ARMS[1])
    bcd4 = np.round(tr.bcd4[0])
    bvl = np.round(tr.bvl[0], 2)
    adsl = pd.DataFrame(
        {
            "STUDYID": STUDYID,
            "USUBJID": usub,
            "ARM": arm,
            "ARMCD": [ARM_CODES[a] for a in arm],
            "TRT01P": arm,
            "AGE": np.floor(tr.age[0]).astype(int),
            "SEX": np.where(tr.male[0], "M", "F"),
            "BCD4": bcd4,
            "BVLLOG": bvl,
            "ITTFL": "Y",
            "SAFFL": "Y",
        }
    )

    obs = tr.observed()[0]
    ii, jj = np.nonzero(obs)
    weeks = tr.visits[jj].astype(int)
    lab = []
    for code, name, val, base, digits in (
        ("CD4", "CD4 count (cells/uL)", tr.cd4_obs[0], bcd4, 0),
        ("VLLOG", "Plasma HIV RNA (log10 copies/mL)", tr.vl_obs[0], bvl, 2),
    ):
        aval = np.round(val[ii, jj].astype(float), digits)
        aval = np.where(jj == 0, base[ii], aval)
        lab.append(
            pd.DataFrame(
                {
                    "USUBJID": usub[ii],
                    "PARAMCD": code,
                    "PARAM": name,
                    "AVISITN": weeks,
                    "AVISIT": ["Baseline" if w == 0 else f"Week {w}" for w in weeks],
                    "AVAL": aval,
                    "BASE": base[ii],
                    "CHG": np.round(aval - base[ii], digits),
                    "ABLFL": np.where(jj == 0, "Y", ""),
                    "ONART": np.where(tr.onart[0][ii, jj], "Y", "N"),
                }
            )
        )
    adlb = pd.concat(lab, ignore_index=True)

    cens = tr.t_last[0]  # last visit attended before the data cut-off or loss to follow-up
    death = tr.t_death[0]
    tte = []

    def add(code: str, name: str, t_event: np.ndarray, desc: list[str], cens_t, cens_desc):
        event = t_event <= cens_t
        tte.append(
            pd.DataFrame(
                {
                    "USUBJID": usub,
                    "PARAMCD": code,
                    "PARAM": name,
                    "AVAL": _ceil1(np.where(event, t_event, cens_t)),
                    "CNSR": np.where(event, 0, 1),
                    "EVNTDESC": np.where(event, desc, ""),
                    "CNSDTDSC": np.where(event, "", cens_desc),
                }
            )
        )

    end_txt = np.where(
        tr.t_drop[0] < tr.fu_end[0], "Lost to follow-up", "Last visit before the data cut-off"
    ).astype(object)
    add(
        "PRIMARY",
        "Composite: CD4 < 300, ART, AIDS-defining event or death",
        tr.t_primary[0],
        [_primary_desc(tr, i) for i in range(n)],
        cens,
        end_txt,
    )
    art_cens = np.minimum(cens, death)
    add(
        "ARTINIT",
        "Initiation of ART",
        tr.t_art[0],
        ["ART initiation"] * n,
        art_cens,
        np.where(death < cens, "Death before ART", end_txt),
    )
    # CD4 < 300 is only assessed off ART: follow-up for it stops when ART starts
    cd4_cens = np.minimum.reduce([cens, death, tr.t_art[0]])
    cd4_txt = np.where(
        tr.t_art[0] <= np.minimum(cens, death),
        "ART initiated",
        np.where(death < cens, "Death", end_txt),
    )
    add(
        "CD4LT300",
        "First confirmed CD4 < 300 cells/uL (off ART)",
        tr.t_cd4[0],
        ["CD4 < 300 cells/uL (confirmed)"] * n,
        cd4_cens,
        cd4_txt,
    )
    add("DEATH", "Death from any cause", death, ["Death"] * n, cens, end_txt)
    t_ad = np.minimum(tr.t_aids[0], death)
    add(
        "AIDSDTH",
        "AIDS-defining event or death",
        t_ad,
        np.where(tr.t_aids[0] <= death, "AIDS-defining event", "Death").tolist(),
        cens,
        end_txt,
    )
    adtte = pd.concat(tte, ignore_index=True)
    adae = adae.assign(USUBJID=usub[adae["PATIENT"].to_numpy()])[
        ["USUBJID", "AEDECOD", "AEBODSYS", "AETOXGR", "ASTWK", "AESER"]
    ]
    return {
        "adsl": adsl.sort_values("USUBJID", kind="stable").reset_index(drop=True),
        "adlb": adlb.sort_values(["USUBJID", "PARAMCD", "AVISITN"], kind="stable").reset_index(
            drop=True
        ),
        "adtte": adtte.sort_values(["USUBJID", "PARAMCD"], kind="stable").reset_index(drop=True),
        "adae": adae.sort_values(
            ["USUBJID", "ASTWK", "AEDECOD", "AETOXGR"], kind="stable"
        ).reset_index(drop=True),
    }


def _json(obj: object) -> object:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json(v) for k, v in obj.items()}
    return obj


def write_reconstruction(
    rec: Reconstruction,
    params: ParameterSet,
    attempt: int,
    folder: Path = SYNTHETIC_DIR,
    seed: int = RECONSTRUCTION_SEED,
) -> list[Path]:
    """Write the ADaM CSVs and provenance.json of the embedded reconstruction.

    The tables are validated and every claim is recomputed from them by the book's own analyses
    (:func:`anrs119.tolerance.exactness`) before anything is written: a reconstruction that the
    book would not print as published stops here.
    """
    from anrs119.adam import validate_tables
    from anrs119.data import Dataset
    from anrs119.model.reconstruction.settings import (
        POOL_PER_ARM,
        RELAX,
        RESTARTS,
        ROUNDS,
        SWEEPS,
    )
    from anrs119.reproduce import Reproducer
    from anrs119.tolerance import exactness

    p = params.values()
    tables = to_adam(rec.trial(), p, subject_order_rng(seed, attempt), rec.adverse_events())
    validate_tables(tables, source="anrs119.model.reconstruction.realize (before writing)")
    dataset = Dataset(**tables, source="reconstruction", is_synthetic=True, path=folder)
    exact = exactness(Reproducer(dataset))
    missed = sorted(k for k, ok in exact.items() if not ok)
    if missed:
        raise ReconstructionError(
            f"the reconstruction (seed {seed}, attempt {attempt}) does not print {missed} as "
            "published when the book analyses its tables; nothing was written"
        )
    paths = [write_csv(df, folder / f"{name}.csv") for name, df in tables.items()]
    prov = {
        "synthetic": True,
        "generated_by": "python -m anrs119 data",
        "package_version": __version__,
        "method": "conditioned reconstruction: patients drawn from the model at the posterior "
        "median, a first exact trial found by a swap search, then a walk within the exact "
        "trials from which one exact trial is drawn (anrs119.model.reconstruction.search)",
        "seed": seed,
        "attempt": attempt,
        "pool_per_arm": POOL_PER_ARM,
        "search": {
            "sweeps_per_round": SWEEPS,
            "rounds": ROUNDS,
            "restarts_allowed": RESTARTS,
            "restarts_used": rec.restarts,
            "walk_proposals": rec.walk,
            "walk_accepted": rec.accepted,
            "walk_relaxed_claims": dict(RELAX),
        },
        "conditioned_on": {
            "claims": sorted(exact),
            "arm_sizes_and_week96_counts": "data/forensic/allocation.json",
            "low_viral_load_subgroup_sizes": "free (the subgroup percentages are read as "
            "Kaplan-Meier estimates)",
        },
        "readings": {
            "cd4_vl_change": CHANGE_READING,
            "art_deferral": DEFERRAL_READING,
            "primary_p_test": primary_test(),
            "lowvl_free_w150": "Kaplan-Meier",
            "lowvl_free_w150_p": "log-rank",
        },
        "parameters": {k: float(round(v, 6)) for k, v in p.items()},
        "reconstruction": {k: round(v, 6) for k, v in sorted(rec.values.items())},
        "every_claim_as_published": True,
    }
    path = folder / "provenance.json"
    path.write_text(json.dumps(_json(prov), sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return [*paths, path]


def subject_order_rng(seed: int, attempt: int) -> np.random.Generator:
    """Random numbers that order the written subject identifiers (arms interleaved)."""
    return np.random.default_rng([seed, attempt, 2])
