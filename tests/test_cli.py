"""The command line: help works, and each subcommand reaches its library function."""

from __future__ import annotations

import subprocess
import sys

import pytest

from anrs119.cli import COMMANDS, build_parser, main


def test_help_lists_every_subcommand() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "anrs119", "--help"], capture_output=True, text=True, check=True
    )
    for name in COMMANDS:
        assert name in result.stdout


def test_unknown_subcommand_fails() -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["nonsense"])
    assert caught.value.code == 2


def test_claims_prints_results(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claims", "--results-only"]) == 0
    out = capsys.readouterr().out
    assert "primary_w96_p" in out and "n_randomized" not in out


def test_bad_priors_file_gives_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    import anrs119.model.inference.priors as priors

    bad = tmp_path / "priors.csv"
    bad.write_text("parameter,distribution\n", encoding="utf-8")
    monkeypatch.setattr(priors, "PRIORS_FILE", bad)
    monkeypatch.setattr(priors.refresh_priors, "__defaults__", (bad,))
    assert main(["priors"]) == 2
    err = capsys.readouterr().err
    assert "priors.csv" in err and "header" in err and "Traceback" not in err


def test_a_bad_alternative_prior_stops_validate_extensions_before_any_simulation(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    import anrs119.model.checks.confrontation as cf

    bad = tmp_path / "prior_alternatives.csv"
    bad.write_text(",".join(cf.ALTERNATIVE_COLUMNS) + "\nx,nonsense,normal,1,1,,,s,r\n")
    monkeypatch.setattr(cf.load_alternatives, "__defaults__", (bad, None))
    monkeypatch.setenv("ANRS119_CACHE", str(tmp_path / "empty"))  # a table would be simulated
    assert main(["validate-extensions"]) == 2
    err = capsys.readouterr().err
    assert "prior_alternatives.csv: line 2: field parameter" in err and "Traceback" not in err
    assert not (tmp_path / "empty").exists()


def test_validate_estimands_runs_the_validation_and_names_what_it_wrote(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    import anrs119.model.checks.estimands as est

    calls = []

    def fake(progress: bool) -> list:
        calls.append(progress)
        return [tmp_path / "estimands_validation.csv"]

    monkeypatch.setattr(est, "run_validation", fake)
    assert main(["validate-estimands", "--quiet"]) == 0
    assert calls == [False]
    assert "estimands_validation.csv" in capsys.readouterr().out
