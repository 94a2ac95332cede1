"""Loaders: formats, encodings, wide sheets, units, and one clear error per bad input."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brandstats import DataError, load_observations, load_targets
from brandstats.units import parse_number, parse_unit

TIDY = """indicator,region,year,value,unit,qualifier,source
product_brand_value,Jinan,2019,4256,亿元,reported,test
product_brand_value,Jinan,2020,44920000,万元,reported,test
high_tech_enterprises,Jinan,2019,2231,家,reported,test
high_tech_enterprises,Jinan,2021,"4,397",firms,reported,test
service_satisfaction,Jinan,2020,86.4,%,reported,测试
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def expected_tidy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": ["high_tech_enterprises"] * 2
            + ["product_brand_value"] * 2
            + ["service_satisfaction"],
            "region": ["Jinan"] * 5,
            "year": [2019, 2021, 2019, 2020, 2020],
            "value": [2231.0, 4397.0, 4256e8, 4492e8, 86.4],
            "unit": ["count", "count", "yuan", "yuan", "percent"],
        }
    )


def check_values(frame: pd.DataFrame) -> None:
    cols = ["indicator", "region", "year", "value", "unit"]
    pd.testing.assert_frame_equal(
        frame[cols].reset_index(drop=True), expected_tidy(), check_dtype=False, rtol=1e-12
    )


def test_shipped_targets_match_the_plan(targets):
    got = targets.set_index("indicator")
    plan = {  # plan-targets.md: id -> (comparison, target in canonical unit, unit)
        "product_brand_count": (">=", 300, "count"),
        "product_brand_value": (">", 6e11, "yuan"),
        "taishan_quality_brands": (">=", 8, "count"),
        "quality_product_bases": (">=", 10, "count"),
        "service_brand_count": (">=", 200, "count"),
        "service_brand_value": (">", 2e11, "yuan"),
        "service_satisfaction": (">=", 88, "percent"),
        "public_service_rank": ("<=", 10, "rank"),
        "cluster_leading_enterprises": (">=", 29, "count"),
        "specialised_enterprises": (">=", 600, "count"),
        "high_tech_enterprises": (">=", 4400, "count"),
        "industrial_pass_rate": (">=", 96, "percent"),
        "agricultural_pass_rate": (">=", 97, "percent"),
        "food_pass_rate": (">=", 98, "percent"),
    }
    for ind, (cmp, target, unit) in plan.items():
        assert (got.loc[ind, "comparison"], got.loc[ind, "target"], got.loc[ind, "unit"]) == (
            cmp, target, unit
        ), ind  # fmt: skip
        assert got.loc[ind, "target_year"] == 2022
    assert got["target"].notna().sum() == len(plan)
    assert np.isnan(got.loc["high_end_brand_cultivation_firms", "target"])


def test_shipped_observations_carry_sources_and_the_public_figures(observations, root):
    assert (observations["source"].str.len() > 5).all()
    public = pd.read_csv(root / "data" / "public_figures.csv")
    merged = public.merge(observations, on=["indicator", "region", "year"], suffixes=("", "_got"))
    assert len(merged) == len(public)
    np.testing.assert_array_equal(merged["value"], merged["value_got"])
    assert (merged["qualifier"] == merged["qualifier_got"]).all()
    illustrative = observations["qualifier"] == "illustrative"
    assert observations.loc[illustrative, "source"].str.startswith("ILLUSTRATIVE").all()
    assert not observations.loc[~illustrative, "source"].str.contains("ILLUSTRATIVE").any()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_load_the_same_frame(tmp_path, encoding):
    check_values(load_observations(write(tmp_path, "obs.csv", TIDY, encoding)))


@pytest.mark.parametrize("sep", [";", "\t"])
def test_other_delimiters(tmp_path, sep):
    text = TIDY.replace('"4,397"', "4397").replace(",", sep)
    check_values(load_observations(write(tmp_path, "obs.csv", text)))


def test_wide_xlsx_equals_tidy_csv(tmp_path):
    wide = pd.DataFrame(
        {
            "indicator": ["product_brand_value", "high_tech_enterprises", "service_satisfaction"],
            "region": ["Jinan"] * 3,
            "unit": ["亿元", "家", "%"],
            "2019年": [4256, 2231, None],
            "2020年": [4492, None, 86.4],
            "2021年": [None, 4397, None],
        }
    )
    path = tmp_path / "wide.xlsx"
    wide.to_excel(path, index=False)
    got = load_observations(path)
    tidy = load_observations(write(tmp_path, "tidy.csv", TIDY))
    pd.testing.assert_frame_equal(got.drop(columns="source"), tidy.drop(columns="source"))


def test_parquet_and_title_rows(tmp_path):
    frame = pd.read_csv(write(tmp_path, "t.csv", TIDY))
    frame.to_parquet(tmp_path / "obs.parquet")
    check_values(load_observations(tmp_path / "obs.parquet"))
    titled = "济南市品牌指标,,,,,,\n(单位见列),,,,,,\n" + TIDY
    check_values(load_observations(write(tmp_path, "titled.csv", titled)))


def test_number_spellings():
    assert parse_number("1,234") == (1234.0, None)
    assert parse_number(" 5 700 ") == (5700.0, None)
    assert parse_number("５７００") == (5700.0, None)
    assert parse_number("6000亿元") == (6000.0, parse_unit("亿元"))
    assert parse_number("#N/A") is None
    assert parse_number("=SUM(A1:A3)") is None
    assert parse_unit("亿元").factor == 1e8
    assert parse_unit("万元").factor == 1e4
    assert parse_unit("Billion Yuan").factor == 1e9
    assert parse_unit("％").canonical == "percent"  # full-width percent sign


def test_inputs_are_never_modified(tmp_path):
    path = write(tmp_path, "obs.csv", TIDY, "gbk")
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
    load_observations(path)
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obs.csv"]


def test_placeholder_values_are_left_out_and_reported(tmp_path):
    text = TIDY + "product_brand_count,Jinan,2020,-,个,reported,x\n"
    got = load_observations(write(tmp_path, "obs.csv", text))
    assert "product_brand_count" not in set(got["indicator"])
    assert got.attrs["skipped_rows"] == [7]


HEADER = "indicator,region,year,value,unit\n"
BAD_OBSERVATIONS = [
    # (name, body lines after the header, row, column, words expected in the message)
    ("non-numeric", "high_tech_enterprises,Jinan,2020,many,家", 2, "value", "a number"),
    ("unit mismatch", "high_tech_enterprises,Jinan,2020,5,亿元", 2, "unit", "a count unit"),
    ("unknown unit", "high_tech_enterprises,Jinan,2020,5,furlongs", 2, "unit", "a known unit"),
    ("negative count", "high_tech_enterprises,Jinan,2020,-5,家", 2, "value", "non-negative"),
    ("percent > 100", "service_satisfaction,Jinan,2020,120,%", 2, "value", "between 0 and 100"),
    ("year text", "high_tech_enterprises,Jinan,twenty,5,家", 2, "year", "whole year"),
    ("year range", "high_tech_enterprises,Jinan,1800,5,家", 2, "year", "between 1949 and 2100"),
    ("year fraction", "high_tech_enterprises,Jinan,2020.5,5,家", 2, "year", "whole year"),
    ("unknown indicator", "high_tech_enterprise,Jinan,2020,5,家", 2, "indicator",
     "did you mean 'high_tech_enterprises'"),
    ("duplicate", "high_tech_enterprises,Jinan,2020,5,家\nhigh_tech_enterprises,Jinan,2020,6,家",
     3, "year", "also on row 2"),
    ("fractional count", "high_tech_enterprises,Jinan,2020,5.5,家", 3 - 1, "value", "whole number"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "row", "column", "words"), BAD_OBSERVATIONS)
def test_bad_observations_name_file_row_column(tmp_path, case, body, row, column, words):
    path = write(tmp_path, "bad_obs.csv", HEADER + body + "\n")
    with pytest.raises(DataError) as info:
        load_observations(path)
    problem = info.value.problems[0]
    assert (problem.file, problem.row, problem.column) == ("bad_obs.csv", row, column), case
    assert words in str(info.value)
    assert f"bad_obs.csv, row {row}, column '{column}'" in str(info.value)


def test_every_problem_is_listed(tmp_path):
    body = "high_tech_enterprises,Jinan,2020,x,家\nservice_satisfaction,Jinan,2021,101,%\n"
    with pytest.raises(DataError) as info:
        load_observations(write(tmp_path, "two.csv", HEADER + body))
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "value"), (3, "value")]
    assert isinstance(info.value, ValueError)


def test_missing_columns_and_empty_files(tmp_path):
    with pytest.raises(DataError, match=r"nocol.csv, column 'unit': expected a column 'unit'"):
        load_observations(write(tmp_path, "nocol.csv", "indicator,region,year,value\n"))
    with pytest.raises(DataError, match=r"empty.csv: expected a table .* empty"):
        load_observations(write(tmp_path, "empty.csv", ""))
    with pytest.raises(DataError, match=r"header.csv: expected at least one observation"):
        load_observations(write(tmp_path, "header.csv", HEADER))
    with pytest.raises(DataError, match=r"row 1: got 'foo, bar'; expected a header row"):
        load_observations(write(tmp_path, "noheader.csv", "foo,bar\n1,2\n"))
    with pytest.raises(DataError, match=r"looks like binary data"):
        load_observations(write(tmp_path, "bin.csv", "\x00\x01\x02PK"))
    with pytest.raises(DataError, match=r"an existing file"):
        load_observations(tmp_path / "missing.csv")


def test_bad_targets(tmp_path):
    head = "indicator,unit,comparison,target,target_year\n"
    cases = [
        ("x_count,count,,300,2022", "comparison", "a comparison: one of >, >=, <, <="),
        ("x_count,count,>=,300,3000", "target_year", "a year between 1949 and 2100"),
        ("x_count,count,>=,lots,2022", "target", "a number"),
        ("x_count,parsecs,>=,3,2022", "unit", "a unit"),
        ("x_count,count,>=,,2022", "target", "a target value"),
    ]
    for body, column, words in cases:
        with pytest.raises(DataError) as info:
            load_targets(write(tmp_path, "targets.csv", head + body + "\n"))
        problem = info.value.problems[0]
        assert (problem.file, problem.row, problem.column) == ("targets.csv", 2, column), body
        assert words in str(info.value), body


def test_user_targets_declare_new_indicators_and_convert_units(tmp_path):
    text = (
        "indicator,unit,comparison,target,target_year,region\n"
        "tourism_revenue,亿元,≥,1500,2025,Jinan\n"
        "tourism_revenue,亿元,≥,900,2025,Qingdao\n"
    )
    targets = load_targets(write(tmp_path, "t.csv", text))
    assert targets["target"].tolist() == [1.5e11, 9e10]
    assert targets["comparison"].tolist() == [">=", ">="]
    obs = load_observations(
        write(tmp_path, "o.csv", HEADER + "tourism_revenue,Jinan,2023,120000000000,yuan\n"),
        targets=targets,
    )
    assert obs["value"].tolist() == [1.2e11]
    with pytest.raises(DataError, match=re.escape("did you mean 'tourism_revenue'")):
        load_observations(
            write(tmp_path, "o2.csv", HEADER + "tourism_revenues,Jinan,2023,1,亿元\n"),
            targets=targets,
        )


# ----------------------------------------------------------------------------- issue 11

BAD = Path(__file__).parent / "data" / "bad"


def test_percent_formatted_cells_are_read_as_excel_shows_them(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["indicator", "region", "year", "value", "unit"])
    formats = ["0.0%", "[Red]0.00%", '0.0"%"', "General"]  # '"%"' is a literal sign, not x100
    for i, number_format in enumerate(formats):  # a region each: mixed in one series, the
        sheet.append(["service_satisfaction", f"R{i}", 2018, 0.852, "%"])  # x100 jump is refused
        sheet.cell(row=i + 2, column=4).number_format = number_format
    book.save(tmp_path / "p.xlsx")
    got = load_observations(tmp_path / "p.xlsx")["value"].tolist()
    assert got == [85.2, 85.2, 0.852, 0.852]


def test_a_stray_cell_at_the_sheet_corner_is_read_in_little_memory():
    """A cell at XFD1048576 declares 17 billion cells; reading must follow the data instead.
    Run in a process limited to 1.5 GB of address space (the old reader needed far more)."""
    import subprocess
    import sys

    code = (
        "import resource, sys\n"
        "limit = 1536 * 2**20\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        "from brandstats import load_observations\n"
        "frame = load_observations(sys.argv[1])\n"
        "print(len(frame), frame['value'].sum())\n"
    )
    path = BAD / "stray_cell_far_corner.xlsx"
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["4", str(4256e8 + 4492e8 + 2231 + 86.4)]


def test_a_sheet_named_after_hash_in_the_path(targets):
    path = BAD / "data_on_second_sheet.xlsx"
    by_hash = load_observations(f"{path}#数据", targets=targets)
    pd.testing.assert_frame_equal(by_hash, load_observations(path, targets=targets, sheet=1))
    assert len(by_hash) == 4
    with pytest.raises(DataError, match=re.escape("one sheet, not both '数据' (after #) and 0")):
        load_observations(f"{path}#数据", targets=targets, sheet=0)


def test_regions_are_normalised_and_mapped_through_aliases(tmp_path):
    from brandstats.loading import region_aliases, untargeted_regions

    shipped = region_aliases()
    assert shipped["济南"] == shipped["济南市"] == "Jinan"
    text = (
        "indicator,unit,comparison,target,target_year,region,aliases\n"
        "x_count,个,>=,10,2025,Lixia,历下;历下区、Lixia District\n"
        "x_count,个,>=,10,2025,济南市,\n"
    )
    targets = load_targets(write(tmp_path, "t.csv", text))
    assert sorted(targets["region"]) == ["Jinan", "Lixia"]
    text = HEADER + "".join(
        f"x_count,{region},{2015 + i},{i},个\n"
        for i, region in enumerate(["历下区", " lixia district", "Lixia\u200b", "济南", "Tsinan",
                                    "JINAN", "Licheng", "Jinan\x00"])
    )  # fmt: skip
    obs = load_observations(write(tmp_path, "o.csv", text), targets=targets)
    assert obs["region"].tolist() == ["Jinan"] * 4 + ["Licheng"] + ["Lixia"] * 3
    assert obs.attrs["renamed_regions"]["历下区"] == "Lixia"
    assert untargeted_regions(obs, targets) == {"x_count": ["Licheng"]}


def test_untargeted_regions_skip_targets_for_every_region(targets, observations, root):
    import csv

    from brandstats.loading import untargeted_regions

    def rows(name: str) -> list[dict[str, str]]:
        with (root / "data" / name).open(encoding="utf-8") as f:
            return list(csv.DictReader(f))

    named: dict[str, set[str]] = {}
    for t in rows("targets.csv"):
        if t["target"]:
            named.setdefault(t["indicator"], set()).add(t["region"])
    expected: dict[str, set[str]] = {}
    for o in rows("observations.csv"):
        regions = named.get(o["indicator"], {""})
        if "" not in regions and o["region"] not in regions:
            expected.setdefault(o["indicator"], set()).add(o["region"])
    found = untargeted_regions(observations, targets)
    assert found == {k: sorted(v) for k, v in expected.items()}
    # data/README.md: Shandong figures of high-tech enterprises are kept as context
    assert found["high_tech_enterprises"] == ["Shandong"]
    everywhere = targets.assign(region="")
    assert untargeted_regions(observations, everywhere) == {}


def test_read_table_is_the_public_reader(tmp_path):
    from brandstats.loading import read_table

    table = read_table(BAD / "header_on_row3.csv")
    assert list(table.columns) == ["_row", "indicator", "region", "year", "value", "unit",
                                   "qualifier", "source"]  # fmt: skip
    assert table["_row"].tolist() == [4, 5, 6, 7]
    assert table.attrs["header_row"] == 3


@pytest.mark.parametrize("text", ["Jinan\u200b", "Café"])
def test_utf8_whose_only_non_ascii_is_western_or_invisible_is_not_read_as_gbk(tmp_path, text):
    """A zero-width space or an é is valid GBK too (鈥, 茅): such a file is UTF-8."""
    path = tmp_path / "obs.csv"
    path.write_bytes(
        f"indicator|region|year|unit|value|source\nproduct_brand_count|Jinan|2020|count|5|{text}\n"
        .encode()
    )  # fmt: skip
    frame = load_observations(path, targets=load_targets())
    assert frame["source"].tolist() == [text.replace("\u200b", "")]
