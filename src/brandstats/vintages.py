"""The outlook over time: P(met) as of each year that had data, and why it moved.

:func:`assess_vintages` assesses a target as an analyst would have in each year of its data
(:func:`brandstats.assess` with ``as_of``: the same engine, so each vintage equals what
``brandstats assess --as-of YEAR`` gives) and says, between two vintages, what changed: the new
observation against what the earlier vintage expected for that year, an earlier figure that
differs (a revision), or, with the same data, the models' re-weighting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .attainment import Assessment, assess
from .errors import InsufficientDataError
from .loading import check_vintage_basis, release_table

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
) -> list[dict[str, Any]]:
    """The target's outlook as of each year with an observation (up to ``up_to``).

    Each vintage is :func:`brandstats.assess` as of its year, with the same options;
    ``vintage_basis="published"`` assesses each on the figures as published by the end of its
    year (:func:`brandstats.published_by`), a vintage for each year in which a figure of the
    region came out (a later revision included).

    Returns
    -------
    list of dict
        In year order: ``as_of``, ``probability`` (None without one), ``probability_bound``,
        ``verdict``, ``median`` (the target-year forecast median, None without one),
        ``change`` (P(met) minus the previous vintage's, None when either has none) and
        ``why`` (None for the first; else :func:`why_moved`).
    """
    # the indicator's rows are all that assess reads (its regions are its pooling group):
    # filtered once here rather than at every vintage (the whole catalogue for an unknown
    # indicator, which assess names as such)
    group = observations.loc[observations["indicator"] == indicator]
    catalogue = targets.loc[targets["indicator"] == indicator]
    catalogue = targets if catalogue.empty else catalogue
    rows = group if region is None else group.loc[group["region"] == region]
    # a vintage per year with a new figure: its year (latest), or the year it came out
    # (published: a revision that came out later makes a vintage of its own)
    column = "year" if check_vintage_basis(vintage_basis) == "latest" else "_released"
    found = rows if column == "year" else release_table(rows)
    years = sorted({int(y) for y in found[column] if up_to is None or int(y) <= up_to})
    out: list[dict[str, Any]] = []
    before: Assessment | None = None
    for year in years:
        try:
            now = assess(
                group, catalogue, indicator, region, as_of=year, model=model,
                levels=levels, base_year=base_year, seed=seed, vintage_basis=vintage_basis,
            )  # fmt: skip
        except InsufficientDataError:
            continue
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
                "why": None if before is None else why_moved(before, now),
            }
        )
        before = now
    return out


def why_moved(before: Assessment, now: Assessment) -> dict[str, Any]:
    """What differs between two vintages of one target, as a code and its numbers.

    ``reason`` is ``"new_observation"`` (``year``, ``value``, ``expected``: the earlier
    vintage's median forecast for that year, ``direction``: ``"above"``, ``"below"`` or
    ``"as expected"``), ``"revision"`` (``year``, ``old``, ``new``: an earlier figure that
    changed) or ``"reweighting"`` (the same data, weights moved). ``reweighted`` lists the
    models whose weight moved by :data:`REWEIGHTED` or more.
    """
    old = before.history.set_index("year")["value"]
    new = now.history.set_index("year")["value"]
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
                "new": float(new[year]), "reweighted": moved}  # fmt: skip
    added = [int(y) for y in new.index.difference(old.index)]
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
            "direction": direction, "reweighted": moved}  # fmt: skip
