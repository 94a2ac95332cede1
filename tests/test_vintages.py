"""The outlook over time (brandstats.vintages): every vintage equals the CLI's --as-of answer,
and the reasons it moved are read off the data by hand."""

from __future__ import annotations

import itertools
import json
import pickle

import pandas as pd
import pytest

import brandstats as bs
from brandstats import format as fmt
from brandstats.cli import main
from brandstats.vintages import why_moved


def test_every_vintage_equals_assess_all_as_of(observations, targets):
    vintages = bs.assess_vintages(observations, targets, "product_brand_count", "Jinan")
    years = sorted(
        observations.loc[observations["indicator"] == "product_brand_count", "year"].unique()
    )
    assert [v["as_of"] for v in vintages] == [int(y) for y in years]
    for v in vintages:
        row = bs.assess_all(
            observations, targets, indicators=["product_brand_count"], as_of=v["as_of"]
        ).iloc[0]
        assert v["probability"] == row["probability"] and v["verdict"] == row["verdict"]
    for before, now in itertools.pairwise(vintages):
        if None not in (before["probability"], now["probability"]):
            assert now["change"] == now["probability"] - before["probability"]


def test_a_vintage_equals_the_cli(observations, targets, capsys):
    vintages = bs.assess_vintages(observations, targets, "product_brand_count", "Jinan")
    v = vintages[-2]
    capsys.readouterr()
    assert main(["assess", "--indicator", "product_brand_count", "--as-of", str(v["as_of"]),
                 "--format", "json"]) == 0  # fmt: skip
    row = json.loads(capsys.readouterr().out)[0]
    assert row["probability"] == v["probability"] and row["verdict"] == v["verdict"]


def _series(values: dict[int, float]) -> bs.Assessment:
    s = pd.Series(values)
    return bs.assess_series(s, target=300, comparison=">=", target_year=2024, unit="count")


def test_why_a_new_observation_moved_it():
    before = _series({2016: 100.0, 2017: 120, 2018: 138, 2019: 160})
    rows = before.forecast.loc[(before.forecast["model"] == "auto")
                               & (before.forecast["year"] == 2020)]  # fmt: skip
    expected = float(rows["median"].iloc[0])
    high = _series({2016: 100.0, 2017: 120, 2018: 138, 2019: 160, 2020: expected + 30})
    got = why_moved(before, high)
    assert got["reason"] == "new_observation" and got["year"] == 2020
    assert got["direction"] == "above" and got["expected"] == expected
    low = _series({2016: 100.0, 2017: 120, 2018: 138, 2019: 160, 2020: expected - 30})
    assert why_moved(before, low)["direction"] == "below"
    assert high.probability > low.probability
    text = fmt.vintage_reason(got, "count", "en")
    assert text.startswith("new figure for 2020") and "above the previous vintage" in text
    assert "高于上一版预测" in fmt.vintage_reason(got, "count", "zh")


def test_why_a_revision_moved_it():
    before = _series({2016: 100.0, 2017: 120, 2018: 138, 2019: 160})
    revised = _series({2016: 100.0, 2017: 120, 2018: 150, 2019: 160})
    got = why_moved(before, revised)
    assert (got["reason"], got["year"], got["old"], got["new"]) == ("revision", 2018, 138, 150)
    same = why_moved(before, before)
    assert same["reason"] == "reweighting" and same["reweighted"] == []


@pytest.mark.parametrize("delta", [0.123, -0.05, None])
def test_change_in_percentage_points(delta):
    text = fmt.change(delta)
    assert text == {0.123: "+12 pp", -0.05: "-5 pp", None: fmt.DASH}[delta]


def _with(observations, indicator, year, value):
    """The observations up to ``year`` - 1 of ``indicator`` (Jinan), plus ``value`` in ``year``."""
    mine = (observations["indicator"] == indicator) & (observations["region"] == "Jinan")
    rows = observations.loc[mine & (observations["year"] < year)]
    added = rows.iloc[[-1]].assign(year=year, value=value, qualifier="reported")
    return pd.concat([observations.loc[~mine], rows, added], ignore_index=True)


def test_next_years_value_keeps_even_odds(observations, targets):
    """2 % above the value found gives P(met) >= 0.5, 2 % below gives < 0.5 (a refit each)."""
    result = bs.assess(observations, targets, "product_brand_count", as_of=2019)
    coming = bs.next_year(observations, targets, result)
    assert coming["year"] == 2020 and coming["direction"] == "at least"
    value = coming["value_for_even_odds"]
    assert value == int(value)  # a count: the first whole number that keeps even odds
    for factor, even in ((1.02, True), (0.98, False)):
        data = _with(observations, "product_brand_count", 2020, round(value * factor))
        p = bs.assess(data, targets, "product_brand_count", as_of=2020).probability
        assert (p >= 0.5) == even, (factor, p)
    path = result.required_path[2020]
    assert coming["required_path"] == path
    text = fmt.next_year(coming, "count", "en")
    assert text.startswith(f"2020 must bring at least {int(value)}")
    assert fmt.next_year(coming, "count", "zh", short=True) == f"2020年：至少{int(value)}个"


def _shipped_vintages():
    from brandstats import load_observations, load_targets
    from brandstats.attainment import default_region

    targets = load_targets()
    observations = load_observations(targets=targets)
    for indicator in dict.fromkeys(targets.loc[targets["target"].notna(), "indicator"]):
        region = default_region(observations, targets, indicator)
        mine = (observations["indicator"] == indicator) & (observations["region"] == region)
        target_year = int(targets.loc[targets["indicator"] == indicator, "target_year"].iloc[0])
        for year in sorted(set(observations.loc[mine, "year"])):
            if year < target_year:  # a vintage with next year still to come
                yield indicator, int(year)


@pytest.mark.slow
@pytest.mark.parametrize(("indicator", "as_of"), list(_shipped_vintages()))
def test_every_shipped_next_year_value_keeps_even_odds(observations, targets, indicator, as_of):
    """Issue 18's check, for every shipped target at every vintage with a value: 2 % beyond
    it keeps even odds, 2 % short of it does not (the data refitted each time)."""
    data = observations.loc[observations["year"] <= as_of]
    result = bs.assess(data, targets, indicator)
    coming = bs.next_year(data, targets, result)
    if not coming or coming["value_for_even_odds"] is None or coming["in_target_year"]:
        return
    value, up = coming["value_for_even_odds"], coming["direction"] == "at least"
    for factor in (0.98, 1.02):
        p = bs.assess(_with(data, indicator, coming["year"], value * factor), targets,
                      indicator).probability  # fmt: skip
        assert (p >= 0.5) == ((factor > 1) == up), (value, factor, p)


def test_next_year_from_a_single_figure_is_where_even_odds_begin(observations, targets):
    """One figure, so next year's makes two: P(met) then comes from the reference class in
    steps, one of them exactly 1/2. The value is the first whole number at that step (the
    search once stopped anywhere on it, and before that said "never")."""
    result = bs.assess(observations, targets, "product_brand_count", as_of=2016)
    coming = bs.next_year(observations, targets, result)
    value = coming["value_for_even_odds"]
    assert coming["year"] == 2017 and value == int(value), coming
    for tried, even in ((value, True), (value - 1, False), (value * 1.02, True),
                        (value * 0.98, False)):  # fmt: skip
        data = _with(observations, "product_brand_count", 2017, tried)
        p = bs.assess(data, targets, "product_brand_count", as_of=2017).probability
        assert (p >= 0.5) == even, (tried, p)


def test_next_year_for_an_at_most_rank_is_the_last_keeping_even_odds(observations, targets):
    """A "<=" target: the value is the highest rank next year that keeps even odds."""
    mine = observations["indicator"] == "public_service_rank"
    ranks = {2016: 40.0, 2017: 34.0, 2018: 29.0, 2019: 25.0}  # made up: falling towards 10
    rows = pd.concat([observations.loc[mine].iloc[[0]].assign(year=y, value=v)
                      for y, v in ranks.items()], ignore_index=True)  # fmt: skip
    data = pd.concat([observations.loc[~mine], rows], ignore_index=True)
    result = bs.assess(data, targets, "public_service_rank")
    coming = bs.next_year(data, targets, result)
    value = coming["value_for_even_odds"]
    assert coming["direction"] == "at most" and value == int(value), coming
    for tried, even in ((value, True), (value + 1, False)):
        what_if = pd.concat([data, rows.iloc[[-1]].assign(year=2020, value=tried)])
        p = bs.assess(what_if, targets, "public_service_rank").probability
        assert (p >= 0.5) == even, (tried, p)


def test_next_year_is_the_target_itself_in_the_target_year(observations, targets):
    result = bs.assess(observations, targets, "product_brand_count")  # 2021, target 2022
    coming = bs.next_year(observations, targets, result)
    assert coming["year"] == 2022 and coming["value_for_even_odds"] == result.target
    settled = bs.assess(observations, targets, "high_tech_enterprises")  # met in 2022
    assert bs.next_year(observations, targets, settled) is None


def test_next_year_in_a_pooled_group_agrees_with_assess(observations, targets):
    """With regions calibrated together, the value found keeps even odds as assess (the whole
    group refitted on the what-if data) reads them: 1 % above gives P(met) >= 0.5, 1 % below
    gives < 0.5."""
    indicator = "product_brand_value"
    jinan = observations.loc[
        (observations["indicator"] == indicator) & (observations["region"] == "Jinan")
    ]
    copies = [jinan.assign(region=f"R{k}", value=jinan["value"] * (1 + 0.07 * k)) for k in (1, 2)]
    data = pd.concat([observations, *copies], ignore_index=True)
    own = targets.loc[targets["indicator"] == indicator]
    catalogue = pd.concat([targets, own.assign(region="R1"), own.assign(region="R2")],
                          ignore_index=True)  # fmt: skip
    result = bs.assess(data, catalogue, indicator, "R1", as_of=2019)
    assert result.pooling is not None  # calibrated with its group
    coming = bs.next_year(data, catalogue, result)
    value = coming["value_for_even_odds"]
    assert coming["year"] == 2020 and value is not None
    for factor, even in ((1.01, True), (0.99, False)):
        mine = (data["indicator"] == indicator) & (data["region"] == "R1")
        rows = data.loc[mine & (data["year"] < 2020)]
        added = rows.iloc[[-1]].assign(year=2020, value=value * factor, qualifier="reported")
        what_if = pd.concat([data.loc[~mine], rows, added], ignore_index=True)
        p = bs.assess(what_if, catalogue, indicator, "R1", as_of=2020).probability
        assert (p >= 0.5) == even, (factor, p)


@pytest.mark.parametrize(
    ("comparison", "en", "zh"),
    [
        (">", "more than", "超过"),
        (">=", "at least", "至少"),
        ("<", "less than", "低于"),
        ("<=", "at most", "至多"),
    ],
)
def test_next_year_in_the_target_year_words_a_strict_target(comparison, en, zh):
    """In the target year the value is the target itself: for ">" the target does not meet
    it, so "more than 250" (超过250), not "at least"; ">=" keeps "at least"."""
    series = pd.Series([150.0, 170, 190, 205], index=[2017, 2018, 2019, 2020])
    result = bs.assess_series(series, target=250, comparison=comparison, target_year=2021,
                              unit="count")  # fmt: skip
    empty = pd.DataFrame()
    coming = bs.next_year(empty, empty, result)
    assert coming["year"] == 2021 and coming["value_for_even_odds"] == 250
    assert coming["in_target_year"] and coming["strict"] == (comparison in (">", "<"))
    assert fmt.next_year(coming, "count", "en", short=True) == f"2021: {en} 250"
    assert fmt.next_year(coming, "count", "zh", short=True) == f"2021年：{zh}250个"
    assert fmt.next_year(coming, "count", "en") == (
        f"2021 is the target year: it must bring {en} 250 (the target itself)."
    )
    assert fmt.next_year(coming, "count", "zh") == f"2021年即目标年份：需{zh}250个（即目标值）。"


def test_vintages_kept_for_the_group_are_the_same_numbers(observations, targets, tmp_path):
    """With a cache (a batch's shared_dir) the vintages of every region of the group are
    computed once, kept (brandstats.memo), and each region's, cut at up_to, equal those
    without."""
    indicator = "service_satisfaction"
    jinan = observations.loc[
        (observations["indicator"] == indicator) & (observations["region"] == "Jinan")
    ]
    copies = [jinan.assign(region=f"R{k}", value=jinan["value"] - k) for k in (1, 2)]
    data = pd.concat([observations, *copies], ignore_index=True)
    own = targets.loc[targets["indicator"] == indicator]
    catalogue = pd.concat([targets, own.assign(region="R1"), own.assign(region="R2")],
                          ignore_index=True)  # fmt: skip
    for region, up_to in (("R1", None), ("R2", 2019), ("Jinan", 2020), ("R1", 2018)):
        plain = bs.assess_vintages(data, catalogue, indicator, region, up_to=up_to)
        kept = bs.assess_vintages(data, catalogue, indicator, region, up_to=up_to,
                                  cache=tmp_path)  # fmt: skip
        assert kept == plain, (region, up_to)
    [file] = tmp_path.glob("vintages-*.pickle")  # one group, computed once
    assert set(pickle.loads(file.read_bytes())) == {"Jinan", "R1", "R2"}
    changed = data.assign(value=data["value"].where(data["region"] != "R2", data["value"] - 1))
    bs.assess_vintages(changed, catalogue, indicator, "R1", cache=tmp_path)
    assert len(list(tmp_path.glob("vintages-*.pickle"))) == 2  # other figures, another entry


def test_why_keeps_a_bound_and_an_outcome_after_the_target_year(observations, targets):
    """A bound stays a bound in the words ("rank 11 or lower"); after the target year a new
    figure is not read and the outcome stands: neither is "same data, re-weighted"."""
    rank = bs.assess_vintages(observations, targets, "public_service_rank", "Jinan")
    row = observations.loc[(observations["indicator"] == "public_service_rank")
                           & (observations["year"] == rank[-1]["as_of"])].iloc[0]  # fmt: skip
    why = rank[-1]["why"]
    assert why["qualifier"] == row["qualifier"] == "lower_bound"  # rank 11 or a worse one
    assert fmt.vintage_reason(why, "rank", "en").endswith("rank 11 or lower")
    assert fmt.vintage_reason(why, "rank", "zh").endswith("第11位或更靠后")
    firms = bs.assess_vintages(observations, targets, "high_tech_enterprises", "Jinan")
    target_year = int(targets.loc[targets["indicator"] == "high_tech_enterprises",
                                  "target_year"].iloc[0])  # fmt: skip
    after = [v for v in firms if v["as_of"] > target_year]
    assert after and all(v["why"]["reason"] == "outcome" for v in after)
    assert fmt.vintage_reason(after[0]["why"], "count", "en") == (
        "the target year has passed: the outcome stands"
    )
