"""A missing optional extra is named: the simulator without numba says to install anrs119[model]."""

from __future__ import annotations

import subprocess
import sys

import pytest

from anrs119 import extras
from anrs119.extras import MissingExtraError, extra_of, require

# Run Python with the model extra's packages unavailable, as in a reader's environment.
WITHOUT_MODEL = """
import importlib.abc, sys
class Without(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("numba", "dask", "distributed"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Without())
exec(sys.argv[1])
"""


def test_each_extra_names_its_modules() -> None:
    assert extra_of("numba.core") == "model"
    assert extra_of("jupyter_book") == "book"
    assert extra_of("numpy") is None


def test_require_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(extras.EXTRAS, "model", ("anrs119_no_such_module",))
    with pytest.raises(MissingExtraError, match=r"anrs119\[model\]"):
        require("anrs119_no_such_module", needed_by="the simulator")
    require("numpy")  # installed: nothing happens


def _without_model(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_MODEL, code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_importing_the_simulator_without_numba_names_the_extra() -> None:
    result = _without_model("import anrs119.model.simulator.kernel")
    assert result.returncode != 0
    assert "MissingExtraError" in result.stderr
    assert "numba, from the optional extra anrs119[model]" in result.stderr


def test_the_stored_outputs_read_without_the_extra() -> None:
    code = (
        "from anrs119.model.operating.tables import read_operating; "
        "from anrs119.model.inference.sample import load_posterior; "
        "read_operating(); load_posterior()"
    )
    result = _without_model(code)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_command_line_names_the_extra_without_a_traceback() -> None:
    code = "from anrs119.cli import main; sys.exit(main(['operating', '--quiet']))"
    result = _without_model(code)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "anrs119[model]" in result.stderr and "Traceback" not in result.stderr
