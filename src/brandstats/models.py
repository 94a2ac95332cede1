"""Single trend models for short annual series, each giving a predictive distribution.

Four models are offered, from the simplest to the most flexible (:data:`MODELS` gives the
minimum number of observations each needs):

``drift``
    Random walk with drift; Normal predictive (Hyndman & Athanasopoulos, FPP3 section 5.5),
    extended to gaps in the years.
``linear``
    OLS straight line of value on year; Student t predictive (the OLS prediction interval).
``loglinear``
    The same line on log(value), i.e. constant growth; log-t predictive. Positive series only.
``holt``
    Damped additive-trend exponential smoothing (statsmodels ``ETSModel``), predictive
    distribution by simulation. Needs consecutive years.

Every series is a :class:`pandas.Series` of floats indexed by int years, ascending, unique and
without NaN; gaps between years are allowed except for ``holt``.

Predictive distributions share the :class:`Predictive` interface: ``point``, ``cdf``, ``sf``,
``ppf`` and ``widen``. Three immutable kinds implement it: :class:`Parametric` (a scipy
location-scale distribution, optionally on the log scale), :class:`Sample` (simulated values)
and :class:`Mixture` (a weighted combination of others); two keep any of them inside a unit's
support: :class:`Transformed` (modelled on the logit or log scale, :func:`to_unbounded`),
:class:`Censored` (mass beyond a bound put on the bound) and :class:`Truncated` (cut at the
bounds and renormalised).

References
----------
Hyndman, R. J. & Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*, 3rd ed.,
section 5.5 "Distributional forecasts and prediction intervals". https://otexts.com/fpp3/
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike
from scipy import optimize, special, stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from brandstats.config import MODELS
from brandstats.errors import BrandstatsError, InsufficientDataError
from brandstats.notes import Note

__all__ = [
    "MODELS",
    "Censored",
    "Mixture",
    "ModelFit",
    "Parametric",
    "Predictive",
    "Sample",
    "Transformed",
    "Truncated",
    "check_levels",
    "check_series",
    "fit_model",
    "from_unbounded",
    "invert_cdf",
    "resolution",
    "to_unbounded",
]

#: Model name -> minimum number of observations, in order of increasing flexibility.

#: Number of simulated paths behind a ``holt`` predictive distribution.
HOLT_REPETITIONS = 2000

# A zero residual spread (e.g. an exactly straight series) would give a degenerate
# distribution that scipy cannot represent; spreads are floored at this fraction of the
# series' largest absolute value (or at this absolute value on the log scale), and at the
# rounding error of the published figures (see _spread_floor).
_RELATIVE_SPREAD_FLOOR = 1e-9

#: Published figures are rounded to at most this many decimals (see :func:`resolution`).
MAX_DECIMALS = 6


def _as_array(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _unwrap(result: np.ndarray) -> Any:
    """Return a numpy scalar for 0-d results and the array otherwise."""
    return result[()] if result.ndim == 0 else result


@runtime_checkable
class Predictive(Protocol):
    """The predictive distribution of one future value.

    Attributes
    ----------
    point : float
        The point forecast (see each implementation for whether it is a mean or a median).
    """

    @property
    def point(self) -> float: ...

    def cdf(self, x: ArrayLike) -> Any:
        """P(Y <= x), elementwise."""
        ...

    def sf(self, x: ArrayLike) -> Any:
        """P(Y > x) = 1 - cdf(x), elementwise."""
        ...

    def ppf(self, q: ArrayLike) -> Any:
        """The quantile function (inverse of cdf), elementwise."""
        ...

    def widen(self, factor: float) -> Predictive:
        """The same kind of distribution with its spread about the centre times ``factor``."""
        ...


#: The families :class:`Parametric` reads from scipy's special functions directly: the cdf of
#: the standardised value and the standard quantile function, the shapes first.
_SPECIAL: dict[int, tuple[Callable[..., Any], Callable[..., Any]]] = {
    id(stats.norm): (special.ndtr, special.ndtri),
    id(stats.t): (special.stdtr, special.stdtrit),
}


@dataclass(frozen=True)
class Parametric:
    """A scipy location-scale distribution, optionally for log(Y) instead of Y.

    Parameters
    ----------
    dist : scipy.stats.rv_continuous
        A location-scale family, e.g. ``scipy.stats.norm`` or ``scipy.stats.t``.
    loc, scale : float
        Location and scale (on the log scale when ``log`` is True).
    shapes : tuple of float
        Shape parameters of ``dist`` (the degrees of freedom of ``t``).
    log : bool
        If True the distribution describes log(Y), so Y = exp(X) (e.g. a log-t).

    Notes
    -----
    ``point`` is ``loc`` for ``log=False`` (the mean and median of a symmetric family) and
    ``exp(loc)`` for ``log=True``: the median, because a log-t has no finite mean.
    """

    dist: stats.rv_continuous
    loc: float
    scale: float
    shapes: tuple[float, ...] = ()
    log: bool = False

    def __post_init__(self) -> None:
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise BrandstatsError(f"scale must be positive and finite, got {self.scale}")

    @functools.cached_property
    def frozen(self) -> Any:
        """The frozen scipy distribution (of log(Y) when ``log`` is True)."""
        return self.dist(*self.shapes, loc=self.loc, scale=self.scale)

    @property
    def point(self) -> float:
        return float(np.exp(self.loc) if self.log else self.loc)

    def cdf(self, x: ArrayLike) -> Any:
        return self._tail(x, "cdf", below_zero=0.0)

    def sf(self, x: ArrayLike) -> Any:
        return self._tail(x, "sf", below_zero=1.0)

    def _tail(self, x: ArrayLike, which: str, *, below_zero: float) -> Any:
        """``frozen.cdf`` or ``frozen.sf`` at x (at log x for a log distribution, which puts
        no mass at or below 0)."""
        x = _as_array(x)
        method = functools.partial(self._scipy, which)
        if not self.log:
            return _unwrap(np.asarray(method(x)))
        positive = x > 0
        logx = np.log(np.where(positive, x, 1.0))
        return _unwrap(np.where(positive, method(logx), below_zero))

    def _scipy(self, which: str, x: np.ndarray) -> np.ndarray:
        """What ``frozen.<which>(x)`` gives, for ``which`` in cdf, sf, ppf.

        For ``norm`` and ``t`` straight from the special functions scipy's methods call
        (ndtr, ndtri, stdtr, stdtrit) on the standardised value, which gives the same floats
        (bit for bit; ``tests/test_models.py`` checks it) without scipy's argument checks and
        its costly freezing: a mixture's cdf is called thousands of times in a report.
        """
        special_ = _SPECIAL.get(id(self.dist))
        if special_ is None:
            return np.asarray(getattr(self.frozen, which)(x))
        if which == "ppf":  # the bounds of the support at 0 and 1, as scipy puts them
            value = special_[1](*self.shapes, x) * self.scale + self.loc
            return np.asarray(np.where(x == 0, -np.inf, np.where(x == 1, np.inf, value)))
        z = np.asarray((x - self.loc) / self.scale, dtype=float)
        return np.asarray(special_[0](*self.shapes, z if which == "cdf" else -z))

    def ppf(self, q: ArrayLike) -> Any:
        value = self._scipy("ppf", _as_array(q))
        if not self.log:
            return _unwrap(value)
        with np.errstate(over="ignore"):  # a quantile past ~1e308 is +inf, as the limit says
            return _unwrap(np.exp(value))

    def widen(self, factor: float) -> Parametric:
        """Multiply the scale by ``factor`` (on the log scale for a log distribution)."""
        return Parametric(self.dist, self.loc, self.scale * factor, self.shapes, self.log)


@dataclass(frozen=True, eq=False)
class Sample:
    """An empirical distribution of simulated values.

    Parameters
    ----------
    draws : array_like
        The simulated values (copied, sorted and made read-only).

    Notes
    -----
    ``point`` is the sample mean; ``cdf`` is the empirical distribution function and ``ppf``
    uses :func:`numpy.quantile` with linear interpolation.
    """

    draws: np.ndarray

    def __post_init__(self) -> None:
        draws = np.sort(_as_array(self.draws).ravel())
        if draws.size == 0 or not np.all(np.isfinite(draws)):
            raise BrandstatsError("a Sample needs at least one draw and only finite draws")
        draws.setflags(write=False)
        object.__setattr__(self, "draws", draws)

    @property
    def point(self) -> float:
        return float(np.mean(self.draws))

    def cdf(self, x: ArrayLike) -> Any:
        rank = np.searchsorted(self.draws, _as_array(x), side="right")
        return _unwrap(np.asarray(rank / self.draws.size))

    def sf(self, x: ArrayLike) -> Any:
        return _unwrap(1.0 - np.asarray(self.cdf(x)))

    def ppf(self, q: ArrayLike) -> Any:
        return _unwrap(np.asarray(np.quantile(self.draws, _as_array(q))))

    def widen(self, factor: float) -> Sample:
        """Scale the deviations from the sample median by ``factor``."""
        median = np.median(self.draws)
        return Sample((self.draws - median) * factor + median)


@dataclass(frozen=True, eq=False)
class Mixture:
    """A weighted mixture of predictive distributions.

    Parameters
    ----------
    components : sequence of Predictive
        The mixed distributions.
    weights : sequence of float
        Non-negative weights, normalised to sum to 1.

    Notes
    -----
    ``cdf`` is the weighted sum of the components' cdfs and ``point`` the weighted sum of their
    points. ``ppf`` solves cdf(x) = q for every q at once (:func:`invert_cdf`), bracketed by
    the smallest and largest component quantile at q (the mixture quantile lies between them).
    """

    components: tuple[Predictive, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        weights = np.asarray(self.weights, dtype=float)
        if len(self.components) == 0 or weights.shape != (len(self.components),):
            raise BrandstatsError("a Mixture needs one weight per component, and a component")
        if np.any(weights < 0) or not weights.sum() > 0:
            raise BrandstatsError(f"mixture weights must be >= 0 with a positive sum: {weights}")
        object.__setattr__(self, "components", tuple(self.components))
        object.__setattr__(self, "weights", tuple(float(w) for w in weights / weights.sum()))

    def _used(self) -> list[tuple[Predictive, float]]:
        return [(c, w) for c, w in zip(self.components, self.weights, strict=True) if w > 0]

    @property
    def point(self) -> float:
        return float(sum(w * c.point for c, w in self._used()))

    def cdf(self, x: ArrayLike) -> Any:
        x = _as_array(x)
        return _unwrap(np.asarray(sum(w * np.asarray(c.cdf(x)) for c, w in self._used())))

    def sf(self, x: ArrayLike) -> Any:
        return _unwrap(1.0 - np.asarray(self.cdf(x)))

    def ppf(self, q: ArrayLike) -> Any:
        q = _as_array(q)
        bounds = np.array([np.asarray(c.ppf(q)) for c, _ in self._used()])
        # a component quantile past the largest float is inf (a log-t tail): the root lies
        # within the finite floats, and a bracket must be finite
        big = np.finfo(float).max
        lower, upper = (
            np.clip(bounds.min(axis=0), -big, big),
            np.clip(bounds.max(axis=0), -big, big),
        )
        out = invert_cdf(self.cdf, q.ravel(), lower.ravel(), upper.ravel())
        return _unwrap(out.reshape(q.shape))

    def widen(self, factor: float) -> Mixture:
        """Widen every component by ``factor``; the weights are unchanged."""
        return Mixture(tuple(c.widen(factor) for c in self.components), self.weights)


#: Points per bracket and round in :func:`invert_cdf` (each round narrows a bracket by this
#: factor plus one, with one call of the cdf for every quantile at once).
INVERT_POINTS = 48

#: :func:`invert_cdf` stops when a bracket is at most this wide relative to its ends ...
INVERT_RTOL = 1e-13
#: ... or this wide in absolute terms (a root at or near 0).
INVERT_ATOL = 1e-14


def invert_cdf(
    cdf: Callable[[np.ndarray], Any], q: ArrayLike, lower: ArrayLike, upper: ArrayLike
) -> np.ndarray:
    """Solve cdf(x) = q for every q at once, each root bracketed by [lower, upper].

    Parameters
    ----------
    cdf : callable
        A non-decreasing cdf, vectorised (called with a 1-d array of points).
    q, lower, upper : array_like
        Probabilities and finite brackets (1-d, same length): cdf(lower) <= q <= cdf(upper)
        is where the root lies; a q whose cdf(lower) >= q gives ``lower`` and one whose
        cdf(upper) <= q gives ``upper``.

    Returns
    -------
    numpy.ndarray
        The roots: ``lower`` for q = 0, ``upper`` for q = 1, NaN for q outside [0, 1].

    Notes
    -----
    A bracketing search with every bracket cut into :data:`INVERT_POINTS` + 1 pieces per
    round, the cdf evaluated at the cut points of all brackets in one call; each round keeps
    the piece where cdf first reaches q (cdf(a) < q <= cdf(b) throughout), so it converges
    on a jump as on a smooth rise, as bisection would, and never leaves the bracket. It
    stops when a bracket is narrower than :data:`INVERT_RTOL` relative to its ends or
    :data:`INVERT_ATOL`, and returns the point where the straight line between the bracket's
    ends reaches q. The root is then within 1e-13 relative of the exact one (the rounding of
    the cdf aside), finer than :func:`scipy.optimize.brentq` at ``rtol=1e-10``, which this
    replaces (one call of the cdf per step for each q).

    Where the cdf equals q over a stretch (a mixture of samples, whose cdf is a staircase),
    every point of it is a q-quantile; there the point that Brent's method finds from the
    whole bracket is returned, as before this search replaced it, so that no published
    median moves.
    """
    q, lower, upper = (_as_array(v).ravel() for v in (q, lower, upper))
    out = np.full(q.shape, np.nan)
    out[q == 0] = lower[q == 0]
    out[q == 1] = upper[q == 1]
    todo = np.flatnonzero((q > 0) & (q < 1))
    same = lower[todo] == upper[todo]
    out[todo[same]] = lower[todo[same]]
    todo = todo[~same]
    if todo.size:
        ends = np.asarray(cdf(np.concatenate([lower[todo], upper[todo]])), dtype=float)
        f_lo, f_hi = ends[: todo.size], ends[todo.size :]
        at_lower, at_upper = f_lo >= q[todo], (f_lo < q[todo]) & (f_hi <= q[todo])
        out[todo[at_lower]] = lower[todo[at_lower]]
        out[todo[at_upper]] = upper[todo[at_upper]]
        keep = ~(at_lower | at_upper)
        todo, f_lo, f_hi = todo[keep], f_lo[keep], f_hi[keep]
    a, b, target = lower[todo], upper[todo], q[todo]
    steps = np.arange(1, INVERT_POINTS + 1) / (INVERT_POINTS + 1)
    stuck = np.zeros(todo.size, dtype=bool)
    while todo.size:
        width = b - a
        tolerance = np.maximum(INVERT_RTOL * np.maximum(np.abs(a), np.abs(b)), INVERT_ATOL)
        done = (width <= tolerance) | stuck
        if done.any():
            rise = f_hi[done] - f_lo[done]
            share = (target[done] - f_lo[done]) / np.where(rise > 0, rise, 1.0)
            out[todo[done]] = a[done] + np.clip(share, 0.0, 1.0) * width[done]
            flat = todo[done][f_hi[done] == target[done]]  # cdf = q from here on a stretch
            out[flat] = [_brent(cdf, q[i], lower[i], upper[i]) for i in flat]
            todo, a, b, target = todo[~done], a[~done], b[~done], target[~done]
            f_lo, f_hi, width = f_lo[~done], f_hi[~done], width[~done]
            if not todo.size:
                break
        # a + (b - a) * s overflows nothing: both ends are finite and s < 1
        points = a[:, None] + width[:, None] * steps[None, :]
        values = np.asarray(cdf(points.ravel()), dtype=float).reshape(points.shape)
        reached = values >= target[:, None]
        first = np.where(reached.any(axis=1), reached.argmax(axis=1), INVERT_POINTS)
        rows = np.arange(todo.size)
        left, right = first - 1, first
        has_left, has_right = left >= 0, right < INVERT_POINTS
        a_new = np.where(has_left, points[rows, np.maximum(left, 0)], a)
        f_lo = np.where(has_left, values[rows, np.maximum(left, 0)], f_lo)
        b_new = np.where(has_right, points[rows, np.minimum(right, INVERT_POINTS - 1)], b)
        f_hi = np.where(has_right, values[rows, np.minimum(right, INVERT_POINTS - 1)], f_hi)
        stuck = (a_new == a) & (b_new == b)  # adjacent floats: nothing left to cut
        a, b = a_new, b_new
    return out


def _brent(cdf: Callable[[Any], Any], q: float, lower: float, upper: float) -> float:
    """The root of cdf(x) = q in [lower, upper] by Brent's method, one q at a time."""
    gap = lambda x: float(cdf(x)) - q  # noqa: E731
    try:
        return optimize.brentq(gap, lower, upper, rtol=1e-10, maxiter=1000)
    except RuntimeError:  # a very wide bracket (e.g. a log-t tail): slower but sure
        return optimize.bisect(gap, lower, upper, rtol=1e-10, maxiter=5000)


def to_unbounded(x: ArrayLike, lower: float, upper: float) -> Any:
    """Map values in (lower, upper) onto the real line: the scale bounded models work on.

    logit((x - lower) / (upper - lower)) when both bounds are finite, log(x - lower) with only a
    lower bound, -log(upper - x) with only an upper bound, x itself with neither. The bounds
    map to -inf and +inf. :func:`from_unbounded` is the inverse.
    """
    x = _as_array(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.isfinite(lower) and np.isfinite(upper):
            out = special.logit((x - lower) / (upper - lower))
        elif np.isfinite(lower):
            out = np.log(x - lower)
        elif np.isfinite(upper):
            out = -np.log(upper - x)
        else:
            out = x
    return _unwrap(np.asarray(out, dtype=float))


def from_unbounded(z: ArrayLike, lower: float, upper: float) -> Any:
    """The inverse of :func:`to_unbounded`: values on the real line back into [lower, upper]."""
    z = _as_array(z)
    with np.errstate(over="ignore"):
        if np.isfinite(lower) and np.isfinite(upper):
            out = lower + (upper - lower) * special.expit(z)
        elif np.isfinite(lower):
            out = lower + np.exp(z)
        elif np.isfinite(upper):
            out = upper - np.exp(-z)
        else:
            out = z
    return _unwrap(np.clip(np.asarray(out, dtype=float), lower, upper))


@dataclass(frozen=True, eq=False)
class Transformed:
    """The distribution of Y = from_unbounded(X) for X ~ ``base``: a bounded distribution.

    With both bounds finite this is a logit-``base`` scaled to [lower, upper] (for a normal
    base, a logit-normal); with a lower bound only, a shifted log-``base``.

    Parameters
    ----------
    base : Predictive
        The distribution on the unbounded scale of :func:`to_unbounded`.
    lower, upper : float
        The support; at least one should be finite.

    Notes
    -----
    The map is increasing, so cdf(y) = base.cdf(to_unbounded(y)), ppf(q) =
    from_unbounded(base.ppf(q)); ``point`` is from_unbounded(base.point), the median when the
    base's point is its median.
    """

    base: Predictive
    lower: float
    upper: float

    @property
    def point(self) -> float:
        return float(from_unbounded(self.base.point, self.lower, self.upper))

    def _at(self, x: ArrayLike, which: str, below: float) -> Any:
        x = _as_array(x)
        inside = (x > self.lower) & (x < self.upper)
        z = to_unbounded(np.where(inside, x, np.nan), self.lower, self.upper)
        value = np.asarray(getattr(self.base, which)(z), dtype=float)
        outside = np.where(x <= self.lower, below, 1.0 - below)
        return _unwrap(np.where(inside, value, outside))

    def cdf(self, x: ArrayLike) -> Any:
        return self._at(x, "cdf", 0.0)

    def sf(self, x: ArrayLike) -> Any:
        return self._at(x, "sf", 1.0)

    def ppf(self, q: ArrayLike) -> Any:
        return from_unbounded(self.base.ppf(q), self.lower, self.upper)

    def widen(self, factor: float) -> Transformed:
        """Widen the base distribution (on the unbounded scale)."""
        return Transformed(self.base.widen(factor), self.lower, self.upper)


@dataclass(frozen=True, eq=False)
class _Bounded:
    """A ``base`` distribution held within [lower, upper]; :class:`Truncated` and
    :class:`Censored` differ only in where the base's mass beyond a bound goes."""

    base: Predictive
    lower: float = -np.inf
    upper: float = np.inf

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise BrandstatsError(f"empty support [{self.lower}, {self.upper}]")


@dataclass(frozen=True, eq=False)
class Truncated(_Bounded):
    """``base`` restricted to [lower, upper] and renormalised (a truncated distribution).

    Parameters
    ----------
    base : Predictive
        The untruncated distribution.
    lower, upper : float
        The support (either may be infinite).

    Notes
    -----
    With F the base cdf, a = F(lower) and m = F(upper) - a: cdf(x) = (F(x) - a) / m inside,
    ppf(q) = F^-1(a + q m). ``point`` is the median ppf(0.5). When the base puts (almost) no
    mass inside (m < 1e-12) the distribution is a point mass at the bound nearer that mass.
    """

    @functools.cached_property
    def _edges(self) -> tuple[float, float, float | None]:
        below = float(self.base.cdf(self.lower)) if np.isfinite(self.lower) else 0.0
        above = float(self.base.sf(self.upper)) if np.isfinite(self.upper) else 0.0
        mass = 1.0 - below - above
        atom = None if mass >= 1e-12 else (self.lower if below >= above else self.upper)
        return below, above, atom

    @property
    def point(self) -> float:
        return float(self.ppf(0.5))

    def _at(self, x: ArrayLike, which: str) -> Any:
        below, above, atom = self._edges
        x = _as_array(x)
        if atom is not None:
            p = (x >= atom).astype(float)
        else:
            inside = np.clip(x, self.lower, self.upper)
            if which == "cdf":
                p = (np.asarray(self.base.cdf(inside), dtype=float) - below) / (1 - below - above)
            else:
                p = 1.0 - (np.asarray(self.base.sf(inside), dtype=float) - above) / (
                    1 - below - above
                )
            p = np.where(x < self.lower, 0.0, np.where(x >= self.upper, 1.0, p))
        p = np.clip(p, 0.0, 1.0)
        return _unwrap(p if which == "cdf" else 1.0 - p)

    def cdf(self, x: ArrayLike) -> Any:
        return self._at(x, "cdf")

    def sf(self, x: ArrayLike) -> Any:
        return self._at(x, "sf")

    def ppf(self, q: ArrayLike) -> Any:
        below, above, atom = self._edges
        q = _as_array(q)
        if atom is not None:
            return _unwrap(np.full(q.shape, atom))
        value = np.asarray(self.base.ppf(below + q * (1 - below - above)), dtype=float)
        return _unwrap(np.clip(value, self.lower, self.upper))

    def widen(self, factor: float) -> Truncated:
        """Widen the base distribution, then truncate it again."""
        return Truncated(self.base.widen(factor), self.lower, self.upper)


@dataclass(frozen=True, eq=False)
class Censored(_Bounded):
    """The distribution of Y = clip(X, lower, upper) for X ~ ``base`` (a censored distribution).

    The base's mass beyond a bound sits on that bound: cdf(x) = 0 below ``lower``, F(x) from
    ``lower`` up to ``upper`` and 1 from ``upper`` on; ppf(q) = clip(F^-1(q), lower, upper).
    So P(Y <= t) = P(X <= t) for every t inside the bounds: a forecast of "at or below the
    floor" stays one, rather than being spread over the support as truncation would.

    Parameters
    ----------
    base : Predictive
        The uncensored distribution.
    lower, upper : float
        The bounds (either may be infinite).
    """

    @property
    def point(self) -> float:
        return float(np.clip(self.base.point, self.lower, self.upper))

    def cdf(self, x: ArrayLike) -> Any:
        x = _as_array(x)
        inside = np.asarray(self.base.cdf(x), dtype=float)
        return _unwrap(np.where(x < self.lower, 0.0, np.where(x >= self.upper, 1.0, inside)))

    def sf(self, x: ArrayLike) -> Any:
        x = _as_array(x)
        inside = np.asarray(self.base.sf(x), dtype=float)
        return _unwrap(np.where(x < self.lower, 1.0, np.where(x >= self.upper, 0.0, inside)))

    def ppf(self, q: ArrayLike) -> Any:
        value = np.asarray(self.base.ppf(q), dtype=float)
        return _unwrap(np.clip(value, self.lower, self.upper))

    def widen(self, factor: float) -> Censored:
        """Widen the base distribution, then censor it again."""
        return Censored(self.base.widen(factor), self.lower, self.upper)


@dataclass(frozen=True)
class ModelFit:
    """A model fitted to one series; immutable.

    Attributes
    ----------
    model : str
        The model name (a key of :data:`MODELS`).
    last_year : int
        The last observed year.
    n_points : int
        The number of observations used.
    params : dict
        The estimated parameters (per-year drift, slope, residual sigma, ...).
    """

    model: str
    last_year: int
    n_points: int
    params: dict[str, float]
    _forecast: Callable[[int], Predictive] = field(repr=False, compare=False)

    def predictive(self, year: int) -> Predictive:
        """The predictive distribution of the value in ``year``.

        Parameters
        ----------
        year : int
            A year after :attr:`last_year`.

        Returns
        -------
        Predictive
        """
        horizon = int(year) - self.last_year
        if horizon < 1:
            raise BrandstatsError(
                f"can only forecast years after {self.last_year} (the last observation), got {year}"
            )
        return self._forecast(horizon)


def fit_model(series: pd.Series, model: str, *, seed: int = 0) -> ModelFit:
    """Fit one trend model to an annual series.

    Parameters
    ----------
    series : pandas.Series
        Float values indexed by int years, ascending, unique, without NaN; gaps are allowed
        (except for ``holt``).
    model : {"drift", "linear", "loglinear", "holt"}
        The model; see :data:`MODELS` for the minimum number of observations of each.
    seed : int, default 0
        Seed of the ``holt`` simulations (the other models are deterministic).

    Returns
    -------
    ModelFit

    Raises
    ------
    InsufficientDataError
        If the series has too few observations for the model, non-positive values for
        ``loglinear`` or missing years for ``holt``; the message gives the reason.
    BrandstatsError
        If the series is malformed or the model unknown.

    Notes
    -----
    ``drift``: with years t_1..t_T, c = (y_T - y_1) / (t_T - t_1). An increment d_i over a
    gap of g_i years has residual e_i = d_i - c g_i with variance sigma^2 g_i, so
    sigma^2 = sum(e_i^2 / g_i) / (m - 1) for m increments. The forecast h years ahead is
    Normal(y_T + c h, sigma^2 (h + h^2 / (t_T - t_1))); for consecutive years this is FPP3
    Table 5.2, sigma_h = sigma sqrt(h (1 + h / (T - 1))).

    ``linear`` / ``loglinear``: OLS of value (log value) on year - last year. The predictive is
    Student t with n - 2 degrees of freedom, location the fitted line and scale the standard
    error of a new observation, so its central intervals are statsmodels' ``obs_ci``. The
    ``loglinear`` point forecast is the median exp(loc): a log-t has no finite mean.

    Spreads are floored at the rounding error of the figures (:func:`resolution` w,
    sigma >= w / sqrt(12), Sheppard's correction; w / (sqrt(12) y_T) on the log scale), so a
    flat or exactly straight series does not give a zero-width interval and a P(met) of
    exactly 0 or 1; otherwise ``linear`` is exactly statsmodels' OLS prediction interval.
    ``linear`` is fitted on the values as given: callers that keep forecasts inside a support
    (:func:`brandstats.attainment.project_bounded`) may fit it on the logit or log scale.

    ``holt``: ``ETSModel(error="add", trend="add", damped_trend=True)`` fitted to the series
    divided by its largest absolute value (for numerical stability); the predictive is
    :data:`HOLT_REPETITIONS` simulated paths, seeded by ``seed``. Convergence warnings, expected
    on such short series, are silenced and reported as ``params["converged"]``.
    """
    if model not in MODELS:
        raise BrandstatsError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    years, values = check_series(series)
    if years.size < MODELS[model]:
        raise InsufficientDataError(
            Note("needs_points", model=model, needed=MODELS[model], got=int(years.size))
        )
    fitter = {"drift": _fit_drift, "linear": _fit_linear, "loglinear": _fit_loglinear}
    if model == "holt":
        params, forecast = _fit_holt(years, values, seed)
    else:
        params, forecast = fitter[model](years, values)
    return ModelFit(model, int(years[-1]), int(years.size), params, forecast)


def check_series(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Check a series as every model needs it; return its years and values as arrays.

    Raises
    ------
    BrandstatsError
        Unless ``series`` is a :class:`pandas.Series` of finite numbers indexed by ascending,
        unique int years.
    """
    if not isinstance(series, pd.Series):
        raise BrandstatsError(f"expected a pandas Series, got {type(series).__name__}")
    if not pd.api.types.is_integer_dtype(series.index.dtype):
        raise BrandstatsError(f"the series must be indexed by int years, got {series.index.dtype}")
    if not series.index.is_monotonic_increasing or not series.index.is_unique:
        raise BrandstatsError("the series' years must be ascending and unique")
    values = pd.to_numeric(series).to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise BrandstatsError("the series has missing or infinite values; drop them first")
    return series.index.to_numpy(dtype=np.int64), values


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """Central interval levels, sorted and deduplicated; each strictly between 0 and 1.

    Raises
    ------
    BrandstatsError
        If ``levels`` is empty or a level is not strictly between 0 and 1.
    """
    try:
        checked = tuple(sorted({float(level) for level in levels}))
    except (TypeError, ValueError):
        checked = ()
    if not checked or not all(0 < level < 1 for level in checked):
        raise BrandstatsError(f"levels must be between 0 and 1 (exclusive), got {levels}")
    return checked


def resolution(values: ArrayLike) -> float:
    """The rounding step of published figures: 10 ** -d for the fewest decimals d (0 to
    :data:`MAX_DECIMALS`) that write every non-zero value exactly; 0 when none does (values
    that were computed, not published, such as logits) or every value is 0 (a zero, such as
    the logit of 50 %, says nothing about the rounding).

    >>> resolution([50, 50, 51]), resolution([0.856, 86.4]), resolution([1 / 3]), resolution([0])
    (1.0, 0.001, 0.0, 0.0)
    """
    values = _as_array(values)
    values = values[values != 0]
    if values.size == 0:
        return 0.0
    for decimals in range(MAX_DECIMALS + 1):
        scaled = values * 10.0**decimals
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return 10.0**-decimals
    return 0.0


def _spread_floor(values: np.ndarray) -> float:
    """The smallest residual spread claimed: the rounding error of the figures.

    A figure rounded to a step w carries a rounding error of variance w^2 / 12 (Sheppard's
    correction), so no fit is more precise than w / sqrt(12): a series flat at 50 (w = 1) gets
    sigma >= 0.29 instead of 0, and P(met) for a target of 51 is not exactly 0.
    """
    relative = _RELATIVE_SPREAD_FLOOR * (float(np.max(np.abs(values))) or 1.0)
    return max(relative, resolution(values) / np.sqrt(12.0))


def _fit_drift(years: np.ndarray, values: np.ndarray) -> tuple[dict, Callable]:
    span = float(years[-1] - years[0])
    drift = (values[-1] - values[0]) / span
    gaps = np.diff(years).astype(float)
    residuals = np.diff(values) - drift * gaps
    sigma = np.sqrt(np.sum(residuals**2 / gaps) / (gaps.size - 1))
    scale = max(sigma, _spread_floor(values))  # sigma, or the figures' rounding error
    last = values[-1]

    def forecast(h: int) -> Predictive:
        return Parametric(stats.norm, last + drift * h, scale * np.sqrt(h + h**2 / span))

    return {"drift": float(drift), "sigma": float(sigma)}, forecast


def _fit_ols(
    years: np.ndarray, values: np.ndarray, *, log: bool, floor: float
) -> tuple[dict, Callable]:
    """OLS of values on (year - last year); Student t predictive with the obs_ci scale, the
    residual sigma floored at ``floor``."""
    x = sm.add_constant((years - years[-1]).astype(float))
    result = sm.OLS(values, x).fit()
    inverse = result.normalized_cov_params  # (X'X)^-1
    df = float(result.df_resid)
    sigma2 = max(float(result.scale), floor**2)

    def forecast(h: int) -> Predictive:
        row = np.array([1.0, float(h)])
        scale = np.sqrt(sigma2 * (1.0 + row @ inverse @ row))
        return Parametric(stats.t, float(row @ result.params), scale, (df,), log)

    intercept, slope = (float(p) for p in result.params)
    params = {"intercept": intercept, "slope": slope, "sigma": float(np.sqrt(result.scale))}
    return params | {"df": df}, forecast


def _fit_linear(years: np.ndarray, values: np.ndarray) -> tuple[dict, Callable]:
    return _fit_ols(years, values, log=False, floor=_spread_floor(values))


def _fit_loglinear(years: np.ndarray, values: np.ndarray) -> tuple[dict, Callable]:
    if np.any(values <= 0):
        raise InsufficientDataError(Note("needs_positive_values"))
    # the rounding error on the log scale: d log y = dy / y, at the latest value (at most 1:
    # the linearisation means nothing beyond, and a value far below the figures' rounding
    # step would otherwise give a floor whose square overflows)
    floor = float(np.clip(_spread_floor(values) / values[-1], _RELATIVE_SPREAD_FLOOR, 1.0))
    params, forecast = _fit_ols(years, np.log(values), log=True, floor=floor)
    return params | {"growth": float(np.expm1(params["slope"]))}, forecast


def _fit_holt(years: np.ndarray, values: np.ndarray, seed: int) -> tuple[dict, Callable]:
    missing = sorted(set(range(int(years[0]), int(years[-1]) + 1)) - set(years.tolist()))
    if missing:
        raise InsufficientDataError(
            Note("needs_consecutive_years", missing=", ".join(map(str, missing)))
        )
    unit = float(np.max(np.abs(values))) or 1.0
    with warnings.catch_warnings():
        # Expected on short or flat series: the likelihood optimiser may not converge, and a
        # zero residual variance makes the log-likelihood evaluate log(0).
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        model = ETSModel(values / unit, error="add", trend="add", damped_trend=True)
        result = model.fit(disp=False)

    @functools.cache
    def forecast(h: int) -> Predictive:
        paths = result.simulate(
            nsimulations=h,
            repetitions=HOLT_REPETITIONS,
            anchor="end",
            rng=np.random.default_rng(seed),
        )
        return Sample(np.asarray(paths)[h - 1] * unit)

    alpha, beta, phi, level, trend = (float(p) for p in result.params)
    params = {
        "smoothing_level": alpha,
        "smoothing_trend": beta,
        "damping_trend": phi,
        "initial_level": level * unit,
        "initial_trend": trend * unit,
        "sigma": float(np.sqrt(result.mse)) * unit,
        "converged": bool(result.mle_retvals.get("converged", True)),
    }
    return params, forecast
