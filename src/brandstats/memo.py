"""Work kept for the other notebooks of one batch: its inputs, a group's assessments, the
group's vintages.

Every report of an indicator assesses the indicator's whole group (its regions, or its
districts and their city), and every vintage of it again: a batch of districts x vintages
would compute the same groups many times over. ``brandstats run`` sets :data:`ENV` to a
folder of its own; :func:`cached` then keeps each result there under a hash of everything it
was computed from, and a notebook that asks the same question reads it instead of computing
it again; notebooks that ask at the same moment wait for the first one's answer. Without the
variable (JupyterLab, the CLI's ``assess``, tests) nothing is kept and every call computes.
The folder lives as long as the process that runs the batch (its runners serve one batch
after another): an entry's name is the hash of all it depends on, so it never goes stale.

The result is the same object either way: the cache holds the one computation's pickled
output, never a second code path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .atomic import write_bytes_atomic

__all__ = ["ENV", "active", "cached", "file_key", "key", "recent"]

ENV = "BRANDSTATS_CACHE"
"""The environment variable naming the batch's cache folder."""

T = TypeVar("T")


def key(*parts: Any) -> str:
    """A hash of ``parts`` (frames by their CSV text, the rest by ``repr``)."""
    import pandas as pd  # not when the batch's runner imports ENV

    digest = hashlib.sha256()
    for part in parts:
        text = part.to_csv() if isinstance(part, pd.DataFrame | pd.Series) else repr(part)
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def active() -> bool:
    """Whether results are kept (a batch set :data:`ENV`)."""
    return bool(os.environ.get(ENV))


def file_key(*paths: str | os.PathLike[str]) -> str:
    """A hash of files' names and bytes (``book.xlsx#Sheet2`` reads ``book.xlsx``): a file
    that changes, even keeping its size and time, gets a new key."""
    digest = hashlib.sha256()
    for path in paths:
        text = os.fspath(path)
        file = Path(text if "#" not in text or Path(text).exists() else text.rpartition("#")[0])
        digest.update(text.encode("utf-8", "surrogateescape") + b"\0")
        try:
            digest.update(file.read_bytes())
        except OSError:  # the loader says what is wrong with it
            digest.update(b"\1unreadable")
        digest.update(b"\0")
    return digest.hexdigest()


def cached(name: str, compute: Callable[[], T], folder: str | os.PathLike[str] | None = None) -> T:
    """``compute()``, or its result kept under ``name`` in the batch's cache folder.

    ``folder`` replaces the batch's (:data:`ENV`). Kernels that ask for the same entry at the
    same moment (a batch runs several notebooks of one group at once) compute it once: the
    first holds the entry's lock (``flock``) while it computes, the others then read it. A
    result that cannot be pickled, or a folder that cannot be written or locked, is simply
    not kept; an unreadable entry is computed again.
    """
    folder = folder or os.environ.get(ENV)
    if not folder:
        return compute()
    path = Path(folder) / f"{name}.pickle"
    found = _read(path)
    if found is not _MISSING:
        return found
    with _locked(path.with_suffix(".lock")):
        found = _read(path)  # written by another kernel while this one waited
        if found is not _MISSING:
            return found
        result = compute()
        # written whole or not at all: another kernel may read it at the same moment
        with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
            write_bytes_atomic(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return result


_MISSING = object()


def _read(path: Path) -> Any:
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return _MISSING


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` for the block, released if the process dies; none where
    files cannot be locked (no such folder, no ``fcntl``)."""
    try:
        import fcntl

        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except (ImportError, OSError):
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def recent(store: OrderedDict[Any, T], key: Hashable, size: int, compute: Callable[[], T]) -> T:
    """``compute()``, kept in ``store`` (this process's) under ``key`` with the ``size`` most
    recently used: an LRU for what :func:`functools.lru_cache` cannot key (arrays by their
    bytes, results computed from objects outside the key). Failures are not kept."""
    found = store.get(key)
    if found is None:
        found = store[key] = compute()
        while len(store) > size:
            store.popitem(last=False)
    else:
        store.move_to_end(key)
    return found
