"""The reproducibility record of a build: package versions, data provenance, input fingerprint."""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata

import pandas as pd

from anrs119.build import inputs_fingerprint
from anrs119.data import Dataset

KEY_PACKAGES: tuple[str, ...] = (
    "anrs119",
    "numpy",
    "pandas",
    "scipy",
    "lifelines",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "jupyter-book",
    "myst-nb",
    "sphinx",
    "jupytext",
)


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> pd.DataFrame:
    rows = []
    for name in names:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        rows.append({"Package": name, "Version": version})
    rows.append({"Package": "python", "Version": sys.version.split()[0]})
    rows.append({"Package": "platform", "Version": platform.platform()})
    return pd.DataFrame(rows)


PROVENANCE_LABELS: dict[str, str] = {
    "method": "How it was made",
    "generated_by": "Command that made it",
    "seed": "Random seed",
    "pool_per_arm": "Simulated patients per arm in the pool",
    "attempt": "Pools tried before this one",
    "every_claim_as_published": "Every published number printed as published",
    "package_version": "Version of the anrs119 package",
}
"""The scalar fields of the synthetic data's provenance.json, in words and in this order (the
``synthetic`` flag is the row "Synthetic" already)."""


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def dataset_record(dataset: Dataset) -> pd.DataFrame:
    """What the dataset is; for the synthetic one, the generator's provenance summary."""
    rows = [
        ("Data", dataset.source),
        ("Synthetic", _shown(dataset.is_synthetic)),
        ("Patients", str(len(dataset.adsl))),
    ]
    provenance_file = dataset.path / "provenance.json"
    if dataset.is_synthetic and provenance_file.exists():
        provenance = json.loads(provenance_file.read_text(encoding="utf-8"))
        for key, label in PROVENANCE_LABELS.items():
            value = provenance.get(key)
            if isinstance(value, str | int | float | bool):
                rows.append((label, _shown(value)))
    return pd.DataFrame(rows, columns=["Item", "Value"])


def build_record() -> dict[str, str]:
    return {
        "build_time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "fingerprint": inputs_fingerprint()[:16],
    }
