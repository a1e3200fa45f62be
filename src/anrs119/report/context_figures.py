"""ANRS 119 among the other IL-2 trials: comparison table, clinical forest plot, CD4-gain panel.

Every number comes from the trials registry (``data/published/trials.csv``) or, for ANRS 119
itself, from the claims registry; nothing here types a published value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urlparse

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from anrs119.context import (
    CANNOT_ASSESS,
    CD4_MEASURES,
    IL2_TYPES,
    RATIO_MEASURES,
    TRIAL_TYPES,
    load_consort,
    load_trials,
)
from anrs119.paths import REPO_ROOT
from anrs119.published import claim, claim_value
from anrs119.report.figures import BookFigure, apply_theme, colours_for, favours_labels
from anrs119.report.tables import BookTable, escape_markdown, link_chapter_mentions
from anrs119.report.text import fmt_p, reader_text

BIB_FILE = REPO_ROOT / "references.bib"
ANRS119 = "ANRS 119"
ANRS119_BIBKEY = "molina2009"
ANRS119_TYPE = "IL-2 without ART"

MEASURE_LABELS: dict[str, str] = {
    "mean_difference": "Mean difference between arms",
    "mean_change": "Difference of the arms' mean changes from baseline",
    "median_change": "Difference of the arms' median changes from baseline",
    "auc_change": "Difference in area under the curve of change",
    "median_level": "Difference of the arms' median levels",
    "hazard_ratio": "HR",
    "risk_ratio": "RR",
    "probability": "probability",
    "proportion": "proportion",
}
RESULT_LABELS: dict[str, str] = {
    "od_death": "opportunistic disease or death",
    "death": "death",
    "oi": "opportunistic infection",
}
VERIFICATION_LABELS: dict[str, str] = {
    "primary": "the paper's own text",
    "unverified": "not read at its source (unverified)",
}
UNVERIFIED_MARK = " (unverified)"
"""Appended wherever the book shows a value it could not read at its source."""


def _mark(row: pd.Series, text: str) -> str:
    """``text`` with the unverified mark when the row's value was not read at its source."""
    return text + (UNVERIFIED_MARK if row["verification"] == "unverified" else "")


TYPE_COLOURS: dict[str, str] = colours_for(TRIAL_TYPES)
"""One color per kind of trial, the same in every figure of the chapter."""


def bib_year(key: str, path=BIB_FILE) -> int:
    """The ``year`` of one entry of references.bib (raises KeyError when the entry is missing)."""
    text = path.read_text(encoding="utf-8")
    match = re.search(r"@\w+\{" + re.escape(key) + r",(.*?)\n\}", text, flags=re.S)
    if match is None:
        raise KeyError(f"no entry {key!r} in {path.name}")
    year = re.search(r"year\s*=\s*\{(\d{4})\}", match.group(1))
    if year is None:
        raise KeyError(f"entry {key!r} in {path.name} has no year")
    return int(year.group(1))


def bib_keys(path=BIB_FILE) -> set[str]:
    """Every entry key of references.bib."""
    return set(re.findall(r"@\w+\{([^,\s]+),", path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Anrs119Facts:
    """What the claims registry says about ANRS 119, in the shape of a trials-registry row."""

    year: int
    n: int
    entry_cd4: str
    regimen: str
    cd4_il2: float
    cd4_control: float
    cd4_week: int
    unit: str
    endpoint_threshold: float
    clinical: str


def anrs119_facts() -> Anrs119Facts:
    """ANRS 119's design and results, read from the claims registry (never typed here)."""
    low, high = claim_value("cd4_eligibility_lower"), claim_value("cd4_eligibility_upper")
    dose = claim("il2_dose_miu")
    regimen = (
        f"{dose['reported_as']} {claim('il2_doses_per_day')['reported_as']}, "
        f"{claim('il2_days_per_cycle')['reported_as']} per cycle, "
        f"{claim('il2_max_cycles')['reported_as']}"
    )
    return Anrs119Facts(
        year=bib_year(ANRS119_BIBKEY),
        n=int(claim_value("n_randomized")),
        entry_cd4=f"{low:g}-{high:g} {claim('cd4_eligibility_lower')['unit']}",
        regimen=regimen,
        cd4_il2=claim_value("cd4_change_w96_il2"),
        cd4_control=claim_value("cd4_change_w96_control"),
        cd4_week=int(claim("cd4_change_w96_il2")["timepoint_weeks"]),
        unit=str(claim("cd4_change_w96_il2")["unit"]),
        endpoint_threshold=claim_value("endpoint_cd4_threshold"),
        clinical=str(claim("safety_aids_similar")["reported_as"]),
    )


def regimen_text(row: pd.Series) -> str:
    """Dose, schedule and cycles in one phrase, leaving out what the source does not say."""
    cycles = f"cycles: {row['cycles']}" if row["cycles"] else ""
    return "; ".join(part for part in (row["dose"], row["schedule"], cycles) if part)


def _ratio_text(row: pd.Series) -> str:
    text = f"{MEASURE_LABELS[row['measure']]} {row['value']:.2f}"
    if not math.isnan(row["ci_low"]):
        text += f" ({row['ci_low']:.2f} to {row['ci_high']:.2f})"
    if not math.isnan(row["p_value"]):
        text += ", " + _p_text(row)
    return text


def _p_text(row: pd.Series) -> str:
    """The P value as the paper printed it, in the book's journal style ("P = .55", "P < .001")."""
    p = float(row["p_value"])
    printed = np.format_float_positional(p, trim="-")
    decimals = max(2, len(printed.split(".")[-1]))
    if row["p_bound"] == "<":
        return f"P < {printed.removeprefix('0')}"
    return fmt_p(p, decimals, floor=10.0**-decimals)


def _arms_text(row: pd.Series) -> str:
    unit = "%" if row["unit"] == "%" else f" {row['unit']}"
    return f"{row['value_il2']:g}{unit} vs {row['value_control']:g}{unit}"


def _cd4_text(row: pd.Series) -> str:
    value = f"{row['value']:+g} {row['unit']}"
    if str(row["derived"]).find("value=") >= 0:
        value += f" ({_arms_text(row)})"
    return _mark(row, f"{value}: {MEASURE_LABELS[row['measure']].lower()}, {row['timepoint']}")


def _clinical_text(rows: pd.DataFrame) -> str:
    for result in ("od_death", "death", "art_restart", "failure"):
        chosen = rows[rows["result"] == result]
        if chosen.empty:
            continue
        row = chosen.iloc[0]
        if row["measure"] in RATIO_MEASURES:
            return _mark(row, f"{row['endpoint']}: {_ratio_text(row)}")
        return _mark(
            row, f"{row['endpoint']}, {row['timepoint']}: {_arms_text(row)}, {_p_text(row)}"
        )
    return "none in the abstract"


def comparison_table(trials: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per trial (ANRS 119 included): design, CD4 contrast, clinical result, reference."""
    trials = load_trials() if trials is None else trials
    facts = anrs119_facts()
    records = [
        {
            "Trial": ANRS119,
            "Year": facts.year,
            "Kind": ANRS119_TYPE,
            "Randomized": str(facts.n),
            "Population": f"ART-naive, CD4 {facts.entry_cd4}",
            "IL-2 regimen": facts.regimen,
            "Comparator": "no treatment",
            "CD4 contrast": (
                f"{facts.cd4_il2 - facts.cd4_control:+g} {facts.unit} "
                f"({facts.cd4_il2:+g} vs {facts.cd4_control:+g}): "
                f"{MEASURE_LABELS['median_change'].lower()}, week {facts.cd4_week}"
            ),
            "Clinical result": f"AIDS-defining events and deaths {facts.clinical}",
            "Reference": ANRS119_BIBKEY,
        }
    ]
    for _, rows in trials.groupby("trial", sort=False):
        first = rows.iloc[0]
        cd4 = rows[rows["result"].isin(["cd4", "cd4_level"])]
        n = "" if math.isnan(first["n_randomized"]) else f"{first['n_randomized']:.0f}"
        records.append(
            {
                "Trial": first["acronym"],
                "Year": int(first["year"]),
                "Kind": first["type"],
                "Randomized": n,
                "Population": f"{first['art_status']}, CD4 {first['entry_cd4']}",
                "IL-2 regimen": regimen_text(first),
                "Comparator": first["comparator"],
                "CD4 contrast": "; ".join(_cd4_text(r) for _, r in cd4.iterrows()) or "none",
                "Clinical result": _clinical_text(rows),
                "Reference": first["bibkey"],
            }
        )
    table = pd.DataFrame(records)
    return table.sort_values(["Year", "Trial"], kind="stable").reset_index(drop=True)


DESIGN_COLUMNS = ("Year", "Kind", "Randomized", "Population", "IL-2 regimen", "Comparator")
RESULT_COLUMNS = ("CD4 contrast", "Clinical result")


def _trial_cell(row: pd.Series) -> str:
    return f"{escape_markdown(str(row['Trial']))} {{cite:p}}`{row['Reference']}`"


def comparison_book_tables(table: pd.DataFrame | None = None) -> tuple[BookTable, BookTable]:
    """The comparison as two readable tables: each trial's design, and its results."""
    table = comparison_table() if table is None else table
    text = table.map(lambda v: reader_text(str(v)))
    design = pd.DataFrame({"Trial": [_trial_cell(r) for _, r in table.iterrows()]})
    for column in DESIGN_COLUMNS:
        design[column] = text[column].to_numpy()
    found = pd.DataFrame({"Trial": [_trial_cell(r) for _, r in table.iterrows()]})
    for column in RESULT_COLUMNS:
        found[column] = text[column].to_numpy()
    return (
        BookTable(
            design,
            caption="The randomized trials of IL-2 and START: design, as each abstract states it.",
            name="tbl-evidence-design",
            markup=("Trial",),
        ),
        BookTable(
            found,
            caption="The same trials: the CD4 contrast as each paper reported it, and the main "
            "clinical result.",
            name="tbl-evidence-results",
            markup=("Trial",),
        ),
    )


def sources_book_table(trials: pd.DataFrame | None = None) -> BookTable:
    """Where each number of the registry was read (the sentence and notes stay in the file)."""
    trials = load_trials() if trials is None else trials
    frame = pd.DataFrame(
        {
            "Trial": trials["acronym"].to_numpy(),
            "Result": trials["endpoint"].map(reader_text).to_numpy(),
            "Read in": trials["verification"].map(VERIFICATION_LABELS).to_numpy(),
            "Source": [f"[{urlparse(url).netloc}]({url})" for url in trials["source"]],
        }
    )
    return BookTable(
        frame,
        caption="Where each number of the trials registry was read.",
        name="tbl-evidence-sources",
        markup=("Source",),
    )


def comparison_markdown(table: pd.DataFrame) -> str:
    """The comparison table as MyST Markdown, with each row's reference as a citation."""
    columns = [c for c in table.columns if c != "Reference"]
    lines = ["| " + " | ".join(columns) + " | Source |", "|" + "---|" * (len(columns) + 1)]
    for _, row in table.iterrows():
        cells = [str(row[c]).replace("|", "/") for c in columns]
        lines.append("| " + " | ".join(cells) + f" | {{cite:p}}`{row['Reference']}` |")
    return "\n".join(lines)


def clinical_rows(trials: pd.DataFrame | None = None) -> pd.DataFrame:
    """Clinical ratios with a confidence interval (IL-2 vs control), for the forest plot."""
    trials = load_trials() if trials is None else trials
    rows = trials[
        trials["result"].isin(list(RESULT_LABELS))
        & trials["measure"].isin(list(RATIO_MEASURES))
        & trials["ci_low"].notna()
    ].copy()
    rows["label"] = [
        r["acronym"] if str(r["year"]) in r["acronym"] else f"{r['acronym']} ({r['year']})"
        for _, r in rows.iterrows()
    ]
    rows["what"] = rows["result"].map(RESULT_LABELS)
    rows["summary"] = rows["type"] == "systematic review"
    return rows.sort_values(["summary", "year"], kind="stable")


def clinical_forest(trials: pd.DataFrame | None = None) -> BookFigure:
    """Forest plot of IL-2's clinical hazard (and pooled risk) ratios, log scale, ANRS 119 last."""
    apply_theme()
    rows = clinical_rows(trials)
    facts = anrs119_facts()
    n = len(rows) + 1
    fig = BookFigure(figsize=(7.0, 1.6 + 0.62 * n), layout="constrained")
    fig.set_facecolor("white")
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    labels = []
    for yi, (_, r) in zip(y, rows.iterrows(), strict=False):
        colour = TYPE_COLOURS[r["type"]]
        ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color=colour, lw=2)
        marker = "D" if r["summary"] else "s"
        ax.plot([r["value"]], [yi], marker=marker, ms=8, color=colour, ls="none")
        labels.append(_mark(r, f"{r['label']}\n{r['what']}: {_ratio_short(r)}"))
    labels.append(f"{ANRS119} ({facts.year})\nno ratio published: {facts.clinical}")
    ax.axvline(1.0, color="0.4", lw=1, ls="--")
    favours_labels(ax, 1.0)
    ax.set_xscale("log")
    low = min(rows["ci_low"].min(), 0.5) / 1.3
    high = max(rows["ci_high"].max(), 2.0) * 1.3
    ax.set_xlim(low, high)
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 5, 20) if low <= t <= high]
    ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, labels=labels)
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(
        "IL-2 vs control (95% CI, log scale)\nhazard ratio (square), pooled risk ratio (diamond)"
    )
    kinds = [k for k in TRIAL_TYPES if k in set(rows["type"]) | {ANRS119_TYPE}]
    ax.legend(
        handles=[Line2D([], [], color=TYPE_COLOURS[k], marker="s", lw=2, label=k) for k in kinds],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=len(kinds),
        fontsize=8.5,
    )
    fig.alt_text = (
        "Forest plot, log scale, of IL-2 versus control for opportunistic disease or death and "
        "pooled mortality and opportunistic infection; dashed line at 1: "
        + "; ".join(
            _mark(r, f"{r['label']} {r['what']} {_ratio_text(r)}") for _, r in rows.iterrows()
        )
        + f"; {ANRS119}: no ratio published ({facts.clinical})."
    )
    return fig


def cd4_rows(trials: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every CD4 contrast (IL-2 minus control) as reported, ANRS 119 included, with its kind."""
    trials = load_trials() if trials is None else trials
    rows = trials[trials["result"].isin(["cd4", "cd4_level"])].reset_index()
    facts = anrs119_facts()
    out = pd.DataFrame(
        {
            "trial": [
                f"{a} ({arm})" if arm else a
                for a, arm in zip(rows["acronym"], rows["il2_arm"], strict=True)
            ],
            "year": rows["year"],
            "type": rows["type"],
            "measure": rows["measure"],
            "value": rows["value"],
            "unit": rows["unit"],
            "timepoint": rows["timepoint"],
            "contrast": rows["endpoint"],
            "derived": rows["derived"].str.contains("value="),
        }
    )
    own = {
        "trial": ANRS119,
        "year": facts.year,
        "type": ANRS119_TYPE,
        "measure": "median_change",
        "value": facts.cd4_il2 - facts.cd4_control,
        "unit": facts.unit,
        "timepoint": f"week {facts.cd4_week}",
        "contrast": "median change from baseline, IL-2 minus control",
        "derived": True,
    }
    out = pd.concat([out, pd.DataFrame([own])], ignore_index=True)
    out["measure"] = pd.Categorical(out["measure"], categories=sorted(CD4_MEASURES, key=_order))
    return out.sort_values(["measure", "year"], kind="stable").reset_index(drop=True)


def _order(measure: str) -> int:
    return list(MEASURE_LABELS).index(measure)


def cd4_panel(trials: pd.DataFrame | None = None) -> BookFigure:
    """CD4 contrasts by trial, one panel per kind of contrast, each on its own axis."""
    apply_theme()
    rows = cd4_rows(trials)
    kinds = [k for k in rows["measure"].cat.categories if (rows["measure"] == k).any()]
    sizes = [int((rows["measure"] == k).sum()) for k in kinds]
    fig = BookFigure(figsize=(8.0, 1.3 * len(kinds) + 0.55 * sum(sizes)), layout="constrained")
    fig.set_facecolor("white")
    axes = fig.subplots(len(kinds), 1, height_ratios=[s + 1.3 for s in sizes], squeeze=False)
    for ax, kind in zip(axes[:, 0], kinds, strict=True):
        part = rows[rows["measure"] == kind]
        y = np.arange(len(part))[::-1]
        for yi, (_, r) in zip(y, part.iterrows(), strict=True):
            colour = TYPE_COLOURS[r["type"]]
            ax.plot([0, r["value"]], [yi, yi], color=colour, lw=2)
            ax.plot([r["value"]], [yi], marker="o", ms=7, color=colour)
            ax.annotate(
                f" {r['value']:+g}",
                xy=(r["value"], yi),
                va="center",
                fontsize=8.5,
                color=colour,
            )
        labels = [f"{r['trial']}\n{r['timepoint']}" for _, r in part.iterrows()]
        ax.set_yticks(y, labels=labels)
        for label, trial in zip(ax.get_yticklabels(), part["trial"], strict=True):
            if trial == ANRS119:
                label.set_fontweight("bold")
        ax.set_ylim(-0.7, len(part) - 0.3)
        ax.set_xlim(0, part["value"].max() * 1.25)
        ax.grid(axis="y", visible=False)
        units = " / ".join(dict.fromkeys(part["unit"]))
        ax.set_title(MEASURE_LABELS[kind], fontsize=10, loc="left")
        ax.set_xlabel(f"IL-2 minus control ({units})", fontsize=9)
        ax.tick_params(axis="y", labelsize=8.5)
    present = [k for k in TRIAL_TYPES if k in set(rows["type"])]
    fig.legend(
        handles=[Line2D([], [], color=TYPE_COLOURS[k], marker="o", lw=2, label=k) for k in present],
        loc="outside lower center",
        ncol=len(present),
        fontsize=8.5,
    )
    fig.alt_text = (
        "CD4 gains with IL-2 over control, one panel per kind of contrast, each panel on its own "
        "axis because the kinds are not comparable: "
        + "; ".join(
            f"{r['trial']} {r['value']:+g} {r['unit']} ({MEASURE_LABELS[r['measure']].lower()}, "
            f"{r['timepoint']})"
            for _, r in rows.iterrows()
        )
        + "."
    )
    return fig


def sources_table(trials: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each registry row with the sentence its numbers come from and where it was read."""
    trials = load_trials() if trials is None else trials
    return pd.DataFrame(
        {
            "Trial": trials["acronym"],
            "Result": trials["endpoint"],
            "Sentence": trials["quote"],
            "Read in": trials["verification"].map(VERIFICATION_LABELS),
            "Note": trials["note"],
        },
        index=trials.index.rename("id"),
    )


def verification_counts(trials: pd.DataFrame | None = None) -> dict[str, int]:
    """How many registry rows were read in each kind of source."""
    trials = load_trials() if trials is None else trials
    counts = trials["verification"].value_counts()
    return {kind: int(counts.get(kind, 0)) for kind in VERIFICATION_LABELS}


def consort_markdown(consort: pd.DataFrame | None = None) -> str:
    """The CONSORT 2010 checklist for ANRS 119 as a MyST table, chapters linked with {doc}."""
    consort = load_consort() if consort is None else consort
    lines = [
        "| Item | Section | Checklist item | ANRS 119 | Where in the book | What the sources say |",
        "|---|---|---|---|---|---|",
    ]
    for item, row in consort.iterrows():
        section = row["section"] + (f": {row['topic']}" if row["topic"] else "")
        text = row["text"] or "(wording not verified)"
        page = f"{{doc}}`/{row['book_page']}`" if row["book_page"] else ""
        status = f"**{row['status']}**" if row["status"] == CANNOT_ASSESS else row["status"]
        cells = [item, section, text, status, page, row["assessment"]]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def consort_book_table(consort: pd.DataFrame | None = None) -> BookTable:
    """The CONSORT 2010 checklist for ANRS 119, chapters linked, as a numbered table."""
    consort = load_consort() if consort is None else consort
    rows = []
    for item, row in consort.iterrows():
        section = row["section"] + (f": {row['topic']}" if row["topic"] else "")
        text = row["text"] or "(wording not verified)"
        status = str(row["status"])
        rows.append(
            {
                "Item": str(item),
                "Section": escape_markdown(reader_text(section)),
                "Checklist item": escape_markdown(reader_text(text)),
                "ANRS 119": f"**{status}**" if status == CANNOT_ASSESS else status,
                "In the book": f"{{doc}}`/{row['book_page']}`" if row["book_page"] else "",
                "What the sources say": link_chapter_mentions(
                    escape_markdown(reader_text(row["assessment"]))
                ),
            }
        )
    return BookTable(
        pd.DataFrame(rows),
        caption="The CONSORT 2010 checklist for ANRS 119: what the abstract and the registry "
        "report, and where the book addresses each item.",
        name="tbl-consort",
        markup=("Section", "Checklist item", "ANRS 119", "In the book", "What the sources say"),
    )


def consort_counts(consort: pd.DataFrame | None = None) -> dict[str, int]:
    """Items per status, in the checklist's status order."""
    consort = load_consort() if consort is None else consort
    counts = consort["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in dict.fromkeys(consort["status"])}


def _ratio_short(row: pd.Series) -> str:
    return f"{row['value']:.2f} ({row['ci_low']:.2f} to {row['ci_high']:.2f})"


def n_studies(trials: pd.DataFrame | None = None) -> int:
    """Randomized IL-2 trials in the registry: reports sharing a registration count once; the
    systematic review and the trial of when to start ART (START) do not count."""
    trials = load_trials() if trials is None else trials
    trials = trials[trials["type"].isin(IL2_TYPES) & (trials["type"] != "systematic review")]
    key = trials["registry_id"].where(trials["registry_id"] != "", trials["trial"])
    return int(key.nunique())


def chapter_numbers(trials: pd.DataFrame | None = None) -> dict[str, str | int]:
    """Every number the evidence chapter's prose quotes, preformatted for ``glue``."""
    trials = load_trials() if trials is None else trials
    facts = anrs119_facts()
    t = trials.loc
    counts = verification_counts(trials)
    stalwart = t["stalwart_od_death"]
    return {
        "n_trials": n_studies(trials),
        "n_rows": len(trials),
        "n_unverified": counts["unverified"],
        "esprit_n": f"{t['esprit_od_death', 'n_randomized']:,.0f}",
        "silcaat_n": f"{t['silcaat_od_death', 'n_randomized']:,.0f}",
        "esprit_cd4": _mark(
            t["esprit_cd4"], f"{t['esprit_cd4', 'value']:g} {t['esprit_cd4', 'unit']}"
        ),
        "silcaat_cd4": _mark(
            t["silcaat_cd4"], f"{t['silcaat_cd4', 'value']:g} {t['silcaat_cd4', 'unit']}"
        ),
        "esprit_hr": _mark(t["esprit_od_death"], _ratio_short(t["esprit_od_death"])),
        "silcaat_hr": _mark(t["silcaat_od_death"], _ratio_short(t["silcaat_od_death"])),
        "esprit_grade4": _mark(
            t["esprit_grade4"],
            f"{t['esprit_grade4', 'value']:.2f}, {_p_text(t['esprit_grade4'])}",
        ),
        "stalwart_cd4": f"{t['stalwart_cd4_il2', 'value']:g}",
        "stalwart_cd4_art": f"{t['stalwart_cd4_il2_art', 'value']:g}",
        "stalwart_week": str(t["stalwart_cd4_il2", "timepoint"]),
        "stalwart_events": f"{stalwart['value_il2']:g} vs {stalwart['value_control']:g}",
        "stalwart_hr": _ratio_short(stalwart) + f", {_p_text(stalwart)}",
        "stalwart_ext_hr": _ratio_short(t["stalwart_ext_od_death"]),
        "cochrane_death": _mark(t["cochrane_death"], _ratio_short(t["cochrane_death"])),
        "iliade_failure": _arms_text(t["iliade_failure"]),
        "iliade_week": str(t["iliade_failure", "timepoint"]),
        "iliade_definition": str(t["iliade_failure", "endpoint"]).removeprefix("failure: "),
        "anrs119_cd4_il2": f"{facts.cd4_il2:+g}",
        "anrs119_cd4_control": f"{facts.cd4_control:+g}",
        "anrs119_cd4_diff": f"{facts.cd4_il2 - facts.cd4_control:g}",
        "anrs119_week": f"week {facts.cd4_week}",
        "cd4_unit": facts.unit,
        "threshold": f"{facts.endpoint_threshold:g}",
        "anrs119_clinical": facts.clinical,
    }
