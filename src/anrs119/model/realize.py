"""Pick the embedded synthetic trial among seeded replicates and write it as ADaM tables.

The embedded trial is the candidate replicate, among ``N_CANDIDATES`` drawn from the calibrated
model, whose analysed results land nearest the published claims under a standardised distance
(see :func:`distance`). Writing is deterministic: same inputs, same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anrs119 import ARM_CODES, ARMS, __version__
from anrs119.adam import SYNTHETIC_STUDYID
from anrs119.model.parameters import ALLOCATION_FILE, CALIBRATION_FILE, ParameterSet
from anrs119.model.simulate import (
    Trials,
    arm_indicator,
    follow_up_horizon,
    simulate,
    simulate_claims,
    visit_weeks,
)
from anrs119.model.summaries import (
    CHANGE_READING,
    DEFERRAL_READING,
    fisher_2x2,
)
from anrs119.paths import SYNTHETIC_DIR
from anrs119.seeds import REALIZATION_SEED

N_CANDIDATES: int = 10_000
CHUNK: int = 250
STUDYID: str = SYNTHETIC_STUDYID
"""Every row is marked synthetic in itself (STUDYID, and USUBJID = STUDYID-nnn), so a copy of
the tables without provenance.json is still recognised as synthetic."""

MISSING_PENALTY: float = 100.0
"""Distance added for a claim a candidate cannot estimate (e.g. a quantile not reached)."""


def primary_test(path: Path = ALLOCATION_FILE) -> str:
    """Test that reproduces the printed primary P value (forensic allocation), as a key."""
    test = json.loads(path.read_text(encoding="utf-8")).get("test", "chi2").lower()
    if "fisher" in test:
        return "fisher"
    if "yates" in test or "continuity" in test:
        return "chi2_yates"
    return "chi2"


def forensic_events(path: Path = ALLOCATION_FILE) -> dict[str, int]:
    """Week-96 event counts per arm of the forensic allocation."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {arm: int(data["events_w96_by_arm"][arm]) for arm in ARMS}


@dataclass(frozen=True)
class ClaimSpec:
    """What the distance and the tolerance check need to know about one result claim."""

    id: str
    value: float
    bound: str
    log_scale: bool
    tolerance_rule: str
    tolerance: float


SELECTION_TOLERANCE: dict[str, tuple[str, float]] = {
    # The criterion that picks the embedded draw among the candidates (assumed, kept from the
    # first version's registry so the committed trial regenerates byte for byte). It is not the
    # scorecard's tolerance: that one is computed from the data (anrs119.tolerance). Issue #12
    # replaces this selection by an exact reconstruction.
    "primary_w96_il2": ("abs", 5.0),
    "primary_w96_control": ("abs", 5.0),
    "primary_w96_p": ("p", 0.05),
    "cd4_change_w96_il2": ("abs", 15.0),
    "cd4_change_w96_control": ("abs", 15.0),
    "cd4_change_w96_p": ("p", 0.05),
    "vl_change_w96_il2": ("abs", 0.1),
    "vl_change_w96_control": ("abs", 0.1),
    "vl_change_w96_p": ("p", 0.05),
    "lowvl_free_w150_il2": ("abs", 8.0),
    "lowvl_free_w150_control": ("abs", 8.0),
    "lowvl_free_w150_p": ("p", 0.05),
    "lowvl_art_deferral": ("abs", 15.0),
    "safety_aids_similar": ("similar", 0.05),
    "safety_death_similar": ("similar", 0.05),
    "safety_grade34_similar": ("similar", 0.05),
}


def claim_specs(numeric: bool = True) -> tuple[ClaimSpec, ...]:
    """Result claims; ``numeric`` drops the qualitative 'similar' statements."""
    from anrs119.published import load_claims

    c = load_claims()
    res = c[c["kind"] == "result"]
    if numeric:
        res = res[res["value"].notna()]
    specs = []
    for i, r in res.iterrows():
        rule, amount = SELECTION_TOLERANCE.get(str(i), ("none", float("nan")))
        specs.append(
            ClaimSpec(
                id=str(i),
                value=float(r["value"]),
                bound=str(r["bound"]),
                log_scale=r["statistic"] == "p_value",
                tolerance_rule=rule,
                tolerance=amount,
            )
        )
    return tuple(specs)


def outside_tolerance(summaries: Mapping[str, np.ndarray], spec: ClaimSpec) -> np.ndarray:
    """True where a summary misses the claim by more than the registry's tolerance rule.

    ``abs:X``: farther than X; ``p:A``: opposite conclusion at level A (a bound that is met is
    never a miss); ``similar:A``: arms differ at level A.
    """
    x = np.asarray(summaries[spec.id], dtype=float)
    if spec.tolerance_rule == "similar":
        return ~(x >= spec.tolerance)
    if spec.tolerance_rule == "p":
        if spec.bound == "<":
            published_sig = spec.value <= spec.tolerance
            met = x < spec.value
        else:
            published_sig = spec.value < spec.tolerance
            met = np.zeros(x.shape, bool)
        return ~met & ~((x < spec.tolerance) == published_sig)
    if spec.tolerance_rule == "abs":
        return ~(np.abs(x - spec.value) <= spec.tolerance)
    return np.zeros(x.shape, bool)


def _transform(values: np.ndarray, log_scale: bool) -> np.ndarray:
    if not log_scale:
        return values
    with np.errstate(divide="ignore"):
        return np.log10(np.clip(values, 1e-300, 1.0))


def distance(summaries: Mapping[str, np.ndarray], specs: tuple[ClaimSpec, ...]) -> np.ndarray:
    """Sum over claims of ((summary - claim) / SD across candidates)^2.

    P values are compared on the log10 scale; a bound such as "P < .001" costs nothing when
    met and the squared standardised excess otherwise; a summary that cannot be estimated costs
    ``MISSING_PENALTY``.
    """
    total = np.zeros(next(iter(summaries.values())).shape)
    for spec in specs:
        x = _transform(np.asarray(summaries[spec.id], dtype=float), spec.log_scale)
        target = _transform(np.array(spec.value), spec.log_scale)
        finite = np.isfinite(x)
        sd = float(np.std(x[finite])) if finite.sum() > 2 else 1.0
        sd = sd if sd > 0 else 1.0
        diff = x - target
        if spec.bound == "<":
            diff = np.maximum(diff, 0.0)
        elif spec.bound == ">":
            diff = np.minimum(diff, 0.0)
        total += np.where(finite, (diff / sd) ** 2, MISSING_PENALTY)
    return total


@dataclass(frozen=True)
class Choice:
    """The chosen replicate: index among the candidates, its trial arrays and summaries."""

    index: int
    trial: Trials
    summaries: dict[str, float]
    distance: float
    distances: np.ndarray
    n_matching: int
    n_outside_tolerance: int
    n_matching_within_tolerance: int
    n_within_tolerance: int


def _take(tr: Trials, i: int) -> Trials:
    """Replicate ``i`` of a chunk, keeping the (1, N, ...) shapes."""
    return tr.take(i)


def choose_replicate(
    p: Mapping[str, float],
    n_candidates: int = N_CANDIDATES,
    seed: int = REALIZATION_SEED,
    progress: bool = True,
) -> Choice:
    """Simulate the candidates, score each against the claims, return the nearest."""
    test = primary_test()
    specs = claim_specs()
    allsum = simulate_claims(
        p, n_candidates, seed, progress=progress, chunk=CHUNK, primary_test=test, safety=False
    )
    n1, n2 = int(p["n_il2"]), int(p["n_control"])
    for claim, name in (("safety_aids_similar", "aids"), ("safety_death_similar", "death")):
        allsum[claim] = fisher_2x2(
            allsum[f"{name}_w96_il2"].astype(int),
            np.full(d_shape := allsum[f"{name}_w96_il2"].shape, n1),
            allsum[f"{name}_w96_control"].astype(int),
            np.full(d_shape, n2),
        )
    d = distance(allsum, specs)
    checked = [s for s in claim_specs(numeric=False) if s.id in allsum]
    n_off = np.sum([outside_tolerance(allsum, s) for s in checked], axis=0)
    events = forensic_events()
    match = (allsum["events_w96_il2"] == events["IL-2"]) & (
        allsum["events_w96_control"] == events["Control"]
    )
    # Lexicographic choice: (1) fewest claims outside the registry's tolerance (the scorecard
    # must not find any 'off'), (2) week-96 counts equal to the forensic table (the only counts
    # that reproduce the printed percentages and P value), (3) smallest distance; the first
    # candidate in that order whose adverse events (drawn only when it is written) also show no
    # grade 3-4 difference between arms is chosen.
    order = np.lexsort((d, ~match, n_off))
    alpha = _similar_level()
    cache: dict[int, Trials] = {}
    best, trial, g34 = int(order[0]), None, float("nan")
    for idx in order[:MAX_AE_CHECKS]:
        cand = _replicate(p, int(idx), n_candidates, seed, cache)
        p34 = grade34_p(to_adam(cand, p, realization_rng(int(idx))), p["primary_week"])
        if trial is None or p34 >= alpha:
            best, trial, g34 = int(idx), cand, p34
        if p34 >= alpha:
            break
    summ = {k: float(v[best]) for k, v in allsum.items()}
    summ["safety_grade34_similar"] = g34
    return Choice(
        index=best,
        trial=trial,
        summaries=summ,
        distance=float(d[best]),
        distances=d,
        n_matching=int(match.sum()),
        n_outside_tolerance=int(n_off[best]),
        n_matching_within_tolerance=int((match & (n_off == 0)).sum()),
        n_within_tolerance=int((n_off == 0).sum()),
    )


MAX_AE_CHECKS: int = 200
"""Candidates (in the lexicographic order) whose adverse events are drawn and checked."""


def realization_rng(index: int) -> np.random.Generator:
    """Random numbers of the written trial (subject order, adverse events) of a candidate."""
    return np.random.default_rng([REALIZATION_SEED, index])


def _similar_level() -> float:
    specs = [s for s in claim_specs(numeric=False) if s.tolerance_rule == "similar"]
    return specs[0].tolerance if specs else 0.05


def _replicate(
    p: Mapping[str, float], index: int, n_candidates: int, seed: int, cache: dict[int, Trials]
) -> Trials:
    """Candidate ``index`` re-simulated alone from the same seed (cached)."""
    # counter-based random numbers: replicate ``index`` is simulated on its own, identically
    if index not in cache:
        il2 = arm_indicator(int(p["n_il2"]), int(p["n_control"]))
        v = visit_weeks(follow_up_horizon(p))
        cache[index] = simulate(p, il2, v, seed, 1, index, full=True)
    return cache[index]


def grade34_p(tables: Mapping[str, pd.DataFrame], week: float) -> float:
    """Fisher P for patients with a grade 3-4 adverse event by ``week``, IL-2 vs control."""
    adsl, adae = tables["adsl"], tables["adae"]
    hit = adae[adae["AETOXGR"].isin([3, 4]) & (adae["ASTWK"] <= week)]["USUBJID"].unique()
    arm = adsl["ARM"].to_numpy()
    has = adsl["USUBJID"].isin(set(hit)).to_numpy()
    k = np.array([[int((has & (arm == a)).sum())] for a in ARMS])
    n = np.array([[int((arm == a).sum())] for a in ARMS])
    return float(fisher_2x2(k[0], n[0], k[1], n[1])[0])


# ---------------------------------------------------------------- adverse events

IL2_REACTIONS: tuple[tuple[str, str, float], ...] = (
    ("Influenza like illness", "General disorders and administration site conditions", 0.75),
    ("Injection site reaction", "General disorders and administration site conditions", 0.60),
    ("Pyrexia", "General disorders and administration site conditions", 0.50),
    ("Fatigue", "General disorders and administration site conditions", 0.45),
    ("Headache", "Nervous system disorders", 0.30),
    ("Myalgia", "Musculoskeletal and connective tissue disorders", 0.30),
    ("Nausea", "Gastrointestinal disorders", 0.20),
)
"""IL-2 reactions per cycle received (assumed: near-universal constitutional symptoms, per-cycle
frequencies not published; PRIORS.md section 5)."""

IL2_REACTION_GRADES: tuple[float, float, float] = (0.70, 0.295, 0.005)
"""Grade 1 / 2 / 3 shares of IL-2 reactions (assumed: 'mostly grade 1-2')."""

GRADE34_TERMS: tuple[tuple[str, str], ...] = (
    ("Neutropenia", "Blood and lymphatic system disorders"),
    ("Alanine aminotransferase increased", "Investigations"),
    ("Pneumonia", "Infections and infestations"),
    ("Depression", "Psychiatric disorders"),
    ("Hypertriglyceridaemia", "Metabolism and nutrition disorders"),
    ("Back pain", "Musculoskeletal and connective tissue disorders"),
)
"""Background grade 3-4 events, both arms (assumed terms, equally likely)."""

GRADE4_SHARE: float = 0.2
"""Share of background grade 3-4 events that are grade 4 (assumed)."""


def pool_adverse_events(
    tr: Trials, p: Mapping[str, float], rng: np.random.Generator
) -> pd.DataFrame:
    """ADAE rows of every patient of one replicate, PATIENT = index in ``tr`` (no USUBJID yet).

    IL-2 reactions per cycle received; background grade 3-4 events in both arms (Poisson, rate x
    RR while IL-2 cycles are given). Each patient's events are drawn once, with the patient, so a
    patient keeps them whichever trial he is placed in. Vectorised over patients.
    """
    n = tr.shape[1]
    end = np.minimum(tr.t_last[0], tr.t_death[0])  # events reported up to the last visit
    cycles = tr.cycles
    given = (
        tr.il2[0][:, None]
        & (np.arange(cycles.size)[None, :] < tr.n_cycles[0][:, None])
        & (cycles[None, :] <= end[:, None])
    )
    probs = np.array([prob for _, _, prob in IL2_REACTIONS])
    shape = (n, cycles.size, probs.size)
    occurs = given[..., None] & (rng.random(shape) < probs)
    grade = rng.choice(3, size=shape, p=IL2_REACTION_GRADES) + 1
    onset = cycles[None, :, None] + rng.integers(0, 5, size=shape) / 7.0
    who, cyc, what = np.nonzero(occurs)
    reactions = pd.DataFrame(
        {
            "PATIENT": who,
            "AEDECOD": [IL2_REACTIONS[k][0] for k in what],
            "AEBODSYS": [IL2_REACTIONS[k][1] for k in what],
            "AETOXGR": grade[who, cyc, what],
            "ASTWK": np.round(onset[who, cyc, what], 1),
        }
    )
    on_il2 = np.where(tr.il2[0], np.minimum(end, p["il2_last_week"]), 0.0)
    years_il2 = on_il2 / (365.25 / 7)
    years_rest = (end - on_il2) / (365.25 / 7)
    mean = p["grade34_rate"] * (p["il2_grade34_rr"] * years_il2 + years_rest)
    count = rng.poisson(mean)
    owner = np.repeat(np.arange(n), count)
    term = rng.integers(len(GRADE34_TERMS), size=owner.size)
    background = pd.DataFrame(
        {
            "PATIENT": owner,
            "AEDECOD": [GRADE34_TERMS[k][0] for k in term],
            "AEBODSYS": [GRADE34_TERMS[k][1] for k in term],
            "AETOXGR": np.where(rng.random(owner.size) < GRADE4_SHARE, 4, 3),
            "ASTWK": np.round(rng.uniform(0.0, 1.0, owner.size) * end[owner], 1),
        }
    )
    out = pd.concat([reactions, background], ignore_index=True)
    out["AETOXGR"] = out["AETOXGR"].astype(np.int64)
    out["AESER"] = np.where(out["AETOXGR"] >= 3, "Y", "N")
    return out.sort_values(["PATIENT", "ASTWK", "AEDECOD", "AETOXGR"], kind="stable").reset_index(
        drop=True
    )


def _ae(usubjid: str, term: str, soc: str, grade: int, onset: float) -> dict[str, object]:
    return {
        "USUBJID": usubjid,
        "AEDECOD": term,
        "AEBODSYS": soc,
        "AETOXGR": grade,
        "ASTWK": round(onset, 1),
        "AESER": "Y" if grade >= 3 else "N",
    }


# ---------------------------------------------------------------- ADaM tables


def _ceil1(t: np.ndarray) -> np.ndarray:
    """Round weeks up to 0.1 (keeps 'event by week w' exactly as on the unrounded scale)."""
    return np.ceil(np.round(t * 10.0, 6)) / 10.0


def _primary_desc(tr: Trials, i: int) -> str:
    t = tr.t_primary[0, i]
    if tr.t_death[0, i] == t:
        return "Death"
    if tr.t_aids[0, i] == t:
        return "AIDS-defining event"
    if tr.t_cd4[0, i] == t:
        return "CD4 < 300 cells/uL (confirmed)"
    return "ART initiation"


def to_adam(
    tr: Trials, p: Mapping[str, float], rng: np.random.Generator, adae: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """ADSL, ADLB, ADTTE and ADAE of a single replicate (shapes (1, N, ...)); ``rng`` orders
    the subject identifiers, ``adae`` holds the patients' adverse events by PATIENT (index in
    ``tr``), as :func:`pool_adverse_events` draws them."""
    n = tr.shape[1]
    order = rng.permutation(n)  # randomisation order: arms interleaved
    usub = np.empty(n, dtype=object)
    usub[order] = [f"{STUDYID}-{k + 1:03d}" for k in range(n)]
    arm = np.where(tr.il2[0], ARMS[0], ARMS[1])
    bcd4 = np.round(tr.bcd4[0])
    bvl = np.round(tr.bvl[0], 2)
    adsl = pd.DataFrame(
        {
            "STUDYID": STUDYID,
            "USUBJID": usub,
            "ARM": arm,
            "ARMCD": [ARM_CODES[a] for a in arm],
            "TRT01P": arm,
            "AGE": np.floor(tr.age[0]).astype(int),
            "SEX": np.where(tr.male[0], "M", "F"),
            "BCD4": bcd4,
            "BVLLOG": bvl,
            "ITTFL": "Y",
            "SAFFL": "Y",
        }
    )

    obs = tr.observed()[0]
    ii, jj = np.nonzero(obs)
    weeks = tr.visits[jj].astype(int)
    lab = []
    for code, name, val, base, digits in (
        ("CD4", "CD4 count (cells/uL)", tr.cd4_obs[0], bcd4, 0),
        ("VLLOG", "Plasma HIV RNA (log10 copies/mL)", tr.vl_obs[0], bvl, 2),
    ):
        aval = np.round(val[ii, jj].astype(float), digits)
        aval = np.where(jj == 0, base[ii], aval)
        lab.append(
            pd.DataFrame(
                {
                    "USUBJID": usub[ii],
                    "PARAMCD": code,
                    "PARAM": name,
                    "AVISITN": weeks,
                    "AVISIT": ["Baseline" if w == 0 else f"Week {w}" for w in weeks],
                    "AVAL": aval,
                    "BASE": base[ii],
                    "CHG": np.round(aval - base[ii], digits),
                    "ABLFL": np.where(jj == 0, "Y", ""),
                    "ONART": np.where(tr.onart[0][ii, jj], "Y", "N"),
                }
            )
        )
    adlb = pd.concat(lab, ignore_index=True)

    cens = tr.t_last[0]  # last visit attended before the data cut-off or loss to follow-up
    death = tr.t_death[0]
    tte = []

    def add(code: str, name: str, t_event: np.ndarray, desc: list[str], cens_t, cens_desc):
        event = t_event <= cens_t
        tte.append(
            pd.DataFrame(
                {
                    "USUBJID": usub,
                    "PARAMCD": code,
                    "PARAM": name,
                    "AVAL": _ceil1(np.where(event, t_event, cens_t)),
                    "CNSR": np.where(event, 0, 1),
                    "EVNTDESC": np.where(event, desc, ""),
                    "CNSDTDSC": np.where(event, "", cens_desc),
                }
            )
        )

    end_txt = np.where(
        tr.t_drop[0] < tr.fu_end[0], "Lost to follow-up", "Last visit before the data cut-off"
    ).astype(object)
    add(
        "PRIMARY",
        "Composite: CD4 < 300, ART, AIDS-defining event or death",
        tr.t_primary[0],
        [_primary_desc(tr, i) for i in range(n)],
        cens,
        end_txt,
    )
    art_cens = np.minimum(cens, death)
    add(
        "ARTINIT",
        "Initiation of ART",
        tr.t_art[0],
        ["ART initiation"] * n,
        art_cens,
        np.where(death < cens, "Death before ART", end_txt),
    )
    # CD4 < 300 is only assessed off ART: follow-up for it stops when ART starts
    cd4_cens = np.minimum.reduce([cens, death, tr.t_art[0]])
    cd4_txt = np.where(
        tr.t_art[0] <= np.minimum(cens, death),
        "ART initiated",
        np.where(death < cens, "Death", end_txt),
    )
    add(
        "CD4LT300",
        "First confirmed CD4 < 300 cells/uL (off ART)",
        tr.t_cd4[0],
        ["CD4 < 300 cells/uL (confirmed)"] * n,
        cd4_cens,
        cd4_txt,
    )
    add("DEATH", "Death from any cause", death, ["Death"] * n, cens, end_txt)
    t_ad = np.minimum(tr.t_aids[0], death)
    add(
        "AIDSDTH",
        "AIDS-defining event or death",
        t_ad,
        np.where(tr.t_aids[0] <= death, "AIDS-defining event", "Death").tolist(),
        cens,
        end_txt,
    )
    adtte = pd.concat(tte, ignore_index=True)
    adae = adae.assign(USUBJID=usub[adae["PATIENT"].to_numpy()])[
        ["USUBJID", "AEDECOD", "AEBODSYS", "AETOXGR", "ASTWK", "AESER"]
    ]
    return {
        "adsl": adsl.sort_values("USUBJID", kind="stable").reset_index(drop=True),
        "adlb": adlb.sort_values(["USUBJID", "PARAMCD", "AVISITN"], kind="stable").reset_index(
            drop=True
        ),
        "adtte": adtte.sort_values(["USUBJID", "PARAMCD"], kind="stable").reset_index(drop=True),
        "adae": adae.sort_values(
            ["USUBJID", "ASTWK", "AEDECOD", "AETOXGR"], kind="stable"
        ).reset_index(drop=True),
    }


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Deterministic CSV: fixed float format, LF line endings, UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.10g", lineterminator="\n", encoding="utf-8")
    return path


def _json(obj: object) -> object:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json(v) for k, v in obj.items()}
    return obj


def write_realization(
    choice: Choice,
    params: ParameterSet,
    folder: Path = SYNTHETIC_DIR,
    n_candidates: int = N_CANDIDATES,
) -> list[Path]:
    """Write the ADaM CSVs and provenance.json of the chosen replicate."""
    from anrs119.model.calibrate import read_calibration

    p = params.values()
    tables = to_adam(choice.trial, p, realization_rng(choice.index))
    try:
        from anrs119.adam import validate_tables

        validate_tables(tables, source="anrs119.model.realize (before writing)")
    except ImportError:  # pragma: no cover - the schema module is part of the package
        pass
    paths = [write_csv(df, folder / f"{name}.csv") for name, df in tables.items()]
    cal = read_calibration(CALIBRATION_FILE)
    prov = {
        "synthetic": True,
        "generated_by": "python -m anrs119 data",
        "package_version": __version__,
        "seed": REALIZATION_SEED,
        "n_candidates": n_candidates,
        "chosen_replicate": choice.index,
        "distance": choice.distance,
        "selection_rule": "lexicographic: fewest result claims outside the registry's "
        "tolerance; then, if possible, week-96 event counts equal to the forensic allocation "
        "(data/forensic/allocation.json); then the smallest distance",
        "forensic_counts_matched": bool(
            choice.summaries["events_w96_il2"] == forensic_events()["IL-2"]
            and choice.summaries["events_w96_control"] == forensic_events()["Control"]
        ),
        "n_candidates_matching_forensic_counts": choice.n_matching,
        "n_claims_outside_tolerance": choice.n_outside_tolerance,
        "n_candidates_within_tolerance": choice.n_within_tolerance,
        "n_candidates_matching_and_within_tolerance": choice.n_matching_within_tolerance,
        "distance_definition": "sum over the numeric result claims of ((summary - claim) / SD "
        "of the summary across the candidate trials)^2; P values on the log10 scale; bounds "
        "('P < .001') cost nothing when met; unestimable summaries cost "
        f"{MISSING_PENALTY:g}",
        "readings": {
            "cd4_vl_change": CHANGE_READING,
            "art_deferral": DEFERRAL_READING,
            "primary_p_test": primary_test(),
            "lowvl_free_w150": "Kaplan-Meier",
            "lowvl_free_w150_p": "log-rank",
        },
        "parameters": {k: float(round(v, 6)) for k, v in p.items()},
        "calibration_targets": cal["targets"],
        "calibration_expected": cal["expected"],
        "realization": {s.id: round(choice.summaries[s.id], 6) for s in claim_specs(numeric=False)},
        "realization_readings": {
            k: round(v, 6) for k, v in sorted(choice.summaries.items()) if ":" in k
        },
    }
    path = folder / "provenance.json"
    path.write_text(json.dumps(_json(prov), sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return [*paths, path]
