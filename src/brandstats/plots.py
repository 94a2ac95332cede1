"""Plots: the fan chart of one target and the scorecard of all targets.

Every function takes an optional :class:`~matplotlib.axes.Axes` (and makes one with
:func:`matplotlib.pyplot.subplots` when none is given), draws on it and returns it. Nothing is
saved and no global setting is changed: styles and fonts are applied with
:func:`matplotlib.pyplot.rc_context` and explicit keyword arguments. Every word on a chart
comes from :mod:`brandstats.format`.

Chinese labels (``language="zh"``) need a CJK font. The package depends on ``mplfonts``,
which ships Noto Sans CJK SC; :func:`cjk_font` registers it with matplotlib's font manager
(or finds an installed CJK font). Without any, the plots fall back to English labels with a
:class:`UserWarning`, and any character the fonts cannot draw is left out rather than drawn
as an empty box.

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
``required_path``          the yearly values needed to reach the target (constant growth)
``actual``                 the actual target-year value (for a vintage)
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
import importlib.util
import io
import re
import textwrap
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.font_manager as fm
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import ticker as mticker
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from brandstats import format as fmt
from brandstats.errors import BrandstatsError, DataError

__all__ = [
    "OUTLOOK_COLOURS",
    "cjk_font",
    "plot_assessment",
    "plot_fan",
    "plot_scorecard",
    "plot_targets_met",
    "plot_vintages",
    "png",
    "show",
]


_NOT_ASSESSED_COLOUR = "#BBBBBB"

#: Scorecard bar colour by what P(met) says (the bar's length is P(met), so colour and length
#: always agree): the IPCC classes likely (>= 66 %), about as likely as not, unlikely (< 33 %),
#: and the outcomes; the progress category is written beside the value instead.
OUTLOOK_COLOURS: Mapping[str, str] = {
    "met": "#009E73",
    "likely": "#0072B2",
    "even": "#E69F00",
    "unlikely": "#D55E00",
    "not met": "#7F3C00",
}


def _outlook_class(probability: float, met: Any) -> str | None:
    if not _is_missing(met):
        return "met" if _truthy(met) else "not met"
    if _is_missing(probability):
        return None
    return "likely" if probability >= 0.66 else "unlikely" if probability < 0.33 else "even"


_INK = "#222222"
_GREY = "#8C8C8C"
_PROJECTION = "#0072B2"
_TARGET = "#D55E00"
_REQUIRED = "#009E73"
_WARNING_RED = "#B2182B"


# --------------------------------------------------------------------------------------------
# Fonts

# The font the package depends on: mplfonts ships Noto Sans CJK SC (SIL Open Font License).
_FONT_PACKAGE, _FONT_FILE = "mplfonts", "fonts/NotoSansCJKsc-Regular.otf"
# Installed families known to carry simplified Chinese, used when the package is missing.
_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Sarasa Gothic SC",
    "Droid Sans Fallback",
    "Arial Unicode MS",
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


@functools.cache
def _drawn(faces: tuple[tuple[str, int], ...]) -> frozenset[int]:
    """The code points the font files ``faces`` (see _family_path) draw between them: a union
    of tens of thousands, made once per set of files rather than for every chart."""
    return frozenset().union(*(_charmap(*face) for face in faces))


def _faces(families: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """The font files matplotlib would use for ``families`` (those it finds)."""
    return tuple(found for family in families if (found := _family_path(family)))


def _family_path(family: str) -> tuple[str, int] | None:
    """The font file matplotlib would use for one family name (generic names included)."""
    try:
        found = fm.findfont(fm.FontProperties(family=[family]), fallback_to_default=False)
    except ValueError:
        return None
    return str(found), int(getattr(found, "face_index", 0))


@functools.cache
def _has_bold(family: str) -> bool:
    """Whether matplotlib knows a bold (600 or heavier) face of ``family`` (or of the font a
    generic name such as ``sans-serif`` stands for)."""
    found = _family_path(family)
    name = fm.FontProperties(fname=found[0]).get_name() if found else family
    weights = (entry.weight for entry in fm.fontManager.ttflist if entry.name == name)
    return any(fm.weight_dict.get(w, 400) >= 600 if isinstance(w, str) else w >= 600
               for w in weights)  # fmt: skip


def _packaged_font() -> str | None:
    """Register the CJK font of :data:`_FONT_PACKAGE` with matplotlib; its family, or None."""
    spec = importlib.util.find_spec(_FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / _FONT_FILE
    if not path.is_file():
        return None
    try:
        fm.fontManager.addfont(str(path))
        return fm.FontProperties(fname=str(path)).get_name()
    except (OSError, RuntimeError, ValueError):
        return None


@functools.cache
def cjk_font() -> str | None:
    """Return the name of a font that draws Chinese text, registering it if need be; or None.

    The font shipped by the ``mplfonts`` dependency (Noto Sans CJK SC) comes first; without
    it, an installed family from a known list (Noto Sans CJK, Source Han Sans, WenQuanYi,
    Microsoft YaHei, SimHei, PingFang ...) that has the glyphs of a test string.

    Returns
    -------
    str or None
        A family name for ``font.family`` / ``fontfamily``, or None when no such font exists.

    Notes
    -----
    The result is cached for the session; call ``cjk_font.cache_clear()`` after installing a
    font in a running session.
    """
    packaged = _packaged_font()
    if packaged is not None:
        return packaged
    names = {entry.name for entry in fm.fontManager.ttflist}
    for name in (n for n in _CJK_FAMILIES if n in names):
        found = _family_path(name)
        if found is not None and all(ord(c) in _charmap(*found) for c in _CJK_PROBE):
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

    @property
    def bold(self) -> dict[str, Any]:
        """Font keywords for bold text: bold where the first family has a bold face.

        Asked for a weight a family lacks (mplfonts ships Noto Sans CJK SC in one weight),
        matplotlib draws the regular face anyway and logs a ``findfont`` warning, which a
        notebook shows as stderr. So bold text keeps the families that have a bold face when
        the first one does, and is drawn regular otherwise (as matplotlib would draw it).
        """
        bold = [f for f in self.families if _has_bold(f)]
        if bold and bold[0] == self.families[0]:
            return {"fontfamily": bold, "fontweight": "bold"}
        return {**self.font, "fontweight": "normal"}

    def bold_for(self, text: str) -> dict[str, Any]:
        """:attr:`bold` when its bold faces draw every character of ``text``; else regular in
        every family, as a plan's own label may need (科技创新 on an English chart, whose bold
        face has no Chinese)."""
        style = self.bold
        if style["fontweight"] == "bold":
            drawn = _drawn(_faces(style["fontfamily"]))
            if all(c.isspace() or ord(c) in drawn for c in text):
                return style
        return {**self.font, "fontweight": "normal"}

    def word(self, key: str, **fields: Any) -> str:
        """A chart label from :mod:`brandstats.format`."""
        return fmt.word(f"chart:{key}", self.language, **fields)

    def clean(self, text: str) -> str:
        """Leave out characters no font can draw (instead of drawing empty boxes); a ``$`` is
        drawn as itself, never as the start of matplotlib's mathtext."""
        kept = "".join(c for c in text if c.isspace() or ord(c) in self.covered)
        if kept != text:
            kept = re.sub(r"\(\s*\)|（\s*）|\[\s*\]|【\s*】", "", kept)
            kept = re.sub(r"[ \t]{2,}", " ", kept).strip()
        return kept.replace("$", r"\$")

    def can_draw(self, text: str) -> bool:
        return all(c.isspace() or ord(c) in self.covered for c in text)


def _typeset(language: str) -> _Typeset:
    """Choose the fonts for ``language``; warn and use English when Chinese cannot be drawn."""
    fmt.check_language(language)
    base = ["sans-serif"]
    cjk = cjk_font()
    if cjk is None:
        if language == "zh":
            warnings.warn(
                "no CJK font could be loaded (the mplfonts package ships one; installed "
                "fonts such as Noto Sans CJK or SimHei also do), so Chinese text cannot be "
                "drawn; falling back to English labels. Install it: `pip install mplfonts`.",
                UserWarning,
                stacklevel=3,
            )
        families: tuple[str, ...] = tuple(base)
        language = "en"
    elif language == "zh":
        families = (cjk, *base)
    else:
        families = (*base, cjk)
    return _Typeset(language, families, _drawn(_faces(families)))


def _style(typeset: _Typeset) -> dict[str, Any]:
    """Seaborn's white-grid look without its font choices, plus our fonts."""
    style = {k: v for k, v in sns.axes_style("whitegrid").items() if not k.startswith("font.")}
    return {**style, **typeset.rc}


def _warn_dropped(what: Iterable[str], typeset: _Typeset) -> None:
    dropped = sorted({c for text in what for c in text if not typeset.can_draw(c)})
    if dropped:
        warnings.warn(
            f"no installed font draws {''.join(dropped[:20])!r}; these characters were left "
            "out of the labels (`pip install mplfonts` provides a CJK font)",
            UserWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------------
# Small helpers


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


def show(ax: Axes, *, alt: str) -> None:
    """Display the figure of ``ax`` in a notebook as a PNG with alt text, then close it.

    The alt text travels in the output's metadata (``{"image/png": {"alt": ...}}``), where
    :func:`brandstats.htmlreport.export_html` puts it on the ``<img>``.
    """
    from IPython.display import Image, display

    display(Image(png(ax)), metadata={"image/png": {"alt": alt}})


def png(ax: Axes) -> bytes:
    """The figure of ``ax`` as PNG bytes (100 dpi); the figure is closed.

    A figure with a layout engine (every chart drawn here on new axes) is saved as laid out;
    one without is cropped to its contents (``bbox_inches="tight"``, a fifth more work).
    """
    buffer = io.BytesIO()
    tight = None if ax.figure.get_layout_engine() is not None else "tight"
    ax.figure.savefig(buffer, format="png", dpi=100, bbox_inches=tight)
    plt.close(ax.figure)
    return buffer.getvalue()


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


@dataclass(frozen=True)
class _Fan:
    """What one fan chart shows, checked and in display units."""

    history: pd.DataFrame  # year, shown, style
    forecast: pd.DataFrame  # year, centre and interval columns, in display units
    centre: str
    levels: list[str]
    model: str | None
    anchor: tuple[float, float] | None  # the last observation, where the fan starts
    unit: str
    illustrative: bool
    indicator: str | None = None  # chooses the Chinese measure word of counts (家 or 个)


_MARKERS = {
    "reported": {"marker": "o", "color": _INK, "markerfacecolor": _INK},
    "lower_bound": {"marker": "^", "color": _INK, "markerfacecolor": _INK},
    "upper_bound": {"marker": "v", "color": _INK, "markerfacecolor": _INK},
    "illustrative": {"marker": "o", "color": _GREY, "markerfacecolor": "none"},
}
_LEGEND_KEYS = {
    "reported": "observed",
    "lower_bound": "observed_lower_bound",
    "upper_bound": "observed_upper_bound",
    "illustrative": "observed_illustrative",
}


def _prepare_fan(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    unit: str,
    model: str | None,
    probability: float | None,
    illustrative: bool | None,
    indicator: str | None = None,
) -> _Fan:
    """Check the inputs and bring history and forecast into display units."""
    _require(history, ["year", "value"], "history")
    _require(forecast, ["year"], "forecast")
    if probability is not None and not _is_missing(probability) and not 0 <= probability <= 1:
        raise BrandstatsError(f"probability must lie in [0, 1], got {probability!r}")
    fc, model = _select_model(forecast, model)
    centre = "median" if "median" in fc.columns else "point" if "point" in fc.columns else None
    if centre is None:
        raise DataError.one("<forecast>", "a 'median' or 'point' column")
    hist = history.dropna(subset=["year", "value"]).sort_values("year", kind="stable")
    qualifiers = hist["qualifier"] if "qualifier" in hist.columns else pd.Series("", hist.index)
    hist = pd.DataFrame(
        {
            "year": hist["year"].to_numpy(dtype=float),
            "shown": fmt.display_value(hist["value"].to_numpy(dtype=float), unit),
            "style": qualifiers.map(_history_style).to_numpy(),
        }
    )
    fc = fc.dropna(subset=["year", centre]).sort_values("year", kind="stable")
    levels = _interval_levels(fc)
    value_columns = [centre, *(f"{side}_{lv}" for lv in levels for side in ("lower", "upper"))]
    shown = (
        fc[["year"]]
        .astype(float)
        .assign(**{c: fmt.display_value(fc[c].astype(float), unit) for c in value_columns})
    )
    anchor = None
    if not hist.empty and len(shown) and hist["year"].iloc[-1] < shown["year"].iloc[0]:
        anchor = (float(hist["year"].iloc[-1]), float(hist["shown"].iloc[-1]))
    return _Fan(
        hist,
        shown,
        centre,
        levels,
        model,
        anchor,
        unit,
        bool(illustrative) or bool((hist["style"] == "illustrative").any()),
        indicator,
    )


def _draw_history(ax: Axes, fan: _Fan, typeset: _Typeset) -> list[Any]:
    """Observed values, one artist per marker style; arrows on bounds."""
    handles = []
    up = -1 if ax.yaxis_inverted() else 1
    rank = fan.unit == "rank"  # a rank's lower bound (11 or more) is a worse place: drawn down
    legend = {
        **_LEGEND_KEYS,
        **(
            {"lower_bound": "observed_rank_lower", "upper_bound": "observed_rank_higher"}
            if rank
            else {}
        ),
    }
    arrow_text = {
        "lower_bound": "rank_lower" if rank else "at_least",
        "upper_bound": "rank_higher" if rank else "at_most",
    }
    for style, kw in _MARKERS.items():
        rows = fan.history[fan.history["style"] == style]
        if rows.empty:
            continue
        if style in arrow_text and up < 0:  # inverted axis: the triangle points the bound's way
            kw = {**kw, "marker": "v" if style == "lower_bound" else "^"}
        (line,) = ax.plot(
            rows["year"],
            rows["shown"],
            linestyle="none",
            markeredgewidth=1.3,
            zorder=4,
            markersize=6 if style in ("reported", "illustrative") else 7,
            label=typeset.word(legend[style]),
            gid=f"history:{style}",
            **kw,
        )
        handles.append(line)
        if style in ("lower_bound", "upper_bound"):
            sign = up if style == "lower_bound" else -up
            for x, y in zip(rows["year"], rows["shown"], strict=True):
                ax.annotate(
                    typeset.word(arrow_text[style]),
                    xy=(float(x), float(y)),
                    xytext=(0, 16 * sign),
                    textcoords="offset points",
                    ha="center",
                    va="bottom" if sign > 0 else "top",
                    fontsize=7,
                    color=_INK,
                    arrowprops={"arrowstyle": "<-", "color": _INK, "lw": 0.9},
                    gid=f"{style}_arrow",
                    **typeset.font,
                )
    return handles


def _draw_projection(ax: Axes, fan: _Fan, typeset: _Typeset) -> list[Any]:
    """Bands (widest and lightest first), then the median joined to the last observation."""
    fc, anchor = fan.forecast, fan.anchor
    x = fc["year"].to_numpy()
    bands = []
    for i, level in enumerate(fan.levels):
        low, high = fc[f"lower_{level}"].to_numpy(), fc[f"upper_{level}"].to_numpy()
        bx = x
        if anchor is not None:
            bx = np.r_[anchor[0], x]
            low, high = np.r_[anchor[1], low], np.r_[anchor[1], high]
        label = typeset.word("interval", level=fmt.share(float(level) / 100, typeset.language))
        bands.append(
            ax.fill_between(
                bx,
                low,
                high,
                color=_PROJECTION,
                linewidth=0,
                zorder=1,
                alpha=0.16 + 0.22 * (i / max(len(fan.levels) - 1, 1)),
                label=label,
                gid=f"interval:{float(level):g}",
            )
        )
    if not len(x):
        return []
    mx, my = x, fc[fan.centre].to_numpy()
    if anchor is not None:
        mx, my = np.r_[anchor[0], mx], np.r_[anchor[1], my]
    label = typeset.word("median")
    if fan.model not in (None, "auto"):
        label += f" ({fan.model})" if typeset.language == "en" else f"（{fan.model}）"
    (median,) = ax.plot(
        mx,
        my,
        color=_PROJECTION,
        linewidth=2,
        marker="o",
        markersize=3,
        zorder=3,
        markevery=slice(1 if anchor is not None else 0, None),
        label=typeset.clean(label),
        gid="median",
    )
    return [median, *reversed(bands)]  # 50% before 90%


def _draw_required_path(
    ax: Axes, fan: _Fan, required_path: Mapping[Any, float] | None, typeset: _Typeset
) -> list[Any]:
    """The yearly values needed to reach the target, from the last observation on."""
    if not required_path:
        return []
    years = sorted(int(y) for y in required_path)
    x = np.array(years, dtype=float)
    y = np.array(
        [fmt.display_value(required_path[_key(required_path, yr)], fan.unit) for yr in years]
    )
    if len(fan.history) and fan.history["year"].iloc[-1] < x[0]:
        x = np.r_[fan.history["year"].iloc[-1], x]
        y = np.r_[fan.history["shown"].iloc[-1], y]
    (line,) = ax.plot(
        x,
        y,
        color=_REQUIRED,
        linestyle=(0, (4, 2)),
        linewidth=1.6,
        marker="s",
        markersize=3,
        zorder=2.5,
        label=typeset.word("required_path"),
        gid="required_path",
    )
    return [line]


def _key(mapping: Mapping[Any, float], year: int) -> Any:
    """The key of ``year`` in a mapping keyed by int or str (JSON turns years into text)."""
    return year if year in mapping else str(year)


def _draw_target(
    ax: Axes,
    fan: _Fan,
    target: float | None,
    comparison: str,
    target_year: int | None,
    typeset: _Typeset,
) -> list[Any]:
    """The target as a dashed line, and a diamond at its year."""
    if target is None or _is_missing(target):
        return []
    ty = fmt.display_value(target, fan.unit)
    label = typeset.clean(
        typeset.word(
            "target",
            target=fmt.target(
                comparison,
                target,
                fan.unit,
                target_year,
                typeset.language,
                indicator=fan.indicator,
            ),
        )
    )
    line = ax.axhline(
        ty, color=_TARGET, linestyle="--", linewidth=1.4, zorder=2, label=label, gid="target_line"
    )
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
    return [line]


def _draw_actual(
    ax: Axes,
    fan: _Fan,
    actual: float | None,
    target_year: int | None,
    typeset: _Typeset,
    qualifier: str | None,
) -> list[Any]:
    """The actual target-year value (for a vintage), as a star."""
    if actual is None or _is_missing(actual) or target_year is None:
        return []
    value = fmt.quantity(
        actual, fan.unit, typeset.language, qualifier=qualifier, indicator=fan.indicator
    )
    (star,) = ax.plot(
        [float(target_year)],
        [fmt.display_value(actual, fan.unit)],
        marker="*",
        markersize=13,
        color=_INK,
        markeredgecolor="white",
        linestyle="none",
        zorder=6,
        label=typeset.clean(typeset.word("actual", year=int(target_year), value=value)),
        gid="actual",
    )
    return [star]


def _title_lines(
    title: str | None,
    target_year: int | None,
    probability: float | None,
    verdict: str | None,
    typeset: _Typeset,
    bound: str | None = None,
) -> str:
    """The title: the indicator, then P(met) with the verdict (or the outcome alone)."""
    if title is None:
        title = (
            typeset.word("default_title", year=int(target_year))
            if target_year is not None
            else typeset.word("default_title_no_year")
        )
    lines = [typeset.clean(title)] if title else []
    verdict_text = typeset.clean(fmt.verdict(verdict, typeset.language)) if verdict else ""
    if probability is not None:
        p = typeset.word("probability", p=fmt.probability(probability, typeset.language, bound))
        lines.append(p + (f" — {verdict_text}" if verdict_text else ""))
    elif verdict_text:  # no probability: the outcome (e.g. "met") stands alone
        lines.append(verdict_text)
    return "\n".join(line for line in lines if line)


def _label_fan(ax: Axes, fan: _Fan, handles: list[Any], title: str, typeset: _Typeset) -> None:
    """Title, axis labels, the illustrative note and the legend."""
    font = typeset.font
    ax.set_title(title, loc="left", linespacing=1.6, **font)  # CJK lines must not touch
    ax.set_xlabel(typeset.word("year"), **font)
    ax.set_ylabel(typeset.clean(fmt.unit_label(fan.unit, typeset.language)), **font)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if fan.unit == "rank":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if fan.illustrative:
        ax.text(
            0.5,
            0.5,
            typeset.word("illustrative_note"),
            transform=ax.transAxes,
            ha="center",
            va="center",
            rotation=15,
            fontsize=15,
            color=_WARNING_RED,
            alpha=0.55,
            zorder=6,
            gid="illustrative_note",
            **typeset.bold,
        )
    ax.legend(
        handles=handles,
        loc="best",
        frameon=True,
        framealpha=0.85,
        prop={"family": list(typeset.families), "size": "small"},
    )
    sns.despine(ax=ax)


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
    probability_bound: str | None = None,
    required_path: Mapping[Any, float] | None = None,
    actual: float | None = None,
    actual_qualifier: str | None = None,
    indicator: str | None = None,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Draw the history, the projection fan, the required path and the target of one indicator.

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
        shown in display units (money in 亿元, see :mod:`brandstats.format`). Ranks are drawn
        with 1 (best) at the top.
    model : str, optional
        The forecast model to show; default ``"auto"`` if present, else the first model.
    probability : float, optional
        P(target met), shown in the title in whole percents.
    probability_bound : {"at_most", "at_least"}, optional
        The probability sits at the floor (ceiling) the evidence supports: shown as "at most"
        ("at least"), see :attr:`brandstats.attainment.Assessment.probability_bound`.
    verdict : str, optional
        The verdict shown after the probability (e.g. ``"likely"``; translated for ``zh``).
    title : str, optional
        The indicator's title (first title line); default "Projection and <year> target".
    illustrative : bool, optional
        True marks the data as illustrative. The "ILLUSTRATIVE DATA" note is also shown
        whenever a history row is illustrative; False cannot hide it.
    required_path : mapping of year to value, optional
        The values needed each year to reach the target (canonical unit), drawn as a green
        dashed line from the last observation.
    actual, actual_qualifier : optional
        The actual target-year value (of a vintage), drawn as a star.
    indicator : str, optional
        The indicator's id; chooses the Chinese measure word of counts (家 for firms, 个).
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
    if target is not None:
        fmt.comparison_symbol(comparison)  # checks it
    fan = _prepare_fan(
        history,
        forecast,
        unit=unit,
        model=model,
        probability=probability,
        illustrative=illustrative,
        indicator=indicator,
    )
    typeset = _typeset(language)
    with plt.rc_context(_style(typeset)):
        ax = _new_axes(ax, (8, 4.8))
        if unit == "rank" and not ax.yaxis_inverted():
            ax.invert_yaxis()
        handles = [
            *_draw_history(ax, fan, typeset),
            *_draw_projection(ax, fan, typeset),
            *_draw_required_path(ax, fan, required_path, typeset),
            *_draw_actual(ax, fan, actual, target_year, typeset, actual_qualifier),
            *_draw_target(ax, fan, target, comparison, target_year, typeset),
        ]
        heading = _title_lines(title, target_year, probability, verdict, typeset, probability_bound)
        _label_fan(ax, fan, handles, heading, typeset)
    _warn_dropped([t for t in (title, verdict) if t], typeset)
    return ax


# --------------------------------------------------------------------------------------------
# Scorecard


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
    vintage = "as_of" in row and not _is_missing(row["as_of"])
    if vintage and "as_of" not in id_columns:  # a vintage is always named as such
        id_columns = [*id_columns, "as_of"]
    for column in id_columns[1:]:
        value = _key_text(row[column])
        if column == "as_of":
            missing = _is_missing(row[column])
            value = (
                fmt.word("all data", typeset.language)
                if missing
                else typeset.word("as_of", year=value)
            )
        elif column == "model":
            value = typeset.word("model", model=value)
        elif column == "region":
            value = fmt.region(row[column], typeset.language)
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
    Groups are shown in the order the table first names them (the targets file's order, in
    :func:`brandstats.results.read_results`), rows in their input order within a group, each
    group under its label (:func:`brandstats.format.group_name`) in bold. Bar length is the
    probability (0 when NaN), bar colour what the probability says (:data:`OUTLOOK_COLOURS`:
    likely, about as likely as not, unlikely, or the outcome; grey without a probability), so
    that colour and length cannot disagree; the official-style progress category is written
    after the value ("25 % · on track"). The text after each bar is the probability, "n/a"
    when it could not be computed, or "met"/"not met" when the target year has passed.
    Illustrative rows are hatched, carry an "(illustrative)" suffix and add a note inside the
    axes.
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
    for g_index, group in enumerate(dict.fromkeys(groups)):
        if g_index:
            separators.append(y - 0.6)
            y += 0.2
        positions.append(y)
        label = fmt.group_name(card.loc[groups.index[groups == group][0]], typeset.language)
        labels.append(typeset.clean(label) or group)
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
        classes = [_outlook_class(p, m) for p, m in zip(probability, met, strict=True)]
        classes = [
            "met" if c is None and v == "already met" else c
            for c, v in zip(classes, card.get("verdict", [None] * len(card)), strict=True)
        ]
        # an outcome is a probability of 1 or 0: a met target's bar is full, as its colour says
        widths = np.where([c == "met" for c in classes], 1.0, probability.fillna(0.0).to_numpy())
        colours = [OUTLOOK_COLOURS.get(c or "", _NOT_ASSESSED_COLOUR) for c in classes]
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
            if not _is_missing(met.iloc[i]):
                text = fmt.outcome(_truthy(met.iloc[i]), typeset.language)
            elif not _is_missing(probability.iloc[i]):
                bound = card["probability_bound"].iloc[i] if "probability_bound" in card else None
                text = fmt.probability(probability.iloc[i], typeset.language, bound)
            elif verdict in ("already met", "no data"):
                text = fmt.verdict(verdict, typeset.language)
            else:
                text = word("n/a")
            if not _is_missing(category.iloc[i]) and _is_missing(met.iloc[i]):
                text += " · " + fmt.category(category.iloc[i], typeset.language)
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
            ax.get_yticklabels()[index].update(typeset.bold_for(labels[index]))
        ax.set_ylim(bottom, -0.6)
        ax.set_xlim(0, 1.16)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_xlabel(word("xlabel_probability"), **font)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", color="0.9")
        ax.set_axisbelow(True)

        handles: list[Any] = [
            Patch(facecolor=OUTLOOK_COLOURS[name], label=typeset.clean(word(f"outlook_{name}")))
            for name in OUTLOOK_COLOURS
            if name in classes
        ]
        if None in classes:
            handles.append(Patch(facecolor=_NOT_ASSESSED_COLOUR, label=word("outlook_none")))
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
                color=_WARNING_RED,
                zorder=4,
                gid="illustrative_note",
                **typeset.bold,
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

    History up to the vintage, the projection of the chosen model, the required path (when
    the result has one), the target, the actual outcome of a vintage, and P(met) with the
    verdict in the title (or the outcome when the target year is observed).
    """
    return plot_fan(
        result.history,
        result.forecast,
        target=result.target,
        comparison=result.comparison,
        target_year=result.target_year,
        unit=result.unit,
        model=result.model if len(result.forecast) else None,
        probability=result.probability,
        probability_bound=getattr(result, "probability_bound", None),
        verdict=result.verdict,
        title=fmt.title(result, language),
        illustrative=result.illustrative,
        required_path=getattr(result, "required_path", None),
        actual=result.actual if result.as_of is not None else None,
        actual_qualifier=result.actual_qualifier,
        indicator=result.indicator,
        language=language,
        ax=ax,
    )


# --------------------------------------------------------------------------------------------
# the number of targets met


def _note_below(ax: Axes, typeset: _Typeset) -> None:
    """The made-up-data warning under a chart's axis label, where no bar or line can hide it."""
    ax.text(1.0, -0.32, typeset.word("illustrative_note"), transform=ax.transAxes, ha="right",
            va="top", fontsize="small", color=_WARNING_RED, gid="illustrative_note",
            **typeset.bold)  # fmt: skip


def plot_targets_met(
    tally: Mapping[str, Any], *, language: str = "en", ax: Axes | None = None
) -> Axes:
    """Draw the distribution of the number of targets met (:func:`brandstats.tally.targets_met`).

    Bars are P(k targets met); the bars inside the central interval are dark, the others light;
    a dashed line marks the expected number. Targets without a probability are not counted
    (the title says how many).

    Returns
    -------
    Axes
        The axes drawn on.
    """
    typeset = _typeset(language)
    pmf = np.asarray(tally["distribution"], dtype=float)
    counts = np.arange(pmf.size)
    low, high = tally["interval"]
    inside = (counts >= low) & (counts <= high)
    with plt.rc_context(_style(typeset)):
        ax = _new_axes(ax, (7, 3.2))
        ax.bar(counts, pmf, color=np.where(inside, "#1f5f99", "#a9c6e0"), width=0.75, zorder=2)
        ax.axvline(tally["expected"], color=_INK, ls="--", lw=1.2, zorder=3)
        ax.set_xticks(counts)
        ax.set_xlabel(typeset.word("targets_met_x"), **typeset.font)
        ax.set_ylabel(typeset.word("targets_met_y"), **typeset.font)
        ax.set_title(
            typeset.clean(
                typeset.word(
                    "targets_met_title", expected=f"{tally['expected']:.1f}", low=low, high=high,
                    level=f"{tally['level']:.0%}", counted=pmf.size - 1,
                    targets=tally["targets"],
                )
            ),
            loc="left", **typeset.font,
        )  # fmt: skip
        ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
        if tally.get("illustrative"):
            _note_below(ax, typeset)
        sns.despine(ax=ax)
    return ax


def plot_vintages(
    vintages: Sequence[Mapping[str, Any]],
    *,
    illustrative: bool = False,
    language: str = "en",
    ax: Axes | None = None,
) -> Axes:
    """Draw P(met) as of each vintage (:func:`brandstats.assess_vintages`): a line over the
    years, each point coloured as the scorecard colours it, the outcome written where the
    target year is observed; ``illustrative`` writes the made-up-data warning on the chart.

    Returns
    -------
    Axes
        The axes drawn on.
    """
    typeset = _typeset(language)
    years = [int(v["as_of"]) for v in vintages]
    p = [np.nan if v.get("probability") is None else float(v["probability"]) for v in vintages]
    with plt.rc_context(_style(typeset)):
        ax = _new_axes(ax, (7, 3.0))
        ax.plot(years, p, color=_GREY, lw=1.4, zorder=2, gid="vintage_line")
        for year, prob, v in zip(years, p, vintages, strict=True):
            outcome = v.get("verdict") in ("met", "not met")
            if outcome:
                # written over the 50 % line (a white box): it is an outcome, not a probability
                ax.text(year, 0.5, fmt.verdict(v["verdict"], typeset.language), ha="center",
                        va="center", fontsize="small", color=_INK, zorder=3,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 2},
                        **typeset.font)  # fmt: skip
                continue
            if np.isnan(prob):  # said in words: a grey dot at 0 % would read as P(met) = 0
                ax.text(year, 0.03, typeset.word("n/a"), ha="center", va="bottom",
                        rotation=90 if len(years) > 4 else 0,  # side by side, they would touch
                        fontsize="small", color=_INK, gid=f"vintage:{year}",
                        **typeset.font)  # fmt: skip
                continue
            colour = OUTLOOK_COLOURS.get(_outlook_class(prob, None) or "", _NOT_ASSESSED_COLOUR)
            ax.scatter([year], [prob], color=colour, zorder=3, s=36, gid=f"vintage:{year}")
        ax.axhline(0.5, color="0.35", ls=":", lw=1.2, zorder=1)
        ax.set_ylim(-0.02, 1.02)
        if years:  # the years' span, also when no point is drawn (words only)
            ax.set_xlim(min(years) - 0.5, max(years) + 0.5)
        ax.set_xticks(years)
        ax.xaxis.set_major_formatter(mticker.FormatStrFormatter("%d"))  # 2020, never +2.02e3
        ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
        if illustrative:
            _note_below(ax, typeset)
        ax.set_xlabel(typeset.word("vintage_x"), **typeset.font)
        ax.set_ylabel(typeset.word("xlabel_probability"), **typeset.font)
        sns.despine(ax=ax)
    return ax
