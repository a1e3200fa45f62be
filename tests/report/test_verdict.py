"""Verdicts that can fail: exact after rounding, close one patient away, off two or more away.

Besides unit cases, the verdict code is fed mutated copies of the embedded ADaM tables (one
patient's event or value changed, or two, or a real difference between arms) and each verdict is
asserted; every expected value is computed from the registry and the data, none is typed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from anrs119 import ARMS
from anrs119.data import Dataset, load_dataset
from anrs119.published import load_claims
from anrs119.report.verdict import (
    LABELS,
    format_like,
    is_exact,
    judge,
    judge_similar,
    round_half_up,
    verdict_counts,
)
from anrs119.reproduce import SAFETY_WEEK, Reproducer
from anrs119.tolerance import Reach, ToleranceCalculator, count_reach, similarity
from tests import mutations

CLAIMS = load_claims()
SUFFIX = dict(zip(ARMS, ("il2", "control"), strict=True))


def row(claim_id: str) -> pd.Series:
    return CLAIMS.loc[claim_id]


def published(claim_id: str) -> float:
    return float(CLAIMS.at[claim_id, "value"])


def verdict_on(dataset: Dataset, claim_id: str) -> str:
    """Reproduce one claim on a dataset and judge it with the reach computed on that dataset."""
    reproducer = Reproducer(dataset)
    claim = row(claim_id)
    if claim["statistic"] == "similar":
        return judge_similar(claim, similarity(reproducer)[claim_id]).label
    reach = ToleranceCalculator(reproducer).reach(claim_id, claim)
    return judge(claim, reproducer.all()[claim_id].value, reach).label


@pytest.fixture(scope="module")
def embedded() -> Dataset:
    return load_dataset()


# ---- unit cases


def test_round_half_up_is_not_bankers_rounding() -> None:
    assert round_half_up(0.0085, 3) == 0.009
    assert round_half_up(34.5, 0) == 35
    assert round_half_up(-63.5, 0) == -64
    assert round_half_up(0.925, 2) == 0.93
    # a median of two hundredths carries binary noise: (1.13 + 1.14) / 2 == 1.1349999999999998
    assert (1.13 + 1.14) / 2 != 1.135
    assert round_half_up((1.13 + 1.14) / 2, 2) == 1.14 == round_half_up(1.135, 2)
    assert round_half_up((0.02 + 0.03) / 2, 2) == 0.03
    assert round_half_up(-(1.13 + 1.14) / 2, 2) == -1.14


def test_exact_needs_equality_after_rounding_or_the_bound() -> None:
    assert is_exact(row("primary_w96_il2"), published("primary_w96_il2") + 0.4)
    assert not is_exact(row("primary_w96_il2"), published("primary_w96_il2") + 0.6)
    bound = published("cd4_change_w96_p")
    assert is_exact(row("cd4_change_w96_p"), bound / 10)
    assert not is_exact(row("cd4_change_w96_p"), bound)


def test_close_only_when_the_reach_gives_the_published_number() -> None:
    claim = row("primary_w96_il2")
    n = 66
    k = next(j for j in range(n + 1) if round_half_up(100 * j / n, 0) == published(claim.name))
    one_away = Reach(claim.name, "one_patient", count_reach(k + 1, n), "")
    two_away = Reach(claim.name, "one_patient", count_reach(k + 2, n), "")
    assert judge(claim, 100 * (k + 1) / n, one_away).label == "close"
    assert judge(claim, 100 * (k + 2) / n, two_away).label == "off"
    assert judge(claim, 100 * (k + 2) / n, None).label == "off"  # no reach: only exact passes


def test_p_value_close_only_when_a_listed_value_prints_as_published() -> None:
    claim = row("vl_change_w96_p")
    p = published(claim.name)
    covering = Reach(claim.name, "one_patient_p", (p - 0.2, p - 0.1, p + 0.002), "")
    around = Reach(claim.name, "one_patient_p", (p - 0.2, p - 0.1, p + 0.02), "")
    assert judge(claim, p - 0.1, covering).label == "close"
    # values on both sides of .93 (.73 and .95) but none printing as it: not close
    assert judge(claim, p - 0.1, around).label == "off"
    bound = row("cd4_change_w96_p")
    below = Reach(bound.name, "one_patient_p", (0.0005, 0.002, 0.01), "")
    assert judge(bound, 0.002, below).label == "close"
    above = Reach(bound.name, "one_patient_p", (0.0015, 0.002, 0.01), "")
    assert judge(bound, 0.002, above).label == "off"


def test_22_of_65_vs_35_of_61_is_off_for_p_008_although_its_range_spans_it() -> None:
    """The referee's case: Fisher P = .012; one patient more or fewer in either arm gives .0069,
    .0071, .0194 and .0198 (scipy), none of which prints as .008."""
    claim = row("primary_w96_p")

    def fisher(k1: int, k2: int) -> float:
        return float(stats.fisher_exact([[k1, 65 - k1], [k2, 61 - k2]]).pvalue)

    values = (fisher(22, 35), fisher(21, 35), fisher(23, 35), fisher(22, 34), fisher(22, 36))
    assert min(values) < published(claim.name) < max(values)
    reach = Reach(claim.name, "one_patient_p", values, "")
    assert judge(claim, values[0], reach).label == "off"
    # the same table one patient on: 21/65 vs 35/61 prints as .007, still not .008
    assert judge(claim, fisher(21, 35), reach).label == "off"


def test_nan_is_off_and_similar_statements_are_never_judged_as_numbers() -> None:
    assert judge(row("primary_w96_il2"), math.nan, None).label == "off"
    with pytest.raises(ValueError, match="judge_similar"):
        judge(row("safety_aids_similar"), 0.5, None)


@given(st.sampled_from([i for i, c in CLAIMS.iterrows() if c["kind"] == "result"]))
def test_the_published_value_itself_is_exact(claim_id: str) -> None:
    claim = row(claim_id)
    if claim["statistic"] == "similar":
        return
    value = published(claim_id) / 2 if claim["bound"] == "<" else published(claim_id)
    assert judge(claim, value, None).label == "exact"


def test_format_like_prints_as_the_paper() -> None:
    assert format_like(row("primary_w96_il2"), 35.4) == "35%"
    assert format_like(row("cd4_change_w96_il2"), 51.2) == "+51"
    assert format_like(row("vl_change_w96_control"), 0.041) == "+0.04"
    assert format_like(row("primary_w96_p"), 0.0081) == "P = .008"
    assert format_like(row("lowvl_free_w150_p"), 0.00001) == "P < .001"
    assert format_like(row("lowvl_art_deferral"), 91.6) == "92 weeks"


def test_format_like_names_what_is_not_a_number_and_prints_similar_as_a_p_value() -> None:
    claim = row("lowvl_art_deferral")
    assert format_like(claim, math.nan) == "not estimable"
    assert format_like(claim, math.inf) == "not reached"
    assert format_like(claim, -math.inf) == "-inf"
    # a 'similar' statement has no decimals of its own: its P prints as a two-decimal P claim's
    similar, two = row("safety_aids_similar"), row("vl_change_w96_p")
    assert format_like(similar, 0.5) == format_like(two, 0.5)
    # a value without a unit ends with its last digit
    bare = claim.copy()
    bare["unit"] = ""
    assert format_like(bare, 91.6) == format_like(claim, 91.6).removesuffix(" weeks")


def test_judge_says_why_a_value_is_off_before_any_rounding() -> None:
    claim = row("lowvl_art_deferral")
    nan = judge(claim, math.nan, None)
    assert (nan.label, nan.reason) == (
        "off",
        "could not be computed from the dataset (not estimable)",
    )
    inf = judge(claim, math.inf, None)
    assert (inf.label, inf.reason) == ("off", "not reached in one arm by the end of follow-up")
    far = judge(claim, published("lowvl_art_deferral") + 10, None)
    assert far.label == "off"
    assert (
        far.reason == f"not equal, and the one-patient reach ({claim['tolerance']}) is not computed"
    )
    with pytest.raises(ValueError, match=r"is judged by judge_similar, not judge$"):
        judge(row("safety_aids_similar"), 0.5, None)


def test_a_lower_bound_is_exact_when_the_value_lies_above_it() -> None:
    claim = row("cd4_change_w96_p").copy()
    claim["bound"], claim["value"], claim["reported_as"] = ">", 0.5, "P > .50"
    verdict = judge(claim, 0.7, None)
    assert (verdict.label, verdict.reason) == ("exact", "> the published bound 0.5")
    assert judge(claim, 0.3, None).label == "off"


def test_verdict_counts_in_fixed_order() -> None:
    counts = verdict_counts(pd.Series(["close", "exact", "exact", "consistent"]))
    assert list(counts) == list(LABELS)
    assert counts["exact"] == 2 and counts["close"] == 1 and counts["consistent"] == 1
    # a verdict no claim got counts zero, not one
    given = ("close", "exact", "consistent")
    assert all(counts[label] == 0 for label in LABELS if label not in given)
    assert verdict_counts(pd.Series([], dtype=str)) == dict.fromkeys(LABELS, 0)


# ---- mutated reproductions, built from the embedded ADaM tables


def published_count(claim_id: str, n: int) -> int:
    """The number of patients of ``n`` whose percentage prints as the published one."""
    ks = [k for k in range(n + 1) if round_half_up(100 * k / n, 0) == published(claim_id)]
    assert len(ks) == 1, ks
    return ks[0]


@pytest.mark.parametrize("arm", ARMS)
def test_primary_proportion_exact_then_one_then_two_patients_away(embedded, arm) -> None:
    claim_id = f"primary_w96_{SUFFIX[arm]}"
    week = float(row(claim_id)["timepoint_weeks"])
    n = embedded.subjects_by_arm()[arm]
    k = published_count(claim_id, n)
    expected = {0: "exact", -1: "close", 1: "close", -2: "off", 2: "off", 5: "off"}
    for shift, label in expected.items():
        mutated = mutations.set_event_count(embedded, "PRIMARY", arm, week, k + shift)
        assert verdict_on(mutated, claim_id) == label, (arm, shift)


def test_primary_p_one_patient_away_is_close_and_many_is_off(embedded) -> None:
    week = float(row("primary_w96_p")["timepoint_weeks"])
    counts = {
        arm: published_count(f"primary_w96_{SUFFIX[arm]}", n)
        for arm, n in embedded.subjects_by_arm().items()
    }

    def with_counts(il2: int, control: int) -> Dataset:
        ds = mutations.set_event_count(embedded, "PRIMARY", ARMS[0], week, il2)
        return mutations.set_event_count(ds, "PRIMARY", ARMS[1], week, control)

    k1, k2 = counts[ARMS[0]], counts[ARMS[1]]
    # the forensic counts print the published P exactly (see the forensic chapter)
    assert verdict_on(with_counts(k1, k2), "primary_w96_p") == "exact"
    assert verdict_on(with_counts(k1 + 1, k2), "primary_w96_p") == "close"
    assert verdict_on(with_counts(k1 + 4, k2 - 4), "primary_w96_p") == "off"


def test_median_change_exact_then_one_then_two_patients_away(embedded) -> None:
    claim_id = "cd4_change_w96_il2"
    week = int(row(claim_id)["timepoint_weeks"])
    centre = published(claim_id)
    expected = {0: "exact", 1: "close", 2: "off", 4: "off"}
    for moved, label in expected.items():
        mutated = mutations.set_median_change(embedded, "CD4", ARMS[0], week, centre, moved, 10.0)
        assert verdict_on(mutated, claim_id) == label, moved


def _km_at(time: np.ndarray, event: np.ndarray, week: float) -> float:
    """Kaplan-Meier percentage event-free at ``week`` (a small independent implementation,
    used only to steer the walk; the verdicts below run the book's own code)."""
    seen = event & (time <= week)
    t = np.minimum(time, week)
    surv = 1.0
    for u in np.unique(t[seen]):
        surv *= 1.0 - ((t == u) & seen).sum() / (t >= u).sum()
    return float(100.0 * surv)


def test_kaplan_meier_one_event_from_exact_is_close_and_far_is_off(embedded) -> None:
    """Walk one event at a time towards the published subgroup estimate (each step the single
    change that lands nearest it); the dataset one event from the first exact one is close;
    giving every patient the event is off."""
    claim_id = "lowvl_free_w150_il2"
    claim = row(claim_id)
    week = float(claim["timepoint_weeks"])
    target = published(claim_id)
    sub = Reproducer(embedded).subgroup.adsl
    ids = set(sub.loc[sub["ARM"] == ARMS[0], "USUBJID"])
    adtte = embedded.adtte
    rows = adtte.index[(adtte["PARAMCD"] == "PRIMARY") & adtte["USUBJID"].isin(ids)]
    time = adtte.loc[rows, "AVAL"].to_numpy(float)
    event = (adtte.loc[rows, "CNSR"] == 0).to_numpy()
    previous = None
    for _ in range(2 * len(rows)):
        moves = []
        for i in range(len(rows)):
            if event[i] and time[i] <= week:  # one event fewer: censored at its time
                e = event.copy()
                e[i] = False
                moves.append((time, e))
            elif not event[i] and time[i] >= week:  # one event more, at the week
                t, e = time.copy(), event.copy()
                t[i], e[i] = week, True
                moves.append((t, e))
        values = [_km_at(t, e, week) for t, e in moves]
        hits = [m for m, v in zip(moves, values, strict=True) if is_exact(claim, v)]
        if hits:
            previous, (time, event) = (time, event), hits[0]
            break
        time, event = moves[int(np.argmin([abs(v - target) for v in values]))]
    else:
        pytest.fail("no single-event walk reached the published estimate")

    def dataset_with(t: np.ndarray, e: np.ndarray) -> Dataset:
        changed = adtte.copy()
        changed.loc[rows, "AVAL"] = t
        changed.loc[rows, "CNSR"] = (~e).astype(int)
        return mutations.with_tables(embedded, adtte=changed)

    assert verdict_on(dataset_with(time, event), claim_id) == "exact"
    assert verdict_on(dataset_with(*previous), claim_id) == "close"
    everyone = embedded.adtte.copy()
    sel = (everyone["PARAMCD"] == "PRIMARY") & everyone["USUBJID"].isin(ids)
    everyone.loc[sel, ["CNSR", "AVAL"]] = [0, week / 2]
    assert verdict_on(mutations.with_tables(embedded, adtte=everyone), claim_id) == "off"


def test_similar_with_a_real_difference_is_not_consistent(embedded) -> None:
    claim_id = "safety_aids_similar"
    n = embedded.subjects_by_arm()[ARMS[0]]
    assert verdict_on(embedded, claim_id) in ("consistent", "inconsistent")
    harmed = mutations.add_aids_events(embedded, ARMS[0], n // 2, SAFETY_WEEK)
    assert verdict_on(harmed, claim_id) == "inconsistent"
    result = similarity(Reproducer(harmed))[claim_id]
    assert result.rd_ci_low > 0 and result.patients[0] >= n // 2


def test_similar_is_consistent_when_the_arms_are_alike_and_never_exact(embedded) -> None:
    # as many AIDS events in each arm: the CI covers 0
    counts = Reproducer(embedded).safety["safety_aids_similar"].table.set_index("group")
    gap = int(counts.at[ARMS[1], "patients"]) - int(counts.at[ARMS[0], "patients"])
    behind = ARMS[0] if gap > 0 else ARMS[1]
    alike = mutations.add_aids_events(embedded, behind, abs(gap), SAFETY_WEEK)
    verdict = judge_similar(
        row("safety_aids_similar"), similarity(Reproducer(alike))["safety_aids_similar"]
    )
    assert verdict.label == "consistent" and "CI" in verdict.reason
    assert "absence of evidence, not shown similarity" in verdict.reason
    assert "do not exclude" in verdict.reason


def test_count_verdict_at_every_k_for_every_n_up_to_200() -> None:
    """exact iff k/n prints as the claim; close iff (k - 1)/n or (k + 1)/n does; else off:
    every boundary, both percentages of the primary end point."""
    for claim_id in ("primary_w96_il2", "primary_w96_control"):
        claim = row(claim_id)
        for n in range(1, 201):
            prints = {
                j for j in range(n + 1) if round_half_up(100 * j / n, 0) == published(claim_id)
            }
            for k in range(n + 1):
                reach = Reach(claim_id, "one_patient", count_reach(k, n), "")
                label = judge(claim, 100 * k / n, reach).label
                expected = "exact" if k in prints else "close" if {k - 1, k + 1} & prints else "off"
                assert label == expected, (claim_id, k, n)


def test_a_similar_statement_that_cannot_be_computed_is_inconsistent_and_says_why() -> None:
    verdict = judge_similar(row("safety_aids_similar"), KeyError("AIDS events"))
    assert verdict.label == "inconsistent"
    assert verdict.reason == "could not be computed from the dataset ('AIDS events')"
    with pytest.raises(ValueError, match="judge_similar takes 'similar' statements"):
        judge_similar(row("primary_w96_il2"), KeyError("x"))


def test_a_detected_difference_gives_its_sentence_and_an_undetectable_increase_says_none(
    embedded,
) -> None:
    """20/66 vs 5/64 is a difference the rule detects: the verdict gives the same words as
    the consistent case (counts, interval, risk ratio, detectable increase); with no
    detectable increase (NaN) the text says 'none', not 'nan points'."""
    from dataclasses import replace

    from anrs119.analysis.similarity import compare_counts
    from anrs119.report.verdict import similarity_text

    base = similarity(Reproducer(embedded))["safety_aids_similar"]
    detected = replace(base, similarity=compare_counts(20, 66, 5, 64))
    verdict = judge_similar(row("safety_aids_similar"), detected)
    assert verdict.label == "inconsistent"
    assert verdict.reason == similarity_text(detected)
    assert "20/66 vs 5/64" in verdict.reason and "contradict 'similar'" in verdict.reason
    assert similarity_text(replace(base, detectable_difference=math.nan)).endswith(": none")
    assert similarity_text(base).endswith(" points")


def test_close_names_the_nearest_reachable_value_or_the_reached_range() -> None:
    """Under a bound 'P < .05' the values one patient's change gives print differently: the
    verdict names the one nearest the reproduced P. A median with no recording grid reaches a
    range, and the verdict says so."""
    claim = row("cd4_change_w96_p").copy()
    claim["value"], claim["decimals"], claim["reported_as"] = 0.05, 2, "P < .05"
    reach = Reach(claim.name, "one_patient_p", (0.01, 0.04, 0.2), "three values")
    verdict = judge(claim, 0.06, reach)
    assert verdict.label == "close"
    assert verdict.reason == f"one patient's change gives {format_like(claim, 0.04)} (three values)"
    assert format_like(claim, 0.04) != format_like(claim, 0.01)
    ranged = Reach("primary_w96_il2", "one_patient", (), "a range", ((34.6, 35.2),))
    verdict = judge(row("primary_w96_il2"), 30.0, ranged)
    assert (verdict.label, verdict.reason) == ("close", "one patient's change reaches it (a range)")
