"""The outlook over time: P(met) as of each year that had data, and why it moved.

:func:`assess_vintages` assesses a target as an analyst would have in each year of its data
(:func:`brandstats.assess` with ``as_of``: the same engine, so each vintage equals what
``brandstats assess --as-of YEAR`` gives) and says, between two vintages, what changed: the new
observation against what the earlier vintage expected for that year, an earlier figure that
differs (a revision), new figures of a parent's districts, or, with the same data, the models'
re-weighting.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import memo
from .attainment import Assessment, assess, assess_group, default_region
from .errors import BrandstatsError, InsufficientDataError
from .hierarchy import regions_read
from .loading import check_vintage_basis, on_basis, release_table
from .models import check_levels
from .spec import peer_regions

__all__ = ["REWEIGHTED", "assess_vintages", "why_moved"]

REWEIGHTED = 0.15
"""A model whose weight moved by at least this much between two vintages counts as re-weighted."""


def assess_vintages(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    indicator: str,
    region: str | None = None,
    *,
    up_to: int | None = None,
    model: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    base_year: int | None = None,
    seed: int = 0,
    vintage_basis: str = "latest",
    cache: str | os.PathLike[str] | None = None,
) -> list[dict[str, Any]]:
    """The target's outlook as of each year with an observation (up to ``up_to``): of the
    region, or of one of its districts when the region is a parent assessed with them.

    Each vintage is :func:`brandstats.assess` as of its year, with the same options;
    ``vintage_basis="published"`` assesses each on the figures as published by the end of its
    year (:func:`brandstats.published_by`), a vintage for each year in which a figure of the
    region came out (a later revision included).

    Parameters
    ----------
    cache : path-like, optional
        A folder where the vintages of the whole pooling group are kept, every region and
        every year, under a name made from everything they depend on (the indicator's figures
        and targets, the options): the runs of one batch (``shared_dir``) compute them once per
        group rather than once per notebook. The same numbers either way.

    Returns
    -------
    list of dict
        In year order: ``as_of``, ``probability`` (None without one), ``probability_bound``,
        ``verdict``, ``median`` (the target-year forecast median, None without one),
        ``change`` (P(met) minus the previous vintage's, None when either has none) and
        ``why`` (None for the first; else :func:`why_moved`, or ``{"reason": "districts",
        "year", "regions", "reweighted"}`` when only a parent's districts have new figures,
        ``{"reason": "outcome", "year"}`` after the target year, the outcome unchanged).
    """
    options = {"model": model, "levels": list(check_levels(levels)), "base_year": base_year,
               "seed": seed, "vintage_basis": check_vintage_basis(vintage_basis)}  # fmt: skip
    # the indicator's rows are all that assess reads (its regions are its pooling group):
    # taken once here rather than at every vintage (the whole catalogue for an unknown
    # indicator, which assess names as such)
    group = observations.loc[observations["indicator"] == indicator]
    catalogue = targets.loc[targets["indicator"] == indicator]
    catalogue = targets if catalogue.empty else catalogue
    if region is None:
        region = default_region(group, catalogue, indicator)
    if cache is None:
        return _group_vintages(group, catalogue, indicator, [region], up_to, options)[region]

    def everyone() -> dict[str, list[dict[str, Any]]]:
        regions = peer_regions(group, catalogue, indicator)
        found = _group_vintages(group, catalogue, indicator, regions, None, options)
        return {r: v for r, v in found.items() if not isinstance(v, Exception)}

    with contextlib.suppress(OSError):  # no such folder can be made: no cache, same numbers
        Path(cache).mkdir(parents=True, exist_ok=True)
    from . import __version__

    # its name: the indicator's figures (every release), its targets, the options, the version
    rows = catalogue.loc[catalogue["indicator"] == indicator]
    name = memo.key(indicator, release_table(group), rows, json.dumps(options, sort_keys=True),
                    __version__)  # fmt: skip
    found = memo.cached(f"vintages-{name}", everyone, cache)
    if region not in found:  # not in the group (or its data failed): as without a cache
        return _group_vintages(group, catalogue, indicator, [region], up_to, options)[region]
    return [v for v in found[region] if up_to is None or v["as_of"] <= up_to]


def _group_vintages(
    group: pd.DataFrame,
    catalogue: pd.DataFrame,
    indicator: str,
    regions: Sequence[str],
    up_to: int | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """Each region's vintages (or the error that stops them), the group assessed once a year.

    A vintage of a region is :func:`brandstats.assess` of it as of the year; assessing the
    group's regions together (:func:`brandstats.attainment.assess_group`) gives each of them
    the same Assessment, as each is assessed within the whole group either way.
    """
    basis = options["vintage_basis"]
    kwargs = {k: v for k, v in options.items() if k != "vintage_basis"}
    years_of, news_of = {}, {}
    for region in regions:
        rows = group.loc[group["region"].isin(regions_read(catalogue, indicator, region))]
        # a vintage per year with a new figure: its year (latest), or the year it came out
        # (published: a revision that came out later makes a vintage of its own)
        table = rows if basis == "latest" else release_table(rows)
        found = (table["year"] if basis == "latest" else table["_released"]).astype(int)
        if up_to is not None:
            table, found = table.loc[found <= up_to], found.loc[found <= up_to]
        years_of[region] = sorted(set(found))
        # the districts with a new figure in each year (a parent assessed with its districts)
        news_of[region] = {
            year: sorted(set(table.loc[found == year, "region"]) - {region})
            for year in years_of[region]
        }
    assessed: dict[tuple[str, int], Assessment | Exception] = {}
    for year in sorted({y for years in years_of.values() for y in years}):
        view = on_basis(group, year, basis)
        wanted = [r for r in regions if year in years_of[r]]
        peers = set(peer_regions(view, catalogue, indicator))
        together = [r for r in wanted if r in peers]
        outcomes = assess_group(view, catalogue, indicator, together, as_of=year, **kwargs)
        for region in wanted:
            if region in peers:
                assessed[region, year] = outcomes[region]
                continue
            try:  # outside the group: assessed on its own, as assess does
                assessed[region, year] = assess(view, catalogue, indicator, region,
                                                as_of=year, **kwargs)  # fmt: skip
            except BrandstatsError as exc:
                assessed[region, year] = exc
    out: dict[str, Any] = {}
    for region in regions:
        try:
            out[region] = _vintages(
                [(y, assessed[region, y]) for y in years_of[region]], news_of[region]
            )
        except BrandstatsError as exc:
            out[region] = exc
    return out


def _vintages(
    assessed: Sequence[tuple[int, Assessment | Exception]], districts: dict[int, list[str]]
) -> list[dict[str, Any]]:
    """The vintage records of one region, from its Assessment (or error) of each year: a year
    without data (InsufficientDataError) is left out; another error is raised. ``districts``
    names, for each year, the districts whose new figures a parent's assessment read."""
    out: list[dict[str, Any]] = []
    before: Assessment | None = None
    for year, now in assessed:
        if isinstance(now, InsufficientDataError):
            continue
        if isinstance(now, Exception):
            raise now
        median = now.interval()[1] if now.probability is not None else None
        change = None
        if before is not None and None not in (before.probability, now.probability):
            change = now.probability - before.probability
        out.append(
            {
                "as_of": year,
                "probability": now.probability,
                "probability_bound": now.probability_bound,
                "verdict": now.verdict,
                "median": median,
                "change": change,
                "why": None if before is None else _why(before, now, year, districts),
            }
        )
        before = now
    return out


def _why(
    before: Assessment, now: Assessment, year: int, districts: dict[int, list[str]]
) -> dict[str, Any]:
    """:func:`why_moved`, where the same own data with new figures of its districts (a
    parent's vintage, ``year``) is ``"districts"`` (``year``, ``regions``), not a
    re-weighting."""
    why = why_moved(before, now)
    if why["reason"] == "reweighting" and districts.get(year):
        return {"reason": "districts", "year": year, "regions": districts[year],
                "reweighted": why["reweighted"]}  # fmt: skip
    return why


def why_moved(before: Assessment, now: Assessment) -> dict[str, Any]:
    """What differs between two vintages of one target, as a code and its numbers.

    ``reason`` is ``"new_observation"`` (``year``, ``value``, ``expected``: the earlier
    vintage's median forecast for that year, ``direction``: ``"above"``, ``"below"`` or
    ``"as expected"``), ``"revision"`` (``year``, ``old``, ``new``: an earlier figure that
    changed), ``"outcome"`` (``year``: ``now``'s ``as_of``; both after the target year, the
    same outcome: a figure after it is not read) or ``"reweighting"`` (the same data, weights
    moved). ``reweighted`` lists the models whose weight moved by :data:`REWEIGHTED` or more;
    ``qualifier`` (``lower_bound`` or ``upper_bound``) says when the figure is a bound ("at
    least 5,700").
    """
    old = before.history.set_index("year")["value"]
    new = now.history.set_index("year")["value"]
    qualifiers = now.history.set_index("year")["qualifier"]

    def bound(year: int) -> dict[str, str]:  # "at least 3,499", "rank 11 or lower"
        found = qualifiers.get(year)
        return {"qualifier": found} if found in ("lower_bound", "upper_bound") else {}

    weights = {}
    for result, name in ((before, "before"), (now, "now")):
        table = result.backtest
        if "weight" in table:
            weights[name] = dict(zip(table["model"], table["weight"], strict=True))
    moved = sorted(
        m
        for m in set(weights.get("before", {})) & set(weights.get("now", {}))
        if abs(weights["now"][m] - weights["before"][m]) >= REWEIGHTED
    )
    revised = [int(y) for y in old.index.intersection(new.index) if old[y] != new[y]]
    if revised:
        year = revised[0]
        return {"reason": "revision", "year": year, "old": float(old[year]),
                "new": float(new[year]), "reweighted": moved, **bound(year)}  # fmt: skip
    added = [int(y) for y in new.index.difference(old.index)]
    if not added and before.verdict == now.verdict and now.verdict in ("met", "not met"):
        return {"reason": "outcome", "year": now.as_of, "reweighted": []}
    if not added:
        return {"reason": "reweighting", "reweighted": moved}
    year = added[-1]
    value = float(new[year])
    rows = before.forecast.loc[
        (before.forecast["model"] == before.model) & (before.forecast["year"] == year)
    ]
    expected = float(rows["median"].iloc[0]) if len(rows) else None
    direction = None
    if expected is not None:
        tolerance = 1e-9 * max(abs(expected), 1.0)
        direction = (
            "above" if value > expected + tolerance
            else "below" if value < expected - tolerance
            else "as expected"
        )  # fmt: skip
    return {"reason": "new_observation", "year": year, "value": value, "expected": expected,
            "direction": direction, "reweighted": moved, **bound(year)}  # fmt: skip
