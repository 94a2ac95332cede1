"""The command line: targets, validate and assess, in every output format."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from brandstats.cli import main

BAD_VALUES = re.compile(r"\b(NaN|nan|None|<NA>|NaT)\b")


def shipped_first_years(root) -> dict[tuple[str, str], list[int]]:
    """Observed years per (indicator, region), read with the csv module (not the package)."""
    years: dict[tuple[str, str], list[int]] = {}
    with (root / "data" / "observations.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            years.setdefault((row["indicator"], row["region"]), []).append(int(row["year"]))
    return {k: sorted(v) for k, v in years.items()}


def test_targets_formats(capsys):
    assert main(["targets", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    value = next(r for r in rows if r["indicator"] == "product_brand_value")
    assert (value["comparison"], value["target"], value["unit"]) == (">", 6e11, "yuan")
    assert main(["targets"]) == 0
    assert "> 6,000 亿元" in capsys.readouterr().out
    assert main(["targets", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("indicator,name_en,")


def test_validate_ok_and_failing(tmp_path, capsys, root):
    assert main(["validate", str(root / "data" / "observations.csv")]) == 0
    assert "ILLUSTRATIVE" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,region,year,value,unit\nhigh_tech_enterprises,Jinan,2020,x,家\n"
                   "high_tech_enterprises,Jinan,1066,1,家\n")  # fmt: skip
    assert main(["validate", str(bad), str(root / "data" / "targets.csv")]) == 1
    err = capsys.readouterr().err
    assert "bad.csv, row 2, column 'value'" in err
    assert "bad.csv, row 3, column 'year'" in err


def test_validate_counts_are_grammatical(tmp_path, capsys):
    one = tmp_path / "one.csv"
    one.write_text("indicator,region,year,value,unit\nhigh_tech_enterprises,Jinan,2020,1,家\n")
    assert main(["validate", str(one)]) == 0
    assert "1 observation of 1 indicator, 2020-2020" in capsys.readouterr().out
    two = tmp_path / "two.csv"
    two.write_text("indicator,region,year,value,unit\nhigh_tech_enterprises,Jinan,2020,1,家\n"
                   "service_satisfaction,Jinan,2020,80,%\n")  # fmt: skip
    assert main(["validate", str(two)]) == 0
    assert "2 observations of 2 indicators" in capsys.readouterr().out


def test_validate_checks_observations_against_a_targets_file_among_the_paths(
    tmp_path, capsys, root
):
    catalogue = (root / "data" / "targets.csv").read_text(encoding="utf-8").splitlines()
    header, *rows = catalogue
    own = [r for r in rows if r.startswith("product_brand_value,")]
    targets = tmp_path / "targets.csv"
    targets.write_text("\n".join([header, own[0].replace(",Jinan,", ",Alpha,")]) + "\n",
                       encoding="utf-8")  # fmt: skip
    data = tmp_path / "obs.csv"
    data.write_text("indicator,region,year,value,unit\nproduct_brand_value,Alpha,2020,4492,亿元\n"
                    "product_brand_value,Alpha,2021,5312,亿元\n", encoding="utf-8")  # fmt: skip
    assert main(["validate", str(targets), str(data)]) == 0
    out = capsys.readouterr().out
    assert "targets.csv: 1 indicator in 1 row, 1 with a target" in out
    assert "not assessed" not in out  # Alpha has its target in the file given


def test_validate_names_observed_regions_no_target_names(tmp_path, capsys):
    path = tmp_path / "regions.csv"
    path.write_text(
        "indicator,region,year,value,unit\n"
        "product_brand_value,济南市,2020,4492,亿元\n"  # an alias of Jinan: assessed as Jinan
        "product_brand_value,Jinan\u200b,2021,5312,亿元\n"  # a zero-width space
        "product_brand_value,Qingdao,2021,1000,亿元\n"  # no target names Qingdao
        "product_brand_value,Jnan,2021,1000,亿元\n"  # misspelt
    )
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "region '济南市' read as 'Jinan'" in out
    assert "product_brand_value: 2 observed regions that no target names, not assessed: " \
           "'Jnan', 'Qingdao'" in out  # fmt: skip


def test_validate_and_assess_read_a_named_sheet(capsys, root):
    book = root / "tests" / "data" / "bad" / "data_on_second_sheet.xlsx"
    assert main(["validate", f"{book}#数据"]) == 0
    assert "4 observations of 3 indicators" in capsys.readouterr().out
    assert main(["validate", str(book), "--sheet", "1"]) == 0
    assert "4 observations of 3 indicators" in capsys.readouterr().out
    assert main(["validate", str(book)]) == 0  # the sheet found by its columns
    assert f"ok   {book}: 4 observations of 3 indicators" in capsys.readouterr().out


def _assess(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["assess", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_repeated_indicator_flags_add_up(capsys):
    for args in (
        ["--indicator", "product_brand_value", "--indicator", "service_satisfaction"],
        ["--indicator", "product_brand_value", "service_satisfaction"],
    ):
        code, out, _ = _assess(capsys, *args, "--as-of", "2010", "--format", "json")
        assert code == 0
        assert [r["indicator"] for r in json.loads(out)] == [
            "product_brand_value", "service_satisfaction"
        ]  # fmt: skip


def test_assess_before_any_data_says_why_in_every_format(capsys, root):
    first = {k[0]: v[0] for k, v in shipped_first_years(root).items() if k[1] == "Jinan"}
    code, out, _ = _assess(capsys, "--as-of", "2010")
    assert code == 0
    assert not BAD_VALUES.search(out), out
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert f"no observation up to 2010; the first is from {first['product_brand_value']}" in (
        lines["product_brand_value"]
    )  # fmt: skip
    assert "the first is from 2015" in lines["product_brand_value"]  # data/README: 2015 on
    code, out, _ = _assess(capsys, "--as-of", "2010", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    code_json, out_json, _ = _assess(capsys, "--as-of", "2010", "--format", "json")
    records = json.loads(out_json)
    assert code == code_json == 0 and len(rows) == len(records) == 14
    for row, record in zip(rows, records, strict=True):
        expected = f"no observation up to 2010; the first is from {first[row['indicator']]}"
        assert expected in row["reason"] and expected in record["reason"]
        assert record["probability"] is None and row["probability"] == ""


def test_assess_base_year_missing_from_one_series_goes_on(capsys, root):
    years = shipped_first_years(root)
    code, out, _ = _assess(
        capsys, "--indicator", "specialised_enterprises", "product_brand_value",
        "--base-year", "2018", "--format", "json",
    )  # fmt: skip
    assert code == 0
    got = {r["indicator"]: r for r in json.loads(out)}
    assert 2018 not in years[("specialised_enterprises", "Jinan")]
    assert 2018 in years[("product_brand_value", "Jinan")]
    assert got["specialised_enterprises"]["progress_note"].startswith(
        "base year 2018 is not observed (observed: 2021"
    )
    assert got["product_brand_value"]["progress_category"] is not None
    assert 0 <= got["product_brand_value"]["probability"] <= 1
    assert got["product_brand_value"]["progress_note"] == ""


@pytest.mark.parametrize(
    ("indicator", "words"),
    [
        ("product_brand_valu", "not in the shipped targets (did you mean product_brand_value"),
        ("unicorn_firms", "is a context indicator without a target"),
    ],
)
def test_assess_unknown_indicator_suggests_the_closest(capsys, indicator, words):
    code, out, err = _assess(capsys, "--indicator", indicator)
    assert code == 1 and out == ""
    assert words in err and "[" not in err and "\n" not in err.strip()


def _assess_every_format(capsys, *args: str) -> tuple[str, list[dict], list[dict]]:
    """``brandstats assess`` as a table, then its CSV rows and its JSON records."""
    _, table, _ = _assess(capsys, *args)
    _, as_csv, _ = _assess(capsys, *args, "--format", "csv")
    _, as_json, _ = _assess(capsys, *args, "--format", "json")
    return table, list(csv.DictReader(io.StringIO(as_csv))), json.loads(as_json)


def test_assess_formats_agree(capsys, root):
    args = ["--indicator", "product_brand_value", "high_tech_enterprises"]
    table, rows, records = _assess_every_format(capsys, *args)
    assert [r["indicator"] for r in rows] == [r["indicator"] for r in records] == args[1:]
    value = records[0]
    # The target as the catalogue states it (data/targets.csv: > 6000 亿元 in 2022).
    assert (value["target"], value["comparison"], value["target_year"]) == (6e11, ">", 2022)
    assert float(rows[0]["probability"]) == pytest.approx(value["probability"], abs=1e-9)
    assert 0 < value["probability"] < 1 and value["illustrative"] is True
    shown = next(line for line in table.splitlines() if line.strip().startswith(args[1]))
    assert f" {round(value['probability'] * 100)} %" in shown and "ILLUSTRATIVE" in shown
    # high-tech enterprises: 2022 is observed (exceeded 5,700 >= 4,400): met, no probability
    tech = records[1]
    assert (tech["probability"], tech["verdict"], tech["actual"]) == (None, "met", 5700.0)
    assert rows[1]["probability"] == ""
    assert not BAD_VALUES.search(table), table
    # data/README.md: Shandong's high-tech figures are context, named rather than dropped
    assert "high_tech_enterprises: 1 observed region that no target names, not assessed: " \
           "'Shandong'" in table  # fmt: skip


def test_assess_region_by_alias_or_refused_with_the_closest(capsys):
    code, out, _ = _assess(capsys, "--region", "济南市", "--as-of", "2010", "--format", "json")
    assert code == 0 and {r["region"] for r in json.loads(out)} == {"Jinan"}
    code, out, err = _assess(capsys, "--region", "Jnan")
    assert code == 1 and out == ""
    assert "region 'Jnan' has no observations (did you mean Jinan?)" in err


def shipped_targets(root) -> dict[str, dict[str, str]]:
    """data/targets.csv read with the csv module, by indicator."""
    with (root / "data" / "targets.csv").open(encoding="utf-8") as f:
        return {row["indicator"]: row for row in csv.DictReader(f)}


def test_assess_gives_last_value_unit_and_target_in_every_format(capsys, root):
    args = ["--indicator", "product_brand_value", "service_satisfaction"]
    table, rows, records = _assess_every_format(capsys, *args)
    # data/observations.csv: product_brand_value 2021 = 5300 亿元, service_satisfaction 87.5 %
    assert [(r["last_year"], r["last_value"], r["unit"]) for r in records] == [
        (2021, 5300e8, "yuan"), (2021, 87.5, "percent")
    ]  # fmt: skip
    assert [(r["last_year"], float(r["last_value"]), r["target_year"]) for r in rows] == [
        ("2021", 5300e8, "2022"), ("2021", 87.5, "2022")
    ]  # fmt: skip
    value = next(line for line in table.splitlines() if "product_brand_value" in line)
    assert "5,300 亿元" in value and "> 6,000 亿元 by 2022" in value
    satisfaction = next(line for line in table.splitlines() if "service_satisfaction" in line)
    assert "87.5 %" in satisfaction and "≥ 88 % by 2022" in satisfaction


def test_assess_before_any_data_keeps_the_target(capsys, root):
    catalogue = shipped_targets(root)
    code, out, _ = _assess(capsys, "--as-of", "2010", "--format", "json")
    assert code == 0
    for record in json.loads(out):
        stated = catalogue[record["indicator"]]
        assert record["target"] == float(stated["target"])
        assert record["comparison"] == stated["comparison"]
        assert record["target_year"] == int(stated["target_year"])
        assert record["last_year"] is None and record["last_value"] is None
    _, as_csv, _ = _assess(capsys, "--as-of", "2010", "--format", "csv")
    for row in csv.DictReader(io.StringIO(as_csv)):  # 2022, not 2022.0 nor blank
        assert row["target_year"] == catalogue[row["indicator"]]["target_year"]


def test_assess_table_shows_the_base_year_note_beside_the_reason(capsys):
    _, table, _ = _assess(capsys, "--indicator", "taishan_quality_brands", "--base-year", "2016")
    line = next(line for line in table.splitlines() if "taishan_quality_brands" in line)
    assert "no model can be fitted" in line  # one observation (2019)
    assert "base year 2016 is not observed (observed: 2019)" in line


def test_run_refuses_an_unknown_indicator_and_zero_workers_before_anything(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--indicator", "food_pass_rat", "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "did you mean food_pass_rate" in err and "[" not in err
    with pytest.raises(SystemExit) as stop:
        main(["run", "--workers", "0", "--output", str(out)])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "--workers" in err and "running" not in err
    assert not out.exists()


def test_assess_says_why_a_rank_bound_has_no_progress(capsys):
    # review item 6 (engine, a few lines): the shipped 2020 rank is "11 or lower"
    code, out, _ = _assess(capsys, "--indicator", "public_service_rank", "--format", "json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["progress_category"] is None and row["progress_reason"] == "bound_only"
    code, out, _ = _assess(capsys, "--indicator", "public_service_rank")
    assert "not assessed (bound only)" in out


def test_assess_table_shortens_long_reasons_the_csv_keeps_them(capsys):
    from brandstats.cli import REASON_WIDTH

    table, rows, _ = _assess_every_format(capsys, "--indicator", "taishan_quality_brands")
    full = rows[0]["reason"]
    assert len(full) > 200 and full.startswith("no model can be fitted: drift needs")
    line = next(line for line in table.splitlines() if "taishan_quality_brands" in line)
    assert line.rstrip().endswith("no model can be fitted …")
    assert "drift needs" not in line  # the models' needs stay in the csv
    reason = line.rstrip()[line.rstrip().rindex("no model") :]
    assert len(reason) <= REASON_WIDTH
    assert "--format csv or json has them in full" in table
