"""`python -m anrs119 compile`: every numba entry point compiled, and saved in numba's cache."""

from __future__ import annotations

from pathlib import Path

from anrs119.cli import main
from anrs119.model.reconstruction import search as reconstruct
from anrs119.model.simulator import kernel, summaries

ENTRY_POINTS = (
    kernel.run,
    kernel.uniforms,
    summaries._claim_rows,
    summaries._fisher_rows,
    summaries._mann_whitney_rows,
    summaries._safety_rows,
    reconstruct._search,
    reconstruct._walk,
)


def test_compile_command_compiles_and_caches_every_entry_point(capsys):
    assert main(["compile"]) == 0
    assert "compiled the numba kernels" in capsys.readouterr().out
    for dispatcher in ENTRY_POINTS:
        assert dispatcher.signatures, f"{dispatcher.py_func.__qualname__} was not compiled"
        source = Path(dispatcher.py_func.__code__.co_filename)
        name = f"{source.stem}.{dispatcher.py_func.__qualname__}-*.nbi"
        assert list((source.parent / "__pycache__").glob(name)), f"no cache index {name}"
