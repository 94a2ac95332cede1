"""Jobs: one notebook run each, from code or from a YAML batch config, checked on entry.

A job's parameters must be plain JSON values with identifier names (papermill writes them as
``name = literal``, so they reach the notebook as data), and every name must be a parameter
the notebook declares (:func:`papermill.inspect_notebook`).
"""

from __future__ import annotations

import difflib
import functools
import itertools
import json
import keyword
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import FILE_STEM_BYTES, is_name_character
from ..errors import BrandstatsError

__all__ = ["RESERVED_PARAMETERS", "Job", "declared_parameters", "load_batch_config"]

RESULT_PARAMETERS = ("output_dir", "run_name")
"""Parameters the batch passes itself, to a notebook that declares both: it is then expected
to write its result to ``{output_dir}/{run_name}.json``."""

SHARED_PARAMETER = "shared_dir"
"""A parameter the batch passes itself, to a notebook that declares it: a folder that the runs
of one batch share, for work done once for all of them (a pooling group's vintages); it is
emptied when the batch starts and removed when it ends."""

RESERVED_PARAMETERS = (*RESULT_PARAMETERS, SHARED_PARAMETER)
"""The parameters the batch sets: no parameter set may give them."""

_CONFIG_KEYS = ("notebook", "defaults", "parameter_sets", "grid")


@dataclass(frozen=True)
class Job:
    """One notebook run.

    Parameters
    ----------
    name : str
        A safe file stem (letters and digits of any script, ``-``, ``_``, ``.``; not starting
        with ``.`` or ``-``; at most 200 bytes in UTF-8): the outputs are ``<name>.ipynb``,
        ``<name>.html`` and ``<name>.json``.
    notebook : path-like
        The notebook to run. It is only read.
    parameters : mapping, optional
        Parameter name -> plain JSON value (str, int, float, bool, None, and lists and dicts of
        those). ``output_dir``, ``run_name`` and ``shared_dir`` are reserved: the batch sets
        them.
    title : str, optional
        The title of the HTML report (default: the name).
    weight : float, optional
        How much work the job is, relative to the others (any scale): heavier jobs start first,
        so that a heavy one is not left running alone at the end while cores wait; jobs of
        equal weight start in their order. Reports list jobs in their order either way.

    Raises
    ------
    BrandstatsError
        If the name is not a safe file stem, or a parameter name or value is not acceptable.
    """

    name: str
    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict, hash=False)
    title: str | None = None
    weight: float = 0.0

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
        from its own values), ``notebook`` (a Path, or None if the config names none),
        ``parameters`` and ``where`` (the config entry it comes from, for messages).

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
    for combo in itertools.product(*grid.values()) if grid else ():
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
        where = f"{path}: {where.partition(' ')[0]}"
        specs.append({"name": name, "notebook": notebook, "parameters": {**defaults, **own},
                      "where": where})  # fmt: skip
    return specs


@functools.cache
def _inspect(notebook: Path, mtime_ns: int) -> tuple[str, ...]:
    import papermill

    try:
        return tuple(papermill.inspect_notebook(str(notebook)))
    except Exception as exc:  # papermill raises its own errors, JSON errors, OSError...
        raise BrandstatsError(
            f"{notebook}: cannot read the notebook's parameters ({exc})"
        ) from None


def declared_parameters(notebook: str | os.PathLike[str]) -> tuple[str, ...]:
    """The parameters ``notebook`` declares in its ``parameters`` cell, in order.

    Raises
    ------
    BrandstatsError
        If the notebook cannot be read.
    """
    path = Path(notebook).resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise BrandstatsError(f"{path}: cannot read the notebook ({exc.strerror})") from None
    return _inspect(path, mtime)


def check_declared(parameters: Iterable[str], notebook: Path, where: str) -> None:
    """Refuse a parameter ``notebook`` does not declare, naming the closest declared one."""
    declared = declared_parameters(notebook)
    for name in parameters:
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(p for p in declared if p not in RESERVED_PARAMETERS) or "none"
            raise BrandstatsError(
                f"{where}: unknown parameter {name!r}{hint}; {notebook.name} declares: {known}"
            )


def writes_result(notebook: Path) -> bool:
    """Whether the batch passes ``output_dir`` and ``run_name`` and expects a JSON result."""
    return set(RESULT_PARAMETERS) <= set(declared_parameters(notebook))


def shares_work(notebook: Path) -> bool:
    """Whether the batch passes :data:`SHARED_PARAMETER` (the notebook declares it)."""
    return SHARED_PARAMETER in declared_parameters(notebook)


def is_safe_name(name: object) -> bool:
    """Whether ``name`` can be a run's file stem: letters and digits of any script, ``_``,
    ``-`` and ``.`` (:func:`~brandstats.config.is_name_character`), not starting with ``.`` or
    ``-``, at most :data:`~brandstats.config.FILE_STEM_BYTES` bytes in UTF-8."""
    return (
        isinstance(name, str)
        and bool(name)
        and name[0] not in ".-"
        and all(is_name_character(c) or c in ".-" for c in name)
        and len(name.encode()) <= FILE_STEM_BYTES
    )


def _check_name(name: object, what: str) -> None:
    if not is_safe_name(name) or name == "batch":
        raise BrandstatsError(
            f"{what}: {name!r} is not a safe file name: use letters and digits (of any script), "
            "'-', '_' or '.', up to 200 bytes, not starting with '.' or '-' (and not 'batch', "
            "used by batch.json)"
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
    """A run's name from its parameter values: their letters and digits (of any script), ``_``
    and ``.``, each run of other characters as one ``_``, the values joined by ``-`` and cut
    to :data:`~brandstats.config.FILE_STEM_BYTES`."""
    name = "-".join(re.sub(r"[^\w.]+", "_", str(v)) for v in values).strip("._-")
    name = name.encode()[:FILE_STEM_BYTES].decode(errors="ignore")
    return name.strip("._-") or "run"
