"""Targets as objects: what a target asks, checked once, and how a value is judged against it.

A :class:`TargetSpec` holds one target (indicator, region, figure, comparison, year, unit,
accumulation, declared bounds) and is validated when it is made, so that nothing downstream
checks it again. :func:`target_spec` reads one from a targets catalogue (the rows of
:func:`brandstats.load_targets`); :func:`peer_regions` names the regions assessed together
with a region (its pooling group). :func:`meets` and :func:`probability_met` judge a value and
a predictive distribution against a target.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import ACCUMULATIONS, COMPARISONS
from .errors import BrandstatsError
from .units import DISCRETE_UNITS, can_meet, support

__all__ = ["TargetSpec", "meets", "peer_regions", "probability_met", "target_spec"]

MAX_ABS = 1e100
"""Far beyond any real figure; keeps squares and sums of squares finite."""


def meets(value: float, target: float, comparison: str) -> bool:
    """Whether ``value`` satisfies ``comparison`` against ``target``."""
    return {
        ">": value > target,
        ">=": value >= target,
        "<": value < target,
        "<=": value <= target,
    }[comparison]


@dataclass(frozen=True)
class TargetSpec:
    """One target, validated on construction.

    Attributes
    ----------
    indicator, region : str
        What is measured, and where (``""`` for the plan's own region).
    target : float
        The target figure in the indicator's canonical unit.
    comparison : {">", ">=", "<", "<="}
    target_year : int
    unit : str
        Canonical unit (``yuan``, ``count``, ``percent``, ``rank``, ``continuous``).
    accumulation : {"level", "cumulative"}
    lower, upper : float or None
        Declared bounds narrowing the unit's support.
    meta : mapping of str to str
        Names and group, carried to the result.

    Raises
    ------
    BrandstatsError
        For an unknown comparison or accumulation, a target that is not finite, bounds outside
        the unit's support, or a target that no value in the support can meet.
    """

    indicator: str
    region: str
    target: float
    comparison: str
    target_year: int
    unit: str = "count"
    accumulation: str = "level"
    lower: float | None = None
    upper: float | None = None
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = self.indicator
        if self.comparison not in COMPARISONS:
            raise BrandstatsError(
                f"comparison must be one of {COMPARISONS}, got {self.comparison!r}"
            )
        if self.accumulation not in ACCUMULATIONS:
            raise BrandstatsError(
                f"{name}: accumulation must be one of {ACCUMULATIONS}, got {self.accumulation!r}"
            )
        if not math.isfinite(self.target) or abs(self.target) > MAX_ABS:
            raise BrandstatsError(f"{name}: target must be a finite number, got {self.target!r}")
        lo, hi = self.support
        if not can_meet(self.target, self.comparison, self.unit, (lo, hi)):
            raise BrandstatsError(
                f"{name}: no {self.unit} value in [{lo:g}, {hi:g}] can be "
                f"{self.comparison} {self.target:g}; the target is impossible"
            )

    @property
    def support(self) -> tuple[float, float]:
        """The values the unit can take (:func:`brandstats.units.support`)."""
        try:
            return support(self.unit, self.lower, self.upper)
        except BrandstatsError as exc:
            raise BrandstatsError(f"{self.indicator}: {exc}") from None

    @property
    def at_least(self) -> bool:
        """Whether the target asks for a value above a figure (``>`` or ``>=``)."""
        return self.comparison in (">", ">=")

    def settled_by(self, last_value: float) -> bool:
        """Whether a latest value settles the target before its year: a cumulative total
        (which cannot fall) that already meets an "at least" target."""
        return (
            self.accumulation == "cumulative"
            and self.at_least
            and meets(last_value, self.target, self.comparison)
        )


def probability_met(predictive: Any, *, target: float, comparison: str, unit: str) -> float:
    """P(target-year value satisfies ``comparison`` against ``target``).

    Parameters
    ----------
    predictive
        A predictive distribution with ``cdf`` and ``sf`` (see :mod:`brandstats.models`).
    target : float
        The target in the indicator's canonical unit.
    comparison : {">", ">=", "<", "<="}
    unit : str
        Canonical unit. Counts and ranks are whole numbers, so a continuous predictive
        distribution is read with a continuity correction: P(X >= 300) = P(X > 299.5),
        P(X > 300) = P(X > 300.5), P(X <= 10) = P(X < 10.5), P(X < 10) = P(X < 9.5).
        For continuous units ``>`` and ``>=`` give the same probability.
    """
    if comparison not in COMPARISONS:
        raise BrandstatsError(f"comparison must be one of {COMPARISONS}, got {comparison!r}")
    edge = target_edge(target, comparison, unit)
    p = predictive.sf(edge) if comparison in (">", ">=") else predictive.cdf(edge)
    return float(np.clip(np.asarray(p, dtype=float).item(), 0.0, 1.0))


def target_edge(target: float, comparison: str, unit: str) -> float:
    """The value a continuous forecast is compared with (continuity-corrected for whole
    numbers; see :func:`probability_met`)."""
    if unit not in DISCRETE_UNITS:
        return float(target)
    return {
        ">=": math.ceil(target) - 0.5,
        ">": math.floor(target) + 0.5,
        "<=": math.floor(target) + 0.5,
        "<": math.ceil(target) - 0.5,
    }[comparison]


def _bound(value: Any) -> float | None:
    return None if value is None or pd.isna(value) or value == "" else float(value)


def _row(targets: pd.DataFrame, indicator: str, region: str) -> pd.Series:
    rows = targets.loc[targets["indicator"] == indicator]
    if rows.empty:
        raise BrandstatsError(
            f"indicator {indicator!r} is not in the targets catalogue; "
            f"known: {', '.join(targets['indicator'])}"
        )
    specific = rows.loc[rows["region"] == region]
    generic = rows.loc[rows["region"] == ""]
    found = specific if not specific.empty else generic
    if found.empty:
        raise BrandstatsError(
            f"indicator {indicator!r} has no target for region {region!r}; "
            f"targets exist for: {', '.join(rows['region'])}"
        )
    row = found.iloc[0]
    if pd.isna(row["target"]):
        raise BrandstatsError(f"{indicator!r} is a context indicator: it has no target")
    return row


def target_spec(targets: pd.DataFrame, indicator: str, region: str) -> TargetSpec:
    """The target of ``(indicator, region)`` in a catalogue: the region's own row, else the
    indicator's row for every region (a blank region).

    Raises
    ------
    BrandstatsError
        When the indicator is unknown, has no target for the region or is a context indicator.
    """
    row = _row(targets, indicator, region)
    return TargetSpec(
        indicator=indicator,
        region=region,
        target=float(row["target"]),
        comparison=str(row["comparison"]),
        target_year=int(row["target_year"]),
        unit=str(row["unit"]),
        accumulation=str(row.get("accumulation") or "level"),
        lower=_bound(row.get("lower")),
        upper=_bound(row.get("upper")),
        meta={
            k: "" if pd.isna(row[k]) else str(row[k])
            for k in ("name_en", "name_zh", "group", "group_en", "group_zh", "parent")
            if k in row.index
        },
    )


def peer_regions(observations: pd.DataFrame, targets: pd.DataFrame, indicator: str) -> list[str]:
    """The regions of ``indicator`` that have both a target and observations: the group whose
    regions are calibrated together (see :mod:`brandstats.pooling`), whatever region is asked
    for and whatever entry point asks."""
    from .loading import assessable_pairs

    return [r for _, r in assessable_pairs(observations, targets, indicators=[indicator])]
