"""Exact power of the primary comparison at the published proportions, beside the model's.

The model's power (``anrs119.model.operating``) is simulated at the posterior medians, so it
follows the model's event rates, not the paper's. Here the power of the same test is computed
exactly (binomial probabilities of every table the test rejects) at the published percentages
and at the model's own median percentages, with the arm sizes of the embedded allocation.
Power computed at observed results is a re-expression of the observed P value (Hoenig and
Heisey 2001): it describes the design under those rates, not the evidence of the trial.
"""

from __future__ import annotations

import pandas as pd

from anrs119 import ARMS
from anrs119.analysis.endpoints import exact_power
from anrs119.forensic import read_allocation
from anrs119.paths import MODEL_DIR
from anrs119.published import claim
from anrs119.reproduce import TEST_LABELS, primary_test_name

MODEL_MEDIAN_COLUMN = "q50"
"""Column of ``data/model/predictive.csv`` holding the model's median of each claim."""

POWER_TESTS = {"fisher": "fisher", "chi2": "chi2", "chi2_yates": "chi2_yates"}
"""The forensic test's name -> the name ``exact_power`` takes."""


def published_power_numbers(
    model_power: float, model_median_il2: float, model_median_control: float, alpha: float
) -> dict[str, str]:
    """Glue-ready numbers: exact power at the published and at the model's percentages, the
    model's simulated power, the rates behind each and the test."""
    allocation = read_allocation()
    n1, n2 = (int(allocation["n_by_arm"][arm]) for arm in ARMS)
    name = primary_test_name()
    test = POWER_TESTS[name]
    pub1 = float(claim("primary_w96_il2")["value"]) / 100
    pub2 = float(claim("primary_w96_control")["value"]) / 100
    at_published = exact_power(pub1, pub2, n1, n2, test, alpha)
    at_model = exact_power(model_median_il2 / 100, model_median_control / 100, n1, n2, test, alpha)
    return {
        "pw_published": f"{100 * at_published:.1f}%",
        "pw_model_exact": f"{100 * at_model:.1f}%",
        "pw_model": f"{100 * model_power:.1f}%",
        "pw_pub_il2": claim("primary_w96_il2")["reported_as"],
        "pw_pub_control": claim("primary_w96_control")["reported_as"],
        "pw_model_il2": f"{model_median_il2:.1f}%",
        "pw_model_control": f"{model_median_control:.1f}%",
        "pw_arms": f"{n1} and {n2}",
        "pw_test": TEST_LABELS[name],
    }


def operating_power_numbers(
    table: pd.DataFrame, alpha: float, predictive: pd.DataFrame | None = None
) -> dict[str, str]:
    """:func:`published_power_numbers` from the stored operating characteristics (the design
    scenario's power) and the stored plug-in predictive medians (``data/model/predictive.csv``,
    the same posterior-median parameters)."""
    predictive = (
        pd.read_csv(MODEL_DIR / "predictive.csv") if predictive is None else predictive
    ).set_index("claim_id")
    design = table[(table["scenario"] == "design") & (table["quantity"] == "primary_reject")]
    return published_power_numbers(
        float(design["estimate"].iloc[0]),
        float(predictive.at["primary_w96_il2", MODEL_MEDIAN_COLUMN]),
        float(predictive.at["primary_w96_control", MODEL_MEDIAN_COLUMN]),
        alpha,
    )
