"""Notebook parameters are checked before anything runs (papermill does not check them)."""

from __future__ import annotations

import pandas as pd
import pytest

from brandstats import ParameterError, check_parameters

GOOD = {"indicator": "product_brand_value", "as_of": 2021, "levels": [0.5, 0.9]}


def test_good_parameters_give_a_context():
    run = check_parameters(GOOD)
    assert (run.indicator, run.region, run.as_of, run.model) == (
        "product_brand_value", "Jinan", 2021, "auto"
    )  # fmt: skip
    assert run.levels == (0.5, 0.9)
    assert run.run_name == "product_brand_value_Jinan"
    assert run.assess_kwargs()["as_of"] == 2021
    assert check_parameters({**GOOD, "as_of": 0}).as_of is None  # 0 means all data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"indicator": "product_brand_valu"}, "did you mean 'product_brand_value'"),
        ({"indicator": "unicorn_firms"}, "expected an indicator with a target"),
        ({"as_of": "2021"}, "as_of='2021' (str): expected a year"),
        ({"as_of": 2021.0}, "as_of=2021.0 (float): expected a year"),
        ({"as_of": True}, "as_of=True (bool)"),
        ({"as_of": 3000}, "between 1949 and 2100"),
        ({"base_year": 1900}, "base_year=1900: expected a year"),
        ({"model": "prophet"}, "model='prophet'"),
        ({"levels": [0.5, 1.0]}, "levels=[0.5, 1.0]"),
        ({"levels": []}, "levels=[]"),
        ({"levels": "0.9"}, "levels='0.9' (str)"),
        ({"language": "fr"}, "language='fr'"),
        ({"run_name": "../escape"}, "run_name='../escape'"),
        ({"region": "Qingdao"}, "region='Qingdao': no observations"),
        ({"indicatr": "x"}, "unknown parameter 'indicatr' (did you mean 'indicator'?)"),
    ],
)
def test_bad_parameters_are_named_with_what_was_expected(change, message):
    with pytest.raises(ParameterError) as info:
        check_parameters({**GOOD, **change})
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def _namespace(**extra):
    """A notebook's namespace after the parameters cell (IPython's own names included)."""
    import brandstats

    return {
        "__name__": "__main__", "__builtins__": __builtins__, "_": "", "_i1": "x = 1",
        "In": ["", "x = 1"], "Out": {}, "get_ipython": lambda: None, "bs": brandstats,
        "display": print, **GOOD, **extra,
    }  # fmt: skip


def test_a_notebook_namespace_is_accepted():
    run = check_parameters(_namespace())
    assert (run.indicator, run.as_of, run.levels) == ("product_brand_value", 2021, (0.5, 0.9))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"indcator": "x"}, "unknown parameter 'indcator' (did you mean 'indicator'?)"),
        ({"as_off": 2020}, "unknown parameter 'as_off' (did you mean 'as_of'?)"),
        ({"levles": [0.8]}, "unknown parameter 'levles' (did you mean 'levels'?)"),
        ({"colour": None}, "unknown parameter 'colour'"),
        ({"verbose": True}, "unknown parameter 'verbose'"),
    ],
)
def test_an_undeclared_plain_name_in_the_namespace_is_refused(extra, message):
    with pytest.raises(ParameterError) as info:
        check_parameters(_namespace(**extra))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_scorecard_parameters():
    from brandstats import check_scorecard_parameters

    ns = _namespace()
    for name in GOOD:
        del ns[name]
    p = check_scorecard_parameters({**ns, "results_dir": "out", "language": "zh"})
    assert (p.results_dir, p.language, p.output_dir, p.run_name) == ("out", "zh", "", "")
    with pytest.raises(ParameterError, match=r"unknown parameter 'result_dir' \(did you mean "
                       r"'results_dir'\?\)"):  # fmt: skip
        check_scorecard_parameters({**ns, "results_dir": "out", "result_dir": "x"})
    with pytest.raises(ParameterError, match="language='fr'"):
        check_scorecard_parameters({"results_dir": "out", "language": "fr"})
    with pytest.raises(ParameterError, match=r"results_dir=3 \(int\)"):
        check_scorecard_parameters({"results_dir": 3})


@pytest.mark.slow
@pytest.mark.parametrize(
    ("notebook", "parameters", "message"),
    [
        ("project_target.ipynb", {"indcator": "x"},
         "unknown parameter 'indcator' (did you mean 'indicator'?)"),
        ("scorecard.ipynb", {"languag": "zh"},
         "unknown parameter 'languag' (did you mean 'language'?)"),
    ],
)  # fmt: skip
def test_papermill_refuses_a_misspelt_parameter(tmp_path, root, notebook, parameters, message):
    import nbformat
    import papermill as pm

    nb = nbformat.read(root / "notebooks" / notebook, as_version=4)
    first = next(
        c for c in nb.cells
        if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])
    )  # fmt: skip
    assert "globals())" in first.source  # the notebook itself passes its namespace
    path = tmp_path / notebook
    nbformat.write(nb, path)
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(
            str(path), str(tmp_path / "out.ipynb"), parameters=parameters, progress_bar=False,
            cwd=str(root / "notebooks"), kernel_name="python3",
        )  # fmt: skip
    assert info.value.ename == "ParameterError"
    assert message in info.value.evalue


def test_a_relative_data_path_is_found_in_the_project_folder(tmp_path, monkeypatch, root):
    monkeypatch.chdir(tmp_path)  # as a notebook in another folder opened in JupyterLab
    from brandstats import load_observations

    run = check_parameters({**GOOD, "data_path": "data/observations.csv"})
    shipped = load_observations(root / "data" / "observations.csv")
    pd.testing.assert_frame_equal(run.observations, shipped)
    (tmp_path / "mine.csv").write_text(
        "indicator,region,year,value,unit\nproduct_brand_value,Jinan,2020,4492,亿元\n"
        "product_brand_value,Jinan,2021,5312,亿元\n", encoding="utf-8"
    )  # fmt: skip
    run = check_parameters({**GOOD, "data_path": "mine.csv", "as_of": 0})
    assert run.observations["value"].tolist() == [4492e8, 5312e8]


def test_a_missing_data_path_names_every_path_tried(tmp_path, monkeypatch, root):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError) as info:
        check_parameters({**GOOD, "data_path": "nowhere/obs.csv"})
    message = str(info.value)
    assert f"tried {tmp_path / 'nowhere' / 'obs.csv'}, {root / 'nowhere' / 'obs.csv'}" in message
    assert message.startswith("parameter data_path='nowhere/obs.csv': no such file")


def test_the_region_parameter_may_be_an_alias():
    assert check_parameters({**GOOD, "region": "济南市"}).region == "Jinan"
    assert check_parameters({**GOOD, "region": " jinan\u200b"}).region == "Jinan"


def test_a_relative_workbook_path_may_name_its_sheet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = "tests/data/bad/data_on_second_sheet.xlsx#数据"  # relative to the project folder
    run = check_parameters({**GOOD, "data_path": path})
    assert run.observations.loc[run.observations["indicator"] == "product_brand_value",
                                "value"].tolist() == [4256e8, 4492e8]  # fmt: skip
