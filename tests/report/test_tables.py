"""Reader tables: numbered MyST tables in the book, captioned HTML in Jupyter, escaped text,
flags on what failed, percentiles as whole numbers with correct ordinals."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from anrs119.report.tables import (
    FLAG_CLASS,
    BookTable,
    escape_markdown,
    from_frame,
    ordinal,
    percentile_phrase,
    percentile_text,
)


def table(**kwargs) -> BookTable:
    frame = pd.DataFrame({"Result": ["a_b *x*", "P < .001 | y"], "Value": ["35%", "1,200"]})
    return BookTable(frame, caption="A caption.", name="tbl-test", **kwargs)


def test_markdown_is_a_numbered_captioned_table_directive() -> None:
    text = table().markdown()
    assert text.startswith("::::{table} A caption.\n:name: tbl-test\n")
    assert text.rstrip().endswith("::::")
    assert "| Result | Value |" in text
    assert "|:--|--:|" in text  # text left, numbers right


def test_cells_are_escaped_so_no_markup_leaks() -> None:
    body = table().markdown().split("\n")
    row = next(line for line in body if line.startswith("| a"))
    assert r"a\_b \*x\*" in row
    assert r"P \< .001 \| y" in "\n".join(body)
    lines = table().markdown().split("\n")
    pipe_table = "\n".join(line for line in lines if line.startswith("|"))
    rendered = MarkdownIt("commonmark").enable("table").render(pipe_table)
    assert "<em>" not in rendered and "a_b *x*" in rendered
    assert "P &lt; .001 | y" in rendered


def test_markup_columns_are_kept_as_written() -> None:
    frame = pd.DataFrame({"Symbol": ["$m_C$"], "Source": ["{cite:t}`molina2009`"]})
    text = BookTable(frame, "c", "tbl-m", markup=("Symbol", "Source")).markdown()
    assert "| $m_C$ | {cite:t}`molina2009` |" in text


def test_flagged_cells_use_the_flag_role_and_others_do_not() -> None:
    flags = pd.DataFrame({"Result": [False, False], "Value": [True, False]})
    text = table(flags=flags).markdown()
    assert "{flag}`35%`" in text
    assert text.count("{flag}") == 1
    assert FLAG_CLASS == "table-flag"


def test_html_for_jupyter_has_the_caption_and_no_index() -> None:
    html = table()._repr_html_()
    assert "<caption>A caption.</caption>" in html
    assert "<th></th>" not in html and ">0<" not in html


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x"}, "must start with 'tbl-'"),
        ({"caption": " "}, "needs a caption"),
        ({"markup": ("Nope",)}, "markup columns"),
    ],
)
def test_a_table_without_number_or_caption_is_refused(kwargs, message) -> None:
    args = {"caption": "c", "name": "tbl-x", **kwargs}
    with pytest.raises(ValueError, match=message):
        BookTable(pd.DataFrame({"A": ["1"]}), **args)


def test_from_frame_turns_the_index_into_a_labelled_column_and_flattens_headers() -> None:
    columns = pd.MultiIndex.from_tuples([("IL-2", "3"), ("Control", "3")], names=["Arm", "Grade"])
    frame = pd.DataFrame([[1, 2]], columns=columns, index=pd.Index(["Blood"], name="Organ"))
    shown = from_frame(frame, "c", "tbl-x").frame
    assert list(shown.columns) == ["Organ", "IL-2, grade 3", "Control, grade 3"]
    assert shown.iloc[0].tolist() == ["Blood", "1", "2"]


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (19, "19th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th")],
)  # fmt: skip
def test_ordinals(n: int, text: str) -> None:
    assert ordinal(n) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(18.9, "19th"), (23.25, "23rd"), (1.45, "1st"), (0.2, "below the 1st"),
     (99.9, "above the 99th"), (56.0, "56th"), (float("nan"), "not computed")],
)  # fmt: skip
def test_percentiles_are_whole_with_extremes_named(value: float, text: str) -> None:
    assert percentile_text(value) == text


def test_percentile_phrase_reads_in_a_sentence() -> None:
    assert percentile_phrase(1.45) == "at the 1st percentile"
    assert percentile_phrase(0.1) == "below the 1st percentile"


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_a_percentile_never_prints_decimals_or_a_wrong_suffix(value: float) -> None:
    text = percentile_text(value)
    assert "." not in text
    number = "".join(ch for ch in text if ch.isdigit())
    assert text.endswith(ordinal(int(number)).removeprefix(number))


def test_escape_markdown_escapes_every_markup_character() -> None:
    for char in "\\`*_{}[]<>()#+!|$~&":
        assert escape_markdown(char) == "\\" + char


def test_validation_quantities_read_as_words() -> None:
    from anrs119.report.validation_tables import quantity_words

    assert quantity_words("km_survival_loglog_at_6") == (
        "Kaplan-Meier survival at week 6 (log-log CI)"
    )
    assert quantity_words("cox_hr_efron_adjusted") == "Cox hazard ratio, adjusted (Efron ties)"
    assert quantity_words("cox_hr_breslow_strata") == "stratified Cox hazard ratio (Breslow ties)"
    assert "_" not in quantity_words("logrank_expected")


def test_chapter_mentions_become_links_only_to_pages_that_exist(tmp_path) -> None:
    from anrs119.report.tables import link_chapter_mentions

    (tmp_path / "forensic.md").write_text("# x")
    text = link_chapter_mentions("as the forensic chapter shows; the nowhere page", tmp_path)
    assert text == "as [the forensic chapter](forensic.md) shows; the nowhere page"
