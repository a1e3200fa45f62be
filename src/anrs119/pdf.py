"""The PDF edition: the whole book printed by Debian's chromium from Sphinx's single-page HTML.

Chosen over LaTeX because it prints exactly what the site shows (the same executed outputs,
tables, figures, citations and data notice) with the math that MathJax renders from the site's
own copy (no internet), and needs one Debian package the browser tests install anyway, where a
LaTeX build needs a TeX distribution of hundreds of megabytes and renders every output its own
way. The single-page build re-uses the HTML build's parsed pages and executed notebooks (13 s
here, on a loaded two-core machine), and printing 190 pages took 15 s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from anrs119.paths import REPO_ROOT

PDF_FILE = "anrs119-book.pdf"
"""The PDF's file name, in ``_build/pdf/`` and at the root of the site."""
STRICT = ("--warningiserror", "--nitpick", "--keep-going")
PRINT_BUDGET_MS = 60_000
"""Virtual time chromium gives the page's scripts (MathJax typesetting) before printing."""
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
    f"--virtual-time-budget={PRINT_BUDGET_MS}",
)


class PdfError(RuntimeError):
    """The PDF could not be made (the message says which step failed and why)."""


def chromium() -> str:
    """Debian's chromium (``make browser`` installs it), or the one named by ANRS119_CHROMIUM."""
    found = os.environ.get("ANRS119_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise PdfError("chromium not found: `make browser` installs Debian's chromium")
    return found


def single_page(root: Path, output: Path, env: dict[str, str] | None = None) -> Path:
    """Build the book as one HTML page into ``output/_build/singlehtml`` (strict, like the site)."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(root), "--builder", "singlehtml"]
    result = subprocess.run(
        [*command, "--path-output", str(output), *STRICT],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    page = output / "_build" / "singlehtml" / "intro.html"
    if result.returncode != 0 or not page.is_file():
        raise PdfError(f"the single-page build failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return page


def print_pdf(page: Path, target: Path) -> Path:
    """Print ``page`` to ``target`` with chromium (A4, the book's print style sheet)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="anrs119-chromium-") as profile:
        result = subprocess.run(
            [
                chromium(),
                *CHROMIUM_ARGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={target}",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    if result.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        raise PdfError(f"chromium could not print {page}:\n{result.stderr[-2000:]}")
    return target


def build_pdf(
    root: Path = REPO_ROOT, output: Path | None = None, env: dict[str, str] | None = None
) -> Path:
    """The book's PDF in ``output/_build/pdf``, copied into the site (``_build/html``) if built.

    ``output`` is jupyter-book's ``--path-output`` (default: the book's root), so the HTML
    build's pages and cache are re-used; build the site first.
    """
    output = root if output is None else output
    pdf = print_pdf(single_page(root, output, env), output / "_build" / "pdf" / PDF_FILE)
    site = output / "_build" / "html"
    if site.is_dir():
        shutil.copy2(pdf, site / PDF_FILE)
    return pdf
