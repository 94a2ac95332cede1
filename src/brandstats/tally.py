"""The plan as a whole: how many targets will be met, and how sure we are.

From the targets' P(met) (one row per target, its latest vintage), :func:`targets_met` gives the
distribution of the number of targets met: the targets already settled count as they are (met
or not), each other target with a probability is a Bernoulli trial, and under independence the
count is Poisson-binomial (:class:`scipy.stats.poisson_binom`). Targets share shocks (one
economy, one survey, one statistics bureau), so it also shows how the 80 % interval widens when
the targets' outcomes share a common factor: a one-factor Gaussian copula with correlation
:data:`SHARED_SHOCK` between their latent outcomes, each target keeping its own P(met).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .league import has_parent

__all__ = ["SHARED_SHOCK", "targets_met", "verdict_counts"]

SHARED_SHOCK = 0.5
"""The correlation of the targets' latent outcomes in the shared-shock variant."""

MET = ("met", "already met")
NOT_MET = ("not met",)
_DRAWS = 20_000


def _latest(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (indicator, region): the latest vintage (all data when ``as_of`` is empty).

    A district's sub-target (a row with a ``parent``, :mod:`brandstats.hierarchy`) is not a
    target of the plan: its parent's row counts, and the districts are in the league table."""
    table = table.loc[~has_parent(table)]
    if table.empty:
        return table
    vintage = pd.to_numeric(table["as_of"], errors="coerce").fillna(np.inf)
    latest = table.assign(_vintage=vintage).sort_values("_vintage", kind="stable")
    keep = latest.groupby(["indicator", "region"], sort=False).tail(1).index
    return table.loc[sorted(keep)]  # in the table's order


def _key(row: Any) -> str:
    return f"{row['indicator']}" + (f" ({row['region']})" if row.get("region") else "")


def targets_met(
    table: pd.DataFrame, *, headline: Sequence[str] = (), level: float = 0.8, seed: int = 0
) -> dict[str, Any]:
    """The distribution of the number of targets met.

    Parameters
    ----------
    table : pandas.DataFrame
        The scorecard (:func:`brandstats.results.read_results`): indicator, region, as_of,
        probability, verdict. Only each target's latest vintage counts.
    headline : sequence of str
        Indicator ids whose joint attainment is reported (``both_headline``).
    level : float
        Central level of the interval of the count.
    seed : int
        Seed of the shared-shock simulation.

    Returns
    -------
    dict
        ``targets`` (how many), ``met`` (ids settled as met), ``not_met``, ``assessed`` (ids
        with a probability), ``unassessed`` (ids without one), ``expected`` (targets already
        met + the sum of the assessed P(met)), ``distribution`` (P of 0, 1 ... targets met, up
        to every target with an outcome or a probability), ``interval`` (the central
        ``level`` interval, two counts), ``level``,
        ``both_headline`` (P that every headline target is met, under independence; None
        without a headline target with a probability or already met), ``headline``,
        ``shared_shock`` (the correlation), ``interval_shared`` (the interval with it) and
        ``illustrative`` (the counted targets whose figures are made up).
    """
    rows = _latest(table).to_dict("records")
    met = [_key(r) for r in rows if r.get("verdict") in MET]
    not_met = [_key(r) for r in rows if r.get("verdict") in NOT_MET]
    open_rows = [r for r in rows if r.get("verdict") not in (*MET, *NOT_MET)]
    assessed = [r for r in open_rows if not pd.isna(r.get("probability"))]
    unassessed = [_key(r) for r in open_rows if pd.isna(r.get("probability"))]
    p = np.array([float(r["probability"]) for r in assessed])
    # 0 .. every target with an outcome or a probability (the not-met ones add nothing)
    pmf = np.zeros(len(met) + len(not_met) + len(p) + 1)
    pmf[len(met) : len(met) + len(p) + 1] = (
        stats.poisson_binom(p).pmf(np.arange(len(p) + 1)) if len(p) else [1.0]
    )
    tail = (1 - level) / 2
    cdf = np.cumsum(pmf)
    interval = [
        int(np.searchsorted(cdf, tail - 1e-12)),
        int(np.searchsorted(cdf, 1 - tail - 1e-12)),
    ]
    shared = _shared_interval(p, len(met), tail, seed)
    chance = {_key(r): float(r["probability"]) for r in assessed}
    chance |= dict.fromkeys(met, 1.0) | dict.fromkeys(not_met, 0.0)
    heads = [k for k in chance if k.split(" (")[0] in set(headline)]
    counted = [r for r in rows if r.get("verdict") in (*MET, *NOT_MET) or r in assessed]
    made_up = [_key(r) for r in counted if r.get("data") == "illustrative" or (
        r.get("illustrative") is True)]  # fmt: skip
    return {
        "targets": len(rows),
        "met": met,
        "not_met": not_met,
        "assessed": [_key(r) for r in assessed],
        "unassessed": unassessed,
        "expected": float(len(met) + p.sum()),
        "distribution": [float(x) for x in pmf],
        "interval": interval,
        "level": level,
        "headline": heads,
        "both_headline": float(np.prod([chance[k] for k in heads])) if heads else None,
        "shared_shock": SHARED_SHOCK,
        "interval_shared": shared,
        "illustrative": made_up,
    }


def _shared_interval(p: np.ndarray, met: int, tail: float, seed: int) -> list[int]:
    """The count's interval when the latent outcomes share a factor (correlation
    :data:`SHARED_SHOCK`): target i is met when sqrt(r) F + sqrt(1 - r) E_i < Phi^-1(p_i)."""
    if not len(p):
        return [met, met]
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((_DRAWS, 1))
    own = rng.standard_normal((_DRAWS, len(p)))
    latent = np.sqrt(SHARED_SHOCK) * common + np.sqrt(1 - SHARED_SHOCK) * own
    counts = met + (latent < stats.norm.ppf(np.clip(p, 1e-12, 1 - 1e-12))).sum(axis=1)
    return [int(np.quantile(counts, tail)), int(np.quantile(counts, 1 - tail))]


def verdict_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many targets (latest vintage) are met, likely (P >= 66 %), about as likely as not,
    unlikely (P < 33 %), not met, or not assessable."""
    counts = dict.fromkeys(("met", "likely", "even", "unlikely", "not_met", "unassessed"), 0)
    for row in _latest(table).to_dict("records"):
        p = row.get("probability")
        if row.get("verdict") in MET:
            counts["met"] += 1
        elif row.get("verdict") in NOT_MET:
            counts["not_met"] += 1
        elif pd.isna(p):
            counts["unassessed"] += 1
        else:
            counts["likely" if p >= 0.66 else "unlikely" if p < 0.33 else "even"] += 1
    return counts
