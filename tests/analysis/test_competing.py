"""Aalen-Johansen against a hand-computed case and lifelines; truncation; bootstrap readings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter

from anrs119.analysis._common import AnalysisInputError
from anrs119.analysis.competing import (
    ART,
    CENSORED,
    DEATH,
    aalen_johansen,
    art_competing_data,
    cumulative_incidence,
    deferral_readings,
    percentile_ci,
    step_quantile,
)
from anrs119.analysis.survival import kaplan_meier, restricted_mean
from anrs119.seeds import TEST_SEED


def test_hand_computed_case() -> None:
    # n=6: ART at 1; death and a censoring at 2; ART at 3; censored at 4; ART at 5.
    t = np.array([1, 2, 2, 3, 4, 5], dtype=float)
    c = np.array([ART, DEATH, CENSORED, ART, CENSORED, ART])
    table = aalen_johansen(t, c).set_index("time")
    # S jumps 5/6 at 1, x 4/5 at 2 (2/3), x 2/3 at 3 (4/9), to 0 at 5.
    expected_art = {1: 1 / 6, 2: 1 / 6, 3: 1 / 6 + (2 / 3) * (1 / 3), 4: 7 / 18, 5: 7 / 18 + 4 / 9}
    for time, value in expected_art.items():
        assert table.at[float(time), f"cif_{ART}"] == pytest.approx(value, abs=1e-12)
    assert table.at[2.0, f"cif_{DEATH}"] == pytest.approx((5 / 6) * (1 / 5), abs=1e-12)
    total = table[f"cif_{ART}"] + table[f"cif_{DEATH}"] + table["free"]
    assert np.allclose(total, 1.0)
    assert table["n_at_risk"].tolist() == [6, 6, 5, 3, 2, 1]


def test_matches_lifelines_on_tie_free_data() -> None:
    # lifelines jitters tied times at random; continuous times have no ties, so no jitter.
    rng = np.random.default_rng(TEST_SEED)
    n = 80
    t_art = rng.exponential(60, n)
    t_death = rng.exponential(300, n)
    t_cens = rng.uniform(20, 150, n)
    t = np.minimum.reduce([t_art, t_death, t_cens])
    c = np.where(t == t_art, ART, np.where(t == t_death, DEATH, CENSORED))
    assert np.unique(t).size == n
    ours = aalen_johansen(t, c)
    for cause in (ART, DEATH):
        ajf = AalenJohansenFitter(calculate_variance=False).fit(t, c, event_of_interest=cause)
        theirs = ajf.cumulative_density_.iloc[:, 0]
        at = ours["time"].to_numpy()[1:]
        expected = theirs.reindex(at, method="ffill").to_numpy()
        assert np.allclose(ours[f"cif_{cause}"].to_numpy()[1:], expected, atol=1e-12)


def test_bad_cause_is_named() -> None:
    with pytest.raises(AnalysisInputError, match="cause values"):
        aalen_johansen(np.array([1.0, 2.0]), np.array([ART, 7]))


def _adam(rows: list[tuple[str, str, float, int, float | None]]) -> tuple[pd.DataFrame, ...]:
    """(id, arm, ART time, ART CNSR, death time or None) -> ADSL, ADTTE."""
    adsl = pd.DataFrame({"USUBJID": [r[0] for r in rows], "ARM": [r[1] for r in rows]})
    tte = []
    for uid, _, t, cnsr, death in rows:
        tte.append({"USUBJID": uid, "PARAMCD": "ARTINIT", "AVAL": t, "CNSR": cnsr})
        died = death is not None
        death_time = death if died else t
        tte.append({"USUBJID": uid, "PARAMCD": "DEATH", "AVAL": death_time, "CNSR": int(not died)})
    return adsl, pd.DataFrame(tte)


def test_death_before_art_competes_and_nothing_after_the_horizon_is_used() -> None:
    adsl, adtte = _adam(
        [
            ("A", "IL-2", 40.0, 1, 40.0),  # died at 40, no ART: competing
            ("B", "IL-2", 30.0, 0, 90.0),  # ART at 30, died later: ART
            ("C", "Control", 160.0, 0, None),  # ART after the horizon: censored at 150
            ("D", "Control", 170.0, 1, None),  # followed beyond the horizon: censored at 150
        ]
    )
    data = art_competing_data(adsl, adtte, 150).set_index("USUBJID")
    assert data.loc["A", "cause"] == DEATH and data.loc["A", "time"] == 40
    assert data.loc["B", "cause"] == ART and data.loc["B", "time"] == 30
    assert (data.loc[["C", "D"], "cause"] == CENSORED).all()
    assert (data.loc[["C", "D"], "time"] == 150).all()


def _subgroup(rng: np.random.Generator, n: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for i in range(n):
        arm = "IL-2" if i % 2 == 0 else "Control"
        t = float(np.ceil(rng.exponential(250 if arm == "IL-2" else 90)))
        cens = float(np.ceil(rng.uniform(100, 200)))
        rows.append((f"S{i:03d}", arm, min(t, cens), 0 if t <= cens else 1, None))
    return _adam(rows)


def test_data_after_the_horizon_cannot_change_any_reading() -> None:
    rng = np.random.default_rng(TEST_SEED)
    adsl, adtte = _subgroup(rng)
    changed = adtte.copy()
    late = (changed["PARAMCD"] == "ARTINIT") & (changed["AVAL"] > 150)
    changed.loc[late, "AVAL"] = changed.loc[late, "AVAL"] + 37
    changed.loc[late, "CNSR"] = 1 - changed.loc[late, "CNSR"]
    a = deferral_readings(art_competing_data(adsl, adtte, 150), 150, resamples=50, seed=1)
    b = deferral_readings(art_competing_data(adsl, changed, 150), 150, resamples=50, seed=1)
    assert a == b


def test_readings_agree_with_the_tested_kaplan_meier_helpers() -> None:
    rng = np.random.default_rng(TEST_SEED + 1)
    adsl, adtte = _subgroup(rng, 60)
    data = art_competing_data(adsl, adtte, 150)
    readings = {r.key: r for r in deferral_readings(data, 150, resamples=20, seed=2)}
    truncated = pd.DataFrame(
        {
            "USUBJID": data["USUBJID"],
            "PARAMCD": "ARTINIT",
            "AVAL": data["time"],
            "CNSR": (data["cause"] != ART).astype(int),
        }
    )
    km = kaplan_meier(adsl, truncated, "ARTINIT")
    rmst = restricted_mean(km, 150).table.set_index("group")
    for arm in ("IL-2", "Control"):
        q = km.quantile(arm, 0.25)[0]
        assert readings["km_q25"].by_arm[arm] == (q if np.isfinite(q) else np.inf)
        assert readings["km_rmst"].by_arm[arm] == pytest.approx(rmst.at[arm, "rmst"], abs=1e-9)
    # Without deaths the Aalen-Johansen readings are the Kaplan-Meier ones.
    assert readings["aj_q25"].by_arm == readings["km_q25"].by_arm


def test_bootstrap_is_deterministic_and_truncation_is_required() -> None:
    rng = np.random.default_rng(TEST_SEED + 2)
    adsl, adtte = _subgroup(rng)
    data = art_competing_data(adsl, adtte, 150)
    assert deferral_readings(data, 150, resamples=30, seed=5) == deferral_readings(
        data, 150, resamples=30, seed=5
    )
    with pytest.raises(AnalysisInputError, match="truncated"):
        deferral_readings(data, 100, resamples=5, seed=5)


def test_percentile_ci_keeps_not_reached_and_opens_for_undefined() -> None:
    values = np.array([10.0] * 90 + [np.inf] * 10)
    assert percentile_ci(values) == (10.0, np.inf)
    assert percentile_ci(np.arange(1.0, 101.0)) == (3.0, 98.0)
    undefined = np.array([1.0] * 90 + [np.nan] * 10)
    assert percentile_ci(undefined) == (-np.inf, np.inf)


def test_step_quantile_not_reached() -> None:
    assert step_quantile(np.array([0.0, 5.0]), np.array([0.0, 0.2]), 0.25) == np.inf
    assert step_quantile(np.array([0.0, 5.0, 9.0]), np.array([0.0, 0.2, 0.25]), 0.25) == 9.0


def test_cumulative_incidence_by_arm_counts() -> None:
    adsl, adtte = _adam(
        [
            ("A", "IL-2", 40.0, 1, 40.0),
            ("B", "IL-2", 30.0, 0, None),
            ("C", "Control", 20.0, 0, None),
        ]
    )
    result = cumulative_incidence(art_competing_data(adsl, adtte, 150), 150)
    assert result.cif_at("IL-2", ART, 35) == pytest.approx(0.5)
    assert result.cif_at("IL-2", DEATH, 150) == pytest.approx(0.5)
    counts = result.counts().set_index("group")
    assert counts.at["Control", "ART initiation"] == 1
