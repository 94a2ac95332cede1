"""A plan of one's own (issue 20): free groups, ids in any script, one workbook holding the
targets and the observations with a bureau's Chinese headers, the plan's name on every page.

The second plan here is made up (样例市, a city that does not exist); every figure is marked
illustrative.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from brandstats import DataError, load_observations, load_targets
from brandstats.cli import main
from brandstats.loading import plan_name, series_gaps, workbook_sheets

PLAN_ZH = "样例市科技创新三年行动计划（2023—2025年）"
TARGETS = [  # a bureau's sheet: a title row, a blank row, then the table
    ["样例市科技创新行动计划目标（示意）"],
    [],
    ["指标代码", "指标名称", "类别", "单位", "比较", "目标值(亿元)", "目标年份", "地区", "说明",
     "计划名称"],
    ["高新技术产业产值", "高新技术产业产值", "科技创新", None, ">=", 2500, 2025, "样例市",
     "示意目标，非真实", PLAN_ZH],
    ["创新型企业数量", None, "科技创新", "家", ">=", 800, 2025, "样例市", None, None],
    ["研发投入强度", "研发经费投入强度", "创新环境", "%", ">=", 2.5, 2025, "样例市",
     "R&D经费占GDP比重", None],
]  # fmt: skip
SERIES = {  # made up; 创新型企业数量 has no figure for 2022 (a gap)
    "高新技术产业产值": ("亿元", {2019: 1520, 2020: 1690, 2021: 1850, 2022: 2040, 2023: 2210}),
    "创新型企业数量": ("家", {2019: 420, 2020: 480, 2021: 530, 2023: 650}),
    "研发投入强度": ("%", {2019: 2.05, 2020: 2.12, 2021: 2.21, 2022: 2.30, 2023: 2.38}),
}


def write_book(path: Path, series: dict = SERIES, targets: list = TARGETS) -> Path:
    """The plan as one workbook: a 目标 sheet and a 观测数据 sheet, Chinese headers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "目标"
    for row in targets:
        sheet.append(row)
    sheet = book.create_sheet("观测数据")
    sheet.append(["指标代码", "地区", "年份", "数值", "单位", "限定", "说明"])
    for indicator, (unit, values) in series.items():
        for year, value in values.items():
            sheet.append([indicator, "样例市", year, value, unit, "illustrative", "示意数据"])
    book.save(path)
    return path


@pytest.fixture
def book(tmp_path) -> Path:
    return write_book(tmp_path / "my_plan.xlsx")


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8-sig")  # as Excel saves CSV UTF-8
    return path


# ----------------------------------------------------------------------------- loading


def test_one_workbook_holds_the_plan_found_by_its_columns(book):
    assert workbook_sheets(book) == {"targets": ["目标"], "observations": ["观测数据"]}
    targets = load_targets(book)  # the 目标 sheet, though another sheet comes later
    assert list(targets["indicator"]) == ["高新技术产业产值", "创新型企业数量", "研发投入强度"]
    assert list(dict.fromkeys(targets["group"])) == ["科技创新", "创新环境"]  # as written
    assert targets["target"].tolist() == [2500e8, 800, 2.5]  # 目标值(亿元): 2500 亿元
    assert targets["unit"].tolist() == ["yuan", "count", "percent"]
    assert targets["note"].tolist() == ["示意目标，非真实", "", "R&D经费占GDP比重"]  # 说明
    assert plan_name(targets, "zh") == plan_name(targets, "en") == PLAN_ZH  # one name, both
    assert not targets.attrs["shipped"]
    observations = load_observations(book)  # checked against its own 目标 sheet
    assert len(observations) == 14 and set(observations["qualifier"]) == {"illustrative"}
    assert observations.attrs["file"] == "my_plan.xlsx#观测数据"  # messages name the sheet
    assert series_gaps(observations) == {("创新型企业数量", "样例市"): [2022]}
    same = load_observations(book, targets=book)
    pd.testing.assert_frame_equal(observations, same)


def test_names_fall_back_in_each_language(tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        "indicator,name_en,name_zh,name,unit,comparison,target,target_year\n"
        "a,,只有中文,,%,>=,50,2025\n"
        "b,English only,,,%,>=,50,2025\n"
        "c,,,,%,>=,50,2025\n"
        "d,,,一个名称,%,>=,50,2025\n"
        "e,Own,自己的,名称,%,>=,50,2025\n",
    )
    names = load_targets(path).set_index("indicator")[["name_en", "name_zh"]]
    assert names.to_dict("index") == {
        "a": {"name_en": "只有中文", "name_zh": "只有中文"},
        "b": {"name_en": "English only", "name_zh": "English only"},
        "c": {"name_en": "c", "name_zh": "c"},
        "d": {"name_en": "一个名称", "name_zh": "一个名称"},
        "e": {"name_en": "Own", "name_zh": "自己的"},
    }


@pytest.mark.parametrize("indicator", ["创新型企业数量", "é_rate", "a-1", "R&D"[:1] + "d_2"])
def test_an_id_may_be_letters_of_any_script(tmp_path, indicator):
    path = write_csv(
        tmp_path / "t.csv",
        f"indicator,unit,comparison,target,target_year\n{indicator},%,>=,5,2025\n",
    )
    assert load_targets(path)["indicator"].tolist() == [indicator.lower()]


@pytest.mark.parametrize(
    ("indicator", "shown"),
    [("a/b", "'/' (U+002F)"), ("创新#企业", "'#' (U+0023)"), ("growth%", "'%' (U+0025)"),
     ("r&d", "'&' (U+0026)"), ("a:b", "':' (U+003A)"), ("1st_rate", None), ("_x", None)],
)  # fmt: skip
def test_an_id_a_file_name_cannot_hold_is_refused_by_name(tmp_path, indicator, shown):
    path = write_csv(
        tmp_path / "t.csv",
        f"indicator,unit,comparison,target,target_year\n{indicator},%,>=,5,2025\n",
    )
    with pytest.raises(DataError) as error:
        load_targets(path)
    (problem,) = error.value.problems
    assert (problem.file, problem.row, problem.column) == ("t.csv", 2, "indicator")
    assert (
        "letters of any script" in problem.expected and "starting with a letter" in problem.expected
    )
    if shown:
        assert f"it has {shown}, which a report's file name or link cannot hold" in problem.expected
    assert "\n" not in str(problem)


def test_group_labels_and_the_plan_are_written_once_and_must_agree(tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        "indicator,group,group_en,group_zh,plan_en,unit,comparison,target,target_year\n"
        "a,tech,Innovation,科技创新,My plan,%,>=,5,2025\n"
        "b,tech,,,,%,>=,5,2025\n"
        "c,env,,,,%,>=,5,2025\n",
    )
    targets = load_targets(path)
    assert targets["group_zh"].tolist() == ["科技创新", "科技创新", ""]
    assert plan_name(targets, "zh") == "My plan"  # the English name stands in
    bad = write_csv(
        tmp_path / "bad.csv",
        "indicator,group,group_zh,plan,unit,comparison,target,target_year\n"
        "a,tech,科技创新,Plan A,%,>=,5,2025\n"
        "b,tech,创新,Plan B,%,>=,5,2025\n",
    )
    with pytest.raises(DataError) as error:
        load_targets(bad)
    found = {(p.row, p.column, p.value) for p in error.value.problems}
    assert found == {(3, "group_zh", "创新"), (3, "plan_en", "Plan B"), (3, "plan_zh", "Plan B")}
    assert "as row 2: '科技创新'" in str(error.value)


@pytest.mark.parametrize(
    ("header", "unit_cell", "target"),
    [("目标值(亿元)", "", 2500e8), ("目标值（亿元）", "", 2500e8), ("目标值 (万元)", "", 2500e4),
     ("target (%)", "", 2500), ("目标值(亿元)", "亿元", 2500e8), ("目标值(亿元)", "家", 2500)],
)  # fmt: skip
def test_a_target_headed_with_its_unit(tmp_path, header, unit_cell, target):
    comparison = "<=" if header == "target (%)" else ">="
    path = write_csv(
        tmp_path / "t.csv",
        f"indicator,{header},单位,比较,目标年份\nx,2500,{unit_cell},{comparison},2025\n".replace(
            "2500", "25" if header == "target (%)" else "2500"
        ),
    )
    expected = 25 if header == "target (%)" else target
    assert load_targets(path)["target"].tolist() == [expected]


def test_a_target_unit_cell_at_odds_with_the_header_is_refused(tmp_path):
    path = write_csv(
        tmp_path / "t.csv", "indicator,目标值(亿元),单位,比较,目标年份\nx,2500,万元,>=,2025\n"
    )
    with pytest.raises(DataError) as error:
        load_targets(path)
    (problem,) = error.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "unit", "万元")
    assert "the unit of the column '目标值(亿元)' (亿元), or a blank cell" in problem.expected


def test_a_percent_series_stored_as_fractions_is_refused_by_name(tmp_path, book):
    fractions = {"研发投入强度": ("%", {2019: 0.0231, 2020: 0.0252, 2021: 0.0273, 2022: 0.0293})}
    path = write_book(tmp_path / "fractions.xlsx", series=fractions)
    with pytest.raises(DataError) as error:
        load_observations(path)
    (problem,) = error.value.problems
    assert (problem.file, problem.row, problem.column) == ("fractions.xlsx#观测数据", 5, "value")
    assert "0.0293 looks like a fraction: 2.93 %?" in problem.expected
    assert "the target (>= 2.5 %)" in problem.expected
    # small real percentages, a hundred times too small to be fractions of the target, load
    small = {"研发投入强度": ("%", {2019: 0.3, 2020: 0.5, 2021: 0.9})}
    assert len(load_observations(write_book(tmp_path / "small.xlsx", series=small))) == 3


def test_observations_checked_against_the_shipped_targets_say_so(tmp_path):
    path = write_csv(
        tmp_path / "obs.csv",
        "指标代码,地区,年份,数值,单位,说明\n"
        + "".join(f"创新型企业数量,样例市,{y},{400 + y % 10},家,示意\n" for y in range(2015, 2024))
        + "研发投入强度,样例市,2023,2.4,%,\n"
        + "product_brand_valu,Jinan,2023,5000,亿元,\n",  # a typo: named on its own row
    )
    with pytest.raises(DataError) as error:
        load_observations(path)
    first, typo = error.value.problems
    assert (first.file, first.row, first.column) == ("obs.csv", 2, "indicator")
    assert first.value == "创新型企业数量, 研发投入强度"
    assert "shipped targets (data/targets.csv)" in first.expected
    assert "10 rows name 2 indicators it does not declare" in first.expected
    assert "--targets FILE" in first.expected and "targets=FILE" in first.expected
    assert (typo.row, typo.value) == (12, "product_brand_valu")
    assert "did you mean 'product_brand_value'" in typo.expected


def test_two_observation_sheets_ask_which(tmp_path, book):
    two = openpyxl.load_workbook(book)
    two.copy_worksheet(two["观测数据"]).title = "观测数据2"
    two.save(tmp_path / "two.xlsx")
    with pytest.raises(DataError, match=r"sheets '观测数据', '观测数据2' all hold observations"):
        load_observations(tmp_path / "two.xlsx")
    assert len(load_observations(f"{tmp_path / 'two.xlsx'}#观测数据2")) == 14


# ----------------------------------------------------------------------------- names on pages


def test_run_names_keep_the_indicator_and_the_region_in_any_script(book):
    from brandstats.batch import plan_runs
    from brandstats.batch.plan import _slug

    jobs = plan_runs(load_observations(book), load_targets(book))
    assert [j.name for j in jobs] == [
        "高新技术产业产值_样例市", "创新型企业数量_样例市", "研发投入强度_样例市"
    ]  # fmt: skip
    assert {j.parameters["title"] for j in jobs} == {PLAN_ZH}  # the plan's name, for print
    assert _slug("历下区") == "历下区" and _slug("Jinan") == "Jinan"
    # what a file name or a link cannot hold becomes '-', with a hash of the text as written:
    # the same text always gives the same name, and two texts never the same one
    assert re.fullmatch(r"Lixia-District-[0-9a-f]{6}", _slug("Lixia District"))
    assert _slug("a/b") != _slug("a b") and _slug("a/b") == _slug("a/b")
    assert _slug("a%b").startswith("a-b-") and "#" not in _slug("区#1")
    long = _slug("创" * 100)
    assert len(long.encode()) <= 200 and long.startswith("创" * 60)


def test_regions_and_groups_named_in_each_language():
    from brandstats import format as fmt

    assert fmt.region("Jinan", "zh") == "济南" and fmt.region("Qingdao", "zh") == "青岛"
    assert fmt.region("样例市", "zh") == fmt.region("样例市", "en") == "样例市"
    assert fmt.region("Jinan", "en") == "Jinan"
    row = {"group": "tech", "group_en": "", "group_zh": "科技创新"}
    assert fmt.group_name(row, "zh") == fmt.group_name(row, "en") == "科技创新"
    assert fmt.group_name({"group": "科技创新"}, "en") == "科技创新"
    assert fmt.group_name({"group": "context"}, "zh") == "背景指标"
    assert fmt.group_name({"group": "likely"}, "zh") == "likely"  # a label, never a verdict
    # firms are counted with 家 whatever the script of their id
    assert fmt.quantity(650, "count", "zh", indicator="创新型企业数量") == "650家"
    assert fmt.quantity(650, "count", "zh", indicator="专利数量") == "650个"


def test_the_printed_page_carries_the_runs_title():
    import nbformat

    from brandstats.htmlreport import export_html

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# x")])
    nb.metadata["papermill"] = {"parameters": {"title": 'Plan "A"\n<b>'}}
    assert '@top-left { content: "Plan \\"A\\" \\3c b>"' in export_html(nb, title="x")
    nb.metadata["papermill"] = {"parameters": {}}
    assert '@top-left { content: ""' in export_html(nb, title="x")  # no name, no header


# ----------------------------------------------------------------------------- command line


def test_validate_finds_both_sheets_and_lists_the_gap(book, capsys):
    assert main(["validate", str(book)]) == 0
    out = capsys.readouterr().out
    assert f"ok   {book}#目标: 3 indicators in 3 rows, 3 with a target" in out
    assert f"ok   {book}#观测数据: 14 observations of 3 indicators, 2019-2023" in out
    assert "warning: 创新型企业数量 (样例市) has no figure for 2022" in out


@pytest.mark.parametrize("sheet", ["", "#观测数据"])
def test_assess_a_workbook_against_its_own_targets(book, capsys, sheet):
    assert main(["assess", "--data", f"{book}{sheet}", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["indicator"] for r in records] == [
        "高新技术产业产值",
        "创新型企业数量",
        "研发投入强度",
    ]
    assert all(0 <= r["probability"] <= 1 and r["illustrative"] for r in records)


def test_a_mistyped_indicator_suggests_each_id_once_from_the_targets_in_use(tmp_path, capsys):
    targets = write_csv(
        tmp_path / "targets.csv",
        "indicator,region,unit,comparison,target,target_year\n"
        + "".join(f"innovation_firms,{r},家,>=,800,2025\n" for r in ("A", "B", "C"))
        + "innovation_funds,A,亿元,>=,10,2025\n",
    )
    data = write_csv(
        tmp_path / "obs.csv",
        "indicator,region,year,value,unit\n"
        + "".join(f"innovation_firms,{r},2023,600,家\n" for r in ("A", "B", "C")),
    )
    code = main(["assess", "--data", str(data), "--targets", str(targets), "--indicator",
                 "innovation_firm"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "(did you mean innovation_firms, innovation_funds?)" in err
    assert f"`brandstats targets --targets {targets}` lists them" in err
    assert err.count("innovation_firms") == 1


def test_help_assumes_no_plan(capsys):
    from brandstats.cli import build_parser

    text = build_parser().format_help()
    assert "Will a plan's targets be met" in text and "Will Jinan's" not in text
    for command in ("run", "assess", "validate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "workbook" in capsys.readouterr().out


# ----------------------------------------------------------------------------- run, en and zh


def _text(page: Path) -> str:
    body = re.sub(r"<style.*?</style>|<script.*?</script>", "", page.read_text("utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.mark.slow
def test_a_second_plan_runs_in_english_and_chinese(book, tmp_path, capsys):
    en, zh = tmp_path / "en", tmp_path / "zh"
    assert main(["run", "--data", str(book), "--output", str(en), "--workers", "2"]) == 0
    title = "我的计划 & <b>"
    assert main(["run", "--data", str(book), "--output", str(zh), "--language", "zh",
                 "--title", title, "--workers", "2"]) == 0  # fmt: skip
    capsys.readouterr()
    names = ["高新技术产业产值_样例市", "创新型企业数量_样例市", "研发投入强度_样例市"]
    for out in (en, zh):
        for name in names:  # the indicator's and the region's own names: no hash
            for ext in (".ipynb", ".html", ".json"):
                assert (out / f"{name}{ext}").is_file(), out / f"{name}{ext}"
        for notebook in out.glob("*.ipynb"):  # JupyterLab would show stderr in red
            cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
            assert not [o for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    page = _text(en / "研发投入强度_样例市.html")
    assert "研发经费投入强度 — 样例市" in page and PLAN_ZH in page  # no name_en: the Chinese name
    assert "Progress (Eurostat method)" in page
    card = _text(en / "scorecard.html")
    assert f"Scorecard: {PLAN_ZH}" in card
    assert card.index("科技创新") < card.index("创新环境")  # the groups in the file's order
    assert f'content: "{PLAN_ZH}"' in (en / "scorecard.html").read_text("utf-8")  # printed
    page = _text(zh / "创新型企业数量_样例市.html")
    assert "创新型企业数量 — 样例市" in page and "我的计划 &amp; &lt;b&gt;" in page  # literal
    assert "计分卡：我的计划" in _text(zh / "scorecard.html")
    sheet = openpyxl.load_workbook(zh / "scorecard.xlsx")["计分卡"]
    assert sheet.oddHeader.left.text == "我的计划 && <b>"
    assert [sheet.cell(r, 1).value for r in (2, 3, 4)] == ["科技创新", "科技创新", "创新环境"]
    links = {sheet.cell(r, 2).hyperlink.target for r in (2, 3, 4)}
    assert links == {f"{n}.html" for n in names}


@pytest.mark.slow
def test_the_plans_name_may_come_from_a_batch_config(book, tmp_path, capsys):
    config = tmp_path / "runs.yaml"
    config.write_text('defaults:\n  title: "来自配置的计划"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", "--data", str(book), "--config", str(config), "--output", str(out),
                 "--indicator", "研发投入强度"]) == 0  # fmt: skip
    capsys.readouterr()
    for page in ("scorecard.html", "研发投入强度_样例市.html"):
        assert '@top-left { content: "来自配置的计划"' in (out / page).read_text("utf-8")
    assert "Scorecard: 来自配置的计划" in _text(out / "scorecard.html")


def test_the_readmes_own_plan_is_a_workbook_that_validates(tmp_path, root, capsys):
    """The two tables of README.md's "Your own plan", typed into a workbook as they are shown,
    validate; the plan's name is the one its Python lines print."""
    section = (root / "README.md").read_text("utf-8").split("## Your own plan")[1].split("\n## ")[0]
    tables = re.findall(r"((?:^\|.*\|\n)+)", section, flags=re.M)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, table in zip(("目标", "观测数据"), tables[:2], strict=True):
        sheet = book.create_sheet(title)
        for line in table.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not set("".join(cells)) <= set("-"):  # the |---| line
                sheet.append([float(c) if re.fullmatch(r"[\d.]+", c) else c or None for c in cells])
    book.save(tmp_path / "my_plan.xlsx")
    assert main(["validate", str(tmp_path / "my_plan.xlsx")]) == 0
    assert "my_plan.xlsx#观测数据: 2 observations of 2 indicators" in capsys.readouterr().out
    named = re.search(r"bs\.plan_name\(targets, \"zh\"\)\s+# '(.+)'", section).group(1)
    assert plan_name(load_targets(tmp_path / "my_plan.xlsx"), "zh") == named


def test_a_real_small_share_towards_a_target_loads(tmp_path, book):
    """Malta's renewable share, 0.102 % (2004) ... 0.221 % (2009) towards 10 % in 2020 (Eurostat
    nrg_ind_ren, in the calibration hold-out): published with 3 decimals, not fractions."""
    small = {"研发投入强度": ("%", {2004: 0.102, 2006: 0.149, 2008: 0.195, 2009: 0.221})}
    targets = load_targets(write_book(tmp_path / "t.xlsx", series=small))
    targets.loc[targets["indicator"] == "研发投入强度", "target"] = 10.0
    path = write_book(tmp_path / "malta.xlsx", series=small)
    assert len(load_observations(path, targets=targets).query("indicator == '研发投入强度'")) == 4
