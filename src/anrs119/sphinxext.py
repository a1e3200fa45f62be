"""Sphinx extension for the book: check the dataset before any page is written, and label it.

Loaded through ``sphinx.extra_extensions`` in ``_config.yml``. At ``config-inited`` it loads and
validates the dataset in use (the embedded synthetic tables, or ``ANRS119_DATA``): invalid data
stop the build with the validator's message naming file, column, row and rule. It then sets the
announcement bar (the data notice on every page) and, for real data, leaves patient-level
download pages out of the site.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

from anrs119 import __version__

# Pages that publish patient-level rows; they are built only from the synthetic data.
PATIENT_LEVEL_PAGES: tuple[str, ...] = ("chapters/data_downloads.md",)


def _on_config_inited(app: Sphinx, config: Config) -> None:
    from anrs119.data import load_dataset
    from anrs119.report.notice import notice_html

    try:
        dataset = load_dataset()
    except Exception as err:  # report any data problem as a configuration error, before writing
        raise ConfigError(f"the dataset failed validation; no page was written.\n{err}") from err
    options = dict(config.html_theme_options or {})
    options["announcement"] = notice_html(dataset)
    config.html_theme_options = options
    config.html_context = {**(config.html_context or {}), "anrs119_synthetic": dataset.is_synthetic}
    if not dataset.is_synthetic:
        config.exclude_patterns = [*config.exclude_patterns, *PATIENT_LEVEL_PAGES]


def setup(app: Sphinx) -> dict[str, Any]:
    # Priority below the default so jupyter-book's own config handling has run.
    app.connect("config-inited", _on_config_inited, priority=900)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
