"""Sensitivity of the posterior-predictive claims to the model's assumptions.

Every scenario re-simulates the same posterior draws with the same seeds, changing one
assumption (visit schedule, CD4 confirmation, IL-2 half-life fixed at literature values, the
ART rule, dropout, data cut-off); differences between scenarios are due to the assumption only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119.model.checks.predictive import (
    CLUSTER_KEY,
    JOINT_ID,
    SUBGROUP_ID,
    check_rows,
    claim_refs,
    draw_clusters,
    joint_rows,
)
from anrs119.model.inference.draws import predictive_summaries
from anrs119.model.inference.priors import Priors, load_priors
from anrs119.model.inference.sample import load_posterior, resample
from anrs119.paths import MODEL_DIR
from anrs119.seeds import SENSITIVITY_SEED

SENSITIVITY_FILE: Path = MODEL_DIR / "sensitivity.csv"
N_DRAWS: int = 1000
BASELINE: str = "baseline"
COLUMNS: tuple[str, ...] = (
    "scenario",
    "group",
    "label",
    "id",
    "n_draws",
    "median",
    "lower95",
    "upper95",
    "percentile",
    "outside95",
    "note",
)


def _grid(early: float, late: float, until: float = 96.0, end: float = 150.0) -> np.ndarray:
    """Visits every ``early`` weeks to ``until``, then every ``late`` weeks, ending at ``end``."""
    a = np.arange(0.0, until + 1e-9, early)
    b = np.arange(until + late, end + 1e-9, late)
    v = np.concatenate([a, b])
    return v if v[-1] == end else np.append(v, end)


@dataclass(frozen=True)
class Scenario:
    """One changed assumption: fixed values, a function of the draws, or another visit grid."""

    key: str
    label: str
    group: str
    set_values: Mapping[str, float] = field(default_factory=dict)
    scale_draws: Mapping[str, float] = field(default_factory=dict)
    visits: np.ndarray | None = None
    needs: tuple[str, ...] = ()

    def applies(self, base: Mapping[str, float]) -> bool:
        return all(n in base for n in self.needs)


def scenarios(base: Mapping[str, float], priors: Priors) -> tuple[Scenario, ...]:
    """The assumptions of the issue, with the values they are changed to."""
    hl = priors["il2_halflife"]
    hl_med, hl_hi = (float(v) for v in hl.quantiles([0.5, 0.975]))
    drop = float(base.get("dropout_rate", 0.0))
    ext = float(base.get("followup_extension", 0.0))
    out = [
        Scenario(BASELINE, "as calibrated (posterior predictive)", "baseline"),
        Scenario(
            "visits_8w", "visits every 8 weeks to week 96", "visit schedule", visits=_grid(8, 6)
        ),
        Scenario("visits_12w", "visits every 12 weeks", "visit schedule", visits=_grid(12, 12)),
        Scenario(
            "single_cd4",
            "a single CD4 count < 300 is the end point",
            "CD4 confirmation",
            set_values={"confirm_cd4": 0.0},
            needs=("confirm_cd4",),
        ),
        Scenario(
            "halflife_lit_median",
            f"IL-2 half-life fixed at the literature median ({hl_med:.0f} weeks)",
            "IL-2 half-life",
            set_values={"il2_halflife": hl_med},
        ),
        Scenario(
            "halflife_lit_high",
            f"IL-2 half-life fixed at the literature 97.5% ({hl_hi:.0f} weeks)",
            "IL-2 half-life",
            set_values={"il2_halflife": hl_hi},
        ),
        Scenario(
            "art_endpoint",
            "reaching the CD4 end point multiplies the ART hazard by 4",
            "ART rule",
            set_values={"art_endpoint_hr": 4.0},
            needs=("art_endpoint_hr",),
        ),
        Scenario(
            "art_steeper",
            "ART hazard rises 1.5 times as steeply below 350",
            "ART rule",
            scale_draws={"art_cd4_loghr": 1.5},
        ),
        Scenario(
            "no_dropout",
            "no loss to follow-up",
            "dropout",
            set_values={"dropout_rate": 0.0},
            needs=("dropout_rate",),
        ),
        Scenario(
            "double_dropout",
            f"loss to follow-up doubled ({2 * drop:.2g} per person-year)",
            "dropout",
            set_values={"dropout_rate": 2 * drop},
            needs=("dropout_rate",),
        ),
        Scenario(
            "cutoff_primary",
            "data cut-off at primary completion (no extended follow-up)",
            "follow-up horizon",
            set_values={"followup_extension": 0.0},
            needs=("followup_extension",),
        ),
        Scenario(
            "cutoff_late",
            f"data cut-off {ext + 52:.0f} weeks after primary completion",
            "follow-up horizon",
            set_values={"followup_extension": ext + 52.0},
            needs=("followup_extension",),
        ),
    ]
    return tuple(s for s in out if s.applies(base))


def _apply(
    s: Scenario, base: Mapping[str, float], draws: Mapping[str, np.ndarray]
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    b = dict(base)
    d = {k: np.asarray(v, dtype=float) for k, v in draws.items()}
    for name, value in s.set_values.items():
        if name in d:
            d[name] = np.full(d[name].shape, float(value))
        else:
            b[name] = float(value)
    for name, factor in s.scale_draws.items():
        d[name] = d[name] * factor
    return b, d


def sensitivity_table(
    base: Mapping[str, float] | None = None,
    n_draws: int = N_DRAWS,
    progress: bool = True,
    priors: Priors | None = None,
    sample: pd.DataFrame | None = None,
    only: Callable[[Scenario], bool] | None = None,
) -> pd.DataFrame:
    """Per scenario and claim: posterior-predictive median, 95% range, and where the published
    value falls (same columns as the predictive checks, ``distribution`` = scenario key)."""
    from anrs119.model.inference.statistics import base_values

    priors = priors or load_priors()
    base = dict(base) if base is not None else base_values(priors)
    sample = load_posterior() if sample is None else sample
    draws = resample(sample, n_draws, np.random.default_rng(SENSITIVITY_SEED))
    refs = claim_refs()
    frames = []
    for s in scenarios(base, priors):
        if only is not None and not only(s):
            continue
        b, d = _apply(s, base, draws)
        summ = predictive_summaries(
            b, d, SENSITIVITY_SEED, visits=s.visits, desc=f"sensitivity: {s.key}", progress=progress
        )
        summ[CLUSTER_KEY] = draw_clusters(d)
        rows = check_rows(summ, s.key, refs) + joint_rows(summ, s.key, refs)
        f = pd.DataFrame(rows).rename(columns={"distribution": "scenario"})
        f["group"], f["label"] = s.group, s.label
        frames.append(f[list(COLUMNS)])
    table = pd.concat(frames, ignore_index=True)
    for col in ("median", "lower95", "upper95"):
        table[col] = table[col].map(lambda v: float(f"{v:.6g}") if np.isfinite(v) else v)
    return table


def write_sensitivity(table: pd.DataFrame, path: Path = SENSITIVITY_FILE) -> Path:
    from anrs119.model.files import write_csv

    return write_csv(table, path)


def load_sensitivity(path: Path = SENSITIVITY_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def moved_out(table: pd.DataFrame) -> pd.DataFrame:
    """Scenario x claim pairs where the published value leaves the predictive range that it
    had in the baseline (or enters it): the assumptions that change a verdict."""
    t = table[~table["id"].isin((JOINT_ID, SUBGROUP_ID))]
    base = t[t["scenario"] == BASELINE].set_index("id")["outside95"]
    rows = []
    for _, r in t[t["scenario"] != BASELINE].iterrows():
        before = bool(base.get(r["id"], False))
        if bool(r["outside95"]) != before:
            rows.append(
                {
                    "scenario": r["scenario"],
                    "label": r["label"],
                    "id": r["id"],
                    "baseline_outside95": before,
                    "outside95": bool(r["outside95"]),
                    "percentile": r["percentile"],
                }
            )
    return pd.DataFrame(
        rows, columns=["scenario", "label", "id", "baseline_outside95", "outside95", "percentile"]
    )


def long_horizon_deferral(
    p: Mapping[str, float], horizon: float = 400.0, per_arm: int = 10_000
) -> dict[str, float]:
    """Latent time-to-ART quantile differences in the low-VL subgroup if follow-up ran to
    ``horizon`` weeks, at the parameter point ``p`` (a large cohort, complete follow-up): a
    labelled sensitivity reading, the model extrapolated beyond the data (no IL-2 after week
    96); no claim of the scorecard uses it."""
    from anrs119.model.simulator.schedule import visit_weeks
    from anrs119.model.simulator.simulate import arm_indicator, simulate
    from anrs119.model.simulator.summaries import claim_summaries
    from anrs119.seeds import CALIBRATION_SEED

    q = dict(p, subgroup_week=horizon)
    tr = simulate(
        q, arm_indicator(per_arm, per_arm), visit_weeks(horizon), CALIBRATION_SEED, full=False
    )
    s = claim_summaries(tr, q, censor=False, interpolate=True, tests=False)
    return {k: float(s[f"lowvl_art_deferral:{k}"][0]) for k in ("q25", "median", "rmst")}
