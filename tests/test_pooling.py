"""Tests of brandstats.pooling: pooled calibration across regions and the assess_all wiring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import brandstats as bs
from brandstats.backtest import (
    horizon_growth,
    near_horizon,
    run_backtest,
    tail_floor,
    widening_factor,
)
from brandstats.pooling import pool_regions


def annual(values, start=2015) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=range(start, start + len(values)))


def regions(n=6, points=6, seed=1) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n):
        growth = 0.05 + rng.normal(0, 0.02)
        out[f"r{i}"] = annual(100 * np.exp(np.cumsum(growth + rng.normal(0, 0.03, points))))
    return out


def test_one_region_is_not_pooled():
    assert pool_regions({"a": annual([1.0, 2, 3, 4, 5, 6])}, target_years={"a": 2022}) == {}


def test_pooled_widening_is_computed_from_every_regions_pits():
    series = regions(n=4, points=7)
    years = dict.fromkeys(series, 2024)
    pooled = pool_regions(series, target_years=years)
    assert set(pooled) == set(series)
    pits, n = [], 0
    for values in series.values():
        result = run_backtest(values, horizon=2024 - 2021)
        table = result.cases.pivot_table(index=["origin", "year"], columns="model", values="pit")
        pits.append(sum(result.weights[m] * table[m] for m in table.columns).to_numpy())
        n += len(table)
    # 4 regions x 6 cases, horizons 1-3, the target 3 years ahead: all are near it
    pit = np.concatenate(pits)
    horizons = np.concatenate(
        [run_backtest(v, horizon=3).mixture["horizon"] for v in series.values()]
    )
    assert near_horizon(horizons, 3, 80).all()
    factor = widening_factor(pit, 0.9)[0] * horizon_growth(pit, horizons, 3)
    for p in pooled.values():
        assert_allclose(p.widening, factor)
        assert p.n_cases == n
        assert p.info["regions"] == 4


@pytest.fixture
def group_tables():
    series = regions(n=5, points=6)
    rows = [
        {"indicator": "x", "region": r, "year": str(y), "value": f"{v:.4f}", "unit": "yuan"}
        for r, s in series.items()
        for y, v in s.items()
    ]
    targets = [
        {"indicator": "x", "unit": "yuan", "comparison": ">=", "target": "150",
         "target_year": "2024", "region": r, "group": "product"}
        for r in series
    ]  # fmt: skip
    t = bs.validate_targets(pd.DataFrame(targets))
    return bs.validate_observations(pd.DataFrame(rows), t), t


def test_assess_all_pools_and_reports_the_unpooled_probability(group_tables):
    observations, targets = group_tables
    table = bs.assess_all(observations, targets).set_index("region")
    for region in table.index:
        rows = observations.loc[observations["region"] == region].set_index("year")["value"]
        # the region on its own: a group of one, not pooled
        alone = bs.assess_series(rows, target=150, comparison=">=", target_year=2024, unit="yuan")
        assert alone.pooling is None
        assert_allclose(table.loc[region, "p_unpooled"], alone.probability, rtol=1e-12)
        # assess pools it with the same group as assess_all
        assert (
            bs.assess(observations, targets, "x", region).probability
            == (table.loc[region, "probability"])
        )
    # 5 regions x 6 backtest cases (origins 2017-2019, 3 + 2 + 1): the floor is 1/32, not 1/8
    floor = tail_floor(5 * 6)
    assert table["probability"].between(floor, 1 - floor).all()
    assert (table["probability"] < tail_floor(6)).any() or (
        table["probability"] > 1 - tail_floor(6)
    ).any()


def test_assessment_pooling_record(group_tables):
    observations, targets = group_tables
    result = bs.assess(observations, targets, "x", "r2")
    record = result.to_dict()["pooling"]
    assert record["regions"] == 5 and "pooled backtest calibration" in record["method"]
    assert 0 <= record["p_unpooled"] <= 1
    assert record["n_cases"] == 5 * run_backtest(annual(range(1, 7)), horizon=4).n_cases == 30


def test_single_model_is_not_pooled(group_tables):
    observations, targets = group_tables
    table = bs.assess_all(observations, targets, model="drift")
    assert table["p_unpooled"].isna().all()


def test_a_region_with_enough_cases_of_its_own_is_not_pooled():
    long = regions(n=1, points=16, seed=9)["r0"]
    series = regions(n=3, points=6) | {"long": annual(long.to_numpy(), start=2005)}
    years = dict.fromkeys(series, 2024)  # the long series ends in 2020, as the others do
    assert run_backtest(series["long"], horizon=4).n_cases >= 20
    pooled = pool_regions(series, target_years=years)
    assert set(pooled) == {"r0", "r1", "r2"}
    assert all(p.n_cases > 3 * 6 for p in pooled.values())  # the long region's cases count
