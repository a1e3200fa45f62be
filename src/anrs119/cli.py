"""Command line: ``python -m anrs119 {claims,forensic,calibrate,data,validate,scorecard,...}``.

Each subcommand is a thin wrapper around a tested library function; heavy modules are imported
only when their subcommand runs, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from anrs119.paths import MODEL_DIR


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

    for path in run_calibration(progress=not args.quiet):
        print(f"wrote {path}")
    return 0


def _priors(args: argparse.Namespace) -> int:
    from anrs119.model.inference.priors import refresh_priors

    print(f"wrote {refresh_priors()}")
    return 0


def _data(args: argparse.Namespace) -> int:
    from anrs119.data import write_xpt_downloads
    from anrs119.model import generate_data

    for path in [*generate_data(progress=not args.quiet), *write_xpt_downloads()]:
        print(f"wrote {path}")
    return 0


def _operating(args: argparse.Namespace) -> int:
    from anrs119.model.operating.characteristics import base_parameters, write_operating

    print(f"wrote {write_operating(base_parameters(), progress=not args.quiet)}")
    return 0


def _ensemble(args: argparse.Namespace) -> int:
    from anrs119.model.reconstruction.ensemble import generate_ensemble

    for path in generate_ensemble(progress=not args.quiet):
        print(f"wrote {path}")
    return 0


def _whatif(args: argparse.Namespace) -> int:
    from anrs119.model.reconstruction.whatif import whatif_main

    return whatif_main(Path(args.path), progress=not args.quiet, reduced=args.reduced)


def _validate_reconstructions(args: argparse.Namespace) -> int:
    from anrs119.model.reconstruction import calibration, mixing
    from anrs119.model.reconstruction.whatif import book_reference

    m = mixing.run_mixing(mixing.REDUCED if args.reduced else mixing.FULL, progress=not args.quiet)
    paths = mixing.write_mixing(m, Path(args.folder))
    c = calibration.run_calibration(
        calibration.REDUCED if args.reduced else calibration.FULL,
        progress=not args.quiet,
        reference=book_reference(args.reduced, not args.quiet),
    )
    paths += calibration.write_calibration(c, Path(args.folder))
    for path in paths:
        print(f"wrote {path}")
    return 0


def _one_blas_thread() -> None:
    """Many small least-squares fits: one BLAS thread each (set before numpy loads; on a loaded
    two-core machine the threaded solver took fifty times longer)."""
    import os

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _sbc(args: argparse.Namespace) -> int:
    from anrs119.model.checks.sbc import sbc_main

    for path in sbc_main(progress=not args.quiet):
        print(f"wrote {path}")
    return 0


def _validate_whatif(args: argparse.Namespace) -> int:
    from anrs119.model.reconstruction import whatif
    from anrs119.model.reconstruction.assess import FULL, REDUCED

    tables = whatif.validate_whatif(
        REDUCED if args.reduced else FULL,
        progress=not args.quiet,
        reference=whatif.book_reference(args.reduced, not args.quiet),
    )
    for path in whatif.write_whatif(tables, Path(args.folder)):
        print(f"wrote {path}")
    return 0


def _validate_extensions(args: argparse.Namespace) -> int:
    from anrs119.model.checks.confrontation import confrontation_main

    for path in confrontation_main(progress=not args.quiet):
        print(f"wrote {path}")
    return 0


def _validate_estimands(args: argparse.Namespace) -> int:
    from anrs119.model.checks.estimands import run_validation

    for path in run_validation(progress=not args.quiet):
        print(f"wrote {path}")
    return 0


def _compile(args: argparse.Namespace) -> int:
    from anrs119.model.compiled import compile_kernels

    print(f"compiled the numba kernels into their cache in {compile_kernels():.0f} s")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from anrs119.data import validate_main

    return validate_main(Path(args.path))


def _scorecard(args: argparse.Namespace) -> int:
    from anrs119.report.scorecard import scorecard_main

    return scorecard_main()


def _pdf(args: argparse.Namespace) -> int:
    from anrs119.pdf import PdfError, build_pdf

    try:
        path = build_pdf(output=Path(args.path_output) if args.path_output else None)
    except PdfError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def _notebooks_branch(args: argparse.Namespace) -> int:
    from anrs119.distribution import write_notebooks_branch

    for path in write_notebooks_branch(Path(args.site), Path(args.target)):
        print(f"wrote {path}")
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "claims": ("print the published claims registry (validated)", _claims),
    "forensic": ("re-derive the arm sizes and counts -> data/forensic/allocation.json", _forensic),
    "priors": ("validate data/model/priors.csv and refill its quantile columns", _priors),
    "calibrate": (
        "reference table (cached) and the posterior given the claims -> data/model/posterior*",
        _calibrate,
    ),
    "data": (
        "from the stored posterior: checks, sensitivity, the embedded reconstruction (CSV, XPT)",
        _data,
    ),
    "ensemble": (
        "200 exact reconstructions at posterior draws -> data/model/ensemble*.csv",
        _ensemble,
    ),
    "operating": (
        "simulate power, type I error and coverage -> data/model/operating.csv",
        _operating,
    ),
    "sbc": (
        "simulation-based calibration of the posterior method -> data/model/sbc.csv",
        _sbc,
    ),
    "validate-extensions": (
        "the model against the subgroup result: leave-outs, priors, extensions "
        "-> data/model/confrontation_*",
        _validate_extensions,
    ),
    "validate-estimands": (
        "IPCW and mixed model against the known no-ART truth -> data/model/estimands_*.csv",
        _validate_estimands,
    ),
    "validate": ("check a folder of ADaM tables against the schema", _validate),
    "whatif": (
        "how plausible an abstract in the claims registry's format is under the model",
        _whatif,
    ),
    "validate-reconstructions": (
        "mixing of the reconstruction walk and calibration on simulated abstracts -> "
        "data/model/reconstruction_*.csv, ensemble_calibration.csv, simulated_abstracts.csv",
        _validate_reconstructions,
    ),
    "validate-whatif": (
        "the what-if verdict of the published and of named abstracts -> data/model/whatif.csv "
        "and whatif_crossclaim.csv",
        _validate_whatif,
    ),
    "scorecard": (
        "every claim: reproduced (a) and predicted (b); exit 1 if any fails (a)",
        _scorecard,
    ),
    "cache-guard": ("empty the build caches if src/ or data/ changed", _cache_guard),
    "compile": ("compile the numba kernels once into numba's on-disk cache", _compile),
    "pdf": ("print the built book to _build/pdf/anrs119-book.pdf (build the site first)", _pdf),
    "notebooks-branch": (
        "the executed notebooks and a Binder set-up, from the built site, for the notebooks branch",
        _notebooks_branch,
    ),
}


QUIET_COMMANDS: tuple[str, ...] = (
    "data",
    "calibrate",
    "operating",
    "ensemble",
    "sbc",
    "validate-extensions",
    "validate-estimands",
)
"""Commands with a progress bar that ``--quiet`` turns off."""


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
        elif name in QUIET_COMMANDS:
            command.add_argument("--quiet", action="store_true", help="no progress bar")
        elif name == "validate":
            command.add_argument("path", help="folder with adsl.csv, adlb.csv, adtte.csv, adae.csv")
        elif name in ("whatif", "validate-reconstructions", "validate-whatif"):
            if name == "whatif":
                command.add_argument("path", help="claims table in the registry's format")
            else:
                command.add_argument("--folder", default=str(MODEL_DIR), help="output folder")
            command.add_argument("--quiet", action="store_true", help="no progress bar")
            command.add_argument(
                "--reduced", action="store_true", help="small sizes (a smoke test, not a result)"
            )
        elif name == "cache-guard":
            command.add_argument("--build-dir", default="_build", help="the book's build folder")
        elif name == "pdf":
            command.add_argument(
                "--path-output", default=None, help="jupyter-book's --path-output of the site build"
            )
        elif name == "notebooks-branch":
            command.add_argument("site", help="the built site (_build/html)")
            command.add_argument("target", help="an empty folder to fill")
    return parser


def _input_errors() -> tuple[type[Exception], ...]:
    from anrs119.model.checks.confrontation import AlternativesError
    from anrs119.model.inference.priors import PriorsError
    from anrs119.model.inference.sample import PosteriorError
    from anrs119.model.simulator.parameters import ModelInputError
    from anrs119.published import ClaimsError

    return (AlternativesError, ClaimsError, ModelInputError, PosteriorError, PriorsError)


def main(argv: Sequence[str] | None = None) -> int:
    from anrs119.extras import extra_of, missing_extra_message

    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ModuleNotFoundError as exc:  # an optional extra (e.g. the model's numba) is missing
        if exc.name is None or extra_of(exc.name) is None:
            raise
        print(
            f"error: {missing_extra_message(exc.name, f'anrs119 {args.command}')}", file=sys.stderr
        )
        return 2


ONE_BLAS_THREAD: tuple[str, ...] = (
    "sbc",
    "validate-extensions",
    "validate-estimands",
    "validate-reconstructions",
    "validate-whatif",
    "whatif",
)
"""Commands that set one BLAS thread before anything loads numpy (:func:`_one_blas_thread`)."""


def _run(args: argparse.Namespace) -> int:
    if args.command in ONE_BLAS_THREAD:
        _one_blas_thread()
    if args.command not in ("calibrate", "data", "priors", *ONE_BLAS_THREAD):
        return int(args.handler(args))
    errors = _input_errors()
    try:
        return int(args.handler(args))
    except errors as exc:  # a bad input file: the message names file, line, field and rule
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
