"""The ``brandstats`` command: thin wrappers that parse arguments, call the package, print."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .config import MODEL_CHOICES, VINTAGE_BASES
from .errors import BrandstatsError, DataError
from .format import LANGUAGES, count, spreadsheet_cell

if TYPE_CHECKING:  # pandas is imported where it is used: `brandstats run` starts its runner first
    import pandas as pd

__all__ = ["main"]


def _print_frame(frame: pd.DataFrame, fmt: str) -> None:
    import pandas as pd

    if fmt == "csv":
        # text a spreadsheet would run as a formula is written with a leading '
        cells = frame.map(spreadsheet_cell)
        cells.to_csv(sys.stdout, index=False, lineterminator="\n")
    elif fmt == "json":
        # every digit (pandas' to_json keeps 10): a P(met) here equals the notebook's JSON
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        print(json.dumps(records, ensure_ascii=False, indent=2, default=_plain))
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(frame.to_string(index=False))


def _plain(value: object) -> object:
    """A numpy scalar as its Python value (for json.dumps); anything else as text."""
    return value.item() if hasattr(value, "item") else str(value)


def _shown(row: object) -> str:
    """A target as the plan states it, e.g. '> 6,000 亿元' or '<= 10 rank'."""
    import pandas as pd

    from .units import display_unit

    if pd.isna(row.target):
        return "(context, no target)"
    divisor, label = display_unit(row.unit, "zh" if row.unit == "yuan" else "en")
    return f"{row.comparison} {row.target / divisor:,.10g} {label}"


def _cmd_targets(args: argparse.Namespace) -> int:
    from .loading import load_targets

    targets = load_targets(args.targets)
    if args.format == "table":
        targets = targets.assign(target=[_shown(t) for t in targets.itertuples()])
        targets = targets[["indicator", "group", "region", "target", "target_year", "name_en"]]
    _print_frame(targets, args.format)
    return 0


def _is_targets_file(path: Path, sheet: str | None) -> bool:
    """A file with a ``target`` or ``comparison`` column is a catalogue, else observations."""
    from .loading import read_table, table_kind

    return table_kind(read_table(path, sheet=sheet).columns) == "targets"


def _tables(paths: Sequence[str], sheet: str | None) -> dict[str, str]:
    """What to check: {path: "targets" or "data"}; a workbook given without a sheet that holds
    several tables is its targets and observations sheets, found by their columns
    (``book.xlsx#目标``, ...)."""
    from .loading import workbook_sheets

    kinds = {}
    for path in paths:
        found = workbook_sheets(path) if sheet is None else {}
        if sum(map(len, found.values())) > 1:
            kinds |= {f"{path}#{name}": "targets" for name in found["targets"]}
            kinds |= {f"{path}#{name}": "data" for name in found["observations"]}
            continue
        try:
            kinds[path] = "targets" if _is_targets_file(Path(path), sheet) else "data"
        except BrandstatsError:
            kinds[path] = "data"  # its own check says what is wrong
    return kinds


def _targets_source(targets: str | None, data: Sequence[str] | None) -> str | None:
    """The targets to use: ``--targets``, else the targets sheet of a ``--data`` workbook that
    holds one beside its observations (``book.xlsx#目标``), else None (the shipped ones)."""
    from .loading import workbook_sheets

    if targets:
        return targets
    for path in data or ():
        book = path.rpartition("#")[0] if "#" in path and not Path(path).exists() else path
        found = workbook_sheets(book)["targets"]  # book.xlsx#观测数据: book.xlsx's
        if len(found) == 1:
            return f"{book}#{found[0]}"
    return None


DATA_HELP = (
    "observations file, or one workbook holding both a targets and an observations sheet "
    "(default: shipped); repeat for revised figures: a later file's figure replaces an earlier "
    "one's for the same indicator, region and year"
)


def _print_revisions(frame: pd.DataFrame) -> None:
    """Each figure a later file revised: old -> new, which file."""
    for r in frame.attrs.get("revisions", []):
        print(f"     revised {r['indicator']} {r['region']} {r['year']}: {r['old']:g} "
              f"({r['old_file']}) -> {r['new']:g} ({r['new_file']})")  # fmt: skip


def _cmd_validate(args: argparse.Namespace) -> int:
    from .loading import load_observations, load_targets

    failed = 0
    kinds = _tables(args.paths, args.sheet)
    # a targets file (or sheet) among them is the catalogue, unless --targets
    catalogue = args.targets or next((p for p, k in kinds.items() if k == "targets"), None)
    try:
        targets = load_targets(catalogue, sheet=None if args.targets else args.sheet)
    except DataError as exc:
        print(f"FAIL targets {catalogue or '(shipped)'}\n  {exc}", file=sys.stderr)
        return 1
    for path in kinds:
        try:
            if kinds[path] == "targets":
                frame = load_targets(path, sheet=args.sheet)
                with_target = int(frame["target"].notna().sum())
                indicators = count(frame["indicator"].nunique(), "indicator")
                print(f"ok   {path}: {indicators} in {count(len(frame), 'row')},"
                      f" {with_target} with a target")  # fmt: skip
            else:
                frame = load_observations(path, targets=targets, sheet=args.sheet)
                illustrative = int((frame["qualifier"] == "illustrative").sum())
                print(
                    f"ok   {path}: {count(len(frame), 'observation')} of "
                    f"{count(frame['indicator'].nunique(), 'indicator')}, "
                    f"{frame['year'].min()}-{frame['year'].max()}"
                    + (f", {illustrative} ILLUSTRATIVE" if illustrative else "")
                )
                if frame.attrs.get("skipped_rows"):
                    rows = ", ".join(map(str, frame.attrs["skipped_rows"]))
                    print(f"     rows without a value, left out: {rows}")
                for written, region in frame.attrs.get("renamed_regions", {}).items():
                    print(f"     region {written!r} read as {region!r}")
                _print_untargeted(frame, targets)
                _print_gaps(frame)
        except BrandstatsError as exc:
            failed += 1
            print(f"FAIL {path}\n  {exc}", file=sys.stderr)
    data = [p for p, k in kinds.items() if k == "data"]
    if len(data) > 1 and not failed:  # read in order: later files revise earlier ones
        merged = load_observations(data, targets=targets, sheet=args.sheet)
        revisions = merged.attrs["revisions"]
        print(f"ok   {len(data)} data files read in order: {count(len(revisions), 'revision')}")
        _print_revisions(merged)
    if data and not failed:
        observations = load_observations(data, targets=targets, sheet=args.sheet)
        failed += _print_tree(observations, targets)
    return 1 if failed else 0


def _print_tree(observations: pd.DataFrame, targets: pd.DataFrame) -> int:
    """Targets without observations (a failure: they would read "no data"), and what the
    region tree's sums say (notes); returns the number of failures."""
    from . import format as fmt
    from .hierarchy import tree_findings
    from .loading import unobserved_targets

    missing = unobserved_targets(observations, targets)
    for indicator, region, close in missing:
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        print(f"FAIL {indicator}: the target of {region!r} has no observations{hint}; "
              "it would read 'no data'", file=sys.stderr)  # fmt: skip
    for kind, finding in tree_findings(observations, targets, lambda v, u: fmt.quantity(v, u)):
        print(f"{'note' if kind == 'note' else 'WARN'} {finding}")
    return len(missing)


ASSESS_COLUMNS = [
    "indicator", "region", "as_of", "last_year", "last_value", "unit", "target", "comparison",
    "target_year",
    "model", "probability", "probability_bound", "verdict", "progress_ratio", "progress_category",
    "progress_reason", "required_growth", "still_required_growth", "forecast_mean",
    "forecast_median", "forecast_lower", "forecast_upper", "level", "actual", "met",
    "illustrative", "reason",
]  # fmt: skip
"""The columns of ``brandstats assess --format csv|json`` (and ``progress_note``: why there
is no progress measure from ``--base-year``). Values (``last_value``, ``target``, forecasts)
are in the canonical ``unit`` (yuan, count, percent, rank); the table format shows them in
display units (亿元)."""


def _print_untargeted(
    observations: pd.DataFrame,
    targets: pd.DataFrame,
    indicators: Sequence[str] | None = None,
    file: TextIO | None = None,
) -> None:
    """Say which observed regions no target names (a misspelt region is assessed nowhere)."""
    from .loading import untargeted_regions

    for indicator, regions in untargeted_regions(observations, targets).items():
        if indicators and indicator not in indicators:
            continue
        named = ", ".join(map(repr, regions))
        counted = count(len(regions), "observed region")
        print(f"     {indicator}: {counted} that no target names, not assessed: {named}",
              file=file or sys.stdout)  # fmt: skip


def _print_gaps(observations: pd.DataFrame) -> None:
    """Warn of the years missing inside a series: the models fit across them."""
    from .loading import series_gaps

    for (indicator, region), years in series_gaps(observations).items():
        missing = ", ".join(map(str, years))
        print(f"     warning: {indicator} ({region}) has no figure for {missing}: the trend "
              "models fit across the gap and holt needs consecutive years")  # fmt: skip


def _check_indicators(
    indicators: Sequence[str], targets: pd.DataFrame, source: str | None = None
) -> None:
    """Refuse an indicator without a target, suggesting the closest ids (each once) of the
    targets in use (``source``: their file, None for the shipped ones)."""
    import difflib

    with_target = list(dict.fromkeys(targets.loc[targets["target"].notna(), "indicator"]))
    for indicator in indicators:
        if indicator in with_target:
            continue
        close = difflib.get_close_matches(indicator, with_target, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        what = (
            "is a context indicator without a target"
            if indicator in set(targets["indicator"])
            else f"is not in the targets file {Path(source).name}"
            if source
            else "is not in the shipped targets"
        )
        lists = (
            f"`brandstats targets --targets {source}` lists them"
            if source
            else "`brandstats targets` lists them, or give your own with --targets FILE"
        )
        raise BrandstatsError(f"indicator {indicator!r} {what}{hint}; {lists}")


def _check_region(name: str, observations: pd.DataFrame, targets: pd.DataFrame) -> str:
    """The region as the targets spell it (济南 -> Jinan); an unobserved one refused by name."""
    import difflib

    from .loading import canonical_region

    region = canonical_region(name, targets)
    observed = sorted(set(observations["region"]))
    if region not in observed:
        close = difflib.get_close_matches(region, observed, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise BrandstatsError(
            f"region {name!r} has no observations{hint}; observed: {', '.join(observed)}"
        )
    return region


def _without_base_year(
    table: pd.DataFrame, observations: pd.DataFrame, base_year: int | None, as_of: int | None
) -> pd.Series:
    """Per row of ``table``: why there is no progress measure from ``base_year``, or ''."""
    import pandas as pd

    notes = []
    for indicator, region in zip(table["indicator"], table["region"], strict=True):
        mask = (observations["indicator"] == indicator) & (observations["region"] == region)
        years = observations.loc[mask, "year"]
        if as_of is not None:
            years = years.loc[years <= as_of]
        missing = base_year is not None and base_year not in set(years)
        observed = ", ".join(map(str, sorted(years)))
        notes.append(f"base year {base_year} is not observed (observed: {observed})" * missing)
    return pd.Series(notes, index=table.index, dtype=object)


def _with_target_and_last(
    table: pd.DataFrame, observations: pd.DataFrame, targets: pd.DataFrame
) -> pd.DataFrame:
    """Fill ``unit``, ``last_value`` (the observation of ``last_year``) and, where the engine
    left them blank (no data up to ``--as-of``), the target as the catalogue states it;
    years as integers (2021, not 2021.0)."""
    import pandas as pd

    table = table.copy()
    catalogue = targets.drop_duplicates(["indicator", "region"]).set_index(["indicator", "region"])
    observed = observations.set_index(["indicator", "region", "year"])["value"]
    keys = list(zip(table["indicator"], table["region"], strict=True))
    for column in ("unit", "target", "comparison", "target_year"):
        known = [catalogue[column].get(k) if k in catalogue.index else None for k in keys]
        table[column] = table[column].where(table[column].notna(), pd.Series(known, table.index))
    table["last_value"] = [
        observed.get((i, r, int(y))) if pd.notna(y) else None
        for (i, r), y in zip(keys, table["last_year"], strict=True)
    ]
    table["last_value"] = pd.to_numeric(table["last_value"])
    for column in ("as_of", "last_year", "target_year"):
        table[column] = pd.to_numeric(table[column]).astype("Int64")
    return table


def _text(value: object) -> str:
    import pandas as pd

    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


REASON_WIDTH = 60
"""The longest reason the table shows (the csv and json keep the full text)."""


def _short_reason(text: str, width: int = REASON_WIDTH) -> str:
    """A reason short enough for one table row: its lead clause (before ': ') when the whole
    is too long, cut at a word with '…' when that is still too long."""
    if len(text) <= width:
        return text
    lead = text.split(": ", 1)[0]
    if len(lead) <= width:
        return lead + " …"
    return text[: width - 1].rsplit(" ", 1)[0] + " …"


def _table_view(table: pd.DataFrame) -> pd.DataFrame:
    """The assessment as text cells: no NaN or None, a reason where nothing was assessed."""
    import pandas as pd

    from . import format as fmt

    rows = list(table.itertuples())
    shown = pd.DataFrame(
        {
            "indicator": table["indicator"],
            "region": table["region"],
            "last_year": table["last_year"].map(lambda y: fmt.DASH if pd.isna(y) else str(int(y))),
            "last_value": [fmt.quantity(r.last_value, r.unit, indicator=r.indicator) for r in rows],
            "target": [
                fmt.DASH
                if pd.isna(r.target)
                else fmt.target(
                    r.comparison, r.target, r.unit, r.target_year, indicator=r.indicator
                )
                for r in rows
            ],
            "probability": [
                fmt.probability(r.probability, bound=r.probability_bound) for r in rows
            ],
            "verdict": table["verdict"].map(fmt.verdict),
            "progress_category": [
                fmt.category(r.progress_category, reason=getattr(r, "progress_reason", None))
                for r in rows
            ],
            "illustrative": table["illustrative"].map(lambda x: "ILLUSTRATIVE" * (x is True)),
        }
    )
    unassessed = table["probability"].isna() & table["reason"].notna()
    prefix = table["indicator"] + " (" + table["region"] + "): "
    reasons = [
        str(r).removeprefix(p) if u else ""
        for r, p, u in zip(table["reason"], prefix, unassessed, strict=True)
    ]
    progress = table["progress_note"].map(_text) if "progress_note" in table else ""
    shown["reason"] = [
        "; ".join(_short_reason(x) for x in pair if x)
        for pair in zip(reasons, progress, strict=False)
    ]
    if not shown["reason"].any():
        shown = shown.drop(columns="reason")
    return shown


def _cmd_assess(args: argparse.Namespace) -> int:
    from .attainment import assess_all
    from .format import vintage_basis as fmt_basis
    from .loading import load_observations, load_targets, on_basis

    source = _targets_source(args.targets, args.data)
    targets = load_targets(source)
    observations = load_observations(args.data, targets=targets, sheet=args.sheet)
    if args.indicator:
        _check_indicators(args.indicator, targets, source)
    region = None if args.region is None else _check_region(args.region, observations, targets)
    levels = args.level or [0.5, 0.9]
    observations = on_basis(observations, args.as_of, args.vintage_basis)
    table = assess_all(
        observations, targets, indicators=args.indicator, region=region,
        as_of=args.as_of, model=args.model, levels=levels, base_year=args.base_year,
        vintage_basis=args.vintage_basis,
    )  # fmt: skip
    if table.empty:
        print("nothing to assess: no indicator has both a target and observations")
        _print_untargeted(observations, targets, args.indicator)
        return 1
    table = _with_target_and_last(table.reindex(columns=ASSESS_COLUMNS), observations, targets)
    table["progress_note"] = _without_base_year(table, observations, args.base_year, args.as_of)
    if args.format == "table":
        view = _table_view(table)
        _print_frame(view, "table")
        _print_untargeted(observations, targets, args.indicator)
        if any(r.endswith("…") for r in view.get("reason", [])):
            print("\n… reasons are shortened here; --format csv or json has them in full.")
        if (table["illustrative"] == True).any():  # noqa: E712 (object column)
            print("\nILLUSTRATIVE rows use made-up figures (qualifier 'illustrative').")
        print("\n" + fmt_basis(args.vintage_basis, args.as_of))
    else:
        _print_untargeted(observations, targets, args.indicator, file=sys.stderr)
        _print_frame(table, args.format)
    return 0


def _data_path(paths: list[str] | None) -> str | list[str] | None:
    """The notebooks' data_path: one absolute path, or a list of them (revised figures)."""
    if not paths:
        return None
    resolved = [str(Path(p).resolve()) for p in paths]
    return resolved[0] if len(resolved) == 1 else resolved


def _cmd_run(args: argparse.Namespace) -> int:
    import atexit
    import gc
    import time

    # At exit Python would collect every object this process made: a tenth of a second after
    # a batch, for memory the system frees anyway. Frozen, they are left alone.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)

    from .batch import BatchInterrupted, load_batch_config, plan_jobs, run_report
    from .batch.runner import skip_unused_imports

    skip_unused_imports()  # this process reads notebooks (nbformat), nothing more
    runs = load_batch_config(args.config) if args.config else None
    spoken = {str(r["parameters"]["language"]) for r in runs or () if "language" in r["parameters"]}
    # the scorecard's language (and its plan name's): --language, else the config's one language
    language = args.language or (
        next(iter(spoken)) if len(spoken) == 1 and spoken <= set(LANGUAGES) else "en"
    )
    if not args.scheduler:  # its kernel templates import while the inputs are checked here
        from .batch.local import start_runner
        from .batch.plan import SCORECARD_NOTEBOOK, TARGET_NOTEBOOK
        from .config import NOTEBOOKS_DIR

        notebook = (runs or [{}])[0].get("notebook") or NOTEBOOKS_DIR / TARGET_NOTEBOOK
        languages = sorted({language, *spoken} & set(LANGUAGES)) or ["en"]
        start_runner([notebook, NOTEBOOKS_DIR / SCORECARD_NOTEBOOK], languages)
    from .loading import load_observations, load_targets, plan_name

    # Validate the inputs here, once, before any kernel starts.
    source = _targets_source(args.targets, args.data)
    targets = load_targets(source)
    observations = load_observations(args.data, targets=targets)
    if args.indicator:
        _check_indicators(args.indicator, targets, source)
    given = {
        "language": args.language,
        "data_path": _data_path(args.data),
        "targets_path": str(Path(source).resolve()) if source else None,
        "as_of": args.as_of,
        "model": args.model,
        "title": args.title,
        "vintage_basis": args.vintage_basis,
    }
    given = {k: v for k, v in given.items() if v is not None}
    if args.scheduler and isinstance(given.get("data_path"), list):
        raise BrandstatsError(
            "several --data files cannot travel to a Dask cluster yet: run without --scheduler, "
            "or merge them into one file first"
        )
    title = (  # the plan's name: --title, the config's, the targets file's
        args.title
        or next((r["parameters"]["title"] for r in runs or () if r["parameters"].get("title")), "")
        or plan_name(targets, language)
    )
    jobs = plan_jobs(
        observations, targets, runs=runs, indicators=args.indicator,
        shared={"language": "en", **given}, given=list(given),
    )  # fmt: skip
    output = Path(args.output or Path("reports") / time.strftime("%Y%m%d-%H%M%S"))
    skip = " (--resume: those already done are skipped)" if args.resume else ""
    print(f"running {count(len(jobs), 'notebook')} into {output}/{skip} ...", file=sys.stderr)
    try:
        outcome = run_report(
            jobs, output, language=language, workers=args.workers,
            resume=args.resume, scheduler=args.scheduler, timeout=args.timeout, title=title,
        )  # fmt: skip
    except BatchInterrupted as stop:
        print(stop.report.summary())
        print("interrupted: rerun with --resume to run only what did not finish", file=sys.stderr)
        return 130
    report = outcome["report"]
    print(report.summary())
    scorecard = outcome["scorecard"]
    if scorecard is not None and scorecard.failed:
        print("the scorecard notebook failed:\n" + scorecard.summary())
    if outcome["scorecard_csv"]:
        print(f"scorecard: {outcome['scorecard_csv']} and {output / 'scorecard.html'}")
    if report.failed:
        print("rerun with --resume to run only what did not finish", file=sys.stderr)
    failed = bool(report.failed) or (scorecard is not None and bool(scorecard.failed))
    return 1 if failed else 0


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse type)."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"expected a positive, finite number of seconds, got {text!r}"
        )
    return value


def _positive_int(text: str) -> int:
    """A whole number of at least 1 (argparse type), refused before anything runs."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _cmd_notebooks(args: argparse.Namespace) -> int:
    """Copy the shipped notebooks into ``args.folder``; never overwrite a file already there."""
    import shutil

    from .config import NOTEBOOKS_DIR

    folder = Path(args.folder)
    if folder.exists() and not folder.is_dir():
        raise BrandstatsError(f"{folder} is a file; name a folder to copy the notebooks into")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BrandstatsError(f"cannot make the folder {folder}: {exc.strerror}") from None
    kept = 0
    for source in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        target = folder / source.name
        try:
            with source.open("rb") as src, target.open("xb") as dst:
                shutil.copyfileobj(src, dst)
        except FileExistsError:
            kept += 1
            print(f"kept {target}: a file of that name is there (not overwritten)", file=sys.stderr)
        except OSError as exc:
            raise BrandstatsError(f"cannot write {target}: {exc.strerror}") from None
        else:
            print(target)
    if kept:
        print(f"to get fresh copies, choose another folder or move those {kept} away",
              file=sys.stderr)  # fmt: skip
    return 0


SHEET_HELP = (
    "the worksheet of an Excel data file, by name or number from 0 (or PATH.xlsx#SHEET; by "
    "default the sheet whose columns are observations)"
)
TARGETS_HELP = (
    "targets file (default: the targets sheet of a --data workbook that has one, else the "
    "shipped plan's)"
)
BASIS_HELP = (
    "what --as-of reads: latest (today's figures, revisions included; the default) or "
    "published (the figures as published by the end of that year: the 'published' column)"
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``brandstats`` command."""
    parser = argparse.ArgumentParser(
        prog="brandstats",
        description="Will a plan's targets be met, and how sure are we? Without --targets, "
        "the shipped plan (Jinan's brand strategy 2020-2022); a workbook holding a targets sheet "
        "and an observations sheet is a plan of its own.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("targets", help="list the targets catalogue")
    p.add_argument(
        "--targets", metavar="PATH", help="a targets file, or a workbook with a targets sheet "
        "(default: the shipped plan's)",
    )  # fmt: skip
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=_cmd_targets)

    p = sub.add_parser("validate", help="check data files; exit 1 listing every problem")
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="targets or observations files; a workbook's "
        "targets and observations sheets are found by their columns",
    )  # fmt: skip
    p.add_argument(
        "--targets", metavar="PATH", help="the catalogue observations are checked against "
        "(default: a targets file or sheet among the PATHs, else the shipped plan's)",
    )  # fmt: skip
    p.add_argument("--sheet", help=SHEET_HELP)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("assess", help="P(met), verdict and progress for each target")
    p.add_argument("--data", metavar="PATH", action="append", help=DATA_HELP)
    p.add_argument("--targets", metavar="PATH", help=TARGETS_HELP)
    p.add_argument("--sheet", help=SHEET_HELP)
    p.add_argument(
        "--indicator", nargs="+", action="extend", metavar="ID",
        help="only these indicators (repeatable: --indicator a --indicator b)",
    )  # fmt: skip
    p.add_argument("--region", help="only this region")
    p.add_argument("--as-of", type=int, metavar="YEAR", help="use observations up to YEAR")
    p.add_argument("--base-year", type=int, metavar="YEAR", help="base of the progress measure")
    p.add_argument("--vintage-basis", default="latest", choices=VINTAGE_BASES, help=BASIS_HELP)
    p.add_argument("--model", default="auto", choices=MODEL_CHOICES)
    p.add_argument(
        "--level", type=float, action="append", metavar="L",
        help="interval level, repeatable (default: 0.5 and 0.9)",
    )  # fmt: skip
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=_cmd_assess)

    p = sub.add_parser("run", help="run every target's notebook and the scorecard (papermill)")
    p.add_argument("--config", metavar="FILE.yaml", help="parameter sets or a grid to run")
    p.add_argument(
        "--indicator", nargs="+", action="extend", metavar="ID",
        help="only these indicators (repeatable)",
    )  # fmt: skip
    p.add_argument("--data", metavar="PATH", action="append", help=DATA_HELP)
    p.add_argument("--targets", metavar="PATH", help=TARGETS_HELP)
    p.add_argument(
        "--title", metavar="TEXT", help="the plan's name atop every page (default: the targets "
        "file's plan column, if any)",
    )  # fmt: skip
    p.add_argument("--as-of", type=int, metavar="YEAR", help="use observations up to YEAR")
    p.add_argument("--vintage-basis", choices=VINTAGE_BASES, help=BASIS_HELP)
    p.add_argument("--model", choices=MODEL_CHOICES)
    p.add_argument("--language", choices=["en", "zh"], help="en (default) or zh")
    p.add_argument("--output", metavar="DIR", help="output folder (default: reports/<time>)")
    p.add_argument(
        "--workers", type=_positive_int, metavar="N", help="notebooks at once (default: 2 per core)"
    )
    p.add_argument("--resume", action="store_true", help="run only what did not finish")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, tcp://HOST:PORT")
    p.add_argument("--timeout", type=_seconds, metavar="SECONDS", help="per-cell time limit")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("notebooks", help="copy the notebooks into a folder, to open in JupyterLab")
    p.add_argument("folder", metavar="DIR", help="where to copy them (made if missing)")
    p.set_defaults(func=_cmd_notebooks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrandstatsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
