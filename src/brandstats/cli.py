"""The ``brandstats`` command: thin wrappers that parse arguments, call the package, print."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .errors import BrandstatsError, DataError

__all__ = ["main"]


def _print_frame(frame: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
    elif fmt == "json":
        records = json.loads(frame.to_json(orient="records", force_ascii=False))
        print(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(frame.to_string(index=False))


def _shown(row: object) -> str:
    """A target as the plan states it, e.g. '> 6,000 亿元' or '<= 10 rank'."""
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


def _is_targets_file(path: Path) -> bool:
    """A file with a ``target`` or ``comparison`` column is a catalogue, else observations."""
    from .loading import _read_grid, _table

    columns = _table(_read_grid(path, None), path.name, "indicator").columns
    return "target" in columns or "comparison" in columns


def _cmd_validate(args: argparse.Namespace) -> int:
    from .loading import load_observations, load_targets

    failed = 0
    targets = None
    try:
        targets = load_targets(args.targets)
    except DataError as exc:
        print(f"FAIL targets {args.targets or '(shipped)'}\n  {exc}", file=sys.stderr)
        return 1
    for path in map(Path, args.paths):
        try:
            if _is_targets_file(path):
                frame = load_targets(path)
                with_target = int(frame["target"].notna().sum())
                print(f"ok   {path}: {len(frame)} indicators, {with_target} with a target")
            else:
                frame = load_observations(path, targets=targets)
                illustrative = int((frame["qualifier"] == "illustrative").sum())
                print(
                    f"ok   {path}: {len(frame)} observations of {frame['indicator'].nunique()} "
                    f"indicators, {frame['year'].min()}-{frame['year'].max()}"
                    + (f", {illustrative} ILLUSTRATIVE" if illustrative else "")
                )
                if frame.attrs.get("skipped_rows"):
                    rows = ", ".join(map(str, frame.attrs["skipped_rows"]))
                    print(f"     rows without a value, left out: {rows}")
        except BrandstatsError as exc:
            failed += 1
            print(f"FAIL {path}\n  {exc}", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``brandstats`` command."""
    parser = argparse.ArgumentParser(
        prog="brandstats",
        description="Will Jinan's brand-strategy targets be met, and how sure are we?",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("targets", help="list the targets catalogue")
    p.add_argument("--targets", metavar="PATH", help="a targets file (default: the shipped one)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=_cmd_targets)

    p = sub.add_parser("validate", help="check data files; exit 1 listing every problem")
    p.add_argument("paths", nargs="+", metavar="PATH", help="targets or observations files")
    p.add_argument(
        "--targets", metavar="PATH", help="the catalogue observations are checked against"
    )
    p.set_defaults(func=_cmd_validate)
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
