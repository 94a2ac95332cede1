"""Districts and their city (brandstats.hierarchy, brandstats.league): a target decomposed over
a region tree. The fixture is a city and 5 districts: 历城区 far behind its sub-target, the
other four comfortably ahead; the city's own series absent, then present."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import brandstats as bs
from brandstats import format as fmt
from brandstats.cli import main
from brandstats.hierarchy import combine, dependence
from brandstats.league import league_table

YEARS = range(2015, 2022)
DISTRICTS = {  # start, growth a year, sub-target for 2024
    "历下区": (400, 0.10, 600),
    "市中区": (300, 0.09, 440),
    "槐荫区": (250, 0.11, 390),
    "天桥区": (200, 0.10, 300),
    "历城区": (150, 0.00, 320),  # flat: far behind
}
WIGGLE = [0.0, 0.01, -0.008, 0.004, -0.012, 0.009, -0.003, 0.006, -0.005]


def _targets(city_target: float | None = None, unit: str = "count", **extra) -> pd.DataFrame:
    rows = [
        {"indicator": "firms", "unit": unit, "comparison": ">=", "target": t, "target_year": 2024,
         "region": name, "parent": "Jinan"}
        for name, (_, _, t) in DISTRICTS.items()
    ]  # fmt: skip
    total = sum(t for *_, t in DISTRICTS.values()) if city_target is None else city_target
    city = {"indicator": "firms", "unit": unit, "comparison": ">=", "target": total,
            "target_year": 2024, "region": "Jinan", "parent": ""}  # fmt: skip
    table = pd.DataFrame([city, *rows]).assign(**extra)
    return bs.validate_targets(table.astype(str).replace("nan", ""))


def _district_rows() -> list[dict]:
    rows = []
    for k, (name, (start, growth, _)) in enumerate(DISTRICTS.items()):
        for i, year in enumerate(YEARS):
            wiggle = WIGGLE[(i + 2 * k) % len(WIGGLE)]
            value = round(start * (1 + growth) ** i * (1 + wiggle))
            rows.append({"indicator": "firms", "region": name, "year": year, "value": value,
                         "unit": "count", "qualifier": "illustrative"})  # fmt: skip
    return rows


def _observations(targets: pd.DataFrame, *, city: bool, city_name: str = "Jinan") -> pd.DataFrame:
    rows = _district_rows()
    if city:
        frame = pd.DataFrame(rows)
        sums = frame.groupby("year")["value"].sum()
        rows += [
            {"indicator": "firms", "region": city_name, "year": y, "value": v, "unit": "count",
             "qualifier": "illustrative"}
            for y, v in sums.items()
        ]  # fmt: skip
    return bs.validate_observations(pd.DataFrame(rows).astype(str), targets)


def _write(folder, observations: pd.DataFrame, targets: pd.DataFrame) -> tuple:
    """The tables as a user's files: (observations.csv, targets.csv)."""
    obs_path, t_path = folder / "obs.csv", folder / "targets.csv"
    observations.to_csv(obs_path, index=False)
    targets.to_csv(t_path, index=False)
    return obs_path, t_path


@pytest.fixture(scope="module", params=[False, True], ids=["city absent", "city present"])
def tree(request):
    targets = _targets()
    observations = _observations(targets, city=request.param)
    return observations, targets, bs.assess_all(observations, targets)


def test_every_district_and_the_city_get_a_row(tree):
    _, _, table = tree
    assert table["region"].tolist() == ["Jinan", *DISTRICTS]
    assert table["probability"].notna().all()


def test_the_city_is_the_distribution_of_the_districts_sum(tree):
    observations, targets, table = tree
    city = bs.assess(observations, targets, "firms", "Jinan")
    assert city.aggregate["basis"] == "sum"
    assert city.aggregate["children"] == list(DISTRICTS)
    medians = table.set_index("region")["forecast_median"]
    _, _, lower, upper = city.interval(0.9)
    assert lower <= medians.drop("Jinan").sum() <= upper
    # its P(met) is read off the sum: P(sum >= target), the draws counted by hand
    draws = city.predictive.draws
    by_hand = np.mean(draws > city.target - 0.5)
    assert city.probability == pytest.approx(np.clip(by_hand, city.floor, 1 - city.floor))


def test_the_city_with_its_own_series_shows_both(tree):
    observations, targets, _ = tree
    city = bs.assess(observations, targets, "firms", "Jinan")
    own = city.aggregate["own_probability"]
    if (observations["region"] == "Jinan").any():
        alone = bs.assess_series(
            observations.loc[observations["region"] == "Jinan"].set_index("year")["value"],
            target=city.target, comparison=">=", target_year=2024, unit="count",
        )  # fmt: skip
        assert own == alone.probability  # the city projected on its own series, as it is
    else:
        assert own is None


def test_the_lagging_district_ranks_last(tree):
    _, _, table = tree
    league = league_table(table)
    assert league["region"].tolist()[0] == "Jinan"  # the parent first
    last = league.iloc[-1]
    assert last["region"] == "历城区" and last["probability"] < 0.1
    assert last["rank_in_parent"] == 5 and last["of"] == 5
    ahead = league.loc[league["region"].isin(list(DISTRICTS)[:4])]
    assert (ahead["probability"] > 0.5).all()
    # completion: latest / target, by hand
    latest = table.set_index("region").loc["历城区", "last_value"]
    assert last["completion"] == pytest.approx(latest / 320)
    assert last["elapsed"] == pytest.approx((2021 - 2015) / (2024 - 2015))


def test_every_entry_point_gives_the_same_six_rows(capsys, tmp_path):
    targets = _targets()
    observations = _observations(targets, city=True)
    table = bs.assess_all(observations, targets)
    obs_path, t_path = _write(tmp_path, observations, targets)
    capsys.readouterr()
    code = main(["assess", "--data", str(obs_path), "--targets", str(t_path), "--format", "json"])
    assert code == 0
    cli = pd.DataFrame(json.loads(capsys.readouterr().out)).set_index("region")
    assert list(cli.index) == ["Jinan", *DISTRICTS]
    for region in cli.index:
        p = bs.assess(observations, targets, "firms", region).probability
        assert p == table.set_index("region").loc[region, "probability"]
        assert p == cli.loc[region, "probability"]


def test_combine_is_the_multivariate_normal_sum():
    """Gaussian copula + normal margins = a multivariate normal: the sum is normal with
    variance sum(s_i^2) + rho * sum_{i != j} s_i s_j (scipy as the reference)."""
    means, sds, rho = [100.0, 50.0, 30.0], [10.0, 8.0, 5.0], 0.4
    paths = [{2024: stats.norm(m, s)} for m, s in zip(means, sds, strict=True)]
    total = combine(paths, [1, 1, 1], rho=rho, seed=7)[2024]
    sd = np.sqrt(sum(s * s for s in sds) + rho * (sum(sds) ** 2 - sum(s * s for s in sds)))
    exact = stats.norm(sum(means), sd)
    for x in (160.0, 180.0, 195.0):
        assert total.cdf(x) == pytest.approx(exact.cdf(x), abs=0.015)
    independent = combine(paths, [1, 1, 1], rho=0.0, seed=7)[2024]
    assert np.std(independent.draws) == pytest.approx(np.sqrt(sum(s * s for s in sds)), rel=0.03)
    mean = combine(paths, [2, 1, 1], rho=0.0, seed=7, mean=True)[2024]
    assert mean.point == pytest.approx((2 * 100 + 50 + 30) / 4, rel=0.01)


def test_dependence_pools_the_shared_cases_by_hand():
    u = stats.norm.cdf
    a = pd.DataFrame({"origin": [1, 2, 3, 4], "year": [5, 5, 5, 5],
                      "pit": u([1.0, -1.0, 0.5, 2.0])})  # fmt: skip
    b = pd.DataFrame({"origin": [1, 2, 3, 4, 9], "year": [5, 5, 5, 5, 5],
                      "pit": u([0.5, -0.5, 1.0, 1.0, 3.0])})  # fmt: skip
    c = pd.DataFrame({"origin": [2, 3], "year": [5, 5], "pit": u([-1.0, 1.0])})
    rho, cases = dependence([a, b, c])
    pairs = [(1.0, 0.5), (-1.0, -0.5), (0.5, 1.0), (2.0, 1.0),  # a-b
             (-1.0, -1.0), (0.5, 1.0),  # a-c
             (-0.5, -1.0), (1.0, 1.0)]  # b-c  # fmt: skip
    x, y = np.array(pairs).T
    assert cases == 8
    assert rho == pytest.approx(x @ y / np.sqrt((x @ x) * (y @ y)), rel=1e-6)
    assert dependence([a.iloc[:2], b]) == (0.0, 2)  # too few shared cases: independent


def test_a_misspelt_district_fails_validate_with_the_closest_name(capsys, tmp_path):
    targets = _targets()
    observations = _observations(targets, city=False)
    observations.loc[observations["region"] == "历城区", "region"] = "历城"
    obs_path, t_path = _write(tmp_path, observations, targets)
    assert main(["validate", str(t_path), str(obs_path)]) == 1
    err = capsys.readouterr().err
    assert "the target of '历城区' has no observations (did you mean '历城'?)" in err
    # and no table drops it: its row reads "no data", with the same hint
    table = bs.assess_all(observations, targets).set_index("region")
    assert list(table.index) == ["Jinan", *DISTRICTS]
    assert table.loc["历城区", "verdict"] == "no data"
    assert "did you mean '历城'?" in table.loc["历城区", "reason"]
    assert table.loc["Jinan", "probability"] is not None  # the city stands on no sum of 4


def test_sub_targets_and_city_figures_that_do_not_add_up_are_named(capsys, tmp_path):
    targets = _targets(city_target=2000)  # the districts' 2,050 is more than the city's
    observations = _observations(targets, city=True, city_name="全市")  # 全市 is the city
    assert set(observations["region"]) == {"Jinan", *DISTRICTS}
    observations.loc[
        (observations["region"] == "Jinan") & (observations["year"] == 2019), "value"
    ] += 100
    obs_path, t_path = _write(tmp_path, observations, targets)
    assert main(["validate", str(t_path), str(obs_path)]) == 0
    out = capsys.readouterr().out
    assert "note firms: the targets of Jinan's 5 districts add up to 2,050, more than " in out
    assert "over-allocation" in out
    assert "WARN firms 2019: Jinan's own figure" in out and "by 100" in out
    assert "firms 2018" not in out  # the other years add up


def test_a_tree_is_one_parent_per_region_and_no_cycle():
    table = pd.DataFrame(
        {"indicator": ["a", "b", "a"], "unit": "count", "comparison": ">=", "target": "5",
         "target_year": "2024", "region": ["x", "x", "y"], "parent": ["y", "z", "x"]}
    )  # fmt: skip
    with pytest.raises(bs.DataError) as error:
        bs.validate_targets(table)
    text = str(error.value)
    assert "one parent for every row of 'x'" in text
    assert "its own ancestor" in text


def _percent(weights: bool, city: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    shares = {"历下区": (60.0, 8000), "市中区": (40.0, 2000)}
    rows = [{"indicator": "share", "unit": "%", "comparison": ">=", "target": 50,
             "target_year": 2024, "region": r, "parent": "Jinan",
             "weight": w if weights else ""} for r, (_, w) in shares.items()]  # fmt: skip
    parent = {"indicator": "share", "unit": "%", "comparison": ">=", "target": 50,
              "target_year": 2024, "region": "Jinan", "parent": "", "weight": ""}  # fmt: skip
    rows.insert(0, parent)
    targets = bs.validate_targets(pd.DataFrame(rows).astype(str))
    obs = [{"indicator": "share", "region": r, "year": y, "value": s + 0.3 * (y - 2015)
            + 0.2 * ((y * 7) % 3), "unit": "%"}
           for r, (s, _) in shares.items() for y in range(2015, 2022)]  # fmt: skip
    if city:
        obs += [
            {"indicator": "share", "region": "Jinan", "year": y, "value": 55 + 0.1 * (y - 2015),
             "unit": "%"}
            for y in range(2015, 2022)
        ]  # fmt: skip
    return bs.validate_observations(pd.DataFrame(obs).astype(str), targets), targets


def test_percent_with_weights_is_the_weighted_mean():
    observations, targets = _percent(weights=True, city=False)
    city = bs.assess(observations, targets, "share", "Jinan")
    assert city.aggregate["basis"] == "weighted mean"
    by_hand = (0.8 * 60.0 + 0.2 * 40.0) + 0.3 * 6 + 0.2 * ((2021 * 7) % 3)
    assert city.last_value == pytest.approx(by_hand)
    assert 0 <= city.interval(0.9)[2] <= city.interval(0.9)[3] <= 100


def test_percent_without_weights_has_no_aggregate_and_says_why():
    observations, targets = _percent(weights=False, city=True)
    city = bs.assess(observations, targets, "share", "Jinan")
    assert city.aggregate is None
    assert any(getattr(n, "code", "") == "no_aggregate_weights" for n in city.notes)
    observations, targets = _percent(weights=False, city=False)
    table = bs.assess_all(observations, targets).set_index("region")
    assert table.loc["Jinan", "verdict"] == "no data"
    assert "weight column" in table.loc["Jinan", "reason"]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_report_sets_the_sum_and_the_own_series_side_by_side(language):
    from brandstats import format as fmt

    info = {"basis": "sum", "children": ["a", "b", "c", "d", "e"], "median": 5817.0,
            "sum_of_medians": 5706.0, "own_probability": 0.62, "own_median": 5900.0}  # fmt: skip
    text = fmt.aggregate(info, "count", language)
    for figure in ("5,817", "5,706", "5,900", "62", "83"):  # 83: the gap between the medians
        assert figure in text
    assert fmt.aggregate(None, "count", language) == ""
    alone = fmt.aggregate({**info, "own_probability": None, "own_median": None}, "count", language)
    assert "5,900" not in alone
    assert ("本级没有" if language == "zh" else "no series") in alone


def test_a_city_read_from_illustrative_districts_is_illustrative(root):
    """The example's city figures are real, its districts' made up: the city's P(met) rests on
    them, so it is labelled ILLUSTRATIVE."""
    examples = root / "data" / "examples"
    targets = bs.load_targets(examples / "districts_targets.csv")
    observations = bs.load_observations(examples / "districts_observations.csv", targets=targets)
    city = bs.assess(observations, targets, "high_tech_enterprises", "Jinan")
    assert not (city.history["qualifier"] == "illustrative").any()  # its own series is real
    assert city.aggregate["illustrative"] and city.illustrative
    assert "illustrative" in [getattr(n, "code", "") for n in city.notes]


def test_a_city_without_figures_of_its_own_is_met_when_its_districts_sum_is():
    """The target year observed in every district: the city's outcome is their sum's."""
    table = _targets().assign(target_year=2021, target=lambda t: t["target"] / 2)
    observations = _observations(table, city=False)
    city = bs.assess(observations, table, "firms", "Jinan")
    total = observations.loc[observations["year"] == 2021, "value"].sum()
    assert city.actual == total and city.verdict == ("met" if total >= city.target else "not met")


def test_a_districts_next_year_value_keeps_even_odds_in_its_tree(root):
    """The value a district needs next year, refitted with its siblings as assess pools them:
    2 % above it gives P(met) >= 0.5 through assess, 2 % below < 0.5."""
    examples = root / "data" / "examples"
    targets = bs.load_targets(examples / "districts_targets.csv")
    observations = bs.load_observations(examples / "districts_observations.csv", targets=targets)
    result = bs.assess(observations, targets, "high_tech_enterprises", "天桥区", as_of=2019)
    coming = bs.next_year(observations, targets, result)
    value = coming["value_for_even_odds"]
    assert coming["year"] == 2020 and value is not None
    mine = (observations["region"] == "天桥区") & (observations["year"] >= 2020)
    for factor, even in ((1.02, True), (0.98, False)):
        data = observations.loc[~mine]
        added = observations.loc[mine & (observations["year"] == 2020)].assign(
            value=round(value * factor), qualifier="reported"
        )
        data = pd.concat([data, added], ignore_index=True)
        p = bs.assess(data, targets, "high_tech_enterprises", "天桥区", as_of=2020).probability
        assert (p >= 0.5) == even, (factor, p)


def test_a_citys_vintages_include_the_years_only_its_districts_have_figures():
    """A city assessed with its districts gets news when they do: its vintage of a year
    without a city figure equals assess as of that year, moved for its districts' figures."""
    targets = _targets()
    observations = _observations(targets, city=True)
    gap = YEARS[-2]
    data = observations.loc[~((observations["region"] == "Jinan") & (observations["year"] == gap))]
    vintages = bs.assess_vintages(data, targets, "firms", "Jinan")
    assert [v["as_of"] for v in vintages] == list(YEARS)  # the gap year too
    for before, now in itertools.pairwise(vintages):
        p = bs.assess(data, targets, "firms", "Jinan", as_of=now["as_of"]).probability
        assert now["probability"] == p
        assert now["change"] == p - before["probability"]
    why = next(v["why"] for v in vintages if v["as_of"] == gap)
    assert (why["reason"], why["year"], why["regions"]) == ("districts", gap, sorted(DISTRICTS))
    assert fmt.vintage_reason(why, "count", "en").startswith(f"new {gap} figures of its districts")
    assert f"下辖区县新增{gap}年数据" in fmt.vintage_reason(why, "count", "zh")
    # a percentage without the districts' weights is not read from them: its own years only
    shares = bs.validate_targets(
        _targets().assign(unit="%", target=50.0).astype(str).replace("nan", "")
    )
    rows = pd.DataFrame(_district_rows()).assign(value=lambda t: t["value"] / 10, unit="%")
    city = rows.groupby("year", as_index=False)["value"].mean()
    city = city.loc[city["year"] != gap].assign(
        indicator="firms", region="Jinan", unit="%", qualifier="illustrative"
    )
    own = bs.validate_observations(pd.concat([rows, city]).astype(str), shares)
    years = [v["as_of"] for v in bs.assess_vintages(own, shares, "firms", "Jinan")]
    assert years == [y for y in YEARS if y != gap]


@pytest.mark.parametrize("dist", [stats.lognorm(s=3, scale=600), stats.norm(500, 40),
                                  stats.t(df=1.5, loc=600, scale=30)])  # fmt: skip
def test_the_draws_quantiles_follow_the_ppf_even_in_a_heavy_tail(dist):
    """hierarchy._quantiles against scipy's ppf: a log-normal whose 99.9 % quantile is 6
    million (median 600) once came out in multiples of 3,000, its sum's median 5x too high."""
    from brandstats.hierarchy import _quantiles

    u = np.linspace(0.01, 0.99, 99)
    assert np.allclose(_quantiles(dist, u), dist.ppf(u), rtol=0.01)


def test_the_example_citys_early_vintage_agrees_with_its_districts(root):
    """As of 2018 every district of the example is unlikely to meet its part; the city, their
    sum, cannot be very likely (it was, at 90 %, when its draws were coarse)."""
    examples = root / "data" / "examples"
    targets = bs.load_targets(examples / "districts_targets.csv")
    observations = bs.load_observations(examples / "districts_observations.csv", targets=targets)
    every = bs.assess_all(observations, targets, as_of=2018).set_index("region")
    city = bs.assess(observations, targets, "high_tech_enterprises", "Jinan", as_of=2018)
    assert (every.drop(index="Jinan")["probability"] <= 0.1).all()
    assert city.probability <= 0.1
    assert city.aggregate["median"] < 1.5 * city.aggregate["sum_of_medians"]
