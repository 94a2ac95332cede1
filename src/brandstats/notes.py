"""Structured notes: what the engine says about a forecast, as a code and its values.

A :class:`Note` is a ``str`` (its English sentence, so it prints, joins and serialises as
before) that also carries ``code`` and ``values``. Views word it in the reader's language from
:data:`TEMPLATES` (:func:`brandstats.format.note`), so rewording a note changes both languages
at once and a Chinese report never shows a half-English sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["TEMPLATES", "Note", "note_of", "words"]

TEMPLATES: Mapping[str, Mapping[str, str]] = {
    "lower_bound_observations": {
        "en": "lower-bound observations enter the models at their bound (true values are at "
        "least that), so projections from them lean low",
        "zh": "下限观测值按其下限进入模型（真实值至少如此），因此预测偏低",
    },
    "illustrative": {
        "en": "ILLUSTRATIVE: made-up figures were used; this is not a real assessment",
        "zh": "示意：使用了虚构数值，并非真实评估",
    },
    "no_progress": {"en": "no progress measure: {reason}", "zh": "无法计算进展：{reason}"},
    "target_year_observed": {
        "en": "the target year {year} is observed",
        "zh": "目标年份{year}年已有观测值",
    },
    "widened": {
        "en": "intervals widened by a factor {factor:.3g} to match the backtest",
        "zh": "为与回测一致，区间放宽了{factor:.3g}倍",
    },
    "narrowed": {
        "en": "intervals narrowed by a factor {factor:.3g} to match the backtest",
        "zh": "为与回测一致，区间收窄为{factor:.3g}倍",
    },
    "single_model": {
        "en": "single model {model!r} as requested: weight 1, no widening",
        "zh": "按要求只用{model}：权重为1，不放宽区间",
    },
    "no_backtest": {
        "en": "no backtest possible with {points} observations and horizon {horizon}; equal "
        "weights, no widening",
        "zh": "{points}个观测值、预测期{horizon}年，无法回测；各模型等权，不放宽区间",
    },
    "no_common_cases": {
        "en": "no backtest case in common with the other models ({needed} needed), so "
        "{consequence}",
        "zh": "与其他模型没有共同的回测案例（需要{needed}个），因此{consequence}",
    },
    "one_common_case": {
        "en": "only 1 backtest case in common with the other models ({needed} needed), so "
        "{consequence}",
        "zh": "与其他模型共同的回测案例只有1个（需要{needed}个），因此{consequence}",
    },
    "too_few_cases": {
        "en": "only {count} backtest cases in common with the other models ({needed} needed), "
        "so {consequence}",
        "zh": "与其他模型共同的回测案例只有{count}个（需要{needed}个），因此{consequence}",
    },
    "weight_zero": {"en": "it gets no weight", "zh": "权重为0"},
    "equal_weights": {"en": "the models are weighted equally", "zh": "各模型等权"},
    "not_backtested": {"en": "{model} not backtested: {reason}", "zh": "{model}未回测：{reason}"},
    "widening_not_estimated": {
        "en": "widening not estimated: {count} backtest case(s), needs {needed}; factor 1",
        "zh": "回测案例只有{count}个（需要{needed}个），未估计区间放宽倍数，取1",
    },
    "needs_points": {
        "en": "{model} needs at least {needed} observations, got {got}",
        "zh": "{model}至少需要{needed}个观测值，现有{got}个",
    },
    "needs_consecutive_years": {
        "en": "holt needs consecutive years; missing {missing}",
        "zh": "霍尔特线性趋势需要连续年份；缺少{missing}",
    },
    "needs_positive_values": {
        "en": "loglinear needs positive values",
        "zh": "对数线性趋势需要正值",
    },
    "not_on_transformed_scale": {
        "en": "loglinear not used: the models work on the {scale} scale of the unit's range, "
        "where the values may be negative",
        "zh": "未使用对数线性趋势：模型在单位取值范围的{scale}尺度上拟合，该尺度上的值可为负",
    },
    "no_model": {"en": "no model can be fitted: {reasons}", "zh": "没有可拟合的模型：{reasons}"},
    "model_scale": {
        "en": "models fitted on the {scale} scale of the unit's range, so every forecast stays "
        "inside it",
        "zh": "模型在单位取值范围的{scale}尺度上拟合，因此所有预测都落在该范围内",
    },
    "reference_mixed": {
        "en": "the models' forecast is mixed with how real official series of its kind moved "
        "(reference class, {cases} cases), weight {weight:.0%}",
        "zh": "模型预测与同类真实官方指标的实际变化（参照类，{cases}个案例）加权混合，"
        "权重{weight:.0%}",
    },
    "no_reference": {
        "en": "no reference class: the engine learned from real official shares and positive "
        "aggregates (rates, totals), and this series is neither (a rank, a small count, or a "
        "value at or below 0)",
        "zh": "无参照类：引擎所依据的是真实官方指标中的比例和正的总量（比率、总数），"
        "本序列两者皆非（名次、很小的计数或非正值）",
    },
    "reference_outlook": {
        "en": "{points} observation(s): no model can be fitted, so the target year is read from "
        "{basis} and how real official series of its kind moved over {horizon} years "
        "({cases} reference cases)",
        "zh": "只有{points}个观测值，无法拟合模型；目标年份的值依据{basis}及同类真实官方指标在"
        "{horizon}年间的变化推断（参照案例{cases}个）",
    },
    "too_few_observations": {"en": "too few observations", "zh": "观测值太少"},
    "aggregate_dependent": {
        "en": "the {basis} of its {regions} districts' forecasts, joined with the correlation "
        "{rho:.2f} their backtest errors showed ({cases} shared cases)",
        "zh": "由下辖{regions}个区县的预测{basis}而得，按其回测误差显示的相关系数{rho:.2f}"
        "联合（共同案例{cases}个）",
    },
    "aggregate_independent": {
        "en": "the {basis} of its {regions} districts' forecasts, taken as independent: their "
        "backtests share {cases} cases, too few to estimate how they move together",
        "zh": "由下辖{regions}个区县的预测{basis}而得，按相互独立处理：其回测只有{cases}个"
        "共同案例，不足以估计其联动",
    },
    "basis_sum": {"en": "sum", "zh": "加总"},
    "basis_weighted_mean": {"en": "weighted mean", "zh": "加权平均"},
    "no_aggregate_rank": {
        "en": "no aggregate of its districts: ranks neither add up nor average",
        "zh": "不汇总下辖区县：名次既不能相加也不能平均",
    },
    "no_aggregate_weights": {
        "en": "no aggregate of its districts: a {unit} value does not add up, and without a "
        "weight column (population, firms) for every district there is no weighted mean",
        "zh": "不汇总下辖区县：{unit}数值不能相加，且并非每个区县都有权重列（人口、企业数），"
        "无法加权平均",
    },
    "no_aggregate_missing": {
        "en": "no aggregate of its districts: no forecast for {regions}",
        "zh": "不汇总下辖区县：{regions}没有预测",
    },
    "no_common_year": {
        "en": "its {regions} districts have no year observed in all of them",
        "zh": "下辖{regions}个区县没有共同的观测年份",
    },
    "no_series_no_aggregate": {
        "en": "no observations of its own, and {why}",
        "zh": "本级没有观测值，且{why}",
    },
    "no_series_missing": {
        "en": "no observations of its own, and its districts cannot stand in: {regions} "
        "cannot be assessed",
        "zh": "本级没有观测值，下辖区县也无法替代：{regions}无法评估",
    },
    "basis_one_value": {"en": "its one value", "zh": "其唯一观测值"},
    "basis_two_values": {
        "en": "its latest value, its one observed change",
        "zh": "其最新值和唯一一次观测到的变化",
    },
}
"""Code -> the sentence in each language; ``{name}`` fields are the note's values (a value
that is itself a Note is worded in the same language, a model name is translated)."""

_SCALES = {"logit": {"en": "logit", "zh": "logit"}, "log": {"en": "log", "zh": "对数"}}
_UNITS = {"percent": {"en": "percentage", "zh": "百分比"}, "continuous": {"zh": "连续"}}


class Note(str):
    """A note: its English sentence, with ``code`` and ``values`` for other languages.

    Examples
    --------
    >>> n = Note("target_year_observed", year=2022)
    >>> str(n), n.code, n.values
    ('the target year 2022 is observed', 'target_year_observed', {'year': 2022})
    """

    code: str
    values: dict[str, Any]

    def __new__(cls, code: str, **values: Any) -> Note:
        self = super().__new__(cls, _fill(code, values, "en", str))
        self.code, self.values = code, values
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # pickling (the batch's processes)
        return (_rebuild, (self.code, self.values))


def _rebuild(code: str, values: dict[str, Any]) -> Note:
    return Note(code, **values)


def _fill(
    code: str, values: Mapping[str, Any], language: str, model_name: Any, text: Any = str
) -> str:
    shown = {}
    for key, value in values.items():
        if isinstance(value, Note):
            value = words(value, language, model_name, text)
        elif isinstance(value, list | tuple):
            value = ("；" if language == "zh" else "; ").join(
                words(v, language, model_name, text) if isinstance(v, Note) else text(v)
                for v in value
            )
        elif key in ("reason", "reasons") and isinstance(value, str):
            value = text(value)
        elif key == "model":
            value = model_name(value)
        elif key == "scale":
            value = _SCALES.get(value, {}).get(language, value)
        elif key == "unit":
            value = _UNITS.get(value, {}).get(language, value)
        shown[key] = value
    return TEMPLATES[code][language].format(**shown)


def note_of(error: BaseException) -> str:
    """The Note an error was raised with, else its message."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, Note) else str(error)


def words(note: Note, language: str, model_name: Any = str, text: Any = str) -> str:
    """``note`` in ``language``; ``model_name`` words a model's name and ``text`` a plain
    (uncoded) reason inside it (both default to as they are)."""
    if language == "en":
        return str(note)
    return _fill(note.code, note.values, language, model_name, text)
