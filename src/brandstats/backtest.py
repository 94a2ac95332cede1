"""Rolling-origin backtest of the trend models, skill weights, calibration and projection.

:func:`run_backtest` refits every model on each expanding prefix of a series, scores its
forecasts of the later observations by CRPS and interval coverage, turns the scores into
combination weights and estimates how much the combined intervals must be widened to be
calibrated. :func:`project` uses it to forecast up to a target year with one model or with
the weighted mixture of all of them (``model="auto"``).

References
----------
Gneiting, T. & Raftery, A. E. (2007). Strictly proper scoring rules, prediction, and
estimation. *Journal of the American Statistical Association* 102(477), 359-378.

Laio, F. & Tamea, S. (2007). Verification tools for probabilistic forecasts of continuous
hydrological variables. *Hydrology and Earth System Sciences* 11, 1267-1277.

Stock, J. H. & Watson, M. W. (2004). Combination forecasts of output growth in a
seven-country data set. *Journal of Forecasting* 23(6), 405-430.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from brandstats.errors import BrandstatsError, InsufficientDataError
from brandstats.memo import recent
from brandstats.models import (
    MODELS,
    Mixture,
    ModelFit,
    Predictive,
    check_levels,
    check_series,
    fit_model,
)
from brandstats.notes import Note, note_of

__all__ = [
    "Backtest",
    "Projection",
    "crps",
    "horizon_growth",
    "near_horizon",
    "project",
    "run_backtest",
    "tail_floor",
    "widening_factor",
]

#: Number of quantiles in the CRPS approximation.
CRPS_QUANTILES = 99

#: Fewest backtest cases for scores and weights, and for estimating the widening factor.
MIN_CASES = 2
MIN_CASES_WIDENING = 3

#: Weights and widening are estimated on the backtest cases whose horizon is nearest the
#: horizon asked for (the distance to the target year), at least this many of them (ties
#: kept); all cases when there are fewer.
NEAR_HORIZON_CASES = 20

#: Skill weights from m backtest cases count as m cases against this many cases' worth of
#: equal weights (see ``_weights``): a handful of cases cannot swing the mixture.
WEIGHT_PRIOR_CASES = 10

#: The intervals are narrowed (a factor below 1) only on at least this many such cases.
MIN_CASES_NARROWING = 20

#: The largest tail floor (see :func:`tail_floor`): with little or no backtest, P(met) is
#: kept within [0.1, 0.9].
MAX_TAIL_FLOOR = 0.1

# PIT values are clipped to [eps, 1 - eps] before the normal transform, so a forecast that
# missed by far gives |z| <= 4.75 instead of infinity.
_PIT_CLIP = 1e-6


def crps(predictive: Predictive, y: float, *, n_quantiles: int = CRPS_QUANTILES) -> float:
    """Continuous ranked probability score of a predictive distribution (lower is better).

    Parameters
    ----------
    predictive : Predictive
        The forecast distribution.
    y : float
        The value that occurred.
    n_quantiles : int, default 99
        Number K of quantile levels tau_k = k / (K + 1), k = 1..K.

    Returns
    -------
    float
        The CRPS, in the units of ``y``.

    Notes
    -----
    The CRPS is twice the integral over tau of the pinball (quantile) loss
    rho_tau(y, q_tau) = (1{y < q_tau} - tau)(q_tau - y) (Gneiting & Raftery 2007;
    Laio & Tamea 2007). It is approximated by twice the mean loss over K evenly spaced levels,

        CRPS ~= (2 / K) * sum_k rho_{tau_k}(y, q_{tau_k}),   tau_k = k / (K + 1).

    This is exact for a point mass and, for K = 99, about 1% above the closed form for a
    normal forecast (the weights, ratios of scores, are unaffected by such a constant factor).
    It needs only quantiles, so it works for every kind of
    :class:`~brandstats.models.Predictive`; it stays finite for a Student t with one degree
    of freedom, whose exact CRPS is infinite.

    References
    ----------
    Gneiting & Raftery (2007); Laio & Tamea (2007); see the module docstring.
    """
    tau = np.arange(1, n_quantiles + 1) / (n_quantiles + 1)
    with np.errstate(over="ignore"):  # a log-t's outer quantiles may overflow to inf
        error = y - np.asarray(predictive.ppf(tau), dtype=float)
    pinball = np.maximum(tau * error, (tau - 1) * error)
    return float(2 * pinball.sum() / n_quantiles)


@dataclass(frozen=True, eq=False)
class Backtest:
    """The result of :func:`run_backtest`; immutable.

    Attributes
    ----------
    fits : dict of str to ModelFit
        The models that could be fitted to the whole series, in :data:`MODELS` order.
    table : pandas.DataFrame
        One row per model: model, status (``"used"``: fitted and scored; ``"skipped"``: could
        not be fitted; ``"not backtested"``: fitted but not scored), reason, min_points,
        n_cases, crps (mean over the cases), coverage_<level> (share of actual values inside
        the model's central interval at each level) and weight.
    cases : pandas.DataFrame
        One row per scored forecast: origin (last year the model saw), year, horizon, model,
        actual, point, crps, pit (the predictive cdf at the actual value).
    weights : dict of str to float
        Combination weight of each fitted model (sums to 1).
    widening : float
        The factor (>= 1) by which the components are widened to calibrate the mixture.
    coverage : dict of float to (float, float)
        For each level, the mixture's backtest coverage before and after widening (NaN when
        there is no backtest).
    notes : tuple of str
        What was dropped, assumed or could not be estimated, in words.
    mixture : pandas.DataFrame
        One row per scored (origin, year): origin, year, horizon, actual, pit (the weighted
        mixture's PIT, unwidened) and near (whether the case is among those nearest the
        horizon, on which the weights and the widening are estimated).
    horizon : int
        The horizon asked for (the distance to the target year).
    """

    fits: dict[str, ModelFit]
    table: pd.DataFrame
    cases: pd.DataFrame
    weights: dict[str, float]
    widening: float
    coverage: dict[float, tuple[float, float]]
    notes: tuple[str, ...]
    mixture: pd.DataFrame = field(default_factory=pd.DataFrame)
    horizon: int = 1

    @property
    def n_cases(self) -> int:
        """The number of scored (origin, year) cases."""
        return len(self.mixture)


def run_backtest(
    series: pd.Series,
    *,
    models: Sequence[str] = tuple(MODELS),
    horizon: int = 1,
    levels: Sequence[float] = (0.5, 0.9),
    seed: int = 0,
) -> Backtest:
    """Rolling-origin (expanding window) backtest, skill weights and widening factor.

    Parameters
    ----------
    series : pandas.Series
        Float values indexed by int years, ascending, unique, without NaN.
    models : sequence of str, default all of :data:`MODELS`
        The candidate models.
    horizon : int, default 1
        Score forecasts of observed years at most this many years after each origin.
    levels : sequence of float, default (0.5, 0.9)
        Central interval levels whose coverage is reported; the largest is calibrated.
    seed : int, default 0
        Seed of the simulated (``holt``) forecasts.

    Returns
    -------
    Backtest

    Notes
    -----
    *Cases.* The candidates are the models that fit the whole series. An origin is a number o
    of leading observations on which every candidate can be fitted (o >= the largest minimum
    in :data:`MODELS`, o < n); from each origin every later observed year within ``horizon``
    years of its last year is forecast, so all candidates are scored on the same cases. With
    fewer than 2 cases the candidate with the largest minimum (``holt`` first) is dropped and
    the search repeated; if none remains there is no backtest.

    *Weights.* w_m is proportional to 1 / (mean CRPS of m), inverse-score weighting, the
    analogue for a proper score of the inverse-MSE combination weights of Stock & Watson
    (2004). A model that fits but was dropped from the backtest gets weight 0; with no
    backtest at all every fitted model gets the same weight. If some models score a CRPS of
    exactly 0 they share the weight equally. The skill weights of m cases are then shrunk
    toward equal weights as if equal weights had :data:`WEIGHT_PRIOR_CASES` cases behind
    them, so that two or three cases cannot put most of the weight on one model.

    *Widening.* With u_i the weighted mixture's PIT at the actual value of case i (the
    weighted sum of the components' PITs) and z_i = Phi^-1(u_i) (u clipped to
    [1e-6, 1 - 1e-6]), k = max(1, quantile(|z|, L) / Phi^-1((1 + L) / 2)) for the largest
    level L: the factor that would have made the L-interval of a normal forecast cover a share
    L of the cases. It needs at least 3 cases (else k = 1). The weights are estimated on the
    same cases, so the coverage after widening is an in-sample figure.
    """
    levels = check_levels(levels)
    unknown = sorted(set(models) - set(MODELS))
    if unknown or horizon < 1:
        raise BrandstatsError(
            f"unknown models {unknown}" if unknown else f"horizon must be >= 1, got {horizon}"
        )
    years, _ = check_series(series)
    n = years.size
    fits: dict[str, ModelFit] = {}
    reasons: dict[str, str] = {}
    for name in (m for m in MODELS if m in models):
        try:
            fits[name] = _fit(series, name, seed)
        except InsufficientDataError as error:
            reasons[name] = note_of(error)

    candidates, dropped, pairs = list(fits), {}, []
    while candidates:
        start = max(MODELS[m] for m in candidates)
        pairs = [
            (o, j)
            for o in range(start, n)
            for j in range(o, n)
            if years[j] - years[o - 1] <= horizon
        ]
        if len(pairs) >= MIN_CASES:
            break
        worst = max(reversed(candidates), key=MODELS.__getitem__)
        dropped[worst] = len(pairs)
        candidates.remove(worst)

    notes = list(reasons.values())
    for name, count in dropped.items():
        consequence = Note("weight_zero" if candidates else "equal_weights")
        code = {0: "no_common_cases", 1: "one_common_case"}.get(count, "too_few_cases")
        reasons[name] = Note(code, count=count, needed=MIN_CASES, consequence=consequence)
    if candidates:
        notes += [Note("not_backtested", model=m, reason=reasons[m]) for m in dropped]
    elif fits:
        notes.append(Note("no_backtest", points=n, horizon=horizon))

    cases, forecasts = _score(series, candidates, pairs if candidates else [], seed)
    keys = ["origin", "year", "horizon", "actual"]
    # _score writes one row per candidate for each case, case after case: a case's first row
    # is its row here, and each case's near flag repeats over its rows
    per_case = max(len(candidates), 1)
    mixture = cases.iloc[::per_case][keys].reset_index(drop=True)
    mixture["near"] = near_horizon(mixture["horizon"].to_numpy(), horizon)
    near_cases = cases.loc[np.repeat(mixture["near"].to_numpy(bool), len(candidates))]
    weights = _weights(near_cases, fits, int(mixture["near"].sum()))
    mixture["pit"] = _mixture_pit(forecasts, weights, 1.0)
    pit, near = mixture["pit"].to_numpy(), mixture["near"].to_numpy(bool)
    widening, widening_note = widening_factor(pit[near], levels[-1])
    widening *= horizon_growth(pit, mixture["horizon"].to_numpy(), horizon, near)
    if widening_note:
        notes.append(widening_note)
    after = _mixture_pit([f for f, k in zip(forecasts, near, strict=True) if k], weights, widening)
    coverage = {level: (_covered(pit[near], level), _covered(after, level)) for level in levels}
    table = _table(models, fits, reasons, cases, weights, levels)
    return Backtest(fits, table, cases, weights, widening, coverage, tuple(notes), mixture, horizon)


def near_horizon(horizons: np.ndarray, horizon: int, count: int | None = None) -> np.ndarray:
    """Mask of the cases whose horizon is nearest ``horizon``: at least ``count``, ties kept.

    ``count`` defaults to :data:`NEAR_HORIZON_CASES`; with fewer cases all are kept.
    """
    count = NEAR_HORIZON_CASES if count is None else count
    horizons = np.asarray(horizons, dtype=float)
    if horizons.size <= count:
        return np.ones(horizons.size, dtype=bool)
    distance = np.abs(horizons - horizon)
    return distance <= np.sort(distance)[count - 1]


def widening_factor(pit: np.ndarray, level: float) -> tuple[float, str | Note]:
    """The factor that calibrates the central ``level`` interval on these PITs, and a note.

    With z_i = Phi^-1(u_i) (u clipped to [1e-6, 1 - 1e-6]), k = quantile(|z|, L) /
    Phi^-1((1 + L) / 2); k is at least 1 unless there are :data:`MIN_CASES_NARROWING` PITs
    or more, and 1 with fewer than :data:`MIN_CASES_WIDENING`.
    """
    pit = np.asarray(pit, dtype=float)
    if pit.size < MIN_CASES_WIDENING:
        note = Note("widening_not_estimated", count=pit.size, needed=MIN_CASES_WIDENING)
        return 1.0, note if pit.size else ""
    z = stats.norm.ppf(np.clip(pit, _PIT_CLIP, 1 - _PIT_CLIP))
    ratio = float(np.quantile(np.abs(z), level) / stats.norm.ppf((1 + level) / 2))
    return (ratio if pit.size >= MIN_CASES_NARROWING else max(1.0, ratio)), ""


def horizon_growth(
    pit: np.ndarray, horizons: np.ndarray, horizon: int, near: np.ndarray | None = None
) -> float:
    """How much more the errors grow from the near cases' horizons to ``horizon``.

    When the backtest cannot reach the target horizon (a short series forecast far ahead),
    the widening estimated on the nearest cases is extrapolated as the evidence says: with
    m_h the median |Phi^-1(u)| of the cases at horizon h (horizons with 3 cases or more),
    the slope b of log m_h on log h (least squares weighted by the number of cases, b clipped
    to [0, 1]: errors beyond the models' own spread grow at most in proportion to h) gives
    the factor (horizon / h_near)^b, h_near the mean horizon of the near cases. 1 with fewer
    than :data:`MIN_CASES_NARROWING` cases, fewer than two such horizons, or h_near >=
    horizon.
    """
    pit, horizons = np.asarray(pit, dtype=float), np.asarray(horizons, dtype=float)
    near = np.ones(pit.size, dtype=bool) if near is None else np.asarray(near, dtype=bool)
    if pit.size < MIN_CASES_NARROWING or not near.any():
        return 1.0
    h_near = float(horizons[near].mean())
    z = pd.Series(np.abs(stats.norm.ppf(np.clip(pit, _PIT_CLIP, 1 - _PIT_CLIP))))
    by_h = z.groupby(horizons).agg(["median", "size"])
    by_h = by_h.loc[(by_h["size"] >= 3) & (by_h["median"] > 0)]
    if len(by_h) < 2 or h_near >= horizon:
        return 1.0
    slope = np.polyfit(
        np.log(by_h.index.to_numpy(float)), np.log(by_h["median"]), 1, w=np.sqrt(by_h["size"])
    )[0]
    return float((horizon / h_near) ** np.clip(slope, 0.0, 1.0))


def tail_floor(n_cases: int) -> float:
    """The smallest tail probability that ``n_cases`` backtest cases support.

    min(:data:`MAX_TAIL_FLOOR`, 1 / (n + 2)), after Laplace's rule of succession: after n
    cases without a miss the chance of a miss is still about 1 / (n + 2), so no P(met)
    closer to 0 or 1 than that is claimed (below 1 % or above 99 % needs 98 cases or more).
    The cap at 0.1 keeps the direction of a probability from a series too short to backtest.
    """
    return min(MAX_TAIL_FLOOR, 1.0 / (max(int(n_cases), 0) + 2))


def _score(
    series: pd.Series,
    candidates: list[str],
    pairs: list[tuple[int, int]],
    seed: int,
) -> tuple[pd.DataFrame, list[tuple[float, dict[str, Predictive]]]]:
    """Fit each candidate on each origin's prefix and score its forecasts of later years.

    Returns the per-model scores and, per case, the actual value and each model's forecast.
    """
    rows, forecasts = [], []
    fitted: dict[int, dict[str, ModelFit]] = {}
    for origin, j in pairs:
        if origin not in fitted:
            prefix = series.iloc[:origin]
            fitted[origin] = {m: _fit(prefix, m, seed) for m in candidates}
        year, actual = int(series.index[j]), float(series.iloc[j])
        case = {m: fit.predictive(year) for m, fit in fitted[origin].items()}
        forecasts.append((actual, case))
        last = int(series.index[origin - 1])
        for name, predictive in case.items():
            rows.append(
                {
                    "origin": last,
                    "year": year,
                    "horizon": year - last,
                    "model": name,
                    "actual": actual,
                    "point": predictive.point,
                    "crps": crps(predictive, actual),
                    "pit": float(predictive.cdf(actual)),
                }
            )
    columns = ["origin", "year", "horizon", "model", "actual", "point", "crps", "pit"]
    return pd.DataFrame(rows, columns=columns), forecasts


#: How many fits :func:`_fit` keeps (the most recently used).
FIT_CACHE_SIZE = 256

_FITS: OrderedDict[tuple[str, int, bytes, bytes], ModelFit] = OrderedDict()


def _fit(series: pd.Series, model: str, seed: int) -> ModelFit:
    """:func:`~brandstats.models.fit_model`, remembered by the series' years and values.

    A fit depends on nothing else, and a :class:`~brandstats.models.ModelFit` is immutable,
    so a series seen before gets the same fit back: the rolling origins of an assessment are
    the prefixes that its next vintage (and each what-if of
    :func:`brandstats.next_year`) fits again. Failures are not kept.
    """
    years, values = check_series(series)
    key = (model, seed, years.tobytes(), values.tobytes())
    return recent(_FITS, key, FIT_CACHE_SIZE, lambda: fit_model(series, model, seed=seed))


def _weights(cases: pd.DataFrame, fits: dict[str, ModelFit], m: int) -> dict[str, float]:
    """Inverse-CRPS weights of the scored models, shrunk toward equal weights by the number
    of cases m (the rows of ``cases`` are m cases, a row per model): w = (m w_skill + c / K) /
    (m + c), c = :data:`WEIGHT_PRIOR_CASES`, K scored models (a fitted model that was not
    scored keeps 0)."""
    if cases.empty:
        return {name: 1 / len(fits) for name in fits}
    mean_crps = cases.groupby("model", sort=False)["crps"].mean()
    exact = mean_crps == 0
    # min / crps rather than 1 / crps: the same weights, without overflow for tiny scores
    skill = exact.astype(float) if exact.any() else mean_crps.min() / mean_crps
    shrunk = (m * skill / skill.sum() + WEIGHT_PRIOR_CASES / len(skill)) / (m + WEIGHT_PRIOR_CASES)
    return {name: float(shrunk.get(name, 0.0)) for name in fits}


def _covered(pit: np.ndarray, level: float) -> float:
    """Share of PIT values inside the central ``level`` interval, i.e. |u - 1/2| <= level/2."""
    return float(np.mean(np.abs(pit - 0.5) <= level / 2)) if pit.size else np.nan


def _mixture_pit(
    forecasts: list[tuple[float, dict[str, Predictive]]],
    weights: dict[str, float],
    factor: float,
) -> np.ndarray:
    """The mixture's PIT of each case: the weighted sum of its (widened) components' cdfs."""
    return np.array(
        [
            sum(weights[m] * float(_widened(p, factor).cdf(y)) for m, p in case.items())
            for y, case in forecasts
        ],
        dtype=float,
    )


def _table(
    models: Sequence[str],
    fits: dict[str, ModelFit],
    reasons: dict[str, str],
    cases: pd.DataFrame,
    weights: dict[str, float],
    levels: tuple[float, ...],
) -> pd.DataFrame:
    rows = []
    for name in (m for m in MODELS if m in models):
        scored = cases[cases["model"] == name]
        status = "skipped" if name not in fits else "used" if len(scored) else "not backtested"
        row = {
            "model": name,
            "status": status,
            "reason": reasons.get(name, ""),
            "min_points": MODELS[name],
            "n_cases": len(scored),
            "crps": scored["crps"].mean() if len(scored) else np.nan,
        }
        pit = scored["pit"].to_numpy()
        row |= {f"coverage_{round(100 * level)}": _covered(pit, level) for level in levels}
        rows.append(row | {"weight": weights.get(name, 0.0)})
    table = pd.DataFrame(rows)
    # object, not pandas' string dtype: a reason keeps its Note (code and values)
    table["reason"] = pd.Series([r["reason"] for r in rows], index=table.index, dtype=object)
    return table


@dataclass(frozen=True, eq=False)
class Projection:
    """Forecasts of a series up to a target year, with the backtest behind them; immutable.

    Attributes
    ----------
    model : str
        The model projected with, or ``"auto"`` for the weighted mixture.
    years : tuple of int
        The projected years, last observed year + 1 .. target year.
    predictive : dict of int to Predictive
        The chosen model's (the mixture's) predictive distribution for each year.
    components : dict of str to dict of int to Predictive
        Every fitted model's predictive distribution for each year, widened by ``widening``
        (as they enter the mixture).
    backtest : pandas.DataFrame
        One row per model, see :class:`Backtest`; ``weight`` is the weight in ``predictive``.
    widening : float
        The factor applied to the components (1 for a single model).
    coverage : dict of float to (float, float)
        Backtest coverage of ``predictive`` at each level, before and after widening.
    notes : tuple of str
        Caveats in words.
    levels : tuple of float
        The interval levels used by default in :meth:`frame`.
    tail : float
        For ``"auto"``, the smallest tail probability the backtest supports
        (:func:`tail_floor` of its number of cases, pooled across regions when pooled): a
        P(met) read from ``predictive`` is kept within [tail, 1 - tail] (see
        :meth:`probability`). 0 for a single model, which is shown as it is.
    pooling : dict or None
        What pooling across regions did (see :mod:`brandstats.pooling`), else None.
    run : Backtest or None
        The backtest behind the projection (for pooling it with other regions').
    """

    model: str
    years: tuple[int, ...]
    predictive: dict[int, Predictive]
    components: dict[str, dict[int, Predictive]]
    backtest: pd.DataFrame
    widening: float
    coverage: dict[float, tuple[float, float]]
    notes: tuple[str, ...]
    levels: tuple[float, ...]
    tail: float = 0.0
    pooling: dict | None = None
    run: Backtest | None = field(default=None, repr=False)

    def probability(self, p: float) -> float:
        """A probability read from :attr:`predictive`, kept within [tail, 1 - tail]."""
        return float(np.clip(p, self.tail, 1 - self.tail))

    def frame(self, levels: Sequence[float] | None = None) -> pd.DataFrame:
        """The projections as one long table.

        Parameters
        ----------
        levels : sequence of float, optional
            Central interval levels; default :attr:`levels`.

        Returns
        -------
        pandas.DataFrame
            Columns year, model, point, median, then lower_<L>, upper_<L> for each level L
            in percent (e.g. ``lower_90``); one row per year for the chosen model (named
            ``"auto"`` for the mixture) and then for each other component.
        """
        levels = self.levels if levels is None else check_levels(levels)
        probabilities = [0.5] + [p for level in levels for p in ((1 - level) / 2, (1 + level) / 2)]
        names = [f"{side}_{round(100 * level)}" for level in levels for side in ("lower", "upper")]
        others = {m: p for m, p in self.components.items() if m != self.model}
        rows = []
        for name, by_year in ({self.model: self.predictive} | others).items():
            for year, predictive in by_year.items():
                median, *bounds = np.atleast_1d(predictive.ppf(probabilities))
                rows.append(
                    {"year": year, "model": name, "point": predictive.point, "median": median}
                    | dict(zip(names, bounds, strict=True))
                )
        return pd.DataFrame(rows, columns=["year", "model", "point", "median", *names])


def project(
    series: pd.Series,
    *,
    target_year: int,
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    seed: int = 0,
    pooled: Any = None,
) -> Projection:
    """Project a series up to a target year, with a backtest of every model.

    Parameters
    ----------
    series : pandas.Series
        Float values indexed by int years, ascending, unique, without NaN.
    target_year : int
        The last year to project; must be after the last observation.
    model : {"auto", "drift", "linear", "loglinear", "holt"}, default "auto"
        ``"auto"`` mixes every model that fits, weighted by backtest skill and widened to the
        backtest's calibration; a model name projects with that model alone, unwidened.
    levels : sequence of float, default (0.5, 0.9)
        Central interval levels for the coverage figures and :meth:`Projection.frame`.
    seed : int, default 0
        Seed of the simulated forecasts; the same inputs give identical outputs.
    pooled : brandstats.pooling.Pooled, optional
        What the series borrows from its group of regions (its own backtest, reused; the
        widening and the number of cases of the pooled backtest); see
        :mod:`brandstats.pooling`. Used with ``model="auto"`` only.

    Returns
    -------
    Projection

    Raises
    ------
    InsufficientDataError
        If no model (or not the requested one) can be fitted to the series.
    BrandstatsError
        If the target year is not after the last observation or the model is unknown.

    Notes
    -----
    The backtest (see :func:`run_backtest`) scores forecasts up to ``target_year - last
    year`` years ahead and always covers every model, so a single model's row can be compared
    with the others; for a single model the ``weight`` column is 1 for it and 0 elsewhere.
    """
    levels = check_levels(levels)
    if model != "auto" and model not in MODELS:
        raise BrandstatsError(f"unknown model {model!r}; choose 'auto' or one of {list(MODELS)}")
    years, _ = check_series(series)
    last = int(years[-1]) if years.size else None
    if last is None or target_year <= last:
        raise BrandstatsError(
            f"target year {target_year} is not after the last observed year {last}; "
            "nothing to project"
        )
    if model != "auto":
        pooled = None
    if pooled is not None:
        result = pooled.backtest
    else:
        result = run_backtest(series, horizon=target_year - last, levels=levels, seed=seed)
    table = result.table.set_index("model")
    if not result.fits:
        raise InsufficientDataError(Note("no_model", reasons=tuple(table["reason"])))
    if model != "auto" and model not in result.fits:
        raise InsufficientDataError(table.loc[model, "reason"])

    notes = list(result.notes)
    n_cases = result.n_cases
    if model == "auto":
        factor, weights, coverage = result.widening, result.weights, result.coverage
        if pooled is not None:
            factor, coverage, n_cases = pooled.widening, pooled.coverage, pooled.n_cases
        if factor != 1:
            notes.append(Note("widened" if factor > 1 else "narrowed", factor=factor))
    else:
        factor, weights = 1.0, {m: float(m == model) for m in result.fits}
        coverage = {
            lv: (float(table.loc[model, f"coverage_{round(100 * lv)}"]),) * 2 for lv in levels
        }
        notes.append(Note("single_model", model=model))

    horizon_years = tuple(range(last + 1, target_year + 1))
    components = {
        m: {y: _widened(fit.predictive(y), factor) for y in horizon_years}
        for m, fit in result.fits.items()
    }
    if model == "auto":
        mixed = [m for m in components if weights[m] > 0]
        predictive = {
            y: Mixture(tuple(components[m][y] for m in mixed), tuple(weights[m] for m in mixed))
            for y in horizon_years
        }
    else:
        predictive = components[model]
    backtest = result.table.assign(weight=[weights.get(m, 0.0) for m in result.table["model"]])
    return Projection(
        model,
        horizon_years,
        predictive,
        components,
        backtest,
        factor,
        coverage,
        tuple(notes),
        levels,
        tail_floor(n_cases) if model == "auto" else 0.0,
        dict(pooled.info) if pooled is not None and pooled.info else None,
        result,
    )


def _widened(predictive: Predictive, factor: float) -> Predictive:
    return predictive if factor == 1 else predictive.widen(factor)
