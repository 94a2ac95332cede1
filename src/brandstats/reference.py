"""What real official series teach about short ones: the engine's reference class.

A series of 2-6 yearly points cannot show how wrong a projection of it will be 3-15 years on;
real official series with known outcomes can. ``data/reference_changes.csv``, learned from the
calibration corpus (``benchmarks/calibration/``: real series of official plans' indicators,
World Bank WDI) by ``benchmarks/build_reference.py``, holds, on the logit scale (percentages)
or the log scale (positive quantities) and for each horizon h of 1-15 years, the quantiles of

``level``
    the change over h years: what a single value does;
``drift``
    the error of extending the latest observed change h years, signed so that positive means
    "further in the observed direction".

:func:`reference_predictive` turns them into a predictive distribution for a series' target
year. The engine (:func:`brandstats.engine.outlooks`) uses it alone for series of 1 or 2
points, which no model can fit, and mixed into every model forecast (the outside view beside
the inside one; :data:`REFERENCE_WEIGHT`). Where the corpus holds nothing of a kind (a series
that is not positive, a unit that is neither a share nor a positive quantity), nothing is
borrowed and the engine says so.

The reference class is series of health, education and development indicators of many
countries (under-five and maternal mortality, vaccination coverage, tuberculosis incidence,
HIV prevalence, gender parity, life expectancy): official targets of the kind plans set, not
brand figures. It is the best-documented evidence of how far official series move from their
trends; ``benchmarks/README.md`` shows how it scored on a hold-out of other targets (R&D
spending, renewables, Chinese five-year plans, military spending).

References
----------
Kahneman, D. & Lovallo, D. (1993). Timid choices and bold forecasts: a cognitive perspective on
risk taking. *Management Science* 39(1), 17-31 (the outside view, reference classes).

Flyvbjerg, B. (2006). From Nobel prize to project management: getting risks right. *Project
Management Journal* 37(3), 5-15 (reference class forecasting).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import DATA_DIR
from .models import Mixture, Predictive, Sample, from_unbounded, to_unbounded

__all__ = [
    "CHANGE_QUANTILES",
    "REFERENCE_WEIGHT",
    "REFERENCE_WEIGHT_LONG",
    "Reference",
    "build_changes",
    "load_reference",
    "reference_predictive",
    "reference_scale",
]

CHANGE_QUANTILES = np.arange(1, 100) / 100
"""The quantile levels kept of each reference distribution of changes."""

MAX_REFERENCE_HORIZON = 15

EDGE = 1e-3
"""A share observed at a bound of its range (0 %, 100 %) is read this fraction of the range
inside it, where the logit scale is defined."""


REFERENCE_WEIGHT = 0.2
"""The reference class' weight beside a model forecast of a series with fewer than
:data:`~brandstats.backtest.NEAR_HORIZON_CASES` backtest cases of its own."""

REFERENCE_WEIGHT_LONG = 0.1
"""Its weight beside a series with that many cases or more.

Both chosen on the calibration corpus scored left-one-indicator-out (every family scored with
a reference that never saw its indicator's series), then checked on the hold-out: see
``benchmarks/README.md``."""


@dataclass(frozen=True, eq=False)
class Reference:
    """The learned distributions of changes (see the module docstring); empty: none."""

    changes: pd.DataFrame

    @functools.cached_property
    def by_key(self) -> dict[tuple[str, str, int], tuple[np.ndarray, int]]:
        """(scale, kind, horizon) -> (the quantile values in order, the number of cases)."""
        if self.changes.empty:
            return {}
        table = self.changes.sort_values(["scale", "kind", "horizon", "quantile"])
        return {
            (scale, kind, int(h)): (g["value"].to_numpy(dtype=float), int(g["cases"].iloc[0]))
            for (scale, kind, h), g in table.groupby(["scale", "kind", "horizon"], sort=False)
        }


@functools.cache
def load_reference() -> Reference:
    """The shipped reference class, ``data/reference_changes.csv``."""
    path = DATA_DIR / "reference_changes.csv"
    return Reference(pd.read_csv(path) if path.exists() else pd.DataFrame())


MIN_COUNT = 20
"""A count below this is too small to move as the corpus' aggregates do (2 brands may become
8 in three years, a fourfold rise that no national rate shows): no reference class for it."""


def reference_scale(
    bounds: tuple[float, float], values: np.ndarray, unit: str = "continuous"
) -> str | None:
    """The scale on which a short series is compared with the reference class: ``logit`` for
    values strictly inside a range bounded on both sides, ``log`` for positive values bounded
    below only; None when the corpus holds nothing of the kind (a rank, a count below
    :data:`MIN_COUNT`, a value that is not positive on a one-sided range)."""
    lo, hi = bounds
    values = np.asarray(values, dtype=float)
    if unit == "rank" or (unit == "count" and values[-1:].min(initial=np.inf) < MIN_COUNT):
        return None
    if math.isfinite(lo) and math.isfinite(hi) and ((values > lo) & (values < hi)).all():
        return "logit"
    if lo >= 0 and not math.isfinite(hi) and (values > 0).all():
        return "log"
    return None


def _to_scale(values: np.ndarray, scale: str, bounds: tuple[float, float]) -> np.ndarray:
    if scale == "logit":
        return np.asarray(to_unbounded(values, *bounds), dtype=float)
    return np.log(np.asarray(values, dtype=float))


def _from_scale(z: np.ndarray, scale: str, bounds: tuple[float, float]) -> np.ndarray:
    if scale == "logit":
        return np.asarray(from_unbounded(z, *bounds), dtype=float)
    with np.errstate(over="ignore"):
        return np.exp(z)


def reference_predictive(
    seen: pd.Series,
    bounds: tuple[float, float],
    target_year: int,
    reference: Reference | None = None,
    unit: str = "continuous",
) -> tuple[Predictive, int] | None:
    """The predictive distribution of the target-year value of a 1- or 2-point series.

    With one point, the reference class' changes over the horizon, in either direction (the
    corpus' series mostly fall, a plan's mostly grow: one value cannot tell which), are added
    to it (``level``). With two, an equal mixture of that and of the observed change per year
    extended to the target year plus the reference class' errors of such extensions at the
    same horizon (``drift``, in the observed direction): two points cannot tell momentum from
    noise, and on the calibration corpus (left-one-indicator-out) and its hold-out the
    mixture beat both the official rule and a coin toss where each alone failed one of them
    (``benchmarks/README.md``).

    Returns
    -------
    (Predictive, int) or None
        The distribution (in the unit) and the number of reference cases behind it (the
        fewest of its parts); None when the corpus holds nothing of the kind (see
        :func:`reference_scale`) or nothing at that horizon.
    """
    reference = reference or load_reference()
    values = seen.to_numpy(dtype=float)
    lo, hi = bounds
    if math.isfinite(lo) and math.isfinite(hi):  # a share at 0 % or 100 %: just inside it
        values = np.clip(values, lo + EDGE * (hi - lo), hi - EDGE * (hi - lo))
    scale = reference_scale(bounds, values, unit)
    horizon = min(int(target_year) - int(seen.index[-1]), MAX_REFERENCE_HORIZON)
    if scale is None or reference.changes.empty or horizon < 1:
        return None
    z = _to_scale(values[-2:], scale, bounds)
    parts, cases = [], []
    for kind in ("level", "drift") if len(values) >= 2 else ("level",):
        found = reference.by_key.get((scale, kind, horizon))
        if found is None:
            return None
        (shifts, count), centre = found, z[-1]
        if len(values) == 1:  # the direction is unknown: as likely up as down by as much
            shifts = np.concatenate([shifts, -shifts])
        if kind == "drift":
            years = np.asarray(seen.index[-2:], dtype=float)
            slope = (z[1] - z[0]) / (years[1] - years[0])
            centre = z[-1] + slope * (int(target_year) - years[1])
            shifts = shifts if slope >= 0 else -shifts
        parts.append(Sample(np.clip(_from_scale(centre + shifts, scale, bounds), *bounds)))
        cases.append(count)
    predictive = parts[0] if len(parts) == 1 else Mixture(tuple(parts), (0.5, 0.5))
    return predictive, min(cases)


def build_changes(series: Iterable[tuple[pd.Series, tuple[float, float]]]) -> pd.DataFrame:
    """The reference distributions of changes, from real series and their units' supports.

    Every origin year T of every series whose scale is known (:func:`reference_scale`) gives,
    for each h = 1 .. :data:`MAX_REFERENCE_HORIZON` with T + h observed, the ``level`` change
    z(T + h) - z(T) and, when T - 1 is observed, the ``drift`` error
    s (z(T + h) - z(T) - h (z(T) - z(T - 1))), s the sign of the observed change.

    Returns
    -------
    pandas.DataFrame
        Columns scale, kind, horizon, cases, quantile, value (the :data:`CHANGE_QUANTILES`).
    """
    found: dict[tuple[str, str, int], list[float]] = {}
    for values, bounds in series:
        values = values.dropna().sort_index()
        scale = reference_scale(bounds, values.to_numpy())
        if scale is None or len(values) < 2:
            continue
        z = pd.Series(_to_scale(values.to_numpy(), scale, bounds), index=values.index.astype(int))
        for year, now in z.items():
            before = z.get(year - 1)
            for h in range(1, MAX_REFERENCE_HORIZON + 1):
                later = z.get(year + h)
                if later is None:
                    continue
                found.setdefault((scale, "level", h), []).append(later - now)
                if before is not None:
                    slope = now - before
                    sign = 1.0 if slope >= 0 else -1.0
                    found.setdefault((scale, "drift", h), []).append(
                        sign * (later - now - h * slope)
                    )
    rows = [
        {"scale": scale, "kind": kind, "horizon": h, "cases": len(errors), "quantile": q,
         "value": v}
        for (scale, kind, h), errors in sorted(found.items())
        for q, v in zip(CHANGE_QUANTILES, np.quantile(errors, CHANGE_QUANTILES), strict=True)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["scale", "kind", "horizon", "cases", "quantile", "value"])
