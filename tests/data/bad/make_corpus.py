"""Build the corpus of malformed inputs in this folder (deterministic; run to rebuild).

    python tests/data/bad/make_corpus.py [FOLDER]

Every file is small and made from the text below, so the binary ones (XLSX, Parquet) can be
rebuilt. ``tests/test_bad_inputs.py`` says what loading each file must give.
"""

from __future__ import annotations

import io
import random
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

import openpyxl
import pandas as pd

HEADER = "indicator,region,year,value,unit,qualifier,source"
ROWS = [  # rows 2-5 of most files
    "product_brand_value,Jinan,2019,4256,亿元,reported,test",
    "product_brand_value,Jinan,2020,4492,亿元,reported,test",
    "high_tech_enterprises,Jinan,2019,2231,家,reported,test",
    "service_satisfaction,Jinan,2020,86.4,%,reported,test",
]
BASE = "\n".join([HEADER, *ROWS]) + "\n"
SHORT = "indicator,region,year,value,unit\n"  # header of the one-row error files
WIDE = [
    ["indicator", "region", "unit", "2019年", "2020年", "2021年"],
    ["product_brand_value", "Jinan", "亿元", 4256, 4492, None],
    ["high_tech_enterprises", "Jinan", "家", 2231, None, 4397],
]
FIXED_TIME = (2020, 1, 1, 0, 0, 0)
EMPTY_STYLES = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'


def _lines(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _one(row: str) -> bytes:
    """A file with the short header and one data row (row 2)."""
    return (SHORT + row + "\n").encode("utf-8")


def _stable_zip(raw: bytes, replace: Mapping[str, bytes] = MappingProxyType({})) -> bytes:
    """Rewrite a zip with fixed timestamps (and the members in ``replace`` replaced)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = replace.get(info.filename) or src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2020-01-01T00:00:00Z", data)
            member = zipfile.ZipInfo(info.filename, FIXED_TIME)
            dst.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _xlsx(
    *sheets: tuple[str, list[list[object]]],
    merge: str = "",
    date_column: str = "",
    formats: Mapping[str, str] = MappingProxyType({}),
    cells: Mapping[str, object] = MappingProxyType({}),
) -> bytes:
    """A workbook with these sheets; ``merge`` merges cells and ``date_column`` formats a
    column of the first sheet as dates (as Excel does when a year is typed into a date cell);
    ``formats`` sets number formats ({"D2": "0.0%"}) and ``cells`` writes single cells
    ({"XFD1048576": "x"}) of the first sheet.
    """
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    if merge:
        book.worksheets[0].merge_cells(merge)
    for cell in book.worksheets[0][date_column][1:] if date_column else ():
        cell.number_format = "yyyy-mm-dd"
    for ref, number_format in formats.items():
        book.worksheets[0][ref].number_format = number_format
    for ref, value in cells.items():
        book.worksheets[0][ref] = value
    book.properties.created = book.properties.modified = datetime(2020, 1, 1)
    out = io.BytesIO()
    book.save(out)
    return _stable_zip(out.getvalue())


def _with_cells(book: bytes, cells: Mapping[str, str]) -> bytes:
    """A workbook with cells of its first sheet replaced by raw XML (formulas as a program
    writes them, without the value a spreadsheet would have calculated)."""
    with zipfile.ZipFile(io.BytesIO(book)) as src:
        xml = src.read("xl/worksheets/sheet1.xml").decode()
    for ref, inner in cells.items():
        xml, n = re.subn(rf'<c r="{ref}"[^>]*>.*?</c>', f'<c r="{ref}">{inner}</c>', xml)
        assert n == 1, ref
    return _stable_zip(book, {"xl/worksheets/sheet1.xml": xml.encode()})


def _table(text: str) -> list[list[object]]:
    """CSV text as rows of cells (numbers as numbers, as Excel would store them)."""
    rows = []
    for line in text.splitlines():
        cells: list[object] = []
        for cell in line.split(","):
            try:
                cells.append(float(cell) if "." in cell else int(cell))
            except ValueError:
                cells.append(cell or None)
        rows.append(cells)
    return rows


def _parquet(frame: pd.DataFrame, *, index: bool = False) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=index)
    return out.getvalue()


def _png() -> bytes:
    """A valid 1x1 grey PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def _long() -> bytes:
    """10,000 valid rows: 500 regions x 20 years."""
    lines = ["indicator,region,year,value,unit"]
    for region in range(500):
        for year in range(2000, 2020):
            lines.append(f"unicorn_firms,R{region:03d},{year},{(region + year) % 97},家")
    return _lines(*lines)


def _parquet_duplicate_columns() -> bytes:
    """A Parquet file with two columns named ``value`` (pyarrow writes it; pandas cannot)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["indicator", "region", "year", "value", "value", "unit"]
    columns = [["unicorn_firms"], ["Jinan"], [2020], [5], [6], ["家"]]
    out = io.BytesIO()
    pq.write_table(pa.table([pa.array(c) for c in columns], names=names), out)
    return out.getvalue()


def _added() -> dict[str, bytes]:
    """The cases added for issue 11: exports, layouts and cells as analysts produce them."""
    short = SHORT.strip()
    return {
        # --- Excel cells and used ranges
        "percent_formatted.xlsx": _xlsx(
            (
                "Sheet1",
                [
                    *_table(short),
                    ["service_satisfaction", "Jinan", 2020, 0.852, "%"],
                    ["industrial_pass_rate", "Jinan", 2020, 0.961, None],
                ],
            ),
            formats={"D2": "0.0%", "D3": "0%"},
        ),
        "percent_formatted_money.xlsx": _xlsx(
            ("Sheet1", [*_table(short), ["product_brand_value", "Jinan", 2020, 0.5, "亿元"]]),
            formats={"D2": "0.00%"},
        ),
        "stray_cell_far_corner.xlsx": _xlsx(("Sheet1", _table(BASE)), cells={"XFD1048576": "x"}),
        "stray_cell_last_row.xlsx": _xlsx(("Sheet1", _table(BASE)), cells={"A1048576": "备注"}),
        "numbers_as_text.xlsx": _xlsx(
            (
                "Sheet1",
                [
                    HEADER.split(","),
                    ["product_brand_value", "Jinan", "2019", "4256", "亿元", "reported", "test"],
                    ["product_brand_value", "Jinan", "2020年", "4,492", "亿元", None, None],
                    ["high_tech_enterprises", "Jinan", 2019, " 2231 ", "家", None, None],
                    ["service_satisfaction", "Jinan", 2020.0, "86.4", "%", None, None],
                ],
            )
        ),
        "bool_value.xlsx": _xlsx(
            ("Sheet1", [*_table(short), ["unicorn_firms", "Jinan", 2020, True, "家"]])
        ),
        # WPS/Excel report layout: a merged title, a blank row, Chinese headers, a remarks
        # column, numbers stored as text, a notes row and a source row below the table
        "wps_export.xlsx": _xlsx(
            (
                "Sheet1",
                [
                    ["济南市品牌建设主要指标（2019-2020年）"],
                    [],
                    ["指标", "地区", "年份", "数值", "单位", "备注"],
                    ["product_brand_value", "济南市", 2019, "4,256", "亿元", None],
                    ["product_brand_value", "济南市", 2020, 4492, "亿元", "快报数"],
                    ["high_tech_enterprises", "济南市", "2019年", 2231, "家", None],
                    ["service_satisfaction", "济南市", 2020, 86.4, "%", None],
                    [],
                    ["注：2020年为快报数。"],
                    ["数据来源：济南市统计局"],
                ],
            ),
            merge="A1:F1",
        ),
        "merged_year_header.xlsx": _xlsx(
            (
                "Sheet1",
                [
                    ["指标", "地区", "单位", "年份", None, None],
                    [None, None, None, 2019, 2020, 2021],
                    ["product_brand_value", "Jinan", "亿元", 4256, 4492, None],
                    ["high_tech_enterprises", "Jinan", "家", 2231, None, 4397],
                ],
            ),
            merge="D1:F1",
        ),
        "transposed.xlsx": _xlsx(
            (
                "Sheet1",
                [
                    ["年份", "product_brand_value", "high_tech_enterprises"],
                    [2019, 4256, 2231],
                    [2020, 4492, None],
                ],
            )
        ),
        # --- files that are not UTF-8 text, or only partly written
        "utf32.csv": BASE.encode("utf-32"),
        "utf32le_no_bom.csv": BASE.encode("utf-32-le"),
        "nul_filled.csv": bytes(8192),
        "nul_tail.csv": BASE.encode() + bytes(3000),
        "nul_filled.xlsx": bytes(4096),
        "duplicate_columns.parquet": _parquet_duplicate_columns(),
        "invisible_in_region.parquet": _parquet(
            pd.read_csv(io.StringIO(BASE)).assign(
                region=["Jinan\x00", "Jinan\u200b", " Jinan", "\ufeffJinan"]
            )
        ),
        "fullwidth_comma_delimiter.csv": BASE.replace(",", "，").encode(),
        # GBK bytes that are valid UTF-8 by chance: 元 (D4 AA) reads as UTF-8 'Ԫ'
        "gbk_valid_as_utf8.csv": _one("product_brand_value,Jinan,2019,4256,元")
        .decode()
        .encode("gbk"),
        # --- regions
        "nul_in_cell.csv": _lines(
            short,
            "high_tech_enterprises,Jinan\x00,2019,2231,家",
            "high_tech_enterprises,Jinan,2021,4397\x00,家",
        ),
        "zero_width_region.csv": _lines(
            short,
            "high_tech_enterprises,Jinan\u200b,2018,1547,家",
            "high_tech_enterprises,\ufeffJinan,2019,2231,家",
            "high_tech_enterprises, Jinan\u2060 ,2021,4397,家",
        ),
        "region_aliases.csv": _lines(
            short,
            "high_tech_enterprises,济南,2018,1547,家",
            "high_tech_enterprises,济南市,2019,2231,家",
            "high_tech_enterprises,Jinan City,2021,4397,家",
            "high_tech_enterprises,jinan,2022,5700,家",
        ),
        "region_alias_duplicate.csv": _lines(
            short,
            "high_tech_enterprises,济南,2019,2231,家",
            "high_tech_enterprises,Jinan,2019,2232,家",
        ),
        "totals_row_region.csv": _lines(
            short,
            "high_tech_enterprises,Jinan,2019,2231,家",
            "high_tech_enterprises,Qingdao,2019,1000,家",
            "high_tech_enterprises,合计,2019,3231,家",
        ),
        "totals_row_indicator.csv": _lines(
            "indicator,region,unit,2019年,2020年",
            "high_tech_enterprises,Jinan,家,2231,3000",
            "specialised_enterprises,Jinan,家,500,600",
            "总计,,家,2731,3600",
        ),
        "notes_rows.csv": _lines(
            HEADER, *ROWS, "注：2020年为快报数,,,,,,", "数据来源：济南市统计局"
        ),
        "homoglyph_indicator.csv": _one("high_tech_\u0435nterprises,Jinan,2020,3000,家"),
        # --- cells: units, separators, markers, placeholders
        "units_in_cells.csv": _lines(
            short,
            'high_tech_enterprises,Jinan,2022,"5,700家",',
            "product_brand_value,Jinan,2021,6000亿元,",
            "service_satisfaction,Jinan,2021,85.2%,",
            "service_satisfaction,Jinan,2020,86.4 %,%",
        ),
        "value_unit_in_header.csv": _lines(
            "indicator,region,year,数值（亿元）",
            "product_brand_value,Jinan,2019,4256",
            "product_brand_value,Jinan,2020,4492",
        ),
        "unit_in_brackets.csv": _lines(
            short,
            "product_brand_value,Jinan,2019,4256,（亿元）",
            "service_satisfaction,Jinan,2020,86.4,[%]",
        ),
        "footnote_markers.csv": _lines(
            short,
            'high_tech_enterprises,Jinan,2019,"2,231*",家',
            "high_tech_enterprises,Jinan,2021,4397①,家",
            "high_tech_enterprises,Jinan,2022,5700[1],家",
        ),
        "placeholders_more.csv": _lines(
            short,
            "high_tech_enterprises,Jinan,2016,n.a.,家",
            "high_tech_enterprises,Jinan,2017,N.A.,家",
            "high_tech_enterprises,Jinan,2018,/,家",
            "high_tech_enterprises,Jinan,2019,不详,家",
            "high_tech_enterprises,Jinan,2020,…,家",
            "high_tech_enterprises,Jinan,2021,4397,家",
        ),
        "german_separators.csv": _lines(
            short,
            "high_tech_enterprises,Jinan,2019,2.231.000,家",
            'product_brand_value,Jinan,2019,"4.256,5",亿元',
        ),
        "indian_grouping.csv": _one('product_brand_value,Jinan,2019,"1,23,456",万元'),
        "swiss_and_thin_space.csv": _lines(
            short,
            "high_tech_enterprises,Jinan,2019,2'231,家",
            "high_tech_enterprises,Jinan,2021,4\u202f397,家",
        ),
        "fullwidth_punctuation.csv": _lines(
            short,
            'high_tech_enterprises,Jinan,2019,"２，２３１",家',
            "service_satisfaction,Jinan,2020,８６．４％,",
            "product_brand_value,Jinan,2019,4256,亿元",
        ),
        "scientific_notation.csv": _one("product_brand_value,Jinan,2019,4.256E+11,元"),
        "accounting_negative.csv": _one("high_tech_enterprises,Jinan,2019,(123),家"),
        # --- years
        "years_annual.csv": _lines(
            short,
            "high_tech_enterprises,Jinan,2019年度,2231,家",
            "high_tech_enterprises,Jinan,2021 年度,4397,家",
            "high_tech_enterprises,Jinan,2022年,5700,家",
        ),
        "year_with_month.csv": _lines(
            short,
            "high_tech_enterprises,Jinan,2020年12月,3000,家",
            "high_tech_enterprises,Jinan,2020Q4,3000,家",
            "high_tech_enterprises,Jinan,2020-12,3000,家",
        ),
        "duplicated_years_formats.csv": _lines(
            short,
            "high_tech_enterprises,Jinan,2020,3000,家",
            "high_tech_enterprises,Jinan,2020年度,3001,家",
        ),
        "transposed.csv": _lines(
            "年份,product_brand_value,high_tech_enterprises", "2019,4256,2231"
        ),
        "wide_quarter_columns.csv": _lines(
            "indicator,region,unit,2020Q1,2020Q2", "high_tech_enterprises,Jinan,家,3000,3100"
        ),
        "wide_years_annual.csv": _lines(
            "indicator,region,unit,2019年度,2020年度,合计",
            "high_tech_enterprises,Jinan,家,2231,3000,5231",
        ),
        # --- targets
        "targets_region_alias.csv": _lines(
            "indicator,unit,comparison,target,target_year,region", "x_count,count,>=,3,2022,济南市"
        ),
        # --- one series, two units: a jump a unit factor explains (review items 1, 2)
        "unit_jump_wan_yi.csv": _lines(
            short,
            "product_brand_value,Jinan,2019,4256,万元",
            "product_brand_value,Jinan,2020,4492,亿元",
            "product_brand_value,Jinan,2021,5300,亿元",
        ),
        "unit_jump_fraction_percent.csv": _lines(
            short,
            "service_satisfaction,Jinan,2019,0.856,%",
            "service_satisfaction,Jinan,2020,86.4,%",
            "service_satisfaction,Jinan,2021,87.5,%",
        ),
        "unit_jump_thousands.csv": _lines(
            short,
            "high_tech_enterprises,Jinan,2019,2231,家",
            "high_tech_enterprises,Jinan,2020,3499000,家",
            "high_tech_enterprises,Jinan,2021,4397,家",
        ),
        "unit_jump_two_years.csv": _lines(
            short,
            "product_brand_value,Jinan,2019,4256,亿元",
            "product_brand_value,Jinan,2020,4492,万元",
        ),
        "growth_doubling.csv": _lines(
            short, *(f"high_tech_enterprises,Jinan,{2012 + i},{2**i},家" for i in range(11))
        ),
        "growth_from_zero.csv": _lines(
            short, *(f"unicorn_firms,Jinan,{2017 + i},{n},家" for i, n in enumerate([0, 1, 5, 12]))
        ),
        # --- review item 19: notes on the first sheet; a totals row in a wide table
        "notes_sheet_then_data.xlsx": _xlsx(
            ("说明", [["本表为济南市品牌指标"], ["数据来源：济南市统计局"]]), ("数据", _table(BASE))
        ),
        "wide_totals_row.csv": _lines(
            "indicator,region,unit,2019,2020,2021",
            "high_tech_enterprises,Jinan,家,2231,3499,4397",
            "high_tech_enterprises,Qingdao,家,1000,1100,1200",
            "high_tech_enterprises,合计,家,3231,4599,5597",
        ),
        "growth_small_percent.csv": _lines(  # 0.02 % to 2 %: early take-up, not a fraction
            short,
            *(
                f"service_satisfaction,Jinan,{2019 + i},{n},%"
                for i, n in enumerate(["0.02", "0.6", "2"])
            ),
        ),
        "growth_small_counts.csv": _lines(
            short,
            *(
                f"taishan_quality_brands,Jinan,{2019 + i},{n},个"
                for i, n in enumerate([1, 2, 5, 12])
            ),
        ),
        # --- issue 21: awkward cells
        "negative_zero.csv": _lines(
            short,
            "unicorn_firms,Jinan,2019,-0,家",
            "unicorn_firms,Jinan,2020,-0.0,家",
            "unicorn_firms,Jinan,2021,3,家",
            "service_satisfaction,Jinan,2020,-0.0,%",
        ),
        "wide_year_headers_as_dates.xlsx": _xlsx(
            (
                "Sheet1",
                [
                    [*WIDE[0][:3], *(datetime(y, 12, 31) for y in (2019, 2020, 2021))],
                    *WIDE[1:],
                ],
            )
        ),
        # formulas never calculated (a workbook written by a script); D3 is calculated
        "formulas_uncomputed.xlsx": _with_cells(
            _xlsx(("Sheet1", _table(BASE))),
            {"D2": "<f>4000+256</f><v />", "D3": "<f>4000+492</f><v>4492</v>"},
        ),
        "formulas_uncomputed_kinds.xlsx": _with_cells(
            _xlsx(("Sheet1", _table(BASE))),
            {
                "D2": '<f t="shared" ref="D2:D3" si="0">4000+256</f>',
                "D3": '<f t="shared" si="0"/>',
                "D4": '<f t="array" ref="D4">SUM({2231})</f>',
                "D5": "<f>[1]Sheet1!D5</f>",
                "C5": '<f t="dataTable" ref="C5" dt2D="0" dtr="0" r1="A1"/>',
            },
        ),
        "targets_negative_zero.csv": _lines(
            "indicator,unit,comparison,target,target_year,region", "x_count,count,>=,-0,2022,Jinan"
        ),
    }


def build(folder: Path) -> list[str]:
    """Write every corpus file into ``folder``; return their names."""
    tidy = pd.read_csv(io.StringIO(BASE))
    good_xlsx = _xlsx(("Sheet1", _table(BASE)))
    good_parquet = _parquet(tidy)
    files: dict[str, bytes] = {
        # --- cut short
        "truncated_mid_row.csv": (BASE + "product_brand_value,Jinan,2021,53").encode(),
        "truncated_mid_quote.csv": (
            BASE + 'product_brand_value,Jinan,2021,5312,亿元,reported,"济南市市场监管局, 20'
        ).encode(),
        "truncated.xlsx": good_xlsx[: len(good_xlsx) // 2],
        "truncated.parquet": good_parquet[: len(good_parquet) // 2],
        # --- delimiters, line endings, layout
        "delimiter_semicolon.csv": BASE.replace(",", ";").encode(),
        "delimiter_tab.csv": BASE.replace(",", "\t").encode(),
        "delimiter_pipe.csv": BASE.replace(",", "|").encode(),
        "crlf_line_endings.csv": BASE.replace("\n", "\r\n").encode(),
        "header_on_row3.csv": ("济南市品牌指标\n单位：见各行\n" + BASE).encode(),
        "header_on_row3.xlsx": _xlsx(("指标", [["济南市品牌指标"], [], *_table(BASE)])),
        "blank_separator_rows.csv": _lines(
            HEADER, ROWS[0], ROWS[1], "", ",,,,,,", ROWS[2], "   ", ROWS[3]
        ),
        "merged_blank_indicator.csv": _lines(
            HEADER, ROWS[0], ROWS[1].replace("product_brand_value", ""), ROWS[2]
        ),
        "merged_cells.xlsx": _xlsx(("Sheet1", _table(BASE)), merge="A2:A3"),
        "extra_columns.csv": _lines(
            HEADER + ",备注,notes,,Unnamed: 10",
            *[row + ",见附表,x,,1" for row in ROWS],
        ),
        "wide_with_notes.xlsx": _xlsx(
            ("Sheet1", [[*WIDE[0], "备注"], [*WIDE[1], "note"], [*WIDE[2], None]])
        ),
        "wide_non_year_column.csv": _lines(
            "indicator,region,unit,2019,2020,2021E",
            "high_tech_enterprises,Jinan,家,2231,,4397",
        ),
        "wide_duplicate_years.csv": _lines(
            "indicator,region,unit,2019,2020,2020年",
            "high_tech_enterprises,Jinan,家,2231,3000,3000",
        ),
        "long_10k_rows.csv": _long(),
        # --- encodings and things that are not CSV text
        "empty.csv": b"",
        "bom_only.csv": b"\xef\xbb\xbf",
        "header_only.csv": (HEADER + "\n").encode(),
        "no_header.csv": _lines(*ROWS),
        "missing_unit_column.csv": _lines(
            "indicator,region,year,value", "unicorn_firms,Jinan,2020,5"
        ),
        "utf16.csv": BASE.encode("utf-16"),
        "utf16le_no_bom.csv": BASE.encode("utf-16-le"),
        "mojibake_latin1.csv": BASE.encode("utf-8").decode("latin-1").encode("utf-8"),
        "mojibake_question_marks.csv": BASE.encode("ascii", errors="replace"),
        "big5_bytes.csv": BASE.replace("亿元", "億元").encode("big5"),
        "utf8_damaged.csv": BASE.encode().replace("家".encode(), b"\xe5\xae"),
        "latin1_text.csv": (SHORT.strip() + ",source\nunicorn_firms,Jinan,2020,5,家,José, réf.")
        .encode("gbk")
        .replace("José".encode("gbk"), "José".encode("latin-1")),
        "binary_junk.csv": b"\x01\x02" + random.Random(0).randbytes(510),
        "png_renamed.csv": _png(),
        "zip_renamed.csv": good_xlsx,
        "csv_renamed.xlsx": BASE.encode(),
        "legacy.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        # --- workbooks
        "empty_sheet.xlsx": _xlsx(("Sheet1", [])),
        "data_on_second_sheet.xlsx": _xlsx(("Sheet1", []), ("数据", _table(BASE))),
        # a style sheet without cell styles, as some exporters write: openpyxl warns
        "no_styles.xlsx": _stable_zip(good_xlsx, {"xl/styles.xml": EMPTY_STYLES}),
        "year_as_date.xlsx": _xlsx(("Sheet1", _table(BASE)), date_column="C"),
        # a date serial number beyond the year 9999: openpyxl warns and reads #VALUE!
        "date_out_of_range.xlsx": _xlsx(
            ("Sheet1", [*_table(SHORT), ["unicorn_firms", "Jinan", 2020, 1e10, "家"]]),
            date_column="D",
        ),
        # --- Parquet
        "wrong_dtypes.parquet": _parquet(
            tidy.assign(year=tidy["year"].astype(float), value=tidy["value"].astype(str))
        ),
        "nullable_dtypes.parquet": _parquet(
            tidy.assign(
                year=tidy["year"].astype("Int64"),
                value=pd.array([4256, None, 2231, 86.4], dtype="Float64"),
            )
        ),
        "indexed.parquet": _parquet(tidy.set_index(["indicator", "region", "year"]), index=True),
        "corrupt.parquet": b"PAR1" + random.Random(1).randbytes(200) + b"PAR1",
        # --- cells
        "formula_as_text.csv": _lines(HEADER, *ROWS, "unicorn_firms,Jinan,2021,=SUM(B2:B4),家,,"),
        "excel_error_values.csv": _one("unicorn_firms,Jinan,2021,#DIV/0!,家"),
        "placeholders.csv": _lines(
            HEADER,
            ROWS[0],
            "product_brand_value,Jinan,2020,#N/A,亿元,,",
            "high_tech_enterprises,Jinan,2019,-,家,,",
            "high_tech_enterprises,Jinan,2020,—,家,,",
            "service_satisfaction,Jinan,2020,N/A,%,,",
            ROWS[3].replace("2020", "2021"),
        ),
        "only_placeholders.csv": _lines(
            SHORT.strip(), "unicorn_firms,Jinan,2020,-,家", "unicorn_firms,Jinan,2021,,家"
        ),
        "mixed_money_units.csv": _lines(
            SHORT.strip(),
            "product_brand_value,Jinan,2019,4256,亿元",
            "product_brand_value,Jinan,2020,44920000,万元",
            "product_brand_value,Jinan,2021,531200000000,元",
            "service_brand_value,Jinan,2021,120.5,billion yuan",
        ),
        "money_in_percent.csv": _lines(
            SHORT.strip(),
            "product_brand_value,Jinan,2019,4256,亿元",
            "product_brand_value,Jinan,2020,12.5,%",
        ),
        "inline_units.csv": _lines(
            SHORT.strip(),
            "product_brand_value,Jinan,2019,4256亿元,",
            "service_satisfaction,Jinan,2020,86.4%,",
            "high_tech_enterprises,Jinan,2019,2231 家,家",
        ),
        "inline_unit_conflict.csv": _one("product_brand_value,Jinan,2019,4256亿元,万元"),
        "years_written_oddly.csv": _lines(
            SHORT.strip(),
            "high_tech_enterprises,Jinan,2018年,1547,家",
            "high_tech_enterprises,Jinan,2019.0,2231,家",
            "high_tech_enterprises,Jinan,２０２１,4397,家",
            "high_tech_enterprises,Jinan, 2022 年度 ,5700,家",
        ),
        "year_chinese_numerals.csv": _one("high_tech_enterprises,Jinan,二〇二〇,3000,家"),
        "year_fiscal.csv": _one("high_tech_enterprises,Jinan,FY2020,3000,家"),
        "year_range.csv": _one("high_tech_enterprises,Jinan,2020-21,3000,家"),
        "huge_value.csv": _one("product_brand_value,Jinan,2020,1e30,元"),
        "nan_inf_text.csv": _lines(
            SHORT.strip(),
            "unicorn_firms,Jinan,2019,NaN,家",
            "unicorn_firms,Jinan,2020,inf,家",
            "unicorn_firms,Jinan,2021,-inf,家",
            "unicorn_firms,Jinan,2022,1e999,家",
        ),
        "duplicate_columns.csv": _lines(
            "indicator,region,year,value,value,unit", "unicorn_firms,Jinan,2020,5,6,家"
        ),
        "duplicate_columns_alias.csv": _lines(
            "indicator,region,year,年份,value,unit", "unicorn_firms,Jinan,2020,2021,5,家"
        ),
        "fullwidth_and_spaces.csv": _lines(
            SHORT.strip(),
            "ｐｒｏｄｕｃｔ＿ｂｒａｎｄ＿ｖａｌｕｅ ,Jinan ,2019 ,４２５６ ,亿元 ",
            " high_tech_enterprises\u3000,Ｊｉｎａｎ,2019,2\u00a0231,家",
            "Service_Satisfaction,Jinan,2020,８６．４,％",
        ),
        "thousands_separators.csv": _lines(
            SHORT.strip(),
            'high_tech_enterprises,Jinan,2021,"4,397",家',
            'product_brand_value,Jinan,2021,"5,312.5",亿元',
            'product_brand_value,Jinan,2020,"44,920,000",万元',
            "high_tech_enterprises,Jinan,2019,2 231,家",
        ),
        "decimal_comma.csv": _lines(
            "indicator;region;year;value;unit", "service_satisfaction;Jinan;2020;86,4;%"
        ),
        "unquoted_thousands.csv": _lines(
            SHORT.strip(), "high_tech_enterprises,Jinan,2021,4,397,家"
        ),
        "stray_quote.csv": _lines(SHORT.strip(), 'high_tech_enterprises,Jinan,2021,"4397"x,家'),
        "negative_count.csv": _one("high_tech_enterprises,Jinan,2020,-5,家"),
        "percent_over_100.csv": _one("service_satisfaction,Jinan,2020,120,%"),
        "rank_zero.csv": _one("public_service_rank,Jinan,2020,0,rank"),
        "fractional_count.csv": _one("high_tech_enterprises,Jinan,2020,3000.5,家"),
        "duplicate_rows.csv": _lines(
            SHORT.strip(),
            "high_tech_enterprises,Jinan,2020,3000,家",
            "unicorn_firms,Jinan,2020,5,家",
            "high_tech_enterprises,Jinan,2020.0,3001,家",
        ),
        "unknown_indicator.csv": _one("high_tech_enterprise,Jinan,2020,3000,家"),
        "unknown_qualifier.csv": _lines(HEADER, "unicorn_firms,Jinan,2020,5,家,reportd,x"),
        "unknown_unit.csv": _one("unicorn_firms,Jinan,2020,5,furlongs"),
        # --- targets catalogues
        "targets_title_rows.xlsx": _xlsx(
            (
                "目标",
                [
                    ["济南市品牌战略目标"],
                    ["indicator", "unit", "comparison", "target", "target_year", "region"],
                    ["tourism_revenue", "亿元", "≥", 1500, 2025, "Jinan"],
                    ["visitor_count", "个", ">", "3,000", "2025年", "Jinan"],
                ],
            )
        ),
        "targets_unknown_unit.csv": _lines(
            "indicator,unit,comparison,target,target_year", "x_count,parsecs,>=,3,2022"
        ),
        "targets_bad_comparison.csv": _lines(
            "indicator,unit,comparison,target,target_year", "x_count,count,≈,3,2022"
        ),
        "targets_duplicate.csv": _lines(
            "indicator,unit,comparison,target,target_year",
            "x_count,count,>=,3,2022",
            "x_count,count,>=,4,2023",
        ),
        "targets_percent_over_100.csv": _lines(
            "indicator,unit,comparison,target,target_year", "x_rate,%,>=,120,2022"
        ),
        "targets_fiscal_year.csv": _lines(
            "indicator,unit,comparison,target,target_year", "x_count,count,>=,3,FY2022"
        ),
    }
    added = _added()
    assert not set(added) & set(files)
    files.update(added)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return sorted(files)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    print(f"wrote {len(build(target))} files to {target}")
