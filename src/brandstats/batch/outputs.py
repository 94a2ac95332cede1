"""The output folder: its lock, each job's staging folder, committing outputs, and resume checks.

A job runs into a hidden staging folder of its own, ``<out>/.<name>.staging/`` (on a Dask
worker, into a folder of the worker's). Only when it has succeeded are its files moved (or,
from a worker, written atomically) into ``<out>``, the executed notebook last; a failed job
leaves ``<name>.failed.ipynb`` only. A reader of ``<out>`` thus never sees half a run, and an
earlier successful run's outputs stay until a new one replaces them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..atomic import write_bytes_atomic
from ..errors import BrandstatsError

__all__ = [
    "commit",
    "discard",
    "is_done",
    "locked",
    "prepare_output_dir",
    "shared",
    "staging",
]

_HELD: dict[Path, tuple[int, int]] = {}  # folder -> (descriptor holding the lock, depth)
_HELD_LOCK = threading.Lock()


def prepare_output_dir(out: Path) -> None:
    """Create ``out`` and check that files can be made in it, before any kernel starts."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BrandstatsError(f"{out}: cannot write the outputs there ({reason})") from None


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the folder's lock: another process's batch into ``out`` is refused meanwhile.

    The lock is an advisory ``flock`` on the folder itself (POSIX), so nothing is left behind
    by a batch that is killed; it is re-entrant within a process (``run_report`` holds it over
    its two batches).
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with _HELD_LOCK:
        fd, depth = _HELD.get(out, (-1, 0))
        if not depth:
            fd = os.open(out, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise BrandstatsError(
                    f"{out}: another brandstats batch is writing into this folder; wait for it"
                    " to finish, or choose another output folder"
                ) from None
        _HELD[out] = (fd, depth + 1)
    try:
        yield
    finally:
        with _HELD_LOCK:
            fd, depth = _HELD.pop(out)
            if depth > 1:
                _HELD[out] = (fd, depth - 1)
            else:
                os.close(fd)  # releases the lock


def staging(out: Path, name: str) -> Path:
    """The job's private folder while it runs (the notebook's ``output_dir``)."""
    return out / f".{name}.staging"


def shared(out: Path) -> Path:
    """The folder the jobs of one batch share (``shared_dir``; job names never start with a
    dot, so no job's files land there)."""
    return out / ".shared"


def final_paths(out: Path, name: str) -> dict[str, Path]:
    """The job's files in ``out`` by kind."""
    return {ext: out / f"{name}{ext}" for ext in (".ipynb", ".html", ".json", ".failed.ipynb")}


def commit(out: Path, name: str, files: Mapping[str, Path | bytes]) -> None:
    """Put a successful job's files into ``out``: moved if paths, written atomically if bytes.

    ``files`` maps a file name to its content; ``<name>.ipynb`` goes last, so that a
    notebook in ``out`` means that the rest of its run is there too.
    """
    notebook = f"{name}.ipynb"
    for file_name in sorted(files, key=lambda f: f == notebook):
        content, target = files[file_name], out / file_name
        if isinstance(content, bytes):
            write_bytes_atomic(target, content)
        else:
            content.replace(target)
    final_paths(out, name)[".failed.ipynb"].unlink(missing_ok=True)


def discard(out: Path, name: str, *, failed_notebook: Path | bytes | None = None) -> None:
    """Undo a failed or stopped attempt: keep only its notebook, as ``<name>.failed.ipynb``."""
    target = final_paths(out, name)[".failed.ipynb"]
    with contextlib.suppress(OSError):  # on a full disk, keep the older failed notebook
        if isinstance(failed_notebook, bytes):
            write_bytes_atomic(target, failed_notebook)
        elif failed_notebook is not None and failed_notebook.exists():
            failed_notebook.replace(target)
    shutil.rmtree(staging(out, name), ignore_errors=True)


def staged_files(folder: Path) -> dict[str, Path]:
    """The files a job left in its staging folder (papermill's temporary files excluded)."""
    if not folder.is_dir():
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and
            not p.name.startswith(".")}  # fmt: skip


def is_done(out: Path, name: str, *, html: bool, result: bool) -> bool:
    """Whether the job's outputs are complete and valid, so that ``resume`` may skip it.

    The executed notebook must parse as a notebook, the HTML report (if wanted) must be whole,
    and the JSON result (if the notebook writes one) must parse as an object; a result that
    is a scorecard row (it names an ``indicator``) must have every field the scorecard reads.
    """
    paths = final_paths(out, name)
    try:
        notebook = json.loads(paths[".ipynb"].read_bytes())
        if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
            return False
        if html and not paths[".html"].read_bytes().rstrip().endswith(b"</html>"):
            return False
        if not result:
            return True
        record = json.loads(paths[".json"].read_bytes())
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict):
        return False
    if "indicator" in record:
        from ..results import SCORECARD_COLUMNS

        return all(column in record for column in SCORECARD_COLUMNS)
    return True
