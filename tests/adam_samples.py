"""Small valid ADaM datasets built inside the tests (independent of data/synthetic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from anrs119 import ARM_CODES, ARMS

VISITS = (0, 8, 16, 24, 48, 96)
TTE_PARAMS = ("PRIMARY", "ARTINIT", "CD4LT300", "AIDSDTH")
AE_TERMS = (
    ("Influenza like illness", "General disorders"),
    ("Injection site reaction", "General disorders"),
    ("Headache", "Nervous system disorders"),
    ("Pneumonia", "Infections and infestations"),
)


def valid_tables(
    rng: np.random.Generator, n_per_arm: int = 3, n_ae: int = 4, edges: bool = False
) -> dict[str, pd.DataFrame]:
    """A valid dataset with typed columns, subjects alternating between the arms.

    ``edges`` puts values on the boundaries the schema allows (ages 18 and 100, CD4 0,
    log VL 0 and 8, event at week 0, grade 5), to check bounds are inclusive.
    """
    subjects = [f"ANRS-{k + 1:04d}" for k in range(2 * n_per_arm)]
    arms = [ARMS[k % 2] for k in range(2 * n_per_arm)]
    adsl = pd.DataFrame(
        {
            "USUBJID": subjects,
            "ARM": arms,
            "ARMCD": [ARM_CODES[a] for a in arms],
            "AGE": rng.integers(18, 101, size=len(subjects)),
            "SEX": rng.choice(["M", "F"], size=len(subjects)),
            "BCD4": np.round(rng.uniform(300, 500, size=len(subjects))),
            "BVLLOG": np.round(rng.uniform(1.7, 6.0, size=len(subjects)), 2),
            "TRT01P": arms,
            "ITTFL": "Y",
        }
    )
    if edges:
        adsl.loc[0, ["AGE", "BCD4", "BVLLOG"]] = [18, 0.0, 0.0]
        adsl.loc[len(adsl) - 1, ["AGE", "BVLLOG"]] = [100, 8.0]
    lab = []
    for s, subject in enumerate(subjects):
        art_week = rng.choice([*VISITS[1:], 999])
        for param, lo, hi, dec in (("CD4", 150, 900, 0), ("VLLOG", 1.7, 6.0, 2)):
            values = np.round(rng.uniform(lo, hi, size=len(VISITS)), dec)
            if edges and s == 0:
                values[-1] = 0.0 if param == "CD4" else 8.0
            base = values[0]
            for visit, value in zip(VISITS, values, strict=True):
                lab.append(
                    {
                        "USUBJID": subject,
                        "PARAMCD": param,
                        "AVISITN": visit,
                        "AVAL": value,
                        "BASE": base,
                        "CHG": value - base,
                        "ABLFL": "Y" if visit == 0 else "",
                        "ONART": "Y" if visit >= art_week else "N",
                    }
                )
    tte = []
    for subject in subjects:
        for param in TTE_PARAMS:
            cnsr = int(rng.integers(0, 2))
            tte.append(
                {
                    "USUBJID": subject,
                    "PARAMCD": param,
                    "AVAL": 0.0
                    if edges and subject == subjects[0]
                    else round(rng.uniform(0, 150), 1),
                    "CNSR": cnsr,
                    "EVNTDESC": "censored" if cnsr else f"{param} event",
                    "CNSDTDSC": "last visit" if cnsr else "",
                }
            )
    ae = []
    for k in range(n_ae):
        term, system = AE_TERMS[int(rng.integers(0, len(AE_TERMS)))]
        ae.append(
            {
                "USUBJID": subjects[int(rng.integers(0, len(subjects)))],
                "AEDECOD": term,
                "AEBODSYS": system,
                "AETOXGR": 5 if edges and k == 0 else int(rng.integers(1, 5)),
                "ASTWK": round(rng.uniform(0, 96), 1),
            }
        )
    adae = pd.DataFrame(ae, columns=["USUBJID", "AEDECOD", "AEBODSYS", "AETOXGR", "ASTWK"])
    return {
        "adsl": adsl,
        "adlb": pd.DataFrame(lab),
        "adtte": pd.DataFrame(tte),
        "adae": adae,
    }


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    """Write each table as ``<name>.csv`` (floats as repr, so they read back exactly)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


def read_raw(folder: Path, name: str) -> pd.DataFrame:
    """A table as the text in its file (pandas, not the code under test)."""
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def set_cell(folder: Path, name: str, index: int, column: str, value: str) -> int:
    """Overwrite one cell of ``<name>.csv``; return its file row (header = row 1)."""
    df = read_raw(folder, name)
    df.loc[index, column] = value
    df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return index + 2
