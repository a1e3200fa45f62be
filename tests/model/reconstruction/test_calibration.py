"""The calibration's ranks and summaries (anrs119.model.reconstruction.calibration and
validation_tables) where the answer is known: draws from the truth's own distribution give
uniform ranks and 95% coverage; draws from a shifted or too narrow one do not."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anrs119.model.reconstruction.calibration import truth_rank
from anrs119.model.reconstruction.ensemble_tables import QUANTITIES as QUANTITIES_
from anrs119.model.reconstruction.validation_tables import (
    COVERAGE_LIMIT,
    checked_verdicts,
    coverage_table,
    false_alarms,
)
from anrs119.seeds import TEST_SEED


def _ranks(shift: float, spread: float, n: int = 400, draws: int = 9, discrete: bool = False):
    rng = np.random.default_rng(TEST_SEED)
    rows = []
    for i in range(n):
        truth = rng.normal()
        values = rng.normal(shift, spread, size=draws)
        if discrete:
            truth, values = np.round(truth), np.round(values)
        rank, m, u = truth_rank(float(truth), values, rng)
        rows.append({"abstract": i, "quantity": "x", "rank": rank, "n": m, "u": u})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("discrete", [False, True])
def test_ranks_among_draws_of_the_truths_distribution_are_uniform(discrete):
    r = _ranks(0.0, 1.0, discrete=discrete)
    assert stats.kstest(r["u"], "uniform").pvalue > 0.01
    cov = coverage_table(r).iloc[0]
    assert cov["coverage"] == pytest.approx(0.95, abs=3 * cov["coverage_se"] + 0.01)
    assert cov["uniform_p"] > 0.01


def test_shifted_or_too_narrow_draws_fail_the_calibration():
    shifted = coverage_table(_ranks(1.5, 1.0)).iloc[0]
    assert shifted["mean_u"] < 0.35 and shifted["uniform_p"] < 0.001
    narrow = coverage_table(_ranks(0.0, 0.2)).iloc[0]
    assert narrow["coverage"] < COVERAGE_LIMIT


def test_a_missing_truth_or_no_draws_gives_no_rank():
    rng = np.random.default_rng(TEST_SEED)
    assert math.isnan(truth_rank(math.nan, np.array([1.0, 2.0]), rng)[0])
    assert math.isnan(truth_rank(1.0, np.array([math.nan]), rng)[2])
    rank, n, u = truth_rank(math.inf, np.array([1.0, math.inf, math.inf]), rng)
    assert n == 3 and 1 <= rank <= 3 and 0 < u < 1


def test_pinned_down_needs_coverage_and_no_typicality_flag():
    ranges = pd.DataFrame(
        {"quantity": ["a", "b", "c"], "label": ["a", "b", "c"],
         "verdict": ["pinned down", "pinned down", "narrowed"]}
    )  # fmt: skip
    typical = pd.DataFrame({"quantity": ["a", "b", "c"], "p_tails": [0.5, 0.5, 0.5]})
    coverage = pd.DataFrame(
        {"quantity": ["a", "b", "c"], "coverage": [0.95, 0.80, 0.95], "coverage_se": 0.02}
    )
    out = checked_verdicts(ranges, typical, coverage).set_index("quantity")["checked"]
    assert out["a"] == "pinned down"
    assert out["b"] != "pinned down"
    assert out["c"] == "narrowed"
    typical.loc[0, "p_tails"] = 0.001
    out = checked_verdicts(ranges, typical, coverage).set_index("quantity")["checked"]
    assert out["a"] != "pinned down"


def test_the_false_alarm_rate_counts_printable_abstracts_called_implausible():
    frame = pd.DataFrame(
        {
            "printable": [True] * 20 + [False],
            "plausible": [True] * 19 + [False, True],
            "attempts": [1] * 20 + [20],
            "consistency_ok": True,
            "joint_ok": [True] * 19 + [False, True],
            "reconstructions_ok": True,
            "typicality_ok": True,
        }
    )
    fa = false_alarms(frame)
    assert fa["n"] == 20 and fa["implausible"] == 1 and fa["rate"] == 0.05
    assert fa["low95"] < 0.05 < fa["high95"]
    assert fa["joint_flagged"] == 0.05


def _tiny():
    from anrs119.model.reconstruction.assess import Sizes
    from anrs119.model.reconstruction.calibration import CalibrationSizes

    return CalibrationSizes(
        abstracts=2,
        assess=Sizes(reconstructions=2, reference=9, table=1000, accepted=40, posterior_trials=100),
    )


def test_the_calibration_is_the_same_bytes_whatever_the_number_of_workers(monkeypatch):
    """Seeds are per task: one worker or two give the same tables (the stand-in posterior)."""
    from anrs119.model.reconstruction.calibration import run_calibration

    out = []
    for workers in ("1", "2"):
        monkeypatch.setenv("ANRS119_WORKERS", workers)
        out.append(run_calibration(_tiny(), seed=TEST_SEED, progress=False))
    pd.testing.assert_frame_equal(out[0].ranks, out[1].ranks)
    pd.testing.assert_frame_equal(out[0].abstracts, out[1].abstracts)
    a = out[0].abstracts
    assert a["printable"].all() and (a["posterior"] == "stand-in").all()
    # the simulated trial is exact under its own printed abstract's readings, unless one of its
    # P values lies within the search's safety margin of a printed bound (P < .001 printed from
    # P = .00099: the search asks for log10 P at least LOG_MARGIN inside the bound)
    for i in a.index[~a["truth_exact"].astype(bool)]:
        assert _p_within_margin(int(a.at[i, "abstract"]))
    assert set(out[0].ranks["quantity"]) == set(QUANTITIES_)


def _p_within_margin(index: int) -> bool:
    from anrs119.model.inference.priors import load_priors
    from anrs119.model.inference.statistics import base_values
    from anrs119.model.reconstruction.calibration import simulated_abstract
    from anrs119.model.reconstruction.search import LOG_MARGIN, trial_values

    base = base_values(load_priors())
    truth = simulated_abstract(index, TEST_SEED, base)
    n = int(base["n_il2"]) + int(base["n_control"])
    values = trial_values(truth.truth_pool, np.arange(n), int(base["n_il2"]))
    claims = truth.claims
    bounded = claims[(claims["statistic"] == "p_value") & (claims["bound"] != "=")]
    return any(
        abs(math.log10(values[str(cid)]) - math.log10(float(row["value"]))) < LOG_MARGIN
        for cid, row in bounded.iterrows()
        if str(cid) in values
    )
