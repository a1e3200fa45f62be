"""Sphinx extension for the book: check the dataset before any page is written, and label it.

Loaded through ``sphinx.extra_extensions`` in ``_config.yml``. At ``config-inited`` it loads and
validates the dataset in use (the embedded synthetic tables, or ``ANRS119_DATA``): invalid data
stop the build with the validator's message naming file, column, row and rule. It then sets the
announcement bar (the data notice on every page) and, for real data, leaves patient-level
download pages out of the site. While pages are written it serves MathJax from the site itself
when a page needs it, so that the site reads the same with no internet. (Each chapter's notebook
download is written by `anrs119.notebooks`.)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.util import logging

from anrs119 import __version__

logger = logging.getLogger(__name__)

# Pages that publish patient-level rows; they are built only from the synthetic data.
PATIENT_LEVEL_PAGES: tuple[str, ...] = ("chapters/data_downloads.md",)

# MathJax 3 served from the site's _static folder (copied from the `django-static-mathjax`
# package, import name `mathjax`) instead of a CDN: pages must read correctly offline.
MATHJAX_STATIC = "mathjax"
MATHJAX_FILES: tuple[str, ...] = ("tex-chtml.js", "output/chtml/fonts/woff-v2")


def _strip_suffix(page: str) -> str:
    return page.removesuffix(".md")


def _drop_from_toc(config: Config, pages: tuple[str, ...]) -> None:
    """Remove pages from jupyter-book's table of contents (sphinx-external-toc's site map).

    An excluded page that the toc still names makes Sphinx warn "toctree contains reference to
    excluded document", a warning without a type that `suppress_warnings` cannot silence; so
    the page leaves the toc as well as the build, and `-W` stays on.
    """
    site_map = getattr(config, "external_site_map", None)
    if site_map is None:
        return
    names = {_strip_suffix(p) for p in pages}
    for docname in list(site_map):
        doc = site_map[docname]
        for subtree in doc.subtrees:
            subtree.items = [i for i in subtree.items if _strip_suffix(str(i)) not in names]
        if _strip_suffix(docname) in names:
            del site_map[docname]


def _mathjax_source() -> Path | None:
    """The folder of MathJax 3's browser bundles, if the `mathjax` package is installed."""
    try:
        import mathjax  # type: ignore[import-not-found]  # from django-static-mathjax
    except ImportError:
        return None
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    return folder if (folder / MATHJAX_FILES[0]).is_file() else None


def _configured_footer(book: Path) -> str:
    """``html.extra_footer`` of the book's _config.yml. jupyter-book copies it into the theme's
    options, but the book's own ``sphinx.config.html_theme_options`` replaces those options
    whole, so without this the configured footer never appears."""
    import yaml

    config_file = book / "_config.yml"
    if not config_file.is_file():
        return ""
    html = (yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}).get("html") or {}
    return str(html.get("extra_footer") or "").strip()


def _on_config_inited(app: Sphinx, config: Config) -> None:
    from anrs119.data import load_dataset
    from anrs119.report.notice import notice_html

    try:
        dataset = load_dataset()
    except Exception as err:  # report any data problem as a configuration error, before writing
        raise ConfigError(f"the dataset failed validation; no page was written.\n{err}") from err
    options = dict(config.html_theme_options or {})
    options["announcement"] = notice_html(dataset)
    footer = _configured_footer(Path(app.confdir))
    if footer and not options.get("extra_footer"):
        options["extra_footer"] = footer
    config.html_theme_options = options
    config.html_context = {**(config.html_context or {}), "anrs119_synthetic": dataset.is_synthetic}
    if not dataset.is_synthetic:
        config.exclude_patterns = [*config.exclude_patterns, *PATIENT_LEVEL_PAGES]
        _drop_from_toc(config, PATIENT_LEVEL_PAGES)
    if _mathjax_source() is not None:
        # Relative to the site's _static folder; only pages with math load it (Sphinx's rule).
        config.mathjax_path = f"{MATHJAX_STATIC}/{MATHJAX_FILES[0]}"


def _check_math_offline(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Say which pages would load MathJax from the internet (the browser tests then fail).

    A note rather than a warning: under -W a warning would stop every chapter author's build
    for a missing package, while the offline browser test reports it at the right place.
    """
    if doctree is None or "://" not in app.config.mathjax_path:
        return
    if app.env.get_domain("math").has_equations(pagename):  # type: ignore[attr-defined]
        logger.info(
            "%s: page has math, but MathJax would load from %s; install "
            "django-static-mathjax so the site serves MathJax itself and reads offline",
            pagename,
            app.config.mathjax_path,
        )


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax into the site, only if some page has math (it weighs about 1.5 MB)."""
    source = _mathjax_source()
    if exception is not None or source is None or app.builder.format != "html":
        return
    if not app.env.get_domain("math").has_equations():  # type: ignore[attr-defined]
        return
    target = Path(app.outdir) / "_static" / MATHJAX_STATIC
    for name in MATHJAX_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        else:
            shutil.copy2(source / name, target / name)


def _drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Load each script once per page.

    Under jupyter-book, sphinx-thebe's ``env-before-read-docs`` handler runs twice and adds its
    inline ``const THEBE_JS_URL = ...`` twice: the second copy is a SyntaxError in the reader's
    console on every page. Identical scripts are never meant to run twice, so drop repeats (in
    place: the builder keeps adding to this same list). Runs before the theme's handlers.
    """
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique: list = []
    for script in scripts:
        # Sphinx stores the same inline script with filename None or "": compare what is output.
        attributes = tuple(sorted(getattr(script, "attributes", {}).items()))
        key = (str(getattr(script, "filename", script) or ""), attributes)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


SYNTHETIC_VALUES_LABEL = "synthetic-only-values"
"""The intro's explanation of the mark that synthetic-only values carry (linked from each)."""
SYNTHETIC_MARK = "\u2020"  # a dagger: the value exists only in the synthetic reconstruction


def _glue_kind_role():  # -> a myst_nb PasteTextRole that classes what it pastes
    """``{glue:text}`` that gives each pasted value the class of its kind (``glue-published``,
    ``glue-reproduced``, ``glue-synthetic-only``, ``glue-model``; set by
    ``anrs119.report.text.glue_text``). On a synthetic build a synthetic-only value is followed
    by a mark linked to its explanation, and by its range across the reconstruction ensemble
    where it has one; on a real-data build the same value is a result and carries no mark."""
    from docutils import nodes
    from myst_nb.core.variables import RetrievalError
    from myst_nb.ext.glue.roles import PasteTextRole
    from myst_nb.ext.glue.utils import retrieve_glue_data
    from sphinx import addnodes

    from anrs119.report.text import GLUE_METADATA_KEY

    class KindedPasteText(PasteTextRole):
        def run(self):
            pasted, messages = super().run()
            key = self.text.rsplit(":", 1)[0] if self.text.count(":") == 1 else self.text
            if len(pasted) != 1 or not isinstance(pasted[0], nodes.inline) or "::" in key:
                return pasted, messages
            try:
                meta = retrieve_glue_data(self.document, key).metadata.get(GLUE_METADATA_KEY, {})
            except RetrievalError:
                return pasted, messages
            kind = meta.get("kind")
            if not kind:
                return pasted, messages  # unclassed: the site tests name it
            node = pasted[0]
            node["classes"].append(f"glue-{kind}")
            env = self.document.settings.env
            if kind != "synthetic-only" or not env.config.html_context.get("anrs119_synthetic"):
                return pasted, messages
            extra: list[nodes.Node] = [node]
            if meta.get("ensemble_range"):
                extra.append(
                    nodes.inline(
                        "",
                        f" (reconstructions: {meta['ensemble_range']})",
                        classes=["ensemble-range"],
                    )
                )
            mark = addnodes.pending_xref(
                "",
                nodes.inline("", SYNTHETIC_MARK),
                refdomain="std",
                reftype="ref",
                reftarget=SYNTHETIC_VALUES_LABEL,
                refexplicit=True,
                refwarn=True,
                refdoc=env.docname,
            )
            extra.append(nodes.superscript("", "", mark, classes=["synthetic-mark"]))
            for extra_node in extra:
                self.set_source_info(extra_node)
            return extra, messages

    return KindedPasteText()


def _flag_role(name, rawtext, text, lineno, inliner, options=None, content=()):
    """``{flag}`text```: a table cell's text marked as failed or in tension."""
    from docutils import nodes

    from anrs119.report.tables import FLAG_CLASS

    return [nodes.inline(rawtext, text, classes=[FLAG_CLASS])], []


def setup(app: Sphinx) -> dict[str, Any]:
    # Priority above sphinx-external-toc's (900) so the toc is parsed before pages leave it.
    app.connect("config-inited", _on_config_inited, priority=910)
    app.connect("html-page-context", _check_math_offline)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=400)
    app.connect("build-finished", _copy_mathjax)
    app.add_role_to_domain("glue", "text", _glue_kind_role(), override=True)
    app.add_role("flag", _flag_role)
    from anrs119.bibstyle import register

    register()  # the citation and bibliography styles _config.yml names
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
