"""Paths anchored to the repository root, so chapters, tests, CLI and CI read the same files."""

from __future__ import annotations

from pathlib import Path

# The package is always installed in editable mode from the repository (see Makefile),
# so the repository root is two levels above this file's folder.
REPO_ROOT: Path = Path(__file__).resolve().parents[2]
DATA_DIR: Path = REPO_ROOT / "data"
PUBLISHED_DIR: Path = DATA_DIR / "published"
FORENSIC_DIR: Path = DATA_DIR / "forensic"
SYNTHETIC_DIR: Path = DATA_DIR / "synthetic"
MODEL_DIR: Path = DATA_DIR / "model"
VALIDATION_DIR: Path = DATA_DIR / "validation"
CHAPTERS_DIR: Path = REPO_ROOT / "chapters"
BUILD_DIR: Path = REPO_ROOT / "_build"
