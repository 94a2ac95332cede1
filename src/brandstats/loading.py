"""Loading: read the targets catalogue and observed series, validate them, convert units.

Both loaders accept the shipped files (default), or a user's CSV, Excel (.xlsx) or Parquet
file, in the tidy long layout (one row per indicator, region and year) or, for observations,
the **wide** layout analysts keep in Excel (one row per indicator and region, one column per
year). CSV files may be UTF-8 (with or without BOM) or GBK/GB18030; the delimiter may be a
comma, semicolon or tab; the header may sit below a few title rows.

Every problem found is reported in one :class:`~brandstats.errors.DataError` whose lines name
the file, the row as a spreadsheet shows it, the column, the bad value and what was expected.
Input files are only ever read.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError, Problem
from .units import CANONICAL_UNITS, known_unit_spellings, parse_number, parse_unit

__all__ = [
    "DATA_DIR",
    "OBSERVATION_COLUMNS",
    "QUALIFIERS",
    "TARGET_COLUMNS",
    "load_observations",
    "load_targets",
    "validate_observations",
    "validate_targets",
]

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
"""The shipped data folder (``data/`` at the top of the project)."""

TARGET_COLUMNS = (
    "indicator", "name_en", "name_zh", "group", "unit", "comparison", "target",
    "target_year", "region", "source",
)  # fmt: skip
OBSERVATION_COLUMNS = ("indicator", "region", "year", "value", "unit", "qualifier", "source")

QUALIFIERS = {
    "reported": "a published figure",
    "provisional": "a published preliminary figure",
    "estimate": "an estimate, not a published figure",
    "lower_bound": "the true value is at least this (e.g. 'exceeded 5,700')",
    "upper_bound": "the true value is at most this",
    "cumulative": "a running total since the scheme began",
    "as_of_september": "a count part-way through the year (as of September)",
    "illustrative": "NOT A REAL FIGURE: made up so the notebooks run; replace with real data",
}
"""Accepted values of the ``qualifier`` column, with their meaning."""

COMPARISONS = (">", ">=", "<", "<=")
YEAR_RANGE = (1949, 2100)
GROUPS = ("product", "service", "enterprise", "quality", "context")

# Column names analysts use for the same thing (folded with _fold before lookup).
_COLUMN_ALIASES = {
    "指标": "indicator", "indicator_id": "indicator", "id": "indicator",
    "地区": "region", "区域": "region", "城市": "region", "city": "region",
    "年份": "year", "年度": "year", "年": "year",
    "数值": "value", "值": "value", "数据": "value",
    "单位": "unit", "units": "unit",
    "限定": "qualifier", "说明": "qualifier", "flag": "qualifier",
    "来源": "source", "数据来源": "source", "sources": "source",
    "目标": "target", "目标值": "target", "目标年份": "target_year", "比较": "comparison",
}  # fmt: skip
_COMPARISON_ALIASES = {"≥": ">=", "≤": "<=", "=>": ">=", "=<": "<=", "＞": ">", "＜": "<"}
_PLACEHOLDERS = {
    "",
    "#n/a",
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
_YEAR_CELL = re.compile(r"^(\d{4})(?:\.0+)?(?:年|年度)?$")
_PLAUSIBLE_MAX = {"yuan": 1e16, "count": 1e9, "percent": 100.0, "rank": 1e4}


# ----------------------------------------------------------------------------- reading


def _fold(text: object) -> str:
    """Normalise a header or id cell: NFKC, strip, lower case, spaces to underscores."""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"\s+", "_", s)


def _decode(raw: bytes, name: str) -> str:
    """Decode CSV bytes: UTF-8 (BOM or not), else GB18030 (a superset of GBK), else fail."""
    if not raw.strip():
        raise DataError.one(name, "a table with a header row; the file is empty")
    if b"\x00" in raw[:4096]:
        kind = "UTF-16 text" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "binary data"
        raise DataError.one(
            name, f"a text CSV file in UTF-8 or GBK; this looks like {kind} (save as CSV UTF-8)"
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError.one(name, "a CSV file encoded as UTF-8 or GBK/GB18030 (save as CSV UTF-8)")


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:30])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _read_grid(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """Read every cell of a file as an object grid, no header interpretation."""
    name = path.name
    if not path.is_file():
        raise DataError.one(str(path), "an existing file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            grid = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, header=None)
        except ValueError as exc:  # unknown sheet name
            raise DataError.one(name, f"a readable worksheet ({exc})") from None
        except Exception as exc:  # zip / xml errors from openpyxl: not a workbook
            raise DataError.one(name, f"a valid .xlsx workbook ({type(exc).__name__})") from None
        return grid.astype(object)
    if suffix == ".parquet":
        try:
            table = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for a corrupt file
            raise DataError.one(name, f"a valid Parquet file ({type(exc).__name__})") from None
        header = pd.DataFrame([list(table.columns)], dtype=object)
        body = table.astype(object).set_axis(range(table.shape[1]), axis=1)
        return pd.concat([header, body], ignore_index=True)
    if suffix in (".csv", ".txt", ".tsv", ""):
        text = _decode(path.read_bytes(), name)
        try:
            return pd.read_csv(
                io.StringIO(text),
                sep=_sniff_delimiter(text),
                header=None,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                engine="python",
            )
        except (pd.errors.ParserError, csv.Error) as exc:
            raise DataError.one(name, f"a well-formed CSV table ({exc})") from None
    raise DataError.one(name, "a .csv, .xlsx or .parquet file", value=suffix)


def _is_blank(value: object) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _as_text(value: object) -> str:
    """A cell as clean text ('' for blank); integral floats lose their '.0'."""
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFKC", str(value)).strip()


def _table(grid: pd.DataFrame, name: str, key: str) -> pd.DataFrame:
    """Find the header row (the first with a ``key`` column) and build the table.

    Columns are renamed to canonical names; a ``_row`` column keeps the spreadsheet row number.
    Fully blank rows (e.g. left by merged cells or spacing) are dropped.
    """
    if grid.empty:
        raise DataError.one(name, "a table with a header row; the file or sheet is empty")
    header_at = None
    for i in range(min(len(grid), 20)):
        folded = [_COLUMN_ALIASES.get(_fold(c), _fold(c)) for c in grid.iloc[i]]
        if key in folded:
            header_at = i
            break
    if header_at is None:
        first = ", ".join(_as_text(c) for c in grid.iloc[0] if not _is_blank(c))
        raise DataError.one(
            name,
            f"a header row with a {key!r} column within the first 20 rows",
            row=1,
            value=first[:120],
        )
    columns, seen, problems = [], {}, []
    for j, cell in enumerate(grid.iloc[header_at]):
        col = _COLUMN_ALIASES.get(_fold(cell), _fold(cell)) if not _is_blank(cell) else f"_{j}"
        if col in seen:
            problems.append(
                Problem(name, header_at + 1, col, _as_text(cell), "each column name only once")
            )
        seen[col] = j
        columns.append(col)
    if problems:
        raise DataError(problems)
    body = grid.iloc[header_at + 1 :].set_axis(columns, axis=1)
    body = body.loc[:, [c for c in columns if not c.startswith("_")]]
    body.insert(0, "_row", np.arange(header_at + 2, header_at + 2 + len(body)))
    blank = body.drop(columns="_row").map(_is_blank).all(axis=1)
    return body.loc[~blank].reset_index(drop=True)


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


def _source_path(path: str | os.PathLike[str] | None, default: str) -> Path:
    return DATA_DIR / default if path is None else Path(path)


# ----------------------------------------------------------------------------- cells


def _parse_year(text: str) -> int | None:
    m = _YEAR_CELL.match(text)
    return int(m.group(1)) if m else None


def _suggest(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _check_value(value: float, unit: str) -> str | None:
    """Return what was expected if ``value`` is impossible for ``unit``, else None."""
    if not np.isfinite(value):
        return "a finite number"
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


def _parse_quantity(
    cell: object, unit_cell: str, canonical: str | None, where: tuple[str, int], column: str
) -> tuple[float | None, list[Problem]]:
    """Parse a value cell with its unit; convert to ``canonical``. Returns (value, problems)."""
    name, row = where
    text = _as_text(cell)
    parsed = parse_number(cell if isinstance(cell, int | float) else text)
    if parsed is None:
        return None, [Problem(name, row, column, text, "a number such as 1234, 1,234 or 56.7")]
    number, inline = parsed
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
        spellings = ", ".join(known_unit_spellings(canonical)[:8])
        shown = unit_cell or text
        return None, [Problem(name, row, "unit", shown, f"a {canonical} unit ({spellings})")]
    value = number * unit.factor
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
        A CSV, XLSX or Parquet file; the shipped ``data/targets.csv`` by default.
    sheet : str or int, optional
        The worksheet of an Excel file (the first by default).

    Returns
    -------
    pandas.DataFrame
        One row per (indicator, region) with the columns of :data:`TARGET_COLUMNS`:
        ``target`` is in the canonical ``unit`` (NaN for a context indicator without a target),
        ``region`` is ``""`` when the target applies to every region.

    Raises
    ------
    DataError
        Listing every problem, each with file, row, column, value and what was expected.
    """
    src = _source_path(path, "targets.csv")
    return validate_targets(_table(_read_grid(src, sheet), src.name, "indicator"), file=src.name)


def validate_targets(table: pd.DataFrame, *, file: str = "<DataFrame>") -> pd.DataFrame:
    """Validate a raw targets table (as read, text cells) and return the clean catalogue.

    See :func:`load_targets` for the result. ``table`` may carry a ``_row`` column with the
    spreadsheet row numbers used in messages.
    """
    table = table.copy()
    if "_row" not in table.columns:
        table.insert(0, "_row", np.arange(2, len(table) + 2))
    _require(table, file, ("indicator", "unit", "comparison", "target", "target_year"))
    for col in TARGET_COLUMNS:
        if col not in table.columns:
            table[col] = ""
    problems: list[Problem] = []
    rows, seen = [], {}
    for rec in table.to_dict("records"):
        row = int(rec["_row"])
        ind, region = _fold(_as_text(rec["indicator"])), _as_text(rec["region"])
        if not re.fullmatch(r"[a-z][a-z0-9_]*", ind):
            problems.append(
                Problem(file, row, "indicator", ind, "an id of lower-case letters, digits and _")
            )
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
                problems.append(
                    Problem(file, row, "target_year", year_text, "a year between 1949 and 2100")
                )
        elif comparison or year_text:
            problems.append(
                Problem(file, row, "target", "", "a target value (or leave comparison and "
                        "target_year blank too, for a context indicator)")
            )  # fmt: skip
        group = _fold(_as_text(rec["group"])) or ("context" if not target_text else "")
        if group and group not in GROUPS:
            problems.append(Problem(file, row, "group", group, "one of " + ", ".join(GROUPS)))
        key = (ind, region)
        if key in seen:
            problems.append(
                Problem(file, row, "indicator", ind,
                        f"one row per indicator and region (also on row {seen[key]})")
            )  # fmt: skip
        seen[key] = row
        rows.append(
            {
                "indicator": ind,
                "name_en": _as_text(rec["name_en"]) or ind,
                "name_zh": _as_text(rec["name_zh"]) or _as_text(rec["name_en"]) or ind,
                "group": group,
                "unit": unit.canonical,
                "comparison": comparison if target_text else "",
                "target": np.nan if target is None else target,
                "target_year": year,
                "region": region,
                "source": _as_text(rec["source"]) or f"targets file {file}",
                "_row": row,
            }
        )
    out = pd.DataFrame(rows, columns=[*TARGET_COLUMNS, "_row"])
    for ind, units in out.groupby("indicator")["unit"]:
        if (units != units.iloc[0]).any():
            problems.append(
                Problem(file, int(out.loc[units.index[-1], "_row"]), "unit", units.iloc[-1],
                        f"the same kind of unit for every row of {ind!r}")
            )  # fmt: skip
    if problems:
        raise DataError(problems)
    if out.empty:
        raise DataError.one(file, "at least one target row; the table has none")
    out["target_year"] = out["target_year"].astype("Int64")
    out.attrs["file"] = file
    return out.drop(columns="_row")


# ----------------------------------------------------------------------------- observations


def load_observations(
    path: str | os.PathLike[str] | None = None,
    *,
    targets: pd.DataFrame | str | os.PathLike[str] | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Load and validate observed series.

    Parameters
    ----------
    path : path-like, optional
        A CSV, XLSX or Parquet file; the shipped ``data/observations.csv`` by default. Tidy
        (columns ``indicator, region, year, value, unit`` and optionally ``qualifier, source``)
        or wide (``indicator, region, unit`` and one column per year, e.g. ``2019`` or
        ``2019年``; optional ``qualifier, source`` apply to the whole row).
    targets : DataFrame or path-like, optional
        The catalogue that declares the indicators and their units; the shipped one by default.
    sheet : str or int, optional
        The worksheet of an Excel file (the first by default).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OBSERVATION_COLUMNS`, sorted by indicator, region and year; ``value``
        in the indicator's canonical ``unit``; ``qualifier`` defaults to ``"reported"`` and
        ``source`` to the file name. Rows whose value is blank or a placeholder (``-``,
        ``—``, ``#N/A``, ``N/A``, ``无`` ...) are missing observations: they are left out and
        their row numbers listed in ``result.attrs["skipped_rows"]``.

    Raises
    ------
    DataError
        Listing every problem, each with file, row, column, value and what was expected.
    """
    src = _source_path(path, "observations.csv")
    if not isinstance(targets, pd.DataFrame):
        targets = load_targets(targets)
    table = _table(_read_grid(src, sheet), src.name, "indicator")
    return validate_observations(table, targets, file=src.name)


def _melt_wide(table: pd.DataFrame, file: str) -> pd.DataFrame:
    """Turn a wide table (one column per year) into the tidy layout, keeping cell locations."""
    year_cols = {c: _parse_year(c) for c in table.columns}
    year_cols = {c: y for c, y in year_cols.items() if y is not None}
    _require(table, file, ("indicator", "region", "unit"))
    ids = [c for c in table.columns if c not in year_cols]
    long = table.melt(id_vars=ids, value_vars=list(year_cols), var_name="_col", value_name="value")
    long = long.loc[~long["value"].map(_is_blank)]
    long["year"] = long["_col"].map(year_cols).astype(str)
    return long.sort_values(["_row", "year"], kind="stable").reset_index(drop=True)


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
    table.columns = [c if c == "_row" else _COLUMN_ALIASES.get(_fold(c), _fold(c)) for c in table]
    wide = "year" not in table.columns and any(_parse_year(str(c)) for c in table.columns)
    if wide:
        table = _melt_wide(table, file)
    _require(table, file, ("indicator", "region", "year", "value", "unit"))
    if table.empty:
        raise DataError.one(file, "at least one observation; the table has none")
    units = targets.drop_duplicates("indicator").set_index("indicator")["unit"].to_dict()
    problems: list[Problem] = []
    rows, seen, skipped = [], {}, []
    for rec in table.to_dict("records"):
        row = int(rec["_row"])
        value_col = str(rec.get("_col", "value"))
        ind = _fold(_as_text(rec["indicator"]))
        region = _as_text(rec["region"])
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
            problems.append(Problem(file, row, "indicator", ind, expected))
            continue
        if not region:
            problems.append(Problem(file, row, "region", "", "a region name such as Jinan"))
        year = _parse_year(year_text)
        if year is None or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            problems.append(
                Problem(file, row, "year", year_text, "a whole year between 1949 and 2100")
            )
        if qualifier not in QUALIFIERS:
            expected = "a qualifier: " + ", ".join(QUALIFIERS) + _suggest(qualifier, QUALIFIERS)
            problems.append(Problem(file, row, "qualifier", qualifier, expected))
        value, found = _parse_quantity(
            rec["value"], _as_text(rec["unit"]), units[ind], (file, row), value_col
        )
        problems += found
        key = (ind, region, year)
        if year is not None and region and key in seen:
            problems.append(
                Problem(file, row, "year", year_text,
                        f"one value per indicator, region and year (also on row {seen[key]})")
            )  # fmt: skip
        seen[key] = row
        rows.append(
            {
                "indicator": ind,
                "region": region,
                "year": year,
                "value": value,
                "unit": units[ind],
                "qualifier": qualifier,
                "source": source,
            }
        )
    if problems:
        raise DataError(problems)
    out = pd.DataFrame(rows, columns=list(OBSERVATION_COLUMNS))
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    out = out.sort_values(["indicator", "region", "year"], ignore_index=True)
    out.attrs["file"] = file
    out.attrs["skipped_rows"] = skipped
    return out
