"""Tests of the model chapter's numbers: the overlap measure and the 'moved' rule."""

from __future__ import annotations

import numpy as np
import pytest

from anrs119.model.checks import diagnostics as dx
from anrs119.model.inference.priors import load_priors
from anrs119.seeds import TEST_SEED


def test_overlap_is_one_for_a_prior_sample_and_small_for_a_far_one():
    p = load_priors()["il2_halflife"]
    x = p.sample(np.random.default_rng(TEST_SEED), 4000)
    w = np.full(x.size, 1 / x.size)
    assert dx.overlap(p, x, w) == pytest.approx(1.0, abs=0.05)
    far = np.exp(np.log(p.loc) + 5 * p.scale + 0.05 * np.random.default_rng(1).standard_normal(500))
    assert dx.overlap(p, far, np.full(500, 1 / 500)) < 0.05


def test_moved_rule_uses_the_prior_central_half():
    r = dx.Implied("x", 10, 8, 12, 5, 15, 13, 11, 14, 0.5, 0.5)
    assert r.moved
    assert not dx.Implied("x", 10, 8, 12, 5, 15, 11.9, 9, 14, 0.5, 0.5).moved


def test_every_glued_key_of_the_chapter_is_computed():
    import re

    from anrs119.paths import CHAPTERS_DIR

    pages = ("model.md", "inputs.md", "posterior.md", "checks.md", "embedded.md")
    text = "".join((CHAPTERS_DIR / page).read_text(encoding="utf-8") for page in pages)
    keys = set(re.findall(r"\{glue:text\}`(mo_[a-z0-9_]+)`", text))
    assert keys and keys <= set(dx.chapter_numbers())
