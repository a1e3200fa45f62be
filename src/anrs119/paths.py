"""Paths anchored to the book's root, so chapters, tests, CLI and CI read the same files.

In the repository (the editable install of the Makefile) the root is the repository itself. An
installed wheel has no repository: it carries a copy of the files the chapters read (``data/``,
``chapters/*.md``, ``references.bib``, ``_toc.yml``, ``CITATION.cff``) in ``anrs119/_book``
(packed by setup.py), and that folder is the root. Either way every path below has the same
layout under it.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR: Path = Path(__file__).resolve().parent
PACKED_ROOT: Path = PACKAGE_DIR / "_book"
"""Where a wheel install finds the book's files (absent in the repository's source tree)."""

REPO_ROOT: Path = PACKED_ROOT if PACKED_ROOT.is_dir() else PACKAGE_DIR.parents[1]
IS_PACKED: bool = REPO_ROOT == PACKED_ROOT
"""True when running from an installed wheel rather than from the repository."""
DATA_DIR: Path = REPO_ROOT / "data"
PUBLISHED_DIR: Path = DATA_DIR / "published"
FORENSIC_DIR: Path = DATA_DIR / "forensic"
SYNTHETIC_DIR: Path = DATA_DIR / "synthetic"
MODEL_DIR: Path = DATA_DIR / "model"
VALIDATION_DIR: Path = DATA_DIR / "validation"
CHAPTERS_DIR: Path = REPO_ROOT / "chapters"
BUILD_DIR: Path = REPO_ROOT / "_build"
