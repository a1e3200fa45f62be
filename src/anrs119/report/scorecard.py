"""The scorecard: every published claim, two questions side by side.

(a) Does the dataset in use reproduce it? ``exact`` / ``close`` (one patient's change away) /
``off``, or ``consistent`` / ``inconsistent`` for a "similar" statement. (b) Is the published
number what the evidence predicts? Its percentile in the prior- and posterior-predictive
distributions (``data/model/predictive_checks.csv``, written by the model), flagged outside the
central 95%. The same table is a book page and a command (``python -m anrs119 scorecard``),
which exits non-zero when a claim fails (a).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

from anrs119.analysis.safety import SimilarityResult
from anrs119.data import Dataset, load_dataset
from anrs119.model.checks.predictive import CHECKS_FILE, COLUMNS
from anrs119.paths import MODEL_DIR
from anrs119.published import display_path, parse_tolerance, results
from anrs119.report.tables import percentile_text
from anrs119.report.verdict import (
    FAILING,
    LABELS,
    REPRODUCTION_LABELS,
    SIMILARITY_LABELS,
    format_like,
    judge,
    judge_similar,
)
from anrs119.reproduce import Reproducer, Reproduction
from anrs119.tolerance import RULES, Reach, one_patient_reach, similarity

PREDICTIVE_FILE = MODEL_DIR / "predictive.csv"
PREDICTIVE_QUANTILES = ("q025", "q975")
"""The columns of the plug-in predictive file that bound the model's range."""
PREDICTIVE_LEVEL = 1 - 2 * int(PREDICTIVE_QUANTILES[0][1:]) / 1000
"""Share of simulated trials inside the range (0.95 for the 2.5th to 97.5th percentiles)."""
RANGE_COLUMN = f"Plug-in {PREDICTIVE_LEVEL:.0%} range"

# The file's format is the one the model writes (CONTRACT-model, section 4): defined once there.
PREDICTIVE_CHECKS_FILE = CHECKS_FILE
CHECK_COLUMNS = COLUMNS
DISTRIBUTIONS = ("prior", "posterior")
JOINT_ID = "joint"
SUBGROUP_ID = "joint_subgroup"
NOT_YET = "not yet computed"

REPRODUCES_COLUMN = "(a) Reproduces?"
CHECK_COLUMN = {d: f"(b) {d.capitalize()} predictive" for d in DISTRIBUTIONS}

CATEGORIES = ("point estimate", "P value", "P value bound", "similar statement")

VERDICT_COLOURS: dict[str, str] = {
    # Okabe-Ito bluish green / yellow / vermillion / sky blue, lightened for a cell background.
    "exact": "#c7eadf",
    "close": "#f9efb4",
    "off": "#f6c9b0",
    "consistent": "#cfe6f5",
    "inconsistent": "#f6c9b0",
}


class PredictiveChecksError(ValueError):
    """The predictive-checks file breaks its format; the message names file, column and row."""


def predictive_intervals(path: Path = PREDICTIVE_FILE) -> pd.DataFrame:
    """The plug-in model's predictive interval of each claim (fixed parameters), by claim id."""
    table = pd.read_csv(path).set_index("claim_id")
    return table[[*PREDICTIVE_QUANTILES, "n_replicates"]]


def predictive_checks(path: Path = PREDICTIVE_CHECKS_FILE) -> pd.DataFrame | None:
    """The prior/posterior predictive checks (CONTRACT-model section 4), or None if absent."""
    path = Path(path)
    if not path.exists():
        return None
    name = display_path(path)
    table = pd.read_csv(path, dtype={"id": str, "distribution": str, "note": str})
    missing = [c for c in CHECK_COLUMNS if c not in table.columns]
    if missing:
        raise PredictiveChecksError(f"file {name}: missing column(s) {missing}")
    for row, value in table["distribution"].items():
        if value not in DISTRIBUTIONS:
            raise PredictiveChecksError(
                f"file {name}, line {int(row) + 2}, column distribution: rule: one of "
                f"{list(DISTRIBUTIONS)}: got {value!r}"
            )
    for row, value in table["percentile"].items():
        if not (isinstance(value, float | int) and 0 <= value <= 100):
            raise PredictiveChecksError(
                f"file {name}, line {int(row) + 2}, column percentile: rule: 0 to 100: "
                f"got {value!r}"
            )
    table["outside95"] = table["outside95"].map(_as_bool)
    table["note"] = table["note"].fillna("")
    if table.duplicated(["id", "distribution"]).any():
        row = int(table.index[table.duplicated(["id", "distribution"])][0])
        raise PredictiveChecksError(
            f"file {name}, line {row + 2}: rule: one row per (id, distribution)"
        )
    return table.set_index(["id", "distribution"])


def _as_bool(value: object) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise PredictiveChecksError(f"column outside95: rule: true or false: got {value!r}")


def check_text(
    checks: pd.DataFrame | None,
    claim_id: str,
    distribution: str,
    bound: str = "=",
    statistic: str = "",
) -> str:
    """One claim's predictive check as text: its percentile among draws printed as the paper
    prints them, with its Monte Carlo SE, flagged outside the central 95%.

    For a bound ("P < .001") the file holds the share of draws that meet it, for a "similar"
    statement the share of draws in which the one rule detects no difference (CONTRACT-model).
    """
    if checks is None:
        return NOT_YET
    if (claim_id, distribution) not in checks.index:
        return "not computed"
    row = checks.loc[(claim_id, distribution)]
    text = f"{percentile_text(float(row['percentile']))} percentile"
    if statistic == "similar":
        text = f"{float(row['percentile']):.0f}% of draws detect no difference"
    elif bound != "=":
        text = f"{float(row['percentile']):.0f}% of draws meet the bound"
    if "mc_se" in row.index and pd.notna(row["mc_se"]):
        text += f" (MC SE {float(row['mc_se']):.1f})"
    return text + (" (outside 95%)" if row["outside95"] else "")


def joint_checks(checks: pd.DataFrame | None, row_id: str = JOINT_ID) -> dict[str, str]:
    """A joint check per distribution (``row_id``: the joint check of all point estimates, or
    ``SUBGROUP_ID`` for the low-viral-load pair): predictive p with its MC SE and method."""
    out = {}
    for distribution in DISTRIBUTIONS:
        if checks is None or (row_id, distribution) not in checks.index:
            out[distribution] = NOT_YET if checks is None else "not computed"
            continue
        row = checks.loc[(row_id, distribution)]
        pct, n = float(row["percentile"]), int(row["n_draws"])
        what = (
            "the published numbers taken together"
            if row_id == JOINT_ID
            else "the published low-viral-load pair"
        )
        if pct > 0:
            se = (
                f" (Monte Carlo SE {float(row['mc_se']):.1f} points)"
                if "mc_se" in row.index and pd.notna(row["mc_se"])
                else ""
            )
            share = f"{pct:.1f}%{se} of simulated trials lie"
        else:
            share = f"none of {n:,} simulated trials lies"
        out[distribution] = f"{share} at least as far from the prediction as {what}"
    return out


def _interval_text(claim: pd.Series, low: float, high: float) -> str:
    if claim["statistic"] == "similar":  # the difference between arms, in points
        return f"{low:+.1f} to {high:+.1f} points"
    if claim["statistic"] == "p_value":
        return f"{_p_short(low)} to {_p_short(high)}"
    return f"{format_like(claim, low)} to {format_like(claim, high)}"


def _p_short(p: float) -> str:
    if p < 0.001:
        return "<.001"
    return f"{p:.3f}".lstrip("0") if p < 1 else "1"


def claim_label(claim: pd.Series) -> str:
    """A short, readable name for one registry row, built from its own fields."""
    what = claim["endpoint"][0].upper() + claim["endpoint"][1:]
    if claim["population"] == "lowvl":
        what = f"Low viral load: {claim['endpoint']}"
    if not pd.isna(claim["timepoint_weeks"]) and claim["statistic"] != "similar":
        what += f", week {int(claim['timepoint_weeks'])}"
    part = {
        "both": "P value" if claim["statistic"] == "p_value" else "",
        "difference": "IL-2 minus Control",
    }.get(claim["arm"], claim["arm"])
    return f"{what}: {part}" if part else what


def claim_category(claim: pd.Series) -> str:
    """Point estimate, P value, P value bound ("P < .001") or similar statement."""
    if claim["statistic"] == "similar":
        return "similar statement"
    if claim["statistic"] == "p_value":
        return "P value bound" if claim["bound"] != "=" else "P value"
    return "point estimate"


def scorecard(
    dataset: Dataset | None = None,
    reproduced: dict[str, Reproduction] | None = None,
    *,
    reproducer: Reproducer | None = None,
    reach: dict[str, Reach] | None = None,
    similar: dict[str, SimilarityResult | Exception] | None = None,
    checks_path: Path = PREDICTIVE_CHECKS_FILE,
) -> pd.DataFrame:
    """One row per result claim: published, reproduced, (a) verdict, (b) predictive checks.

    Whatever is not passed is computed from ``dataset`` (the reach of one patient's change and
    the 'similar' comparisons always describe the dataset in use).
    """
    dataset = load_dataset() if dataset is None else dataset
    reproducer = Reproducer(dataset) if reproducer is None else reproducer
    reproduced = reproducer.all() if reproduced is None else reproduced
    reach = one_patient_reach(reproducer) if reach is None else reach
    similar = similarity(reproducer) if similar is None else similar
    intervals = predictive_intervals()
    checks = predictive_checks(checks_path)
    rows = []
    for claim_id, claim in results().iterrows():
        reproduction = reproduced[claim_id]
        if claim["statistic"] == "similar":
            verdict = judge_similar(claim, similar[claim_id])
            shown = _similar_shown(similar[claim_id])
            reach_text = "not applicable"
        else:
            one = reach.get(claim_id)
            verdict = judge(claim, reproduction.value, one)
            shown = format_like(claim, reproduction.value)
            reach_text = one.detail if one is not None else "not computed"
        interval = (
            _interval_text(claim, *intervals.loc[claim_id, list(PREDICTIVE_QUANTILES)])
            if claim_id in intervals.index
            else "not simulated"
        )
        rows.append(
            {
                "id": claim_id,
                "Claim": claim_label(claim),
                "Kind": claim_category(claim),
                "Published": claim["reported_as"],
                "Reproduced": shown,
                REPRODUCES_COLUMN: verdict.label,
                "One patient's reach": reach_text,
                **{
                    CHECK_COLUMN[d]: check_text(
                        checks, claim_id, d, claim["bound"], claim["statistic"]
                    )
                    for d in DISTRIBUTIONS
                },
                RANGE_COLUMN: interval,
                "How": reproduction.detail,
                "Why": verdict.reason,
                "value": reproduction.value,
            }
        )
    return pd.DataFrame(rows).set_index("id")


def _similar_shown(result: SimilarityResult | Exception) -> str:
    if isinstance(result, Exception):
        return "not computed"
    return result.similarity.short_text()


SUMMARY_COLUMNS = [
    "Claim",
    "Published",
    "Reproduced",
    REPRODUCES_COLUMN,
    *CHECK_COLUMN.values(),
    RANGE_COLUMN,
]


def styled(table: pd.DataFrame):  # -> pandas Styler
    """The scorecard for the book: verdicts color-coded (with the word, not color alone)."""
    return (
        table[SUMMARY_COLUMNS]
        .style.map(
            lambda v: (
                f"background-color: {VERDICT_COLOURS[v]}; font-weight: 600"
                if v in VERDICT_COLOURS
                else ""
            ),
            subset=[REPRODUCES_COLUMN],
        )
        .hide(axis="index")
    )


def details(table: pd.DataFrame) -> pd.DataFrame:
    """How each number was reproduced, how far one patient moves it, and why its verdict."""
    return table[["Claim", "How", "One patient's reach", "Why"]].reset_index(drop=True)


def verdict_summary(table: pd.DataFrame) -> dict[str, int]:
    """How many claims got each verdict, in the order of ``LABELS``."""
    counts = table[REPRODUCES_COLUMN].value_counts()
    return {label: int(counts.get(label, 0)) for label in LABELS}


def category_summary(table: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Verdict counts per kind of claim (point estimates, P values, bounds, 'similar')."""
    out = {}
    for category in CATEGORIES:
        labels = SIMILARITY_LABELS if category == "similar statement" else REPRODUCTION_LABELS
        sub = table.loc[table["Kind"] == category, REPRODUCES_COLUMN].value_counts()
        out[category] = {label: int(sub.get(label, 0)) for label in labels}
    return out


def outside_counts(table: pd.DataFrame) -> dict[str, str]:
    """Claims whose published value lies outside the central 95%, per distribution."""
    out = {}
    for distribution, column in CHECK_COLUMN.items():
        values = table[column]
        if (values == NOT_YET).all():
            out[distribution] = NOT_YET
            continue
        computed = values[~values.isin([NOT_YET, "not computed"])]
        flagged = int(computed.str.contains("outside 95%").sum())
        out[distribution] = f"{flagged} of {len(computed)}"
    return out


def failing(table: pd.DataFrame) -> pd.DataFrame:
    """The claims that fail question (a): ``off`` or ``inconsistent``."""
    return table[table[REPRODUCES_COLUMN].isin(FAILING)]


def scorecard_main(
    dataset: Dataset | None = None, checks_path: Path = PREDICTIVE_CHECKS_FILE
) -> int:
    """Print the scorecard; return 1 if any claim fails question (a), else 0."""
    dataset = load_dataset() if dataset is None else dataset
    table = scorecard(dataset, checks_path=checks_path)
    columns = ["Published", "Reproduced", REPRODUCES_COLUMN, *CHECK_COLUMN.values(), "Why"]
    print(f"Data: {dataset.source}")
    if dataset.is_synthetic:
        print(
            "(a) on the embedded synthetic trial is a regression check of the analysis code: the "
            "trial was reconstructed to print every published number."
        )
    with pd.option_context("display.width", 250, "display.max_colwidth", 70):
        print(table[columns].to_string())
    summary = verdict_summary(table)
    print("(a): " + ", ".join(f"{n} {label}" for label, n in summary.items()))
    for category, counts in category_summary(table).items():
        print(f"    {category}: " + ", ".join(f"{n} {label}" for label, n in counts.items()))
    outside = outside_counts(table)
    checks = predictive_checks(checks_path)
    joint, pair = joint_checks(checks), joint_checks(checks, SUBGROUP_ID)
    for distribution in DISTRIBUTIONS:
        print(
            f"(b) {distribution} predictive: outside the central 95%: {outside[distribution]}; "
            f"joint check: {joint[distribution]}; low-viral-load pair: {pair[distribution]}"
        )
    print(
        "(b) posterior-predictive p-values use the data twice (to fit and to check) and are "
        "conservative: they flag a misfit less often than their size suggests."
    )
    bad = failing(table)
    if len(bad):
        print(
            f"{len(bad)} claim(s) fail (a): " + ", ".join(bad.index) + " (off or inconsistent)",
            file=sys.stderr,
        )
        return 1
    return 0


def headline(table: pd.DataFrame) -> dict[str, str | int]:
    """The counts the intro's 'at a glance' box and the scorecard page glue."""
    categories = category_summary(table)
    out: dict[str, str | int] = {}
    for category, counts in categories.items():
        key = category.replace(" ", "_").lower()
        out[f"n_{key}"] = sum(counts.values())
        for label, n in counts.items():
            out[f"n_{key}_{label}"] = n
    out.update({f"n_{label}": n for label, n in verdict_summary(table).items()})
    out["n_claims"] = len(table)
    outside = outside_counts(table)
    for distribution in DISTRIBUTIONS:
        out[f"outside_{distribution}"] = outside[distribution]
    return out


def _count_phrase(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {label}" for label, n in counts.items())


def headline_sentences(table: pd.DataFrame, dataset: Dataset) -> dict[str, str]:
    """Glue-ready sentences: the counts by kind, and what holds by construction."""
    kinds = category_summary(table)
    total = {k: sum(v.values()) for k, v in kinds.items()}
    out = {
        f"hl_{key.replace(' ', '_').lower()}": f"{_count_phrase(kinds[key])} (of {total[key]})"
        for key in CATEGORIES
    }
    summary = verdict_summary(table)
    n_fail = summary["off"] + summary["inconsistent"]
    out["hl_n_fail"] = str(n_fail)
    out["hl_n_claims"] = str(len(table))
    failed = f"{n_fail} of the {len(table)} statements fail question (a) on it"
    if dataset.is_synthetic:
        out["hl_construction"] = (
            "On the embedded synthetic trial, question (a) is a regression check of the analysis "
            "code, not a validation: the trial was reconstructed from model-drawn patients, chosen "
            "until the book's analyses print every published number, so agreement holds by "
            f"construction ({failed})"
        )
    else:
        out["hl_construction"] = (
            "On this dataset question (a) is a real test: the data were not built to match the "
            f"paper. {failed}"
        )
    return out


def rules_table(table: pd.DataFrame) -> pd.DataFrame:
    """Each tolerance rule of the registry: what one patient's change means, and its claims."""
    claims = results()
    rows = []
    for rule, text in RULES.items():
        ids = [i for i, c in claims.iterrows() if parse_tolerance(c["tolerance"]).rule == rule]
        if not ids:
            continue
        rows.append(
            {
                "Rule": rule.replace("_", " "),
                "How the amount is computed from the data": text,
                "Results it applies to": "; ".join(table.loc[i, "Claim"] for i in ids),
            }
        )
    return pd.DataFrame(rows)


def similarity_table(
    table: pd.DataFrame, similar: dict[str, SimilarityResult | Exception]
) -> pd.DataFrame:
    """The 'similar' statements by the one rule: counts, difference with its interval, the
    largest difference not excluded, the risk ratio and the smallest detectable increase."""
    rows = []
    for claim_id, result in similar.items():
        if isinstance(result, Exception):
            rows.append({"Statement": table.loc[claim_id, "Claim"], "Patients": str(result)})
            continue
        level = f"{1 - result.alpha:.0%}"
        rows.append(
            {
                "Statement": table.loc[claim_id, "Claim"],
                "Patients (IL-2 vs Control)": result.similarity.counts_text(),
                f"Difference, points ({level} CI, Newcombe)": result.similarity.short_text(),
                "Largest difference not excluded": result.similarity.largest_text(result.groups),
                "Risk ratio (Katz CI)": (
                    f"{result.risk_ratio:.2f} ({result.rr_ci_low:.2f} to {result.rr_ci_high:.2f})"
                    if math.isfinite(result.risk_ratio)
                    else "not defined"
                ),
                f"Smallest increase detectable ({result.power:.0%} power), points": (
                    f"{100 * result.detectable_difference:.0f}"
                ),
                "Verdict": table.loc[claim_id, REPRODUCES_COLUMN],
            }
        )
    return pd.DataFrame(rows)
