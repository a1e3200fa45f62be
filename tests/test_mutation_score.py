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
