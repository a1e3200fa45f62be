"""Every chapter runs as a student would run it: converted by jupytext, executed in a fresh kernel.

Each chapter of the toc that is a notebook (its MyST header names a kernel) is converted to
.ipynb by jupytext, executed by nbclient in a new kernel with a temporary folder as its working
directory, and saved there; one chapter at a time. A chapter that needs the book's build, or
writes next to itself, fails here. (`jupytext --execute` would need nbconvert, which the
project does not install; nbclient is what it calls underneath.)
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from anrs119.paths import CHAPTERS_DIR, REPO_ROOT
from anrs119.sphinxext import notebook_of
from tests.site.conftest import site_pages

NOTEBOOKS = [
    page
    for page in site_pages()
    if (REPO_ROOT / f"{page}.md").is_file() and notebook_of(REPO_ROOT / f"{page}.md") is not None
]
CELL_TIMEOUT_S = 300  # per cell; generous, the book's own cell timeout is in _config.yml


def written_next_to_chapters() -> list[Path]:
    """Files in chapters/ other than the chapters themselves (e.g. an .ipynb twin, an output)."""
    return sorted(p for p in CHAPTERS_DIR.rglob("*") if p.is_file() and p.suffix != ".md")


def test_the_book_has_notebooks() -> None:
    assert len(NOTEBOOKS) >= 2, f"only {NOTEBOOKS} of the toc are notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("page", NOTEBOOKS)
def test_chapter_executes_as_a_notebook(page: str, tmp_path: Path) -> None:
    before = written_next_to_chapters()
    notebook = jupytext.read(REPO_ROOT / f"{page}.md", fmt="md:myst")
    kernel = notebook.metadata["kernelspec"]["name"]
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=kernel,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{page} failed as a notebook:\n{str(err)[-3000:]}")
    target = tmp_path / f"{Path(page).name}.ipynb"
    nbformat.write(notebook, target)
    nbformat.validate(nbformat.read(target, as_version=4))
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code), f"{page}: a cell did not run"
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"{page}: {errors[0].ename}: {errors[0].evalue}"
    assert written_next_to_chapters() == before, f"running {page} wrote into chapters/"
