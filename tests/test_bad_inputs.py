"""Malformed inputs: each file of ``tests/data/bad`` loads to known values or fails clearly.

The corpus is built by ``tests/data/bad/make_corpus.py``; the table below says what loading
each file must give: ``Parsed`` (row count, values after unit conversion, rows left out as
missing) or ``Fails`` (the first problem's spreadsheet row and column, words of its message,
and how many problems). A failure must be a :class:`DataError` naming the file: any other
exception (a traceback from pandas, openpyxl or pyarrow) is a bug in the loader.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import runpy
import socket
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brandstats import DataError, load_observations, load_targets
from brandstats.loading import (
    _PLAUSIBLE_MAX,
    COMPARISONS,
    LABEL_COLUMNS,
    OBSERVATION_COLUMNS,
    QUALIFIERS,
    TARGET_COLUMNS,
    YEAR_RANGE,
)
from brandstats.units import CANONICAL_UNITS

BAD = Path(__file__).parent / "data" / "bad"
SCRIPT = BAD / "make_corpus.py"


@dataclass(frozen=True)
class Parsed:
    """Loads: ``rows`` rows; ``expected`` maps (indicator, region, year) to the canonical value
    (for a targets file: (indicator, region, target_year) to the target); ``skipped`` lists
    the rows left out as missing observations."""

    rows: int
    expected: dict[tuple[str, str, int], float] = field(default_factory=dict)
    skipped: tuple[int, ...] = ()


@dataclass(frozen=True)
class Fails:
    """Fails with a DataError whose first problem is at ``row`` (as a spreadsheet shows it)
    and ``column`` (None: the whole file or row), with ``words`` in the message."""

    row: int | None
    column: str | None
    words: str
    problems: int = 1


J = "Jinan"
BASE = Parsed(
    4,
    {
        ("product_brand_value", J, 2019): 4256e8,
        ("product_brand_value", J, 2020): 4492e8,
        ("high_tech_enterprises", J, 2019): 2231,
        ("service_satisfaction", J, 2020): 86.4,
    },
)
CASES: dict[str, Parsed | Fails] = {
    # cut short
    "truncated_mid_row.csv": Fails(6, "unit", "a unit such as 亿元"),
    "truncated_mid_quote.csv": Fails(6, None, "a quoted value is never closed"),
    "truncated.xlsx": Fails(None, None, "a valid .xlsx workbook; it is damaged or incomplete"),
    "truncated.parquet": Fails(None, None, "a valid Parquet file; it is damaged or incomplete"),
    # delimiters, line endings, layout
    "delimiter_semicolon.csv": BASE,
    "delimiter_tab.csv": BASE,
    "delimiter_pipe.csv": BASE,
    "crlf_line_endings.csv": BASE,
    "header_on_row3.csv": BASE,
    "header_on_row3.xlsx": BASE,
    "blank_separator_rows.csv": BASE,
    "merged_blank_indicator.csv": Fails(3, "indicator", "unmerge merged cells and fill"),
    "merged_cells.xlsx": Fails(3, "indicator", "unmerge merged cells and fill"),
    "extra_columns.csv": BASE,
    "wide_with_notes.xlsx": Parsed(
        4,
        {
            ("product_brand_value", J, 2019): 4256e8,
            ("product_brand_value", J, 2020): 4492e8,
            ("high_tech_enterprises", J, 2019): 2231,
            ("high_tech_enterprises", J, 2021): 4397,
        },
    ),
    "wide_non_year_column.csv": Fails(1, "2021e", "a year as column header"),
    "wide_duplicate_years.csv": Fails(1, "2020年", "(2020 is also column '2020')"),
    "long_10k_rows.csv": Parsed(10_000, {("unicorn_firms", "R499", 2019): (499 + 2019) % 97}),
    # encodings, and files that are not what their name says
    "empty.csv": Fails(None, None, "the file is empty"),
    "bom_only.csv": Fails(None, None, "the file is empty"),
    "header_only.csv": Fails(None, None, "at least one observation"),
    "no_header.csv": Fails(1, None, "a header row with the column 'indicator'"),
    "missing_unit_column.csv": Fails(None, "unit", "a column 'unit'"),
    "utf16.csv": Fails(None, None, "UTF-16 text (save it as CSV UTF-8)"),
    "utf16le_no_bom.csv": Fails(None, None, "UTF-16 text (save it as CSV UTF-8)"),
    "mojibake_latin1.csv": Fails(2, "unit", "a known unit", problems=3),
    "mojibake_question_marks.csv": Fails(2, "unit", "got '??'; expected a known unit", 3),
    "big5_bytes.csv": Fails(2, "unit", "a known unit", problems=3),
    "utf8_damaged.csv": Fails(None, None, "1 invalid byte(s), the first on line 4"),
    "latin1_text.csv": Fails(None, None, "encoded as UTF-8 or GBK/GB18030"),
    "binary_junk.csv": Fails(None, None, "binary data, not text"),
    "png_renamed.csv": Fails(None, None, "this looks like a PNG image"),
    "zip_renamed.csv": Fails(None, None, "give a workbook its .xlsx name"),
    "csv_renamed.xlsx": Fails(None, None, "give a CSV file its .csv name"),
    "legacy.xls": Fails(None, None, "a .csv, .xlsx or .parquet file"),
    # workbooks
    "empty_sheet.xlsx": Fails(None, None, "sheet 'Sheet1', but the sheet is empty"),
    # the one sheet whose header is an observations table, whichever it is
    "data_on_second_sheet.xlsx": BASE,
    "no_styles.xlsx": BASE,
    "year_as_date.xlsx": Fails(2, "year", "formatted as a date", problems=4),
    "date_out_of_range.xlsx": Fails(2, "value", "got '#VALUE!'; expected a number"),
    # Parquet
    "wrong_dtypes.parquet": BASE,
    "nullable_dtypes.parquet": Parsed(
        3,
        {k: v for k, v in BASE.expected.items() if k[0] != "product_brand_value" or k[2] != 2020},
        skipped=(3,),
    ),
    "indexed.parquet": BASE,
    "corrupt.parquet": Fails(None, None, "a valid Parquet file; it is damaged or incomplete"),
    # cells
    "formula_as_text.csv": Fails(6, "value", "not a formula"),
    "excel_error_values.csv": Fails(2, "value", "not an Excel error value"),
    "placeholders.csv": Parsed(
        2,
        {("product_brand_value", J, 2019): 4256e8, ("service_satisfaction", J, 2021): 86.4},
        skipped=(3, 4, 5, 6),
    ),
    "only_placeholders.csv": Fails(None, None, "all 2 rows have no value"),
    "mixed_money_units.csv": Parsed(
        4,
        {
            ("product_brand_value", J, 2019): 4256e8,
            ("product_brand_value", J, 2020): 4492e8,
            ("product_brand_value", J, 2021): 5312e8,
            ("service_brand_value", J, 2021): 1205e8,
        },
    ),
    "money_in_percent.csv": Fails(3, "unit", "got '%'; expected a yuan unit"),
    "inline_units.csv": Parsed(
        3,
        {
            ("product_brand_value", J, 2019): 4256e8,
            ("service_satisfaction", J, 2020): 86.4,
            ("high_tech_enterprises", J, 2019): 2231,
        },
    ),
    "inline_unit_conflict.csv": Fails(2, "value", "a value in the row's unit '万元'"),
    "years_written_oddly.csv": Parsed(
        4,
        {
            ("high_tech_enterprises", J, 2018): 1547,
            ("high_tech_enterprises", J, 2019): 2231,
            ("high_tech_enterprises", J, 2021): 4397,
            ("high_tech_enterprises", J, 2022): 5700,
        },
    ),
    "year_chinese_numerals.csv": Fails(2, "year", "got '二〇二〇'; expected a whole year"),
    "year_fiscal.csv": Fails(2, "year", "got 'FY2020'; expected a whole year"),
    "year_range.csv": Fails(2, "year", "got '2020-21'; expected a whole year"),
    "huge_value.csv": Fails(2, "value", "a plausible yuan value"),
    "nan_inf_text.csv": Fails(3, "value", "got 'inf'; expected a number", problems=3),
    "duplicate_columns.csv": Fails(1, "value", "each column name only once (also column D)"),
    "duplicate_columns_alias.csv": Fails(1, "year", "got '年份'; expected each column name"),
    "fullwidth_and_spaces.csv": Parsed(
        3, {k: v for k, v in BASE.expected.items() if k[2] == 2019 or k[0][0] == "s"}
    ),
    "thousands_separators.csv": Parsed(
        4,
        {
            ("high_tech_enterprises", J, 2021): 4397,
            ("product_brand_value", J, 2021): 5312.5e8,
            ("product_brand_value", J, 2020): 4492e8,
            ("high_tech_enterprises", J, 2019): 2231,
        },
    ),
    "decimal_comma.csv": Fails(2, "value", "got '86,4'; expected a number"),
    "unquoted_thousands.csv": Fails(2, None, "at most 5 cells, as in the header row"),
    "stray_quote.csv": Fails(2, None, "a stray quote?"),
    "negative_count.csv": Fails(2, "value", "a non-negative count"),
    "percent_over_100.csv": Fails(2, "value", "a percentage between 0 and 100"),
    "rank_zero.csv": Fails(2, "value", "a rank of 1 or more"),
    "fractional_count.csv": Fails(2, "value", "a whole number (count)"),
    "duplicate_rows.csv": Fails(4, "year", "region and year (also on row 2)"),
    "unknown_indicator.csv": Fails(2, "indicator", "did you mean 'high_tech_enterprises'"),
    "unknown_qualifier.csv": Fails(2, "qualifier", "did you mean 'reported'"),
    "unknown_unit.csv": Fails(2, "unit", "got 'furlongs'; expected a known unit"),
    # targets catalogues (loaded with load_targets)
    "targets_title_rows.xlsx": Parsed(
        2, {("tourism_revenue", J, 2025): 1500e8, ("visitor_count", J, 2025): 3000}
    ),
    "targets_unknown_unit.csv": Fails(2, "unit", "got 'parsecs'; expected a unit"),
    "targets_bad_comparison.csv": Fails(2, "comparison", "got '≈'; expected a comparison"),
    "targets_duplicate.csv": Fails(3, "indicator", "one row per indicator and region"),
    "targets_percent_over_100.csv": Fails(2, "target", "a percentage between 0 and 100"),
    "targets_fiscal_year.csv": Fails(2, "target_year", "got 'FY2022'; expected a year"),
}  # fmt: skip

T = "high_tech_enterprises"
# Added for issue 11 (make_corpus._added): exports, layouts and cells as analysts write them.
ADDED: dict[str, Parsed | Fails] = {
    # Excel cells and used ranges
    "percent_formatted.xlsx": Parsed(  # 0.852 shown as 85.2 %: Excel's figure, not 0.852 %
        2, {("service_satisfaction", J, 2020): 85.2, ("industrial_pass_rate", J, 2020): 96.1}
    ),
    "percent_formatted_money.xlsx": Fails(2, "value", "got '50%'; expected a value in the row's "
                                          "unit '亿元'"),
    "stray_cell_far_corner.xlsx": BASE,  # a cell at XFD1048576, outside the table
    "stray_cell_last_row.xlsx": Parsed(4, BASE.expected, skipped=(1_048_576,)),
    "numbers_as_text.xlsx": BASE,
    "bool_value.xlsx": Fails(2, "value", "got 'True'; expected a number"),
    "wps_export.xlsx": Parsed(4, BASE.expected, skipped=(9, 10)),  # notes and source rows
    "merged_year_header.xlsx": Parsed(
        4,
        {("product_brand_value", J, 2019): 4256e8, ("product_brand_value", J, 2020): 4492e8,
         (T, J, 2019): 2231, (T, J, 2021): 4397},
    ),
    "transposed.xlsx": Fails(1, None, "the table looks transposed"),
    # not UTF-8 text, or only partly written
    "utf32.csv": Fails(None, None, "UTF-32 text (save it as CSV UTF-8)"),
    "utf32le_no_bom.csv": Fails(None, None, "UTF-32 text (save it as CSV UTF-8)"),
    "nul_filled.csv": Fails(None, None, "only NUL bytes (zeros), no text"),
    "nul_tail.csv": Fails(None, None, "text followed by 3000 NUL bytes (zeros) from byte 273"),
    "nul_filled.xlsx": Fails(None, None, "an .xlsx workbook; this looks like only NUL bytes"),
    "duplicate_columns.parquet": Fails(1, "value", "the Parquet file has 2 columns 'value'"),
    "invisible_in_region.parquet": BASE,  # NUL, zero-width space, BOM, a leading space
    "fullwidth_comma_delimiter.csv": Fails(1, None, "separated by full-width commas (，)"),
    "gbk_valid_as_utf8.csv": Parsed(1, {("product_brand_value", J, 2019): 4256.0}),
    # regions
    "nul_in_cell.csv": Parsed(2, {(T, J, 2019): 2231, (T, J, 2021): 4397}),
    "zero_width_region.csv": Parsed(3, {(T, J, 2018): 1547, (T, J, 2019): 2231,
                                        (T, J, 2021): 4397}),
    "region_aliases.csv": Parsed(  # 济南, 济南市, Jinan City, jinan: data/regions.csv
        4, {(T, J, 2018): 1547, (T, J, 2019): 2231, (T, J, 2021): 4397, (T, J, 2022): 5700}
    ),
    "region_alias_duplicate.csv": Fails(3, "year", "region and year (also on row 2)"),
    "totals_row_region.csv": Fails(4, "region", "got '合计'; expected a region, not a totals row"),
    "totals_row_indicator.csv": Fails(4, "indicator", "not a totals row"),  # once per row
    "notes_rows.csv": Parsed(4, BASE.expected, skipped=(6, 7)),
    "homoglyph_indicator.csv": Fails(2, "indicator", "non-ASCII characters: 'е' (U+0435)"),
    # cells: units, separators, markers, placeholders
    "units_in_cells.csv": Parsed(
        4,
        {(T, J, 2022): 5700, ("product_brand_value", J, 2021): 6000e8,
         ("service_satisfaction", J, 2021): 85.2, ("service_satisfaction", J, 2020): 86.4},
    ),
    "value_unit_in_header.csv": Parsed(
        2, {("product_brand_value", J, 2019): 4256e8, ("product_brand_value", J, 2020): 4492e8}
    ),
    "unit_in_brackets.csv": Parsed(
        2, {("product_brand_value", J, 2019): 4256e8, ("service_satisfaction", J, 2020): 86.4}
    ),
    "footnote_markers.csv": Fails(2, "value", "without a footnote marker", problems=3),
    "placeholders_more.csv": Parsed(1, {(T, J, 2021): 4397}, skipped=(2, 3, 4, 5, 6)),
    "german_separators.csv": Fails(2, "value", "dots between thousands", problems=2),
    "indian_grouping.csv": Fails(2, "value", "digits grouped in threes"),
    "swiss_and_thin_space.csv": Parsed(2, {(T, J, 2019): 2231, (T, J, 2021): 4397}),
    "fullwidth_punctuation.csv": Parsed(
        3, {(T, J, 2019): 2231, ("service_satisfaction", J, 2020): 86.4,
            ("product_brand_value", J, 2019): 4256e8},
    ),
    "scientific_notation.csv": Parsed(1, {("product_brand_value", J, 2019): 4256e8}),
    "accounting_negative.csv": Fails(2, "value", "got '(123)'; expected a number"),
    # years
    "years_annual.csv": Parsed(3, {(T, J, 2019): 2231, (T, J, 2021): 4397, (T, J, 2022): 5700}),
    "year_with_month.csv": Fails(2, "year", "got '2020年12月'; expected a whole year", 3),
    "duplicated_years_formats.csv": Fails(3, "year", "got '2020年度'; expected one value per"),
    "transposed.csv": Fails(1, None, "the table looks transposed"),
    "wide_quarter_columns.csv": Fails(1, "2020q1", "a year as column header", problems=2),
    "wide_years_annual.csv": Parsed(2, {(T, J, 2019): 2231, (T, J, 2020): 3000}),
    # targets
    "targets_region_alias.csv": Parsed(1, {("x_count", J, 2022): 3}),  # 济南市 -> Jinan
    # one series, two units: refused once, naming the probable cause; fast growth loads
    "unit_jump_wan_yi.csv": Fails(2, "value", "10,000 times smaller, probably a unit error "
                                  "(万元 and 亿元 mixed up)"),
    "unit_jump_fraction_percent.csv": Fails(2, "value", "0.856 % looks like a fraction: 85.6 %?"),
    "unit_jump_thousands.csv": Fails(3, "value", "1,000 times larger, probably a unit error"),
    "unit_jump_two_years.csv": Fails(3, "value", "(2019: 4256 亿元)"),
    "growth_doubling.csv": Parsed(11, {(T, J, 2012): 1, (T, J, 2022): 1024}),
    "growth_from_zero.csv": Parsed(4, {("unicorn_firms", J, 2017): 0,
                                       ("unicorn_firms", J, 2020): 12}),
    "notes_sheet_then_data.xlsx": BASE,  # a notes sheet first: the data sheet found by its columns
    "wide_totals_row.csv": Fails(4, "region", "not a totals row"),  # once, not per year
    "growth_small_percent.csv": Parsed(3, {("service_satisfaction", J, 2020): 0.6}),
    "growth_small_counts.csv": Parsed(4, {("taishan_quality_brands", J, 2022): 12}),
    # issue 21: -0 is zero (reports would print '-0')
    "negative_zero.csv": Parsed(4, {("unicorn_firms", J, 2019): 0, ("unicorn_firms", J, 2020): 0,
                                    ("service_satisfaction", J, 2020): 0}),
    "targets_negative_zero.csv": Parsed(1, {("x_count", J, 2022): 0}),
    # formulas without the value a spreadsheet calculates (read as blank cells before)
    "formulas_uncomputed.xlsx": Fails(2, "value", "got '=4000+256'; expected a value calculated "
                                      "by a spreadsheet; the cell holds a formula but no value"),
    "formulas_uncomputed_kinds.xlsx": Fails(2, "value", "open the file in Excel or WPS and save "
                                            "it, or write values instead of formulas", 5),
    "wide_year_headers_as_dates.xlsx": Fails(1, "2019-12-31_00:00:00", "the header cells are "
                                             "dates (formatted as dates in the workbook)", 3),
}  # fmt: skip
assert not set(ADDED) & set(CASES)
CASES.update(ADDED)


# ----------------------------------------------------------------------------- schema checks


def check_value_limits(values: pd.Series, units: pd.Series) -> None:
    """Every value is finite and possible for its canonical unit."""
    assert np.isfinite(values).all()
    assert not np.signbit(values).any()  # no -0.0 either
    assert (values >= 0).all()
    assert (values <= units.map(_PLAUSIBLE_MAX)).all()
    assert (values.loc[units == "percent"] <= 100).all()
    whole = units.isin(["count", "rank"])
    assert (values.loc[whole] == np.floor(values.loc[whole])).all()
    assert (values.loc[units == "rank"] >= 1).all()


def check_observations(frame: pd.DataFrame, targets: pd.DataFrame) -> None:
    """The schema every loaded observations frame has (``published`` when the file has it)."""
    columns = tuple(frame.columns)
    assert columns in (OBSERVATION_COLUMNS, (*OBSERVATION_COLUMNS, "published")), columns
    if "published" in columns:
        assert frame["published"].dtype == "Int64"
    assert len(frame) > 0
    assert frame["year"].dtype == np.int64 and frame["value"].dtype == np.float64
    assert frame["year"].between(*YEAR_RANGE).all()
    declared = targets.drop_duplicates("indicator").set_index("indicator")["unit"]
    assert (frame["unit"] == frame["indicator"].map(declared)).all()
    check_value_limits(frame["value"], frame["unit"])
    assert frame["qualifier"].isin(list(QUALIFIERS)).all()
    assert (frame["region"].str.len() > 0).all() and (frame["source"].str.len() > 0).all()
    assert not frame.duplicated(["indicator", "region", "year"]).any()
    keys = list(zip(frame["indicator"], frame["region"], frame["year"], strict=True))
    assert keys == sorted(keys)
    assert all(isinstance(r, int) for r in frame.attrs["skipped_rows"])


def check_targets(frame: pd.DataFrame) -> None:
    """The schema every loaded targets catalogue has."""
    assert tuple(frame.columns) == (*TARGET_COLUMNS, *LABEL_COLUMNS)
    assert len(frame) > 0
    assert frame["indicator"].str.fullmatch(r"[a-z][a-z0-9_]*").all()
    assert frame["unit"].isin(CANONICAL_UNITS).all()
    assert str(frame["target_year"].dtype) == "Int64"
    with_target = frame["target"].notna()
    check_value_limits(frame.loc[with_target, "target"], frame.loc[with_target, "unit"])
    assert frame.loc[with_target, "comparison"].isin(COMPARISONS).all()
    assert frame.loc[with_target, "target_year"].between(*YEAR_RANGE).all()
    assert (frame.loc[~with_target, "comparison"] == "").all()
    assert not frame.duplicated(["indicator", "region"]).any()


# ----------------------------------------------------------------------------- tests


def load(path: Path, targets: pd.DataFrame) -> pd.DataFrame:
    if path.name.startswith("targets_"):
        return load_targets(path)
    return load_observations(path, targets=targets)


def test_every_corpus_file_has_a_case_and_the_script_builds_them(tmp_path):
    on_disk = {p.name for p in BAD.iterdir() if p.is_file() and p != SCRIPT}
    assert on_disk == set(CASES)
    assert len(CASES) >= 40 and len(ADDED) >= 30
    built = runpy.run_path(str(SCRIPT))["build"](tmp_path)
    assert set(built) == set(CASES)
    for name in built:  # binary files depend on the openpyxl / pyarrow version; text does not
        if name.endswith(".csv"):
            assert (tmp_path / name).read_bytes() == (BAD / name).read_bytes(), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name, targets):
    path, case = BAD / name, CASES[name]
    if isinstance(case, Parsed):
        frame = load(path, targets)
        if name.startswith("targets_"):
            check_targets(frame)
            keys = zip(frame["indicator"], frame["region"], frame["target_year"], strict=True)
            got = dict(zip(keys, frame["target"], strict=True))
        else:
            check_observations(frame, targets)
            keys = zip(frame["indicator"], frame["region"], frame["year"], strict=True)
            got = dict(zip(keys, frame["value"], strict=True))
            assert frame.attrs["skipped_rows"] == list(case.skipped)
        assert len(frame) == case.rows
        for key, value in case.expected.items():
            assert math.isclose(got[key], value, rel_tol=1e-12), key
        return
    with pytest.raises(DataError) as info:
        load(path, targets)
    error, first = info.value, info.value.problems[0]
    assert isinstance(error, ValueError)
    assert all(p.file == name for p in error.problems)
    assert (first.row, first.column) == (case.row, case.column), str(error)
    assert len(error.problems) == case.problems, str(error)
    where = ", ".join([name] + [f"row {case.row}"] * (case.row is not None))
    where += f", column {case.column!r}" if case.column else ""
    assert str(error).splitlines()[1].strip().startswith(where + ":"), str(error)
    assert case.words in str(error)


def _state(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_loading_never_changes_the_inputs_or_writes_beside_them(targets):
    before = _state(BAD), sorted(p.name for p in BAD.iterdir())
    for name in CASES:
        with contextlib.suppress(DataError):
            load(BAD / name, targets)
    assert (_state(BAD), sorted(p.name for p in BAD.iterdir())) == before


def test_sheet_can_be_chosen_by_name_or_number_and_a_wrong_one_is_named(targets):
    path = BAD / "data_on_second_sheet.xlsx"
    by_name = load_observations(path, targets=targets, sheet="数据")
    by_number = load_observations(path, targets=targets, sheet=1)
    pd.testing.assert_frame_equal(by_name, by_number)
    check_observations(by_name, targets)
    with pytest.raises(DataError, match=re.escape("named or numbered 'Data'; sheets: 'Sheet1'")):
        load_observations(path, targets=targets, sheet="Data")
    with pytest.raises(DataError, match="named or numbered 5"):
        load_observations(path, targets=targets, sheet=5)


TEN_MB = 10 * 2**20


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("1,", "at most 16,384 columns, as a spreadsheet holds; this row has 5,242,881 cells"),
        (",x", "at most 16,384 columns"),  # after a real header
        ("x", "a cell longer than any table's"),
    ],
)
def test_a_10_mb_file_on_one_line_is_refused_at_once(tmp_path, targets, line, words):
    path = tmp_path / "one_line.csv"
    head = "indicator,region,year,value,unit" if line == ",x" else ""
    path.write_text(head + line * (TEN_MB // len(line)), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_observations(path, targets=targets)
    problem = info.value.problems[0]
    assert (problem.file, problem.row, problem.column) == ("one_line.csv", 1, None)
    assert words in str(info.value)
    assert "the file has no line break at all: were its line breaks lost" in str(info.value)


def _special(kind: str, path: Path) -> None:
    """Make ``path`` a folder, a pipe, a link to a device, a dangling or looping link."""
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "dangling":
        path.symlink_to(path.parent / "gone.csv")
    elif kind == "loop":
        path.symlink_to(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()  # the socket file stays


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("folder", "this path is a folder, not a file: give the path of a .csv, .xlsx or"),
        ("fifo", "this path is a named pipe (FIFO), not a file: save the data to a file"),
        ("device", "this path is a device (a link to /dev/zero), not a file"),
        ("dangling", "gone.csv', which does not exist or loops: point the link at the data"),
        ("loop", "which does not exist or loops"),
        ("socket", "this path is a socket, not a file: save the data to a file"),
    ],
)
def test_a_path_that_is_not_a_regular_file_is_named_for_what_it_is(tmp_path, kind, words):
    from brandstats import check_parameters
    from brandstats.parameters import ParameterError

    path = tmp_path / "data.csv"
    _special(kind, path)
    with pytest.raises(DataError) as info:
        load_observations(path)  # a pipe or /dev/zero would block or never end if opened
    assert str(info.value).splitlines()[1].strip().startswith(f"{path}: expected a")
    assert words in str(info.value)
    with pytest.raises(ParameterError, match=re.escape(words)):  # the notebooks' data_path
        check_parameters({"data_path": str(path)})


def test_each_kind_of_uncalculated_formula_is_named(targets):
    with pytest.raises(DataError) as info:
        load_observations(BAD / "formulas_uncomputed_kinds.xlsx", targets=targets)
    found = {(p.row, p.column): (p.value, p.expected) for p in info.value.problems}
    assert found[(3, "value")][0] == "=4000+256"  # a shared formula, filled down from D2
    assert "holds an array formula but no value" in found[(4, "value")][1]
    assert "holds a what-if data table but no value" in found[(5, "year")][1]
    assert "another workbook (an external link): open that one too" in found[(5, "value")][1]
