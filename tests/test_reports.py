"""The reports as a reader gets them: one ``brandstats run`` batch (papermill, export_html) per
language on the shipped data, then read back as text.

Each page must have its title, a summary first, charts with alt text, and none of the
defects of a debugging dump: no ``NaN``/``None``, no raw long floats, no pandas index, no
stderr. Chinese pages are Chinese throughout (headings, table headers, summary labels).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from brandstats.batch import plan_jobs, run_report

# a real series with a vintage and without (its target year observed), an illustrative one
# (a reconciliation), a rank bound, a target with no observation up to its year
RUNS = {
    "high_tech_2019": {"indicator": "high_tech_enterprises", "as_of": 2019},
    "high_tech": {"indicator": "high_tech_enterprises"},
    "brand_value": {"indicator": "product_brand_value"},
    "rank": {"indicator": "public_service_rank"},
    "bases": {"indicator": "quality_product_bases"},
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


@pytest.fixture(scope="module", params=["en", "zh"])
def reports(request, tmp_path_factory, observations, targets):
    """Every run's page and the scorecard's, in one language (name -> Page), from one batch."""
    language = request.param
    folder = tmp_path_factory.mktemp(f"reports_{language}")
    # a stale result of an earlier run in the same folder must not reach the scorecard
    (folder / "stale.json").write_text(
        json.dumps({"indicator": "unicorn_firms", "run_name": "stale", "region": "Jinan"}),
        encoding="utf-8",
    )
    runs = [{"name": n, "parameters": p, "where": "test"} for n, p in RUNS.items()]
    jobs = plan_jobs(observations, targets, runs=runs, shared={"language": language})
    outcome = run_report(jobs, folder, language=language, workers=2, progress=False)
    assert outcome["report"].ok and outcome["scorecard"].ok
    pages = {}
    for job in jobs:
        name = job.name.removeprefix(f"{job.parameters['indicator']}_Jinan_")
        pages[name] = Page((folder / f"{job.name}.html").read_text(encoding="utf-8"))
    pages["scorecard"] = Page((folder / "scorecard.html").read_text(encoding="utf-8"))
    return language, pages


pytestmark = pytest.mark.slow

RAW_FLOAT = re.compile(r"\d\.\d{5,}|\d(?:\.\d+)?e[+-]\d+", re.IGNORECASE)
DEBRIS = re.compile(r"\b(?:NaN|nan|None|NaT|null|<NA>)\b|Traceback|findfont|Warning:")


TITLES = {
    "en": {"high_tech": "Valid high-tech enterprises, Jinan, high_tech",
           "scorecard": "Scorecard"},
    "zh": {"high_tech": "有效高新技术企业数量, 济南, high_tech", "scorecard": "计分卡"},
}  # fmt: skip


def test_every_page_has_its_title_and_no_debris(reports):
    language, pages = reports
    for name, expected in TITLES[language].items():
        assert pages[name].title == expected
    for name, page in pages.items():
        if language == "zh":  # the title names the region in Chinese, as the heading does
            assert "Jinan" not in page.title and "济南" in page.title + page.body, name
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
    expected = [f"{p['indicator']}_Jinan_{name}.html" for name, p in RUNS.items()]
    assert sorted(pages_linked) == sorted(expected)
    assert "unicorn" not in card.body.lower()  # the stale result is not shown
    kinds = {"real", "ILLUSTRATIVE", "真实数据", "示意数据"}
    assert any(kind in card.td for kind in kinds)


def test_reconciliation_in_words_without_codes(reports):
    language, pages = reports
    body = pages["brand_value"].body
    expected = {
        "en": "The growth rates (13.3 %/yr observed, 13.3 %/yr required) suggest on track, but "
        "the projection's median for the target year,",
        "zh": "增长率（实际每年13.3%，所需每年13.3%）对应“进展顺利”，但目标年份的预测中位数",
    }[language]
    assert expected in body
    for code in ("(forecast)", "（forecast）", "currently_meets", "reason: ", "kind: ",
                 "compound", "reconciliation_reason", "p_unpooled"):  # fmt: skip
        assert code not in body, code


def test_crps_column_has_scores(reports):
    language, pages = reports
    td = pages["brand_value"].td
    model = {"en": "linear trend", "zh": "线性趋势"}[language]
    row = td[td.index(model) : td.index(model) + 4]
    assert re.fullmatch(r"\d[\d,]*(\.\d+)?", row[3]), row  # a score, not a dash


def test_used_means_assessed_and_drawn(reports):
    language, pages = reports
    yes, no = {"en": ("yes", "no"), "zh": ("是", "否")}[language]
    td = pages["high_tech"].td  # target year 2022 observed: 2023 is neither used nor drawn

    # the series table's rows (the vintages table has rows of these years too)
    def used(year: str) -> str:
        return next(td[i + 3] for i, c in enumerate(td) if c == year and td[i + 3] in (yes, no))

    assert used("2022") == yes and used("2023") == no
    td = pages["bases"].td  # no observation up to 2022: the 2024 figure is not used
    assert td[td.index("2024") + 3] == no
    data = {"en": "Data:real", "zh": "数据：真实数据"}[language]
    assert data in re.sub(r"\s+", "", pages["bases"].body)


def test_met_is_not_repeated_as_currently_meets(reports):
    language, pages = reports
    body = pages["high_tech"].body
    summary = body[: body.index({"en": "Projection", "zh": "预测"}[language])]
    assert {"en": "met", "zh": "已达成"}[language] in summary
    assert {"en": "currently meets", "zh": "目前已达到目标"}[language] not in summary


def test_rank_bound_labelled_as_a_rank(reports):
    language, pages = reports
    td = pages["rank"].td
    i = td.index({"en": "rank 11 or lower", "zh": "第11位或更靠后"}[language])
    assert (
        td[i + 1]
        == {"en": "rank bound (this or lower)", "zh": "名次界值（此名次或更靠后）"}[language]
    )
    assert {"en": "lower bound (at least)", "zh": "下限（至少）"}[language] not in td


def test_backtest_reasons_in_words(reports):
    language, pages = reports
    body = pages["brand_value"].body
    assert "common backtest case(s)" not in body and "only 0" not in body
    assert {
        "en": "only 1 backtest case in common with the other models (2 needed), so it gets no "
        "weight",
        "zh": "与其他模型共同的回测案例只有1个（需要2个），因此权重为0",
    }[language] in body


def test_chinese_pages_translate_models_terms_and_notes(reports):
    language, pages = reports
    if language != "zh":
        pytest.skip("Chinese pages only")
    body = pages["brand_value"].body
    for english in ("drift", "loglinear", "holt", "auto", "CRPS", "ILLUSTRATIVE", "不可能（"):
        assert english not in body, english
    assert "漂移模型" in body and "连续分级概率评分" in body and "不太可能" in body
    assert "示意数据：由 data/make_observations.py 生成" in body
    assert "计分卡" in pages["scorecard"].body and "记分卡" not in pages["scorecard"].title
