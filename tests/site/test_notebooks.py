"""Every chapter downloads as a clean, executed notebook, and runs as a student would run it.

The strict build executes every chapter in a fresh kernel with a temporary folder as its working
directory (`run_in_temp`, checked below). Each chapter's download (``_sources/<page>.ipynb``) is
then checked as a reader would open it: executed, its Markdown free of MyST markup, its figures
attached as PNG, its code the chapter's, its glued values the page's.

One test does what the "Run it yourself" page tells a student to do, and nothing else: in a new
folder outside the repository it takes the wheel and the requirements from the built site, runs
the install commands printed on that page (a fresh virtual environment; the packages come from
the registry at the pins of requirements.lock, so the installer's cache serves them), then runs a
downloaded chapter with ``jupyter nbconvert --execute`` in an empty folder and compares every
value it glues with the page's. It replaces the test that ran one chapter through nbclient in
the project's own environment (which would not have noticed a package missing from the wheel).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

from anrs119.distribution import READER_BOOTSTRAP, READER_REQUIREMENTS, SITE_FOLDER, wheel_name
from anrs119.notebooks import METADATA_KEY, RUN_PAGE, glued_in_outputs, notebook_of
from anrs119.paths import CHAPTERS_DIR, REPO_ROOT
from tests.site.conftest import site_pages

NOTEBOOKS = [
    page
    for page in site_pages()
    if (REPO_ROOT / f"{page}.md").is_file() and notebook_of(REPO_ROOT / f"{page}.md") is not None
]
STUDENT_CHAPTERS = ("chapters/primary", "chapters/operating")
"""Chapters the student test runs: a results chapter (data, registry, forensic allocation) and
one that shows the model's stored outputs (in an environment without numba or Dask)."""
INSTALL_SECTION = "install-on-macos-or-linux"
RUN_SECTION = "run-a-chapter"
MODEL_EXTRA = ("numba", "dask", "distributed")
# MyST markup that Jupyter would show as raw text: roles, directive fences, targets, comments.
MYST_LEFT = re.compile(
    r"\{[a-z][a-z0-9:_-]*\}`|^\s*(```|~~~|:::)\s*\{|^\s*:::|^\([\w-]+\)=\s*$|^%\s", re.MULTILINE
)


def written_next_to_chapters() -> list[Path]:
    """Files in chapters/ other than the chapters themselves (e.g. an .ipynb twin, an output)."""
    return sorted(p for p in CHAPTERS_DIR.rglob("*") if p.is_file() and p.suffix != ".md")


def download(html_dir: Path, page: str):  # -> nbformat.NotebookNode
    path = html_dir / "_sources" / f"{page}.ipynb"
    assert path.is_file(), f"{page}: no notebook download at {path}"
    return nbformat.read(path, as_version=4)


def pasted_text(html_dir: Path, page: str) -> list[str]:
    """The glued values as the page shows them in its prose."""
    soup = BeautifulSoup((html_dir / f"{page}.html").read_text("utf-8"), "html.parser")
    return [span.get_text() for span in soup.select("article span.pasted-text")]


def plain(text: str) -> str:
    """Text with Sphinx's smart quotes and dashes undone, whitespace collapsed."""
    for smart, ascii_ in (
        ("’", "'"),
        ("‘", "'"),
        ("“", '"'),
        ("”", '"'),
        ("—", "---"),
        ("–", "--"),
    ):
        text = text.replace(smart, ascii_)
    return " ".join(text.replace("…", "...").split())


def markdown_texts(notebook) -> list[str]:
    """Markdown cells and the Markdown that code cells print."""
    texts = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("data", {}).get("text/markdown", ""))
    return texts


def test_the_book_has_notebooks() -> None:
    assert len(NOTEBOOKS) >= 2, f"only {NOTEBOOKS} of the toc are notebooks"
    assert RUN_PAGE in site_pages(), "the Run-it-yourself page is not in the table of contents"


def test_the_build_runs_every_chapter_in_a_temporary_folder() -> None:
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["run_in_temp"] is True
    assert config["execute"]["raise_on_error"] is True


def test_the_build_wrote_nothing_next_to_the_chapters() -> None:
    assert written_next_to_chapters() == []


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_download_is_executed_and_shows_what_the_page_shows(html_dir: Path, page: str) -> None:
    notebook = download(html_dir, page)
    nbformat.validate(notebook)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and "Run it yourself" in first.source, first.source
    source = notebook_of(REPO_ROOT / f"{page}.md")
    assert [c.source for c in notebook.cells if c.cell_type == "code"] == [
        c.source for c in source.cells if c.cell_type == "code"
    ], f"{page}: the download's code is not the chapter's"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    # executed: a cell shows its output, or (on a page whose every result is glued into the
    # text, whose cells are removed from the page) the glued results it computed are recorded
    glued = notebook.metadata.get("anrs119", {}).get("glued", {})
    assert any(c.outputs for c in code) or glued, (
        f"{page}: no outputs: the download is not executed"
    )
    raw = nbformat.writes(notebook)
    assert "application/papermill.record" not in raw, f"{page}: glue records Jupyter cannot show"
    for text in markdown_texts(notebook):
        left = MYST_LEFT.search(text)
        assert left is None, f"{page}: MyST markup left in the notebook: {left.group(0)!r}"


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_download_carries_the_pages_figures_and_numbers(html_dir: Path, page: str) -> None:
    notebook = download(html_dir, page)
    soup = BeautifulSoup((html_dir / f"{page}.html").read_text("utf-8"), "html.parser")
    figures = [img for img in soup.select("article img") if not img.find_parent(class_="cell")]
    attached = [name for c in notebook.cells for name in c.get("attachments", {})]
    assert len(attached) == len(figures), f"{page}: {len(figures)} figures, {attached} attached"
    for cell in notebook.cells:
        for name, bundle in cell.get("attachments", {}).items():
            assert list(bundle) == ["image/png"], f"{page}: {name} is not a PNG"
    glued = notebook.metadata[METADATA_KEY]["glued"]
    shown = {plain(str(ast.literal_eval(v))) for v in glued.values() if not v.startswith("sha256:")}
    missing = [text for text in pasted_text(html_dir, page) if plain(text) not in shown]
    assert not missing, f"{page}: the page shows {missing}, which the notebook did not record"
    # Markdown escapes (consort\\_2010) read as the character they escape
    text = re.sub(r"\\([\\`*_{}\[\]()#+.!$|-])", r"\1", " ".join(markdown_texts(notebook)))
    for value in pasted_text(html_dir, page):
        assert " ".join(value.split()) in " ".join(text.split()), (
            f"{page}: {value!r} is not in the notebook's text"
        )


def _chapter_imports(page: str) -> str:
    """The import statements of the chapter's code cells, as one program."""
    code = "\n".join(
        c.source for c in notebook_of(REPO_ROOT / f"{page}.md").cells if c.cell_type == "code"
    )
    tree = ast.parse(code)
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    return ast.unparse(ast.Module(body=imports, type_ignores=[]))


_WITHOUT_MODEL_EXTRA = f"""
import importlib.abc, json, sys
class WithoutModelExtra(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {MODEL_EXTRA!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, WithoutModelExtra())
failed = {{}}
for page, program in json.loads(sys.stdin.read()).items():
    try:
        exec(program, {{}})
    except Exception as err:
        failed[page] = f"{{type(err).__name__}}: {{err}}"
print(json.dumps(failed))
"""


def test_chapters_import_without_the_model_extra() -> None:
    """numba and Dask belong to anrs119[model]: the chapters must import without them.

    One process imports every chapter's imports in turn (a process per chapter cost a minute).
    """
    programs = {page: _chapter_imports(page) for page in NOTEBOOKS}
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_MODEL_EXTRA],
        input=json.dumps(programs),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    failed = json.loads(result.stdout.strip().splitlines()[-1])
    assert not failed, f"chapters that need the model extra to import: {failed}"


# --------------------------------------------------------------------------------------------
# The student's path


def _commands(html_dir: Path, section: str) -> str:
    soup = BeautifulSoup((html_dir / f"{RUN_PAGE}.html").read_text("utf-8"), "html.parser")
    block = soup.select_one(f"section#{section} div.highlight-bash pre")
    assert block is not None, f"{RUN_PAGE}: no bash commands in section #{section}"
    return block.get_text()


def _student_environment(shims: Path) -> dict[str, str]:
    """This machine's environment without the project's: no venv, no package path, no data."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANRS119_", "VIRTUAL_ENV", "PYTHON", "JUPYTER", "CONDA"))
    }
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    env["PATH"] = os.pathsep.join([str(shims), *path])
    return env


@pytest.fixture(scope="module")
def student(html_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A folder outside the repository with the site's three files, installed as the page says."""
    home = tmp_path_factory.mktemp("student")
    assert REPO_ROOT not in home.parents, "the student's folder must be outside the repository"
    for name in (wheel_name(), READER_REQUIREMENTS, READER_BOOTSTRAP):
        shutil.copy2(html_dir / SITE_FOLDER / name, home / name)
    # `python3` is the interpreter this book was built with (its wheels are in the cache).
    shims = home / "shims"
    shims.mkdir()
    (shims / "python3").symlink_to(Path(sys.executable).resolve())
    env = _student_environment(shims)
    install = _commands(html_dir, INSTALL_SECTION)
    started = time.perf_counter()
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", install],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 0, f"install failed:\n{install}\n{result.stderr[-3000:]}"
    print(f"student install: {seconds:.0f} s")
    activate = next(line for line in install.splitlines() if "activate" in line)
    return home, env, activate


def test_the_installed_package_is_the_wheel_with_its_data(student) -> None:
    home, env, activate = student
    check = (
        "import anrs119.paths as p, importlib.util as u; "
        "from anrs119.data import load_dataset; "
        "assert p.IS_PACKED, p.REPO_ROOT; "
        "assert all(u.find_spec(m) is None for m in ('numba', 'distributed')); "
        "print(load_dataset().summary())"
    )
    result = subprocess.run(
        ["bash", "-c", f'{activate} && python -c "{check}"'],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "subjects" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("page", STUDENT_CHAPTERS)
def test_downloaded_chapter_runs_and_recomputes_the_pages_values(
    student, html_dir: Path, page: str, tmp_path: Path
) -> None:
    home, env, activate = student
    name = f"{Path(page).name}.ipynb"
    folder = tmp_path / "empty"
    folder.mkdir()
    shutil.copy2(html_dir / "_sources" / f"{page}.ipynb", folder / name)
    run = next(
        line for line in _commands(html_dir, RUN_SECTION).splitlines() if "nbconvert" in line
    )
    run = re.sub(r"\S+\.ipynb", name, run)
    started = time.perf_counter()
    result = subprocess.run(
        ["bash", "-c", f"source {home}/{activate.split()[-1]} && {run}"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    print(f"{page}: nbconvert --execute {time.perf_counter() - started:.0f} s")
    assert result.returncode == 0, f"{run} failed:\n{result.stderr[-3000:]}"
    executed = folder / name.replace(".ipynb", ".nbconvert.ipynb")
    assert sorted(p.name for p in folder.iterdir()) == sorted([name, executed.name]), (
        f"running {page} wrote next to itself: {sorted(p.name for p in folder.iterdir())}"
    )
    notebook = nbformat.read(executed, as_version=4)
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"{page}: {errors[0].ename}: {errors[0].evalue}"
    page_values = nbformat.read(folder / name, as_version=4).metadata[METADATA_KEY]["glued"]
    recomputed = glued_in_outputs(notebook)
    assert recomputed.keys() == page_values.keys(), f"{page}: glued names differ"
    different = {
        k: (page_values[k], recomputed[k]) for k in page_values if page_values[k] != recomputed[k]
    }
    assert not different, f"{page}: recomputed values differ from the page's: {different}"
