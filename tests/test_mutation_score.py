"""The kill rate printed by `make mutation`: by hand."""

from __future__ import annotations

import json

from tests.mutation_score import kill_rate, main


def test_kill_rate_counts_timeouts_as_caught_and_untested_mutants_as_survivors(tmp_path, capsys):
    stats = {
        "killed": 80,
        "survived": 10,
        "total": 100,
        "no_tests": 5,
        "skipped": 2,
        "suspicious": 0,
        "timeout": 3,
        "check_was_interrupted_by_user": 0,
        "segfault": 0,
    }
    assert kill_rate(stats) == (100 * 83 / 98, 83, 98)
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(stats))
    assert main([str(path)]) == 0
    assert "84.7%" in capsys.readouterr().out
    assert main([str(path), "--min", "90"]) == 1


def test_a_partial_run_says_how_many_mutants_were_not_run(tmp_path, capsys):
    """mutmut counts mutants it has not run yet in the total only: the headline counts them as
    not caught, and a second line gives the rate over the mutants run."""
    stats = {"killed": 45, "survived": 5, "total": 100, "no_tests": 0, "skipped": 0}
    stats |= {"suspicious": 0, "timeout": 0, "check_was_interrupted_by_user": 0, "segfault": 0}
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(stats))
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "45.0%" in out and "50 mutants not run" in out and "over the 50 run: 90.0%" in out
    complete = {**stats, "total": 50}
    path.write_text(json.dumps(complete))
    main([str(path)])
    assert "not run" not in capsys.readouterr().out
