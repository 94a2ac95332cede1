"""Batch: run one parameterised notebook per job with papermill, locally or on Dask.

The batch knows notebooks only by path and parameters. For a job named ``<name>`` it leaves in
``output_dir``:

- ``<name>.ipynb``: the executed notebook;
- ``<name>.html``: a report of the outputs, without code cells (unless ``html=False``);
- ``<name>.json``: the notebook's own result. Every notebook receives two extra parameters,
  ``output_dir`` (an absolute path) and ``run_name`` (the job name), and is expected to write
  ``{output_dir}/{run_name}.json``.

A failed job leaves only ``<name>.failed.ipynb``, the partly executed notebook, for debugging;
outputs from an earlier successful run of the same job are kept. ``batch.json`` reports every
job. Parameters reach notebooks only as data: papermill writes them as literals.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import keyword
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal, NamedTuple

from .atomic import write_bytes_atomic, write_json_atomic, write_text_atomic
from .errors import BrandstatsError

__all__ = ["BatchReport", "Job", "JobResult", "load_batch_config", "run_batch"]

RESERVED_PARAMETERS = ("output_dir", "run_name")
"""Parameters the batch passes to every notebook itself."""

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")
_CONFIG_KEYS = ("notebook", "defaults", "parameter_sets", "grid")
_STOP_FILE = ".batch-stop"  # its presence tells every running job to stop
_INTERRUPTED = "interrupted"  # internal status of a job stopped by Ctrl-C; never reported
_POLL = 0.5  # seconds between checks of the stop file
_STOP_GRACE = 20.0  # seconds a runner gets to shut its kernel down before it is killed
_RUNNER = "from brandstats.batch import _runner_main; _runner_main()"  # fixed; data goes via stdin

Status = Literal["ok", "failed", "skipped"]
_STATUSES: tuple[Status, ...] = ("ok", "failed", "skipped")


# ----------------------------------------------------------------------------- jobs and config


@dataclass(frozen=True)
class Job:
    """One notebook run.

    Parameters
    ----------
    name : str
        A safe file stem (letters, digits, ``-``, ``_``, ``.``; not starting with ``.`` or
        ``-``): the outputs are ``<name>.ipynb``, ``<name>.html`` and ``<name>.json``.
    notebook : path-like
        The notebook to run. It is only read.
    parameters : mapping, optional
        Parameter name -> plain JSON value (str, int, float, bool, None, and lists and dicts of
        those). ``output_dir`` and ``run_name`` are reserved: the batch sets them.

    Raises
    ------
    BrandstatsError
        If the name is not a safe file stem, or a parameter name or value is not acceptable.
    """

    name: str
    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _check_name(self.name, "job name")
        object.__setattr__(self, "notebook", Path(self.notebook))
        parameters = _check_parameters(self.parameters, f"job {self.name!r}")
        object.__setattr__(self, "parameters", parameters)


def load_batch_config(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a YAML batch config and expand it into one run description per notebook run.

    Parameters
    ----------
    path : path-like
        A YAML file with any of these keys:

        - ``notebook``: the notebook to run, relative to the YAML file's folder;
        - ``defaults``: parameters shared by every run;
        - ``parameter_sets``: a list of parameter mappings, one run each;
        - ``grid``: parameter -> list of values; one run per combination (Cartesian product).

        Each run's parameters are its own values merged over ``defaults``. Parameter sets come
        first, then the grid's combinations; with neither, ``defaults`` make a single run.

    Returns
    -------
    list of dict
        Each with ``name`` (a parameter set's ``run_name`` if it gives one, otherwise built
        from its own values), ``notebook`` (a Path, or None if the config names none) and
        ``parameters``. With a notebook, ``Job(**run)`` makes the job.

    Raises
    ------
    BrandstatsError
        If the file cannot be read, is not valid YAML, or a key has the wrong type; the
        message names the file and the key.

    Examples
    --------
    .. code-block:: yaml

        notebook: project_target.ipynb
        defaults: {draws: 2000}
        grid:
          indicator: [gdp, population]
          level: [0.8, 0.95]
    """
    import yaml

    path = Path(path)
    try:
        with path.open(encoding="utf-8") as fh:
            config = yaml.safe_load(fh)
    except OSError as exc:
        raise BrandstatsError(f"{path}: cannot read the batch config ({exc.strerror})") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BrandstatsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(config, dict):
        raise BrandstatsError(f"{path}: expected a mapping of {', '.join(_CONFIG_KEYS)}")
    for key in config:
        if key not in _CONFIG_KEYS:
            raise BrandstatsError(
                f"{path}: unknown key {key!r}; expected any of {', '.join(_CONFIG_KEYS)}"
            )

    notebook = config.get("notebook")
    if notebook is not None:
        if not isinstance(notebook, str) or not notebook:
            raise BrandstatsError(f"{path}: notebook: expected a path, got {notebook!r}")
        notebook = path.parent / notebook
    defaults = _check_parameters(config.get("defaults", {}), f"{path}: defaults")

    runs: list[tuple[str | None, dict[str, Any], str]] = []  # (run_name, own values, where)
    sets = config.get("parameter_sets", [])
    if not isinstance(sets, list):
        raise BrandstatsError(f"{path}: parameter_sets: expected a list of mappings")
    for i, entry in enumerate(sets):
        where = f"parameter_sets[{i}]"
        own = dict(entry) if isinstance(entry, dict) else entry
        name = own.pop("run_name", None) if isinstance(own, dict) else None
        if name is not None:
            _check_name(name, f"{path}: {where}.run_name")
        runs.append((name, _check_parameters(own, f"{path}: {where}"), where))
    grid = _check_parameters(config.get("grid", {}), f"{path}: grid")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise BrandstatsError(f"{path}: grid.{key}: expected a non-empty list of values")
    for combo in itertools.product(*grid.values()):
        own = dict(zip(grid, combo, strict=True))
        runs.append((None, own, f"grid {own}"))
    if not runs:
        runs.append((None, {}, "defaults"))

    specs, made_by = [], {}
    for name, own, where in runs:
        name = name if name is not None else _name_from(own.values())
        _check_name(name, f"{path}: {where}: run name")
        if name in made_by:
            raise BrandstatsError(
                f"{path}: {made_by[name]} and {where} both make a run named {name!r};"
                " give one a distinct run_name"
            )
        made_by[name] = where
        specs.append({"name": name, "notebook": notebook, "parameters": {**defaults, **own}})
    return specs


def _check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name == "batch":
        raise BrandstatsError(
            f"{what}: {name!r} is not a safe file name: use up to 200 letters, digits, '-', '_'"
            " or '.', not starting with '.' or '-' (and not 'batch', used by batch.json)"
        )


def _check_parameters(parameters: object, where: str) -> dict[str, Any]:
    """Check names and values; return a deep copy made of plain JSON types."""
    if not isinstance(parameters, Mapping):
        raise BrandstatsError(
            f"{where}: expected a mapping of parameter names to values,"
            f" got {type(parameters).__name__}"
        )
    for key, value in parameters.items():
        # papermill writes `name = value`: a name must be an identifier, never code
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            raise BrandstatsError(f"{where}: parameter name {key!r} is not a Python identifier")
        if key in RESERVED_PARAMETERS:
            raise BrandstatsError(f"{where}.{key}: reserved, the batch sets it for every run")
        if not _is_plain(value):
            raise BrandstatsError(
                f"{where}.{key}: {value!r} is not a plain JSON value"
                " (str, int, finite float, bool, None, or lists and dicts of those)"
            )
    return json.loads(json.dumps(dict(parameters)))


def _is_plain(value: object) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _name_from(values: Iterable[object]) -> str:
    name = "-".join(re.sub(r"[^A-Za-z0-9._]+", "_", str(v)) for v in values)
    return name.strip("._-")[:200] or "run"


# ----------------------------------------------------------------------------- report


@dataclass(frozen=True)
class JobResult:
    """How one job went.

    Attributes
    ----------
    name : str
        The job name.
    status : {"ok", "failed", "skipped"}
        ``"skipped"``: done by an earlier run and ``resume=True``.
    seconds : float
        Wall time of the run (0 when skipped).
    cell_index : int or None
        For a failure inside a cell: the cell's index in the executed notebook as papermill
        numbers it (0-based, counting the injected-parameters cell; ``<name>.failed.ipynb``
        also has papermill's two error-marker cells, at the top and before the failed cell).
    error : str or None
        For a failure: one line, e.g. ``"ValueError: negative draws"``.
    """

    name: str
    status: Status
    seconds: float
    cell_index: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class BatchReport:
    """The outcome of :func:`run_batch`, in job order; also written to ``batch.json``.

    Attributes
    ----------
    results : tuple of JobResult
        One per job (after a Ctrl-C, only the jobs that finished or were skipped).
    output_dir : Path
        Where the outputs are.
    seconds : float
        Wall time of the batch.
    interrupted : bool
        True if the batch stopped early (Ctrl-C, or an error of the batch itself).
    """

    results: tuple[JobResult, ...]
    output_dir: Path
    seconds: float
    interrupted: bool = False

    @property
    def ok(self) -> tuple[JobResult, ...]:
        """The jobs that ran successfully."""
        return tuple(r for r in self.results if r.status == "ok")

    @property
    def failed(self) -> tuple[JobResult, ...]:
        """The jobs that failed."""
        return tuple(r for r in self.results if r.status == "failed")

    @property
    def skipped(self) -> tuple[JobResult, ...]:
        """The jobs skipped as already done (``resume=True``)."""
        return tuple(r for r in self.results if r.status == "skipped")

    def summary(self) -> str:
        """A few lines of text: the counts, then one line per failed job."""
        head = (
            f"{len(self.results)} jobs in {self.seconds:.1f} s: {len(self.ok)} ok, "
            f"{len(self.failed)} failed, {len(self.skipped)} skipped"
            + (" (interrupted)" if self.interrupted else "")
        )
        lines = [head]
        for r in self.failed:
            cell = f" (cell {r.cell_index})" if r.cell_index is not None else ""
            lines.append(f"  FAILED {r.name}{cell}: {r.error}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON types (the content of ``batch.json``)."""
        return {
            "output_dir": str(self.output_dir),
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
            "counts": {s: sum(r.status == s for r in self.results) for s in _STATUSES},
            "jobs": [asdict(r) for r in self.results],
        }


# ----------------------------------------------------------------------------- running

# How jobs run. Each job runs in a fresh *runner* process (`python -c _RUNNER`) that calls
# papermill.execute_notebook in-process, then exits. Threads (locally) or Dask tasks only
# supervise runners: start one, feed it the job on stdin, read its result on stdout. Why not
# papermill in threads, or in a long-lived process pool:
# - papermill applies `cwd` with os.chdir, which is process-wide: jobs in threads of one process
#   race on the working directory (and a Dask worker with processes=False would chdir the
#   client's process);
# - nbclient drives each run with an asyncio loop (one per thread, made by jupyter_core); it
#   works in threads, but only the main thread ever sees KeyboardInterrupt, so on Ctrl-C a
#   kernel run by a thread can't be stopped. A runner process can: SIGTERM raises
#   KeyboardInterrupt in it, and nbclient shuts its kernel down on the way out;
# - a crash of a runner or of its kernel touches one job only, where a crashed worker of a
#   ProcessPoolExecutor breaks the pool and fails every pending job.
# The price: each runner imports papermill and nbconvert afresh (1-3 s of CPU per job here).
# The same supervising function (_run_job) is what Dask's client.map runs, so both paths make the
# same files. Runners start in their own session, so a terminal's Ctrl-C reaches only the batch,
# which then creates the stop file that every supervisor polls (a file works across Dask workers).


def run_batch(
    jobs: Iterable[Job],
    *,
    output_dir: str | os.PathLike[str],
    workers: int | None = None,
    resume: bool = False,
    scheduler: str | None = None,
    timeout: float | None = None,
    progress: bool = True,
    html: bool = True,
    report_name: str = "batch.json",
) -> BatchReport:
    """Run every job's notebook with papermill and collect the outputs in ``output_dir``.

    Parameters
    ----------
    jobs : iterable of Job
        The runs; names must be unique.
    output_dir : path-like
        Folder for all outputs (created if needed). Nothing is written anywhere else.
    workers : int, optional
        Jobs run at once on this machine; default ``os.cpu_count()``. Ignored with
        ``scheduler``.
    resume : bool, default False
        Skip jobs already done: ``<name>.ipynb`` and ``<name>.json`` (and ``<name>.html`` if
        ``html``) exist. Without it every job runs, and a job's existing outputs are replaced
        only if the new run succeeds.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``"tcp://host:port"``) to run the jobs on. The
        workers need brandstats, the notebooks at the same paths, and ``output_dir`` shared.
    timeout : float, optional
        Seconds a single cell may run before its job fails (rounded up to whole seconds);
        default no limit.
    progress : bool, default True
        Show a progress bar on stderr.
    html : bool, default True
        Also write ``<name>.html``, the outputs without code cells.
    report_name : str, default "batch.json"
        File name of the report written in ``output_dir``.

    Returns
    -------
    BatchReport
        Per job: status, seconds, and for failures the cell and a one-line error. A failing
        job (an exception in a cell, a dead kernel, a cell timeout) never stops the others.

    Raises
    ------
    BrandstatsError
        If the options are invalid, two jobs share a name, or a notebook does not exist.
    KeyboardInterrupt
        On Ctrl-C: no new job starts, running kernels are shut down, unfinished jobs leave no
        output, and ``batch.json`` lists the jobs that finished.

    Notes
    -----
    Each job runs in its own Python process, on the ``python3`` kernel, in the notebook's
    folder. papermill writes the executed notebook under a hidden name and the batch renames it
    into place last, after ``<name>.html``. The notebook writes ``<name>.json`` itself: an
    earlier run's JSON is set aside (hidden) meanwhile and put back if the run fails.
    """
    jobs = list(jobs)
    out = Path(output_dir).resolve()
    _check_batch(jobs, out, workers=workers, scheduler=scheduler, timeout=timeout)
    jobs = [replace(job, notebook=job.notebook.resolve()) for job in jobs]
    out.mkdir(parents=True, exist_ok=True)
    stop_file = out / _STOP_FILE
    stop_file.unlink(missing_ok=True)  # left by a batch that was killed

    results: dict[str, JobResult] = {}
    todo = []
    for job in jobs:
        if resume and _is_done(out, job.name, html=html):
            results[job.name] = JobResult(job.name, "skipped", 0.0)
        else:
            todo.append(job)

    from tqdm import tqdm

    start = time.monotonic()
    run_one = partial(_run_job, output_dir=str(out), timeout=timeout, html=html)
    interrupted = True
    bar = tqdm(
        total=len(jobs), initial=len(jobs) - len(todo), disable=not progress,
        file=sys.stderr, unit="job", desc="notebooks",
    )  # fmt: skip

    def record(result: dict[str, Any]) -> None:
        if result["status"] != _INTERRUPTED:
            results[result["name"]] = JobResult(**result)
        bar.set_postfix(failed=sum(r.status == "failed" for r in results.values()), refresh=False)
        bar.update()

    try:
        if todo and scheduler is None:
            _run_local(todo, run_one, workers or os.cpu_count() or 1, record, stop_file)
        elif todo:
            _run_dask(todo, run_one, scheduler, record, stop_file)
        interrupted = False
    finally:
        bar.close()
        stop_file.unlink(missing_ok=True)
        report = BatchReport(
            tuple(results[job.name] for job in jobs if job.name in results),
            out,
            time.monotonic() - start,
            interrupted,
        )
        write_json_atomic(out / report_name, report.to_dict())
    return report


def _check_batch(
    jobs: list[Job],
    out: Path,
    *,
    workers: int | None,
    scheduler: str | None,
    timeout: float | None,
) -> None:
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise BrandstatsError(f"workers must be a positive integer, got {workers!r}")
    if timeout is not None and not timeout > 0:
        raise BrandstatsError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise BrandstatsError(
            f"scheduler must be an address like 'tcp://host:8786', got {scheduler!r}"
        )
    names: set[str] = set()
    for job in jobs:
        if not isinstance(job, Job):
            raise BrandstatsError(f"expected Job objects, got {type(job).__name__}")
        if job.name in names:
            raise BrandstatsError(f"two jobs are named {job.name!r}; job names must be unique")
        names.add(job.name)
        if not job.notebook.is_file():
            raise BrandstatsError(f"job {job.name!r}: notebook {job.notebook} does not exist")
    outputs = {path for name in names for path in _paths(out, name)}
    for job in jobs:
        if job.notebook.resolve() in outputs:
            raise BrandstatsError(
                f"job {job.name!r}: the outputs would overwrite the notebook {job.notebook};"
                " choose another output_dir"
            )


class _Paths(NamedTuple):
    ipynb: Path
    html: Path
    json: Path
    failed: Path
    running: Path  # papermill's output while the job runs
    previous: Path  # <name>.json of an earlier run, kept aside until this run succeeds


def _paths(out: Path, name: str) -> _Paths:
    return _Paths(
        out / f"{name}.ipynb", out / f"{name}.html", out / f"{name}.json",
        out / f"{name}.failed.ipynb", out / f".{name}.running.ipynb",
        out / f".{name}.json.previous",
    )  # fmt: skip


def _is_done(out: Path, name: str, *, html: bool) -> bool:
    paths = _paths(out, name)
    return all(p.exists() for p in (paths.ipynb, paths.json, *([paths.html] if html else [])))


def _run_local(
    jobs: list[Job],
    run_one: Callable[[Job], dict[str, Any]],
    workers: int,
    record: Callable[[dict[str, Any]], None],
    stop_file: Path,
) -> None:
    from concurrent.futures import ThreadPoolExecutor, as_completed, wait

    with ThreadPoolExecutor(min(workers, len(jobs)), thread_name_prefix="brandstats") as pool:
        names = {pool.submit(run_one, job): job.name for job in jobs}
        try:
            _drain(as_completed(list(names)), names, record)
        except BaseException:
            write_bytes_atomic(stop_file, b"")
            for future in names:
                future.cancel()
            wait(list(names))  # bounded: each supervisor kills its runner after _STOP_GRACE
            _drain([f for f in list(names) if not f.cancelled()], names, record)
            raise


def _run_dask(
    jobs: list[Job],
    run_one: Callable[[Job], dict[str, Any]],
    scheduler: str,
    record: Callable[[dict[str, Any]], None],
    stop_file: Path,
) -> None:
    from distributed import Client, as_completed, wait

    with Client(scheduler) as client:
        futures = client.map(run_one, jobs, pure=False)
        names = {future: job.name for future, job in zip(futures, jobs, strict=True)}
        try:
            _drain(as_completed(futures), names, record)
        except BaseException:
            write_bytes_atomic(stop_file, b"")
            with contextlib.suppress(TimeoutError):
                wait(futures, timeout=_STOP_GRACE + 30)
            _drain([f for f in futures if f.done()], names, record)
            raise


def _drain(
    done: Iterable[Any], names: dict[Any, str], record: Callable[[dict[str, Any]], None]
) -> None:
    """Record the result of each finished future once (``names`` forgets recorded ones)."""
    for future in done:
        name = names.pop(future, None)
        if name is None:
            continue
        try:
            result = future.result()
        except Exception as exc:  # the supervisor itself failed (e.g. a lost Dask worker)
            result = _result(name, "failed", error=_one_line(exc))
        record(result)


def _result(name: str, status: str, seconds: float = 0.0, **outcome: Any) -> dict[str, Any]:
    return {"name": name, "status": status, "seconds": seconds, "cell_index": None,
            "error": None, **outcome}  # fmt: skip


def _one_line(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else text.strip()
    return line if len(line) <= 300 else line[:297] + "..."


def _run_job(job: Job, *, output_dir: str, timeout: float | None, html: bool) -> dict[str, Any]:
    """Run one job in a runner process and return its result (the function Dask maps)."""
    out = Path(output_dir)
    stop_file = out / _STOP_FILE
    start = time.monotonic()
    if stop_file.exists():
        return _result(job.name, _INTERRUPTED)
    request = json.dumps({
        "name": job.name, "notebook": str(job.notebook), "parameters": job.parameters,
        "output_dir": output_dir, "timeout": timeout, "html": html,
    })  # fmt: skip
    # The runner's stderr (and its kernel's) goes to an unnamed file: a pipe could be held
    # open by an orphaned kernel; the file is kept only to explain a crash.
    with tempfile.TemporaryFile(dir=out) as log:
        runner = subprocess.Popen(
            [sys.executable, "-c", _RUNNER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            start_new_session=True, text=True, encoding="utf-8",
        )  # fmt: skip
        stdout, stopped = _supervise(runner, request, stop_file)
        log.seek(0)
        stderr = log.read().decode("utf-8", "replace")
    seconds = time.monotonic() - start
    try:
        outcome = json.loads(stdout)
    except ValueError:  # the runner died or was stopped before it could answer
        _discard_attempt(out, job.name, keep_failed=not stopped)
        if stopped:
            return _result(job.name, _INTERRUPTED, seconds)
        last = _one_line(stderr.strip().splitlines()[-1]) if stderr.strip() else ""
        error = f"the runner process exited with code {runner.returncode}: {last}"
        return _result(job.name, "failed", seconds, error=error)
    return _result(job.name, outcome.pop("status"), seconds, **outcome)


def _supervise(runner: subprocess.Popen[str], request: str, stop_file: Path) -> tuple[str, bool]:
    """Wait for the runner; if the stop file appears, SIGTERM it, then SIGKILL it if need be."""
    data: str | None = request
    deadline = None
    while True:
        try:
            stdout, _ = runner.communicate(data, timeout=_POLL)
            return stdout, deadline is not None
        except subprocess.TimeoutExpired:
            data = None  # already being sent
        if deadline is None and stop_file.exists():
            runner.terminate()
            deadline = time.monotonic() + _STOP_GRACE
        elif deadline is not None and time.monotonic() > deadline:
            runner.kill()  # its kernel, orphaned, exits within a second (ipykernel's poller)


def _discard_attempt(out: Path, name: str, *, keep_failed: bool) -> None:
    """Undo a failed or stopped attempt: its JSON goes, the previous run's JSON comes back."""
    paths = _paths(out, name)
    paths.json.unlink(missing_ok=True)
    if paths.previous.exists():
        paths.previous.replace(paths.json)
    if paths.running.exists():
        if keep_failed:
            paths.running.replace(paths.failed)
        else:
            paths.running.unlink()


# ----------------------------------------------------------------------------- runner process


def _runner_main() -> None:
    """Entry point of a runner process: one request on stdin, one result on stdout."""
    if sys.path and sys.path[0] == "":  # `python -c` adds the cwd, and papermill changes it
        del sys.path[0]
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")  # not inherited by the kernel
    os.dup2(2, 1)  # anything else printed, by libraries or the kernel, goes to the log
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        result = _execute(**json.load(sys.stdin))
    except KeyboardInterrupt:
        sys.exit(130)
    with answer:
        json.dump(result, answer)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _execute(
    name: str,
    notebook: str,
    parameters: dict[str, Any],
    output_dir: str,
    timeout: float | None,
    html: bool,
) -> dict[str, Any]:
    """Run one notebook with papermill and commit its outputs; runs in the runner process."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    out = Path(output_dir)
    paths = _paths(out, name)
    if paths.json.exists():
        paths.json.replace(paths.previous)
    try:
        papermill.execute_notebook(
            _no_braces(notebook),
            _no_braces(paths.running),
            parameters={**parameters, "output_dir": output_dir, "run_name": name},
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=math.ceil(timeout) if timeout else None,  # nbclient wants an int
            cwd=Path(notebook).parent,
        )
        try:
            json.loads(paths.json.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise _NoResult(f"the notebook wrote no {paths.json.name}") from None
        except ValueError as exc:
            raise _NoResult(f"{paths.json.name} is not valid JSON: {exc}") from None
        report = _to_html(paths.running) if html else None
        # The job has succeeded: from here a late SIGTERM must not leave it half-committed.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if report is not None:
            write_text_atomic(paths.html, report)
        paths.running.replace(paths.ipynb)
    except Exception as exc:
        if isinstance(exc, PapermillExecutionError):
            cell, error = exc.cell_index, _one_line(f"{exc.ename}: {exc.evalue}")
        elif isinstance(exc, CellTimeoutError | DeadKernelError):
            cell, error = _last_started_cell(paths.running), _one_line(exc)
        else:
            cell, error = None, _one_line(str(exc) if isinstance(exc, _NoResult) else exc)
        _discard_attempt(out, name, keep_failed=True)
        return {"status": "failed", "cell_index": cell, "error": error}
    except BaseException:  # KeyboardInterrupt (Ctrl-C): leave nothing half-done
        _discard_attempt(out, name, keep_failed=False)
        raise
    paths.previous.unlink(missing_ok=True)
    paths.failed.unlink(missing_ok=True)
    return {"status": "ok"}


class _NoResult(Exception):
    """The notebook ran but did not write a valid ``<name>.json``."""


def _no_braces(path: str | Path) -> str:
    """Escape braces: papermill formats paths with the parameters (``{name}.ipynb``)."""
    return str(path).replace("{", "{{").replace("}", "}}")


def _last_started_cell(notebook: Path) -> int | None:
    """Index of the last cell papermill started (where a kernel died or a cell timed out)."""
    import nbformat

    try:
        nb = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError):
        return None
    started = [
        i for i, cell in enumerate(nb.cells)
        if cell.get("metadata", {}).get("papermill", {}).get("start_time")
    ]  # fmt: skip
    return started[-1] if started else None


def _to_html(notebook: Path) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_filename(str(notebook))
    return body
