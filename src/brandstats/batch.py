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
import functools
import itertools
import json
import keyword
import math
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
_STOP_GRACE = 20.0  # seconds a runner gets to stop its job before it is killed

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

# How jobs run.
# - A *runner* is a long-lived Python process (`python -c _RUNNER`) that imports papermill and
#   nbconvert once, then runs jobs one after another: each with papermill.execute_notebook in a
#   thread of its own, while the runner's main thread reads requests and handles SIGTERM.
#   Threads (locally) or Dask tasks only supervise: take an idle runner from the process's pool
#   (_RunnerPool), send it a job on its stdin, read its one-line answer. A runner that dies fails
#   its job only; the next job gets a new runner. Idle runners stay up for _IDLE seconds, so
#   that a following batch (`brandstats run`'s scorecard) finds them ready.
# - Every notebook runs in a new kernel process of its own, never reused. On Linux a runner
#   starts kernels by forking a *kernel template* (see _template_main): a process started like
#   the kernel (same interpreter and flags, in the notebook's folder) that has already imported
#   the kernel's machinery and the modules the notebooks import, and never runs notebook code. A
#   forked kernel is ready in a fraction of a second and finds its imports done (seconds, for
#   pandas, statsmodels and seaborn). Elsewhere, when the kernelspec is not plain ipykernel on
#   this interpreter, with preload=False, or for a notebook that changes os.environ (which could
#   be meant for a module still to be imported), kernels start the usual way.
# Why not papermill in threads of the batch process, or a ProcessPoolExecutor:
# - papermill applies `cwd` with os.chdir, which is process-wide: jobs in threads of one process
#   race on the working directory (and a Dask worker with processes=False would chdir the
#   client's process);
# - a crash of a runner or of its kernel must touch one job only, where a crashed worker of a
#   ProcessPoolExecutor breaks the pool and fails every pending job.
# The same supervising function (_run_job) is what Dask's client.map runs, so both paths make the
# same files. Runners start in their own session, so a terminal's Ctrl-C reaches only the batch,
# which then creates the stop file that every supervisor polls (a file works across Dask
# workers); a supervisor then sends SIGTERM to its runner, which kills its kernels, removes the
# unfinished attempt and exits. Templates and forked kernels die with their parent process.

_RUNNER = "from brandstats.batch import _runner_main; _runner_main()"  # fixed; data goes via stdin
_TEMPLATE = "from brandstats.batch import _template_main; _template_main()"
_IDLE = 10.0  # seconds an idle runner is kept for the next job or batch
_TEMPLATE_READY = 300.0  # seconds a template may take to import everything (a cold disk is slow)
_MAX_TEMPLATES = 4  # per runner, one per notebook folder
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_FORK_SAFE_THREADS = frozenset({"jemalloc_bg_thd"})  # see _threads
# Imported by every ipykernel kernel as it starts (the debugger pulls in debugpy).
_KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
                   "ipykernel.debugger", "sqlite3")  # fmt: skip


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
    preload: bool | Sequence[str] = True,
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
    preload : bool or sequence of str, default True
        Start kernels warm (Linux): fork each one from a template process that has already
        imported the modules the notebooks import (and the attributes their code reads from
        them). A sequence names further modules to import in advance. ``False`` starts every
        kernel from scratch. Either way each notebook gets a new kernel of its own.

    Returns
    -------
    BatchReport
        Per job: status, seconds, and for failures the cell and a one-line error. A failing
        job (an exception in a cell, a dead kernel, a cell timeout, a failed write) never stops
        the others.

    Raises
    ------
    BrandstatsError
        If the options are invalid, two jobs share a name, a notebook does not exist, or
        ``output_dir`` cannot be written; all checked before any kernel starts.
    KeyboardInterrupt
        On Ctrl-C: no new job starts, running kernels are killed, unfinished jobs leave no
        output, and ``batch.json`` lists the jobs that finished.

    Notes
    -----
    Each job runs in the notebook's folder, on the ``python3`` kernel, in a new kernel process.
    papermill runs in long-lived *runner* processes, one per worker, which stay up for a few
    seconds after the batch for the next one. papermill writes the executed notebook under a
    hidden name and the batch renames it into place last, after ``<name>.html``. The notebook
    writes ``<name>.json`` itself: an earlier run's JSON is set aside (hidden) meanwhile and
    put back if the run fails.

    Kernels get ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` set to 1
    unless one of them is already set: the batch runs notebooks in parallel, one per core, and
    multi-threaded linear algebra in each would only oversubscribe the cores.

    A preloaded kernel differs from a cold one only in what happened before its notebook
    started: the modules were imported by its template (what they print or warn while being
    imported goes to the log, not to the notebook), and NumPy's global random state is
    reseeded from the operating system, as a fresh import would. A module that the notebook's
    folder provides itself is never preloaded, a template whose modules' files change is
    replaced, and a notebook that changes ``os.environ`` gets a cold kernel.
    """
    jobs = list(jobs)
    out = Path(output_dir).resolve()
    _check_batch(jobs, out, workers=workers, scheduler=scheduler, timeout=timeout)
    extra = _check_preload(preload)
    jobs = [replace(job, notebook=job.notebook.resolve()) for job in jobs]
    _prepare_output_dir(out)
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
    notebooks = dict.fromkeys(job.notebook for job in todo)
    entries = {nb: _preload_entries(nb, extra) if preload is not False else None
               for nb in notebooks}  # fmt: skip
    run_one = partial(
        _run_job, output_dir=str(out), timeout=timeout, html=html, preload=entries,
        config=_RunnerConfig(tuple(sorted(_kernel_env().items()))),
    )  # fmt: skip
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
            workers = min(workers or os.cpu_count() or 1, len(todo))
            _run_local(todo, run_one, workers, record, stop_file)
        elif todo:
            _run_dask(todo, run_one, scheduler, record, stop_file)
        interrupted = False
    finally:
        bar.close()
        stop_file.unlink(missing_ok=True)
        if interrupted:
            _close_pools()  # a stopped batch leaves nothing running
        report = BatchReport(
            tuple(results[job.name] for job in jobs if job.name in results),
            out,
            time.monotonic() - start,
            interrupted,
        )
        write_json_atomic(out / report_name, report.to_dict())
    return report


def _kernel_env() -> dict[str, str]:
    """What the batch adds to its runners' environment, hence to the kernels'."""
    if any(name in os.environ for name in _BLAS_THREADS):
        return {}
    return dict.fromkeys(_BLAS_THREADS, "1")


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


def _check_preload(preload: object) -> tuple[str, ...]:
    """The extra modules to preload (none for True or False)."""
    if isinstance(preload, bool):
        return ()
    if isinstance(preload, str) or not isinstance(preload, Sequence):
        raise BrandstatsError(
            f"preload must be True, False or a list of module names, got {preload!r}"
        )
    for name in preload:
        if not isinstance(name, str) or not all(p.isidentifier() for p in name.split(".")):
            raise BrandstatsError(f"preload: {name!r} is not a module name")
    return tuple(preload)


def _prepare_output_dir(out: Path) -> None:
    """Create ``out`` and check that files can be made in it, before any kernel starts."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BrandstatsError(f"{out}: cannot write the outputs there ({reason})") from None


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

    with ThreadPoolExecutor(workers, thread_name_prefix="brandstats") as pool:
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


def _run_job(
    job: Job,
    *,
    output_dir: str,
    timeout: float | None,
    html: bool,
    preload: dict[Path, list[tuple[str, ...]] | None],
    config: _RunnerConfig,
) -> dict[str, Any]:
    """Run one job on an idle runner and return its result (the function Dask maps).

    ``preload`` gives each notebook's preload entries (None: a cold kernel); ``config`` says
    how runners start: this process keeps a pool of them per configuration.
    """
    out = Path(output_dir)
    stop_file = out / _STOP_FILE
    start = time.monotonic()
    if stop_file.exists():
        return _result(job.name, _INTERRUPTED)
    request = {
        "name": job.name, "notebook": str(job.notebook), "parameters": job.parameters,
        "output_dir": output_dir, "timeout": timeout, "html": html,
        "preload": preload.get(job.notebook),
    }  # fmt: skip
    everything = [e for entries in preload.values() if entries for e in entries]
    pool = _pool(config)
    runner = pool.take(folders=sorted({str(nb.parent) for nb in preload}), preload=everything)
    try:
        answer, log = runner.run(request, stop_file)
    finally:
        pool.give_back(runner)
    seconds = time.monotonic() - start
    if answer is None:  # the runner died, or was stopped, before it could answer
        _discard_attempt(out, job.name, keep_failed=not runner.stopped)
        if runner.stopped:
            return _result(job.name, _INTERRUPTED, seconds)
        last = _one_line(log.strip().splitlines()[-1]) if log.strip() else ""
        error = f"the runner process exited with code {runner.process.returncode}: {last}"
        return _result(job.name, "failed", seconds, error=error)
    return _result(job.name, answer.pop("status"), seconds, **answer)


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


# ----------------------------------------------------------------------------- runner pool


@dataclass(frozen=True)
class _RunnerConfig:
    """How runners start (hashable: a process keeps a pool of runners per configuration)."""

    env: tuple[tuple[str, str], ...]  # added to the runners' environment, hence the kernels'


class _Runner:
    """The supervisor's handle on one runner process.

    ``folders`` and ``preload`` let it start kernel templates while it imports papermill.
    """

    def __init__(
        self, config: _RunnerConfig, folders: list[str], preload: list[tuple[str, ...]]
    ) -> None:
        # Its stderr (and its kernels') goes to an unnamed file: a pipe could be held open by an
        # orphaned kernel; the file is kept only to explain a crash.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _RUNNER],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                start_new_session=True, env={**os.environ, **dict(config.env)},
            )  # fmt: skip
        except BaseException:
            self.log.close()
            raise
        self.stopped = False  # it was sent SIGTERM because the batch is stopping
        self.idle_since = time.monotonic()
        self._answers: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        threading.Thread(target=self._read, name="brandstats-runner", daemon=True).start()
        self._send({"folders": folders, "preload": preload})

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        with stdout:
            for line in stdout:
                self._answers.put(line)
        self._answers.put(None)

    def _send(self, message: object) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            stdin.flush()
        except (OSError, ValueError):  # it died (the reader sees the end of its output)
            pass

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and not self.stopped

    def run(self, request: dict[str, Any], stop_file: Path) -> tuple[dict[str, Any] | None, str]:
        """Send one job and wait for the answer; if the stop file appears, stop the runner.

        Returns the answer (None if the runner exited without one) and what the runner wrote
        to its log meanwhile.
        """
        log_start = os.fstat(self.log.fileno()).st_size
        self._send(request)
        deadline = None
        while True:
            try:
                line = self._answers.get(timeout=_POLL)
            except queue.Empty:
                if deadline is None and stop_file.exists():
                    self.stopped = True
                    with contextlib.suppress(ProcessLookupError):
                        self.process.terminate()
                    deadline = time.monotonic() + _STOP_GRACE
                elif deadline is not None and time.monotonic() > deadline:
                    self.process.kill()  # its templates and kernels die with it
                continue
            if line is not None:
                self.idle_since = time.monotonic()
                return json.loads(line), ""
            self.process.wait()
            self.log.seek(log_start)
            return None, self.log.read().decode("utf-8", "replace")

    def close(self, *, wait: bool = True) -> None:
        """Ask the runner to exit (end of its input), kill it if it will not; free the log."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # type: ignore[union-attr]
        if not wait:
            return
        try:
            self.process.wait(timeout=_STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class _RunnerPool:
    """Idle runners, handed to one supervisor at a time; a runner that died is replaced.

    A runner left idle for ``_IDLE`` seconds exits.
    """

    def __init__(self, config: _RunnerConfig) -> None:
        self.config = config
        self._idle: list[_Runner] = []
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None

    def take(self, *, folders: list[str], preload: list[tuple[str, ...]]) -> _Runner:
        with self._lock:
            while self._idle:
                runner = self._idle.pop()
                if runner.alive:
                    return runner
                runner.close()
        return _Runner(self.config, folders, preload)

    def give_back(self, runner: _Runner) -> None:
        if not runner.alive:
            runner.close()
            return
        with self._lock:
            self._idle.append(runner)
            if self._reaper is None:
                self._reaper = threading.Thread(
                    target=self._retire_idle, name="brandstats-idle-runners", daemon=True
                )
                self._reaper.start()

    def _retire_idle(self) -> None:
        """Close runners idle for _IDLE seconds; end when none is left idle."""
        while True:
            time.sleep(1.0)
            now = time.monotonic()
            with self._lock:
                old = [r for r in self._idle if now - r.idle_since >= _IDLE]
                self._idle = [r for r in self._idle if r not in old]
                done = not self._idle
                if done:
                    self._reaper = None
            for runner in old:
                runner.close()
            if done:
                return

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for runner in idle:  # end every runner's input first: they exit in parallel
            runner.close(wait=False)
        for runner in idle:
            runner.close()


_POOLS: dict[tuple[_RunnerConfig, tuple[tuple[str, str], ...]], _RunnerPool] = {}
_POOLS_LOCK = threading.Lock()


def _pool(config: _RunnerConfig) -> _RunnerPool:
    """This process's pool of runners for ``config`` and its current environment.

    Runners (and their kernels) inherit the environment they were started with: after a
    change to ``os.environ``, new runners serve, and the old ones retire when idle.
    """
    import atexit

    key = (config, tuple(sorted(os.environ.items())))
    with _POOLS_LOCK:
        if key not in _POOLS:
            if not _POOLS:
                atexit.register(_close_pools)
            _POOLS[key] = _RunnerPool(config)
        return _POOLS[key]


def _close_pools() -> None:
    """Stop every idle runner of this process now."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
    for pool in pools:
        pool.close()


# ----------------------------------------------------------------------------- notebooks' imports


def _preload_entries(notebook: Path, extra: Sequence[str] = ()) -> list[tuple[str, ...]] | None:
    """What a kernel template imports for ``notebook``, in order; None if it must not.

    Entries: ``("import", module)``; ``("from", module, name)`` for ``from module import name``
    (an attribute, or else a submodule, as Python does); ``("getattr", module, name)`` for
    ``alias.name`` where ``alias`` names an imported module (lazily loading packages import
    more when an attribute is read). Cells that do not parse (IPython syntax) are skipped,
    apart from ``%matplotlib``, which imports pyplot. None for a notebook that assigns to
    ``os.environ`` or calls ``os.putenv``: the setting may be meant for a module it imports.
    """
    import ast

    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return [("import", name) for name in extra]
    entries: list[tuple[str, ...]] = []
    trees, modules = [], {}  # modules: local name -> module it is bound to
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        lines = []
        for line in source.splitlines():
            if line.lstrip().startswith("%matplotlib"):
                # Not matplotlib_inline: importing it inside a kernel hooks it into the shell.
                entries.append(("import", "matplotlib.pyplot"))
            lines.append("" if line.lstrip().startswith(("%", "!")) else line)
        try:
            trees.append(ast.parse("\n".join(lines)))
        except (SyntaxError, ValueError):
            continue
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    entries.append(("import", alias.name))
                    local = alias.asname or alias.name.partition(".")[0]
                    modules[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name == "*":
                        entries.append(("import", node.module))
                    else:
                        entries.append(("from", node.module, alias.name))
                        modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for tree in trees:
        for node in ast.walk(tree):
            if _sets_environment(node):
                return None
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
            ):
                entries.append(("getattr", modules[node.value.id], node.attr))
    entries += [("import", name) for name in extra]
    return list(dict.fromkeys(entries))


def _sets_environment(node: object) -> bool:
    """``...environ[k] = v``, ``del ...environ[k]``, ``...environ.update(...)`` and the like."""
    import ast

    def is_environ(expr: object) -> bool:
        return (isinstance(expr, ast.Attribute) and expr.attr == "environ") or (
            isinstance(expr, ast.Name) and expr.id == "environ"
        )

    if isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
        targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
        return any(isinstance(t, ast.Subscript) and is_environ(t.value) for t in targets)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in {"putenv", "unsetenv"}:
            return True
        mutators = {"update", "setdefault", "pop", "popitem", "clear"}
        return node.func.attr in mutators and is_environ(node.func.value)
    return False


# ----------------------------------------------------------------------------- runner process


def _runner_main() -> None:
    """Entry point of a runner process: a first line of hints, then one job per line on stdin.

    Answers, one line per job, go to the original stdout. SIGTERM stops the runner: it kills
    its kernels, removes the unfinished attempt, and exits with code 130 (answering first if
    the job had already finished). The end of its input between jobs makes it exit normally;
    during a job, it means that the batch is gone, and the runner stops as on SIGTERM.
    """
    from concurrent.futures import ThreadPoolExecutor

    if sys.path and sys.path[0] == "":  # `python -c` adds the cwd, and papermill changes it
        del sys.path[0]
    # jsonschema, under nbformat, imports the optional rfc3987_syntax for draft-7 "iri" format
    # checks, which compiles a grammar for over a second; nbformat validates notebooks against
    # draft-4 schemas without format checks, so runners do without it.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")  # not inherited by kernels
    os.dup2(2, 1)  # anything else printed, by libraries or kernels, goes to the log
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    global _KERNELS, _REQUESTS
    request = future = None
    _REQUESTS = _LineReader(0)  # not sys.stdin: _wait looks for the end of the input
    requests = iter(_REQUESTS)
    try:
        hints = json.loads(next(requests, "{}"))
        _KERNELS = _Kernels()
        for folder in hints.get("folders", []):  # templates import while papermill does
            _KERNELS.warm(folder, hints.get("preload") or [])
        executor = ThreadPoolExecutor(1, thread_name_prefix="brandstats-job")
        executor.submit(_warm_up)
        for line in requests:
            request = json.loads(line)
            future = executor.submit(_execute, **request)
            answer = _wait(future, None)
            answers.write(json.dumps(answer) + "\n")
            answers.flush()
            request = None
    except KeyboardInterrupt:
        _STOPPING.set()
        if _KERNELS is not None:
            _KERNELS.kill()
        if request is not None:
            answer = _wait(future, _STOP_GRACE / 2, watch=False)
            if answer is not None and answer["status"] != _INTERRUPTED:  # it had finished
                with contextlib.suppress(OSError):
                    answers.write(json.dumps(answer) + "\n")
                    answers.flush()
            else:  # also done by the supervisor; here in case it was killed
                with contextlib.suppress(OSError):
                    _discard_attempt(
                        Path(request["output_dir"]), request["name"], keep_failed=False
                    )
        os._exit(130)  # not sys.exit: the job's thread may be stuck in a dead kernel's client
    finally:
        if _KERNELS is not None:
            _KERNELS.close()


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait(future: Any, timeout: float | None, *, watch: bool = True) -> Any:
    """The future's result (None after ``timeout``), waiting in steps that let signals through.

    With ``watch``, the end of the runner's input while it waits means that the batch that
    sent the job is gone (killed): the runner stops as on SIGTERM.
    """
    from concurrent.futures import TimeoutError as Timeout

    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        try:
            return future.result(timeout=0.2)
        except Timeout:
            if watch and _REQUESTS is not None and _REQUESTS.ready(0) and _REQUESTS.ended:
                raise KeyboardInterrupt from None
    return None


_STOPPING = threading.Event()  # in a runner: it has been told to stop
_REQUESTS: _LineReader | None = None  # in a runner: its input


def _warm_up() -> None:
    """Import what jobs need before the first one arrives (in the job thread)."""
    _engine()
    _html_exporter()


def _execute(
    name: str,
    notebook: str,
    parameters: dict[str, Any],
    output_dir: str,
    timeout: float | None,
    html: bool,
    preload: list[list[str]] | None,
) -> dict[str, Any]:
    """Run one notebook with papermill and commit its outputs; runs in the runner process."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    out = Path(output_dir)
    paths = _paths(out, name)
    assert _KERNELS is not None
    _KERNELS.job_preload = preload
    try:
        if paths.json.exists():
            paths.json.replace(paths.previous)
        papermill.execute_notebook(
            _no_braces(notebook),
            _no_braces(paths.running),
            parameters={**parameters, "output_dir": output_dir, "run_name": name},
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=math.ceil(timeout) if timeout else None,  # nbclient wants an int
            cwd=Path(notebook).parent,
            engine_name=_engine(),
            kernel_manager_class=_kernel_manager_class(),
        )
        try:
            json.loads(paths.json.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise _NoResult(f"the notebook wrote no {paths.json.name}") from None
        except ValueError as exc:
            raise _NoResult(f"{paths.json.name} is not valid JSON: {exc}") from None
        report = _to_html(paths.running) if html else None
        if _STOPPING.is_set():
            raise _Stopped
        # The job has succeeded: from here the runner's main thread waits for the commit.
        if report is not None:
            write_text_atomic(paths.html, report)
        paths.running.replace(paths.ipynb)
    except Exception as exc:
        if _STOPPING.is_set():  # the kernel was killed to stop the batch: leave nothing
            _discard_attempt(out, name, keep_failed=False)
            return {"status": _INTERRUPTED}
        if isinstance(exc, PapermillExecutionError):
            cell, error = exc.cell_index, _one_line(f"{exc.ename}: {exc.evalue}")
        elif isinstance(exc, CellTimeoutError | DeadKernelError):
            cell, error = _last_started_cell(paths.running), _one_line(exc)
        else:
            cell, error = None, _one_line(str(exc) if isinstance(exc, _NoResult) else exc)
        _discard_attempt(out, name, keep_failed=True)
        return {"status": "failed", "cell_index": cell, "error": error}
    paths.previous.unlink(missing_ok=True)
    paths.failed.unlink(missing_ok=True)
    return {"status": "ok"}


class _NoResult(Exception):
    """The notebook ran but did not write a valid ``<name>.json``."""


class _Stopped(Exception):
    """The runner is stopping: the job is abandoned before its outputs are committed."""


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


@functools.cache
def _engine() -> str:
    """papermill's nbclient engine, writing the notebook when it starts and when it ends.

    papermill also rewrites (and validates) the whole notebook before and after every cell:
    a quarter of a runner's work per job. The end is written whatever happens (cell error,
    timeout, dead kernel); only a runner that dies mid-notebook leaves fewer outputs in it.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    class Manager(NotebookExecutionManager):  # type: ignore[misc]
        writing = False

        def save(self, **kwargs: Any) -> None:
            if self.writing:
                super().save(**kwargs)

        def notebook_start(self, **kwargs: Any) -> None:
            self.writing = True
            try:
                super().notebook_start(**kwargs)
            finally:
                self.writing = False

        def notebook_complete(self, **kwargs: Any) -> None:
            self.writing = True
            super().notebook_complete(**kwargs)

    class Engine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_notebook(  # as papermill's Engine.execute_notebook, with Manager
            cls, nb: Any, kernel_name: str, output_path: str | None = None,
            progress_bar: bool = True, log_output: bool = False, autosave_cell_every: int = 30,
            **kwargs: Any,
        ) -> Any:  # fmt: skip
            nb_man = Manager(
                nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                autosave_cell_every=autosave_cell_every,
            )  # fmt: skip
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register("brandstats", Engine)
    return "brandstats"


@functools.cache
def _html_exporter() -> Any:
    """One exporter per runner: making one (templates, filters) costs more than a page."""
    from nbconvert import HTMLExporter

    return HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)


def _to_html(notebook: Path) -> str:
    body, _ = _html_exporter().from_filename(str(notebook))
    return body


# ----------------------------------------------------------------------------- kernels


class _Kernels:
    """A runner's kernels: how they start (forked from templates, or cold) and stop."""

    def __init__(self) -> None:
        self.prefix = _template_prefix()
        self.templates: dict[str, _KernelTemplate] = {}  # notebook folder -> its template
        self.cold: set[str] = set()  # folders whose template could not serve
        self.managers: set[Any] = set()  # kernel managers with a kernel running
        self.job_preload: list[list[str]] | None = None  # the current job's entries
        self.lock = threading.Lock()

    def warm(self, cwd: str, preload: list[list[str]]) -> _KernelTemplate | None:
        """The template for ``cwd``, started if need be, importing ``preload`` (if usable)."""
        with self.lock:
            if self.prefix is None or cwd in self.cold or _STOPPING.is_set():
                return None
            template = self.templates.get(cwd)
            if template is None and len(self.templates) < _MAX_TEMPLATES:
                template = self.templates[cwd] = _KernelTemplate(self.prefix, cwd)
            if template is not None:
                template.preload(preload)
            return template

    def fork(self, cmd: list[str], kwargs: dict[str, Any]) -> _ForkedKernel | None:
        """Fork the kernel ``cmd`` would start; None if it must start the usual way."""
        prefix, preload = self.prefix, self.job_preload
        if prefix is None or preload is None:
            return None
        if cmd[: len(prefix) + 2] != [*prefix, "-m", "ipykernel_launcher"]:
            return None
        if not set(kwargs) <= {"env", "cwd", "kernel_id", "extra_arguments"}:
            return None  # e.g. redirected streams: leave that to Popen
        cwd = str(kwargs.get("cwd") or Path.cwd())
        env = dict(kwargs.get("env") or os.environ)
        for _ in range(2):  # a stale template is replaced once
            template = self.warm(cwd, preload)
            if template is None:
                return None
            child = template.fork(cmd[len(prefix) + 2 :], env)
            if child is not None:
                return child
            with self.lock:
                self.templates.pop(cwd, None)
                if not template.stale:
                    self.cold.add(cwd)
            template.close()
        return None

    def started(self, manager: Any) -> None:
        with self.lock:
            self.managers.add(manager)

    def stopped(self, manager: Any) -> None:
        with self.lock:
            self.managers.discard(manager)

    def kill(self) -> None:
        """Kill every kernel now (process groups: what a kernel started dies too)."""
        with self.lock:
            managers, templates = list(self.managers), list(self.templates.values())
        for manager in managers:
            provisioner = manager.provisioner
            process = getattr(provisioner, "process", None)
            pgid = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)
            if pgid:
                with contextlib.suppress(OSError):
                    os.killpg(pgid, signal.SIGKILL)
            if process is not None:
                with contextlib.suppress(OSError):
                    process.kill()
            with contextlib.suppress(Exception):
                manager.cleanup_connection_file()
        for template in templates:
            template.kill_children()

    def close(self) -> None:
        with self.lock:
            templates, self.templates = list(self.templates.values()), {}
        for template in templates:
            template.close()


_KERNELS: _Kernels | None = None  # the runner's, set by _runner_main


def _template_prefix() -> list[str] | None:
    """The kernelspec's command before ``-m ipykernel_launcher``, if templates can serve it.

    Needs Linux with pidfds (to watch and signal kernels that are not the runner's children), a
    ``python3`` kernelspec that runs ipykernel on this interpreter, without extra environment
    or a custom provisioner.
    """
    if sys.platform != "linux" or not hasattr(os, "pidfd_open"):
        return None
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return None
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except (NoSuchKernel, OSError, ValueError):
        return None
    argv = list(spec.argv)
    if argv[-4:] != ["-m", "ipykernel_launcher", "-f", "{connection_file}"] or len(argv) < 5:
        return None
    if spec.env or spec.metadata.get("kernel_provisioner"):
        return None
    if argv[0] in {
        "python",
        f"python{sys.version_info[0]}",
        "python{}.{}".format(*sys.version_info),
    }:
        argv[0] = sys.executable  # as jupyter_client's format_kernel_cmd does
    # Not resolving symbolic links: a virtual environment's python is one.
    python = Path(argv[0]).expanduser()
    if python.absolute() != Path(sys.executable).absolute():
        import shutil

        if shutil.which(python) != sys.executable:
            return None
    return argv[:-4]


@functools.cache
def _kernel_manager_class() -> type:
    """An AsyncKernelManager that forks kernels from templates and registers running ones."""
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    class ForkingProvisioner(LocalProvisioner):  # type: ignore[misc]
        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            forked = _KERNELS.fork(cmd, kwargs) if _KERNELS is not None else None
            if forked is None:
                return await super().launch_kernel(cmd, **kwargs)
            self.process = forked
            self.pid = self.pgid = forked.pid
            self.cwd = forked.cwd
            return self.connection_info

    class KernelManager(AsyncKernelManager):  # type: ignore[misc]
        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            if self.provisioner is None and _KERNELS is not None and _KERNELS.prefix:
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
                self.provisioner = ForkingProvisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
            return await super()._async_pre_start_kernel(**kw)

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            if _KERNELS is not None:
                _KERNELS.started(self)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            if _KERNELS is not None:
                _KERNELS.stopped(self)
            await super()._async_cleanup_resources(restart=restart)

    return KernelManager


class _ForkedKernel:
    """A kernel forked by a template, handled like a ``Popen`` through a pidfd.

    The template, its parent, reaps it, so its exit status is not known here: ``returncode``
    is 0 once it has exited, whatever the cause.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, cwd: str) -> None:
        self.pid = pid
        self.cwd = cwd
        self.returncode: int | None = None
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone
            self._fd, self.returncode = None, 0

    def poll(self) -> int | None:
        return self.wait(0) if self.returncode is None else self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        import select

        if self.returncode is None and self._fd is not None:
            if select.select([self._fd], [], [], timeout)[0]:
                os.close(self._fd)
                self._fd, self.returncode = None, 0
            elif timeout != 0:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None and self._fd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._fd, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)  # type: ignore[arg-type]


class _KernelTemplate:
    """The runner's handle on a kernel template process (see :func:`_template_main`).

    Requests go one at a time; preload requests are answered lazily, before the next fork.
    """

    def __init__(self, prefix: list[str], cwd: str) -> None:
        self.cwd = cwd
        self.process = subprocess.Popen(
            [*prefix, "-c", _TEMPLATE], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )  # its stderr is the runner's: the log
        self.usable = True  # until it refuses (a thread) or falls silent
        self.stale = False  # a module's file changed since it was imported
        self.children: list[_ForkedKernel] = []
        self._loaded: set[tuple[str, ...]] = set()
        self._pending = 0  # preload answers not read yet
        self._buffer = b""
        self._lock = threading.Lock()
        self.preload([list(("import", name)) for name in _KERNEL_MODULES])

    def _send(self, message: object) -> bool:
        try:
            self.process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")  # type: ignore[union-attr]
            self.process.stdin.flush()  # type: ignore[union-attr]
        except (OSError, ValueError):
            return False
        return True

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        import select

        fd = self.process.stdout.fileno()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def preload(self, entries: list[list[str]]) -> None:
        """Have it import these entries too (those it has not imported yet)."""
        with self._lock:
            missing = [e for e in entries if tuple(e) not in self._loaded]
            if missing and self.usable:
                self.usable = self._send({"preload": missing})
                self._loaded.update(tuple(e) for e in missing)
                self._pending += 1

    def fork(self, args: list[str], env: dict[str, str]) -> _ForkedKernel | None:
        """A new kernel, or None if this template cannot make one (see usable, stale)."""
        with self._lock:
            while self._pending and self.usable:
                answer = self._receive(_TEMPLATE_READY)
                self._pending -= 1
                if answer is None or answer.get("threads"):
                    why = f"threads {answer['threads']}" if answer else "no answer"
                    print(f"brandstats: kernel template for {self.cwd} not usable ({why});"
                          " its kernels start cold", file=sys.stderr)  # fmt: skip
                    self.usable = False
            if not self.usable:
                return None
            answer = self._receive(30) if self._send({"args": args, "env": env}) else None
            if answer is None or "pid" not in answer:
                self.usable = False
                self.stale = bool(answer and answer.get("stale"))
                return None
            self.children = [child for child in self.children if child.poll() is None]
            child = _ForkedKernel(answer["pid"], self.cwd)
            self.children.append(child)
            return child

    def kill_children(self) -> None:
        for child in list(self.children):
            with contextlib.suppress(OSError):
                os.killpg(child.pid, signal.SIGKILL)
            child.kill()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- kernel template


def _template_main() -> None:
    """Entry point of a kernel template: import ahead, then fork one new kernel per request.

    A template is started like the kernel (the kernelspec's interpreter and flags, in the
    notebook's folder, with the kernels' environment) and reads one request per line:

    - ``{"preload": entries}``: import them (see _preload_entries) and answer
      ``{"threads": [...], "skipped": [...]}``; if an import started a thread, exit (a forked
      child would lack it; see _threads);
    - ``{"args": [...], "env": {...}}``: fork a child that becomes ``python -m
      ipykernel_launcher <args>`` with that environment (and what the imports set in it), and
      answer ``{"pid": n}``; or, if the file of a module imported here has changed since,
      answer ``{"stale": true}`` and exit.

    The template never runs notebook code, so nothing passes from one notebook to another. It
    exits at the end of its input (its runner exited) or with its parent.
    """
    import builtins
    import gc

    if sys.path and sys.path[0] == "":  # as ipykernel_launcher removes the cwd
        del sys.path[0]
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # what a kernel's stdin would be: nothing to read
    os.close(null)
    os.dup2(2, 1)
    _die_with_parent()
    # As ipykernel sets them before any notebook code runs.
    os.environ["JPY_PARENT_PID"] = str(os.getpid())
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the system reaps exited kernels
    files: dict[str, int] = {}
    environ = dict(os.environ)
    imported_env: dict[str, str] = {}  # what imports set in os.environ (pydevd does)
    for line in _LineReader(requests):
        request = json.loads(line)
        if "preload" in request:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # imports may run subprocesses
            builtins.get_ipython = _kernel_shell  # type: ignore[attr-defined]
            try:
                skipped = _preload(request["preload"])
            finally:
                del builtins.get_ipython  # type: ignore[attr-defined]
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            threads = _threads()
            _reply(replies, {"threads": threads, "skipped": skipped})
            if threads:
                return
            files = _module_files()
            imported_env = {k: v for k, v in os.environ.items() if environ.get(k) != v}
            gc.freeze()  # kernels' collections skip (so do not copy) the template's objects
            continue
        now = _module_files(files)
        if now != files:
            changed = [path for path in files if now.get(path) != files[path]]
            print(f"brandstats: kernel template out of date: {changed[0]} changed", file=sys.stderr)
            _reply(replies, {"stale": True})
            return
        sys.stdout.flush()  # or each child would write what is buffered again
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(requests)
            os.close(replies)
            _become_kernel(request["args"], {**request["env"], **imported_env})
            return
        _reply(replies, {"pid": pid})


class _KernelShell:
    """What ``get_ipython()`` returns in a template while it imports: as in a kernel, an object
    with a ``kernel`` attribute (pandas, for one, sets its display defaults by that).
    Anything more (registering hooks with the shell) fails, and the module is not preloaded.
    """

    kernel = None


def _kernel_shell() -> _KernelShell:
    return _KernelShell()


class _LineReader:
    """Lines from a file descriptor, read unbuffered so that ``ready`` can tell what is next."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = b""
        self.ended = False

    def ready(self, timeout: float) -> bool:
        """Whether a line (or the end) is there to read, waiting up to ``timeout`` seconds."""
        import select

        if b"\n" in self._buffer or self.ended:
            return True
        if select.select([self.fd], [], [], timeout)[0]:
            chunk = os.read(self.fd, 65536)
            self._buffer += chunk
            self.ended = not chunk
        return b"\n" in self._buffer or self.ended

    def __iter__(self) -> Iterator[str]:
        while True:
            while b"\n" not in self._buffer and not self.ended:
                self.ready(3600.0)
            if b"\n" not in self._buffer:
                return
            line, _, self._buffer = self._buffer.partition(b"\n")
            yield line.decode("utf-8")


def _reply(fd: int, message: object) -> None:
    os.write(fd, json.dumps(message).encode("utf-8") + b"\n")


def _die_with_parent() -> None:
    """Have Linux kill this process when its parent exits (then check it has not already)."""
    import ctypes

    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _preload(entries: list[list[str]]) -> list[str]:
    """Import the entries (see _preload_entries); return those that failed or were skipped.

    For a package of the project's own (see _first_party), also what its modules import from
    it inside functions (see _import_package).
    """
    import importlib
    import importlib.util
    from importlib.machinery import PathFinder

    here = str(Path.cwd())
    skipped = []
    for kind, module, *name in entries:
        top = module.partition(".")[0]
        if PathFinder.find_spec(top, [here]) is not None:  # the folder's own module wins
            skipped.append(module)
            continue
        try:
            if kind == "getattr":  # only read from modules imported already
                if module in sys.modules:
                    getattr(sys.modules[module], name[0])
                continue
            imported = importlib.import_module(module)
            if kind == "from" and not hasattr(imported, name[0]):
                importlib.import_module(f"{module}.{name[0]}")
        except (Exception, SystemExit) as exc:  # not preloaded, that is all
            skipped.append(f"{module}: {type(exc).__name__}")
    tops = {module.partition(".")[0] for _, module, *_ in entries}
    for name in sorted(tops):
        package = sys.modules.get(name)
        if package is not None and _first_party(package):
            skipped += _import_package(name, here)
    return skipped


def _first_party(module: Any) -> bool:
    """Whether ``module`` is a project's own code: not from the standard library or from
    site-packages (an editable install of a project under development counts)."""
    import site
    import sysconfig

    file = getattr(module, "__file__", None)
    if not file:
        return False
    path = Path(file).resolve()
    if {"site-packages", "dist-packages"} & set(path.parts):
        return False
    paths = sysconfig.get_paths()
    roots = [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    roots += [*site.getsitepackages(), site.getusersitepackages()]
    return not any(path.is_relative_to(Path(root).resolve()) for root in roots)


def _import_package(top: str, here: str) -> list[str]:
    """Import the modules of package ``top`` that its imported modules import, also inside
    functions (lazily), until there are no more; return those that failed.

    A project that imports heavy dependencies only when a function needs them (to keep its
    command line quick) gets them imported here, once, rather than in every kernel.
    """
    import ast
    import importlib

    failed: list[str] = []
    seen: set[str] = set()
    while True:
        wanted = []
        for name, module in list(sys.modules.items()):
            if (name != top and not name.startswith(f"{top}.")) or name in seen:
                continue
            seen.add(name)
            file = getattr(module, "__file__", None)
            if not file or not file.endswith(".py") or file.startswith(here + os.sep):
                continue
            try:
                tree = ast.parse(Path(file).read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
                continue
            package = name if file.endswith("__init__.py") else name.rpartition(".")[0]
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        parts = package.split(".")
                        if node.level > len(parts):
                            continue
                        stem = ".".join(parts[: len(parts) - node.level + 1])
                        base = f"{stem}.{base}" if base else stem
                    wanted += [base, *(f"{base}.{alias.name}" for alias in node.names)]
                elif isinstance(node, ast.Import):
                    wanted += [alias.name for alias in node.names]
        wanted = [
            w for w in dict.fromkeys(wanted)
            if (w == top or w.startswith(f"{top}.")) and w not in sys.modules
        ]  # fmt: skip
        if not wanted:
            return failed
        for name in wanted:
            seen.add(name)  # tried once
            parent = name.rpartition(".")[0]
            if parent and not hasattr(sys.modules.get(parent), "__path__"):
                continue  # a name imported from a module, not a module (or its parent failed)
            try:
                if parent and importlib.util.find_spec(name) is None:
                    continue
                importlib.import_module(name)
            except (Exception, SystemExit) as exc:
                failed.append(f"{name}: {type(exc).__name__}")


def _module_files(previous: dict[str, int] | None = None) -> dict[str, int]:
    """Modification times of the imported modules' files (of those in ``previous``, if given)."""
    if previous is None:
        paths = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    else:
        paths = set(previous)
    times = {}
    for path in paths:
        if isinstance(path, str):
            with contextlib.suppress(OSError):
                times[path] = Path(path).stat().st_mtime_ns
    return times


def _threads() -> list[str]:
    """Names of this process's threads other than the main one that fork cannot handle.

    jemalloc's background thread (started by pyarrow, which pandas imports) is left out:
    jemalloc's own fork handler resets it in the child, which then purges memory inline.
    """
    try:
        tasks = [t for t in Path("/proc/self/task").iterdir() if t.name != str(os.getpid())]
        names = [(t / "comm").read_text(encoding="utf-8").strip() for t in tasks]
    except OSError:
        return [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    return [name for name in names if name not in _FORK_SAFE_THREADS]


def _become_kernel(args: list[str], env: dict[str, str]) -> None:
    """In a child just forked by a template: turn into ``python -m ipykernel_launcher args``."""
    template = os.getppid()
    _die_with_parent()
    os.setsid()  # as jupyter_client starts kernels: signals reach the kernel's process group
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(env)
    os.environ["JPY_PARENT_PID"] = str(template)  # ipykernel exits if its parent does
    import importlib.util

    spec = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [spec.origin if spec and spec.origin else "ipykernel_launcher", *args]
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:  # forked children would share one global random state
        numpy_random.seed()
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()
