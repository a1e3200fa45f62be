"""The wheel carries the book's data and finds it installed normally; the site's run files."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from anrs119 import distribution
from anrs119.paths import REPO_ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return distribution.build_wheel(tmp_path_factory.mktemp("dist"))


def test_wheel_carries_the_package_and_the_books_files(wheel: Path) -> None:
    assert wheel.name == distribution.wheel_name()
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "anrs119/paths.py",
        "anrs119/model/operating/tables.py",
        "anrs119/_book/data/published/claims.csv",
        "anrs119/_book/data/synthetic/adsl.csv",
        "anrs119/_book/data/model/operating.csv",
        "anrs119/_book/chapters/primary.md",
        "anrs119/_book/references.bib",
        "anrs119/_book/CITATION.cff",
    ):
        assert needed in names, needed
    assert not [n for n in names if "__pycache__" in n or n.endswith(".ipynb")]
    # every module of the source tree is in the wheel
    modules = {
        str(p.relative_to(REPO_ROOT / "src")) for p in (REPO_ROOT / "src" / "anrs119").rglob("*.py")
    }
    assert modules <= names


def test_same_sources_same_wheel(wheel: Path, tmp_path: Path) -> None:
    again = distribution.build_wheel(tmp_path)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (wheel, again)]
    assert digest[0] == digest[1]


def test_installed_wheel_reads_its_own_data(wheel: Path, tmp_path: Path) -> None:
    """Installed into a plain folder (no editable link), the package finds the packed data."""
    target = tmp_path / "site-packages"
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [str(uv), "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    check = (
        "import anrs119, anrs119.paths as p; from anrs119.data import load_dataset; "
        "from anrs119.published import load_claims; "
        f"assert anrs119.__file__.startswith({str(target)!r}), anrs119.__file__; "
        "assert p.IS_PACKED; load_claims(); print(load_dataset().summary())"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("ANRS119_DATA", None)
    result = subprocess.run(
        [sys.executable, "-c", check],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "subjects" in result.stdout


def test_commands_install_the_three_files() -> None:
    commands = distribution.install_commands()
    for name in distribution.run_files().values():
        assert name in commands
    assert "--require-hashes" in commands and "venv" in commands
    assert "Activate.ps1" in distribution.install_commands(windows=True)
    assert "nbconvert --to notebook --execute" in distribution.run_commands()


def test_notebooks_branch(tmp_path: Path) -> None:
    site = tmp_path / "html"
    (site / "_sources" / "chapters").mkdir(parents=True)
    (site / "_sources" / "chapters" / "primary.ipynb").write_text("{}", encoding="utf-8")
    (site / "_sources" / "chapters" / "primary.md").write_text("# md", encoding="utf-8")
    run = site / distribution.SITE_FOLDER
    run.mkdir()
    (run / distribution.wheel_name()).write_bytes(b"wheel")
    (run / distribution.READER_REQUIREMENTS).write_text("numpy==2\n", encoding="utf-8")
    target = tmp_path / "branch"
    distribution.write_notebooks_branch(site, target)
    assert (target / "chapters" / "primary.ipynb").is_file()
    assert not (target / "chapters" / "primary.md").exists()
    assert (target / "binder" / "requirements.txt").read_text() == "numpy==2\n"
    post_build = (target / "binder" / "postBuild").read_text()
    assert distribution.wheel_name() in post_build and os.access(
        target / "binder" / "postBuild", os.X_OK
    )
    assert (target / "binder" / distribution.wheel_name()).is_file()


def test_notebooks_branch_needs_a_built_site(tmp_path: Path) -> None:
    with pytest.raises(distribution.DistributionError, match="build the site first"):
        distribution.write_notebooks_branch(tmp_path, tmp_path / "branch")
