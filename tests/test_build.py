"""The cache guard empties executed results exactly when the inputs change."""

from __future__ import annotations

from pathlib import Path

import pytest

from anrs119.build import FINGERPRINT_FILE, STALE_ON_CHANGE, guard_cache, inputs_fingerprint


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    root = tmp_path / "inputs"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("x = 1\n")
    (root / "data.csv").write_text("a,b\n1,2\n")
    return root


def fill_build(build: Path) -> None:
    for name in STALE_ON_CHANGE:
        (build / name).mkdir(parents=True, exist_ok=True)
        (build / name / "marker").write_text("cached")


def test_fingerprint_changes_with_content_and_names(inputs: Path) -> None:
    before = inputs_fingerprint([inputs])
    assert inputs_fingerprint([inputs]) == before
    (inputs / "data.csv").write_text("a,b\n1,3\n")
    changed = inputs_fingerprint([inputs])
    assert changed != before
    (inputs / "data.csv").rename(inputs / "other.csv")
    assert inputs_fingerprint([inputs]) != changed


def test_fingerprint_ignores_bytecode_caches(inputs: Path) -> None:
    before = inputs_fingerprint([inputs])
    (inputs / "pkg" / "__pycache__").mkdir()
    (inputs / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert inputs_fingerprint([inputs]) == before


def test_fingerprint_depends_on_the_dataset_setting(
    inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANRS119_DATA", raising=False)
    before = inputs_fingerprint([inputs])
    monkeypatch.setenv("ANRS119_DATA", str(inputs))
    assert inputs_fingerprint([inputs]) != before


def test_fingerprint_depends_on_the_dataset_label(
    inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANRS119_DATA_LABEL", raising=False)
    before = inputs_fingerprint([inputs])
    monkeypatch.setenv("ANRS119_DATA_LABEL", "another name")
    assert inputs_fingerprint([inputs]) != before


def test_guard_keeps_cache_when_unchanged_and_empties_it_on_change(
    inputs: Path, tmp_path: Path
) -> None:
    build = tmp_path / "_build"
    assert guard_cache(build, [inputs]) is True  # first run: nothing known yet
    fill_build(build)
    assert guard_cache(build, [inputs]) is False
    assert all((build / name / "marker").exists() for name in STALE_ON_CHANGE)
    (inputs / "pkg" / "a.py").write_text("x = 2\n")
    assert guard_cache(build, [inputs]) is True
    assert not any((build / name).exists() for name in STALE_ON_CHANGE)
    assert (build / FINGERPRINT_FILE).read_text().strip() == inputs_fingerprint([inputs])


def test_guard_leaves_other_build_folders_alone(inputs: Path, tmp_path: Path) -> None:
    build = tmp_path / "_build"
    (build / "screenshots").mkdir(parents=True)
    (build / "screenshots" / "page.png").write_bytes(b"png")
    guard_cache(build, [inputs])
    assert (build / "screenshots" / "page.png").exists()
