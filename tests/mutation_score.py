"""Print the kill rate of a mutmut run (``make mutation``) from its CI/CD statistics file.

Killed counts mutants a test caught (a timeout counts as caught: the mutant made a test hang);
the rate is over every mutant that was run, so a mutant no selected test reaches ("no tests")
counts as surviving, as it should. Usage: python -m tests.mutation_score FILE [--min PERCENT].
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def kill_rate(stats: dict[str, int]) -> tuple[float, int, int]:
    """(percent caught, caught, counted): skipped mutants and interrupted runs are not counted."""
    caught = int(stats["killed"]) + int(stats["timeout"])
    counted = (
        int(stats["total"])
        - int(stats["skipped"])
        - int(stats.get("check_was_interrupted_by_user", 0))
    )
    return (100.0 * caught / counted if counted else float("nan")), caught, counted


OUTCOMES: tuple[str, ...] = (
    "killed",
    "survived",
    "no_tests",
    "skipped",
    "suspicious",
    "timeout",
    "check_was_interrupted_by_user",
    "segfault",
)


def not_run(stats: dict[str, int]) -> int:
    """Mutants with no outcome yet (a partial or interrupted run): mutmut counts them in the
    total only."""
    return int(stats["total"]) - sum(int(stats.get(k, 0)) for k in OUTCOMES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stats", type=Path)
    parser.add_argument("--min", type=float, default=None, help="fail below this kill rate")
    args = parser.parse_args(argv)
    stats = json.loads(args.stats.read_text(encoding="utf-8"))
    rate, caught, counted = kill_rate(stats)
    print(
        f"mutation kill rate: {rate:.1f}% ({caught} of {counted} mutants caught; survived "
        f"{stats['survived']}, no tests {stats['no_tests']}, suspicious {stats['suspicious']}, "
        f"timeouts {stats['timeout']}, skipped {stats['skipped']})"
    )
    missing = not_run(stats)
    if missing:
        # the headline counts them as not caught; give the rate over the mutants run beside it
        run = {**stats, "total": int(stats["total"]) - missing}
        rate_run, caught_run, counted_run = kill_rate(run)
        print(
            f"partial run: {missing} mutants not run (counted above as not caught); over the "
            f"{counted_run} run: {rate_run:.1f}% ({caught_run} caught)"
        )
    return 1 if args.min is not None and rate < args.min else 0


if __name__ == "__main__":
    sys.exit(main())
