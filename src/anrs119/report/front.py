"""The intro's first screen: what ANRS 119 found, whether the book reproduces it, where the
model strains, what the later trials showed and what it means today.

Every number comes from a registry (``data/published/``), the scorecard of the dataset in use,
or the model's predictive checks; each is returned with its kind (anrs119.report.text.Glued).
"""

from __future__ import annotations

import pandas as pd

from anrs119.data import Dataset
from anrs119.published import claim, claim_value
from anrs119.report.tables import percentile_phrase
from anrs119.report.text import Glued, reader_text

SUBGROUP_IDS = ("lowvl_free_w150_il2", "lowvl_free_w150_control")


def _published(text: str | int | float) -> Glued:
    return Glued(text, "published")


def trial_numbers() -> dict[str, Glued]:
    """ANRS 119's design and main results as the abstract printed them, with absolute risks."""
    il2, control = claim_value("primary_w96_il2"), claim_value("primary_w96_control")
    return {
        "fp_n": _published(int(claim_value("n_randomized"))),
        "fp_cd4_low": _published(f"{claim_value('cd4_eligibility_lower'):g}"),
        "fp_cd4_high": _published(f"{claim_value('cd4_eligibility_upper'):g}"),
        "fp_threshold": _published(f"{claim_value('endpoint_cd4_threshold'):g}"),
        "fp_week": _published(int(claim("primary_w96_il2")["timepoint_weeks"])),
        "fp_primary_il2": _published(claim("primary_w96_il2")["reported_as"]),
        "fp_primary_control": _published(claim("primary_w96_control")["reported_as"]),
        "fp_primary_p": _published(claim("primary_w96_p")["reported_as"]),
        "fp_per100_il2": _published(f"{il2:g}"),
        "fp_per100_control": _published(f"{control:g}"),
        "fp_per100_fewer": _published(f"{control - il2:g}"),
        "fp_cd4_il2": _published(claim("cd4_change_w96_il2")["reported_as"]),
        "fp_cd4_control": _published(claim("cd4_change_w96_control")["reported_as"]),
        "fp_cd4_p": _published(claim("cd4_change_w96_p")["reported_as"]),
        "fp_vl_p": _published(claim("vl_change_w96_p")["reported_as"]),
        "fp_sub_week": _published(int(claim("lowvl_free_w150_il2")["timepoint_weeks"])),
        "fp_sub_il2": _published(claim("lowvl_free_w150_il2")["reported_as"]),
        "fp_sub_control": _published(claim("lowvl_free_w150_control")["reported_as"]),
        "fp_sub_cutoff": _published(f"{claim_value('subgroup_vl_cutoff'):g}"),
        "fp_safety": _published(claim("safety_aids_similar")["reported_as"]),
    }


def reproduction_sentence(card: pd.DataFrame, dataset: Dataset) -> Glued:
    """Whether the dataset in use reproduces the published numbers, and what that means."""
    from anrs119.report.scorecard import verdict_summary

    summary = verdict_summary(card)
    n = len(card)
    exact = summary.get("exact", 0) + summary.get("consistent", 0)
    failed = summary.get("off", 0) + summary.get("inconsistent", 0)
    close = summary.get("close", 0)
    if dataset.is_synthetic:
        text = (
            f"all {n} statements of result come out as published"
            if exact == n
            else f"{exact} of {n} statements of result come out as published"
        )
        return Glued(text, "reproduced")
    return Glued(
        f"{exact} of {n} statements of result are reproduced, {close} within one patient's "
        f"change and {failed} not",
        "reproduced",
    )


def reproduction_brief(card: pd.DataFrame, dataset: Dataset) -> Glued:
    """The same answer in one line, for the intro's summary."""
    sentence = str(reproduction_sentence(card, dataset).text)
    if dataset.is_synthetic:
        return Glued(
            f"yes, {sentence}, but on synthetic patients built to print them: a check of this "
            "book's code, not of the trial",
            "reproduced",
        )
    return Glued(f"on {dataset.source}, {sentence}", "reproduced")


def strain_numbers(checks: pd.DataFrame | None) -> dict[str, Glued]:
    """Where the published subgroup values fall among trials the posterior predicts."""
    out: dict[str, Glued] = {}
    for claim_id, key in zip(SUBGROUP_IDS, ("fp_pct_il2", "fp_pct_control"), strict=True):
        if checks is None or (claim_id, "posterior") not in checks.index:
            out[key] = Glued("not yet computed", "model")
            continue
        percentile = float(checks.loc[(claim_id, "posterior"), "percentile"])
        out[key] = Glued(percentile_phrase(percentile), "model")
    if checks is None:
        out["fp_n_outside"] = Glued("not yet computed", "model")
        return out
    posterior = checks.xs("posterior", level="distribution")
    outside = posterior[(posterior.index != "joint") & posterior["outside95"]]
    out["fp_n_outside"] = Glued(len(outside), "model")
    out["fp_n_checked"] = Glued(int((posterior.index != "joint").sum()), "model")
    return out


def _cd4(value: float) -> str:
    return f"{value:+g}".replace("+", "")


def later_trials() -> dict[str, Glued]:
    """ESPRIT, SILCAAT, STALWART and START as their papers printed them (trials registry)."""
    from anrs119.context import load_trials

    t = load_trials()

    def hr(row_id: str) -> str:
        row = t.loc[row_id]
        return f"{row['value']:.2f} ({row['ci_low']:.2f} to {row['ci_high']:.2f})"

    stalwart, start = t.loc["stalwart_od_death"], t.loc["start_serious"]
    return {
        "fp_esprit_n": _published(f"{t.loc['esprit_od_death', 'n_randomized']:,.0f}"),
        "fp_silcaat_n": _published(f"{t.loc['silcaat_od_death', 'n_randomized']:,.0f}"),
        "fp_esprit_cd4": _published(_cd4(t.loc["esprit_cd4", "value"])),
        "fp_silcaat_cd4": _published(_cd4(t.loc["silcaat_cd4", "value"])),
        "fp_esprit_hr": _published(hr("esprit_od_death")),
        "fp_silcaat_hr": _published(hr("silcaat_od_death")),
        "fp_stalwart_n": _published(f"{stalwart['n_randomized']:,.0f}"),
        "fp_stalwart_events": _published(
            f"{stalwart['value_il2']:g} vs {stalwart['value_control']:g}"
        ),
        "fp_start_n": _published(f"{start['n_randomized']:,.0f}"),
        "fp_start_events": _published(f"{start['value_il2']:g} vs {start['value_control']:g}"),
        "fp_start_hr": _published(hr("start_serious") + f", P < {start['p_value']:g}".replace(
            "0.", ".")),
        "fp_start_cd4": _published(reader_text(str(start["entry_cd4"]).split(" (")[0])),
    }  # fmt: skip


def front_page(card: pd.DataFrame, dataset: Dataset, checks: pd.DataFrame | None) -> dict:
    """Every value the intro's first screen glues."""
    return {
        **trial_numbers(),
        "fp_reproduced": reproduction_sentence(card, dataset),
        "fp_reproduced_brief": reproduction_brief(card, dataset),
        **strain_numbers(checks),
        **later_trials(),
        "fp_source": Glued(dataset.source, "book"),
    }
