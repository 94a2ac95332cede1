"""format: every number, unit, probability, verdict and sentence as people should read them.

Expectations are written by hand from the conventions in the module docstring (and, for the
Chinese verdicts, the Chinese edition of the IPCC AR5 Summary for Policymakers).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from brandstats import format as fmt
from brandstats.attainment import Progress
from brandstats.errors import BrandstatsError


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (4397, "4,397"),
        (4397.0, "4,397"),
        (95.06, "95.06"),
        (0.20438417469048464, "0.2044"),
        (1.603304e10, "16,033,040,000"),
        (1603.3, "1,603"),
        (12.25, "12.25"),
        (0.5, "0.5"),
        (0, "0"),
        (-3.5, "-3.5"),
        (None, "–"),
        (math.nan, "–"),
        (pd.NA, "–"),
    ],
)
def test_number(value, shown):
    assert fmt.number(value) == shown


@pytest.mark.parametrize(
    ("value", "unit", "language", "kw", "shown"),
    [
        (6e11, "yuan", "en", {}, "6,000 亿元"),
        (6e11, "yuan", "zh", {}, "6,000亿元"),
        (5.3e11, "yuan", "en", {}, "5,300 亿元"),
        (88, "percent", "en", {}, "88 %"),
        (95.06, "percent", "zh", {}, "95.06%"),
        (4397, "count", "en", {}, "4,397"),
        (4397, "count", "zh", {"indicator": "high_tech_enterprises"}, "4,397家"),
        (300, "count", "zh", {"indicator": "product_brand_count"}, "300个"),
        (18, "rank", "en", {}, "rank 18"),
        (18, "rank", "zh", {}, "第18位"),
        (11, "rank", "en", {"qualifier": "lower_bound"}, "rank 11 or lower"),
        (11, "rank", "zh", {"qualifier": "lower_bound"}, "第11位或更靠后"),
        (5700, "count", "en", {"qualifier": "lower_bound"}, "at least 5,700"),
        (5700, "count", "zh", {"qualifier": "lower_bound", "indicator": "x_firms"}, "至少5,700家"),
        (96, "percent", "en", {"qualifier": "upper_bound"}, "at most 96 %"),
        (None, "yuan", "en", {}, "–"),
        (math.nan, "percent", "zh", {}, "–"),
    ],
)
def test_quantity_in_display_units(value, unit, language, kw, shown):
    assert fmt.quantity(value, unit, language, **kw) == shown


@pytest.mark.parametrize(
    ("p", "en", "zh"),
    [
        (0.7349, "73 %", "73%"),
        (0.5, "50 %", "50%"),
        (0.99, "99 %", "99%"),
        (0.995, ">99 %", ">99%"),
        (0.996, ">99 %", ">99%"),
        (1.0, ">99 %", ">99%"),
        (0.01, "1 %", "1%"),
        (0.005, "<1 %", "<1%"),
        (0.0, "<1 %", "<1%"),
        (0.02, "2 %", "2%"),
        (None, "–", "–"),
        (math.nan, "–", "–"),
    ],
)
def test_probability_whole_percents(p, en, zh):
    assert fmt.probability(p, "en") == en
    assert fmt.probability(p, "zh") == zh


def test_probability_never_prints_0_or_100():
    shown = {fmt.probability(i / 10000) for i in range(10001)}
    assert "0 %" not in shown and "100 %" not in shown
    assert len(shown) == 99 + 2  # 1 % ... 99 %, and the two ends


def test_probability_outside_0_1_is_an_error():
    with pytest.raises(BrandstatsError, match=r"probability must lie in \[0, 1\]"):
        fmt.probability(1.2)


# IPCC AR5 likelihood terms and the Chinese SPM's terms
@pytest.mark.parametrize(
    ("term", "zh"),
    [
        ("virtually certain", "几乎确定"),
        ("very likely", "很可能"),
        ("likely", "可能"),
        ("about as likely as not", "或许可能"),
        ("extremely likely", "极有可能"),
        ("unlikely", "不太可能"),  # not 不可能 ("impossible")
        ("very unlikely", "很不可能"),
        ("extremely unlikely", "极不可能"),
        ("exceptionally unlikely", "几乎不可能"),
        ("met", "已达成"),
        ("not met", "未达成"),
    ],
)
def test_verdicts_in_both_languages(term, zh):
    assert fmt.verdict(term, "en") == term
    assert fmt.verdict(term, "zh") == zh


def test_missing_verdict_and_category():
    assert fmt.verdict(None) == "–"
    assert fmt.category(None) == "not assessed"
    assert fmt.category(math.nan, "zh") == "未评估"


@pytest.mark.parametrize(
    ("category", "zh"),
    [
        ("on track", "进展顺利"),
        ("moderate progress", "有一定进展"),
        ("insufficient progress", "进展不足"),
        ("moving away", "偏离目标"),
    ],
)
def test_progress_categories(category, zh):
    assert fmt.category(category) == category
    assert fmt.category(category, "zh") == zh


def test_target_phrases():
    assert fmt.target(">=", 4400, "count", 2022) == "≥ 4,400 by 2022"
    assert fmt.target(">=", 4400, "count", 2022, "zh", indicator="high_tech_enterprises") == (
        "2022年 ≥ 4,400家"
    )
    assert fmt.target(">", 6e11, "yuan", 2022) == "> 6,000 亿元 by 2022"
    assert fmt.target("<=", 10, "rank", 2022, "zh") == "2022年 ≤ 第10位"
    with pytest.raises(BrandstatsError, match="comparison must be one of"):
        fmt.target("about", 1, "count", 2022)


def test_growth_rates():
    assert fmt.growth(0.1326) == "13.3 %/yr"
    assert fmt.growth(0.1326, language="zh") == "每年13.3%"
    assert fmt.growth(250, "absolute", unit="count") == "250 per year"
    assert fmt.growth(2.5e10, "absolute", "zh", unit="yuan") == "每年250亿元"
    assert fmt.growth(math.nan) == "–"
    # a rate still needed is never shown as 0: one significant digit below 0.05 %/yr
    assert fmt.growth(0.0001) == "0.01 %/yr"
    assert fmt.growth(-0.00034, language="zh") == "每年-0.03%"
    assert fmt.growth(0.0) == "0 %/yr"
    assert fmt.growth(0.3, "absolute", unit="count") == "0.3 per year"


def test_rank_bounds_read_as_ranks():
    assert fmt.qualifier("lower_bound", unit="rank") == "rank bound (this or lower)"
    assert fmt.qualifier("lower_bound", "zh", unit="rank") == "名次界值（此名次或更靠后）"
    assert fmt.qualifier("lower_bound", unit="count") == "lower bound (at least)"


def test_model_names_in_chinese():
    assert [fmt.model_name(m, "zh") for m in ("auto", "drift", "linear", "loglinear", "holt")] == [
        "自动组合（按回测表现加权）", "漂移模型", "线性趋势", "对数线性趋势", "霍尔特线性趋势"
    ]  # fmt: skip
    assert fmt.word("weight", "zh") == "在自动组合中的权重"
    assert "CRPS" not in fmt.word("crps", "zh", unit="亿元")
    assert fmt.word("scorecard_title", "zh") == "计分卡"
    assert fmt.word("scorecard", "zh").startswith("计分卡")


def test_backtest_reasons_read_in_words():
    reason = "holt not backtested: only 0 common backtest case(s) with it (needs 2); weight 0"
    assert fmt.note(reason) == (
        "holt not backtested: no backtest case in common with the other models (2 needed), "
        "so it gets no weight"
    )
    assert fmt.note(reason, "zh") == (
        "霍尔特线性趋势未回测：与其他模型没有共同的回测案例（需要2个），因此权重为0"
    )
    assert fmt.note("only 1 common backtest case(s) with it (needs 2); equal weights") == (
        "only 1 backtest case in common with the other models (2 needed), so the models are "
        "weighted equally"
    )


def test_illustrative_source_note_in_chinese():
    source = ("ILLUSTRATIVE: generated by data/make_observations.py (seed 20201023); not a real "
              "figure - replace with published data")  # fmt: skip
    assert fmt.note(source, "zh") == (
        "示意数据：由 data/make_observations.py 生成（随机种子 20201023），并非真实数值，"
        "请替换为公布数据"
    )


def test_reconciliation_never_names_a_code():
    odd = {"reason": "some_new_code"}
    for language in ("en", "zh"):
        text = fmt.reconciliation(odd, language, category_name="on track", p=0.3)
        assert "some_new_code" not in text and "(" + "some" not in text
    assert fmt.reconciliation_reason("slowed", "zh") == "近期增长放缓"
    assert fmt.reconciliation_reason("forecast") == (
        "the projection crosses the target the other way"
    )


def test_unknown_language_is_an_error():
    with pytest.raises(BrandstatsError, match="language must be one of"):
        fmt.number(1) and fmt.quantity(1, "count", "fr")


def test_notes_translated_to_chinese():
    note = (
        "no model can be fitted: drift needs at least 3 observations, got 2; "
        "holt needs at least 6 observations, got 2"
    )
    assert fmt.note(note, "zh") == (
        "没有可拟合的模型：漂移模型至少需要3个观测值，现有2个；霍尔特线性趋势至少需要6个观测值，现有2个"
    )
    assert fmt.note(note, "en") == note
    assert fmt.note("the target year 2022 is observed", "zh") == "目标年份2022年已有观测值"
    assert fmt.note("something new happened", "zh") == "something new happened（英文）"
    assert fmt.note(None) == "–"


def test_reconciliation_sentences():
    record = {"reason": "slowed", "since": 2019, "recent_growth": 0.02, "required_growth": 0.081}
    en = fmt.reconciliation(record, "en", category_name="on track", p=0.12)
    assert en == (
        "Progress since the base year counts as on track, but growth has slowed since 2019 "
        "to 2 %/yr, below the 8.1 %/yr still needed, so the projection gives 12 %."
    )
    zh = fmt.reconciliation(record, "zh", category_name="on track", p=0.12)
    assert zh == (
        "自基期以来的进展评价为“进展顺利”，但自2019年以来增长放缓至每年2%，低于仍需的每年8.1%，"
        "因此预测的达成概率为12%。"
    )
    generic = fmt.reconciliation({"reason": "new_code"}, "en", category_name="on track", p=0.3)
    assert "new_code" not in generic and "on track" in generic and "30 %" in generic
    assert fmt.reconciliation(None) is None


# ----------------------------------------------------------------------------- describe


class _Result:
    """Just the fields describe() reads, as an Assessment has them."""

    def __init__(self, **kw):
        defaults = {
            "indicator": "high_tech_enterprises", "region": "Jinan", "target": 4400.0,
            "comparison": ">=", "target_year": 2022, "unit": "count", "as_of": None,
            "last_year": 2021, "last_value": 4397.0, "probability": 0.996,
            "verdict": "virtually certain", "reason": None, "progress": None,
            "illustrative": False, "coverage": {}, "widening": None, "actual": None,
            "actual_qualifier": None, "met": None, "pointed_right_way": None,
            "history": pd.DataFrame({"year": [2019, 2021], "value": [2231.0, 4397.0],
                                     "qualifier": ["reported", "reported"]}),
            "meta": {"name_en": "Valid high-tech enterprises", "name_zh": "有效高新技术企业数量"},
        }  # fmt: skip
        self.__dict__.update({**defaults, **kw})


PROGRESS = Progress(
    base_year=2019, base_value=2231.0, last_year=2021, last_value=4397.0,
    observed_growth=0.4039, required_growth=0.2536, ratio=1.5927, category="on track",
    still_required_growth=0.0007, kind="compound",
)  # fmt: skip


def test_describe_en():
    result = _Result(progress=PROGRESS, coverage={0.9: (0.75, 0.9)}, widening=1.4)
    assert fmt.describe(result, "en") == (
        "Target ≥ 4,400 by 2022: P(met) = **>99 %** (virtually certain).\n\n"
        "Latest value: 4,397 in 2021.\n\n"
        "Progress since 2019: observed 40.4 %/yr, required 25.4 %/yr, R = 1.6: **on track**. "
        "Still required from 2021: 0.1 %/yr.\n\n"
        "Backtest: 75 % of past actuals fell in the 90 % intervals; intervals widened ×1.4 "
        "(then 90 %)."
    )


def test_describe_zh():
    result = _Result(progress=PROGRESS, coverage={0.9: (0.75, 0.9)}, widening=1.4)
    assert fmt.describe(result, "zh") == (
        "目标：2022年 ≥ 4,400家。达成概率 **>99%**（几乎确定）。\n\n"
        "最新值：2021年 4,397家。\n\n"
        "进展评价（自2019年）：实际每年40.4%，所需每年25.4%，比值 R = 1.6：**进展顺利**。"
        "自2021年起仍需每年0.1%。\n\n"
        "回测：75%的历史实际值落在90%区间内；区间已放宽1.4倍（放宽后90%）。"
    )


def test_describe_outcome_and_vintage_zh():
    result = _Result(
        as_of=2019, last_year=2019, last_value=2231.0, probability=None,
        verdict="no probability", reason="the target year 2022 is observed", actual=5700.0,
        actual_qualifier="lower_bound", met=True,
    )  # fmt: skip
    text = fmt.describe(result, "zh")
    assert text.splitlines()[0] == (
        "目标：2022年 ≥ 4,400家。**数据太少，无法估计概率**（目标年份2022年已有观测值）。"
    )
    assert text.endswith("回顾：2022年实际值为至少5,700家；目标已达成。")
    en = fmt.describe(result, "en")
    assert en.endswith("Retrospective: the 2022 value was at least 5,700; target met.")


def test_describe_marks_illustrative_and_currently_meets():
    result = _Result(illustrative=True, currently_meets=True, last_value=4500.0)
    en = fmt.describe(result, "en")
    assert en.startswith("**ILLUSTRATIVE DATA")
    assert "Latest value: 4,500 in 2021; it currently meets the target." in en
    assert "，目前已达到目标。" in fmt.describe(result, "zh")


def test_title_and_alt_text():
    result = _Result(as_of=2020)
    assert fmt.title(result, "en") == "Valid high-tech enterprises — Jinan (as of 2020)"
    assert fmt.title(result, "zh") == "有效高新技术企业数量 — 济南（截至2020年）"
    assert fmt.fan_alt(result, "en").startswith("Fan chart: Valid high-tech enterprises")


@pytest.mark.parametrize(
    ("qualifier", "en", "zh"),
    [
        ("as_of_august", "as of August", "截至8月"),
        ("as_of_may", "as of May", "截至5月"),
        ("lower_bound", "lower bound (at least)", "下限（至少）"),
        ("estimate", "estimate", "估计值"),
        (None, "–", "–"),
    ],
)
def test_qualifiers(qualifier, en, zh):
    assert fmt.qualifier(qualifier, "en") == en
    assert fmt.qualifier(qualifier, "zh") == zh


def test_no_observation_note_in_chinese():
    assert fmt.note("no observation up to 2022; the first is from 2024", "zh") == (
        "2022年及以前没有观测值；最早的观测值来自2024年"
    )


def test_reconciliation_of_the_engines_codes():
    meets = {"reason": "currently_meets", "last_value": 4500.0, "target": 4400.0,
             "forecast_median": 4300.0}  # fmt: skip
    assert fmt.reconciliation(meets, "en", category_name="on track", p=0.3, unit="count") == (
        "The latest value, 4,500, already meets the target, but the projection's median for the "
        "target year, 4,300, does not, so P(met) is 30 %."
    )
    assert (
        fmt.reconciliation(meets, "zh", p=0.3, unit="count", indicator="high_tech_enterprises")
        == "最新值4,500家已达到目标，但目标年份的预测中位数4,300家未达到，因此达成概率为30%。"
    )
    absolute = {"reason": "slowed", "since": 2019, "recent_growth": 50.0,
                "required_growth": 120.0, "kind": "absolute"}  # fmt: skip
    assert "50 per year, below the 120 per year still needed" in fmt.reconciliation(
        absolute, "en", category_name="on track", p=0.2, unit="count"
    )
    tolerance = {"reason": "tolerance", "observed_growth": 0.096, "required_growth": 0.1}
    assert fmt.reconciliation(tolerance, "zh", category_name="on track", p=0.45) == (
        "仅因欧盟统计局规则5%的容差，进展评价才为“进展顺利”（实际每年9.6%，所需每年10%），"
        "因此达成概率为45%。"
    )


def test_scorecard_alt_counts_targets():
    assert fmt.scorecard_alt(1).startswith("Bar chart: P(met) of 1 target, grouped")
    assert fmt.scorecard_alt(14).startswith("Bar chart: P(met) of 14 targets, grouped")
