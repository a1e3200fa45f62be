"""Every chapter runs as a student would run it: converted by jupytext, executed in a fresh kernel.

The strict build already executes every chapter in a fresh kernel with a temporary folder as its
working directory (`run_in_temp` in _config.yml, checked below), so a chapter that needs its own
folder fails the build. Here each chapter of the toc that is a notebook (its MyST header names a
kernel) is converted to .ipynb by jupytext and validated, and one chapter goes the whole way a
student's download would: converted, executed by nbclient in a new kernel in a temporary folder,
and saved there. (`jupytext --execute` would need nbconvert, which the project does not install;
nbclient is what it calls underneath.) Executing every chapter a second time here cost about five
CPU-minutes of `make test` for nothing the build does not check.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
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
EXECUTED_HERE = "chapters/primary"
"""The chapter run end to end as a download (a results chapter: it reads the data, the
registry and the forensic allocation, and runs in seconds)."""


def written_next_to_chapters() -> list[Path]:
    """Files in chapters/ other than the chapters themselves (e.g. an .ipynb twin, an output)."""
    return sorted(p for p in CHAPTERS_DIR.rglob("*") if p.is_file() and p.suffix != ".md")


def test_the_book_has_notebooks() -> None:
    assert len(NOTEBOOKS) >= 2, f"only {NOTEBOOKS} of the toc are notebooks"


def test_the_build_runs_every_chapter_in_a_temporary_folder() -> None:
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["run_in_temp"] is True
    assert config["execute"]["raise_on_error"] is True


def test_the_build_wrote_nothing_next_to_the_chapters() -> None:
    assert written_next_to_chapters() == []


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_chapter_converts_to_a_valid_notebook(page: str, tmp_path: Path) -> None:
    notebook = jupytext.read(REPO_ROOT / f"{page}.md", fmt="md:myst")
    assert notebook.metadata["kernelspec"]["name"]
    target = tmp_path / f"{Path(page).name}.ipynb"
    nbformat.write(notebook, target)
    nbformat.validate(nbformat.read(target, as_version=4))
    assert any(cell.cell_type == "code" and cell.source.strip() for cell in notebook.cells), page


def test_the_executed_chapter_is_in_the_book() -> None:
    assert EXECUTED_HERE in NOTEBOOKS


@pytest.mark.slow
@pytest.mark.parametrize("page", [EXECUTED_HERE])
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
