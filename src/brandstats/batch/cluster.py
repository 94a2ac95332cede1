"""Running jobs on a Dask cluster, without a disk shared with the workers.

Each job travels with its inputs: the notebook's bytes, and those of every file a parameter
names by absolute path (``data_path``, ``targets_path``...). A worker keeps them in a folder of
its own (one per content, so that jobs of one notebook share a folder, hence a kernel
template), runs the job there with :func:`.runners.run_job` into a temporary output folder,
and returns the outputs' bytes with the result. The client writes them atomically into the
batch's folder. To stop, the client sets a :class:`distributed.Event` that the tasks watch.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import outputs
from .local import Executor
from .runners import RunnerConfig, run_job

__all__ = ["DaskExecutor", "run_remote"]

_STOP_WAIT = 60.0  # seconds the client waits for running tasks to stop


class DaskExecutor(Executor):
    """Jobs as tasks on the Dask scheduler at ``address``; outputs written into ``out``."""

    def __init__(self, address: str, out: Path, config: RunnerConfig) -> None:
        from distributed import Client, Event

        self.out = out
        self.config = config
        self.client = Client(address)
        self.stop = Event(f"brandstats-stop-{uuid.uuid4().hex}", client=self.client)

    def submit(self, spec: dict[str, Any]) -> Any:
        return self.client.submit(
            run_remote, _ship(spec), stop=self.stop.name, config=self.config, pure=False,
            key=f"brandstats-{spec['name']}-{uuid.uuid4().hex[:8]}",
        )  # fmt: skip

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        from distributed import as_completed

        return iter(as_completed(futures))

    def wait(self, futures: list[Any]) -> None:
        import contextlib

        from distributed import wait

        with contextlib.suppress(TimeoutError):
            wait(futures, timeout=_STOP_WAIT)

    def outcome(self, future: Any) -> dict[str, Any]:
        """The job's result, once its outputs are written here (atomically)."""
        result, files = future.result()
        name = result["name"]
        if result["status"] == "ok":
            try:
                outputs.commit(self.out, name, files)
            except OSError as exc:
                from .runner import one_line

                return {**result, "status": "failed", "error": one_line(exc),
                        "disk_full": exc.errno == 28}  # fmt: skip
        elif result["status"] == "failed":
            outputs.discard(self.out, name, failed_notebook=files.get(f"{name}.failed.ipynb"))
        return result

    def close(self) -> None:
        self.client.close()


def _ship(spec: dict[str, Any]) -> dict[str, Any]:
    """The job with its inputs' bytes: the notebook, and files named by absolute path."""
    notebook = Path(spec["notebook"])
    inputs = {}
    for key, value in spec["parameters"].items():
        if isinstance(value, str) and Path(value).is_absolute() and Path(value).is_file():
            inputs[key] = (Path(value).name, Path(value).read_bytes())
    return {**spec, "notebook": (notebook.name, notebook.read_bytes()), "inputs": inputs}


def _store(root: Path, file_name: str, data: bytes) -> Path:
    """``data`` in a folder of ``root`` named by its content (written once, atomically)."""
    from ..atomic import write_bytes_atomic

    folder = root / hashlib.sha256(data).hexdigest()[:16]
    path = folder / file_name
    if not path.is_file() or path.read_bytes() != data:
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
    return path


def run_remote(
    job: dict[str, Any], *, stop: str, config: RunnerConfig
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """On a worker: run one shipped job; return its result and its outputs' bytes."""
    from distributed import Event, get_worker

    try:
        root = Path(get_worker().local_directory) / "brandstats"
    except ValueError:  # not in a worker (a test calling it directly)
        root = Path(tempfile.gettempdir()) / "brandstats-worker"
    notebook = _store(root / "notebooks", *job["notebook"])
    parameters = dict(job["parameters"])
    for key, (file_name, data) in job.pop("inputs").items():
        parameters[key] = str(_store(root / "inputs", file_name, data))
    spec = {**job, "notebook": str(notebook), "parameters": parameters}
    hints = {"folders": [str(notebook.parent)], "preload": job["preload"] or []}
    with tempfile.TemporaryDirectory(prefix="brandstats-job-", dir=root) as tmp:
        out = Path(tmp)
        result = run_job(spec, out=out, stop=Event(stop), config=config, hints=hints)
        files = {p.name: p.read_bytes() for p in out.iterdir()
                 if p.is_file() and not p.name.startswith(".")}  # fmt: skip
    return result, files
