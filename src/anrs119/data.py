"""Locate, load and validate the dataset the book uses: embedded synthetic data or ANRS119_DATA."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from anrs119 import ARMS
from anrs119.adam import (
    FORMATS,
    RULE_FOLDER,
    TABLES,
    DataValidationError,
    Problem,
    load_tables,
    synthetic_marks,
)
from anrs119.paths import SYNTHETIC_DIR
from anrs119.published import display_path

ENV_VAR = "ANRS119_DATA"
"""Environment variable naming a folder of real ADaM tables to build the book from."""

LABEL_VAR = "ANRS119_DATA_LABEL"
"""Environment variable: the name the site gives the dataset (else the folder's own name)."""

PROVENANCE_FILE = "provenance.json"
"""A dataset is synthetic if its rows carry the mark (`anrs119.adam.SYNTHETIC_STUDYID`) or if
this file in its folder says ``"synthetic": true``; the rows decide even without the file."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """The four validated ADaM tables and where they came from.

    Each `load_dataset` call returns fresh copies of the tables, so a chapter that
    modifies its DataFrames cannot change what another chapter (or test) sees.
    """

    adsl: pd.DataFrame
    adlb: pd.DataFrame
    adtte: pd.DataFrame
    adae: pd.DataFrame
    source: str
    """What the site calls the data: kind and label, never an absolute path."""
    is_synthetic: bool
    path: Path
    """Where the tables were read (for the code only: never shown on the site)."""
    label: str = ""
    """The dataset's name on the site: ``$ANRS119_DATA_LABEL``, else the folder's own name."""

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}

    def subjects_by_arm(self) -> dict[str, int]:
        """Number of subjects per arm, in the order of `anrs119.ARMS`."""
        counts = self.adsl["ARM"].value_counts()
        return {arm: int(counts.get(arm, 0)) for arm in ARMS}

    def summary(self) -> str:
        """One line: subjects by arm and rows per table."""
        arms = ", ".join(f"{arm} {n}" for arm, n in self.subjects_by_arm().items())
        rows = ", ".join(f"{name} {len(df)}" for name, df in self.tables().items())
        return f"{len(self.adsl)} subjects ({arms}); rows: {rows}"


def _error(path: Path | str, rule: str, got: str) -> DataValidationError:
    return DataValidationError(str(path), [Problem(str(path), None, None, rule, got)])


def dataset_path(environ: Mapping[str, str] | None = None) -> Path:
    """The folder of the dataset in use: ``$ANRS119_DATA`` if set (and not empty), else the
    embedded synthetic data. Raises DataValidationError if that folder does not exist."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR, "").strip()
    if value:
        path = Path(value).expanduser()
        if not path.is_dir():
            what = "a file, not a folder" if path.exists() else "no such folder"
            raise _error(path, f"{ENV_VAR} names an existing folder", f"{ENV_VAR}={value}: {what}")
        return path.resolve()
    if not SYNTHETIC_DIR.is_dir():
        raise _error(
            SYNTHETIC_DIR,
            "embedded synthetic data present",
            "no such folder (run `python -m anrs119 data` to generate it)",
        )
    return SYNTHETIC_DIR


def dataset_label(path: Path, environ: Mapping[str, str] | None = None) -> str:
    """``$ANRS119_DATA_LABEL`` if set (and not empty), else the folder's own name."""
    env = os.environ if environ is None else environ
    return env.get(LABEL_VAR, "").strip() or Path(path).name


def is_synthetic(path: Path) -> bool:
    """True if ``path/provenance.json`` exists and says ``"synthetic": true``.

    The rows' own mark is checked by `load_dataset` (see `anrs119.adam.synthetic_marks`)."""
    prov = Path(path) / PROVENANCE_FILE
    if not prov.is_file():
        return False
    try:
        meta = json.loads(prov.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _error(prov, "valid JSON", str(err)) from err
    return isinstance(meta, dict) and meta.get("synthetic") is True


def _describe(path: Path, synthetic: bool, label: str) -> str:
    kind = "synthetic" if synthetic else "real"
    if path == SYNTHETIC_DIR:
        return f"{kind} ADaM data embedded in the book (data/synthetic)"
    return f"{kind} ADaM data {json.dumps(label, ensure_ascii=False)}"


def _fingerprint(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Size and mtime of each data file: the cache is refreshed when a file changes."""
    names = {f"{t.name}{ext}" for t in TABLES.values() for ext in FORMATS} | {PROVENANCE_FILE}
    return tuple(
        (f.name, st.st_size, st.st_mtime_ns)
        for f in sorted(path.iterdir())
        if f.name.lower() in names and f.is_file() and (st := f.stat())
    )


@functools.lru_cache(maxsize=8)
def _load(path: Path, label: str, fingerprint: tuple[tuple[str, int, int], ...]) -> Dataset:
    del fingerprint  # only part of the cache key
    flagged = is_synthetic(path)
    # Errors name the folder (they stop the build: no page shows them); the site uses the label.
    tables = load_tables(path, f"ADaM data in {display_path(path)}")
    # A copy of the synthetic tables is synthetic wherever it goes: the rows say so.
    synthetic = flagged or bool(synthetic_marks(tables["adsl"]).any())
    source = _describe(path, synthetic, label)
    return Dataset(**tables, source=source, is_synthetic=synthetic, path=path, label=label)


def load_dataset(path: Path | str | None = None) -> Dataset:
    """Load and validate the dataset in use (see `dataset_path`), or the one in ``path``.

    Raises DataValidationError, naming file, column, row and rule, before anything is
    computed. Results are cached per folder (and file modification times), but the
    returned DataFrames are copies: callers may modify them freely.
    """
    folder = dataset_path() if path is None else Path(path).expanduser().resolve()
    if not folder.is_dir():
        what = "a file, not a folder" if folder.exists() else "no such folder"
        raise _error(folder, RULE_FOLDER, what)
    cached = _load(folder, dataset_label(folder), _fingerprint(folder))
    copies = {name: df.copy(deep=True) for name, df in cached.tables().items()}
    return Dataset(
        **copies,
        source=cached.source,
        is_synthetic=cached.is_synthetic,
        path=cached.path,
        label=cached.label,
    )


def validate_main(path: Path | str | None = None) -> int:
    """CLI entry for ``python -m anrs119 validate [PATH]``: print OK + summary, or the problems.

    Returns the process exit code: 0 if the dataset passes, 1 otherwise (problems go to stderr).
    """
    try:
        ds = load_dataset(path)
    except DataValidationError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"OK: {ds.source}: {ds.summary()}")
    return 0


SYNTHETIC_XPT_DIR: Path = SYNTHETIC_DIR / "xpt"
"""The synthetic tables as SAS transport files (XPT v5), for readers who open ADaM in SAS or R.

A subfolder, so the loader never sees two formats of one table in data/synthetic."""


def write_xpt_downloads(
    source: Path = SYNTHETIC_DIR, target: Path = SYNTHETIC_XPT_DIR
) -> list[Path]:
    """Write the validated tables of ``source`` as XPT files in ``target`` (same bytes each time).

    Committed rather than made at build time: `{download}` needs files in the source tree, and
    with the header timestamps fixed (`anrs119.adam.XPT_TIMESTAMP`) regeneration is
    byte-identical, which the tests check like every other generated file under data/.
    """
    from anrs119.adam import write_xpt

    tables = load_tables(source, f"ADaM data in {display_path(source)}")
    return write_xpt(tables, target)
