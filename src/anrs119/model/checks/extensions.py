"""Model variants confronted with the subgroup result: the book's model and its extensions, each
with its own prior, simulated into its own reference table.

A variant fixes some of the simulator's model options (``kernel.MODEL_OPTIONS``, off in the
book's model) and may add free parameters whose literature priors live in
``data/model/extension_priors.csv`` (the format of ``priors.csv``). Its reference table is built
like the book's (seeded chunks, the same seed, so the first trials of every table share their
parameter draws and random numbers: common random numbers), smaller, and cached beside it. The
book's model needs no new simulation: the first ``size`` trials of its 1,000,000-trial table are
exactly the table of that size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from anrs119.model.inference.priors import Priors, load_priors
from anrs119.model.inference.reference import (
    CHUNK,
    REFERENCE_SIZE,
    ReferenceTable,
    build_reference_table,
    cache_folder,
    cache_key,
    load_table,
    reference_table,
    save_table,
)
from anrs119.model.inference.statistics import base_values
from anrs119.paths import MODEL_DIR
from anrs119.seeds import REFERENCE_SEED

EXTENSION_PRIORS_FILE: Path = MODEL_DIR / "extension_priors.csv"


@dataclass(frozen=True)
class Variant:
    """A model: the book's (no options, no extra parameter) or an extension."""

    name: str
    label: str
    options: dict[str, float] = field(default_factory=dict)
    """Model options fixed for every trial (``kernel.MODEL_OPTIONS``)."""
    extra: tuple[str, ...] = ()
    """Extra free parameters, with priors in ``extension_priors.csv``."""
    description: str = ""

    @property
    def is_base(self) -> bool:
        return not self.options and not self.extra


BASE = Variant(
    "base",
    "the book's model",
    description="IL-2 gains independent of viral load; ART started on the true CD4 count",
)
VL_MODIFIED = Variant(
    "vl_modified_il2",
    "IL-2 gain varies with viral load",
    extra=("il2_gain_vl",),
    description="each patient's IL-2 gain multiplied by exp(b x (true baseline log10 VL minus the "
    "population mean)), b with its own literature prior",
)
ART_MEASURED = Variant(
    "art_on_measured",
    "ART started on measured CD4",
    options={"art_on_measured": 1.0},
    description="the ART-start hazard follows the CD4 count and viral load measured at the "
    "latest visit, not the true values",
)
VARIANTS: tuple[Variant, ...] = (BASE, VL_MODIFIED, ART_MEASURED)


def kernel_names() -> tuple[str, ...]:
    from anrs119.model.simulator.kernel import KERNEL_PARAMETERS

    return KERNEL_PARAMETERS


def available(variant: Variant) -> bool:
    """Whether the simulator has the variant's options and parameters."""
    names = set(kernel_names())
    return all(n in names for n in (*variant.options, *variant.extra))


def variant_priors(variant: Variant, path: Path = EXTENSION_PRIORS_FILE) -> Priors:
    """The book's priors, then the variant's extra parameters' priors (sampled last, so the
    book's parameters get the same draws from the same seed)."""
    base = load_priors()
    if not variant.extra:
        return base
    extra = load_priors(path, required=variant.extra)
    return Priors((*base.priors, *(extra[n] for n in variant.extra)))


def variant_base(variant: Variant, priors: Priors) -> dict[str, float]:
    base = base_values(priors)
    base.update(variant.options)
    return base


def _variant_key(variant: Variant, size: int, seed: int, chunk: int) -> str:
    h = hashlib.sha256(cache_key(size, seed, chunk).encode())
    h.update(repr((variant.name, sorted(variant.options.items()), variant.extra)).encode())
    h.update(Path(__file__).read_bytes())
    if variant.extra:
        h.update(EXTENSION_PRIORS_FILE.read_bytes())
    return h.hexdigest()[:16]


def variant_table(
    variant: Variant,
    size: int,
    seed: int = REFERENCE_SEED,
    *,
    chunk: int = CHUNK,
    progress: bool = True,
    cache: bool = True,
) -> ReferenceTable:
    """The variant's reference table of ``size`` trials (cached like the book's table). For the
    book's model: the first ``size`` trials of its full table, which are that table."""
    if variant.is_base and seed == REFERENCE_SEED and size <= REFERENCE_SIZE and size % chunk == 0:
        return reference_table(REFERENCE_SIZE, seed, chunk=chunk, progress=progress).take(
            slice(0, size)
        )
    if not available(variant):
        raise RuntimeError(f"the simulator has no option or parameter for {variant.name!r}")
    name = f"extension-{variant.name}-{size}-{_variant_key(variant, size, seed, chunk)}.npz"
    path = cache_folder() / name
    if cache and path.exists():
        return load_table(path)
    table = build_variant_table(variant, size, seed, chunk=chunk, progress=progress)
    if cache:
        save_table(table, path)
    return table


def build_variant_table(
    variant: Variant,
    size: int,
    seed: int = REFERENCE_SEED,
    *,
    chunk: int = CHUNK,
    progress: bool = True,
) -> ReferenceTable:
    """The variant's table, simulated as the book's (:func:`build_reference_table`)."""
    return build_reference_table(
        size,
        seed,
        chunk=chunk,
        priors=variant_priors(variant),
        options=variant.options,
        progress=progress,
        desc=f"reference table ({variant.label})",
    )
