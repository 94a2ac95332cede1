"""`brandstats run`: one notebook per target plus the scorecard, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from brandstats import load_observations, load_targets
from brandstats.cli import main
from brandstats.runs import plan_runs, run_report

pytestmark = pytest.mark.slow

TWO = ["product_brand_value", "high_tech_enterprises"]


def test_plan_runs_one_job_per_target_with_data(targets, observations):
    jobs = plan_runs(observations, targets)
    assert len(jobs) == int(targets["target"].notna().sum())
    assert jobs[0].name == "product_brand_count_Jinan"
    vintages = plan_runs(observations, targets, indicators=TWO,
                         variations=[{"name": "2020", "parameters": {"as_of": 2020}},
                                     {"name": "2021", "parameters": {"as_of": 2021}}])  # fmt: skip
    assert [j.name for j in vintages] == [
        "product_brand_value_Jinan_2020", "high_tech_enterprises_Jinan_2020",
        "product_brand_value_Jinan_2021", "high_tech_enterprises_Jinan_2021",
    ]  # fmt: skip


def test_run_writes_reports_and_an_identical_scorecard_each_time(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert main(["run", "--indicator", *TWO, "--output", str(out), "--workers", "2"]) == 0
    assert "scorecard:" in capsys.readouterr().out
    for name in ("product_brand_value_Jinan", "high_tech_enterprises_Jinan", "scorecard"):
        for ext in (".ipynb", ".html", ".json"):
            assert (first / f"{name}{ext}").is_file(), name + ext
    a = (first / "scorecard.csv").read_bytes()
    assert a == (second / "scorecard.csv").read_bytes()  # same inputs, same answer
    card = pd.read_csv(first / "scorecard.csv", encoding="utf-8-sig")
    assert card.set_index("indicator")["illustrative"].to_dict() == {
        "product_brand_value": True, "high_tech_enterprises": False,
    }  # fmt: skip
    html = (first / "product_brand_value_Jinan.html").read_text(encoding="utf-8")
    assert "ILLUSTRATIVE" in html
    assert "check_parameters" not in html  # reports show outputs, not code
    assert "ILLUSTRATIVE" in (first / "scorecard.html").read_text(encoding="utf-8")


def test_dask_gives_the_same_scorecard(tmp_path, targets, observations):
    distributed = pytest.importorskip("distributed")
    jobs = plan_runs(observations, targets, indicators=["service_brand_value"])
    run_report(jobs, tmp_path / "local", progress=False, workers=1)
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        run_report(jobs, tmp_path / "dask", progress=False, scheduler=cluster.scheduler_address)
    assert (tmp_path / "local" / "scorecard.csv").read_bytes() == (
        tmp_path / "dask" / "scorecard.csv"
    ).read_bytes()


def test_parameters_arrive_as_data_and_html_escapes_sources(tmp_path):
    marker = tmp_path / "pwned"
    evil_region = f"x'); import os; os.system('touch {marker}'); ('"
    data = tmp_path / "obs.csv"
    data.write_text(
        "indicator,region,year,value,unit,source\n"
        + "".join(f"service_brand_value,Jinan,{y},{v},亿元,<script>alert(1)</script>\n"
                  for y, v in [(2018, 1300), (2019, 1500), (2020, 1650), (2021, 1800)]),
        encoding="utf-8",
    )  # fmt: skip
    targets = load_targets()
    observations = load_observations(data, targets=targets)
    jobs = plan_runs(observations, targets, parameters={"data_path": str(data)},
                     variations=[{"name": "", "parameters": {}},
                                 {"name": "evil", "parameters": {
                                     "indicator": "service_brand_value",
                                     "region": evil_region}}])  # fmt: skip
    outcome = run_report(jobs, tmp_path / "out", progress=False)
    report = outcome["report"]
    assert not marker.exists()  # the string was never executed
    failed = {r.name: r for r in report.failed}
    assert list(failed) == [jobs[1].name]
    assert "ParameterError" in failed[jobs[1].name].error  # it arrived verbatim, as data
    html = (tmp_path / "out" / "service_brand_value_Jinan.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    result = json.loads((tmp_path / "out" / "service_brand_value_Jinan.json").read_text())
    assert result["illustrative"] is False


def test_run_exits_non_zero_and_lists_a_failure(tmp_path, capsys):
    bad = tmp_path / "runs.yaml"
    bad.write_text(
        "parameter_sets:\n"
        "  - {run_name: ok, indicator: service_brand_value}\n"
        "  - {run_name: bad, indicator: service_brand_value, model: prophet}\n"
    )
    assert main(["run", "--config", str(bad), "--output", str(tmp_path / "o")]) == 1
    out = capsys.readouterr()
    assert "bad" in out.out and "prophet" in out.out
    assert "--resume" in out.err
    assert Path(tmp_path / "o" / "service_brand_value_Jinan_ok.json").is_file()
