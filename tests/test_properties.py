"""Property tests: whatever the input, a valid result or one of our errors, never a crash.

Random tables (real and junk column names, cells of numbers, units, ids, placeholders and
unicode), random bytes and damaged copies of good files are fed to the loaders; random short
series to :func:`brandstats.attainment.assess_series`. The loaders must return a frame that
passes the schema checks or raise :class:`DataError`; ``assess_series`` must return an
:class:`Assessment` with a probability in [0, 1] (or None) or raise a ``BrandstatsError``.
Since a loader that refused everything would pass those, random *valid* tables (ids in odd
case, spaces and zero-width characters, numbers spelt as analysts do, units converted by a
hand-written table) must load, to exactly the values written.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from test_bad_inputs import BAD, check_observations, check_targets

from brandstats import DataError, load_observations, load_targets
from brandstats.attainment import Assessment, assess_series
from brandstats.errors import BrandstatsError
from brandstats.loading import (
    _COLUMN_ALIASES,
    _PLACEHOLDERS,
    COMPARISONS,
    OBSERVATION_COLUMNS,
    QUALIFIERS,
    TARGET_COLUMNS,
)
from brandstats.units import CANONICAL_UNITS

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Valid rows: indicator -> (unit spellings, values in those units)
VALID = {
    "product_brand_value": (["亿元", "万元", "元", "billion yuan"], st.floats(0, 9999)),
    "high_tech_enterprises": (["家", "个", "firms"], st.integers(0, 99_999)),
    # a whole series at most 1 (0.3 ... 1 %) towards its target of 88 % is refused as
    # fractions (0.85 looks like a fraction: 85 %?): valid series stay clear of it
    "service_satisfaction": (["%", "％", "percent"], st.floats(0, 0.2) | st.floats(1.01, 100)),
    "public_service_rank": (["rank", "名"], st.integers(1, 50)),
    "x_count": (["count"], st.integers(0, 5)),  # not in the shipped targets
}
WORDS = [
    *VALID, *QUALIFIERS, *COMPARISONS, *CANONICAL_UNITS, *_PLACEHOLDERS, "High_Tech_Enterprises ",
    "Jinan", "济南", "亿元", "万元", "元", "%", "％", "家", "个", "名", "billion yuan", "furlongs",
    "2020", "2020年", "2020.0", "２０２１", "二〇二〇", "FY2020", "2020-21", "1949", "2101",
    "=SUM(B2:B4)", "#DIV/0!", "NaN", "inf", "-inf", "1e999", "1,5", "1,234", "6000亿元", "96%",
    "≥", ">=", "", " ",
]  # fmt: skip
NAMES = [*OBSERVATION_COLUMNS, *TARGET_COLUMNS, *_COLUMN_ALIASES, "2019", "2020年", "2021E",
         "_row", "_1", "Unnamed: 3", ""]  # fmt: skip
LAYOUTS = [  # tidy observations, a targets catalogue, wide observations
    ["indicator", "region", "year", "value", "unit", "qualifier", "source"],
    ["indicator", "unit", "comparison", "target", "target_year", "region", "group", "name_en"],
    ["indicator", "region", "unit", "2019", "2020年", "2021"],
]

numbers = st.one_of(
    st.integers(-(10**13), 10**13).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.floats(0, 1e12).map(lambda x: f"{x:,.2f}"),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
cells = st.one_of(
    st.sampled_from(WORDS),
    numbers,
    st.tuples(numbers, st.sampled_from(["亿元", " 万元", "%", "家", "rank", "x"])).map("".join),
    st.text(max_size=10),
)


def _spell(number: float) -> st.SearchStrategy[str]:
    """Ways an analyst writes a number: 1234, 1,234.5, ５７００ ..."""
    return st.sampled_from([
        str(number), f"{number:,}", f" {number} ",
        str(number).translate(str.maketrans("0123456789.", "０１２３４５６７８９．")),
    ])  # fmt: skip


@st.composite
def valid_cells(draw: st.DrawFn, columns: list[str]) -> dict[str, str]:
    """One valid row (for every layout): an indicator with a matching unit and value."""
    indicator = draw(st.sampled_from(sorted(VALID)))
    units, values = VALID[indicator]
    row = {
        "indicator": indicator,
        "region": draw(st.sampled_from(["Jinan", "Qingdao", " Jinan "])),
        "unit": draw(st.sampled_from(units)),
        "qualifier": draw(st.sampled_from([*QUALIFIERS, ""])),
        "comparison": draw(st.sampled_from([*COMPARISONS, "≥", "≤"])),
        "group": draw(st.sampled_from(["product", "context", ""])),
    }
    for col in ("year", "target_year"):
        row[col] = draw(st.sampled_from(["2019", "2020年", "2021.0", "２０２２", "2023 "]))
    for col in ("value", "target", *columns[3:]):
        row.setdefault(col, draw(_spell(draw(values))))
    return row


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header and rows: mostly valid rows of a real layout, with some cells, columns and
    rows damaged (junk cells, a column dropped or added, a row cut short or too long)."""
    layout = draw(st.sampled_from(LAYOUTS))
    header = draw(st.permutations(layout))
    if draw(st.sampled_from([False, False, False, True])):
        header.pop(draw(st.integers(0, len(header) - 1)))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        extra = draw(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)))
        header.insert(draw(st.integers(0, len(header))), extra)
    rows = []
    for _ in range(draw(st.sampled_from([1, 2, 3, 4, 5, 6, 0]))):
        good = draw(valid_cells(layout))
        row = [good.get(col, "") for col in header]
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
            row[draw(st.integers(0, len(row) - 1))] = draw(cells)
        rows.append(row)
    if rows and draw(st.sampled_from([False] * 4 + [True])):  # cut short, or a cell too many
        i = draw(st.integers(0, len(rows) - 1))
        rows[i] = draw(st.sampled_from([rows[i][:-1], [*rows[i], draw(cells)]]))
    return header, rows


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("props")


def _outcome(load: Callable[[], pd.DataFrame]) -> pd.DataFrame | DataError:
    try:
        return load()
    except DataError as exc:
        return exc


def load_either(path: Path, targets: pd.DataFrame) -> None:
    """Load ``path`` as observations and as targets: a valid frame or DataError, each time."""
    observations = _outcome(lambda: load_observations(path, targets=targets))
    catalogue = _outcome(lambda: load_targets(path))
    for result, check in (
        (observations, lambda frame: check_observations(frame, targets)),
        (catalogue, check_targets),
    ):
        if isinstance(result, DataError):
            assert result.problems and all(path.name in str(p) for p in result.problems)
        else:
            check(result)


@SETTINGS
@given(
    table=tables(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_random_csv_tables(folder, targets, table, delimiter, encoding, newline):
    header, rows = table
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator=newline).writerows([header, *rows])
    path = folder / "random.csv"
    path.write_bytes(text.getvalue().encode(encoding))
    load_either(path, targets)


xlsx_cells = st.one_of(
    cells,
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
)


def _native(cell: str) -> object:
    """A cell as Excel would store it: a number when the text is one."""
    try:
        number = float(cell)
    except ValueError:
        return ILLEGAL_CHARACTERS_RE.sub("", cell)  # openpyxl refuses control characters
    return number if np.isfinite(number) else cell


@SETTINGS
@given(table=tables(), typed=st.lists(st.lists(xlsx_cells, max_size=9), max_size=3))
def test_random_xlsx_and_parquet_tables(folder, targets, table, typed):
    header, rows = table
    body = [[_native(c) for c in row] for row in rows] + typed
    book = openpyxl.Workbook()
    for row in [[_native(c) for c in header], *body]:  # text starting "=" becomes a formula
        book.active.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c
                            for c in row])  # fmt: skip
    book.save(folder / "random.xlsx")
    load_either(folder / "random.xlsx", targets)
    columns = list(dict.fromkeys(header))  # Parquet needs unique column names
    frame = pd.DataFrame([(row + [None] * len(columns))[: len(columns)] for row in body],
                         columns=columns, dtype=object)  # fmt: skip
    try:
        frame.infer_objects().to_parquet(folder / "random.parquet")
    except (ValueError, TypeError, OverflowError):  # a column of mixed types: store it as text
        frame.astype(str).to_parquet(folder / "random.parquet")
    load_either(folder / "random.parquet", targets)


# Valid tables must load, to the values written: a loader that refused everything, or read
# a figure wrongly, fails here (the tests above accept any DataError).
FACTORS = {  # unit spelling -> factor to the canonical unit, by hand (not from the package)
    "亿元": 1e8, "万元": 1e4, "元": 1.0, "billion yuan": 1e9, "家": 1.0, "个": 1.0, "firms": 1.0,
    "%": 1.0, "％": 1.0, "percent": 1.0, "rank": 1.0, "名": 1.0,
}  # fmt: skip
YEARS = {"2019": 2019, "2020年": 2020, "2021.0": 2021, "２０２２": 2022, "2023 ": 2023,
         "2018年度": 2018}  # fmt: skip
SHIPPED = {k: v for k, v in VALID.items() if k != "x_count"}


def _near(draw: st.DrawFn, first: float, indicator: str) -> float:
    """Another year of a series: up to 30 % above its first value (never a unit jump)."""
    number = first * (1 + draw(st.integers(0, 3)) / 10)
    if isinstance(first, int):
        number = round(number)
    return min(number, 100.0) if indicator == "service_satisfaction" else number


@st.composite
def valid_tables(draw: st.DrawFn) -> tuple[list[list[str]], dict[tuple, float]]:
    """A tidy table of valid rows (unique keys) and the canonical value each must load as."""
    header = draw(st.permutations(["indicator", "region", "year", "value", "unit"]))
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(SHIPPED)), st.sampled_from(["Jinan", "Qingdao"]),
                      st.sampled_from(sorted(YEARS))),
            min_size=1, max_size=6, unique_by=lambda k: (k[0], k[1], YEARS[k[2]]),
        )
    )  # fmt: skip
    rows, expected, series = [], {}, {}
    for indicator, region, year in keys:
        units, values = SHIPPED[indicator]
        if (indicator, region) in series:  # one scale per series: a x10,000 jump is refused
            unit, first = series[indicator, region]
            number = _near(draw, first, indicator)
        else:
            unit, number = draw(st.sampled_from(units)), draw(values)
            series[indicator, region] = unit, number
        cells = {
            "indicator": draw(st.sampled_from([indicator, indicator.upper(), f" {indicator} "])),
            "region": draw(st.sampled_from([region, f" {region}", f"{region}\u200b"])),
            "year": year,
            "value": draw(_spell(number)),
            "unit": unit,
        }
        rows.append([cells[c] for c in header])
        expected[(indicator, region, YEARS[year])] = float(number) * FACTORS[unit]
    return [header, *rows], expected


WIDE_YEARS = {"2019": 2019, "2020年": 2020, "2021年度": 2021, "２０２２": 2022}


@st.composite
def valid_wide_tables(draw: st.DrawFn) -> tuple[list[list[str]], dict[tuple, float]]:
    """A wide table (one column per year, some cells blank) and the values it must load as."""
    years = draw(st.lists(st.sampled_from(sorted(WIDE_YEARS)), min_size=1, max_size=4,
                          unique=True))  # fmt: skip
    header = [*draw(st.permutations(["indicator", "region", "unit"])), *years]
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(sorted(SHIPPED)), st.sampled_from(["Jinan", "济南"])),
                 min_size=1, max_size=4, unique_by=lambda k: (k[0], "Jinan"))
    )  # fmt: skip
    rows, expected = [], {}
    for indicator, region in pairs:
        units, values = SHIPPED[indicator]
        unit = draw(st.sampled_from(units))
        cells = {"indicator": indicator, "region": region, "unit": unit}
        first = None
        for year in years:
            number = draw(st.one_of(st.none(), values))
            if number is not None and first is not None:  # one scale per series (row)
                number = _near(draw, first, indicator)
            first = number if first is None else first
            cells[year] = "" if number is None else draw(_spell(number))
            if number is not None:  # 济南 is Jinan (data/regions.csv)
                expected[(indicator, "Jinan", WIDE_YEARS[year])] = float(number) * FACTORS[unit]
        rows.append([cells[c] for c in header])
    if not expected:  # at least one value (2: 1 % alone would look like a fraction of 100 %)
        rows[0][header.index(years[0])] = "2"
        indicator, unit = rows[0][header.index("indicator")], rows[0][header.index("unit")]
        expected[(indicator, "Jinan", WIDE_YEARS[years[0]])] = 2 * FACTORS[unit]
    return [header, *rows], expected


def _check_loaded(frame: pd.DataFrame, expected: dict[tuple, float], targets) -> None:
    check_observations(frame, targets)
    got = {(r.indicator, r.region, r.year): r.value for r in frame.itertuples()}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert math.isclose(got[key], value, rel_tol=1e-12, abs_tol=1e-9), (key, got[key], value)


@SETTINGS
@given(
    table=valid_tables(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_valid_csv_tables_load_to_the_values_written(folder, targets, table, delimiter, encoding):
    rows, expected = table
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path = folder / "valid.csv"
    path.write_bytes(text.getvalue().encode(encoding))
    _check_loaded(load_observations(path, targets=targets), expected, targets)


@SETTINGS
@given(table=valid_tables(), as_numbers=st.booleans())
def test_valid_xlsx_tables_load_to_the_values_written(folder, targets, table, as_numbers):
    rows, expected = table
    book = openpyxl.Workbook()
    for row in rows:  # numbers as numbers (as Excel stores them) or as text
        book.active.append([_native(c) if as_numbers else c for c in row])
    book.save(folder / "valid.xlsx")
    _check_loaded(load_observations(folder / "valid.xlsx", targets=targets), expected, targets)


@SETTINGS
@given(table=valid_wide_tables())
def test_valid_wide_tables_load_to_the_values_written(folder, targets, table):
    rows, expected = table
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    path = folder / "wide.csv"
    path.write_bytes(text.getvalue().encode("utf-8"))
    _check_loaded(load_observations(path, targets=targets), expected, targets)


GOOD = {
    ".csv": (BAD / "delimiter_semicolon.csv").read_bytes(),
    ".xlsx": (BAD / "header_on_row3.xlsx").read_bytes(),
    ".parquet": (BAD / "wrong_dtypes.parquet").read_bytes(),
}


def _damage(raw: bytes, cut: float, flips: list[tuple[float, int]]) -> bytes:
    data = bytearray(raw[: max(1, int(len(raw) * cut))])
    for where, byte in flips:
        data[int(where * (len(data) - 1))] = byte
    return bytes(data)


@SETTINGS
@given(
    suffix=st.sampled_from(sorted(GOOD)),
    raw=st.one_of(
        st.binary(max_size=600),
        st.tuples(
            st.sampled_from(sorted(GOOD)),
            st.floats(0.0, 1.0),
            st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=4),
        ).map(lambda t: _damage(GOOD[t[0]], t[1], t[2])),
    ),
)
def test_random_and_damaged_bytes(folder, targets, suffix, raw):
    path = folder / f"bytes{suffix}"
    path.write_bytes(raw)
    load_either(path, targets)


def _xlsx_with_sheet_xml(xml: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(GOOD[".xlsx"])) as src,
        zipfile.ZipFile(out, "w") as dst,
    ):
        for info in src.infolist():
            data = xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            dst.writestr(info.filename, data)
    return out.getvalue()


@SETTINGS
@given(
    start=st.floats(0.0, 1.0),
    length=st.integers(0, 200),
    junk=st.sampled_from([b"", b'<c r="B9" t="e"><v>#REF!</v></c>', b"<row>", b"\xff", b"&"]),
)
def test_workbooks_with_damaged_sheet_xml(folder, targets, start, length, junk):
    with zipfile.ZipFile(io.BytesIO(GOOD[".xlsx"])) as book:
        xml = book.read("xl/worksheets/sheet1.xml")
    at = int(start * len(xml))
    path = folder / "damaged_xml.xlsx"
    path.write_bytes(_xlsx_with_sheet_xml(xml[:at] + junk + xml[at + length :]))
    load_either(path, targets)


# ----------------------------------------------------------------------------- attainment

series_values = st.one_of(
    st.integers(0, 10**6).map(float), st.floats(0, 1e12), st.floats(allow_nan=True)
)
REPORTED = ["reported"] * 6


# Shrinking re-runs slow assessments for minutes: the crashes found are given below as
# explicit, already minimal examples instead (see the report of the loader work).
@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@example(  # scipy brentq does not converge in Mixture.ppf (RuntimeError): a plain count series
    years=[2000, 2001, 2002], values=[1.0, 1.0, 4.0], target=228.0, comparison=">=",
    target_year=2040, unit="count", as_of=None, qualifiers=REPORTED,
)  # fmt: skip
@example(  # a NaN target: ValueError "cannot convert float NaN to integer"
    years=[2019, 2020, 2021], values=[1.0, 2.0, 3.0], target=math.nan, comparison=">=",
    target_year=2025, unit="count", as_of=None, qualifiers=REPORTED,
)  # fmt: skip
@example(  # a huge value: RuntimeWarning overflow in _fit_drift (an error under pytest)
    years=[2000, 2001, 2002], values=[0.0, 1e154, 0.0], target=0.0, comparison=">",
    target_year=2003, unit="yuan", as_of=None, qualifiers=REPORTED,
)  # fmt: skip
@example(  # a tiny value: RuntimeWarning invalid value in backtest._weights
    years=[2000, 2001, 2002, 2003, 2004, 2005], values=[0.0, 1e-308, 0.0, 0.0, 0.0, 0.0],
    target=0.0, comparison=">", target_year=2006, unit="yuan", as_of=None, qualifiers=REPORTED,
)  # fmt: skip
@example(  # a log-t with scale 5,000 on the log scale: RuntimeWarning overflow in exp (ppf)
    years=[2026, 2025, 2029, 2014, 2000, 2019],
    values=[2295.0, 354.0, 4549.0, 362879.0, 3489.0, 2.0451961487457824e16, 427.0],
    target=2.2513299055242816e16, comparison="<", target_year=2036, unit="yuan", as_of=None,
    qualifiers=["lower_bound", "lower_bound", "illustrative", "reported", "lower_bound",
                "lower_bound", "illustrative"],
)  # fmt: skip
@given(
    years=st.lists(st.integers(2000, 2030), max_size=7, unique=True),
    values=st.lists(series_values, min_size=7, max_size=7),
    target=st.floats(allow_nan=True, allow_infinity=True),
    comparison=st.sampled_from([*COMPARISONS, "=="]),
    target_year=st.integers(1995, 2040),
    unit=st.sampled_from([*CANONICAL_UNITS, "furlongs"]),
    as_of=st.one_of(st.none(), st.integers(1995, 2040)),
    qualifiers=st.lists(st.sampled_from(["reported", "lower_bound", "illustrative"]), min_size=7,
                        max_size=7),
)  # fmt: skip
def test_assess_series_gives_an_assessment_or_our_error(
    years, values, target, comparison, target_year, unit, as_of, qualifiers
):
    series = pd.Series(values[: len(years)], index=years, dtype="float64")
    flags = pd.Series(qualifiers[: len(years)], index=years, dtype=object)
    try:
        result = assess_series(
            series, target=target, comparison=comparison, target_year=target_year, unit=unit,
            qualifiers=flags, as_of=as_of,
        )  # fmt: skip
    except BrandstatsError:
        return
    assert isinstance(result, Assessment)
    assert result.probability is None or 0.0 <= result.probability <= 1.0
    assert isinstance(result.to_dict(), dict)
