"""JupyterLab's view of results: Assessment._repr_html_, summary(), plot(), PlanTable."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

import brandstats as bs
from brandstats import format as fmt


@pytest.fixture(scope="module")
def result(observations, targets):
    return bs.assess(observations, targets, "product_brand_value")


class _Page(HTMLParser):
    """The text and the images of an HTML fragment, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.rows = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        self.rows += tag == "tr"

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_an_assessment_shows_its_summary_and_fan_chart(result):
    page = parse(result._repr_html_())
    text = re.sub(r"\s+", " ", "".join(page.text))
    p_met = fmt.probability(result.probability, "en", result.probability_bound)
    assert f"P(met): {p_met} ({fmt.verdict(result.verdict, 'en')})" in text
    assert "ILLUSTRATIVE" in text
    [image] = page.images
    assert image["alt"] == fmt.fan_alt(result, "en")
    png = base64.b64decode(image["src"].removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG")
    assert plt.get_fignums() == []  # the chart's figure is closed


def test_summary_is_the_reports_opening(result):
    from brandstats import results

    zh = result.summary("zh")
    assert zh.startswith(results.heading_markdown(result, "zh"))
    assert results.summary_markdown(result, "zh") in zh
    assert "达成概率" in zh


def test_plot_returns_the_fan_chart(result):
    fig, ax = plt.subplots()
    try:
        assert result.plot(ax=ax) is ax
        assert "P(met)" in ax.get_title(loc="left")
    finally:
        plt.close(fig)


def test_a_plan_table_shows_one_row_per_target(observations, targets):
    table = bs.assess_all(observations, targets)
    page = parse(bs.PlanTable(table, targets)._repr_html_())
    assert page.rows == len(table) + 1  # the header and one row per target
    text = " ".join(page.text)
    names = targets.set_index("indicator").loc[table["indicator"], "name_en"]
    assert all(name in text for name in names)
    bounded = table.loc[table["probability_bound"].notna()].iloc[0]
    assert fmt.probability(bounded["probability"], "en", bounded["probability_bound"]) in text


def test_names_from_files_are_shown_as_text(observations, targets):
    hostile = targets.assign(name_en="<script>alert(1)</script> *x*")
    result = bs.assess(observations, hostile, "product_brand_value")
    html = bs.display.assessment_html(result, chart=False)
    assert "<script>" not in html and "<em>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
