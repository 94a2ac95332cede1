"""``scorecard.xlsx``: the scorecard as a workbook people open in Excel, WPS or LibreOffice.

One row per target (and per region), numbers as numbers in the units people read (亿元, %, 家)
with number formats that show the unit, P(met) as a percentage cell, verdicts in words,
illustrative rows marked, each indicator linked to its HTML report, a frozen header and
headers in the report's language; a second sheet lists the sources. Every word comes from
:mod:`brandstats.format`. Set to print on A4 landscape, one page wide.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from . import format as fmt
from .atomic import write_bytes_atomic

__all__ = ["number_format", "probability_format", "write_scorecard_xlsx"]

_MARKED = "FFF2CC"  # the fill of an illustrative row (light amber)
_WIDTHS = (16, 36, 10, 10, 16, 10, 16, 10, 12, 22, 22, 16, 14)


def number_format(unit: str, language: str = "en", *, indicator: str | None = None) -> str:
    """The cell format that shows a value (in display units) as :func:`format.quantity` does.

    Examples
    --------
    >>> number_format("yuan"), number_format("count", "zh", indicator="high_tech_enterprises")
    ('#,##0 "亿元"', '#,##0"家"')
    """
    zh = language == "zh"
    if unit == "yuan":
        return '#,##0"亿元"' if zh else '#,##0 "亿元"'
    if unit == "percent":
        return '0.0"%"' if zh else '0.0" %"'
    if unit == "count":
        word = "家" if indicator and ("enterprise" in indicator or "firm" in indicator) else "个"
        return f'#,##0"{word}"' if zh else "#,##0"
    if unit == "rank":
        return '"第"0"位"' if zh else '"rank "0'
    return "#,##0.##"


def probability_format(p: float, bound: str | None = None) -> str:
    """The cell format of P(met): whole percents, never 0 % or 100 % (``<1%``, ``>99%``), and
    ``≤``/``≥`` before a probability at the floor or ceiling the evidence supports."""
    if p < 0.01:
        return '"<1%"'
    if p > 0.99:
        return '">99%"'
    return {"at_most": '"≤ "0%', "at_least": '"≥ "0%'}.get(bound or "", "0%")


def _text(value: Any) -> Any:
    """A text cell never read as a formula (see :func:`format.spreadsheet_cell`)."""
    return fmt.spreadsheet_cell(value)


def _number(value: Any) -> float | None:
    return None if value is None or fmt.is_missing(value) else float(value)


def _shown(value: Any, unit: Any) -> float | None:
    """A value in the unit people read (亿元 for yuan), or None."""
    number = _number(value)
    return None if number is None else float(fmt.display_value(number, str(unit)))


def write_scorecard_xlsx(
    table: pd.DataFrame, path: str | os.PathLike[str], *, language: str = "en", plan: str = ""
) -> Path:
    """Write the scorecard (:func:`brandstats.read_results`) as a workbook, atomically.

    Parameters
    ----------
    table : DataFrame
        The scorecard rows; ``run_name`` links each indicator to ``<run_name>.html`` beside
        the workbook; ``source`` and ``data_sources``, when present, fill the sources sheet.
    path : path
        The ``.xlsx`` file to write (its folder must exist).
    language : {"en", "zh"}
        Language of headers and words.
    plan : str
        The plan's name, atop each printed page ('' for none).

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is
    stored as a string cell with a leading ``'``, as in ``scorecard.csv``. P(met) is a number
    cell; a probability at the evidence's floor or ceiling shows as ``≤ 10%`` / ``≥ 90%``
    (a number format) and carries a comment in words (``at most 10 %``).
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    fmt.check_language(language)
    w = lambda key: fmt.word(key, language)  # noqa: E731
    f = lambda key: fmt.field(key, language)[:1].upper() + fmt.field(key, language)[1:]  # noqa: E731
    header = [w("goal"), w("indicator"), w("region"), w("as_of"), w("target"), f("target_year"),
              w("latest"), f("last_year"), w("p_met"), w("verdict"), w("progress"),
              f("forecast_median"), w("data")]  # fmt: skip
    book = Workbook()
    sheet = book.active
    sheet.title = w("sheet:scorecard")
    sheet.append([_text(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    marked = PatternFill("solid", fgColor=_MARKED)
    for r in table.to_dict("records"):
        unit, ind = r.get("unit"), r.get("indicator")
        name = r.get("name_zh" if language == "zh" else "name_en") or ind
        as_of = r.get("as_of")
        row = [
            _text(fmt.group_name(r, language)) if r.get("group") else None,
            _text(str(name)),
            _text(fmt.region(r.get("region"), language)),
            w("all data") if fmt.is_missing(as_of) else int(as_of),
            _shown(r.get("target"), unit),
            None if fmt.is_missing(r.get("target_year")) else int(r["target_year"]),
            _shown(r.get("last_value"), unit),
            None if fmt.is_missing(r.get("last_year")) else int(r["last_year"]),
            _number(r.get("probability")),
            _text(fmt.verdict(r.get("verdict"), language)),
            _text(fmt.category(r.get("progress_category"), language)),
            _shown(r.get("forecast_median"), unit),
            _text(fmt.word(r.get("data") or "real", language)),
        ]
        sheet.append(row)
        cells = sheet[sheet.max_row]
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        shape = number_format(str(unit), language, indicator=ind)
        for cell in (cells[4], cells[6], cells[11]):
            cell.number_format = shape
        target, latest, p = cells[4], cells[6], cells[8]
        if target.value is not None:
            symbol = fmt.comparison_symbol(str(r["comparison"]))
            # one quoted literal before the number: "≥ rank "0, not "≥ ""rank "0
            prefix = f'"{symbol} ' + (shape[1:] if shape.startswith('"') else f'"{shape}')
            target.number_format = prefix
        if r.get("last_qualifier") in ("lower_bound", "upper_bound"):
            words = fmt.quantity(r["last_value"], unit, language, indicator=ind,
                                 qualifier=r["last_qualifier"])  # fmt: skip
            latest.comment = Comment(words, "brandstats")
        if p.value is not None:
            bound = r.get("probability_bound")
            p.number_format = probability_format(p.value, bound)
            if bound:
                p.comment = Comment(fmt.probability(p.value, language, bound), "brandstats")
        if r.get("run_name"):
            cells[1].hyperlink = f"{r['run_name']}.html"
            cells[1].style = "Hyperlink"
        if r.get("data") == "illustrative" or r.get("illustrative") is True:
            for cell in cells:
                cell.fill = marked
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    _print_setup(sheet, plan)
    _sources_sheet(book.create_sheet(w("sheet:sources")), table, language, plan)
    buffer = io.BytesIO()
    book.save(buffer)
    return write_bytes_atomic(path, buffer.getvalue())


def _print_setup(sheet: Any, plan: str) -> None:
    """A4 landscape, every column on one page, the header row on every page, the plan's name
    and the date in the page header."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.oddHeader.left.text = plan.replace("&", "&&")
    sheet.oddHeader.right.text = "&D"


def _sources_sheet(sheet: Any, table: pd.DataFrame, language: str, plan: str) -> None:
    """One row per target: its name, region, the target's source and the figures' sources."""
    from openpyxl.styles import Alignment, Font

    header = [fmt.word("indicator", language), fmt.word("region", language),
              fmt.field("source", language), fmt.word("data_sources", language)]  # fmt: skip
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    seen: set[tuple[str, str]] = set()
    for r in table.to_dict("records"):
        key = (str(r.get("indicator")), str(r.get("region")))
        if key in seen:
            continue
        seen.add(key)
        name = r.get("name_zh" if language == "zh" else "name_en") or r.get("indicator")
        data = r.get("data_sources")
        if isinstance(data, (list, tuple)):
            data = "\n".join(map(str, data))
        sheet.append([_text(str(name)), _text(fmt.region(r.get("region"), language)),
                      _text(_plain(r.get("source"))), _text(_plain(data))])  # fmt: skip
        for cell in sheet[sheet.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCD", (40, 10, 60, 80), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    _print_setup(sheet, plan)


def _plain(value: Any) -> str:
    return fmt.DASH if value is None or fmt.is_missing(value) else str(value)


def sources_of(observations: pd.DataFrame, targets: pd.DataFrame, indicator: str,
               region: str) -> Mapping[str, Any]:  # fmt: skip
    """The sources behind one result: the target's (``source``) and the figures'
    (``data_sources``, each distinct source once, in year order), for its JSON record."""
    rows = targets.loc[targets["indicator"] == indicator]
    source = rows["source"].iloc[0] if len(rows) and "source" in rows else None
    obs = observations.loc[
        (observations["indicator"] == indicator) & (observations["region"] == region)
    ].sort_values("year")
    data = list(dict.fromkeys(str(s) for s in obs["source"].dropna()))
    return {"source": None if fmt.is_missing(source) else str(source), "data_sources": data}
