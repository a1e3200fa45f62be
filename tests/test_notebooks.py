"""The notebook download of a page: converted from the rendered HTML, executed outputs kept."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import nbformat
import pytest

from anrs119.notebooks import (
    CELL_CLASS,
    MARKDOWN_OUTPUT_CLASS,
    METADATA_KEY,
    PageNotebook,
    glued_in_outputs,
    page_notebook,
)
from anrs119.publication import Publication

PRIORITY = ["text/html", "image/png", "text/markdown", "text/plain"]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _page(tmp_path: Path, publication: Publication | None = None) -> PageNotebook:
    images = tmp_path / "site"
    (images / "_images").mkdir(parents=True)
    (images / "_images" / "fig.png").write_bytes(PNG)
    html = (Path(__file__).parent / "fixtures" / "notebook_page.html").read_text("utf-8")
    executed = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# The title"),
            nbformat.v4.new_code_cell(
                "data_notice()",
                outputs=[
                    nbformat.v4.new_output(
                        "execute_result",
                        data={"text/markdown": ":::{note}\n**Synthetic.** Text.\n:::"},
                        execution_count=1,
                    )
                ],
                metadata={"tags": ["remove-input"]},
            ),
            nbformat.v4.new_code_cell("setup = 1", metadata={"tags": ["remove-cell"]}),
            nbformat.v4.new_code_cell(
                "table",
                outputs=[
                    nbformat.v4.new_output(
                        "execute_result",
                        data={"text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "1"},
                        execution_count=3,
                    )
                ],
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    glued = {
        "week": {"data": {"text/plain": "96"}},
        "km": {"data": {"image/png": base64.b64encode(PNG).decode()}},
    }
    return PageNotebook(
        "chapters/primary", "The title", html, executed, glued, images, publication or Publication()
    )


@pytest.fixture
def notebook(tmp_path: Path):
    return page_notebook(_page(tmp_path), PRIORITY)


def _markdown(notebook) -> str:
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def test_first_cell_says_what_the_notebook_is(notebook) -> None:
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert "**The title**" in first.source and "Run it yourself" in first.source
    assert "static" in first.source


def test_markdown_comes_from_the_page(notebook) -> None:
    text = _markdown(notebook)
    prose = " ".join(text.split())
    assert "Through week 96, 35% had it [Molina *et al.*, 2009]" in prose
    assert "see Fig. 3, the ART and [the paper](https://doi.org/10.1086/599989)" in prose
    assert r"costs \$5 with $a_i < b$" in prose
    assert "$$\nx_i = y \\tag{1}\n$$" in text
    assert "**Term**: its meaning" in text
    assert "*Fig. 3 Curves.*" in text
    assert "```bash\nmake book\n```" in text
    assert "#" not in text.replace("# The title", "").replace("## Section", "")


def test_links_inside_the_site_need_its_address(tmp_path: Path) -> None:
    site = Publication(site="https://example.org/book/")
    text = " ".join(_markdown(page_notebook(_page(tmp_path, site), PRIORITY)).split())
    assert "[Molina *et al.*, 2009](https://example.org/book/chapters/references.html#id2)" in text
    assert "(https://example.org/book/chapters/run_it_yourself.html)" in text


def test_figure_is_an_attached_png(notebook) -> None:
    [cell] = [c for c in notebook.cells if c.get("attachments")]
    assert "![Curves by arm](attachment:fig.png)" in cell.source
    assert base64.b64decode(cell.attachments["fig.png"]["image/png"]) == PNG


def test_code_cells_keep_code_and_page_outputs(notebook) -> None:
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.source for c in code] == ["data_notice()", "setup = 1", "table"]
    notice, hidden, table = code
    assert notice.outputs[0].data == {"text/markdown": "> **Note**\n>\n> **Synthetic.** Text."}
    assert hidden.outputs == []  # not on the page: runs, shows nothing
    assert table.outputs[0].data["text/html"].startswith("<table>")


def test_glued_values_are_recorded(notebook) -> None:
    glued = notebook.metadata[METADATA_KEY]["glued"]
    assert glued["week"] == "96"
    assert glued["km"] == "sha256:" + hashlib.sha256(PNG).hexdigest()


def test_glued_in_outputs_reads_a_run(notebook) -> None:
    run = nbformat.from_dict(notebook)
    first_code = next(c for c in run.cells if c.cell_type == "code")
    first_code.outputs.append(
        nbformat.v4.new_output(
            "display_data",
            data={"application/papermill.record/text/plain": "96"},
            metadata={"scrapbook": {"name": "week"}},
        )
    )
    assert glued_in_outputs(run) == {"week": "96"}


def test_the_fixture_uses_the_classes_the_extension_sets() -> None:
    html = (Path(__file__).parent / "fixtures" / "notebook_page.html").read_text("utf-8")
    assert f"{CELL_CLASS}1" in html and MARKDOWN_OUTPUT_CLASS in html


def test_the_notebook_is_valid(notebook) -> None:
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
