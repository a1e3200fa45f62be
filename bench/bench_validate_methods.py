"""Time `make validate-methods` step by step against its budget (30 minutes on 2 cores).

Runs each command of the Makefile's ``validate-methods`` recipe (read from the Makefile, so the
two cannot drift apart) in this checkout, so it rewrites the committed files under
``data/model``; it then says whether they came out byte-identical (``git status``). The load
average is printed before and after each step: on a shared machine the times are upper bounds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

BUDGET_SECONDS = 30 * 60.0
ROOT = Path(__file__).resolve().parents[1]


def steps(makefile: Path = ROOT / "Makefile") -> list[list[str]]:
    """The ``python -m anrs119 ...`` commands of the ``validate-methods`` recipe, in order."""
    lines = makefile.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("validate-methods:"))
    out = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        found = re.search(r"-m anrs119 (.+)$", line)
        if found:
            out.append(found.group(1).split())
    return out


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    total = 0.0
    for step in steps():
        before = load()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "anrs119", *step, "--quiet"], check=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        total += seconds
        print(f"{' '.join(step):26s} {seconds:7.1f} s  (load {before} -> {load()})", flush=True)
    verdict = "within" if total <= BUDGET_SECONDS else "OVER"
    print(f"make validate-methods: {total:.1f} s ({verdict} the {BUDGET_SECONDS:.0f} s budget)")
    changed = subprocess.run(["git", "status", "--porcelain", "data"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    print("outputs byte-identical to the committed ones" if not changed else f"changed:\n{changed}")


if __name__ == "__main__":
    main()
