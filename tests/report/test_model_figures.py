"""The model chapter's figures draw from the stored model files and carry alt text."""

from __future__ import annotations

import pytest

from anrs119.model.checks import diagnostics as dx
from anrs119.model.inference.priors import load_priors
from anrs119.model.inference.sample import load_posterior
from anrs119.report import model_figures as mf


@pytest.fixture(scope="module")
def stored():
    return load_priors(), load_posterior()


def test_prior_posterior_figure_has_a_panel_per_parameter(stored):
    priors, posterior = stored
    fig = mf.prior_posterior_figure(priors, posterior, {"il2_halflife"})
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(priors)
    assert "moved" in visible[[p.parameter for p in priors].index("il2_halflife")].get_title()
    assert fig.alt_text


def test_checks_and_sensitivity_figures(stored):
    for fig in (mf.checks_figure(dx.checks()), mf.sensitivity_figure(dx.sensitivity())):
        assert fig.alt_text and fig.axes
