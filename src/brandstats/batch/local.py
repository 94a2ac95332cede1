"""Running a batch: check it, skip what is done, run the rest on this machine or on Dask.

:func:`run_batch` is the entry point. Jobs go to an :class:`Executor`: a thread pool here
(:class:`LocalExecutor`), or a Dask cluster (:class:`.cluster.DaskExecutor`); either runs
:func:`.runners.run_job` for each job. Ctrl-C or SIGTERM stops the batch: no new job starts,
running kernels are killed, unfinished jobs leave nothing, and ``batch.json`` lists what
finished, marked interrupted. A full disk stops it the same way, with one error.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from ..atomic import write_json_atomic
from ..errors import BrandstatsError
from ..memo import ENV
from . import outputs
from .jobs import Job, check_declared, shares_work, writes_result
from .report import BatchInterrupted, BatchReport, JobResult
from .runner import INTERRUPTED, one_line
from .runners import RunnerConfig, result, run_job, start_ahead

__all__ = ["run_batch"]

_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
JOBS_PER_CORE = 2
"""Default jobs at once per core: a notebook's job waits for about half its time (kernel start,
messages, the runner's bookkeeping), so one per core leaves the cores idle that much
(``benchmarks/bench_batch.py --workers N`` compares)."""


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

    For a job named ``<name>`` the batch leaves ``<name>.ipynb`` (the executed notebook),
    ``<name>.html`` (its outputs without code, unless ``html=False``) and, from a notebook
    that declares the parameters ``output_dir`` and ``run_name``, its JSON result
    ``<name>.json``, which such a notebook must write to ``{output_dir}/{run_name}.json``.
    A failed job leaves only ``<name>.failed.ipynb``; an earlier successful run's outputs are
    kept. ``batch.json`` reports every job.

    Parameters
    ----------
    jobs : iterable of Job
        The runs; names must be unique, parameters declared by their notebooks.
    output_dir : path-like
        Folder for all outputs (created if needed). Nothing is written anywhere else.
    workers : int, optional
        Jobs run at once on this machine; default :data:`JOBS_PER_CORE` per core. Ignored
        with ``scheduler``.
    resume : bool, default False
        Skip jobs already done: their notebook, report and result exist and are valid (see
        :func:`.outputs.is_done`). Without it every job runs.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``"tcp://host:port"``). The workers need
        brandstats only: the notebook and input files go with each job, the outputs come
        back with its result and are written here.
    timeout : float, optional
        Seconds a single cell may run before its job fails (rounded up to whole seconds);
        default no limit.
    progress : bool, default True
        Show a progress bar on stderr.
    html : bool, default True
        Also write ``<name>.html``.
    report_name : str, default "batch.json"
        File name of the report written in ``output_dir``.
    preload : bool or sequence of str, default True
        Fork kernels from a template that has imported what the notebooks import (Linux);
        a sequence names further modules. ``False`` starts every kernel from scratch. Either
        way each notebook gets a new kernel of its own.

    Returns
    -------
    BatchReport
        Per job: status, seconds, and for failures the cell and a one-line error. A failing
        job (an exception in a cell, a dead kernel, a cell timeout) never stops the others.

    Raises
    ------
    BrandstatsError
        Before any kernel starts: invalid options, two jobs with one name, a missing notebook,
        a parameter the notebook does not declare, an output folder that cannot be written or
        that another batch is writing into. During the batch: a full disk (the batch stops;
        earlier outputs and ``batch.json`` stay whole).
    BatchInterrupted
        On Ctrl-C or SIGTERM (a :class:`KeyboardInterrupt`), with the report of what finished.

    Notes
    -----
    Kernels get ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` set to 1
    unless one of them is already set: notebooks run in parallel, several per core.

    One runner process runs all of this process's jobs, each in a thread with a kernel of
    its own: if the runner dies (killed), the jobs it was running fail and the next ones get
    a new runner; a job that kills its kernel fails alone.

    A preloaded kernel differs from a cold one only in what happened before its notebook
    started: the modules were imported by its template (what they print while being imported
    goes to the log), and NumPy's global random state is reseeded from the operating system.
    A module the notebook's folder provides itself is never preloaded, a template whose
    modules' files change is replaced, and a notebook that changes ``os.environ`` gets a cold
    kernel.
    """
    jobs = list(jobs)
    out = Path(output_dir).resolve()
    _check_batch(jobs, out, workers=workers, scheduler=scheduler, timeout=timeout)
    extra = _check_preload(preload)
    jobs = [replace(job, notebook=job.notebook.resolve()) for job in jobs]
    for job in jobs:
        check_declared(job.parameters, job.notebook, f"job {job.name!r}")
    expects = {job.notebook: writes_result(job.notebook) for job in jobs}
    outputs.prepare_output_dir(out)
    with outputs.locked(out), _sigterm_interrupts():
        for left in out.glob(".*.staging"):  # by a batch killed with its runners
            shutil.rmtree(left, ignore_errors=True)
        shared = outputs.shared(out)
        shutil.rmtree(shared, ignore_errors=True)  # left by a batch killed before its end
        try:
            return _run(jobs, out, expects, workers=workers, resume=resume,
                        scheduler=scheduler, timeout=timeout, progress=progress, html=html,
                        report_name=report_name, preload=preload, extra=extra)  # fmt: skip
        finally:
            shutil.rmtree(shared, ignore_errors=True)


def _run(
    jobs: list[Job], out: Path, expects: dict[Path, bool], *, workers: int | None,
    resume: bool, scheduler: str | None, timeout: float | None, progress: bool, html: bool,
    report_name: str, preload: bool | Sequence[str], extra: tuple[str, ...],
) -> BatchReport:  # fmt: skip
    from tqdm import tqdm

    from .template import preload_entries

    start = time.monotonic()
    results: dict[str, JobResult] = {}
    todo = []
    for job in jobs:
        if resume and outputs.is_done(out, job.name, html=html, result=expects[job.notebook]):
            results[job.name] = JobResult(job.name, "skipped", 0.0)
        else:
            todo.append(job)
    todo.sort(key=lambda job: -job.weight)  # the heaviest first (stable: then in order)
    notebooks = dict.fromkeys(job.notebook for job in todo)
    entries = {nb: preload_entries(nb, extra) if preload is not False else None
               for nb in notebooks}  # fmt: skip
    specs = [
        {"name": job.name, "notebook": str(job.notebook), "parameters": job.parameters,
         "result": expects[job.notebook], "shared": shares_work(job.notebook),
         "timeout": timeout, "html": html,
         "title": job.title or job.name, "preload": entries[job.notebook]}
        for job in todo
    ]  # fmt: skip
    languages = {str(spec["parameters"].get("language", "en")) for spec in specs}
    hints = _hints(entries, languages)
    config = _runner_config()
    bar = tqdm(
        total=len(jobs), initial=len(jobs) - len(todo), disable=not progress,
        file=sys.stderr, unit="job", desc="notebooks",
    )  # fmt: skip

    def record(outcome: dict[str, Any]) -> None:
        outcome.pop("disk_full", None)
        if outcome["status"] != INTERRUPTED:
            results[outcome["name"]] = JobResult(**outcome)
        bar.set_postfix(failed=sum(r.status == "failed" for r in results.values()), refresh=False)
        bar.update()

    def report(interrupted: bool, error: str | None = None) -> BatchReport:
        done = tuple(results[job.name] for job in jobs if job.name in results)
        return BatchReport(done, out, time.monotonic() - start, interrupted, error)

    error = None
    try:
        if specs:
            if scheduler is None:
                workers = min(workers or JOBS_PER_CORE * (os.cpu_count() or 1), len(specs))
                executor: Executor = LocalExecutor(workers, out, config, hints)
            else:
                from .cluster import DaskExecutor

                executor = DaskExecutor(scheduler, out, config)
            with executor:
                error = executor.run(specs, record)
    except KeyboardInterrupt:
        bar.close()
        stopped = report(True)
        write_json_atomic(out / report_name, stopped.to_dict())
        raise BatchInterrupted(stopped) from None
    bar.close()
    final = report(error is not None, error)
    try:
        write_json_atomic(out / report_name, final.to_dict())
    except OSError as exc:
        if error is None:
            raise BrandstatsError(f"{out / report_name}: cannot write the report ({exc})") from None
    if error is not None:
        raise BrandstatsError(error)
    return final


def _hints(
    entries: dict[Path, list[tuple[str, ...]] | None], languages: Iterable[str]
) -> dict[str, Any]:
    """What a new runner prepares: a kernel template per notebook folder, importing what the
    notebooks import, and the report pages of these languages."""
    return {"folders": sorted({str(nb.parent) for nb in entries}),
            "preload": [e for found in entries.values() if found for e in found],
            "languages": sorted(languages)}  # fmt: skip


def start_runner(notebooks: Sequence[str | os.PathLike[str]], languages: Iterable[str]) -> None:
    """Start this process's runner for the notebooks ahead of :func:`run_batch`.

    The runner imports papermill and makes the report pages' exporters while its kernel
    templates import the notebooks' modules: a second or two in which this process can load
    and check the inputs. The batch then takes the runner over (an unused one exits after a
    few seconds idle, or with this process).
    """
    from .template import preload_entries

    entries = {Path(nb).resolve(): preload_entries(Path(nb).resolve()) for nb in notebooks}
    start_ahead(_runner_config(), _hints(entries, languages))


class Executor:
    """Runs :func:`.runners.run_job` for each job somewhere, and stops when told to.

    Subclasses say where: ``submit`` one job, the futures' ``as_completed`` and ``wait``, the
    ``outcome`` of a finished future, and a ``stop`` signal its tasks watch.
    """

    stop: Any
    out: Path

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free what the executor holds."""

    def submit(self, spec: dict[str, Any]) -> Any:
        raise NotImplementedError

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        raise NotImplementedError

    def wait(self, futures: list[Any]) -> None:
        raise NotImplementedError

    def outcome(self, future: Any) -> dict[str, Any]:
        return future.result()

    def run(self, specs: list[dict[str, Any]], record: Any) -> str | None:
        """Run every job, recording each result as it comes; on a full disk or an interrupt,
        stop the others and record those that finished anyway. Returns the full-disk error."""
        names = {self.submit(spec): spec["name"] for spec in specs}

        def take(future: Any) -> dict[str, Any]:
            name = names.pop(future)
            try:
                return self.outcome(future)
            except Exception as exc:  # the supervisor itself failed (e.g. a lost Dask worker)
                return result(name, "failed", error=one_line(exc))

        try:
            for future in self.as_completed(list(names)):
                outcome = take(future)
                full = outcome.get("disk_full")
                record(outcome)
                if full:
                    self.halt(names)
                    for future in [f for f in list(names) if f.done() and not f.cancelled()]:
                        record(take(future))
                    return _disk_full(self.out, outcome["name"], outcome["error"])
        except BaseException:
            self.halt(names)
            for future in [f for f in list(names) if f.done() and not f.cancelled()]:
                record(take(future))
            raise
        return None

    def halt(self, futures: Iterable[Any]) -> None:
        """Tell running jobs to stop, cancel the others, and wait (bounded) for them."""
        self.stop.set()
        for future in futures:
            future.cancel()
        self.wait(list(futures))


def _disk_full(out: Path, name: str, error: str) -> str:
    """The batch's error for a full disk: which disk (the output folder's, or another such as
    /tmp's, named by the error), that the data are not at fault, and what to do."""
    found = re.search(r"No space left on device: '([^']+)'", error)
    place = Path(found.group(1)) if found else out
    if place == out or out in place.parents:
        head = f"{out}: the disk is full"
    else:
        head = f"the disk holding {place.parent} is full (not the output folder's, {out})"
    return (
        f"{head} ({error}, job {name!r}); the batch stopped, not because of the data or a"
        " notebook. Finished outputs and batch.json are intact: free some space, then run"
        " again with --resume"
    )


class LocalExecutor(Executor):
    """A thread per worker on this machine, each supervising one job on this process's
    runner."""

    def __init__(
        self, workers: int, out: Path, config: RunnerConfig, hints: dict[str, Any]
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.out = out
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="brandstats")
        self.run_one = partial(run_job, out=out, stop=self.stop, config=config, hints=hints)

    def submit(self, spec: dict[str, Any]) -> Future[dict[str, Any]]:
        return self.pool.submit(self.run_one, spec)

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        from concurrent.futures import as_completed

        return as_completed(futures)

    def wait(self, futures: list[Any]) -> None:
        from concurrent.futures import wait

        wait(futures)  # bounded: the supervisors kill the runner after STOP_GRACE

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.stop.is_set():
            from .runners import close_pools

            close_pools()  # a stopped batch leaves nothing running


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops the batch as Ctrl-C does (when run in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _runner_config() -> RunnerConfig:
    """The runners this process's batches use: with the kernels' environment (_kernel_env)."""
    return RunnerConfig(tuple(sorted(_kernel_env().items())))


def _kernel_env() -> dict[str, str]:
    """What the batch adds to its runners' environment, hence to the kernels': one BLAS thread
    each, and the folder where the notebooks share the groups they assess (brandstats.memo)."""
    env = {ENV: _cache_folder()}
    if any(name in os.environ for name in _BLAS_THREADS):
        return env
    return env | dict.fromkeys(_BLAS_THREADS, "1")


@functools.cache
def _cache_folder() -> str:
    """This process's cache folder for its batches (removed when the process ends)."""
    folder = tempfile.mkdtemp(prefix="brandstats-cache-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _check_batch(
    jobs: list[Job], out: Path, *, workers: int | None, scheduler: str | None,
    timeout: float | None,
) -> None:  # fmt: skip
    import math

    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise BrandstatsError(f"workers must be a positive integer, got {workers!r}")
    if timeout is not None and not (
        isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0
    ):
        raise BrandstatsError(
            f"timeout must be a positive, finite number of seconds, got {timeout!r}"
        )
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
    produced = {path for name in names for path in outputs.final_paths(out, name).values()}
    for job in jobs:
        if job.notebook.resolve() in produced:
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
