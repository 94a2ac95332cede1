"""Runs: which notebook runs make up a report, and running them with the scorecard.

``brandstats run`` = :func:`plan_runs` (one ``project_target`` run per target with data, times
each parameter set of an optional YAML config) -> :func:`brandstats.batch.run_batch` ->
the ``scorecard`` notebook over the results. The generic batch knows nothing of targets.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .config import NOTEBOOKS_DIR
from .errors import BrandstatsError

__all__ = ["NOTEBOOKS_DIR", "RunOutcome", "plan_runs", "run_report"]

TARGET_NOTEBOOK = "project_target.ipynb"
SCORECARD_NOTEBOOK = "scorecard.ipynb"


def _slug(text: str) -> str:
    """A file-name-safe form of ``text``; non-ASCII names get a short hash to stay unique."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    if slug != text:
        slug = f"{slug}-{hashlib.sha1(text.encode()).hexdigest()[:6]}".strip("-")
    return slug or "x"


def plan_runs(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    indicators: Sequence[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    variations: Sequence[Mapping[str, Any]] = ({"name": "", "parameters": {}},),
    notebook: str | os.PathLike[str] | None = None,
) -> list[Any]:
    """One :class:`~brandstats.batch.Job` per (indicator, region) with data, per variation.

    Parameters
    ----------
    observations, targets : pandas.DataFrame
        The loaded data; every (indicator, region) with a target and observations gets a run.
    indicators : sequence of str, optional
        Only these indicators.
    parameters : mapping, optional
        Parameters shared by every run (e.g. ``data_path``, ``as_of``, ``language``).
    variations : sequence of mapping
        Each ``{"name": str, "parameters": dict}`` makes its own run of every target (e.g.
        several ``as_of`` vintages); a non-empty ``name`` suffixes the run names. A variation
        whose parameters name an ``indicator`` (and ``region``) runs that target only.
    notebook : path-like, optional
        The target notebook; ``notebooks/project_target.ipynb`` by default.
    """
    from .attainment import assessable_pairs
    from .batch import Job

    nb = Path(notebook) if notebook else NOTEBOOKS_DIR / TARGET_NOTEBOOK
    pairs = assessable_pairs(observations, targets, indicators=indicators)
    jobs, seen = [], set()
    for variation in variations:
        params = dict(variation.get("parameters", {}))
        suffix = variation.get("name", "")
        chosen = pairs
        if "indicator" in params:  # a single target; its region by default from the data
            ind, region = params["indicator"], params.get("region", "")
            chosen = [(ind, region)] if region else [p for p in pairs if p[0] == ind]
            chosen = chosen or [(ind, "")]  # the notebook will say what is wrong
        for indicator, region in chosen:
            name = "_".join(p for p in (indicator, _slug(region) if region else "", suffix) if p)
            if name in seen:
                raise BrandstatsError(f"two runs would both be named {name!r}")
            seen.add(name)
            merged = {**(parameters or {}), **params, "indicator": indicator, "region": region}
            jobs.append(Job(name, nb, merged))
    if not jobs:
        raise BrandstatsError("nothing to run: no indicator has both a target and observations")
    return jobs


class RunOutcome(dict):
    """What :func:`run_report` did: ``report`` (the targets' batch), ``scorecard`` (its
    batch report), ``scorecard_csv`` (path or None)."""


def run_report(
    jobs: Sequence[Any],
    output_dir: str | os.PathLike[str],
    *,
    language: str = "en",
    workers: int | None = None,
    resume: bool = False,
    scheduler: str | None = None,
    timeout: float | None = None,
    progress: bool = True,
) -> RunOutcome:
    """Run the target notebooks, then the scorecard notebook over their results.

    Outputs (all in ``output_dir``, written atomically): per run ``<name>.ipynb``,
    ``<name>.html``, ``<name>.json``; then ``scorecard.ipynb``, ``scorecard.html``,
    ``scorecard.csv`` and ``batch.json``. The scorecard is rebuilt on every call (also with
    ``resume``) from whatever results exist, so it always reflects the folder's contents.
    """
    from .batch import Job, run_batch

    out = Path(output_dir)
    report = run_batch(
        jobs, output_dir=out, workers=workers, resume=resume, scheduler=scheduler,
        timeout=timeout, progress=progress,
    )  # fmt: skip
    outcome = RunOutcome(report=report, scorecard=None, scorecard_csv=None)
    if not any(out.glob("*.json")) or not (report.ok or report.skipped):
        return outcome
    scorecard = Job(
        "scorecard",
        NOTEBOOKS_DIR / SCORECARD_NOTEBOOK,
        {"results_dir": str(out.resolve()), "language": language},
    )
    outcome["scorecard"] = run_batch(
        [scorecard], output_dir=out, workers=1, timeout=timeout, progress=False,
        report_name="batch-scorecard.json",
    )  # fmt: skip
    csv = out / "scorecard.csv"
    outcome["scorecard_csv"] = csv if csv.exists() else None
    return outcome
