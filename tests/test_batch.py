"""Tests of brandstats.batch: job and config validation (fast), then real papermill runs (slow).

The slow tests also check that no runner, kernel template or kernel they started outlives them
(whatever the fault), by tagging every process through the environment.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

import brandstats.batch.local
import brandstats.batch.outputs
import brandstats.batch.runners
from brandstats.batch import BatchReport, Job, JobResult, load_batch_config, run_batch
from brandstats.batch.runners import close_pools
from brandstats.batch.template import preload_entries
from brandstats.errors import BrandstatsError

NOTEBOOKS = Path(__file__).parent / "notebooks"
ECHO = NOTEBOOKS / "echo.ipynb"  # writes {run_name, cwd, value}
FAIL = NOTEBOOKS / "fail.ipynb"  # raises if fail (cell 3) or fail_after (cell 5, after the JSON)
DIE = NOTEBOOKS / "die.ipynb"  # os._exit(1) if die
SLEEP = NOTEBOOKS / "sleep.ipynb"  # time.sleep(seconds)
STATE = NOTEBOOKS / "state.ipynb"  # writes facts about its kernel; leaves state behind if leak
BARRIER = NOTEBOOKS / "barrier.ipynb"  # waits until `count` runs of it have started
KILL_RUNNER = NOTEBOOKS / "kill_runner.ipynb"  # SIGKILLs the runner process running it if kill
SHARED = NOTEBOOKS / "shared.ipynb"  # leaves a file in shared_dir, lists what it found there
# In the executed notebooks: 0 imports, 1 parameters, 2 injected parameters, 3 the acting cell.
ACTING_CELL = 3
TOKEN_VAR = "BRANDSTATS_TEST_BATCH_TOKEN"
FIXTURES = sorted(p.name for p in NOTEBOOKS.iterdir())
FORKS = sys.platform == "linux" and hasattr(os, "pidfd_open")  # kernels come from templates


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
    """Live runners, kernel templates and kernels (cold or forked from a template, which keep
    its command line) started by these tests, found even when orphaned."""
    psutil = pytest.importorskip("psutil")  # a dependency of ipykernel
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        command = " ".join(proc.info["cmdline"] or ())
        if not any(k in command for k in ("ipykernel", "_runner_main", "_template_main")):
            continue
        try:
            if proc.environ().get(TOKEN_VAR) == token and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


@pytest.fixture
def no_leftover_processes(process_token):
    """After the test, no process it started may survive, once idle runners (kept a few
    seconds for a next batch) are told to exit."""
    close_pools()
    yield
    close_pools()
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
    "name",
    ["", ".hidden", "-x", "../up", "a/b", "a b", "a#b", "50%", "a:b", "batch", "x" * 201,
     "创" * 67, 3],
)  # fmt: skip
def test_job_rejects_unsafe_names(name):
    with pytest.raises(BrandstatsError, match="not a safe file name"):
        Job(name, ECHO)


@pytest.mark.parametrize("name", ["创新型企业数量_历下区", "é", "x" * 200, "创" * 66, "a.b-c_d"])
def test_job_takes_names_in_any_script_up_to_200_bytes(name):
    assert Job(name, ECHO).name == name


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
    assert isinstance(Job(runs[0]["name"], runs[0]["notebook"], runs[0]["parameters"]), Job)


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
    assert runs == [
        {
            "name": "run",
            "notebook": None,
            "parameters": {"a": 1},
            "where": f"{tmp_path / 'batch.yaml'}: defaults",
        }
    ]


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


def write_done(out: Path, name: str, result: object) -> None:
    """Outputs of a finished job: a notebook, a whole HTML page, a JSON result."""
    out.mkdir(exist_ok=True)
    (out / f"{name}.ipynb").write_bytes(ECHO.read_bytes())
    (out / f"{name}.html").write_text("<!DOCTYPE html>\n<html><body>x</body></html>\n")
    (out / f"{name}.json").write_text(json.dumps(result), encoding="utf-8")


def scorecard_row() -> dict:
    from brandstats.results import SCORECARD_COLUMNS

    return {**dict.fromkeys(SCORECARD_COLUMNS), "indicator": "gdp", "probability": 0.5}


def test_resume_skips_done_jobs_without_starting_anything(tmp_path, monkeypatch):
    def no_runners(*args, **kwargs):
        raise AssertionError("a runner was started")

    monkeypatch.setattr(brandstats.batch.runners, "Runner", no_runners)
    out = tmp_path / "out"
    write_done(out, "a", {"run_name": "a"})
    write_done(out, "b", scorecard_row())
    jobs = [Job("a", ECHO), Job("b", ECHO)]
    report = run_batch(jobs, output_dir=out, resume=True, progress=False)
    assert [(r.name, r.status) for r in report.results] == [("a", "skipped"), ("b", "skipped")]
    assert read_json(out / "batch.json")["counts"] == {"ok": 0, "failed": 0, "skipped": 2}


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


@pytest.mark.parametrize(
    "damage",
    [
        lambda out: _truncate(out / "a.json"),  # cut by a crash: does not parse
        lambda out: (out / "a.json").unlink(),
        lambda out: (out / "a.json").write_text("[1, 2]"),  # not an object
        lambda out: (out / "a.json").write_text(  # a scorecard row without its probability
            json.dumps({k: v for k, v in scorecard_row().items() if k != "probability"})
        ),
        lambda out: _truncate(out / "a.ipynb"),
        lambda out: (out / "a.ipynb").write_text('{"not": "a notebook"}'),
        lambda out: _truncate(out / "a.html"),
        lambda out: (out / "a.html").unlink(),
    ],
)
def test_resume_does_not_trust_incomplete_or_invalid_outputs(tmp_path, damage):
    from brandstats.batch.outputs import is_done

    out = tmp_path / "out"
    write_done(out, "a", scorecard_row())
    assert is_done(out, "a", html=True, result=True)
    damage(out)
    assert not is_done(out, "a", html=True, result=True)


def test_resume_of_a_notebook_without_a_result_needs_no_json(tmp_path):
    from brandstats.batch.outputs import is_done

    out = tmp_path / "out"
    write_done(out, "a", {})
    (out / "a.json").unlink()
    assert is_done(out, "a", html=True, result=False)
    assert not is_done(out, "a", html=True, result=True)


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
        "error": "ValueError: boom", "retries": [],
    }  # fmt: skip


def test_counts_are_singular_for_one():
    from brandstats.format import count

    assert (count(1, "notebook"), count(0, "notebook"), count(2, "job")) == (
        "1 notebook", "0 notebooks", "2 jobs",
    )  # fmt: skip
    one = BatchReport((JobResult("a", "ok", 1.0),), Path("/out"), 1.0)
    assert one.summary() == "1 job in 1.0 s: 1 ok, 0 failed, 0 skipped"


def test_importing_batch_is_cheap():
    code = (
        "import sys, brandstats.batch; "
        "print(sorted(m for m in ('papermill', 'nbconvert', 'dask', 'distributed', 'yaml',"
        " 'pandas', 'jupyter_client')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_planning_a_run_leaves_the_engine_unimported():
    # The batch process plans and validates; statsmodels and scipy are for the kernels.
    code = (
        "import sys; from brandstats import load_observations, load_targets; "
        "from brandstats.batch import plan_jobs; t = load_targets(); "
        "jobs = plan_jobs(load_observations(targets=t), t); "
        "print(len(jobs), sorted(m for m in ('statsmodels', 'scipy', 'matplotlib')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split(maxsplit=1)[1].strip() == "[]"


def test_a_template_preloads_what_notebooks_import_not_the_batch_machinery(tmp_path):
    # Starting the template imports brandstats.batch, whose functions import nbconvert (the
    # HTML pages, in the runner); kernels never need it, so the template must not load it.
    code = (
        "import sys, json; from pathlib import Path; "
        "from brandstats.batch import template; "
        "from brandstats.config import NOTEBOOKS_DIR; "
        "entries = template.preload_entries(NOTEBOOKS_DIR / 'project_target.ipynb'); "
        "skipped = template._preload([list(e) for e in entries]); "
        "print(json.dumps([skipped, [m in sys.modules for m in"
        " ('brandstats.attainment', 'brandstats.pooling', 'nbformat', 'nbconvert')]]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "MPLBACKEND": "Agg"}, cwd=tmp_path,  # a notebook folder's place
    )  # fmt: skip
    skipped, loaded = json.loads(result.stdout.splitlines()[-1])
    assert skipped == []
    assert loaded == [True, True, False, False]


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
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == FIXTURES  # nothing written there


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_the_runs_of_one_batch_share_a_folder_that_goes_with_the_batch(tmp_path):
    out = tmp_path / "out"
    (out / ".shared").mkdir(parents=True)
    (out / ".shared" / "stale").write_text("from a killed batch", encoding="utf-8")
    jobs = [Job(name, SHARED, {}) for name in ("first", "second")]
    report = run_batch(jobs, output_dir=out, workers=1, progress=False)

    assert [r.status for r in report.results] == ["ok"] * 2, report.summary()
    first, second = (read_json(out / f"{name}.json") for name in ("first", "second"))
    assert first["shared_dir"] == second["shared_dir"] == str(out / ".shared")
    assert first["seen"] == [] and second["seen"] == ["first"]  # emptied, then shared
    assert not (out / ".shared").exists()  # gone with the batch
    with pytest.raises(BrandstatsError, match="reserved"):
        Job("x", SHARED, {"shared_dir": "elsewhere"})


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_heavier_jobs_start_first_and_are_reported_in_order(tmp_path):
    out = tmp_path / "out"
    jobs = [Job("light", SHARED, weight=0), Job("heavy", SHARED, weight=5),
            Job("middle", SHARED, weight=1), Job("light2", SHARED, weight=0)]  # fmt: skip
    report = run_batch(jobs, output_dir=out, workers=1, progress=False)

    seen = {name: read_json(out / f"{name}.json")["seen"] for name in ("heavy", "middle")}
    assert seen == {"heavy": [], "middle": ["heavy"]}  # each saw the runs before it
    assert read_json(out / "light2.json")["seen"] == ["heavy", "light", "middle"]
    assert [r.name for r in report.results] == ["light", "heavy", "middle", "light2"]


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_one_runner_runs_the_workers_jobs_at_once_each_in_its_own_kernel(tmp_path):
    meet = tmp_path / "meet"
    meet.mkdir()
    jobs = [Job(f"run-{i}", BARRIER, {"folder": str(meet), "count": 3}) for i in range(3)]
    report = run_batch(jobs, output_dir=tmp_path / "out", workers=3, progress=False)

    assert [r.status for r in report.results] == ["ok"] * 3, report.summary()
    facts = [read_json(tmp_path / "out" / f"run-{i}.json") for i in range(3)]
    assert len({f["kernel"] for f in facts}) == 3
    assert len({f["runner"] for f in facts}) == 1  # papermill and the template, once


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_a_runner_answers_a_request_it_cannot_run_instead_of_hanging():
    from brandstats.batch.runners import Runner, RunnerConfig

    runner = Runner(RunnerConfig(()), {})
    give_up = threading.Event()  # a runner that never answers is stopped, and the test fails
    timer = threading.Timer(30, give_up.set)
    timer.start()
    try:
        answer, _ = runner.run({"name": "odd", "notebook": str(ECHO)}, give_up)
        assert answer is not None, "no answer"
        assert answer["name"] == "odd" and answer["status"] == "failed"
        assert "staging" in answer["error"]  # the missing field, named
        assert runner.alive  # and it goes on serving
    finally:
        timer.cancel()
        runner.close()


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 2.5])
def test_the_batch_kernel_client_is_ready_with_iopub_drained(tmp_path, delay):
    # ReadyClient returns at a kernel_info request's idle status instead of after 0.2 s of
    # silence: IOPub must then be connected and hold nothing from before. A kernel that starts
    # late answers the requests sent meanwhile in order: the first answer must do.
    import asyncio

    import zmq
    from jupyter_client.kernelspec import KernelSpecManager

    from brandstats.batch.kernels import BatchKernelManager, ReadyClient

    spec = tmp_path / "kernels" / "late"
    spec.mkdir(parents=True)
    start = f"import time, runpy; time.sleep({delay}); runpy.run_module('ipykernel_launcher', run_name='__main__')"  # noqa: E501
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", start, "-f", "{connection_file}"],
        "display_name": "late", "language": "python",
    }), encoding="utf-8")  # fmt: skip

    async def execute() -> tuple[str, list]:
        specs = KernelSpecManager(kernel_dirs=[str(spec.parent)])
        km = BatchKernelManager(kernel_name="late", kernel_spec_manager=specs)
        await km.start_kernel(stderr=subprocess.DEVNULL)
        kc = km.client()
        try:
            assert isinstance(kc, ReadyClient)
            kc.start_channels()
            # a refused connection (the kernel not yet listening) is retried after 10 ms
            assert kc.shell_channel.socket.getsockopt(zmq.RECONNECT_IVL) == 10
            await kc.wait_for_ready(timeout=30)
            request, seen = kc.execute("1 + 1"), []
            while True:
                msg = await kc.iopub_channel.get_msg(timeout=10)
                seen.append((msg["parent_header"].get("msg_id"), msg["msg_type"], msg["content"]))
                if seen[-1][0] == request and msg["content"].get("execution_state") == "idle":
                    return request, seen
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    request, seen = asyncio.run(execute())
    ours = [(kind, content) for parent, kind, content in seen if parent == request]
    assert ("execute_result", "2") in [(k, c.get("data", {}).get("text/plain")) for k, c in ours]
    if not delay:  # nothing was left over from before
        assert all(parent == request for parent, _, _ in seen)


def test_the_batch_kernel_client_asks_again_at_iopub_welcome():
    # ipykernel 7 welcomes each IOPub subscription (JEP 65). A kernel_info request answered
    # before the subscription took hold has lost its idle status: at the welcome the client
    # must ask again at once, not wait on a silent IOPub, and IOPub must end up drained.
    import asyncio
    from queue import Empty

    from brandstats.batch.kernels import ReadyClient

    def status(parent: str, state: str) -> dict:
        return {"msg_type": "status", "parent_header": {"msg_id": parent},
                "content": {"execution_state": state}}  # fmt: skip

    class Channel:
        def __init__(self) -> None:
            self.queue: list[dict] = []
            self.silent_waits = 0  # waits on an empty channel that were allowed to last

        async def get_msg(self, timeout: float) -> dict:
            if not self.queue:
                self.silent_waits += timeout > 0
                raise Empty
            return self.queue.pop(0)

    class Kernel(ReadyClient):
        """Answers kernel_info at once; the first answer's statuses go before IOPub's welcome."""

        shell, iopub, requests = Channel(), Channel(), []

        @property
        def shell_channel(self):
            return self.shell

        @property
        def iopub_channel(self):
            return self.iopub

        def kernel_info(self) -> str:
            msg_id = f"info-{len(self.requests)}"
            self.requests.append(msg_id)
            reply = {"parent_header": {"msg_id": msg_id}, "content": {"protocol_version": "5.4"}}
            self.shell.queue.append(reply)
            if len(self.requests) == 1:  # published before the subscription: lost
                self.iopub.queue.append({"msg_type": "iopub_welcome", "parent_header": {}})
            else:
                self.iopub.queue += [status(msg_id, "busy"), status(msg_id, "idle")]
            return msg_id

        async def is_alive(self) -> bool:
            return True

    client = Kernel()
    asyncio.run(client.wait_for_ready(timeout=30))
    assert client.requests == ["info-0", "info-1"]
    assert client.iopub.silent_waits == 0  # asked again at the welcome
    assert client.iopub.queue == [] and client.shell.queue == []


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
def test_kernel_death_timeout_and_late_errors_fail_keep_old_outputs_then_resume(tmp_path):
    out = tmp_path / "out"
    write_done(out, "dies", {"old": True})  # outputs of an earlier successful run of "dies"
    old = {
        ext: (out / f"dies{ext}").read_text(encoding="utf-8")
        for ext in (".ipynb", ".html", ".json")
    }
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

    fixed = [
        Job("dies", DIE, {"die": False}), Job("hangs", SLEEP, {"seconds": 0.0}),
        Job("late", FAIL, {"fail": False}), jobs[3],
    ]  # fmt: skip
    again = run_batch(fixed, output_dir=out, resume=True, workers=2, timeout=3.5, progress=False)
    assert [(r.name, r.status) for r in again.results] == [
        ("dies", "skipped"), ("hangs", "ok"), ("late", "ok"), ("fine", "skipped"),
    ]  # fmt: skip
    assert all(outputs(out, name)[".json"] for name in ("dies", "hangs", "late", "fine"))


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
def test_dask_workers_need_no_shared_disk_and_give_the_same_results(tmp_path):
    """The notebook and an input file go with the job; the outputs come back in the result."""
    distributed = pytest.importorskip("distributed")
    client_side = tmp_path / "client"
    client_side.mkdir()
    notebook = client_side / "reader.ipynb"
    text = ECHO.read_text(encoding="utf-8").replace(  # echo the content of the file `value` names
        '\\"value\\": value}', '\\"value\\": Path(value).read_text()}'
    )
    assert text != ECHO.read_text(encoding="utf-8")
    notebook.write_text(text, encoding="utf-8")
    data = client_side / "input.txt"
    data.write_text("shipped", encoding="utf-8")
    jobs = [Job("a", notebook, {"value": str(data)}), Job("b", FAIL, {"fail": True})]
    local = run_batch(jobs, output_dir=tmp_path / "local", workers=2, progress=False)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # None would still serve HTTP on 8787, warn if busy
        local_directory=str(tmp_path / "worker-space"),
    ) as cluster:  # fmt: skip
        remote = run_batch(
            jobs, output_dir=tmp_path / "dask", scheduler=cluster.scheduler_address,
            progress=False,
        )  # fmt: skip

    def essence(report):
        return [(r.name, r.status, r.cell_index, r.error) for r in report.results]

    assert essence(remote) == essence(local)
    here, there = read_json(tmp_path / "local" / "a.json"), read_json(tmp_path / "dask" / "a.json")
    assert here["value"] == there["value"] == "shipped"
    assert here["cwd"] == str(client_side)  # locally: the notebook's own folder
    assert Path(there["cwd"]).is_relative_to(tmp_path / "worker-space")  # the worker's copy
    for name in ("a", "b"):
        assert outputs(tmp_path / "dask", name) == outputs(tmp_path / "local", name)
    assert hidden_files(tmp_path / "dask") == []
    assert read_json(tmp_path / "dask" / "batch.json")["counts"] == {
        "ok": 1, "failed": 1, "skipped": 0,
    }  # fmt: skip


def hidden_files(out: Path) -> list[str]:
    """Temporary and set-aside files (atomic writes, running notebooks, previous results)."""
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


BATCH_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from brandstats.batch import Job, run_batch

    notebooks, out = Path(sys.argv[1]), sys.argv[2]
    jobs = [
        Job("quick", notebooks / "echo.ipynb"),
        Job("stuck-1", notebooks / "sleep.ipynb", {"seconds": 600.0}),
        Job("stuck-2", notebooks / "sleep.ipynb", {"seconds": 600.0}),
        Job("later", notebooks / "echo.ipynb"),
    ]
    run_batch(jobs, output_dir=out, workers=2, progress=False)
    """
)


def start_batch_process(out: Path) -> subprocess.Popen:
    """The batch above in a process of its own, with its own process group (as a shell's job)."""
    return subprocess.Popen(
        [sys.executable, "-c", BATCH_SCRIPT, str(NOTEBOOKS), str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def wait_until_both_stuck(out: Path, process: subprocess.Popen) -> None:
    """Until "quick" is done and both sleepers have started (their notebooks exist)."""
    deadline = time.monotonic() + 120
    wanted = [
        out / "quick.ipynb",
        *(out / f".{n}.staging" / f"{n}.ipynb" for n in ("stuck-1", "stuck-2")),
    ]
    while not all(p.exists() for p in wanted):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    time.sleep(1.0)  # both are sleeping in their kernels by now


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_a_killed_batch_process_leaves_no_runner_or_kernel_behind(tmp_path, process_token):
    out = tmp_path / "out"
    process = start_batch_process(out)
    wait_until_both_stuck(out, process)
    process.kill()  # SIGKILL: the batch cannot stop anything itself
    process.communicate()

    deadline = time.monotonic() + 10  # runners see their input end, kernels their parent go
    while tagged_processes(process_token) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert tagged_processes(process_token) == []
    assert read_json(out / "quick.json")["run_name"] == "quick"
    assert hidden_files(out) == []  # the runners removed the unfinished attempts


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_a_runner_that_dies_fails_its_job_only(tmp_path):
    out = tmp_path / "out"
    jobs = [
        Job("before", ECHO), Job("killer", KILL_RUNNER), Job("after", ECHO, {"value": 2}),
    ]  # fmt: skip
    report = run_batch(jobs, output_dir=out, workers=1, progress=False)

    assert [(r.name, r.status) for r in report.results] == [
        ("before", "ok"), ("killer", "failed"), ("after", "ok"),
    ]  # fmt: skip
    assert report.results[1].error == "the runner process was killed (SIGKILL)"
    assert read_json(out / "after.json")["value"] == 2  # a new runner took over
    assert outputs(out, "killer") == {
        ".ipynb": False, ".html": False, ".json": False, ".failed.ipynb": True,
    }  # fmt: skip
    assert hidden_files(out) == []

    fixed = [jobs[0], Job("killer", KILL_RUNNER, {"kill": False}), jobs[2]]
    again = run_batch(fixed, output_dir=out, resume=True, workers=1, progress=False)
    assert [r.status for r in again.results] == ["skipped", "ok", "skipped"]


FULL_DISK = textwrap.dedent(
    """
    # Loaded by every process of the batch (runners, templates, kernels) through PYTHONPATH:
    # brandstats' atomic writer fails with ENOSPC, as on a full disk, for the files named in
    # BRANDSTATS_TEST_FULL, after the data went to the temporary file.
    import errno, os
    from pathlib import Path

    VICTIMS = set(filter(None, os.environ.get("BRANDSTATS_TEST_FULL", "").split(",")))
    if VICTIMS:
        import brandstats.atomic as atomic

        class FullDisk:
            def __getattr__(self, name):
                return getattr(os, name)

            def fsync(self, fd):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        real = atomic.write_bytes_atomic

        def write_bytes_atomic(path, data):
            if Path(path).name not in VICTIMS:
                return real(path, data)
            atomic.os = FullDisk()
            try:
                return real(path, data)
            finally:
                atomic.os = os

        atomic.write_bytes_atomic = write_bytes_atomic
    """
)


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_a_full_disk_stops_the_batch_with_one_error_and_keeps_complete_outputs(
    tmp_path, monkeypatch
):
    out = tmp_path / "out"
    run_batch([Job("a", ECHO, {"value": 1}), Job("b", ECHO)], output_dir=out, progress=False)
    before = {p.name: p.read_bytes() for p in out.glob("b.*")}

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(FULL_DISK, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    monkeypatch.setenv("BRANDSTATS_TEST_FULL", "b.html")  # in b's runner, as it writes b.html
    jobs = [Job("a", ECHO, {"value": 2}), Job("b", ECHO), Job("c", ECHO), Job("d", ECHO)]
    with pytest.raises(BrandstatsError, match="the disk is full") as info:
        run_batch(jobs, output_dir=out, workers=1, progress=False)

    assert "No space left on device" in str(info.value) and "--resume" in str(info.value)
    written = read_json(out / "batch.json")
    assert written["interrupted"] is True and "disk is full" in written["error"]
    assert [(j["name"], j["status"]) for j in written["jobs"]] == [("a", "ok"), ("b", "failed")]
    assert read_json(out / "a.json")["value"] == 2
    assert {p.name: p.read_bytes() for p in out.glob("b.*") if p.name != "b.failed.ipynb"} == before
    assert not (out / "c.ipynb").exists() and not (out / "d.ipynb").exists()  # it stopped
    assert hidden_files(out) == []
    for path in [*out.glob("*.json"), *out.glob("*.ipynb")]:  # nothing truncated
        json.loads(path.read_bytes())

    monkeypatch.delenv("BRANDSTATS_TEST_FULL")
    again = run_batch(jobs, output_dir=out, resume=True, workers=2, progress=False)
    assert [r.status for r in again.results] == ["skipped", "skipped", "ok", "ok"]


def test_an_unwritable_output_folder_is_refused_before_any_kernel_starts(
    tmp_path, monkeypatch, capsys
):
    def no_runners(*args, **kwargs):
        raise AssertionError("a runner was started")

    real_runner = brandstats.batch.runners.Runner
    monkeypatch.setattr(brandstats.batch.runners, "Runner", no_runners)
    if Path("/sys/kernel").is_dir():  # sysfs: nobody may create files there, root neither
        with pytest.raises(BrandstatsError, match=r"/sys/kernel: cannot write the outputs"):
            run_batch([Job("a", ECHO)], output_dir="/sys/kernel", progress=False)
        with pytest.raises(BrandstatsError, match=r"/sys/brandstats: cannot write the outputs"):
            run_batch([Job("a", ECHO)], output_dir="/sys/brandstats", progress=False)

    read_only = tmp_path / "read-only"
    read_only.mkdir()

    def refuse(*args, dir=None, **kwargs):  # what a read-only folder does, even for root
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dir))

    monkeypatch.setattr(brandstats.batch.outputs.tempfile, "TemporaryFile", refuse)
    message = f"{read_only}: cannot write the outputs there (Permission denied)"
    with pytest.raises(BrandstatsError, match=re.escape(message)):
        run_batch([Job("a", ECHO)], output_dir=read_only, progress=False)
    assert list(read_only.iterdir()) == []

    from brandstats.cli import main

    # the CLI starts its runner while it checks the inputs; no job may reach it
    monkeypatch.setattr(brandstats.batch.runners, "Runner", real_runner)
    monkeypatch.setattr(brandstats.batch.local, "run_job", no_runners)
    assert main(["run", "--indicator", "product_brand_value", "--output", str(read_only)]) == 1
    captured = capsys.readouterr()
    assert "error: " in captured.err and message in captured.err
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused(tmp_path):
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        with pytest.raises(BrandstatsError, match="cannot write the outputs there"):
            run_batch([Job("a", ECHO)], output_dir=read_only, progress=False)
    finally:
        read_only.chmod(0o755)


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_each_notebook_gets_a_new_kernel_without_state_from_earlier_ones(tmp_path):
    out = tmp_path / "out"
    jobs = [Job(f"run-{i}", STATE, {"leak": True}) for i in range(3)]
    report = run_batch(jobs, output_dir=out, workers=1, progress=False)  # one runner: in turn

    assert [r.status for r in report.results] == ["ok"] * 3
    facts = [read_json(out / f"run-{i}.json") for i in range(3)]
    for fact in facts:
        assert fact["leaked_global"] is False
        assert fact["leaked_attribute"] is None
        assert fact["max_rows"] == 60  # pandas' default, not the 7 set by the run before
    assert len({f["pid"] for f in facts}) == 3
    assert len({f["draw"] for f in facts}) == 3  # NumPy's global random state is not shared


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_warm_kernels_are_like_cold_ones(tmp_path):
    cold = run_batch([Job("x", STATE)], output_dir=tmp_path / "cold", preload=False, progress=False)
    warm = run_batch([Job("x", STATE)], output_dir=tmp_path / "warm", progress=False)

    assert cold.failed == warm.failed == ()
    a, b = read_json(tmp_path / "cold" / "x.json"), read_json(tmp_path / "warm" / "x.json")
    assert "_runner_main" in a["parent"]
    assert ("_template_main" if FORKS else "_runner_main") in b["parent"]
    for facts in (a, b):  # anonymous threads are numbered by a counter: "Thread-1"
        facts["threads"] = [re.sub(r"-\d+$", "", name) for name in facts["threads"]]
    different = {"pid", "draw", "parent"}
    assert {k: v for k, v in a.items() if k not in different} == {
        k: v for k, v in b.items() if k not in different
    }
    assert a["max_columns"] == 20  # pandas' default in a kernel (0 in a terminal)
    assert a["cwd"] == str(NOTEBOOKS)
    assert a["backend"] == "module://matplotlib_inline.backend_inline"


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
@pytest.mark.parametrize("stampmod", ["lib", "site-packages"], indirect=True)
def test_a_template_whose_modules_change_is_replaced(tmp_path, stampmod):
    # A project's own module is edited in place; an installed one is replaced, as pip does.
    notebook = tmp_path / "nb" / "stamp.ipynb"
    notebook.parent.mkdir()
    text = (
        ECHO.read_text(encoding="utf-8")
        .replace(
            '"from pathlib import Path\\n",',
            '"from pathlib import Path\\n",\n    "import stampmod\\n",',
        )
        .replace('\\"value\\": value}', '\\"value\\": stampmod.STAMP}')
    )
    notebook.write_text(text, encoding="utf-8")

    run_batch([Job("one", notebook)], output_dir=tmp_path / "out", workers=1, progress=False)
    later = time.time() + 5  # a time stamp that changes whatever the clock's resolution
    if "site-packages" in stampmod.parts:  # a new file, renamed over the old one
        stampmod.with_suffix(".new").write_text("STAMP = 2\n", encoding="utf-8")
        stampmod.with_suffix(".new").replace(stampmod)
        os.utime(stampmod.parent, (later, later))
    else:
        stampmod.write_text("STAMP = 2\n", encoding="utf-8")
    os.utime(stampmod, (later, later))
    run_batch([Job("two", notebook)], output_dir=tmp_path / "out", workers=1, progress=False)

    assert read_json(tmp_path / "out" / "one.json")["value"] == 1
    assert read_json(tmp_path / "out" / "two.json")["value"] == 2


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_a_module_changed_mid_batch_leaves_running_kernels_alone(tmp_path, stampmod):
    # "waiter" runs on while "changer" edits the module and a later job ("later") finds the
    # template out of date; that job gets a new template, and the waiter's kernel lives on.
    go, module = tmp_path / "go", stampmod
    sources = [
        "import os, time\nfrom pathlib import Path\nimport stampmod\n"
        "from brandstats.atomic import write_json_atomic",
        'output_dir = "."\nrun_name = "x"\nrole = "waiter"',
        f"if role == 'waiter':\n    deadline = time.monotonic() + 60\n"
        f"    while not Path({str(go)!r}).exists():\n"
        "        assert time.monotonic() < deadline\n        time.sleep(0.05)\n"
        f"if role == 'changer':\n    Path({str(module)!r}).write_text('STAMP = 2\\n')\n"
        f"    os.utime({str(module)!r}, (time.time() + 5, time.time() + 5))\n"
        f"if role == 'later':\n    Path({str(go)!r}).touch()",
        "write_json_atomic(Path(output_dir) / f'{run_name}.json', {'stamp': stampmod.STAMP})",
    ]
    (tmp_path / "nb").mkdir()
    notebook = write_notebook(tmp_path / "nb" / "stamp.ipynb", *sources, parameters=1)
    jobs = [Job(role, notebook, {"role": role}) for role in ("waiter", "changer", "later")]
    report = run_batch(jobs, output_dir=tmp_path / "out", workers=2, progress=False)

    assert [r.status for r in report.results] == ["ok"] * 3, report.summary()
    stamps = {role: read_json(tmp_path / "out" / f"{role}.json")["stamp"] for role in
              ("waiter", "changer", "later")}  # fmt: skip
    assert stamps == {"waiter": 1, "changer": 1, "later": 2}


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_two_batches_at_once_in_one_process_with_the_same_job_name(tmp_path):
    # They share the process's runner: each must get its own job's answer.
    reports = {}

    def batch(i: int) -> None:
        job = Job("same", ECHO, {"value": i})
        reports[i] = run_batch([job], output_dir=tmp_path / str(i), progress=False)

    threads = [threading.Thread(target=batch, args=(i,), daemon=True) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(reports) == [1, 2], "a batch did not finish"
    for i in (1, 2):
        assert [r.status for r in reports[i].results] == ["ok"]
        assert read_json(tmp_path / str(i) / "same.json")["value"] == i


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_imports_that_start_a_thread_give_cold_kernels_with_a_note(tmp_path, monkeypatch, capfd):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "threader.py").write_text(  # a thread would not survive a fork
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "lib"))
    notebook = tmp_path / "nb" / "threads.ipynb"
    notebook.parent.mkdir()
    text = ECHO.read_text(encoding="utf-8").replace(
        '"from pathlib import Path\\n",',
        '"from pathlib import Path\\n",\n    "import threader\\n",',
    )
    assert "import threader" in text
    notebook.write_text(text, encoding="utf-8")
    report = run_batch([Job("t", notebook, {"value": 5})], output_dir=tmp_path / "out",
                       workers=1, progress=False)  # fmt: skip

    assert report.failed == ()
    assert read_json(tmp_path / "out" / "t.json")["value"] == 5
    if FORKS:
        notes = [line for line in capfd.readouterr().err.splitlines() if "start cold" in line]
        assert len(notes) == 1, notes
        assert notes[0].startswith(f"brandstats: kernels for notebooks in {notebook.parent}")


# --------------------------------------------------------------------------- what templates import


def write_notebook(path: Path, *sources: str, parameters: int | None = None) -> Path:
    """A notebook of these code cells (cell ``parameters`` tagged so) on the python3 kernel."""
    cells = [{"cell_type": "code", "id": str(i), "source": s, "outputs": [],
              "metadata": {"tags": ["parameters"]} if i == parameters else {},
              "execution_count": None} for i, s in enumerate(sources)]  # fmt: skip
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": kernel},
                                "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")  # fmt: skip
    return path


@pytest.fixture
def stampmod(tmp_path, monkeypatch, request) -> Path:
    """A module ``stampmod`` (``STAMP = 1``) importable here and in kernels; its file. In a
    folder ``lib`` (a project's own code), or ``site-packages`` (installed) if so parametrized."""
    folder = tmp_path / getattr(request, "param", "lib")
    package = folder / "stampmod"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("STAMP = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", str(folder))
    return package / "__init__.py"


def test_preload_entries_follow_the_notebooks_imports(tmp_path):
    notebook = write_notebook(
        tmp_path / "nb.ipynb",
        "%matplotlib inline\nimport numpy as np\nimport os.path\nfrom brandstats import plots",
        "from . import local\nfrom pandas import *\nx = np.zeros(3)\nplots.plot_assessment",
        "!ls\nos.path.join('a')\ndef f():\n    import yaml\n",
        "this is not python",
    )
    assert preload_entries(notebook, ("extra.module",)) == [
        ("import", "matplotlib.pyplot"),
        ("import", "numpy"),
        ("import", "os.path"),
        ("from", "brandstats", "plots"),
        ("import", "pandas"),
        ("import", "yaml"),
        ("getattr", "brandstats.plots", "plot_assessment"),
        ("getattr", "numpy", "zeros"),
        ("getattr", "os", "path"),
        ("import", "extra.module"),
    ]


@pytest.mark.parametrize(
    "code",
    [
        "import os\nos.environ['OMP_NUM_THREADS'] = '4'\nimport numpy",
        "from os import environ\nenviron['X'] = '1'",
        "import os\nos.environ.update(X='1')",
        "import os\nos.environ.setdefault('X', '1')",
        "import os\ndel os.environ['X']",
        "import os\nos.putenv('X', '1')",
    ],
)
def test_a_notebook_that_changes_the_environment_gets_a_cold_kernel(tmp_path, code):
    notebook = write_notebook(tmp_path / "nb.ipynb", code)
    assert preload_entries(notebook) is None


def test_reading_the_environment_is_fine(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", "import os\nx = os.environ.get('X')")
    assert preload_entries(notebook) == [("import", "os"), ("getattr", "os", "environ")]


@pytest.mark.parametrize("preload", ["numpy", [1], ["not a module"], {"a": 1}])
def test_run_batch_checks_preload(tmp_path, preload):
    with pytest.raises(BrandstatsError, match="preload"):
        run_batch([Job("a", ECHO)], output_dir=tmp_path / "out", preload=preload)


# --------------------------------------------------------------------------- transient kernels

KILLED_ONCE = NOTEBOOKS / "killed_once.ipynb"  # SIGKILLs its kernel in cell 3 unless marker
DIE_AT_START = """\
import os, sys
if "ipykernel_launcher" in " ".join(sys.orig_argv):  # a kernel, not the runner
    for i in range(int(os.environ["DIE_AT_START"])):  # the first N kernels die at start
        try:
            os.close(os.open(os.environ["DIE_MARKER"] + str(i), os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        os._exit(1)
"""


@pytest.mark.slow
@pytest.mark.parametrize(("deaths", "status"), [(1, "ok"), (2, "ok"), (3, "failed")])
def test_a_kernel_that_dies_before_running_a_cell_is_started_again(
    tmp_path, monkeypatch, no_leftover_processes, deaths, status
):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(DIE_AT_START, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(hook))
    monkeypatch.setenv("DIE_AT_START", str(deaths))
    monkeypatch.setenv("DIE_MARKER", str(tmp_path / "died"))
    out = tmp_path / "out"
    report = run_batch([Job("flaky", ECHO, {"value": 1})], output_dir=out, progress=False,
                       preload=False)  # fmt: skip
    (job,) = report.results
    assert job.status == status
    assert job.retries == ("the kernel died before running any cell",) * min(deaths, 2)
    written = read_json(out / "batch.json")["jobs"][0]
    assert written["retries"] == list(job.retries)
    assert f"retried flaky {min(deaths, 2)} time" in report.summary()
    if status == "ok":
        assert read_json(out / "flaky.json")["value"] == 1
        assert job.error is None
    else:
        assert (
            "Kernel died before replying to kernel_info (3 attempts: the kernel did not "
            "start, a fault of the machine (memory, processes), not of the data" in job.error
        )
        assert outputs(out, "flaky") == {
            ".ipynb": False, ".html": False, ".json": False, ".failed.ipynb": True,
        }  # fmt: skip


@pytest.mark.slow
def test_a_kernel_killed_in_a_cell_runs_the_notebook_again_once(tmp_path, no_leftover_processes):
    out = tmp_path / "out"
    marker = tmp_path / "killed"
    jobs = [Job("oom", KILLED_ONCE, {"marker": str(marker)}), Job("dies", DIE, {"die": True})]
    report = run_batch(jobs, output_dir=out, progress=False, workers=2)
    oom, dies = report.results
    assert (oom.status, oom.retries) == ("ok", (f"the kernel died in cell {ACTING_CELL} "
                                                "without an error",))  # fmt: skip
    assert read_json(out / "oom.json")["run_name"] == "oom"
    assert (dies.status, dies.cell_index, len(dies.retries)) == ("failed", ACTING_CELL, 1)
    assert dies.error.startswith("DeadKernelError")
    assert "2 attempts: the kernel process ended without an error" in dies.error
    assert "not a fault in the data" in dies.error
    summary = report.summary()
    assert "retried oom 1 time (the kernel died in cell 3 without an error), then ok" in summary
    assert "retried dies 1 time" in summary and "then failed" in summary


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_a_full_tmp_stops_the_batch_naming_that_disk_not_the_output_folder(tmp_path):
    full = write_notebook(
        tmp_path / "full.ipynb",
        "import errno, os\n"
        "raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), '/tmp/matplotlib-x/fontlist')",
    )
    out = tmp_path / "out"
    with pytest.raises(BrandstatsError) as info:
        run_batch([Job("a", full), Job("b", ECHO)], output_dir=out, workers=1, progress=False)
    message = str(info.value)
    assert message.startswith(
        f"the disk holding /tmp/matplotlib-x is full (not the output folder's, {out})"
    )
    assert "not because of the data or a notebook" in message and "--resume" in message
    assert read_json(out / "batch.json")["error"] == message
