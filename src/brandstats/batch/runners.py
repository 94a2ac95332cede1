"""Supervising jobs: each job goes to this process's runner, and its outputs are committed.

:func:`run_job` is what a local thread, or a Dask task, runs for one job: send it to the runner
process of this process's pool (started if need be), wait for its one-line answer (stopping
the runner if the batch stops), then commit the outputs from the job's staging folder (see
:mod:`.outputs`). One runner serves every job of the process at once, each in a thread of its
own with a kernel of its own: it imports papermill, and starts each notebook folder's kernel
template, once for all. A runner that dies fails the jobs it was running only; the next job
gets a new runner. An idle runner stays up for a few seconds, so that a following batch
(``brandstats run``'s scorecard) finds it ready.

Why a runner process rather than papermill in threads of the batch: a crash of the runner
must not take the batch with it, kernel templates must be forked from a process without
threads, and the batch's own process stays free for supervising (and for a user's notebook,
when the batch is called from one). The runner starts in its own session, so a terminal's
Ctrl-C reaches only the batch, which then stops it (SIGTERM) through its supervisors.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import outputs
from .jobs import SHARED_PARAMETER
from .runner import INTERRUPTED, RUNNER_COMMAND, STOP_GRACE, one_line

__all__ = ["RunnerConfig", "close_pools", "run_job", "start_ahead"]

_IDLE = 10.0  # seconds an idle runner is kept for the next job or batch
_POLL = 0.5  # seconds between checks of the stop signal


class Stop(Protocol):
    """Whether the batch is stopping (a threading.Event, or a distributed.Event)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class RunnerConfig:
    """How runners start (hashable: a process keeps a pool of runners per configuration)."""

    env: tuple[tuple[str, str], ...]  # added to the runners' environment, hence the kernels'


def result(name: str, status: str, seconds: float = 0.0, **outcome: Any) -> dict[str, Any]:
    """A job's result as a dict (the fields of :class:`.report.JobResult`)."""
    return {"name": name, "status": status, "seconds": seconds, "cell_index": None,
            "error": None, **outcome}  # fmt: skip


def run_job(
    spec: dict[str, Any],
    *,
    out: Path,
    stop: Stop,
    config: RunnerConfig,
    hints: dict[str, Any],
) -> dict[str, Any]:
    """Run one job on this process's runner, commit its outputs into ``out``; return its result.

    ``spec`` is the runner's request without its staging folder (see
    :func:`.runner._execute`); ``hints`` tell a new runner which notebook folders and
    imports to prepare for. The result has an extra ``disk_full`` key.
    """
    name = spec["name"]
    start = time.monotonic()
    if stop.is_set():
        return result(name, INTERRUPTED)
    folder = outputs.staging(out, name)
    request = {k: v for k, v in spec.items() if k != "shared"}
    request |= {"staging": str(folder), "parameters": dict(spec["parameters"])}
    if spec["result"]:
        request["parameters"] |= {"output_dir": str(folder), "run_name": name}
    if spec.get("shared"):  # on a Dask worker, ``out`` is the job's own: nothing is shared
        request["parameters"][SHARED_PARAMETER] = str(outputs.shared(out))
    pool = _pool(config)
    runner = pool.take(hints)
    try:
        answer, log = runner.run(request, stop)
    finally:
        pool.give_back(runner)
    seconds = time.monotonic() - start
    executed = folder / f"{name}.ipynb"
    if answer is None:  # the runner died, or was stopped, before it could answer
        outputs.discard(out, name, failed_notebook=None if runner.stopped else executed)
        if runner.stopped:
            return result(name, INTERRUPTED, seconds)
        error = _runner_died(runner.popen.returncode, log)
        return result(name, "failed", seconds, error=error, disk_full=False)
    answer.pop("name")
    for text in answer.pop("notes", []):
        _note(text)
    if stop.is_set():  # the batch stopped meanwhile (a full disk, Ctrl-C): nothing more lands
        outputs.discard(out, name)
        return result(name, INTERRUPTED, seconds)
    if answer["status"] == "ok":
        try:
            outputs.commit(out, name, outputs.staged_files(folder))
        except OSError as exc:
            outputs.discard(out, name)
            return result(name, "failed", seconds, error=one_line(exc),
                          disk_full=exc.errno == 28)  # fmt: skip
        outputs.discard(out, name)  # the now empty staging folder
    elif answer["status"] == "failed":
        outputs.discard(out, name, failed_notebook=executed)
    else:
        outputs.discard(out, name)
    return result(name, answer.pop("status"), seconds, **answer)


def _runner_died(code: int, log: str) -> str:
    """Why a job failed when its runner exited without answering."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"the runner process was killed ({signal.Signals(-code).name})"
    last = one_line(log.strip().splitlines()[-1]) if log.strip() else "no message"
    return f"the runner process exited with code {code}: {last}"


_NOTED: set[str] = set()


def _note(text: str) -> None:
    """Print a runner's note on stderr, once per process."""
    if text not in _NOTED:
        _NOTED.add(text)
        print(f"brandstats: {text}", file=sys.stderr)


class Runner:
    """The supervisors' handle on one runner process (see :mod:`.runner`), shared by them."""

    def __init__(self, config: RunnerConfig, hints: dict[str, Any]) -> None:
        # Its stderr (and its kernels') goes to an unnamed file: a pipe could be held open by an
        # orphaned kernel; the file is kept only to explain a crash.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        # Its kernelspecs: made and removed here, so that a killed runner leaves none behind.
        self.specs = tempfile.mkdtemp(prefix="brandstats-kernels-")
        hints = {**hints, "kernelspecs": self.specs}
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-c", RUNNER_COMMAND],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                start_new_session=True, env={**os.environ, **dict(config.env)},
            )  # fmt: skip
        except BaseException:
            self.log.close()
            shutil.rmtree(self.specs, ignore_errors=True)
            raise
        self.stopped = False  # it was sent SIGTERM because the batch is stopping
        self.served = False  # it was sent a job (else it was started ahead: start_runner)
        self.active = 0  # jobs taken by supervisors and not given back (see RunnerPool)
        self.idle_since = time.monotonic()
        self._lock = threading.Lock()  # for _waiting, _ended, stopped
        self._send_lock = threading.Lock()  # one request at a time on its stdin
        self._waiting: dict[str, queue.SimpleQueue[dict[str, Any] | None]] = {}  # by ticket
        self._ended = False  # its output ended: it exited
        self._kill_at: float | None = None
        threading.Thread(target=self._read, name="brandstats-runner", daemon=True).start()
        self._send(hints)

    def _read(self) -> None:
        """Hand each answer to the supervisor waiting for that job; at the end, None to all."""
        stdout = self.popen.stdout
        assert stdout is not None
        with stdout:
            for line in stdout:
                answer = json.loads(line)
                with self._lock:
                    waiting = self._waiting.pop(answer.pop("ticket"), None)
                if waiting is not None:
                    waiting.put(answer)
        with self._lock:
            self._ended = True
            waiting_all, self._waiting = list(self._waiting.values()), {}
        for waiting in waiting_all:
            waiting.put(None)

    def _send(self, message: object) -> None:
        stdin = self.popen.stdin
        assert stdin is not None
        try:
            with self._send_lock:
                stdin.write(json.dumps(message).encode("utf-8") + b"\n")
                stdin.flush()
        except (OSError, ValueError):  # it died (the reader sees the end of its output)
            pass

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None and not self.stopped

    def run(self, request: dict[str, Any], stop: Stop) -> tuple[dict[str, Any] | None, str]:
        """Send one job and wait for its answer; if the batch stops, stop the runner.

        Returns the answer (None if the runner exited without one) and what the runner wrote
        to its log meanwhile.
        """
        log_start = os.fstat(self.log.fileno()).st_size
        answers: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        ticket = uuid.uuid4().hex  # not the job's name: two batches may share a runner
        with self._lock:
            ended = self._ended
            if not ended:
                self._waiting[ticket] = answers
        if not ended:
            self.served = True
            self._send({**request, "ticket": ticket})
        while not ended:
            try:
                answer = answers.get(timeout=_POLL)
            except queue.Empty:
                if stop.is_set():
                    self.stop()
                continue
            if answer is not None:
                return answer, ""
            break
        self.popen.wait()
        fd = self.log.fileno()  # read with pread: other supervisors may be reading it too
        log = os.pread(fd, max(os.fstat(fd).st_size - log_start, 0), log_start)
        return None, log.decode("utf-8", "replace")

    def stop(self) -> None:
        """SIGTERM now, SIGKILL after STOP_GRACE seconds (called again and again while
        supervisors wait); its templates and kernels die with it."""
        now = time.monotonic()
        with self._lock:
            first, self.stopped = not self.stopped, True
            if first:
                self._kill_at = now + STOP_GRACE
            kill = self._kill_at is not None and now > self._kill_at
        if first:
            with contextlib.suppress(ProcessLookupError):
                self.popen.terminate()
        elif kill:
            with contextlib.suppress(ProcessLookupError):
                self.popen.kill()

    def close(self, *, wait: bool = True) -> None:
        """Ask the runner to exit (end of its input), kill it if it will not; free the log."""
        with contextlib.suppress(OSError):
            self.popen.stdin.close()  # type: ignore[union-attr]
        if not self.served:  # started ahead of a batch that did not come (bad input): it
            with contextlib.suppress(ProcessLookupError):  # would first finish its imports
                self.popen.terminate()
        if not wait:
            return
        try:
            self.popen.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.log.close()
        shutil.rmtree(self.specs, ignore_errors=True)


class RunnerPool:
    """This process's runner for one configuration, shared by every supervisor; a runner that
    died is replaced (and closed once no supervisor uses it). It exits after ``_IDLE`` seconds
    without a job."""

    def __init__(self, config: RunnerConfig) -> None:
        self.config = config
        self.runner: Runner | None = None
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None

    def take(self, hints: dict[str, Any]) -> Runner:
        retired = None
        with self._lock:
            runner = self.runner
            if runner is None or not runner.alive:
                if runner is not None and runner.active == 0:
                    retired = runner
                runner = self.runner = Runner(self.config, hints)
            runner.active += 1
        if retired is not None:
            retired.close()
        return runner

    def give_back(self, runner: Runner) -> None:
        with self._lock:
            runner.active -= 1
            runner.idle_since = time.monotonic()
            retired = runner.active == 0 and (runner is not self.runner or not runner.alive)
            if retired and runner is self.runner:
                self.runner = None
            if self.runner is not None and self._reaper is None:
                self._reaper = threading.Thread(
                    target=self._retire_idle, name="brandstats-idle-runner", daemon=True
                )
                self._reaper.start()
        if retired:
            runner.close()

    def _retire_idle(self) -> None:
        """Close the runner once idle for _IDLE seconds; end when there is none."""
        while True:
            time.sleep(1.0)
            with self._lock:
                runner = self.runner
                expired = runner is not None and runner.active == 0
                expired = expired and time.monotonic() - runner.idle_since >= _IDLE
                if expired:
                    self.runner = None
                done = self.runner is None
                if done:
                    self._reaper = None
            if expired:
                runner.close()
            if done:
                return

    def close(self, *, wait: bool = True) -> None:
        """Close the runner now if it is idle (with ``wait=False``, only end its input)."""
        with self._lock:
            runner = self.runner
            if runner is None or runner.active:
                return
            if wait:
                self.runner = None
        runner.close(wait=wait)


_POOLS: dict[tuple[RunnerConfig, tuple[tuple[str, str], ...]], RunnerPool] = {}
_POOLS_LOCK = threading.Lock()


def start_ahead(config: RunnerConfig, hints: dict[str, Any]) -> None:
    """Start this process's runner for ``config`` now, preparing ``hints``, and leave it idle
    for the batch to take; none if it cannot start (the batch then says why)."""
    pool = _pool(config)
    with contextlib.suppress(OSError):
        pool.give_back(pool.take(hints))


def _pool(config: RunnerConfig) -> RunnerPool:
    """This process's pool of runners for ``config`` and its current environment.

    Runners (and their kernels) inherit the environment they were started with: after a
    change to ``os.environ``, new runners serve, and the old ones retire when idle.
    """
    key = (config, tuple(sorted(os.environ.items())))
    with _POOLS_LOCK:
        if key not in _POOLS:
            if not _POOLS:
                atexit.register(close_pools)
            _POOLS[key] = RunnerPool(config)
        return _POOLS[key]


def close_pools() -> None:
    """Stop every idle runner of this process now."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
    for pool in pools:  # end every idle runner's input first: they exit in parallel
        pool.close(wait=False)
    for pool in pools:
        pool.close()
