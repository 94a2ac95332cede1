"""The one engine: the same P(met) through every entry point, and its layers.

Multi-region fixtures (a level indicator and a cumulative one, five regions each, one region
whose target year is already observed) are assessed through ``bs.assess``, ``bs.assess_all``,
``brandstats assess --format json`` and ``brandstats run`` (the notebook's JSON); the numbers
must agree to the last digit. The pooled group is checked against a hand-built pooling of the
regions' own backtests (``pool_backtests``), so a group cut differently by one entry point, a
vintage cut at ``< as_of`` instead of ``<= as_of``, or a region dropped from the group changes
the expected numbers.
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import brandstats as bs
from brandstats.cli import main
from brandstats.engine import make_problem, outlooks, project_bounded
from brandstats.errors import BrandstatsError
from brandstats.models import Censored, Mixture
from brandstats.pooling import pool_backtests
from brandstats.reference import reference_predictive
from brandstats.spec import TargetSpec, probability_met, target_spec

SRC = Path(bs.__file__).resolve().parent


def _tables(accumulation: str, *, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five regions of indicator x, 2015-2021 (r4 observed to its target year 2021)."""
    rng = np.random.default_rng(seed)
    rows, targets = [], []
    for i in range(5):
        steps = np.abs(rng.normal(8 + 2 * i, 4, 7)) if accumulation == "cumulative" else (
            rng.normal(5, 6, 7)
        )  # fmt: skip
        values = 100 + np.cumsum(steps)
        region = f"r{i}"
        years = range(2015, 2022) if i == 4 else range(2015, 2021)
        rows += [
            {"indicator": "x", "region": region, "year": str(y), "value": f"{v:.0f}",
             "unit": "count"}
            for y, v in zip(years, np.round(values), strict=False)
        ]  # fmt: skip
        targets.append(
            {"indicator": "x", "unit": "count", "comparison": ">=", "target": str(150 + 5 * i),
             "target_year": "2021" if i == 4 else "2024", "region": region, "group": "product",
             "accumulation": accumulation}
        )  # fmt: skip
    t = bs.validate_targets(pd.DataFrame(targets))
    return bs.validate_observations(pd.DataFrame(rows), t), t


@pytest.fixture(params=["level", "cumulative"])
def group(request):
    return _tables(request.param)


def _hand_pooled(observations, targets, as_of=None) -> dict[str, float]:
    """P(met) of every region, pooled by hand from the pieces (not through outlooks)."""
    own, problems = {}, {}
    for region in sorted(observations["region"].unique()):
        spec = target_spec(targets, "x", region)
        rows = observations.loc[observations["region"] == region].set_index("year")
        problem = make_problem(spec, rows["value"], rows["qualifier"], as_of=as_of)
        if problem.last_year >= spec.target_year:
            continue
        problems[region] = problem
        own[region] = project_bounded(
            problem.seen, spec.support, cumulative=spec.accumulation == "cumulative",
            target_year=spec.target_year,
        )  # fmt: skip
    pools = pool_backtests({r: p.run for r, p in own.items()})
    out = {}
    for region, problem in problems.items():
        spec = problem.spec
        projection = project_bounded(
            problem.seen, spec.support, cumulative=spec.accumulation == "cumulative",
            target_year=spec.target_year, pooled=pools.get(region),
        )  # fmt: skip
        # mixed with the reference class: 20 % (few backtest cases of its own)
        ref, _ = reference_predictive(problem.seen, spec.support, spec.target_year)
        if spec.accumulation == "cumulative":
            ref = Censored(ref, problem.last_value, np.inf)
        assert projection.run.n_cases < 20
        mixed = Mixture((projection.predictive[spec.target_year], ref), (0.8, 0.2))
        p = probability_met(
            mixed, target=spec.target, comparison=spec.comparison, unit=spec.unit
        )  # fmt: skip
        out[region] = p if spec.settled_by(problem.last_value) else projection.probability(p)
    return out


@pytest.mark.parametrize("as_of", [None, 2019])
def test_python_entry_points_agree_with_a_hand_pooled_group(group, as_of):
    observations, targets = group
    expected = _hand_pooled(observations, targets, as_of=as_of)
    # r4's target year 2021 is observed: not projected, not pooled (but seen from 2019, it is)
    assert len(expected) == (4 if as_of is None else 5)
    table = bs.assess_all(observations, targets, as_of=as_of).set_index("region")
    for region in table.index:
        one = bs.assess(observations, targets, "x", region, as_of=as_of)
        assert one.probability == table.loc[region, "probability"] or (
            one.probability is None and pd.isna(table.loc[region, "probability"])
        )
        assert one.verdict == table.loc[region, "verdict"]
        assert one.last_year == (2019 if as_of else 2020 if region != "r4" else 2021)
        if region in expected:
            assert one.probability == expected[region]
            assert one.pooling is not None and one.pooling["regions"] == len(expected)
    # the region filter keeps one row but not a smaller group
    only = bs.assess_all(observations, targets, region="r1", as_of=as_of)
    assert only["probability"].tolist() == [expected["r1"]]
    if as_of is None:
        assert table.loc["r4", "verdict"] in ("met", "not met")


def test_p_unpooled_is_the_regions_own_assessment(group):
    observations, targets = group
    table = bs.assess_all(observations, targets).set_index("region")
    for region in ("r0", "r1", "r2", "r3"):
        spec = target_spec(targets, "x", region)
        rows = observations.loc[observations["region"] == region].set_index("year")["value"]
        alone = bs.assess_series(
            rows, target=spec.target, comparison=spec.comparison,
            target_year=spec.target_year, unit=spec.unit, accumulation=spec.accumulation,
        )  # fmt: skip
        assert table.loc[region, "p_unpooled"] == alone.probability


def test_a_settled_cumulative_region_reads_one_pooled_or_not():
    observations, targets = _tables("cumulative")
    targets.loc[targets["region"] == "r0", "target"] = 101.0  # met by the first value
    table = bs.assess_all(observations, targets).set_index("region")
    assert table.loc["r0", "verdict"] == "already met"
    assert table.loc["r0", "probability"] == 1.0 == table.loc["r0", "p_unpooled"]


def test_a_broken_region_stays_out_of_its_siblings_group():
    observations, targets = _tables("level")
    before = bs.assess_all(observations, targets).set_index("region")["probability"]
    # a region with a value outside the support (a typo) is not in the others' group...
    spec = target_spec(targets, "x", "r3")
    broken = observations.loc[observations["region"] == "r3"].copy()
    broken.loc[broken.index[0], "value"] = -5.0
    with pytest.raises(BrandstatsError, match="values must lie in"):
        make_problem(spec, broken.set_index("year")["value"])
    pieces = observations.loc[observations["region"] != "r3"]
    without = bs.assess_all(pieces, targets).set_index("region")["probability"]
    typo = pd.concat([pieces, broken], ignore_index=True)
    with pytest.raises(BrandstatsError, match="values must lie in"):
        bs.assess(typo, targets, "x", "r3")
    assert bs.assess(typo, targets, "x", "r1").probability == without["r1"]
    assert without["r1"] != before["r1"]  # and the group did matter


def _cli_json(capsys, observations, targets, tmp_path, *extra: str) -> pd.DataFrame:
    obs_path, t_path = tmp_path / "obs.csv", tmp_path / "targets.csv"
    observations.to_csv(obs_path, index=False)
    targets.to_csv(t_path, index=False)
    capsys.readouterr()
    code = main(["assess", "--data", str(obs_path), "--targets", str(t_path), "--format",
                 "json", *extra])  # fmt: skip
    assert code == 0
    return pd.DataFrame(json.loads(capsys.readouterr().out)).set_index("region")


def test_the_cli_gives_the_same_numbers(group, capsys, tmp_path):
    observations, targets = group
    # through files, as a user gives them: read back, the tables are the same numbers
    table = _cli_json(capsys, observations, targets, tmp_path, "--as-of", "2019")
    obs = bs.load_observations(
        tmp_path / "obs.csv", targets=bs.load_targets(tmp_path / "targets.csv")
    )
    for region in table.index:
        p = bs.assess(obs, targets, "x", region, as_of=2019).probability
        assert table.loc[region, "probability"] == p


@pytest.mark.slow
def test_the_batch_gives_the_same_numbers(tmp_path, capsys):
    observations, targets = _tables("cumulative")
    table = _cli_json(capsys, observations, targets, tmp_path)
    out = tmp_path / "out"
    code = main(["run", "--data", str(tmp_path / "obs.csv"), "--targets",
                 str(tmp_path / "targets.csv"), "--output", str(out)])  # fmt: skip
    assert code == 0
    records = {}
    for path in out.glob("x_*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        records[record["region"]] = record
    assert set(records) == set(table.index) == {f"r{i}" for i in range(5)}
    for region, record in records.items():
        expected = table.loc[region, "probability"]
        assert record["probability"] == (None if pd.isna(expected) else expected)
        assert record["verdict"] == table.loc[region, "verdict"]


def test_every_entry_point_asks_the_one_engine():
    """Only engine.py reads a P(met) off a projection, and only its p_met clips one."""
    readers = []
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in ("probability_met(", "projection.probability(", "pool_backtests("):
            if name in text and path.name not in ("engine.py", "spec.py", "pooling.py"):
                readers.append((path.name, name))
    assert readers == []


# layers: a module may import only modules below it (the list is the order)
LAYERS = [
    ["config", "errors", "atomic"],
    ["units"],
    ["spec"],
    ["models"],
    ["backtest"],
    ["pooling"],
    ["engine"],
    ["loading"],
    ["attainment"],
]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 1:
                found.add(node.module.split(".")[0])
            elif node.module.startswith("brandstats."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update(alias.name for alias in node.names)
    return found


def test_the_engine_imports_only_downwards():
    rank = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    upward = []
    for name, level in rank.items():
        for imported in _imports(SRC / f"{name}.py") & set(rank):
            if (
                rank[imported] >= level
                and imported != name
                and not (
                    # spec's peer_regions asks loading (pandas only) which pairs are assessable
                    name == "spec" and imported == "loading"
                )
            ):
                upward.append(f"{name} -> {imported}")
    assert upward == []


def test_a_series_without_years_is_refused():
    with pytest.raises(BrandstatsError, match="no years"):
        bs.assess_series(pd.Series([2518.0, 2833, 3150]), target=3000, comparison=">=",
                         target_year=2025)  # fmt: skip
    with pytest.raises(BrandstatsError, match="must be years"):
        bs.assess_series(pd.Series([1.0, 2, 3], index=["a", "b", "c"]), target=3,
                         comparison=">=", target_year=2025)  # fmt: skip
    ok = bs.assess_series(pd.Series([2518.0, 2833, 3150], index=range(2019, 2022)),
                          target=3000, comparison=">=", target_year=2025)  # fmt: skip
    assert ok.last_year == 2021


def test_outlooks_keeps_the_order_and_says_why():
    spec = TargetSpec("x", "", 10.0, ">=", 2020)
    problems = {
        "two": make_problem(spec, pd.Series([1.0, 2.0], index=[2018, 2019])),
        "done": make_problem(spec, pd.Series([1.0, 2.0, 12.0], index=[2018, 2019, 2020])),
    }
    found = outlooks(problems)
    assert list(found) == ["two", "done"]
    assert found["done"].reason == "the target year 2020 is observed"
    assert_allclose(found["done"].floor, 0.0)


def _problems(observations, targets, as_of):
    """Every region's Problem of the group, as of ``as_of``."""
    problems = {}
    for region in sorted(observations["region"].unique()):
        rows = observations.loc[observations["region"] == region].set_index("year")
        spec = target_spec(targets, "x", region)
        problems[region] = make_problem(spec, rows["value"], rows["qualifier"], as_of=as_of)
    return problems


def test_kept_projections_are_reused_for_the_same_problems(group, monkeypatch):
    """outlooks(projections=...) keeps each problem's own projection: asked again with the
    same Problem objects and one new one, it projects only the new one, and every P(met) is
    what a fresh call gives."""
    import brandstats.engine as engine

    observations, targets = group
    problems = _problems(observations, targets, as_of=2019)
    kept: dict = {}
    first = outlooks(problems, projections=kept)
    assert len(kept) == len(problems)  # every problem projected (none observed by 2019)
    rows = observations.loc[observations["region"] == "r1"].set_index("year")
    changed = rows["value"].where(rows.index != 2019, rows["value"] + 7)
    what_if = {**problems, "r1": make_problem(problems["r1"].spec, changed, as_of=2019)}
    calls = []  # (region, calibrated): the own projection has no calibration
    project = engine._project
    monkeypatch.setattr(
        engine,
        "_project",
        lambda p, *a, **k: calls.append((p.spec.region, len(a) > 3)) or project(p, *a, **k),
    )
    again = outlooks(what_if, projections=kept)
    assert [region for region, calibrated in calls if not calibrated] == ["r1"]
    fresh = outlooks(what_if)
    assert {k: o.probability for k, o in again.items()} == {
        k: o.probability for k, o in fresh.items()
    }
    assert {k: o.probability for k, o in first.items()} == {
        k: o.probability for k, o in outlooks(problems).items()
    }
    # only one region's Outlook: the others still calibrate it, and are not projected again
    calls.clear()
    alone = outlooks(what_if, projections=kept, only=["r1"])
    assert list(alone) == ["r1"] and calls == [("r1", True)]
    assert alone["r1"].probability == fresh["r1"].probability
    assert alone["r1"].pooling == fresh["r1"].pooling


def test_a_series_own_projection_is_worked_out_once(group, monkeypatch):
    """The same series (its years, values, support, target year and options) is projected
    once per process: asked again, only the group's calibrated projections are redone, and
    every P(met) is the same."""
    import brandstats.engine as engine

    observations, targets = group
    problems = _problems(observations, targets, as_of=2019)
    monkeypatch.setattr(engine, "_PROJECTIONS", type(engine._PROJECTIONS)())
    first = outlooks(problems)
    pooled = []  # the pooled= argument of every projection worked out
    real = engine.project_bounded
    monkeypatch.setattr(
        engine, "project_bounded", lambda *a, **k: pooled.append(k["pooled"]) or real(*a, **k)
    )
    again = outlooks({k: replace(p) for k, p in problems.items()})  # equal, not the same
    assert pooled and None not in pooled  # the own ones were kept
    assert {k: o.probability for k, o in again.items()} == {
        k: o.probability for k, o in first.items()
    }
    changed = replace(problems["r1"], seen=problems["r1"].seen + 1.0)
    pooled.clear()
    outlooks({**problems, "r1": changed})
    assert pooled.count(None) == 1  # only the changed series
