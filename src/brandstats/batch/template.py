"""Kernel templates: processes that import ahead what notebooks import, then fork kernels.

A template is started by a runner (see :class:`.kernels.KernelTemplate`) like the kernel: the
kernelspec's interpreter and flags, in the notebook's folder, with the kernels' environment. It
never runs notebook code, so nothing passes from one notebook to another; each forked child
turns into ``python -m ipykernel_launcher`` and is a new kernel. :func:`preload_entries` (in the
batch process) reads a notebook's imports to tell the template what to import.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["preload_entries"]

_FORK_SAFE_THREADS = frozenset({"jemalloc_bg_thd"})  # see _threads
_BATCH = __name__.rpartition(".")[0]  # brandstats.batch


def preload_entries(notebook: Path, extra: Sequence[str] = ()) -> list[tuple[str, ...]] | None:
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


def _template_main() -> None:
    """Entry point of a kernel template: import ahead, then fork one new kernel per request.

    A template is started like the kernel (the kernelspec's interpreter and flags, in the
    notebook's folder, with the kernels' environment) and reads one request per line:

    - ``{"preload": entries}``: import them (see preload_entries) and answer
      ``{"threads": [...], "skipped": [...]}``; if an import started a thread, exit (a forked
      child would lack it; see _threads);
    - ``{"args": [...], "env": {...}}``: fork a child that becomes ``python -m
      ipykernel_launcher <args>`` with that environment (and what the imports set in it), and
      answer ``{"pid": n}``; or, if the file of a module imported here has changed since,
      answer ``{"stale": true}`` (and fork no more: the runner replaces it).

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
    for line in LineReader(requests):
        request = json.loads(line)
        if "preload" in request:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # imports may run subprocesses
            builtins.get_ipython = _kernel_shell  # type: ignore[attr-defined]
            try:
                skipped = _preload(request["preload"])
                _warm_caches()
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
            _reply(replies, {"stale": True})  # its kernels run on until the runner closes it
            continue
        sys.stdout.flush()  # or each child would write what is buffered again
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(requests)
            os.close(replies)
            _become_kernel(request["args"], {**request["env"], **imported_env})
            return
        _reply(replies, {"pid": pid})
    # The end of its input: its runner is done with it. Exit at once: tearing down the
    # imported stack would take a few tenths of a second.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class _KernelShell:
    """What ``get_ipython()`` returns in a template while it imports: as in a kernel, an object
    with a ``kernel`` attribute (pandas, for one, sets its display defaults by that).
    Anything more (registering hooks with the shell) fails, and the module is not preloaded.
    """

    kernel = None


def _kernel_shell() -> _KernelShell:
    return _KernelShell()


class LineReader:
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
    """Import the entries (see preload_entries); return those that failed or were skipped.

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


def _warm_caches() -> None:
    """Draw brandstats' two report charts once, from a made-up series, if the notebooks
    import them, and keep nothing but the libraries' caches: matplotlib's fonts and text
    layout, the Agg renderer, PNG encoding, the engine's first calls. Each kernel forked
    afterwards starts with them (about 0.1 s of CPU saved per notebook). With the workbook
    module (the scorecard's .xlsx, Excel inputs), openpyxl is imported too: brandstats imports
    it only when a function needs it. Best effort: a failure here only leaves them cold."""
    import importlib
    import warnings

    package = _BATCH.rpartition(".")[0]
    if f"{package}.workbook" in sys.modules:
        for name in ("openpyxl", "openpyxl.styles", "openpyxl.comments", "openpyxl.utils"):
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
    plots = sys.modules.get(f"{package}.plots")
    if plots is None:
        return
    try:
        import pandas as pd

        from ..attainment import assess_series

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = assess_series(
                pd.Series([10.0, 12.0, 13.0, 15.0], index=[2017, 2018, 2019, 2020]),
                target=20, comparison=">=", target_year=2022,
            )  # fmt: skip
            vintages = [{"as_of": 2019, "probability": 0.4, "verdict": "unlikely"},
                        {"as_of": 2020, "probability": 0.6, "verdict": "likely"}]  # fmt: skip
            plots.png(plots.plot_assessment(result))
            plots.png(plots.plot_vintages(vintages))
    except Exception:  # best effort: nothing is lost
        return


def _first_party(module: Any) -> bool:
    """Whether ``module`` is a project's own code: not from the standard library or from
    site-packages (an editable install of a project under development counts)."""
    file = getattr(module, "__file__", None)
    return bool(file) and not _installed(str(Path(file).resolve()))


def _installed(file: str) -> bool:
    """Whether the module file at ``file`` (an absolute path) belongs to the standard library
    or to site-packages."""
    if any(f"{os.sep}{name}{os.sep}" in file for name in ("site-packages", "dist-packages")):
        return True
    return file.startswith(_library_roots())


@functools.cache
def _library_roots() -> tuple[str, ...]:
    """The standard library's and site-packages' folders, each as given and resolved, with a
    trailing separator."""
    import site
    import sysconfig

    paths = sysconfig.get_paths()
    roots = [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    roots += [*site.getsitepackages(), site.getusersitepackages()]
    folders = {folder for root in roots for folder in (root, str(Path(root).resolve()))}
    return tuple(folder.rstrip(os.sep) + os.sep for folder in folders)


def _import_package(top: str, here: str) -> list[str]:
    """Import the modules of package ``top`` that its imported modules import, also inside
    functions (lazily), until there are no more; return those that failed. The batch's own
    modules (this subpackage, imported to run the template) are not followed: what they
    import lazily (nbconvert for the HTML pages, Dask) is for the batch, not for notebooks.

    A project that imports heavy dependencies only when a function needs them (to keep its
    command line quick) gets them imported here, once, rather than in every kernel.
    """
    import ast
    import importlib

    failed: list[str] = []
    seen = {name for name in sys.modules if name.startswith(f"{_BATCH}.")}
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
    """Modification times that tell whether an imported module changed (of the paths in
    ``previous``, if given).

    A project's own module is watched by its file (an editor may rewrite it in place). An
    installed one (standard library, site-packages) is watched by its folder: pip and uv
    replace a package's files, which changes their folder. A template checks before every
    fork, and the folders are a seventh as many stats as the two thousand files.
    """
    if previous is None:
        files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
        paths = {
            str(Path(file).parent) if _installed(file) else file
            for file in files
            if isinstance(file, str)
        }
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
