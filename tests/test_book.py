"""The book build is a test: execution errors and invalid data must fail it, before pages exist.

The strict build of the whole book runs in `make test` (after the unit tests); these tests prove
that such a build *can* fail, the way jupyter-book's own suite keeps a negative test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from anrs119.paths import REPO_ROOT, SYNTHETIC_DIR

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
STRICT = ["--warningiserror", "--nitpick", "--keep-going"]

FAILING_CHAPTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter whose code fails

```{code-cell} ipython3
1 / 0
```
"""


def build(
    book: Path, output: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(book), "--path-output", str(output), *STRICT],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_an_error_in_a_cell_fails_the_build(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    config = (REPO_ROOT / "_config.yml").read_text(encoding="utf-8")
    # The project's own execution settings, without the project's extension and bibliography.
    dropped = (
        "    - anrs119.sphinxext\n",
        "  - references.bib\n",
        "    bibtex_reference_style",
        "    bibtex_default_style",
    )
    for line in dropped:
        config = "".join(c for c in config.splitlines(keepends=True) if not c.startswith(line))
    (book / "_config.yml").write_text(config.replace("bibtex_bibfiles:\n", ""), encoding="utf-8")
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n", encoding="utf-8")
    (book / "index.md").write_text(FAILING_CHAPTER, encoding="utf-8")
    result = build(book, tmp_path / "out")
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "ZeroDivisionError" in log
    sphinx_warnings = [
        line for line in log.splitlines() if "WARNING:" in line and "Executing notebook" not in line
    ]
    assert not sphinx_warnings, "the build failed for another reason than the cell's error"


def corrupted_copy(tmp_path: Path) -> tuple[Path, int]:
    """A copy of the embedded tables with one impossible value (CNSR = 2) in adtte."""
    folder = tmp_path / "adam"
    shutil.copytree(SYNTHETIC_DIR, folder)
    adtte = pd.read_csv(folder / "adtte.csv", dtype=str, keep_default_na=False)
    adtte.loc[4, "CNSR"] = "2"
    adtte.to_csv(folder / "adtte.csv", index=False, lineterminator="\n")
    return folder, 4


@pytest.mark.slow
def test_invalid_data_stop_the_build_before_any_page(tmp_path: Path) -> None:
    folder, _ = corrupted_copy(tmp_path)
    output = tmp_path / "out"
    result = build(REPO_ROOT, output, env={"ANRS119_DATA": str(folder)})
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "adtte.csv" in log and "CNSR" in log
    assert not list(output.rglob("*.html")), "pages were written despite invalid data"
