"""scorecard.xlsx, read back with openpyxl (and printed by LibreOffice when installed)."""

from __future__ import annotations

import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from brandstats import format as fmt
from brandstats import results
from brandstats.workbook import write_scorecard_xlsx


@pytest.fixture
def table() -> pd.DataFrame:
    """Three scorecard rows: money (illustrative), a bounded count, a hostile name."""
    rows = [
        {"group": "product", "indicator": "product_brand_value", "region": "Jinan",
         "name_en": "Total brand value", "name_zh": "品牌价值总额", "comparison": ">",
         "target": 6e11, "target_year": 2022, "unit": "yuan", "as_of": None,
         "last_year": 2021, "last_value": 5.3e11, "probability": 0.2483,
         "probability_bound": None, "verdict": "unlikely", "progress_category": "on track",
         "forecast_median": 5.746e11, "data": "illustrative", "run_name": "pbv_Jinan",
         "source": "the plan", "data_sources": "made up"},
        {"group": "enterprise", "indicator": "high_tech_enterprises", "region": "Licheng",
         "name_en": "High-tech firms", "name_zh": "高新技术企业", "comparison": ">=",
         "target": 4400, "target_year": 2022, "unit": "count", "as_of": 2021,
         "last_year": 2021, "last_value": 3000, "probability": 0.1,
         "probability_bound": "at_most", "verdict": "very unlikely",
         "progress_category": "moderate progress", "forecast_median": 3500, "data": "real",
         "run_name": "ht_Licheng", "source": "=HYPERLINK(\"http://x\")", "data_sources": None},
        {"group": "quality", "indicator": "food_pass_rate", "region": "Jinan",
         "name_en": "=1+2", "name_zh": "@SUM(A1)", "comparison": ">=", "target": 98,
         "target_year": 2022, "unit": "percent", "as_of": None, "last_year": 2021,
         "last_value": 97.5, "probability": 0.995, "probability_bound": None,
         "verdict": "virtually certain", "progress_category": None, "forecast_median": 98.4,
         "data": "real", "run_name": "-food", "source": "+cmd", "data_sources": "\tx"},
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_numbers_stay_numbers_with_their_formats(tmp_path, table):
    sheet = openpyxl.load_workbook(write_scorecard_xlsx(table, tmp_path / "s.xlsx")).active
    header = [c.value for c in sheet[1]]
    assert header[:2] == [fmt.word("goal"), fmt.word("indicator")]
    target, latest, p = (header.index(fmt.word(k)) for k in ("target", "latest", "p_met"))
    money, count, rate = sheet[2], sheet[3], sheet[4]
    assert money[target].value == pytest.approx(6000) and money[latest].value == 5300
    assert money[target].number_format == '"> "#,##0 "亿元"'  # reads "> 6,000 亿元"
    assert money[p].value == pytest.approx(0.2483) and money[p].number_format == "0%"
    assert count[target].value == 4400 and count[target].number_format.startswith('"≥ ')
    # a P(met) at the floor: a number shown as "≤ 10%", with the reports' words in a comment
    assert count[p].value == pytest.approx(0.1) and count[p].number_format == '"≤ "0%'
    assert count[p].comment.text == fmt.probability(0.1, "en", "at_most") == "at most 10 %"
    assert rate[p].number_format == '">99%"'  # never 100 %
    assert rate[latest].value == 97.5 and rate[latest].number_format == '0.0" %"'


def test_links_frozen_header_marked_rows_and_words(tmp_path, table):
    plan = "Plan A & B"
    book = openpyxl.load_workbook(write_scorecard_xlsx(table, tmp_path / "s.xlsx", plan=plan))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert [sheet.cell(r, 2).hyperlink.target for r in (2, 3)] == ["pbv_Jinan.html",
                                                                    "ht_Licheng.html"]  # fmt: skip
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values[0][-1] == "ILLUSTRATIVE" and sheet.cell(2, 1).fill.fgColor.rgb.endswith("F2CC")
    assert sheet.cell(3, 1).fill.fill_type is None
    assert values[1][2] == "Licheng" and values[1][3] == 2021  # one row per district
    assert "very unlikely" in values[1] and "moderate progress" in values[1]
    assert book.sheetnames == ["Scorecard", "Sources"]
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9  # A4
    assert sheet.oddHeader.left.text == "Plan A && B"  # the plan's name, & escaped


def test_text_is_never_a_formula(tmp_path, table):
    book = openpyxl.load_workbook(write_scorecard_xlsx(table, tmp_path / "s.xlsx"))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert {"'=1+2", "'+cmd", "'\tx", '\'=HYPERLINK("http://x")'} <= texts


def test_headers_in_chinese(tmp_path, table):
    book = openpyxl.load_workbook(write_scorecard_xlsx(table, tmp_path / "s.xlsx", language="zh"))
    sheet = book.active
    assert [c.value for c in sheet[1]][:3] == ["目标类别", "指标", fmt.word("region", "zh")]
    assert sheet.cell(2, 2).value == "品牌价值总额" and sheet.cell(4, 2).value == "'@SUM(A1)"
    assert book.sheetnames == ["计分卡", "来源"]


def test_write_scorecard_writes_the_workbook_beside_the_csv(tmp_path, table):
    results.write_scorecard(table, tmp_path, language="zh")
    assert (tmp_path / "scorecard.csv").is_file()
    assert openpyxl.load_workbook(tmp_path / "scorecard.xlsx").sheetnames == ["计分卡", "来源"]


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed")
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_libreoffice_prints_every_column_on_the_page(tmp_path, table):
    plan = "Jinan Brand Strategy Three-Year Action Plan (2020-2022)"
    path = write_scorecard_xlsx(table, tmp_path / "s.xlsx", plan=plan)
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pages = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "s.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\f")
    first = pages[0]
    header = [c.value for c in openpyxl.load_workbook(path).active[1]]
    assert all(h.split()[0] in first for h in header), header
    assert plan in first  # atop the page
    assert "6,000 亿元" in first and "≤ 10%" in first and "ILLUSTRATIVE" in first
