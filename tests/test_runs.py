"""`brandstats run`: one notebook per target plus the scorecard, end to end."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from brandstats import load_observations, load_targets
from brandstats.batch import plan_runs, run_report
from brandstats.cli import main

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
    # a job's weight: its indicator's observations up to its as_of (the heaviest start first)
    years = observations.loc[observations["indicator"] == "product_brand_value", "year"]
    assert vintages[0].weight == (years <= 2020).sum() and jobs[1].weight == len(years)


def test_run_writes_reports_and_an_identical_scorecard_each_time(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert main(["run", "--indicator", *TWO, "--output", str(out), "--workers", "2"]) == 0
    assert "scorecard:" in capsys.readouterr().out
    for name in ("product_brand_value_Jinan", "high_tech_enterprises_Jinan", "scorecard"):
        for ext in (".ipynb", ".html", ".json"):
            assert (first / f"{name}{ext}").is_file(), name + ext
    workbook = pd.read_excel(first / "scorecard.xlsx", sheet_name=None)  # beside the CSV
    assert len(workbook["Scorecard"]) == 2 and len(workbook["Sources"]) == 2
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
    for notebook in first.glob("*.ipynb"):  # JupyterLab would show stderr in red
        outputs = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        streams = [o for c in outputs for o in c.get("outputs", []) if o.get("name") == "stderr"]
        assert streams == [], notebook.name


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


SIMPLE = Path(__file__).parent / "notebooks" / "simple_execute.ipynb"  # papermill's own
COMPLEX = Path(__file__).parent / "notebooks" / "complex_parameters.ipynb"  # papermill's own
SLEEP = Path(__file__).parent / "notebooks" / "sleep.ipynb"


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_analysts_notebook_runs_once_per_parameter_set(tmp_path, capsys):
    config = write_yaml(
        tmp_path / "runs.yaml",
        f"notebook: {SIMPLE}\nparameter_sets:\n  - {{run_name: hello, msg: Hello}}\n"
        "  - {run_name: world, msg: World}\n",
    )
    out = tmp_path / "new" / "folder"  # does not exist yet
    assert main(["run", "--config", str(config), "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert "running 2 notebooks" in captured.err
    assert "2 jobs in" in captured.out and "2 ok, 0 failed" in captured.out
    assert sorted(p.name for p in out.iterdir()) == [
        "batch.json", "hello.html", "hello.ipynb", "world.html", "world.ipynb",
    ]  # fmt: skip
    import nbformat

    for name, msg in (("hello", "Hello"), ("world", "World")):
        nb = nbformat.read(out / f"{name}.ipynb", as_version=4)
        printed = [o["text"] for c in nb.cells for o in c.get("outputs", []) if "text" in o]
        assert printed == [f"{msg}\n"]
        assert nb.metadata.papermill.parameters == {"msg": msg}  # no output_dir, run_name
    assert "<title>hello</title>" in (out / "hello.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (
            "grid: {as_off: [2020, 2021]}\n",
            r"unknown parameter 'as_off' \(did you mean 'as_of'\?\)",
        ),
        (
            "parameter_sets: [{indcator: gdp}]\n",
            r"parameter_sets\[0\]: unknown parameter 'indcator'"
            r" \(did you mean 'indicator'\?\)",
        ),
        (
            f"notebook: {COMPLEX}\ndefaults: {{aa: 1}}\n",
            r"defaults: unknown parameter 'aa'"
            r" \(did you mean 'a'\?\)",
        ),
    ],
)
def test_unknown_parameters_are_refused_by_name_before_anything_runs(tmp_path, capsys, config,
                                                                      match):  # fmt: skip
    path = write_yaml(tmp_path / "runs.yaml", config)
    assert main(["run", "--config", str(path), "--output", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert re.search(match, err), err
    assert str(path) in err
    assert not (tmp_path / "o").exists()


def test_a_command_line_option_the_notebook_does_not_declare_is_refused(tmp_path, capsys):
    config = write_yaml(tmp_path / "runs.yaml", f"notebook: {SIMPLE}\n")
    assert main(["run", "--config", str(config), "--as-of", "2020",
                 "--output", str(tmp_path / "o")]) == 1  # fmt: skip
    assert "--as-of: unknown parameter 'as_of'" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["inf", "0", "nan", "-3", "soon"])
def test_timeout_must_be_positive_and_finite(value, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--timeout", value])
    assert info.value.code == 2
    assert "positive, finite number of seconds" in capsys.readouterr().err


def test_repeated_indicator_options_add_up(targets, observations):
    from brandstats.batch import plan_jobs
    from brandstats.cli import build_parser

    args = build_parser().parse_args(
        ["run", "--indicator", TWO[0], "--indicator", TWO[1], "service_brand_value"]
    )
    assert args.indicator == [*TWO, "service_brand_value"]
    jobs = plan_jobs(observations, targets, indicators=args.indicator)
    assert sorted({j.parameters["indicator"] for j in jobs}) == sorted(args.indicator)


CLI_BATCH = """
notebook: {sleep}
parameter_sets:
  - {{run_name: quick, seconds: 0.0}}
  - {{run_name: stuck, seconds: {stuck}}}
"""


def _as_in_a_terminal() -> None:
    """Ctrl-C reaches a foreground job with SIGINT at its default; a shell's background job
    (pytest started with `&`, as some CI runners do) inherits SIGINT ignored, which Python
    keeps, so the child is given the terminal's disposition back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_prints_its_summary_locks_its_folder_and_resumes(tmp_path, signum):
    """SIGTERM (or Ctrl-C, to the process group) stops `brandstats run` gracefully; while it
    runs, a second `brandstats run` into its folder is refused at once."""
    out = tmp_path / "out"
    config = write_yaml(tmp_path / "runs.yaml", CLI_BATCH.format(sleep=SLEEP, stuck=600.0))
    process = subprocess.Popen(
        [sys.executable, "-m", "brandstats.cli", "run", "--config", str(config),
         "--output", str(out), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_as_in_a_terminal,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (out / "quick.ipynb").exists() or not (out / ".stuck.staging").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    time.sleep(1.0)  # "stuck" is sleeping in its kernel by now

    second = subprocess.run(
        [sys.executable, "-m", "brandstats.cli", "run", "--config", str(config),
         "--output", str(out)], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert second.returncode == 1
    assert "another brandstats batch is writing into this folder" in second.stderr
    assert process.poll() is None  # the first goes on

    if signum == signal.SIGINT:
        os.killpg(process.pid, signum)  # what Ctrl-C in a terminal does
    else:
        process.send_signal(signum)  # what `kill`, systemd or a scheduler does
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stdout + stderr
    assert "1 job in" in stdout and "1 ok, 0 failed, 0 skipped (interrupted)" in stdout
    assert "--resume" in stderr
    written = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert written["interrupted"] is True
    assert [(j["name"], j["status"]) for j in written["jobs"]] == [("quick", "ok")]
    assert sorted(p.name for p in out.iterdir()) == [
        "batch.json", "quick.html", "quick.ipynb", "quick.json",
    ]  # fmt: skip

    write_yaml(config, CLI_BATCH.format(sleep=SLEEP, stuck=0.0))
    assert main(["run", "--config", str(config), "--output", str(out), "--resume"]) == 0
    again = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert [(j["name"], j["status"]) for j in again["jobs"]] == [
        ("quick", "skipped"), ("stuck", "ok"),
    ]  # fmt: skip


def test_a_group_of_districts_starts_with_one_run_per_vintage():
    """The first region of an indicator in a parameter set carries its whole group's
    observations (it assesses the group, which the others then read from the batch's cache);
    the others their own: heaviest first then starts one run of each vintage together."""
    from brandstats import load_observations, load_targets
    from brandstats.batch import load_batch_config, plan_jobs
    from brandstats.config import PROJECT_ROOT

    examples = PROJECT_ROOT / "data" / "examples"
    targets = load_targets(examples / "districts_targets.csv")
    observations = load_observations(examples / "districts_observations.csv", targets=targets)
    jobs = plan_jobs(observations, targets, runs=load_batch_config(examples / "districts.yaml"),
                     shared={"language": "zh"}, given=[])  # fmt: skip
    years = observations["year"]
    first = sorted(jobs, key=lambda job: -job.weight)[:3]
    assert [job.parameters["as_of"] for job in first] == [2021, 2020, 2019]
    assert [job.weight for job in first] == [(years <= y).sum() for y in (2021, 2020, 2019)]
    for job in jobs:
        if job not in first:
            mine = observations["region"] == job.parameters["region"]
            assert job.weight == (mine & (years <= job.parameters["as_of"])).sum(), job.name


def test_a_chinese_config_titles_its_scorecard_in_chinese(tmp_path, capsys):
    """The district example's config says language: zh. Without --language, the scorecard and
    the league page take the config's language, and the plan's Chinese name with it (they
    once printed the English name atop a Chinese page)."""
    from brandstats.config import PROJECT_ROOT
    from brandstats.loading import load_targets, plan_name

    examples = PROJECT_ROOT / "data" / "examples"
    out = tmp_path / "districts"
    assert main(["run", "--config", str(examples / "districts.yaml"),
                 "--targets", str(examples / "districts_targets.csv"),
                 "--data", str(examples / "districts_observations.csv"),
                 "--output", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    targets = load_targets(examples / "districts_targets.csv")
    zh, en = plan_name(targets, "zh"), plan_name(targets, "en")
    assert zh != en
    for page in ("scorecard.html", "league.html"):
        text = (out / page).read_text(encoding="utf-8")
        assert zh in text and en not in text, page
