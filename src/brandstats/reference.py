"""What real official series teach about short ones: the engine's reference class.

A series of 2-6 yearly points cannot show how wrong a projection of it will be 3-15 years on;
real official series with known outcomes can. Two tables, learned from the calibration corpus
(``benchmarks/calibration/``: real series of official plans' indicators, World Bank WDI) by
``benchmarks/build_reference.py``, are shipped in ``data/``:

``reference_widening.csv``
    For the models' scale (``logit`` for a percentage, ``as is`` for counts, money and rates),
    the number of points and the horizon: how much the engine's 90 % interval had to be widened
    to hold the real outcome 90 % of the time (k = the 0.9 quantile of |Phi^-1(PIT)| / 1.645 over
    the corpus' forecasts in that cell, at least 1). :func:`widening` reads it; the engine
    widens a projection to at least that factor.
``reference_changes.csv``
    For series too short for any model (1 or 2 points): quantiles of the change over h years
    on the logit scale (percentages) or the log scale (positive quantities), either as it is
    (``level``: what a single value does in h years) or as the error of extending the one
    observed change (``drift``, signed so that positive means "further in the observed
    direction"). :func:`reference_predictive` turns them into a predictive distribution
    (one point: ``level``; two: an equal mixture of both).

Where the corpus holds nothing of a kind (a series that is not positive, a unit that is neither
a share nor a positive quantity), nothing is borrowed and the engine says so.

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
    "Reference",
    "build_changes",
    "load_reference",
    "reference_predictive",
    "reference_scale",
    "widening",
]

CHANGE_QUANTILES = np.arange(1, 100) / 100
"""The quantile levels kept of each reference distribution of changes."""

POINT_EDGES = (3, 4, 5, 8)
"""Lower edges of the widening table's buckets of series length (3, 4, 5-7, 8+ points)."""

HORIZON_EDGES = (1, 4, 7, 11)
"""Lower edges of its buckets of horizon (1-3, 4-6, 7-10, 11+ years)."""

MAX_REFERENCE_HORIZON = 15

EDGE = 1e-3
"""A share observed at a bound of its range (0 %, 100 %) is read this fraction of the range
inside it, where the logit scale is defined."""


@dataclass(frozen=True, eq=False)
class Reference:
    """The two learned tables (see the module docstring); empty frames borrow nothing."""

    widening: pd.DataFrame
    changes: pd.DataFrame

    def factor(self, scale: str, points: int, horizon: int) -> float:
        """The widening factor of a forecast ``horizon`` years ahead of ``points`` points on
        ``scale`` (1 when the table has no such cell)."""
        if self.widening.empty:
            return 1.0
        cells = self.widening.loc[
            (self.widening["scale"] == scale)
            & (self.widening["points"] == _bucket(points, POINT_EDGES))
        ].sort_values("horizon")
        if cells.empty:
            return 1.0
        # the longest horizon bucket up to this one (beyond the corpus' longest horizons the
        # factor is not extrapolated; it never decreases with the horizon, see build_widening)
        within = cells.loc[cells["horizon"] <= _bucket(horizon, HORIZON_EDGES)]
        cell = within.iloc[-1] if len(within) else cells.iloc[0]
        return max(1.0, float(cell["factor"]))


def _bucket(value: int, edges: Iterable[int]) -> int:
    edges = list(edges)
    return max((e for e in edges if e <= value), default=edges[0])


@functools.cache
def load_reference() -> Reference:
    """The shipped tables (``data/reference_widening.csv``, ``data/reference_changes.csv``)."""
    frames = []
    for name in ("reference_widening.csv", "reference_changes.csv"):
        path = DATA_DIR / name
        frames.append(pd.read_csv(path) if path.exists() else pd.DataFrame())
    return Reference(*frames)


def widening(scale: str, points: int, horizon: int, reference: Reference | None = None) -> float:
    """The shipped (or given) reference's widening factor; see :meth:`Reference.factor`."""
    return (reference or load_reference()).factor(scale, points, horizon)


def reference_scale(bounds: tuple[float, float], values: np.ndarray) -> str | None:
    """The scale on which a short series is compared with the reference class: ``logit`` for
    values strictly inside a range bounded on both sides, ``log`` for positive values bounded
    below only; None when the corpus holds nothing of the kind."""
    lo, hi = bounds
    values = np.asarray(values, dtype=float)
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
    scale = reference_scale(bounds, values)
    horizon = min(int(target_year) - int(seen.index[-1]), MAX_REFERENCE_HORIZON)
    if scale is None or reference.changes.empty or horizon < 1:
        return None
    z = _to_scale(values[-2:], scale, bounds)
    parts, cases = [], []
    for kind in ("level", "drift") if len(values) >= 2 else ("level",):
        rows = reference.changes.loc[
            (reference.changes["scale"] == scale)
            & (reference.changes["kind"] == kind)
            & (reference.changes["horizon"] == horizon)
        ].sort_values("quantile")
        if rows.empty:
            return None
        shifts, centre = rows["value"].to_numpy(dtype=float), z[-1]
        if len(values) == 1:  # the direction is unknown: as likely up as down by as much
            shifts = np.concatenate([shifts, -shifts])
        if kind == "drift":
            years = np.asarray(seen.index[-2:], dtype=float)
            slope = (z[1] - z[0]) / (years[1] - years[0])
            centre = z[-1] + slope * (int(target_year) - years[1])
            shifts = shifts if slope >= 0 else -shifts
        parts.append(Sample(np.clip(_from_scale(centre + shifts, scale, bounds), *bounds)))
        cases.append(int(rows["cases"].iloc[0]))
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


def build_widening(cases: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """The widening table from the corpus' forecasts: one row per (scale, points, horizon)
    bucket with ``cases`` (at least 20 kept) and ``factor`` = the ``level`` quantile of
    |Phi^-1(PIT)| / Phi^-1((1 + level) / 2), made non-decreasing in the horizon.

    ``cases`` needs columns scale, points, horizon, pit.
    """
    from scipy import stats

    frame = cases.dropna(subset=["pit"]).assign(
        points=lambda d: [_bucket(int(n), POINT_EDGES) for n in d["points"]],
        horizon=lambda d: [_bucket(int(h), HORIZON_EDGES) for h in d["horizon"]],
        z=lambda d: np.abs(stats.norm.ppf(np.clip(d["pit"], 1e-6, 1 - 1e-6))),
    )
    table = (
        frame.groupby(["scale", "points", "horizon"])["z"]
        .agg(cases="size", factor=lambda z: np.quantile(z, level) / stats.norm.ppf((1 + level) / 2))
        .reset_index()
    )
    table = table.loc[table["cases"] >= 20].sort_values(["scale", "points", "horizon"])
    # errors grow with the horizon: a smaller factor further ahead is sampling noise
    table["factor"] = table.groupby(["scale", "points"])["factor"].cummax()
    return table.reset_index(drop=True)
