"""Supervising jobs: each job goes to an idle runner process, and its outputs are committed.

:func:`run_job` is what a local thread, or a Dask task, runs for one job: take an idle runner
from this process's pool, send it the job, wait for its one-line answer (stopping it if the
batch stops), then commit the outputs from the job's staging folder (see :mod:`.outputs`). A
runner that dies fails its job only; the next job gets a new runner. Idle runners stay up for
a few seconds, so that a following batch (``brandstats run``'s scorecard) finds them ready.

Why runner processes rather than papermill in threads of the batch, or a process pool: a
crash of a runner or of its kernel must touch one job only (a crashed worker of a
``ProcessPoolExecutor`` breaks the pool), and each runner has a core's worth of Python for
papermill's bookkeeping. Runners start in their own session, so a terminal's Ctrl-C reaches
only the batch, which then stops them (SIGTERM) through their supervisors.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import outputs
from .runner import INTERRUPTED, RUNNER_COMMAND, STOP_GRACE, one_line

__all__ = ["RunnerConfig", "close_pools", "run_job"]

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
    """Run one job on an idle runner, commit its outputs into ``out``; return its result.

    ``spec`` is the runner's request without its staging folder (see
    :func:`.runner._execute`); ``hints`` tell a new runner which notebook folders and
    imports to prepare for. The result has an extra ``disk_full`` key.
    """
    name = spec["name"]
    start = time.monotonic()
    if stop.is_set():
        return result(name, INTERRUPTED)
    folder = outputs.staging(out, name)
    request = {**spec, "staging": str(folder)}
    if spec["result"]:
        request["parameters"] = {**spec["parameters"], "output_dir": str(folder),
                                 "run_name": name}  # fmt: skip
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
        last = one_line(log.strip().splitlines()[-1]) if log.strip() else ""
        error = f"the runner process exited with code {runner.popen.returncode}: {last}"
        return result(name, "failed", seconds, error=error, disk_full=False)
    for text in answer.pop("notes", []):
        _note(text)
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


_NOTED: set[str] = set()


def _note(text: str) -> None:
    """Print a runner's note on stderr, once per process."""
    if text not in _NOTED:
        _NOTED.add(text)
        print(f"brandstats: {text}", file=sys.stderr)


class Runner:
    """The supervisor's handle on one runner process (see :mod:`.runner`)."""

    def __init__(self, config: RunnerConfig, hints: dict[str, Any]) -> None:
        # Its stderr (and its kernels') goes to an unnamed file: a pipe could be held open by an
        # orphaned kernel; the file is kept only to explain a crash.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-c", RUNNER_COMMAND],
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
        self._send(hints)

    def _read(self) -> None:
        stdout = self.popen.stdout
        assert stdout is not None
        with stdout:
            for line in stdout:
                self._answers.put(line)
        self._answers.put(None)

    def _send(self, message: object) -> None:
        stdin = self.popen.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            stdin.flush()
        except (OSError, ValueError):  # it died (the reader sees the end of its output)
            pass

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None and not self.stopped

    def run(self, request: dict[str, Any], stop: Stop) -> tuple[dict[str, Any] | None, str]:
        """Send one job and wait for the answer; if the batch stops, stop the runner.

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
                if deadline is None and stop.is_set():
                    self.stopped = True
                    with contextlib.suppress(ProcessLookupError):
                        self.popen.terminate()
                    deadline = time.monotonic() + STOP_GRACE
                elif deadline is not None and time.monotonic() > deadline:
                    self.popen.kill()  # its templates and kernels die with it
                continue
            if line is not None:
                self.idle_since = time.monotonic()
                return json.loads(line), ""
            self.popen.wait()
            self.log.seek(log_start)
            return None, self.log.read().decode("utf-8", "replace")

    def close(self, *, wait: bool = True) -> None:
        """Ask the runner to exit (end of its input), kill it if it will not; free the log."""
        with contextlib.suppress(OSError):
            self.popen.stdin.close()  # type: ignore[union-attr]
        if not wait:
            return
        try:
            self.popen.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.log.close()


class RunnerPool:
    """Idle runners, handed to one supervisor at a time; a runner that died is replaced.

    A runner left idle for ``_IDLE`` seconds exits.
    """

    def __init__(self, config: RunnerConfig) -> None:
        self.config = config
        self._idle: list[Runner] = []
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None

    def take(self, hints: dict[str, Any]) -> Runner:
        with self._lock:
            while self._idle:
                runner = self._idle.pop()
                if runner.alive:
                    return runner
                runner.close()
        return Runner(self.config, hints)

    def give_back(self, runner: Runner) -> None:
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


_POOLS: dict[tuple[RunnerConfig, tuple[tuple[str, str], ...]], RunnerPool] = {}
_POOLS_LOCK = threading.Lock()


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
    for pool in pools:
        pool.close()
