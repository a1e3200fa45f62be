"""Tables and numbers of the model chapter, computed from the stored model files.

Reads data/model (priors, posterior, ABC diagnostics, predictive checks, sensitivity) and the
embedded trial's provenance; simulates nothing. The figures are drawn in
``anrs119.report.model_figures``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import gaussian_kde

from anrs119.model.checks.predictive import CHECKS_FILE, JOINT_ID, SUBGROUP_ID
from anrs119.model.checks.sensitivity import SENSITIVITY_FILE, moved_out
from anrs119.model.inference.priors import Prior, Priors, load_priors
from anrs119.model.inference.sample import load_posterior, weighted_quantile
from anrs119.model.simulator.parameters import default_parameters
from anrs119.paths import SYNTHETIC_DIR

JOINT_IDS: frozenset[str] = frozenset({JOINT_ID, SUBGROUP_ID})
"""Rows of the checks files that are joint checks, not claims."""

MOVED_RULE: str = "posterior median outside the prior's central 50% interval"
OVERLAP_GRID: int = 512


def _provenance() -> dict:
    return json.loads((SYNTHETIC_DIR / "provenance.json").read_text(encoding="utf-8"))


def parameter_table() -> pd.DataFrame:
    """The provenance table, with values rounded for display."""
    frame = default_parameters().to_frame()
    frame["value"] = frame["value"].map(lambda v: f"{v:.4g}")
    return frame


def prior_table(priors: Priors | None = None) -> pd.DataFrame:
    """The priors as the chapter shows them: distribution, 95% range, evidence and reason."""
    priors = priors or load_priors()
    rows = []
    for p in priors:
        med, lo, hi = p.quantiles([0.5, 0.025, 0.975])
        if p.distribution == "lognormal":
            dist = f"log-normal (median {p.loc:g}, SD of log {p.scale:g})"
        else:
            dist = f"normal ({p.loc:g}, SD {p.scale:g})"
            if p.lower is not None or p.upper is not None:
                lo_b = "" if p.lower is None else f"{p.lower:g}"
                hi_b = "" if p.upper is None else f"{p.upper:g}"
                dist += f" on [{lo_b}, {hi_b}]"
        rows.append(
            {
                "parameter": p.parameter,
                "prior": dist,
                "median": f"{med:.3g}",
                "95% range": f"{lo:.3g} to {hi:.3g}",
                "provenance": p.provenance,
                "confidence": p.confidence,
                "source": p.source,
                "reason": p.reason,
            }
        )
    return pd.DataFrame(rows)


def overlap(prior: Prior, values: np.ndarray, weights: np.ndarray) -> float:
    """Overlap coefficient of prior and posterior densities on the internal (log for
    log-normal priors) scale: the integral of min(prior, posterior); 1 = unchanged, 0 = disjoint.
    The posterior density is a weighted Gaussian kernel estimate."""
    u = prior.to_internal(values)
    kde = gaussian_kde(u, weights=weights)
    lo, hi = prior.internal.ppf([1e-4, 1 - 1e-4])
    grid = np.linspace(min(lo, u.min()), max(hi, u.max()), OVERLAP_GRID)
    both = np.minimum(prior.internal.pdf(grid), kde(grid))
    return float(np.trapezoid(both, grid))


@dataclass(frozen=True)
class Implied:
    """Prior against posterior for one parameter."""

    parameter: str
    prior_median: float
    prior_q25: float
    prior_q75: float
    prior_low95: float
    prior_high95: float
    post_median: float
    post_low95: float
    post_high95: float
    overlap: float
    sd_ratio: float

    @property
    def moved(self) -> bool:
        return not (self.prior_q25 <= self.post_median <= self.prior_q75)


def implied(priors: Priors | None = None, sample: pd.DataFrame | None = None) -> list[Implied]:
    priors = priors or load_priors()
    sample = load_posterior() if sample is None else sample
    w = sample["weight"].to_numpy()
    out = []
    for p in priors:
        x = sample[p.parameter].to_numpy()
        med, q25, q75, lo, hi = p.quantiles([0.5, 0.25, 0.75, 0.025, 0.975])
        pm, pl, ph = weighted_quantile(x, w, [0.5, 0.025, 0.975])
        u = p.to_internal(x)
        mean = np.average(u, weights=w)
        sd_post = float(np.sqrt(np.average((u - mean) ** 2, weights=w)))
        out.append(
            Implied(
                p.parameter,
                med,
                q25,
                q75,
                lo,
                hi,
                pm,
                pl,
                ph,
                overlap(p, x, w),
                sd_post / float(p.internal.std()),
            )
        )
    return out


def implied_table(rows: list[Implied] | None = None) -> pd.DataFrame:
    """'What the paper implies': prior and posterior side by side; ``moved`` per MOVED_RULE."""
    rows = rows if rows is not None else implied()
    return pd.DataFrame(
        [
            {
                "parameter": r.parameter,
                "prior median": f"{r.prior_median:.3g}",
                "prior 50%": f"{r.prior_q25:.3g} to {r.prior_q75:.3g}",
                "posterior median": f"{r.post_median:.3g}",
                "posterior 95%": f"{r.post_low95:.3g} to {r.post_high95:.3g}",
                "overlap": round(r.overlap, 2),
                "SD ratio": round(r.sd_ratio, 2),
                "moved": "yes" if r.moved else "",
            }
            for r in rows
        ]
    )


def posterior_method() -> dict:
    from anrs119.model.inference.posterior import read_method

    return read_method()


def accuracy_table(quantiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per parameter: posterior median and 95% interval, each with its Monte Carlo standard
    error, and the largest standardised differences between the two halves of the reference
    table and between the chosen and the halved acceptance."""
    from anrs119.model.inference.posterior import read_quantiles

    q = read_quantiles() if quantiles is None else quantiles
    rows = []
    for name in dict.fromkeys(q["parameter"]):
        r = q[q["parameter"] == name].set_index("quantile")
        cell = {prob: f"{r.loc[prob, 'value']:.3g} ({r.loc[prob, 'mcse']:.2g})" for prob in r.index}

        rows.append(
            {
                "parameter": name,
                "median (MC SE)": cell[0.5],
                "2.5% (MC SE)": cell[0.025],
                "97.5% (MC SE)": cell[0.975],
                "largest |z|, two halves": f"{r['halves_z'].abs().max():.1f}",
                "largest |z|, half the acceptance": f"{r['halving_z'].abs().max():.1f}",
            }
        )
    return pd.DataFrame(rows)


def posterior_numbers(method: dict | None = None) -> dict[str, str]:
    """How the posterior was computed and how accurate it is (keys ``mo_post_*``)."""
    m = posterior_method() if method is None else method
    crit = m["criteria"]
    failed = [r for r in m["ladder"] if not r["passes"]]
    return {
        "mo_ref_trials": f"{int(m['reference_trials']):,}",
        "mo_ref_seed": str(m["reference_seed"]),
        "mo_post_n_stats": str(len(m["statistics"])),
        "mo_post_accepted": f"{int(m['accepted']):,}",
        "mo_post_share": f"{100 * float(m['acceptance_share']):.2g}%",
        "mo_post_ess": f"{float(m['ess']):,.0f}",
        "mo_post_min_ess": f"{float(crit['min_ess']):,.0f}",
        "mo_post_bandwidth": f"{float(m['bandwidth']):.2f}",
        "mo_post_halving_z": f"{float(m['max_halving_z']):.1f}",
        "mo_post_max_halving": f"{float(crit['max_halving_z']):g}",
        "mo_post_halves_z": f"{float(m['max_halves_z']):.1f}",
        "mo_post_max_halves": f"{float(crit['max_halves_z']):g}",
        "mo_post_bootstrap": str(m["bootstrap_replicates"]),
        "mo_post_tried": _list([f"{int(r['accepted']):,}" for r in failed]) if failed else "none",
        "mo_post_converged": "meets" if m["converged"] else "does not meet",
    }


def checks() -> pd.DataFrame:
    return pd.read_csv(CHECKS_FILE)


def _g(v: float) -> str:
    """Three significant digits; an infinite difference of quantiles names the arm whose
    quantile was not reached (the deferral is IL-2 minus control)."""
    if np.isfinite(v):
        return f"{v:.3g}"
    return "not reached (IL-2)" if v > 0 else "not reached (control)"


def checks_wide(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per claim: published value, prior- and posterior-predictive 95% ranges and percentiles."""
    from anrs119.published import load_claims

    table = checks() if table is None else table
    claims = load_claims()
    rows = []
    for cid in dict.fromkeys(table["id"]):
        r = {
            "claim": cid,
            "published": claims.loc[cid, "reported_as"] if cid in claims.index else "",
        }
        for dist in ("prior", "posterior"):
            t = table[(table["id"] == cid) & (table["distribution"] == dist)]
            if t.empty:
                continue
            t = t.iloc[0]
            rng = (
                ""
                if pd.isna(t["median"])
                else f"{_g(t['median'])} ({_g(t['lower95'])} to {_g(t['upper95'])})"
            )
            r[f"{dist} predictive"] = rng
            se = f" (±{t['mc_se']:.1f})" if "mc_se" in t.index and pd.notna(t["mc_se"]) else ""
            r[f"{dist} %ile"] = f"{t['percentile']:.1f}{se}" + (" *" if t["outside95"] else "")
        rows.append(r)
    return pd.DataFrame(rows)


def sensitivity() -> pd.DataFrame:
    return pd.read_csv(SENSITIVITY_FILE)


def sensitivity_wide(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Percentile of each published value (columns) under each scenario (rows); * = outside
    the central 95%."""
    table = sensitivity() if table is None else table
    t = table[~table["id"].isin(JOINT_IDS)].copy()
    t["cell"] = t["percentile"].map(lambda v: f"{v:.0f}") + np.where(t["outside95"], "*", "")
    wide = t.pivot(index="label", columns="id", values="cell")
    wide = wide.loc[list(dict.fromkeys(t["label"])), list(dict.fromkeys(t["id"]))]
    joint = table[table["id"] == JOINT_ID].set_index("label")["percentile"]
    wide["joint"] = [f"{joint.get(i, np.nan):.1f}" for i in wide.index]
    return wide.reset_index().rename(columns={"label": "assumption"}).rename_axis(columns=None)


def _f(value: float, decimals: int = 0) -> str:
    return f"{float(value):.{decimals}f}"


def _list(items: list[str]) -> str:
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def chapter_numbers(
    rows: list[Implied] | None = None, priors: Priors | None = None
) -> dict[str, str]:
    """Every number the model chapter's prose quotes, formatted (keys prefixed ``mo_``)."""

    priors = priors or load_priors()
    rows = rows if rows is not None else implied(priors)
    by = {r.parameter: r for r in rows}
    params = default_parameters()
    p = params.values()
    prov = _provenance()
    chk = checks()
    post = chk[chk["distribution"] == "posterior"]
    prior = chk[chk["distribution"] == "prior"]
    sens = sensitivity()
    moved = moved_out(sens)
    from anrs119.published import load_claims

    claims = load_claims()
    hl = by["il2_halflife"]
    out_post = [i for i in post.loc[post["outside95"], "id"] if i not in JOINT_IDS]
    out_prior = [i for i in prior.loc[prior["outside95"], "id"] if i not in JOINT_IDS]
    joint = chk[chk["id"] == "joint"].set_index("distribution")["percentile"]
    joint_se = chk[chk["id"] == "joint"].set_index("distribution")["mc_se"]
    pair = chk[chk["id"] == SUBGROUP_ID].set_index("distribution")["percentile"]
    pair_se = chk[chk["id"] == SUBGROUP_ID].set_index("distribution")["mc_se"]

    def listed(frame: pd.DataFrame) -> str:
        return _list(
            [
                f"{lab} ({', '.join(frame.loc[frame['label'] == lab, 'id'])})"
                for lab in dict.fromkeys(frame["label"])
            ]
        )

    out = {
        **mechanics_numbers(p),
        **implied_numbers(by),
        "mo_n_il2": _f(p["n_il2"]),
        "mo_n_control": _f(p["n_control"]),
        "mo_n_params": str(len(params.parameters)),
        "mo_n_free": str(len(priors)),
        "mo_n_stats": str(
            int(chk.loc[chk["id"] == "joint", "note"].iloc[0].split(" over ")[1].split()[0])
        ),
        **posterior_numbers(),
        "mo_n_moved": str(sum(r.moved for r in rows)),
        "mo_moved_list": _list([r.parameter for r in rows if r.moved]),
        "mo_moved_rule": MOVED_RULE,
        "mo_hl_prior": _f(hl.prior_median),
        "mo_hl_prior_lo": _f(hl.prior_low95),
        "mo_hl_prior_hi": _f(hl.prior_high95),
        "mo_hl_post": _f(hl.post_median),
        "mo_hl_post_lo": _f(hl.post_low95),
        "mo_hl_post_hi": _f(hl.post_high95),
        "mo_hl_ratio": f"{hl.post_median / hl.prior_median:.1f}",
        "mo_hl_verdict": halflife_verdict(hl),
        "mo_n_out_post": str(len(out_post)),
        "mo_n_out_prior": str(len(out_prior)),
        "mo_out_post": _list(out_post),
        "mo_out_prior": _list(out_prior),
        "mo_joint_prior": _f(joint.get("prior", np.nan), 1),
        "mo_joint_post": _f(joint.get("posterior", np.nan), 1),
        "mo_joint_prior_se": _f(joint_se.get("prior", np.nan), 1),
        "mo_joint_post_se": _f(joint_se.get("posterior", np.nan), 1),
        "mo_pair_prior": _f(pair.get("prior", np.nan), 2),
        "mo_pair_post": _f(pair.get("posterior", np.nan), 2),
        "mo_pair_prior_se": _f(pair_se.get("prior", np.nan), 2),
        "mo_pair_post_se": _f(pair_se.get("posterior", np.nan), 2),
        "mo_n_draws": f"{int(post['n_draws'].max()):,}",
        "mo_n_scenarios": str(sens["scenario"].nunique() - 1),
        "mo_sens_draws": f"{int(sens['n_draws'].max()):,}",
        "mo_moved_out": listed(moved[moved["outside95"]]),
        "mo_moved_in": listed(moved[~moved["outside95"].astype(bool)]),
        **reconstruction_numbers(prov),
        **readings_numbers(),
        "mo_example_bound": claims.loc[claims["bound"] != "=", "reported_as"].iloc[0],
        "mo_pub_vl_p": str(claims.loc["vl_change_w96_p", "reported_as"]),
    }
    return out


def reconstruction_numbers(prov: dict) -> dict[str, str]:
    """How the embedded reconstruction was made, from its provenance.json."""
    search = prov["search"]
    return {
        "mo_pool": f"{int(prov['pool_per_arm']):,}",
        "mo_seed": str(prov["seed"]),
        "mo_attempt": str(int(prov["attempt"]) + 1),
        "mo_restarts": str(search["restarts_used"]),
        "mo_sweeps": f"{int(search['sweeps_per_round']):,}",
        "mo_rounds": str(search["rounds"]),
        "mo_restarts_allowed": str(search["restarts_allowed"]),
        "mo_n_conditioned": str(len(prov["conditioned_on"]["claims"])),
        "mo_lowvl_sizes": f"{prov['reconstruction']['n_lowvl_il2']:.0f} and "
        f"{prov['reconstruction']['n_lowvl_control']:.0f}",
    }


def readings_numbers() -> dict[str, str]:
    """Deferral readings from data/model/calibration.json (posterior predictive, long horizon)."""
    from anrs119.model.simulator.parameters import CALIBRATION_FILE
    from anrs119.published import load_claims

    cal = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    r, long = cal["expected_readings"], cal["long_horizon_deferral"]
    claims = load_claims()
    return {
        "mo_claim_lowvl_art_deferral": claims.loc["lowvl_art_deferral", "reported_as"],
        "mo_rmst": _f(r.get("lowvl_art_deferral:rmst", np.nan)),
        "mo_exp_median": _f(r.get("lowvl_art_deferral:exp_median", np.nan)),
        "mo_long_median": _f(long.get("median", np.nan)),
        "mo_long_q25": _f(long.get("q25", np.nan)),
    }


def halflife_verdict(hl: Implied) -> str:
    """Plain words for where the posterior half-life sits against the literature prior."""
    if hl.post_median > hl.prior_high95:
        return "far more durable than UK-Vanguard saw (beyond the prior's 95% range)"
    if hl.post_median > hl.prior_q75:
        return "more durable than UK-Vanguard suggests (above the prior's central 50%)"
    if hl.post_median < hl.prior_q25:
        return "waning even faster than the UK-Vanguard-based prior expects"
    return "about as durable as UK-Vanguard suggests (within the prior's central 50%)"


def mechanics_numbers(p: Mapping[str, float]) -> dict[str, str]:
    """Numbers of the model's mechanics (visit grid, enrolment, cut-off, IL-2 cycles)."""
    from anrs119.model.simulator import schedule

    cycles = schedule.cycle_weeks(p)
    return {
        "mo_cycles": ", ".join(_f(c) for c in cycles),
        "mo_visit_early": _f(schedule.VISIT_INTERVAL_EARLY),
        "mo_visit_until": _f(schedule.VISIT_EARLY_UNTIL),
        "mo_visit_late": _f(schedule.VISIT_INTERVAL_LATE),
        "mo_art_cd4": _f(schedule.ART_CD4_REFERENCE),
        "mo_art_vl": f"{10**schedule.ART_VL_REFERENCE:,.0f}",
        "mo_art_ref": _f(100 * p["art_rate_ref"], 1),
        "mo_art_hr100": _f(math.exp(p["art_cd4_loghr"]), 1),
        "mo_art_vl_hr": _f(math.exp(p["art_vl_loghr"]), 1),
        "mo_art_ep_hr": f"{p['art_endpoint_hr']:g}",
        "mo_hazard_step": f"{schedule.HAZARD_STEP_WEEKS:g}",
        "mo_horizon": _f(schedule.follow_up_horizon(p)),
        "mo_dropout": _f(100 * p["dropout_rate"], 1),
        "mo_miss": f"{p['visit_miss_prob']:g}",
        "mo_il2_stop": f"{p['il2_stop_prob']:g}",
        "mo_last_followup": _f(
            min(
                schedule.follow_up_horizon(p),
                p["calendar_span"] + p["followup_extension"] - p["entry_window"],
            )
        ),
        "mo_entry_window": _f(p["entry_window"]),
        "mo_cutoff": _f(p["calendar_span"] + p["followup_extension"]),
        "mo_extension": _f(p["followup_extension"]),
        "mo_rampup": _f(p["il2_rampup"]),
        "mo_cd4_lower": _f(p["cd4_lower"]),
        "mo_cd4_upper": _f(p["cd4_upper"]),
        "mo_threshold": _f(p["cd4_threshold"]),
    }


def implied_numbers(rows: Mapping[str, Implied]) -> dict[str, str]:
    """Prior and posterior medians of every parameter, for prose (``mo_prior_<name>`` ...)."""
    out = {}
    for name, r in rows.items():
        out[f"mo_prior_{name}"] = f"{r.prior_median:.3g}"
        out[f"mo_post_{name}"] = f"{r.post_median:.3g}"
    return out
