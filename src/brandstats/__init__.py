"""brandstats: will a plan's targets be met, and how sure are we?

The public API is small; heavy modules (statsmodels, matplotlib, papermill) are imported only
when first used, so ``import brandstats`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "BrandstatsError": "errors",
    "DataError": "errors",
    "InsufficientDataError": "errors",
    "load_targets": "loading",
    "load_observations": "loading",
    "validate_targets": "loading",
    "validate_observations": "loading",
    "plan_name": "loading",
    "QUALIFIERS": "loading",
    "published_by": "loading",
    "assess": "attainment",
    "assess_all": "attainment",
    "assess_series": "attainment",
    "assess_vintages": "vintages",
    "next_year": "nextyear",
    "Assessment": "attainment",
    "check_parameters": "parameters",
    "ScorecardParameters": "parameters",
    "ParameterError": "parameters",
    "check_scorecard_parameters": "parameters",
    "describe": "format",
    "provenance": "results",
    "read_results": "results",
    "write_result": "results",
    "write_scorecard": "results",
    "format": "",
    "results": "",
    "project": "backtest",
    "plots": "",
    "display": "",
    "PlanTable": "display",
    "batch": "",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'brandstats' has no attribute {name!r}")
    module = _EXPORTS[name]
    if not module:
        return importlib.import_module(f".{name}", __name__)
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
