"""Loading: read the targets catalogue and observed series, validate them, convert units.

Both loaders accept the shipped files (default), or a user's CSV, Excel (.xlsx) or Parquet
file, in the tidy long layout (one row per indicator, region and year) or, for observations,
the **wide** layout analysts keep in Excel (one row per indicator and region, one column per
year). CSV files may be UTF-8 (with or without BOM) or GBK/GB18030; the delimiter may be a
comma, semicolon, tab or ``|``; the header may sit below a few title rows.

Every problem found is reported in one :class:`~brandstats.errors.DataError` whose lines name
the file, the row as a spreadsheet shows it, the column, the bad value and what was expected;
a file that cannot be read at all (damaged, cut short, UTF-16, an image or a workbook with a
.csv name, an empty sheet) gives a DataError too, never an exception from pandas, openpyxl
or pyarrow. Nothing is guessed: a blank indicator cell (left by merged cells) is an error,
not filled from the row above, and ``1,5`` is an error, not 15. Input files are only ever read.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import decimal
import difflib
import io
import itertools
import math
import os
import re
import stat
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import (
    ACCUMULATIONS,
    COMPARISONS,
    DATA_DIR,
    VINTAGE_BASES,
    YEAR_RANGE,
    YEARS_TEXT,
    is_name_character,
)
from .errors import BrandstatsError, DataError, Problem
from .units import (
    CANONICAL_UNITS,
    UnitInfo,
    can_meet,
    known_unit_spellings,
    parse_number,
    parse_unit,
    support,
)

__all__ = [
    "DATA_DIR",
    "LABEL_COLUMNS",
    "OBSERVATION_COLUMNS",
    "QUALIFIERS",
    "TARGET_COLUMNS",
    "Releases",
    "ancestors",
    "assessable_pairs",
    "canonical_region",
    "check_vintage_basis",
    "file_problem",
    "load_observations",
    "load_targets",
    "merge_observations",
    "normalize_region",
    "on_basis",
    "plan_name",
    "published_by",
    "read_table",
    "region_aliases",
    "region_tree",
    "release_table",
    "series_gaps",
    "table_kind",
    "target_order",
    "unobserved_targets",
    "untargeted_regions",
    "validate_observations",
    "validate_targets",
    "workbook_sheets",
]


TARGET_COLUMNS = (
    "indicator", "name_en", "name_zh", "group", "unit", "comparison", "target",
    "target_year", "region", "source", "accumulation", "lower", "upper", "parent", "weight",
)  # fmt: skip
LABEL_COLUMNS = ("group_en", "group_zh", "plan_en", "plan_zh", "note")
"""Further columns of a loaded targets catalogue: each group's label in English and Chinese
(blank: the group as written), the plan's name in each language (blank when the file names
none) and a free-text note (``备注``/``说明``) kept for people, never read as data."""
_MAX_COLUMNS = 16_384
"""The widest table a spreadsheet holds (Excel's XFD); a wider CSV row is refused at once."""
OBSERVATION_COLUMNS = ("indicator", "region", "year", "value", "unit", "qualifier", "source")

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august")
_MONTHS += ("september", "october", "november")

QUALIFIERS = {
    "reported": "a published figure",
    "provisional": "a published preliminary figure",
    "estimate": "an estimate, not a published figure",
    "lower_bound": "the true value is at least this (e.g. 'exceeded 5,700')",
    "upper_bound": "the true value is at most this",
    "cumulative": "a running total since the scheme began",
    **{
        f"as_of_{month}": f"a count part-way through the year (as of {month.title()})"
        for month in _MONTHS
    },
    "illustrative": "NOT A REAL FIGURE: made up so the notebooks run; replace with real data",
}
"""Accepted values of the ``qualifier`` column, with their meaning."""


# Column names analysts use for the same thing (folded with _fold before lookup).
_COLUMN_ALIASES = {
    "指标": "indicator", "indicator_id": "indicator", "id": "indicator",
    "地区": "region", "区域": "region", "城市": "region", "city": "region",
    "年份": "year", "年度": "year", "年": "year",
    "数值": "value", "值": "value", "数据": "value",
    "单位": "unit", "units": "unit",
    "限定": "qualifier", "flag": "qualifier", "性质": "qualifier",
    "备注": "note", "说明": "note",
    "指标代码": "indicator", "指标名称": "name", "名称": "name",
    "英文名称": "name_en", "中文名称": "name_zh",
    "类别": "group", "目标类别": "group", "分组": "group",
    "计划": "plan", "计划名称": "plan",
    "来源": "source", "数据来源": "source", "sources": "source",
    "发布": "published", "发布日期": "published", "发布时间": "published",
    "发布年份": "published", "公布日期": "published", "published_on": "published",
    "目标": "target", "目标值": "target", "目标年份": "target_year", "比较": "comparison",
    "比较方式": "comparison",
    "别名": "aliases", "region_aliases": "aliases", "地区别名": "aliases",
    "上级": "parent", "上级地区": "parent", "所属": "parent", "权重": "weight",
}  # fmt: skip
ROOT_NAMES = ("全市", "全省", "全区", "全县", "全国", "市级", "city total")
"""Names of the whole of a region tree's root (全市: the whole city), read as the root region
when the targets file gives a tree (a ``parent`` column) with one root."""
_COMPARISON_ALIASES = {"≥": ">=", "≤": "<=", "=>": ">=", "=<": "<=", "＞": ">", "＜": "<"}
_PLACEHOLDERS = {
    "",
    "#n/a",
    "n.a.",
    "n.a",
    "n/a.",
    "n.d.",
    "/",
    "不详",
    "未公布",
    "n/a",
    "na",
    "nan",
    "null",
    "none",
    "-",
    "--",
    "—",
    "——",
    "…",
    "...",
    "空",
    "无",
    "暂无",
}
_TOTALS = {"合计", "总计", "小计", "共计", "总和", "total", "totals", "sum", "subtotal",
           "grand_total", "grand total"}  # fmt: skip
_BRACKETS = "()（）[]【】"
_YEAR_CELL = re.compile(r"^(\d{4})(?:\.0+)?[\s_]*(?:年|年度)?$")
_YEARISH = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")  # a year inside other text
_PLAUSIBLE_MAX = {"yuan": 1e16, "count": 1e9, "percent": 100.0, "rank": 1e4, "continuous": 1e16}


# ----------------------------------------------------------------------------- reading


def _clean(text: object) -> str:
    """NFKC (full-width to ASCII), no invisible characters (zero-width spaces, BOMs, NUL and
    other control characters; tabs and line breaks become spaces), no surrounding spaces."""
    s = str(text)
    if s.isascii() and s.isprintable():  # most cells: nothing to normalise or remove
        return s.strip()
    s = unicodedata.normalize("NFKC", s)
    s = "".join(
        " " if c in "\t\n\r\v\f" else c
        for c in s
        if unicodedata.category(c) not in ("Cf", "Cc") or c in "\t\n\r\v\f"
    )
    return s.strip()


def _label(text: object) -> str:
    """A label for people (a plan's name, a group's label, a note) as written: no invisible
    characters, single spaces, and no NFKC, so that （2020—2022年） keeps its full-width
    brackets; '' for a blank cell."""
    if _is_blank(text):
        return ""
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    kept = "".join(
        " " if c in "\t\n\r\v\f" else c
        for c in str(text)
        if unicodedata.category(c) not in ("Cf", "Cc") or c in "\t\n\r\v\f"
    )
    return re.sub(r"\s+", " ", kept).strip()


def _fold(text: object) -> str:
    """Normalise a header or id cell: NFKC, strip, lower case, spaces to underscores."""
    return re.sub(r"\s+", "_", _clean(text).lower())


def _canonical(header: object) -> str:
    """The canonical column name for a header cell."""
    folded = _fold(header)
    return _COLUMN_ALIASES.get(folded, folded)


# What a file is when its first bytes say so: for a clear message when it has the wrong name.
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive or an .xlsx workbook (give a workbook its .xlsx name)"),
    (b"PAR1", "a Parquet file (give it its .parquet name)"),
    (b"\xd0\xcf\x11\xe0", "an old .xls workbook (save it as .xlsx or CSV UTF-8)"),
    (b"\x1f\x8b", "gzip-compressed data (decompress it first)"),
)


def _looks_like(raw: bytes) -> str | None:
    """Name the kind of a non-text file from its first bytes, or None if it may be text."""
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            return kind
    head = raw[:4096]
    if not head.strip(b"\x00"):
        return (
            "only NUL bytes (zeros), no text: the file was never written completely "
            "(a crashed copy or sync); copy or export it again"
        )
    tail = len(raw) - len(raw.rstrip(b"\x00"))
    if tail and b"\x00" not in raw[: len(raw) - tail]:
        return (
            f"text followed by {tail} NUL bytes (zeros) from byte {len(raw) - tail}: the file "
            "was not saved completely (a crashed copy or sync); copy or export it again"
        )
    if raw[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") or (
        len(head) >= 8
        and max(head[i::4].count(0) for i in range(4)) == len(head[::4])
        and sum(head[i::4].count(0) for i in range(4)) >= len(head) * 5 // 8
    ):
        return "UTF-32 text (save it as CSV UTF-8)"
    zeros = max(head[0::2].count(0), head[1::2].count(0))
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or zeros > len(head) // 4:
        return "UTF-16 text (save it as CSV UTF-8)"
    controls = sum(1 for b in head if b < 32 and b not in b"\t\n\r\x0c")
    if controls > max(2, len(head) // 50):  # a stray NUL in a cell is cleaned, not refused
        return "binary data, not text"
    return None


def _chinese_share(text: str) -> float:
    """The share of non-ASCII characters that are Chinese characters or full-width forms."""
    wide = [c for c in text if not c.isascii()]
    chinese = sum(
        "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
        for c in wide
    )
    return chinese / len(wide) if wide else 0.0


def _western(text: str) -> bool:
    """Whether every non-ASCII character is a Latin-1 letter or an invisible format character
    (a zero-width space, a BOM): UTF-8 text, which GBK bytes almost never decode to."""
    wide = [c for c in text if not c.isascii()]
    return bool(wide) and all(
        "\u00c0" <= c <= "\u00ff" or unicodedata.category(c) == "Cf" for c in wide
    )


def _decode(raw: bytes, name: str) -> str:
    """Decode CSV bytes: UTF-8 (BOM or not), else GB18030 (a superset of GBK), else fail."""
    kind = _looks_like(raw)
    if kind:
        raise DataError.one(name, f"a text CSV file in UTF-8 or GBK; this looks like {kind}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        rough = raw.decode("utf-8", errors="replace")
        bad = rough.count("\ufffd")
        if sum(ord(c) > 0x7F for c in rough) - bad >= 4 * bad:
            # Mostly valid UTF-8 with a few broken bytes: a damaged UTF-8 file, not GBK text
            # (read as GBK it would load as mojibake).
            line = raw[: exc.start].count(b"\n") + 1
            raise DataError.one(
                name,
                f"valid UTF-8 text; found {bad} invalid byte(s), the first on line {line} "
                "(the file is damaged or cut short: export it again as CSV UTF-8)",
            ) from None
    else:
        # A short GBK file can be valid UTF-8 by chance (元 in GBK reads as UTF-8 'Ԫ'):
        # read it as GBK when UTF-8 gives no Chinese character at all and GBK mostly does.
        if raw.startswith(b"\xef\xbb\xbf") or text.isascii():
            return text
        try:
            gbk = raw.decode("gb18030")
        except UnicodeDecodeError:
            return text
        if _western(text):  # é, or a zero-width space copied from a web page: UTF-8
            return text
        return gbk if _chinese_share(text) == 0 and _chinese_share(gbk) > 0.5 else text
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise DataError.one(
            name, "a CSV file encoded as UTF-8 or GBK/GB18030 (save as CSV UTF-8)"
        ) from None


def _sniff_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon, tab or |) that splits out the most known column names."""
    lines = text[:65_536].splitlines()[:30]  # a header is never longer; a huge line is cut
    known = {*OBSERVATION_COLUMNS, *TARGET_COLUMNS}
    best, best_count = ",", 0
    for delimiter in ",;\t|":
        try:
            for cells in csv.reader(lines, delimiter=delimiter):
                # no column name is longer than 64 characters: a long cell is data
                count = sum(len(c) <= 64 and _canonical(c) in known for c in cells)
                if count > best_count:
                    best, best_count = delimiter, count
        except csv.Error:  # e.g. a field over the size limit: not this delimiter
            continue
    return best


def _no_line_break(text: str) -> str:
    """The hint for a file of one enormous line, or ''."""
    if "\n" in text or "\r" in text:
        return ""
    return (
        "; the file has no line break at all: were its line breaks lost (a broken export or "
        "copy)? Save it again as CSV UTF-8, one row per line"
    )


def _read_csv(raw: bytes, name: str) -> pd.DataFrame:
    """Every cell of a CSV file as text; a cell missing from a short row is None."""
    text = _decode(raw, name)
    if not text.strip():
        raise DataError.one(name, "a table with a header row; the file is empty")
    rows: list[list[str]] = []
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text), strict=True
    )
    try:
        for cells in reader:
            if len(cells) > _MAX_COLUMNS:  # a table no spreadsheet holds: stop before pandas
                raise DataError.one(
                    name,
                    f"a table of at most {_MAX_COLUMNS:,} columns, as a spreadsheet holds; "
                    f"this row has {len(cells):,} cells" + _no_line_break(text),
                    row=len(rows) + 1,
                )
            rows.append(cells)
    except csv.Error as exc:
        hint = (
            "a quoted value is never closed: is the file cut short?"
            if "end of data" in str(exc)
            else "a cell longer than any table's"
            + _no_line_break(text)
            + " (or a stray quote? quote the whole value and double any quote inside it)"
            if "field limit" in str(exc)
            else "a stray quote? quote the whole value and double any quote inside it"
        )
        raise DataError.one(
            name, f"a well-formed CSV row ({exc}; {hint})", row=len(rows) + 1
        ) from None
    width = max(len(cells) for cells in rows)
    return pd.DataFrame([cells + [None] * (width - len(cells)) for cells in rows], dtype=object)


def _percent_text(value: object, number_format: str) -> object:
    """A number shown as a percentage (0.852 formatted ``0.0%``) as the text Excel shows."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    shown = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", number_format or "")
    if "%" not in shown or not np.isfinite(value):
        return value
    percent = decimal.Decimal(repr(value)) * 100
    return f"{percent.normalize():f}%"


def _sheet_cells(sheet: object) -> dict[int, dict[int, object]]:
    """The non-blank cells of a read-only worksheet: {row: {column: value}}, 0-based.

    The used range a workbook declares is ignored (a stray cell at XFD1048576 declares a
    range of 17 billion cells): only the cells present are kept, so memory follows the data.
    A percent-formatted number is read as Excel shows it (``85.2%``, not 0.852).
    """
    sheet.reset_dimensions()  # rows as stored, not padded to the declared range
    cells: dict[int, dict[int, object]] = {}
    for i, row in enumerate(sheet.iter_rows()):
        kept = {
            j: _percent_text(cell.value, getattr(cell, "number_format", ""))
            for j, cell in enumerate(row)
            if not _is_blank(cell.value)
        }
        if kept:
            cells[i] = kept
    return cells


class _Uncomputed(str):
    """A formula cell a spreadsheet never calculated, as the formula's text (``=B2*2``);
    :attr:`expected` says what it is and what to do."""

    expected: str


def _uncomputed(value: object) -> _Uncomputed | None:
    """The formula of a cell read with ``data_only=False``, or None when it holds none."""
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    if isinstance(value, ArrayFormula):
        text, what = str(value.text), "an array formula"
    elif isinstance(value, DataTableFormula):
        text, what = f"=TABLE({value.r1 or ''},{value.r2 or ''})", "a what-if data table"
    elif isinstance(value, str) and value.startswith("=") and len(value) > 1:
        text, what = value, "a formula"
    else:
        return None
    cell = _Uncomputed(text)
    cell.expected = (
        f"a value calculated by a spreadsheet; the cell holds {what} but no value (a workbook "
        "written by a program and never opened in Excel or WPS has none): open the file in "
        "Excel or WPS and save it, or write values instead of formulas"
    )
    if re.search(r"\[\d+\]", text):
        cell.expected += (
            "; it refers to another workbook (an external link): open that one too, or paste "
            "the values (Paste Special > Values)"
        )
    return cell


def _has_formulas(raw: bytes) -> bool:
    """Whether any worksheet of a workbook holds a formula (``<f>`` element)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as book:
        return any(
            re.search(rb"<(?:\w+:)?f[ />]", book.read(part))
            for part in book.namelist()
            if part.startswith("xl/worksheets/") and part.endswith(".xml")
        )


def _add_uncomputed(raw: bytes, sheet: str, cells: dict[int, dict[int, object]]) -> None:
    """Put each formula cell without a calculated value into ``cells`` as :class:`_Uncomputed`
    (read with ``data_only=True``, such a cell is blank and its row would be skipped)."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    try:
        worksheet = book[sheet]
        worksheet.reset_dimensions()
        for i, row in enumerate(worksheet.iter_rows()):
            for j, cell in enumerate(row):
                formula = _uncomputed(cell.value)
                if formula is not None and j not in cells.get(i, {}):
                    cells.setdefault(i, {})[j] = formula
    finally:
        book.close()


def _read_xlsx(raw: bytes, name: str, sheet: str | int | None) -> pd.DataFrame:
    """The non-blank cells of one worksheet as a grid indexed by 0-based row and column
    (blank rows and columns left out); Excel error values (``#DIV/0!``) are kept as text."""
    import openpyxl

    if not raw.startswith(b"PK\x03\x04"):
        kind = _looks_like(raw) or "a text file (give a CSV file its .csv name)"
        raise DataError.one(name, f"an .xlsx workbook; this looks like {kind}")
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it cannot read (an empty style sheet, data validation,
            # a date beyond 9999, read as #VALUE!); the cell values are read all the same.
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            try:
                sheets = [ws.title for ws in book.worksheets]
                chosen = 0 if sheet is None else sheet
                if isinstance(chosen, str) and chosen not in sheets and chosen.isdigit():
                    chosen = int(chosen)  # --sheet 1 on the command line
                if isinstance(chosen, int) and -len(sheets) <= chosen < len(sheets):
                    chosen = sheets[chosen]
                listed = ", ".join(repr(s) for s in sheets)
                if chosen not in sheets:
                    raise DataError.one(
                        name, f"a worksheet named or numbered {sheet!r}; sheets: {listed}"
                    )
                cells = _sheet_cells(book[chosen])
            finally:
                book.close()
            if _has_formulas(raw):
                _add_uncomputed(raw, chosen, cells)
                cells = dict(sorted(cells.items()))
    except DataError:
        raise
    except Exception as exc:  # zip, XML and value errors from openpyxl: a damaged workbook
        raise DataError.one(
            name, f"a valid .xlsx workbook; it is damaged or incomplete ({type(exc).__name__})"
        ) from None
    if not cells:
        raise DataError.one(
            name,
            f"a table on sheet {chosen!r}, but the sheet is empty (sheets in the workbook: "
            f"{listed}; choose one with sheet=..., --sheet or {name}#SHEET)",
        )
    grid = pd.DataFrame.from_dict(cells, orient="index", dtype=object)
    return grid.sort_index(axis=1).astype(object).where(grid.notna(), np.nan)


def _read_parquet(raw: bytes, name: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if not raw.startswith(b"PAR1"):
        kind = _looks_like(raw) or "a text file (give a CSV file its .csv name)"
        raise DataError.one(name, f"a Parquet file; this looks like {kind}")
    try:
        names = pq.ParquetFile(io.BytesIO(raw)).schema_arrow.names
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise DataError.one(
            name, f"a valid Parquet file; it is damaged or incomplete ({type(exc).__name__})"
        ) from None
    twice = [c for c in dict.fromkeys(names) if names.count(c) > 1]
    if twice:
        raise DataError(
            [Problem(name, 1, c, c, f"each column name only once (the Parquet file has "
                     f"{names.count(c)} columns {c!r}; rename them before saving)")
             for c in twice]
        )  # fmt: skip
    try:
        table = pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise DataError.one(
            name, f"a valid Parquet file; it is damaged or incomplete ({type(exc).__name__})"
        ) from None
    if not isinstance(table.index, pd.RangeIndex):
        table = table.reset_index()  # e.g. saved with set_index(["indicator", "region"])
    body = table.astype(object).where(table.notna(), np.nan)
    header = pd.DataFrame([[str(c) for c in table.columns]], dtype=object)
    return pd.concat([header, body.set_axis(range(table.shape[1]), axis=1)], ignore_index=True)


_SPECIAL_FILES = (
    (stat.S_ISDIR, "a folder", "give the path of a .csv, .xlsx or .parquet file in it"),
    (stat.S_ISFIFO, "a named pipe (FIFO)", "save the data to a file and give its path"),
    (stat.S_ISCHR, "a device", "give the path of a .csv, .xlsx or .parquet file"),
    (stat.S_ISBLK, "a disk device", "give the path of a .csv, .xlsx or .parquet file"),
    (stat.S_ISSOCK, "a socket", "save the data to a file and give its path"),
)


def file_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as a data file (what was expected, what is there, what to
    do), or None for a regular file. Nothing is opened: a pipe or device would block or never
    end."""
    path = Path(path)
    link = f" (a link to {os.path.realpath(path)})" if path.is_symlink() else ""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if link:
            return (
                f"an existing file; this is a link to {str(path.readlink())!r}, which does not "
                "exist or loops: point the link at the data file, or give the file's path"
            )
        if isinstance(exc, FileNotFoundError):
            return "an existing file; nothing is at this path: check the folder and the name"
        return f"a readable file ({exc.strerror}): check the path and its permissions"
    for test, kind, todo in _SPECIAL_FILES:
        if test(mode):
            return f"a data file; this path is {kind}{link}, not a file: {todo}"
    return None


def _read_grid(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """Read every cell of a file as an object grid, no header interpretation.

    The grid's index and column labels are the 0-based spreadsheet row and column (an Excel
    grid leaves out blank rows and columns). Blank cells are NaN or ``""``; in a CSV file,
    None marks a cell beyond the end of a short row. The file is read once, as bytes, and
    never written.
    """
    name = path.name
    problem = file_problem(path)
    if problem:
        raise DataError.one(str(path), problem)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".parquet", ".csv", ".txt", ".tsv", ""):
        raise DataError.one(name, "a .csv, .xlsx or .parquet file", value=suffix)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError.one(name, f"a readable file ({exc.strerror})") from None
    if not raw:
        raise DataError.one(name, "a table with a header row; the file is empty")
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(raw, name, sheet)
    if suffix == ".parquet":
        return _read_parquet(raw, name)
    return _read_csv(raw, name)


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _as_text(value: object) -> str:
    """A cell as clean text ('' for blank); integral floats lose their '.0'."""
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return _clean(value)


# ----------------------------------------------------------------------------- regions


def normalize_region(text: object) -> str:
    """A region cell as text: NFKC, invisible characters removed, single inner spaces.

    >>> normalize_region(" Jinan\u200b ")
    'Jinan'
    """
    return re.sub(r"\s+", " ", _as_text(text))


def region_aliases(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Alternative names of regions: {alias: region}, from ``data/regions.csv`` by default.

    The file has the columns ``alias``, ``region`` and ``source`` (where the name comes from).
    A targets file may add its own aliases in an ``aliases`` column (see
    :func:`load_targets`).
    """
    src = DATA_DIR / "regions.csv" if path is None else Path(path)
    with src.open(encoding="utf-8-sig", newline="") as f:
        return {normalize_region(r["alias"]): normalize_region(r["region"])
                for r in csv.DictReader(f)}  # fmt: skip


def _region_lookup(targets: pd.DataFrame) -> dict[str, str]:
    """{case-folded spelling: region} for the shipped aliases, the targets file's own aliases
    and the regions the targets name."""
    lookup: dict[str, str] = {}
    named = [r for r in targets["region"] if r] if "region" in targets else []
    for alias, region in [
        *region_aliases().items(),
        *targets.attrs.get("region_aliases", {}).items(),
        *zip(named, named, strict=True),
    ]:
        lookup[alias.casefold()] = region
    tree = region_tree(targets)
    roots = set(tree.values()) - set(tree)
    if len(roots) == 1:  # 全市 is the city when the tree has one root
        root = roots.pop()
        lookup |= {name.casefold(): root for name in ROOT_NAMES if name.casefold() not in lookup}
    return lookup


def region_tree(targets: pd.DataFrame) -> dict[str, str]:
    """{region: its parent} from a targets catalogue's ``parent`` column (empty without one).

    A parent is the region whose total the region is part of (a district's city); the tree's
    root has no row of its own here unless it has a parent.
    """
    if "parent" not in targets or "region" not in targets:
        return {}
    return {
        region: parent
        for region, parent in zip(targets["region"], targets["parent"], strict=True)
        if isinstance(parent, str) and parent
    }


def canonical_region(name: str, targets: pd.DataFrame) -> str:
    """A region as the targets spell it: ``济南`` and `` jinan\u200b`` give ``Jinan``.

    Uses the shipped aliases (``data/regions.csv``), the targets file's ``aliases`` column and
    the regions the targets name; a name none of them knows is returned normalised.
    """
    written = normalize_region(name)
    return _region_lookup(targets).get(written.casefold(), written)


def _target_aliases(table: pd.DataFrame) -> dict[str, str]:
    """The ``aliases`` column of a raw targets table: {alias: the row's region}.

    Aliases are separated by ``;``, ``；``, ``、`` or ``|``.
    """
    if "aliases" not in table.columns or "region" not in table.columns:
        return {}
    out = {}
    for aliases, region in zip(table["aliases"], table["region"], strict=True):
        for alias in re.split(r"[;；、|]", _as_text(aliases)):
            if normalize_region(alias) and normalize_region(region):
                out[normalize_region(alias)] = normalize_region(region)
    return out


def untargeted_regions(observations: pd.DataFrame, targets: pd.DataFrame) -> dict[str, list[str]]:
    """Observed regions that no target names, for each indicator with a target.

    A region written differently from the targets file (and not in its aliases) is one of
    these: it would be left out of every assessment without a word.

    Returns
    -------
    dict
        {indicator: sorted regions}; indicators whose target applies to every region (blank
        ``region``) and indicators without a target are left out.
    """
    with_target = targets.loc[targets["target"].notna()]
    out = {}
    for indicator, rows in with_target.groupby("indicator", sort=False):
        if (rows["region"] == "").any():
            continue
        observed = observations.loc[observations["indicator"] == indicator, "region"]
        extra = sorted(set(observed) - set(rows["region"]))
        if extra:
            out[str(indicator)] = extra
    return out


def assessable_pairs(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    indicators: Sequence[str] | None = None,
    region: str | None = None,
) -> list[tuple[str, str]]:
    """(indicator, region) pairs with a target and observations, in catalogue order."""
    with_target = targets.loc[targets["target"].notna()]
    if indicators:
        unknown = sorted(set(indicators) - set(with_target["indicator"]))
        if unknown:
            raise BrandstatsError(
                f"no target for {unknown}; indicators with targets: "
                + ", ".join(with_target["indicator"])
            )
        with_target = with_target.loc[with_target["indicator"].isin(indicators)]
    wanted = set(with_target["indicator"])
    observed: dict[str, set[str]] = {}  # plain sets: this runs for every group of every vintage
    for indicator, r in zip(observations["indicator"], observations["region"], strict=True):
        if indicator in wanted:
            observed.setdefault(indicator, set()).add(r)
    specific = set(zip(with_target["indicator"], with_target["region"], strict=True))
    tree = region_tree(targets)
    pairs = []
    for indicator, own in zip(with_target["indicator"], with_target["region"], strict=True):
        regions = observed.get(indicator, set())
        if own:
            candidates = [own]
        else:  # a blank region: every observed region without a target of its own
            candidates = [r for r in sorted(regions) if (indicator, r) not in specific]
        # a parent is assessable from its districts' data too (brandstats.hierarchy)
        within = {_ancestor for r in regions for _ancestor in ancestors(r, tree)}
        for r in candidates:
            if (r in regions or r in within) and (region is None or r == region):
                pairs.append((indicator, r))
    return pairs


def unobserved_targets(
    observations: pd.DataFrame, targets: pd.DataFrame
) -> list[tuple[str, str, list[str]]]:
    """Targets of an observed indicator whose region has no observations (nor districts that
    stand in for it), with the observed region names closest to it: ``历下区`` in the targets
    and ``历下`` in the data would otherwise drop out of every table without a word.

    Indicators without any observation are left out (a file of revisions, or of some
    indicators, need not hold every one).

    Returns
    -------
    list of (indicator, region, closest observed regions), in catalogue order
    """
    assessable = set(assessable_pairs(observations, targets))
    with_target = targets.loc[targets["target"].notna() & (targets["region"] != "")]
    out = []
    for t in with_target.itertuples():
        observed = observations.loc[observations["indicator"] == t.indicator, "region"]
        if observed.empty or (t.indicator, t.region) in assessable:
            continue
        out.append((str(t.indicator), str(t.region), closest_regions(
            observations, targets, str(t.indicator), str(t.region))))  # fmt: skip
    return out


def closest_regions(
    observations: pd.DataFrame, targets: pd.DataFrame, indicator: str, region: str
) -> list[str]:
    """Up to three observed regions of ``indicator`` whose names are closest to ``region``,
    those that no target names first (the likely misspellings: 历下 for 历下区)."""
    observed = set(observations.loc[observations["indicator"] == indicator, "region"])
    named = set(targets.loc[targets["indicator"] == indicator, "region"])
    names = sorted(observed - named) or sorted(observed)
    close = difflib.get_close_matches(region, names, n=3, cutoff=0.5)
    close += [n for n in names if (n in region or region in n) and n not in close]
    return close[:3]


def target_order(targets: pd.DataFrame, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(indicator, region) pairs in catalogue order: a region's own row, else its
    indicator's blank-region row; pairs of the same row by region."""
    pairs = list(dict.fromkeys(pairs))
    position = {}
    for i, (ind, region) in enumerate(zip(targets["indicator"], targets["region"], strict=True)):
        position.setdefault((ind, region), i)
    rank = {p: position.get(p, position.get((p[0], ""), len(targets))) for p in pairs}
    return sorted(pairs, key=lambda p: (rank[p], "" if rank[p] == position.get(p) else p[1]))


def ancestors(region: str, tree: Mapping[str, str]) -> list[str]:
    """The regions above ``region`` in a region tree ({region: parent}), nearest first."""
    out: list[str] = []
    while region in tree and tree[region] not in out and tree[region] != region:
        region = tree[region]
        out.append(region)
    return out


def _letter(j: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    j += 1
    while j:
        j, rest = divmod(j - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_table(
    path: str | os.PathLike[str], *, sheet: str | int | None = None, key: str = "indicator"
) -> pd.DataFrame:
    """Read a file's table as text cells, before any validation.

    Parameters
    ----------
    path : path-like
        A CSV, XLSX or Parquet file; ``book.xlsx#Sheet2`` names a worksheet.
    sheet : str or int, optional
        The worksheet of an Excel file (the first by default).
    key : str
        A column the header row must have; the header is the first row with it (within the
        first 20 rows), so title rows above it are skipped.

    Returns
    -------
    pandas.DataFrame
        One column per named header cell (canonical names, e.g. ``年份`` -> ``year``) and a
        ``_row`` column with each row's spreadsheet row number; blank rows left out.

    Raises
    ------
    DataError
        When the file cannot be read or has no such header row.
    """
    src, sheet = _source_path(path, sheet)
    return _sheet_table(src, sheet, key)


def _sheet_table(src: Path, sheet: str | int | None, key: str) -> pd.DataFrame:
    """:func:`_table` of ``src``; when the first sheet (chosen by default) has no table, the
    error names the other sheets that have one and how to choose them."""
    try:
        return _table(_read_grid(src, sheet), src.name, key)
    except DataError as exc:
        if (
            sheet is not None
            or src.suffix.lower() != ".xlsx"
            or "sheet" in exc.problems[0].expected
            or "damaged" in exc.problems[0].expected
        ):
            raise
        import openpyxl

        try:
            with warnings.catch_warnings():  # as in _read_xlsx: parts openpyxl cannot read
                warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
                book = openpyxl.load_workbook(io.BytesIO(src.read_bytes()), read_only=True)
                names = [ws.title for ws in book.worksheets][1:]
                book.close()
        except Exception:  # the first error says what is wrong
            raise exc from None
        found = []
        for name in names:
            with contextlib.suppress(DataError):
                _table(_read_grid(src, name), src.name, key)
                found.append(name)
        if not found:
            raise
        first = exc.problems[0]
        hint = (
            f"; the first sheet has no table, but sheet {', '.join(map(repr, found))} has one: "
            f"choose it with --sheet {found[0]}, sheet={found[0]!r} or {src.name}#{found[0]}"
        )
        problem = Problem(first.file, first.row, first.column, first.value, first.expected + hint)
        raise DataError([problem]) from None


def _table(grid: pd.DataFrame, name: str, key: str) -> pd.DataFrame:
    """Find the header row (the first with a ``key`` column) and build the table.

    Columns are renamed to canonical names; a ``_row`` column keeps the spreadsheet row number
    and ``attrs["header_row"]`` the header's. Columns with a blank header, or one starting with
    ``_``, are left out. Fully blank rows (e.g. separators) are dropped.
    """
    if grid.empty:
        raise DataError.one(name, "a table with a header row; the file or sheet is empty")
    header_at = None
    for i in range(min(len(grid), 20)):
        if key in [_canonical(c) for c in grid.iloc[i]]:
            header_at = i
            break
    if header_at is None:
        first = ", ".join(_as_text(c) for c in grid.iloc[0] if not _is_blank(c))
        raise DataError.one(
            name,
            f"a header row with the column {key!r} within the first 20 rows"
            + _header_hint(grid.iloc[:20], key),
            row=int(grid.index[0]) + 1,
            value=first[:120],
        )
    header = grid.iloc[header_at]
    header_row = int(grid.index[header_at]) + 1
    header, two_rows = _merged_year_header(header, grid.iloc[header_at + 1 : header_at + 2])
    header_at += two_rows
    columns: dict[str, int] = {}
    problems = []
    for j, cell in header.items():
        col = _canonical(cell)
        if _is_blank(cell) or col.startswith("_"):
            continue
        if col in columns:
            also = f"each column name only once (also column {_letter(columns[col])})"
            problems.append(Problem(name, header_row, col, _as_text(cell), also))
        columns.setdefault(col, j)
    # A CSV row longer than the header (None marks the header's missing cells): most often
    # an unquoted delimiter inside a value, which shifts every later cell of the row.
    beyond = [j for j, cell in header.items() if cell is None]
    if beyond:
        long_rows = ~grid.iloc[header_at + 1 :].loc[:, beyond].map(_is_blank).all(axis=1)
        for i in long_rows.index[long_rows]:
            cells = ", ".join(_as_text(c) for c in grid.loc[i] if not _is_blank(c))
            problems.append(
                Problem(name, int(i) + 1, None, cells[:120],
                        f"at most {len(header) - len(beyond)} cells, as in the header row; a "
                        "delimiter inside an unquoted value such as 4,397? quote that value")
            )  # fmt: skip
    if problems:
        raise DataError(problems)
    body = grid.iloc[header_at + 1 :].loc[:, list(columns.values())]
    body = body.set_axis(list(columns), axis=1)
    body.insert(0, "_row", (body.index + 1).astype("int64"))
    uncomputed = [
        Problem(name, int(row), col, str(cell), cell.expected)
        for row, *cells in body.itertuples(index=False)
        for col, cell in zip(body.columns[1:], cells, strict=True)
        if isinstance(cell, _Uncomputed)
    ]
    if uncomputed:
        raise DataError(uncomputed)
    blank = body.drop(columns="_row").map(_is_blank).all(axis=1)
    body = body.loc[~blank].reset_index(drop=True)
    body.attrs["header_row"] = header_row
    return body


def _header_hint(top: pd.DataFrame, key: str) -> str:
    """Why no header row was found: full-width commas between cells, or a transposed table."""
    for cells in top.itertuples(index=False):
        text = " ".join(str(c) for c in cells if not _is_blank(c))
        if "，" in text and key in [_canonical(c) for c in text.split("，")]:
            return (
                "; the cells are separated by full-width commas (，): save the file as CSV "
                "with ASCII commas"
            )
    first_column = [_canonical(c) for c in top.iloc[:, 0]]
    ids = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
    first_row = [_canonical(c) for c in top.iloc[0]]
    if key in first_column or (
        "year" in first_row and sum(bool(ids.fullmatch(c)) for c in first_row) >= 1
    ):
        return (
            "; the table looks transposed (indicators as columns or the header as a column): "
            "make one row per indicator, with an 'indicator' column (Excel: Copy, then Paste "
            "Special > Transpose)"
        )
    return ""


def _merged_year_header(header: pd.Series, below: pd.DataFrame) -> tuple[pd.Series, int]:
    """A two-row header (``年份`` merged over the year columns, the years on the row below)
    as one row of column names; returns the header and how many extra rows it took (0 or 1)."""
    if below.empty:
        return header, 0
    cells = below.iloc[0]
    filled = {j: c for j, c in cells.items() if not _is_blank(c)}
    open_ = {j for j, c in header.items() if _is_blank(c) or _canonical(c) == "year"}
    if (
        len(filled) < 2
        or not set(filled) <= open_
        or not any(_canonical(header[j]) == "year" for j in open_ if not _is_blank(header[j]))
        or any(_parse_year(_as_text(c)) is None for c in filled.values())
    ):
        return header, 0
    merged = header.copy()
    for j in open_:
        merged[j] = _as_text(filled[j]) if j in filled else np.nan
    return merged, 1


def _require(table: pd.DataFrame, name: str, required: Iterable[str]) -> None:
    missing = [c for c in required if c not in table.columns]
    if missing:
        found = ", ".join(c for c in table.columns if c != "_row")
        raise DataError(
            [
                Problem(name, None, c, None, f"a column {c!r} (columns found: {found})")
                for c in missing
            ]
        )


def _source_path(
    path: str | os.PathLike[str] | None, sheet: str | int | None, default: str = ""
) -> tuple[Path, str | int | None]:
    """The file to read and its sheet: ``book.xlsx#Sheet2`` names the sheet after ``#``."""
    if path is None:
        return DATA_DIR / default, sheet
    src = Path(path)
    text = os.fspath(path)
    if "#" in text and not src.exists():
        stem, _, named = text.rpartition("#")
        if Path(stem).suffix.lower() in (".xlsx", ".xlsm"):
            if sheet is not None and str(sheet) != named:
                raise DataError.one(
                    Path(stem).name, f"one sheet, not both {named!r} (after #) and {sheet!r}"
                )
            return Path(stem), named
    return src, sheet


# ----------------------------------------------------------------------------- cells


def _parse_year(text: str) -> int | None:
    m = _YEAR_CELL.match(text)
    return int(m.group(1)) if m else None


_DATE_CELL = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")

PUBLISHED_EXPECTED = (
    "the year (2022) or ISO date (2022-03-15) the figure was published, or blank if unknown"
)


def _parse_published(cell: object) -> int | None:
    """The year a ``published`` cell names: a year (``2022``, ``2022年``), an ISO date
    (``2022-03-15``, ``2022-03``) or an Excel date. Raises ValueError for anything else."""
    if isinstance(cell, datetime.date):  # datetime.datetime too
        return cell.year
    text = _as_text(cell)
    year = _parse_year(text)
    if year is None and (m := _DATE_CELL.match(text)):
        year = int(m.group(1))
        datetime.date(year, int(m.group(2)), int(m.group(3) or 1))  # a real date, or ValueError
    if year is None or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise ValueError(text)
    return year


def _suggest(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _check_value(value: float, unit: str) -> str | None:
    """Return what was expected if ``value`` is impossible for ``unit``, else None."""
    if not np.isfinite(value):
        return "a finite number"
    if unit == "continuous":  # its bounds, if any, are the targets file's lower and upper
        return None if abs(value) <= _PLAUSIBLE_MAX[unit] else "a plausible value"
    if value < 0:
        return f"a non-negative {unit} value"
    if unit == "percent" and value > 100:
        return "a percentage between 0 and 100"
    if unit in ("count", "rank") and not float(value).is_integer():
        return f"a whole number ({unit})"
    if unit == "rank" and value < 1:
        return "a rank of 1 or more (1 = best)"
    if value > _PLAUSIBLE_MAX[unit]:
        return f"a plausible {unit} value (at most {_PLAUSIBLE_MAX[unit]:g})"
    return None


def _repeated(
    seen: dict[tuple, int], key: tuple, where: tuple[str, int], column: str, value: str
) -> list[Problem]:
    """The problem of a key (indicator, region[, year]) met before, naming its first row;
    remembers the key's first row in ``seen``."""
    name, row = where
    first = seen.setdefault(key, row)
    if first == row:
        return []
    what = "one row per indicator and region" if len(key) == 2 else (
        "one value per indicator, region and year")  # fmt: skip
    return [Problem(name, row, column, value, f"{what} (also on row {first})")]


def _digit_marker(cell: object) -> str | None:
    """A character that NFKC would turn into a digit but is not one: a footnote marker such as
    ``①`` or ``¹`` (``4397①`` must not become 43971). Full-width digits are digits."""
    if not isinstance(cell, str):
        return None
    for c in cell:
        if c.isascii() or "\uff10" <= c <= "\uff19":
            continue
        if any(d.isdigit() for d in unicodedata.normalize("NFKC", c)):
            return c
    return None


def _parse_quantity(
    cell: object, unit_cell: str, canonical: str | None, where: tuple[str, int], column: str
) -> tuple[float | None, list[Problem]]:
    """Parse a value cell with its unit; convert to ``canonical``. Returns (value, problems)."""
    name, row = where
    text = _as_text(cell)
    marker = _digit_marker(cell)
    if marker:
        expected = (
            f"a number without the footnote marker {marker!r} (read as a digit it would change "
            "the figure; put the note in the qualifier or source column)"
        )
        return None, [Problem(name, row, column, str(cell).strip(), expected)]
    parsed = parse_number(cell if isinstance(cell, int | float) else text)
    if parsed is None:
        expected = "a number such as 1234, 1,234 or 56.7"
        if text.startswith("="):
            expected += ", not a formula (paste the values: Paste Special > Values)"
        elif text.startswith("#"):
            expected += ", not an Excel error value (fix the formula or leave the cell blank)"
        elif re.fullmatch(r"[+-]?\d+,\d{1,2}", text):
            expected += " (a decimal point, not a decimal comma)"
        elif re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?|\d+\.\d{3},\d+", text):
            expected += " (dots between thousands and a decimal comma? write 2231000 or 4256.5)"
        elif re.fullmatch(r"\d{1,2}(,\d\d)+,\d{3}", text):
            expected += " (digits grouped in threes: 123,456, not 1,23,456)"
        elif re.fullmatch(r"[\d,.\s]+\s*(\*+|[†‡§]|[①-⑳]|\[\w+\]|\(\w\)|[a-z])", text):
            expected += (
                " without a footnote marker (put the note in the qualifier or source column)"
            )
        return None, [Problem(name, row, column, text, expected)]
    number, inline = parsed
    unit_cell = unit_cell.strip(_BRACKETS + " ")  # "（亿元）" as a unit cell
    unit = parse_unit(unit_cell) if unit_cell else None
    if unit_cell and unit is None:
        ok = ", ".join(u for u in CANONICAL_UNITS)
        return None, [Problem(name, row, "unit", unit_cell, f"a known unit (kinds: {ok})")]
    if inline is not None and unit is not None and inline != unit:
        return None, [Problem(name, row, column, text, f"a value in the row's unit {unit_cell!r}")]
    unit = inline or unit
    if unit is None:
        return None, [Problem(name, row, "unit", "", "a unit such as 亿元, 万元, %, 家 or rank")]
    if canonical is not None and unit.canonical != canonical:
        spellings = ", ".join(sorted(known_unit_spellings(canonical), key=len)[:8])
        shown = unit_cell or text
        return None, [Problem(name, row, "unit", shown, f"a {canonical} unit ({spellings})")]
    value = number * unit.factor + 0.0  # -0 (a typed '-0', a formula's -0.0) is zero
    expected = _check_value(value, unit.canonical)
    if expected:
        return None, [Problem(name, row, column, text, expected)]
    return value, []


# ----------------------------------------------------------------------------- targets


def load_targets(
    path: str | os.PathLike[str] | None = None, *, sheet: str | int | None = None
) -> pd.DataFrame:
    """Load and validate a targets catalogue.

    Parameters
    ----------
    path : path-like, optional
        A CSV, XLSX or Parquet file; the shipped ``data/targets.csv`` by default;
        ``book.xlsx#Sheet2`` names a worksheet. An optional ``aliases`` column (or ``别名``)
        lists other names of the row's region, separated by ``;`` or ``、`` (e.g.
        ``历下;历下区`` for ``Lixia``); observations written so are read as that region.

        Any plan fits: an ``indicator`` id is letters of any script, digits, ``_`` and ``-``
        (``high_tech_firms``, ``创新型企业数量``); ``group`` is free text (``科技创新``),
        shown in the order the file first names each group, under the label ``group_en`` or
        ``group_zh`` when given; ``name`` (``指标名称``) names an indicator in both languages
        where ``name_en`` or ``name_zh`` is blank; ``plan`` (``计划名称``), or ``plan_en`` and
        ``plan_zh``, is the plan's name, written on one row (the others blank), which titles the
        reports (:func:`plan_name`); ``note`` (``备注``, ``说明``) is free text for people. A
        target column headed with its unit, ``目标值(亿元)`` or ``target (%)``, is the target
        in that unit. Headers may be Chinese: ``指标代码``, ``单位``, ``比较``, ``目标值``,
        ``目标年份``, ``地区``, ``来源``.
    sheet : str or int, optional
        The worksheet of an Excel file; by default the one sheet whose header row is a targets
        table (an ``indicator`` column and a ``target`` or ``comparison`` one), else the first.

    Returns
    -------
    pandas.DataFrame
        One row per (indicator, region) with the columns of :data:`TARGET_COLUMNS` and
        :data:`LABEL_COLUMNS`: ``target`` is in the canonical ``unit`` (NaN for a context
        indicator without a target), ``region`` is ``""`` when the target applies to every
        region, ``name_en`` and ``name_zh`` are never blank (a missing one is the other
        language's name, else the id). ``attrs["shipped"]`` is True for the shipped catalogue.

    Raises
    ------
    DataError
        Listing every problem, each with file, row, column, value and what was expected.
    """
    src, sheet = _source_path(path, sheet, "targets.csv")
    sheet, name = _chosen_sheet(src, sheet, "targets")
    out = validate_targets(_table(_read_grid(src, sheet), name, "indicator"), file=name)
    out.attrs["shipped"] = path is None
    return out


def plan_name(targets: pd.DataFrame, language: str = "en") -> str:
    """The plan's name as a targets catalogue gives it, in ``language`` (``en`` or ``zh``).

    The name in the other language stands in for a missing one; ``""`` when the catalogue
    names no plan (columns ``plan``, ``plan_en``, ``plan_zh``: see :func:`load_targets`).

    Examples
    --------
    >>> plan_name(load_targets(), "zh")
    '济南市品牌战略三年行动计划（2020—2022年）'
    """
    columns = ("plan_zh", "plan_en") if language == "zh" else ("plan_en", "plan_zh")
    for column in columns:
        if column in targets:
            named = [str(v) for v in targets[column] if isinstance(v, str) and v.strip()]
            if named:
                return named[0]
    return ""


def table_kind(columns: Iterable[str]) -> str | None:
    """What a table holds, from its (canonical) column names: ``"targets"`` (an
    ``indicator`` column and a ``target``, ``comparison`` or ``target_year`` one, or a target
    headed with its unit), ``"observations"`` (an ``indicator`` column and ``year`` or
    ``value`` columns, or years as columns), or None."""
    names = [_canonical(c) for c in columns]
    if "indicator" not in names:
        return None
    if {"target", "comparison", "target_year"} & set(names) or any(
        _TARGET_WITH_UNIT.match(c) for c in names
    ):
        return "targets"
    if {"year", "value"} & set(names) or any(
        _parse_year(c) is not None or _VALUE_WITH_UNIT.match(c) for c in names
    ):
        return "observations"
    return None


def workbook_sheets(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """The worksheets of an Excel workbook that hold a targets table and those that hold
    observations, told apart by their header row (:func:`table_kind`; the header is the first
    row with an ``indicator`` column, within the first 20 rows).

    Returns
    -------
    dict
        ``{"targets": [sheet, ...], "observations": [sheet, ...]}`` in the workbook's order;
        both empty for a CSV or Parquet file, or a workbook that cannot be read (loading it
        says why).
    """
    found: dict[str, list[str]] = {"targets": [], "observations": []}
    src = Path(path)
    if src.suffix.lower() not in (".xlsx", ".xlsm") or file_problem(src):
        return found
    import openpyxl

    try:
        raw = src.read_bytes()
        with warnings.catch_warnings():  # as in _read_xlsx: parts openpyxl cannot read
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            try:
                for worksheet in book.worksheets:
                    worksheet.reset_dimensions()
                    for cells in worksheet.iter_rows(max_row=20, values_only=True):
                        header = [_as_text(c) for c in cells if not _is_blank(c)]
                        if "indicator" in [_canonical(c) for c in header]:
                            kind = table_kind(header)
                            if kind:
                                found[kind].append(worksheet.title)
                            break
            finally:
                book.close()
    except Exception:  # zip, XML and value errors from openpyxl: loading it says what is wrong
        return {"targets": [], "observations": []}
    return found


def _chosen_sheet(src: Path, sheet: str | int | None, kind: str) -> tuple[str | int | None, str]:
    """The worksheet to read and the name messages give the table.

    ``sheet`` when given; else, in a workbook, the one sheet holding a table of ``kind``
    ("targets" or "observations"), named ``book.xlsx#sheet`` when the workbook holds other
    tables too (a plan's targets and observations); else None (the first sheet).
    """
    if sheet is not None:
        return sheet, src.name
    tables = workbook_sheets(src)
    found = tables[kind]
    if len(found) > 1:
        listed = ", ".join(map(repr, found))
        raise DataError.one(
            src.name,
            f"one worksheet of {kind}; sheets {listed} all hold {kind}: choose one with "
            f"{src.name}#{found[0]}, --sheet or sheet=...",
        )
    if not found:
        return None, src.name
    several = len(tables["targets"]) + len(tables["observations"]) > 1
    return found[0], f"{src.name}#{found[0]}" if several else src.name


def _own_targets(path: str | os.PathLike[str]) -> pd.DataFrame | None:
    """The targets sheet of a workbook that holds one (beside its observations), or None."""
    src, _ = _source_path(path, None)
    found = workbook_sheets(src)["targets"]
    return load_targets(src, sheet=found[0]) if len(found) == 1 else None


def _parse_bounds(
    rec: dict, unit_text: str, unit: UnitInfo, where: tuple[str, int]
) -> tuple[dict[str, float | None], tuple[float, float] | None, list[Problem]]:
    """The declared bounds of a target row (lower/upper cells, None when blank) and its
    support (None when a bound is bad), with the problems found. A blank lower bound of a
    unit with a default one (a rate per 1,000: 0, see :class:`~brandstats.units.UnitInfo`)
    is that default."""
    canonical = unit.canonical
    given: dict[str, float | None] = {}
    problems: list[Problem] = []
    for col in ("lower", "upper"):
        text = _as_text(rec.get(col, ""))
        given[col] = None
        if text and text.lower() not in _PLACEHOLDERS:
            value, found = _parse_quantity(rec[col], unit_text, None, where, col)
            problems += found
            given[col] = value
    if problems:
        return given, None, problems
    default, upper = unit.lower, given["upper"]
    if given["lower"] is None and default is not None and (upper is None or upper > default):
        given["lower"] = default
    try:
        return given, support(canonical, given["lower"], given["upper"]), []
    except BrandstatsError as exc:
        col = "upper" if given["upper"] is not None else "lower"
        shown = _as_text(rec.get(col, ""))
        return given, None, [Problem(*where, col, shown, str(exc).split(", got ")[0])]


def _parse_parent(
    rec: dict, region: str, aliases: Mapping[str, str], where: tuple[str, int]
) -> tuple[str, float, list[Problem]]:
    """The ``parent`` (region whose total this region is part of) and ``weight`` cells of a
    target row, with the problems found."""
    parent = normalize_region(rec.get("parent", ""))
    parent = aliases.get(parent.casefold(), parent)
    problems = []
    if parent and parent == region:
        problems.append(Problem(*where, "parent", parent, "another region than the row's own"))
    elif parent and not region:
        problems.append(Problem(*where, "region", "", "a region: a row with a parent is the "
                                "target of one region within it"))  # fmt: skip
    text, weight = _as_text(rec.get("weight", "")), np.nan
    if text and text.lower() not in _PLACEHOLDERS:
        try:
            weight = float(text.replace(",", ""))
        except ValueError:
            weight = np.nan
        if not (math.isfinite(weight) and weight > 0):
            problems.append(Problem(*where, "weight", text, "a positive number (the region's "
                                    "population, firms ...) or blank"))  # fmt: skip
    return parent, weight, problems


def _tree_problems(out: pd.DataFrame, file: str) -> list[Problem]:
    """A region with two parents, or a parent that is its own ancestor."""
    problems = []
    tree: dict[str, str] = {}
    for rec in out.loc[out["parent"] != ""].to_dict("records"):
        known = tree.setdefault(rec["region"], rec["parent"])
        if known != rec["parent"]:
            expected = f"one parent for every row of {rec['region']!r} (another row: {known!r})"
            problems.append(Problem(file, int(rec["_row"]), "parent", rec["parent"], expected))
    for region in tree:
        seen, at = {region}, tree[region]
        while at in tree:
            if at in seen:
                row = int(out.loc[out["region"] == region, "_row"].iloc[0])
                expected = "a tree: this region is its own ancestor (" + " -> ".join(seen) + ")"
                problems.append(Problem(file, row, "parent", tree[region], expected))
                break
            seen.add(at)
            at = tree[at]
    return problems


def _impossible(target: float, comparison: str, unit: str, bounds: tuple[float, float]) -> str:
    lo, hi = bounds
    return (
        f"a target that some {unit} value in [{lo:g}, {hi:g}] can meet "
        f"(no {unit} value is {comparison} {target:g})"
    )


def validate_targets(table: pd.DataFrame, *, file: str = "<DataFrame>") -> pd.DataFrame:
    """Validate a raw targets table (as read, text cells) and return the clean catalogue.

    See :func:`load_targets` for the result. ``table`` may carry a ``_row`` column with the
    spreadsheet row numbers used in messages.
    """
    table = table.copy()
    if "_row" not in table.columns:
        table.insert(0, "_row", np.arange(2, len(table) + 2))
    table.columns = [c if c == "_row" else _canonical(c) for c in table]
    table, problems = _target_unit_from_header(table, file)
    _require(table, file, ("indicator", "unit", "comparison", "target", "target_year"))
    for col in (*TARGET_COLUMNS, "name", "plan", *LABEL_COLUMNS):
        if col not in table.columns:
            table[col] = ""
    rows, seen = [], {}
    aliases = {a.casefold(): r for a, r in region_aliases().items()}
    for rec in table.to_dict("records"):
        row = int(rec["_row"])
        ind, region = _fold(_as_text(rec["indicator"])), normalize_region(rec["region"])
        region = aliases.get(region.casefold(), region)
        wrong = _id_problem(ind)
        if wrong:
            problems.append(Problem(file, row, "indicator", ind, wrong))
            continue
        unit_text = _as_text(rec["unit"])
        unit = parse_unit(unit_text) if unit_text else None
        if unit is None:
            problems.append(
                Problem(
                    file, row, "unit", unit_text, "a unit: yuan/元/万元/亿元, %, count/个/家, rank"
                )
            )
            continue
        comparison = _COMPARISON_ALIASES.get(
            _as_text(rec["comparison"]), _as_text(rec["comparison"])
        )
        target_text, year_text = _as_text(rec["target"]), _as_text(rec["target_year"])
        target = year = None
        if target_text:
            if comparison not in COMPARISONS:
                expected = "a comparison: one of " + ", ".join(COMPARISONS)
                problems.append(Problem(file, row, "comparison", comparison, expected))
            target, found = _parse_quantity(rec["target"], unit_text, None, (file, row), "target")
            problems += found
            year = _parse_year(year_text)
            if year is None or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
                problems.append(Problem(file, row, "target_year", year_text, YEARS_TEXT))
        elif comparison or year_text:
            problems.append(
                Problem(file, row, "target", "", "a target value (or leave comparison and "
                        "target_year blank too, for a context indicator)")
            )  # fmt: skip
        accumulation = _fold(_as_text(rec["accumulation"])) or "level"
        if accumulation not in ACCUMULATIONS:
            expected = "one of " + ", ".join(ACCUMULATIONS) + " (blank for level)"
            problems.append(Problem(file, row, "accumulation", accumulation, expected))
        declared, bounds, found = _parse_bounds(rec, unit_text, unit, (file, row))
        problems += found
        possible = bounds is None or target is None or comparison not in COMPARISONS
        if not (possible or can_meet(target, comparison, unit.canonical, bounds)):
            problems.append(
                    Problem(file, row, "target", f"{comparison} {target_text}",
                            _impossible(target, comparison, unit.canonical, bounds))
                )  # fmt: skip
        # a group is free text (科技创新, product); blank: context, for an indicator without
        # a target
        group = normalize_region(rec["group"]) or ("context" if not target_text else "")
        problems += _repeated(seen, (ind, region), (file, row), "indicator", ind)
        parent, weight, found = _parse_parent(rec, region, aliases, (file, row))
        problems += found
        name, name_en, name_zh = (_as_text(rec[c]) for c in ("name", "name_en", "name_zh"))
        rows.append(
            {
                "indicator": ind,
                # a name missing in one language: the plain name, the other language's, the id
                "name_en": name_en or name or name_zh or ind,
                "name_zh": name_zh or name or name_en or ind,
                "group": group,
                "unit": unit.canonical,
                "comparison": comparison if target_text else "",
                "target": np.nan if target is None else target,
                "target_year": year,
                "region": region,
                "source": _as_text(rec["source"]) or f"targets file {file}",
                "accumulation": accumulation,
                "lower": np.nan if declared["lower"] is None else declared["lower"],
                "upper": np.nan if declared["upper"] is None else declared["upper"],
                "parent": parent,
                "weight": weight,
                **{c: _label(rec[c]) for c in ("group_en", "group_zh", "note")},
                **{c: _label(rec[c]) or _label(rec["plan"]) for c in ("plan_en", "plan_zh")},
                "_row": row,
            }
        )
    out = pd.DataFrame(rows, columns=[*TARGET_COLUMNS, *LABEL_COLUMNS, "_row"])
    out, found = _written_once(out, file)
    problems += found
    for col, what in (("unit", "kind of unit"), ("accumulation", "accumulation"),
                      ("lower", "lower bound"), ("upper", "upper bound")):  # fmt: skip
        first: dict[str, Any] = {}
        differs: dict[str, dict[str, Any]] = {}  # per indicator, its first differing row
        for rec in rows:
            value, known = rec[col], first.setdefault(rec["indicator"], rec[col])
            same = value == known or (pd.isna(value) and pd.isna(known))
            if not same:
                differs.setdefault(rec["indicator"], rec)
        for ind in sorted(differs):
            expected = f"the same {what} for every row of {ind!r}"
            rec = differs[ind]
            problems.append(Problem(file, rec["_row"], col, str(rec[col]), expected))
    problems += _tree_problems(out, file)
    if problems:
        raise DataError(problems)
    if out.empty:
        raise DataError.one(file, "at least one target row; the table has none")
    out["target_year"] = out["target_year"].astype("Int64")
    out.attrs["file"] = file
    out.attrs["region_aliases"] = _target_aliases(table)
    return out.drop(columns="_row")


def _id_problem(indicator: str) -> str | None:
    """What an indicator id is expected to be, when ``indicator`` is not one; else None.

    An id is letters of any script (``high_tech_firms``, ``创新型企业数量``), digits, ``_`` and
    ``-``, starting with a letter: it names a report's file and travels as a notebook
    parameter, so nothing a file name, a URL or a command line would choke on.
    """
    odd = [c for c in dict.fromkeys(indicator) if not (is_name_character(c) or c == "-")]
    if indicator[:1].isalpha() and not odd:
        return None
    expected = (
        "an id of letters of any script (such as high_tech_firms or 创新型企业数量), digits, _ "
        "and -, starting with a letter"
    )
    if odd:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in odd)
        expected += f"; it has {shown}, which a report's file name or link cannot hold"
    return expected


def _written_once(out: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Fill the labels written on one row only: a group's ``group_en``/``group_zh`` on every
    row of the group, the plan's name (``plan_en``/``plan_zh``) on every row; a second,
    different value is a problem (naming its row)."""
    problems = []
    for col, key in (("group_en", "group"), ("group_zh", "group"), ("plan_en", None),
                     ("plan_zh", None)):  # fmt: skip
        keys = out[key] if key else pd.Series("", index=out.index)
        for value, cells in out[col].groupby(keys, sort=False):
            written = cells.loc[cells != ""]
            if written.empty:
                continue
            first = written.iloc[0]
            differ = written.loc[written != first]
            if len(differ):
                at = differ.index[0]
                scope = f"every row of the group {value!r}" if key else "every row"
                before = int(out.loc[written.index[0], "_row"])
                expected = f"the same {col} on {scope} (or blank), as row {before}: {first!r}"
                problems.append(Problem(file, int(out.loc[at, "_row"]), col, differ[at], expected))
            out.loc[cells.index, col] = first
    return out, problems


_TARGET_WITH_UNIT = re.compile(r"^(?:target|目标值|目标)_*[(\[【](.+)[)\]】]$")


def _target_unit_from_header(table: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """A target column whose header names the unit (``目标值(亿元)``, ``目标值（%）``,
    ``target (万元)``): the column is ``target``; the unit fills the blank (or missing)
    ``unit`` cells. A row's own unit of another kind (家 under 目标值(亿元)) is that row's; one of
    the same kind but another size (元 or 万元 under 目标值(亿元)) is a problem: which is meant?"""
    if "target" in table.columns:
        return table, []
    found = [(c, m.group(1)) for c in table.columns if (m := _TARGET_WITH_UNIT.match(str(c)))]
    if len(found) != 1 or parse_unit(found[0][1]) is None:
        return table, []
    column, unit = found[0]
    table = table.rename(columns={column: "target"})
    if "unit" not in table.columns:
        table["unit"] = unit
        return table, []
    problems = []
    header = parse_unit(unit)
    for i, cell in zip(table.index, table["unit"], strict=True):
        written = _as_text(cell).strip(_BRACKETS + " ")
        if not written:
            table.loc[i, "unit"] = unit
        elif (
            (given := parse_unit(written))
            and given.canonical == header.canonical
            and (given.factor != header.factor)
        ):
            expected = f"the unit of the column {column!r} ({unit}), or a blank cell"
            problems.append(Problem(file, int(table.loc[i, "_row"]), "unit", written, expected))
    return table, problems


# ----------------------------------------------------------------------------- observations


def load_observations(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    *,
    targets: pd.DataFrame | str | os.PathLike[str] | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Load and validate observed series.

    Parameters
    ----------
    path : path-like or list of path-like, optional
        A CSV, XLSX or Parquet file; the shipped ``data/observations.csv`` by default. Several
        files are read in order, a later one's figure replacing an earlier one's for the same
        indicator, region and year (revised figures): see :func:`merge_observations`. Tidy
        (columns ``indicator, region, year, value, unit`` and optionally ``qualifier, source``)
        or wide (``indicator, region, unit`` and one column per year, e.g. ``2019`` or
        ``2019年``; optional ``qualifier, source`` apply to the whole row).
        ``book.xlsx#Sheet2`` names a worksheet. Regions are read without invisible characters
        (zero-width spaces, NUL) and surrounding spaces, and mapped to the targets' spelling
        through ``data/regions.csv`` and the targets file's ``aliases`` (济南, 济南市 ->
        Jinan); ``result.attrs["renamed_regions"]`` lists what was renamed.
    targets : DataFrame or path-like, optional
        The catalogue that declares the indicators and their units. By default a workbook's
        own targets sheet, when it holds one beside the observations (one file for the whole
        plan: see :func:`workbook_sheets`), else the shipped catalogue; observations checked
        against the shipped one that name indicators it does not declare are refused in one
        message saying so and how to give your own targets.
    sheet : str or int, optional
        The worksheet of an Excel file; by default the one sheet whose header row is an
        observations table, else the first.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OBSERVATION_COLUMNS` (and ``published``, when the file has that
        column: the year each figure came out), sorted by indicator, region and year; ``value``
        in the indicator's canonical ``unit``; ``qualifier`` defaults to ``"reported"`` and
        ``source`` to the file name. Rows whose value is blank or a placeholder (``-``,
        ``—``, ``#N/A``, ``N/A``, ``无`` ...) are missing observations: they are left out and
        their row numbers listed in ``result.attrs["skipped_rows"]``.

    Raises
    ------
    DataError
        Listing every problem, each with file, row, column, value and what was expected.
        A totals row (合计, 总计, total in the region or indicator column) is refused, once
        per row even in a wide table, rather than skipped: 全市 or a lone 合计 may be the only
        figure for the city, so dropping it could silently change the answer. A value about
        100 (percent), 1,000 or 10,000 times off its neighbours is refused as a probable unit
        error, and so is a percentage series stored as fractions (every value at most 1, a
        hundred times below a target above 1: ``0.0293 looks like a fraction: 2.93 %?``).
        When the first sheet of a workbook has no table, the error names the sheets that have
        one. Years missing inside a series are no error: :func:`series_gaps` lists them.
    """
    if targets is None:  # a workbook with its own targets sheet is checked against it
        paths = path if isinstance(path, list | tuple) else [] if path is None else [path]
        targets = next((t for p in paths if (t := _own_targets(p)) is not None), None)
    if not isinstance(targets, pd.DataFrame):
        targets = load_targets(targets)
    if isinstance(path, list | tuple):
        if not path:
            return load_observations(None, targets=targets, sheet=sheet)
        frames = [load_observations(p, targets=targets, sheet=sheet) for p in path]
        return merge_observations(frames, [Path(str(p)).name for p in path])
    src, sheet = _source_path(path, sheet, "observations.csv")
    sheet, name = _chosen_sheet(src, sheet, "observations")
    table = _sheet_table(src, sheet, "indicator")
    return validate_observations(table, targets, file=name)


def merge_observations(frames: Sequence[pd.DataFrame], files: Sequence[str]) -> pd.DataFrame:
    """Several loaded observation tables as one: for the same indicator, region and year, the
    figure of the later table replaces the earlier one (a revision).

    Returns
    -------
    pandas.DataFrame
        The merged table, sorted as :func:`load_observations` sorts; ``attrs["revisions"]``
        lists every figure a later file changed: indicator, region, year, old, new, old_file,
        new_file (a repeated identical figure is no revision); ``attrs["files"]`` the files.
    """
    keys = ["indicator", "region", "year"]
    pairs = enumerate(zip(frames, files, strict=True))
    tagged = [frame.assign(_file=name, _order=i) for i, (frame, name) in pairs]
    both = pd.concat(tagged, ignore_index=True).sort_values([*keys, "_order"], kind="stable")
    revisions = []
    for key, group in both.groupby(keys, sort=False):
        if len(group) < 2:
            continue
        for (_, old), (_, new) in itertools.pairwise(group.iterrows()):
            if old["value"] != new["value"] or old["qualifier"] != new["qualifier"]:
                revisions.append(dict(zip(keys, key, strict=True)) | {
                    "old": float(old["value"]), "new": float(new["value"]),
                    "old_file": old["_file"], "new_file": new["_file"]})  # fmt: skip
    merged = both.drop_duplicates(keys, keep="last").drop(columns=["_file", "_order"])
    merged = merged.sort_values(keys, ignore_index=True)
    merged.attrs = {**frames[-1].attrs, "revisions": revisions, "files": list(files)}
    if "published" in both.columns:
        both["published"] = both["published"].astype("Int64")
        merged["published"] = merged["published"].astype("Int64")
        if len(frames) > 1:  # what published_by needs to go back to an earlier release
            merged.attrs["releases"] = Releases(both.drop(columns="_file"))
    return merged


class Releases:
    """Every release of the figures of several observation files (each file's rows, in file
    order: ``_order``), kept in a merged table's ``attrs["releases"]`` for
    :func:`published_by`. Immutable: pandas copies a frame's attrs with each operation, and
    this one is shared rather than copied."""

    def __init__(self, table: pd.DataFrame) -> None:
        self._table = table.copy()

    @property
    def table(self) -> pd.DataFrame:
        """A copy of the releases."""
        return self._table.copy()

    def __copy__(self) -> Releases:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Releases:
        return self

    def __repr__(self) -> str:
        return f"Releases({len(self._table)} rows)"


def check_vintage_basis(vintage_basis: str) -> str:
    """``vintage_basis`` if it is one of :data:`VINTAGE_BASES`; else BrandstatsError."""
    if vintage_basis not in VINTAGE_BASES:
        raise BrandstatsError(
            f"vintage_basis={vintage_basis!r}: expected 'latest' (today's figures, revisions "
            "included) or 'published' (the figures as published by the end of as_of)"
        )
    return vintage_basis


def release_table(observations: pd.DataFrame) -> pd.DataFrame:
    """Every release of the figures of ``observations``' (indicator, region) pairs: the rows of
    each file read (several files: from ``attrs["releases"]``) in file order (``_order``), with
    ``_released``, the year each came out: its ``published`` year or, where that is blank (or
    the data have no ``published`` column), the figure's own year."""
    releases = observations.attrs.get("releases")
    if isinstance(releases, Releases):
        pairs = observations[["indicator", "region"]].drop_duplicates()
        table = releases.table.merge(pairs, on=["indicator", "region"])
    else:
        table = observations.assign(_order=0)
    own_year = table["year"].astype("Int64")
    return table.assign(
        _released=table["published"].fillna(own_year) if "published" in table else own_year
    )


def published_by(observations: pd.DataFrame, year: int) -> pd.DataFrame:
    """The figures as they were known at the end of ``year``.

    For each indicator, region and year, the latest release published by the end of ``year``
    (:func:`release_table`): an earlier file's figure when a later file's revision came out
    after it, and no figure at all when every release came out after it. Between releases of
    the same year the later file's counts. Only the (indicator, region) pairs of
    ``observations`` are returned (it may be a selection of a merged table).

    Parameters
    ----------
    observations : pandas.DataFrame
        As :func:`load_observations` returns it (several files: with their releases).
    year : int
        The vintage.

    Returns
    -------
    pandas.DataFrame
        The same columns and attrs, sorted by indicator, region and year.
    """
    keys = ["indicator", "region", "year"]
    table = release_table(observations)
    known = table.loc[(table["_released"] <= year).to_numpy(bool)]
    known = known.sort_values([*keys, "_released", "_order"], kind="stable")
    out = known.drop_duplicates(keys, keep="last")[list(observations.columns)]
    out = out.sort_values(keys, ignore_index=True)
    out.attrs = dict(observations.attrs)
    return out


def on_basis(
    observations: pd.DataFrame, as_of: int | None, vintage_basis: str = "latest"
) -> pd.DataFrame:
    """The observations an assessment as of ``as_of`` reads: as they are (``"latest"``, or no
    ``as_of``), or :func:`published_by` the end of ``as_of`` (``"published"``)."""
    check_vintage_basis(vintage_basis)
    if vintage_basis == "latest" or as_of is None:
        return observations
    return published_by(observations, as_of)


def _melt_wide(table: pd.DataFrame, file: str) -> pd.DataFrame:
    """Turn a wide table (one column per year) into the tidy layout, keeping cell locations."""
    header_row = table.attrs.get("header_row")
    year_cols: dict[str, int] = {}
    problems = []
    for col in map(str, table.columns):
        year = _parse_year(col)
        if year is not None and year in year_cols.values():
            first = next(c for c, y in year_cols.items() if y == year)
            expected = f"each year in one column only ({year} is also column {first!r})"
            problems.append(Problem(file, header_row, col, col, expected))
        elif year is not None:
            year_cols[col] = year
        elif _YEARISH.search(col):  # "2021e", "fy2020", "2020-21": a year we cannot place
            expected = "a year as column header, such as 2021 or 2021年 (or delete the column)"
            if re.fullmatch(r"\d{4}-\d\d-\d\d([_ t]00:00:00)?", col):
                expected = (
                    "a year as column header, such as 2021 or 2021年; the header cells are "
                    "dates (formatted as dates in the workbook): type the years again in cells "
                    "formatted as text or as numbers, such as 2019"
                )
            problems.append(Problem(file, header_row, col, col, expected))
    _require(table, file, ("indicator", "region", "unit"))
    if problems:
        raise DataError(problems)
    ids = ["_row", "indicator", "region", "unit", "qualifier", "source", "published"]
    ids = [c for c in ids if c in table]
    long = table[ids + list(year_cols)].melt(ids, var_name="_col", value_name="value")
    long = long.loc[~long["value"].map(_is_blank)]
    long["year"] = long["_col"].map(year_cols).astype(str)
    return long.sort_values(["_row", "year"], kind="stable").reset_index(drop=True)


_VALUE_WITH_UNIT = re.compile(r"^(?:value|数值|值|数据|数量|金额)_*[(\[【](.+)[)\]】]$")


def _unit_from_header(table: pd.DataFrame) -> pd.DataFrame:
    """A value column whose header names the unit (``数值(亿元)``, ``value (%)``): the column is
    ``value`` and the unit fills the blank (or missing) ``unit`` cells."""
    if "value" in table.columns:
        return table
    found = [(c, m.group(1)) for c in table.columns if (m := _VALUE_WITH_UNIT.match(str(c)))]
    if len(found) != 1 or parse_unit(found[0][1]) is None:
        return table
    column, unit = found[0]
    table = table.rename(columns={column: "value"})
    if "unit" not in table.columns:
        table["unit"] = unit
    else:
        table["unit"] = [unit if _is_blank(u) else u for u in table["unit"]]
    return table


_JUMP_RATIO = 30.0
"""A value this many times larger or smaller than its neighbours' median is a unit mistake
when a unit factor (:data:`_UNIT_FACTORS`) explains the ratio to within a factor of 3."""

_UNIT_FACTORS = {
    "percent": {100.0: "a fraction typed as a percent"},
    "count": {1e3: "a count in thousands (千) beside single units (个)",
              1e4: "a count in 万 beside single units"},
    "yuan": {1e4: "万元 and 亿元 mixed up", 1e8: "元 and 亿元 mixed up",
             1e3: "千元 and 元 mixed up"},
    "continuous": {100.0: "a fraction and a percent mixed up", 1e3: "a unit 1,000 times off",
                   1e4: "万 and 亿 mixed up"},
}  # fmt: skip
"""Per canonical unit: the unit factors a typing or labelling mistake gives, and its cause."""


def _with_unit(text: str, unit: str) -> str:
    """A cell as written with its unit cell: ``4256 万元`` (``85.2%`` when the unit is in it)."""
    return text if not unit or unit in text else f"{text} {unit}"


def _unit_jumps(
    rows: list[dict[str, Any]], cells: list[tuple[int, str, str, str]], file: str
) -> list[Problem]:
    """A value :data:`_JUMP_RATIO` or more times off the median of its neighbourhood (itself
    and up to two observed years on each side; in a series of two, the other value), by a
    ratio a unit factor explains: a probable unit error.

    Genuine fast growth (doubling every year, 1, 2, 5, 12) stays well under the threshold;
    zeros and negative values are never compared. In a series of two the later row is named.
    """
    series: dict[tuple[str, str], list[int]] = {}
    for i, rec in enumerate(rows):
        value = rec["value"]
        if rec["year"] is not None and value is not None and value > 0 and rec["region"]:
            series.setdefault((rec["indicator"], rec["region"]), []).append(i)
    problems = []
    for members in series.values():
        unit = rows[members[0]]["unit"]
        factors = _UNIT_FACTORS.get(unit, {})
        if len(members) < 2 or not factors:
            continue
        members.sort(key=lambda i: rows[i]["year"])
        flagged = []
        for k, i in enumerate(members):
            around = members[max(k - 2, 0) : k] + members[k + 1 : k + 3]
            window = around if len(around) == 1 else [i, *around]  # a robust median of 3+
            median = float(np.median([rows[j]["value"] for j in window]))
            ratio = rows[i]["value"] / median
            size = max(ratio, 1 / ratio) if ratio > 0 else math.inf  # 5e-324 / 2e8 is 0.0
            factor = min(factors, key=lambda f: abs(math.log(size / f)))
            fraction = unit != "percent" or min(rows[i]["value"], median) <= 1  # 0.856 for 85.6
            if fraction and size >= _JUMP_RATIO and abs(math.log(size / factor)) <= math.log(3):
                flagged.append((k, i, ratio, factor, around))
        if len(members) == 2 and len(flagged) == 2:
            smaller = min(flagged, key=lambda f: rows[f[1]]["value"])
            flagged = [smaller if unit == "percent" else flagged[1]]
        for _, i, ratio, factor, around in flagged:
            row, column, text, written = cells[i]
            others = ", ".join(f"{rows[j]['year']}: {_with_unit(*cells[j][2:])}" for j in around)
            how = "smaller" if ratio < 1 else "larger"
            cause = factors[factor]
            if unit == "percent" and ratio < 1:
                percent = rows[i]["value"] * 100
                cause = f"{_with_unit(text, written)} looks like a fraction: {percent:g} %?"
            expected = (
                f"a value on the scale of its neighbours ({others}); it is about "
                f"{factor:,.0f} times {how}, probably a unit error ({cause})"
            )
            problems.append(Problem(file, row, column, _with_unit(text, written), expected))
    return problems


def _look_alikes(indicator: str, letters: set[str]) -> list[str]:
    """The characters of a Latin id that no declared id has and that are not ASCII: look-alikes
    such as a Cyrillic е in ``hіgh_tech`` (an id in another script has none)."""
    if not any(c.isascii() and c.isalpha() for c in indicator):
        return []
    return [c for c in dict.fromkeys(indicator) if not c.isascii() and c not in letters]


def _not_in_shipped(unknown: Mapping[str, list[int]], file: str) -> Problem:
    """The one problem of observations naming indicators the shipped catalogue lacks: they
    were checked against it because no targets were given."""
    ids = list(unknown)
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    rows = sorted({r for found in unknown.values() for r in found})
    many = len(rows) > 1, len(ids) > 1
    expected = (
        "indicators of the shipped targets (data/targets.csv), the catalogue used when none is "
        f"given; {len(rows)} row{'s' * many[0]} name{'s' * (not many[0])} {len(ids)} "
        f"indicator{'s' * many[1]} it does not declare. To check observations against your own "
        "plan, give its targets: --targets FILE on the command line, targets=FILE in Python, "
        "or one workbook holding a targets sheet beside the observations sheet"
    )
    return Problem(file, rows[0], "indicator", shown, expected)


def _decimals(text: str) -> int:
    """The number of decimals a cell was written with (``0.0230`` has 3; ``2`` none)."""
    digits = re.search(r"\.(\d+)", text)
    return len(digits.group(1).rstrip("0")) if digits else 0


def _fraction_series(
    rows: list[dict[str, Any]],
    cells: list[tuple[int, str, str, str]],
    targets: pd.DataFrame,
    file: str,
) -> list[Problem]:
    """A percentage series stored as fractions (0.0231 ... 0.0293 for 2.31 % ... 2.93 %): every
    value in [0, 1], some above 0, a target above 1 within a factor of 3 of the largest value
    times 100, and a value written with 4 decimals or more. One problem per series, at its
    latest row.

    A real series of small percentages (0.3 % ... 0.9 % towards 1.5 %) is left alone: times 100
    it would overshoot its target many times over. So is a series with a value above 1.
    """
    goals = {
        (t.indicator, t.region): t
        for t in targets.loc[targets["target"].notna() & (targets["unit"] == "percent")]
        .drop_duplicates(["indicator", "region"])
        .itertuples()
    }
    series: dict[tuple[str, str], list[int]] = {}
    for i, rec in enumerate(rows):
        if rec["unit"] == "percent" and rec["value"] is not None and rec["year"] is not None:
            series.setdefault((rec["indicator"], rec["region"]), []).append(i)
    problems = []
    for (indicator, region), members in series.items():
        goal = goals.get((indicator, region)) or goals.get((indicator, ""))
        values = [rows[i]["value"] for i in members]
        top = max(values)
        if goal is None or goal.target <= 1 or not 0 < top <= 1 or min(values) < 0:
            continue
        if abs(math.log(top * 100 / goal.target)) > math.log(3):
            continue
        # a percentage published with 1-2 decimals (2.31 %) stored as a fraction has 3-4 or
        # more (0.0231); a real small share is published as it is (Malta's renewables, 0.221 %
        # in 2009 towards 10 %): only a series with a value of 4 or more decimals is refused
        if max(_decimals(cells[i][2]) for i in members) < 4:
            continue
        last = max(members, key=lambda i: rows[i]["year"])
        row, column, text, written = cells[last]
        expected = (
            f"a percentage on the scale of the target ({goal.comparison} {goal.target:g} %): "
            f"every value of this series is at most 1, so {text} looks like a fraction: "
            f"{rows[last]['value'] * 100:g} %? (multiply the values by 100, or format the cells "
            "as percentages)"
        )
        problems.append(Problem(file, row, column, _with_unit(text, written), expected))
    return problems


def series_gaps(observations: pd.DataFrame) -> dict[tuple[str, str], list[int]]:
    """The years missing inside each observed series, between its first and last year.

    A gap changes the models (a trend fitted across it, Holt's method needing consecutive
    years), so ``brandstats validate`` lists the gaps as a warning; loading accepts them.

    Returns
    -------
    dict
        ``{(indicator, region): [missing years]}`` for the series with a gap, in the table's
        order.

    Examples
    --------
    >>> obs = pd.DataFrame({"indicator": "x", "region": "r", "year": [2018, 2021]})
    >>> series_gaps(obs)
    {('x', 'r'): [2019, 2020]}
    """
    gaps = {}
    for (indicator, region), years in observations.groupby(["indicator", "region"], sort=False)[
        "year"
    ]:
        seen = {int(y) for y in years}
        missing = [y for y in range(min(seen), max(seen) + 1) if y not in seen]
        if missing:
            gaps[(str(indicator), str(region))] = missing
    return gaps


def validate_observations(
    table: pd.DataFrame, targets: pd.DataFrame, *, file: str = "<DataFrame>"
) -> pd.DataFrame:
    """Validate a raw observations table (tidy or wide) against a targets catalogue.

    See :func:`load_observations` for the result and the checks. ``table`` may carry a
    ``_row`` column with the spreadsheet row numbers used in messages.
    """
    table = table.copy()
    if "_row" not in table.columns:
        table.insert(0, "_row", np.arange(2, len(table) + 2))
    table.columns = [c if c == "_row" else _canonical(c) for c in table]
    table = _unit_from_header(table)
    wide = "year" not in table.columns and any(
        _parse_year(str(c)) or _YEARISH.search(str(c)) for c in table.columns if c != "_row"
    )
    if wide:
        table = _melt_wide(table, file)
    _require(table, file, ("indicator", "region", "year", "value", "unit"))
    if table.empty:
        raise DataError.one(file, "at least one observation; the table has none")
    units = targets.drop_duplicates("indicator").set_index("indicator")["unit"].to_dict()
    lookup = _region_lookup(targets)
    declared = targets.drop_duplicates("indicator").set_index("indicator")
    bounds = {
        ind: support(units[ind], *(declared.loc[ind, c] if c in declared else None
                                   for c in ("lower", "upper")))
        for ind in units
    }  # fmt: skip
    problems: list[Problem] = []
    rows, seen, skipped, renamed = [], {}, [], {}
    letters = set("".join(units))  # the characters of the declared ids
    shipped = bool(targets.attrs.get("shipped"))
    unknown: dict[str, list[int]] = {}  # ids the shipped catalogue lacks: their rows
    cells: list[tuple[int, str, str, str]] = []  # per row: spreadsheet row, column, value, unit
    totals: set[int] = set()  # totals rows (合计) reported
    for rec in table.to_dict("records"):
        row = int(rec["_row"])
        value_col = str(rec.get("_col", "value"))
        ind = _fold(_as_text(rec["indicator"]))
        written = normalize_region(rec["region"])
        region = lookup.get(written.casefold(), written)  # as canonical_region, looked up once
        if region != written:
            renamed[written] = region
        year_text = _as_text(rec["year"])
        qualifier = _fold(_as_text(rec.get("qualifier", ""))) or "reported"
        source = _as_text(rec.get("source", "")) or f"user file {file}"
        if _as_text(rec["value"]).lower() in _PLACEHOLDERS:
            skipped.append(row)  # a missing observation, e.g. '-' or '#N/A' from Excel
            continue
        if ind not in units:
            expected = "an indicator declared in the targets file" + _suggest(ind, units)
            if not ind:
                expected = "an indicator id (blank cell: unmerge merged cells and fill every row)"
            elif ind in _TOTALS:
                expected = "an indicator id, not a totals row (delete the row)"
                if row in totals:  # a wide table: once per row, not once per year column
                    continue
                totals.add(row)
            elif odd := _look_alikes(ind, letters):
                shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in odd)
                expected += f"; the id has non-ASCII characters: {shown}"
            elif shipped and "did you mean" not in expected:
                unknown.setdefault(ind, []).append(row)  # one cause, said once below
                continue
            problems.append(Problem(file, row, "indicator", ind, expected))
            continue
        if _fold(region) in _TOTALS or region in ("全市", "全省", "全国"):
            expected = (
                "a region, not a totals row (delete the row; each region's own rows are kept)"
            )
            if row not in totals:  # a wide table: once per row, not once per year column
                problems.append(Problem(file, row, "region", region, expected))
            totals.add(row)
            continue
        if not region:
            expected = (
                "a region name, as the targets write it (if blank from merged cells: unmerge, fill)"
            )
            problems.append(Problem(file, row, "region", "", expected))
        year = _parse_year(year_text)
        if year is None or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            expected = "a whole year, such as 2020 or 2020年, " + YEARS_TEXT.removeprefix("a ")
            if isinstance(rec["year"], datetime.date):
                expected += " (the cell is formatted as a date: format it as a number)"
            problems.append(Problem(file, row, "year", year_text, expected))
        if qualifier not in QUALIFIERS:
            expected = "a qualifier: " + ", ".join(QUALIFIERS) + _suggest(qualifier, QUALIFIERS)
            problems.append(Problem(file, row, "qualifier", qualifier, expected))
        value, found = _parse_quantity(
            rec["value"], _as_text(rec["unit"]), units[ind], (file, row), value_col
        )
        problems += found
        lo, hi = bounds[ind]
        if value is not None and not lo <= value <= hi:
            expected = f"a value in [{lo:g}, {hi:g}], the bounds of {ind!r} in the targets file"
            problems.append(Problem(file, row, value_col, _as_text(rec["value"]), expected))
        if year is not None and region:
            problems += _repeated(seen, (ind, region, year), (file, row), "year", year_text)
        published = None
        if not _is_blank(rec.get("published")):
            text = _as_text(rec["published"])
            try:
                published = _parse_published(rec["published"])
            except ValueError:
                problems.append(Problem(file, row, "published", text, PUBLISHED_EXPECTED))
            else:
                if year is not None and published < year:
                    expected = f"a publication in or after {year}, the figure's year"
                    problems.append(Problem(file, row, "published", text, expected))
        rows.append(
            {
                "indicator": ind,
                "region": region,
                "year": year,
                "value": value,
                "unit": units[ind],
                "qualifier": qualifier,
                "source": source,
                "published": published,
            }
        )
        cells.append((row, value_col, _as_text(rec["value"]), _as_text(rec["unit"])))
    problems += _unit_jumps(rows, cells, file)
    problems += _fraction_series(rows, cells, targets, file)
    if unknown:
        problems.insert(0, _not_in_shipped(unknown, file))
    if problems:
        raise DataError(problems)
    if not rows:
        raise DataError.one(
            file, f"at least one observation; all {len(skipped)} rows have no value (- or blank)"
        )
    dated = "published" in table.columns
    out = pd.DataFrame(rows, columns=[*OBSERVATION_COLUMNS, *(["published"] if dated else [])])
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    if dated:
        out["published"] = pd.array(out["published"], dtype="Int64")
    out = out.sort_values(["indicator", "region", "year"], ignore_index=True)
    out.attrs["file"] = file
    out.attrs["skipped_rows"] = skipped
    out.attrs["renamed_regions"] = renamed
    return out
