"""The unpublished quantities of the dataset in use, computed by the book's analyses of its ADaM
tables: on a build from real data (``ANRS119_DATA``) they are what the reconstructions tried to
anticipate, and the reconstruction chapter places each within the ensemble's range (aggregates
only). Needs no simulator.

The analyses follow the simulator's definitions (:func:`.ensemble.unpublished`): follow-up cut
at week 150, the primary composite through week 96 for the hazard ratio (Cox, Breslow ties) and
the log-rank P, Kaplan-Meier estimates and quantiles by arm, counts of patients by week 96,
medians of the baseline values, the CD4 change read two other ways, and the deferral read three
other ways. A quantile not reached by week 150 is infinite, as in the ensemble.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from anrs119 import ARMS

SUFFIX: dict[str, str] = {ARMS[0]: "il2", ARMS[1]: "control"}


def _not_reached(value: float) -> float:
    return math.inf if math.isnan(value) else value


def observed_quantities(dataset) -> dict[str, float]:
    """Each quantity of :data:`.ensemble_tables.QUANTITIES` the dataset's tables allow (others
    are NaN), by the book's analyses."""
    from anrs119.analysis.competing import deferral_readings
    from anrs119.analysis.survival import cox_hazard_ratio, kaplan_meier, logrank
    from anrs119.model.reconstruction.ensemble_tables import QUANTITIES
    from anrs119.reproduce import Reproducer, follow_up_through, marker_change

    rep = Reproducer(dataset)
    design = rep.design
    adsl, adtte = dataset.adsl, dataset.adtte
    out: dict[str, float] = dict.fromkeys(QUANTITIES, math.nan)
    week, sub_week = float(design.primary_week), float(design.subgroup_week)
    t96 = follow_up_through(adtte, week)
    t150 = follow_up_through(adtte, sub_week)
    out["hr_primary_w96"] = cox_hazard_ratio(adsl, t96, "PRIMARY", ties="breslow").hazard_ratio
    out["logrank_p_primary_w96"] = logrank(adsl, t96, "PRIMARY").p_value
    km = kaplan_meier(adsl, t150, "PRIMARY")
    art = kaplan_meier(adsl, t150, "ARTINIT")
    for arm, sfx in SUFFIX.items():
        for w in (48, 96, 150):
            out[f"km_free_w{w}_{sfx}"] = 100.0 * km.survival_at(arm, w)[0]
        for q, name in ((0.25, "q25"), (0.5, "median"), (0.75, "q75")):
            out[f"art_{name}_{sfx}"] = _not_reached(art.quantile(arm, q)[0])
        mask = adsl["ARM"] == arm
        out[f"baseline_cd4_{sfx}"] = float(np.median(adsl.loc[mask, "BCD4"]))
        out[f"baseline_vl_{sfx}"] = float(np.median(adsl.loc[mask, "BVLLOG"]))
    for key, result in rep.safety.items():
        if isinstance(result, Exception):
            continue
        name = {"safety_aids_similar": "aids", "safety_death_similar": "death",
                "safety_grade34_similar": "grade34"}[key]  # fmt: skip
        counts = result.table.set_index("group")
        for arm, sfx in SUFFIX.items():
            out[f"{name}_w96_{sfx}"] = float(counts.at[arm, "patients"])
    sub = rep.subgroup
    for arm, sfx in SUFFIX.items():
        out[f"n_lowvl_{sfx}"] = float((sub.adsl["ARM"] == arm).sum())
    for reading, tag in (("observed", "policy"), ("last_before_art", "pre_art_locf")):
        change = marker_change(dataset, "CD4", int(week), reading).table.set_index("group")
        for arm, sfx in SUFFIX.items():
            out[f"cd4_change_w96_{sfx}:{tag}"] = float(change.at[arm, "median"])
    # crude share free of the end point through week 150 among all subgroup patients
    prim = t150[t150["PARAMCD"] == "PRIMARY"].set_index("USUBJID")
    for arm, sfx in SUFFIX.items():
        ids = sub.adsl.loc[sub.adsl["ARM"] == arm, "USUBJID"]
        events = prim.reindex(ids)["CNSR"].eq(0).sum()
        out[f"lowvl_free_w150_{sfx}:crude"] = 100.0 * (1 - events / max(len(ids), 1))
    readings = {r.key: r for r in deferral_readings(rep.art_competing, sub_week, resamples=1,
                                                    seed=0)}  # fmt: skip
    # the exponential-model median has no ADaM analysis in the book: left out (NaN)
    for key, tag in (("km_median", "median"), ("km_rmst", "rmst")):
        if key in readings:
            out[f"lowvl_art_deferral:{tag}"] = float(readings[key].difference)
    return out


def placed(dataset, table: pd.DataFrame) -> pd.DataFrame:
    """Each quantity of the dataset beside the ensemble's 95% range (``table``: the stored
    ensemble) and the share of reconstructions below it (its percentile in the ensemble)."""
    from anrs119.model.reconstruction.ensemble_tables import QUANTITIES, SHORT

    exact = table[table["exact"].astype(bool)]
    values = observed_quantities(dataset)
    rows = []
    for q in QUANTITIES:
        x = exact[q].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        v = values[q]
        if x.size == 0 or math.isnan(v):
            pct = math.nan
        else:
            pct = float(100.0 * ((x < v).sum() + 0.5 * (x == v).sum()) / x.size)
        finite = x[np.isfinite(x)]
        lo, hi = np.percentile(finite, [2.5, 97.5]) if finite.size else (math.nan, math.nan)
        rows.append(
            {
                "quantity": q,
                "label": SHORT[q],
                "value": v,
                "low95": float(lo),
                "high95": float(hi),
                "percentile": pct,
                "inside": bool(2.5 <= pct <= 97.5) if not math.isnan(pct) else False,
            }
        )
    return pd.DataFrame(rows)
