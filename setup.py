"""Pack the book's files that the chapters read into the wheel, beside the package.

Everything else about the package is in pyproject.toml. A chapter run as a notebook reads the
claims registry, the stored model outputs and the embedded synthetic tables (``data/``), the
bibliography, the chapter list and the citation; in the repository they sit beside ``src/``,
and an installed wheel carries a copy of them in ``anrs119/_book`` (see ``anrs119.paths``).
Editable installs read the repository itself, so nothing is copied for them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BOOK_FILES: tuple[str, ...] = (
    "data",
    "chapters",
    "references.bib",
    "_toc.yml",
    "CITATION.cff",
)
"""What the package reads from the book (relative to the repository root)."""
PACKED = Path("anrs119") / "_book"
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.ipynb")


class BuildPyWithBookFiles(build_py):
    """build_py, then a copy of the book's files into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / PACKED
        shutil.rmtree(target, ignore_errors=True)
        for name in BOOK_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=SKIPPED)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildPyWithBookFiles})
