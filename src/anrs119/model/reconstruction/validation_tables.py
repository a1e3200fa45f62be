"""The stored checks of the reconstruction, read without the simulator: the walk's mixing, the
calibration on simulated abstracts and the what-if verdicts (``data/model/reconstruction_*.csv``,
``data/model/ensemble_calibration*.csv``, ``data/model/whatif*.csv``), with numpy and pandas only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from anrs119.paths import MODEL_DIR

MIXING_FILE: Path = MODEL_DIR / "reconstruction_mixing.csv"
TRACE_FILE: Path = MODEL_DIR / "reconstruction_traces.csv"
MIXING_RUNS_FILE: Path = MODEL_DIR / "reconstruction_mixing_runs.csv"
CALIBRATION_FILE: Path = MODEL_DIR / "ensemble_calibration.csv"
ABSTRACTS_FILE: Path = MODEL_DIR / "simulated_abstracts.csv"
WHATIF_FILE: Path = MODEL_DIR / "whatif.csv"
CROSSCLAIM_FILE: Path = MODEL_DIR / "whatif_crossclaim.csv"


PRINTED_CLAIMS: tuple[str, ...] = (
    "primary_w96_il2",
    "primary_w96_control",
    "primary_w96_p",
    "cd4_change_w96_il2",
    "cd4_change_w96_control",
    "cd4_change_w96_p",
    "vl_change_w96_il2",
    "vl_change_w96_control",
    "vl_change_w96_p",
    "lowvl_free_w150_il2",
    "lowvl_free_w150_control",
    "lowvl_free_w150_p",
    "lowvl_art_deferral",
)
"""The numeric claims a simulated abstract prints (kept with each abstract)."""


NOT_REACHED_CAP: float = 151.0
"""In the mixing check a time to ART not reached by week 150 counts as 151 weeks (a rank above
every reached value; means of such quantities are then only a summary of the chains)."""


TRACE_QUANTITIES: tuple[str, ...] = (
    "hr_primary_w96",
    "km_free_w150_control",
    "n_lowvl_il2",
    "baseline_vl_il2",
    "art_q25_il2",
    "lowvl_art_deferral:rmst",
)
"""Quantities whose chain traces are kept for the chapter's figure (slow and fast ones)."""


RHAT_LIMIT: float = 1.05
"""Chains agree on a quantity when its rank-normalised split R-hat is below this (Vehtari et al.
2021 recommend 1.01 for final inference; 1.05 is their looser, common working limit)."""


Z_LIMIT: float = 3.0
"""A mean difference beyond this many standard errors counts as a real difference (about 1 in
370 by chance for one quantity; the chapter reports how many quantities pass it)."""


def read_mixing(path: Path = MIXING_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_traces(path: Path = TRACE_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_mixing_runs(path: Path = MIXING_RUNS_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_calibration(path: Path = CALIBRATION_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_abstracts(path: Path = ABSTRACTS_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_whatif(path: Path = WHATIF_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


def read_crossclaim(path: Path = CROSSCLAIM_FILE) -> pd.DataFrame:
    return pd.read_csv(path)


# ---------------------------------------------------------------- calibration summaries


COVERAGE_LEVEL: float = 0.95
"""The central range whose coverage is checked."""


COVERAGE_LIMIT: float = 0.88
"""A quantity is "pinned down" only where the reconstructions' central 95% range covered the
truth in at least 88% of the simulated abstracts (with 50 abstracts, 95% coverage reads as
88% or more with probability about 0.99; with more abstracts the limit is conservative)."""


RANK_BINS: int = 5
"""Bins of the rank histogram (of the randomised PIT u, equal width)."""


def coverage_table(ranks: pd.DataFrame) -> pd.DataFrame:
    """Per quantity: abstracts with a rank, coverage of the central 95% range (share of ``u``
    within [0.025, 0.975]) with its Monte Carlo standard error, the rank histogram (counts of
    ``u`` in :data:`RANK_BINS` equal bins), the chi-square P of its uniformity, and the mean
    ``u`` (0.5 when calibrated; below: the reconstructions sit above the truth)."""
    import numpy as np
    from scipy import stats

    lo, hi = (1 - COVERAGE_LEVEL) / 2, 1 - (1 - COVERAGE_LEVEL) / 2
    rows = []
    for q, group in ranks.groupby("quantity", sort=False):
        u = group["u"].to_numpy(dtype=float)
        u = u[np.isfinite(u)]
        n = u.size
        row: dict[str, object] = {"quantity": q, "n": n}
        if n == 0:
            row.update(coverage=np.nan, coverage_se=np.nan, uniform_p=np.nan, mean_u=np.nan)
            rows.append(row)
            continue
        cov = float(np.mean((u >= lo) & (u <= hi)))
        counts = np.histogram(u, bins=RANK_BINS, range=(0.0, 1.0))[0]
        row.update(
            coverage=cov,
            coverage_se=float(np.sqrt(cov * (1 - cov) / n)),
            uniform_p=float(stats.chisquare(counts).pvalue) if n >= RANK_BINS else np.nan,
            mean_u=float(u.mean()),
        )
        row.update({f"bin{k + 1}": int(c) for k, c in enumerate(counts)})
        rows.append(row)
    return pd.DataFrame(rows)


def checked_verdicts(
    ranges: pd.DataFrame, typical: pd.DataFrame, coverage: pd.DataFrame
) -> pd.DataFrame:
    """The ensemble's width verdicts (:func:`.ensemble_tables.leaves_open`) with the two checks
    a "pinned down" needs: coverage of at least :data:`COVERAGE_LIMIT` on simulated abstracts,
    and a typicality not flagged (binomial P of the tail count at least 0.01)."""
    out = ranges[["quantity", "label", "verdict"]].copy()
    cov = coverage.set_index("quantity")
    typ = typical.set_index("quantity")
    out["coverage"] = out["quantity"].map(cov["coverage"])
    out["coverage_se"] = out["quantity"].map(cov["coverage_se"])
    out["typicality_flagged"] = out["quantity"].map(typ["p_tails"] < 0.01)
    pinned = out["verdict"] == "pinned down"
    holds = (out["coverage"] >= COVERAGE_LIMIT) & ~out["typicality_flagged"].astype(bool)
    out["checked"] = out["verdict"]
    out.loc[pinned & ~holds, "checked"] = "narrow, not shown calibrated"
    return out


# ---------------------------------------------------------------- the what-if verdict


def false_alarms(abstracts: pd.DataFrame) -> dict[str, float]:
    """Share of the printable simulated abstracts called implausible, with its exact 95% CI
    (Clopper-Pearson), and the share each component flags."""
    from scipy import stats

    ok = abstracts[abstracts["printable"].astype(bool)]
    n = len(ok)
    k = int((~ok["plausible"].astype(bool)).sum())
    low = float(stats.beta.ppf(0.025, k, n - k + 1)) if k > 0 else 0.0
    high = float(stats.beta.ppf(0.975, k + 1, n - k)) if k < n else 1.0
    out = {"n": float(n), "implausible": float(k), "rate": k / n if n else float("nan"),
           "low95": low, "high95": high}  # fmt: skip
    for col in ("consistency_ok", "joint_ok", "reconstructions_ok", "typicality_ok"):
        out[col.replace("_ok", "_flagged")] = float((~ok[col].astype(bool)).mean())
    out["not_printable"] = float((~abstracts["printable"].astype(bool)).sum())
    out["attempts"] = float(abstracts["attempts"].sum())
    return out


def unmixed(mixing: pd.DataFrame) -> list[str]:
    """Quantities on which the long chains disagree: R-hat at or above :data:`RHAT_LIMIT`, or
    none computable although the quantity varies between chains (chains that never moved)."""
    bad = ~(mixing["rhat"] < RHAT_LIMIT)
    if "estimable" in mixing.columns:
        # a quantity that never varies (not reached in every kept trial) has no R-hat to judge
        bad &= mixing["estimable"].astype(bool) & (mixing["long_sd"] > 0)
    return [str(q) for q in mixing.loc[bad, "quantity"]]


# ---------------------------------------------------------------- the chapter's numbers


def _names(items) -> str:
    items = [str(i) for i in items]
    return "; ".join(items) if items else "none"


def _pct(x: float, digits: int = 0) -> str:
    return f"{100 * x:.{digits}f}%"


def validation_numbers(
    mixing: pd.DataFrame,
    runs: pd.DataFrame,
    ranks: pd.DataFrame,
    abstracts: pd.DataFrame,
    whatif: pd.DataFrame,
    crossclaim: pd.DataFrame,
    checked: pd.DataFrame,
) -> dict[str, str]:
    """The reconstruction chapter's glued numbers about the walk, the calibration and the what-if
    verdict (keys prefixed ``rv_``), from the stored files."""
    import numpy as np

    from anrs119.model.reconstruction.assess import (
        CONSISTENCY_ALPHA,
        JOINT_ALPHA,
        NEIGHBOURS,
        TYPICALITY_MIN,
        TYPICALITY_SHARE,
    )
    from anrs119.model.reconstruction.ensemble_tables import SHORT

    est = mixing[mixing["estimable"].astype(bool)]
    if "long_sd" in est.columns:  # a quantity the kept trials never vary has no R-hat
        est = est[est["long_sd"] > 0]
    mixed = est[est["rhat"] < RHAT_LIMIT]
    worst = est.loc[est["rhat"].idxmax()]
    least = est.loc[est["ess"].idxmin()]
    cov = coverage_table(ranks)
    low = cov[cov["coverage"] < COVERAGE_LIMIT]
    rejected = cov[cov["uniform_p"] < 0.01]
    fa = false_alarms(abstracts)
    ok = abstracts[abstracts["printable"].astype(bool)]
    per = int(ranks.groupby("abstract")["n"].max().max()) if len(ranks) else 0
    r0 = runs.iloc[0]
    pinned_width = checked[checked["verdict"] == "pinned down"]
    pinned_ok = checked[checked["checked"] == "pinned down"]
    failed_check = pinned_width[pinned_width["checked"] != "pinned down"]

    def far(col: str) -> list[str]:
        return [SHORT[q] for q in est.loc[est[col].abs() > Z_LIMIT, "quantity"]]

    return {
        "rv_walk": f"{int(r0['walk']):,}",
        "rv_walk_sweeps": f"{int(r0['walk']) // int(r0['trial_size']):,}",
        "rv_long": f"{int(r0['proposals']):,}",
        "rv_thin": f"{int(r0['thin']):,}",
        "rv_kept": f"{int(r0['proposals']) // int(r0['thin']):,}",
        "rv_acc_single": _pct(float(runs["single_acceptance"].mean()), 1),
        "rv_acc_local": _pct(float(runs["local_acceptance"].mean()), 1),
        "rv_acc_pair": _pct(float(runs["pair_acceptance"].mean()), 1),
        "rv_n_estimable": str(len(est)),
        "rv_n_mixed": str(len(mixed)),
        "rv_rhat_limit": f"{RHAT_LIMIT:.2f}",
        "rv_unmixed": _names(SHORT[q] for q in unmixed(mixing)),
        "rv_unvarying": _names(
            SHORT[q]
            for q in mixing.loc[
                mixing["estimable"].astype(bool) & (mixing.get("long_sd", 1.0) == 0), "quantity"
            ]
        ),
        "rv_rhat_max": f"{worst['rhat']:.2f}",
        "rv_rhat_max_q": SHORT[worst["quantity"]],
        "rv_ess_min": f"{least['ess']:.0f}",
        "rv_ess_min_q": SHORT[least["quantity"]],
        "rv_z_limit": f"{Z_LIMIT:g}",
        "rv_draws_n": str(int(r0["draws_same_pool"])),
        "rv_pool_draws_n": str(int(r0["draws_per_pool_size"])),
        "rv_pool": f"{int(r0['pool_per_arm']):,}",
        "rv_pool2": f"{2 * int(r0['pool_per_arm']):,}",
        "rv_first_off": _names(far("z_first")),
        "rv_n_first_off": str(len(far("z_first"))),
        "rv_draw_off": _names(far("z_draw")),
        "rv_n_draw_off": str(len(far("z_draw"))),
        "rv_pool_off": _names(far("z_pool")),
        "rv_n_pool_off": str(len(far("z_pool"))),
        "rv_cal_n": str(len(ok)),
        "rv_cal_tasks": str(len(abstracts)),
        "rv_cal_per": str(per),
        "rv_cal_redrawn": _pct(
            float((abstracts["attempts"].sum() - len(ok)) / abstracts["attempts"].sum())
        ),
        "rv_cal_posterior": str(ok["posterior"].dropna().iloc[0]) if len(ok) else "none",
        "rv_truth_exact": _pct(float(ok["truth_exact"].astype(float).mean()))
        if "truth_exact" in ok
        else "-",
        "rv_cov_median": _pct(float(cov["coverage"].median())),
        "rv_cov_min": _pct(float(cov["coverage"].min())),
        "rv_cov_min_q": SHORT[cov.loc[cov["coverage"].idxmin(), "quantity"]],
        "rv_cov_limit": _pct(COVERAGE_LIMIT),
        "rv_n_cov_low": str(len(low)),
        "rv_cov_low": _names(SHORT[q] for q in low["quantity"]),
        "rv_n_uniform_rejected": str(len(rejected)),
        "rv_uniform_rejected": _names(SHORT[q] for q in rejected["quantity"]),
        "rv_n_quantities": str(len(cov)),
        "rv_n_pinned_width": str(len(pinned_width)),
        "rv_n_pinned_checked": str(len(pinned_ok)),
        "rv_pinned_checked": _names(pinned_ok["label"]),
        "rv_pinned_failed": _names(failed_check["label"]),
        "rv_fa_rate": _pct(fa["rate"], 1),
        "rv_fa_k": str(int(fa["implausible"])),
        "rv_fa_n": str(int(fa["n"])),
        "rv_fa_ci": f"{_pct(fa['low95'], 1)} to {_pct(fa['high95'], 1)}",
        "rv_fa_consistency": _pct(fa["consistency_flagged"], 1),
        "rv_fa_joint": _pct(fa["joint_flagged"], 1),
        "rv_fa_reconstructions": _pct(fa["reconstructions_flagged"], 1),
        "rv_fa_typicality": _pct(fa["typicality_flagged"], 1),
        "rv_joint_alpha": f"{JOINT_ALPHA:g}",
        "rv_consistency_alpha": f"{CONSISTENCY_ALPHA:g}",
        "rv_neighbours": str(NEIGHBOURS),
        "rv_typ_share": _pct(TYPICALITY_SHARE),
        "rv_typ_min": str(TYPICALITY_MIN),
        **whatif_numbers(whatif),
        **crossclaim_numbers(whatif, crossclaim),
        "rv_exact_median": f"{float(np.median(ok['exact_share'])):.0%}" if len(ok) else "-",
    }


BOOK_NUMBERS: frozenset[str] = frozenset(
    {
        "rv_walk", "rv_walk_sweeps", "rv_long", "rv_thin", "rv_kept", "rv_rhat_limit",
        "rv_z_limit", "rv_draws_n", "rv_pool_draws_n", "rv_pool", "rv_pool2", "rv_cal_tasks",
        "rv_cal_per", "rv_cov_limit", "rv_joint_alpha", "rv_consistency_alpha", "rv_neighbours",
        "rv_typ_share", "rv_typ_min", "rv_cc_neighbours", "rv_cc_level_wide",
        "rv_cc_level_narrow",
    }
)  # fmt: skip
"""Numbers of :func:`validation_numbers` that are the book's settings and thresholds; the others
are results of the model's runs."""


def number_kinds(numbers: Mapping[str, object]) -> dict[str, str]:
    """The glue kinds of :func:`validation_numbers`' settings and the what-ifs' own statements
    (``book``); the rest are ``model``."""
    return {k: "book" for k in numbers
            if k in BOOK_NUMBERS or k.endswith("_label") or k.endswith("_value")}  # fmt: skip


def _abstract_words(printed: str) -> str:
    """An abstract's results (``"id: printed; ..."``, as whatif.csv stores them) in words."""
    v = dict(part.split(": ", 1) for part in printed.split("; ") if ": " in part)

    def pair(stem: str) -> str:
        return f"{v[stem + '_il2']} vs {v[stem + '_control']} ({v[stem + '_p']})"

    return (
        f"IL-2 vs control: {pair('primary_w96')} reached the end point by week 96; median CD4 "
        f"change {pair('cd4_change_w96')}; median viral-load change {pair('vl_change_w96')}; "
        f"low viral load, free of the end point at week 150 {pair('lowvl_free_w150')}, "
        f"deferral of ART {v['lowvl_art_deferral']}"
    )


def _failed_words(row: pd.Series) -> str:
    failed = row.get("failed")
    return str(failed) if isinstance(failed, str) and failed else "nothing"


def whatif_numbers(whatif: pd.DataFrame) -> dict[str, str]:
    """The what-if section's numbers: the published abstract's verdict and its parts, the
    plausible base and, for each contradiction inserted into it, its verdict and the parts that
    flag it (``rv_base_<name>_verdict``, ``rv_base_<name>_by``)."""
    import math

    w = whatif.set_index("abstract")

    def verdict_of(name: str) -> str:
        return "plausible" if bool(w.loc[name, "plausible"]) else "implausible"

    def p3(x: float) -> str:
        """A p value to three decimals, as a reader reads it ("< 0.001", "1")."""
        if not math.isfinite(x):
            return "-"
        if x < 0.0005:
            return "< 0.001"
        return "1" if x >= 0.9995 else f"{x:.3f}"

    pub, base = w.loc["published"], w.loc["plausible_base"]
    inserted = [a for a in w.index if str(a).startswith("base_")]
    flipped = [a for a in inserted if not bool(w.loc[a, "plausible"])]
    out = {
        "rv_pub_verdict": verdict_of("published"),
        "rv_pub_joint": p3(float(pub["joint_p"])),
        "rv_pub_post_joint": p3(float(pub["posterior_joint_p"])),
        "rv_pub_failed": _failed_words(pub),
        "rv_worked_verdict": verdict_of("subgroup_50_20"),
        "rv_worked_failed": _failed_words(w.loc["subgroup_50_20"]),
        "rv_base_verdict": verdict_of("plausible_base"),
        "rv_base_joint": p3(float(base["joint_p"])),
        "rv_base_post_joint": p3(float(base["posterior_joint_p"])),
        "rv_base_tried": str(int(base["candidates_tried"])),
        "rv_base_printed": _abstract_words(str(base["base_printed"])),
        "rv_n_contradictions": str(len(inserted)),
        "rv_n_base_flipped": str(len(flipped)),
    }
    for a in w.index:  # each what-if as its table names it (the book's inputs, not results)
        if not str(a).startswith("base_") and a != "plausible_base":
            out[f"rv_{a}_label"] = str(w.loc[a, "label"])
    for a in inserted:
        key = str(a).removeprefix("base_")
        out[f"rv_base_{key}_verdict"] = verdict_of(a)
        out[f"rv_base_{key}_by"] = _failed_words(w.loc[a])
    for a in ("cd4_il2_minus10", "cd4_il2_plus150", "vl_contradiction", "primary_p93"):
        out[f"rv_pub_{a}_by"] = _failed_words(w.loc[a])
    for a in ("cd4_il2_minus10", "cd4_il2_plus150"):
        out[f"rv_base_{a}_cd4_p"] = p3(float(w.loc[f"base_{a}", "consistency_p:CD4 changes"]))
    return out


CROSSCLAIM_SHOWN: dict[str, tuple[str, str]] = {
    "published": ("CD4 changes", "cd4_change_w96_il2"),
    "cd4_il2_minus10": ("CD4 changes", "cd4_change_w96_il2"),
    "cd4_il2_plus150": ("CD4 changes", "cd4_change_w96_il2"),
    "base_cd4_il2_minus10": ("CD4 changes", "cd4_change_w96_il2"),
    "base_cd4_il2_plus150": ("CD4 changes", "cd4_change_w96_il2"),
    "vl_contradiction": ("viral-load changes", "vl_change_w96_il2"),
    "base_vl_contradiction": ("viral-load changes", "vl_change_w96_il2"),
}
"""The what-if rows whose cross-claim check the chapter quotes: the group, and the claim whose
percentile it gives."""


def crossclaim_numbers(whatif: pd.DataFrame, crossclaim: pd.DataFrame) -> dict[str, str]:
    """The cross-claim checks' numbers: their calibration on the abstracts printed from
    simulated trials (share of p values below 5% and 1%, over every statement and per group),
    and, for :data:`CROSSCLAIM_SHOWN`, a what-if's p value and its claim's percentile given the
    rest of the abstract (``rv_cc_<abstract>_p``, ``rv_cc_<abstract>_pct``), and the published
    abstract's p value per group (``rv_cc_pub_<group>_p``)."""
    import numpy as np

    from anrs119.model.checks.crossclaim import GROUPS, NEIGHBOURS, REPORT_LEVELS

    w = whatif.set_index("abstract")
    p = crossclaim[[f"crossclaim_p:{g}" for g in GROUPS]].to_numpy(dtype=float)
    wide, narrow = REPORT_LEVELS
    out = {
        "rv_cc_neighbours": f"{NEIGHBOURS:,}",
        "rv_cc_level_wide": f"{wide:g}",
        "rv_cc_level_narrow": f"{narrow:g}",
        "rv_cc_n": str(len(crossclaim)),
        "rv_cc_fa_wide": _pct(float(np.mean(p < wide)), 1),
        "rv_cc_fa_narrow": _pct(float(np.mean(p < narrow)), 1),
        "rv_cc_fa_wide_max": _pct(float(np.max(np.mean(p < wide, axis=0))), 1),
    }

    def p3(x: float) -> str:
        """A p value with its sign, as prose reads it: "p = 0.043", "p < 0.001"."""
        return "p < 0.001" if x < 0.0005 else ("p = 1" if x >= 0.9995 else f"p = {x:.3f}")

    def pct(x: float) -> str:
        return f"{x:.1f}"

    # what flagging the -10 of the published abstract would cost: the share of the model's own
    # abstracts whose CD4 statement is at least as far out given the rest
    cd4 = crossclaim["crossclaim_p:CD4 changes"].to_numpy(dtype=float)
    p_minus10 = float(w.loc["cd4_il2_minus10", "crossclaim_p:CD4 changes"])
    out["rv_cc_minus10_cost"] = _pct(float(np.mean(cd4 <= p_minus10)))

    for name, (group, claim) in CROSSCLAIM_SHOWN.items():
        key = "pub" if name == "published" else name
        out[f"rv_cc_{key}_p"] = p3(float(w.loc[name, f"crossclaim_p:{group}"]))
        out[f"rv_cc_{key}_pct"] = pct(float(w.loc[name, f"crossclaim_pct:{claim}"]))
        if name != "published":  # a what-if's own statement (the book's input)
            value = float(w.loc[name, f"crossclaim_value:{claim}"])
            out[f"rv_cc_{key}_value"] = f"{value:+g}"
    for group in GROUPS:
        slug = group.split()[0].lower().replace("-", "")
        out[f"rv_cc_pub_{slug}_p"] = p3(float(w.loc["published", f"crossclaim_p:{group}"]))
    return out
