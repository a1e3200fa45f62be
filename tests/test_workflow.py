"""The publishing workflow: valid for GitHub Actions, and it does what the README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from anrs119.paths import REPO_ROOT
from anrs119.publication import REPOSITORY_VAR, SITE_VAR

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "book.yml"
CHECK = Path(sys.executable).parent / "check-jsonschema"


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    """SchemaStore's GitHub workflow schema, as vendored by check-jsonschema (offline)."""
    return subprocess.run(
        [str(CHECK), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text("utf-8"))


def test_workflow_is_valid() -> None:
    result = _check(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "breakage",
    [
        lambda w: w["jobs"]["test"].pop("runs-on"),
        lambda w: w["jobs"]["test"]["steps"][0].update({"uses": 42}),
        lambda w: w.update({"permissions": {"pages": "sometimes"}}),
    ],
)
def test_the_check_can_fail(breakage, tmp_path: Path) -> None:
    def dump(workflow: dict, name: str) -> Path:
        path = tmp_path / name
        # PyYAML reads the key `on` as True and writes it back as `true`
        text = yaml.safe_dump(workflow, sort_keys=False).replace("true:", "on:", 1)
        path.write_text(text, encoding="utf-8")
        return path

    assert _check(dump(_workflow(), "same.yml")).returncode == 0  # the round trip is valid
    workflow = _workflow()
    breakage(workflow)
    assert _check(dump(workflow, "broken.yml")).returncode != 0


def _steps() -> list[dict]:
    return [step for job in _workflow()["jobs"].values() for step in job.get("steps", [])]


def test_it_runs_make_test_and_publishes_the_site() -> None:
    steps = _steps()
    runs = " ".join(step.get("run", "") for step in steps)
    uses = {step.get("uses", "").split("@")[0]: step for step in steps if "uses" in step}
    assert "make test" in runs
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert "actions/deploy-pages" in uses
    assert "_build/.jupyter_cache" in uses["actions/cache"]["with"]["path"]
    assert "notebooks-branch" in runs and "git push" in runs


def test_it_names_the_repository_to_the_build() -> None:
    env = _workflow()["jobs"]["test"]["env"]
    assert "github.repository" in env[REPOSITORY_VAR]
    assert SITE_VAR in env


def test_it_runs_in_debian() -> None:
    """`make browser` installs Debian's chromium; Ubuntu's chromium package is a snap stub."""
    assert "bookworm" in _workflow()["jobs"]["test"]["container"]
