"""The notebooks themselves: parameters documented, run under papermill and nbconvert."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TARGET = NOTEBOOKS / "project_target.ipynb"
BIN = Path(sys.executable).parent

TARGET_PARAMETERS = {
    "indicator", "region", "as_of", "model", "levels", "base_year", "data_path",
    "targets_path", "language", "output_dir", "run_name", "seed", "title", "vintage_basis",
    "shared_dir",
}  # fmt: skip


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1


def test_every_parameter_is_documented():
    params = pm.inspect_notebook(str(TARGET))
    assert set(params) == TARGET_PARAMETERS
    for name, p in params.items():
        assert p["help"], name
        assert p["inferred_type_name"] in ("str", "int", "list"), name
    assert pm.inspect_notebook(str(NOTEBOOKS / "scorecard.ipynb"))["results_dir"]["help"]


def run(tmp_path: Path, **parameters) -> dict:
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(TARGET), str(out), parameters={"output_dir": str(tmp_path), **parameters},
        kernel_name="python3", progress_bar=False, cwd=str(NOTEBOOKS),
    )  # fmt: skip
    name = parameters.get("run_name") or "{}_{}".format(parameters.get(
        "indicator", "product_brand_value"), "Jinan")  # fmt: skip
    return json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))


def stderr_outputs(path: Path) -> list[str]:
    """The text of every stderr stream and error an executed notebook shows."""
    nb = nbformat.read(path, as_version=4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    return [
        str(o.get("text") or o.get("evalue"))
        for o in outputs
        if o.get("name") == "stderr" or o.get("output_type") == "error"
    ]


@pytest.mark.slow
def test_defaults_run_and_record_an_illustrative_result(tmp_path):
    result = run(tmp_path)
    assert result["indicator"] == "product_brand_value"
    assert result["illustrative"] is True
    assert 0 < result["probability"] < 1
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "ILLUSTRATIVE" in text
    assert "image/png" in text  # the fan chart
    assert stderr_outputs(tmp_path / "out.ipynb") == []  # JupyterLab shows stderr in red


@pytest.mark.slow
def test_chinese_report_of_illustrative_data_writes_nothing_to_stderr(tmp_path):
    # the chart's bold illustrative note once logged 'findfont: Failed to find font weight bold'
    run(tmp_path, language="zh")
    assert stderr_outputs(tmp_path / "out.ipynb") == []


@pytest.mark.slow
def test_vintage_in_chinese_with_a_real_series(tmp_path):
    result = run(tmp_path, indicator="high_tech_enterprises", as_of=2021, language="zh",
                 run_name="ht2021")  # fmt: skip
    assert result["as_of"] == 2021 and result["last_year"] == 2021
    assert result["met"] is True and result["illustrative"] is False


@pytest.mark.slow
@pytest.mark.parametrize(
    ("parameters", "message"),
    # one case through papermill; every other bad value is checked directly in test_parameters.py
    [({"indicator": "product_brand_valu"}, "did you mean 'product_brand_value'")],
)  # fmt: skip
def test_bad_parameters_stop_in_the_first_cell(tmp_path, parameters, message):
    with pytest.raises(pm.PapermillExecutionError) as info:
        run(tmp_path, **parameters)
    assert "ParameterError" in info.value.ename
    assert message in info.value.evalue
    # the first cell after the parameters (1) and the injected parameters (2) stops the run
    assert info.value.exec_count == 3
    assert "check_parameters" in info.value.source
    # ... before the heavy imports (matplotlib, plots), so a misspelt parameter fails in seconds
    assert "matplotlib" not in info.value.source and "plots" not in info.value.source


def test_parameters_are_checked_before_the_heavy_imports():
    checks = {
        TARGET: "bs.check_parameters(globals())",
        NOTEBOOKS / "scorecard.ipynb": "bs.check_scorecard_parameters(globals())",
    }
    for path, check in checks.items():
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", [])
        first = code[1].source
        assert check in first and "import brandstats as bs" in first, path.name
        assert "matplotlib" not in first and "plots" not in first, path.name


@pytest.mark.slow
def test_plain_papermill_cli_and_nbconvert(tmp_path):
    out = tmp_path / "cli.ipynb"
    subprocess.run(
        [str(BIN / "papermill"), str(TARGET), str(out), "-p", "indicator",
         "high_tech_enterprises", "--cwd", str(NOTEBOOKS)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert "high_tech_enterprises" in out.read_text(encoding="utf-8")
    converted = tmp_path / "nbconvert.ipynb"
    subprocess.run(
        [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", str(TARGET),
         "--output", str(converted)],
        check=True, capture_output=True, cwd=NOTEBOOKS,
    )  # fmt: skip
    assert "P(met)" in converted.read_text(encoding="utf-8")
    assert nbformat.read(TARGET, as_version=4).cells[2].outputs == []  # input untouched
