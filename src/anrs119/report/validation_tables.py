"""The validation appendix's tables for readers: quantities in words, sources cited by author
and year, trials by name. The comparisons themselves come from ``anrs119.validation``."""

from __future__ import annotations

import re

import pandas as pd

from anrs119.report.tables import BookTable, escape_markdown

TRIAL_NAMES = {
    "freireich": "Freireich 1963",
    "gbsg2": "GBSG2",
    "glioma_g3": "Grade III glioma",
    "survival_test1": "R's stratified example",
}

_WORDS = (
    (r"^n$", "patients"),
    (r"^n_events$", "events"),
    (r"^km_survival_loglog_at_(\d+)$", r"Kaplan-Meier survival at week \1 (log-log CI)"),
    (r"^km_median", "Kaplan-Meier median"),
    (r"^logrank_chisq$", "log-rank chi-square"),
    (r"^logrank_p$", "log-rank P"),
    (r"^logrank_observed$", "log-rank: observed events"),
    (r"^logrank_expected$", "log-rank: expected events"),
    (r"^cox_hr_(efron|breslow)_strata$", r"stratified Cox hazard ratio (\1 ties)"),
    (r"^coxcov_(coef|hr|p|se)_efron$", r"stratified Cox \1 (Efron ties)"),
    (r"^cox_(coef|hr|p|se)_efron_adjusted$", r"Cox \1, adjusted (Efron ties)"),
    (r"^cox_(coef|hr|p|se)_efron$", r"Cox \1 (Efron ties)"),
)
_STAT_WORDS = {"coef": "coefficient", "hr": "hazard ratio", "p": "P", "se": "standard error"}


def quantity_words(quantity: str) -> str:
    """``km_survival_loglog_at_6`` -> "Kaplan-Meier survival at week 6 (log-log CI)"."""
    for pattern, words in _WORDS:
        if re.match(pattern, quantity):
            text = re.sub(pattern, words, quantity)
            for short, long in _STAT_WORDS.items():
                text = re.sub(rf"\bCox {short}\b", f"Cox {long}", text)
            return text.replace("(efron ties)", "(Efron ties)").replace(
                "(breslow ties)", "(Breslow ties)"
            )
    return quantity.replace("_", " ")


def comparison_book_table(table: pd.DataFrame, bib_keys: set[str]) -> BookTable:
    """Every published value of a real trial beside the book's reproduction."""
    frame = pd.DataFrame(
        {
            "Trial": table["Trial"].map(lambda t: TRIAL_NAMES.get(t, t)),
            "Quantity": table["Quantity"].map(quantity_words).map(escape_markdown),
            "Arm": table["Arm"].map(escape_markdown),
            "Published (95% CI)": table["Published (95% CI)"],
            "Reproduced (95% CI)": table["Reproduced (95% CI)"],
            "Agrees": table["Agrees"],
            "Convention": table["Convention"].map(escape_markdown),
            "Source": [
                f"{{cite:t}}`{key}`" if key in bib_keys else escape_markdown(key)
                for key in table["Source"]
            ],
        }
    )
    flags = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    flags["Agrees"] = frame["Agrees"] != "yes"
    return BookTable(
        frame,
        caption="Published values of real trials beside the book's reproduction of each "
        "(highlighted: outside the stated tolerance).",
        name="tbl-validation-published",
        markup=("Quantity", "Arm", "Convention", "Source"),
        flags=flags,
    )
