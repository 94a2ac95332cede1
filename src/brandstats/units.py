"""Units: parse what analysts write (亿元, 万元, %, 家 ...) and convert to canonical units.

Each indicator has one canonical unit, one of :data:`CANONICAL_UNITS`:

``yuan``
    money, stored in yuan (元); 1 万元 = 1e4 yuan, 1 亿元 = 1e8 yuan.
``count``
    a number of things (brands, firms, bases): 个, 家, 项, firms ...
``percent``
    a percentage between 0 and 100.
``rank``
    a position in a ranking, 1 = best (lower is better).
``continuous``
    any other real number: rates per 1,000 or per 10,000 people, intensities, index values,
    growth rates that may be negative. Its bounds, if any, are declared in the targets file
    (columns ``lower`` and ``upper``).

Each unit has a support, the values it can take (:func:`support`); forecasts stay inside it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import NamedTuple

from .errors import BrandstatsError

__all__ = [
    "CANONICAL_UNITS",
    "DISCRETE_UNITS",
    "UnitInfo",
    "can_meet",
    "display_unit",
    "normalize_unit_text",
    "parse_number",
    "parse_unit",
    "support",
]

CANONICAL_UNITS = ("yuan", "count", "percent", "rank", "continuous")

DISCRETE_UNITS = ("count", "rank")
"""Units whose values are whole numbers."""

_SUPPORT = {
    "yuan": (0.0, math.inf),
    "count": (0.0, math.inf),
    "percent": (0.0, 100.0),
    "rank": (1.0, math.inf),
    "continuous": (-math.inf, math.inf),
}


def _given(bound: float | None) -> bool:
    return bound is not None and not (isinstance(bound, float) and math.isnan(bound))


def support(
    unit: str, lower: float | None = None, upper: float | None = None
) -> tuple[float, float]:
    """The closed interval ``(lo, hi)`` of values a unit can take.

    Percent [0, 100], count and yuan [0, inf), rank [1, inf), continuous (-inf, inf). Declared
    bounds narrow it: ``lower`` and ``upper`` (None or NaN for none) must lie inside the unit's
    own support, and ``lower < upper``.

    Raises
    ------
    BrandstatsError
        For an unknown unit, or bounds outside the unit's support or not increasing.

    Examples
    --------
    >>> support("percent")
    (0.0, 100.0)
    >>> support("continuous", lower=0)
    (0.0, inf)
    """
    if unit not in _SUPPORT:
        raise BrandstatsError(f"unknown unit {unit!r}; one of {', '.join(CANONICAL_UNITS)}")
    lo, hi = _SUPPORT[unit]
    if _given(lower):
        if not lo <= float(lower) < hi:
            raise BrandstatsError(f"a lower bound within [{lo:g}, {hi:g}) for {unit}, got {lower}")
        lo = float(lower)
    if _given(upper):
        if not lo < float(upper) <= hi:
            raise BrandstatsError(
                f"an upper bound above the lower bound {lo:g} and at most {hi:g} for {unit}, "
                f"got {upper}"
            )
        hi = float(upper)
    return lo, hi


def can_meet(target: float, comparison: str, unit: str, bounds: tuple[float, float]) -> bool:
    """Whether some value in ``bounds`` (the unit's support) satisfies the target.

    For whole-number units (:data:`DISCRETE_UNITS`) only whole values count: a count ``< 0.5``
    can be met (by 0), a rank ``<= 0.5`` cannot.

    Examples
    --------
    >>> can_meet(100, ">", "percent", (0.0, 100.0)), can_meet(100, ">=", "percent", (0.0, 100.0))
    (False, True)
    >>> can_meet(1, "<", "rank", (1.0, math.inf))
    False
    """
    lo, hi = bounds
    if unit in DISCRETE_UNITS:
        best = {
            ">=": math.ceil(target) <= hi,
            ">": math.floor(target) + 1 <= hi,
            "<=": math.floor(target) >= lo,
            "<": math.ceil(target) - 1 >= lo,
        }
    else:
        best = {">=": target <= hi, ">": target < hi, "<=": target >= lo, "<": target > lo}
    return best[comparison]


class UnitInfo(NamedTuple):
    """A recognised unit: its canonical unit, the factor that converts to it and, for a
    ``continuous`` unit that cannot be negative (a rate per 1,000 people), its default lower
    bound (None: none beyond the canonical unit's support)."""

    canonical: str
    factor: float
    lower: float | None = None


_ALIASES: dict[str, UnitInfo] = {}


def _add(canonical: str, factor: float, *names: str) -> None:
    for name in names:
        _ALIASES[normalize_unit_text(name)] = UnitInfo(canonical, factor)


def normalize_unit_text(text: str) -> str:
    """Fold a unit spelling for lookup: NFKC (full-width to ASCII), lower case, single spaces."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    text = re.sub(r"[\s_]+", " ", text)
    return text.removeprefix("rmb ").removeprefix("cny ")


_add("yuan", 1.0, "元", "yuan", "cny", "rmb", "人民币元")
_add("yuan", 1e4, "万元", "万", "10k yuan", "ten thousand yuan", "wan yuan")
_add("yuan", 1e6, "百万元", "million yuan", "mn yuan", "m yuan")
_add("yuan", 1e8, "亿元", "亿", "100 million yuan", "hundred million yuan", "yi yuan")
_add("yuan", 1e9, "十亿元", "billion yuan", "bn yuan", "b yuan")
_add("yuan", 1e12, "万亿元", "trillion yuan", "tn yuan")
_add("percent", 1.0, "%", "percent", "per cent", "pct", "百分比", "百分点")
_add(
    "count", 1.0, "count", "number", "n", "个", "家", "项", "件", "户", "座", "处",
    "firms", "firm", "enterprises", "enterprise", "companies", "brands", "brand",
    "bases", "base", "items",
)  # fmt: skip
_add("rank", 1.0, "rank", "ranking", "position", "位", "名", "第")
_add("continuous", 1.0, "continuous", "value", "index", "指数", "rate", "ratio", "intensity")
for _name in ("‰", "per 1,000", "per 1000", "per thousand", "‱", "per 10,000", "per 10000",
              "per 100,000", "per 100000", "每千人", "每万人", "每十万人"):  # fmt: skip
    _ALIASES[normalize_unit_text(_name)] = UnitInfo("continuous", 1.0, 0.0)

# A rate per N of something ("deaths per 1,000 live births", "per 100,000 population", "‰",
# "每万人"): a count divided by a population, so it cannot be negative.
_RATE = re.compile(
    r"(?:^|\s)per\s+(?:\d[\d,]*|thousand|ten thousand|hundred thousand|million)(?:\s|$)"
    r"|[‰‱]|每(?:千|万|十万|百万)"
)


def parse_unit(text: str) -> UnitInfo | None:
    """Return the canonical unit and factor for a unit spelling, or None if unknown.

    Examples
    --------
    >>> parse_unit("亿元")
    UnitInfo(canonical='yuan', factor=100000000.0, lower=None)
    >>> parse_unit("firms")
    UnitInfo(canonical='count', factor=1.0, lower=None)
    >>> parse_unit("deaths per 1,000 live births")
    UnitInfo(canonical='continuous', factor=1.0, lower=0.0)
    """
    folded = normalize_unit_text(text)
    found = _ALIASES.get(folded)
    if found is None and _RATE.search(folded):
        found = UnitInfo("continuous", 1.0, 0.0)
    return found


def known_unit_spellings(canonical: str) -> list[str]:
    """The spellings accepted for one canonical unit (for error messages)."""
    return sorted(k for k, v in _ALIASES.items() if v.canonical == canonical)


# Longest first, so "亿元" wins over "元" and "billion yuan" over "yuan".
_SUFFIXES = sorted(_ALIASES, key=len, reverse=True)
# Digit-group separators, after NFKC (which turns no-break, thin and ideographic spaces into
# " " and the full-width comma into ","). Groups must have three digits: "1,234" is 1234, but
# "1,5" (a European decimal comma) is not a number here rather than silently 15.
_SEPARATORS = re.compile(r"[ ',_]")
_NUMBER = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?")


def _plain_number(text: str) -> float | None:
    grouped = _SEPARATORS.sub(",", text.strip())
    if not _NUMBER.fullmatch(grouped):
        return None
    return float(grouped.replace(",", ""))


def parse_number(text: object) -> tuple[float, UnitInfo | None] | None:
    """Parse a number as analysts write it; return ``(value, unit or None)`` or None.

    Accepts thousands separators in groups of three (``1,234``, `` 5 700 ``), full-width
    digits (``５７００``), a trailing unit (``6000亿元``, ``96%``) and scientific notation.
    Returns None for anything else (``#N/A``, ``-``, formulas, words, and a decimal comma
    such as ``1,5``, which would otherwise be read as 15).
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text), None
    s = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text)).strip().lower())
    value = _plain_number(s)
    if value is not None:
        return value, None
    for suffix in _SUFFIXES:
        rest = s.removesuffix(suffix)
        if rest == s or (suffix[0].isdigit() and not rest.endswith(" ")):
            continue  # "5100 million yuan" is 5100 million, not 5 "100 million yuan"
        value = _plain_number(rest)
        if value is not None:
            return value, _ALIASES[suffix]
    return None


_DISPLAY = {
    # canonical: (factor, English label, Chinese label)
    "yuan": (1e8, "100 million yuan (亿元)", "亿元"),
    "count": (1.0, "count", "个/家"),
    "percent": (1.0, "%", "%"),
    "rank": (1.0, "rank (1 = best)", "名次"),
    "continuous": (1.0, "value", "数值"),
}


def display_unit(canonical: str, language: str = "en") -> tuple[float, str]:
    """Return ``(divisor, label)`` for showing values in the unit analysts use.

    Money is shown in 亿元 (1e8 yuan), as the plan states its targets; other units as stored.

    Parameters
    ----------
    canonical : str
        One of :data:`CANONICAL_UNITS`.
    language : {"en", "zh"}
        The label's language.
    """
    factor, en, zh = _DISPLAY.get(canonical, (1.0, canonical, canonical))
    return factor, zh if language == "zh" else en
