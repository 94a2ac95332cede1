"""Tests of brandstats.batch: job and config validation (fast), then real papermill runs (slow)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from brandstats.batch import BatchReport, Job, JobResult, load_batch_config, run_batch
from brandstats.errors import BrandstatsError

NOTEBOOKS = Path(__file__).parent / "notebooks"
ECHO = NOTEBOOKS / "echo.ipynb"  # writes {run_name, cwd, value}
FAIL = NOTEBOOKS / "fail.ipynb"  # raises if fail (cell 3) or fail_after (cell 5, after the JSON)
DIE = NOTEBOOKS / "die.ipynb"  # os._exit(1) if die
SLEEP = NOTEBOOKS / "sleep.ipynb"  # time.sleep(seconds)
# In the executed notebooks: 0 imports, 1 parameters, 2 injected parameters, 3 the acting cell.
ACTING_CELL = 3
TOKEN_VAR = "BRANDSTATS_TEST_BATCH_TOKEN"


def outputs(out: Path, name: str) -> dict[str, bool]:
    """Which of a job's files exist."""
    exts = (".ipynb", ".html", ".json", ".failed.ipynb")
    return {ext: (out / f"{name}{ext}").exists() for ext in exts}


def read_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def read_notebook(path: Path):
    """Read and validate a notebook (nbformat is imported here: it takes seconds to import)."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    return notebook


# --------------------------------------------------------------------------- leaked processes


@pytest.fixture(scope="module", autouse=True)
def process_token():
    """Tag every process these tests start (runners, kernels) through the environment."""
    token = uuid.uuid4().hex
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TOKEN_VAR, token)
        yield token


def tagged_processes(token: str) -> list:
    """Live kernels and batch runners started by these tests (found even when orphaned)."""
    psutil = pytest.importorskip("psutil")  # a dependency of ipykernel
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        command = " ".join(proc.info["cmdline"] or ())
        if "ipykernel" not in command and "_runner_main" not in command:
            continue
        try:
            if proc.environ().get(TOKEN_VAR) == token and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


@pytest.fixture
def no_leftover_processes(process_token):
    """After the test, no runner or kernel process it started may survive."""
    yield
    deadline = time.monotonic() + 10  # a kernel shutting down may take a moment
    while (left := tagged_processes(process_token)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for proc in left:
        proc.kill()
    assert not left, [proc.info["cmdline"] for proc in left]


# --------------------------------------------------------------------------- Job


def test_job_normalises_and_copies():
    params = {"draws": 10, "levels": [0.8, 0.95], "meta": {"a": None, "b": True}}
    job = Job("gdp-2030_v1.2", str(ECHO), params)
    params["levels"].append(0.99)
    assert job.notebook == ECHO
    assert job.parameters == {"draws": 10, "levels": [0.8, 0.95], "meta": {"a": None, "b": True}}


@pytest.mark.parametrize(
    "name", ["", ".hidden", "-x", "../up", "a/b", "a b", "é", "batch", "x" * 201, 3]
)
def test_job_rejects_unsafe_names(name):
    with pytest.raises(BrandstatsError, match="not a safe file name"):
        Job(name, ECHO)


@pytest.mark.parametrize(
    ("parameters", "match"),
    [
        ({"x; import os": 1}, "not a Python identifier"),
        ({"class": 1}, "not a Python identifier"),
        ({1: 1}, "not a Python identifier"),
        ({"output_dir": "/tmp"}, "reserved"),
        ({"run_name": "a"}, "reserved"),
        ({"x": float("nan")}, "not a plain JSON value"),
        ({"x": (1, 2)}, "not a plain JSON value"),
        ({"x": {1: "a"}}, "not a plain JSON value"),
        ({"x": object()}, "not a plain JSON value"),
        ([("x", 1)], "expected a mapping"),
    ],
)
def test_job_rejects_bad_parameters(parameters, match):
    with pytest.raises(BrandstatsError, match=match):
        Job("a", ECHO, parameters)


# --------------------------------------------------------------------------- config


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "batch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_grid_is_a_cartesian_product_over_defaults(tmp_path):
    path = write_config(
        tmp_path,
        "notebook: nb/project.ipynb\n"
        "defaults: {draws: 100, level: 0.9}\n"
        "grid:\n  indicator: [gdp, pop]\n  level: [0.8, 0.95]\n",
    )
    runs = load_batch_config(path)
    assert [r["name"] for r in runs] == ["gdp-0.8", "gdp-0.95", "pop-0.8", "pop-0.95"]
    assert runs[1]["parameters"] == {"draws": 100, "level": 0.95, "indicator": "gdp"}
    assert {r["notebook"] for r in runs} == {tmp_path / "nb" / "project.ipynb"}
    assert isinstance(Job(**runs[0]), Job)


def test_config_parameter_sets_then_grid(tmp_path):
    path = write_config(
        tmp_path,
        "defaults: {draws: 100}\n"
        "parameter_sets:\n"
        "  - {run_name: baseline}\n"
        "  - {indicator: gdp, draws: 5}\n"
        "  - {note: 'GDP per capita, 2030'}\n"
        "grid: {seed: [1, 2]}\n",
    )
    runs = load_batch_config(path)
    assert [r["name"] for r in runs] == ["baseline", "gdp-5", "GDP_per_capita_2030", "1", "2"]
    assert runs[0]["parameters"] == {"draws": 100}
    assert runs[1]["parameters"] == {"draws": 5, "indicator": "gdp"}
    assert runs[3]["parameters"] == {"draws": 100, "seed": 1}
    assert all(r["notebook"] is None for r in runs)


def test_config_with_only_defaults_is_one_run(tmp_path):
    runs = load_batch_config(write_config(tmp_path, "defaults: {a: 1}\n"))
    assert runs == [{"name": "run", "notebook": None, "parameters": {"a": 1}}]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("grid: [a\n", r"batch\.yaml: not valid YAML"),
        ("", "expected a mapping"),
        ("- a\n- b\n", "expected a mapping"),
        ("parameter_set: []\n", "unknown key 'parameter_set'"),
        ("notebook: 3\n", "notebook: expected a path"),
        ("defaults: [1, 2]\n", "defaults: expected a mapping"),
        ("defaults: {year: 2030-01-01}\n", r"defaults\.year: datetime\.date"),
        ("parameter_sets: {a: 1}\n", "parameter_sets: expected a list"),
        ("parameter_sets: [{a: 1}, 7]\n", r"parameter_sets\[1\]: expected a mapping"),
        ("parameter_sets: [{run_name: ../x}]\n", r"parameter_sets\[0\]\.run_name"),
        ("parameter_sets: [{output_dir: x}]\n", r"parameter_sets\[0\]\.output_dir: reserved"),
        ("grid: {a: 1}\n", r"grid\.a: expected a non-empty list"),
        ("grid: {a: []}\n", r"grid\.a: expected a non-empty list"),
        ("grid: {a: [1, 1]}\n", "both make a run named '1'"),
        ("parameter_sets: [{a: x}, {b: x}]\n", "give one a distinct run_name"),
        ("parameter_sets: [{run_name: batch}]\n", "not a safe file name"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path, text, match):
    with pytest.raises(BrandstatsError, match=match) as info:
        load_batch_config(write_config(tmp_path, text))
    assert str(tmp_path / "batch.yaml") in str(info.value)


def test_config_missing_file(tmp_path):
    with pytest.raises(BrandstatsError, match="cannot read the batch config"):
        load_batch_config(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- run_batch, no kernels


@pytest.mark.parametrize(
    ("jobs", "options", "match"),
    [
        ([Job("a", ECHO), Job("a", FAIL)], {}, "two jobs are named 'a'"),
        ([Job("a", NOTEBOOKS / "missing.ipynb")], {}, "does not exist"),
        ([Job("a", ECHO)], {"workers": 0}, "workers must be"),
        ([Job("a", ECHO)], {"timeout": 0}, "timeout must be"),
        ([Job("a", ECHO)], {"scheduler": "localhost"}, "scheduler must be"),
        (["a"], {}, "expected Job objects"),
    ],
)
def test_run_batch_checks_its_arguments(tmp_path, jobs, options, match):
    with pytest.raises(BrandstatsError, match=match):
        run_batch(jobs, output_dir=tmp_path / "out", progress=False, **options)
    assert not (tmp_path / "out").exists()


def test_run_batch_refuses_to_overwrite_an_input_notebook(tmp_path):
    notebook = tmp_path / "echo.ipynb"
    notebook.write_bytes(ECHO.read_bytes())
    with pytest.raises(BrandstatsError, match="would overwrite the notebook"):
        run_batch([Job("echo", notebook)], output_dir=tmp_path, progress=False)
    assert notebook.read_bytes() == ECHO.read_bytes()


def test_resume_skips_done_jobs_without_starting_anything(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for ext in (".ipynb", ".json", ".html"):
        (out / f"a{ext}").write_text("{}", encoding="utf-8")
    (out / "b.ipynb").write_text("{}", encoding="utf-8")
    (out / "b.json").write_text("{}", encoding="utf-8")
    jobs = [Job("a", ECHO), Job("b", ECHO)]
    report = run_batch(jobs, output_dir=out, resume=True, html=False, progress=False)
    assert [(r.name, r.status) for r in report.results] == [("a", "skipped"), ("b", "skipped")]
    assert read_json(out / "batch.json")["counts"] == {"ok": 0, "failed": 0, "skipped": 2}


def test_report_summary_and_dict():
    report = BatchReport(
        (
            JobResult("a", "ok", 2.0),
            JobResult("b", "failed", 1.5, 3, "ValueError: boom"),
            JobResult("c", "skipped", 0.0),
        ),
        Path("/out"),
        4.25,
    )
    assert [r.name for r in report.ok] == ["a"]
    assert [r.name for r in report.failed] == ["b"]
    assert [r.name for r in report.skipped] == ["c"]
    assert report.summary() == (
        "3 jobs in 4.2 s: 1 ok, 1 failed, 1 skipped\n  FAILED b (cell 3): ValueError: boom"
    )
    assert report.to_dict()["jobs"][1] == {
        "name": "b", "status": "failed", "seconds": 1.5, "cell_index": 3,
        "error": "ValueError: boom",
    }  # fmt: skip


def test_importing_batch_is_cheap():
    code = (
        "import sys, brandstats.batch; "
        "print(sorted(m for m in ('papermill', 'nbconvert', 'dask', 'distributed', 'yaml')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- real runs


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_three_jobs_in_parallel(tmp_path):
    out = tmp_path / "out"
    values = {"one": 1, "two": "deux", "three": [3.0, {"k": None}]}
    jobs = [Job(name, ECHO, {"value": value}) for name, value in values.items()]
    report = run_batch(jobs, output_dir=out, workers=2, progress=False)

    assert [r.status for r in report.results] == ["ok"] * 3
    for name, value in values.items():
        assert read_json(out / f"{name}.json") == {
            "run_name": name, "cwd": str(NOTEBOOKS), "value": value,
        }  # fmt: skip
        executed = read_notebook(out / f"{name}.ipynb")
        assert "injected-parameters" in executed.cells[2].metadata["tags"]
        page = (out / f"{name}.html").read_text(encoding="utf-8")
        assert f"The value is {value!r}." in page.replace("&#39;", "'")
        assert "write_json_atomic" not in page  # no code cells in the report
    assert read_json(out / "batch.json") == report.to_dict()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["batch.json"] + [f"{n}{ext}" for n in values for ext in (".ipynb", ".html", ".json")]
    )
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == [  # nothing written next to them
        "die.ipynb", "echo.ipynb", "fail.ipynb", "sleep.ipynb",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_failure_is_isolated_then_resume_runs_only_the_rest(tmp_path):
    out = tmp_path / "out"
    jobs = [Job("good-1", ECHO), Job("bad", FAIL, {"fail": True}), Job("good-2", ECHO)]
    report = run_batch(jobs, output_dir=out, workers=2, progress=False)

    assert [r.name for r in report.ok] == ["good-1", "good-2"]
    (bad,) = report.failed
    assert (bad.cell_index, bad.error) == (ACTING_CELL, "ValueError: asked to fail")
    assert "FAILED bad (cell 3): ValueError: asked to fail" in report.summary()
    assert outputs(out, "bad") == {
        ".ipynb": False, ".html": False, ".json": False, ".failed.ipynb": True,
    }  # fmt: skip
    failed = read_notebook(out / "bad.failed.ipynb")
    assert any(o.get("ename") == "ValueError" for c in failed.cells for o in c.get("outputs", []))
    assert read_json(out / "batch.json")["counts"] == {"ok": 2, "failed": 1, "skipped": 0}

    before = {p.name: p.stat().st_mtime_ns for p in out.glob("good-*")}
    fixed = [jobs[0], Job("bad", FAIL, {"fail": False}), jobs[2]]
    again = run_batch(fixed, output_dir=out, resume=True, workers=2, progress=False)

    assert [(r.name, r.status) for r in again.results] == [
        ("good-1", "skipped"), ("bad", "ok"), ("good-2", "skipped"),
    ]  # fmt: skip
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("good-*")} == before
    assert outputs(out, "bad") == {
        ".ipynb": True, ".html": True, ".json": True, ".failed.ipynb": False,
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_kernel_death_timeout_and_late_errors_fail_and_keep_old_outputs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    old = {ext: f'{{"old": "{ext}"}}' for ext in (".ipynb", ".html", ".json")}
    for ext, text in old.items():  # outputs of an earlier successful run of "dies"
        (out / f"dies{ext}").write_text(text, encoding="utf-8")
    jobs = [
        Job("dies", DIE, {"die": True}),
        Job("hangs", SLEEP, {"seconds": 600.0}),
        Job("late", FAIL, {"fail": False, "fail_after": True}),
        Job("fine", SLEEP, {"seconds": 0.0}),
    ]
    start = time.monotonic()
    report = run_batch(jobs, output_dir=out, workers=2, timeout=3.5, progress=False)

    assert time.monotonic() - start < 120
    assert [(r.name, r.status, r.cell_index) for r in report.results] == [
        ("dies", "failed", ACTING_CELL), ("hangs", "failed", ACTING_CELL),
        ("late", "failed", ACTING_CELL + 2), ("fine", "ok", None),
    ]  # fmt: skip
    assert report.results[0].error.startswith("DeadKernelError")
    assert report.results[1].error.startswith("CellTimeoutError")
    assert "after 4 seconds" in report.results[1].error
    assert report.results[2].error == "RuntimeError: failed after writing the result"
    # "late" wrote late.json before failing: the batch removed it
    assert outputs(out, "late") == {
        ".ipynb": False, ".html": False, ".json": False, ".failed.ipynb": True,
    }  # fmt: skip
    for ext, text in old.items():  # a failed run replaces nothing
        assert (out / f"dies{ext}").read_text(encoding="utf-8") == text
    assert outputs(out, "hangs") == {
        ".ipynb": False, ".html": False, ".json": False, ".failed.ipynb": True,
    }  # fmt: skip
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_parameters_arrive_as_data_never_as_code(tmp_path):
    marker = tmp_path / "pwned"
    nasty = [
        f"x'); import os; os.system('touch {marker}'); ('",
        f'x"); import os; os.system("touch {marker}"); ("',
        'a"b\\"c\\\n"""; import os #',
        "{run_name} {output_dir!r} {0}",
        "é\\",
    ]
    out = tmp_path / "out {brace}"  # papermill formats paths: braces must survive
    report = run_batch([Job("nasty", ECHO, {"value": nasty})], output_dir=out, progress=False)

    assert report.failed == ()
    assert read_json(out / "nasty.json")["value"] == nasty
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_dask_gives_the_same_results_as_local(tmp_path):
    distributed = pytest.importorskip("distributed")
    jobs = [Job("a", ECHO, {"value": ["x", 2.5, {"k": None}]}), Job("b", FAIL)]
    local = run_batch(jobs, output_dir=tmp_path / "local", workers=2, progress=False)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # None would still serve HTTP on 8787, warn if busy
    ) as cluster:  # fmt: skip
        remote = run_batch(
            jobs, output_dir=tmp_path / "dask", scheduler=cluster.scheduler_address,
            progress=False,
        )  # fmt: skip

    def essence(report):
        return [(r.name, r.status, r.cell_index, r.error) for r in report.results]

    assert essence(remote) == essence(local)
    assert read_json(tmp_path / "dask" / "a.json") == read_json(tmp_path / "local" / "a.json")
    assert outputs(tmp_path / "dask", "b") == outputs(tmp_path / "local", "b")


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_ctrl_c_stops_kernels_and_leaves_no_partial_output(tmp_path):
    out = tmp_path / "out"
    jobs = [Job("quick", ECHO), Job("stuck", SLEEP, {"seconds": 600.0})]

    def press_ctrl_c():
        deadline = time.monotonic() + 120
        while not (out / "quick.ipynb").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # "stuck" is sleeping in its kernel by now
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_batch(jobs, output_dir=out, workers=2, progress=False)

    written = read_json(out / "batch.json")
    assert written["interrupted"] is True
    assert [(j["name"], j["status"]) for j in written["jobs"]] == [("quick", "ok")]
    assert sorted(p.name for p in out.iterdir()) == [
        "batch.json", "quick.html", "quick.ipynb", "quick.json",
    ]  # fmt: skip
