"""Literature priors of the free model parameters: load and validate ``data/model/priors.csv``.

Each prior is a normal or log-normal distribution (optionally truncated), exposed as a frozen
``scipy.stats`` distribution on the parameter's own scale and on an internal scale (the value,
or its log) on which the calibration moves.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from anrs119.paths import MODEL_DIR

PRIORS_FILE: Path = MODEL_DIR / "priors.csv"

COLUMNS: tuple[str, ...] = (
    "parameter",
    "distribution",
    "loc",
    "scale",
    "lower",
    "upper",
    "prior_median",
    "prior_low95",
    "prior_high95",
    "provenance",
    "confidence",
    "source",
    "reason",
)
DISTRIBUTIONS: frozenset[str] = frozenset({"normal", "lognormal"})
PROVENANCES: frozenset[str] = frozenset({"literature", "assumed"})
CONFIDENCES: dict[str, str] = {
    "R": "figure read in the cited text",
    "V": "unverified: the cited source's figure, not read at its source here",
    "D": "derived by arithmetic from read figures",
    "U": "no direct figure; weakly informative assumption",
}
QUANTILE_DIGITS: int = 4
"""Significant digits of the stored prior_median / prior_low95 / prior_high95 columns."""

FREE_PARAMETERS: tuple[str, ...] = (
    "cd4_pop_median",
    "cd4_pop_sdlog",
    "cd4_noise_sdlog",
    "vl_mean",
    "cd4_slope_mean",
    "cd4_slope_sd",
    "cd4_slope_vl",
    "vl_drift_mean",
    "il2_gain_median",
    "il2_gain_sdlog",
    "il2_halflife",
    "il2_vl_effect",
    "art_rate_ref",
    "art_cd4_loghr",
)
"""The free parameters of the model contract (CONTRACT-model.md, section 3), in its order."""


class PriorsError(ValueError):
    """A row of the priors table breaks a rule; the message names file, line, field and rule."""


def _sig(x: float, digits: int = QUANTILE_DIGITS) -> float:
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


@dataclass(frozen=True)
class Prior:
    """One parameter's prior: ``normal(loc, scale)`` or ``lognormal(median=loc, sdlog=scale)``,
    truncated to ``[lower, upper]`` (None = unbounded)."""

    parameter: str
    distribution: str
    loc: float
    scale: float
    lower: float | None
    upper: float | None
    provenance: str
    confidence: str
    source: str
    reason: str

    @property
    def log_scale(self) -> bool:
        return self.distribution == "lognormal"

    def to_internal(self, x: np.ndarray | float) -> np.ndarray:
        """Natural value -> internal coordinate (log for log-normal priors)."""
        x = np.asarray(x, dtype=float)
        return np.log(x) if self.log_scale else x

    def to_natural(self, u: np.ndarray | float) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        return np.exp(u) if self.log_scale else u

    def internal_bounds(self) -> tuple[float, float]:
        lo = -math.inf if self.lower is None else self.lower
        hi = math.inf if self.upper is None else self.upper
        if self.log_scale:
            lo = -math.inf if lo <= 0 else math.log(lo)
            hi = math.inf if hi == math.inf else math.log(hi)
        return lo, hi

    @property
    def internal(self) -> stats.rv_continuous:
        """Frozen normal (truncated if bounded) on the internal scale."""
        mu = math.log(self.loc) if self.log_scale else self.loc
        lo, hi = self.internal_bounds()
        if lo == -math.inf and hi == math.inf:
            return stats.norm(mu, self.scale)
        return stats.truncnorm((lo - mu) / self.scale, (hi - mu) / self.scale, mu, self.scale)

    @property
    def dist(self) -> stats.rv_continuous:
        """Frozen distribution of the parameter itself (scipy.stats)."""
        if self.log_scale:
            return stats.lognorm(self.scale, scale=self.loc)
        return self.internal

    def quantiles(self, q: np.ndarray | list[float]) -> np.ndarray:
        return self.to_natural(self.internal.ppf(np.asarray(q, dtype=float)))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws with a numpy Generator (inverse CDF: one uniform per draw)."""
        return self.quantiles(rng.random(size))

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        return np.asarray(self.dist.logpdf(x), dtype=float)

    def summary(self) -> dict[str, float]:
        med, lo, hi = self.quantiles([0.5, 0.025, 0.975])
        return {"prior_median": _sig(med), "prior_low95": _sig(lo), "prior_high95": _sig(hi)}


@dataclass(frozen=True)
class Priors:
    """The priors of all free parameters, in the contract's order."""

    priors: tuple[Prior, ...]

    def __iter__(self) -> Iterator[Prior]:
        return iter(self.priors)

    def __len__(self) -> int:
        return len(self.priors)

    def __getitem__(self, name: str) -> Prior:
        for p in self.priors:
            if p.parameter == name:
                return p
        raise KeyError(f"no prior for parameter {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.parameter for p in self.priors)

    def medians(self) -> dict[str, float]:
        return {p.parameter: float(p.quantiles([0.5])[0]) for p in self.priors}

    def sample(self, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
        """Independent draws of every parameter (one stream, parameters in table order)."""
        return {p.parameter: p.sample(rng, size) for p in self.priors}

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for p in self.priors:
            rows.append(
                {
                    "parameter": p.parameter,
                    "distribution": p.distribution,
                    "loc": p.loc,
                    "scale": p.scale,
                    "lower": p.lower,
                    "upper": p.upper,
                    **p.summary(),
                    "provenance": p.provenance,
                    "confidence": p.confidence,
                    "source": p.source,
                    "reason": p.reason,
                }
            )
        return pd.DataFrame(rows, columns=list(COLUMNS))


def _number(text: str, *, optional: bool) -> float | None:
    text = text.strip()
    if not text:
        if optional:
            return None
        raise ValueError("a number is required")
    value = float(text)
    if math.isnan(value):
        raise ValueError("a number is required, not NaN")
    return value


def _fail(path: Path, line: int, field: str, rule: str, got: object) -> PriorsError:
    from anrs119.published import display_path

    return PriorsError(f"{display_path(path)}: line {line}: field {field}: {rule} (got {got!r})")


def _parse_row(row: Mapping[str, str], path: Path, line: int, check_summary: bool) -> Prior:
    def fail(field: str, rule: str) -> PriorsError:
        return _fail(path, line, field, rule, row.get(field))

    name = (row.get("parameter") or "").strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise fail("parameter", "a lower-case snake_case parameter name")
    dist = (row.get("distribution") or "").strip()
    if dist not in DISTRIBUTIONS:
        raise fail("distribution", f"one of {sorted(DISTRIBUTIONS)}")
    values: dict[str, float | None] = {}
    for field, optional in (("loc", False), ("scale", False), ("lower", True), ("upper", True)):
        try:
            values[field] = _number(row.get(field) or "", optional=optional)
        except ValueError as exc:
            raise fail(field, f"a finite number{' or empty' if optional else ''}") from exc
    loc, scale, lower, upper = values["loc"], values["scale"], values["lower"], values["upper"]
    assert loc is not None and scale is not None
    if not (math.isfinite(scale) and scale > 0):
        raise fail("scale", "a positive finite number")
    if not math.isfinite(loc):
        raise fail("loc", "a finite number")
    if dist == "lognormal":
        if loc <= 0:
            raise fail("loc", "the median of a log-normal prior must be positive")
        if lower is not None or upper is not None:
            field = "lower" if lower is not None else "upper"
            raise fail(field, "a log-normal prior is not truncated: leave lower and upper empty")
    if lower is not None and upper is not None and not lower < upper:
        raise fail("upper", "upper must exceed lower")
    if lower is not None and loc < lower:
        raise fail("loc", "the centre must lie within [lower, upper]")
    if upper is not None and loc > upper:
        raise fail("loc", "the centre must lie within [lower, upper]")
    prov = (row.get("provenance") or "").strip()
    if prov not in PROVENANCES:
        raise fail("provenance", f"one of {sorted(PROVENANCES)}")
    conf = (row.get("confidence") or "").strip()
    if conf not in CONFIDENCES:
        raise fail("confidence", f"one of {sorted(CONFIDENCES)}")
    for field in ("source", "reason"):
        if not (row.get(field) or "").strip():
            raise fail(field, "must say where the prior comes from and why (not empty)")
    prior = Prior(
        parameter=name,
        distribution=dist,
        loc=loc,
        scale=scale,
        lower=lower,
        upper=upper,
        provenance=prov,
        confidence=conf,
        source=row["source"].strip(),
        reason=row["reason"].strip(),
    )
    if check_summary:
        for field, value in prior.summary().items():
            try:
                stored = _number(row.get(field) or "", optional=False)
            except ValueError as exc:
                raise fail(field, "a number (run `python -m anrs119 priors` to fill it)") from exc
            if not math.isclose(stored, value, rel_tol=10.0 ** (1 - QUANTILE_DIGITS)):
                raise fail(field, f"must equal the distribution's quantile {value:g}")
    return prior


def load_priors(
    path: Path = PRIORS_FILE,
    required: tuple[str, ...] = FREE_PARAMETERS,
    check_summary: bool = True,
) -> Priors:
    """Read and validate the priors table; every parameter of ``required`` needs one row."""
    from anrs119.published import display_path

    if not path.exists():
        raise PriorsError(f"{display_path(path)}: file missing; rule: the priors table exists")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = tuple(reader.fieldnames or ())
        if header != COLUMNS:
            raise PriorsError(
                f"{display_path(path)}: line 1: header: columns must be {', '.join(COLUMNS)} "
                f"(got {', '.join(header)})"
            )
        priors: list[Prior] = []
        for line, row in enumerate(reader, start=2):
            prior = _parse_row(row, path, line, check_summary)
            if prior.parameter in {p.parameter for p in priors}:
                raise _fail(path, line, "parameter", "one row per parameter", prior.parameter)
            if prior.parameter not in required:
                raise _fail(
                    path, line, "parameter", "a free parameter of the model", prior.parameter
                )
            priors.append(prior)
    missing = [n for n in required if n not in {p.parameter for p in priors}]
    if missing:
        raise PriorsError(
            f"{display_path(path)}: field parameter: every free parameter needs a prior "
            f"(missing: {', '.join(missing)})"
        )
    order = {n: i for i, n in enumerate(required)}
    return Priors(tuple(sorted(priors, key=lambda p: order[p.parameter])))


def write_priors(priors: Priors, path: Path = PRIORS_FILE) -> Path:
    """Write the table with its quantile columns filled in (deterministic bytes)."""
    frame = priors.to_frame()
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n", encoding="utf-8")
    return path


def refresh_priors(path: Path = PRIORS_FILE) -> Path:
    """Recompute the prior_median / prior_low95 / prior_high95 columns from the distributions."""
    return write_priors(load_priors(path, check_summary=False), path)
