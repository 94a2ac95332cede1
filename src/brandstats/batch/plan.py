"""``brandstats run``'s jobs: a notebook run per target and parameter set, then the scorecard.

:func:`plan_jobs` -> :func:`~brandstats.batch.run_batch` (in :func:`run_report`) -> the
``scorecard`` notebook over the results. A notebook that declares an ``indicator`` parameter
runs once per target of the catalogue with data (:func:`plan_runs`) and parameter set; any
other notebook runs once per parameter set.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import FILE_STEM_BYTES, NOTEBOOKS_DIR, is_name_character
from ..errors import BrandstatsError
from .jobs import Job, check_declared, declared_parameters

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RunOutcome", "plan_jobs", "plan_runs", "run_report"]

TARGET_NOTEBOOK = "project_target.ipynb"
SCORECARD_NOTEBOOK = "scorecard.ipynb"


def _slug(text: str) -> str:
    """``text`` as a run's name: its letters and digits of any script kept (``创新型企业数量_
    历下区``), each run of other characters (spaces, ``/``, ``#``, ``%``: what a file name or a
    link cannot hold) made one ``-``, at most :data:`~brandstats.config.FILE_STEM_BYTES` in
    UTF-8. Whenever that changes ``text``, a short hash of it follows, so that two names never
    meet (``a/b`` and ``a b`` are ``a-b-<hash>`` with different hashes); the same text always
    gives the same name."""
    slug = "".join(c if is_name_character(c) or c in ".-" else " " for c in text)
    slug = "-".join(slug.split()).strip("-.")
    if slug == text and len(text.encode()) <= FILE_STEM_BYTES:
        return text
    tail = "-" + hashlib.sha1(text.encode()).hexdigest()[:6]
    room = FILE_STEM_BYTES - len(tail)
    slug = slug.encode()[:room].decode(errors="ignore").rstrip("-.")
    return (slug + tail).lstrip("-")


def plan_jobs(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    runs: Sequence[Mapping[str, Any]] | None = None,
    notebook: str | os.PathLike[str] | None = None,
    indicators: Sequence[str] | None = None,
    shared: Mapping[str, Any] | None = None,
    given: Sequence[str] = (),
) -> list[Job]:
    """The jobs of ``brandstats run``: per parameter set, and per target if the notebook asks.

    Parameters
    ----------
    observations, targets : pandas.DataFrame
        The loaded data.
    runs : sequence of mapping, optional
        Parameter sets, as :func:`~brandstats.batch.load_batch_config` returns them; default
        one run with no parameters of its own.
    notebook : path-like, optional
        The notebook; default the runs' ``notebook``, else ``notebooks/project_target.ipynb``.
    indicators : sequence of str, optional
        Only these indicators (for a notebook that declares ``indicator``).
    shared : mapping, optional
        Parameters for every run (from the command line); those the notebook does not declare
        are left out, unless named in ``given``.
    given : sequence of str
        Names in ``shared`` that the user gave explicitly: the notebook must declare them.

    Raises
    ------
    BrandstatsError
        If a parameter is not one the notebook declares (naming the closest one), or
        ``indicators`` is given for a notebook without an ``indicator`` parameter.
    """
    runs = list(runs or [{"name": "run", "parameters": {}, "where": "the command line"}])
    nb = Path(notebook or runs[0].get("notebook") or NOTEBOOKS_DIR / TARGET_NOTEBOOK)
    declared = declared_parameters(nb)
    for name in given:
        check_declared([name], nb, f"--{name.replace('_', '-')}")
    for run in runs:
        check_declared(run["parameters"], nb, run.get("where", run["name"]))
    shared = {k: v for k, v in (shared or {}).items() if k in declared}
    if "indicator" in declared:
        variations = [{"name": run["name"] if len(runs) > 1 else "",
                       "parameters": run["parameters"]} for run in runs]  # fmt: skip
        return plan_runs(observations, targets, indicators=indicators, parameters=shared,
                         variations=variations, notebook=nb)  # fmt: skip
    if indicators:
        raise BrandstatsError(f"--indicator: {nb} has no 'indicator' parameter")
    return [Job(run["name"], nb, {**shared, **run["parameters"]}) for run in runs]


def plan_runs(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    indicators: Sequence[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    variations: Sequence[Mapping[str, Any]] = ({"name": "", "parameters": {}},),
    notebook: str | os.PathLike[str] | None = None,
) -> list[Job]:
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

    Notes
    -----
    A notebook that declares a ``title`` parameter gets the plan's name in its run's language
    (:func:`brandstats.loading.plan_name`) unless the parameters give one: the HTML report
    prints it atop each page.

    Each job's ``weight`` is the number of observations up to its ``as_of`` that its report
    works through (a vintage per year), so that the batch starts the heaviest first: for the
    first region of an indicator in a parameter set, every region's (the pooling group it is
    assessed with); for the others, their own, as they read the group's assessments that the
    first one keeps (:mod:`brandstats.memo`). Runs of different groups thus start together.
    """
    from .. import format as fmt  # imports pandas: not when brandstats.batch is imported
    from ..loading import assessable_pairs, plan_name, target_order, unobserved_targets

    nb = Path(notebook) if notebook else NOTEBOOKS_DIR / TARGET_NOTEBOOK
    pairs = assessable_pairs(observations, targets, indicators=indicators)
    pairs = target_order(targets, [*pairs, *(  # every target, those without data reading "no data"
        (i, r) for i, r, _ in unobserved_targets(observations, targets)
        if not indicators or i in indicators
    )])  # fmt: skip
    language = fmt.language_code((parameters or {}).get("language", "en"))
    names = _target_names(targets, language)
    titled = "title" in declared_parameters(nb)
    years_of = observations.groupby("indicator")["year"].agg(list).to_dict()
    own_years = observations.groupby(["indicator", "region"])["year"].agg(list).to_dict()
    jobs, seen = [], set()
    for variation in variations:
        grouped: set[str] = set()  # indicators with a run in this parameter set
        params = dict(variation.get("parameters", {}))
        suffix = variation.get("name", "")
        chosen = pairs
        if "indicator" in params:  # a single target; its region by default from the data
            ind, region = params["indicator"], params.get("region", "")
            chosen = [(ind, region)] if region else [p for p in pairs if p[0] == ind]
            chosen = chosen or [(ind, "")]  # the notebook will say what is wrong
        for indicator, region in chosen:
            name = _slug("_".join(p for p in (indicator, region, suffix) if p))
            if name in seen:
                raise BrandstatsError(f"two runs would both be named {name!r}")
            seen.add(name)
            merged = {**(parameters or {}), **params, "indicator": indicator, "region": region}
            if titled and not merged.get("title"):
                merged["title"] = plan_name(targets, fmt.language_code(merged.get("language")))
            place = fmt.region(region, language) if region else ""
            title = ", ".join(p for p in (names.get(indicator, indicator), place, suffix) if p)
            years = own_years.get((indicator, region), []) if indicator in grouped else None
            grouped.add(indicator)
            weight = _weight(years_of.get(indicator, []) if years is None else years,
                             merged.get("as_of"))  # fmt: skip
            jobs.append(Job(name, nb, merged, title=title, weight=weight))
    if not jobs:
        raise BrandstatsError("nothing to run: no indicator has both a target and observations")
    return jobs


def _weight(years: Sequence[int], as_of: object) -> float:
    """A job's weight: its indicator's observations up to ``as_of`` (all with none or 0)."""
    if not isinstance(as_of, int) or isinstance(as_of, bool) or as_of == 0:
        return float(len(years))
    return float(sum(int(y) <= as_of for y in years))


def _target_names(targets: pd.DataFrame, language: str) -> dict[str, str]:
    """Indicator id -> its name in ``language`` ("en" or "zh"; for report titles)."""
    column = f"name_{language}"
    if column not in targets or "indicator" not in targets:
        return {}
    return dict(zip(targets["indicator"], targets[column].fillna(targets["indicator"]),
                    strict=True))  # fmt: skip


class RunOutcome(dict):
    """What :func:`run_report` did: ``report`` (the targets' batch), ``scorecard`` (its
    batch report, or None), ``scorecard_csv`` (path or None)."""


def run_report(
    jobs: Sequence[Job],
    output_dir: str | os.PathLike[str],
    *,
    language: str = "en",
    workers: int | None = None,
    resume: bool = False,
    scheduler: str | None = None,
    timeout: float | None = None,
    progress: bool = True,
    title: str = "",
) -> RunOutcome:
    """Run the notebooks, then the scorecard notebook over their results (if any).

    ``title``, the plan's name, heads the scorecard (by default the name the results give).

    Outputs (all in ``output_dir``, written atomically): per run ``<name>.ipynb``,
    ``<name>.html`` and its JSON result; then, when some results are scorecard rows,
    ``scorecard.ipynb``, ``scorecard.html``, ``scorecard.csv``; and ``batch.json``. The
    scorecard is rebuilt on every call (also with ``resume``) from whatever results exist.
    The folder stays locked against other batches throughout.
    """
    from .. import format as fmt
    from . import outputs
    from .local import run_batch
    from .report import BatchInterrupted

    out = Path(output_dir).resolve()
    outputs.prepare_output_dir(out)
    with outputs.locked(out):
        report = run_batch(
            jobs, output_dir=out, workers=workers, resume=resume, scheduler=scheduler,
            timeout=timeout, progress=progress,
        )  # fmt: skip
        outcome = RunOutcome(report=report, scorecard=None, scorecard_csv=None)
        if not (report.ok or report.skipped) or not _has_scorecard_rows(out):
            return outcome
        spoken = {str(j.parameters.get("language", language)) for j in jobs}
        language = spoken.pop() if len(spoken) == 1 else language  # a config's, e.g. zh
        scorecard = Job(
            "scorecard",
            NOTEBOOKS_DIR / SCORECARD_NOTEBOOK,
            {"results_dir": str(out), "language": language, "runs": [j.name for j in jobs]}
            | ({"title": title} if title else {}),
            title=fmt.word("scorecard_title", fmt.language_code(language)),
        )
        try:
            outcome["scorecard"] = run_batch(
                [scorecard], output_dir=out, workers=1, timeout=timeout, progress=False,
                report_name="batch-scorecard.json",
            )  # fmt: skip
        except BatchInterrupted:  # the targets' batch is what the user needs to hear about
            raise BatchInterrupted(report) from None
    csv = out / "scorecard.csv"
    outcome["scorecard_csv"] = csv if csv.exists() else None
    return outcome


def _has_scorecard_rows(out: Path) -> bool:
    """Whether some JSON result in ``out`` is a scorecard row (names an ``indicator``)."""
    import json

    for path in out.glob("*.json"):
        try:
            if "indicator" in json.loads(path.read_bytes()):
                return True
        except (OSError, ValueError, TypeError):
            continue
    return False
