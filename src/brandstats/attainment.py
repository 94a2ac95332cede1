"""Attainment: will a target be met by its year, and how sure are we?

For one series and one target this module gives

* ``P(met)``: the probability that the target-year value satisfies the target's comparison,
  read from the predictive distribution of :func:`brandstats.backtest.project`;
* a verdict in calibrated words (the IPCC likelihood scale), or the outcome when the target
  year has been observed;
* the official-style progress measure (Eurostat / Open SDG): observed against required
  compound annual growth, their ratio and a category;
* for a vintage (``as_of``), what was later observed, whether the target was met and whether
  the projection pointed the right way.

Everything here is pure: DataFrames and Series in, an immutable :class:`Assessment` out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import memo
from .config import ACCUMULATIONS, MODELS
from .engine import BOUNDING, Outlook, Problem, make_problem, outlooks, project_bounded
from .errors import BrandstatsError, InsufficientDataError
from .hierarchy import aggregation, summed_series, tree_of, tree_outlooks
from .loading import (
    ancestors,
    assessable_pairs,
    closest_regions,
    on_basis,
    target_order,
    unobserved_targets,
)
from .models import check_levels
from .notes import Note, note_of
from .spec import TargetSpec, meets, peer_regions, probability_met, target_spec

__all__ = [
    "ACCUMULATIONS",
    "BOUNDING",
    "CATEGORIES",
    "Assessment",
    "Progress",
    "assess",
    "assess_all",
    "assess_group",
    "assess_series",
    "default_region",
    "jsonable",
    "make_problems",
    "measure_progress",
    "probability_bound",
    "probability_met",
    "project_bounded",
    "reconcile",
    "required_path",
    "verdict_for",
]

CATEGORIES = ("on track", "moderate progress", "insufficient progress", "moving away")
# IPCC AR5 likelihood scale (Mastrandrea et al. 2010): the lower edge of each term.
_LIKELIHOOD = (
    (0.99, "virtually certain"),
    (0.90, "very likely"),
    (0.66, "likely"),
    (0.33, "about as likely as not"),
    (0.10, "unlikely"),
    (0.01, "very unlikely"),
    (0.0, "exceptionally unlikely"),
)


# ----------------------------------------------------------------------------- small pieces


def verdict_for(probability: float) -> str:
    """Calibrated words for a probability, after the IPCC likelihood scale.

    >= 0.99 virtually certain, >= 0.90 very likely, >= 0.66 likely, >= 0.33 about as likely
    as not, >= 0.10 unlikely, >= 0.01 very unlikely, else exceptionally unlikely.

    References
    ----------
    Mastrandrea, M. D. et al. (2010). Guidance note for lead authors of the IPCC Fifth
    Assessment Report on consistent treatment of uncertainties. IPCC.
    """
    if not 0.0 <= probability <= 1.0:
        raise BrandstatsError(f"a probability must lie in [0, 1], got {probability!r}")
    return next(words for edge, words in _LIKELIHOOD if probability >= edge)


def _meets_observed(value: float, qualifier: str, target: float, comparison: str) -> bool | None:
    """Whether an observation meets the target; None when a bound cannot tell.

    A ``lower_bound`` L says the true value is at least L: it proves ``>``/``>=`` targets met
    when L meets them, and proves ``<``/``<=`` targets missed when L misses them; otherwise the
    outcome is unknown. ``upper_bound`` mirrors this.
    """
    ok = meets(value, target, comparison)
    if qualifier == "lower_bound":
        return ok if (comparison in (">", ">=")) == ok else None
    if qualifier == "upper_bound":
        return ok if (comparison in ("<", "<=")) == ok else None
    return ok


def probability_bound(probability: float | None, floor: float) -> str | None:
    """Whether a P(met) kept within [floor, 1 - floor] sits on an edge: ``"at_most"`` (at the
    floor), ``"at_least"`` (at the ceiling) or None."""
    if probability is None or not floor > 0:
        return None
    edge = floor * (1 + 1e-9)
    if probability <= edge:
        return "at_most"
    if probability >= 1 - edge:
        return "at_least"
    return None


# ----------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Progress:
    """The official-style progress measure (Eurostat SDG / Open SDG method).

    Attributes
    ----------
    base_year, base_value, last_year, last_value
        The two observations compared.
    observed_growth : float
        Observed compound annual growth from base to last (or, when the base value is 0,
        the observed absolute change per year; see ``kind``).
    required_growth : float
        Compound annual growth needed from base to reach the target in the target year.
    ratio : float
        R = observed / required when the target needs progress from the base (required growth
        in the favourable direction: up for ``>``/``>=``, down for ``<``/``<=``); NaN when the
        base already meets the target (see ``category``).
    category : str
        When progress is needed: ``on track`` (R >= 0.95), ``moderate progress``
        (0.6 <= R < 0.95), ``insufficient progress`` (0 <= R < 0.6), ``moving away`` (R < 0);
        ``on track`` when the last value already meets the target.
        When the base already meets the target, the required growth is an allowance (a
        ``>= 50`` target from 60 may fall by at most (50/60)^(1/years) - 1 a year; a ``<= 100``
        cap from 80 may rise by at most (100/80)^(1/years) - 1): ``on track`` while the
        observed growth stays within it (falls no faster, rises no faster) and the last value
        meets the target, otherwise ``moving away``: at the observed pace the indicator
        leaves the target before the target year.
    still_required_growth : float
        Annual growth still needed from the last value to reach the target (NaN when the
        target year is not after the last year).
    kind : {"compound", "absolute"}
        Growth rates are compound; ``absolute`` (change per year) when a value is 0.

    References
    ----------
    Eurostat (2023). Sustainable development in the European Union, Annex II: methodology
    for assessing progress towards quantified targets. Open SDG, "progress status" method.
    """

    base_year: int
    base_value: float
    last_year: int
    last_value: float
    observed_growth: float
    required_growth: float
    ratio: float
    category: str
    still_required_growth: float
    kind: str


def _category(ratio: float) -> str:
    if ratio >= 0.95:
        return "on track"
    if ratio >= 0.6:
        return "moderate progress"
    if ratio >= 0:
        return "insufficient progress"
    return "moving away"


def _rate(start: float, end: float, years: int, kind: str) -> float:
    if years <= 0:
        return math.nan
    if kind == "absolute":
        return (end - start) / years
    return (end / start) ** (1.0 / years) - 1.0


def measure_progress(
    series: pd.Series,
    *,
    target: float,
    comparison: str,
    target_year: int,
    base_year: int | None = None,
) -> Progress:
    """Observed versus required growth towards a target (official-style progress).

    Parameters
    ----------
    series : pandas.Series
        Values indexed by year (ascending).
    target, comparison, target_year
        The target.
    base_year : int, optional
        The base of the comparison; the first observed year by default. Must be observed.

    Raises
    ------
    InsufficientDataError
        With fewer than two observations from the base year on.
    """
    if base_year is None:
        base_year = int(series.index[0])
    if base_year not in series.index:
        years = ", ".join(str(y) for y in series.index)
        raise InsufficientDataError(f"base year {base_year} is not observed (observed: {years})")
    later = series.loc[base_year:]
    if len(later) < 2:
        raise InsufficientDataError(
            f"the progress measure needs two observations from {base_year} on, got {len(later)}"
        )
    base_value, last_year, last_value = (
        float(later.iloc[0]),
        int(later.index[-1]),
        float(later.iloc[-1]),
    )
    kind = "compound" if min(base_value, last_value, target) > 0 else "absolute"
    observed = _rate(base_value, last_value, last_year - base_year, kind)
    required = _rate(base_value, target, target_year - base_year, kind)
    still = _rate(last_value, target, target_year - last_year, kind)
    favourable = 1.0 if comparison in (">", ">=") else -1.0
    if math.isnan(required):
        ratio, category = (
            math.nan,
            "on track" if meets(last_value, target, comparison) else ("moving away"),
        )
    elif required * favourable > 0:  # progress is needed: the Eurostat ratio
        ratio = observed / required
        category = "on track" if meets(last_value, target, comparison) else _category(ratio)
    else:  # an allowance: the base beats the target, a move the other way is allowed
        ratio = math.nan
        within = observed * favourable >= required * favourable
        category = (
            "on track" if within and meets(last_value, target, comparison) else ("moving away")
        )
    return Progress(
        base_year, base_value, last_year, last_value, observed, required, ratio, category,
        still, kind,
    )  # fmt: skip


# ----------------------------------------------------------------------------- assessment


def jsonable(value: Any) -> Any:
    """Plain JSON types: NaN/NA become None, numpy scalars become Python ones."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


@dataclass(frozen=True)
class Assessment:
    """The answer for one target: P(met), the verdict, progress, forecast and backtest.

    Build it with :func:`assess` or :func:`assess_series`; it is immutable (its frames are
    private copies). ``to_dict()`` gives the JSON-able record, ``row()`` the flat summary.

    Beside the forecast: ``accumulation`` (``"level"`` or ``"cumulative"``, see
    :data:`ACCUMULATIONS`), ``support`` (the values the unit can take), ``currently_meets``
    (whether the latest observation within the vintage meets the target; None when a bound
    cannot tell; "already met" is only for cumulative indicators), ``required_path`` (year ->
    value reaching the target at a constant pace, :func:`required_path`) and
    ``reconciliation`` (None, or why the official-style category and P(met) disagree: a
    ``reason`` code and its numbers, see :func:`reconcile`) and ``progress_reason`` (None, or
    why there is no progress measure although there are observations: ``"bound_only"`` when
    the base or latest observation is only a bound in the unfavourable direction, e.g. "rank
    11 or lower" for a top-10 target or "at most 40" for a ``>= 50`` one; the required path is
    then empty too when that bound is the latest observation).
    """

    indicator: str
    region: str
    target: float
    comparison: str
    target_year: int
    unit: str
    as_of: int | None
    last_year: int
    last_value: float
    model: str
    levels: tuple[float, ...]
    probability: float | None
    verdict: str
    reason: str | None
    progress: Progress | None
    forecast: pd.DataFrame
    backtest: pd.DataFrame
    history: pd.DataFrame
    actual: float | None
    actual_qualifier: str | None
    met: bool | None
    pointed_right_way: bool | None
    illustrative: bool
    widening: float | None = None
    coverage: Mapping[float, tuple[float, float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    accumulation: str = "level"
    support: tuple[float, float] = (-math.inf, math.inf)
    currently_meets: bool | None = None
    required_path: Mapping[int, float] = field(default_factory=dict)
    reconciliation: Mapping[str, Any] | None = None
    pooling: Mapping[str, Any] | None = None  # see brandstats.pooling; None: not pooled
    progress_reason: str | None = None
    floor: float = 0.0
    predictive: Any = field(default=None, repr=False, compare=False)
    aggregate: Mapping[str, Any] | None = None

    def interval(self, level: float | None = None) -> tuple[float, float, float, float]:
        """(point, median, lower, upper) of the target-year forecast at ``level``.

        ``level`` defaults to the largest level; all NaN when nothing was projected.
        """
        level = max(self.levels) if level is None else level
        rows = self.forecast.loc[
            (self.forecast["model"] == self.model) & (self.forecast["year"] == self.target_year)
        ]
        if rows.empty:
            return (math.nan, math.nan, math.nan, math.nan)
        pct = round(100 * level)
        if f"lower_{pct}" not in rows.columns:
            raise BrandstatsError(
                f"no {level:g} interval: the forecast has levels {', '.join(map(str, self.levels))}"
            )
        r = rows.iloc[0]
        return tuple(float(r[c]) for c in ("point", "median", f"lower_{pct}", f"upper_{pct}"))

    @property
    def probability_bound(self) -> str | None:
        """``"at_most"`` when P(met) sits at the floor the evidence supports (:attr:`floor`,
        :func:`brandstats.backtest.tail_floor`), ``"at_least"`` at the ceiling 1 - floor; None
        otherwise. A bound means "no closer to 0 (or 1) than this can be claimed", so views
        show "at most 10 %", never a bare "10 %"."""
        return probability_bound(self.probability, self.floor)

    def row(self) -> dict[str, Any]:
        """The flat summary (the CLI's and the scorecard's columns)."""
        point, median, lower, upper = self.interval()
        progress = self.progress
        return {
            "indicator": self.indicator,
            "region": self.region,
            "as_of": self.as_of,
            "last_year": self.last_year,
            "last_value": self.last_value,
            "target": self.target,
            "comparison": self.comparison,
            "target_year": self.target_year,
            "unit": self.unit,
            "model": self.model,
            "probability": self.probability,
            "verdict": self.verdict,
            "progress_ratio": progress.ratio if progress else math.nan,
            "progress_category": progress.category if progress else None,
            "progress_reason": self.progress_reason,
            "observed_growth": progress.observed_growth if progress else math.nan,
            "required_growth": progress.required_growth if progress else math.nan,
            "still_required_growth": progress.still_required_growth if progress else math.nan,
            "base_year": progress.base_year if progress else int(self.history["year"].iloc[0]),
            "progress_kind": progress.kind if progress else None,
            "forecast_mean": point,
            "forecast_median": median,
            "forecast_lower": lower,
            "forecast_upper": upper,
            "level": max(self.levels),
            "actual": self.actual,
            "actual_qualifier": self.actual_qualifier,
            "met": self.met,
            "pointed_right_way": self.pointed_right_way,
            "illustrative": self.illustrative,
            "widening": self.widening,
            "reason": self.reason,
            "accumulation": self.accumulation,
            "currently_meets": self.currently_meets,
            "reconciliation_reason": (self.reconciliation or {}).get("reason"),
            "p_unpooled": (self.pooling or {}).get("p_unpooled"),
            "probability_bound": self.probability_bound,
            "probability_floor": self.floor if self.probability_bound else None,
            **dict(self.meta),
        }

    def summary(self, language: str = "en") -> str:
        """The report's opening as Markdown: heading, target, latest value, P(met) and
        verdict, official-style progress, outcome, kind of data (names taken literally).

        Examples
        --------
        >>> print(result.summary())  # doctest: +SKIP
        # Total brand value ... — Jinan
        - **Target**: > 6,000 亿元 by 2022 ...
        """
        from . import results

        heading = results.heading_markdown(self, language)
        return f"{heading}\n\n{results.summary_markdown(self, language)}"

    def plot(self, *, language: str = "en", ax: Any = None) -> Any:
        """The fan chart (:func:`brandstats.plots.plot_assessment`); returns its Axes."""
        from .plots import plot_assessment

        return plot_assessment(self, language=language, ax=ax)

    def _repr_html_(self) -> str:
        """JupyterLab's view: the summary and the fan chart (in English)."""
        from .display import assessment_html

        return assessment_html(self)

    def to_dict(self) -> dict[str, Any]:
        """Everything, as plain JSON types (NaN -> None)."""
        return jsonable(
            {
                **self.row(),
                "levels": list(self.levels),
                "progress": asdict(self.progress) if self.progress else None,
                "coverage": {
                    f"{level:g}": {"before": before, "after": after}
                    for level, (before, after) in self.coverage.items()
                },
                "notes": list(self.notes),
                "support": list(self.support),
                "required_path": dict(self.required_path),
                "reconciliation": dict(self.reconciliation) if self.reconciliation else None,
                "pooling": dict(self.pooling) if self.pooling else None,
                "aggregate": dict(self.aggregate) if self.aggregate else None,
                "forecast": self.forecast.to_dict("records"),
                "backtest": self.backtest.to_dict("records"),
                "history": self.history.to_dict("records"),
            }
        )


def _check_options(model: str, levels: Sequence[float]) -> tuple[float, ...]:
    if model != "auto" and model not in MODELS:
        raise BrandstatsError(f"model must be 'auto' or one of {list(MODELS)}, got {model!r}")
    return check_levels(levels)


def assess_series(
    series: pd.Series,
    *,
    target: float,
    comparison: str,
    target_year: int,
    unit: str = "count",
    indicator: str = "series",
    region: str = "",
    qualifiers: pd.Series | None = None,
    as_of: int | None = None,
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    base_year: int | None = None,
    seed: int = 0,
    accumulation: str = "level",
    lower: float | None = None,
    upper: float | None = None,
    meta: Mapping[str, str] | None = None,
) -> Assessment:
    """Assess a plain series (values indexed by year) against a target given as arguments.

    Parameters
    ----------
    series : pandas.Series
        Observed values indexed by year, in the target's unit. NaNs are dropped. A series
        without years (e.g. made from a plain list, whose index is 0, 1, 2) is refused.
    target, comparison, target_year
        The target, e.g. ``target=6e11, comparison=">", target_year=2022``.
    unit : str
        Canonical unit (``yuan``, ``count``, ``percent``, ``rank``, ``continuous``); counts
        and ranks are whole numbers. The unit's support (:func:`brandstats.units.support`)
        bounds every forecast.
    qualifiers : pandas.Series, optional
        Qualifier per year (``reported``, ``lower_bound``, ``illustrative`` ...).
        A ``lower_bound`` value enters the models as its bound (the true value is at least
        that, so projections from it are conservative for "at least" targets) and decides
        attainment only when the bound settles it (see Notes).
    as_of : int, optional
        Use only observations up to this year, as an analyst then would have. Later values
        are used for one thing only: the actual target-year outcome, reported beside.
    model : {"auto", "drift", "linear", "loglinear", "holt"}
    levels : sequence of float
        Central interval levels of the forecast (default 50 % and 90 %).
    base_year : int, optional
        Base year of the progress measure (first observed year by default).
    seed : int
        Seed of every random draw (simulated intervals).
    accumulation : {"level", "cumulative"}
        ``cumulative`` for a running total that cannot fall (certificates awarded so far): its
        forecasts are censored at the latest value and a target it already meets is
        ``already met``. A ``level`` (the default: rates, ranks, stocks that lapse) is judged
        on its target-year value only.
    lower, upper : float, optional
        Declared bounds, narrowing the unit's support (for ``continuous`` units).

    Raises
    ------
    BrandstatsError
        For bad options, a series without years, values outside the support or a target no
        value in the support can meet (e.g. a percentage ``> 100``, a rank ``< 1``).

    Notes
    -----
    The series is its own pooling group: it is projected exactly as :func:`assess` projects
    an indicator observed for one region (:func:`brandstats.engine.outlooks`).

    The verdict is the outcome when the target year is observed (``met`` / ``not met`` /
    ``unknown`` for a bound that cannot settle it); ``already met`` when the indicator is
    cumulative, the target is an "at least" one and the latest value within the vintage meets
    it (P(met) is then 1); otherwise the IPCC likelihood words for P(met), with
    ``currently_meets`` saying whether the latest value meets the target.

    Forecasts stay in the support (see :data:`BOUNDING`): a series strictly inside a range
    bounded on both sides (a percentage) is modelled on the logit scale of
    :func:`brandstats.models.to_unbounded` and transformed back; otherwise (counts, money,
    ranks, a series touching a bound) it is modelled as it is and the forecasts are censored
    at the bounds (:class:`brandstats.models.Censored`). A cumulative total's forecasts are
    censored at its latest value too.
    """
    levels = _check_options(model, levels)
    spec = TargetSpec(
        indicator=indicator, region=region, target=float(target), comparison=comparison,
        target_year=int(target_year), unit=unit, accumulation=accumulation, lower=lower,
        upper=upper, meta=dict(meta or {}),
    )  # fmt: skip
    problem = make_problem(spec, series, qualifiers, as_of=as_of)
    return _assess_group({region: problem}, model=model, levels=levels, base_year=base_year,
                         seed=seed)[region]  # fmt: skip


def _from_children(
    spec: TargetSpec,
    found: Sequence[Problem | BrandstatsError | None],
    names: Sequence[str],
    weights: Sequence[float],
) -> tuple[pd.Series, pd.Series]:
    """A parent's series from its children's when it has none of its own (see
    :mod:`brandstats.hierarchy`)."""
    basis, why = aggregation(spec.unit, weights)
    if basis is None:
        raise InsufficientDataError(Note("no_series_no_aggregate", why=why))
    missing = [n for n, f in zip(names, found, strict=True) if not isinstance(f, Problem)]
    if missing:
        raise InsufficientDataError(Note("no_series_missing", regions=", ".join(missing)))
    return summed_series([f for f in found if isinstance(f, Problem)], weights, basis)


def _assess_group(
    problems: Mapping[str, Problem],
    *,
    model: str,
    levels: tuple[float, ...],
    base_year: int | None,
    seed: int,
    reference: Any = None,
) -> dict[str, Assessment]:
    """Every problem of one pooling group, through the one engine."""
    found = outlooks(problems, model=model, levels=levels, seed=seed, reference=reference)
    return {
        key: _assessment(problem, found[key], model=model, levels=levels, base_year=base_year)
        for key, problem in problems.items()
    }


def _assessment(
    problem: Problem,
    outlook: Outlook,
    *,
    model: str,
    levels: tuple[float, ...],
    base_year: int | None,
) -> Assessment:
    """The Assessment of one problem from its outlook: outcome, progress, path, verdict."""
    spec, seen, seen_q = problem.spec, problem.seen, problem.seen_qualifiers
    target, comparison, target_year = spec.target, spec.comparison, spec.target_year
    last_year, last_value = problem.last_year, problem.last_value
    currently = _meets_observed(last_value, seen_q.iloc[-1], target, comparison)
    notes = _vintage_notes(seen_q)

    # the outcome, if the target year is in the data (for a vintage: from the full data)
    actual = met = actual_qualifier = None
    if target_year in problem.series.index:
        actual = float(problem.series.loc[target_year])
        actual_qualifier = str(problem.qualifiers.loc[target_year])
        met = _meets_observed(actual, actual_qualifier, target, comparison)

    # a bound in the unfavourable direction ("rank 11 or lower" for a top-10 target) is no
    # point to measure progress or a path from: the true value may be any worse one
    unfavourable = "upper_bound" if spec.at_least else "lower_bound"
    progress_reason = None
    try:
        progress = measure_progress(
            seen, target=target, comparison=comparison, target_year=target_year,
            base_year=base_year,
        )  # fmt: skip
    except InsufficientDataError as exc:
        progress = None
        notes.append(Note("no_progress", reason=note_of(exc)))
    if progress is not None and unfavourable in (
        seen_q.loc[progress.base_year],
        seen_q.loc[progress.last_year],
    ):
        progress, progress_reason = None, "bound_only"
    path = required_path(
        last_year, last_value, target=target, target_year=target_year, unit=spec.unit
    )
    if seen_q.iloc[-1] == unfavourable:
        path = {}
    # a parent read from its districts is as illustrative as any of their figures
    illustrative_sum = bool((outlook.aggregate or {}).get("illustrative"))
    if illustrative_sum and Note("illustrative") not in notes:
        notes.append(Note("illustrative"))
    notes.extend(outlook.notes)
    probability = outlook.probability

    if last_year >= target_year:
        verdict = {True: "met", False: "not met", None: "unknown"}[met]
    elif spec.accumulation == "cumulative" and currently and spec.at_least:
        verdict = "already met"
    elif probability is not None:
        verdict = verdict_for(probability)
    else:
        verdict = "no probability"
    pointed = None
    if met is not None and probability is not None:
        pointed = (probability >= 0.5) == met
    history = pd.DataFrame(
        {"year": seen.index, "value": seen.to_numpy(), "qualifier": seen_q.to_numpy()}
    )
    return Assessment(
        indicator=spec.indicator,
        region=spec.region,
        target=float(target),
        comparison=comparison,
        target_year=int(target_year),
        unit=spec.unit,
        as_of=problem.as_of,
        last_year=last_year,
        last_value=last_value,
        model=model,
        levels=levels,
        probability=probability,
        verdict=verdict,
        reason=outlook.reason,
        progress=progress,
        forecast=outlook.forecast.copy(),
        backtest=outlook.backtest.copy(),
        history=history,
        actual=actual,
        actual_qualifier=actual_qualifier,
        met=met,
        pointed_right_way=pointed,
        illustrative=bool((seen_q == "illustrative").any()) or illustrative_sum,
        widening=outlook.widening,
        coverage=dict(outlook.coverage),
        notes=tuple(notes),
        meta=dict(spec.meta),
        accumulation=spec.accumulation,
        support=spec.support,
        currently_meets=currently,
        required_path=path,
        progress_reason=progress_reason,
        reconciliation=reconcile(
            progress,
            probability,
            seen,
            target=target,
            currently_meets=currently,
            median=outlook.median,
            comparison=comparison,
        ),
        pooling=dict(outlook.pooling) if outlook.pooling else None,
        floor=outlook.floor if probability is not None else 0.0,
        predictive=outlook.predictive,
        aggregate=dict(outlook.aggregate) if outlook.aggregate else None,
    )


def _vintage_notes(seen_q: pd.Series) -> list[str]:
    """The notes the observations' qualifiers call for."""
    notes: list[str] = []
    if (seen_q == "lower_bound").any():
        notes.append(Note("lower_bound_observations"))
    if (seen_q == "illustrative").any():
        notes.append(Note("illustrative"))
    return notes


def required_path(
    last_year: int, last_value: float, *, target: float, target_year: int, unit: str
) -> dict[int, float]:
    """The values that reach the target in the target year at a constant pace.

    From the latest observation (included) to the target in ``target_year``: constant
    compound growth, value_t = last (target / last) ** ((t - last_year) / (target_year -
    last_year)); a straight line instead for ranks (places climbed per year) and when growth
    is undefined (a value that is 0 or negative). Empty when the target year is not after the
    latest observation.
    """
    if target_year <= last_year:
        return {}
    span = target_year - last_year
    steps = np.arange(span + 1) / span
    if unit != "rank" and last_value > 0 and target > 0:
        path = last_value * (target / last_value) ** steps
    else:
        path = last_value + (target - last_value) * steps
    path[-1] = target
    return {last_year + i: float(v) for i, v in enumerate(path)}


#: Observed years in the recent-growth window of :func:`reconcile`.
RECENT_YEARS = 3


def reconcile(
    progress: Progress | None,
    probability: float | None,
    series: pd.Series,
    *,
    target: float,
    currently_meets: bool | None,
    median: float | None,
    comparison: str | None = None,
) -> dict[str, Any] | None:
    """Why the official-style category and P(met) point different ways, as a code and numbers.

    They disagree when the category is ``on track`` and P(met) < 0.5, or the category is
    another one and P(met) >= 0.5. Otherwise (or without both) the result is None.
    ``comparison`` (the target's) tells a still-required growth that is an allowance (a
    target the latest value beats by a margin) from one that is progress to be made; without
    it, every still-required growth is read as progress to be made.

    Returns
    -------
    dict or None
        ``reason`` is one of the codes below; the other keys are its numbers. Growth rates are
        compound annual (or absolute change per year when ``kind`` is ``"absolute"``), as in
        :class:`Progress`.

        ``"currently_meets"``
            On track because the latest value meets the target, but the projection falls out
            of it by the target year: ``last_value``, ``target``, ``forecast_median``.
        ``"slowed"``
            Growth since the base year was enough, but growth since ``since`` is below what is
            still required: ``base_year``, ``observed_growth``, ``since``, ``recent_growth``,
            ``required_growth`` (still required from the latest value), ``kind``.
        ``"accelerated"``
            Growth since the base year was not enough, but growth since ``since`` is: same
            numbers as ``slowed``.
        ``"tolerance"``
            On track only through the rule's 5 % tolerance (observed / required growth in
            [0.95, 1)): at the observed pace the target is narrowly missed: ``ratio``,
            ``observed_growth``, ``required_growth``.
        ``"forecast"``
            None of the above: the models' median for the target year (``forecast_median``)
            lies on the other side of ``target`` from what the growth rates suggest;
            ``observed_growth``, ``required_growth``, ``kind`` given too.
    """
    if progress is None or probability is None:
        return None
    on_track = progress.category == "on track"
    if on_track == (probability >= 0.5):
        return None
    if on_track and currently_meets:
        return {"reason": "currently_meets", "last_value": progress.last_value,
                "target": target, "forecast_median": median}  # fmt: skip
    still = progress.still_required_growth
    since = _recent_start(series, progress.base_year)
    if since is not None and math.isfinite(still) and still != 0:
        recent = _rate(
            float(series.loc[since]), progress.last_value, progress.last_year - since,
            progress.kind,
        )  # fmt: skip
        if comparison is None or still * (1 if comparison in (">", ">=") else -1) > 0:
            enough = recent / still >= 0.95
        else:  # an allowance (see Progress.category): enough while within it
            enough = (recent - still) * (1 if comparison in (">", ">=") else -1) >= 0
        if enough != on_track:
            return {
                "reason": "accelerated" if enough else "slowed",
                "base_year": progress.base_year,
                "observed_growth": progress.observed_growth,
                "since": since,
                "recent_growth": recent,
                "required_growth": still,
                "kind": progress.kind,
            }
    if on_track and 0.95 <= progress.ratio < 1:
        return {"reason": "tolerance", "ratio": progress.ratio,
                "observed_growth": progress.observed_growth,
                "required_growth": progress.required_growth}  # fmt: skip
    return {
        "reason": "forecast",
        "forecast_median": median,
        "target": target,
        "observed_growth": progress.observed_growth,
        "required_growth": progress.required_growth,
        "kind": progress.kind,
    }


def _recent_start(series: pd.Series, base_year: int) -> int | None:
    """The start of the recent window: the latest observed year at least RECENT_YEARS before
    the last, or else the one before the last; None when that is the base year itself."""
    years = [int(y) for y in series.index if y > base_year]
    if len(years) < 2:
        return None
    last = years[-1]
    earlier = [y for y in years[:-1] if y <= last - RECENT_YEARS]
    return earlier[-1] if earlier else years[-2]


def default_region(observations: pd.DataFrame, targets: pd.DataFrame, indicator: str) -> str:
    """The region to assess when none is given: the target's only named region, else the only
    observed region of ``indicator``.

    Raises
    ------
    BrandstatsError
        When neither settles it; the message lists the observed regions.
    """
    regions = targets.loc[targets["indicator"] == indicator, "region"]
    named = [r for r in regions if r]
    if len(named) == 1:
        return named[0]
    observed = observations.loc[observations["indicator"] == indicator, "region"].unique()
    if len(observed) == 1:
        return str(observed[0])
    raise BrandstatsError(
        f"{indicator!r}: give region=, one of {', '.join(map(str, observed)) or '(none)'}"
    )


def assess(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    indicator: str,
    region: str | None = None,
    *,
    as_of: int | None = None,
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    base_year: int | None = None,
    seed: int = 0,
    vintage_basis: str = "latest",
) -> Assessment:
    """Assess one target: will it be met by its year, and how sure are we?

    Parameters
    ----------
    observations, targets : pandas.DataFrame
        As returned by :func:`~brandstats.load_observations` and
        :func:`~brandstats.load_targets`.
    indicator : str
        The indicator id, e.g. ``"product_brand_value"``.
    region : str, optional
        The region; by default the target's region (or the only observed region).
    as_of, model, levels, base_year, seed
        See :func:`assess_series`.
    vintage_basis : {"latest", "published"}
        What ``as_of`` reads: today's figures up to that year (revisions included), or the
        figures as published by the end of it (:func:`brandstats.published_by`).

    Returns
    -------
    Assessment

    Notes
    -----
    The region is assessed with its pooling group, the other regions of ``indicator`` that
    have a target and observations (:func:`brandstats.spec.peer_regions`), exactly as
    :func:`assess_all` assesses them: the same inputs give the same P(met) either way.
    """
    levels = _check_options(model, levels)
    observations = on_basis(observations, as_of, vintage_basis)
    if region is None:
        region = default_region(observations, targets, indicator)
    target_spec(targets, indicator, region)  # an unknown indicator or region: say so first
    found = assess_group(
        observations, targets, indicator, [region], as_of=as_of, model=model, levels=levels,
        base_year=base_year, seed=seed,
    )  # fmt: skip
    outcome = found[region]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def assess_group(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    indicator: str,
    asked: Sequence[str],
    *,
    as_of: int | None = None,
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    base_year: int | None = None,
    seed: int = 0,
    reference: Any = None,
) -> dict[str, Assessment | BrandstatsError]:
    """The asked regions of one indicator, each assessed within its whole pooling group.

    :func:`assess` and :func:`assess_all` both call this; it gives the Assessments
    themselves (with their predictive distributions), one per asked region. A region whose
    data cannot be assessed (no observation within the vintage, values outside the support
    ...) gets its error instead of an Assessment and stays out of the others' group.
    ``reference`` replaces the shipped reference class (:mod:`brandstats.reference`; the
    calibration benchmark passes one learned without the family it scores).

    With a region tree (a ``parent`` column in the targets), siblings are calibrated together
    and a parent's outlook is its districts' sum or weighted mean
    (:func:`brandstats.hierarchy.tree_outlooks`); a parent without observations of its own is
    read from its districts' figures.
    """
    levels = _check_options(model, levels)
    peers = peer_regions(observations, targets, indicator)
    options = dict(as_of=as_of, model=model, levels=levels, base_year=base_year, seed=seed)

    def compute(regions: Sequence[str]) -> dict[str, Assessment | BrandstatsError]:
        return _assess_regions(
            observations, targets, indicator, regions, reference=reference, **options
        )

    if reference is None and memo.active():  # a batch keeps the group for its other notebooks
        data = observations.loc[
            observations["indicator"] == indicator, ["region", "year", "value", "qualifier"]
        ]
        rows = targets.loc[targets["indicator"] == indicator]
        name = "group-" + memo.key(indicator, data, rows, sorted(options.items()))
        found = memo.cached(name, lambda: compute(peers))
    else:
        found = compute(peers)
    rest = [region for region in asked if region not in found]
    if rest:  # regions outside the group cannot be assessed: their errors say why
        _, errors = make_problems(observations, targets, indicator, rest, as_of=as_of)
        found = {**found, **{region: errors[region] for region in rest}}
    return {region: found[region] for region in asked}


def _assess_regions(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    indicator: str,
    regions: Sequence[str],
    *,
    as_of: int | None,
    model: str,
    levels: tuple[float, ...],
    base_year: int | None,
    seed: int,
    reference: Any,
) -> dict[str, Assessment | BrandstatsError]:
    """``regions`` of one indicator, each assessed or with the error that says why not."""
    problems, errors = make_problems(observations, targets, indicator, regions, as_of=as_of)
    tree, children, weights = tree_of(targets, indicator)
    observed = set(observations.loc[observations["indicator"] == indicator, "region"])
    derived = {r for r in problems if r in children and r not in observed}
    found_outlooks = tree_outlooks(
        problems, tree, children=children, weights=weights, derived=derived, model=model,
        levels=levels, seed=seed, reference=reference,
    )  # fmt: skip
    assessed = {
        key: _assessment(problem, found_outlooks[key], model=model, levels=levels,
                         base_year=base_year)
        for key, problem in problems.items()
    }  # fmt: skip
    return {region: assessed.get(region, errors.get(region)) for region in regions}


def make_problems(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    indicator: str,
    asked: Sequence[str],
    *,
    as_of: int | None = None,
) -> tuple[dict[str, Problem], dict[str, BrandstatsError]]:
    """The problems (:func:`~brandstats.engine.make_problem`) of one indicator's pooling group
    (its :func:`~brandstats.spec.peer_regions`, then the asked regions), as of ``as_of``; a
    parent without figures of its own gets its children's (:mod:`brandstats.hierarchy`).

    Returns
    -------
    problems : dict of str to Problem
        In the order the engine takes them (children before their parent).
    errors : dict of str to BrandstatsError
        The regions whose data cannot be assessed (no observation, or none within the
        vintage, values outside the support ...), each with its error.
    """
    data = observations.loc[observations["indicator"] == indicator]
    tree, children, weights = tree_of(targets, indicator)
    problems: dict[str, Problem] = {}
    errors: dict[str, BrandstatsError] = {}
    regions = dict.fromkeys([*peer_regions(observations, targets, indicator), *asked])
    # children first: a parent without a series of its own is read from theirs
    for region in sorted(regions, key=lambda r: -len(ancestors(r, tree))):
        rows = data.loc[data["region"] == region].set_index("year").sort_index()
        try:
            spec = target_spec(targets, indicator, region)
            if rows.empty and region in children:
                series, qualifiers = _from_children(
                    spec, [problems.get(k, errors.get(k)) for k in children[region]],
                    children[region], [weights.get(k, np.nan) for k in children[region]],
                )  # fmt: skip
            elif rows.empty:
                close = closest_regions(observations, targets, indicator, region)
                raise _no_observations(indicator, region, close)
            else:
                series, qualifiers = rows["value"], rows["qualifier"]
            problems[region] = make_problem(spec, series, qualifiers, as_of=as_of)
        except BrandstatsError as exc:
            errors[region] = exc
    return problems, errors


def _no_observations(indicator: str, region: str, close: Sequence[str]) -> InsufficientDataError:
    hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
    return InsufficientDataError(f"no observations of {indicator!r} for region {region!r}{hint}")


def assess_all(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    indicators: Sequence[str] | None = None,
    region: str | None = None,
    as_of: int | None = None,
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    base_year: int | None = None,
    seed: int = 0,
    vintage_basis: str = "latest",
) -> pd.DataFrame:
    """Assess every (indicator, region) that has both a target and observations.

    ``vintage_basis`` is as for :func:`assess`.

    Returns
    -------
    pandas.DataFrame
        One row per (indicator, region) with the columns of :meth:`Assessment.row`, in
        catalogue order. A pair that cannot be assessed (e.g. no observation within the
        vintage) gets a row with its ``reason`` and verdict ``no data``.

    Notes
    -----
    Each pair is assessed as :func:`assess` assesses it, within its indicator's pooling group
    (all the indicator's regions, also when ``region`` keeps only one of them in the table).
    With ``model="auto"``, a region with few backtest cases of its own gets the interval width
    and tail floor of all regions' pooled backtests (:mod:`brandstats.pooling`); ``p_unpooled``
    is its P(met) on its own.
    """
    levels = _check_options(model, levels)
    pairs = assessable_pairs(observations, targets, indicators=indicators, region=region)
    observations = on_basis(observations, as_of, vintage_basis)  # pairs without: "no data"
    unobserved = [
        (ind, name)
        for ind, name, _ in unobserved_targets(observations, targets)
        if (not indicators or ind in indicators) and region in (None, name)
    ]
    by_indicator: dict[str, list[str]] = {}
    for indicator, name in [*pairs, *unobserved]:  # every target keeps its row: "no data"
        by_indicator.setdefault(indicator, []).append(name)
    found = {}
    for indicator, names in by_indicator.items():
        outcomes = assess_group(
            observations, targets, indicator, names, as_of=as_of, model=model, levels=levels,
            base_year=base_year, seed=seed,
        )  # fmt: skip
        found |= {(indicator, name): outcome for name, outcome in outcomes.items()}
    rows = []
    for pair in target_order(targets, [*pairs, *unobserved]):
        outcome = found[pair]
        if isinstance(outcome, InsufficientDataError):
            rows.append({"indicator": pair[0], "region": pair[1], "verdict": "no data",
                         "reason": str(outcome), "as_of": as_of})  # fmt: skip
        elif isinstance(outcome, Exception):
            raise outcome
        else:
            rows.append(outcome.row())
    return pd.DataFrame(rows)
