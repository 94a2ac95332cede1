"""Targets decomposed over a region tree (责任分解): districts, their city, and coherent P(met).

A targets file with a ``parent`` column makes a tree ({region: parent},
:func:`brandstats.loading.region_tree`). Then:

- districts (the children of one parent) are calibrated together: they are one pooling group
  (:func:`tree_outlooks`), and the parent with its own siblings;
- a parent's outlook for a unit that adds up (counts, yuan) is the distribution of the sum
  of its children's predictive distributions; for percentages and other units that do not
  add up, the weighted mean when every child has a ``weight`` (population, firms); ranks are
  never aggregated. The children's forecasts are joined through a Gaussian copula whose
  exchangeable correlation is estimated from their backtest errors at shared origins
  (:func:`dependence`); too few shared cases leave them independent, and the note says so;
- a parent with its own series is also projected on it; both are reported, and the
  aggregate is its P(met) (the one a district evaluation adds up to).

hierarchicalforecast's summing matrix S (parent = sum of children) and its sample-based
probabilistic reconciliation are the reference; what it does not do and this module does:
forecasts bounded by the unit (every draw of a child lies in its support, and a cumulative
child never falls), targets and P(met) at every level, and weighted means for shares.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .engine import Outlook, Problem, outlooks, p_met
from .errors import BrandstatsError, InsufficientDataError
from .loading import ancestors, region_tree
from .models import Sample
from .notes import Note
from .spec import MAX_ABS, target_spec

__all__ = [
    "ADDITIVE_UNITS",
    "aggregation",
    "combine",
    "dependence",
    "regions_read",
    "summed_series",
    "tree_findings",
    "tree_of",
    "tree_outlooks",
]

ADDITIVE_UNITS = frozenset({"count", "yuan"})
"""Units whose regional figures add up to the parent's (firms, brands, yuan)."""

DRAWS = 20_000
"""Joint draws of the children's forecasts; the Monte Carlo error of a P(met) is at most
0.5 / sqrt(DRAWS) = 0.0035."""

MIN_SHARED_CASES = 5
"""Fewest backtest cases shared by two children (same origin and year, summed over the pairs)
from which their dependence is estimated; with fewer they are taken as independent."""

MAX_CORRELATION = 0.95

_GRID_MASS = 0.01  # most probability one step of _quantiles' grid may hold (a normal: 0.0012)
_GRID_CUTS = 16  # pieces a step holding more is cut into
_GRID_ROUNDS = 6  # times at most (16**6: a step of 4,000 becomes one of 0.0002)

FIGURE_TOLERANCE = 0.005
"""A parent's own figure may differ from its districts' sum by this share (rounding) before
``validate`` warns."""


def tree_of(
    targets: pd.DataFrame, indicator: str
) -> tuple[dict[str, str], dict[str, list[str]], dict[str, float]]:
    """The region tree of one indicator's targets: {region: parent}, {parent: its children}
    and {region: weight} (NaN when not given)."""
    rows = targets.loc[(targets["indicator"] == indicator) & targets["target"].notna()]
    tree = {r: p for r, p in region_tree(rows).items() if p}
    children: dict[str, list[str]] = {}
    for region, parent in tree.items():
        children.setdefault(parent, []).append(region)
    given = rows["weight"] if "weight" in rows else pd.Series(np.nan, index=rows.index)
    return tree, children, dict(zip(rows["region"], given, strict=True))


def regions_read(targets: pd.DataFrame, indicator: str, region: str) -> list[str]:
    """The regions whose figures ``region``'s assessment reads: its own and, for a parent
    assessed with its districts (their sum or weighted mean, see :func:`aggregation`), theirs,
    and so on down the tree. A district's new figure is news for its parent too."""
    _, children, weights = tree_of(targets, indicator)
    found, todo = [region], [region]
    while todo:
        parent = todo.pop()
        kids = children.get(parent, [])
        if not kids:
            continue
        try:
            unit = target_spec(targets, indicator, parent).unit
        except BrandstatsError:  # no target of its own: assess says why
            continue
        if aggregation(unit, [weights.get(k, math.nan) for k in kids])[0] is not None:
            found += kids
            todo += kids
    return found


def aggregation(unit: str, weights: Sequence[float]) -> tuple[str | None, Note | None]:
    """How a parent's value follows from its children's: ``"sum"``, ``"weighted mean"`` or
    None, with the note that says why not."""
    if unit in ADDITIVE_UNITS:
        return "sum", None
    if unit == "rank":
        return None, Note("no_aggregate_rank")
    if weights and all(math.isfinite(w) and w > 0 for w in weights):
        return "weighted mean", None
    return None, Note("no_aggregate_weights", unit=unit)


def summed_series(
    children: Sequence[Problem], weights: Sequence[float], basis: str
) -> tuple[pd.Series, pd.Series]:
    """The parent's series from its children's, in the years all of them observed: the sum or
    the weighted mean, with the qualifier ``illustrative`` where any child's figure is.

    Raises
    ------
    InsufficientDataError
        When the children share no observed year.
    """
    frame = pd.concat([c.series for c in children], axis=1, join="inner")
    if frame.empty:
        raise InsufficientDataError(Note("no_common_year", regions=len(children)))
    w = np.asarray(weights, dtype=float) if basis == "weighted mean" else np.ones(len(children))
    values = frame.to_numpy() @ w / (w.sum() if basis == "weighted mean" else 1.0)
    quals = pd.concat([c.qualifiers for c in children], axis=1).reindex(frame.index)
    illustrative = (quals == "illustrative").any(axis=1)
    qualifiers = pd.Series(np.where(illustrative, "illustrative", "reported"), index=frame.index)
    return pd.Series(values, index=frame.index), qualifiers


def dependence(cases: Sequence[pd.DataFrame | None]) -> tuple[float, int]:
    """The children's exchangeable correlation, from their backtest errors at shared origins.

    Each backtest case's PIT u (the predictive cdf at the actual value) is read as a normal
    score z = Phi^-1(u); for every pair of children and every (origin, year) both have, the
    products z_i z_j are pooled: rho = sum z_i z_j / sqrt(sum z_i^2 sum z_j^2). One
    correlation for all pairs keeps the matrix valid with a handful of cases (a full matrix of
    pairwise estimates from 2-5 cases each need not be positive definite). Written here because
    neither statsmodels nor scipy estimates a correlation from pairs with missing cases.

    Returns
    -------
    (float, int)
        rho in [0, MAX_CORRELATION] and the number of shared cases; (0, n) when n is below
        :data:`MIN_SHARED_CASES`. A negative estimate is read as 0: a few cases cannot tell
        a real negative dependence from noise, and independence is the wider of the two.
    """
    scores = []
    for frame in cases:
        if frame is None or frame.empty:
            scores.append(None)
            continue
        z = stats.norm.ppf(np.clip(frame["pit"].to_numpy(dtype=float), 1e-4, 1 - 1e-4))
        scores.append(pd.Series(z, index=pd.MultiIndex.from_frame(frame[["origin", "year"]])))
    products = squares_i = squares_j = 0.0
    shared = 0
    for i, zi in enumerate(scores):
        for zj in scores[i + 1 :]:
            if zi is None or zj is None:
                continue
            both = pd.concat([zi, zj], axis=1, join="inner").dropna().to_numpy()
            shared += len(both)
            products += float(both[:, 0] @ both[:, 1])
            squares_i += float(both[:, 0] @ both[:, 0])
            squares_j += float(both[:, 1] @ both[:, 1])
    if shared < MIN_SHARED_CASES or squares_i == 0 or squares_j == 0:
        return 0.0, shared
    rho = products / math.sqrt(squares_i * squares_j)
    return float(np.clip(rho, 0.0, MAX_CORRELATION)), shared


def _quantiles(predictive: Any, u: np.ndarray) -> np.ndarray:
    """``predictive.ppf(u)`` for many u at once: the cdf on a grid, inverted by interpolation.

    A mixture's ppf solves one root per value; 20,000 draws would take seconds. The grid is
    dense between the 0.1 % and 99.9 % quantiles and coarser in the tails; a jump in the cdf
    (a censored bound, a known value) is kept, as np.interp returns its edge. Where one step
    of the grid holds more than :data:`_GRID_MASS` of the probability (a heavy tail stretches
    the grid: a district whose 99.9 % quantile was millions of firms, its median 600, drew
    multiples of 4,000), the step is cut in :data:`_GRID_CUTS` until none does, or
    :data:`_GRID_ROUNDS` times (a jump always holds its mass).
    """
    with np.errstate(over="ignore"):  # far tails overflow to a cdf of 0 or 1, as they should
        edges = np.asarray(predictive.ppf([1e-6, 1e-3, 0.5, 1 - 1e-3, 1 - 1e-6]), dtype=float)
    # a log-t tail reaches past any real figure: kept within MAX_ABS, so that sums stay finite
    edges = np.clip(np.nan_to_num(edges, posinf=MAX_ABS, neginf=-MAX_ABS), -MAX_ABS, MAX_ABS)
    if edges[0] == edges[-1]:
        return np.full(u.shape, edges[0])
    grid = np.unique(np.concatenate([
        np.linspace(edges[0], edges[1], 200),
        np.linspace(edges[1], edges[3], 2000),
        np.linspace(edges[3], edges[4], 200),
    ]))  # fmt: skip

    def cdf_at(x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.asarray(predictive.cdf(x), dtype=float)

    cdf = np.maximum.accumulate(cdf_at(grid))
    for _ in range(_GRID_ROUNDS):
        coarse = np.flatnonzero(np.diff(cdf) > _GRID_MASS)
        if not coarse.size:
            break
        steps = np.diff(grid)[coarse, None] * np.linspace(0, 1, _GRID_CUTS + 1)[1:-1]
        cuts = (grid[coarse, None] + steps).ravel()  # inside the steps: no point twice
        order = np.argsort(np.concatenate([grid, cuts]), kind="stable")
        grid = np.concatenate([grid, cuts])[order]
        cdf = np.maximum.accumulate(np.concatenate([cdf, cdf_at(cuts)])[order])
    return np.interp(u, cdf, grid)


def combine(
    paths: Sequence[Mapping[int, Any]],
    weights: Sequence[float],
    *,
    rho: float,
    seed: int,
    mean: bool = False,
) -> dict[int, Sample]:
    """The distribution of the children's (weighted) sum in every year they all forecast.

    Parameters
    ----------
    paths : sequence of {year: Predictive}
        Each child's predictive distribution per year.
    weights : sequence of float
        1 for a sum; the children's weights for a weighted mean.
    rho : float
        The exchangeable correlation of the Gaussian copula joining them (0: independent).
    seed : int
        The seed of the draws (the same draws in every year, so a path stays one path).
    mean : bool
        Divide by the sum of the weights (a weighted mean).
    """
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(DRAWS)
    own = rng.standard_normal((len(paths), DRAWS))
    u = stats.norm.cdf(math.sqrt(rho) * common + math.sqrt(1 - rho) * own)
    w = np.asarray(weights, dtype=float)
    years = sorted(set.intersection(*(set(p) for p in paths)))
    out = {}
    for year in years:
        total = sum(w[i] * _quantiles(p[year], u[i]) for i, p in enumerate(paths))
        out[year] = Sample(total / w.sum() if mean else total)
    return out


def _aggregate(
    problem: Problem,
    children: Mapping[Hashable, Outlook],
    paths: Mapping[Hashable, Mapping[int, Any]],
    weights: Sequence[float],
    basis: str,
    own: Outlook | None,
    *,
    levels: tuple[float, ...],
    seed: int,
    model: str,
    illustrative: bool,
) -> Outlook:
    """The parent's outlook from its children's forecasts (see the module's docstring)."""
    spec = problem.spec
    rho, shared = dependence([c.cases for c in children.values()])
    mean = basis == "weighted mean"
    joint = combine(list(paths.values()), weights, rho=rho, seed=seed, mean=mean)
    if spec.target_year not in joint:
        raise InsufficientDataError(Note("no_common_year", regions=len(children)))
    predictive = joint[spec.target_year]
    tail = max(c.floor for c in children.values())
    probability = p_met(problem, predictive, tail)
    bounds = [q for lv in levels for q in ((1 - lv) / 2, (1 + lv) / 2)]
    names = [f"{side}_{round(100 * lv)}" for lv in levels for side in ("lower", "upper")]
    # the point is the median: a sum's mean is ruled by the far tails of log-scale forecasts
    frame = pd.DataFrame([
        {"year": year, "model": model, "point": float(d.ppf(0.5)), "median": float(d.ppf(0.5)),
         **dict(zip(names, np.atleast_1d(d.ppf(bounds)), strict=True))}
        for year, d in joint.items() if year > problem.last_year
    ])  # fmt: skip
    median = float(predictive.ppf(0.5))
    info = {
        "basis": basis,
        "children": [str(k) for k in children],
        "dependence": rho,
        "shared_cases": shared,
        "median": median,
        "sum_of_medians": float(sum(float(p[spec.target_year].ppf(0.5)) for p in paths.values()))
        if basis == "sum"
        else None,
        "illustrative": illustrative,
        "own_probability": None if own is None else own.probability,
        "own_median": None if own is None else own.median,
    }
    note = Note(
        "aggregate_dependent" if shared >= MIN_SHARED_CASES else "aggregate_independent",
        basis=Note("basis_sum" if basis == "sum" else "basis_weighted_mean"),
        regions=len(children), rho=rho, cases=shared,
    )  # fmt: skip
    return Outlook(
        probability=probability,
        median=median,
        notes=(note,),
        forecast=frame,
        floor=0.0 if spec.settled_by(problem.last_value) else tail,
        predictive=predictive,
        path=joint,
        aggregate=info,
    )


def tree_outlooks(
    problems: Mapping[str, Problem],
    tree: Mapping[str, str],
    *,
    children: Mapping[str, Sequence[str]],
    weights: Mapping[str, float],
    derived: Collection[str] = (),
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    seed: int = 0,
    reference: Any = None,
) -> dict[str, Outlook]:
    """The outlooks of one indicator's regions over a region tree.

    Siblings (the children of one parent) are one pooling group of
    :func:`brandstats.engine.outlooks`; then, from the deepest level up, a parent whose
    children all have a forecast gets the outlook of their sum (or weighted mean), its own
    series' outlook kept in ``aggregate["own_probability"]``. Without a tree this is
    :func:`~brandstats.engine.outlooks` over all the regions.

    Parameters
    ----------
    problems : mapping of region to Problem
    tree : mapping of region to parent
    children : mapping of region to its children with a target (all of them, assessable or not)
    weights : mapping of region to weight (NaN when not given)
    derived : collection of str
        Parents without a series of their own, whose ``problems`` series is their children's
        (:func:`summed_series`): they have no outlook but the aggregate.
    model, levels, seed, reference
        As for :func:`brandstats.engine.outlooks`.
    """
    levels = tuple(levels)
    groups: dict[str, list[str]] = {}
    for key in problems:
        if key not in derived:
            groups.setdefault(tree.get(key, ""), []).append(key)
    out: dict[str, Outlook] = {}
    for keys in groups.values():
        out |= outlooks(
            {k: problems[k] for k in keys}, model=model, levels=levels, seed=seed,
            reference=reference,
        )  # fmt: skip
    for parent in sorted(problems, key=lambda r: -len(ancestors(r, tree))):
        kids = list(children.get(parent, ()))
        problem = problems[parent]
        if not kids or not problem.projectable:
            if parent in derived:  # its districts' sum observed in the target year: an outcome
                out[parent] = Outlook(
                    reason=Note("target_year_observed", year=problem.spec.target_year)
                )
            continue
        own = None if parent in derived else out[parent]
        paths = {k: _path(problems[k], out[k]) for k in kids if k in out}
        basis, why = aggregation(problem.spec.unit, [weights.get(k, math.nan) for k in kids])
        missing = [k for k in kids if not paths.get(k)]
        if basis is None or missing:
            note = why or Note("no_aggregate_missing", regions=", ".join(map(str, missing)))
            base = own or Outlook(reason=note)
            out[parent] = replace(base, notes=(*base.notes, note))
            continue
        w = [1.0] * len(kids) if basis == "sum" else [weights[k] for k in kids]
        out[parent] = _aggregate(
            problem, {k: out[k] for k in kids}, {k: paths[k] for k in kids}, w, basis, own,
            levels=levels, seed=seed, model=model,
            illustrative=any((problems[k].seen_qualifiers == "illustrative").any() for k in kids),
        )  # fmt: skip
    return {key: out[key] for key in problems}


def _path(problem: Problem, outlook: Outlook) -> Mapping[int, Any]:
    """A child's predictive per year; its observed value when its target year is observed."""
    if outlook.path:
        return outlook.path
    year = problem.spec.target_year
    if not problem.projectable and year in problem.series.index:
        return {year: Sample([float(problem.series.loc[year])])}
    return {}


def tree_findings(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    quantity: Callable[[float, str], str] = lambda v, unit: f"{v:,.6g}",
) -> list[tuple[str, str]]:
    """What ``brandstats validate`` says about a region tree, for the units that add up.

    - districts' targets against their parent's (over-allocation, the districts' targets
      adding up to more than the parent's, is common and allowed; less is worth a look);
    - districts' figures against the parent's own figure for the same year, when the parent
      and all its districts with a target have one (a gap beyond :data:`FIGURE_TOLERANCE`).

    ``quantity(value, unit)`` words a figure. Returns ``(kind, sentence)`` per finding,
    kind ``"note"`` (targets) or ``"warning"`` (figures).
    """
    found: list[tuple[str, str]] = []
    with_target = targets.loc[targets["target"].notna()]
    for indicator, rows in with_target.groupby("indicator", sort=False):
        unit = str(rows["unit"].iloc[0])
        if unit not in ADDITIVE_UNITS:
            continue
        goal = rows.set_index("region")
        _, kids, _ = tree_of(targets, str(indicator))
        data = observations.loc[observations["indicator"] == indicator]
        wide = data.pivot_table(index="year", columns="region", values="value", aggfunc="first")
        for parent, names in kids.items():
            if parent in goal.index:
                total = float(goal.loc[names, "target"].sum())
                own = float(goal.loc[parent, "target"])
                if not math.isclose(total, own, rel_tol=1e-9):
                    more = total > own
                    found.append(("note",
                        f"{indicator}: the targets of {parent}'s {len(names)} districts add up to "
                        f"{quantity(total, unit)}, {'more' if more else 'less'} than {parent}'s "
                        f"{quantity(own, unit)}"
                        + (" (over-allocation: common and allowed)" if more else
                           f": the districts meeting theirs would leave {parent} short"),
                    ))  # fmt: skip
            if parent not in wide or not all(n in wide for n in names):
                continue
            gaps = []
            for year, row in wide[[parent, *names]].dropna().iterrows():
                total, own = float(row[names].sum()), float(row[parent])
                if abs(own - total) > FIGURE_TOLERANCE * abs(own):
                    gaps.append(
                        f"{indicator} {year}: {parent}'s own figure {quantity(own, unit)} "
                        f"differs from its districts' sum {quantity(total, unit)} by "
                        f"{quantity(own - total, unit)} ({(own - total) / own:+.1%})"
                    )
            if len(gaps) > 3:  # the latest three, and how many more
                gaps = [*gaps[-3:-1], gaps[-1] + f"; and {len(gaps) - 3} earlier years"]
            found += [("warning", gap) for gap in gaps]
    return found
