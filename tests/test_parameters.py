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
    """A kernel's namespace after papermill's injected cell (IPython's own names included)."""
    import brandstats

    parameters = 'indicator: str = "product_brand_value"\nas_of: int = 0\n'
    injected = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in {**GOOD, **extra}.items())
    return {
        "__name__": "__main__", "__builtins__": __builtins__, "_": "", "_i1": parameters,
        "In": ["", parameters, injected], "Out": {}, "get_ipython": lambda: None,
        "bs": brandstats, "display": print, **GOOD, **extra,
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


def test_names_the_notebook_itself_assigns_are_not_parameters():
    """Run All twice in JupyterLab: the second run finds the first run's ``lang``, ``note``
    (plain values assigned by the notebook's own cells) in the namespace."""
    ns = _namespace(indicator="product_brand_value")
    later_cell = "run = bs.check_parameters(globals())\nlang = run.language\nnote = None"
    ns = {**ns, "In": [*ns["In"], later_cell], "lang": "en", "note": None}
    assert check_parameters(ns).language == "en"
    without_papermill = {k: v for k, v in ns.items() if k != "In"} | {"In": ["", later_cell]}
    assert check_parameters(without_papermill).indicator == "product_brand_value"
    with pytest.raises(ParameterError, match="unknown parameter 'lang'"):
        check_parameters({**GOOD, "lang": "en"})  # a plain mapping: every name counts


def test_scorecard_parameters():
    import brandstats
    from brandstats import check_scorecard_parameters

    ns = {"__name__": "__main__", "_": "", "bs": brandstats, "display": print}
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


@pytest.mark.slow
def test_a_papermill_notebook_runs_twice_in_one_kernel(tmp_path, root):
    """Run All a second time (as in JupyterLab on papermill's output): the first run's own
    variables (``lang``, ``no_result``) are not taken for undeclared parameters."""
    import nbformat
    import papermill as pm
    from nbclient import NotebookClient

    out = tmp_path / "prepared.ipynb"
    pm.execute_notebook(
        str(root / "notebooks" / "project_target.ipynb"), str(out), parameters={"as_of": 2021},
        prepare_only=True, progress_bar=False,
    )  # fmt: skip
    nb = nbformat.read(out, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(root / "notebooks")}},
    )  # fmt: skip
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    with client.setup_kernel():
        for _ in range(2):
            for i, cell in code:
                client.execute_cell(cell, i)  # raises CellExecutionError on an error
    errors = [o for _, c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []


def test_a_batch_reads_its_files_once_and_again_when_they_change(tmp_path, monkeypatch):
    """Under a batch's cache (brandstats.memo), the notebooks' inputs are loaded once: the
    same frames as without it, and a file changed in place (same size and time) is read anew."""
    import os
    import shutil

    from brandstats.config import DATA_DIR

    data = tmp_path / "observations.csv"
    shutil.copy(DATA_DIR / "observations.csv", data)
    plain = check_parameters({**GOOD, "data_path": str(data)}).observations
    monkeypatch.setenv("BRANDSTATS_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    first = check_parameters({**GOOD, "data_path": str(data)}).observations
    again = check_parameters({**GOOD, "data_path": str(data)}).observations
    assert len(list((tmp_path / "cache").glob("inputs-*.pickle"))) == 1  # loaded once
    pd.testing.assert_frame_equal(first, plain)
    pd.testing.assert_frame_equal(again, plain)
    assert again.attrs == plain.attrs

    text = data.read_text(encoding="utf-8")
    stat = data.stat()
    row = next(line for line in text.splitlines() if line.startswith("product_brand_value"))
    value = row.split(",")[3]  # the same row with the value's last digit changed
    changed = row.replace(value, value[:-1] + ("1" if value[-1] != "1" else "2"), 1)
    data.write_text(text.replace(row, changed, 1), encoding="utf-8")
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert data.stat().st_size == stat.st_size
    fresh = check_parameters({**GOOD, "data_path": str(data)}).observations
    assert not fresh.equals(plain)
    assert len(list((tmp_path / "cache").glob("inputs-*.pickle"))) == 2
