"""Results on disk and on the page: each notebook's JSON sidecar, the scorecard gathered from
them, and the tables the reports show (every word and number written by
:mod:`brandstats.format`).

Tables for people come as HTML strings (no pandas index, no ``None``/``NaN``, values in
display units); the notebooks show them with :class:`IPython.display.HTML`.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from . import format as fmt
from . import tally
from .atomic import write_json_atomic, write_text_atomic
from .attainment import Assessment, jsonable
from .errors import BrandstatsError
from .format import describe
from .league import has_parent, league_table, rank_in_parent
from .notes import Note
from .workbook import write_scorecard_xlsx

__all__ = [
    "assess_run",
    "backtest_html",
    "basis_markdown",
    "data_kind",
    "describe",
    "details_html",
    "heading_markdown",
    "no_result_markdown",
    "no_result_record",
    "provenance",
    "provenance_html",
    "read_results",
    "record_html",
    "scorecard_html",
    "scorecard_markdown",
    "sources_of",
    "summary_markdown",
    "write_result",
    "write_scorecard",
]

SCORECARD_COLUMNS = [
    "group",
    "indicator",
    "region",
    "name_en",
    "name_zh",
    "comparison",
    "target",
    "target_year",
    "unit",
    "as_of",
    "last_year",
    "last_value",
    "model",
    "probability",
    "probability_bound",
    "verdict",
    "progress_category",
    "progress_ratio",
    "still_required_growth",
    "forecast_median",
    "forecast_lower",
    "forecast_upper",
    "level",
    "actual",
    "met",
    "illustrative",
    "reason",
    "run_name",
    "parent",
    "base_year",
    "progress_kind",
    "group_en",
    "group_zh",
]
"""The fields of a result record the scorecard reads (every record has them)."""

_BOUNDS = ("lower_bound", "upper_bound")
# notes that say why a result has no backtest table
_NO_BACKTEST = ("reference_outlook", "no_backtest", "no_model", "aggregate_dependent",
                "aggregate_independent")  # fmt: skip
_OUTCOMES = ("met", "not met", "already met")


def data_kind(qualifiers: Iterable[Any]) -> str:
    """What a series is made of: ``illustrative``, ``partly bounds`` or ``real``.

    Any illustrative row makes the series illustrative (the shipped data never mix the two);
    a lower or upper bound among real figures makes it ``partly bounds``.
    """
    found = {str(q) for q in qualifiers}
    if "illustrative" in found:
        return "illustrative"
    return "partly bounds" if found & set(_BOUNDS) else "real"


def basis_markdown(table: pd.DataFrame, language: str = "en") -> str:
    """Which figures the scorecard's results read (their ``vintage_basis``), in one sentence:
    the latest (revisions included), or as published by the end of the rows' vintage."""
    fmt.check_language(language)
    bases, years = set(), set()
    for basis, as_of in zip(table.get("vintage_basis", []), table.get("as_of", []), strict=True):
        published = basis == "published" and not fmt.is_missing(as_of)
        bases.add("published" if published else "latest")
        if published:
            years.add(int(as_of))
    if bases == {"published"}:
        if len(years) == 1:
            return fmt.vintage_basis("published", years.pop(), language)
        return fmt.word("basis_published_each", language)
    if len(bases) > 1:
        return fmt.word("basis_mixed", language)
    return fmt.vintage_basis("latest", None, language)


def write_result(
    result: Assessment | Mapping[str, Any],
    output_dir: str | os.PathLike[str],
    run_name: str,
    *,
    vintages: Iterable[Mapping[str, Any]] | None = None,
    next_year: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``result.to_dict()`` (plus ``run_name``) to ``output_dir/run_name.json`` atomically.

    ``result`` may also be a record such as :func:`no_result_record` makes. ``vintages``
    (:func:`brandstats.assess_vintages`) is kept under ``"vintages"``, ``next_year``
    (:func:`brandstats.next_year`) under ``"next_year"``. ``output_dir`` is created when
    missing.
    """
    record = dict(result) if isinstance(result, Mapping) else result.to_dict()
    if vintages is not None:
        record["vintages"] = jsonable(list(vintages))
    if next_year is not None:
        record["next_year"] = jsonable(dict(next_year))
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    record.pop("run_name", None)
    return write_json_atomic(folder / f"{run_name}.json", {"run_name": run_name, **record})


def assess_run(run: Any) -> tuple[Assessment | None, str | None]:
    """Assess the target of a notebook run (see :func:`brandstats.check_parameters`).

    Returns ``(result, None)``, or ``(None, reason)`` when the data cannot give an assessment
    (e.g. no observation up to the target year), so that the report says why instead of
    stopping with a traceback.
    """
    from .attainment import assess
    from .errors import InsufficientDataError

    try:
        result = assess(
            run.observations, run.targets, run.indicator, run.region, **run.assess_kwargs()
        )
    except InsufficientDataError as exc:
        return None, str(exc)
    return result, None


def _target_row(run: Any) -> dict[str, Any]:
    rows = run.targets.loc[run.targets["indicator"] == run.indicator]
    return rows.iloc[0].to_dict() if len(rows) else {"indicator": run.indicator}


def no_result_record(run: Any, reason: str) -> dict[str, Any]:
    """The JSON record of a run without an assessment: the target, verdict ``no data``, why."""
    target = _target_row(run)
    obs = run.observations
    rows = obs.loc[(obs["indicator"] == run.indicator) & (obs["region"] == run.region)]
    keys = ("indicator", "group", "group_en", "group_zh", "name_en", "name_zh", "unit",
            "comparison", "target", "target_year", "source")  # fmt: skip
    record = {k: target.get(k) for k in keys}
    record.update(
        region=run.region,
        as_of=run.as_of,
        verdict="no data",
        reason=reason,
        probability=None,
        progress_category=None,
        illustrative=bool((rows["qualifier"] == "illustrative").any()),
        history=[
            {"year": int(y), "value": float(v), "qualifier": str(q)}
            for y, v, q in zip(rows["year"], rows["value"], rows["qualifier"], strict=True)
        ],
    )
    record = {**dict.fromkeys(SCORECARD_COLUMNS), **record}
    return {k: (None if fmt.is_missing(v) else v) for k, v in record.items()}


def sources_of(run: Any) -> dict[str, Any]:
    """The sources behind a notebook run's result, for its JSON record: the target's
    (``source``) and the figures' (``data_sources``); the scorecard's workbook lists them."""
    from .workbook import sources_of as sources

    return dict(sources(run.observations, run.targets, run.indicator, run.region))


def no_result_markdown(run: Any, reason: str, language: str = "en") -> str:
    """The report's opening when there is no assessment: the target and why there is none."""
    fmt.check_language(language)
    target = _target_row(run)
    zh = language == "zh"
    name = target.get("name_zh" if zh else "name_en") or run.indicator
    colon = "：" if zh else ": "
    items = []
    if not fmt.is_missing(target.get("target")):
        goal = fmt.target(
            target["comparison"], target["target"], target["unit"], int(target["target_year"]),
            language, indicator=run.indicator,
        )  # fmt: skip
        items.append(f"**{fmt.word('target', language)}**{colon}{goal}")
    reason = re.sub(r"^\w+ \([^)]*\): ", "", reason)  # the page names indicator and region
    why = fmt.markdown_text(fmt.note(reason, language) if zh else reason)
    why = f"（{why}）" if zh else f" ({why})"
    verdict = fmt.verdict("no data", language)
    items.append(f"**{fmt.word('verdict', language)}**{colon}**{verdict}**{why}")
    obs = run.observations
    rows = obs.loc[(obs["indicator"] == run.indicator) & (obs["region"] == run.region)]
    kind = fmt.word(data_kind(rows["qualifier"]), language) if len(rows) else fmt.DASH
    items.append(f"**{fmt.word('data', language)}**{colon}{kind}")
    place = fmt.region(run.region, language)
    heading = f"# {fmt.markdown_text(name)} — {fmt.markdown_text(place)}"
    heading += _plan_line(getattr(run, "plan", ""))
    return heading + "\n\n" + "\n".join(f"- {item}" for item in items)


def _plan_line(plan: str) -> str:
    """The plan's name under a page's heading (in italics, taken literally), or ''."""
    return f"\n\n*{fmt.markdown_text(plan)}*" if plan and str(plan).strip() else ""


def read_results(
    results_dir: str | os.PathLike[str], *, runs: Iterable[str] | None = None
) -> pd.DataFrame:
    """Gather the JSON results of a batch into the scorecard table.

    Parameters
    ----------
    results_dir : path
        The folder of ``<run_name>.json`` files.
    runs : iterable of str, optional
        Only these run names (the runs of one batch); all result files when None or empty.
        A named run without a result file (a run that failed) is listed in
        ``table.attrs["missing"]``.

    Returns
    -------
    DataFrame
        One row per result (other JSON files, such as batch reports, are skipped), sorted by
        the plan's goals (groups) in the order the targets file names them, then indicator,
        region, vintage; ``data`` says whether the series is real, partly bounds or
        illustrative. The order of the groups is the order their targets' runs come in
        ``runs`` (a batch plans them in the catalogue's order), else the order of the result
        files' names. ``attrs["plan"]`` is the plan's name the results give ('' for none).
    """
    folder = Path(results_dir)
    runs = list(runs or ())
    wanted = set(runs)
    rows = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith(".") or (wanted and path.stem not in wanted):
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BrandstatsError(f"{path}: not a readable result file ({exc})") from None
        if not isinstance(record, dict) or "indicator" not in record:
            continue  # batch reports and the scorecard's own summary
        row = {c: record.get(c) for c in SCORECARD_COLUMNS}
        row["currently_meets"] = record.get("currently_meets")
        history = record.get("history") or []
        row["last_qualifier"] = history[-1].get("qualifier") if history else None
        row["data"] = data_kind(h.get("qualifier") for h in record.get("history") or [])
        if record.get("illustrative") is True:  # e.g. a city read from made-up districts
            row["data"] = "illustrative"
        row["run_name"] = record.get("run_name") or path.stem
        vintages = record.get("vintages") or []
        row["change"] = vintages[-1].get("change") if vintages else None
        row["next_year"] = fmt.next_year(
            record.get("next_year"), str(record.get("unit")), short=True,
            indicator=record.get("indicator"),
        )  # fmt: skip
        row["next_year_record"] = record.get("next_year")
        row["source"] = record.get("source")  # the target's, and the figures' (scorecard.xlsx)
        row["data_sources"] = "; ".join(map(str, record.get("data_sources") or [])) or None
        row["plan"] = record.get("plan") or ""
        row["vintage_basis"] = record.get("vintage_basis") or "latest"
        rows.append(row)
    extra = ["currently_meets", "last_qualifier", "data", "change", "next_year",
             "next_year_record", "source", "data_sources", "vintage_basis"]  # fmt: skip
    table = pd.DataFrame(rows, columns=[*SCORECARD_COLUMNS, *extra])
    plans = [r["plan"] for r in rows if r["plan"]]
    if not table.empty:
        planned = {name: i for i, name in enumerate(runs)}  # the catalogue's order
        first = table.assign(_at=table["run_name"].map(planned).fillna(len(planned)))
        first = first.sort_values(["_at", "run_name"], kind="stable")["group"].astype(str)
        order = {g: i for i, g in enumerate(dict.fromkeys(first))}
        table = table.assign(_order=table["group"].astype(str).map(order)).sort_values(
            ["_order", "indicator", "region", "as_of", "run_name"], na_position="first"
        )
        for col in ("probability", "progress_ratio", "target", "last_value", "actual"):
            table[col] = pd.to_numeric(table[col])
        table = table.drop(columns="_order").reset_index(drop=True)
        table["rank_in_parent"] = rank_in_parent(table)  # districts (brandstats.league)
    table.attrs["missing"] = sorted(wanted - {r["run_name"] for r in rows})  # failed runs
    table.attrs["plan"] = plans[0] if plans else ""
    return table


def _csv_cell(value: object) -> object:
    """A scorecard cell as the CSV holds it: a record (next year's) as JSON, not Python's
    repr; text a spreadsheet would run as a formula kept as text
    (:func:`brandstats.format.spreadsheet_cell`: a name such as '=HYPERLINK(...)')."""
    if isinstance(value, dict | list):
        value = json.dumps(jsonable(value), ensure_ascii=False, sort_keys=True)
    return fmt.spreadsheet_cell(value)


LEAGUE_SUMMARY = ["indicator", "parent", "region", "rank_in_parent", "of", "probability",
                  "verdict", "completion", "elapsed", "as_of"]  # fmt: skip
"""The league table's columns in the scorecard's JSON summary."""


def write_scorecard(
    table: pd.DataFrame,
    output_dir: str | os.PathLike[str],
    *,
    run_name: str = "",
    headline: Iterable[str] = (),
    language: str = "en",
    plan: str | None = None,
) -> Path:
    """Write ``scorecard.csv`` (UTF-8 with BOM, so Excel shows Chinese) into ``output_dir``,
    and beside it ``scorecard.xlsx`` (:func:`brandstats.workbook.write_scorecard_xlsx`, its
    headers and words in ``language``, ``plan``, by default ``table.attrs["plan"]``, atop its
    printed pages).

    Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` ...) is written
    with a leading ``'`` (:func:`brandstats.format.spreadsheet_cell`); numbers stay numbers.

    With ``run_name``, a short JSON summary goes to ``<output_dir>/<run_name>.json`` too; it
    names the CSV by its file name, as the two stay together, and holds ``targets_met`` (the
    distribution of the number of targets met, :func:`brandstats.tally.targets_met`, with the
    ``headline`` indicators' joint chance) and ``verdicts`` (how many targets by verdict).
    Both are written atomically; the folder is created when missing. Returns the CSV's path.
    """
    if table.empty:
        raise BrandstatsError("no results to write a scorecard of")
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    cells = table.map(_csv_cell)
    path = write_text_atomic(
        folder / "scorecard.csv", "\ufeff" + cells.to_csv(index=False, lineterminator="\n")
    )
    plan = table.attrs.get("plan", "") if plan is None else plan
    write_scorecard_xlsx(table, folder / "scorecard.xlsx", language=language, plan=plan)
    league = league_table(table)
    if not league.empty:  # districts: the league table's own page and CSV
        title = fmt.word("league", language) + (
            f"{'：' if language == 'zh' else ': '}{plan}" * bool(plan)
        )
        write_text_atomic(
            folder / "league.html", league_page(league, language=language, title=title)
        )
        write_text_atomic(
            folder / "league.csv",
            "\ufeff" + league.map(fmt.spreadsheet_cell).to_csv(index=False, lineterminator="\n"),
        )
    if run_name:
        summary = {
            "scorecard": path.name,  # beside this JSON (a batch writes both in a staging folder)
            "results": len(table),
            "runs": table["run_name"].tolist(),
            "illustrative": int((table["data"] == "illustrative").sum()),
            "targets_met": tally.targets_met(table, headline=tuple(headline)),
            "verdicts": tally.verdict_counts(table),
            "league": jsonable(league[LEAGUE_SUMMARY].to_dict("records")),
        }
        write_json_atomic(folder / f"{run_name}.json", summary)
    return path


# ----------------------------------------------------------------------------- HTML tables


def _short(cell: object) -> str:
    """The class of a cell short enough never to wrap (a number, a year, a place): at most 14
    columns, a Chinese character taking two (真实数据（部分为界值） must be free to wrap)."""
    text = re.sub(r"<[^>]+>", "", str(cell))
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return ' class="short"' if width <= 14 else ""


def _table_html(header: list[str], rows: Iterable[Iterable[str]], *, raw: bool = False) -> str:
    """A plain HTML table; cells are escaped unless ``raw`` (then they must be HTML already)."""
    esc = (lambda s: s) if raw else html.escape

    def cells(tag: str, values: Iterable[str]) -> str:
        return "".join(f"<{tag}{_short(v)}>{esc(str(v))}</{tag}>" for v in values)

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f'<table class="brandstats"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def league_html(league: pd.DataFrame, *, language: str = "en") -> str:
    """The league table (:func:`brandstats.league.league_table`) as an HTML table: each
    parent, then its districts by rank; names link to their reports."""
    fmt.check_language(language)
    w = lambda key: fmt.word(key, language)  # noqa: E731
    keys = ("indicator", "region", "as_of", "rank_in_parent", "p_met", "verdict", "target",
            "latest", "completion", "elapsed", "still_required")  # fmt: skip
    header = [w(k) for k in keys]
    rows = []
    for r in league.to_dict("records"):
        unit, ind = r["unit"], r["indicator"]
        name = html.escape(str(r.get(f"name_{language}") or ind))
        place = html.escape(fmt.region(r["region"], language))
        if r.get("run_name"):
            place = f'<a href="{html.escape(str(r["run_name"]))}.html">{place}</a>'
        if not r.get("parent"):
            place = f"<strong>{place}</strong>"
        if r.get("illustrative") is True:
            place += f" ({html.escape(w('illustrative'))})"
        rank = r.get("rank_in_parent")
        as_of = r.get("as_of")
        cells = [
            name,
            place,
            html.escape(w("all data") if fmt.is_missing(as_of) else str(int(as_of))),
            fmt.DASH if fmt.is_missing(rank) else html.escape(f"{int(rank)} / {int(r['of'])}"),
            html.escape(fmt.probability(r["probability"], language)),
            html.escape(fmt.verdict(r["verdict"], language)),
            html.escape(fmt.DASH if fmt.is_missing(r.get("target")) else fmt.target(
                r["comparison"], r["target"], unit, r["target_year"], language, indicator=ind)),
            html.escape(fmt.quantity(r["last_value"], unit, language, indicator=ind)
                        + _year_suffix(r.get("last_year"), language)),
            html.escape(fmt.DASH if fmt.is_missing(r["completion"])
                        else fmt.share(r["completion"], language)),
            html.escape(fmt.DASH if fmt.is_missing(r["elapsed"])
                        else fmt.share(r["elapsed"], language)),
            html.escape(w("none_needed") if not fmt.is_missing(r["completion"])
                        and r["completion"] >= 1 else fmt.growth(
                            r.get("still_required_growth"), r.get("progress_kind") or "compound",
                            language, unit=unit, indicator=ind)),
        ]  # fmt: skip
        rows.append(cells)
    return _table_html(header, rows, raw=True)


def league_page(league: pd.DataFrame, *, language: str = "en", title: str = "") -> str:
    """The league table as a page of its own (``league.html`` beside the scorecard)."""
    heading = html.escape(title or fmt.word("league", language))
    intro = html.escape(fmt.word("league_intro", language))
    if (league["illustrative"] == True).any():  # noqa: E712 (an object column)
        intro = f"<strong>{html.escape(fmt.word('illustrative_banner', language))}</strong> {intro}"
    lang = "zh-CN" if language == "zh" else "en"
    style = (
        "body{font-family:'Noto Sans CJK SC','Noto Sans',sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;font-size:14px}th,td{padding:4px 8px;"
        "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
        "th{background:#f3f3f3}@page{size:A4 landscape;margin:12mm}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{heading}</title><style>{style}</style></head><body>"
        f"<h1>{heading}</h1><p>{intro}</p>{league_html(league, language=language)}"
        "</body></html>\n"
    )


def heading_markdown(result: Assessment, language: str = "en", *, plan: str = "") -> str:
    """The report's heading: the result's title (:func:`brandstats.format.title`) as a
    Markdown heading, and under it the ``plan``'s name when given; names, region and plan
    taken literally (never as Markdown or HTML)."""
    return f"# {fmt.markdown_text(fmt.title(result, language))}" + _plan_line(plan)


def scorecard_markdown(table: pd.DataFrame, language: str = "en", *, plan: str = "") -> str:
    """The scorecard's heading (``Scorecard: <plan>``, or ``Scorecard: every target of the
    plan`` without a name) and its introduction; runs without a result are named."""
    fmt.check_language(language)
    heading = (
        fmt.word("scorecard_of", language, plan=fmt.markdown_text(plan))
        if plan and plan.strip()
        else fmt.word("scorecard", language)
    )
    intro = fmt.sentences(
        fmt.word("scorecard_intro", language), basis_markdown(table, language), language=language
    )  # which figures: the latest, or as published
    text = f"# {heading}\n\n{intro}"
    if table.attrs.get("missing"):
        text += "\n\n" + fmt.word("missing_runs", language, runs=", ".join(table.attrs["missing"]))
    return text


def summary_markdown(result: Assessment, language: str = "en") -> str:
    """The report's opening: target, latest value, P(met) and verdict, the progress category
    (Eurostat's method) with its base year, the sentence reconciling the two, the outcome (a
    Markdown list)."""
    fmt.check_language(language)
    w = lambda key: fmt.word(key, language)  # noqa: E731
    colon = "：" if language == "zh" else ": "
    unit, ind = result.unit, result.indicator
    goal = fmt.target(
        result.comparison, result.target, unit, result.target_year, language, indicator=ind
    )
    last_q = (
        next((q for q in result.history["qualifier"].iloc[-1:] if q in _BOUNDS), None)
        if len(result.history)
        else None
    )
    latest = fmt.quantity(result.last_value, unit, language, indicator=ind, qualifier=last_q)
    latest = (
        f"{result.last_year}年 {latest}" if language == "zh" else f"{latest} ({result.last_year})"
    )
    # "currently meets" is news only while the target year is ahead; once it is observed the
    # verdict (met / not met) says it
    if getattr(result, "currently_meets", None) and result.verdict not in _OUTCOMES:
        latest += f"，{w('currently meets')}" if language == "zh" else f": {w('currently meets')}"
    items = []
    if result.illustrative:
        items.append(f"**{w('illustrative_banner')}**")
    items += [f"**{w('target')}**{colon}{goal}", f"**{w('latest')}**{colon}{latest}"]
    verdict = fmt.verdict(result.verdict, language)
    if result.probability is not None:
        p = fmt.probability(result.probability, language, result.probability_bound)
        items.append(
            f"**{w('p_met')}**{colon}**{p}**（{verdict}）"
            if language == "zh"
            else f"**{w('p_met')}**{colon}**{p}** ({verdict})"
        )
    else:
        why = fmt.note(result.reason, language) if result.reason else ""
        why = "" if len(why) > 90 else fmt.markdown_text(why)  # long: in the backtest section
        items.append(
            f"**{w('verdict')}**{colon}**{verdict}**"
            + (f"（{why}）" if why and language == "zh" else f" ({why})" if why else "")
        )
    category = result.progress.category if result.progress else None
    since = ""
    if result.progress is not None and result.progress.base_year is not None:
        since = fmt.word("since_base_year", language, year=result.progress.base_year)
        since = f"（{since}）" if language == "zh" else f" ({since})"
    items.append(f"**{w('progress')}**{colon}{fmt.category(category, language)}{since}")
    sentence = fmt.reconciliation(
        getattr(result, "reconciliation", None),
        language,
        category_name=category,
        p=result.probability,
        unit=unit,
        indicator=ind,
    )
    if sentence:
        items.append(f"**{w('reconciliation')}**{colon}{sentence}")
    districts = fmt.aggregate(getattr(result, "aggregate", None), unit, language, indicator=ind)
    if districts:
        items.append(f"**{w('districts')}**{colon}{districts}")
    bound = fmt.probability_reason(result.probability, result.probability_bound, language)
    if bound:
        items.append(bound)
    record = fmt.track_record(track_record(len(result.history)), language)
    if record and result.probability is not None:
        items.append(f"**{w('track_record')}**{colon}{record}")
    if result.as_of is not None and result.actual is not None:
        actual = fmt.quantity(
            result.actual, unit, language, indicator=ind, qualifier=result.actual_qualifier
        )
        items.append(
            f"**{w('outcome')}**{colon}{result.target_year}年实际值 {actual}，目标"
            f"{fmt.outcome(result.met, language)}"
            if language == "zh"
            else f"**{w('outcome')}**{colon}{actual} in {result.target_year}: target "
            f"{fmt.outcome(result.met, language)}"
        )
    kind = "illustrative" if result.illustrative else data_kind(result.history["qualifier"])
    items.append(f"**{w('data')}**{colon}{fmt.word(kind, language)}")
    return "\n".join(f"- {item}" for item in items)


def track_record(points: int) -> dict[str, dict[str, Any]] | None:
    """The rows of ``data/track_record.csv`` (corpus and hold-out) for a series of ``points``
    observations: the benchmark's lengths 2, 3, 4, 6 and full (8 or more), the nearest below."""
    from .config import DATA_DIR

    path = DATA_DIR / "track_record.csv"
    if not path.exists() or points < 2:  # one point: never scored by the benchmark
        return None
    table = pd.read_csv(path, dtype={"points": str})
    key = "full" if points >= 8 else str(max(p for p in (2, 3, 4, 6) if p <= max(points, 2)))
    rows = table.loc[table["points"] == key]
    return {r["corpus"]: r for r in rows.to_dict("records")} or None


def provenance(
    observations: pd.DataFrame,
    indicator: str,
    region: str,
    *,
    as_of: int | None = None,
    used: Iterable[int] | None = None,
    language: str = "en",
    history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The observed series with each figure's qualifier and source, as display text.

    The ``used`` column says whether the figure entered the assessment: its year is in
    ``used`` (the assessment's history: the vintage up to the target year) when given, else
    within the vintage (``as_of``). Other figures are shown for the record but never reach a
    model or the chart. A region without figures of its own (a parent read from its
    districts, :mod:`brandstats.hierarchy`) shows ``history``, the assessment's series, as the
    sum of its districts' figures.
    """
    fmt.check_language(language)
    rows = observations.loc[
        (observations["indicator"] == indicator) & (observations["region"] == region)
    ]
    if rows.empty and history is not None and len(history):
        unit = observations.loc[observations["indicator"] == indicator, "unit"].iloc[0]
        rows = history.assign(unit=unit, source=fmt.word("districts_sum", language))
    w = lambda key: fmt.word(key, language)  # noqa: E731
    years = (
        {int(y) for y in used}
        if used is not None
        else {int(y) for y in rows["year"] if as_of is None or y <= as_of}
    )
    return pd.DataFrame(
        {
            w("year"): rows["year"].astype(int).astype(str),
            w("value"): [
                fmt.quantity(v, u, language, indicator=indicator, qualifier=q)
                for v, u, q in zip(rows["value"], rows["unit"], rows["qualifier"], strict=True)
            ],
            w("qualifier"): [
                fmt.qualifier(q, language, unit=u)
                for q, u in zip(rows["qualifier"], rows["unit"], strict=True)
            ],
            w("in_vintage"): [w("yes") if y in years else w("no") for y in rows["year"]],
            w("source"): [fmt.source(s, language) for s in rows["source"].fillna(fmt.DASH)],
        }
    ).reset_index(drop=True)


def provenance_html(
    observations: pd.DataFrame,
    indicator: str,
    region: str,
    *,
    as_of: int | None = None,
    used: Iterable[int] | None = None,
    language: str = "en",
    history: pd.DataFrame | None = None,
) -> str:
    """:func:`provenance` as an HTML table (no index)."""
    table = provenance(
        observations, indicator, region, as_of=as_of, used=used, language=language,
        history=history,
    )  # fmt: skip
    return _table_html(list(table.columns), table.itertuples(index=False))


def backtest_html(result: Assessment, language: str = "en") -> str:
    """The backtest as an HTML table with an explanation; or why there is none."""
    w = lambda key, **kw: fmt.word(key, language, **kw)  # noqa: E731
    bt = result.backtest
    if bt.empty or "crps" not in bt.columns:
        reason = result.reason or next(
            (n for n in result.notes if getattr(n, "code", "") in _NO_BACKTEST),
            Note("too_few_observations"),
        )
        return f"<p>{html.escape(w('empty_backtest', reason=fmt.note(reason, language)))}</p>"
    levels = sorted(
        (c.removeprefix("coverage_") for c in bt.columns if c.startswith("coverage_")), key=float
    )
    # models fitted on a log or logit scale are scored there (not in the indicator's unit)
    model_scale = "crps_model_scale" in bt.columns and bt["crps"].isna().all()
    if model_scale:
        # as attainment.project_bounded chooses: logit between two bounds, log above one
        scale = "logit" if all(map(math.isfinite, result.support)) else "log"
        crps_header = w("crps_scale", scale=w(f"scale:{scale}"))
        crps_values = bt["crps_model_scale"]
    else:
        unit = fmt.unit_label(result.unit, language)
        crps_header = w("crps", unit=unit)
        crps_values = fmt.display_value(bt["crps"].astype(float), result.unit)
    header = [w("model"), w("status"), w("cases"), crps_header]
    header += [w("coverage", level=fmt.share(float(lv) / 100, language)) for lv in levels]
    header += [w("weight"), w("reason")]
    rows = []
    for r, crps in zip(bt.to_dict("records"), crps_values, strict=True):
        rows.append(
            [
                fmt.model_name(r["model"], language),
                fmt.word(f"status:{r.get('status', '')}", language),
                fmt.number(r.get("n_cases")),
                fmt.number(crps),
                *(fmt.share(r.get(f"coverage_{lv}"), language) for lv in levels),
                fmt.share(r.get("weight"), language),
                fmt.note(r.get("reason"), language) if r.get("reason") else fmt.DASH,
            ]
        )
    intro = f"<p>{html.escape(w('backtest_intro'))}</p>"
    return intro + _table_html(header, rows)


def _record_value(field: str, value: Any, result: Assessment, language: str) -> str:
    """One field of the flat record as display text."""
    unit, ind = result.unit, result.indicator
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.DASH
    if isinstance(value, bool):
        return fmt.word("yes" if value else "no", language)
    if field == "last_value":
        last_q = result.history["qualifier"].iloc[-1] if len(result.history) else None
        return fmt.quantity(
            value, unit, language, indicator=ind, qualifier=last_q if last_q in _BOUNDS else None
        )
    if field in ("target", "actual") or field.startswith("forecast_"):
        return fmt.quantity(value, unit, language, indicator=ind)
    if field in ("probability", "p_unpooled"):
        bound = result.probability_bound if field == "probability" else None
        return fmt.probability(value, language, bound)
    if field == "model":
        return fmt.model_name(value, language)
    if field == "progress_kind":
        return fmt.word(f"kind:{value}", language)
    if field == "base_year":
        return str(value)
    if field == "reconciliation_reason":
        return fmt.reconciliation_reason(value, language)
    if field == "reconciliation":
        category = result.progress.category if result.progress else None
        return fmt.reconciliation(
            value, language, category_name=category, p=result.probability, unit=unit,
            indicator=ind,
        ) or fmt.DASH  # fmt: skip
    if field in ("level",):
        return fmt.share(value, language)
    if field.endswith("_growth"):
        kind = result.progress.kind if result.progress else "compound"
        return fmt.growth(value, kind, language, unit=unit, indicator=ind)
    if field == "verdict":
        return fmt.verdict(value, language)
    if field == "progress_category":
        return fmt.category(value, language)
    if field == "reason":
        return fmt.note(value, language)
    if field == "region":
        return fmt.region(value, language)
    if field == "unit":
        return fmt.unit_label(value, language)
    if field == "comparison":
        return fmt.comparison_symbol(value)
    if field == "actual_qualifier":
        return fmt.qualifier(value, language, unit=unit)
    if field == "group":
        return fmt.group_name({**dict(getattr(result, "meta", {}) or {}), "group": value}, language)
    if field == "accumulation":
        return fmt.word(value, language)
    if isinstance(value, float):
        return fmt.number(value)
    if isinstance(value, dict):
        colon = "：" if language == "zh" else ": "
        return ("；" if language == "zh" else ", ").join(
            f"{fmt.field(k, language)}{colon}{_record_value(k, v, result, language)}"
            for k, v in value.items()
        )
    return str(value)


def record_html(result: Assessment, language: str = "en") -> str:
    """The flat result record (field, value) as an HTML table, values as display text."""
    row = result.row()
    for label in ("group_en", "group_zh"):  # the group's label: shown as its "goal"
        row.pop(label, None)
    for extra in ("currently_meets", "accumulation", "required_path", "reconciliation", "pooling"):
        if getattr(result, extra, None) is not None:
            row[extra] = getattr(result, extra)
    if isinstance(row.get("required_path"), dict):
        row["required_path"] = {
            (f"{y}年" if language == "zh" else str(y)): fmt.quantity(
                v, result.unit, language, indicator=result.indicator
            )
            for y, v in row["required_path"].items()
        }
    rows = [(fmt.field(k, language), _record_value(k, v, result, language)) for k, v in row.items()]
    rows += [(fmt.word("notes", language), fmt.note(n, language)) for n in result.notes]
    return _table_html([fmt.word("field", language), fmt.word("value", language)], rows)


def details_html(result: Assessment, language: str = "en") -> str:
    """The full record in a collapsed ``<details>`` section (the JSON has it all too)."""
    label = html.escape(fmt.word("record", language))
    return f"<details><summary>{label}</summary>{record_html(result, language)}</details>"


# ----------------------------------------------------------------------------- scorecard


def _year_suffix(year: Any, language: str) -> str:
    if fmt.is_missing(year):
        return ""
    return f"（{int(year)}年）" if language == "zh" else f" ({int(year)})"


def vintages_html(
    vintages: Iterable[Mapping[str, Any]], result: Assessment, language: str = "en"
) -> str:
    """The outlook over time as an HTML table: each vintage's P(met), verdict and why it moved."""
    w = lambda key: fmt.word(key, language)  # noqa: E731
    header = [w("as_of"), w("p_met"), w("change"), w("verdict"), w("why_moved")]
    rows = []
    for v in vintages:
        why = fmt.vintage_reason(v.get("why"), result.unit, language, indicator=result.indicator)
        rows.append(
            [
                str(v["as_of"]),
                fmt.probability(v.get("probability"), language, v.get("probability_bound")),
                fmt.change(v.get("change"), language),
                fmt.verdict(v.get("verdict"), language),
                why or fmt.DASH,
            ]
        )
    return _table_html(header, rows)


def plan_markdown(
    table: pd.DataFrame, *, language: str = "en", headline: Iterable[str] = ()
) -> tuple[str, dict[str, Any]]:
    """The plan at a glance (:func:`brandstats.format.plan_summary`) and the tally behind it."""
    counted = tally.targets_met(table, headline=tuple(headline))
    key = "name_zh" if language == "zh" else "name_en"
    names = {  # user text: shown literally, never as Markdown or HTML
        f"{r['indicator']}" + (f" ({r['region']})" if r.get("region") else ""): fmt.markdown_text(
            str(r.get(key) or r["indicator"])
        )
        for r in table.to_dict("records")
    }
    text = fmt.plan_summary(counted, tally.verdict_counts(table), language, names)
    districts = int(has_parent(table).sum())
    vintages = max(len(table) - districts - counted["targets"], 0)
    if districts or vintages:  # rows of the table below that the count leaves out: say so
        en = language == "en"
        text += (" " if en else "") + fmt.word(
            "plan_uncounted", language,
            vintages=fmt.count(vintages, "earlier vintage") if en else vintages,
            districts=fmt.count(districts, "row") if en else districts,
        )  # fmt: skip
    return text, counted


def scorecard_html(table: pd.DataFrame, *, language: str = "en") -> str:
    """The scorecard as an HTML table: one row per result, linked to ``<run_name>.html``."""
    fmt.check_language(language)
    w = lambda key: fmt.word(key, language)  # noqa: E731
    header = [
        w("goal"),
        w("indicator"),
        w("region"),
        w("as_of"),
        w("target"),
        w("latest"),
        w("p_met"),
        w("change"),
        w("verdict"),
        w("next_year"),
        w("progress"),
        w("data"),
    ]
    rows = []
    for r in table.to_dict("records"):
        name = r["name_zh"] if language == "zh" else r["name_en"]
        name = html.escape(str(name or r["indicator"]))
        if r.get("run_name"):
            name = f'<a href="{html.escape(str(r["run_name"]))}.html">{name}</a>'
        unit, ind = r["unit"], r["indicator"]
        as_of = r.get("as_of")
        missing_target = fmt.is_missing(r.get("target"))
        cells = [
            fmt.group_name(r, language),
            None,
            fmt.region(r["region"], language),
            w("all data") if fmt.is_missing(as_of) else str(int(as_of)),
            fmt.DASH
            if missing_target
            else fmt.target(
                r["comparison"], r["target"], unit, r["target_year"], language, indicator=ind
            ),
            fmt.quantity(
                r["last_value"], unit, language, indicator=ind, qualifier=r.get("last_qualifier")
            )
            + _year_suffix(r.get("last_year"), language)
            + (
                ("，" if language == "zh" else "; ") + w("currently meets")
                if r.get("currently_meets") is True and r.get("verdict") not in _OUTCOMES
                else ""
            ),
            fmt.probability(r["probability"], language, r.get("probability_bound")),
            fmt.change(r.get("change"), language),
            fmt.verdict(r["verdict"], language),
            fmt.next_year(r.get("next_year_record"), unit, language, indicator=ind, short=True)
            or fmt.DASH,
            fmt.category(r["progress_category"], language),
            fmt.word(r.get("data") or "real", language),
        ]
        escaped = [html.escape(c) if c is not None else name for c in cells]
        rows.append(escaped)
    return _table_html(header, rows, raw=True)
