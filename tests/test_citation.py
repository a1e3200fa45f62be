"""Licences, citation metadata, version and changelog: present, valid and in agreement."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from anrs119 import __version__
from anrs119.paths import REPO_ROOT

SCHEMA = REPO_ROOT / "tests" / "schemas" / "cff-1.2.0.json"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]


def _citation() -> dict:
    return yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text("utf-8"))


def _validate_cff(data: dict) -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    validator.validate(data)


def test_citation_file_is_valid_cff_1_2() -> None:
    _validate_cff(_citation())


@pytest.mark.parametrize(
    "broken",
    [
        {"title": None},  # removed below
        {"cff-version": "1.1.0"},
        {"license": "MIT-ish"},
        {"references": [{"type": "article", "title": "no authors"}]},
    ],
)
def test_the_schema_check_can_fail(broken: dict) -> None:
    data = _citation()
    for key, value in broken.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    with pytest.raises(jsonschema.ValidationError):
        _validate_cff(data)


def test_citation_cites_the_trial_paper() -> None:
    [paper] = [r for r in _citation()["references"] if r.get("doi") == "10.1086/599989"]
    assert paper["type"] == "article" and paper["year"] == 2009
    assert paper["authors"][0]["family-names"] == "Molina"


def test_one_version_everywhere() -> None:
    codemeta = json.loads((REPO_ROOT / "codemeta.json").read_text("utf-8"))
    versions = {
        "pyproject.toml": PYPROJECT["version"],
        "anrs119.__version__": __version__,
        "CITATION.cff": str(_citation()["version"]),
        "codemeta.json": codemeta["version"],
    }
    assert len(set(versions.values())) == 1, versions
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text("utf-8")
    newest = re.search(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)
    assert newest and newest.group(1) == __version__, "CHANGELOG.md's newest entry is not it"


def test_codemeta_agrees_with_the_package() -> None:
    codemeta = json.loads((REPO_ROOT / "codemeta.json").read_text("utf-8"))
    assert codemeta["name"] == PYPROJECT["name"]
    assert codemeta["description"] == PYPROJECT["description"]
    assert codemeta["softwareRequirements"] == sorted(PYPROJECT["dependencies"])
    assert codemeta["license"] == [
        "https://spdx.org/licenses/MIT",
        "https://spdx.org/licenses/CC-BY-4.0",
    ]


def test_licences_are_stated_where_readers_look() -> None:
    assert "MIT License" in (REPO_ROOT / "LICENSE").read_text("utf-8")
    text = (REPO_ROOT / "LICENSE-TEXT.md").read_text("utf-8")
    assert "CC BY 4.0" in text and "source data" in text.lower()
    assert PYPROJECT["license"] == "MIT AND CC-BY-4.0"
    assert set(_citation()["license"]) == {"MIT", "CC-BY-4.0"}
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text("utf-8"))
    footer = config["sphinx"]["config"]["html_theme_options"]["extra_footer"]
    assert "MIT" in footer and "CC BY 4.0" in footer
    assert "extra_footer" not in config["html"]  # the theme options would silently replace it
    readme = (REPO_ROOT / "README.md").read_text("utf-8")
    assert "## Licence" in readme and "CC BY 4.0" in readme and "CITATION.cff" in readme


def test_the_wheel_carries_the_licences() -> None:
    assert set(PYPROJECT["license-files"]) == {"LICENSE", "LICENSE-TEXT.md"}
    assert all((REPO_ROOT / name).is_file() for name in PYPROJECT["license-files"])


def test_how_to_cite_is_in_the_book() -> None:
    page = (REPO_ROOT / "chapters" / "reproducibility.md").read_text("utf-8")
    assert "## How to cite" in page


def test_schema_kept_in_the_repository_is_cff_1_2_0() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    assert Path(SCHEMA.parent / "README.md").is_file()
