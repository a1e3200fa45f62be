"""The readers' requirements: the run-time packages only, at the repository's pins, and an
install that resolves for Python 3.11 to 3.13 on Linux, macOS and Windows."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from anrs119.distribution import READER_LOCK
from anrs119.extras import EXTRAS
from anrs119.paths import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
MODEL_ONLY = {"numba", "llvmlite", "distributed", "dask"}
BOOK_ONLY = {"jupyter-book", "jupytext", "sphinx-book-theme", "markdownify"}
PYTHONS = ("3.11.5", "3.12", "3.13")
"""3.11.5, not 3.11.0: the pinned soupsieve (through beautifulsoup4, nbconvert) needs it."""
PLATFORMS = {
    # uv's --python-platform, and the marker environment of that platform
    "x86_64-unknown-linux-gnu": {"sys_platform": "linux", "os_name": "posix", "system": "Linux"},
    "aarch64-apple-darwin": {"sys_platform": "darwin", "os_name": "posix", "system": "Darwin"},
    "x86_64-pc-windows-msvc": {"sys_platform": "win32", "os_name": "nt", "system": "Windows"},
}
UV = Path(sys.executable).parent / "uv"
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", re.MULTILINE)


def pins(path: Path) -> dict[str, tuple[str, str]]:
    """name -> (version, marker) of a hash-pinned requirements file."""
    text = path.read_text("utf-8")
    return {canonicalize_name(n): (v, (m or "").strip()) for n, v, m in _PIN.findall(text)}


def _name(requirement: str) -> str:
    return canonicalize_name(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0])


def test_run_time_dependencies_leave_building_and_the_model_to_extras() -> None:
    runtime = {_name(r) for r in PYPROJECT["dependencies"]}
    extras = PYPROJECT["optional-dependencies"]
    assert {"statsmodels", "myst-nb", "numpy", "pandas"} <= runtime
    assert not runtime & (MODEL_ONLY | BOOK_ONLY), runtime & (MODEL_ONLY | BOOK_ONLY)
    assert {_name(r) for r in extras["model"]} == {"numba", "distributed"}
    assert "jupyter-book" in {_name(r) for r in extras["book"]}
    assert {"jupyterlab", "nbconvert"} == {_name(r) for r in extras["notebook"]}
    for extra in ("book", "model", "notebook"):  # anrs119.extras knows the same extras
        assert extra in EXTRAS


def test_readers_get_no_model_or_book_packages() -> None:
    readers = pins(REPO_ROOT / READER_LOCK)
    assert len(readers) > 50
    assert not set(readers) & (MODEL_ONLY | BOOK_ONLY), set(readers) & (MODEL_ONLY | BOOK_ONLY)
    assert {"statsmodels", "jupyterlab", "nbconvert", "myst-nb"} <= set(readers)


def test_readers_get_the_repositorys_pins() -> None:
    """Same versions as requirements.lock, so that the installer's cache already holds them;
    the only additions are the packages that Linux does not need (and so the lock lacks)."""
    readers, lock = pins(REPO_ROOT / READER_LOCK), pins(REPO_ROOT / "requirements.lock")
    different = {
        n: (v, lock[n][0]) for n, (v, _) in readers.items() if n in lock and lock[n][0] != v
    }
    assert not different, f"readers' pins differ from requirements.lock: {different}"
    linux = {"sys_platform": "linux", "os_name": "posix", "platform_system": "Linux"}
    extra = {n: m for n, (_, m) in readers.items() if n not in lock}
    assert all(m and not Marker(m).evaluate(linux) for m in extra.values()), extra
    assert all(line.strip().startswith("--hash=sha256:") for line in _hash_lines())


def _hash_lines() -> list[str]:
    text = (REPO_ROOT / READER_LOCK).read_text("utf-8")
    return [line for line in text.splitlines() if line.startswith("    --hash")]


def _expected(python: str, platform: dict[str, str]) -> set[str]:
    environment = {
        "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": python if python.count(".") == 2 else f"{python}.0",
        "sys_platform": platform["sys_platform"],
        "os_name": platform["os_name"],
        "platform_system": platform["system"],
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    return {
        n
        for n, (_, m) in pins(REPO_ROOT / READER_LOCK).items()
        if not m or Marker(m).evaluate(environment)
    }


def _resolve(python: str, platform: str, offline: bool) -> subprocess.CompletedProcess[str]:
    command = [str(UV), "pip", "compile", str(REPO_ROOT / READER_LOCK)]
    command += ["--python-version", python, "--python-platform", platform]
    # wheels only (a student on Windows has no compiler), but autograd-gamma ships no wheel
    command += ["--only-binary", ":all:", "--no-binary", "autograd-gamma", "--no-header"]
    command += ["--no-annotate", *(["--offline"] if offline else [])]  # the result on stdout
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("python", PYTHONS)
def test_readers_requirements_resolve(python: str, platform: str) -> None:
    """uv resolves the pinned file for the target, with wheels: the same packages come out.

    From uv's cache when it holds the indexes (seconds); else from the registry."""
    result = _resolve(python, platform, offline=True)
    if result.returncode != 0 and "network was disabled" in result.stderr:
        result = _resolve(python, platform, offline=False)
    assert result.returncode == 0, f"{python} on {platform}:\n{result.stderr[-3000:]}"
    resolved = {canonicalize_name(n) for n, _, _ in _PIN.findall(result.stdout)}
    assert resolved == _expected(python, PLATFORMS[platform]), resolved ^ _expected(
        python, PLATFORMS[platform]
    )
