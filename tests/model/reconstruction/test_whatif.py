"""What-if abstracts (anrs119.model.reconstruction.whatif and assess): malformed tables refused
with row and column, an arithmetically impossible abstract and a self-contradictory one flagged,
each part of the verdict able to fail. Prior-predictive tables are small (reduced sizes)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from anrs119.cli import main
from anrs119.model.inference.priors import load_priors
from anrs119.model.inference.statistics import base_values
from anrs119.model.reconstruction import assess as A
from anrs119.model.reconstruction.ensemble_tables import QUANTITIES
from anrs119.model.reconstruction.whatif import WHATIFS, changed_claims, run_whatif
from anrs119.published import CLAIMS_FILE, load_claims
from anrs119.seeds import TEST_SEED


@pytest.fixture(scope="module")
def base() -> dict[str, float]:
    return base_values(load_priors())


@pytest.fixture(scope="module")
def table(base) -> A.PriorTable:
    return A.prior_table(base, A.REDUCED.table, TEST_SEED, progress=False)


def _row(cid: str, **changes: str) -> pd.DataFrame:
    raw = pd.read_csv(CLAIMS_FILE, dtype=str, keep_default_na=False)
    row = raw[raw["id"] == cid].copy()
    for column, value in changes.items():
        row[column] = value
    return row


def test_a_malformed_table_gets_an_error_naming_line_and_field_and_no_traceback(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    _row("vl_change_w96_p", value="0.93x").to_csv(path, index=False)
    assert main(["whatif", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "field value" in err and "Traceback" not in err
    pd.DataFrame({"id": ["x"], "claim": ["y"]}).to_csv(path, index=False)
    assert main(["whatif", str(path), "--quiet"]) == 2
    assert "missing column" in capsys.readouterr().err


def test_35_vs_59_percent_with_p_93_is_implausible_by_the_command(tmp_path, capsys):
    path = tmp_path / "p93.csv"
    _row("primary_w96_p", value="0.93", reported_as="P = .93", decimals="2").to_csv(
        path, index=False
    )
    assert main(["whatif", str(path), "--quiet", "--reduced"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "arithmetically impossible" in lines[0]
    assert lines[-1] == "verdict: implausible"


def test_named_what_ifs_change_only_their_claims():
    reg = load_claims()
    for changes in WHATIFS.values():
        claims = changed_claims(changes)
        for cid, printed in changes.items():
            assert claims.at[cid, "reported_as"] == printed
        same = [c for c in reg.index if c not in changes]
        pd.testing.assert_frame_equal(claims.loc[same], reg.loc[same], check_dtype=False)


def test_a_p_value_that_contradicts_its_own_estimates_is_flagged(table):
    published = A.consistency_checks(load_claims(), table)
    assert min(published.values()) >= A.CONSISTENCY_ALPHA
    vl = A.consistency_checks(changed_claims(WHATIFS["vl_contradiction"]), table)
    assert vl["viral-load changes"] < A.CONSISTENCY_ALPHA
    minus10 = A.consistency_checks(changed_claims(WHATIFS["cd4_il2_minus10"]), table)
    assert minus10["CD4 changes"] < published["CD4 changes"]


def test_the_self_contradictory_viral_load_abstract_is_implausible_end_to_end(table):
    result, v = run_whatif(
        changed_claims(WHATIFS["vl_contradiction"]), A.REDUCED, progress=False, table=table
    )
    assert not v.plausible and not v.consistency_ok
    lines = A.describe(result, v)
    assert lines[-1] == "verdict: implausible"
    assert len(result.draws) == A.REDUCED.reconstructions
    # the cross-claim checks are printed before the verdict, and the viral-load statement is the
    # one at odds with the rest of the abstract
    from anrs119.model.checks.crossclaim import GROUPS

    assert set(result.cross_claims) == set(GROUPS)
    assert "given the rest of the abstract (reported, not part of the verdict):" in lines
    p = {g: c.p_value for g, c in result.cross_claims.items()}
    assert min(p, key=p.get) == "viral-load changes" and p["viral-load changes"] < 0.01
    assert any(line.strip().startswith("viral-load changes: p = ") for line in lines)


def _result(
    pct_value: float,
    exact: int = 8,
    joint_p: float = 0.5,
    consistency: float = 0.5,
    posterior_joint_p: float = 0.5,
):
    draws = pd.DataFrame({"exact": [True] * exact + [False] * (8 - exact)})
    for q in QUANTITIES:
        draws[q] = 1.0
        draws[f"pct:{q}"] = 50.0
    draws["pct:hr_primary_w96"] = pct_value
    alloc = {"n_by_arm": {"IL-2": 66, "Control": 64},
             "events_w96_by_arm": {"IL-2": 23, "Control": 38}, "test": "fisher"}  # fmt: skip
    cons = dict.fromkeys(A.CONSISTENCY_GROUPS, consistency)
    return A.AbstractResult(alloc, "stand-in", joint_p, 1.0, draws, "", cons, posterior_joint_p)


def test_each_part_of_the_verdict_can_fail():
    assert A.verdict(_result(50.0)).plausible
    typ = A.verdict(_result(99.0))
    assert not typ.plausible and typ.flagged_quantities == ("hr_primary_w96",)
    prior = A.verdict(_result(50.0, joint_p=A.JOINT_ALPHA / 2))
    assert not prior.joint_ok and prior.failed == ("prior joint check",)
    post = A.verdict(_result(50.0, posterior_joint_p=A.JOINT_ALPHA / 2))
    assert not post.plausible and post.failed == ("posterior joint check",)
    assert A.verdict(_result(50.0)).failed == ()
    assert not A.verdict(_result(50.0, consistency=A.CONSISTENCY_ALPHA / 2)).consistency_ok
    assert not A.verdict(_result(50.0, exact=0)).reconstructions_ok


def test_typicality_needs_enough_reconstructions_placed():
    few = _result(99.0, exact=A.TYPICALITY_MIN - 1)
    assert A.verdict(few).typicality_ok
    assert math.isclose(few.tail_shares()["hr_primary_w96"], 1.0)
    assert int(few.placed_counts()["hr_primary_w96"]) == A.TYPICALITY_MIN - 1
    assert np.isfinite(few.tail_shares()["km_free_w48_il2"])


@pytest.fixture(scope="module")
def plausible_base(base, table):
    """The nearest of a few abstracts printed from trials at the paper's posterior whose verdict
    (reduced sizes) is plausible."""
    from anrs119.model.reconstruction.whatif import base_candidates

    for truth in base_candidates(base, 4, seed=TEST_SEED):
        _, v = run_whatif(truth.claims, A.REDUCED, progress=False, table=table)
        if v.plausible:
            return truth.claims
    pytest.fail("no plausible base among 4 model-printed abstracts (test set-up)")


@pytest.mark.parametrize(
    ("name", "component"),
    [
        ("vl_contradiction", "P value against its estimates"),
        ("primary_p93", "forensic consistency"),
    ],
)
def test_a_contradiction_inserted_into_a_plausible_abstract_flips_its_verdict(
    plausible_base, table, name, component
):
    """The base passes every part; the same abstract with the contradiction inserted fails the
    part that reads the inserted statement, so the flip is due to that statement alone."""
    from anrs119.model.reconstruction.whatif import CONTRADICTIONS, inserted

    claims = inserted(plausible_base, CONTRADICTIONS[name])
    changed = {
        c
        for c in claims.index
        if claims.at[c, "reported_as"] != plausible_base.at[c, "reported_as"]
    }
    assert changed and changed <= set(CONTRADICTIONS[name])
    result, v = run_whatif(claims, A.REDUCED, progress=False, table=table)
    assert not v.plausible
    assert component in v.failed
    assert A.describe(result, v)[-1] == "verdict: implausible"
