"""Sphinx extension: each chapter's notebook download, converted from the page as it renders.

A chapter's ``.ipynb`` download is the executed notebook with its Markdown taken from the built
page, not from the MyST source: roles and directives (glued values, glossary terms, figure and
table references, citations, admonitions) arrive already resolved, as Jupyter can show them.
Glued values become static text, glued figures become images attached to the Markdown cell that
shows them, and Markdown that code cells printed (MyST) is replaced by what the page rendered.
The code cells keep their code and the outputs the page shows. The first cell says what the
notebook is and links the "Run it yourself" page; the notebook's metadata records the values the
page glued, so a test can check that a re-run recomputes them.

The extension also publishes what that page installs (``anrs119.distribution``) and, when a
repository is named in ``ANRS119_REPOSITORY_URL`` (the only place it is set; the deploy workflow
sets it), adds source links and Binder and Colab launch buttons. Without it, no button appears.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag

from anrs119 import __version__
from anrs119.publication import Publication

RUN_PAGE = "chapters/run_it_yourself"
"""The page every notebook's first cell links."""

CELL_CLASS = "anrs119-cell-"
"""Class given to each code cell's container on the page, followed by its index in the notebook."""
MARKDOWN_OUTPUT_CLASS = "anrs119-markdown-output"
"""Class wrapping what the page rendered from a code cell's Markdown output."""
GLUE_PREFIX = "application/papermill.record/"
METADATA_KEY = "anrs119"
# Images a page shows that a notebook can carry as attachments of its Markdown cells.
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
}


# --------------------------------------------------------------------------------------------
# HTML of the page -> Markdown for Jupyter


class _LinkPolicy:
    """Links of a page made to work from a notebook opened anywhere.

    A link inside the site becomes an absolute address on the published site when that is
    known, and plain text when it is not (a relative link would be dead in a downloaded file).
    """

    def __init__(self, docname: str, site: str) -> None:
        self.base = f"{site}{docname}.html" if site else ""

    def resolve(self, href: str) -> str:
        if not href:
            return ""
        if urlsplit(href).scheme in {"http", "https", "mailto"}:
            return href
        if href.startswith("#") and not self.base:
            return ""
        return urljoin(self.base, href) if self.base else ""


def _math(text: str) -> str:
    """The TeX inside Sphinx's MathJax delimiters."""
    text = text.strip()
    for opening, closing in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$")):
        if text.startswith(opening) and text.endswith(closing):
            return text[len(opening) : len(text) - len(closing)].strip()
    return text


def _classes(el: Tag) -> list[str]:
    value = el.get("class") or []
    return value.split() if isinstance(value, str) else list(value)


class _Converter:
    """Markdown for Jupyter from a fragment of the rendered page (built on markdownify)."""

    def __init__(self, links: _LinkPolicy, image: Callable[[str], tuple[str, bytes] | None]):
        from markdownify import MarkdownConverter

        outer = self

        class Converter(MarkdownConverter):
            def escape(self, text: str, parent_tags: set[str]) -> str:
                text = super().escape(text, parent_tags)
                # "$" would start math in Jupyter; "<" before a letter would start a tag
                return re.sub(r"<(?=[A-Za-z/!])", "&lt;", text.replace("$", r"\$"))

            def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
                if "headerlink" in _classes(el):
                    return ""
                href = links.resolve(str(el.get("href") or ""))
                if not href:
                    return text
                plain = re.sub(r"\s+", " ", text).strip()
                return f"[{plain}]({href})" if plain else ""

            def convert_span(self, el: Tag, text: str, parent_tags: set[str]) -> str:
                if "math" in _classes(el):
                    return f"${_math(el.get_text())}$"
                if "eqno" in _classes(el):
                    return ""
                return text

            def convert_div(self, el: Tag, text: str, parent_tags: set[str]) -> str:
                classes = _classes(el)
                if "math" in classes:
                    number = el.find("span", class_="eqno")
                    tex = _math("".join(str(s) for s in el.find_all(string=True, recursive=False)))
                    if number is not None and "\\begin" not in tex:
                        label = number.get_text().strip().strip("()#")
                        tex += f" \\tag{{{label}}}"
                    return f"\n\n$$\n{tex}\n$$\n\n"
                if "admonition" in classes:
                    return outer.admonition(el)
                return super().convert_div(el, text, parent_tags)

            def convert_figure(self, el: Tag, text: str, parent_tags: set[str]) -> str:
                return f"\n\n{text.strip()}\n\n"

            def convert_figcaption(self, el: Tag, text: str, parent_tags: set[str]) -> str:
                caption = re.sub(r"\s+", " ", text).strip()
                return f"\n\n*{caption}*\n\n" if caption else ""

            def convert_caption(self, el: Tag, text: str, parent_tags: set[str]) -> str:
                caption = re.sub(r"\s+", " ", text).strip()
                return f"*{caption}*\n\n" if caption else ""

            def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
                found = image(str(el.get("src") or ""))
                alt = re.sub(r"\s+", " ", str(el.get("alt") or "")).replace("]", ")")
                if found is None:
                    return alt
                name, _ = found
                return f"![{alt}](attachment:{name})"

            # Jupyter's Markdown has no definition lists: "**term**: definition" paragraphs
            def convert_dt(self, el: Tag, text: str, parent_tags: set[str]) -> str:
                term = re.sub(r"\s+", " ", text).strip()
                return f"\n\n**{term}**: " if term else ""

            def convert_dd(self, el: Tag, text: str, parent_tags: set[str]) -> str:
                return f"{text.strip()}\n\n"

        self.converter = Converter(
            heading_style="ATX",
            bullets="-",
            code_language_callback=_code_language,
            keep_inline_images_in=["p", "figure", "a", "td", "th", "li"],
        )

    def admonition(self, el: Tag) -> str:
        title = el.find(class_="admonition-title")
        heading = title.get_text(" ", strip=True) if title else ""
        body = "".join(
            self.converter.process_element(child, parent_tags=set())
            for child in el.children
            if child is not title
        ).strip()
        text = f"**{heading}**\n\n{body}" if heading else body
        quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
        return f"\n\n{quoted}\n\n"

    def markdown(self, elements: list[Tag | NavigableString]) -> str:
        text = "".join(self.converter.process_element(el, parent_tags=set()) for el in elements)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def _code_language(el: Tag) -> str:
    for parent in el.parents:
        for name in _classes(parent):
            if name.startswith("highlight-"):
                language = name.removeprefix("highlight-")
                return "" if language in {"default", "none", "text"} else language
    return ""


# --------------------------------------------------------------------------------------------
# The page's parts: Markdown between code cells, and the code cells


@dataclass
class _Part:
    """A run of page content between code cells, or one code cell (``index`` set)."""

    elements: list[Tag | NavigableString] = field(default_factory=list)
    index: int | None = None
    cell: Tag | None = None


def _cell_index(el: Tag) -> int | None:
    for name in _classes(el):
        if name.startswith(CELL_CLASS):
            return int(name.removeprefix(CELL_CLASS))
    return None


def _page_parts(article: Tag) -> list[_Part]:
    """Split the page's content at its code cells, in reading order; a heading starts a part."""
    parts: list[_Part] = [_Part()]

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if child.strip():
                    parts[-1].elements.append(child)
                continue
            if not isinstance(child, Tag):
                continue
            index = _cell_index(child)
            if index is not None:
                parts.append(_Part(index=index, cell=child))
                parts.append(_Part())
            elif child.name == "section" or (
                child.name == "div" and child.find(class_=re.compile(f"^{CELL_CLASS}"))
            ):
                walk(child)
            elif re.fullmatch(r"h[1-6]", child.name or "") and parts[-1].elements:
                parts.append(_Part(elements=[child]))
            else:
                parts[-1].elements.append(child)

    walk(article)
    return [p for p in parts if p.index is not None or p.elements]


# --------------------------------------------------------------------------------------------
# The notebook


@dataclass
class PageNotebook:
    """What the conversion of one page needs."""

    docname: str
    title: str
    html: str
    executed: Any  # nbformat.NotebookNode: the notebook as myst-nb executed it
    glued: dict[str, dict]  # the page's glue data (myst-nb's <page>.glue.json)
    images: Path  # the site's folder (image sources are relative to the page)
    publication: Publication = field(default_factory=Publication)
    synthetic: bool = True  # built from the embedded synthetic data (else from ANRS119_DATA)


def _glued_values(glued: dict[str, dict]) -> dict[str, str]:
    """Each glued name with its text form, or the SHA-256 of its image (what the page showed)."""
    out: dict[str, str] = {}
    for name, output in sorted(glued.items()):
        data = output.get("data", {})
        if "image/png" in data:
            out[name] = "sha256:" + hashlib.sha256(base64.b64decode(data["image/png"])).hexdigest()
        elif "text/plain" in data:
            out[name] = data["text/plain"]
    return out


def _introduction(page: PageNotebook) -> str:
    pub = page.publication
    run = pub.page_url(RUN_PAGE)
    run_link = f"[Run it yourself]({run})" if run else "*Run it yourself*"
    here = pub.page_url(page.docname)
    seen = f"[on the book's site]({here})" if here else "on the book's site"
    return (
        f"*ANRS 119, rebuilt* (version {__version__}): **{page.title}**\n\n"
        f"This notebook is the chapter as it reads {seen}, with the outputs of its code "
        "cells. The numbers in the text were computed when the book was built and are static "
        "text here; running the code cells recomputes them (each one is glued under its name "
        "in the output of the cell that computes it). To run it, install the `anrs119` "
        f"package and its pinned requirements as the book's {run_link} page shows, then run "
        "all cells in a fresh kernel."
    ) + (
        ""
        if page.synthetic
        else "\n\nThe book was built from other data than the package's embedded synthetic "
        "reconstruction: to recompute these numbers, set `ANRS119_DATA` to a folder holding the "
        "same ADaM tables before starting Jupyter; without it the cells compute the synthetic "
        "data's results."
    )


def _convert_outputs(outputs: list[Any], rendered: list[str], priority: list[str]) -> list[Any]:
    """The cell's outputs as the page shows them: Markdown outputs replaced by the page's."""
    import nbformat

    rendered = list(rendered)
    converted = []
    for output in outputs:
        output = copy.deepcopy(output)
        if output.get("output_type") in {"display_data", "execute_result"}:
            data = {
                k: v for k, v in output.get("data", {}).items() if not k.startswith(GLUE_PREFIX)
            }
            if not data:
                continue
            if _selected_type(data, priority) == "text/markdown" and rendered:
                data = {"text/markdown": rendered.pop(0)}
            output["data"] = nbformat.from_dict(data)
            output.setdefault("metadata", {})
        converted.append(output)
    return converted


def _selected_type(data: dict[str, Any], priority: list[str]) -> str | None:
    return next((mime for mime in priority if mime in data), None)


def page_notebook(page: PageNotebook, priority: list[str]) -> Any:
    """The chapter's notebook download: the executed code and the page's Markdown."""
    import nbformat

    soup = BeautifulSoup(page.html, "html.parser")
    article = soup.select_one("article.bd-article") or soup.body or soup
    attachments: dict[str, dict[str, str]] = {}

    def image(src: str) -> tuple[str, bytes] | None:
        if not src or urlsplit(src).scheme:
            return None
        path = (page.images / PurePosixPath(page.docname).parent / src).resolve()
        mime = _IMAGE_TYPES.get(path.suffix.lower())
        if mime is None or not path.is_file():
            return None
        data = path.read_bytes()
        attachments[path.name] = {mime: base64.b64encode(data).decode("ascii")}
        return path.name, data

    links = _LinkPolicy(page.docname, page.publication.site)
    converter = _Converter(links, image)
    # an output cannot carry attachments: an image in printed Markdown stays its alt text
    output_converter = _Converter(links, lambda src: None)
    cells = [nbformat.v4.new_markdown_cell(_introduction(page))]
    executed = page.executed.cells
    shown: set[int] = set()
    pending_code = [i for i, c in enumerate(executed) if c.cell_type == "code"]

    def code_cell(index: int, rendered: list[str]) -> Any:
        source = executed[index]
        cell = nbformat.v4.new_code_cell(source.source)
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in source.metadata.items() if k in {"tags"}}
        )
        cell.outputs = _convert_outputs(source.get("outputs", []), rendered, priority)
        cell.execution_count = source.get("execution_count")
        return cell

    for part in _page_parts(article):
        if part.index is None:
            attachments.clear()
            text = converter.markdown(part.elements)
            if text:
                cell = nbformat.v4.new_markdown_cell(text)
                if attachments:
                    cell.attachments = nbformat.from_dict(dict(attachments))
                cells.append(cell)
            continue
        # code cells the page does not show (removed) still run, in their place, without output
        for index in [i for i in pending_code if i < part.index]:
            hidden = code_cell(index, [])
            hidden.outputs = []
            hidden.execution_count = None
            cells.append(hidden)
        pending_code = [i for i in pending_code if i > part.index]
        rendered = []
        assert part.cell is not None
        for block in part.cell.find_all(class_=MARKDOWN_OUTPUT_CLASS):
            rendered.append(output_converter.markdown(list(block.children)))
        cells.append(code_cell(part.index, rendered))
        shown.add(part.index)
        if "remove-output" in executed[part.index].metadata.get("tags", []):
            cells[-1].outputs = []
    for index in pending_code:
        hidden = code_cell(index, [])
        hidden.outputs = []
        hidden.execution_count = None
        cells.append(hidden)

    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    metadata = page.executed.metadata
    notebook.metadata = nbformat.from_dict(
        {
            "kernelspec": metadata.get("kernelspec", {}),
            "language_info": {"name": "python"},
            METADATA_KEY: {
                "page": page.docname,
                "version": __version__,
                "glued": _glued_values(page.glued),
            },
        }
    )
    nbformat.validate(notebook)
    return notebook


def glued_in_outputs(notebook: Any) -> dict[str, str]:
    """The values a run of the notebook glued, as `_glued_values` records the page's."""
    found: dict[str, dict] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = {
                    k.removeprefix(GLUE_PREFIX): v
                    for k, v in output.get("data", {}).items()
                    if k.startswith(GLUE_PREFIX)
                }
                found[name] = {"data": data}
    return _glued_values(found)


# --------------------------------------------------------------------------------------------
# Sphinx: mark the page's code cells and Markdown outputs, write the notebooks after the pages


def notebook_of(source: Path):  # -> nbformat.NotebookNode | None
    """The chapter's MyST source as a notebook (no outputs), or None if the page is not one.

    A page is a notebook when its MyST front matter names a kernel (jupytext's header).
    """
    import jupytext

    if source.suffix != ".md":
        return None
    notebook = jupytext.read(source, fmt="md:myst")
    return notebook if notebook.metadata.get("kernelspec") else None


def _mark_cells(app, doctree, docname) -> None:  # (Sphinx, document, str)
    """Tag code cells with their index, and wrap the Markdown outputs the page will render.

    Runs before myst-nb picks one type from each output's bundle (``SelectMimeType``), when it
    can still be seen which rendered nodes came from a Markdown output.
    """
    from docutils import nodes
    from myst_nb.core.render import get_mime_priority

    priority = get_mime_priority(app.builder.name, app.config.nb_mime_priority_overrides)
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        cell["classes"].append(f"{CELL_CLASS}{cell['cell_index']}")
        for bundle in cell.findall(nodes.container):
            if bundle.get("nb_element") != "mime_bundle":
                continue
            types = {child.get("mime_type"): child for child in bundle.children}
            chosen = _selected_type(types, priority)
            if chosen == "text/markdown":
                container = types[chosen]
                wrapper = nodes.container(classes=[MARKDOWN_OUTPUT_CLASS])
                wrapper.extend(container.children)
                container.children = []
                container.append(wrapper)


def _transform():
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class MarkNotebookParts(SphinxPostTransform):
        """See `_mark_cells`."""

        default_priority = 3  # myst-nb's SelectMimeType runs at 4

        def run(self, **kwargs: Any) -> None:
            _mark_cells(self.app, self.document, self.env.docname)

    return MarkNotebookParts


def _configure(app, config) -> None:  # (Sphinx, Config)
    """Source links and launch buttons only when a repository is named."""
    publication = Publication.from_environment()
    app.anrs119_publication = publication  # type: ignore[attr-defined]
    options = dict(config.html_theme_options or {})
    options["launch_buttons"] = {}  # launch buttons are added by `_launch_buttons`
    has_repository = bool(publication.repository)
    options.update(
        repository_url=publication.repository,
        repository_branch=publication.branch,
        path_to_docs="",
        use_repository_button=has_repository,
        use_source_button=has_repository,
        use_issues_button=has_repository and publication.github is not None,
        use_edit_page_button=False,
    )
    config.html_theme_options = options
    if publication.site:
        config.html_baseurl = publication.site


def _is_notebook(app, pagename: str) -> bool:
    if pagename not in app.env.found_docs:
        return False
    return notebook_of(Path(app.env.doc2path(pagename))) is not None


def _offer_notebook(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Point the theme's download menu at the notebook `_write_notebooks` writes."""
    if doctree is not None and app.builder.name == "html" and _is_notebook(app, pagename):
        context["ipynb_source"] = f"{pagename}.ipynb"


def _launch_buttons(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Binder and Colab buttons opening the executed notebook (runs after the theme's)."""
    publication: Publication = app.anrs119_publication
    links = publication.launch_links(pagename)
    if doctree is None or not links or not _is_notebook(app, pagename):
        return
    icons = {"Binder": "_static/images/logo_binder.svg", "Colab": "_static/images/logo_colab.png"}
    buttons = [
        {
            "type": "link",
            "text": name,
            "tooltip": f"Launch on {name}",
            "icon": icons[name],
            "url": url,
        }
        for name, url in links
    ]
    context.setdefault("header_buttons", []).append(
        {
            "type": "group",
            "tooltip": "Launch interactive content",
            "icon": "fas fa-rocket",
            "buttons": buttons,
            "label": "launch-buttons",
        }
    )


def _page_title(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    heading = soup.select_one("article h1")
    if heading is None:
        return ""
    for link in heading.select("a.headerlink"):
        link.decompose()
    return heading.get_text(" ", strip=True)


def notebook_pages(app) -> Iterator[str]:  # (Sphinx)
    for docname in sorted(app.env.found_docs):
        if _is_notebook(app, docname) and (Path(app.outdir) / f"{docname}.html").is_file():
            yield docname


def _write_notebooks(app, exception: Exception | None) -> None:
    """After the pages: every notebook download, and the files the Run-it-yourself page offers."""
    import nbformat
    from myst_nb.core.render import get_mime_priority

    if exception is not None or app.builder.name != "html":
        return
    from anrs119.distribution import publish_run_files

    outdir = Path(app.outdir)
    executed_dir = Path(app.env.mystnb_config.output_folder)
    priority = get_mime_priority("html", app.config.nb_mime_priority_overrides)
    for docname in notebook_pages(app):
        html = (outdir / f"{docname}.html").read_text(encoding="utf-8")
        executed_path = executed_dir / f"{docname}.ipynb"
        glue_path = executed_dir / f"{docname}.glue.json"
        page = PageNotebook(
            docname=docname,
            title=_page_title(html),
            html=html,
            executed=nbformat.read(executed_path, as_version=4),
            glued=json.loads(glue_path.read_text("utf-8")) if glue_path.is_file() else {},
            images=outdir,
            publication=app.anrs119_publication,
            synthetic=bool(app.config.html_context.get("anrs119_synthetic", True)),
        )
        target = outdir / "_sources" / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(page_notebook(page, priority), target)
    publish_run_files(outdir)


def setup(app) -> dict[str, Any]:  # (Sphinx)
    app.connect("config-inited", _configure, priority=920)
    app.add_post_transform(_transform())
    app.connect("html-page-context", _offer_notebook, priority=500)
    app.connect("html-page-context", _launch_buttons, priority=502)
    app.connect("build-finished", _write_notebooks)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
