"""results: the records on disk, the scorecard gathered from one batch's runs, its HTML."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from brandstats import results
from brandstats.results import SCORECARD_COLUMNS


def _record(indicator: str, run_name: str, **extra) -> dict:
    record = dict.fromkeys(SCORECARD_COLUMNS)
    record.update(
        indicator=indicator, region="Jinan", group="enterprise", name_en=indicator,
        name_zh="指标", unit="count", comparison=">=", target=4400.0, target_year=2022,
        last_year=2021, last_value=4397.0, probability=0.7349, verdict="likely",
        run_name=run_name, history=[{"year": 2021, "value": 4397.0, "qualifier": "reported"}],
    )  # fmt: skip
    return {**record, **extra}


@pytest.fixture
def folder(tmp_path):
    """Three results (one from an earlier run) and a batch report that is not a result."""
    for name, indicator in (("a", "high_tech_enterprises"), ("b", "unicorn_firms"),
                            ("old", "gazelle_provincial_firms")):  # fmt: skip
        (tmp_path / f"{name}.json").write_text(json.dumps(_record(indicator, name)), "utf-8")
    (tmp_path / "batch.json").write_text(json.dumps({"jobs": 3}), "utf-8")
    return tmp_path


def test_read_results_keeps_only_the_named_runs(folder):
    table = results.read_results(folder, runs=["a", "b", "failed"])
    assert sorted(table["run_name"]) == ["a", "b"]
    assert table.attrs["missing"] == ["failed"]


def test_read_results_without_runs_reads_every_result(folder):
    table = results.read_results(folder)
    assert sorted(table["run_name"]) == ["a", "b", "old"]
    assert table.attrs["missing"] == []
    assert set(table["data"]) == {"real"}


def test_scorecard_html_links_rows_and_formats_values(folder):
    table = results.read_results(folder, runs=["a"])
    page = results.scorecard_html(table, language="en")
    assert '<a href="a.html">high_tech_enterprises</a>' in page
    assert "≥ 4,400 by 2022" in page and "73 %" in page and "4,397 (2021)" in page
    assert not re.search(r"\b(?:None|nan|NaN)\b", page)
    zh = results.scorecard_html(table, language="zh")
    assert "2022年 ≥ 4,400家" in zh and "73%" in zh and "可能" in zh and "济南" in zh


def test_write_result_creates_the_folder(tmp_path):
    path = results.write_result(_record("x", "ignored"), tmp_path / "new" / "dir", "run1")
    assert path == tmp_path / "new" / "dir" / "run1.json"
    assert json.loads(path.read_text("utf-8"))["run_name"] == "run1"


def test_write_scorecard_writes_csv_and_summary(folder):
    table = results.read_results(folder, runs=["a", "b"])
    path = results.write_scorecard(table, folder / "out", run_name="card")
    assert path.read_text("utf-8").startswith("\ufeffgroup,indicator")
    summary = json.loads((folder / "out" / "card.json").read_text("utf-8"))
    assert summary["runs"] == ["a", "b"]  # high_tech before unicorn, same goal
    assert summary["results"] == 2
    assert summary["scorecard"] == path.name  # beside it: a batch moves both from staging


def test_the_scorecard_csv_holds_next_years_record_as_json(folder):
    """Read back with pandas, the cell parses as JSON (it held Python's repr: None, False)."""
    coming = {"year": 2022, "value_for_even_odds": 5180.0, "reason": None, "strict": False}
    record = {**_record("high_tech_enterprises", "a"), "next_year": coming}
    (folder / "a.json").write_text(json.dumps(record), "utf-8")
    path = results.write_scorecard(results.read_results(folder, runs=["a"]), folder / "out")
    cell = pd.read_csv(path, encoding="utf-8-sig")["next_year_record"].iloc[0]
    assert json.loads(cell) == coming


def test_a_target_without_data_up_to_its_year_is_explained(targets, observations):
    from brandstats.parameters import check_parameters

    run = check_parameters({"indicator": "quality_product_bases", "language": "zh"})
    result, why = results.assess_run(run)
    assert result is None
    assert why.endswith("no observation up to 2022; the first is from 2024")
    zh = results.no_result_markdown(run, why, "zh")
    assert zh == (
        "# 山东省优质产品基地 — 济南\n\n*济南市品牌战略三年行动计划（2020—2022年）*\n\n"
        "- **目标**：2022年 ≥ 10个\n"
        "- **判断**：**无数据**（2022年及以前没有观测值；最早的观测值来自2024年）\n"
        "- **数据**：真实数据"
    )
    record = results.no_result_record(run, why)
    assert set(SCORECARD_COLUMNS) <= set(record)
    assert record["verdict"] == "no data" and record["history"][0]["qualifier"] == "as_of_august"


def test_backtest_scored_on_the_models_scale_says_so(targets, observations):
    from brandstats import assess

    # a percentage strictly inside (0, 100) is modelled on the logit scale (money is not)
    result = assess(observations, targets, "service_satisfaction", "Jinan")
    page = results.backtest_html(result, "en")
    assert "CRPS on the models&#x27; logit scale" in page  # the header, HTML-escaped
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    drift = cells[cells.index("drift") : cells.index("drift") + 4]
    assert re.fullmatch(r"0\.\d{1,5}", drift[3]), drift  # a logit-scale score, not a dash
    assert "连续分级概率评分（模型的对数几率尺度，越低越好）" in results.backtest_html(result, "zh")


# ----------------------------------------------------------------------------- issue 20, part 5


def test_progress_is_named_for_eurostats_method_with_its_base_year(targets, observations):
    from brandstats import assess
    from brandstats import format as fmt

    result = assess(observations, targets, "service_satisfaction", "Jinan")
    base = result.progress.base_year
    en, zh = (results.summary_markdown(result, lang) for lang in ("en", "zh"))
    category = fmt.category(result.progress.category, "zh")
    assert f"**Progress (Eurostat method)**: {result.progress.category} (since {base})" in en
    assert f"**进展评价（欧盟统计局方法）**：{category}（自{base}年）" in zh
    assert "官方口径" not in zh and "Official-style" not in en


def test_a_model_not_fitted_is_worded_in_each_language():
    import pandas as pd

    from brandstats import assess, validate_observations, validate_targets

    targets = validate_targets(pd.DataFrame(
        {"indicator": ["研发投入强度"], "unit": ["%"], "comparison": [">="], "target": ["2.5"],
         "target_year": ["2025"], "region": ["样例市"]}
    ))  # fmt: skip
    observations = validate_observations(pd.DataFrame(
        {"indicator": "研发投入强度", "region": "样例市", "year": range(2019, 2024),
         "value": [2.05, 2.12, 2.21, 2.30, 2.38], "unit": "%", "qualifier": "illustrative"}
    ), targets)  # fmt: skip
    result = assess(observations, targets, "研发投入强度", "样例市")
    assert "skipped" in set(result.backtest["status"])  # holt: needs 6 years, has 5
    en, zh = results.backtest_html(result, "en"), results.backtest_html(result, "zh")
    assert "status:" not in en and "status:" not in zh
    assert '<td class="short">not fitted</td>' in en and '<td class="short">无法拟合</td>' in zh


def test_the_scorecard_says_latest_data_for_a_run_on_all_data(folder):
    table = results.read_results(folder, runs=["a"])
    assert table["as_of"].isna().all()
    assert '<td class="short">最新数据</td>' in results.scorecard_html(table, language="zh")
    assert "全部数据" not in results.scorecard_html(table, language="zh")


def test_a_chinese_cell_as_wide_as_14_latin_letters_may_wrap():
    """A Chinese character is two columns wide: 真实数据（部分为界值） (22 columns) must wrap in
    a narrow window, or the scorecard's last column runs off the page; 4,397 (2021) need not."""
    from brandstats.results import _short

    assert _short("真实数据（部分为界值）") == ""
    assert _short("4,397 (2021)") == _short("济南市") == ' class="short"'
