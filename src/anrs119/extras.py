"""Optional parts of the package, and a clear message when one is missing.

The chapters need only the package's own dependencies. Building the site needs the ``book``
extra, regenerating the model's stored outputs the ``model`` extra (numba, Dask), and
running notebooks outside the repository the ``notebook`` extra. Code that needs an extra calls
`require` before importing it, so that a reader without it learns which extra to install
instead of meeting a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib.util

EXTRAS: dict[str, tuple[str, ...]] = {
    "book": ("jupyter_book", "jupytext", "markdownify"),
    "model": ("numba", "distributed"),
    "notebook": ("jupyterlab", "nbconvert"),
}
"""Each optional extra (pyproject.toml) and the modules it provides."""


class MissingExtraError(ModuleNotFoundError):
    """A module of an optional extra is not installed; the message names the extra."""

    @classmethod
    def of(cls, missing: ModuleNotFoundError, needed_by: str) -> ModuleNotFoundError:
        """The error to raise for ``missing``: this one when an extra provides the module."""
        name = missing.name or ""
        if extra_of(name) is None:
            return missing
        return cls(missing_extra_message(name, needed_by), name=name)


def extra_of(module: str) -> str | None:
    """The extra that provides ``module`` (or its top-level package), if any."""
    top = module.split(".")[0]
    return next((extra for extra, mods in EXTRAS.items() if top in mods), None)


def missing_extra_message(module: str, needed_by: str = "") -> str:
    extra = extra_of(module) or "?"
    what = f"{needed_by} needs" if needed_by else "this needs"
    return (
        f"{what} {module}, from the optional extra anrs119[{extra}], which is not installed: "
        f"pip install 'anrs119[{extra}]' (in the repository, `make install` installs every "
        "extra)"
    )


def require(*modules: str, needed_by: str = "") -> None:
    """Raise `MissingExtraError` naming the extra if any of ``modules`` cannot be imported."""
    for module in modules:
        if importlib.util.find_spec(module.split(".")[0]) is None:
            raise MissingExtraError(missing_extra_message(module, needed_by), name=module)
