"""One home for the words people read: numbers, units, probabilities, verdicts, categories,
missing values and sentences, in English (``en``) and Chinese (``zh``).

The CLI, :func:`describe`, the notebooks, the HTML reports and the charts all write through
these functions; other modules return data, not prose.

Conventions
-----------
- Numbers: thousands separators, integers when whole or large (``4,397``), otherwise four
  significant digits (``95.06``); missing values are :data:`DASH`.
- Money in 亿元 as the plan states it (``6,000 亿元``; zh ``6,000亿元``), percentages with a
  space in English (``88 %``; zh ``88%``), counts as integers (zh with a measure word:
  ``4,397家``), ranks as ``rank 18`` / ``第18位``.
- Probabilities in whole percents; ``<1 %`` and ``>99 %`` at the ends, so that nothing short
  of certainty reads as ``0 %`` or ``100 %``.
- Verdicts on the IPCC AR5 likelihood scale (Mastrandrea et al. 2010) and, in Chinese, the
  AR5 Chinese terms (Chinese edition of the AR5 Summaries for Policymakers): 几乎确定
  (virtually certain), 极有可能 (extremely likely), 很可能 (very likely), 可能 (likely), 或许可能
  (about as likely as not), 不太可能 (unlikely), 很不可能 (very unlikely), 极不可能 (extremely
  unlikely), 几乎不可能 (exceptionally unlikely). "Unlikely" is 不太可能, not 不可能, so that it
  is not read as "impossible".
- Models by name in Chinese (漂移模型 for ``drift`` ...; :func:`model_name`), CRPS as
  连续分级概率评分.
- Annual rates with one decimal (``13.3 %/yr``), but never a nonzero rate shown as ``0``:
  small rates keep one significant digit (``0.01 %/yr``).
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import BrandstatsError
from .notes import Note, words

__all__ = [
    "DASH",
    "LANGUAGES",
    "category",
    "check_language",
    "comparison_symbol",
    "count",
    "describe",
    "display_value",
    "fan_alt",
    "field",
    "group_name",
    "growth",
    "is_missing",
    "markdown_text",
    "model_name",
    "note",
    "number",
    "outcome",
    "probability",
    "qualifier",
    "quantity",
    "reconciliation",
    "reconciliation_reason",
    "region",
    "scorecard_alt",
    "sentences",
    "share",
    "source",
    "spreadsheet_cell",
    "target",
    "title",
    "unit_label",
    "verdict",
    "vintage_basis",
    "word",
]

LANGUAGES = ("en", "zh")
"""The languages every text exists in."""

DASH = "–"
"""What a missing value is shown as."""


def count(n: int, noun: str, plural: str = "") -> str:
    """``"1 notebook"``, ``"2 notebooks"`` (``plural`` where adding an s is wrong)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def check_language(language: str) -> str:
    """``language`` if it is one of :data:`LANGUAGES`, else a :class:`BrandstatsError`."""
    if language not in LANGUAGES:
        raise BrandstatsError(f"language must be one of {LANGUAGES}, got {language!r}")
    return language


def language_code(language: object) -> str:
    """``"zh"`` for any Chinese language tag (``zh``, ``zh-CN``, ``zh_Hans``...), else ``"en"``."""
    return "zh" if str(language).lower().startswith("zh") else "en"


def is_missing(value: object) -> bool:
    """Whether ``value`` is missing: None, NaN or ``pd.NA``."""
    import pandas as pd  # here, not at the top: the batch imports this module and stays light

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, dicts and other non-scalars are not missing
        return False


# ----------------------------------------------------------------------------- words

_WORDS: dict[str, dict[str, str]] = {
    # verdicts: IPCC AR5 likelihood scale, then the outcomes
    "virtually certain": {"zh": "几乎确定"},
    "extremely likely": {"zh": "极有可能"},
    "very likely": {"zh": "很可能"},
    "likely": {"zh": "可能"},
    "about as likely as not": {"zh": "或许可能"},
    "unlikely": {"zh": "不太可能"},
    "very unlikely": {"zh": "很不可能"},
    "extremely unlikely": {"zh": "极不可能"},
    "exceptionally unlikely": {"zh": "几乎不可能"},
    "met": {"zh": "已达成"},
    "not met": {"zh": "未达成"},
    "already met": {"zh": "已提前达成"},
    "unknown": {"en": "unknown (only a bound)", "zh": "未知（仅有界值）"},
    "no probability": {"en": "too few data for a probability", "zh": "数据太少，无法估计概率"},
    "no data": {"en": "no data", "zh": "无数据"},
    "currently meets": {"en": "currently meets the target", "zh": "目前已达到目标"},
    # progress categories (Eurostat / Open SDG style)
    "on track": {"zh": "进展顺利"},
    "moderate progress": {"zh": "有一定进展"},
    "insufficient progress": {"zh": "进展不足"},
    "moving away": {"zh": "偏离目标"},
    "not assessed": {"zh": "未评估"},
    "bound_only": {"en": "not assessed (bound only)", "zh": "未评估（仅有界值）"},
    # the group of indicators without a target (a plan's own groups are its targets file's)
    "context": {"en": "Context", "zh": "背景指标"},
    # data provenance per target
    "real": {"en": "real", "zh": "真实数据"},
    "partly bounds": {"en": "real, partly bounds", "zh": "真实数据（部分为界值）"},
    "illustrative": {"en": "ILLUSTRATIVE", "zh": "示意数据"},
    "mixed": {"en": "real and illustrative", "zh": "真实与示意数据"},
    # qualifiers of a figure
    "reported": {"zh": "公布值"},
    "provisional": {"zh": "初步值"},
    "estimate": {"en": "estimate", "zh": "估计值"},
    "lower_bound": {"en": "lower bound (at least)", "zh": "下限（至少）"},
    "upper_bound": {"en": "upper bound (at most)", "zh": "上限（至多）"},
    "rank:lower_bound": {"en": "rank bound (this or lower)", "zh": "名次界值（此名次或更靠后）"},
    "rank:upper_bound": {"en": "rank bound (this or better)", "zh": "名次界值（此名次或更靠前）"},
    "cumulative": {"zh": "累计值"},
    "level": {"en": "level (a yearly value)", "zh": "水平值（年度数值）"},
    # report headings and labels
    "title": {"en": "Will the target be met?", "zh": "目标能否达成？"},
    "summary": {"en": "Summary", "zh": "摘要"},
    "target": {"en": "Target", "zh": "目标"},
    "latest": {"en": "Latest value", "zh": "最新值"},
    "p_met": {"en": "P(met)", "zh": "达成概率"},
    "verdict": {"en": "Verdict", "zh": "判断"},
    "progress": {"en": "Progress (Eurostat method)", "zh": "进展评价（欧盟统计局方法）"},
    "since_base_year": {"en": "since {year}", "zh": "自{year}年"},
    "reconciliation": {"en": "Why the two differ", "zh": "两者为何不同"},
    "track_record": {"en": "Track record", "zh": "以往表现"},
    "districts": {"en": "Districts", "zh": "下辖区县"},
    "districts_sum": {
        "en": "the sum of its districts' figures (each district's source is in its report)",
        "zh": "下辖区县数值之和（各区县的来源见其报告）",
    },
    "kind:compound": {"en": "a growth rate (% a year)", "zh": "年均增长率（%）"},
    "kind:absolute": {"en": "an absolute change a year", "zh": "年均绝对增量"},
    "none_needed": {"en": "none: the latest figure meets it", "zh": "无需增长（最新值已达标）"},
    "league": {"en": "League table of the districts", "zh": "区县考核排名"},
    "rank_in_parent": {"en": "Rank", "zh": "排名"},
    "completion": {"en": "Completion (latest / target)", "zh": "完成率（最新值/目标）"},
    "elapsed": {"en": "Time elapsed", "zh": "时间进度"},
    "still_required": {"en": "Growth still required a year", "zh": "尚需年均增长"},
    "plan_uncounted": {
        "en": "Each target of the plan is counted once, as of its latest vintage: the table "
        "below also has {vintages} and {districts} of districts' shares of a target (the "
        "league table), not counted here.",
        "zh": "计划的每个目标按其最新一版只计一次：下表另有{vintages}行较早版本和{districts}行"
        "区县分解目标（见排名表），未计入上述个数。",
    },
    "league_intro": {
        "en": "Each parent region first, then its districts by P(met) (equal P(met): by name). "
        "Completion is the latest figure over the sub-target (target over latest for an "
        '"at most" target); time elapsed is the share of the period from the base year to '
        "the target year behind the latest figure.",
        "zh": "先列上级地区，再按达标概率列其下辖区县（概率相同者按名称）。完成率为最新值除以"
        "分解目标（“不超过”类目标为目标除以最新值）；时间进度为从基期到目标年份已过去的比例。",
    },
    "change": {"en": "Change since the previous vintage", "zh": "较上一版变化"},
    "why_moved": {"en": "Why it moved", "zh": "变化原因"},
    "next_year": {"en": "Next year", "zh": "下一年"},
    "outlook_over_time": {"en": "The outlook over time", "zh": "达成概率的变化"},
    "basis_published_each": {
        "en": "Figures: as published by the end of each row's vintage (as of), later revisions "
        "left out.",
        "zh": "数据口径：各行按其评估年份（截至年份）年底已公布的数值，其后的修订不计。",
    },
    "basis_mixed": {
        "en": "Figures: some rows read the latest figures (revisions included), others the "
        "figures as published by their vintage; each report says which.",
        "zh": "数据口径：部分行采用最新公布值（含修订），部分行采用其评估年份年底已公布的数值；"
        "详见各报告。",
    },
    "outcome": {"en": "Outcome", "zh": "实际结果"},
    "data": {"en": "Data", "zh": "数据"},
    "series": {"en": "The observed series and its sources", "zh": "观测序列及其来源"},
    "projection": {"en": "Projection", "zh": "预测"},
    "backtest": {"en": "Models and their backtest", "zh": "模型及其回测"},
    "record": {"en": "Full result record", "zh": "完整结果记录"},
    "notes": {"en": "Notes", "zh": "说明"},
    "year": {"en": "Year", "zh": "年份"},
    "value": {"en": "Value", "zh": "数值"},
    "qualifier": {"en": "Qualifier", "zh": "性质"},
    "in_vintage": {"en": "Used", "zh": "是否使用"},
    "source": {"en": "Source", "zh": "来源"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
    "model": {"en": "Model", "zh": "模型"},
    "status": {"en": "Status", "zh": "状态"},
    "crps": {
        "en": "CRPS in {unit} (lower is better)",
        "zh": "连续分级概率评分（{unit}，越低越好）",
    },
    "crps_scale": {
        "en": "CRPS on the models' {scale} scale (lower is better)",
        "zh": "连续分级概率评分（模型的{scale}尺度，越低越好）",
    },
    "scale:log": {"en": "log", "zh": "对数"},
    "scale:logit": {"en": "logit", "zh": "对数几率"},
    "cases": {"en": "Cases", "zh": "回测次数"},
    "weight": {"en": "Weight in auto", "zh": "在自动组合中的权重"},
    "coverage": {"en": "{level} interval coverage", "zh": "{level}区间覆盖率"},
    "reason": {"en": "Reason", "zh": "原因"},
    "status:used": {"en": "used", "zh": "已使用"},
    "status:not backtested": {"en": "not backtested", "zh": "未回测"},
    "status:not fitted": {"en": "not fitted", "zh": "无法拟合"},
    "status:skipped": {"en": "not fitted", "zh": "无法拟合"},
    "field": {"en": "Field", "zh": "字段"},
    "goal": {"en": "Goal", "zh": "目标类别"},
    "indicator": {"en": "Indicator", "zh": "指标"},
    "region": {"en": "Region", "zh": "地区"},
    "as_of": {"en": "As of", "zh": "截至"},
    "all data": {"en": "all data", "zh": "最新数据"},
    "report": {"en": "report", "zh": "报告"},
    "scorecard": {"en": "Scorecard: every target of the plan", "zh": "计分卡：行动计划的全部目标"},
    "scorecard_of": {"en": "Scorecard: {plan}", "zh": "计分卡：{plan}"},
    "scorecard_title": {"en": "Scorecard", "zh": "计分卡"},
    "scorecard_intro": {
        "en": "One row per target; each links to its report. Results of the run that made "
        "this page only.",
        "zh": "每行一个目标，点击可打开其报告。仅包含生成本页的这次运行的结果。",
    },
    "chart": {"en": "Chart", "zh": "图表"},
    "missing_runs": {
        "en": "No result from these runs (they failed; see the batch report): {runs}.",
        "zh": "以下运行没有结果（运行失败，详见批处理报告）：{runs}。",
    },
    "empty_backtest": {
        "en": "No backtest: {reason}.",
        "zh": "没有回测（{reason}）。",
    },
    "backtest_intro": {
        "en": "Each model is refitted on the data up to a past year and scored on the years "
        "after (rolling origin). CRPS measures the error of the whole predictive "
        "distribution, in the scale its column names (lower is better); coverage is the share "
        "of past actuals inside the interval; auto weights the models by their skill.",
        "zh": "每个模型用截至过去某一年的数据重新拟合，再用之后几年的实际值打分（滚动起点回测）。"
        "连续分级概率评分衡量整个预测分布的误差，单位或尺度见列名（越低越好）；覆盖率为历史实际值"
        "落在区间内的比例；自动组合按各模型的表现加权。",
    },
    "illustrative_banner": {
        "en": "ILLUSTRATIVE DATA: this result uses made-up figures; it is not a real assessment.",
        "zh": "示意数据：以下结果基于虚构数值，并非真实评估。",
    },
    "required_path": {"en": "required path", "zh": "达标所需路径"},
    "actual": {"en": "actual outcome", "zh": "实际结果"},
    # chart labels
    "chart:observed": {"en": "observed", "zh": "观测值"},
    "chart:observed_lower_bound": {
        "en": "observed (lower bound: at least)",
        "zh": "观测值（下限：至少）",
    },
    "chart:observed_illustrative": {"en": "illustrative (not real)", "zh": "示意值（非真实）"},
    "chart:at_least": {"en": "at least", "zh": "至少"},
    "chart:observed_upper_bound": {
        "en": "observed (upper bound: at most)",
        "zh": "观测值（上限：至多）",
    },
    "chart:at_most": {"en": "at most", "zh": "至多"},
    "chart:rank_lower": {"en": "or lower", "zh": "或更靠后"},
    "chart:rank_higher": {"en": "or better", "zh": "或更靠前"},
    "chart:observed_rank_lower": {
        "en": "observed (rank bound: this or lower)",
        "zh": "观测值（名次界值：此名次或更靠后）",
    },
    "chart:observed_rank_higher": {
        "en": "observed (rank bound: this or better)",
        "zh": "观测值（名次界值：此名次或更靠前）",
    },
    "chart:median": {"en": "projection median", "zh": "中位数预测"},
    "chart:interval": {"en": "{level} interval", "zh": "{level}区间"},
    "chart:target": {"en": "target {target}", "zh": "目标 {target}"},
    "chart:probability": {"en": "P(met) = {p}", "zh": "达成概率 = {p}"},
    "chart:default_title": {"en": "Projection and {year} target", "zh": "{year}年目标与预测"},
    "chart:default_title_no_year": {"en": "Projection", "zh": "预测"},
    "chart:year": {"en": "year", "zh": "年份"},
    "chart:illustrative_note": {
        "en": "ILLUSTRATIVE DATA — not real figures",
        "zh": "示意数据，非真实数值",
    },
    "chart:illustrative_suffix": {"en": " (illustrative)", "zh": "（示意）"},
    "chart:outlook_met": {"en": "met", "zh": "已达成"},
    # in the verdicts' words above (很可能 is "very likely" there: 90 % or more)
    "chart:outlook_likely": {"en": "likely (P(met) ≥ 66 %)", "zh": "可能（≥66%）"},
    "chart:outlook_even": {"en": "about as likely as not", "zh": "或许可能（33%–66%）"},
    "chart:outlook_unlikely": {"en": "unlikely (P(met) < 33 %)", "zh": "不太可能（<33%）"},
    "chart:outlook_not met": {"en": "not met", "zh": "未达成"},
    "chart:outlook_none": {"en": "no probability", "zh": "无法估计概率"},
    "chart:vintage_x": {"en": "as of (the data up to that year)", "zh": "截至年份（所用数据）"},
    "chart:targets_met_x": {"en": "number of targets met", "zh": "达成的目标个数"},
    "chart:targets_met_y": {"en": "probability", "zh": "概率"},
    "chart:targets_met_title": {
        "en": "Targets met: {expected} expected of {counted} counted ({targets} in the plan), "
        "{level} interval {low}-{high}",
        "zh": "达成目标个数：预计{expected}个（计入{counted}个，计划共{targets}个），"
        "{level}区间{low}–{high}个",
    },
    "chart:scorecard_note": {
        "en": "Hatched bars: illustrative data — not real figures",
        "zh": "斜线条形：示意数据，非真实数值",
    },
    "chart:illustrative_legend": {"en": "illustrative data", "zh": "示意数据"},
    "chart:as_of": {"en": "as of {year}", "zh": "截至{year}年"},
    "chart:model": {"en": "model: {model}", "zh": "模型：{model}"},
    "chart:xlabel_probability": {"en": "probability that the target is met", "zh": "目标达成概率"},
    "chart:n/a": {"en": "no probability", "zh": "无法估计概率"},
    "chart:required_path": {
        "en": "required path (constant growth)",
        "zh": "达标所需路径（匀速增长）",
    },
    "chart:actual": {"en": "actual {year}: {value}", "zh": "{year}年实际值：{value}"},
    "chart:vintage": {"en": "as of {year}", "zh": "截至{year}年"},
    # scorecard.xlsx and printed pages
    "sheet:scorecard": {"en": "Scorecard", "zh": "计分卡"},
    "sheet:sources": {"en": "Sources", "zh": "来源"},
    "data_sources": {"en": "sources of the figures", "zh": "数据来源"},
}


def word(key: str, language: str = "en", **fields: Any) -> str:
    """The word or label ``key`` in ``language`` (the key itself when unknown).

    English defaults to the key, so the scales' own terms (``likely``, ``on track``) are
    written once. ``fields`` fill ``{placeholders}``.

    Examples
    --------
    >>> word("likely", "zh")
    '可能'
    >>> word("coverage", "en", level="90 %")
    '90 % interval coverage'
    """
    check_language(language)
    entry = _WORDS.get(str(key).strip().lower()) or _WORDS.get(str(key))
    text = str(key) if entry is None else entry.get(language, entry.get("en", str(key)))
    return text.format(**fields) if fields else text


_FIELDS = {
    "indicator": ("indicator id", "指标代码"),
    "region": ("region", "地区"),
    "as_of": ("as of (vintage)", "截至年份"),
    "last_year": ("latest year", "最新年份"),
    "last_value": ("latest value", "最新值"),
    "target": ("target", "目标值"),
    "comparison": ("comparison", "比较方式"),
    "target_year": ("target year", "目标年份"),
    "unit": ("unit", "单位"),
    "model": ("model", "模型"),
    "probability": ("P(met)", "达成概率"),
    "verdict": ("verdict", "判断"),
    "progress_ratio": ("progress ratio R", "进展比值 R"),
    "progress_category": ("progress category", "进展评价"),
    "observed_growth": ("observed growth", "实际增长"),
    "required_growth": ("required growth", "所需增长"),
    "still_required_growth": ("growth still required", "仍需增长"),
    "base_year": ("base year of the progress measure", "进展评价基期"),
    "progress_kind": ("growth measured as", "增长口径"),
    "parent": ("part of", "上级地区"),
    "forecast_mean": ("forecast mean", "预测均值"),
    "forecast_median": ("forecast median", "预测中位数"),
    "forecast_lower": ("forecast interval, lower end", "预测区间下限"),
    "forecast_upper": ("forecast interval, upper end", "预测区间上限"),
    "level": ("interval level", "区间水平"),
    "actual": ("actual target-year value", "目标年份实际值"),
    "actual_qualifier": ("qualifier of the actual", "实际值性质"),
    "met": ("met", "是否达成"),
    "pointed_right_way": ("projection pointed the right way", "预测方向是否正确"),
    "illustrative": ("illustrative data", "示意数据"),
    "widening": ("interval widening", "区间放宽倍数"),
    "reason": ("reason", "原因"),
    "name_en": ("name (English)", "英文名称"),
    "name_zh": ("name (Chinese)", "中文名称"),
    "group": ("goal", "目标类别"),
    "source": ("source of the target", "目标来源"),
    "currently_meets": ("currently meets the target", "目前是否已达到目标"),
    "accumulation": ("level or cumulative", "水平值或累计值"),
    "required_path": ("required path", "达标所需路径"),
    "reconciliation": ("why the category and P(met) differ", "两者为何不同"),
    "reconciliation_reason": ("reason the two differ", "两者差异原因"),
    "p_unpooled": ("P(met) without pooling", "未合并估计的达成概率"),
    "pooling": ("pooling", "合并估计"),
}


def field(name: str, language: str = "en") -> str:
    """The label of a result-record field (``last_value`` -> ``latest value`` / ``最新值``)."""
    check_language(language)
    en, zh = _FIELDS.get(name, (name.replace("_", " "), name))
    return zh if language == "zh" else en


_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


def qualifier(value: str | None, language: str = "en", *, unit: str = "") -> str:
    """A figure's qualifier: ``lower bound (at least)``, ``as of August`` / ``截至8月`` ...

    A bound on a rank (``unit="rank"``) reads ``rank bound (this or lower)``, as its value
    reads ``rank 11 or lower``: a rank "at least 11" is 11th or worse.
    """
    check_language(language)
    if is_missing(value):
        return DASH
    if unit == "rank" and value in ("lower_bound", "upper_bound"):
        return word(f"rank:{value}", language)
    month = str(value).removeprefix("as_of_")
    if month in _MONTHS:
        if language == "zh":
            return f"截至{_MONTHS.index(month) + 1}月"
        return f"as of {month.title()}"
    return word(str(value), language)


def verdict(value: str | None, language: str = "en") -> str:
    """A verdict (IPCC likelihood term or an outcome) in ``language``; a dash when missing."""
    return DASH if is_missing(value) else word(str(value), language)


def category(value: str | None, language: str = "en", *, reason: str | None = None) -> str:
    """An official-style progress category in ``language``; ``not assessed`` when missing,
    or the words for ``reason`` (the engine's ``progress_reason`` code, e.g. ``bound_only``)."""
    if is_missing(value):
        return word("not assessed" if is_missing(reason) else str(reason), language)
    return word(str(value), language)


_MODELS = {
    "auto": ("auto (weighted by backtest skill)", "自动组合（按回测表现加权）"),
    "drift": ("drift", "漂移模型"),
    "linear": ("linear trend", "线性趋势"),
    "loglinear": ("log-linear trend", "对数线性趋势"),
    "holt": ("Holt's linear trend", "霍尔特线性趋势"),
}


def model_name(model: str | None, language: str = "en") -> str:
    """A projection model by name: ``drift`` -> ``drift`` / ``漂移模型``; unknown ids as given."""
    check_language(language)
    if is_missing(model) or not str(model):
        return DASH
    en, zh = _MODELS.get(str(model), (str(model), str(model)))
    return zh if language == "zh" else en


_RECONCILIATION_REASONS = {
    "currently_meets": ("the latest value meets the target, the projection does not",
                        "最新值已达标，但预测未达标"),
    "slowed": ("growth has slowed recently", "近期增长放缓"),
    "accelerated": ("growth has picked up recently", "近期增长加快"),
    "tolerance": ("on track only through the 5 % tolerance", "仅因5%容差而评为进展顺利"),
    "forecast": ("the projection crosses the target the other way",
                 "预测与增长率指向目标的不同一侧"),
}  # fmt: skip


def reconciliation_reason(code: str | None, language: str = "en") -> str:
    """The engine's reconciliation code (``slowed`` ...) as a short phrase; a dash when none."""
    check_language(language)
    if is_missing(code) or not str(code):
        return DASH
    en, zh = _RECONCILIATION_REASONS.get(str(code), ("the two measures differ", "两种评价不一致"))
    return zh if language == "zh" else en


def outcome(met: bool | None, language: str = "en") -> str:
    """``met`` / ``not met`` / ``unknown (only a bound)`` for a retrospective outcome."""
    return word({True: "met", False: "not met"}.get(met, "unknown"), language)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- numbers

_SYMBOLS = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "==": "=", "=": "="}


def comparison_symbol(comparison: str) -> str:
    """``>=`` -> ``≥`` and so on; a :class:`BrandstatsError` for anything else."""
    try:
        return _SYMBOLS[str(comparison).strip()]
    except KeyError:
        raise BrandstatsError(
            f"comparison must be one of {', '.join(_SYMBOLS)}, got {comparison!r}"
        ) from None


def number(value: float | None, *, digits: int = 4) -> str:
    """A number as people read it: ``4,397``, ``95.06``, ``0.2044``; a dash when missing.

    Whole numbers and numbers of 1,000 or more are shown as integers with thousands
    separators; others with ``digits`` significant digits, never in scientific notation.
    """
    if is_missing(value):
        return DASH
    x = float(value)  # type: ignore[arg-type]
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x.is_integer() or abs(x) >= 1000:
        return f"{round(x):,}"
    decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0) if x else 0
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_DIVISOR = {"yuan": 1e8}


def display_value(value: Any, unit: str) -> Any:
    """``value`` (canonical unit; a number or an array) in the unit people read.

    Money is shown in 亿元 (1e8 yuan), as the plan states its targets; other units as stored.
    """
    return value / _DIVISOR.get(unit, 1.0)


_FIRMS = ("enterprise", "firm", "company", "企业", "公司", "单位")
"""Words of an indicator id that count firms: counted with 家, other counts with 个."""


def _measure_word(indicator: str | None) -> str:
    return "家" if indicator and any(w in indicator for w in _FIRMS) else "个"


def quantity(
    value: float | None,
    unit: str,
    language: str = "en",
    *,
    indicator: str | None = None,
    qualifier: str | None = None,
) -> str:
    """A value with its display unit: ``6,000 亿元``, ``88 %``, ``4,397``, ``rank 18``.

    Parameters
    ----------
    value : float or None
        In the canonical unit (yuan, count, percent, rank); missing gives a dash.
    unit : {"yuan", "count", "percent", "rank"}
    language : {"en", "zh"}
    indicator : str, optional
        Chooses the Chinese measure word of counts: 家 for firms, 个 otherwise.
    qualifier : str, optional
        ``lower_bound`` / ``upper_bound`` add "at least" / "at most" (for ranks: "or lower"
        / "or better").

    Examples
    --------
    >>> quantity(6e11, "yuan"), quantity(6e11, "yuan", "zh")
    ('6,000 亿元', '6,000亿元')
    >>> quantity(18, "rank", "zh"), quantity(11, "rank", qualifier="lower_bound")
    ('第18位', 'rank 11 or lower')
    """
    check_language(language)
    if is_missing(value):
        return DASH
    x = float(display_value(float(value), unit))  # type: ignore[arg-type]
    zh = language == "zh"
    shown = f"{round(x):,}" if unit in ("count", "rank") else number(x)
    if unit == "yuan":
        text = f"{shown}亿元" if zh else f"{shown} 亿元"
    elif unit == "percent":
        text = f"{shown}%" if zh else f"{shown} %"
    elif unit == "count":
        text = f"{shown}{_measure_word(indicator)}" if zh else shown
    elif unit == "rank":
        text = f"第{shown}位" if zh else f"rank {shown}"
        if qualifier in ("lower_bound", "upper_bound"):
            lower = qualifier == "lower_bound"  # a rank at least 11: 11th or lower
            if zh:
                return text + ("或更靠后" if lower else "或更靠前")
            return text + (" or lower" if lower else " or better")
    else:
        text = f"{shown} {unit}"
    if qualifier == "lower_bound":
        return f"至少{text}" if zh else f"at least {text}"
    if qualifier == "upper_bound":
        return f"至多{text}" if zh else f"at most {text}"
    return text


def unit_label(unit: str, language: str = "en") -> str:
    """The unit as an axis or column label: ``亿元``, ``%``, ``rank (1 = best)`` ..."""
    check_language(language)
    labels = {
        "yuan": ("100 million yuan (亿元)", "亿元"),
        "count": ("count", "数量"),
        "percent": ("%", "%"),
        "rank": ("rank (1 = best)", "名次（1 = 最好）"),
    }
    en, zh = labels.get(unit, (unit, unit))
    return zh if language == "zh" else en


def _percent(text: str, language: str) -> str:
    return f"{text}%" if language == "zh" else f"{text} %"


_BOUND_WORDS = {
    "at_most": {"en": "at most {p}", "zh": "不超过{p}"},
    "at_least": {"en": "at least {p}", "zh": "不低于{p}"},
}

_BOUND_REASONS = {
    "at_most": {
        "en": "P(met) is shown as {shown}: the evidence behind this forecast (its backtest "
        "cases, or the reference class of real official series) supports no probability "
        "closer to 0.",
        "zh": "达成概率显示为“{shown}”：该预测所依据的证据（回测案例或真实官方指标的参照类）"
        "不足以支持更接近0的概率。",
    },
    "at_least": {
        "en": "P(met) is shown as {shown}: the evidence behind this forecast (its backtest "
        "cases, or the reference class of real official series) supports no probability "
        "closer to 1.",
        "zh": "达成概率显示为“{shown}”：该预测所依据的证据（回测案例或真实官方指标的参照类）"
        "不足以支持更接近1的概率。",
    },
}


def probability(p: float | None, language: str = "en", bound: str | None = None) -> str:
    """A probability in whole percents: ``73 %``; ``<1 %`` below 1 %, ``>99 %`` above 99 %.

    ``bound`` (an Assessment's ``probability_bound``) marks a probability at the floor or
    ceiling the evidence supports: ``at most 10 %`` / ``at least 90 %`` (不超过 / 不低于).

    Examples
    --------
    >>> probability(0.996), probability(0.004, "zh"), probability(0.7349)
    ('>99 %', '<1%', '73 %')
    >>> probability(0.1, bound="at_most"), probability(0.9, "zh", "at_least")
    ('at most 10 %', '不低于90%')
    """
    check_language(language)
    if is_missing(p):
        return DASH
    p = float(p)  # type: ignore[arg-type]
    if not 0.0 <= p <= 1.0:
        raise BrandstatsError(f"a probability must lie in [0, 1], got {p!r}")
    if p < 0.01:
        text = "<" + _percent("1", language)
    elif p > 0.99:
        text = ">" + _percent("99", language)
    else:
        text = _percent(f"{p * 100:.0f}", language)
    if bound in _BOUND_WORDS and 0.01 <= p <= 0.99:  # "<1 %" says "at most" already
        return _BOUND_WORDS[bound][language].format(p=text)
    return text


def track_record(record: Mapping[str, Any] | None, language: str = "en") -> str | None:
    """How well brandstats' 90 % intervals held on past official targets for series of this
    length (a row of ``data/track_record.csv`` per corpus: ``points``, ``cases``, ``cov90``),
    in one sentence; None without a record."""
    check_language(language)
    if not record:
        return None
    corpus, holdout = record.get("corpus"), record.get("hold-out")
    if not corpus:
        return None
    points = corpus["points"]
    many = points == "full"
    pieces = [(share(r["cov90"], language), int(r["cases"])) for r in (corpus, holdout) if r]
    if language == "zh":
        what = "完整序列" if many else f"只有{points}个观测值的序列"
        held = "，".join(f"{n}个目标中{c}" for c, n in pieces)
        return (
            f"对以往已知结果的真实官方目标，brandstats 对{what}给出的90%区间"
            f"覆盖了实际值的比例为：{held}。"
        )
    what = "full series" if many else f"series of {points} points"
    held = " and ".join(f"{c} of {n}" for c, n in pieces)
    sets = "the corpus and a hold-out" if holdout else "the corpus"
    return (
        f"On past official targets with known outcomes ({sets}), brandstats' 90 % intervals "
        f"for {what} held the outcome in {held} cases."
    )


def plan_summary(
    tally: Mapping[str, Any],
    counts: Mapping[str, int],
    language: str = "en",
    names: Mapping[str, str] | None = None,
) -> str:
    """The plan at a glance, one paragraph of Markdown: targets by verdict, the expected number
    met with its interval, the chance that the headline targets are all met, and the caveat of
    independence (:func:`brandstats.tally.targets_met`, :func:`brandstats.tally.verdict_counts`).
    ``names`` maps a tally key (``indicator (region)``) to the name shown."""
    check_language(language)
    names = names or {}
    low, high = tally["interval"]
    slow, shigh = tally["interval_shared"]
    counted = len(tally["distribution"]) - 1
    level = share(tally["level"], language)
    heads = "、".join if language == "zh" else ", ".join
    head_names = heads(names.get(k, k) for k in tally["headline"])
    both = probability(tally["both_headline"], language) if tally["headline"] else None
    if language == "zh":
        text = (
            f"**计划总览。** 共{tally['targets']}个目标：已达成{counts['met']}个，可能达成"
            f"{counts['likely']}个（达成概率不低于66%），或许可能达成{counts['even']}个，"
            f"不太可能{counts['unlikely']}个（低于33%），未达成{counts['not_met']}个，"
            f"无法估计概率{counts['unassessed']}个。预计达成{tally['expected']:.1f}个"
            f"（在{counted}个已有结果或有概率的目标中；{level}区间{low}–{high}个）。"
        )
        if both is not None:
            text += f"核心目标（{head_names}）全部达成的概率：{both}。"
        text += (
            f"以上按各目标相互独立计算（泊松二项分布）；若各目标受共同冲击影响（潜在相关系数"
            f"{tally['shared_shock']:g}），{level}区间扩大为{slow}–{shigh}个。"
        )
        if tally.get("illustrative"):
            text += (
                f"**示意数据**：计入的目标中有{len(tally['illustrative'])}个依据虚构数值，"
                "以上数字并非真实评估。"
            )
        return text
    text = (
        f"**The plan at a glance.** Of {tally['targets']} targets: {counts['met']} met, "
        f"{counts['likely']} likely (P(met) at least 66 %), {counts['even']} about as likely as "
        f"not, {counts['unlikely']} unlikely (below 33 %), {counts['not_met']} not met, "
        f"{counts['unassessed']} without a probability. Expected number met: "
        f"{tally['expected']:.1f} of the {counted} with an outcome or a probability ({level} "
        f"interval {low}-{high})."
    )
    if both is not None:
        text += f" Chance that the headline targets ({head_names}) are all met: {both}."
    text += (
        " This treats the targets as independent (Poisson-binomial); if they share a common "
        f"shock (latent correlation {tally['shared_shock']:g}), the {level} interval widens to "
        f"{slow}-{shigh}."
    )
    if tally.get("illustrative"):
        text += (
            f" **ILLUSTRATIVE:** {len(tally['illustrative'])} of the counted targets rest on "
            "made-up figures, so these numbers are not a real assessment."
        )
    return text


def next_year(
    record: Mapping[str, Any] | None,
    unit: str,
    language: str = "en",
    *,
    indicator: str | None = None,
    short: bool = False,
) -> str | None:
    """What next year must bring (:func:`brandstats.next_year`), in words; None without it.

    ``short`` gives the scorecard's cell: ``2023: at least 5,180`` (``2023年：至少5,180``).
    """
    check_language(language)
    if not record:
        return None
    zh = language == "zh"
    year, value = record["year"], record.get("value_for_even_odds")
    if value is None:
        never = record.get("reason") == "never"
        if zh:
            return f"{year}年：" + (
                "任何取值都无法使达成概率回到一半"
                if never
                else "任何取值都能保持一半以上的达成概率"
            )
        return f"{year}: " + (
            "no value in the unit's range gives even odds"
            if never
            else "any value keeps the odds at least even"
        )
    at_least = record.get("direction") == "at least"
    shown = quantity(value, unit, language, indicator=indicator)
    words = {  # (at least, at most); strict: a ">" or "<" target in its year, not the target
        (False, "en"): ("at least", "at most"), (False, "zh"): ("至少", "至多"),
        (True, "en"): ("more than", "less than"), (True, "zh"): ("超过", "低于"),
    }[bool(record.get("strict")), "zh" if zh else "en"]  # fmt: skip
    word_ = words[0] if at_least else words[1]
    if short:
        return f"{year}年：{word_}{shown}" if zh else f"{year}: {word_} {shown}"
    if record.get("in_target_year"):
        if zh:
            return f"{year}年即目标年份：需{word_}{shown}（即目标值）。"
        return f"{year} is the target year: it must bring {word_} {shown} (the target itself)."
    path = record.get("required_path")
    path_text = "" if path is None else quantity(path, unit, language, indicator=indicator)
    if zh:
        text = f"{year}年需{word_}{shown}，才能使达成概率保持在50%及以上（模型按该值重新拟合）"
        return text + (f"；匀速增长路径上的{year}年值为{path_text}。" if path_text else "。")
    text = (
        f"{year} must bring {word_} {shown} to keep P(met) at 50 % or more (the models refitted "
        "on that figure)"
    )
    return text + (f"; the required path's value for {year} is {path_text}." if path_text else ".")


def sentences(*texts: str, language: str = "en") -> str:
    """Sentences one after the other: a space between them in English, none in Chinese (a
    full stop 。 needs no space after it); empty ones left out."""
    check_language(language)
    return ("" if language == "zh" else " ").join(t for t in texts if t)


def vintage_basis(basis: str | None, as_of: int | None, language: str = "en") -> str:
    """Which figures an assessment read (``vintage_basis`` of :func:`brandstats.assess`), as
    the report and the scorecard state it: ``Figures: as published by the end of 2021 (later
    revisions left out).`` or ``Figures: the latest, revisions included.``"""
    check_language(language)
    zh = language == "zh"
    if basis == "published" and as_of is not None:
        if zh:
            return f"数据口径：截至{as_of}年底已公布的数值（其后的修订和新数据不计）。"
        return (
            f"Figures: as published by the end of {as_of} (later revisions and figures left out)."
        )
    if as_of is not None:
        if zh:
            return f"数据口径：{as_of}年及以前各年的最新公布值（含其后的修订）。"
        return f"Figures: the latest for {as_of} and earlier, revisions included."
    return "数据口径：最新公布值（含修订）。" if zh else "Figures: the latest, revisions included."


def change(delta: float | None, language: str = "en") -> str:
    """A change of probability in percentage points: ``+12 pp`` (``+12个百分点``)."""
    check_language(language)
    if is_missing(delta):
        return DASH
    points = round(100 * float(delta))  # type: ignore[arg-type]
    shown = "0" if points == 0 else f"{points:+d}"  # never "-0"
    return f"{shown}个百分点" if language == "zh" else f"{shown} pp"


def vintage_reason(
    why: Mapping[str, Any] | None, unit: str, language: str = "en", *, indicator: str | None = None
) -> str | None:
    """Why P(met) moved between two vintages (:func:`brandstats.vintages.why_moved`), worded."""
    check_language(language)
    if not why:
        return None
    zh = language == "zh"

    def value(v: float, qualifier: str | None = why.get("qualifier")) -> str:
        return quantity(v, unit, language, indicator=indicator, qualifier=qualifier)

    reason = why.get("reason")
    if reason == "new_observation":
        seen = value(why["value"])
        if why.get("expected") is None:
            text = (
                f"新增{why['year']}年观测值{seen}"
                if zh
                else f"new figure for {why['year']}: {seen}"
            )
        else:
            side = {"above": ("高于", "above"), "below": ("低于", "below"),
                    "as expected": ("符合", "as")}[why["direction"]]  # fmt: skip
            expected = value(why["expected"], None)  # a forecast, never a bound
            text = (
                f"新增{why['year']}年观测值{seen}，{side[0]}上一版预测的{expected}"
                if zh
                else f"new figure for {why['year']}: {seen}, {side[1]} the previous vintage's "
                f"forecast of {expected}"
            )
    elif reason == "revision":
        text = (
            f"{why['year']}年数据修订：{value(why['old'], None)} → {value(why['new'])}"
            if zh
            else f"{why['year']} revised: {value(why['old'], None)} -> {value(why['new'])}"
        )
    elif reason == "outcome":
        text = "目标年份已过，结果不变" if zh else "the target year has passed: the outcome stands"
    elif reason == "districts":
        names = ("、" if zh else ", ").join(why["regions"])
        text = (
            f"下辖区县新增{why['year']}年数据：{names}"
            if zh
            else f"new {why['year']} figures of its districts: {names}"
        )
    else:
        text = "数据未变，模型权重调整" if zh else "same data, models re-weighted"
    moved = why.get("reweighted") or []
    if moved and reason != "reweighting":
        names = ("、" if zh else ", ").join(model_name(m, language) for m in moved)
        text += f"；模型权重变化：{names}" if zh else f"; weights moved: {names}"
    return text


def probability_reason(p: float | None, bound: str | None, language: str = "en") -> str | None:
    """Why a probability is shown as a bound (one sentence), or None when it is not one."""
    check_language(language)
    if bound not in _BOUND_REASONS or is_missing(p):
        return None
    return _BOUND_REASONS[bound][language].format(shown=probability(p, language, bound))


def share(x: float | None, language: str = "en") -> str:
    """A share (0-1) in whole percents, e.g. interval coverage ``90 %``; a dash when missing."""
    check_language(language)
    return DASH if is_missing(x) else _percent(f"{float(x) * 100:.0f}", language)  # type: ignore[arg-type]


def growth(
    rate: float | None,
    kind: str = "compound",
    language: str = "en",
    *,
    unit: str = "",
    indicator: str | None = None,
) -> str:
    """An annual rate: compound ``12.3 %/yr`` (zh ``每年12.3%``) or absolute change per year."""
    check_language(language)
    if is_missing(rate):
        return DASH
    if kind == "compound":
        text = _rate_number(float(rate) * 100)  # type: ignore[arg-type]
        return f"每年{text}%" if language == "zh" else f"{text} %/yr"
    if unit in ("count", "rank") and 0 < abs(float(rate)) < 1:  # type: ignore[arg-type]
        amount = _rate_number(float(rate))  # type: ignore[arg-type]
        amount = f"{amount}{_measure_word(indicator)}" if language == "zh" else amount
        return f"每年{amount}" if language == "zh" else f"{amount} per year"
    amount = quantity(rate, unit, language, indicator=indicator) if unit else number(rate)
    return f"每年{amount}" if language == "zh" else f"{amount} per year"


def _rate_number(x: float) -> str:
    """One decimal (``13.3``), or one significant digit when that would show 0 (``0.01``)."""
    if x == 0 or abs(x) >= 0.05:
        return number(round(x, 1))
    return number(x, digits=1)


def target(
    comparison: str,
    value: float,
    unit: str,
    year: int | None,
    language: str = "en",
    *,
    indicator: str | None = None,
) -> str:
    """The target as a phrase: ``≥ 4,400 by 2022`` / ``2022年 ≥ 4,400家``."""
    shown = (
        f"{comparison_symbol(comparison)} {quantity(value, unit, language, indicator=indicator)}"
    )
    if year is None or is_missing(year):
        return shown
    return f"{int(year)}年 {shown}" if language == "zh" else f"{shown} by {int(year)}"


# ----------------------------------------------------------------------------- sentences

# Notes and reasons the engine writes (English), as patterns with their Chinese.
_NOTES_ZH = (
    (
        r"lower-bound observations enter the models at their bound.*",
        "下限观测值按其下限进入模型（真实值至少如此），因此预测偏低",
    ),
    (r"ILLUSTRATIVE: made-up figures.*", "示意：使用了虚构数值，并非真实评估"),
    (r"no progress measure: (.*)", "无法计算进展：{0}"),
    (
        r"the progress measure needs two observations from (\d+) on, got (\d+)",
        "进展评价需要自{0}年起至少两个观测值，现有{1}个",
    ),
    (r"the target year (\d+) is observed", "目标年份{0}年已有观测值"),
    (
        r"no observation up to (\d+); the first is from (\d+)",
        "{0}年及以前没有观测值；最早的观测值来自{1}年",
    ),
    (r"no observation up to (\d+)", "{0}年及以前没有观测值"),
    (
        r"intervals widened by a factor ([\d.]+) to match the backtest",
        "为与回测一致，区间放宽了{0}倍",
    ),
    (
        r"single model '(\w+)' as requested: weight 1, no widening",
        "按要求只用{0}：权重为1，不放宽区间",
    ),
    (
        r"no backtest possible with (\d+) observations and horizon (\d+); "
        r"equal weights, no widening",
        "{0}个观测值、预测期{1}年，无法回测；各模型等权，不放宽区间",
    ),
    (r"(\w+) needs at least (\d+) observations, got (\d+)", "{0}至少需要{1}个观测值，现有{2}个"),
    (r"no model can be fitted: (.*)", "没有可拟合的模型：{0}"),
    (
        r"only 0 common backtest case\(s\) with it \(needs (\d+)\); weight 0",
        "与其他模型没有共同的回测案例（需要{0}个），因此权重为0",
    ),
    (
        r"only (\d+) common backtest case\(s\) with it \(needs (\d+)\); weight 0",
        "与其他模型共同的回测案例只有{0}个（需要{1}个），因此权重为0",
    ),
    (
        r"only 0 common backtest case\(s\) with it \(needs (\d+)\).*",
        "与其他模型没有共同的回测案例（需要{0}个），因此各模型等权",
    ),
    (
        r"only (\d+) common backtest case\(s\) with it \(needs (\d+)\).*",
        "与其他模型共同的回测案例只有{0}个（需要{1}个），因此各模型等权",
    ),
    (
        r"ILLUSTRATIVE: generated by (\S+) \(seed (\d+)\); not a real figure.*",
        "示意数据：由 {0} 生成（随机种子 {1}），并非真实数值，请替换为公布数据",
    ),
    (r"(\w+) not backtested: (.*)", "{0}未回测：{1}"),
    (r"weight 0", "权重为0"),
    (r"(\w+) not backtested", "{0}未回测"),
    (r"holt needs consecutive years; missing (.*)", "霍尔特线性趋势需要连续年份；缺少{0}"),
    (r"loglinear needs positive values", "对数线性趋势需要正值"),
    (
        r"models fitted on the (\w+) scale of the unit's range, so every forecast stays inside it",
        "模型在单位取值范围的{0}尺度上拟合，因此所有预测都落在该范围内",
    ),
)


_CONSEQUENCE = {"weight 0": "it gets no weight", "equal weights": "the models are weighted equally"}

# Engine sentences reworded for English readers.
_NOTES_EN = (
    (
        r"only 0 common backtest case\(s\) with it \(needs (\d+)\); (weight 0|equal weights)",
        "no backtest case in common with the other models ({0} needed), so {1}",
    ),
    (
        r"only 1 common backtest case\(s\) with it \(needs (\d+)\); (weight 0|equal weights)",
        "only 1 backtest case in common with the other models ({0} needed), so {1}",
    ),
    (
        r"only (\d+) common backtest case\(s\) with it \(needs (\d+)\); (weight 0|equal weights)",
        "only {0} backtest cases in common with the other models ({1} needed), so {2}",
    ),
    (r"(\w+) not backtested: (.*)", "{0} not backtested: {1}"),
)


def note(text: str | None, language: str = "en") -> str:
    """An engine note or reason in ``language``.

    A :class:`brandstats.notes.Note` is worded from its code and values; a plain sentence (a
    figure's source, an older result's text) is matched against the known sentences, and an
    unknown English one is kept as it is, marked ``（英文）`` in Chinese text.
    """
    check_language(language)
    if is_missing(text) or not str(text).strip():
        return DASH
    if isinstance(text, Note):  # the engine's notes carry their code: worded from notes.py
        return words(text, language, lambda m: model_name(m, language), lambda t: note(t, language))
    text = str(text)
    if language == "en":
        for pattern, en in _NOTES_EN:
            m = re.fullmatch(pattern, text)
            if m:
                return en.format(*(_CONSEQUENCE.get(g) or note(g) for g in m.groups()))
        return text
    whole = _note_zh(text)
    if whole is not None:
        return whole
    parts = [p.strip() for p in text.split("; ")]
    return "；".join(_note_zh(p) or _marked_english(p) for p in parts)


def source(text: str | None, language: str = "en") -> str:
    """A figure's source as published; only the illustrative rows' note is translated."""
    check_language(language)
    if is_missing(text) or not str(text).strip():
        return DASH
    text = str(text)
    return note(text, language) if text.startswith("ILLUSTRATIVE") else text


def _note_zh(text: str) -> str | None:
    for pattern, zh in _NOTES_ZH:
        m = re.fullmatch(pattern, text)
        if m:
            return zh.format(
                *(note(g, "zh") if " " in g else _MODELS.get(g, (g, g))[1] for g in m.groups())
            )
    return None


def _marked_english(text: str) -> str:
    return f"{text}（英文）" if re.search(r"[A-Za-z]{3}", text) else text


_RECONCILIATION = {
    "slowed": {
        "en": "Progress since the base year counts as {category}, but growth has slowed since "
        "{since} to {recent}, below the {required} still needed, so the projection gives "
        "{p}.",
        "zh": "自基期以来的进展评价为“{category}”，但自{since}年以来增长放缓至{recent}，"
        "低于仍需的{required}，因此预测的达成概率为{p}。",
    },
    "accelerated": {
        "en": "Progress since the base year counts as {category}, but growth has picked up "
        "since {since} to {recent}, above the {required} still needed, so the projection "
        "gives {p}.",
        "zh": "自基期以来的进展评价为“{category}”，但自{since}年以来增长加快至{recent}，"
        "高于仍需的{required}，因此预测的达成概率为{p}。",
    },
    "currently_meets": {
        "en": "The latest value, {last}, already meets the target, but the projection's median "
        "for the target year, {median}, does not, so P(met) is {p}.",
        "zh": "最新值{last}已达到目标，但目标年份的预测中位数{median}未达到，因此达成概率为{p}。",
    },
    "tolerance": {
        "en": "The category is {category} only through the Eurostat rule's 5 % tolerance "
        "(observed {observed} against {required} required), so P(met) is {p}.",
        "zh": "仅因欧盟统计局规则5%的容差，进展评价才为“{category}”"
        "（实际{observed}，所需{required}），因此达成概率为{p}。",
    },
    "forecast": {
        "en": "The growth rates ({observed} observed, {required} required) suggest {category}, "
        "but the projection's median for the target year, {median}, lies on the other side "
        "of the target, so P(met) is {p}.",
        "zh": "增长率（实际{observed}，所需{required}）对应“{category}”，但目标年份的预测中位数"
        "{median}落在目标的另一侧，因此达成概率为{p}。",
    },
    "uncertain": {
        "en": "Progress counts as {category}, but the series varies so much from year to year "
        "that the projection gives only {p}.",
        "zh": "进展评价为“{category}”，但该序列年际波动很大，预测的达成概率仅为{p}。",
    },
}
_RECONCILIATION_GENERIC = {
    "en": "The Eurostat-method category ({category}) and P(met) ({p}) point different ways: "
    "the category extrapolates the average growth since the base year, P(met) "
    "weighs the models' projections and their past errors.",
    "zh": "欧盟统计局方法的进展评价（{category}）与达成概率（{p}）方向不一致："
    "进展评价外推自基期以来的平均增长，达成概率则综合各模型的预测及其历史误差。",
}


def reconciliation(
    record: Mapping[str, Any] | None,
    language: str = "en",
    *,
    category_name: str | None = None,
    p: float | None = None,
    unit: str = "",
    indicator: str | None = None,
) -> str | None:
    """The sentence reconciling the official-style category and P(met), or None.

    ``record`` is ``Assessment.reconciliation``: a ``reason`` code and its numbers (e.g.
    ``{"reason": "slowed", "since": 2019, "recent_growth": 0.02, "required_growth": 0.08}``;
    growth rates are compound unless ``kind`` is ``"absolute"``). The engine's codes
    (``slowed``, ``accelerated``, ``currently_meets``, ``tolerance``, ``forecast``) get their
    own sentence; any other code a generic one naming it. ``unit`` and ``indicator`` write
    values and absolute rates in display units.
    """
    check_language(language)
    if not record:
        return None
    kind = str(record.get("kind", record.get("growth_kind", "compound")))
    rate = {"kind": kind, "language": language, "unit": unit, "indicator": indicator}

    def value(key: str) -> str:
        return (
            quantity(record.get(key), unit, language, indicator=indicator)
            if unit
            else (number(record.get(key)))
        )

    fields = {
        "category": category(category_name, language),
        "p": probability(p, language),
        "since": record.get("since", DASH),
        "recent": growth(record.get("recent_growth"), **rate),
        "required": growth(record.get("required_growth"), **rate),
        "observed": growth(record.get("observed_growth"), **rate),
        "last": value("last_value"),
        "median": value("forecast_median"),
        "reason": str(record.get("reason", "")),
    }
    template = _RECONCILIATION.get(fields["reason"], _RECONCILIATION_GENERIC)[language]
    return template.format(**fields)


def title(result: Any, language: str = "en") -> str:
    """A result's title: the indicator's name, its region and the vintage.

    Examples: ``Valid high-tech enterprises — Jinan (as of 2020)``,
    ``有效高新技术企业数量 — 济南（截至2020年）``.
    """
    check_language(language)
    text = _name(result, language)
    if result.region:
        text += f" — {region(result.region, language)}"
    if result.as_of is not None:
        text += f"（截至{result.as_of}年）" if language == "zh" else f" (as of {result.as_of})"
    return text


def fan_alt(result: Any, language: str = "en") -> str:
    """Alt text of a result's fan chart: what it shows, in words."""
    check_language(language)
    history = _get(result, "history")
    first = int(history["year"].iloc[0]) if history is not None and len(history) else None
    goal = target(
        result.comparison,
        result.target,
        result.unit,
        result.target_year,
        language,
        indicator=result.indicator,
    )
    p = probability(result.probability, language, _get(result, "probability_bound"))
    if language == "zh":
        text = f"扇形图：{title(result, language)}。"
        if first is not None:
            text += f"{first}–{result.last_year}年观测值，"
        return text + f"预测至{result.target_year}年及其区间，目标{goal}，达成概率{p}。"
    text = f"Fan chart: {title(result, language)}. "
    if first is not None:
        text += f"Observed {first}–{result.last_year}, "
    return text + f"projection to {result.target_year} with intervals, target {goal}, P(met) {p}."


def targets_met_alt(tally: Mapping[str, Any], language: str = "en") -> str:
    """Alt text of the chart of the number of targets met."""
    check_language(language)
    low, high = tally["interval"]
    if language == "zh":
        return (
            f"柱状图：达成目标个数的概率分布，预计{tally['expected']:.1f}个，"
            f"{share(tally['level'], language)}区间{low}–{high}个。"
        )
    return (
        f"Bar chart: the probability of each number of targets met; {tally['expected']:.1f} "
        f"expected, {share(tally['level'], language)} interval {low}-{high}."
    )


def vintages_alt(vintages: Any, language: str = "en") -> str:
    """Alt text of the outlook-over-time chart."""
    check_language(language)
    years = [v["as_of"] for v in vintages]
    first, last = vintages[0], vintages[-1]
    start = probability(first.get("probability"), language, first.get("probability_bound"))
    end = probability(last.get("probability"), language, last.get("probability_bound"))
    if language == "zh":
        return f"折线图：截至{years[0]}–{years[-1]}各年的达成概率，从{start}到{end}。"
    return f"Line chart: P(met) as of each year {years[0]}-{years[-1]}, from {start} to {end}."


def scorecard_alt(rows: int, language: str = "en") -> str:
    """Alt text of the scorecard chart."""
    check_language(language)
    if language == "zh":
        return f"条形图：{rows}个目标的达成概率，按目标类别分组，颜色表示达成可能性。"
    return (
        f"Bar chart: P(met) of {rows} target{'s' if rows != 1 else ''}, grouped by the plan's "
        "goals, coloured by what P(met) says."
    )


def region(name: str | None, language: str = "en") -> str:
    """A region's name in ``language``: in Chinese, its first Chinese alias in
    ``data/regions.csv`` (``Jinan`` -> ``济南``); otherwise, and in English, as the targets
    write it."""
    check_language(language)
    if is_missing(name) or not str(name):
        return DASH
    return _chinese_regions().get(str(name), str(name)) if language == "zh" else str(name)


@functools.cache
def _chinese_regions() -> dict[str, str]:
    """{region: its first alias written in Chinese characters} from ``data/regions.csv``."""
    from .loading import region_aliases

    names: dict[str, str] = {}
    for alias, place in region_aliases().items():
        if any("\u4e00" <= c <= "\u9fff" for c in alias):
            names.setdefault(place, alias)
    return names


def group_name(record: Mapping[str, Any], language: str = "en") -> str:
    """The label of a target's group in ``language``: its ``group_en`` or ``group_zh`` (the
    other language's when blank), else the group as the targets file writes it (``科技创新``);
    ``context``, the group of indicators without a target, reads ``Context`` / ``背景指标``.

    Examples
    --------
    >>> group_name({"group": "科技创新"}), group_name({"group": "p", "group_zh": "产品"}, "zh")
    ('科技创新', '产品')
    """
    check_language(language)
    own, other = ("group_zh", "group_en") if language == "zh" else ("group_en", "group_zh")
    for key in (own, other):
        label = record.get(key)
        if not is_missing(label) and str(label).strip():
            return str(label)
    group = record.get("group")
    if is_missing(group) or not str(group).strip():
        return DASH
    return word("context", language) if group == "context" else str(group)


def _get(result: Any, name: str, default: Any = None) -> Any:
    return getattr(result, name, default)


def _name(result: Any, language: str) -> str:
    meta = dict(_get(result, "meta", {}) or {})
    return str(meta.get("name_zh" if language == "zh" else "name_en") or result.indicator)


def describe(result: Any, language: str = "en") -> str:
    """A few lines of Markdown that say what an assessment found, in ``language``.

    Parameters
    ----------
    result : Assessment
    language : {"en", "zh"}

    Returns
    -------
    str
        The illustrative warning (if any); the target with P(met) and the verdict (or the
        outcome); the latest value; the official-style progress; the reconciling sentence
        where the two differ; the backtest's coverage; the retrospective outcome of a vintage.
    """
    check_language(language)
    zh = language == "zh"
    end = "。" if zh else "."
    unit, indicator = result.unit, result.indicator
    lines = [f"**{word('illustrative_banner', language)}**"] if result.illustrative else []
    goal = target(
        result.comparison, result.target, unit, result.target_year, language, indicator=indicator
    )
    if result.probability is not None:
        bound = _get(result, "probability_bound")
        p = probability(result.probability, language, bound)
        v = verdict(result.verdict, language)
        lines.append(
            f"目标：{goal}。达成概率 **{p}**（{v}）。"
            if zh
            else f"Target {goal}: P(met) = **{p}** ({v})."
        )
        if bound:
            lines.append(probability_reason(result.probability, bound, language))
    else:
        v = verdict(result.verdict, language)
        why = (
            f"（{note(result.reason, language)}）" if zh else f" ({note(result.reason, language)})"
        )
        why = why if result.reason else ""
        lines.append(f"目标：{goal}。**{v}**{why}。" if zh else f"Target {goal}: **{v}**{why}.")
    latest = quantity(
        result.last_value, unit, language, indicator=indicator, qualifier=_last_qualifier(result)
    )
    text = (
        f"最新值：{result.last_year}年 {latest}"
        if zh
        else f"Latest value: {latest} in {result.last_year}"
    )
    if _get(result, "currently_meets"):
        text += (
            f"，{word('currently meets', language)}" if zh else f"; it {word('currently meets')}"
        )
    lines.append(text + end)
    pr = result.progress
    if pr is not None:
        rate = {"kind": pr.kind, "language": language, "unit": unit, "indicator": indicator}
        cat = category(pr.category, language)
        if zh:
            text = (
                f"进展评价（自{pr.base_year}年）：实际{growth(pr.observed_growth, **rate)}，"
                f"所需{growth(pr.required_growth, **rate)}，比值 R = {number(pr.ratio, digits=2)}："
                f"**{cat}**。"
            )
        else:
            text = (
                f"Progress since {pr.base_year}: observed {growth(pr.observed_growth, **rate)}, "
                f"required {growth(pr.required_growth, **rate)}, R = "
                f"{number(pr.ratio, digits=2)}: **{cat}**."
            )
        if not is_missing(pr.still_required_growth):
            still = growth(pr.still_required_growth, **rate)
            text += (
                f"自{pr.last_year}年起仍需{still}。"
                if zh
                else f" Still required from {pr.last_year}: {still}."
            )
        lines.append(text)
    sentence = reconciliation(
        _get(result, "reconciliation"),
        language,
        category_name=pr.category if pr else None,
        p=result.probability,
        unit=unit,
        indicator=indicator,
    )
    if sentence:
        lines.append(sentence)
    if result.coverage:
        level = max(result.coverage)
        before, after = result.coverage[level]
        if not is_missing(before):
            lv = share(level, language)
            text = (
                f"回测：{share(before, language)}的历史实际值落在{lv}区间内"
                if zh
                else f"Backtest: {share(before)} of past actuals fell in the {lv} intervals"
            )
            if result.widening and result.widening > 1:
                k = number(result.widening, digits=3)
                text += (
                    f"；区间已放宽{k}倍（放宽后{share(after, language)}）"
                    if zh
                    else f"; intervals widened ×{k} (then {share(after)})"
                )
            lines.append(text + end)
    if result.actual is not None and result.as_of is not None:
        actual = quantity(
            result.actual, unit, language, indicator=indicator, qualifier=result.actual_qualifier
        )
        met = outcome(result.met, language)
        text = (
            f"回顾：{result.target_year}年实际值为{actual}；目标{met}"
            if zh
            else f"Retrospective: the {result.target_year} value was {actual}; target {met}"
        )
        if result.pointed_right_way is not None:
            way = (
                ("正确" if result.pointed_right_way else "错误")
                if zh
                else (
                    "pointed the right way" if result.pointed_right_way else "pointed the wrong way"
                )
            )
            text += (
                f"；{result.as_of}年的预测方向{way}"
                if zh
                else f"; the projection as of {result.as_of} {way}"
            )
        lines.append(text + end)
    return "\n\n".join(lines)


def _last_qualifier(result: Any) -> str | None:
    history = _get(result, "history")
    if history is None or not len(history) or "qualifier" not in history:
        return None
    q = history["qualifier"].iloc[-1]
    return str(q) if q in ("lower_bound", "upper_bound") else None


# ----------------------------------------------------------------------------- user text in outputs

# Characters that make Markdown (or the MathJax of an exported page) out of plain text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
# A spreadsheet reads a cell starting with one of these as a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def markdown_text(text: object) -> str:
    """``text`` (a name, region, source or note from an input file) as literal Markdown.

    HTML is escaped and Markdown's punctuation backslash-escaped, so that no tag, link,
    emphasis or formula comes out of the text; line breaks become spaces (a heading or list
    item stays one line).

    Examples
    --------
    >>> markdown_text("<b>[x](javascript:f())</b>")
    '&lt;b&gt;\\\\[x\\\\]\\\\(javascript:f\\\\(\\\\)\\\\)&lt;/b&gt;'
    """
    flat = " ".join(str(text).split())
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", flat), quote=False)


def spreadsheet_cell(value: Any) -> Any:
    """A cell for a CSV or workbook: text a spreadsheet would run as a formula gets a ``'``.

    Only text is changed (numbers, negative ones included, stay numbers), as OWASP advises
    against CSV injection: Excel and WPS show ``'=1+2`` as the text ``=1+2``.

    Examples
    --------
    >>> [spreadsheet_cell(v) for v in ("=1+2", "-x", -3.5, "Jinan")]
    ["'=1+2", "'-x", -3.5, 'Jinan']
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def aggregate(
    info: Mapping[str, Any] | None, unit: str, language: str = "en", *, indicator: str | None = None
) -> str:
    """One sentence on a parent's outlook from its districts (:mod:`brandstats.hierarchy`):
    the basis, and beside it what its own series alone gives, with the gap."""
    if not info:
        return ""
    zh = language == "zh"
    q = lambda v: quantity(v, unit, language, indicator=indicator)  # noqa: E731
    n = len(info.get("children") or ())
    kind = ("加总" if info.get("basis") == "sum" else "加权平均") if zh else str(info.get("basis"))
    text = (
        f"达标概率由下辖{n}个区县预测的{kind}得出（中位数{q(info['median'])}）"
        if zh
        else f"P(met) is read from the {kind} of its {n} districts' forecasts "
        f"(median {q(info['median'])})"
    )
    medians = info.get("sum_of_medians")
    if medians is not None and q(medians) != q(info["median"]):  # medians do not add up
        text += (
            f"，而非各区县中位数之和{q(medians)}（中位数不能相加）"
            if zh
            else f", not the sum of the districts' medians, {q(medians)} (medians do not add up)"
        )
    own, own_median = info.get("own_probability"), info.get("own_median")
    if own is None or own_median is None:
        return text + ("；本级没有自己的序列。" if zh else "; it has no series of its own.")
    gap = q(abs(own_median - info["median"]))
    own_p = probability(own, language)
    return text + (
        f"；仅用本级序列则为{own_p}（中位数{q(own_median)}），两者中位数相差{gap}。"
        if zh
        else f"; its own series alone gives {own_p} (median {q(own_median)}), "
        f"a gap of {gap} between the medians."
    )
