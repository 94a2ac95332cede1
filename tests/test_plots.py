"""Tests of brandstats.plots: artists, not pixels."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from numpy.testing import assert_allclose

from brandstats import plots
from brandstats.errors import BrandstatsError, DataError
from brandstats.plots import OUTLOOK_COLOURS, plot_fan, plot_scorecard

YI = 1e8  # 1 亿元 in yuan

HAS_CJK = plots.cjk_font() is not None
needs_cjk = pytest.mark.skipif(not HAS_CJK, reason="no CJK font installed")


@pytest.fixture(autouse=True)
def no_figure_leaks():
    """Every test closes what it opens; a leaked figure fails the test."""
    assert plt.get_fignums() == [], "a figure was open before the test"
    yield
    leaked = plt.get_fignums()
    plt.close("all")
    assert leaked == [], f"figures left open: {leaked}"


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


@pytest.fixture
def no_cjk(monkeypatch):
    """Pretend no CJK font is installed."""
    monkeypatch.setattr(plots, "cjk_font", lambda: None)


# ---------------------------------------------------------------------------------- data


@pytest.fixture
def money_history() -> pd.DataFrame:
    """Brand value in yuan: reported, a lower bound and the latest year."""
    return pd.DataFrame(
        {
            "year": [2017, 2018, 2019, 2020, 2021],
            "value": [3800 * YI, 4300 * YI, 4900 * YI, 5700 * YI, 6100 * YI],
            "qualifier": ["reported", "reported", "as_of_september", "lower_bound", "reported"],
        }
    )


@pytest.fixture
def money_forecast() -> pd.DataFrame:
    """Two models, 50% and 90% intervals, one target year (2022)."""
    base = {
        "year": [2022],
        "point": [6500 * YI],
        "median": [6500 * YI],
        "lower_50": [6300 * YI],
        "upper_50": [6700 * YI],
        "lower_90": [5900 * YI],
        "upper_90": [7100 * YI],
    }
    auto = pd.DataFrame({"model": ["auto"], **base})
    drift = pd.DataFrame({"model": ["drift"], **{k: v for k, v in base.items()}})
    drift["median"] = 6400 * YI
    return pd.concat([drift, auto], ignore_index=True)


@pytest.fixture
def count_history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2018, 2019, 2020, 2021],
            "value": [2000.0, 2500.0, 3200.0, 3800.0],
            "qualifier": ["illustrative", "illustrative", "reported", "reported"],
        }
    )


@pytest.fixture
def count_forecast() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2022, 2023],
            "model": ["linear", "linear"],
            "point": [4400.0, 5000.0],
            "median": [4450.0, 5050.0],
            "lower_80": [4100.0, 4500.0],
            "upper_80": [4800.0, 5600.0],
            "lower_95": [3900.0, 4200.0],
            "upper_95": [5000.0, 5900.0],
        }
    )


@pytest.fixture
def scorecard() -> pd.DataFrame:
    """Rows deliberately out of group order, with every kind of row."""
    return pd.DataFrame(
        {
            "indicator": [
                "high_tech_enterprises",
                "product_brand_value",
                "industrial_pass_rate",
                "service_satisfaction",
                "product_brand_count",
                "public_service_rank",
            ],
            "region": ["Jinan"] * 6,
            "group": ["enterprise", "product", "quality", "service", "product", "service"],
            "name_en": [
                "Valid high-tech enterprises",
                "Total brand value of the high-end product brands",
                "Industrial product quality pass rate",
                "Service-industry customer satisfaction",
                "Shandong high-end product brands",
                "National rank in public-service quality monitoring",
            ],
            "name_zh": [
                "有效高新技术企业数量",
                "高端产品品牌价值总额",
                "工业产品质量合格率",
                "服务业顾客满意度",
                "山东省高端产品品牌",
                "公共服务质量监测评价全国排名",
            ],
            "probability": [0.73, 0.95, np.nan, 0.2, 1.0, 0.5],
            "verdict": ["likely", "very likely", "n/a", "unlikely", "met", "about as likely"],
            "progress_category": [
                "on track",
                "on track",
                np.nan,
                "insufficient progress",
                "on track",
                "moving away",
            ],
            "illustrative": [False, False, False, True, False, False],
            "met": [np.nan, np.nan, np.nan, np.nan, True, np.nan],
        }
    ).assign(  # the groups' labels, as the shipped targets file gives them
        group_en=lambda d: d["group"].map(GROUP_EN), group_zh=lambda d: d["group"].map(GROUP_ZH)
    )


GROUP_EN = {"product": "Product brands", "service": "Service brands",
            "enterprise": "Enterprises", "quality": "Quality"}  # fmt: skip
GROUP_ZH = {"product": "产品品牌", "service": "服务品牌", "enterprise": "企业", "quality": "质量"}


def fan(history, forecast, **kwargs):
    options = {"target": 6000 * YI, "comparison": ">", "target_year": 2022, "unit": "yuan"}
    return plot_fan(history, forecast, **{**options, **kwargs})


def count_fan(history, forecast, **kwargs):
    """A fan chart of a count target (>= 4,400 by 2022)."""
    return fan(history, forecast, **{"target": 4400, "comparison": ">=", "unit": "count", **kwargs})


@pytest.fixture
def scorecard_ax(ax, scorecard):
    """The axes with the scorecard drawn in English."""
    plot_scorecard(scorecard, ax=ax)
    return ax


def by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def one(ax, gid):
    found = by_gid(ax, gid)
    assert len(found) == 1, f"{len(found)} artists with gid {gid!r}"
    return found[0]


def ytick_texts(ax) -> list[str]:
    """Y tick labels with wrapped lines joined again."""
    return [" ".join(t.get_text().split()) for t in ax.get_yticklabels()]


def vertices(collection) -> set[tuple[float, float]]:
    return {(round(x, 6), round(y, 6)) for x, y in collection.get_paths()[0].vertices}


# ---------------------------------------------------------------------------------- fan chart


def test_fan_returns_the_axes_passed_in(ax, money_history, money_forecast):
    assert fan(money_history, money_forecast, ax=ax) is ax


def test_fan_makes_axes_when_none_given(money_history, money_forecast):
    ax = fan(money_history, money_forecast)
    assert plt.get_fignums() == [ax.figure.number]
    plt.close(ax.figure)


def test_fan_history_points_and_markers_per_qualifier(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    reported = one(ax, "history:reported")
    # as_of_september is drawn like reported
    assert_allclose(reported.get_xdata(), [2017, 2018, 2019, 2021])
    assert_allclose(reported.get_ydata(), [3800, 4300, 4900, 6100])
    assert reported.get_marker() == "o"
    assert reported.get_markerfacecolor() != "none"
    lower = one(ax, "history:lower_bound")
    assert_allclose(lower.get_xdata(), [2020])
    assert_allclose(lower.get_ydata(), [5700])
    assert lower.get_marker() == "^"
    arrow = one(ax, "lower_bound_arrow")
    assert arrow.get_text() == "at least"
    assert arrow.xy == (2020.0, 5700.0)
    assert by_gid(ax, "history:illustrative") == []


def test_fan_illustrative_points_are_hollow_and_grey(ax, count_history, count_forecast):
    count_fan(count_history, count_forecast, ax=ax)
    points = one(ax, "history:illustrative")
    assert_allclose(points.get_xdata(), [2018, 2019])
    assert points.get_marker() == "o"
    assert points.get_markerfacecolor() == "none"
    assert to_hex(points.get_markeredgecolor()) != to_hex(
        one(ax, "history:reported").get_markeredgecolor()
    )


def test_fan_bands_match_forecast_columns_in_display_units(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    band50, band90 = one(ax, "interval:50"), one(ax, "interval:90")
    assert band50.get_label() == "50 % interval"
    assert band90.get_label() == "90 % interval"
    # the 'auto' model's 2022 bounds, in 亿元, anchored at the last observation (2021, 6100)
    assert {(2022.0, 6300.0), (2022.0, 6700.0), (2021.0, 6100.0)} <= vertices(band50)
    assert {(2022.0, 5900.0), (2022.0, 7100.0), (2021.0, 6100.0)} <= vertices(band90)
    assert band50.get_alpha() > band90.get_alpha()  # 50% darker than 90%


def test_fan_detects_any_interval_levels(ax, count_history, count_forecast):
    count_fan(count_history, count_forecast, ax=ax)
    assert by_gid(ax, "interval:50") == by_gid(ax, "interval:90") == []
    band80 = one(ax, "interval:80")
    assert {(2022.0, 4100.0), (2023.0, 5600.0)} <= vertices(band80)
    assert one(ax, "interval:95").get_label() == "95 % interval"


def test_fan_median_joins_last_observation(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    median = one(ax, "median")
    assert_allclose(median.get_xdata(), [2021, 2022])
    assert_allclose(median.get_ydata(), [6100, 6500])  # auto's median, not drift's


def test_fan_model_argument_selects_the_model(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax, model="drift")
    assert_allclose(one(ax, "median").get_ydata(), [6100, 6400])
    assert "drift" in one(ax, "median").get_label()


def test_fan_first_model_when_no_auto(ax, money_history, money_forecast):
    fan(money_history, money_forecast[money_forecast["model"] != "auto"], ax=ax)
    assert_allclose(one(ax, "median").get_ydata()[-1], 6400)


def test_fan_unknown_model_is_an_error(ax, money_history, money_forecast):
    with pytest.raises(BrandstatsError, match=r"model 'holt' is not in the forecast.*auto"):
        fan(money_history, money_forecast, ax=ax, model="holt")


def test_fan_target_line_and_marker(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    line = one(ax, "target_line")
    assert_allclose(line.get_ydata(), [6000, 6000])
    assert line.get_linestyle() == "--"
    assert line.get_label() == "target > 6,000 亿元 by 2022"
    marker = one(ax, "target_marker")
    assert_allclose(marker.get_xydata(), [[2022, 6000]])


def test_fan_target_label_uses_symbol_and_thousands(ax, count_history, count_forecast):
    count_fan(count_history, count_forecast, ax=ax)
    assert one(ax, "target_line").get_label() == "target ≥ 4,400 by 2022"
    assert_allclose(one(ax, "target_line").get_ydata(), [4400, 4400])


def test_fan_title_shows_probability_and_verdict(ax, money_history, money_forecast):
    fan(
        money_history,
        money_forecast,
        ax=ax,
        title="Total brand value",
        probability=0.734,
        verdict="likely",
    )
    title = ax.get_title(loc="left")
    assert title.splitlines()[0] == "Total brand value"
    assert "P(met) = 73 % — likely" in title


@pytest.mark.parametrize(
    ("p", "shown"),
    [(0.0, "<1 %"), (0.001, "<1 %"), (0.5, "50 %"), (0.999, ">99 %"), (1.0, ">99 %")],
)
def test_fan_probability_never_rounds_to_false_certainty(
    ax, money_history, money_forecast, p, shown
):
    fan(money_history, money_forecast, ax=ax, probability=p)
    assert f"P(met) = {shown}" in ax.get_title(loc="left")


def test_fan_title_without_probability(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    assert "P(met)" not in ax.get_title(loc="left")


def test_fan_axis_labels_and_integer_year_ticks(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    assert ax.get_ylabel() == "100 million yuan (亿元)"
    assert ax.get_xlabel() == "year"
    ax.figure.canvas.draw()
    ticks = ax.get_xticks()
    assert_allclose(ticks, np.round(ticks))


def test_fan_legend_entries(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "observed",
        "observed (lower bound: at least)",
        "projection median",
        "50 % interval",
        "90 % interval",
        "target > 6,000 亿元 by 2022",
    ]


def test_fan_no_illustrative_note_for_real_data(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    assert by_gid(ax, "illustrative_note") == []


def test_fan_illustrative_note_when_a_row_is_illustrative(ax, count_history, count_forecast):
    count_fan(count_history, count_forecast, ax=ax)
    note = one(ax, "illustrative_note")
    assert note.get_text() == "ILLUSTRATIVE DATA — not real figures"
    assert note.get_visible()


def test_fan_illustrative_note_when_asked(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax, illustrative=True)
    assert one(ax, "illustrative_note").get_text().startswith("ILLUSTRATIVE DATA")


def test_fan_illustrative_false_cannot_hide_illustrative_rows(ax, count_history, count_forecast):
    fan(
        count_history,
        count_forecast,
        ax=ax,
        target=4400,
        comparison=">=",
        unit="count",
        illustrative=False,
    )
    assert len(by_gid(ax, "illustrative_note")) == 1


def test_fan_rank_has_best_at_top(ax):
    history = pd.DataFrame({"year": [2019, 2020, 2021], "value": [18.0, 15.0, 12.0]})
    forecast = pd.DataFrame({"year": [2022], "median": [10.0], "lower_90": [6], "upper_90": [14]})
    fan(history, forecast, ax=ax, target=10, comparison="<=", unit="rank")
    assert ax.yaxis_inverted()
    assert one(ax, "target_line").get_label() == "target ≤ rank 10 by 2022"


def test_fan_without_target_or_qualifier(ax):
    history = pd.DataFrame({"year": [2020, 2021], "value": [1.0, 2.0]})
    forecast = pd.DataFrame({"year": [2022], "point": [3.0]})
    fan(history, forecast, ax=ax, target=None, target_year=None, unit="count")
    assert by_gid(ax, "target_line") == []
    assert_allclose(one(ax, "history:reported").get_xdata(), [2020, 2021])
    assert_allclose(one(ax, "median").get_ydata(), [2.0, 3.0])


def test_fan_missing_column_names_the_table(ax, money_forecast):
    with pytest.raises(DataError, match=r"<history>.*columns value"):
        fan(pd.DataFrame({"year": [2020]}), money_forecast, ax=ax)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"comparison": "about"}, "comparison must be one of"),
        ({"language": "fr"}, "language must be one of"),
        ({"probability": 1.5}, r"probability must lie in \[0, 1\]"),
    ],
)
def test_fan_checks_options(ax, money_history, money_forecast, kwargs, message):
    with pytest.raises(BrandstatsError, match=message):
        fan(money_history, money_forecast, ax=ax, **kwargs)


def test_fan_draws_without_missing_glyph_warnings(ax, money_history, money_forecast):
    # filterwarnings=error turns matplotlib's "Glyph ... missing" warning into a failure
    fan(money_history, money_forecast, ax=ax, probability=0.8, verdict="likely")
    ax.figure.canvas.draw()


def test_fan_leaves_global_rcparams_alone(money_history, money_forecast):
    before = dict(matplotlib.rcParams)
    ax = fan(money_history, money_forecast)
    plt.close(ax.figure)
    assert dict(matplotlib.rcParams) == before


# ---------------------------------------------------------------------------------- scorecard


def bars(ax):
    return [p for p in ax.patches if str(p.get_gid()).startswith("bar:")]


def test_scorecard_returns_the_axes_passed_in(ax, scorecard):
    assert plot_scorecard(scorecard, ax=ax) is ax


def test_scorecard_one_bar_per_row_width_is_probability(scorecard_ax, scorecard):
    ax = scorecard_ax
    found = {p.get_gid(): p.get_width() for p in bars(ax)}
    expected = {
        f"bar:{i}": p for i, p in zip(scorecard.indicator, scorecard.probability, strict=True)
    }
    assert found.keys() == expected.keys()
    for gid, p in expected.items():
        assert found[gid] == pytest.approx(0.0 if math.isnan(p) else p)


def headings(ax) -> list[str]:
    """The scorecard's group headings: the y labels without a bar."""
    rows = {round(p.get_y() + p.get_height() / 2, 6) for p in bars(ax)}
    ticks = zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)
    return [t.get_text() for y, t in ticks if round(y, 6) not in rows]


def test_scorecard_groups_in_the_order_the_table_names_them(scorecard_ax):
    ax = scorecard_ax
    assert ax.yaxis_inverted()
    top_down = [p.get_gid().removeprefix("bar:") for p in sorted(bars(ax), key=lambda p: p.get_y())]
    assert top_down == [
        "high_tech_enterprises",
        "product_brand_value",
        "product_brand_count",
        "industrial_pass_rate",
        "service_satisfaction",
        "public_service_rank",
    ]
    assert headings(ax) == ["Enterprises", "Product brands", "Quality", "Service brands"]
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == headings(ax)
    assert len(by_gid(ax, "group_separator")) == 3


@needs_cjk
@pytest.mark.parametrize(
    ("language", "expected"), [("en", ["科技创新", "Quality", "Context"]),
                               ("zh", ["科技创新", "质量", "背景指标"])],
)  # fmt: skip
def test_scorecard_groups_are_free_text_with_labels_in_each_language(ax, language, expected):
    """A plan's own group is shown as written; a label in the language, when given, instead;
    ``context`` (indicators without a target) in words."""
    card = pd.DataFrame(
        {"indicator": ["创新型企业数量", "pass_rate", "unicorns"],
         "group": ["科技创新", "quality", "context"], "group_en": ["", "Quality", ""],
         "group_zh": ["", "质量", ""], "probability": [0.2, 0.9, np.nan]}
    )  # fmt: skip
    plot_scorecard(card, language=language, ax=ax)
    assert headings(ax) == expected
    ax.figure.canvas.draw()  # every glyph drawn: a missing one warns, an error in the tests


@needs_cjk
def test_zh_scorecard_names_regions_in_chinese(ax, scorecard):
    """Several regions: each row names its region, in Chinese in a Chinese chart (regions.csv:
    Jinan is 济南), a region without a Chinese name as written."""
    card = pd.concat([scorecard, scorecard.assign(region="样例市")], ignore_index=True)
    plot_scorecard(card, language="zh", ax=ax)
    labels = ytick_texts(ax)
    assert "有效高新技术企业数量（济南）" in labels and "有效高新技术企业数量（样例市）" in labels
    assert not any("Jinan" in label for label in labels)


def test_scorecard_colour_follows_the_probability_not_the_category(scorecard_ax):
    """Colour and length encode P(met) alike; an "on track" bar at 20 % is never dark blue."""
    ax = scorecard_ax
    colour = {p.get_gid(): to_hex(p.get_facecolor()) for p in bars(ax)}
    assert colour["bar:high_tech_enterprises"] == OUTLOOK_COLOURS["likely"].lower()  # 0.73
    assert colour["bar:service_satisfaction"] == OUTLOOK_COLOURS["unlikely"].lower()  # 0.2
    assert colour["bar:public_service_rank"] == OUTLOOK_COLOURS["even"].lower()  # 0.5
    assert colour["bar:product_brand_count"] == OUTLOOK_COLOURS["met"].lower()
    assert colour["bar:industrial_pass_rate"] not in {c.lower() for c in OUTLOOK_COLOURS.values()}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "likely (P(met) ≥ 66 %)" in legend and "no probability" in legend
    values = {t.get_gid(): t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("v")}
    assert values["value:service_satisfaction"] == "20 % · insufficient progress"
    assert values["value:product_brand_count"] == "met"


def test_scorecard_half_line(scorecard_ax):
    ax = scorecard_ax
    assert_allclose(one(ax, "half_line").get_xdata(), [0.5, 0.5])


def test_scorecard_value_texts(scorecard_ax):
    ax = scorecard_ax
    text = {t.get_gid().removeprefix("value:"): t.get_text() for t in ax.texts if t.get_gid()}
    assert text["high_tech_enterprises"] == "73 % · on track"
    assert text["industrial_pass_rate"] == "no probability"
    assert text["product_brand_count"] == "met"
    assert text["public_service_rank"] == "50 % · moving away"


def test_scorecard_not_met(ax, scorecard):
    card = scorecard.assign(met=[np.nan, False, np.nan, np.nan, True, np.nan])
    plot_scorecard(card, ax=ax)
    assert one(ax, "value:product_brand_value").get_text() == "not met"


def test_scorecard_names_and_illustrative_marking(scorecard_ax):
    ax = scorecard_ax
    labels = ytick_texts(ax)
    assert "Valid high-tech enterprises" in labels
    assert "Service-industry customer satisfaction (illustrative)" in labels
    hatches = {p.get_gid(): p.get_hatch() for p in bars(ax)}
    assert hatches.pop("bar:service_satisfaction") == "//"
    assert set(hatches.values()) == {None}
    note = one(ax, "illustrative_note")
    assert "illustrative" in note.get_text()


def test_scorecard_no_note_without_illustrative_rows(ax, scorecard):
    plot_scorecard(scorecard.assign(illustrative=False), ax=ax)
    assert by_gid(ax, "illustrative_note") == []
    assert all(p.get_hatch() is None for p in bars(ax))


def test_scorecard_minimal_columns(ax):
    card = pd.DataFrame(
        {"indicator": ["a", "b"], "group": ["quality", "product"], "probability": [0.1, 0.9]}
    )
    plot_scorecard(card, ax=ax)  # groups as the table names them: no plan's order assumed
    assert [p.get_gid() for p in sorted(bars(ax), key=lambda p: p.get_y())] == ["bar:a", "bar:b"]


def test_scorecard_several_regions_are_named(ax, scorecard):
    card = pd.concat([scorecard, scorecard.assign(region="Qingdao")], ignore_index=True)
    plot_scorecard(card, ax=ax)
    assert len(bars(ax)) == 12
    assert len(by_gid(ax, "bar:high_tech_enterprises:Qingdao")) == 1
    assert "Valid high-tech enterprises (Qingdao)" in ytick_texts(ax)


def test_scorecard_rejects_probabilities_outside_0_1(ax, scorecard):
    card = scorecard.assign(probability=[0.1, 0.2, 1.3, 0.4, 0.5, 0.6])
    with pytest.raises(DataError, match=r"row 4, column 'probability': got '1.3'"):
        plot_scorecard(card, ax=ax)


def test_scorecard_makes_axes_and_draws_cleanly(scorecard):
    before = dict(matplotlib.rcParams)
    ax = plot_scorecard(scorecard)
    ax.figure.canvas.draw()
    plt.close(ax.figure)
    assert dict(matplotlib.rcParams) == before


@needs_cjk
@pytest.mark.parametrize("language", ["en", "zh"])
def test_bold_text_logs_no_findfont_warning(
    caplog, money_history, money_forecast, scorecard, language
):
    # a notebook shows matplotlib's 'findfont: Failed to find font weight bold' log as stderr
    card = scorecard.assign(illustrative=True)
    for ax in (
        fan(money_history, money_forecast, illustrative=True, language=language),
        plot_scorecard(card, language=language),
    ):
        with caplog.at_level("WARNING", logger="matplotlib.font_manager"):
            ax.figure.canvas.draw()
        plt.close(ax.figure)
    assert [r.getMessage() for r in caplog.records] == []


# ---------------------------------------------------------------------------------- language


def test_zh_without_cjk_font_warns_and_falls_back_to_english(
    no_cjk, ax, money_history, money_forecast
):
    with pytest.warns(UserWarning, match="no CJK font"):
        fan(money_history, money_forecast, ax=ax, probability=0.73, verdict="likely", language="zh")
    assert "P(met) = 73 % — likely" in ax.get_title(loc="left")
    assert one(ax, "interval:90").get_label() == "90 % interval"
    assert ax.get_ylabel() == "100 million yuan"  # 亿元 left out: no font draws it
    ax.figure.canvas.draw()  # and no empty boxes (no missing-glyph warning)


def test_zh_scorecard_without_cjk_font_uses_english_names(no_cjk, ax, scorecard):
    with pytest.warns(UserWarning, match="falling back to English"):
        plot_scorecard(scorecard, language="zh", ax=ax)
    assert "Valid high-tech enterprises" in ytick_texts(ax)
    ax.figure.canvas.draw()


def test_chinese_title_without_font_warns_and_drops_glyphs(
    no_cjk, ax, money_history, money_forecast
):
    with pytest.warns(UserWarning, match="left out of the labels"):
        fan(money_history, money_forecast, ax=ax, title="Brand value 品牌价值")
    assert ax.get_title(loc="left").splitlines()[0] == "Brand value"
    ax.figure.canvas.draw()


def test_cjk_font_draws_chinese_checked_independently():
    """The chosen font's own cmap (read with fontTools, not matplotlib) has the report's text."""
    from fontTools.ttLib import TTFont

    name = plots.cjk_font()
    assert name is not None, "the mplfonts dependency ships a CJK font"
    path = matplotlib.font_manager.findfont(
        matplotlib.font_manager.FontProperties(family=[name]), fallback_to_default=False
    )
    cmap = TTFont(path, fontNumber=getattr(path, "face_index", 0)).getBestCmap()
    text = "济南高端品牌价值总额达成概率几乎确定很可能或许可能特别不可能进展顺利偏离目标亿元家第位"
    assert [c for c in text if ord(c) not in cmap] == []


@needs_cjk
def test_zh_fan_with_font_uses_chinese(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax, probability=0.73, verdict="likely", language="zh")
    assert "达成概率 = 73% — 可能" in ax.get_title(loc="left")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "观测值"
    assert {"中位数预测", "50%区间", "90%区间"} <= set(labels)
    assert one(ax, "target_line").get_label() == "目标 2022年 > 6,000亿元"
    assert ax.get_ylabel() == "亿元"
    assert plots.cjk_font() in ax.get_legend().get_texts()[0].get_fontfamily()
    ax.figure.canvas.draw()


@needs_cjk
def test_zh_scorecard_with_font_uses_chinese(ax, scorecard):
    plot_scorecard(scorecard, language="zh", ax=ax)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "有效高新技术企业数量" in labels
    assert "服务业顾客满意度（示意）" in labels
    assert one(ax, "illustrative_note").get_text().startswith("斜线条形")
    ax.figure.canvas.draw()


@needs_cjk
def test_zh_illustrative_note_with_font(ax, count_history, count_forecast):
    fan(
        count_history,
        count_forecast,
        ax=ax,
        target=4400,
        comparison=">=",
        unit="count",
        language="zh",
    )
    assert one(ax, "illustrative_note").get_text() == "示意数据，非真实数值"


@needs_cjk
def test_english_with_font_keeps_yi_yuan(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    assert ax.get_ylabel() == "100 million yuan (亿元)"
    ax.figure.canvas.draw()


def test_scorecard_accepts_nullable_dtypes(ax, scorecard):
    card = scorecard.astype(
        {"probability": "Float64", "met": "boolean", "illustrative": "boolean"}
    ).assign(progress_category=lambda d: d["progress_category"].astype("string"))
    card.loc[0, "illustrative"] = pd.NA
    plot_scorecard(card, ax=ax)
    assert one(ax, "value:industrial_pass_rate").get_text() == "no probability"
    assert one(ax, "value:product_brand_count").get_text() == "met"
    assert one(ax, "bar:high_tech_enterprises").get_hatch() is None


def test_scorecard_tells_vintages_apart(ax, scorecard):
    latest = scorecard.assign(as_of=np.nan)
    vintage = scorecard.assign(as_of=2020.0)
    plot_scorecard(pd.concat([latest, vintage], ignore_index=True), ax=ax)
    gids = {p.get_gid() for p in bars(ax)}
    assert len(gids) == 12
    assert {"bar:high_tech_enterprises:all", "bar:high_tech_enterprises:2020"} <= gids
    labels = ytick_texts(ax)
    assert "Valid high-tech enterprises (all data)" in labels
    assert "Valid high-tech enterprises (as of 2020)" in labels


def test_scorecard_from_result_records(ax):
    """Rows as brandstats.results.read_results builds them from JSON (None for missing)."""
    card = pd.DataFrame(
        {
            "group": ["product", "enterprise"],
            "indicator": ["product_brand_value", "high_tech_enterprises"],
            "region": ["Jinan", "Jinan"],
            "name_en": ["Total brand value", "Valid high-tech enterprises"],
            "name_zh": ["品牌价值总额", "有效高新技术企业数量"],
            "as_of": [None, None],
            "probability": [None, 0.8],
            "progress_category": [None, "on track"],
            "illustrative": [None, True],
            "met": [None, None],
            "reason": ["too few observations", None],
            "run_name": ["product_brand_value-Jinan", "high_tech_enterprises-Jinan"],
        }
    )
    plot_scorecard(card, ax=ax)
    assert one(ax, "value:product_brand_value").get_text() == "no probability"
    assert one(ax, "bar:high_tech_enterprises").get_width() == pytest.approx(0.8)
    assert one(ax, "bar:high_tech_enterprises").get_hatch() == "//"


def test_fan_draws_the_required_path_from_the_last_observation(ax, money_history, money_forecast):
    # from 6,100 亿元 (2021) to the target: years as JSON writes them (text keys)
    fan(money_history, money_forecast, ax=ax, required_path={"2022": 6000 * YI})
    path = one(ax, "required_path")
    assert_allclose(path.get_xdata(), [2021, 2022])
    assert_allclose(path.get_ydata(), [6100, 6000])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "required path (constant growth)" in labels


def test_fan_without_required_path_draws_none(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax)
    assert by_gid(ax, "required_path") == []


def test_fan_draws_a_vintages_actual_outcome(ax, money_history, money_forecast):
    fan(money_history, money_forecast, ax=ax, actual=6800 * YI)
    star = one(ax, "actual")
    assert_allclose(star.get_xydata(), [[2022, 6800]])
    assert star.get_label() == "actual 2022: 6,800 亿元"


def test_count_fan_actual_lower_bound_in_chinese(ax, count_history, count_forecast):
    count_fan(count_history, count_forecast, ax=ax, actual=5700, actual_qualifier="lower_bound",
              indicator="high_tech_enterprises", language="zh")  # fmt: skip
    assert one(ax, "actual").get_label() == "2022年实际值：至少5,700家"
    assert one(ax, "target_line").get_label() == "目标 2022年 ≥ 4,400家"


def test_rank_bound_points_to_worse_places(ax):
    """Rank 11 or lower (not in the top ten): drawn as a downward bound on the inverted axis."""
    history = pd.DataFrame(
        {"year": [2019, 2020], "value": [18.0, 11.0], "qualifier": ["reported", "lower_bound"]}
    )
    forecast = pd.DataFrame({"year": [2022], "median": [9.0]})
    fan(history, forecast, ax=ax, target=10, comparison="<=", unit="rank")
    assert ax.yaxis_inverted()
    bound = one(ax, "history:lower_bound")
    assert bound.get_marker() == "v"
    assert bound.get_label() == "observed (rank bound: this or lower)"
    assert one(ax, "lower_bound_arrow").get_text() == "or lower"


def test_scorecard_names_a_lone_vintage(ax, scorecard):
    plot_scorecard(scorecard.assign(as_of=[np.nan, np.nan, np.nan, np.nan, np.nan, 2019.0]), ax=ax)
    labels = ytick_texts(ax)
    assert "National rank in public-service quality monitoring (as of 2019)" in labels
    assert "Valid high-tech enterprises" in labels  # the others carry no vintage


def test_fan_title_lines_do_not_touch(ax, money_history, money_forecast):
    # Chinese glyphs fill their line: at matplotlib's default 1.2 line spacing the indicator
    # line and the P(met) line touch; the two-line title must be at least 2.4 lines tall
    fan(money_history, money_forecast, ax=ax, title="高端产品品牌价值总额", probability=0.2)
    text = ax.get_title(loc="left")
    title = next(
        t for t in ax.get_children() if getattr(t, "get_text", None) and t.get_text() == text
    )
    one_line = ax.text(0, 0, text.splitlines()[0], fontsize=title.get_fontsize(),
                       fontfamily=title.get_fontfamily())  # fmt: skip
    renderer = ax.figure.canvas.get_renderer()
    two = title.get_window_extent(renderer).height
    assert two >= 2.4 * one_line.get_window_extent(renderer).height


def test_a_met_target_without_a_probability_has_a_full_bar(ax, scorecard):
    card = scorecard.assign(
        probability=[np.nan, 0.95, np.nan, 0.2, 1.0, 0.5],
        met=[True, np.nan, np.nan, np.nan, True, np.nan],
        verdict=["met", "very likely", "n/a", "unlikely", "met", "about as likely"],
    )
    plot_scorecard(card, ax=ax)
    bar = one(ax, "bar:high_tech_enterprises")
    assert bar.get_width() == 1.0  # the outcome: met, colour and length agree
    assert to_hex(bar.get_facecolor()) == OUTLOOK_COLOURS["met"].lower()
    assert one(ax, "bar:industrial_pass_rate").get_width() == 0.0  # no probability, no outcome


@pytest.mark.parametrize(("language", "words"), [("en", "no probability"), ("zh", "无法估计概率")])
def test_a_vintage_without_a_probability_is_said_not_drawn_at_zero(ax, language, words):
    vintages = [
        {"as_of": 2016, "probability": None, "verdict": "no probability"},
        {"as_of": 2017, "probability": 0.31, "verdict": "unlikely"},
        {"as_of": 2018, "probability": 0.1, "verdict": "unlikely"},
    ]
    plots.plot_vintages(vintages, language=language, ax=ax)
    [said] = [t for t in ax.texts if t.get_gid() == "vintage:2016"]
    assert said.get_text() == words
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert sorted(points[:, 0].tolist()) == [2017, 2018]  # no dot at 0 % for 2016
    assert_allclose(sorted(points[:, 1].tolist()), [0.1, 0.31])


@pytest.mark.parametrize("language", ["en", "zh"])
def test_vintages_without_any_probability_keep_their_years_on_the_axis(language):
    """Only words drawn (no point): the axis still spans the years, labelled 2019 and 2020,
    not matplotlib's default 0-1 with an offset of +2.02e3; the words stay inside the axes."""
    vintages = [{"as_of": y, "probability": None, "verdict": None} for y in (2019, 2020)]
    ax = plots.plot_vintages(vintages, language=language)
    fig = ax.figure
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2019", "2020"]
    assert ax.xaxis.get_offset_text().get_text() == ""
    inside = ax.get_window_extent()
    for text in ax.texts:
        box = text.get_window_extent()
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, text.get_text()
    plt.close(fig)
