"""Kernels for the batch: each notebook gets a new kernel, forked from a warm template if it can.

Used inside a runner process (see :mod:`.runner`), through jupyter_client's documented extension
points only:

- :class:`WarmProvisioner`, a kernel provisioner registered under the
  ``jupyter_client.kernel_provisioners`` entry point as ``brandstats-warm``;
- a kernelspec of the runner's own, ``brandstats-python3`` (the ``python3`` kernel's command,
  with ``metadata.kernel_provisioner`` naming that provisioner), which papermill is asked for
  by name; jupyter_client finds it through ``JUPYTER_PATH``.

The provisioner asks the runner's :class:`Kernels` for a kernel forked from a *template* (see
:mod:`.template`): a process started like the kernel, in the notebook's folder, that has imported
what the notebook imports and never runs notebook code. A forked kernel is ready in a fraction of
a second, with its imports done. When forking is impossible (not Linux with pidfds, a
``python3`` kernelspec that is not ipykernel on this interpreter, a template whose imports
started a thread, a notebook that changes ``os.environ``) the provisioner starts the kernel the
usual way, as jupyter_client's :class:`~jupyter_client.provisioning.LocalProvisioner` does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_client import AsyncKernelClient, AsyncKernelManager, protocol_version_info
from jupyter_client.provisioning import LocalProvisioner
from traitlets import DottedObjectName, Type

__all__ = ["WARM_KERNEL", "BatchKernelManager", "Kernels", "WarmProvisioner", "warm_kernelspec"]

WARM_KERNEL = "brandstats-python3"
"""The runner's kernelspec: ``python3``, with kernels started by :class:`WarmProvisioner`."""
PROVISIONER = "brandstats-warm"  # its name under the jupyter_client.kernel_provisioners entry point
_TEMPLATE = "from brandstats.batch.template import _template_main; _template_main()"
_TEMPLATE_READY = 300.0  # seconds a template may take to import everything (a cold disk is slow)
_MAX_TEMPLATES = 4  # per runner, one per notebook folder
# Imported by every ipykernel kernel as it starts (the debugger pulls in debugpy).
_KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
                   "ipykernel.debugger", "sqlite3")  # fmt: skip

NOTES: list[str] = []
"""One-line notes for the user (why kernels start cold), until the runner passes them on."""

RUNNER_KERNELS: Kernels | None = None
"""The runner process's kernels (set by the runner; None elsewhere: kernels start cold)."""


class WarmProvisioner(LocalProvisioner):  # type: ignore[misc]
    """A :class:`~jupyter_client.provisioning.LocalProvisioner` whose kernels may be forked.

    Named in the ``brandstats-python3`` kernelspec's ``metadata.kernel_provisioner``. In a batch
    runner it takes a kernel forked from the notebook folder's template; otherwise, or when
    the template cannot serve, it starts the kernel as its base class does. Either way the
    runner learns of the kernel, to kill it if the batch stops.
    """

    forked: ForkedKernel | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        kernels = RUNNER_KERNELS
        forked = kernels.fork(cmd, kwargs) if kernels is not None else None
        if forked is None:
            info = await super().launch_kernel(cmd, **kwargs)
        else:
            self.forked = forked
            info = self.connection_info
        if kernels is not None:
            kernels.started(self)
        return info

    @property
    def has_process(self) -> bool:
        return self.forked is not None or super().has_process

    async def poll(self) -> int | None:
        return self.forked.poll() if self.forked is not None else await super().poll()

    async def wait(self) -> int | None:
        if self.forked is None:
            return await super().wait()
        while self.forked.poll() is None:
            await _sleep(0.05)
        return self.forked.poll()

    async def send_signal(self, signum: int) -> None:
        if self.forked is None:
            return await super().send_signal(signum)
        self.forked.signal_group(signum)

    async def kill(self, restart: bool = False) -> None:
        if self.forked is None:
            return await super().kill(restart)
        self.forked.kill()
        # jupyter_client then polls every 0.1 s until the kernel has gone; SIGKILL takes
        # a few milliseconds, so wait here and its first poll finds it gone.
        self.forked.wait(0.5)

    async def terminate(self, restart: bool = False) -> None:
        if self.forked is None:
            return await super().terminate(restart)
        self.forked.terminate()

    async def cleanup(self, restart: bool = False) -> None:
        if RUNNER_KERNELS is not None:
            RUNNER_KERNELS.stopped(self)
        self.forked = None
        await super().cleanup(restart)

    def kill_now(self) -> None:
        """Kill the kernel and its process group at once (the batch is stopping)."""
        if self.forked is not None:
            self.forked.signal_group(signal.SIGKILL)
            self.forked.kill()
        elif self.pid:
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)


class ReadyClient(AsyncKernelClient):  # type: ignore[misc]
    """A kernel client whose :meth:`wait_for_ready` returns as soon as the kernel is ready.

    jupyter_client's waits, after the kernel's ``kernel_info_reply``, until its IOPub channel
    has been silent for 0.2 s: a fifth of a second for every notebook of a batch. This one
    waits for the ``idle`` status that the kernel publishes on IOPub after that very request:
    IOPub is then connected and drained up to it. A kernel that welcomes the IOPub
    subscription (``iopub_welcome``, ipykernel 7, JEP 65) may have published that status
    before the subscription took hold, so it is lost: at the welcome the client asks again at
    once (waiting out half a second for a status that will not come was the slow start of
    half the batch's kernels). Its sockets retry a refused connection after 10 ms, not ZeroMQ's
    100 ms: a kernel forked from a template binds its ports some 40 ms after the client has
    connected, and a tenth of a second passed before every notebook's first cell. Written
    here because jupyter_client has no setting for either; everything it uses is
    jupyter_client's public client API and pyzmq's context options.
    """

    def start_channels(self, *args: Any, **kwargs: Any) -> None:
        import zmq

        self.context.setsockopt(zmq.RECONNECT_IVL, 10)  # for the sockets it creates from now
        super().start_channels(*args, **kwargs)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        import math

        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        # A kernel that starts late answers every request sent meanwhile, in order, and the
        # idle statuses of the first ones may be lost (IOPub not yet subscribed): ready once
        # some request has both its reply and its idle status.
        sent = 0
        counted: set[str] = set()  # the requests that count: since IOPub's welcome, if any
        replied: dict[str, dict[str, Any]] = {}
        idle: set[str] = set()
        while True:
            counted.add(self.kernel_info())
            sent += 1
            for wait in (1.0, *[0.0] * sent):  # the next reply, then any already there
                reply = await self._next(self.shell_channel, wait)
                if reply is None:
                    break
                if reply["parent_header"].get("msg_id") in counted:
                    replied[reply["parent_header"]["msg_id"]] = reply
            ready = await self._idle_status(counted, replied, idle) if replied else None
            if ready is not None:
                version = int(replied[ready]["content"]["protocol_version"].split(".")[0])
                if version != protocol_version_info[0]:  # as jupyter_client does
                    self.session.adapt_version = version
                return
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    @staticmethod
    async def _next(channel: Any, timeout: float) -> dict[str, Any] | None:
        from queue import Empty

        try:
            return await channel.get_msg(timeout=timeout)
        except Empty:
            return None

    async def _idle_status(
        self, counted: set[str], replied: dict[str, Any], idle: set[str], timeout: float = 0.5
    ) -> str | None:
        """A replied request whose idle status has come on IOPub (waiting up to ``timeout``
        seconds for one, noting every idle status seen in ``idle``); None if none came, or at
        once at IOPub's welcome: the requests sent before it no longer count."""
        deadline = time.monotonic() + timeout
        while not (done := idle & replied.keys()):
            msg = await self._next(self.iopub_channel, max(deadline - time.monotonic(), 0))
            if msg is None:
                return None
            if msg["msg_type"] == "iopub_welcome":
                for seen in (counted, replied, idle):
                    seen.clear()
                return None
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                idle.add(msg["parent_header"].get("msg_id"))
        return next(iter(done))


class BatchKernelManager(AsyncKernelManager):  # type: ignore[misc]
    """nbclient's default kernel manager with :class:`ReadyClient` as its client class.

    Passed to papermill (hence to nbclient's ``kernel_manager_class``) by the runner.
    """

    client_class = DottedObjectName(f"{__name__}.ReadyClient")
    client_factory = Type(ReadyClient, klass=AsyncKernelClient)  # what client() makes


def note(text: str) -> None:
    """Tell the user (through the runner's next answer) and the runner's log."""
    NOTES.append(text)
    print(f"brandstats: {text}", file=sys.stderr)


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def template_prefix() -> list[str] | None:
    """The ``python3`` kernelspec's command before ``-m ipykernel_launcher``, if templates can
    serve it: Linux with pidfds (to watch and signal kernels that are not the runner's
    children), ipykernel on this interpreter, no extra environment or provisioner."""
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


def warm_kernelspec(folder: Path, prefix: list[str] | None) -> str | None:
    """Write the ``brandstats-python3`` kernelspec under ``folder/kernels`` and return its name;
    None (with a one-line note) if kernels cannot be forked here, so they start cold."""
    from importlib.metadata import entry_points

    if prefix is None:
        why = "this system or the python3 kernelspec does not allow it"
    elif not entry_points(group="jupyter_client.kernel_provisioners", name=PROVISIONER):
        why = f"the {PROVISIONER!r} kernel provisioner is not installed (reinstall brandstats)"
    else:
        spec = folder / "kernels" / WARM_KERNEL
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [*prefix, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)", "language": "python",
            "metadata": {"kernel_provisioner": {"provisioner_name": PROVISIONER}},
        }), encoding="utf-8")  # fmt: skip
        return WARM_KERNEL
    note(f"kernels start cold, not forked from a template: {why}")
    return None


class Kernels:
    """A runner's kernels: the templates they are forked from, and those running."""

    def __init__(self, prefix: list[str] | None, stopping: threading.Event) -> None:
        self.prefix = prefix
        self.stopping = stopping
        self.templates: dict[str, KernelTemplate] = {}  # notebook folder -> its template
        self.retired: list[KernelTemplate] = []  # out of date, closed once their kernels end
        self.cold: set[str] = set()  # folders whose template could not serve
        self.running: set[WarmProvisioner] = set()
        # Per job thread: ``.entries``, the job's preload entries (None: a cold kernel).
        self.job_preload = threading.local()
        self.lock = threading.Lock()

    def warm(self, cwd: str, preload: list[list[str]]) -> KernelTemplate | None:
        """The template for ``cwd``, started if need be, importing ``preload`` (if usable)."""
        with self.lock:
            if self.prefix is None or cwd in self.cold or self.stopping.is_set():
                return None
            template = self.templates.get(cwd)
            if template is None and len(self.templates) < _MAX_TEMPLATES:
                template = self.templates[cwd] = KernelTemplate(self.prefix, cwd)
        if template is not None:  # not holding the lock: another job may be forking from it
            template.preload(preload)
        return template

    def fork(self, cmd: list[str], kwargs: dict[str, Any]) -> ForkedKernel | None:
        """Fork the kernel ``cmd`` would start; None if it must start the usual way.

        Raises RuntimeError when the runner is stopping: no kernel starts then, warm or cold.
        """
        self._refuse_if_stopping()
        prefix, preload = self.prefix, getattr(self.job_preload, "entries", None)
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
            self._refuse_if_stopping()  # it was killed to stop the runner
            with self.lock:
                if self.templates.get(cwd) is template:  # not one another job made since
                    del self.templates[cwd]
                    if not template.stale:
                        self.cold.add(cwd)
                if template.stale:  # its kernels run on: it goes when they have ended
                    self.retired.append(template)
            self._close_retired()
            if not template.stale:
                template.close()
        return None

    def _refuse_if_stopping(self) -> None:
        if self.stopping.is_set():
            raise RuntimeError("the batch is stopping: no new kernel")

    def _close_retired(self) -> None:
        """Close the retired templates none of whose kernels is running."""
        with self.lock:
            done = [t for t in self.retired if not t.live_children()]
            self.retired = [t for t in self.retired if t not in done]
        for template in done:
            template.close()

    def started(self, provisioner: WarmProvisioner) -> None:
        with self.lock:
            self.running.add(provisioner)

    def stopped(self, provisioner: WarmProvisioner) -> None:
        with self.lock:
            self.running.discard(provisioner)
            retired = bool(self.retired)
        if retired:
            self._close_retired()

    def kill(self) -> None:
        """Kill every kernel and template now (process groups: what a kernel started dies
        too); a job waiting for a template's imports then fails at once."""
        with self.lock:
            running = list(self.running)
            templates = [*self.templates.values(), *self.retired]
        for provisioner in running:
            provisioner.kill_now()
        for template in templates:
            template.kill_children()
            with contextlib.suppress(OSError):
                template.popen.kill()

    def close(self) -> None:
        with self.lock:
            templates = [*self.templates.values(), *self.retired]
            self.templates, self.retired = {}, []
        for template in templates:
            template.close()


class ForkedKernel:
    """A kernel forked by a template, watched and signalled through a pidfd.

    The template, its parent, reaps it, so its exit status is not known here: ``poll`` gives 0
    once it has exited, whatever the cause.
    """

    def __init__(self, pid: int, cwd: str) -> None:
        self.kernel_pid = pid
        self.cwd = cwd
        self.returncode: int | None = None
        self._lock = threading.RLock()  # job threads and the stopping runner share it
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone
            self._fd, self.returncode = None, 0

    def poll(self) -> int | None:
        return self.wait(0)

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the kernel to exit; its return code, or None."""
        import select

        with self._lock:
            ready = self.returncode is None and self._fd is not None
            if ready and select.select([self._fd], [], [], timeout)[0]:
                os.close(self._fd)  # type: ignore[arg-type]
                self._fd, self.returncode = None, 0
            return self.returncode

    def _signal(self, signum: int) -> None:
        with self._lock:
            if self.poll() is None and self._fd is not None:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(self._fd, signum)

    def signal_group(self, signum: int) -> None:
        """Signal the kernel's process group (it leads one), while it runs: an exited kernel's
        pid may already belong to another process."""
        with self._lock:
            if self.poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(self.kernel_pid, signum)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)  # type: ignore[arg-type]


class KernelTemplate:
    """The runner's handle on a kernel template process (see :func:`.template._template_main`).

    Requests go one at a time; preload requests are answered lazily, before the next fork.
    """

    def __init__(self, prefix: list[str], cwd: str) -> None:
        self.cwd = cwd
        self.popen = subprocess.Popen(
            [*prefix, "-c", _TEMPLATE], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )  # its stderr is the runner's: the log
        self.usable = True  # until it refuses (a thread) or falls silent
        self.stale = False  # a module's file changed since it was imported
        self.children: list[ForkedKernel] = []
        self._loaded: set[tuple[str, ...]] = set()
        self._pending = 0  # preload answers not read yet
        self._buffer = b""
        self._lock = threading.Lock()
        self.preload([["import", name] for name in _KERNEL_MODULES])

    def _send(self, message: object) -> bool:
        stdin = self.popen.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        import select

        fd = self.popen.stdout.fileno()  # type: ignore[union-attr]
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

    def fork(self, args: list[str], env: dict[str, str]) -> ForkedKernel | None:
        """A new kernel, or None if this template cannot make one (see usable, stale)."""
        with self._lock:
            while self._pending and self.usable:
                answer = self._receive(_TEMPLATE_READY)
                self._pending -= 1
                if answer is None or answer.get("threads"):
                    why = f"threads {answer['threads']}" if answer else "no answer"
                    note(f"kernels for notebooks in {self.cwd} start cold: their imports"
                         f" cannot be forked ({why})")  # fmt: skip
                    self.usable = False
            if not self.usable:
                return None
            answer = self._receive(30) if self._send({"args": args, "env": env}) else None
            if answer is None or "pid" not in answer:
                self.usable = False
                self.stale = bool(answer and answer.get("stale"))
                return None
            self.children = [child for child in self.children if child.poll() is None]
            child = ForkedKernel(answer["pid"], self.cwd)
            self.children.append(child)
            return child

    def live_children(self) -> list[ForkedKernel]:
        with self._lock:
            self.children = [child for child in self.children if child.poll() is None]
            return list(self.children)

    def kill_children(self) -> None:
        for child in list(self.children):
            child.signal_group(signal.SIGKILL)
            child.kill()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.popen.stdin.close()  # type: ignore[union-attr]
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.popen.stdout.close()  # type: ignore[union-attr]
