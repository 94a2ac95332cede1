"""The league table of a decomposed target (考核): each parent's districts ranked by P(met).

A view: it ranks what the engine already said (P(met), the verdict) and adds the figures a
district evaluation reads beside them: the sub-target, the latest value, the completion rate
(完成率: latest / target), the share of the plan period elapsed and the growth still
required. It computes no probability of its own.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["LEAGUE_COLUMNS", "has_parent", "league_table", "rank_in_parent"]

LEAGUE_COLUMNS = [
    "indicator", "parent", "region", "rank_in_parent", "of", "probability", "verdict",
    "target", "comparison", "unit", "target_year", "last_value", "last_year", "completion",
    "elapsed", "still_required_growth", "progress_kind", "as_of", "name_en", "name_zh",
    "run_name", "illustrative",
]  # fmt: skip
"""``completion``: latest / target for an "at least" target, target / latest for an "at
most" one (1 or more: the latest figure meets it; none for ranks); ``elapsed``: the share of
the plan period (base year to target year) behind the latest figure."""

_SETTLED = {"met": 1.0, "already met": 1.0, "not met": 0.0}


def _standing(row: pd.Series) -> float:
    """What a region is ranked by: P(met), an outcome as 1 or 0, no probability last."""
    if row.get("verdict") in _SETTLED:
        return _SETTLED[row["verdict"]]
    p = row.get("probability")
    return -1.0 if p is None or pd.isna(p) else float(p)


def has_parent(table: pd.DataFrame) -> pd.Series:
    """Per row: whether it is a district's sub-target (it names a ``parent``)."""
    if "parent" not in table:
        return pd.Series(False, index=table.index)
    return table["parent"].fillna("").astype(str) != ""


def rank_in_parent(table: pd.DataFrame) -> pd.Series:
    """Each region's rank among the regions with the same parent, indicator and vintage.

    Ranked by P(met) (a target met counts as 1, one not met as 0, no probability last); equal
    standings share a rank (1, 2, 2, 4). Regions without a parent get no rank (NA).
    """
    if table.empty or "parent" not in table:
        return pd.Series(pd.NA, index=table.index, dtype="Int64")
    standing = table.apply(_standing, axis=1)
    keys = [table["indicator"], table["parent"].fillna(""), table["as_of"].fillna(-1)]
    ranks = standing.groupby(keys).rank(method="min", ascending=False)
    return ranks.where(has_parent(table)).astype("Int64")


def _completion(r: pd.Series) -> float:
    last, target = r.get("last_value"), r.get("target")
    if r.get("unit") == "rank" or any(v is None or pd.isna(v) for v in (last, target)):
        return math.nan
    if r.get("comparison") in (">", ">="):
        return float(last) / float(target) if target > 0 else math.nan
    return float(target) / float(last) if last > 0 else math.nan


def _elapsed(r: pd.Series) -> float:
    base, last, year = r.get("base_year"), r.get("last_year"), r.get("target_year")
    if any(v is None or pd.isna(v) for v in (base, last, year)) or year <= base:
        return math.nan
    return float(np.clip((last - base) / (year - base), 0.0, 1.0))


def league_table(table: pd.DataFrame) -> pd.DataFrame:
    """The league table of every parent with districts in a results table.

    Parameters
    ----------
    table : pandas.DataFrame
        Results with the scorecard's columns (:func:`brandstats.results.read_results`) or
        :func:`brandstats.assess_all`'s, and ``parent``.

    Returns
    -------
    pandas.DataFrame
        :data:`LEAGUE_COLUMNS`: per indicator, vintage and parent, the parent first, then its
        districts by rank, equal ranks by name. Empty when no region has a parent.
    """
    if table.empty or not has_parent(table).any():
        return pd.DataFrame(columns=LEAGUE_COLUMNS)
    work = table.assign(
        parent=table["parent"].fillna("").astype(str),
        rank_in_parent=rank_in_parent(table),
        completion=table.apply(_completion, axis=1),
        elapsed=table.apply(_elapsed, axis=1),
    )
    work["of"] = work.groupby(["indicator", "parent", work["as_of"].fillna(-1)])[
        "region"
    ].transform("size")
    blocks = []
    for _, rows in work.groupby(["indicator", work["as_of"].fillna(-1)], sort=False):
        for parent in dict.fromkeys(p for p in rows["parent"] if p):
            head = rows.loc[(rows["region"] == parent)].assign(of=pd.NA)
            kids = rows.loc[rows["parent"] == parent].sort_values(
                ["rank_in_parent", "region"], na_position="last"
            )
            blocks += [head, kids]
    out = pd.concat(blocks, ignore_index=True) if blocks else work.iloc[:0]
    return out.reindex(columns=LEAGUE_COLUMNS)
