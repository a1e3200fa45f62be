"""Command line: ``python -m anrs119 {claims,forensic,calibrate,data,validate,scorecard,...}``.

Each subcommand is a thin wrapper around a tested library function; heavy modules are imported
only when their subcommand runs, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def _claims(args: argparse.Namespace) -> int:
    from anrs119.published import load_claims

    claims = load_claims()
    if args.results_only:
        claims = claims[claims["kind"] == "result"]
    columns = ["arm", "statistic", "reported_as", "source"]
    print(claims[columns].to_string())
    return 0


def _cache_guard(args: argparse.Namespace) -> int:
    from anrs119.build import guard_cache

    emptied = guard_cache(Path(args.build_dir))
    print(
        "inputs changed: emptied the execution cache and built pages"
        if emptied
        else "inputs unchanged: the execution cache is still valid"
    )
    return 0


def _forensic(args: argparse.Namespace) -> int:
    from anrs119.forensic import write_allocation

    print(f"wrote {write_allocation()}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from anrs119.model import run_calibration

    print(f"wrote {run_calibration()}")
    return 0


def _data(args: argparse.Namespace) -> int:
    from anrs119.data import write_xpt_downloads
    from anrs119.model import generate_data

    for path in [*generate_data(progress=not args.quiet), *write_xpt_downloads()]:
        print(f"wrote {path}")
    return 0


def _operating(args: argparse.Namespace) -> int:
    from anrs119.model.operating import base_parameters, write_operating

    print(f"wrote {write_operating(base_parameters(), progress=not args.quiet)}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from anrs119.data import validate_main

    return validate_main(Path(args.path))


def _scorecard(args: argparse.Namespace) -> int:
    from anrs119.report.scorecard import scorecard_main

    return scorecard_main()


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "claims": ("print the published claims registry (validated)", _claims),
    "forensic": ("re-derive the arm sizes and counts -> data/forensic/allocation.json", _forensic),
    "calibrate": ("fit the synthetic-trial model to the claims -> data/model/", _calibrate),
    "data": (
        "regenerate the embedded synthetic ADaM tables -> data/synthetic/ (CSV and xpt/)",
        _data,
    ),
    "operating": (
        "simulate power, type I error and coverage -> data/model/operating.csv",
        _operating,
    ),
    "validate": ("check a folder of ADaM tables against the schema", _validate),
    "scorecard": (
        "every claim: reproduced (a) and predicted (b); exit 1 if any fails (a)",
        _scorecard,
    ),
    "cache-guard": ("empty the build caches if src/ or data/ changed", _cache_guard),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m anrs119",
        description=(
            "Rebuild the published results of the ANRS 119 trial. The dataset is the embedded "
            "synthetic reconstruction unless ANRS119_DATA names a folder of ADaM tables."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, handler) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        if name == "claims":
            command.add_argument("--results-only", action="store_true", help="omit design facts")
        elif name in ("data", "operating"):
            command.add_argument("--quiet", action="store_true", help="no progress bar")
        elif name == "validate":
            command.add_argument("path", help="folder with adsl.csv, adlb.csv, adtte.csv, adae.csv")
        elif name == "cache-guard":
            command.add_argument("--build-dir", default="_build", help="the book's build folder")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
