"""Keep cached chapter outputs honest: empty the build caches when the code or the data change.

jupyter-cache hashes only a notebook's own text, and Sphinx re-reads only pages whose source
changed, so editing ``src/anrs119`` or ``data/`` (or pointing ``ANRS119_DATA`` elsewhere) would
otherwise publish stale results. The Makefile runs :func:`guard_cache` before every build.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from anrs119.paths import BUILD_DIR, DATA_DIR, REPO_ROOT

FINGERPRINT_FILE = ".inputs-fingerprint"
# Everything under _build that holds results computed from the inputs.
STALE_ON_CHANGE: tuple[str, ...] = (".jupyter_cache", ".doctrees", "jupyter_execute", "html")
_IGNORED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints"})


def _input_files(roots: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(
                p
                for p in root.rglob("*")
                if p.is_file() and not _IGNORED_PARTS.intersection(p.parts)
            )
    return sorted(set(files))


def default_inputs() -> list[Path]:
    """Package source, data folder, book config, and the folder named by ANRS119_DATA."""
    roots = [REPO_ROOT / "src" / "anrs119", DATA_DIR, REPO_ROOT / "_config.yml"]
    if os.environ.get("ANRS119_DATA"):
        roots.append(Path(os.environ["ANRS119_DATA"]))
    return roots


def inputs_fingerprint(roots: Iterable[Path] | None = None) -> str:
    """SHA-256 over the relative path and bytes of every input file, in sorted order."""
    digest = hashlib.sha256()
    digest.update(f"ANRS119_DATA={os.environ.get('ANRS119_DATA', '')}\n".encode())
    # The label is printed on every page: a new label must not leave old pages cached.
    digest.update(f"ANRS119_DATA_LABEL={os.environ.get('ANRS119_DATA_LABEL', '')}\n".encode())
    for path in _input_files(default_inputs() if roots is None else roots):
        name = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        digest.update(f"{name}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def guard_cache(build_dir: Path = BUILD_DIR, roots: Iterable[Path] | None = None) -> bool:
    """Empty the stale parts of ``build_dir`` if the inputs changed since the last build.

    Returns True when the caches were emptied (or there was nothing cached yet).
    """
    stamp = build_dir / FINGERPRINT_FILE
    current = inputs_fingerprint(roots)
    if stamp.exists() and stamp.read_text(encoding="utf-8").strip() == current:
        return False
    for name in STALE_ON_CHANGE:
        shutil.rmtree(build_dir / name, ignore_errors=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n", encoding="utf-8")
    return True
