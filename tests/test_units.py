"""Units: supports, which targets can be met, and the targets file refusing impossible ones."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from brandstats import BrandstatsError, DataError, validate_targets
from brandstats.units import can_meet, parse_unit, support

INF = math.inf


@pytest.mark.parametrize(
    ("unit", "bounds", "expected"),
    [
        ("percent", {}, (0.0, 100.0)),
        ("count", {}, (0.0, INF)),
        ("yuan", {}, (0.0, INF)),
        ("rank", {}, (1.0, INF)),
        ("continuous", {}, (-INF, INF)),
        ("continuous", {"lower": 0}, (0.0, INF)),
        ("continuous", {"lower": -5, "upper": 5}, (-5.0, 5.0)),
        ("percent", {"upper": 50.0}, (0.0, 50.0)),
        ("continuous", {"lower": float("nan")}, (-INF, INF)),
    ],
)
def test_support_of_each_unit(unit, bounds, expected):
    assert support(unit, **bounds) == expected


@pytest.mark.parametrize(
    ("unit", "bounds"),
    [("percent", {"lower": -1}), ("percent", {"upper": 101}), ("rank", {"lower": 0}),
     ("continuous", {"lower": 3, "upper": 3}), ("furlongs", {})],
)  # fmt: skip
def test_support_refuses_bounds_outside_the_unit(unit, bounds):
    with pytest.raises(BrandstatsError):
        support(unit, **bounds)


@pytest.mark.parametrize(
    ("target", "comparison", "unit", "possible"),
    [
        (100, ">", "percent", False),  # nothing exceeds 100 %
        (100, ">=", "percent", True),
        (0, "<", "percent", False),
        (0, "<=", "percent", True),
        (1, "<", "rank", False),  # rank 1 is the best
        (1, "<=", "rank", True),
        (1.5, "<", "rank", True),  # rank 1 < 1.5
        (0.5, "<=", "rank", False),
        (0, "<", "count", False),
        (0.5, "<", "count", True),  # met by 0
        (0, "<=", "count", True),
        (-3, ">=", "count", True),  # always met, but possible
        (-3, "<", "continuous", True),
    ],
)
def test_can_meet_by_hand(target, comparison, unit, possible):
    assert can_meet(target, comparison, unit, support(unit)) is possible


def test_continuous_unit_spellings():
    for text in ("continuous", "‰", "per 1,000", "per 10,000", "index"):
        assert parse_unit(text).canonical == "continuous"
    assert parse_unit("%").canonical == "percent"


@pytest.mark.parametrize(
    "text",
    ["deaths per 1,000 live births", "per 100,000 population", "‰", "‱", "per 10000",
     "new infections per 1,000 uninfected population", "Deaths per 100 000", "每万人"],
)  # fmt: skip
def test_rates_per_n_are_continuous_and_non_negative(text):
    # review item 9: rates per 1,000/10,000/100,000 (a count over a population) default to
    # lower 0; other continuous units (index values, growth rates) stay unbounded
    assert parse_unit(text) == ("continuous", 1.0, 0.0)
    assert parse_unit("index").lower is None and parse_unit("growth rate") is None


def test_validate_targets_gives_rates_a_floor_of_zero_unless_declared():
    rate = _targets(unit="deaths per 1,000 live births", comparison="<=", target="25")
    table = validate_targets(pd.concat([rate, _targets(indicator="y", unit="‰", lower="-10",
                                                       target="-2")]))  # fmt: skip
    assert list(table["lower"]) == [0.0, -10.0] and table["upper"].isna().all()
    assert support("continuous", table["lower"].iloc[0]) == (0.0, math.inf)
    with pytest.raises(DataError, match=r"no continuous value is < 0"):
        validate_targets(_targets(unit="per 100,000", comparison="<", target="0"))


def _targets(**columns) -> pd.DataFrame:
    base = {"indicator": "x", "unit": "%", "comparison": ">=", "target": "50",
            "target_year": "2025"}  # fmt: skip
    return pd.DataFrame([base | columns])


@pytest.mark.parametrize(
    ("columns", "column", "message"),
    [
        ({"comparison": ">", "target": "100"}, "target", r"no percent value is > 100"),
        ({"unit": "rank", "comparison": "<", "target": "1"}, "target", r"no rank value is < 1"),
        ({"unit": "count", "comparison": "<", "target": "0"}, "target", r"no count value is < 0"),
        ({"unit": "continuous", "lower": "0", "comparison": "<", "target": "0"}, "target",
         r"no continuous value is < 0"),
        ({"unit": "continuous", "lower": "5", "upper": "1"}, "upper", r"upper bound above"),
        ({"lower": "-1"}, "lower", r"non-negative"),
        ({"accumulation": "stock"}, "accumulation", r"level, cumulative"),
    ],
)  # fmt: skip
def test_validate_targets_refuses_impossible_targets_naming_file_row_column(
    columns, column, message
):
    with pytest.raises(DataError, match=message) as info:
        validate_targets(_targets(**columns), file="mine.csv")
    (problem,) = info.value.problems
    assert (problem.file, problem.row, problem.column) == ("mine.csv", 2, column)


def test_validate_targets_reads_accumulation_and_bounds():
    per_mille = _targets(
        indicator="y", unit="‰", target="-2", lower="-10", accumulation="Cumulative"
    )
    table = validate_targets(pd.concat([_targets(), per_mille]))
    assert list(table["accumulation"]) == ["level", "cumulative"]
    assert table["lower"].isna().iloc[0] and table["lower"].iloc[1] == -10
    assert table["unit"].iloc[1] == "continuous" and table["target"].iloc[1] == -2


def test_validate_observations_keeps_values_inside_declared_bounds():
    from brandstats import validate_observations

    targets = validate_targets(_targets(unit="continuous", lower="0", upper="10", target="5"))
    obs = pd.DataFrame({"indicator": ["x", "x"], "region": "A", "year": ["2020", "2021"],
                        "value": ["3", "-1"], "unit": "continuous"})  # fmt: skip
    with pytest.raises(DataError, match=r"a value in \[0, 10\]") as info:
        validate_observations(obs, targets, file="obs.csv")
    assert info.value.problems[0].row == 3
