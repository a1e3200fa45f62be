"""What the "Run it yourself" page offers: the package's wheel and the readers' pinned requirements.

The book's site carries both (``run/`` beside its pages), so a reader installs the package the
chapters import from the site alone. The wheel is built from a clean copy of the sources (a
build in the repository would leave ``build/`` behind and could pack stale modules), with
``SOURCE_DATE_EPOCH`` fixed so that the same sources give the same bytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from anrs119 import __version__
from anrs119.paths import IS_PACKED, REPO_ROOT

READER_LOCK = "requirements-run.lock"
"""The readers' requirements in the repository: every package a chapter needs at run time (and
JupyterLab and nbconvert to open and run it), pinned with hashes for Python 3.11 to 3.13 on
Linux, macOS and Windows, at the versions of ``requirements.lock`` (``make lock`` writes both)."""
READER_REQUIREMENTS = "requirements.txt"
"""The same file's name on the site (what readers expect to pass to ``pip install -r``)."""
BOOTSTRAP_LOCK = "requirements-bootstrap.lock"
"""uv, pinned with hashes: the installer the Makefile sets up first, and readers too."""
READER_BOOTSTRAP = "uv-requirements.txt"
"""The same file's name on the site."""
VENV = "anrs119-env"
"""The virtual environment the install commands create."""
EXAMPLE_NOTEBOOK = "primary.ipynb"
"""The chapter the commands run as an example (the primary end point)."""
SITE_FOLDER = "run"
"""Folder of the built site that holds the wheel and the requirements."""
WHEEL_SOURCES: tuple[str, ...] = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "LICENSE",
    "LICENSE-TEXT.md",
    "src",
    "data",
    "chapters",
    "references.bib",
    "_toc.yml",
    "CITATION.cff",
)
SOURCE_DATE_EPOCH = "315532800"
"""1980-01-01, the earliest time a zip file records: no build time ends up in the wheel."""
_SKIPPED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints", "*.ipynb"
)


class DistributionError(RuntimeError):
    """The wheel could not be built (the message says what failed)."""


def wheel_name(version: str = __version__) -> str:
    """The wheel's file name (pure Python, any platform), as installers expect it."""
    return f"anrs119-{version}-py3-none-any.whl"


def build_wheel(target: Path, root: Path = REPO_ROOT) -> Path:
    """Build the package's wheel from a copy of ``root``'s sources into ``target``."""
    if IS_PACKED and root == REPO_ROOT:
        raise DistributionError("an installed anrs119 has no sources to build a wheel from")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="anrs119-wheel-") as tmp:
        copy = Path(tmp) / "src-copy"
        copy.mkdir()
        for name in WHEEL_SOURCES:
            source = root / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=_SKIPPED)
            elif source.is_file():
                shutil.copy2(source, copy / name)
        out = Path(tmp) / "dist"
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        result = subprocess.run(
            [*command, "--quiet", "--wheel-dir", str(out), str(copy)],
            capture_output=True,
            text=True,
            env={**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
            check=False,
        )
        wheel = out / wheel_name()
        if result.returncode != 0 or not wheel.is_file():
            raise DistributionError(f"building {wheel.name} failed:\n{result.stderr[-2000:]}")
        return Path(shutil.copy2(wheel, target / wheel.name))


def publish_run_files(site: Path, root: Path = REPO_ROOT) -> list[Path]:
    """Write the wheel, the readers' requirements and uv's into the site's ``run/`` folder."""
    folder = site / SITE_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    wheel = build_wheel(folder, root)
    requirements = Path(shutil.copy2(root / READER_LOCK, folder / READER_REQUIREMENTS))
    bootstrap = Path(shutil.copy2(root / BOOTSTRAP_LOCK, folder / READER_BOOTSTRAP))
    return [wheel, requirements, bootstrap]


def run_files() -> dict[str, str]:
    """The files the "Run it yourself" page offers: label -> file name in the site's run/."""
    return {
        "the anrs119 package (wheel)": wheel_name(),
        "the pinned requirements": READER_REQUIREMENTS,
        "the pinned installer (uv)": READER_BOOTSTRAP,
    }


def install_commands(windows: bool = False) -> str:
    """Shell commands that install the package and its pinned requirements in a new venv.

    Run in the folder holding the three files of `run_files`. The installer is uv (installed
    by pip, pinned with hashes): it installs the hundred-odd pinned packages in seconds where
    pip takes minutes, and the same commands work with ``python -m pip`` in place of ``uv pip``.
    """
    if windows:
        make, activate = f"py -m venv {VENV}", rf"{VENV}\Scripts\Activate.ps1"
    else:
        make, activate = f"python3 -m venv {VENV}", f"source {VENV}/bin/activate"
    return "\n".join(
        [
            make,
            activate,
            f"python -m pip install --require-hashes -r {READER_BOOTSTRAP}",
            f"uv pip install --require-hashes -r {READER_REQUIREMENTS}",
            f"uv pip install --no-deps {wheel_name()}",
        ]
    )


def run_commands(notebook: str = EXAMPLE_NOTEBOOK) -> str:
    """Commands that open a downloaded chapter, or run it top to bottom without a browser."""
    return "\n".join(
        [
            f"jupyter lab {notebook}",
            f"jupyter nbconvert --to notebook --execute {notebook}",
        ]
    )


BINDER_PYTHON = "python-3.11"
"""The Python that Binder (repo2docker's runtime.txt) sets up for the notebooks branch."""


def write_notebooks_branch(site: Path, target: Path) -> list[Path]:
    """Fill ``target`` with what the deploy recipe publishes on the ``notebooks`` branch.

    Every chapter's executed notebook, from the built site, at its page's path (what the Colab
    and Binder buttons open), and a Binder set-up that installs the readers' requirements and
    the wheel, the same install as the "Run it yourself" page.
    """
    sources = site / "_sources"
    wheel = site / SITE_FOLDER / wheel_name()
    if not wheel.is_file():
        raise DistributionError(f"{wheel} is missing: build the site first")
    written: list[Path] = []
    for notebook in sorted(sources.rglob("*.ipynb")):
        path = target / notebook.relative_to(sources)
        path.parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copy2(notebook, path)))
    binder = target / "binder"
    binder.mkdir(parents=True, exist_ok=True)
    written.append(Path(shutil.copy2(wheel, binder / wheel.name)))
    written.append(
        Path(shutil.copy2(site / SITE_FOLDER / READER_REQUIREMENTS, binder / "requirements.txt"))
    )
    post_build = binder / "postBuild"
    post_build.write_text(
        "#!/bin/bash\nset -euo pipefail\n"
        f'python -m pip install --no-deps "$(dirname "$0")/{wheel.name}"\n',
        encoding="utf-8",
    )
    post_build.chmod(0o755)
    (binder / "runtime.txt").write_text(f"{BINDER_PYTHON}\n", encoding="utf-8")
    readme = target / "README.md"
    readme.write_text(
        "# Executed notebooks of *ANRS 119, rebuilt*\n\n"
        "Written by the deploy workflow from the built site (`python -m anrs119 "
        "notebooks-branch`); do not edit. Each chapter's notebook is at its page's path; "
        "`binder/` installs the pinned requirements and the `anrs119` wheel, so Binder and "
        "Colab open the chapters as the site's launch buttons promise.\n",
        encoding="utf-8",
    )
    return [*written, post_build, binder / "runtime.txt", readme]
