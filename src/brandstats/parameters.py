"""Notebook parameters: check them before anything runs.

papermill injects parameters as literals but neither types nor validates them, so a notebook's
first cell after ``parameters`` calls :func:`check_parameters`: a wrong type, an unknown
indicator or an impossible year stops the notebook there with one clear message.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .config import MODELS, YEAR_RANGE, YEARS_TEXT
from .errors import BrandstatsError

__all__ = ["ParameterError", "RunContext", "check_parameters"]

# name -> (accepted types, what it must be)
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "indicator": ((str,), "an indicator id such as 'product_brand_value'"),
    "region": ((str,), "a region name, or '' for the target's own region"),
    "as_of": ((int,), "a year, or 0 for all data"),
    "model": ((str,), "one of auto, drift, linear, loglinear, holt"),
    "levels": ((list, tuple), "a list of levels between 0 and 1, e.g. [0.5, 0.9]"),
    "base_year": ((int,), "a year, or 0 for the first observed year"),
    "data_path": ((str,), "a file path, or '' for the shipped data"),
    "targets_path": ((str,), "a file path, or '' for the shipped targets"),
    "language": ((str,), "'en' or 'zh'"),
    "output_dir": ((str,), "a folder, or '' to write no result file"),
    "run_name": ((str,), "a file stem (letters, digits, - _ .), or ''"),
    "seed": ((int,), "a whole number"),
}


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

    def assess_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`brandstats.assess`."""
        return {
            "as_of": self.as_of,
            "model": self.model,
            "levels": self.levels,
            "base_year": self.base_year,
            "seed": self.seed,
        }


def _year(name: str, value: int) -> int | None:
    if value == 0:
        return None
    if not YEAR_RANGE[0] <= value <= YEAR_RANGE[1]:
        raise ParameterError(f"parameter {name}={value!r}: expected {YEARS_TEXT}")
    return value


def check_parameters(params: Mapping[str, Any]) -> RunContext:
    """Check a target notebook's parameters and load the data they name.

    Parameters
    ----------
    params : mapping
        The notebook's parameters (see ``notebooks/project_target.ipynb``).

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
    from .loading import load_observations, load_targets

    for name, value in params.items():
        if name not in _TYPES:
            close = difflib.get_close_matches(name, _TYPES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"unknown parameter {name!r}{hint}")
        types, expected = _TYPES[name]
        if not isinstance(value, types) or isinstance(value, bool):
            raise ParameterError(
                f"parameter {name}={value!r} ({type(value).__name__}): expected {expected}"
            )
    p = dict(params)
    model = p.get("model", "auto")
    if model != "auto" and model not in MODELS:
        raise ParameterError(f"parameter model={model!r}: expected {_TYPES['model'][1]}")
    levels = tuple(p.get("levels", (0.5, 0.9)))
    if not levels or any(
        not isinstance(x, int | float) or isinstance(x, bool) or not 0 < x < 1 for x in levels
    ):
        raise ParameterError(f"parameter levels={list(levels)!r}: expected {_TYPES['levels'][1]}")
    language = p.get("language", "en")
    if language not in ("en", "zh"):
        raise ParameterError(f"parameter language={language!r}: expected 'en' or 'zh'")
    run_name = p.get("run_name", "")
    if run_name and not re.fullmatch(r"[\w.-]+", run_name):
        raise ParameterError(f"parameter run_name={run_name!r}: expected {_TYPES['run_name'][1]}")
    as_of = _year("as_of", p.get("as_of", 0))
    base_year = _year("base_year", p.get("base_year", 0))

    targets = load_targets(p.get("targets_path") or None)
    observations = load_observations(p.get("data_path") or None, targets=targets)
    indicator = p.get("indicator", "")
    known = targets.loc[targets["target"].notna(), "indicator"].tolist()
    if indicator not in known:
        close = difflib.get_close_matches(indicator, known, n=3)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise ParameterError(
            f"parameter indicator={indicator!r}: expected an indicator with a target{hint}; "
            f"known: {', '.join(known)}"
        )
    region = p.get("region", "")
    if not region:
        from .attainment import default_region

        region = default_region(observations, targets, indicator)
    regions = observations.loc[observations["indicator"] == indicator, "region"].unique()
    if region not in set(regions):
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
        observations=observations,
    )
