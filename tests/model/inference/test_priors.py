"""Tests of the priors table and its loader: every free parameter has a valid, sourced prior,
bad rows are reported with file, line, field and rule, and sampling follows the distribution."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from anrs119.model.inference.priors import (
    COLUMNS,
    FREE_PARAMETERS,
    PRIORS_FILE,
    Prior,
    PriorsError,
    load_priors,
    write_priors,
)
from anrs119.seeds import TEST_SEED


@pytest.fixture(scope="module")
def priors():
    return load_priors()


def test_every_free_parameter_has_one_prior(priors):
    assert priors.names == FREE_PARAMETERS


def test_committed_file_is_the_written_form(priors, tmp_path: Path):
    out = write_priors(priors, tmp_path / "priors.csv")
    assert out.read_bytes() == PRIORS_FILE.read_bytes()


def test_cited_keys_exist_in_the_bibliography(priors):
    bib = (PRIORS_FILE.parents[2] / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, flags=re.M))
    for p in priors:
        for token in re.split(r"[;,]\s*", p.source):
            if re.fullmatch(r"[a-z]+\d{4}[a-z]*", token):
                assert token in keys, (p.parameter, token)


def test_lognormal_prior_matches_scipy(priors):
    p = priors["il2_halflife"]
    ref = stats.lognorm(p.scale, scale=p.loc)
    q = np.array([0.025, 0.5, 0.975])
    np.testing.assert_allclose(p.quantiles(q), ref.ppf(q), rtol=1e-10)


def test_truncated_normal_respects_its_bounds(priors):
    p = priors["vl_mean"]
    x = p.sample(np.random.default_rng(TEST_SEED), 20_000)
    assert x.min() >= p.lower and x.max() <= p.upper
    assert abs(np.median(x) - p.loc) < 0.02


def test_sampling_is_reproducible(priors):
    a = priors.sample(np.random.default_rng(TEST_SEED), 50)
    b = priors.sample(np.random.default_rng(TEST_SEED), 50)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


@settings(max_examples=40, deadline=None)
@given(
    loc=st.floats(0.1, 1000.0),
    scale=st.floats(0.01, 2.0),
    u=st.floats(0.001, 0.999),
)
def test_internal_round_trip(loc, scale, u):
    p = Prior("x", "lognormal", loc, scale, None, None, "assumed", "U", "s", "r")
    x = p.quantiles([u])[0]
    assert p.to_natural(p.to_internal(x)) == pytest.approx(x, rel=1e-12)
    assert p.dist.cdf(x) == pytest.approx(u, abs=1e-9)


def _write(tmp_path: Path, mutate) -> Path:
    rows = list(csv.DictReader(PRIORS_FILE.open(encoding="utf-8")))
    mutate(rows)
    path = tmp_path / "priors.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("distribution", "gamma", "one of"),
        ("scale", "-1", "positive"),
        ("loc", "abc", "finite number"),
        ("provenance", "calibrated", "one of"),
        ("confidence", "X", "one of"),
        ("reason", "", "not empty"),
        ("prior_median", "1", "quantile"),
    ],
)
def test_bad_row_names_file_line_field_and_rule(tmp_path, field, value, rule):
    def mutate(rows):
        rows[2][field] = value

    path = _write(tmp_path, mutate)
    with pytest.raises(PriorsError) as caught:
        load_priors(path)
    msg = str(caught.value)
    assert "priors.csv" in msg and "line 4" in msg and f"field {field}" in msg and rule in msg


def test_missing_parameter_is_reported(tmp_path):
    path = _write(tmp_path, lambda rows: rows.pop(0))
    with pytest.raises(PriorsError, match="missing: cd4_pop_median"):
        load_priors(path)


def test_truncated_lognormal_is_refused(tmp_path):
    def mutate(rows):
        rows[0]["lower"] = "100"

    with pytest.raises(PriorsError, match="not truncated"):
        load_priors(_write(tmp_path, mutate))
