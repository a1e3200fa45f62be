"""The container of simulated trials: per-patient arrays over replicate trials (R, N), with the
per-visit arrays (R, N, V) when they were kept."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class Trials:
    """Simulated trials: (R, N) per patient; times in weeks, inf = not within follow-up.

    Event times are latent (no censoring); ``t_last`` is the last visit the patient attended
    before the data cut-off (``fu_end``) or loss to follow-up (``t_drop``), where an analysis
    censors. ``t_cd4`` dates the CD4 end point at the first low count, ``t_cd4_known`` at the
    visit that confirms it. ``cd4_w``/``vl_w`` are the measured values at the primary week's
    visit (NaN if the visit was missed), ``cd4_locf``/``vl_locf`` the last measured before ART
    up to that week.
    The per-visit arrays (R, N, V) exist only when simulated with ``full=True``.
    """

    visits: np.ndarray
    cycles: np.ndarray
    week: float
    il2: np.ndarray
    age: np.ndarray
    male: np.ndarray
    entry: np.ndarray
    fu_end: np.ndarray
    t_drop: np.ndarray
    bcd4: np.ndarray
    bvl: np.ndarray
    t_cd4: np.ndarray
    t_cd4_known: np.ndarray
    t_art: np.ndarray
    t_aids: np.ndarray
    t_death: np.ndarray
    t_primary: np.ndarray
    t_last: np.ndarray
    cd4_w: np.ndarray
    vl_w: np.ndarray
    cd4_locf: np.ndarray
    vl_locf: np.ndarray
    n_cycles: np.ndarray
    cd4_obs: np.ndarray | None = None
    vl_obs: np.ndarray | None = None
    attended: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.il2.shape  # type: ignore[return-value]

    @property
    def onart(self) -> np.ndarray:
        """(R, N, V): on ART at the visit (strictly after the start)."""
        return self.visits > self.t_art[..., None]

    @property
    def alive(self) -> np.ndarray:
        return self.visits < self.t_death[..., None]

    def observed(self) -> np.ndarray:
        """(R, N, V) mask of visits that take place: attended, alive, within follow-up."""
        if self.attended is None:
            raise ValueError("observed() needs the per-visit arrays: simulate with full=True")
        end = np.minimum(self.fu_end, self.t_drop)[..., None]
        return self.attended & self.alive & (self.visits <= end)

    def take(self, index: slice | int) -> Trials:
        """Replicates ``index`` (a slice, or one replicate kept as shape (1, N, ...))."""
        sl = slice(index, index + 1) if isinstance(index, int) else index
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v if f.name in ("visits", "cycles", "week") or v is None else v[sl]
        return Trials(**out)
