"""A runner process: imports papermill once, then runs notebooks, several at a time.

A runner (``python -c`` :data:`RUNNER_COMMAND`) reads JSON lines on stdin: first hints (the
notebook folders and their imports, so that kernel templates import while papermill does), then
one job per line; it answers one line per job on its stdout, with the job's ``name``, as each
finishes. Each job runs with :func:`papermill.execute_notebook` in a thread of its own (one
runner per machine serves all the batch's workers: it imports papermill, and starts each
folder's kernel template, once), into the job's staging folder, on the ``brandstats-python3``
kernel (see :mod:`.kernels`), in the notebook's folder (nbclient's
``resources={"metadata": {"path": ...}}``: no process-wide ``chdir``). The main thread reads
requests and handles SIGTERM: the runner then kills its kernels, removes the unfinished
attempts and exits with code 130.
"""

from __future__ import annotations

import errno
import functools
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..atomic import write_text_atomic
from ..format import count
from .template import LineReader

RUNNER_COMMAND = "from brandstats.batch.runner import _runner_main; _runner_main()"
INTERRUPTED = "interrupted"  # status of a job stopped with the batch; never reported
STOP_GRACE = 20.0  # seconds a runner gets to stop its job before it is killed
_MAX_JOBS = 256  # threads for jobs; the batch decides how many run at once

_STOPPING = threading.Event()  # this runner has been told to stop
_KERNEL_NAME = "python3"  # or kernels.WARM_KERNEL, set by _runner_main


def _runner_main() -> None:
    """Entry point of a runner process (see the module's docstring).

    The end of its input when no job is running makes it exit normally; during a job, it
    means that the batch is gone, and the runner stops as on SIGTERM.
    """
    from concurrent.futures import ThreadPoolExecutor

    from . import kernels

    global _KERNEL_NAME
    if sys.path and sys.path[0] == "":  # `python -c` adds the cwd
        del sys.path[0]
    skip_unused_imports()
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")  # not inherited by kernels
    os.dup2(2, 1)  # anything else printed, by libraries or kernels, goes to the log
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    specs = ""  # the folder for its kernelspecs (its supervisor's, who removes it)
    runner_kernels = None
    running: dict[Any, dict[str, Any]] = {}  # future -> its request
    lock = threading.Lock()  # for answers and running

    def run(request: dict[str, Any]) -> None:
        ticket = request.pop("ticket", None)
        try:
            outcome = _execute(**request)
        except Exception as exc:  # a bad request: its supervisor must still get an answer
            outcome = {"status": "failed", "cell_index": None, "error": one_line(exc),
                       "disk_full": False}  # fmt: skip
        answer = {"ticket": ticket, "name": request["name"], **outcome}
        with lock:
            answer["notes"], kernels.NOTES[:] = list(kernels.NOTES), []
            if answer["status"] != INTERRUPTED:  # the batch knows: it is stopping
                answers.write(json.dumps(answer) + "\n")
                answers.flush()

    requests = iter(LineReader(0))  # not sys.stdin: unbuffered, signals get through
    try:
        hints = json.loads(next(requests, "{}"))
        specs = hints.get("kernelspecs") or tempfile.mkdtemp(prefix="brandstats-kernels-")
        prefix = kernels.template_prefix()
        warm = kernels.warm_kernelspec(Path(specs), prefix)
        if warm is not None:  # jupyter_client finds kernelspecs on JUPYTER_PATH first
            os.environ["JUPYTER_PATH"] = os.pathsep.join(
                p for p in (specs, os.environ.get("JUPYTER_PATH")) if p
            )
            _KERNEL_NAME = warm
        runner_kernels = kernels.RUNNER_KERNELS = kernels.Kernels(
            prefix if warm else None, _STOPPING
        )
        for folder in hints.get("folders", []):  # templates import while papermill does
            runner_kernels.warm(folder, hints.get("preload") or [])
        executor = ThreadPoolExecutor(_MAX_JOBS, thread_name_prefix="brandstats-job")
        executor.submit(_warm_up, hints.get("languages") or ["en"])
        for line in requests:
            request = json.loads(line)
            future = executor.submit(run, request)
            with lock:
                running[future] = request
            future.add_done_callback(lambda done: _forget(running, lock, done))
        with lock:
            busy = bool(running)
        if busy:  # the batch is gone (killed) while jobs run: stop as on SIGTERM
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        _STOPPING.set()
        if runner_kernels is not None:
            runner_kernels.kill()
        with lock:
            left = dict(running)
        from concurrent.futures import wait

        wait(left, timeout=STOP_GRACE / 2)  # finished jobs have answered; the others left
        for future, request in left.items():
            if not future.done() and "staging" in request:  # also done by the supervisor;
                shutil.rmtree(request["staging"], ignore_errors=True)  # here if it was killed
        shutil.rmtree(specs, ignore_errors=True)
        os._exit(130)  # not sys.exit: a job's thread may be stuck in a dead kernel's client
    finally:
        if runner_kernels is not None:
            runner_kernels.close()
        shutil.rmtree(specs, ignore_errors=True)
    sys.stderr.flush()
    os._exit(0)  # done: no need to tear down papermill and the job threads' event loops


def _forget(running: dict[Any, Any], lock: threading.Lock, future: Any) -> None:
    with lock:
        running.pop(future, None)


def skip_unused_imports() -> None:
    """Keep this process from importing what the batch never uses (call it first thing).

    jsonschema, under nbformat, imports the optional rfc3987_syntax for draft-7 "iri" format
    checks, which compiles a grammar for about a second; nbformat validates notebooks against
    draft-4 schemas without format checks. Only for processes of brandstats' own (the runners,
    ``brandstats run``): elsewhere jsonschema would silently lose a format check.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _warm_up(languages: list[str]) -> None:
    """Import what jobs need before the first one arrives (in a job thread), and make the
    report pages' exporters: a first page compiles nbconvert's templates (0.4 s of CPU, which
    would otherwise fall on the first jobs, while kernels compete for the cores)."""
    import nbformat

    _engine()
    export = _html_export()
    for language in languages:
        metadata = {"papermill": {"parameters": {"language": language}}}
        export(nbformat.v4.new_notebook(metadata=metadata), title="")


def _execute(
    name: str,
    notebook: str,
    parameters: dict[str, Any],
    staging: str,
    result: bool,
    timeout: float | None,
    html: bool,
    title: str,
    preload: list[list[str]] | None,
) -> dict[str, Any]:
    """Run one notebook with papermill into ``staging``; return ``{"status": ...}``.

    On success ``staging`` holds ``<name>.ipynb``, ``<name>.html`` (with ``html``), the
    notebook's JSON result (with ``result``) and whatever else the notebook wrote there.
    A kernel that dies before running any cell is started again (twice at most), one that
    dies in a cell without an error runs the notebook again (once), in a clean ``staging``;
    ``retries`` in the answer says why, once per run again.
    """
    folder = Path(staging)
    executed = folder / f"{name}.ipynb"
    retries: list[str] = []
    while True:
        try:
            _attempt(name, notebook, parameters, folder, result, timeout, html, title, preload)
        except Exception as exc:
            if _STOPPING.is_set():  # the kernel was killed to stop the batch: leave nothing
                shutil.rmtree(folder, ignore_errors=True)
                return {"status": INTERRUPTED}
            why = _transient(exc, executed)
            limit = _RETRIES_BEFORE_ANY_CELL if why == _BEFORE else _RETRIES_IN_CELL
            alike = sum((w == _BEFORE) == (why == _BEFORE) for w in retries)
            if why is not None and alike < limit:
                retries.append(why)  # a fault of the machine, not of the notebook: again
                shutil.rmtree(folder, ignore_errors=True)
                continue
            return {**_failure(exc, executed, why, len(retries)), "retries": retries}
        return {"status": "ok", "retries": retries}


# Runs again, by how the kernel died: before running any cell (an intermittent start failure,
# about 1 run in 12 on a busy 2-core machine) or in a cell without an error (a kernel the
# system killed, most often the out-of-memory killer).
_RETRIES_BEFORE_ANY_CELL = 2
_RETRIES_IN_CELL = 1
_BEFORE = "the kernel died before running any cell"
_IN_CELL = "the kernel died in cell {} without an error"


def _transient(exc: Exception, executed: Path) -> str | None:
    """Why a failed attempt may well succeed if run again (a kernel that died), or None."""
    from nbclient.exceptions import DeadKernelError

    cell = _last_started_cell(executed)
    dead = isinstance(exc, DeadKernelError)
    if cell is None and (dead or (type(exc) is RuntimeError and str(exc).startswith("Kernel"))):
        return _BEFORE
    return _IN_CELL.format(cell) if dead else None


def _failure(exc: Exception, executed: Path, why: str | None, tries: int) -> dict[str, Any]:
    """The answer for a failed job: the cell, one line of error, whether the disk is full."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    disk_full = False
    if isinstance(exc, PapermillExecutionError):
        cell, error = exc.cell_index, one_line(f"{exc.ename}: {exc.evalue}")
        disk_full = exc.ename == "OSError" and f"[Errno {errno.ENOSPC}]" in exc.evalue
    elif isinstance(exc, CellTimeoutError | DeadKernelError):
        cell, error = _last_started_cell(executed), one_line(exc)
    else:
        cell, error = None, one_line(str(exc) if isinstance(exc, _NoResult) else exc)
        disk_full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
    if why == _BEFORE:
        error += (
            f" ({count(tries + 1, 'attempt')}: the kernel did not start, a fault of the "
            "machine (memory, processes), not of the data or the notebook; run again with "
            "--resume)"
        )
    elif why is not None:
        error += (
            f" ({count(tries + 1, 'attempt')}: the kernel process ended without an error; "
            "unless the notebook ends it, the system killed it, most often for want of "
            "memory: not a fault in the data; free memory or use fewer --workers, then "
            "--resume)"
        )
    return {"status": "failed", "cell_index": cell, "error": error, "disk_full": disk_full}


def _attempt(
    name: str,
    notebook: str,
    parameters: dict[str, Any],
    folder: Path,
    result: bool,
    timeout: float | None,
    html: bool,
    title: str,
    preload: list[list[str]] | None,
) -> None:
    """One run of the notebook into ``folder``; raises what went wrong."""
    import papermill

    from . import kernels

    executed = folder / f"{name}.ipynb"
    assert kernels.RUNNER_KERNELS is not None
    kernels.RUNNER_KERNELS.job_preload.entries = preload
    folder.mkdir(exist_ok=True)
    nb = papermill.execute_notebook(
        _no_braces(notebook),
        _no_braces(executed),
        parameters=parameters,
        kernel_name=_KERNEL_NAME,
        progress_bar=False,
        execution_timeout=math.ceil(timeout) if timeout else None,  # nbclient wants an int
        engine_name=_engine(),
        resources={"metadata": {"path": str(Path(notebook).parent)}},
        kernel_manager_class=kernels.BatchKernelManager,  # nbclient's, with ReadyClient
        shutdown_kernel="immediate",  # its work is done: no need to wait for it to exit
    )
    if result:
        path = folder / f"{name}.json"
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise _NoResult(f"the notebook wrote no {path.name}") from None
        except ValueError as exc:
            raise _NoResult(f"{path.name} is not valid JSON: {exc}") from None
    if html:
        report = _html_export()(nb, title=title)
        write_text_atomic(folder / f"{name}.html", report)
    if _STOPPING.is_set():
        raise _Stopped


class _NoResult(Exception):
    """The notebook ran but did not write a valid ``<name>.json``."""


class _Stopped(Exception):
    """The runner is stopping: the job is abandoned before its outputs are committed."""


def one_line(exc: BaseException | str) -> str:
    """An exception (or text) as one line of at most 300 characters."""
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else text.strip()
    return line if len(line) <= 300 else line[:297] + "..."


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
    Registered through papermill's public engine registry.
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
def _html_export() -> Any:
    """brandstats' report page (:func:`brandstats.htmlreport.export_html`), imported once."""
    from ..htmlreport import export_html

    return export_html
