"""What the stored ensemble of reconstructions says: reading ``data/model/ensemble*.csv`` and
summarising it (ranges, typicality, the chapter's numbers), with numpy and pandas only."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.reconstruction.settings import POOL_PER_ARM, RESTARTS
from anrs119.paths import MODEL_DIR

ENSEMBLE_FILE: Path = MODEL_DIR / "ensemble.csv"


TRAJECTORY_FILE: Path = MODEL_DIR / "ensemble_cd4.csv"


N_RECONSTRUCTIONS: int = 200
"""Exact reconstructions in the ensemble (issue #12: at least 200)."""


REFERENCE_TRIALS: int = 100
"""Unconditioned trials simulated at each draw, among which the reconstruction's unpublished
quantities are ranked (typicality)."""


QUANTITIES: dict[str, str] = {
    "hr_primary_w96": "Cox hazard ratio of the primary end point through week 96 (IL-2 vs control)",
    "logrank_p_primary_w96": "log-rank P of the primary end point through week 96",
    "km_free_w48_il2": "Kaplan-Meier % free of the primary end point at week 48, IL-2",
    "km_free_w48_control": "Kaplan-Meier % free of the primary end point at week 48, control",
    "km_free_w96_il2": "Kaplan-Meier % free of the primary end point at week 96, IL-2",
    "km_free_w96_control": "Kaplan-Meier % free of the primary end point at week 96, control",
    "km_free_w150_il2": "Kaplan-Meier % free of the primary end point at week 150, IL-2",
    "km_free_w150_control": "Kaplan-Meier % free of the primary end point at week 150, control",
    "art_q25_il2": "25th percentile of time to ART (weeks), IL-2",
    "art_q25_control": "25th percentile of time to ART (weeks), control",
    "art_median_il2": "median time to ART (weeks), IL-2",
    "art_median_control": "median time to ART (weeks), control",
    "art_q75_il2": "75th percentile of time to ART (weeks), IL-2",
    "art_q75_control": "75th percentile of time to ART (weeks), control",
    "aids_w96_il2": "patients with an AIDS-defining event by week 96, IL-2",
    "aids_w96_control": "patients with an AIDS-defining event by week 96, control",
    "death_w96_il2": "deaths by week 96, IL-2",
    "death_w96_control": "deaths by week 96, control",
    "grade34_w96_il2": "patients with a grade 3-4 adverse event by week 96, IL-2",
    "grade34_w96_control": "patients with a grade 3-4 adverse event by week 96, control",
    "n_lowvl_il2": "IL-2 patients in the low-viral-load subgroup",
    "n_lowvl_control": "control patients in the low-viral-load subgroup",
    "baseline_cd4_il2": "median baseline CD4 (cells/uL), IL-2",
    "baseline_cd4_control": "median baseline CD4 (cells/uL), control",
    "baseline_vl_il2": "median baseline viral load (log10), IL-2",
    "baseline_vl_control": "median baseline viral load (log10), control",
    "cd4_change_w96_il2:policy": "median CD4 change at week 96, treatment policy, IL-2",
    "cd4_change_w96_control:policy": "median CD4 change at week 96, treatment policy, control",
    "cd4_change_w96_il2:pre_art_locf": "median CD4 change at week 96, last value before ART, IL-2",
    "cd4_change_w96_control:pre_art_locf": "median CD4 change at week 96, last value before ART, "
    "control",
    "lowvl_free_w150_il2:crude": "low viral load: crude % free of the end point at week 150, IL-2",
    "lowvl_free_w150_control:crude": "low viral load: crude % free of the end point at week 150, "
    "control",
    "lowvl_art_deferral:median": "low viral load: difference in median time to ART (weeks)",
    "lowvl_art_deferral:rmst": "low viral load: difference in restricted mean time to ART to "
    "week 150 (weeks)",
    "lowvl_art_deferral:exp_median": "low viral load: difference in exponential-model median "
    "time to ART (weeks)",
}
"""What the paper does not report, computed the same way on every trial (name: description)."""


SHORT: dict[str, str] = {
    "hr_primary_w96": "hazard ratio, week 96",
    "logrank_p_primary_w96": "log-rank P, week 96",
    **{
        f"km_free_w{w}_{arm}": f"KM % free at week {w}, {label}"
        for w in (48, 96, 150)
        for arm, label in (("il2", "IL-2"), ("control", "control"))
    },
    **{
        f"art_{q}_{arm}": f"time to ART, {text}, {label}"
        for q, text in (("q25", "25th percentile"), ("median", "median"), ("q75", "75th pct."))
        for arm, label in (("il2", "IL-2"), ("control", "control"))
    },
    **{
        f"{key}_w96_{arm}": f"{text} by week 96, {label}"
        for key, text in (
            ("aids", "AIDS events"),
            ("death", "deaths"),
            ("grade34", "grade 3-4 AEs"),
        )
        for arm, label in (("il2", "IL-2"), ("control", "control"))
    },
    "n_lowvl_il2": "low-VL subgroup size, IL-2",
    "n_lowvl_control": "low-VL subgroup size, control",
    "baseline_cd4_il2": "baseline CD4, IL-2",
    "baseline_cd4_control": "baseline CD4, control",
    "baseline_vl_il2": "baseline viral load, IL-2",
    "baseline_vl_control": "baseline viral load, control",
    "cd4_change_w96_il2:policy": "CD4 change, treatment policy, IL-2",
    "cd4_change_w96_control:policy": "CD4 change, treatment policy, control",
    "cd4_change_w96_il2:pre_art_locf": "CD4 change, last before ART, IL-2",
    "cd4_change_w96_control:pre_art_locf": "CD4 change, last before ART, control",
    "lowvl_free_w150_il2:crude": "low VL: crude % free at week 150, IL-2",
    "lowvl_free_w150_control:crude": "low VL: crude % free at week 150, control",
    "lowvl_art_deferral:median": "low VL: deferral, medians",
    "lowvl_art_deferral:rmst": "low VL: deferral, restricted means",
    "lowvl_art_deferral:exp_median": "low VL: deferral, exponential medians",
}
"""Short names of the quantities for figures and lists."""


def read_ensemble(path: Path = ENSEMBLE_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_trajectories(path: Path = TRAJECTORY_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


GROUPS: dict[str, str] = {
    "hr_primary_w96": "effect",
    "logrank_p_primary_w96": "effect",
    "km_free": "Kaplan-Meier % free of the end point",
    "art_": "time to ART (weeks)",
    "aids_": "patients with the event by week 96",
    "death_": "patients with the event by week 96",
    "grade34_": "patients with the event by week 96",
    "n_lowvl": "baseline",
    "baseline_": "baseline",
    "cd4_change": "other readings",
    "lowvl_": "other readings",
}
"""Panel of each quantity in the chapter's figure (by name prefix)."""


def group_of(quantity: str) -> str:
    return next(g for prefix, g in GROUPS.items() if quantity.startswith(prefix))


PINNED: float = 1 / 3


NARROWED: float = 2 / 3
"""Width of the reconstructions' 95% range relative to the unconditioned one: at most PINNED,
the paper pins the quantity down; at most NARROWED, it narrows it; above, it barely constrains
it (a convention of this book, stated with the table)."""


TAIL: float = 2.5
"""A reconstruction is in a tail of its draw's unconditioned trials below the 2.5th or above the
97.5th percentile: 5% of reconstructions would be if conditioning changed nothing."""


def _range(values: pd.Series) -> tuple[float, float, float, float]:
    """Median, 2.5th and 97.5th percentiles of the finite values, and the share not reached."""
    x = values.to_numpy(dtype=float)
    reached = np.isfinite(x)
    if reached.sum() == 0:
        return math.nan, math.nan, math.nan, 1.0 - reached.mean()
    lo, med, hi = np.percentile(x[reached], [2.5, 50.0, 97.5])
    return float(med), float(lo), float(hi), float(1.0 - reached.mean())


def leaves_open(table: pd.DataFrame) -> pd.DataFrame:
    """Per unpublished quantity: its range across exact reconstructions beside its range across
    unconditioned posterior-predictive trials (one per draw), and how much the paper narrows it.

    Time-to-event quantiles that are not reached by week 150 are infinite: they are left out of
    the ranges and counted in ``not_reached``; when most are not reached, no ratio is given.
    """
    exact = table[table["exact"]]
    rows = []
    for q, text in QUANTITIES.items():
        r_med, r_lo, r_hi, r_nr = _range(exact[q])
        u_med, u_lo, u_hi, u_nr = _range(table[f"ref:{q}"])
        ratio = math.nan
        if max(r_nr, u_nr) < 0.5 and u_hi > u_lo:
            ratio = (r_hi - r_lo) / (u_hi - u_lo)
        if math.isnan(ratio):
            verdict = "mostly not reached by week 150"
        elif ratio <= PINNED:
            verdict = "pinned down"
        elif ratio <= NARROWED:
            verdict = "narrowed"
        else:
            verdict = "barely constrained"
        rows.append(
            {
                "quantity": q,
                "description": text,
                "label": SHORT[q],
                "group": group_of(q),
                "median": r_med,
                "low95": r_lo,
                "high95": r_hi,
                "not_reached": r_nr,
                "unconditioned_median": u_med,
                "unconditioned_low95": u_lo,
                "unconditioned_high95": u_hi,
                "unconditioned_not_reached": u_nr,
                "width_ratio": ratio,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def typicality(table: pd.DataFrame) -> pd.DataFrame:
    """Per quantity: where the reconstructions fall among their own draw's unconditioned trials.

    With no distortion the percentiles would be uniform: median near 50, 5% in the two tails.
    ``tail_share_se`` is the share's Monte Carlo standard error; ``p_tails`` the binomial
    probability of at least the tail count seen, if 5% were the truth: small values flag a
    quantity that conditioning on the paper moves.
    """
    from scipy import stats

    exact = table[table["exact"]]
    n = len(exact)
    rows = []
    for q, text in QUANTITIES.items():
        pct = exact[f"pct:{q}"].to_numpy(dtype=float)
        pct = pct[np.isfinite(pct)]
        tails = int(((pct < TAIL) | (pct > 100 - TAIL)).sum())
        rows.append(
            {
                "quantity": q,
                "description": text,
                "label": SHORT[q],
                "group": group_of(q),
                "n": int(pct.size),
                "median_percentile": float(np.median(pct)) if pct.size else math.nan,
                "below": int((pct < TAIL).sum()),
                "above": int((pct > 100 - TAIL).sum()),
                "tail_share": tails / pct.size if pct.size else math.nan,
                # Monte Carlo (binomial) standard error of the share
                "tail_share_se": math.sqrt(tails / pct.size * (1 - tails / pct.size) / pct.size)
                if pct.size
                else math.nan,
                "p_tails": float(stats.binom.sf(tails - 1, pct.size, 2 * TAIL / 100))
                if pct.size
                else math.nan,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["n_reconstructions"] = n
    return out


def _names(frame: pd.DataFrame) -> str:
    items = list(frame["label"])
    if not items:
        return "none"
    return "; ".join(items)


def chapter_numbers(table: pd.DataFrame, reference: int = REFERENCE_TRIALS) -> dict[str, str]:
    """The reconstruction chapter's glued numbers, from the stored ensemble."""

    ranges = leaves_open(table).set_index("quantity")
    typ = typicality(table).set_index("quantity")
    exact = table[table["exact"]]
    flagged = typ[typ["p_tails"] < 0.01]
    baseline = flagged[flagged["group"] == "baseline"]

    def rng(q: str, digits: int, source: str = "") -> str:
        r = ranges.loc[q]
        pre = f"{source}_" if source else ""
        return (
            f"{r[pre + 'median']:.{digits}f} ({r[pre + 'low95']:.{digits}f} to "
            f"{r[pre + 'high95']:.{digits}f})"
        )

    def pct(q: str) -> str:
        return f"{typ.loc[q, 'median_percentile']:.0f}"

    from anrs119.published import load_claims

    claims = load_claims()["reported_as"]
    return {
        "rc_pub_low_il2": str(claims["lowvl_free_w150_il2"]),
        "rc_pub_low_control": str(claims["lowvl_free_w150_control"]),
        "rc_pub_deferral": str(claims["lowvl_art_deferral"]),
        "rc_n": str(len(exact)),
        "rc_tried": str(len(table)),
        "rc_failed": str(int((~table["exact"]).sum())),
        "rc_restarted": str(int((exact["restarts"] > 1).sum())),
        "rc_restarts_allowed": str(RESTARTS),
        "rc_pool": f"{POOL_PER_ARM:,}",
        "rc_reference": str(reference),
        "rc_hr": rng("hr_primary_w96", 2),
        "rc_hr_unc": rng("hr_primary_w96", 2, "unconditioned"),
        "rc_hr_ratio": f"{ranges.loc['hr_primary_w96', 'width_ratio']:.2f}",
        "rc_km96_il2": rng("km_free_w96_il2", 1),
        "rc_km96_control": rng("km_free_w96_control", 1),
        "rc_km150_il2": rng("km_free_w150_il2", 1),
        "rc_km150_control": rng("km_free_w150_control", 1),
        "rc_art_median_control": rng("art_median_control", 0),
        "rc_art_median_il2_nr": f"{100 * ranges.loc['art_median_il2', 'not_reached']:.0f}%",
        "rc_aids_il2": rng("aids_w96_il2", 0),
        "rc_death_il2": rng("death_w96_il2", 0),
        "rc_grade34_il2": rng("grade34_w96_il2", 0),
        "rc_grade34_control": rng("grade34_w96_control", 0),
        "rc_pinned": _names(ranges[ranges["verdict"] == "pinned down"].reset_index()),
        "rc_n_pinned": str(int((ranges["verdict"] == "pinned down").sum())),
        "rc_n_barely": str(int((ranges["verdict"] == "barely constrained").sum())),
        "rc_n_quantities": str(len(ranges)),
        "rc_pinned_cut": f"{PINNED:.2f}",
        "rc_narrowed_cut": f"{NARROWED:.2f}",
        "rc_n_flagged": str(len(flagged)),
        "rc_flagged": _names(flagged.reset_index()),
        "rc_baseline_flagged": _names(baseline.reset_index()),
        "rc_n_baseline_flagged": str(len(baseline)),
        "rc_n_baseline": str(int((typ["group"] == "baseline").sum())),
        "rc_pct_km150_il2": pct("km_free_w150_il2"),
        "rc_pct_km150_control": pct("km_free_w150_control"),
        "rc_pct_hr": pct("hr_primary_w96"),
        "rc_tail_km150_control": f"{100 * typ.loc['km_free_w150_control', 'tail_share']:.0f}%",
        "rc_rmst": rng("lowvl_art_deferral:rmst", 1),
        "rc_rmst_unc": rng("lowvl_art_deferral:rmst", 1, "unconditioned"),
    }
