"""The confrontation page's tables, figure and numbers: the model against the published
low-viral-load pair (``data/model/confrontation_*``, computed by
:mod:`anrs119.model.checks.confrontation`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from anrs119.model.checks.confrontation import GROUPS, Stored, group_labels, pair_statistics
from anrs119.model.checks.extensions import VARIANTS
from anrs119.report.figures import OKABE_ITO, BookFigure
from anrs119.report.model_tables import SHORT_PARAMETER_NAMES, _claim_labels
from anrs119.report.tables import BookTable

PUBLISHED_KEYS: dict[str, str] = {
    key: "published"
    for key in ("cf_il2", "cf_control", "cf_week_primary", "cf_week_sub", "cf_threshold")
}
"""Kinds of the confrontation's glued values that are the paper's own (the rest: model)."""
PER: int = 10_000
"""The pair's chance is given per this many simulated trials."""
EXTRA_NAMES: dict[str, str] = {"il2_gain_vl": "IL-2 gain per log10 VL"}
MODEL_LABELS: dict[str, str] = {v.name: v.label for v in VARIANTS}
PROFILE: tuple[str, ...] = ("il2_halflife", "il2_gain_median", "cd4_pop_median", "art_rate_ref")
"""Parameters whose median among the trials printing the pair the page quotes."""
FIGURE_MODELS: dict[str, str] = {
    "the book's": "book's model",
    "IL-2 gain varies with viral load": "IL-2 gain by viral load",
    "ART started on measured CD4": "ART on measured CD4",
}
MOVE_Z: float = 3.0
"""A leave-out median is highlighted when it moves by more than this many Monte Carlo SEs."""
INFORMS: float = 0.05
"""A claim group informs a parameter when leaving it out raises the SD ratio by this much."""
INFORMED_SD: float = 0.8
"""The paper informs a parameter when its posterior SD is below this share of the prior's."""
BARELY_SD: float = 0.9
"""... and barely informs it at or above this share."""


def _and(items: list[str]) -> str:
    if not items:
        return "none"
    return items[0] if len(items) == 1 else "; ".join(items[:-1]) + "; and " + items[-1]


def _name(parameter: str) -> str:
    return SHORT_PARAMETER_NAMES.get(parameter, EXTRA_NAMES.get(parameter, parameter))


def per_trials(p: float, se: float | None = None) -> str:
    """A small chance per 10,000 trials, two significant digits: "2.6", "1.4 ± 0.5"."""
    if not math.isfinite(p):
        return "not computed"
    text = f"{PER * p:.2g}" if p > 0 else "0"
    if se is not None and math.isfinite(se):
        text += f" ± {PER * se:.1g}"
    return text


def _pct(p: float, decimals: int = 1) -> str:
    return "" if not math.isfinite(p) else f"{100 * p:.{decimals}f}"


def published_pair() -> tuple[str, str]:
    il2, control = pair_statistics()
    return f"{il2.value:.0f}%", f"{control.value:.0f}%"


# ---------------------------------------------------------------- rows of the pair file


def _row(pair: pd.DataFrame, analysis: str, variant: str, prior: bool | None = None):
    m = (pair["analysis"] == analysis) & (pair["variant"] == variant)
    if prior is not None:
        m &= pair["distribution"].str.startswith("prior") == prior
    return pair[m].iloc[0]


def pair_rows(stored: Stored) -> list[tuple[str, str, pd.Series]]:
    """(model, distribution label, row) in the order the page shows them."""
    pair = stored.pair
    trials = int(_row(pair, "prior", "base")["trials"])
    out = [
        ("the book's", f"literature alone ({trials:,} trials)", _row(pair, "prior", "base")),
        ("the book's", "literature and the whole abstract", _row(pair, "posterior", "all claims")),
        (
            "the book's",
            "literature and the abstract without the pair",
            _row(pair, "leave_out", "without lowvl_pair"),
        ),
    ]
    for v in VARIANTS:
        if not (pair["variant"] == v.name).any():
            continue
        size = int(_row(pair, "model", v.name, prior=True)["trials"])
        label = "the book's" if v.is_base else v.label
        out.append(
            (label, f"literature alone ({size:,} trials)", _row(pair, "model", v.name, True))
        )
        out.append((label, "literature and the whole abstract", _row(pair, "model", v.name, False)))
    return out


def pair_table(stored: Stored) -> BookTable:
    il2, control = published_pair()
    rows, flags = [], []
    for model, dist, r in pair_rows(stored):
        joint = "" if pd.isna(r["joint_p"]) else f"{_pct(r['joint_p'])} ± {_pct(r['joint_se'])}"
        rows.append(
            {
                "Model": model,
                "Parameters drawn from": dist,
                f"Both, per {PER:,} trials": per_trials(r["p_pair"], r["mc_se"]),
                f"IL-2 {il2} or more, %": _pct(r["p_il2"]),
                f"Control {control} or less, %": _pct(r["p_control"]),
                "Joint check, %": joint,
            }
        )
        flags.append({k: False for k in rows[-1]} | {"Joint check, %": bool(r["joint_p"] < 0.025)})
    return BookTable(
        pd.DataFrame(rows),
        caption=f"How often a simulated trial prints the published low-viral-load pair (IL-2 "
        f"patients free of the end point at week 150: {il2} or more; controls: {control} or "
        "less), each half alone, and the joint check of all printed point estimates. The "
        "parameters come from the prior (the literature alone) or a posterior; the "
        "extensions are each simulated into a table of their own. ± one Monte Carlo SE. "
        "Highlighted: a joint check below 2.5%.",
        name="tbl-confront-pair",
        flags=pd.DataFrame(flags),
    )


def pair_figure(stored: Stored) -> BookFigure:
    """The pair's chance per 10,000 trials, one line per distribution, log scale, ± 2 SE."""
    rows = pair_rows(stored)
    fig = BookFigure(figsize=(7.5, 0.38 * len(rows) + 1.3), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    floor = 0.1
    for yi, (_, dist, r) in zip(y, rows, strict=True):
        v = max(PER * r["p_pair"], floor)
        se = PER * r["mc_se"]
        colour = (
            OKABE_ITO["black"] if dist.startswith("literature alone") else OKABE_ITO["bluish_green"]
        )
        ax.errorbar(v, yi, xerr=[[min(2 * se, v - floor * 0.99)], [2 * se]], fmt="o",
                    color=colour, capsize=2)  # fmt: skip
    ax.set_xscale("log")
    ticks = [0.1, 1, 10, 100]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.axvline(PER / 1000, color="0.5", ls=":", lw=1)
    ax.text(PER / 1000, y.max() + 0.6, " 1 in 1,000", fontsize="x-small", color="0.4")
    labels = [f"{FIGURE_MODELS.get(m, m)}: {d}" for m, d, _ in rows]
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_xlabel(f"trials printing the published pair, per {PER:,} (log scale)")
    ax.set_xlim(floor, 100)
    top = max(PER * r["p_pair"] for _, _, r in rows)
    fig.alt_text = (
        f"Dot plot on a log scale: for each model and each way of drawing its parameters, how "
        f"many simulated trials in {PER:,} print the published low-viral-load pair, with two "
        f"Monte Carlo standard errors; the largest is {top:.2g} in {PER:,}."
    )
    return fig


# ---------------------------------------------------------------- leave one group out


def informed_by(stored: Stored) -> dict[str, list[str]]:
    """Per parameter, the claim groups whose removal moves its posterior median beyond Monte
    Carlo error or raises its SD ratio by at least ``INFORMS``."""
    post = stored.posteriors
    full = post[post["analysis"] == "posterior"].set_index("parameter")
    out = {}
    for name, a in full.iterrows():
        groups = []
        for group in GROUPS:
            b = post[(post["variant"] == f"without {group}") & (post["parameter"] == name)].iloc[0]
            se = math.hypot(a["median_mcse"], b["median_mcse"])
            moved = abs(b["median"] - a["median"]) > MOVE_Z * se
            if moved or b["sd_ratio"] - a["sd_ratio"] >= INFORMS:
                groups.append(group)
        out[str(name)] = groups
    return out


def leave_out_table(stored: Stored) -> BookTable:
    """Posterior median (SD ratio) of each parameter with every claim group, and without each;
    highlighted where the median moves beyond Monte Carlo error; the groups that inform it."""
    labels_ = group_labels()
    from anrs119.model.inference.priors import load_priors

    post = stored.posteriors
    priors = load_priors()
    full = post[post["analysis"] == "posterior"].set_index("parameter")
    groups_of = informed_by(stored)
    rows, flags = [], []
    for name, a in full.iterrows():
        q25, med, q75 = priors[name].quantiles([0.25, 0.5, 0.75])
        row = {
            "Parameter": _name(name),
            "Prior median (central 50%)": f"{med:.3g} ({q25:.3g} to {q75:.3g})",
            "All claims": f"{a['median']:.3g} ({a['sd_ratio']:.2f})",
        }
        flag = {k: False for k in row}
        for group in GROUPS:
            b = post[(post["variant"] == f"without {group}") & (post["parameter"] == name)].iloc[0]
            key = f"Without {labels_[group]}"
            row[key] = f"{b['median']:.3g} ({b['sd_ratio']:.2f})"
            se = math.hypot(a["median_mcse"], b["median_mcse"])
            flag[key] = bool(abs(b["median"] - a["median"]) > MOVE_Z * se)
        row["Informed by"] = "; ".join(labels_[g] for g in groups_of[name]) or ("no single group")
        flag["Informed by"] = False
        rows.append(row)
        flags.append(flag)
    return BookTable(
        pd.DataFrame(rows),
        caption="Which claims carry what: each parameter's posterior median (and SD ratio: "
        "posterior SD over prior SD on the method's scale, 1 = not informed) given every "
        "claim, and given all but one group of claims. Highlighted: the median moves by more "
        f"than {MOVE_Z:g} Monte Carlo standard errors when the group is left out. Last column: "
        f"the groups whose removal moves the median so, or raises the SD ratio by {INFORMS:g} "
        "or more.",
        name="tbl-confront-leave-out",
        flags=pd.DataFrame(flags),
    )


def left_out_claims_table(stored: Stored) -> BookTable:
    """Percentile of each published value in the posterior predictive that left it out, beside
    the one that used it."""
    from anrs119.report.tables import percentile_text

    labels = _claim_labels()
    c = stored.claims
    full = c[c["analysis"] == "posterior"].set_index("claim")
    rows, flags = [], []
    for group, ids in GROUPS.items():
        for claim_id in ids:
            r = c[(c["variant"] == f"without {group}") & (c["claim"] == claim_id)].iloc[0]
            f = full.loc[claim_id]
            rows.append(
                {
                    "Published result": labels.get(claim_id, claim_id),
                    "Left out of the posterior": f"{percentile_text(r['percentile'])} "
                    f"(± {r['mc_se']:.1f})",
                    "Used by the posterior": f"{percentile_text(f['percentile'])} "
                    f"(± {f['mc_se']:.1f})",
                }
            )
            flags.append(
                {
                    "Published result": False,
                    "Left out of the posterior": bool(r["outside95"]),
                    "Used by the posterior": bool(f["outside95"]),
                }
            )
    return BookTable(
        pd.DataFrame(rows),
        caption="Each published value's percentile among posterior-predictive trials, when its "
        "own group of claims is left out of the posterior (a check that does not use the value "
        "twice) and when it is used. ± one Monte Carlo SE in points. Highlighted: outside the "
        "central 95%.",
        name="tbl-confront-left-out",
        flags=pd.DataFrame(flags),
    )


# ---------------------------------------------------------------- priors and models


def priors_table(stored: Stored) -> BookTable:
    from anrs119.model.checks.confrontation import load_alternatives
    from anrs119.model.inference.priors import load_priors

    il2, control = published_pair()
    priors = load_priors()
    pair, post = stored.pair, stored.posteriors
    base = _row(pair, "prior", "base")
    hl = post[(post["analysis"] == "posterior") & (post["parameter"] == "il2_halflife")].iloc[0]
    rows = [
        {
            "Prior": "the book's",
            "Changed parameter": "",
            "Prior median (95%)": "",
            f"Both, per {PER:,} trials": per_trials(base["p_pair"], base["mc_se"]),
            f"IL-2 {il2} or more, %": _pct(base["p_il2"]),
            f"Control {control} or less, %": _pct(base["p_control"]),
            "Posterior median of the changed parameter": "",
            "Posterior half-life, weeks": f"{hl['median']:.3g}",
            "Posterior ESS": f"{hl['ess']:,.0f}",
        }
    ]
    for alt in load_alternatives(priors=priors):
        r = _row(pair, "prior_sensitivity", alt.name)
        p = post[(post["variant"] == alt.name) & (post["analysis"] == "prior_sensitivity")]
        p = p.set_index("parameter")
        lo, med, hi = alt.prior.quantiles([0.025, 0.5, 0.975])
        rows.append(
            {
                "Prior": alternative_label(alt.name),
                "Changed parameter": _name(alt.parameter),
                "Prior median (95%)": f"{med:.3g} ({lo:.3g} to {hi:.3g})",
                f"Both, per {PER:,} trials": per_trials(r["p_pair"], r["mc_se"]),
                f"IL-2 {il2} or more, %": _pct(r["p_il2"]),
                f"Control {control} or less, %": _pct(r["p_control"]),
                "Posterior median of the changed parameter": (
                    f"{p.loc[alt.parameter, 'median']:.3g}"
                ),
                "Posterior half-life, weeks": f"{p.loc['il2_halflife', 'median']:.3g}",
                "Posterior ESS": f"{p.loc['il2_halflife', 'ess']:,.0f}",
            }
        )
    return BookTable(
        pd.DataFrame(rows),
        caption="Other literature-defensible priors, each changing one parameter (sources in "
        "data/model/prior_alternatives.csv): the prior-predictive chance of the published pair "
        "(the reference table reweighted by the new prior's density over the book's), and the "
        "posterior under that prior, with its effective sample size (the importance weights "
        "lower it where the new prior differs most). ± one Monte Carlo SE.",
        name="tbl-confront-priors",
    )


def models_table(stored: Stored) -> BookTable:
    from anrs119.report.tables import percentile_text

    il2_id, control_id = (s.id for s in pair_statistics())
    pair, post, claims = stored.pair, stored.posteriors, stored.claims
    rows, flags = [], []
    for v in VARIANTS:
        if not (pair["variant"] == v.name).any():
            continue
        prior, posterior = _row(pair, "model", v.name, True), _row(pair, "model", v.name, False)
        mine = claims[(claims["analysis"] == "model") & (claims["variant"] == v.name)]
        mine = mine.set_index("claim")
        extra = ""
        for name in v.extra:
            e = post[(post["variant"] == v.name) & (post["parameter"] == name)].iloc[0]
            extra = f"{_name(name)}: {e['median']:.2g} ({e['q025']:.2g} to {e['q975']:.2g})"
        rows.append(
            {
                "Model": "the book's" if v.is_base else v.label,
                "Extra parameter, posterior median (95%)": extra,
                f"Pair per {PER:,}, prior": per_trials(prior["p_pair"], prior["mc_se"]),
                f"Pair per {PER:,}, posterior": per_trials(posterior["p_pair"], posterior["mc_se"]),
                "IL-2 value, percentile": percentile_text(mine.loc[il2_id, "percentile"]),
                "Control value, percentile": percentile_text(mine.loc[control_id, "percentile"]),
                "Joint check, %": f"{_pct(posterior['joint_p'])} ± {_pct(posterior['joint_se'])}",
            }
        )
        flags.append(
            {k: False for k in rows[-1]}
            | {
                "IL-2 value, percentile": bool(mine.loc[il2_id, "outside95"]),
                "Control value, percentile": bool(mine.loc[control_id, "outside95"]),
            }
        )
    return BookTable(
        pd.DataFrame(rows),
        caption="The book's model and its two extensions, each simulated into a reference "
        "table of the same size and fitted by the same method: the chance of the published pair "
        "before and after the abstract, the published low-viral-load values' percentiles among "
        "posterior-predictive trials, and the joint check. Highlighted: outside the central 95%.",
        name="tbl-confront-models",
        flags=pd.DataFrame(flags),
    )


# ---------------------------------------------------------------- numbers for the prose


ALTERNATIVE_WORDS: tuple[tuple[str, str], ...] = (
    ("il2", "IL-2"),
    ("vl", "viral-load"),
    ("cohere", "COHERE"),
    ("stalwart", "STALWART"),
)


def alternative_label(name: str) -> str:
    """An alternative prior's name in words: "durable_il2_gains" -> "durable IL-2 gains"."""
    words = name.split("_")
    table = dict(ALTERNATIVE_WORDS)
    return " ".join(table.get(w, w) for w in words)


def _where(row: pd.Series) -> str:
    """Where a row of the pair file comes from, in words."""
    labels_ = group_labels()
    variant = str(row["variant"])
    if row["analysis"] == "leave_out":
        group = variant.removeprefix("without ")
        return f"given the abstract without its {labels_.get(group, group)}"
    if row["analysis"] == "prior_sensitivity":
        return f"under the alternative prior '{alternative_label(variant)}'"
    if row["analysis"] == "model":
        return f"under the model '{MODEL_LABELS.get(variant, variant)}'"
    return "under the book's model"


def confrontation_numbers(stored: Stored) -> dict[str, str]:
    """Numbers of the confrontation prose (all of kind 'model')."""
    labels_ = group_labels()
    from anrs119.model.checks.confrontation import load_alternatives
    from anrs119.model.inference.priors import load_priors

    pair, post, claims, method = stored.pair, stored.posteriors, stored.claims, stored.method
    il2, control = published_pair()
    prior = _row(pair, "prior", "base")
    full = _row(pair, "posterior", "all claims")
    nopair = _row(pair, "leave_out", "without lowvl_pair")
    indep = prior["p_il2"] * prior["p_control"]
    from anrs119.published import claim_value

    out = {
        "cf_il2": il2,
        "cf_control": control,
        "cf_week_primary": f"{claim_value('primary_timepoint_weeks'):g}",
        "cf_week_sub": f"{claim_value('subgroup_timepoint_weeks'):g}",
        "cf_threshold": f"{claim_value('endpoint_cd4_threshold'):g}",
        "cf_per": f"{PER:,}",
        "cf_trials": f"{int(prior['trials']):,}",
        "cf_events": f"{round(prior['p_pair'] * prior['trials']):,}",
        "cf_prior": per_trials(prior["p_pair"]),
        "cf_prior_lo": per_trials(prior["lower95"]),
        "cf_prior_hi": per_trials(prior["upper95"]),
        "cf_prior_il2": _pct(prior["p_il2"]),
        "cf_prior_control": _pct(prior["p_control"]),
        "cf_indep": per_trials(indep),
        "cf_indep_ratio": f"{indep / prior['p_pair']:.0f}",
        "cf_post": per_trials(full["p_pair"], full["mc_se"]),
        "cf_post_il2": _pct(full["p_il2"]),
        "cf_post_control": _pct(full["p_control"]),
        "cf_nopair": per_trials(nopair["p_pair"], nopair["mc_se"]),
        "cf_nopair_il2": _pct(nopair["p_il2"]),
        "cf_nopair_control": _pct(nopair["p_control"]),
        "cf_nopair_joint": f"{_pct(nopair['joint_p'])} (± {_pct(nopair['joint_se'])})",
        "cf_draws": f"{method['posterior_draws']:,}",
        "cf_per_draw": str(method["trials_per_draw"]),
        "cf_accepted": f"{method['accepted']:,}",
        "cf_bootstrap": str(method["bootstrap_replicates"]),
        "cf_ext_trials": f"{method['extension_trials']:,}",
        "cf_ext_accepted": f"{method['extension_accepted']:,}",
        "cf_move_z": f"{MOVE_Z:g}",
    }
    # the half-life with and without the pair, against the prior's central 50%
    priors = load_priors()
    q25, med, q75 = priors["il2_halflife"].quantiles([0.25, 0.5, 0.75])
    hl = post[post["parameter"] == "il2_halflife"].set_index("variant")
    for key, variant in (("all", "all claims"), ("nopair", "without lowvl_pair")):
        r = hl.loc[variant]
        out[f"cf_hl_{key}"] = f"{r['median']:.0f}"
        out[f"cf_hl_{key}_se"] = f"{r['median_mcse']:.1f}"
        out[f"cf_hl_{key}_lo"] = f"{r['q025']:.0f}"
        out[f"cf_hl_{key}_hi"] = f"{r['q975']:.0f}"
        out[f"cf_hl_{key}_moved"] = (
            "outside the prior's central 50%" if not q25 <= r["median"] <= q75 else
            "inside the prior's central 50%"
        )  # fmt: skip
    out |= {"cf_hl_prior": f"{med:.0f}", "cf_hl_q25": f"{q25:.0f}", "cf_hl_q75": f"{q75:.0f}"}
    # prior sensitivity: the largest prior-predictive chance among the alternatives
    sens = pair[pair["analysis"] == "prior_sensitivity"]
    best = sens.loc[sens["p_pair"].idxmax()]
    alts = {a.name: a for a in load_alternatives(priors=priors)}
    out["cf_n_alts"] = str(len(sens))
    out["cf_alt_best"] = alternative_label(best["variant"])
    out["cf_alt_best_param"] = _name(alts[best["variant"]].parameter)
    out["cf_alt_best_p"] = per_trials(best["p_pair"], best["mc_se"])
    out["cf_alt_best_ratio"] = f"{best['p_pair'] / prior['p_pair']:.1f}"
    # the extensions
    for v in VARIANTS:
        if not (pair["variant"] == v.name).any():
            continue
        r = _row(pair, "model", v.name, False)
        out[f"cf_{v.name}_post"] = per_trials(r["p_pair"], r["mc_se"])
        out[f"cf_{v.name}_prior"] = per_trials(_row(pair, "model", v.name, True)["p_pair"])
        out[f"cf_{v.name}_joint"] = _pct(r["joint_p"])
        mine = claims[(claims["analysis"] == "model") & (claims["variant"] == v.name)]
        c = mine.set_index("claim").loc[pair_statistics()[1].id]
        out[f"cf_{v.name}_control_pct"] = f"{c['percentile']:.1f}"
        for name in v.extra:
            e = post[(post["variant"] == v.name) & (post["parameter"] == name)].iloc[0]
            out[f"cf_{name}_median"] = f"{e['median']:.2f}"
            out[f"cf_{name}_lo"] = f"{e['q025']:.2f}"
            out[f"cf_{name}_hi"] = f"{e['q975']:.2f}"
            out[f"cf_{name}_sd_ratio"] = f"{e['sd_ratio']:.2f}"
            excludes = e["q025"] > 0 or e["q975"] < 0
            out[f"cf_{name}_excludes_zero"] = "excludes" if excludes else "includes"
            interval = f"{e['q025']:.2f} to {e['q975']:.2f}"
            out[f"cf_{name}_clause"] = (
                f"although the abstract favors a modified effect (its posterior 95% interval, "
                f"{interval}, excludes 0)"
                if excludes
                else "and the abstract cannot tell a modified effect from none (its posterior "
                f"95% interval, {interval}, includes 0)"
            )
    # which parameters the paper informs, and by which claims
    full_post = post[post["analysis"] == "posterior"].set_index("parameter")
    groups_of = informed_by(stored)
    informed = full_post[full_post["sd_ratio"] < INFORMED_SD].sort_values("sd_ratio")
    out["cf_informed"] = _and(
        [
            f"{_name(n)} (SD ratio {r['sd_ratio']:.2f}; "
            + (", ".join(labels_[g] for g in groups_of[n]) or "no single group")
            + ")"
            for n, r in informed.iterrows()
        ]
    )
    out["cf_n_informed"] = str(len(informed))
    barely = full_post[full_post["sd_ratio"] >= BARELY_SD].sort_values("sd_ratio")
    out["cf_barely"] = _and([f"{_name(n)} ({r['sd_ratio']:.2f})" for n, r in barely.iterrows()])
    out["cf_informed_sd"] = f"{INFORMED_SD:g}"
    out["cf_barely_sd"] = f"{BARELY_SD:g}"
    vl = post[post["parameter"] == "cd4_slope_vl"].set_index("variant")
    out["cf_slope_vl_all"] = f"{vl.loc['all claims', 'median']:.0f}"
    out["cf_slope_vl_nopair"] = f"{vl.loc['without lowvl_pair', 'median']:.0f}"
    out["cf_slope_vl_prior"] = f"{priors['cd4_slope_vl'].quantiles([0.5])[0]:.0f}"
    out["cf_hl_movers"] = _and([labels_[g] for g in groups_of["il2_halflife"]])
    pcts = [out[f"cf_{v.name}_control_pct"] for v in VARIANTS if f"cf_{v.name}_control_pct" in out]
    out["cf_control_pcts"] = (
        pcts[0] if len(pcts) == 1 else ", ".join(pcts[:-1]) + " and " + pcts[-1]
    )
    out["cf_largest_any"] = per_trials(float(pair["p_pair"].max()))
    top = pair.loc[pair["p_pair"].idxmax()]
    out["cf_largest_where"] = _where(top)
    # the viral-load modification's own prior
    from anrs119.model.checks.extensions import VL_MODIFIED, variant_priors

    b = variant_priors(VL_MODIFIED)[VL_MODIFIED.extra[0]]
    lo, hi = b.quantiles([0.025, 0.975])
    out["cf_b_prior_lo"] = f"{lo:.2g}"
    out["cf_b_prior_hi"] = f"{hi:.2g}"
    out["cf_b_factor"] = f"{math.exp(max(abs(lo), abs(hi))):.1f}"
    # what a trial of the literature needs to print the pair
    pt = post[(post["analysis"] == "pair_trials") & (post["variant"] == "base")]
    pt = pt.set_index("parameter")
    for name in PROFILE:
        out[f"cf_pt_{name}"] = f"{pt.loc[name, 'median']:.3g}"
        out[f"cf_pt_prior_{name}"] = f"{priors[name].quantiles([0.5])[0]:.3g}"
    noprimary = _row(pair, "leave_out", "without primary")
    out["cf_noprimary"] = per_trials(noprimary["p_pair"], noprimary["mc_se"])
    out["cf_noprimary_control"] = _pct(noprimary["p_control"])
    return out
