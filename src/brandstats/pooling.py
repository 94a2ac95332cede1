"""Pooling across regions: one indicator observed for many regions, calibrated together.

Analysts hold one indicator for many regions (a city's districts, a province's cities, the EU's
member states), each with a few points, too few to tell how wide its own forecast should be.
:func:`pool_regions` calibrates every region's forecast on the backtests of all of them, and
each region keeps its own models, weights, trend and P(met).

Every region's rolling-origin backtest (:func:`brandstats.backtest.run_backtest`) gives the
PIT of its mixture forecast for each case. The cases of all regions are pooled and, for each
region, those nearest its own target horizon (:data:`brandstats.backtest.NEAR_HORIZON_CASES`
per region, ties kept) give the widening factor (:func:`brandstats.backtest.widening_factor`,
extrapolated to the target horizon by :func:`brandstats.backtest.horizon_growth` when the
backtest does not reach it), and the number of all pooled cases gives the tail floor of P(met)
(:func:`brandstats.backtest.tail_floor`): the interval width is calibrated on many regions'
cases rather than one series' few, at the horizon that matters (Gneiting, Balabdaoui & Raftery
2007). The coverage after widening of the pooled cases is read on the z = Phi^-1(PIT) scale,
|z| <= k Phi^-1((1 + L) / 2) (exact for a normal forecast). This needs two regions with
backtest cases; with a single region nothing is pooled. A region whose own backtest has
:data:`~brandstats.backtest.NEAR_HORIZON_CASES` cases or more is calibrated on its own (its
cases still count in the pool of the others): on the calibration benchmark's full series the
pooled width was no better (Brier 0.122 own, 0.123 pooled; log score 0.387, 0.393), while on
their last 6 points pooling raised the 90 % coverage from 0.55 to 0.65 (Brier 0.125, 0.124).

*Tried and reverted: shrinking the trends.* Empirical Bayes shrinkage of each region's drift
towards the group (normal-normal model on per-region drifts on a scale that maps the unit's
support to the line, Paule-Mandel tau^2 via statsmodels ``combine_effects``, posterior mean
mu + B_i (d_i - mu), B_i = tau^2 / (tau^2 + v_i); Efron & Morris 1975; Morris 1983) made the
calibration benchmark worse: Brier 0.124 -> 0.133, log score 0.412 -> 0.427 with the last 6
points of each series, 0.124 -> 0.127 on the full series (``benchmarks/README.md``,
calibration section): the regions of one indicator there (countries) differ in their trends
more than their short series' noise suggests. It is not used.

References
----------
Gneiting, T., Balabdaoui, F. & Raftery, A. E. (2007). Probabilistic forecasts, calibration and
sharpness. *Journal of the Royal Statistical Society B* 69(2), 243-268.

Gneiting, T. & Raftery, A. E. (2007). Strictly proper scoring rules, prediction, and
estimation. *Journal of the American Statistical Association* 102(477), 359-378.

Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its generalizations.
*Journal of the American Statistical Association* 70(350), 311-319.

Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications.
*Journal of the American Statistical Association* 78(381), 47-55.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from brandstats.backtest import (
    _PIT_CLIP,
    NEAR_HORIZON_CASES,
    Backtest,
    _covered,
    horizon_growth,
    near_horizon,
    run_backtest,
    widening_factor,
)

__all__ = ["METHOD", "Pooled", "pool_backtests", "pool_regions"]

METHOD = "pooled backtest calibration at the target horizon (widening and tail floor)"
"""The ``method`` recorded in :attr:`brandstats.attainment.Assessment.pooling`."""


@dataclass(frozen=True, eq=False)
class Pooled:
    """What one region borrows from its group; pass it to :func:`brandstats.backtest.project`.

    Attributes
    ----------
    backtest : Backtest
        The region's own backtest (reused, not recomputed).
    widening : float
        The widening factor estimated on the pooled cases nearest the region's horizon.
    coverage : dict of float to (float, float)
        Coverage of those pooled cases before and after widening.
    n_cases : int
        The number of pooled backtest cases (all regions, all horizons): the tail floor's n.
    info : dict
        For :attr:`brandstats.attainment.Assessment.pooling`: regions, method, n_cases,
        widening, widening_unpooled (and, from :func:`brandstats.engine.outlooks`,
        p_unpooled). Empty for a region calibrated on its own backtest, which is only reused.
    """

    backtest: Backtest
    widening: float
    coverage: dict[float, tuple[float, float]]
    n_cases: int
    info: Mapping[str, Any] = field(default_factory=dict)


def pool_regions(
    series: Mapping[Any, pd.Series],
    *,
    target_years: Mapping[Any, int],
    levels: Sequence[float] = (0.5, 0.9),
    seed: int = 0,
) -> dict[Any, Pooled]:
    """Pool the regions of one indicator: calibrate each on the backtests of all of them.

    Parameters
    ----------
    series : mapping of region to pandas.Series
        Each region's observed values (only what its forecaster may see: up to its vintage),
        indexed by int years, ascending, as the models see them.
    target_years : mapping of region to int
        Each region's target year.
    levels : sequence of float
        The interval levels; the largest is calibrated.
    seed : int
        Seed of the simulated forecasts.

    Returns
    -------
    dict of region to Pooled
        See :func:`pool_backtests`.
    """
    backtests: dict[Any, Backtest] = {}
    for region, values in series.items():
        values = values.dropna().sort_index()
        if values.empty or int(values.index[-1]) >= int(target_years[region]):
            continue
        horizon = int(target_years[region]) - int(values.index[-1])
        backtests[region] = run_backtest(values, horizon=horizon, levels=levels, seed=seed)
    return pool_backtests(backtests, levels=levels)


def pool_backtests(
    backtests: Mapping[Any, Backtest], *, levels: Sequence[float] = (0.5, 0.9)
) -> dict[Any, Pooled]:
    """Calibrate each region on the pooled cases of every region's backtest.

    Returns
    -------
    dict of region to Pooled
        For every region with at least one fitted model and fewer than
        :data:`~brandstats.backtest.NEAR_HORIZON_CASES` backtest cases of its own, when at
        least two regions have backtest cases; empty otherwise (a single region is assessed
        on its own).
    """
    levels = tuple(sorted(levels))
    backtests = {r: b for r, b in backtests.items() if b is not None and b.fits}
    with_cases = [r for r, b in backtests.items() if b.n_cases]
    if len(with_cases) < 2:
        return {}
    pooled = pd.concat([backtests[r].mixture for r in with_cases], ignore_index=True)
    pit, horizons = pooled["pit"].to_numpy(float), pooled["horizon"].to_numpy()
    z = np.abs(stats.norm.ppf(np.clip(pit, _PIT_CLIP, 1 - _PIT_CLIP)))

    calibration: dict[int, tuple[float, dict[float, tuple[float, float]]]] = {}
    out = {}
    for region, result in backtests.items():
        horizon = result.horizon
        if result.n_cases >= NEAR_HORIZON_CASES:
            continue  # enough cases of its own: calibrated on them (see the module docstring)
        if horizon not in calibration:
            near = near_horizon(horizons, horizon, NEAR_HORIZON_CASES * len(with_cases))
            factor, _ = widening_factor(pit[near], levels[-1])
            factor *= horizon_growth(pit, horizons, horizon, near)
            coverage = {
                lv: (
                    _covered(pit[near], lv),
                    float(np.mean(z[near] <= factor * stats.norm.ppf((1 + lv) / 2))),
                )
                for lv in levels
            }
            calibration[horizon] = (factor, coverage)
        factor, coverage = calibration[horizon]
        info = {
            "regions": len(backtests),
            "method": METHOD,
            "n_cases": len(pooled),
            "widening": factor,
            "widening_unpooled": result.widening,
        }
        out[region] = Pooled(result, factor, coverage, len(pooled), info)
    return out
