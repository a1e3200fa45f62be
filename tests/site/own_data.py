"""The own-data rebuild of the book: the embedded tables as real data arrive, built into a site.

`make test` runs it as ``python -m tests.site.own_data DIR`` beside the unit tests (a whole
second build is the longest set-up of the site tests, and its notebooks need no compiled
kernel), then names ``DIR`` to the site tests in ``ANRS119_OWN_DATA_BUILD``. Without that
variable, ``tests/site/test_own_data.py`` builds it itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from anrs119.adam import load_tables, write_xpt
from anrs119.paths import REPO_ROOT, SYNTHETIC_DIR
from anrs119.pdf import PdfError, build_pdf

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
OWN_LABEL = "Own-data rebuild test"
OWN_PREFIX = "OWNDATA-"
BUILD_TIMEOUT_S = 900
PREBUILT_ENV = "ANRS119_OWN_DATA_BUILD"
"""Environment variable naming a folder this module's ``main`` has built into."""


@dataclass(frozen=True)
class OwnDataBuild:
    """Where the own-data tables and their site are, and how the build ended."""

    folder: Path  # the ADaM tables (XPT, upper-case names, no synthetic mark)
    html: Path  # the built site (with the PDF edition at its root)
    returncode: int
    log: str  # the end of the build's output, for a failure message

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def own_tables() -> dict[str, pd.DataFrame]:
    """The embedded tables with their synthetic mark replaced by other identifiers."""
    tables = load_tables(SYNTHETIC_DIR)
    ids = {u: f"{OWN_PREFIX}{k + 1:04d}" for k, u in enumerate(tables["adsl"]["USUBJID"])}
    out = {name: df.assign(USUBJID=df["USUBJID"].map(ids)) for name, df in tables.items()}
    out["adsl"]["STUDYID"] = "ANRS119"
    return out


def _paths(root: Path) -> tuple[Path, Path, Path, Path]:
    """The tables' folder, the build's output folder, its log and its return-code file."""
    return root / "adam-own", root / "site", root / "build.log", root / "returncode"


def build(root: Path) -> OwnDataBuild:
    """Write the own-data tables under ``root`` and build the whole book from them there."""
    folder, output, log, code = _paths(root)
    folder.mkdir(parents=True, exist_ok=True)
    for path in write_xpt(own_tables(), folder):
        path.rename(path.with_name(path.stem.upper() + path.suffix))  # ADSL.xpt, as exported
    command = [str(JUPYTER_BOOK), "build", str(REPO_ROOT), "--path-output", str(output)]
    env = {**os.environ, "ANRS119_DATA": str(folder), "ANRS119_DATA_LABEL": OWN_LABEL}
    result = subprocess.run(
        [*command, "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        env=env,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    text = result.stdout[-3000:] + result.stderr[-3000:]
    returncode = result.returncode
    if returncode == 0:  # the PDF edition too: it must carry no patient-level data either
        try:
            build_pdf(REPO_ROOT, output, env)
        except PdfError as err:
            text, returncode = f"{text}\n{err}", 1
    log.write_text(text, encoding="utf-8")
    code.write_text(str(returncode), encoding="utf-8")
    return load(root)


def load(root: Path) -> OwnDataBuild:
    """A build that :func:`build` made under ``root`` (a missing return code is a failure)."""
    folder, output, log, code = _paths(root)
    returncode = int(code.read_text(encoding="utf-8")) if code.is_file() else -1
    text = log.read_text(encoding="utf-8") if log.is_file() else f"no build under {root}"
    return OwnDataBuild(folder, output / "_build" / "html", returncode, text)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.site.own_data DIR", file=sys.stderr)
        return 2
    result = build(Path(argv[0]))
    print(f"own-data rebuild: exit {result.returncode} (log: {_paths(Path(argv[0]))[2]})")
    return 0  # the site tests report a failed build, with its log


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
