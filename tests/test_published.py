"""Publication dates (issue 18, part 3): ``as_of`` on the figures as published by then.

A hand-made pair of files: the base file publishes each year's figure the next spring; a
revision file, published in 2021, raises the 2019 figure. As of 2020 on the published basis the
engine must read the base 2019 figure and no 2020 figure (published in 2021); on the latest
basis, the revised 2019 figure and the 2020 one. Each is checked against an assessment of a
table written by hand with exactly those figures.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import brandstats as bs
from brandstats import format as fmt
from brandstats import results
from brandstats.cli import main
from brandstats.errors import BrandstatsError, DataError
from brandstats.loading import published_by

INDICATOR = "product_brand_count"  # a count, at least 300 by 2022
BASE = {2016: 118, 2017: 144, 2018: 169, 2019: 198, 2020: 216, 2021: 246}
REVISED_2019 = 240  # revised up in 2021


def _rows(values: dict[int, float], published: dict[int, str]) -> str:
    lines = ["indicator,region,year,value,unit,qualifier,source,published"]
    lines += [
        f"{INDICATOR},Jinan,{y},{v},个,reported,test,{published[y]}" for y, v in values.items()
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def files(tmp_path):
    base = tmp_path / "base.csv"
    base.write_text(_rows(BASE, {y: f"{y + 1}-03-20" for y in BASE}), encoding="utf-8")
    revision = tmp_path / "revision.csv"
    revision.write_text(_rows({2019: REVISED_2019}, {2019: "2021"}), encoding="utf-8")
    return base, revision


@pytest.fixture
def data(files, targets):
    return bs.load_observations(list(files), targets=targets)


def _by_hand(targets, values: dict[int, float]) -> pd.DataFrame:
    """A table with exactly these figures and no publication dates."""
    rows = [{"indicator": INDICATOR, "region": "Jinan", "year": y, "value": float(v),
             "unit": "count", "qualifier": "reported", "source": "test"}
            for y, v in values.items()]  # fmt: skip
    return bs.validate_observations(pd.DataFrame(rows), targets)


def test_the_loader_reads_publication_years(data):
    assert data["published"].dtype == "Int64"
    row = data.loc[data["year"] == 2019].iloc[0]
    assert row["value"] == REVISED_2019 and row["published"] == 2021  # the revision is latest
    assert data.attrs["revisions"][0] | {} == {
        "indicator": INDICATOR, "region": "Jinan", "year": 2019, "old": 198.0, "new": 240.0,
        "old_file": "base.csv", "new_file": "revision.csv",
    }  # fmt: skip


def test_published_by_goes_back_to_what_was_known(data):
    then = published_by(data, 2020)
    assert dict(zip(then["year"], then["value"], strict=True)) == {
        2016: 118,
        2017: 144,
        2018: 169,
        2019: 198,  # 2019 unrevised; 2020 out in 2021
    }
    later = published_by(data, 2021)
    assert dict(zip(later["year"], later["value"], strict=True)) == {
        2016: 118,
        2017: 144,
        2018: 169,
        2019: REVISED_2019,
        2020: 216,
    }
    assert published_by(data, 2016).empty  # the first figure came out in 2017
    assert published_by(then, 2018)["year"].tolist() == [2016, 2017]  # a view of a view


def test_a_revision_changes_p_met_between_the_bases(data, targets):
    published = bs.assess(data, targets, INDICATOR, as_of=2020, vintage_basis="published")
    latest = bs.assess(data, targets, INDICATOR, as_of=2020)
    known = {y: v for y, v in BASE.items() if y <= 2019}
    by_hand = bs.assess(_by_hand(targets, known), targets, INDICATOR, as_of=2020)
    assert published.probability == by_hand.probability
    assert published.last_year == 2019 and published.last_value == 198
    today = BASE | {2019: REVISED_2019}
    assert latest.probability == bs.assess(_by_hand(targets, today), targets, INDICATOR,
                                           as_of=2020).probability  # fmt: skip
    assert latest.last_year == 2020
    assert published.probability != latest.probability
    # no as_of: everything is published by now, so both bases read the latest figures
    assert (
        bs.assess(data, targets, INDICATOR, vintage_basis="published").probability
        == bs.assess(data, targets, INDICATOR).probability
    )
    table = bs.assess_all(data, targets, indicators=[INDICATOR], as_of=2020,
                          vintage_basis="published")  # fmt: skip
    assert table["probability"].tolist() == [published.probability]
    with pytest.raises(BrandstatsError, match="vintage_basis='as known'"):
        bs.assess(data, targets, INDICATOR, as_of=2020, vintage_basis="as known")


def test_vintages_on_the_published_basis_see_the_revision_come(data, targets):
    vintages = bs.assess_vintages(data, targets, INDICATOR, "Jinan", vintage_basis="published")
    by_year = {v["as_of"]: v for v in vintages}
    assert list(by_year) == [2017, 2018, 2019, 2020, 2021, 2022]  # the years figures came out
    for year, v in by_year.items():
        expected = bs.assess(data, targets, INDICATOR, as_of=year, vintage_basis="published")
        assert v["probability"] == expected.probability
    # as of 2021 the revised 2019 figure (out in 2021) replaced the one 2020 knew
    assert by_year[2021]["why"]["reason"] == "revision"
    assert (by_year[2021]["why"]["old"], by_year[2021]["why"]["new"]) == (198, REVISED_2019)
    latest = bs.assess_vintages(data, targets, INDICATOR, "Jinan")
    assert {v["as_of"]: v["probability"] for v in latest}[2020] != by_year[2020]["probability"]


def test_next_year_on_the_published_basis(data, targets):
    result = bs.assess(data, targets, INDICATOR, as_of=2020, vintage_basis="published")
    coming = bs.next_year(data, targets, result, vintage_basis="published")
    known = _by_hand(targets, {y: v for y, v in BASE.items() if y <= 2019})
    by_hand = bs.next_year(known, targets, bs.assess(known, targets, INDICATOR, as_of=2020))
    assert coming["year"] == 2020 and coming == by_hand


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2021-13-01", "ISO date"),
        ("soon", "ISO date"),
        ("2018", "in or after 2019"),
        ("20210315", "ISO date"),
    ],
)
def test_bad_publication_dates_are_one_clear_error(tmp_path, targets, cell, expected):
    path = tmp_path / "bad.csv"
    values = {2018: 169, 2019: 198}
    path.write_text(_rows(values, {2018: "2019", 2019: cell}), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        bs.load_observations(path, targets=targets)
    problems = caught.value.problems
    assert len(problems) == 1
    assert (problems[0].file, problems[0].row, problems[0].column) == ("bad.csv", 3, "published")
    assert problems[0].value == cell and expected in problems[0].expected


def test_publication_years_dates_and_blanks_are_read(tmp_path, targets):
    path = tmp_path / "dates.csv"
    published = {2018: "2019年", 2019: "2020-07", 2020: "", 2021: "2022-01-31 00:00:00"}
    path.write_text(_rows({y: BASE[y] for y in published}, published), encoding="utf-8")
    data = bs.load_observations(path, targets=targets)
    assert data["published"].tolist() == [2019, 2020, pd.NA, 2022]
    # a blank counts as published in the figure's own year
    assert published_by(data, 2020)["year"].tolist() == [2018, 2019, 2020]


def test_the_basis_is_stated_in_both_languages():
    assert fmt.vintage_basis("latest", None) == "Figures: the latest, revisions included."
    assert fmt.vintage_basis("published", 2021) == (
        "Figures: as published by the end of 2021 (later revisions and figures left out)."
    )
    assert fmt.vintage_basis("published", 2021, "zh") == (
        "数据口径：截至2021年底已公布的数值（其后的修订和新数据不计）。"
    )
    assert fmt.vintage_basis("latest", None, "zh") == "数据口径：最新公布值（含修订）。"
    assert "2019" in fmt.vintage_basis("latest", 2019) and "revisions included" in (
        fmt.vintage_basis("latest", 2019)
    )
    table = pd.DataFrame({"vintage_basis": ["published", "published"], "as_of": [2020, 2020]})
    assert results.basis_markdown(table) == fmt.vintage_basis("published", 2020)
    mixed = pd.DataFrame({"vintage_basis": ["published", "latest"], "as_of": [2020, 2020]})
    assert results.basis_markdown(mixed, "zh") == fmt.word("basis_mixed", "zh")


def test_the_cli_assesses_on_the_published_basis(files, data, targets, capsys):
    base, revision = files
    args = ["assess", "--data", str(base), "--data", str(revision), "--indicator", INDICATOR,
            "--as-of", "2020", "--vintage-basis", "published"]  # fmt: skip
    assert main([*args, "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    expected = bs.assess(data, targets, INDICATOR, as_of=2020, vintage_basis="published")
    assert row["probability"] == expected.probability and row["last_year"] == 2019
    assert main(args) == 0
    assert "Figures: as published by the end of 2020" in capsys.readouterr().out


def test_a_wide_table_dates_the_whole_row(tmp_path, targets):
    """A yearbook row: every year's figure of the row was published when the row says."""
    path = tmp_path / "wide.csv"
    path.write_text(
        f"indicator,region,unit,published,2019年,2020年\n{INDICATOR},Jinan,个,2021-05-01,198,216\n",
        encoding="utf-8",
    )
    data = bs.load_observations(path, targets=targets)
    assert data["published"].tolist() == [2021, 2021]
    assert published_by(data, 2020).empty and len(published_by(data, 2021)) == 2


def test_sentences_are_spaced_as_each_language_writes():
    assert fmt.sentences("One.", "", "Two.") == "One. Two."
    assert fmt.sentences("一。", "二。", language="zh") == "一。二。"
