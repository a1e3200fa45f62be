"""The one rule for "similar": the Newcombe interval against statsmodels, the rule at every count,
and words that never claim shown similarity."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anrs119.analysis import similarity as sim
from anrs119.analysis._common import AnalysisInputError

GROUPS = ("IL-2", "Control")


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 150), st.integers(1, 150), st.data())
def test_newcombe_interval_matches_statsmodels(n1: int, n2: int, data) -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep

    k1 = data.draw(st.integers(0, n1))
    k2 = data.draw(st.integers(0, n2))
    d, low, high = sim.newcombe_interval(k1, n1, k2, n2)
    ref = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert float(d) == pytest.approx(k1 / n1 - k2 / n2)
    assert (float(low), float(high)) == pytest.approx((float(ref[0]), float(ref[1])), abs=1e-9)


def test_the_rule_at_every_count_of_the_trial_matches_statsmodels() -> None:
    """Every pair of counts of arms of 66 and 64, vectorised, against statsmodels' interval."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    k1, k2 = np.meshgrid(np.arange(67), np.arange(65), indexing="ij")
    ours = sim.no_difference_detected(k1, 66, k2, 64)
    low, high = confint_proportions_2indep(
        k1.ravel(), 66, k2.ravel(), 64, method="newcomb", compare="diff"
    )
    expected = ((np.asarray(low) <= 0) & (np.asarray(high) >= 0)).reshape(k1.shape)
    assert ours.shape == (67, 65)
    assert np.array_equal(ours, expected)
    assert isinstance(sim.no_difference_detected(1, 66, 1, 64), bool)


def test_the_referees_cases() -> None:
    """5/66 vs 0/64: a difference is detected (0.5 to 16.5 points) although Fisher's P is .058;
    18/66 vs 9/64: none is detected (-0.8 to +26.6 points), which is no evidence of similarity."""
    five = sim.compare_counts(5, 66, 0, 64)
    assert five.detected
    assert (100 * five.ci_low, 100 * five.ci_high) == pytest.approx((0.5, 16.5), abs=0.05)
    grade = sim.compare_counts(18, 66, 9, 64)
    assert not grade.detected
    assert (100 * grade.ci_low, 100 * grade.ci_high) == pytest.approx((-0.8, 26.6), abs=0.05)
    assert grade.largest_not_excluded == pytest.approx(grade.ci_high)
    assert "26.6 points more often with IL-2" in grade.sentence(GROUPS)


SHOWN_SIMILARITY = re.compile(
    r"\b(equivalen|comparable|no difference between|the same|similar\b(?! between)|safe\b)",
    re.IGNORECASE,
)


def test_the_words_never_claim_shown_similarity_at_any_count() -> None:
    for k1 in range(0, 67, 3):
        for k2 in range(0, 65, 3):
            rule = sim.compare_counts(k1, 66, k2, 64)
            text = rule.sentence(GROUPS)
            assert f"{k1}/66 vs {k2}/64" in text and "CI" in text
            if rule.detected:
                assert "difference is detected" in text and "absence of evidence" not in text
            else:
                assert text.endswith(sim.CAVEAT_TEXT)
                assert "do not exclude a difference of up to" in text
            # the words name similarity only to deny it or to quote the paper's word
            allowed = text.replace("not shown similarity", "").replace("contradict 'similar'", "")
            assert not SHOWN_SIMILARITY.search(allowed), text


def test_largest_difference_not_excluded_is_the_far_end_of_the_interval() -> None:
    fewer = sim.compare_counts(1, 66, 6, 64)
    assert fewer.largest_not_excluded == fewer.ci_low < 0
    assert "less often with IL-2" in fewer.largest_text(GROUPS)


def test_wilson_interval_is_exact_at_the_ends() -> None:
    low, high = sim.wilson_interval(np.array([0, 10]), 10)
    assert low[0] == 0.0 and high[1] == 1.0


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(AnalysisInputError, match="rule"):
        sim.compare_counts(7, 6, 0, 5)
    with pytest.raises(AnalysisInputError, match="counts 0/0"):
        sim.compare_counts(0, 0, 1, 5)
    # an arm of one patient is small, not impossible
    assert sim.compare_counts(1, 1, 0, 1).difference == 1.0


ANOTHER_RULE = re.compile(
    r"fisher\w*\([^)]*\)\s*>=|>=\s*(?:ALPHA|SIMILAR\w*|0\.05)\b.*similar|similar.*>=\s*(?:ALPHA|0\.05)"
    r"|rd_ci_low\s*>\s*0|rd_ci_high\s*<\s*0|low\s*<=\s*0(?:\.0)?\s*<=\s*high",
    re.IGNORECASE,
)


def test_no_other_rule_for_similar_in_the_package() -> None:
    """Every 'similar' decision goes through analysis/similarity.py: no module decides it with
    a Fisher P threshold or its own test of the interval."""
    from pathlib import Path

    import anrs119

    root = Path(anrs119.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "similarity.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ANOTHER_RULE.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("alpha", [0.05, 0.5])
def test_the_rule_at_another_level_and_unequal_arms_matches_statsmodels(alpha: float) -> None:
    """Arms of 30 and 90 at the level given: the rule and each comparison's verdict."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    k1, k2 = np.meshgrid(np.arange(31), np.arange(91), indexing="ij")
    ours = sim.no_difference_detected(k1, 30, k2, 90, alpha)
    low, high = confint_proportions_2indep(
        k1.ravel(), 30, k2.ravel(), 90, method="newcomb", compare="diff", alpha=alpha
    )
    expected = ((np.asarray(low) <= 0) & (np.asarray(high) >= 0)).reshape(k1.shape)
    assert np.array_equal(ours, expected)
    for a, b in [(0, 0), (3, 30), (10, 20), (12, 20), (30, 45)]:
        rule = sim.compare_counts(a, 30, b, 90, alpha)
        assert rule.detected == (not expected[a, b]), (a, b)
        i = a * 91 + b
        assert (rule.ci_low, rule.ci_high) == pytest.approx((low[i], high[i]), abs=1e-9)


def test_a_detected_difference_says_the_data_contradict_similar() -> None:
    text = sim.compare_counts(5, 66, 0, 64).sentence(GROUPS)
    assert text.endswith(
        "a difference is detected (the interval excludes 0), so the data contradict 'similar'"
    )


def test_a_difference_that_rounds_to_zero_prints_without_a_sign() -> None:
    tiny = sim.Similarity((0, 0), (10, 10), -1e-6, -0.1, 0.1, 0.05)
    assert tiny.short_text() == "0.0 points (-10.0 to +10.0)"
    assert sim.Similarity((0, 0), (10, 10), 1e-6, -0.1, 0.1, 0.05).short_text().startswith("0.0 ")
