"""What next year must bring: the figure that keeps the odds of meeting the target even.

For a target not yet settled, :func:`next_year` finds the value v for the year after the latest
observation such that, were v observed, the engine (the same :func:`brandstats.assess`, models
refitted on the longer series) would give P(met) = 50 %: a director's trigger ("2023: at least
5,180 to keep even odds"). It is found by Brent's root search (:func:`scipy.optimize.brentq`) on
P(met | v) - 0.5, which rises with v for an "at least" target and falls for an "at most" one,
at the step where it turns non-negative (P(met) may move in steps: from two points it comes from
the reference class' cases).
Beside it: the value on the required path (constant growth to the target).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from .attainment import Assessment, make_problems
from .engine import make_problem, outlooks
from .errors import BrandstatsError
from .hierarchy import tree_of
from .loading import on_basis
from .models import check_levels
from .spec import peer_regions, target_spec

__all__ = ["EVEN", "next_year"]

EVEN = 0.5
"""The odds to keep."""

_SETTLED = ("met", "not met", "already met", "unknown")


def next_year(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    result: Assessment,
    *,
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    seed: int = 0,
    vintage_basis: str = "latest",
) -> dict[str, Any] | None:
    """The value needed next year to keep P(met) at 50 % or more.

    Parameters
    ----------
    observations, targets : pandas.DataFrame
        The data ``result`` was assessed on.
    result : Assessment
        The target's assessment (its vintage: the next year is the one after its latest
        observation).
    model, levels, seed, vintage_basis
        As ``result`` was assessed with (:func:`brandstats.assess`): with
        ``vintage_basis="published"`` the figures are those published by its ``as_of``.

    Returns
    -------
    dict or None
        None when the target is settled or has no probability, or when its P(met) is read
        from its districts (:mod:`brandstats.hierarchy`: a figure of its own would not move
        it; each district has its own next-year value). Otherwise ``year``,
        ``value_for_even_odds`` (None when no value in the unit's range gives even odds, with
        ``reason``: ``"always"``, every value keeps them, or ``"never"``), ``required_path``
        (the value on the constant-growth path to the target), ``direction`` (``"at least"``
        for a ">"/">=" target, else ``"at most"``), ``in_target_year`` (next year is the target
        year: the value is the target itself) and ``strict`` (then, for a ">" or "<" target:
        the target itself does not meet it, next year must bring more, or less, than it).
    """
    if result.verdict in _SETTLED or result.probability is None or result.aggregate:
        return None
    year = result.last_year + 1
    at_least = result.comparison in (">", ">=")
    out: dict[str, Any] = {
        "year": year,
        "required_path": result.required_path.get(year),
        "direction": "at least" if at_least else "at most",
        "value_for_even_odds": None,
        "reason": None,
        "in_target_year": year >= result.target_year,
        "strict": False,
    }
    if out["in_target_year"]:  # next year is the target year: the target itself
        out["value_for_even_odds"] = float(result.target)
        out["strict"] = result.comparison in (">", "<")
        return out
    lo, hi = result.support
    region = result.region
    levels = check_levels(levels)
    observations = on_basis(observations, result.as_of, vintage_basis)
    # the pooling group as of next year, once; each what-if replaces the region's series by
    # its figures before next year and the value tried (the engine of assess, which would
    # give the same P(met) from the same data; only its forecast tables are not drawn up)
    problems, _ = make_problems(observations, targets, result.indicator, [region], as_of=year)
    order = dict.fromkeys([*peer_regions(observations, targets, result.indicator), region])
    # with a region tree, its pooling group is its siblings (as assess pools them); a parent
    # read from its districts has no next-year value (returned None above)
    tree, _, _ = tree_of(targets, result.indicator)
    observed = set(observations.loc[observations["indicator"] == result.indicator, "region"])
    order = {
        r: None for r in order if tree.get(r, "") == tree.get(region, "") and r in observed
    }  # a parent without figures of its own is no member: it is its districts' sum
    rows = observations.loc[
        (observations["indicator"] == result.indicator) & (observations["region"] == region)
    ]
    rows = rows.loc[rows["year"] < year].set_index("year").sort_index()
    spec = target_spec(targets, result.indicator, region)
    kept: dict = {}  # the other regions' own projections: the same in every what-if

    def keeps(value: float) -> float:
        """P(met) - 1/2 with ``value`` next year: >= 0 exactly when it keeps even odds (a
        P of exactly 1/2, a step of the reference class' two-point forecast, gives a tiny
        positive number, so that the search ends at the step); -1 with no probability."""
        values = pd.concat([rows["value"], pd.Series([value], index=[year])])
        qualifiers = pd.concat([rows["qualifier"], pd.Series(["reported"], index=[year])])
        try:
            problem = make_problem(spec, values, qualifiers, as_of=year)
            group = {r: problem if r == region else problems[r]
                     for r in order if r == region or r in problems}  # fmt: skip
            found = outlooks(group, model=model, levels=levels, seed=seed, frames=False,
                             projections=kept, only=[region])  # fmt: skip
        except BrandstatsError:
            return -1.0
        p = found[region].probability
        return -1.0 if p is None else (p - EVEN) or 1e-12

    low, high = _bracket(result, lo, hi)
    # First the values next year may plausibly bring (its forecast interval and the required
    # path): the step to even odds is nearly always there, and Brent's search over that span
    # takes half the refits it takes over the whole range; beyond it only when it is not there.
    a, b = _near(result, low, high)
    k_a, k_b = keeps(a), keeps(b)
    if (k_a >= 0) != (k_b >= 0):
        low, high = a, b
    else:  # the step is further out: below a or above b, by the direction and the odds
        below = (k_a >= 0) == at_least
        inner, end, width = (a if below else b), (low if below else high), b - a
        while True:  # out by twice as far each time: the step is often just beyond
            outer = max(inner - width, end) if below else min(inner + width, end)
            if (keeps(outer) >= 0) != (k_a >= 0):
                break
            if outer == end:  # as at a and b up to the unit's range
                out["reason"] = "always" if k_a >= 0 else "never"
                return out
            inner, width = outer, 2 * width
        low, high = (outer, inner) if below else (inner, outer)
    if result.unit not in ("count", "rank"):
        # 1e-4 relative: far finer than figures are published, and few refits
        value = optimize.brentq(keeps, low, high, xtol=1e-9 * max(abs(high), 1.0), rtol=1e-4)
        out["value_for_even_odds"] = float(value)
        return out
    # Whole numbers: the first that keeps even odds (the last, for an "at most" target). Brent's
    # x is within t = 0.4 (+ rounding) of the step, so at most one whole number k lies within
    # t of x, and the step's side of k (one more refit) settles it.
    x = optimize.brentq(keeps, low, high, xtol=0.4, rtol=4 * np.finfo(float).eps)
    t = 0.4 + 8 * np.finfo(float).eps * abs(x)
    k = math.floor(x + t)
    if k > x - t:
        holds = keeps(k) >= 0
        value = (k if holds else k + 1) if at_least else (k if holds else k - 1)
    else:
        value = math.ceil(x - t) if at_least else math.floor(x + t)
    out["value_for_even_odds"] = float(value)
    return out


def _near(result: Assessment, low: float, high: float) -> tuple[float, float]:
    """The span of next year's widest forecast interval and its required-path value, within
    ``(low, high)``."""
    year = result.last_year + 1
    rows = result.forecast.loc[result.forecast["year"] == year]
    if "model" in rows:
        rows = rows.loc[rows["model"] == result.model]
    bounds = [c for c in rows.columns if str(c).startswith(("lower_", "upper_"))]
    values = [v for v in rows[bounds].to_numpy().ravel() if np.isfinite(v)]
    values += [v for v in (result.required_path.get(year), result.last_value) if v is not None]
    a, b = max(min(values), low), min(max(values), high)
    return (a, b) if a < b else (low, high)


def _bracket(result: Assessment, lo: float, hi: float) -> tuple[float, float]:
    """Values far below and far above what next year may bring, inside the support."""
    last = result.last_value
    spread = max(abs(last), abs(result.target), 1e-9)
    low = last - 2 * spread if not np.isfinite(lo) else lo + 1e-9 * spread
    high = last + 2 * spread if not np.isfinite(hi) else hi - 1e-9 * spread
    if result.unit == "rank":
        low = max(low, 1.0)
    return low, high
