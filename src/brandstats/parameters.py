"""Notebook parameters: check them before anything runs.

papermill injects parameters as literals but neither types nor validates them, and a misspelt
``-p indcator x`` only adds a new variable in a cell after the ``parameters`` cell. So a
notebook's first cell after ``parameters`` passes its whole namespace,
``bs.check_parameters(globals())``: a wrong type, an unknown indicator, an impossible year or a
parameter the notebook does not declare stops the notebook there with one clear message.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import memo
from .config import (
    DATA_DIR,
    MODELS,
    PROJECT_ROOT,
    VINTAGE_BASES,
    YEAR_RANGE,
    YEARS_TEXT,
    is_name_character,
)
from .errors import BrandstatsError
from .loading import file_problem

__all__ = [
    "ParameterError",
    "RunContext",
    "ScorecardParameters",
    "check_parameters",
    "check_scorecard_parameters",
]

# name -> (accepted types, what it must be)
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "indicator": ((str,), "an indicator id such as 'product_brand_value'"),
    "region": ((str,), "a region name, or '' for the target's own region"),
    "as_of": ((int,), "a year, or 0 for all data"),
    "model": ((str,), "one of auto, drift, linear, loglinear, holt"),
    "levels": ((list, tuple), "a list of levels between 0 and 1, e.g. [0.5, 0.9]"),
    "base_year": ((int,), "a year, or 0 for the first observed year"),
    "data_path": (
        (str, list),
        "a file path, a list of them (later files revise earlier ones), or '' for the shipped data",
    ),
    "targets_path": ((str,), "a file path, or '' for the shipped targets"),
    "language": ((str,), "'en' or 'zh'"),
    "output_dir": ((str,), "a folder, or '' to write no result file"),
    "run_name": ((str,), "a file stem (letters and digits of any script, - _ .), or ''"),
    "seed": ((int,), "a whole number"),
    "title": ((str,), "the plan's name, or '' for the name the targets file gives"),
    "vintage_basis": ((str,), "'latest' (today's figures) or 'published' (as published by as_of)"),
    "shared_dir": ((str,), "a folder, or '' (the batch sets it)"),
}


# The scorecard notebook's parameters, likewise.
_SCORECARD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "results_dir": ((str,), "a folder with the JSON results of a batch run"),
    "language": _TYPES["language"],
    "output_dir": ((str,), "a folder, or '' for results_dir"),
    "run_name": _TYPES["run_name"],
    "runs": ((list, tuple), "a list of run names, or [] for every result in results_dir"),
    "headline": ((list, tuple), "a list of indicator ids, or [] for none"),
    "title": ((str,), "the plan's name, or '' for the name the results give"),
}

# Values a parameter can have (what papermill injects, YAML included); a name in a notebook's
# namespace holding one of these, that the notebook does not declare, is a misspelt parameter.
_PLAIN = (str, int, float, bool, list, tuple, dict, type(None))
# Plain names IPython itself puts in every kernel's namespace.
_KERNEL_NAMES = frozenset({"In", "Out"})


class ParameterError(BrandstatsError):
    """A notebook parameter is missing, of the wrong type or impossible."""


@dataclass(frozen=True)
class RunContext:
    """Checked parameters with the data they refer to, ready for :func:`brandstats.assess`."""

    indicator: str
    region: str
    as_of: int | None
    model: str
    levels: tuple[float, ...]
    base_year: int | None
    language: str
    output_dir: str
    run_name: str
    seed: int
    targets: pd.DataFrame
    observations: pd.DataFrame
    plan: str = ""
    """The plan's name atop the report: the ``title`` parameter, else the targets file's
    (:func:`brandstats.loading.plan_name`), else ''."""
    vintage_basis: str = "latest"
    shared_dir: str = ""

    def assess_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`brandstats.assess`."""
        return {
            "as_of": self.as_of,
            "model": self.model,
            "levels": self.levels,
            "base_year": self.base_year,
            "seed": self.seed,
            "vintage_basis": self.vintage_basis,
        }


def _year(name: str, value: int) -> int | None:
    if value == 0:
        return None
    if not YEAR_RANGE[0] <= value <= YEAR_RANGE[1]:
        raise ParameterError(f"parameter {name}={value!r}: expected {YEARS_TEXT}")
    return value


@dataclass(frozen=True)
class ScorecardParameters:
    """The scorecard notebook's checked parameters (see ``notebooks/scorecard.ipynb``)."""

    results_dir: str
    language: str
    output_dir: str
    run_name: str
    runs: tuple[str, ...] = ()
    headline: tuple[str, ...] = ()
    title: str = ""


def _injected_names(namespace: Mapping[str, Any]) -> set[str] | None:
    """In a kernel's namespace: the names papermill's injected cell assigns (None if the
    namespace is not a kernel's, so every name counts).

    IPython keeps every cell it ran in ``In``; papermill's injected cell starts with
    ``# Parameters``. Names that the notebook's own later cells assign (``lang = ...``) are
    thus not taken for parameters when the notebook is run again in the same kernel.
    """
    history = namespace.get("In")
    if not isinstance(history, list) or "get_ipython" not in namespace:
        return None
    names: set[str] = set()
    for source in history:
        if not isinstance(source, str) or not source.lstrip().startswith("# Parameters"):
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


def _declared(
    namespace: Mapping[str, Any], types: Mapping[str, tuple[tuple[type, ...], str]]
) -> dict[str, Any]:
    """The declared parameters found in ``namespace``, type-checked.

    Any other name holding a plain value (str, int, float, bool, list, dict, None) that does
    not start with ``_`` is refused as an undeclared parameter: papermill's ``-p indcator x``
    lands in the namespace as ``indcator = "x"``. Modules, functions and other objects are
    ignored, so ``globals()`` of a notebook can be passed as it is; in a kernel, only the
    names papermill injected are checked (see :func:`_injected_names`).
    """
    injected = _injected_names(namespace)
    unknown = [
        name
        for name, value in namespace.items()
        if name not in types
        and not name.startswith("_")
        and name not in _KERNEL_NAMES
        and isinstance(value, _PLAIN)
        and (injected is None or name in injected)
    ]
    if unknown:
        lines = []
        for name in unknown:
            close = difflib.get_close_matches(name, types, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            lines.append(f"unknown parameter {name!r}{hint}")
        known = ", ".join(types)
        raise ParameterError("; ".join(lines) + f"; the notebook's parameters are: {known}")
    params = {name: namespace[name] for name in types if name in namespace}
    for name, value in params.items():
        accepted, expected = types[name]
        if not isinstance(value, accepted) or isinstance(value, bool):
            raise ParameterError(
                f"parameter {name}={value!r} ({type(value).__name__}): expected {expected}"
            )
    return params


def _check_language(language: str) -> None:
    if language not in ("en", "zh"):
        raise ParameterError(f"parameter language={language!r}: expected 'en' or 'zh'")


def _check_run_name(run_name: str) -> None:
    if run_name and not all(is_name_character(c) or c in ".-" for c in run_name):
        raise ParameterError(f"parameter run_name={run_name!r}: expected {_TYPES['run_name'][1]}")


def _resolve(name: str, path: str) -> Path | None:
    """A file parameter as an absolute path: a relative one is looked for in the working folder
    (the notebook's, under papermill or JupyterLab), then in the project folder.

    A ``#sheet`` after an Excel file's name is kept. Returns None for ``''`` (shipped data).
    """
    if not path:
        return None
    file, sheet = path, ""
    if "#" in path and not Path(path).exists():
        file, _, sheet = path.rpartition("#")
    tried = list(dict.fromkeys([Path(file).expanduser().absolute(), PROJECT_ROOT / file]))
    for candidate in tried:
        if candidate.is_file():
            return Path(f"{candidate}#{sheet}") if sheet else candidate
        if candidate.exists() or candidate.is_symlink():  # a folder, a pipe, a device ...
            raise ParameterError(f"parameter {name}={path!r}: expected {file_problem(candidate)}")
    raise ParameterError(
        f"parameter {name}={path!r}: no such file; tried {', '.join(map(str, tried))}"
    )


def check_scorecard_parameters(namespace: Mapping[str, Any]) -> ScorecardParameters:
    """Check the scorecard notebook's parameters.

    Parameters
    ----------
    namespace : mapping
        The notebook's namespace, ``globals()``, or a mapping of its parameters.

    Returns
    -------
    ScorecardParameters

    Raises
    ------
    ParameterError
        For a parameter of the wrong type or value, or one the notebook does not declare
        (with the closest declared name).
    """
    p = _declared(namespace, _SCORECARD_TYPES)
    language = p.get("language", "en")
    _check_language(language)
    run_name = p.get("run_name", "")
    _check_run_name(run_name)
    results_dir = p.get("results_dir", "")
    if not results_dir:
        raise ParameterError(
            f"parameter results_dir='': expected {_SCORECARD_TYPES['results_dir'][1]}"
        )
    return ScorecardParameters(
        results_dir=results_dir,
        language=language,
        output_dir=p.get("output_dir", ""),
        run_name=run_name,
        runs=tuple(str(r) for r in p.get("runs", ())),
        headline=tuple(str(h) for h in p.get("headline", ())),
        title=p.get("title", ""),
    )


def check_parameters(namespace: Mapping[str, Any]) -> RunContext:
    """Check a target notebook's parameters and load the data they name.

    Parameters
    ----------
    namespace : mapping
        The notebook's namespace, ``globals()``, or a mapping of its parameters (see
        ``notebooks/project_target.ipynb``). Names starting with ``_``, and names holding
        anything but a plain value (modules, functions, frames), are ignored; any other
        name the notebook does not declare is refused.

    Returns
    -------
    RunContext

    Raises
    ------
    ParameterError
        Naming the parameter, the value given and what was expected.
    DataError
        When a data or targets file is invalid.
    """
    from .loading import canonical_region, load_observations, load_targets, on_basis, plan_name

    p = _declared(namespace, _TYPES)
    model = p.get("model", "auto")
    if model != "auto" and model not in MODELS:
        raise ParameterError(f"parameter model={model!r}: expected {_TYPES['model'][1]}")
    levels = tuple(p.get("levels", (0.5, 0.9)))
    if not levels or any(
        not isinstance(x, int | float) or isinstance(x, bool) or not 0 < x < 1 for x in levels
    ):
        raise ParameterError(f"parameter levels={list(levels)!r}: expected {_TYPES['levels'][1]}")
    language = p.get("language", "en")
    _check_language(language)
    run_name = p.get("run_name", "")
    _check_run_name(run_name)
    as_of = _year("as_of", p.get("as_of", 0))
    base_year = _year("base_year", p.get("base_year", 0))
    vintage_basis = p.get("vintage_basis", "latest")
    if vintage_basis not in VINTAGE_BASES:
        raise ParameterError(
            f"parameter vintage_basis={vintage_basis!r}: expected {_TYPES['vintage_basis'][1]}"
        )

    targets_file = _resolve("targets_path", p.get("targets_path", ""))
    data_path = p.get("data_path", "")
    paths = (
        [_resolve("data_path", str(d)) for d in data_path]
        if isinstance(data_path, list)
        else _resolve("data_path", data_path)
    )

    def load() -> tuple[pd.DataFrame, pd.DataFrame]:
        targets = load_targets(targets_file)
        return targets, load_observations(paths, targets=targets)

    if memo.active():  # a batch: its notebooks read the same files, checked once
        files = [targets_file, *(paths if isinstance(paths, list) else [paths])]
        shipped = [DATA_DIR / name for name in ("targets.csv", "observations.csv", "regions.csv")]
        name = "inputs-" + memo.file_key(*shipped, *(f or "<shipped>" for f in files))
        targets, observations = memo.cached(name, load)
    else:
        targets, observations = load()
    indicator = p.get("indicator", "")
    known = list(dict.fromkeys(targets.loc[targets["target"].notna(), "indicator"]))
    if indicator not in known:
        close = difflib.get_close_matches(indicator, known, n=3)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise ParameterError(
            f"parameter indicator={indicator!r}: expected an indicator with a target{hint}; "
            f"known: {', '.join(known)}"
        )
    region = canonical_region(p.get("region", ""), targets)  # 济南 -> Jinan
    if not region:
        from .attainment import default_region

        region = default_region(observations, targets, indicator)
    regions = observations.loc[observations["indicator"] == indicator, "region"].unique()
    named = targets.loc[targets["indicator"] == indicator, "region"]
    # a region with a target of its own gets a report without data too: "no data", and why
    if region not in set(regions) and region not in set(named):
        raise ParameterError(
            f"parameter region={region!r}: no observations of {indicator!r} there; "
            f"observed regions: {', '.join(map(str, regions)) or '(none)'}"
        )
    return RunContext(
        indicator=indicator,
        region=region,
        as_of=as_of,
        model=model,
        levels=tuple(float(x) for x in levels),
        base_year=base_year,
        language=language,
        output_dir=p.get("output_dir", ""),
        run_name=run_name or f"{indicator}_{region}",
        seed=p.get("seed", 0),
        targets=targets,
        plan=p.get("title", "") or plan_name(targets, language),
        # the figures the run reads: as published by as_of on that basis (each vintage of
        # brandstats.assess_vintages goes back further, to what its year knew)
        observations=on_basis(observations, as_of, vintage_basis),
        vintage_basis=vintage_basis,
        shared_dir=p.get("shared_dir", ""),
    )
