"""The hypothetical estimands checked where the truth is known: the no-ART truth, the validation
run at a reduced size (deterministic, chunk-independent, an unbiased reference not flagged and a
deliberately biased estimator flagged), the summary's arithmetic by hand, and the committed
files (they regenerate from their seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anrs119.model.checks import estimands as est
from anrs119.model.checks import estimands_tables as tables
from anrs119.model.files import write_csv
from anrs119.seeds import TEST_SEED

SIZE = est.REDUCED


@pytest.fixture(scope="module")
def point() -> dict[str, float]:
    return est.parameter_point()


@pytest.fixture(scope="module")
def truth(point) -> pd.Series:
    return pd.Series(est.hypothetical_truth(point, SIZE.cohort_per_arm, TEST_SEED))


@pytest.fixture(scope="module")
def trials(point) -> pd.DataFrame:
    import numba

    threads = numba.get_num_threads()  # an in-process task sets one thread: give them back
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("ANRS119_WORKERS", "1")  # in-process: the reduced run is a few seconds
            return est.validation_trials(point, SIZE, progress=False)
    finally:
        numba.set_num_threads(threads)


def _in_process(task: est._Task) -> list[dict]:
    """One validation task in this process, numba's thread count restored afterwards."""
    import numba

    threads = numba.get_num_threads()
    try:
        return est._run_task(task)
    finally:
        numba.set_num_threads(threads)


def test_without_art_nobody_starts_art_and_the_paths_are_unchanged(point) -> None:
    from anrs119.model.simulator.simulate import simulate_trials

    q = est.without_art(point)
    tr = next(simulate_trials(q, 3, TEST_SEED, full=True))
    assert not np.isfinite(tr.t_art).any()
    with_art = next(simulate_trials(point, 3, TEST_SEED, full=True))
    off = ~with_art.onart
    np.testing.assert_array_equal(tr.cd4_obs[off], with_art.cd4_obs[off])


def test_the_truth_is_the_cohorts_median_and_mean_change(point, truth) -> None:
    from anrs119.model.simulator.schedule import follow_up_horizon, visit_weeks
    from anrs119.model.simulator.simulate import arm_indicator, simulate

    n = SIZE.cohort_per_arm
    il2 = arm_indicator(n, n)
    visits = visit_weeks(follow_up_horizon(point))
    tr = simulate(est.without_art(point), il2, visits, TEST_SEED, 1, full=True)
    j = int(np.flatnonzero(visits == point["primary_week"])[0])
    change = np.round(tr.cd4_obs[0, :, j]) - np.round(tr.bcd4[0])
    assert truth["median_il2"] == np.median(change[il2])
    assert truth["mean_control"] == pytest.approx(np.mean(change[~il2]))
    assert truth["median_difference"] == truth["median_il2"] - truth["median_control"]
    assert 0 < truth["median_difference_mcse"] < 20
    # IL-2 raises the count had nobody started ART: the truth says so at any size
    assert truth["median_difference"] > 0 and truth["mean_difference"] > 0


def test_reduced_run_has_every_trial_and_method(trials) -> None:
    assert len(trials) == SIZE.trials * len(tables.SCENARIOS)
    for scenario, group in trials.groupby("scenario"):
        assert scenario in tables.SCENARIOS
        assert group["trial"].tolist() == list(range(SIZE.trials))
    assert (trials["bootstrap"] == (trials["trial"] < SIZE.coverage_trials)).all()
    boot = trials[trials["bootstrap"] == 1]
    for m in ("ipcw", "naive", "oracle", "mm"):
        assert (boot[f"{m}_low"] <= boot[f"{m}_difference"]).all(), m
        assert (boot[f"{m}_difference"] <= boot[f"{m}_high"]).all(), m
    assert (trials["ipcw_failed"] == 0).all()
    # every scenario holds the same patients: the oracle does not depend on the ART rule
    by = {s: g.set_index("trial") for s, g in trials.groupby("scenario")}
    a, b = by["true_cd4"], by["measured_cd4"]
    np.testing.assert_array_equal(a["oracle_difference"], b["oracle_difference"])
    assert not np.array_equal(a["art_control"], b["art_control"])
    assert (by["measured_cd4_only"]["art_at_aids"] == 0).all()


def test_trials_are_deterministic_and_do_not_depend_on_the_chunks(point, trials) -> None:
    # the last trial was simulated in a chunk with the others; alone, it is the same trial
    last = SIZE.trials - 1
    assert SIZE.chunk > last
    task = est._Task(point, "measured_cd4", last, 1, SIZE.coverage_trials, SIZE.resamples)
    again = pd.DataFrame(_in_process(task))
    numeric = again.columns.difference(["scenario", "trial"])
    again[numeric] = again[numeric].astype(float).round(est.ESTIMATE_DIGITS)
    kept = trials[trials["scenario"] == "measured_cd4"]
    row = kept[kept["trial"] == last].iloc[0]
    for col in again.columns:
        assert again.at[0, col] == row[col] or (pd.isna(again.at[0, col]) and pd.isna(row[col]))


def test_an_unbiased_reference_passes_and_a_biased_estimator_is_detected(trials, truth) -> None:
    shift = 150.0
    biased = trials.assign(
        shifted_il2=trials["oracle_il2"] + shift,
        shifted_control=trials["oracle_control"] + shift,
        shifted_difference=trials["oracle_difference"] + shift,
        shifted_low=trials["oracle_low"] + shift,
        shifted_high=trials["oracle_high"] + shift,
        shifted_failed=0.0,
    )
    shifted = tables.Method("shifted", "oracle + 150", "median", "shifted_failed", "bootstrap")
    oracle = next(m for m in tables.METHODS if m.key == "oracle")
    summary = tables.summarise(biased, truth, methods=[oracle, shifted]).set_index(
        ["scenario", "method", "quantity"]
    )
    for scenario in tables.SCENARIOS:
        for q in tables.QUANTITIES.values():
            ref = summary.loc[(scenario, "oracle", q)]
            bad = summary.loc[(scenario, "shifted", q)]
            assert bad["bias"] == pytest.approx(ref["bias"] + shift)
            assert not ref["bias_detected"], (scenario, q, ref["bias"], ref["bias_mcse"])
            assert bad["bias_detected"], (scenario, q)
        assert summary.loc[(scenario, "shifted", "difference"), "coverage"] == 0.0


def test_summary_arithmetic_by_hand() -> None:
    rows = []
    for trial, (est_, low, high, failed) in enumerate(
        [(10.0, 5.0, 15.0, 0), (14.0, 12.0, 13.0, 0), (12.0, 0.0, 20.0, 0), (99.0, 0, 0, 1)]
    ):
        rows.append(
            {
                "scenario": "true_cd4",
                "trial": trial,
                "ipcw_il2": est_,
                "ipcw_control": 0.0,
                "ipcw_difference": est_,
                "ipcw_low": low,
                "ipcw_high": high,
                "ipcw_failed": float(failed),
            }
        )
    truth = {
        "median_il2": 11.0,
        "median_il2_mcse": 0.0,
        "median_control": 0.0,
        "median_control_mcse": 0.0,
        "median_difference": 11.0,
        "median_difference_mcse": 0.0,
    }
    ipcw = next(m for m in tables.METHODS if m.key == "ipcw")
    s = tables.summarise(pd.DataFrame(rows), truth, methods=[ipcw]).set_index("quantity")
    d = s.loc["difference"]
    assert d["trials"] == 3 and d["failed"] == 1
    assert d["bias"] == pytest.approx(1.0)  # mean of 10, 14, 12 is 12
    assert d["bias_mcse"] == pytest.approx(np.std([10, 14, 12], ddof=1) / np.sqrt(3), abs=1e-6)
    assert d["rmse"] == pytest.approx(np.sqrt((1 + 9 + 1) / 3), abs=1e-6)
    assert d["coverage"] == pytest.approx(2 / 3, abs=1e-6)  # 11 lies outside [12, 13]
    assert d["coverage_mcse"] == pytest.approx(np.sqrt(2 / 9 / 3), abs=1e-6)
    assert np.isnan(s.loc["IL-2", "coverage"])  # intervals only for the difference


# ---------------------------------------------------------------- the committed files


@pytest.fixture(scope="module")
def committed() -> dict[str, pd.DataFrame]:
    return {
        "truth": tables.read_truth(),
        "trials": tables.read_trials(),
        "summary": tables.read_summary(),
    }


def test_committed_run_has_the_promised_size(committed) -> None:
    full = est.FULL
    trials = committed["trials"]
    assert set(trials["scenario"]) == set(tables.SCENARIOS)
    for _, mine in trials.groupby("scenario"):
        assert len(mine) == full.trials >= 200
        assert int(mine["bootstrap"].sum()) == full.coverage_trials >= 100
    summary = committed["summary"]
    diff = summary[summary["quantity"] == "difference"]
    assert (diff.loc[diff["method"] != "ipcw_mean", "coverage_trials"] >= 100).all()
    assert (diff["bias_mcse"] > 0).all()
    assert full.resamples == tables.RESAMPLES
    assert len(committed["truth"]) == 1 + full.draws


def test_committed_summary_is_the_summary_of_the_committed_trials(tmp_path: Path) -> None:
    for f in (tables.DRAWS_FILE, tables.TRIALS_FILE):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    path = est.write_summary(tmp_path)
    assert path.read_bytes() == tables.SUMMARY_FILE.read_bytes()


@pytest.mark.slow
def test_committed_truth_and_first_trial_regenerate_from_their_seeds(tmp_path: Path) -> None:
    point = est.parameter_point()
    first = pd.DataFrame([est.truth_row("posterior median", point, est.FULL.cohort_per_arm, 0)])
    mine = write_csv(first.round(est.ESTIMATE_DIGITS), tmp_path / "truth.csv")
    lines = tables.DRAWS_FILE.read_text(encoding="utf-8").splitlines()
    assert mine.read_text(encoding="utf-8").splitlines() == lines[:2]
    task = est._Task(point, "true_cd4", 0, 1, est.FULL.coverage_trials, est.FULL.resamples)
    row = pd.DataFrame(_in_process(task))
    numeric = row.columns.difference(["scenario", "trial"])
    row[numeric] = row[numeric].astype(float).round(est.ESTIMATE_DIGITS)
    committed = tables.read_trials().iloc[[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(row[committed.columns], committed, check_dtype=False)


def test_chapter_numbers_and_tables_come_from_the_summary(committed) -> None:
    numbers = tables.chapter_numbers(committed["summary"], committed["truth"], committed["trials"])
    s = committed["summary"].set_index(["scenario", "method", "quantity"])
    r = s.loc[("true_cd4", "ipcw", "difference")]
    assert numbers["hv_ipcw_true_cd4_diff_bias"].startswith(f"{r['bias']:+.0f} (")
    assert (
        numbers["hv_truth_median_difference"]
        == f"{committed['truth'].iloc[0]['median_difference']:+.0f}"
    )
    table = tables.validation_table(committed["summary"])
    assert len(table) == len(tables.SCENARIOS) * len(tables.METHODS)
    assert len(tables.arm_table(committed["summary"])) == len(table)
    assert len(tables.truth_display(committed["truth"])) == 1 + est.FULL.draws


def test_numbers_are_signed_whole_numbers_without_a_negative_zero() -> None:
    assert [tables._whole(x) for x in (-0.3, -0.6, 12.4)] == ["+0", "-1", "+12"]
    row = pd.Series({"bias": -0.3, "bias_mcse": 2.0, "bias_detected": False})
    assert tables.bias_phrase(row) == "within Monte Carlo error of the truth (+0, Monte Carlo SE 2)"
    row = pd.Series({"bias": -12.4, "bias_mcse": 2.6, "bias_detected": True})
    assert tables.bias_phrase(row) == "too low by 12 cells/µL (Monte Carlo SE 3)"
