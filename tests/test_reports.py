"""The reports as a reader gets them: the notebooks run under papermill on the shipped data,
exported with export_html, in English and Chinese, then read back as text.

Each page must have its title, a summary first, charts with alt text, and none of the
defects of a debugging dump: no ``NaN``/``None``, no raw long floats, no pandas index, no
stderr. Chinese pages are Chinese throughout (headings, table headers, summary labels).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from brandstats.htmlreport import export_html

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

# one real series with a vintage, one illustrative (no assessment at all: tests/test_results.py)
RUNS = {
    "high_tech_2019": {"indicator": "high_tech_enterprises", "as_of": 2019},
    "brand_value": {"indicator": "product_brand_value"},
}
CJK = re.compile(r"[\u4e00-\u9fff]")


class Page(HTMLParser):
    """Title, visible text, headings, table headers, table cells and images of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.title, self.text = "", []
        self.headings: list[str] = []
        self.th: list[str] = []
        self.td: list[str] = []
        self.images: list[dict] = []
        self.links: list[str] = []
        self._stack: list[str] = []
        self.feed(html)
        self.body = " ".join(self.text)

    def handle_starttag(self, tag, attrs):
        self._stack.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        if tag == "a":
            self.links.append(dict(attrs).get("href", ""))
        if tag in ("h1", "h2", "th", "td"):
            getattr(self, {"h1": "headings", "h2": "headings"}.get(tag, tag)).append("")

    def handle_endtag(self, tag):
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        if "title" in self._stack:
            self.title += data
            return
        if {"style", "script"} & set(self._stack):
            return
        self.text.append(data)
        for tag, store in (("h1", self.headings), ("h2", self.headings), ("th", self.th),
                           ("td", self.td)):  # fmt: skip
            if tag in self._stack and store:
                store[-1] += data


def _execute(notebook: str, out: Path, parameters: dict) -> nbformat.NotebookNode:
    pm.execute_notebook(
        str(NOTEBOOKS / notebook), str(out), parameters=parameters, kernel_name="python3",
        progress_bar=False, cwd=str(NOTEBOOKS),
    )  # fmt: skip
    return nbformat.read(out, as_version=4)


@pytest.fixture(scope="module", params=["en", "zh"])
def reports(request, tmp_path_factory):
    """Every run's page and the scorecard's, in one language (name -> Page)."""
    language = request.param
    folder = tmp_path_factory.mktemp(f"reports_{language}")
    # a stale result of an earlier run in the same folder must not reach the scorecard
    (folder / "stale.json").write_text(
        json.dumps({"indicator": "unicorn_firms", "run_name": "stale", "region": "Jinan"}),
        encoding="utf-8",
    )
    pages = {}
    for name, parameters in RUNS.items():
        nb = _execute("project_target.ipynb", folder / f"{name}.ipynb", {
            **parameters, "language": language, "output_dir": str(folder), "run_name": name,
        })  # fmt: skip
        pages[name] = Page(export_html(nb, title=f"{name} report"))
    nb = _execute("scorecard.ipynb", folder / "scorecard.ipynb", {
        "results_dir": str(folder), "language": language, "runs": list(RUNS),
    })  # fmt: skip
    pages["scorecard"] = Page(export_html(nb, title="scorecard"))
    return language, pages


pytestmark = pytest.mark.slow

RAW_FLOAT = re.compile(r"\d\.\d{5,}|\d(?:\.\d+)?e[+-]\d+", re.IGNORECASE)
DEBRIS = re.compile(r"\b(?:NaN|nan|None|NaT|null|<NA>)\b|Traceback|findfont|Warning:")


def test_every_page_has_its_title_and_no_debris(reports):
    _, pages = reports
    for name, page in pages.items():
        assert page.title == (f"{name} report" if name != "scorecard" else "scorecard")
        assert not DEBRIS.findall(page.body), (name, DEBRIS.findall(page.body))
        assert not RAW_FLOAT.findall(page.body), (name, RAW_FLOAT.findall(page.body))
        assert "Unnamed" not in page.body and "dtype" not in page.body


def test_charts_carry_alt_text(reports):
    language, pages = reports
    for name in ("high_tech_2019", "brand_value", "scorecard"):
        alts = [img.get("alt", "") for img in pages[name].images]
        assert alts and all(len(a) > 20 for a in alts), (name, alts)
        if language == "zh":
            assert all(CJK.search(a) for a in alts)


def test_summary_comes_first(reports):
    language, pages = reports
    body = pages["brand_value"].body
    first_chart_text = {"en": "Projection", "zh": "预测"}[language]
    summary = {"en": "P(met)", "zh": "达成概率"}[language]
    assert body.index(summary) < body.index(first_chart_text)
    assert {"en": "ILLUSTRATIVE", "zh": "示意数据"}[language] in body


def test_values_in_display_units(reports):
    language, pages = reports
    body = pages["brand_value"].body
    assert ("6,000 亿元" if language == "en" else "6,000亿元") in body
    assert re.search(r"\d+ ?%", body)
    ht = pages["high_tech_2019"].body
    assert ("2,231" in ht) and ("至少5,700家" in ht if language == "zh" else "at least 5,700" in ht)


def test_backtest_table_explains_itself_or_why_it_is_empty(reports):
    language, pages = reports
    assert {"en": "rolling origin", "zh": "滚动起点"}[language] in pages["brand_value"].body
    assert {"en": "No backtest", "zh": "没有回测"}[language] in pages["high_tech_2019"].body


def test_chinese_pages_are_chinese(reports):
    language, pages = reports
    if language != "zh":
        pytest.skip("Chinese pages only")
    for name, page in pages.items():
        assert page.headings, name
        for text in page.headings + page.th:
            assert CJK.search(text), (name, text)
        for english in ("Target", "Latest value", "Verdict", "Official-style", "Source", "Year"):
            assert english not in page.body, (name, english)


def test_scorecard_shows_this_runs_results_with_links(reports):
    _, pages = reports
    card = pages["scorecard"]
    pages_linked = [link for link in card.links if not link.startswith("#")]  # not anchors
    assert sorted(pages_linked) == sorted(f"{name}.html" for name in RUNS)
    assert "unicorn" not in card.body.lower()  # the stale result is not shown
    kinds = {"real", "ILLUSTRATIVE", "真实数据", "示意数据"}
    assert any(kind in card.td for kind in kinds)
