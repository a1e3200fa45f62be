"""The model pages' tables as readers see them: the symbol map of the equations, the model's
inputs by where they come from, and the priors with their sources cited.

The numbers come from ``anrs119.model`` (parameters, priors); this module only lays them out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from anrs119.report.tables import BookTable, escape_markdown
from anrs119.report.text import reader_text

PRIORS_TABLE = "tbl-inputs-priors"
DESIGN_TABLE = "tbl-inputs-design"
FIXED_TABLE = "tbl-inputs-fixed"
SYMBOLS_TABLE = "tbl-model-symbols"

SYMBOLS: tuple[tuple[str, str], ...] = (
    (r"m_C", "cd4_pop_median"),
    (r"s_C", "cd4_pop_sdlog"),
    (r"\sigma_C", "cd4_noise_sdlog"),
    (r"B_{\text{lo}}", "cd4_lower"),
    (r"B_{\text{hi}}", "cd4_upper"),
    (r"\beta_0", "cd4_slope_mean"),
    (r"\beta_V", "cd4_slope_vl"),
    (r"s_\beta", "cd4_slope_sd"),
    (r"C_{\text{floor}}", "cd4_floor"),
    (r"\mu_V", "vl_mean"),
    (r"s_V", "vl_sd"),
    (r"\sigma_V", "vl_noise_sd"),
    (r"\bar\delta", "vl_drift_mean"),
    (r"s_\delta", "vl_drift_sd"),
    (r"\varepsilon", "il2_vl_effect"),
    (r"\gamma", "il2_gain_median"),
    (r"s_\gamma", "il2_gain_sdlog"),
    (r"h", "il2_halflife"),
    (r"r", "il2_rampup"),
    (r"\lambda_R", "art_rate_ref"),
    (r"\alpha_C", "art_cd4_loghr"),
    (r"\alpha_V", "art_vl_loghr"),
    (r"\theta", "art_endpoint_hr"),
    (r"\lambda_A", "aids_rate"),
    (r"\lambda_D", "death_rate"),
    (r"\eta_C", "aids_cd4_loghr"),
    (r"\eta_V", "aids_vl_loghr"),
    (r"\rho", "art_clinical_hr"),
    (r"\psi", "il2_clinical_hr"),
    (r"\threshold", "cd4_threshold"),
)
"""Each symbol of the model's equations and the parameter it stands for, in equation order.
``\\threshold`` is written $C_{\\text{end}}$ (see _latex)."""

CONSTANTS: tuple[tuple[str, str, str], ...] = (
    (r"V_{\text{ref}}", "VL_REFERENCE", "reference viral load of the CD4 decline and of the "
     "AIDS hazard"),
    (r"C_{\text{ref}}", "ART_CD4_REFERENCE", "CD4 count below which the ART hazard rises, and "
     "reference count of the AIDS hazard"),
    (r"V^{\text{ART}}_{\text{ref}}", "ART_VL_REFERENCE", "viral load above which the ART "
     "hazard rises"),
    (r"c_k", "cycle weeks", "weeks of the IL-2 cycles"),
)  # fmt: skip
"""Symbols fixed in the simulator's code rather than in the parameter table."""

_LATEX = {r"\threshold": r"C_{\text{end}}"}

UNIT_WORDS = {
    "cells/µL": "cells/µL",
    "log": "on the log scale",
    "0/1": "",
    "fraction": "",
    "probability": "",
}

CONFIDENCE_WORDS = {
    "R": "read in the source",
    "D": "derived from the source",
    "U": "weakly informative assumption",
}

PROVENANCE_WORDS = {
    "published": "the paper",
    "registry": "trial registry",
    "literature": "literature",
    "assumed": "assumption",
    "calibrated": "prior updated by the paper",
}


def _latex(symbol: str) -> str:
    return _LATEX.get(symbol, symbol)


def _bib_keys() -> set[str]:
    from anrs119.paths import REPO_ROOT

    bib = (REPO_ROOT / "references.bib").read_text(encoding="utf-8")
    return set(re.findall(r"^@\w+\{([^,\s]+),", bib, flags=re.MULTILINE))


def cite_sources(source: str, keys: Iterable[str] | None = None) -> str:
    """A source field as MyST: bibliography keys become author-year citations, other text is
    kept as words ("hughes1994; malone1990" -> "{cite:t}`hughes1994`; {cite:t}`malone1990`")."""
    known = set(_bib_keys() if keys is None else keys)
    parts = [p.strip() for p in re.split(r";", reader_text(source)) if p.strip()]
    out = []
    for part in parts:
        out.append(f"{{cite:t}}`{part}`" if part in known else escape_markdown(part))
    return "; ".join(out)


def _value(value: float, unit: str) -> str:
    words = UNIT_WORDS.get(unit, reader_text(unit))
    number = f"{value:.4g}"
    return f"{number} {words}".strip()


def prior_rows(priors) -> pd.DataFrame:  # priors: anrs119.model.inference.priors.Priors
    """One row per free parameter: its number in the priors table, name, prior and range."""
    rows = []
    for number, p in enumerate(priors, start=1):
        med, lo, hi = p.quantiles([0.5, 0.025, 0.975])
        if p.distribution == "lognormal":
            shape = f"log-normal, median {p.loc:g}, SD of log {p.scale:g}"
        else:
            shape = f"normal, mean {p.loc:g}, SD {p.scale:g}"
            if p.lower is not None or p.upper is not None:
                low = "" if p.lower is None else f"{p.lower:g}"
                high = "" if p.upper is None else f"{p.upper:g}"
                shape += f", kept within [{low}, {high}]"
        rows.append(
            {
                "row": number,
                "parameter": p.parameter,
                "prior": shape,
                "median": f"{med:.3g}",
                "range": f"{lo:.3g} to {hi:.3g}",
                "confidence": CONFIDENCE_WORDS.get(p.confidence, p.confidence),
                "source": p.source,
                "reason": p.reason,
            }
        )
    return pd.DataFrame(rows)


def prior_table(priors, parameters: pd.DataFrame) -> BookTable:
    """The priors of the free parameters, numbered (the symbol map points at these rows)."""
    rows = prior_rows(priors)
    described = parameters.set_index("parameter")["description"]
    symbol_of = {name: symbol for symbol, name in SYMBOLS}
    keys = _bib_keys()
    frame = pd.DataFrame(
        {
            "Row": rows["row"].astype(str),
            "Parameter": [
                f"${_latex(symbol_of[n])}$ " if n in symbol_of else "" for n in rows["parameter"]
            ]
            + rows["parameter"].map(lambda n: f"`{n}`")
            + ": "
            + rows["parameter"].map(lambda n: escape_markdown(reader_text(described.get(n, "")))),
            "Prior": rows["prior"],
            "Median (95% range)": rows["median"] + " (" + rows["range"] + ")",
            "Evidence": rows["confidence"],
            "Source and reason": [
                cite_sources(s, keys) + ". " + escape_markdown(reader_text(r))
                for s, r in zip(rows["source"], rows["reason"], strict=True)
            ],
        }
    )
    return BookTable(
        frame,
        caption="Priors of the model's free parameters, from the literature.",
        name=PRIORS_TABLE,
        markup=("Parameter", "Source and reason"),
    )


def _source_words(source: str) -> str:
    """A design input's source in words: the paper's claims and the registry record, not the
    registry's column names."""
    text = reader_text(source)
    if text.startswith("forensic allocation"):
        return "arm sizes worked out from the printed results ([forensic chapter](forensic.md))"
    if text.startswith("claims:"):
        registry = "NCT00120185" in text
        what = "ClinicalTrials.gov record NCT00120185" if registry else "the paper's abstract"
        return what + (", from its dates" if " to " in text else "")
    return escape_markdown(text)


def design_table(parameters: pd.DataFrame) -> BookTable:
    """The inputs fixed by the paper and the registry."""
    rows = parameters[parameters["provenance"].isin(["published", "registry"])]
    frame = pd.DataFrame(
        {
            "Input": rows["description"].map(lambda d: escape_markdown(reader_text(d))),
            "Value": [_value(v, u) for v, u in zip(rows["value"], rows["unit"], strict=True)],
            "From": rows["source"].map(_source_words),
        }
    )
    frame["Input"] = frame["Input"].str[0].str.upper() + frame["Input"].str[1:]
    return BookTable(
        frame,
        caption="Inputs fixed by the trial's paper and registry record.",
        name=DESIGN_TABLE,
        markup=("Input", "From"),
    )


def fixed_table(parameters: pd.DataFrame) -> BookTable:
    """The inputs taken from the literature or assumed, with the reason for each."""
    rows = parameters[parameters["provenance"].isin(["literature", "assumed"])]
    symbol_of = {name: symbol for symbol, name in SYMBOLS}
    frame = pd.DataFrame(
        {
            "Input": [
                (f"${_latex(symbol_of[n])}$ " if n in symbol_of else "")
                + f"`{n}`: "
                + escape_markdown(reader_text(d))
                for n, d in zip(rows["parameter"], rows["description"], strict=True)
            ],
            "Value": [_value(v, u) for v, u in zip(rows["value"], rows["unit"], strict=True)],
            "Basis": [
                PROVENANCE_WORDS[p] + ": " + reader_text(s)
                for p, s in zip(rows["provenance"], rows["source"], strict=True)
            ],
        }
    )
    return BookTable(
        frame,
        caption="Inputs taken from the literature or assumed, held fixed.",
        name=FIXED_TABLE,
        markup=("Input",),
    )


def symbol_table(priors, parameters: pd.DataFrame, constants: dict[str, str]) -> BookTable:
    """Every symbol of the equations: the parameter it stands for and where its value is set.

    ``constants`` gives the display value of each code constant of CONSTANTS (by its name)."""
    frame = parameters.set_index("parameter")
    prior_row = {p.parameter: i for i, p in enumerate(priors, start=1)}
    rows = []
    for symbol, name in SYMBOLS:
        p = frame.loc[name]
        if name in prior_row:
            where = f"prior: {{numref}}`{PRIORS_TABLE}`, row {prior_row[name]}"
        else:
            table = DESIGN_TABLE if p["provenance"] in ("published", "registry") else FIXED_TABLE
            where = (
                f"{escape_markdown(_value(p['value'], p['unit']))} "
                f"({PROVENANCE_WORDS[p['provenance']]}, {{numref}}`{table}`)"
            )
        rows.append(
            {
                "Symbol": f"${_latex(symbol)}$",
                "Parameter": f"`{name}`",
                "Meaning": escape_markdown(reader_text(p["description"])),
                "Value or prior": where,
            }
        )
    for symbol, name, meaning in CONSTANTS:
        rows.append(
            {
                "Symbol": f"${symbol}$",
                "Parameter": "(fixed in the simulator)",
                "Meaning": escape_markdown(meaning),
                "Value or prior": escape_markdown(constants.get(name, "")),
            }
        )
    return BookTable(
        pd.DataFrame(rows),
        caption="The symbols of the equations, the parameter each stands for, and where its "
        "value or prior is set.",
        name=SYMBOLS_TABLE,
        markup=("Symbol", "Parameter", "Meaning", "Value or prior"),
    )


MODEL_NUMBER_KINDS: dict[str, str] = {
    "mo_pub_vl_p": "published",
    "mo_claim_lowvl_art_deferral": "published",
    "mo_example_bound": "published",
    "mo_lowvl_sizes": "synthetic-only",
}
"""The numbers of the model pages (model.checks.diagnostics.chapter_numbers) that are not the
model's own: published values quoted, and the embedded trial's subgroup sizes."""


def _claim_labels() -> dict[str, str]:
    from anrs119.published import results
    from anrs119.report.scorecard import claim_label

    return {claim_id: claim_label(c) for claim_id, c in results().iterrows()}


def _words_list(items: list[str]) -> str:
    if not items:
        return "none"
    return items[0] if len(items) == 1 else "; ".join(items[:-1]) + "; and " + items[-1]


def reader_numbers(implied_rows, checks: pd.DataFrame, sensitivity: pd.DataFrame) -> dict:
    """The model pages' lists in words: parameters by what they mean, results by their label,
    never by an identifier (overrides the same keys of diagnostics.chapter_numbers)."""
    from anrs119.model.checks.sensitivity import moved_out
    from anrs119.model.simulator.parameters import default_parameters

    described = default_parameters().to_frame().set_index("parameter")["description"]
    labels = _claim_labels()
    moved = [reader_text(described.get(r.parameter, r.parameter)) for r in implied_rows if r.moved]
    n_moved = len(moved)
    out = {
        "moved_sentence": (
            "No parameter moved"
            if not n_moved
            else f"{'One parameter' if n_moved == 1 else f'{n_moved} parameters'} moved: "
            + _words_list(moved)
        ),
    }
    for distribution, key in (("posterior", "mo_out_post"), ("prior", "mo_out_prior")):
        rows = checks[(checks["distribution"] == distribution) & checks["outside95"]]
        out[key] = _words_list([labels.get(i, i) for i in rows["id"] if i in labels])
    shifted = moved_out(sensitivity)

    def listed(frame: pd.DataFrame) -> str:
        parts = []
        for label in dict.fromkeys(frame["label"]):
            ids = frame.loc[frame["label"] == label, "id"]
            parts.append(f"{reader_text(label)} ({', '.join(labels.get(i, i) for i in ids)})")
        return _words_list(parts)

    out["mo_moved_out"] = listed(shifted[shifted["outside95"]])
    out["mo_moved_in"] = listed(shifted[~shifted["outside95"].astype(bool)])
    return out


def accuracy_table(accuracy: pd.DataFrame) -> BookTable:
    """The posterior's quantiles with their Monte Carlo errors and the two accuracy checks
    (``anrs119.model.checks.diagnostics.accuracy_table``), one row per parameter in words."""
    described = _descriptions()
    frame = accuracy.copy()
    frame.insert(0, "Parameter", frame.pop("parameter").map(lambda n: described.get(n, n)))
    frame.columns = [
        "Parameter",
        "Median (Monte Carlo SE)",
        "2.5th percentile (SE)",
        "97.5th percentile (SE)",
        "Largest |z|, two halves",
        "Largest |z|, half the acceptance",
    ]
    return BookTable(
        frame.astype(str),
        caption="Posterior median and central 95% interval of every free parameter, each with "
        "its Monte Carlo standard error, and the largest standardized differences between the "
        "two halves of the reference table and between the chosen and the halved acceptance.",
        name="tbl-posterior-accuracy",
    )


def _descriptions() -> dict[str, str]:
    from anrs119.model.simulator.parameters import default_parameters

    frame = default_parameters().to_frame().set_index("parameter")["description"]
    return {k: reader_text(v) for k, v in frame.items()}


def implied_table(rows) -> BookTable:
    """Prior against posterior for each free parameter; the moved ones highlighted."""
    described = _descriptions()
    frame = pd.DataFrame(
        [
            {
                "Parameter": described.get(r.parameter, r.parameter),
                "Prior median (central 50%)": f"{r.prior_median:.3g} "
                f"({r.prior_q25:.3g} to {r.prior_q75:.3g})",
                "Posterior median (95%)": f"{r.post_median:.3g} "
                f"({r.post_low95:.3g} to {r.post_high95:.3g})",
                "Overlap": f"{r.overlap:.2f}",
                "SD ratio": f"{r.sd_ratio:.2f}",
                "Moved": "yes" if r.moved else "no",
            }
            for r in rows
        ]
    )
    flags = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    flags["Moved"] = frame["Moved"] == "yes"
    flags["Parameter"] = flags["Moved"]
    return BookTable(
        frame,
        caption="What the paper implies: each free parameter's prior and posterior. "
        "Highlighted: the parameters the paper moved.",
        name="tbl-posterior-implied",
        flags=flags,
    )


def _g(value: float) -> str:
    if np.isfinite(value):
        return f"{value:.3g}"
    return "not reached (IL-2)" if value > 0 else "not reached (control)"


def _p(value: float) -> str:
    """A simulated P value in the journal's style: "<.001", ".094", ">.99"."""
    if value < 0.001:
        return "<.001"
    return ">.99" if value > 0.99 else f"{value:.3f}".removeprefix("0")


def checks_table(checks: pd.DataFrame) -> BookTable:
    """Per published result: its predictive range and percentile, before and after the paper."""
    from anrs119.published import results
    from anrs119.report.tables import percentile_text

    claims = results()
    labels = _claim_labels()
    rows, flags = [], []
    for claim_id in dict.fromkeys(checks["id"]):
        if claim_id not in claims.index:  # the joint checks: stated in the text
            continue
        row = {"Result": labels.get(claim_id, claim_id)}
        row["Published"] = claims.loc[claim_id, "reported_as"] if claim_id in claims.index else ""
        flag = {"Result": False, "Published": False}
        for distribution, name in (
            ("prior", "Literature alone"),
            ("posterior", "Literature and paper"),
        ):
            t = checks[(checks["id"] == claim_id) & (checks["distribution"] == distribution)]
            if t.empty:
                continue
            t = t.iloc[0]
            # a "similar" statement's draws are differences between arms, in points
            show = _p if claims.loc[claim_id, "statistic"] == "p_value" else _g
            interval = (
                "" if pd.isna(t["median"]) else
                f"{show(t['median'])} ({show(t['lower95'])} to {show(t['upper95'])})"
            )  # fmt: skip
            bound = claim_id in claims.index and (
                claims.loc[claim_id, "bound"] != "="
                or claims.loc[claim_id, "statistic"] == "similar"
            )
            where = f"{t['percentile']:.0f}% meet it" if bound else percentile_text(t["percentile"])
            if "mc_se" in t.index and pd.notna(t["mc_se"]):
                where += f" (SE {t['mc_se']:.1f})"
            row[f"{name}: median (95%)"] = interval
            row[f"{name}: percentile"] = where
            flag[f"{name}: median (95%)"] = False
            flag[f"{name}: percentile"] = bool(t["outside95"])
        rows.append(row)
        flags.append(flag)
    frame = pd.DataFrame(rows).fillna("")
    return BookTable(
        frame,
        caption="Each published result among trials simulated from the prior (the literature "
        "alone) and from the posterior (the literature and the paper): the median and central "
        "95% across trials, and the percentile of the published value among the simulated values "
        "printed as the paper prints them (for a bound or a 'similar' statement, the share of "
        "trials that meet it), with its Monte Carlo standard error in points. Highlighted: "
        "outside the central 95%.",
        name="tbl-checks-predictive",
        flags=pd.DataFrame(flags).reindex(columns=frame.columns, fill_value=False),
    )


def sensitivity_table(sensitivity: pd.DataFrame) -> BookTable:
    """One row per changed assumption: which published values it moves out of (or back into)
    the central 95% posterior predictive range, and the joint check."""
    from anrs119.model.checks.sensitivity import moved_out

    labels = _claim_labels()
    shifted = moved_out(sensitivity)
    joint = sensitivity[sensitivity["id"] == "joint"].set_index("label")["percentile"]
    rows = []
    for label in dict.fromkeys(sensitivity["label"]):
        mine = shifted[shifted["label"] == label]
        out_ids = mine.loc[mine["outside95"].astype(bool), "id"]
        in_ids = mine.loc[~mine["outside95"].astype(bool), "id"]
        rows.append(
            {
                "Assumption": reader_text(label),
                "Moved out of the central 95%": "; ".join(labels.get(i, i) for i in out_ids)
                or "none",
                "Moved back into it": "; ".join(labels.get(i, i) for i in in_ids) or "none",
                "Joint check": f"{joint.get(label, np.nan):.1f}%",
            }
        )
    frame = pd.DataFrame(rows)
    flags = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    flags["Moved out of the central 95%"] = frame["Moved out of the central 95%"] != "none"
    return BookTable(
        frame,
        caption="What each changed assumption does to the posterior predictive checks: the "
        "published values it moves out of, or back into, the central 95%, and the share of "
        "trials at least as far as the published numbers taken together (joint check).",
        name="tbl-checks-sensitivity",
        flags=flags,
    )


SHORT_PARAMETER_NAMES: dict[str, str] = {
    "cd4_pop_median": "CD4 of candidates, median",
    "cd4_pop_sdlog": "CD4 of candidates, spread",
    "cd4_noise_sdlog": "CD4 visit noise",
    "vl_mean": "viral load, mean",
    "cd4_slope_mean": "CD4 decline, mean",
    "cd4_slope_sd": "CD4 decline, spread",
    "cd4_slope_vl": "CD4 decline per log10 VL",
    "vl_drift_mean": "viral load drift",
    "il2_gain_median": "IL-2 gain per cycle",
    "il2_gain_sdlog": "IL-2 gain, spread",
    "il2_halflife": "IL-2 gain half-life",
    "il2_vl_effect": "IL-2 effect on viral load",
    "art_rate_ref": "ART start rate",
    "art_cd4_loghr": "ART start, CD4 gradient",
}
"""A few words per free parameter, for figure panels (the tables give the full description)."""


def short_parameter_name(name: str) -> str:
    symbol = dict((n, s) for s, n in SYMBOLS).get(name)
    words = SHORT_PARAMETER_NAMES.get(name, name.replace("_", " "))
    return f"${_latex(symbol)}$ {words}" if symbol else words


def short_claim_label(claim_id: str) -> str:
    """A few words per published result, for figure axes: "end point wk 96, IL-2"."""
    from anrs119.published import results

    claim = results().loc[claim_id]
    what = {
        "primary_w96": "end point, week 96",
        "cd4_change_w96": "CD4 change",
        "vl_change_w96": "viral load change",
        "lowvl_free_w150": "low VL: free, week 150",
        "lowvl_art_deferral": "low VL: ART deferral",
        "safety": "",
    }.get(claim["claim"], claim["claim"].replace("_", " "))
    part = {"both": "P", "difference": ""}.get(claim["arm"], claim["arm"])
    if claim["statistic"] == "similar":
        return f"similar: {claim['endpoint']}"
    return f"{what}, {part}" if part else what
