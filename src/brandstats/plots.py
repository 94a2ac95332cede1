"""Plots: the fan chart of one target and the scorecard of all targets.

Every function takes an optional :class:`~matplotlib.axes.Axes` (and makes one with
:func:`matplotlib.pyplot.subplots` when none is given), draws on it and returns it. Nothing is
saved and no global setting is changed: styles and fonts are applied with
:func:`matplotlib.pyplot.rc_context` and explicit keyword arguments.

Chinese labels (``language="zh"``) need a CJK font; :func:`cjk_font` looks for one. Without it
the plots fall back to English labels with a :class:`UserWarning`, and any character the
available fonts cannot draw is left out rather than drawn as an empty box.

Artists carry stable ``gid``\\ s so that tests and callers can find them:

=========================  ==================================================================
``history:reported``       observed values (filled circles; every qualifier not listed below)
``history:lower_bound``    observed lower bounds ("at least"; upward triangles)
``history:illustrative``   illustrative, not real, values (hollow grey circles)
``history:upper_bound``    observed upper bounds ("at most"; downward triangles)
``lower_bound_arrow``      the "at least" arrow above each lower bound (``upper_bound_arrow``
                           the "at most" arrow below each upper bound)
``median``                 the median projection, joined to the last observation
``interval:90`` ...        the prediction bands (one per level found in the forecast)
``target_line``            the target as a horizontal dashed line
``target_marker``          the target at its year
``illustrative_note``      the "ILLUSTRATIVE DATA" note (present iff data are illustrative)
``bar:<indicator>``        one scorecard bar per row; ``:<region>``, ``:<as_of>``, ``:<model>``,
                           ``:<run_name>`` are appended when needed to tell rows apart
                           (region whenever the scorecard has several regions; a
                           missing ``as_of`` shows as ``all``)
``value:<indicator>``      the text next to each bar (same naming as the bars)
``half_line``              the scorecard's vertical line at 0.5
``group_separator``        lines between the scorecard's groups
=========================  ==================================================================
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import matplotlib.font_manager as fm
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from brandstats.config import GROUP_ORDER
from brandstats.errors import BrandstatsError, DataError
from brandstats.units import display_unit

__all__ = [
    "GROUP_ORDER",
    "PROGRESS_COLOURS",
    "cjk_font",
    "plot_assessment",
    "plot_fan",
    "plot_scorecard",
]


#: Bar colour per progress category (Okabe-Ito colours, safe for colour-blind readers).
PROGRESS_COLOURS: Mapping[str, str] = {
    "on track": "#0072B2",
    "moderate progress": "#56B4E9",
    "insufficient progress": "#E69F00",
    "moving away": "#D55E00",
}
_NOT_ASSESSED_COLOUR = "#BBBBBB"

_INK = "#222222"
_GREY = "#8C8C8C"
_PROJECTION = "#0072B2"
_TARGET = "#D55E00"
_WARNING_RED = "#B2182B"

_LANGUAGES = ("en", "zh")

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "observed": "observed",
        "observed_lower_bound": "observed (lower bound: at least)",
        "observed_illustrative": "illustrative (not real)",
        "at_least": "at least",
        "observed_upper_bound": "observed (upper bound: at most)",
        "at_most": "at most",
        "median": "projection median",
        "interval": "{level}% interval",
        "target": "target {cmp} {value} ({year})",
        "target_no_year": "target {cmp} {value}",
        "probability": "P(met) = {p}",
        "default_title": "Projection and {year} target",
        "default_title_no_year": "Projection",
        "year": "year",
        "illustrative_note": "ILLUSTRATIVE DATA — not real figures",
        "illustrative_suffix": " (illustrative)",
        "scorecard_note": "Hatched bars: illustrative data — not real figures",
        "illustrative_legend": "illustrative data",
        "not_assessed": "not assessed",
        "as_of": "as of {year}",
        "all_data": "all data",
        "model": "model: {model}",
        "xlabel_probability": "probability that the target is met",
        "n/a": "n/a",
        "met": "met",
        "already met": "already met",
        "not met": "not met",
        "product": "Product brands",
        "service": "Service brands",
        "enterprise": "Enterprises",
        "quality": "Quality",
        "context": "Context",
    },
    "zh": {
        "observed": "观测值",
        "observed_lower_bound": "观测值（下限：至少）",
        "observed_illustrative": "示意值（非真实）",
        "at_least": "至少",
        "observed_upper_bound": "观测值（上限：至多）",
        "at_most": "至多",
        "median": "中位数预测",
        "interval": "{level}%区间",
        "target": "目标 {cmp} {value}（{year}年）",
        "target_no_year": "目标 {cmp} {value}",
        "probability": "达成概率 = {p}",
        "default_title": "{year}年目标与预测",
        "default_title_no_year": "预测",
        "year": "年份",
        "illustrative_note": "示意数据，非真实数值",
        "illustrative_suffix": "（示意）",
        "scorecard_note": "斜线条形：示意数据，非真实数值",
        "illustrative_legend": "示意数据",
        "not_assessed": "未评估",
        "as_of": "截至{year}年",
        "all_data": "全部数据",
        "model": "模型：{model}",
        "xlabel_probability": "目标达成概率",
        "n/a": "无法计算",
        "met": "已达成",
        "already met": "已提前达成",
        "not met": "未达成",
        "product": "产品品牌",
        "service": "服务品牌",
        "enterprise": "企业",
        "quality": "质量",
        "context": "背景指标",
        "on track": "进展顺利",
        "moderate progress": "有一定进展",
        "insufficient progress": "进展不足",
        "moving away": "偏离目标",
    },
}

# Verdict words other modules may use (calibrated-language scale), for Chinese titles.
_VERDICT_ZH = {
    "virtually certain": "几乎确定",
    "extremely likely": "极有可能",
    "very likely": "很可能",
    "likely": "可能",
    "about as likely as not": "可能性约为一半",
    "as likely as not": "可能性约为一半",
    "unlikely": "不太可能",
    "very unlikely": "很不可能",
    "extremely unlikely": "极不可能",
    "exceptionally unlikely": "几乎不可能",
    "met": "已达成",
    "not met": "未达成",
    "already met": "已提前达成",
    "unknown": "未知",
    "no probability": "无法估计概率",
}

_COMPARISONS = {
    ">": ">",
    "gt": ">",
    ">=": "≥",
    "≥": "≥",
    "ge": "≥",
    "<": "<",
    "lt": "<",
    "<=": "≤",
    "≤": "≤",
    "le": "≤",
    "==": "=",
    "=": "=",
    "eq": "=",
}


# --------------------------------------------------------------------------------------------
# Fonts


# Families known to carry simplified Chinese, most preferred first.
_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "Sarasa Gothic SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "SimSun",
    "Arial Unicode MS",
)
# Other family or file names worth checking; a candidate is used only if it has the glyphs.
_CJK_HINT = re.compile(
    r"cjk|han ?sans|han ?serif|wenquanyi|wqy|yahei|msyh|simhei|simsun|pingfang|heiti|"
    r"hiragino|sarasa|droid ?sans ?fallback|ukai|uming|noto ?sans ?sc|noto ?serif ?sc",
    re.IGNORECASE,
)
_CJK_PROBE = "济南品牌目标概率观测值中位数预测区间示意数据"


@functools.cache
def _charmap(path: str, face_index: int = 0) -> frozenset[int]:
    """The code points a font file draws."""
    try:
        font = fm.get_font(fm.FontPath(path, face_index)) if face_index else fm.get_font(path)
    except (OSError, RuntimeError, AttributeError):
        return frozenset()
    return frozenset(font.get_charmap())


def _family_path(family: str) -> tuple[str, int] | None:
    """The font file matplotlib would use for one family name (generic names included)."""
    try:
        found = fm.findfont(fm.FontProperties(family=[family]), fallback_to_default=False)
    except ValueError:
        return None
    return str(found), int(getattr(found, "face_index", 0))


def _has_glyphs(family: str, text: str) -> bool:
    found = _family_path(family)
    if found is None or "last resort" in family.lower():
        return False
    covered = _charmap(*found)
    return all(ord(c) in covered for c in text)


@functools.cache
def cjk_font() -> str | None:
    """Return the name of an installed font that draws Chinese text, or None.

    Known families (Noto Sans CJK, Source Han Sans, WenQuanYi, Microsoft YaHei, SimHei,
    PingFang ...) are preferred in that order; any other family whose name suggests CJK is
    accepted if it has the glyphs of a test string. Fonts installed after matplotlib built its
    font cache are found too (they are registered with matplotlib's font manager).

    Returns
    -------
    str or None
        A family name for ``font.family`` / ``fontfamily``, or None when no such font exists.

    Notes
    -----
    The result is cached for the session; call ``cjk_font.cache_clear()`` after installing a
    font in a running session.
    """
    names = {entry.name for entry in fm.fontManager.ttflist}
    found = _first_cjk(names)
    if found is None:
        # matplotlib's font cache may predate the font's installation: register likely files.
        known = {entry.fname for entry in fm.fontManager.ttflist}
        for path in fm.findSystemFonts():
            if path not in known and _CJK_HINT.search(path.replace("_", " ").replace("-", " ")):
                try:
                    fm.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = _first_cjk({entry.name for entry in fm.fontManager.ttflist})
    return found


def _first_cjk(names: set[str]) -> str | None:
    preferred = [name for name in _CJK_FAMILIES if name in names]
    others = sorted(n for n in names if n not in preferred and _CJK_HINT.search(n))
    for name in preferred + others:
        if _has_glyphs(name, _CJK_PROBE):
            return name
    return None


@dataclass(frozen=True)
class _Typeset:
    """The language actually used, the font families and the glyphs they can draw."""

    language: str
    families: tuple[str, ...]
    covered: frozenset[int]

    @property
    def rc(self) -> dict[str, Any]:
        return {"font.family": list(self.families)}

    @property
    def font(self) -> dict[str, Any]:
        return {"fontfamily": list(self.families)}

    def word(self, key: str) -> str:
        return _TEXT[self.language].get(key, _TEXT["en"].get(key, key))

    def clean(self, text: str) -> str:
        """Leave out characters no font can draw (instead of drawing empty boxes)."""
        kept = "".join(c for c in text if c.isspace() or ord(c) in self.covered)
        if kept == text:
            return text
        kept = re.sub(r"\(\s*\)|（\s*）|\[\s*\]|【\s*】", "", kept)
        return re.sub(r"[ \t]{2,}", " ", kept).strip()

    def can_draw(self, text: str) -> bool:
        return all(c.isspace() or ord(c) in self.covered for c in text)


def _typeset(language: str) -> _Typeset:
    """Choose the fonts for ``language``; warn and use English when Chinese cannot be drawn."""
    if language not in _LANGUAGES:
        raise BrandstatsError(f"language must be one of {_LANGUAGES}, got {language!r}")
    family = mpl.rcParams["font.family"]
    base = [family] if isinstance(family, str) else list(family)
    cjk = cjk_font()
    if cjk is None:
        if language == "zh":
            warnings.warn(
                "no CJK font is installed (looked for Noto Sans CJK, Source Han Sans, "
                "WenQuanYi, SimHei, Microsoft YaHei, ...), so Chinese text cannot be drawn; "
                "falling back to English labels. Install one, e.g. `apt install "
                "fonts-noto-cjk`.",
                UserWarning,
                stacklevel=3,
            )
        families = tuple(base)
        language = "en"
    elif language == "zh":
        families = (cjk, *[f for f in base if f != cjk])
    else:
        families = (*base, cjk) if cjk not in base else tuple(base)
    covered: set[int] = set()
    for family in families:
        found = _family_path(family)
        if found is not None:
            covered |= _charmap(*found)
    return _Typeset(language, families, frozenset(covered))


def _style(typeset: _Typeset) -> dict[str, Any]:
    """Seaborn's white-grid look without its font choices, plus our fonts."""
    style = {k: v for k, v in sns.axes_style("whitegrid").items() if not k.startswith("font.")}
    return {**style, **typeset.rc}


def _warn_dropped(what: Iterable[str], typeset: _Typeset) -> None:
    dropped = sorted({c for text in what for c in text if not typeset.can_draw(c)})
    if dropped:
        warnings.warn(
            f"no installed font draws {''.join(dropped[:20])!r}; these characters were left "
            "out of the labels (install a CJK font such as fonts-noto-cjk to show them)",
            UserWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------------
# Formatting helpers


def _format_probability(p: float) -> str:
    """73% style; <1% and >99% for values that round to a certainty they do not have."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 < p < 1:
        return ">99%"
    return f"{p:.0%}"


def _format_number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.6g}"


def _comparison_symbol(comparison: str) -> str:
    try:
        return _COMPARISONS[str(comparison).strip().lower()]
    except KeyError:
        raise BrandstatsError(
            f"comparison must be one of '>', '>=', '<', '<=', '==', got {comparison!r}"
        ) from None


def _unit_label(unit: str, typeset: _Typeset) -> str:
    return typeset.clean(display_unit(unit, typeset.language)[1])


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _truthy(value: object) -> bool:
    return not _is_missing(value) and bool(value)


def _require(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise BrandstatsError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError.one(
            f"<{name}>",
            f"columns {', '.join(missing)} (has {', '.join(map(str, frame.columns))})",
        )


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


# --------------------------------------------------------------------------------------------
# Fan chart

_INTERVAL = re.compile(r"^lower_(\d+(?:\.\d+)?)$")


def _interval_levels(forecast: pd.DataFrame) -> list[str]:
    """Interval levels with both ``lower_{level}`` and ``upper_{level}``, widest first."""
    levels = [m.group(1) for c in forecast.columns if (m := _INTERVAL.match(str(c)))]
    levels = [lv for lv in levels if f"upper_{lv}" in forecast.columns]
    return sorted(levels, key=float, reverse=True)


def _select_model(forecast: pd.DataFrame, model: str | None) -> tuple[pd.DataFrame, str | None]:
    if "model" not in forecast.columns:
        return forecast, None
    models = list(dict.fromkeys(forecast["model"].dropna()))
    if forecast.empty:  # nothing projected (e.g. the target year is observed)
        return forecast, model
    if not models:
        raise DataError.one("<forecast>", "at least one row with a model", column="model")
    if model is None:
        model = "auto" if "auto" in models else models[0]
    elif model not in models:
        raise BrandstatsError(
            f"model {model!r} is not in the forecast; it has {', '.join(map(str, models))}"
        )
    return forecast[forecast["model"] == model], str(model)


def _history_style(qualifier: object) -> str:
    q = "" if _is_missing(qualifier) else str(qualifier).strip().lower()
    return q if q in ("lower_bound", "upper_bound", "illustrative") else "reported"


def plot_fan(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    target: float | None,
    comparison: str,
    target_year: int | None,
    unit: str,
    model: str | None = None,
    probability: float | None = None,
    verdict: str | None = None,
    title: str | None = None,
    illustrative: bool | None = None,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Draw the history, the projection fan and the target of one indicator.

    Parameters
    ----------
    history : DataFrame
        Columns ``year``, ``value`` (canonical unit) and optionally ``qualifier``:
        ``"reported"`` (filled circles), ``"lower_bound"`` (upward triangles with an
        "at least" arrow), ``"upper_bound"`` (downward triangles, "at most"),
        ``"illustrative"`` (hollow grey circles); any other qualifier is drawn as reported.
    forecast : DataFrame
        Long table with ``year``, ``median`` (or ``point``), optionally ``model`` and interval
        columns ``lower_{level}`` / ``upper_{level}`` for any levels (e.g. 50 and 90).
    target : float or None
        The target in the canonical unit; None draws no target (context indicators).
    comparison : str
        How the value must compare with the target: ``">"``, ``">="``, ``"<"``, ``"<="``.
    target_year : int or None
        The year by which the target should be met.
    unit : str
        The canonical unit (``"yuan"``, ``"count"``, ``"percent"``, ``"rank"``); values are
        shown in the unit of :func:`brandstats.units.display_unit` (money in 亿元). Ranks
        are drawn with 1 (best) at the top.
    model : str, optional
        The forecast model to show; default ``"auto"`` if present, else the first model.
    probability : float, optional
        P(target met), shown in the title as a percentage.
    verdict : str, optional
        The verdict word(s) shown after the probability (e.g. ``"likely"``).
    title : str, optional
        The indicator's title (first title line); default "Projection and <year> target".
    illustrative : bool, optional
        True marks the data as illustrative. The "ILLUSTRATIVE DATA" note is also shown
        whenever a history row is illustrative; False cannot hide it.
    language : {"en", "zh"}
        The labels' language. Chinese needs a CJK font (see :func:`cjk_font`); without one,
        English labels are used and a :class:`UserWarning` is emitted.
    ax : Axes, optional
        The axes to draw on; a new figure is made when None.

    Returns
    -------
    Axes
        The axes drawn on.

    Raises
    ------
    BrandstatsError
        If a column is missing, the model is unknown, ``language``, ``comparison`` or
        ``probability`` is invalid.
    """
    _require(history, ["year", "value"], "history")
    _require(forecast, ["year"], "forecast")
    if probability is not None and not _is_missing(probability) and not 0 <= probability <= 1:
        raise BrandstatsError(f"probability must lie in [0, 1], got {probability!r}")
    symbol = _comparison_symbol(comparison) if target is not None else ""
    fc, model = _select_model(forecast, model)
    centre = "median" if "median" in fc.columns else "point" if "point" in fc.columns else None
    if centre is None:
        raise DataError.one("<forecast>", "a 'median' or 'point' column")
    typeset = _typeset(language)
    word, font = typeset.word, typeset.font
    divisor, _ = display_unit(unit, typeset.language)

    hist = history.dropna(subset=["year", "value"]).sort_values("year", kind="stable")
    styles = (
        hist["qualifier"].map(_history_style)
        if "qualifier" in hist.columns
        else pd.Series("reported", index=hist.index)
    )
    fc = fc.dropna(subset=["year", centre]).sort_values("year", kind="stable")
    levels = _interval_levels(fc)
    show_note = bool(illustrative) or bool((styles == "illustrative").any())
    user_text = [t for t in (title, verdict) if t]

    with plt.rc_context(_style(typeset)):
        ax = _new_axes(ax, (8, 4.8))
        if unit == "rank" and not ax.yaxis_inverted():
            ax.invert_yaxis()
        up = -1 if ax.yaxis_inverted() else 1
        handles: list[Any] = []

        # History, one artist per marker style.
        marker_kw = {
            "reported": {"marker": "o", "color": _INK, "markerfacecolor": _INK},
            "lower_bound": {"marker": "^", "color": _INK, "markerfacecolor": _INK},
            "upper_bound": {"marker": "v", "color": _INK, "markerfacecolor": _INK},
            "illustrative": {"marker": "o", "color": _GREY, "markerfacecolor": "none"},
        }
        legend_key = {
            "reported": "observed",
            "lower_bound": "observed_lower_bound",
            "upper_bound": "observed_upper_bound",
            "illustrative": "observed_illustrative",
        }
        for style, kw in marker_kw.items():
            rows = hist[styles == style]
            if rows.empty:
                continue
            (line,) = ax.plot(
                rows["year"].to_numpy(dtype=float),
                rows["value"].to_numpy(dtype=float) / divisor,
                linestyle="none",
                markersize=6 if style in ("reported", "illustrative") else 7,
                markeredgewidth=1.3,
                zorder=4,
                label=word(legend_key[style]),
                gid=f"history:{style}",
                **kw,
            )
            handles.append(line)
            if style in ("lower_bound", "upper_bound"):
                sign = up if style == "lower_bound" else -up
                for x, y in zip(rows["year"], rows["value"] / divisor, strict=True):
                    ax.annotate(
                        word("at_least" if style == "lower_bound" else "at_most"),
                        xy=(float(x), float(y)),
                        xytext=(0, 16 * sign),
                        textcoords="offset points",
                        ha="center",
                        va="bottom" if sign > 0 else "top",
                        fontsize=7,
                        color=_INK,
                        arrowprops={"arrowstyle": "<-", "color": _INK, "lw": 0.9},
                        gid=f"{style}_arrow",
                        **font,
                    )

        # Projection: bands (widest and lightest first), then the median joined to the data.
        x = fc["year"].to_numpy(dtype=float)
        anchor: tuple[float, float] | None = None
        if not hist.empty and len(x) and float(hist["year"].iloc[-1]) < x[0]:
            anchor = (float(hist["year"].iloc[-1]), float(hist["value"].iloc[-1]) / divisor)
        band_handles = []
        for i, level in enumerate(levels):
            low = fc[f"lower_{level}"].to_numpy(dtype=float) / divisor
            high = fc[f"upper_{level}"].to_numpy(dtype=float) / divisor
            bx = x
            if anchor is not None:
                bx = np.r_[anchor[0], x]
                low, high = np.r_[anchor[1], low], np.r_[anchor[1], high]
            alpha = 0.16 + 0.22 * (i / max(len(levels) - 1, 1))
            band = ax.fill_between(
                bx,
                low,
                high,
                color=_PROJECTION,
                alpha=alpha,
                linewidth=0,
                zorder=1,
                label=word("interval").format(level=f"{float(level):g}"),
                gid=f"interval:{float(level):g}",
            )
            band_handles.append(band)
        mx = x
        my = fc[centre].to_numpy(dtype=float) / divisor
        if anchor is not None:
            mx, my = np.r_[anchor[0], x], np.r_[anchor[1], my]
        median_label = word("median")
        if model not in (None, "auto"):
            median_label += f" ({model})" if typeset.language == "en" else f"（{model}）"
        (median,) = ax.plot(
            mx,
            my,
            color=_PROJECTION,
            linewidth=2,
            marker="o",
            markersize=3,
            markevery=slice(1 if anchor is not None else 0, None),
            zorder=3,
            label=typeset.clean(median_label),
            gid="median",
        )
        handles.append(median)
        handles.extend(reversed(band_handles))  # 50% before 90%

        # Target.
        if target is not None and not _is_missing(target):
            ty = float(target) / divisor
            shown = _format_number(ty) + ("%" if unit == "percent" else "")
            if target_year is None:
                label = word("target_no_year").format(cmp=symbol, value=shown)
            else:
                label = word("target").format(cmp=symbol, value=shown, year=int(target_year))
            line = ax.axhline(
                ty,
                color=_TARGET,
                linestyle="--",
                linewidth=1.4,
                zorder=2,
                label=label,
                gid="target_line",
            )
            handles.append(line)
            if target_year is not None:
                ax.plot(
                    [float(target_year)],
                    [ty],
                    marker="D",
                    markersize=7,
                    color=_TARGET,
                    markeredgecolor="white",
                    linestyle="none",
                    zorder=5,
                    label="_target_marker",
                    gid="target_marker",
                )

        # Titles, labels, note, legend.
        if title is None:
            title = (
                word("default_title").format(year=int(target_year))
                if target_year is not None
                else word("default_title_no_year")
            )
        lines = [typeset.clean(title)] if title else []
        verdict_text = ""
        if verdict:
            zh = typeset.language == "zh"
            verdict_text = _VERDICT_ZH.get(verdict.strip().lower(), verdict) if zh else verdict
            verdict_text = typeset.clean(verdict_text)
        if probability is not None:
            shown_p = _format_probability(probability)
            p_text = word("probability").format(p=word("n/a") if shown_p == "n/a" else shown_p)
            lines.append(p_text + (f" — {verdict_text}" if verdict_text else ""))
        elif verdict_text:  # no probability: the outcome (e.g. "met") stands alone
            lines.append(verdict_text)
        ax.set_title("\n".join(line for line in lines if line), loc="left", **font)
        ax.set_xlabel(word("year"), **font)
        ax.set_ylabel(_unit_label(unit, typeset), **font)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if unit == "rank":
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if show_note:
            ax.text(
                0.5,
                0.5,
                word("illustrative_note"),
                transform=ax.transAxes,
                ha="center",
                va="center",
                rotation=15,
                fontsize=15,
                fontweight="bold",
                color=_WARNING_RED,
                alpha=0.55,
                zorder=6,
                gid="illustrative_note",
                **font,
            )
        ax.legend(
            handles=handles,
            loc="best",
            frameon=True,
            framealpha=0.85,
            prop={"family": list(typeset.families), "size": "small"},
        )
        sns.despine(ax=ax)
    _warn_dropped(user_text, typeset)
    return ax


# --------------------------------------------------------------------------------------------
# Scorecard


def _ordered_groups(groups: pd.Series) -> list[str]:
    present = list(dict.fromkeys(groups.astype(str)))
    return [g for g in GROUP_ORDER if g in present] + [g for g in present if g not in GROUP_ORDER]


def _key_text(value: object) -> str:
    """A key value as text: 2020.0 -> "2020", missing -> "all"."""
    if _is_missing(value):
        return "all"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _identity_columns(card: pd.DataFrame) -> list[str]:
    """``indicator``, plus ``region`` when the scorecard has several regions, plus ``as_of``,
    ``model`` and ``run_name`` as far as needed to tell the rows apart."""
    columns = ["indicator"]
    if "region" in card.columns and len(set(card["region"].dropna())) > 1:
        columns.append("region")
    for extra in ("as_of", "model", "run_name"):
        keys = card[columns].map(_key_text)
        if not keys.duplicated().any():
            break
        if extra in card.columns:
            columns.append(extra)
    return columns


def _row_name(row: pd.Series, typeset: _Typeset, id_columns: list[str]) -> str:
    keys = ("name_zh", "name_en") if typeset.language == "zh" else ("name_en", "name_zh")
    name = next(
        (str(row[k]) for k in (*keys, "indicator") if k in row and not _is_missing(row[k])),
        "?",
    )
    name = typeset.clean(name) or str(row.get("indicator", "?"))
    parts = []
    for column in id_columns[1:]:
        value = _key_text(row[column])
        if column == "as_of":
            missing = _is_missing(row[column])
            value = (
                typeset.word("all_data") if missing else typeset.word("as_of").format(year=value)
            )
        elif column == "model":
            value = typeset.word("model").format(model=value)
        parts.append(typeset.clean(value))
    if parts:
        name += f" ({', '.join(parts)})" if typeset.language == "en" else f"（{'，'.join(parts)}）"
    return name


def plot_scorecard(
    scorecard: pd.DataFrame,
    *,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Draw P(met) of every target as horizontal bars, grouped by the plan's goals.

    Parameters
    ----------
    scorecard : DataFrame
        One row per target with ``indicator``, ``group`` and ``probability`` (0-1 or NaN),
        and optionally ``region``, ``name_en``, ``name_zh``, ``progress_category`` (``"on
        track"``, ``"moderate progress"``, ``"insufficient progress"``, ``"moving away"`` or
        NaN), ``illustrative`` (bool) and ``met`` (bool or NaN). The table of
        :func:`brandstats.results.read_results` fits: when an indicator appears more than
        once (several vintages, models or runs), ``as_of``, ``model`` and ``run_name`` are
        added to the label as needed to tell the rows apart.
    language : {"en", "zh"}
        The labels' language; see :func:`plot_fan`.
    ax : Axes, optional
        The axes to draw on; a new figure is made when None.

    Returns
    -------
    Axes
        The axes drawn on.

    Notes
    -----
    Groups are shown in the order of :data:`GROUP_ORDER` (other groups after them), rows in
    their input order within a group, each group under a bold heading. Bar length is the
    probability (0 when NaN), bar colour the progress category (:data:`PROGRESS_COLOURS`,
    grey when not assessed). The text after each bar is the probability, "n/a" when it could
    not be computed, or "met"/"not met" when the target year has passed. Illustrative rows are
    hatched, carry an "(illustrative)" suffix and add a note inside the axes.
    """
    _require(scorecard, ["indicator", "group", "probability"], "scorecard")
    typeset = _typeset(language)
    word, font = typeset.word, typeset.font
    card = scorecard.reset_index(drop=True)
    probability = pd.to_numeric(card["probability"], errors="coerce").astype(float)
    bad = probability[(probability < 0) | (probability > 1)]
    if len(bad):
        raise DataError.one(
            "<scorecard>",
            "a probability between 0 and 1 (or NaN)",
            row=int(bad.index[0]) + 2,
            column="probability",
            value=bad.iloc[0],
        )
    category = card.get("progress_category", pd.Series(np.nan, index=card.index))
    illustrative = [_truthy(v) for v in card.get("illustrative", [False] * len(card))]
    met = card.get("met", pd.Series(np.nan, index=card.index))
    id_cols = _identity_columns(card)

    # Layout: a heading row per group, then its rows; y grows downwards (axis inverted).
    positions, labels, headings = [], [], []
    bar_y = np.full(len(card), np.nan)
    separators = []
    y = 0.0
    groups = card["group"].astype(str)
    for g_index, group in enumerate(_ordered_groups(groups)):
        if g_index:
            separators.append(y - 0.6)
            y += 0.2
        positions.append(y)
        labels.append(typeset.clean(word(group)) or group)
        headings.append(len(labels) - 1)
        y += 1
        for i in card.index[groups == group]:
            name = _row_name(card.loc[i], typeset, id_cols)
            if illustrative[i]:
                name += word("illustrative_suffix")
            positions.append(y)
            labels.append(textwrap.fill(name, 42))
            bar_y[i] = y
            y += 1
    note_row = y if any(illustrative) else None
    bottom = y + (1 if note_row is not None else 0) - 0.4

    n_rows = len(positions) + (1 if note_row is not None else 0)
    with plt.rc_context(_style(typeset)):
        ax = _new_axes(ax, (9, 0.42 * n_rows + 1.6))
        widths = probability.fillna(0.0).to_numpy()
        colours = [
            PROGRESS_COLOURS.get(str(c).strip().lower(), _NOT_ASSESSED_COLOUR)
            if not _is_missing(c)
            else _NOT_ASSESSED_COLOUR
            for c in category
        ]
        bars = ax.barh(
            bar_y,
            widths,
            height=0.7,
            color=colours,
            edgecolor="white",
            linewidth=0.8,
            zorder=2,
            label="_bars",
        )
        for i, bar in enumerate(bars.patches):
            ident = ":".join(_key_text(card.loc[i, c]) for c in id_cols)
            bar.set_gid(f"bar:{ident}")
            if illustrative[i]:
                bar.set_hatch("//")
            verdict = card["verdict"].iloc[i] if "verdict" in card.columns else None
            if _is_missing(met.iloc[i]):
                text = _format_probability(probability.iloc[i])
                if text == "n/a" and verdict == "already met":
                    text = word("already met")
                elif text == "n/a":
                    text = word("n/a")
            else:
                text = word("met") if _truthy(met.iloc[i]) else word("not met")
            ax.text(
                widths[i] + 0.012,
                bar_y[i],
                text,
                va="center",
                ha="left",
                fontsize="small",
                color=_INK,
                zorder=3,
                gid=f"value:{ident}",
                **font,
            )
        ax.axvline(0.5, color="0.35", linestyle=":", linewidth=1.2, zorder=1, gid="half_line")
        for s in separators:
            ax.axhline(s, color="0.75", linewidth=0.8, zorder=1, gid="group_separator")

        ax.set_yticks(positions, labels, **font)
        ax.tick_params(axis="y", length=0)
        for index in headings:
            ax.get_yticklabels()[index].set_fontweight("bold")
        ax.set_ylim(bottom, -0.6)
        ax.set_xlim(0, 1.16)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_xlabel(word("xlabel_probability"), **font)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", color="0.9")
        ax.set_axisbelow(True)

        handles: list[Any] = [
            Patch(facecolor=colour, label=typeset.clean(word(name)))
            for name, colour in PROGRESS_COLOURS.items()
        ]
        if any(_is_missing(c) or str(c).strip().lower() not in PROGRESS_COLOURS for c in category):
            handles.append(Patch(facecolor=_NOT_ASSESSED_COLOUR, label=word("not_assessed")))
        if any(illustrative):
            handles.append(
                Patch(
                    facecolor=_NOT_ASSESSED_COLOUR,
                    edgecolor="white",
                    hatch="//",
                    label=word("illustrative_legend"),
                )
            )
            ax.text(
                0.99,
                note_row,
                word("scorecard_note"),
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize="small",
                fontweight="bold",
                color=_WARNING_RED,
                zorder=4,
                gid="illustrative_note",
                **font,
            )
        handles.append(
            Line2D([], [], color="0.35", linestyle=":", linewidth=1.2, label="50%"),
        )
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            prop={"family": list(typeset.families), "size": "small"},
        )
        sns.despine(ax=ax, left=True)
    return ax


def plot_assessment(result: Any, *, language: str = "en", ax: Axes | None = None) -> Axes:
    """The fan chart of an :class:`~brandstats.attainment.Assessment`.

    History up to the vintage, the projection of the chosen model, the target, and P(met)
    with the verdict in the title (or the outcome when the target year is observed).
    """
    meta = dict(result.meta)
    name = meta.get("name_zh" if language == "zh" else "name_en") or result.indicator
    region = f" — {result.region}" if result.region else ""
    vintage = f" (as of {result.as_of})" if result.as_of is not None else ""
    return plot_fan(
        result.history,
        result.forecast,
        target=result.target,
        comparison=result.comparison,
        target_year=result.target_year,
        unit=result.unit,
        model=result.model if len(result.forecast) else None,
        probability=result.probability,
        verdict=result.verdict,
        title=f"{name}{region}{vintage}",
        illustrative=result.illustrative,
        language=language,
        ax=ax,
    )
