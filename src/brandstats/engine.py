"""The engine: P(met) for a group of targets, produced in one place.

Every entry point (``assess``, ``assess_all``, ``assess_series``, the notebooks, the batch, the
CLI and the benchmarks) gets its projections and P(met) from :func:`outlooks`, over the whole
pooling group of the target asked for (the regions of its indicator with a target and
observations, :func:`brandstats.spec.peer_regions`), so the same inputs give the same number
whichever way they are asked.

The pipeline, for each :class:`Problem` (a :class:`~brandstats.spec.TargetSpec` and its series
as of a vintage):

1. project inside the unit's support (:func:`project_bounded`, its own backtest); a series
   too short for any model (1-2 points) is read from the reference class instead;
2. with ``model="auto"``, calibrate the group's short series on the pooled backtests of all
   of them (:func:`brandstats.pooling.pool_backtests`) and project again with that width;
3. with ``model="auto"``, mix the forecast with the reference class: how real official series
   of the kind moved over the same horizon (:mod:`brandstats.reference`);
4. read P(met) from the projection (:func:`p_met`: the one recipe, with the continuity
   correction, the tail floor and the totals a cumulative indicator already settled).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Collection, Hashable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from . import backtest
from .config import YEAR_RANGE, YEARS_TEXT
from .errors import BrandstatsError, InsufficientDataError
from .memo import recent
from .models import Censored, Mixture, Transformed, Truncated, to_unbounded
from .notes import Note, note_of
from .pooling import pool_backtests
from .reference import (
    REFERENCE_WEIGHT,
    REFERENCE_WEIGHT_LONG,
    Reference,
    load_reference,
    reference_predictive,
)
from .spec import MAX_ABS, TargetSpec, probability_met

__all__ = ["BOUNDING", "Outlook", "Problem", "make_problem", "outlooks", "p_met", "project_bounded"]


# ----------------------------------------------------------------------------- problems


@dataclass(frozen=True, eq=False)
class Problem:
    """A target and its series as an analyst sees it at a vintage.

    Attributes
    ----------
    spec : TargetSpec
    series, qualifiers : pandas.Series
        Every observation (finite, inside the support, by int year) and its qualifier; later
        years than the vintage are kept for one use only, the target-year outcome.
    seen, seen_qualifiers : pandas.Series
        The observations up to the vintage (``as_of``, never after the target year): all that
        the models see.
    as_of : int or None
    """

    spec: TargetSpec
    series: pd.Series
    qualifiers: pd.Series
    seen: pd.Series
    seen_qualifiers: pd.Series
    as_of: int | None

    @property
    def last_year(self) -> int:
        return int(self.seen.index[-1])

    @property
    def last_value(self) -> float:
        return float(self.seen.iloc[-1])

    @property
    def projectable(self) -> bool:
        """Whether the target year lies after the latest observation within the vintage."""
        return self.last_year < self.spec.target_year


def make_problem(
    spec: TargetSpec,
    series: pd.Series,
    qualifiers: pd.Series | None = None,
    *,
    as_of: int | None = None,
) -> Problem:
    """Check a series against its target and cut it at the vintage.

    Parameters
    ----------
    spec : TargetSpec
    series : pandas.Series
        Observed values indexed by year (int years, or labels that are whole years). NaNs are
        dropped.
    qualifiers : pandas.Series, optional
        Qualifier per year (``reported`` by default).
    as_of : int, optional
        The vintage: only observations up to this year (and never after the target year) are
        seen by the models.

    Raises
    ------
    BrandstatsError
        For an index that is not years (e.g. list positions 0, 1, 2), values that are not
        finite or lie outside the support, or two values for one year.
    InsufficientDataError
        When no observation lies within the vintage.
    """
    values = _years_index(pd.Series(series, dtype="float64").dropna(), spec.indicator)
    values = values.sort_index()
    if (~np.isfinite(values) | (values.abs() > MAX_ABS)).any():
        raise BrandstatsError(
            f"{spec.indicator}: values must be finite and at most {MAX_ABS:g} in size"
        )
    lo, hi = spec.support
    outside = values.loc[(values < lo) | (values > hi)]
    if len(outside):
        raise BrandstatsError(
            f"{spec.indicator}: values must lie in [{lo:g}, {hi:g}]; "
            f"{outside.index[0]} has {outside.iloc[0]:g}"
        )
    if values.index.has_duplicates:
        raise BrandstatsError(f"{spec.indicator}: more than one value for a year")
    if qualifiers is None:
        qualifiers = pd.Series("reported", index=values.index)
    qualifiers = pd.Series(qualifiers).copy()
    qualifiers.index = pd.Index(qualifiers.index).astype("int64", copy=False)
    qualifiers = qualifiers.reindex(values.index).fillna("reported").astype(str)
    cutoff = spec.target_year if as_of is None else min(as_of, spec.target_year)
    seen = values.loc[values.index <= cutoff]
    if seen.empty:
        first = int(values.index.min()) if len(values) else None
        raise InsufficientDataError(
            f"{spec.indicator} ({spec.region or 'all'}): no observation up to {cutoff}"
            + (f"; the first is from {first}" if first else "")
        )
    return Problem(spec, values, qualifiers, seen, qualifiers.loc[seen.index], as_of)


def _years_index(values: pd.Series, indicator: str) -> pd.Series:
    """The series with an int64 index of years; refuses anything else (a RangeIndex from a
    plain list would silently read positions 0, 1, 2 as years)."""
    index = values.index
    if not len(index):
        return values.set_axis(pd.Index([], dtype="int64"))
    try:
        years = np.asarray(index, dtype=float)
    except (TypeError, ValueError):
        raise BrandstatsError(
            f"{indicator}: the series' index must be years, got {list(index[:3])!r} ..."
        ) from None
    whole = np.isfinite(years) & (years == np.round(years))
    bad = ~(whole & (years >= YEAR_RANGE[0]) & (years <= YEAR_RANGE[1]))
    if bad.any():
        if isinstance(index, pd.RangeIndex) and index.start == 0:
            raise BrandstatsError(
                f"{indicator}: the series has no years (its index is 0, 1, 2 ...); give a "
                "pandas Series indexed by year, e.g. pd.Series([2518, 2833], index=[2020, 2021])"
            )
        raise BrandstatsError(
            f"{indicator}: the series' index must be years ({YEARS_TEXT}), "
            f"got {index[bad.argmax()]!r}"
        )
    return values.set_axis(pd.Index(years.astype("int64")))


# ----------------------------------------------------------------------------- outlooks


@dataclass(frozen=True)
class Outlook:
    """What the projection says about the target year (empty when nothing is projected).

    ``probability`` is from :func:`p_met`; ``floor`` is the tail floor it was kept within (0
    when none applied); ``pooling`` records what the group lent (None when not pooled);
    ``predictive`` is the target-year predictive distribution (in the unit, inside its support).
    """

    probability: float | None = None
    reason: str | None = None
    median: float | None = None
    widening: float | None = None
    coverage: Mapping[float, tuple[float, float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    forecast: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["year", "model", "point", "median"])
    )
    backtest: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["model", "status", "reason"])
    )
    pooling: Mapping[str, Any] | None = None
    floor: float = 0.0
    predictive: Any = field(default=None, repr=False, compare=False)
    path: Mapping[int, Any] = field(default_factory=dict, repr=False, compare=False)
    cases: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    aggregate: Mapping[str, Any] | None = None


def p_met(problem: Problem, predictive: Any, tail: float) -> float:
    """P(met): THE recipe every entry point uses.

    The probability that the target-year value meets the target
    (:func:`brandstats.spec.probability_met`, continuity-corrected for whole numbers), kept
    within [tail, 1 - tail], the floor the evidence supports
    (:func:`brandstats.backtest.tail_floor`), unless a cumulative total already settles it.
    """
    spec = problem.spec
    p = probability_met(predictive, target=spec.target, comparison=spec.comparison, unit=spec.unit)
    return p if spec.settled_by(problem.last_value) else float(np.clip(p, tail, 1 - tail))


def outlooks(
    problems: Mapping[Hashable, Problem],
    *,
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    seed: int = 0,
    reference: Reference | None = None,
    frames: bool = True,
    projections: MutableMapping[Problem, backtest.Projection] | None = None,
    only: Collection[Hashable] | None = None,
) -> dict[Hashable, Outlook]:
    """Project every problem of one pooling group and read its P(met).

    Parameters
    ----------
    problems : mapping of key to Problem
        One group: the regions of one indicator (or a single series).
    model : {"auto", "drift", "linear", "loglinear", "holt"}
        ``"auto"`` mixes the models by backtest skill, calibrates the group's short series
        together (:mod:`brandstats.pooling`) and mixes the result with how real official
        series of the kind moved (:mod:`brandstats.reference`); a series of 1-2 points gets
        its distribution from that reference class alone. A model name projects each series
        with that model alone, as it is.
    levels, seed
        Interval levels and the seed of every random draw.
    reference : Reference, optional
        The reference class; the shipped one by default (the calibration benchmark passes one
        learned without the family it scores).
    frames : bool, default True
        With False, each Outlook's ``forecast`` table is left empty and its ``median`` None:
        what a caller that reads P(met) alone (:func:`brandstats.next_year`'s what-ifs)
        need not wait for. Nothing else changes.
    projections : mutable mapping, optional
        Kept by a caller that asks again with some of the same :class:`Problem` objects and
        the same options (:func:`brandstats.next_year`'s what-ifs change one region of a
        group): each problem's own projection (and backtest) is kept there and reused, not
        worked out again. A Problem is immutable and compared by identity.
    only : collection of keys, optional
        The problems whose Outlook is wanted (all by default); the others are still fitted
        and calibrate the group with them, as they would, but are not projected.

    Returns
    -------
    dict of key to Outlook
        For every problem (or those of ``only``); ``reason`` says why one has no projection.
    """
    levels = tuple(levels)
    reference = reference or load_reference()
    out: dict[Hashable, Outlook] = {}
    own: dict[Hashable, backtest.Projection] = {}
    for key, problem in problems.items():
        spec = problem.spec
        if not problem.projectable:
            out[key] = Outlook(reason=Note("target_year_observed", year=spec.target_year))
            continue
        try:
            found = None if projections is None else projections.get(problem)
            own[key] = found if found is not None else _project(problem, model, levels, seed)
            if projections is not None:
                projections[problem] = own[key]
        except InsufficientDataError as exc:
            found = _reference_outlook(problem, levels, reference) if model == "auto" else None
            out[key] = found or Outlook(reason=note_of(exc))
    pools = (
        pool_backtests({k: p.run for k, p in own.items()}, levels=levels) if model == "auto" else {}
    )
    for key, projection in own.items():
        if only is not None and key not in only:
            continue
        problem, pooling = problems[key], None
        calibration = pools.get(key)
        if model == "auto":
            if calibration is not None:  # what the region would read on its own
                alone = _with_reference(problem, projection, reference)
                p = p_met(problem, alone.predictive[problem.spec.target_year], alone.tail)
                pooling = dict(calibration.info) | {"p_unpooled": p}
                projection = _project(problem, model, levels, seed, calibration)
            projection = _with_reference(problem, projection, reference)
        out[key] = _outlook(problem, projection, levels, pooling, frames=frames)
    return {key: out[key] for key in problems if only is None or key in only}


def _reference(problem: Problem, year: int, reference: Reference) -> tuple[Any, int] | None:
    """The reference class' predictive for ``year`` (censored at the latest value for a
    cumulative total), with its number of cases; None when it holds nothing of the kind."""
    spec = problem.spec
    found = reference_predictive(problem.seen, spec.support, year, reference, spec.unit)
    if found is None:
        return None
    predictive, cases = found
    if spec.accumulation == "cumulative" and spec.support[0] < problem.last_value:
        predictive = Censored(predictive, problem.last_value, spec.support[1])
    return predictive, cases


def _with_reference(
    problem: Problem, projection: backtest.Projection, reference: Reference
) -> backtest.Projection:
    """The models' forecast of every year mixed with the reference class' (weight
    :data:`~brandstats.reference.REFERENCE_WEIGHT`, or ``REFERENCE_WEIGHT_LONG`` for a series
    with enough backtest cases of its own); as it is, with a note, when there is none."""
    weight = (
        REFERENCE_WEIGHT
        if projection.run is None or projection.run.n_cases < backtest.NEAR_HORIZON_CASES
        else REFERENCE_WEIGHT_LONG
    )
    mixed, cases = {}, 0
    for year, predictive in projection.predictive.items():
        found = _reference(problem, year, reference)
        if found is None:
            return replace(projection, notes=(*projection.notes, Note("no_reference")))
        mixed[year] = Mixture((predictive, found[0]), (1 - weight, weight))
        cases = found[1]
    note = Note("reference_mixed", weight=weight, cases=cases)
    return replace(projection, predictive=mixed, notes=(*projection.notes, note))


#: How many of the series' own projections :func:`_project` keeps (the most recently used).
PROJECTION_CACHE_SIZE = 64

_PROJECTIONS: OrderedDict[tuple[Any, ...], backtest.Projection] = OrderedDict()


def _project(
    problem: Problem, model: str, levels: tuple[float, ...], seed: int, calibration: Any = None
) -> backtest.Projection:
    """The series' projection; its own one (without a group's calibration) is remembered by
    what it depends on: the same series is projected again by a vintage and the assessment of
    the same year, and by next_year's what-ifs for a district's siblings. A Projection is
    immutable, so the one kept is the one computed (with the module settings of then, such as
    ``BOUNDING``: clear ``_PROJECTIONS`` after changing one in a session)."""
    spec = problem.spec

    def compute() -> backtest.Projection:
        return project_bounded(
            problem.seen, spec.support, cumulative=spec.accumulation == "cumulative",
            target_year=spec.target_year, model=model, levels=levels, seed=seed,
            pooled=calibration,
        )  # fmt: skip

    if calibration is not None:
        return compute()
    seen = problem.seen
    years, values = seen.index.to_numpy(np.int64).tobytes(), seen.to_numpy(float).tobytes()
    key = (years, values, spec.support, spec.accumulation, spec.target_year, model, levels, seed)
    return recent(_PROJECTIONS, key, PROJECTION_CACHE_SIZE, compute)


def _outlook(
    problem: Problem,
    projection: backtest.Projection,
    levels: tuple[float, ...],
    pooling: Mapping[str, Any] | None,
    *,
    frames: bool = True,
) -> Outlook:
    predictive = projection.predictive[problem.spec.target_year]
    settled = problem.spec.settled_by(problem.last_value)
    return Outlook(
        probability=p_met(problem, predictive, projection.tail),
        median=float(predictive.ppf(0.5)) if frames else None,
        widening=projection.widening,
        coverage=dict(projection.coverage),
        notes=tuple(projection.notes),
        forecast=projection.frame(levels) if frames else Outlook().forecast,
        backtest=projection.backtest,
        pooling=pooling,
        floor=0.0 if settled else projection.tail,
        predictive=predictive,
        path=dict(projection.predictive),
        cases=None if projection.run is None else projection.run.mixture,
    )


#: With one observation, a probability from the reference class is given only when it is at
#: most this far from 0 or 1: the level is far beyond the target, or hopelessly far from it.
ONE_POINT_CLEAR = 0.1


def _reference_outlook(
    problem: Problem, levels: tuple[float, ...], reference: Reference
) -> Outlook | None:
    """The outlook of a 1- or 2-point series from the reference class (None: nothing to
    borrow, or one point that leaves the answer open)."""
    spec = problem.spec
    found = _reference(problem, spec.target_year, reference)
    if found is None:
        return None
    predictive, cases = found
    floor = backtest.tail_floor(cases)
    p = p_met(problem, predictive, floor)
    n = len(problem.seen)
    if n == 1 and ONE_POINT_CLEAR < p < 1 - ONE_POINT_CLEAR:
        return None
    bounds = [q for lv in levels for q in ((1 - lv) / 2, (1 + lv) / 2)]
    median, *ends = np.atleast_1d(predictive.ppf([0.5, *bounds]))
    names = [f"{side}_{round(100 * lv)}" for lv in levels for side in ("lower", "upper")]
    frame = pd.DataFrame(
        [{"year": spec.target_year, "model": "auto", "point": float(median),
          "median": float(median), **dict(zip(names, ends, strict=True))}]
    )  # fmt: skip
    note = Note(
        "reference_outlook", points=n, horizon=spec.target_year - problem.last_year, cases=cases,
        basis=Note("basis_two_values" if n == 2 else "basis_one_value"),
    )  # fmt: skip
    return Outlook(
        probability=p,
        median=float(median),
        notes=(note,),
        forecast=frame,
        floor=0.0 if spec.settled_by(problem.last_value) else floor,
        predictive=predictive,
        path={spec.target_year: predictive},
    )


# ----------------------------------------------------------------------------- the support


BOUNDING: Mapping[str, str] = {"two-sided": "transform", "one-sided": "censor"}
"""How forecasts are kept inside a support bounded on two sides (percent, a declared range) or
on one (counts, money, ranks, a declared floor): ``"transform"`` models a series lying strictly
inside on the logit (two-sided) or log (one-sided) scale, :func:`~brandstats.models.to_unbounded`,
and censors the others; ``"censor"`` (:class:`~brandstats.models.Censored`) puts the mass beyond
a bound on it; ``"truncate"`` (:class:`~brandstats.models.Truncated`) cuts it off and
renormalises.

Chosen on the calibration corpus (``benchmarks/bench_calibration.py``, figures in
``benchmarks/README.md``): for percentages the logit scale gave the lowest Brier and log scores
at equal coverage; for one-sided supports the log scale scored better on one sample and worse
on another, and its 90 % coverage fell below 0.85, so censoring stays until pooled calibration
widens it; truncation was never best."""


def _is(text: object, code: str) -> bool:
    return getattr(text, "code", None) == code


def model_scale(seen: pd.Series, bounds: tuple[float, float]) -> str:
    """The scale the models are fitted on: ``"logit"``, ``"log"`` or ``"as is"``."""
    lo, hi = bounds
    sides = int(math.isfinite(lo)) + int(math.isfinite(hi))
    method = {0: "none", 1: BOUNDING["one-sided"], 2: BOUNDING["two-sided"]}[sides]
    if method == "transform" and bool(((seen > lo) & (seen < hi)).all()):
        return "logit" if sides == 2 else "log"
    return "as is"


def project_bounded(
    seen: pd.Series,
    bounds: tuple[float, float],
    *,
    cumulative: bool = False,
    target_year: int,
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    seed: int = 0,
    pooled: Any = None,
) -> backtest.Projection:
    """:func:`brandstats.backtest.project` with every forecast inside ``bounds``.

    Parameters
    ----------
    seen : pandas.Series
        The observations (inside ``bounds``).
    bounds : (float, float)
        The support, e.g. from :func:`brandstats.units.support`.
    cumulative : bool
        Censor the forecasts at the latest value too (a running total cannot fall).
    target_year, model, levels, seed, pooled
        As for :func:`~brandstats.backtest.project`.

    Returns
    -------
    brandstats.backtest.Projection
        Its ``predictive`` and ``components`` are :class:`~brandstats.models.Transformed`,
        :class:`~brandstats.models.Censored` or :class:`~brandstats.models.Truncated` (see
        :data:`BOUNDING`). When the models were fitted on the logit/log scale, the backtest's
        ``crps`` is NaN and its score on that scale is in ``crps_model_scale`` (weights and
        coverage do not depend on the scale).
    """
    lo, hi = bounds
    sides = int(math.isfinite(lo)) + int(math.isfinite(hi))
    scale = model_scale(seen, bounds)
    if scale != "as is":
        z = pd.Series(np.asarray(to_unbounded(seen.to_numpy(), lo, hi)), index=seen.index)
        projection = backtest.project(
            z, target_year=target_year, model=model, levels=levels, seed=seed, pooled=pooled
        )
        wrap: Any = lambda p: Transformed(p, lo, hi)  # noqa: E731
        # CRPS is in the units of the scale scored on: keep it apart, so that nobody reads a
        # logit or log score in the indicator's unit
        table = projection.backtest.assign(
            crps_model_scale=projection.backtest["crps"], crps=np.nan
        )
        # loglinear's "needs positive values" is about the transformed values, not the unit's
        scaled = Note("not_on_transformed_scale", scale=scale)
        table["reason"] = pd.Series(
            [scaled if _is(r, "needs_positive_values") else r for r in table["reason"]],
            index=table.index,
            dtype=object,
        )
        notes = tuple(scaled if _is(n, "needs_positive_values") else n for n in projection.notes)
        projection = replace(
            projection, backtest=table, notes=(*notes, Note("model_scale", scale=scale))
        )
    else:
        projection = backtest.project(
            seen, target_year=target_year, model=model, levels=levels, seed=seed,
            pooled=pooled,
        )  # fmt: skip
        method = BOUNDING["one-sided" if sides == 1 else "two-sided"]
        bound = Truncated if method == "truncate" else Censored
        wrap = (lambda p: bound(p, lo, hi)) if sides else (lambda p: p)
    floor = float(seen.iloc[-1])
    if cumulative and lo < floor < hi:
        inner = wrap
        wrap = lambda p: Censored(inner(p), floor, hi)  # noqa: E731
    return replace(
        projection,
        predictive={y: wrap(p) for y, p in projection.predictive.items()},
        components={
            m: {y: wrap(p) for y, p in by_year.items()}
            for m, by_year in projection.components.items()
        },
    )
