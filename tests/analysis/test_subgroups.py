"""Treatment x subgroup interaction against separate fits and statsmodels PHReg."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg

from anrs119.analysis._common import AnalysisInputError
from anrs119.analysis.subgroups import (
    CutPoint,
    cox_interaction,
    design_matrix,
    median_cut_points,
    prespecified_cut_points,
)
from anrs119.analysis.survival import cox_hazard_ratio
from anrs119.seeds import TEST_SEED

from .conftest import random_tte


def _data(seed: int = TEST_SEED) -> tuple[pd.DataFrame, pd.DataFrame, CutPoint]:
    rng = np.random.default_rng(seed)
    adsl, adtte = random_tte(rng, n=(60, 60), hr=0.5)
    adsl["X"] = rng.normal(0, 1, len(adsl))
    return adsl, adtte, CutPoint("X", "X", 0.0, ("low", "high"), "assumed", "test")


def test_stratified_levels_equal_separate_fits_and_wald_compares_them() -> None:
    adsl, adtte, cut = _data()
    result = cox_interaction(adsl, adtte, "PRIMARY", cut)
    first = cut.mask(adsl)
    separate = [cox_hazard_ratio(adsl[m], adtte, "PRIMARY") for m in (first, ~first)]
    for i, cox in enumerate(separate):
        assert result.hazard_ratios[i] == pytest.approx(cox.hazard_ratio, rel=1e-6)
        assert result.ci[i][0] == pytest.approx(cox.ci_low, rel=1e-6)
    z = (separate[1].coef - separate[0].coef) / np.hypot(separate[0].se, separate[1].se)
    from scipy import stats

    assert result.wald_p == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-5)


@pytest.mark.parametrize("stratify", [True, False])
def test_matches_statsmodels_phreg(stratify: bool) -> None:
    adsl, adtte, cut = _data(TEST_SEED + 3)
    result = cox_interaction(adsl, adtte, "PRIMARY", cut, stratify=stratify)
    d = design_matrix(adsl, adtte, "PRIMARY", cut)
    columns = ["trt", "trt_x_level"] if stratify else ["trt", "level", "trt_x_level"]
    kwargs = {"strata": d["level"].to_numpy()} if stratify else {}
    full = PHReg(d["time"], d[columns].to_numpy(), status=d["event"], ties="efron", **kwargs).fit()
    reduced = PHReg(
        d["time"],
        d[[c for c in columns if c != "trt_x_level"]].to_numpy(),
        status=d["event"],
        ties="efron",
        **kwargs,
    ).fit()
    b3 = full.params[-1]
    assert np.log(result.ratio_of_hazard_ratios) == pytest.approx(b3, abs=1e-6)
    assert result.wald_p == pytest.approx(full.pvalues[-1], abs=1e-6)
    lr = 2 * (full.llf - reduced.llf)
    assert result.lr_statistic == pytest.approx(lr, abs=1e-6)


def test_a_level_with_one_arm_is_refused() -> None:
    adsl, adtte, _ = _data()
    cut = CutPoint("Arm", "ARM", "IL-2", ("IL-2", "Control"), "assumed", "test")
    with pytest.raises(AnalysisInputError, match="one arm only"):
        cox_interaction(adsl, adtte, "PRIMARY", cut)


def test_missing_subgroup_value_is_named() -> None:
    adsl, _, cut = _data()
    adsl.loc[3, "X"] = np.nan
    with pytest.raises(AnalysisInputError, match="column X, row 3"):
        cut.mask(adsl)


def test_cut_points_have_provenance_and_the_published_split() -> None:
    cuts = prespecified_cut_points(4.5)
    assert cuts[0].column == "BVLLOG" and cuts[0].cut == 4.5 and cuts[0].provenance == "published"
    assert all(c.reason for c in cuts)
    adsl = pd.DataFrame({"BCD4": [300, 400, 500], "AGE": [20, 30, 40]})
    medians = median_cut_points(adsl)
    assert [c.cut for c in medians] == [400.0, 30.0]
    assert all(c.provenance == "data (median)" for c in medians)
